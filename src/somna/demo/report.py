"""What the demo prints once Somna serves: where it is, how to sign in, a key with its signing
secret, and a person worth looking at. Lines, not a table, so that a URL or a key longer than
the line stands whole on a line of its own (in an 80-column terminal or a log file alike).

The lines are built here and printed by the command; a new line (a dashboard link, say) is one
more ``Line`` in ``access_lines``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console

from somna.demo.summary import PersonSummary

# Burnout levels, most worth a look first.
_INTEREST = {"high": 0, "moderate": 1, "low": 2}


@dataclass(frozen=True)
class Line:
    """A label and a value; ``own_line`` puts the value alone below the label, never wrapped."""

    label: str
    value: str
    own_line: bool = False


def person_to_try(people: Sequence[PersonSummary]) -> PersonSummary | None:
    """A WHOOP person with the most telling burnout result (WHOOP has HRV; Asleep does not)."""
    whoop = [item for item in people if item.person.provider == "whoop"]
    ranked = sorted(
        whoop or people,
        key=lambda item: (_INTEREST.get(item.burnout_level, 3), -(item.burnout_risk or 0)),
    )
    return ranked[0] if ranked else None


def access_lines(
    *,
    url: str | None,
    owner_email: str,
    owner_password: str,
    api_key: str,
    signing_secret: str,
    person: PersonSummary | None,
) -> list[Line]:
    lines: list[Line] = []
    if url is not None:
        lines += [
            Line("API", f"{url}/api/v1", own_line=True),
            Line("API docs", f"{url}/docs", own_line=True),
            Line("dashboard (sign in with the owner login below)", f"{url}/", own_line=True),
        ]
    lines += [
        # One line, as it always read: scripts that scrape the demo's output rely on it.
        Line("owner login", f"{owner_email} / {owner_password}"),
        Line("API key (send as `Authorization: Bearer <key>`)", api_key, own_line=True),
        Line("its signing secret (for signed requests, docs/api.md)", signing_secret, True),
    ]
    if person is not None:
        level = person.burnout_level.replace("_", " ")
        lines.append(
            Line(f"a person to try ({person.person.provider}, burnout {level})",
                 person.person.email, own_line=True)
        )  # fmt: skip
        if url is not None:
            lines.append(
                Line("their burnout signal",
                     f"{url}/api/v1/users/{person.user_id}/burnout", own_line=True)
            )  # fmt: skip
    return lines


def print_lines(console: Console, title: str, lines: Sequence[Line]) -> None:
    console.rule(f"[bold]{title}")
    for line in lines:
        if line.own_line:
            console.print(f"[bold]{line.label}:[/]")
            # soft_wrap: the value is written whole, never broken or cut at the console width.
            console.print(line.value, soft_wrap=True, highlight=False, markup=False)
        else:
            console.print(f"[bold]{line.label}:[/] ", end="")
            console.print(line.value, soft_wrap=True, highlight=False, markup=False)
