"""File names of an export and atomic writes: a file appears under its name whole, or not at all."""

from __future__ import annotations

import contextlib
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from somna.kit.crypto import random_token, sha256_hex

JSON_DIR = "json"
CSV_DIR = "combined_csv"
PARQUET_DIR = "parquet"

_UNSAFE = re.compile(r"[^a-z0-9@._+-]")
_MAX_EMAIL_PART = 120  # file names stay far below the usual 255-byte limit


def stamp_of(moment: datetime) -> str:
    """The timestamp in every file name of one export: UTC, ``20261124T013000Z``."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def safe_email(email: str) -> str:
    """An email as a file-name part on any file system.

    Lower case (case-insensitive file systems would merge ``A@x`` and ``a@x``); anything
    outside ``a-z 0-9 @ . _ + -`` becomes ``_``, and leading dots go (no hidden files, no
    ``..``). When that changed the address at all or it had to be shortened, a short hash of
    the original follows, so two people can never share a file name.
    """
    original = email.strip()
    cleaned = _UNSAFE.sub("_", original.lower()).lstrip(".") or "_"
    if cleaned == original and len(cleaned) <= _MAX_EMAIL_PART:
        return cleaned
    return f"{cleaned[:_MAX_EMAIL_PART]}-{sha256_hex(original)[:8]}"


def person_json_name(email: str, stamp: str) -> str:
    return f"{JSON_DIR}/sleep_data_batch_{safe_email(email)}_{stamp}.json"


def combined_csv_name(stamp: str) -> str:
    return f"{CSV_DIR}/combined_sleep_data_expanded_{stamp}.csv"


def parquet_name(collection: str, stamp: str) -> str:
    return f"{PARQUET_DIR}/{collection}_{stamp}.parquet"


class AtomicTarget:
    """A file written under a hidden temporary name and renamed into place by :meth:`commit`.

    The rename is atomic on one file system, so a reader (or a crash) sees the old state or the
    whole new file, never a part. :meth:`discard` removes the temporary file.
    """

    def __init__(self, root: Path, name: str) -> None:
        self.name = name
        self.final = root / name
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.temp = self.final.with_name(f".{self.final.name}.{random_token(6)}.tmp")
        self.committed = False

    def commit(self) -> int:
        """Make the written file durable and visible under its name; returns its size."""
        with self.temp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(self.temp, self.final)
        self.committed = True
        _fsync_directory(self.final.parent)
        return self.final.stat().st_size

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.temp.unlink()


def _fsync_directory(path: Path) -> None:
    # Persists the rename itself; not every platform can open a directory, hence best effort.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
