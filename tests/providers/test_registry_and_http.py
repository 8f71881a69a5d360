"""The registry, and the HTTP layer's reading of rate-limit headers."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

import pytest

from somna.kit.time import utc_now
from somna.providers.exceptions import UnknownProvider
from somna.providers.http import retry_after_seconds
from somna.providers.registry import capabilities, get_provider, provider_names


def test_registry_names_both_providers() -> None:
    assert provider_names() == ("whoop", "asleep")
    assert get_provider("whoop").name == "whoop"
    assert capabilities("whoop").hypnogram_epoch_seconds is None
    assert capabilities("asleep").hypnogram_epoch_seconds == 30
    assert capabilities("asleep").auth_kind == "api_key"
    assert capabilities("whoop").max_page_size == 25
    with pytest.raises(UnknownProvider):
        get_provider("oura")


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"Retry-After": "7"}) == 7
    assert retry_after_seconds({"X-RateLimit-Reset": "3"}) == 3
    assert retry_after_seconds({"Retry-After": "-5"}) == 0
    assert retry_after_seconds({}) is None
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    later = format_datetime(utc_now() + timedelta(seconds=90), usegmt=True)
    seconds = retry_after_seconds({"Retry-After": later})
    assert seconds is not None
    assert 80 < seconds <= 90
