"""Exports: build JSON, CSV and Parquet files on the server, wait, and download them."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from somna_client._base_client import AsyncAPIClient, SyncAPIClient
from somna_client._operations import (
    C,
    PageSpec,
    Resource,
    Spec,
    api_path,
    body,
    model,
    operation,
    paged,
    query,
    register_routes,
)
from somna_client._polling import DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT, apoll, poll
from somna_client.models import ExportRead

FINAL_EXPORT_STATES = frozenset({"succeeded", "failed", "expired"})
CHUNK_BYTES = 1 << 16


@operation("POST", "/exports")
def _create(
    *,
    formats: list[str] | None = None,
    user_ids: list[str] | None = None,
    start_date: date | str | None = None,
    end_date: date | str | None = None,
) -> Spec[ExportRead]:
    """Start an export of some people, or of the whole organisation when ``user_ids`` is
    omitted (sensitive: signed when called with an API key)."""
    payload = body(format=formats, user_ids=user_ids, start_date=start_date, end_date=end_date)
    return Spec(
        "POST",
        api_path("/exports"),
        model(ExportRead),
        json=payload,
        creates=True,
        sensitive=user_ids is None,
    )


@operation("POST", "/me/exports")
def _create_own(
    *,
    formats: list[str] | None = None,
    start_date: date | str | None = None,
    end_date: date | str | None = None,
) -> Spec[ExportRead]:
    """A member's export of their own data."""
    payload = body(format=formats, start_date=start_date, end_date=end_date)
    return Spec("POST", api_path("/me/exports"), model(ExportRead), json=payload, creates=True)


@paged("GET", "/exports")
def _list(*, limit: int | None = None, cursor: str | None = None) -> PageSpec[ExportRead]:
    """The organisation's exports, newest first."""
    spec = Spec("GET", api_path("/exports"), dict, params=query(limit=limit, cursor=cursor))
    return PageSpec(spec, model(ExportRead))


@operation("GET", "/exports/{export_id}")
def _retrieve(export_id: str) -> Spec[ExportRead]:
    """One export: its status, and its files once built."""
    return Spec("GET", api_path("/exports/{id}", id=export_id), model(ExportRead))


register_routes(
    "GET",
    ("/exports/{export_id}/download", "/exports/{export_id}/files/{file_path}"),
    "Exports.download",
)


def _archive(export_id: str) -> Spec[None]:
    return Spec("GET", api_path("/exports/{id}/download", id=export_id), lambda _: None)


def _file(export_id: str, file_path: str) -> Spec[None]:
    path = api_path("/exports/{id}/files/", id=export_id) + "/".join(
        part for part in file_path.split("/") if part not in ("", ".", "..")
    )
    return Spec("GET", path, lambda _: None)


def _target(dest: str | Path, response: httpx.Response, fallback: str) -> Path:
    """``dest`` itself, or a file in it named as the server suggests when it is a folder."""
    path = Path(dest)
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        return path
    match = re.search(r'filename="?([^";/\\]+)"?', response.headers.get("content-disposition", ""))
    return path / (match.group(1) if match else fallback)


class Exports(Resource[C]):
    create = _create
    create_own = _create_own
    list = _list
    retrieve = _retrieve


class ExportsResource(Exports[SyncAPIClient]):
    def wait(
        self,
        export_id: str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_progress: Callable[[ExportRead], Any] | None = None,
    ) -> ExportRead:
        """Poll until the export is built (or failed or expired)."""
        return poll(
            lambda: self.retrieve(export_id),
            FINAL_EXPORT_STATES,
            timeout=timeout,
            interval=poll_interval,
            on_progress=on_progress,
        )

    def download(self, export_id: str, dest: str | Path, *, file: str | None = None) -> Path:
        """Stream the export's zip (or one ``file`` of it) to ``dest`` (a file or a folder);
        returns the path written."""
        spec = _file(export_id, file) if file else _archive(export_id)
        fallback = Path(file).name if file else f"somna-export-{export_id}.zip"
        with self._client.stream(spec) as response:
            target = _target(dest, response, fallback)
            with target.open("wb") as out:
                for chunk in response.iter_bytes(CHUNK_BYTES):
                    out.write(chunk)
        return target


class AsyncExportsResource(Exports[AsyncAPIClient]):
    async def wait(
        self,
        export_id: str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,  # noqa: ASYNC109
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_progress: Callable[[ExportRead], Any] | None = None,
    ) -> ExportRead:
        """Poll until the export is built (or failed or expired)."""
        return await apoll(
            lambda: self.retrieve(export_id),
            FINAL_EXPORT_STATES,
            timeout=timeout,
            interval=poll_interval,
            on_progress=on_progress,
        )

    async def download(self, export_id: str, dest: str | Path, *, file: str | None = None) -> Path:
        """Stream the export's zip (or one ``file`` of it) to ``dest``; returns the path."""
        spec = _file(export_id, file) if file else _archive(export_id)
        fallback = Path(file).name if file else f"somna-export-{export_id}.zip"
        async with self._client.stream(spec) as response:
            target = _target(dest, response, fallback)
            with target.open("wb") as out:
                async for chunk in response.aiter_bytes(CHUNK_BYTES):
                    out.write(chunk)
        return target
