"""What the Klyne-compatible routes accept and answer, and the publisher usage report.

Every string an event may carry has a format, a length and no control characters; nothing
that could identify a person is accepted: fields outside the document's table are dropped
unread, and ``extra_data`` is a small flat object whose keys may not name personal data and
whose values may not look like an e-mail address, an IP address or a home directory.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from somna.errors import Unprocessable

MAX_BATCH = 100
MAX_EXTRA_KEYS = 20
MAX_EXTRA_STRING = 200
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)  # clocks are wrong; a day ahead is still plausible

_NORMALISE = re.compile(r"[-_.]+")
# Formats are checked by pydantic-core's regex engine (fast, and ``$`` is the true end of the
# text); PATTERN_MESSAGES turns a mismatch into the document's kind of message.
PATTERN_MESSAGES: dict[str, str] = {}
_EXTRA_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
_IP_CHARS = re.compile(r"^\[?(?=[^.:]*[.:])[0-9A-Fa-f:.]+(?:%[A-Za-z0-9]+)?\]?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_HOME = re.compile(
    r"(?:^|[\s\"'=:])(?:/home/|/Users/|/root/|~[/\\]|[A-Za-z]:\\(?:Users|Documents and Settings)\\)"
)
_KEY_TOKENS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# Words that, in an extra_data key, name something personal (split on _ . - and camelCase).
PERSONAL_KEY_WORDS = frozenset(
    {
        "email", "mail", "phone", "ip", "ipv4", "ipv6", "hostname", "host", "user", "username",
        "login", "password", "passwd", "token", "secret", "address", "mac", "path", "home",
        "cwd", "dir", "directory", "firstname", "lastname", "fullname", "ssn", "location",
        "latitude", "longitude", "geo",
    }
)  # fmt: skip


def normalise_package_name(name: str) -> str:
    """PEP 503: case and runs of ``-_.`` do not distinguish packages."""
    return _NORMALISE.sub("-", name).lower()


def iso_z(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as the document writes its timestamps."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


_INSTANT: TypeAdapter[datetime] = TypeAdapter(datetime)


def parse_bound(value: str | None, name: str) -> datetime | date | None:
    """A report bound: ``YYYY-MM-DD`` is a date, anything else an ISO 8601 date-time."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return _INSTANT.validate_python(value)
    except (ValueError, ValidationError):
        raise Unprocessable(f"{name} must be an ISO 8601 date or date-time.") from None


def _fail(message: str, kind: str = "value_error") -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def _no_personal_text(value: str) -> str:
    if _CONTROL.search(value):
        raise _fail("Control characters are not allowed")
    if _EMAIL.search(value) or _HOME.search(value):
        raise _fail("Value looks like personal data (an e-mail address or a home directory)")
    return value


def _pattern(regex: str, message: str, **kwargs: Any) -> Any:
    PATTERN_MESSAGES[regex] = message
    return Field(pattern=regex, **kwargs)


def _check_timestamp(value: datetime) -> datetime:
    if value.tzinfo is None:  # the SDK examples send naive UTC; read it as UTC
        value = value.replace(tzinfo=UTC)
    if value < EARLIEST_EVENT:
        raise _fail("event_timestamp is before 2000-01-01")
    if value.timestamp() > time.time() + FUTURE_TOLERANCE.total_seconds():
        raise _fail("event_timestamp is more than a day in the future")
    return value.astimezone(UTC)


@functools.lru_cache(maxsize=4096)  # the same few keys arrive in every event
def _personal_key(key: str) -> bool:
    words = {word.lower() for word in _KEY_TOKENS.findall(key)}
    return bool(words & PERSONAL_KEY_WORDS)


def _is_ip_address(value: str) -> bool:
    if not _IP_CHARS.match(value):  # cheap test first: most values are not addresses
        return False
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True


ExtraValue = (
    Annotated[str, Field(max_length=MAX_EXTRA_STRING)]
    | Annotated[int, Field(ge=-(2**53), le=2**53)]
    | Annotated[float, Field(allow_inf_nan=False)]
    | bool
    | None
)


