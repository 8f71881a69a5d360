"""Connections: connect WHOOP (OAuth) or Asleep (API key), list them, disconnect."""

# No `from __future__ import annotations`: the route factories below use local
# dependency aliases, which FastAPI can only see when annotations are evaluated eagerly.

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from somna.auth.dependencies import RequireScopes, RequireSensitive
from somna.auth.principal import Principal
from somna.auth.responses import error_response
from somna.connections import service
from somna.connections.dependencies import ConnectionServicesDep
from somna.connections.pages import connected_page
from somna.connections.schemas import (
    AsleepConnectRequest,
    AuthorizationStart,
    ConnectionList,
    ConnectionRead,
    Disconnected,
    WhoopConnectRequest,
)
from somna.db import SessionDep
from somna.jobs.dependencies import JobQueueDep
from somna.models import Person
from somna.people.dependencies import person_from_me, person_from_path
from somna.request_checks import accepts_any_query

ConnectionsRead = Annotated[Principal, Depends(RequireScopes("connections:read"))]
ConnectionsWrite = Annotated[Principal, Depends(RequireScopes("connections:write"))]
PersonLoader = Callable[..., Coroutine[Any, Any, Person]]


def _person_routes(prefix: str, loader: PersonLoader, tag: str) -> APIRouter:
    """The same routes for ``/users/{user_id}`` and ``/me``; only the person loader differs."""
    router = APIRouter(prefix=prefix, tags=[tag])
    _add_list_and_connect(router, loader)
    _add_disconnect(router, loader)
    return router


def _add_list_and_connect(router: APIRouter, loader: PersonLoader) -> None:
    # Route factories: the person dependency is a local alias, so each defines its own.
    LoadedPerson = Annotated[Person, Depends(loader)]

    @router.get("/connections")
    async def list_connections(
        _principal: ConnectionsRead, person: LoadedPerson, session: SessionDep
    ) -> ConnectionList:
        """The person's provider connections: status, scopes, last sync and last error."""
        return ConnectionList(data=await service.list_connections(session, person))

    @router.post(
        "/connections/whoop",
        responses={409: error_response("`provider_not_configured`: no WHOOP credentials.")},
    )
    async def connect_whoop(
        _principal: ConnectionsWrite,
        person: LoadedPerson,
        session: SessionDep,
        services: ConnectionServicesDep,
        payload: Annotated[WhoopConnectRequest | None, Body()] = None,
    ) -> AuthorizationStart:
        """Start connecting WHOOP: send the person's browser to `authorization_url`."""
        return_to = payload.return_to if payload is not None else None
        return await service.start_whoop(session, services.settings, person, return_to)

    @router.post(
        "/connections/asleep",
        status_code=status.HTTP_201_CREATED,
        responses={
            409: error_response(
                "`already_connected` to another Asleep user, or `provider_not_configured`."
            )
        },
    )
    async def connect_asleep(
        payload: AsleepConnectRequest,
        _principal: ConnectionsWrite,
        person: LoadedPerson,
        session: SessionDep,
        services: ConnectionServicesDep,
        queue: JobQueueDep,
        response: Response,
    ) -> ConnectionRead:
        """Connect Asleep: create the Asleep user (with `metadata`) or link `asleep_user_id`."""
        connection, created = await service.connect_asleep(
            session, services, queue, person, payload
        )
        if not created:
            response.status_code = status.HTTP_200_OK
        return await service.get_connection_read(session, connection)


def _add_disconnect(router: APIRouter, loader: PersonLoader) -> None:
    LoadedPerson = Annotated[Person, Depends(loader)]

    @router.delete("/connections/{provider}")
    async def disconnect(
        provider: Literal["whoop", "asleep"],
        request: Request,
        principal: ConnectionsWrite,
        person: LoadedPerson,
        session: SessionDep,
        services: ConnectionServicesDep,
        delete_data: Annotated[
            bool, Query(description="Also delete every record this connection brought in.")
        ] = False,
    ) -> Disconnected:
        """Disconnect: revoke at the provider, forget the tokens, keep or delete the data."""
        if delete_data and principal.person_id != person.id:
            # Deleting a person's data is sensitive (signed with a key, owner/admin by JWT);
            # members may delete their own.
            await RequireSensitive("connections:write")(request, principal)
        return await service.disconnect(
            session, services, person, provider, delete_data=delete_data
        )


router = APIRouter()
router.include_router(_person_routes("/users/{user_id}", person_from_path, "connections"))
router.include_router(_person_routes("/me", person_from_me, "me"))


@router.get(
    "/oauth/whoop/callback",
    tags=["connections"],
    response_model=None,
    responses={
        400: error_response(
            "`invalid_state` (unknown, used or expired) or `authorization_denied`."
        ),
        409: error_response("`provider_account_in_use` or `provider_not_configured`."),
    },
)
@accepts_any_query
async def whoop_callback(
    session: SessionDep,
    services: ConnectionServicesDep,
    queue: JobQueueDep,
    code: Annotated[str | None, Query(max_length=2000)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse | RedirectResponse:
    """WHOOP's redirect URI: completes the connection, then shows a page or goes `return_to`."""
    result = await service.complete_whoop(
        session, services, queue, code=code, state=state, error=error
    )
    if result.return_to is not None:
        if result.error is not None:
            target = service.with_query(
                result.return_to, connection="whoop", status="error", error=result.error
            )
        else:
            target = service.with_query(result.return_to, connection="whoop", status="connected")
        return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    return HTMLResponse(connected_page("whoop"))
