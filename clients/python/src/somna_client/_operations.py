"""Operations declared once and bound to either client.

A resource method is a *builder*: a plain function that turns the caller's arguments into a
:class:`Spec` (method, path, query, body, how to read the answer). ``operation`` and ``paged``
wrap a builder in a descriptor that, read from a resource of the sync client, calls it and
returns the result; read from a resource of the async client, returns an awaitable (or an
async paginator). Every operation also records the API route it covers, which the test that
compares the SDK with the server's OpenAPI document reads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload
from urllib.parse import quote

if TYPE_CHECKING:
    from somna_client._base_client import AsyncAPIClient, SyncAPIClient
    from somna_client._pagination import AsyncPaginator, SyncPage

P = ParamSpec("P")
T = TypeVar("T")
C = TypeVar("C", "SyncAPIClient", "AsyncAPIClient")

API_PREFIX = "/api/v1"
# (method, route template, SDK method) for every operation the SDK covers.
ROUTES: list[tuple[str, str, str]] = []


@dataclass(frozen=True)
class Spec(Generic[T]):
    """One request and how to read its answer."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    creates: bool = False  # a creating POST: sent with an Idempotency-Key
    sensitive: bool = False  # needs an HMAC signature when called with an API key


@dataclass(frozen=True)
class PageSpec(Generic[T]):
    """A list request: the first page's spec, the item parser and the items' field."""

    spec: Spec[Any]
    item: Callable[[Any], T]
    items_field: str = "data"

    def at(self, cursor: str) -> PageSpec[T]:
        return replace(self, spec=replace(self.spec, params={**self.spec.params, "cursor": cursor}))


class Resource(Generic[C]):
    """A group of operations, bound to one client."""

    def __init__(self, client: C) -> None:
        self._client: C = client


def query(**values: Any) -> dict[str, Any]:
    """Query parameters without the ones left out (None)."""
    return {name: _plain(value) for name, value in values.items() if value is not None}


def window(start_date: Any, end_date: Any) -> dict[str, Any]:
    """A date window (local dates, inclusive) as every route that takes a period names it."""
    return query(start_date=start_date, end_date=end_date)


def body(**values: Any) -> dict[str, Any]:
    """A JSON body without the fields left out (None)."""
    return {name: _plain(value) for name, value in values.items() if value is not None}


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def segment(value: object) -> str:
    """One path segment, escaped."""
    return quote(str(value), safe="")


def api_path(template: str, **values: object) -> str:
    return API_PREFIX + template.format(**{name: segment(v) for name, v in values.items()})


def person_path(user_id: object, suffix: str = "", **values: object) -> str:
    """``/users/{id}...``, or the member's own ``/me...`` when ``user_id`` is ``"me"``."""
    rest = suffix.format(**{name: segment(v) for name, v in values.items()})
    if str(user_id) == "me":
        return f"{API_PREFIX}/me{rest}"
    return f"{API_PREFIX}/users/{segment(user_id)}{rest}"


def register_routes(method: str, routes: tuple[str, ...], name: str) -> None:
    """Record that the SDK method ``name`` covers ``routes`` (and their ``/me`` twins)."""
    for route in routes:
        ROUTES.append((method, API_PREFIX + route, name))
        if route.startswith("/users/{user_id}"):
            ROUTES.append((method, API_PREFIX + "/me" + route[16:], name))


def _register(method: str, routes: tuple[str, ...], build: Callable[..., Any]) -> None:
    register_routes(method, routes, build.__qualname__)


class Operation(Generic[P, T]):
    def __init__(self, build: Callable[P, Spec[T]], method: str, routes: tuple[str, ...]) -> None:
        self.build = build
        _register(method, routes, build)

    @overload
    def __get__(self, obj: None, owner: Any) -> Operation[P, T]: ...
    @overload
    def __get__(self, obj: Resource[SyncAPIClient], owner: Any) -> Callable[P, T]: ...
    @overload
    def __get__(self, obj: Resource[AsyncAPIClient], owner: Any) -> Callable[P, Awaitable[T]]: ...
    def __get__(self, obj: Resource[Any] | None, owner: Any) -> Any:
        if obj is None:
            return self
        client = obj._client
        build = self.build

        def call(*args: P.args, **kwargs: P.kwargs) -> Any:
            return client.execute(build(*args, **kwargs))

        call.__doc__ = build.__doc__
        return call


class PagedOperation(Generic[P, T]):
    def __init__(
        self, build: Callable[P, PageSpec[T]], method: str, routes: tuple[str, ...]
    ) -> None:
        self.build = build
        _register(method, routes, build)

    @overload
    def __get__(self, obj: None, owner: Any) -> PagedOperation[P, T]: ...
    @overload
    def __get__(self, obj: Resource[SyncAPIClient], owner: Any) -> Callable[P, SyncPage[T]]: ...
    @overload
    def __get__(
        self, obj: Resource[AsyncAPIClient], owner: Any
    ) -> Callable[P, AsyncPaginator[T]]: ...
    def __get__(self, obj: Resource[Any] | None, owner: Any) -> Any:
        if obj is None:
            return self
        client = obj._client
        build = self.build

        def call(*args: P.args, **kwargs: P.kwargs) -> Any:
            return client.paginate(build(*args, **kwargs))

        call.__doc__ = build.__doc__
        return call


def operation(method: str, *routes: str) -> Callable[[Callable[P, Spec[T]]], Operation[P, T]]:
    """Declare a builder as the SDK method for ``method`` on ``routes`` (templates after
    ``/api/v1``; a ``/users/{user_id}`` route covers its ``/me`` twin)."""

    def wrap(build: Callable[P, Spec[T]]) -> Operation[P, T]:
        return Operation(build, method, routes)

    return wrap


def paged(method: str, *routes: str) -> Callable[[Callable[P, PageSpec[T]]], PagedOperation[P, T]]:
    """Like :func:`operation`, for a list answered page by page."""

    def wrap(build: Callable[P, PageSpec[T]]) -> PagedOperation[P, T]:
        return PagedOperation(build, method, routes)

    return wrap


def model(cls: type[T]) -> Callable[[Any], T]:
    """The parser of one model (``cls.model_validate``)."""
    validate: Callable[[Any], T] = cls.model_validate  # type: ignore[attr-defined]
    return validate


def nothing(_: Any) -> None:
    return None
