"""Tenant isolation, checked generically over every route of the OpenAPI document.

Organisation A gets one row in every table that can hold one (arranged from the schema, so
tables added later are covered), two people (A1, A2), a member account for A2, an API key and
its owner. Then every operation is called by principals that must see none of it: the owner and
a full-grant key of organisation B, and A2's member account, which must see nothing of A1.
Path, query and body ids are filled with A's real ids where the name points at a table, and
with random UUIDs otherwise. Asserted for every call:

- no 5xx;
- no id, email or slug that the caller must not see appears in the body (ids the request
  itself sent are allowed: an error may echo its input);
- a route answers A's real ids exactly as it answers ids that do not exist (so 404, never 403);
- afterwards, every row of organisation A is unchanged.

Routes added later are walked automatically; extend ``TABLE_ALIASES`` when a parameter name
does not name its table.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Numeric, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.schema import CheckConstraint, Column
from sqlalchemy.types import JSON, TypeDecorator, Uuid

from somna.kit.models import Base
from tests.support.auth import (
    Login,
    TestKey,
    create_account,
    create_api_key,
    create_organization,
    create_person,
)

# Parameter name (without ``_id``) or the path segment before ``{id}`` -> table.
TABLE_ALIASES = {
    "user": "people",
    "users": "people",
    "person": "people",
    "people": "people",
    "key": "api_keys",
    "keys": "api_keys",
    "org": "organizations",
    "organization": "organizations",
    "organizations": "organizations",
    "account": "accounts",
    "accounts": "accounts",
    "connection": "connections",
    "connections": "connections",
    "session": "sleep_sessions",
    "sleep": "sleep_sessions",
    "sessions": "sleep_sessions",
    "run": "sync_runs",
    "runs": "sync_runs",
}
OWNERSHIP_COLUMNS = ("organization_id", "person_id", "connection_id")
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class TenantA:
    organization_id: uuid.UUID
    person_id: uuid.UUID  # A1: the person whose data A2's member must never see
    ids_by_table: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    person_ids_by_table: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    secrets_for_others: set[str] = field(default_factory=set)
    secrets_for_member: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Caller:
    name: str
    headers: dict[str, str]
    key: TestKey | None
    forbidden: frozenset[str]


# --- arranging one row per table ---------------------------------------------------------


def _check_choice(table: Table, column: Column[Any]) -> str | None:
    """The first value a ``col IN ('a', 'b')`` check constraint allows."""
    for constraint in table.constraints:
        if isinstance(constraint, CheckConstraint):
            text = str(constraint.sqltext)
            match = re.search(rf"\b{column.name} IN \(([^)]*)\)", text)
            if match:
                return match.group(1).split(",")[0].strip().strip("'\"")
    return None


def _value(table: Table, column: Column[Any], ids: dict[str, list[uuid.UUID]]) -> Any:
    for foreign_key in column.foreign_keys:
        owned = ids.get(foreign_key.column.table.name)
        return owned[0] if owned else None
    choice = _check_choice(table, column)
    if choice is not None:
        return choice
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    now = dt.datetime.now(dt.UTC)
    if isinstance(kind, Uuid):
        return uuid.uuid4()
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return 1
    if isinstance(kind, Float | Numeric):
        return 1.0
    if isinstance(kind, DateTime):
        return now
    if isinstance(kind, Date):
        return now.date()
    if isinstance(kind, JSON):
        return {}
    if isinstance(kind, String):
        length = kind.length or 32
        return f"a-{uuid.uuid4().hex}"[: min(length, 24)]
    return None


async def _seed_every_table(session: AsyncSession, tenant: TenantA) -> None:
    """One row of A (owned by A1 where a table has people) in each table that takes one."""
    for table in Base.metadata.sorted_tables:
        if table.name in tenant.ids_by_table or not any(
            name in table.c for name in OWNERSHIP_COLUMNS
        ):
            continue
        values: dict[str, Any] = {}
        for column in table.columns:
            required = not column.nullable and column.default is None
            if column.foreign_keys:
                if required or column.name in OWNERSHIP_COLUMNS:
                    values[column.name] = _value(table, column, tenant.ids_by_table)
                    if values[column.name] is None and required:
                        break
            elif column.primary_key and isinstance(column.type, Uuid):
                values[column.name] = uuid.uuid4()
            elif required or column.primary_key:
                values[column.name] = _value(table, column, tenant.ids_by_table)
                if values[column.name] is None:
                    break
        else:
            try:
                async with session.begin_nested():
                    await session.execute(table.insert().values(**values))
            except Exception:  # a constraint this generic filler cannot guess: skip the table
                continue
            if "id" in values:
                tenant.ids_by_table.setdefault(table.name, []).append(values["id"])
                if values.get("person_id") == tenant.person_id:
                    tenant.person_ids_by_table.setdefault(table.name, []).append(values["id"])
    await session.commit()


async def _snapshot(session: AsyncSession, tenant: TenantA) -> dict[str, list[tuple[Any, ...]]]:
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for table in Base.metadata.sorted_tables:
        ids = tenant.ids_by_table.get(table.name)
        if ids and "id" in table.c:
            result = await session.execute(select(table).where(table.c.id.in_(ids)))
            rows[table.name] = sorted((tuple(row) for row in result), key=repr)
    return rows


# --- building requests from the OpenAPI document -----------------------------------------


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _table_for(name: str, previous_segment: str) -> str | None:
    base = name.removesuffix("_id")
    if base in ("id", ""):
        base = previous_segment
    if base in TABLE_ALIASES:
        return TABLE_ALIASES[base]
    tables = {table.name for table in Base.metadata.sorted_tables}
    for candidate in (base, f"{base}s", base.removesuffix("s")):
        if candidate in tables:
            return candidate
    return None


class RequestFactory:
    def __init__(self, openapi: dict[str, Any], tenant: TenantA, real: bool) -> None:
        self.components = openapi.get("components", {}).get("schemas", {})
        self.tenant = tenant
        self.real = real
        self.sent: set[str] = set()

    def id_for(self, name: str, previous_segment: str = "") -> str:
        table = _table_for(name, previous_segment)
        value = str(uuid.uuid4())
        if self.real and table is not None:
            person_owned = self.tenant.person_ids_by_table.get(table)
            owned = person_owned or self.tenant.ids_by_table.get(table)
            if table == "people":
                owned = [self.tenant.person_id]
            if owned:
                value = str(owned[0])
        self.sent.add(value)
        return value

    def example(self, schema: dict[str, Any], name: str = "", depth: int = 0) -> Any:
        schema = _resolve(schema, self.components)
        for combiner in ("anyOf", "oneOf", "allOf"):
            if combiner in schema:
                options = [s for s in schema[combiner] if s.get("type") != "null"]
                return self.example(options[0] if options else {}, name, depth)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        if "default" in schema and schema["default"] is not None:
            return schema["default"]
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            if depth > 4:
                return {}
            required = schema.get("required", [])
            return {
                key: self.example(sub, key, depth + 1)
                for key, sub in schema.get("properties", {}).items()
                if key in required
            }
        if kind == "array":
            count = max(1, schema.get("minItems", 1))
            return [self.example(schema.get("items", {}), name, depth + 1) for _ in range(count)]
        if kind == "integer":
            return max(1, schema.get("minimum", 1))
        if kind == "number":
            return float(max(1, schema.get("minimum", 1)))
        if kind == "boolean":
            return False
        fmt = schema.get("format")
        if fmt == "uuid" or name.endswith("_id"):
            return self.id_for(name)
        if fmt == "email":
            return f"walker-{uuid.uuid4().hex[:8]}@example.com"
        if fmt == "date-time":
            return (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
        if fmt == "date":
            return dt.date.today().isoformat()
        return "x" * max(8, schema.get("minLength", 1))

    def build(self, path: str, operation: dict[str, Any]) -> tuple[str, dict[str, Any], bytes]:
        segments = path.strip("/").split("/")
        query: dict[str, Any] = {}
        for parameter in operation.get("parameters", []):
            parameter = _resolve(parameter, self.components)
            name = parameter["name"]
            if parameter["in"] == "path":
                token = "{" + name + "}"
                index = segments.index(token)
                previous = segments[index - 1] if index else ""
                schema = _resolve(parameter.get("schema", {}), self.components)
                if schema.get("format") == "uuid" or name.endswith("id"):
                    value = self.id_for(name, previous)
                else:
                    value = str(self.example(schema, name))
                path = path.replace(token, value)
            elif parameter["in"] == "query" and parameter.get("required"):
                query[name] = self.example(parameter.get("schema", {}), name)
        body = b""
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            body = json.dumps(self.example(content["application/json"].get("schema", {}))).encode()
        return path, query, body


def _operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    openapi = app.openapi()
    return [
        (method, path, operation)
        for path, item in sorted(openapi["paths"].items())
        for method, operation in item.items()
        if method in METHODS
    ]


# --- the test ------------------------------------------------------------------------------


async def _arrange(
    db_session: AsyncSession, client: httpx.AsyncClient
) -> tuple[TenantA, list[Caller]]:
    await create_organization(db_session, client, name="Operator")  # first org: the operator
    org_a = await create_organization(db_session, client, name="Alpha")
    org_b = await create_organization(db_session, client, name="Bravo")
    assert not org_a.is_operator
    assert not org_b.is_operator
    person_a1 = await create_person(db_session, org_a.id)
    person_a2 = await create_person(db_session, org_a.id)
    member_a1 = await create_account(db_session, client, org_a.id, "member", person_id=person_a1.id)
    member_a2: Login = await create_account(
        db_session, client, org_a.id, "member", person_id=person_a2.id
    )
    key_a = await create_api_key(client, org_a.owner.headers, name="alpha key")
    key_b = await create_api_key(client, org_b.owner.headers, name="bravo key")

    tenant = TenantA(org_a.id, person_a1.id)
    tenant.ids_by_table = {
        "organizations": [org_a.id],
        "people": [person_a1.id, person_a2.id],
        "accounts": [member_a1.account_id, org_a.owner.account_id, member_a2.account_id],
        "api_keys": [key_a.id],
    }
    tenant.person_ids_by_table = {"people": [person_a1.id], "accounts": [member_a1.account_id]}
    await _seed_every_table(db_session, tenant)

    every_id = {str(i) for ids in tenant.ids_by_table.values() for i in ids}
    tenant.secrets_for_others = every_id | {
        org_a.slug,
        org_a.owner.email,
        person_a1.email,
        person_a2.email,
        key_a.body["prefix"],
    }
    tenant.secrets_for_member = {
        str(i) for ids in tenant.person_ids_by_table.values() for i in ids
    } | {person_a1.email, member_a1.email}
    callers = [
        Caller("B owner", org_b.owner.headers, None, frozenset(tenant.secrets_for_others)),
        Caller("B key", key_b.headers, key_b, frozenset(tenant.secrets_for_others)),
        Caller("A2 member", member_a2.headers, None, frozenset(tenant.secrets_for_member)),
    ]
    return tenant, callers


async def _call(
    client: httpx.AsyncClient,
    caller: Caller,
    method: str,
    path: str,
    query: dict[str, Any],
    body: bytes,
) -> httpx.Response:
    url = httpx.URL(path, params=query) if query else httpx.URL(path)
    target = url.raw_path.decode()
    headers = caller.key.signed(method.upper(), target, body) if caller.key else caller.headers
    if body:
        headers = {**headers, "Content-Type": "application/json"}
    return await client.request(method.upper(), target, headers=headers, content=body)


async def test_no_route_lets_data_cross_tenants_or_people(
    app: FastAPI, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    tenant, callers = await _arrange(db_session, client)
    before = await _snapshot(db_session, tenant)
    openapi = app.openapi()
    operations = _operations(app)
    assert len(operations) >= 10  # the walk really covers the API
    problems: list[str] = []
    # Everything a caller sent so far: its own audit trail may name those ids (what it asked
    # for, refusals included), and that is no leak.
    sent_by: dict[str, set[str]] = {caller.name: set() for caller in callers}
    for method, template, operation in operations:
        for caller in callers:
            answers: dict[bool, tuple[int, str]] = {}
            for real in (True, False):
                factory = RequestFactory(openapi, tenant, real)
                path, query, body = factory.build(template, operation)
                response = await _call(client, caller, method, path, query, body)
                label = (
                    f"{caller.name} {method.upper()} {template} ({'real' if real else 'random'})"
                )
                if response.status_code >= 500:
                    problems.append(f"{label}: {response.status_code}")
                allowed = factory.sent
                if template.startswith("/api/v1/audit-events"):
                    allowed = allowed | sent_by[caller.name]
                sent_by[caller.name] |= factory.sent
                leaked = [s for s in caller.forbidden - allowed if s in response.text]
                if leaked:
                    problems.append(f"{label}: leaked {leaked}")
                is_json = response.headers.get("content-type", "").startswith("application/json")
                error = response.json().get("error", "") if is_json else ""
                answers[real] = (response.status_code, str(error))
                if not factory.sent:
                    # No id of A's was filled in, so the "real" and "random" calls would be the
                    # same request (and a signed copy would be refused as a replay).
                    break
            if len(answers) == 2 and answers[True] != answers[False]:
                problems.append(
                    f"{caller.name} {method.upper()} {template}: A's ids answer {answers[True]}, "
                    f"unknown ids answer {answers[False]}"
                )
    db_session.expire_all()
    assert await _snapshot(db_session, tenant) == before, "a call changed organisation A's rows"
    assert not problems, "\n".join(problems)


async def test_the_arrangement_reaches_tables_beyond_identity(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    tenant, _ = await _arrange(db_session, client)
    seeded = set(tenant.ids_by_table)
    # The generic filler must reach the record tables, or the walk would prove little.
    assert {"connections", "sleep_sessions"} <= seeded, seeded
    assert tenant.person_ids_by_table.get("sleep_sessions")
