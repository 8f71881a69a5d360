"""A zip of an export's files, produced while it is sent: nothing is staged on disk or held
in memory beyond one chunk."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

CHUNK = 1 << 20
# Parquet is compressed already; deflating it again costs time for nothing.
_STORED_SUFFIXES = (".parquet",)


class _Pipe(io.RawIOBase):
    """A write-only, unseekable stream: zipfile then writes sizes after each member's data."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def iter_zip(root: Path, names: Sequence[str]) -> Iterator[bytes]:
    """The bytes of a zip holding ``root/name`` for each name, a chunk at a time."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w") as archive:
        for name in names:
            source = root / name
            info = zipfile.ZipInfo.from_file(source, arcname=name)
            stored = name.endswith(_STORED_SUFFIXES)
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            with source.open("rb") as reader, archive.open(info, "w", force_zip64=True) as writer:
                while chunk := reader.read(CHUNK):
                    writer.write(chunk)
                    if data := pipe.drain():
                        yield data
            if data := pipe.drain():
                yield data
    if data := pipe.drain():
        yield data
