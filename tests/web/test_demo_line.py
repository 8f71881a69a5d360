"""`somna demo` ends in the dashboard: its access lines name the URL beside the owner's login."""

from __future__ import annotations

import io

from rich.console import Console

from somna.demo.report import access_lines, print_lines


def test_access_lines_print_the_dashboard_with_the_owner_login() -> None:
    lines = access_lines(
        url="http://127.0.0.1:8000",
        owner_email="owner@demo.example.com",
        owner_password="s3cret-pass",
        api_key="somna_live_key",
        signing_secret="secret",
        person=None,
    )
    out = io.StringIO()
    print_lines(Console(file=out, width=80), "Somna demo", lines)
    text = out.getvalue()
    assert "dashboard (sign in with the owner login below)" in text
    assert "http://127.0.0.1:8000/\n" in text
    assert "owner login: owner@demo.example.com / s3cret-pass" in text