def _check_extra(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > MAX_EXTRA_KEYS:
        raise _fail(f"extra_data may have at most {MAX_EXTRA_KEYS} keys")
    for key, item in value.items():
        if not _EXTRA_KEY.match(key):
            raise _fail(f"extra_data key {key[:64]!r} must be an identifier of up to 64 chars")
        if _personal_key(key):
            raise _fail(f"extra_data may not carry personal data (key {key!r})", "personal_data")
        if isinstance(item, str):
            try:
                _no_personal_text(item)
            except PydanticCustomError as exc:
                raise _fail(f"extra_data[{key!r}]: {exc.message()}", exc.type) from None
            if _is_ip_address(item):
                raise _fail(f"extra_data[{key!r}] looks like an IP address", "personal_data")
    return value


PackageName = Annotated[
    str,
    _pattern(
        r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,198}[A-Za-z0-9])?$",
        "Invalid package name format",
        min_length=1,
        max_length=200,
    ),
]
PackageVersion = Annotated[
    str,
    _pattern(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]{0,99}$", "Invalid package version format"),
]
PythonVersion = Annotated[
    str,
    _pattern(
        r"^[0-9]{1,2}\.[0-9]{1,3}(?:\.[0-9]{1,3})?(?:(?:a|b|rc)[0-9]{1,3})?\+?$",
        "Invalid Python version format",
    ),
]
Token = Annotated[
    str, _pattern(r"^[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,39}$", "Invalid format: a short name")
]
FreeText = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_no_personal_text)]
EntryPoint = Annotated[
    str,
    _pattern(
        r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?::[A-Za-z_][A-Za-z0-9_.]*)?$",
        "Invalid entry point: a dotted module path, optionally ':function'",
        max_length=200,
    ),
]
ClientEventId = Annotated[
    str,
    _pattern(
        r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$",
        "Invalid event_id: letters, digits and . _ : - (a UUID is best)",
    ),
]
EventTimestamp = Annotated[datetime, AfterValidator(_check_timestamp)]
ExtraData = Annotated[dict[str, ExtraValue], AfterValidator(_check_extra)]


class EventIn(BaseModel):
    """One usage event, as the document's field table gives it (plus an optional ``event_id``
    that makes retries idempotent). Unknown fields are ignored and never stored."""

    model_config = ConfigDict(extra="ignore")

    session_id: uuid.UUID = Field(description="A new UUID for each run of the package.")
    package_name: PackageName = Field(description="Must match the key's package.")
    package_version: PackageVersion
    python_version: PythonVersion = Field(examples=["3.11.5"])
    python_implementation: Token | None = Field(None, examples=["CPython"])
    os_type: Token = Field(examples=["Linux", "Windows", "Darwin"])
    os_version: FreeText | None = None
    os_release: FreeText | None = None
    architecture: Token | None = Field(None, examples=["x86_64", "arm64"])
    installation_method: Token | None = Field(None, examples=["pip", "conda", "uv"])
    virtual_env: bool | None = None
    virtual_env_type: Token | None = None
    cpu_count: int | None = Field(None, ge=1, le=100_000)
    total_memory_gb: float | None = Field(None, ge=0, le=1_000_000, allow_inf_nan=False)
    entry_point: EntryPoint | None = None
    event_timestamp: EventTimestamp = Field(description="ISO 8601; without an offset, UTC.")
    extra_data: ExtraData | None = Field(None, description="A flat object of up to 20 values.")
    event_id: ClientEventId | None = Field(
        None, description="Optional client id: a repeat is reported as a duplicate, not stored."
    )


class BatchEnvelope(BaseModel):
    """The batch body; each event is validated on its own so that one bad event fails alone."""

    events: list[Any] = Field(min_length=1, max_length=MAX_BATCH)


class ValidBatch(BaseModel):
    """The fast path: a batch whose every event is valid, checked straight from the JSON."""

    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class AnalyticsHealth(BaseModel):
    status: Literal["healthy", "unhealthy"]
    service: Literal["analytics"] = "analytics"
    timestamp: str


class EventAccepted(BaseModel):
    success: bool
    event_id: str = Field(description="Somna's id of the stored event.")
    received_at: str
    message: str
    duplicate: bool = Field(description="True when event_id was seen before: nothing stored.")


class CreatedEvent(BaseModel):
    index: int
    session_id: str
    package_name: str
    event_id: str


class DuplicateEvent(BaseModel):
    index: int
    session_id: str
    package_name: str
    client_event_id: str


class FailedEvent(BaseModel):
    index: int
    session_id: str | None
    error: str
    errors: list[ErrorItem]


class BatchResult(BaseModel):
    success: bool
    created_count: int
    failed_count: int
    duplicate_count: int
    created_events: list[CreatedEvent]
    failed_events: list[FailedEvent] | None
    duplicate_events: list[DuplicateEvent] | None
    message: str


GroupBy = Literal["day", "package_version", "python_version", "os_type", "installation_method"]


class UsageGroup(BaseModel):
    key: str | None = Field(description="The day (YYYY-MM-DD) or the value; null: not sent.")
    events: int
    sessions: int = Field(description="Distinct session_id values.")


class UsageReport(BaseModel):
    package_name: str
    start: datetime
    end: datetime = Field(description="Exclusive.")
    group_by: GroupBy
    total_events: int
    unique_sessions: int
    groups: list[UsageGroup]


class DetailBody(BaseModel):
    """The document's 401, 403 and 413 body."""

    detail: str


class ValidationBody(BaseModel):
    """The document's 422 body."""

    detail: list[ErrorItem]


class RateLimitBody(BaseModel):
    """The document's 429 body; ``current_usage`` includes the refused request."""

    error: Literal["Rate limit exceeded"]
    limit: int
    window_seconds: int
    reset_time: str
    current_usage: int
