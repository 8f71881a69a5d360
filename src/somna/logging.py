"""Structured logs (structlog) with the request id bound to every line of a request."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Mapping
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.tracebacks import ExceptionDictTransformer

REQUEST_ID_HEADER = "X-Request-ID"
# A caller-supplied id is kept only if it is short and plain, so it cannot forge log lines.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


REDACTED = "[REDACTED]"
# Field names whose text value is a secret whatever it looks like.
_SECRET_FIELD = re.compile(
    r"authorization|cookie|passw(or)?d|secret|token|signature|api_?key|credential", re.I
)
# Secrets inside free text: exception messages, reprs of headers or dicts, URLs.
_SECRET_TEXT: tuple[tuple[re.Pattern[str], str], ...] = (
    # Somna API keys (somna_live_...) and signing secrets (somna_sig_...).
    (re.compile(r"somna_(?:live|sig)_[A-Za-z0-9]+"), REDACTED),
    (re.compile(r"sha256=[0-9a-fA-F]{16,}"), "sha256=" + REDACTED),
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.I), r"\1 " + REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),  # JWTs
    # name=value, "name": "value", (b'name', b'value'), name: value
    (
        re.compile(
            r"((?:authorization|cookie|x-signature|passw(?:or)?d|secret|token|api[_-]?key)"
            r"[\"']?\s*[:=,]\s*b?[\"']?)([^\s\"',;&)}]+)",
            re.I,
        ),
        r"\1" + REDACTED,
    ),
)


def redact_text(text: str) -> str:
    for pattern, replacement in _SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", "replace"))
    if isinstance(value, Mapping):
        return {key: _redact_field(str(key), item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(item) for item in value]
    return value


def _redact_field(name: str, value: Any) -> Any:
    if isinstance(value, str | bytes) and _names_secret(name):
        return REDACTED
    return _redact(value)


def _names_secret(name: str) -> bool:
    # Ids, prefixes and times of secrets (api_key_id, token_expires_at) are not secrets.
    if name == "event" or name.endswith(("_id", "_ids", "_at", "prefix")):
        return False
    return _SECRET_FIELD.search(name) is not None


def redact_secrets(
    _logger: Any, _method: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    """A processor that blanks secrets in every field, exception text included: fields named
    like secrets lose their value; keys, bearer tokens, signatures and ``name=value`` pairs
    that look like credentials are cut out of any text."""
    return {key: _redact_field(key, value) for key, value in event_dict.items()}


def _exception_renderer(fmt: str) -> structlog.types.Processor:
    # Never the local variables of a frame: they hold request headers, keys and decrypted
    # tokens, and rendering them for a deep stack stalls the process.
    if fmt == "json":
        return structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False))
    return structlog.processors.format_exc_info


def configure_logging(level: str = "INFO", fmt: str = "console") -> None:
    """Route stdlib and structlog records through one renderer, to stderr, with tracebacks
    rendered without locals and secrets redacted from every record."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _exception_renderer(fmt),
                redact_secrets,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log duplicates our request line without the request id.
    logging.getLogger("uvicorn.access").disabled = True


class RequestIdMiddleware:
    """Binds a request id to the log context, returns it in ``X-Request-ID`` and logs one line
    per request with its status and duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = structlog.get_logger("somna.request")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self._incoming_id(scope) or uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.lower().encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.log.info(
                "request.finished",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()

    @staticmethod
    def _incoming_id(scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                return candidate if _SAFE_REQUEST_ID.match(candidate) else None
        return None
