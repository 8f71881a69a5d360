"""Terminal bars for a batch sync: one per connection, and one for everyone."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from somna.batchsync.summary import BUSY
from somna.batchsync.targets import Target
from somna.providers.registry import capabilities

if TYPE_CHECKING:
    from somna.sync.engine import SyncProgress

# Past this many connections, finished bars are hidden so the screen shows the live ones.
KEEP_FINISHED_BARS = 24
WIDE_CONSOLE = 120


class SyncBars:
    """A bar per connection (its collections done), with pages and records as they commit."""

    def __init__(self, progress: Progress, targets: list[Target]) -> None:
        self.progress = progress
        self.hide_finished = len(targets) > KEEP_FINISHED_BARS
        self.overall = progress.add_task(
            "[bold]everyone", total=len(targets), pages=0, records=0, state=""
        )
        self.tasks: dict[uuid.UUID, TaskID] = {}
        self.order: dict[uuid.UUID, tuple[str, ...]] = {}
        self.done: set[uuid.UUID] = set()
        self.totals: dict[uuid.UUID, tuple[int, int]] = {}
        for target in targets:
            collections = tuple(capabilities(target.provider).collections)
            self.order[target.connection_id] = collections
            self.tasks[target.connection_id] = progress.add_task(
                f"{target.email} [dim]{target.provider}[/]",
                total=len(collections),
                pages=0,
                records=0,
                state="waiting",
            )

    def __call__(self, event: SyncProgress) -> None:
        task = self.tasks.get(event.connection_id)
        if task is None:
            return
        collections = self.order[event.connection_id]
        self.totals[event.connection_id] = (event.pages, event.records)
        fields: dict[str, Any] = {"pages": event.pages, "records": event.records}
        if not event.done:
            if event.collection in collections:
                fields["completed"] = collections.index(event.collection)
            fields["state"] = event.collection or "starting"
        elif event.status == "succeeded":
            fields.update(completed=len(collections), state="[green]succeeded")
        else:
            fields["state"] = f"[red]{event.status}"
        self.progress.update(task, **fields)
        pages, records = (sum(values) for values in zip(*self.totals.values(), strict=True))
        self.progress.update(self.overall, pages=pages, records=records)
        if event.done and event.connection_id not in self.done:
            self.done.add(event.connection_id)
            self.progress.advance(self.overall)
            if self.hide_finished and event.status == "succeeded":
                self.progress.update(task, visible=False)

    def busy(self, connection_id: uuid.UUID) -> None:
        task = self.tasks.get(connection_id)
        if task is None or connection_id in self.done:
            return
        self.done.add(connection_id)
        self.progress.update(task, state=f"[yellow]{BUSY}")
        self.progress.advance(self.overall)

    def skipped(self, target: Target) -> None:
        task = self.tasks[target.connection_id]
        self.progress.update(task, state=f"[red]{target.status.replace('_', ' ')}")
        self.progress.advance(self.overall)


def sync_progress(out: Console) -> Progress:
    """A bar per person; on a narrow console (80 columns, a log file) fewer columns, so that
    emails and states stay whole."""
    if out.width < WIDE_CONSOLE:
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=8),
            TextColumn("{task.fields[records]:>6} rec"),
            TextColumn("[dim]{task.fields[state]}"),
            console=out,
        )
    return Progress(
        SpinnerColumn(finished_text=" "),
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TextColumn("{task.fields[pages]:>4} pages {task.fields[records]:>6} records"),
        TextColumn("[dim]{task.fields[state]}"),
        TimeElapsedColumn(),
        console=out,
    )
