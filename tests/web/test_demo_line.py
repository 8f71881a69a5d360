"""`somna demo` ends in the dashboard: its access table names the URL beside the owner's login."""

from __future__ import annotations

import io
import uuid
from typing import Any

from rich.console import Console

from somna.cli.demo import _access_table
from somna.demo.identity import DemoIdentity
from somna.demo.runner import DemoResult


def test_access_table_prints_the_dashboard_with_the_owner_login() -> None:
    identity = DemoIdentity(uuid.uuid4(), True, "owner@demo.example.com", "s3cret-pass", "key")
    nothing: Any = None
    result = DemoResult(identity=identity, sync=nothing, export=nothing, people=[])
    out = io.StringIO()
    Console(file=out, width=200).print(_access_table(result, "http://127.0.0.1:8000"))
    text = out.getvalue()
    assert "dashboard" in text
    assert "http://127.0.0.1:8000/ (sign in with the owner login below)" in text
    assert "owner@demo.example.com / s3cret-pass" in text
