"""What the running app holds, typed: ``app.state`` is an :class:`AppState`.

``create_app`` installs it with the settings; the lifespan fills in the rest (the engine, the
session factory, Redis, and the services of higher layers: the rate limiter, the job runtime,
the key cache...). Code reads it through :func:`app_state` and the typed dependencies below,
never through untyped ``request.app.state.xxx`` lookups.

This module sits just above ``config`` in the layers (pyproject.toml): the services of higher
layers are held by name and read back with their type (:meth:`AppState.service`), so that
this module imports none of them.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.datastructures import State

from somna.config import Settings

T = TypeVar("T")


class ServiceMissing(RuntimeError):
    """A service asked for that the app never installed: a wiring bug, not a request error."""


class AppState(State):
    """``app.state``, with a type for each thing it holds.

    It stays a Starlette ``State`` (attribute access, filled in the lifespan) so that tests
    and the ASGI middleware read the same object the dependencies do.
    """

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis | None

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def install(self, name: str, service: object) -> None:
        """Hold a service of a higher layer under ``name`` for the app's lifetime."""
        setattr(self, name, service)

    def service(self, name: str, kind: type[T]) -> T:
        """The service installed under ``name``, checked to be a ``kind``."""
        value: Any = getattr(self, name, None)
        if not isinstance(value, kind):
            raise ServiceMissing(f"app.state.{name} is not a {kind.__name__}")
        return value

    def optional_service(self, name: str, kind: type[T]) -> T | None:
        """As :meth:`service`, but None when the app runs without it (no lifespan yet)."""
        value: Any = getattr(self, name, None)
        return value if isinstance(value, kind) else None


def state_of(app: FastAPI) -> AppState:
    state = app.state
    if not isinstance(state, AppState):
        raise ServiceMissing("app.state is not an AppState: build the app with create_app()")
    return state


def app_state(request: Request) -> AppState:
    return state_of(request.app)


def get_settings(request: Request) -> Settings:
    return app_state(request).settings


def get_engine(request: Request) -> AsyncEngine:
    return app_state(request).engine


def get_session_factory(request: Request) -> async_sessionmaker[AsyncSession]:
    return app_state(request).sessionmaker


AppStateDep = Annotated[AppState, Depends(app_state)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[AsyncEngine, Depends(get_engine)]
SessionFactoryDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_session_factory)]
