"""What the connection endpoints need from sync, as a FastAPI dependency.

Connections may not import sync (sync depends on connections), so the app hands in a factory
(``app.state.connection_services``, set in ``somna.app``) that builds sync's implementation of
the port for each request, from the app's current pacer and queue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from somna.connections.ports import ConnectionServices


def get_connection_services(request: Request) -> ConnectionServices:
    factory: Callable[[Request], ConnectionServices] = request.app.state.connection_services
    return factory(request)


ConnectionServicesDep = Annotated[ConnectionServices, Depends(get_connection_services)]
