"""``somna sandbox`` is registered with both emulators and their knobs."""

from __future__ import annotations

from typer.testing import CliRunner

from somna.cli import app


def test_sandbox_commands_are_listed() -> None:
    runner = CliRunner()
    listing = runner.invoke(app, ["sandbox", "--help"])
    assert listing.exit_code == 0
    assert "whoop" in listing.output
    assert "asleep" in listing.output
    whoop = runner.invoke(app, ["sandbox", "whoop", "--help"])
    assert whoop.exit_code == 0
    for option in ("--port", "--people", "--seed", "--webhook-url", "--per-minute"):
        assert option in whoop.output
