"""Pages of a list: ``.data`` and ``.next_cursor`` of one page, iteration over every item of
every page, ``iter_pages()``, and the whole list as a DataFrame."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from somna_client._dataframes import columns_of, to_pandas, to_polars

if TYPE_CHECKING:
    from somna_client._base_client import AsyncAPIClient, SyncAPIClient
    from somna_client._operations import PageSpec

T = TypeVar("T")


class _Page(Generic[T]):
    def __init__(self, spec: PageSpec[T], data: list[T], next_cursor: str | None) -> None:
        self.data = data
        self.next_cursor = next_cursor
        self._spec = spec

    def has_next_page(self) -> bool:
        return bool(self.next_cursor)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} items={len(self.data)} next_cursor={self.next_cursor!r}>"


class SyncPage(_Page[T]):
    """One page; iterating it walks every item of this page and the pages after it."""

    def __init__(
        self, client: SyncAPIClient, spec: PageSpec[T], data: list[T], next_cursor: str | None
    ) -> None:
        super().__init__(spec, data, next_cursor)
        self._client = client

    def next_page(self) -> SyncPage[T] | None:
        if not self.next_cursor:
            return None
        return self._client.fetch_page(self._spec.at(self.next_cursor))

    def iter_pages(self) -> Iterator[SyncPage[T]]:
        page: SyncPage[T] | None = self
        while page is not None:
            yield page
            page = page.next_page()

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.data

    def to_list(self) -> list[T]:
        """Every item of every page."""
        return list(self)

    def to_pandas(self) -> Any:
        """Every item of every page as a pandas DataFrame, one row per item."""
        return to_pandas(self.to_list(), columns_of(self._spec.item))

    def to_polars(self) -> Any:
        """Every item of every page as a polars DataFrame, one row per item."""
        return to_polars(self.to_list(), columns_of(self._spec.item))


class AsyncPage(_Page[T]):
    """One page of the async client; ``async for`` walks every item from here on."""

    def __init__(
        self, client: AsyncAPIClient, spec: PageSpec[T], data: list[T], next_cursor: str | None
    ) -> None:
        super().__init__(spec, data, next_cursor)
        self._client = client

    async def next_page(self) -> AsyncPage[T] | None:
        if not self.next_cursor:
            return None
        return await self._client.fetch_page(self._spec.at(self.next_cursor))

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        page: AsyncPage[T] | None = self
        while page is not None:
            yield page
            page = await page.next_page()

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


class AsyncPaginator(Generic[T]):
    """What the async ``list()`` returns: ``await`` it for the first page, or ``async for``
    over it for every item."""

    def __init__(self, client: AsyncAPIClient, spec: PageSpec[T]) -> None:
        self._client = client
        self._spec = spec

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._client.fetch_page(self._spec).__await__()

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        first = await self
        async for page in first.iter_pages():
            yield page

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item

    async def to_list(self) -> list[T]:
        return [item async for item in self]

    async def to_pandas(self) -> Any:
        """Every item of every page as a pandas DataFrame, one row per item."""
        return to_pandas(await self.to_list(), columns_of(self._spec.item))

    async def to_polars(self) -> Any:
        """Every item of every page as a polars DataFrame, one row per item."""
        return to_polars(await self.to_list(), columns_of(self._spec.item))
