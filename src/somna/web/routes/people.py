"""The organisation's people: search by email, sort, and keyset pages."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import Query
from fastapi.responses import HTMLResponse

from somna.people import service as users
from somna.web.dependencies import Page
from somna.web.routes import page_router

router = page_router()
PAGE_SIZE = 25
SORTS = {
    "newest": ("created", True),
    "oldest": ("created", False),
    "email": ("email", False),
    "email-desc": ("email", True),
}


@router.get("/people")
async def people_page(
    page: Page,
    q: Annotated[str, Query(max_length=200)] = "",
    sort: Annotated[Literal["newest", "oldest", "email", "email-desc"], Query()] = "newest",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    page.require_staff()
    page.require("users:read")
    key, descending = SORTS[sort]
    rows, next_cursor = await users.list_people(
        page.session, page.principal.organization_id, limit=PAGE_SIZE, cursor=cursor,
        search=q.strip() or None, sort="email" if key == "email" else "created",
        descending=descending,
    )  # fmt: skip
    next_query = urlencode({"q": q, "sort": sort, "cursor": next_cursor}) if next_cursor else None
    return page.render(
        "people.html",
        title="People",
        rows=rows,
        q=q,
        sort=sort,
        next_query=next_query,
        paged=cursor is not None,
        sort_query={name: urlencode({"q": q, "sort": name}) for name in SORTS},
    )
