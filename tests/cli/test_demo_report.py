"""The demo's closing lines at 80 columns: every URL, the key and its secret stand whole."""

from __future__ import annotations

import io
import uuid

from rich.console import Console

from somna.demo.cast import cast
from somna.demo.report import access_lines, person_to_try, print_lines
from somna.demo.summary import PersonSummary

KEY = "somna_live_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6" + "x9Y8z7"
SECRET = "s3cr3t-" + "Q" * 60


def _summaries() -> list[PersonSummary]:
    people = cast(6)
    levels = ["low", "high", "insufficient_data", "moderate", "high", "low"]
    return [
        PersonSummary(person, uuid.uuid4(), 30, 27000.0, 91.0, 80.0, level, 50.0 + i)
        for i, (person, level) in enumerate(zip(people, levels, strict=True))
    ]


def test_the_closing_lines_keep_urls_and_secrets_whole_at_80_columns() -> None:
    people = _summaries()
    person = person_to_try(people)
    assert person is not None
    assert person.person.provider == "whoop"
    assert person.burnout_level == "high"
    assert person.burnout_risk == max(
        p.burnout_risk or 0 for p in people if p.burnout_level == "high"
    )
    url = "http://somna-demo.internal.example.com:18000"
    out = io.StringIO()
    console = Console(file=out, width=80, color_system=None)
    print_lines(console, "Somna demo", access_lines(
        url=url, owner_email="owner@demo.example.com", owner_password="pw-123",
        api_key=KEY, signing_secret=SECRET, person=person,
    ))  # fmt: skip
    lines = out.getvalue().splitlines()
    burnout_url = f"{url}/api/v1/users/{person.user_id}/burnout"
    assert len(burnout_url) > 80  # longer than the line: it must stand alone, unbroken
    for whole in (KEY, SECRET, f"{url}/api/v1", f"{url}/docs", burnout_url, person.person.email):
        assert whole in lines, whole
    assert all(len(line) <= 80 for line in lines if line not in (SECRET, burnout_url))
