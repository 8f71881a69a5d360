"""The WHOOP v2 emulator: OAuth (authorize, token), every member-data route, rate limits with
WHOOP's headers, fault injection, and a small control API under ``/_sandbox``."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from somna.kit.crypto import constant_time_equal
from somna.sandbox.faults import FaultPlan
from somna.sandbox.pagination import Item, PageError, page
from somna.sandbox.ratelimit import SlidingWindowLimiter
from somna.sandbox.whoop.state import KNOWN_SCOPES, Grant, Member, WhoopWorld

Handler = Callable[[Request, Member], Awaitable[Response]]


def _error(
    status: int, error: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse({"error": error, "message": message}, status_code=status, headers=headers)


class WhoopApp:
    def __init__(self, world: WhoopWorld, faults: FaultPlan, limiter: SlidingWindowLimiter) -> None:
        self.world = world
        self.faults = faults
        self.limiter = limiter
        api = "/developer"
        routes = [
            Route("/oauth/oauth2/auth", self.authorize, methods=["GET"]),
            Route("/oauth/oauth2/token", self.token, methods=["POST"]),
            Route(f"{api}/v2/user/profile/basic", self.api(self.profile, "read:profile")),
            Route(f"{api}/v2/user/measurement/body", self.api(self.body, "read:body_measurement")),
            Route(f"{api}/v2/user/access", self.api(self.revoke, None), methods=["DELETE"]),
            Route(f"{api}/v2/cycle", self.api(self.list_cycles, "read:cycles")),
            Route(f"{api}/v2/cycle/{{cycle_id}}", self.api(self.get_cycle, "read:cycles")),
            Route(f"{api}/v2/cycle/{{cycle_id}}/sleep", self.api(self.cycle_sleep, "read:sleep")),
            Route(
                f"{api}/v2/cycle/{{cycle_id}}/recovery",
                self.api(self.cycle_recovery, "read:recovery"),
            ),
            Route(f"{api}/v2/recovery", self.api(self.list_recoveries, "read:recovery")),
            Route(f"{api}/v2/activity/sleep", self.api(self.list_sleeps, "read:sleep")),
            Route(f"{api}/v2/activity/sleep/{{sleep_id}}", self.api(self.get_sleep, "read:sleep")),
            Route(f"{api}/v2/activity/workout", self.api(self.list_workouts, "read:workout")),
            Route(
                f"{api}/v2/activity/workout/{{workout_id}}",
                self.api(self.get_workout, "read:workout"),
            ),
            Route(f"{api}/v1/activity-mapping/{{v1_id}}", self.api(self.activity_mapping, None)),
        ]
        self.app = Starlette(routes=routes)

    # -- the wrapper every API route goes through ----------------------------------------
    def api(self, handler: Handler, scope: str | None) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            knobs = self.faults.faults
            if knobs.latency_seconds > 0:
                await asyncio.sleep(knobs.latency_seconds)
            if self.faults.rate_limited():
                wait = str(knobs.rate_limit_retry_after)
                return _error(
                    429,
                    "too_many_requests",
                    "Request rejected due to rate limiting",
                    {"Retry-After": wait, "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": wait},
                )
            decision = self.limiter.check()
            headers = {
                "X-RateLimit-Limit": decision.header_limit,
                "X-RateLimit-Remaining": str(decision.remaining),
                "X-RateLimit-Reset": str(decision.reset_seconds),
            }
            if not decision.allowed:
                headers["Retry-After"] = str(decision.reset_seconds)
                return _error(
                    429, "too_many_requests", "Request rejected due to rate limiting", headers
                )
            if self.faults.server_error():
                status = knobs.error_status
                return _error(status, "server_error", "Server error occurred", headers)
            member = self._authenticate(request, scope)
            if isinstance(member, Response):
                member.headers.update(headers)
                return member
            response = await handler(request, member)
            response.headers.update(headers)
            if response.status_code == 200 and self.faults.malformed():
                body = bytes(response.body)
                torn = Response(body[: len(body) // 2], media_type="application/json")
                torn.headers.update(headers)
                return torn
            return response

        return endpoint

    def _authenticate(self, request: Request, scope: str | None) -> Member | Response:
        auth = request.headers.get("authorization", "")
        kind, _, token = auth.partition(" ")
        if kind.lower() != "bearer" or not token:
            return _error(401, "unauthorized", "Invalid authorization")
        with self.world.lock:
            grant = self.world.access_tokens.get(token.strip())
            if grant is None or (grant.expires_at and grant.expires_at <= self.world.now()):
                return _error(401, "unauthorized", "Invalid authorization")
            grant.uses += 1
            lifetime = self.faults.faults.token_lifetime_requests
            if lifetime is not None and grant.uses > lifetime:
                del self.world.access_tokens[token.strip()]
                return _error(401, "unauthorized", "Invalid authorization")
            if scope is not None and scope not in grant.scopes:
                return _error(401, "unauthorized", f"The token lacks the {scope} scope")
            member = self.world.members.get(grant.user_id)
        if member is None:
            return _error(401, "unauthorized", "Invalid authorization")
        return member

    # -- OAuth ---------------------------------------------------------------------------
    def _redirect_allowed(self, uri: str) -> bool:
        if self.world.config.redirect_uris:
            return uri in self.world.config.redirect_uris
        parts = urlsplit(uri)
        return bool(parts.scheme and (parts.netloc or parts.scheme not in ("http", "https")))

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        config = self.world.config
        if q.get("client_id") != config.client_id:
            return _error(400, "invalid_client", "Unknown client_id")
        redirect_uri = q.get("redirect_uri", "")
        if not self._redirect_allowed(redirect_uri):
            return _error(400, "invalid_request", "redirect_uri is not registered for this client")

        def back(**params: str) -> Response:
            joiner = "&" if "?" in redirect_uri else "?"
            return RedirectResponse(f"{redirect_uri}{joiner}{urlencode(params)}", status_code=302)

        state = q.get("state", "")
        if q.get("response_type") != "code":
            return back(error="unsupported_response_type", state=state)
        if len(state) < 8:
            return back(
                error="invalid_state",
                error_description="The state is missing or shorter than 8 characters",
                state=state,
            )
        scopes = frozenset(q.get("scope", "").split())
        if not scopes or not scopes <= KNOWN_SCOPES:
            return back(error="invalid_scope", state=state)
        member = self._login(q.get("login_hint"))
        code = self.world.issue_code(
            Grant(member.user_id, scopes, config.client_id, redirect_uri=redirect_uri)
        )
        return back(code=code, scope=" ".join(sorted(scopes)), state=state)

    def _login(self, hint: str | None) -> Member:
        """Who consents: the ``login_hint`` member, else the next queued, else a new member."""
        if hint:
            found = self.world.find_member(hint)
            if found is not None:
                return found
        with self.world.lock:
            while self.world.login_queue:
                member = self.world.members.get(self.world.login_queue.pop(0))
                if member is not None:
                    return member
        return self.world.add_member()

    async def token(self, request: Request) -> Response:
        # The token endpoint takes application/x-www-form-urlencoded, nothing else.
        fields = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        client_id, secret = fields.get("client_id", ""), fields.get("client_secret", "")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return JSONResponse({"error": "invalid_client"}, status_code=401)
        config = self.world.config
        if client_id != config.client_id or not constant_time_equal(secret, config.client_secret):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                status_code=401,
            )
        grant_type = fields.get("grant_type")
        with self.world.lock:
            if grant_type in self.world.token_calls:
                self.world.token_calls[grant_type] += 1
        if grant_type == "authorization_code":
            return self._exchange(fields, client_id)
        if grant_type == "refresh_token":
            body = self.world.rotate(fields.get("refresh_token", ""), client_id)
            if body is None:
                return _invalid_grant("The refresh token is invalid, expired or already used")
            return JSONResponse(body, headers={"Cache-Control": "no-store"})
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)

    def _exchange(self, fields: dict[str, str], client_id: str) -> Response:
        with self.world.lock:
            grant = self.world.codes.get(fields.get("code", ""))
            if grant is None or grant.used or grant.client_id != client_id:
                return _invalid_grant("The authorization code is invalid or already used")
            grant.used = True  # single use, even when the rest of the request is wrong
            if grant.expires_at is not None and grant.expires_at <= self.world.now():
                return _invalid_grant("The authorization code has expired")
            if fields.get("redirect_uri", "") != grant.redirect_uri:
                return _invalid_grant("redirect_uri does not match the authorization request")
            body = self.world.issue_tokens(grant.user_id, grant.scopes, client_id)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    # -- member data ---------------------------------------------------------------------
    async def profile(self, request: Request, member: Member) -> Response:
        return JSONResponse(self.world.render_profile(member))

    async def body(self, request: Request, member: Member) -> Response:
        return JSONResponse(self.world.render_body(member))

    async def revoke(self, request: Request, member: Member) -> Response:
        self.world.revoke_user(member.user_id)
        return Response(status_code=204)

    def _list(self, request: Request, items: list[Item]) -> Response:
        q = request.query_params
        try:
            records, token = page(
                items,
                limit=q.get("limit"),
                start=q.get("start"),
                end=q.get("end"),
                next_token=q.get("nextToken"),
                now=self.world.now(),
            )
        except PageError as exc:
            return _error(400, "bad_request", str(exc))
        body: dict[str, Any] = {"records": records}
        style = self.faults.faults.next_token_style
        if token is not None:
            body["next_token"] = token
        elif style == "null":
            body["next_token"] = None
        elif style == "empty":
            body["next_token"] = ""
        return JSONResponse(body)

    async def list_cycles(self, request: Request, member: Member) -> Response:
        items = [
            Item(c.start, c.end, f"{c.id:020d}", partial(self.world.render_cycle, member, c))
            for c in self.world.cycles(member)
        ]
        return self._list(request, items)

    async def list_sleeps(self, request: Request, member: Member) -> Response:
        items = [
            Item(s.start, s.end, s.id, partial(self.world.render_sleep, member, s))
            for s in self.world.sleeps(member)
        ]
        return self._list(request, items)

    async def list_workouts(self, request: Request, member: Member) -> Response:
        items = [
            Item(w.start, w.end, w.id, partial(self.world.render_workout, member, w))
            for w in self.world.workouts(member)
        ]
        return self._list(request, items)

    async def list_recoveries(self, request: Request, member: Member) -> Response:
        items = [
            Item(
                s.start,
                s.end,
                f"{r.cycle_id:020d}",
                partial(self.world.render_recovery, member, r),
            )
            for r, s in self.world.recoveries(member)
        ]
        return self._list(request, items)

    def _cycle_id(self, request: Request) -> int | Response:
        try:
            return int(request.path_params["cycle_id"])
        except ValueError:
            return _error(400, "bad_request", "cycleId must be an integer")

    async def get_cycle(self, request: Request, member: Member) -> Response:
        cycle_id = self._cycle_id(request)
        if isinstance(cycle_id, Response):
            return cycle_id
        for cycle in self.world.cycles(member):
            if cycle.id == cycle_id:
                return JSONResponse(self.world.render_cycle(member, cycle))
        return _error(404, "not_found", "No resource found")

    async def cycle_sleep(self, request: Request, member: Member) -> Response:
        cycle_id = self._cycle_id(request)
        if isinstance(cycle_id, Response):
            return cycle_id
        for sleep in self.world.sleeps(member):
            if sleep.cycle_id == cycle_id and not sleep.nap:
                return JSONResponse(self.world.render_sleep(member, sleep))
        return _error(404, "not_found", "No resource found")

    async def cycle_recovery(self, request: Request, member: Member) -> Response:
        cycle_id = self._cycle_id(request)
        if isinstance(cycle_id, Response):
            return cycle_id
        for recovery, _sleep in self.world.recoveries(member):
            if recovery.cycle_id == cycle_id:
                return JSONResponse(self.world.render_recovery(member, recovery))
        return _error(404, "not_found", "No resource found")

    @staticmethod
    def _uuid(request: Request, name: str) -> str | Response:
        try:
            return str(uuid.UUID(request.path_params[name]))
        except ValueError:
            return _error(400, "bad_request", f"{name} must be a UUID")

    async def get_sleep(self, request: Request, member: Member) -> Response:
        sleep_id = self._uuid(request, "sleep_id")
        if isinstance(sleep_id, Response):
            return sleep_id
        for sleep in self.world.sleeps(member):
            if sleep.id == sleep_id:
                return JSONResponse(self.world.render_sleep(member, sleep))
        return _error(404, "not_found", "No resource found")

    async def get_workout(self, request: Request, member: Member) -> Response:
        workout_id = self._uuid(request, "workout_id")
        if isinstance(workout_id, Response):
            return workout_id
        for workout in self.world.workouts(member):
            if workout.id == workout_id:
                return JSONResponse(self.world.render_workout(member, workout))
        return _error(404, "not_found", "No resource found")

    async def activity_mapping(self, request: Request, member: Member) -> Response:
        try:
            v1_id = int(request.path_params["v1_id"])
        except ValueError:
            return _error(400, "bad_request", "activityV1Id must be an integer")
        for sleep in self.world.sleeps(member):
            if sleep.v1_id == v1_id:
                return JSONResponse({"v2_activity_id": sleep.id})
        for workout in self.world.workouts(member):
            if workout.v1_id == v1_id:
                return JSONResponse({"v2_activity_id": workout.id})
        return _error(404, "not_found", "No resource found")


def _invalid_grant(description: str) -> Response:
    return JSONResponse(
        {"error": "invalid_grant", "error_description": description}, status_code=400
    )


def dumps_compact(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()
