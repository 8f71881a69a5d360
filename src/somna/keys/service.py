"""Creating, listing, rotating and revoking API keys, and authenticating requests by key.

Keys rest only as SHA-256 hashes (a 190-bit random key needs no slow hash); signing secrets
rest encrypted, because checking an HMAC needs the secret itself.
"""

from __future__ import annotations

import ipaddress
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from somna.auth.credentials import KeyCredential
from somna.auth.exceptions import InsufficientPermissions
from somna.auth.principal import Principal
from somna.auth.scopes import parse_grants
from somna.config import Settings
from somna.errors import NotFound, Unprocessable
from somna.keys import format as key_format
from somna.keys.exceptions import InvalidApiKey, KeyInactive
from somna.keys.repository import ApiKeyRepository
from somna.kit.crypto import SecretBox, sha256_hex
from somna.kit.time import utc_now
from somna.models import ApiKey

SIGNING_PURPOSE = "somna.keys.signing.v1"
TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at is written at most this often per key
MAX_GRACE_SECONDS = 2_592_000

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class CreatedKey:
    """A new key: the row plus the plaintext key and signing secret, shown this once."""

    api_key: ApiKey
    key: str
    signing_secret: str


@dataclass(frozen=True)
class KeySnapshot(KeyCredential):
    """What a request needs to know about its key; cached per process for a few seconds."""

    expires_at: datetime | None
    revoked_at: datetime | None
    allowed_networks: tuple[IpNetwork, ...] | None
    package_name: str | None
    events_per_hour: int | None
    signing_secret_encrypted: str

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def allows_address(self, address: str) -> bool:
        if self.allowed_networks is None:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.allowed_networks)


@dataclass
class KeyCache:
    """Key hash -> snapshot for ``ttl`` seconds. Revoking or rotating in this process drops the
    entry at once; other processes see it within ``ttl`` (``SOMNA_API_KEY_CACHE_SECONDS``)."""

    ttl: float
    _entries: dict[str, tuple[float, KeySnapshot]] = field(default_factory=dict)
    _touched: dict[uuid.UUID, datetime] = field(default_factory=dict)

    def get(self, key_hash: str) -> KeySnapshot | None:
        entry = self._entries.get(key_hash)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key_hash: str, snapshot: KeySnapshot) -> None:
        if self.ttl > 0:
            if len(self._entries) > 50_000:
                self._entries.clear()
            self._entries[key_hash] = (time.monotonic() + self.ttl, snapshot)

    def forget(self, key_id: uuid.UUID) -> None:
        for key_hash in [h for h, (_, snap) in self._entries.items() if snap.id == key_id]:
            del self._entries[key_hash]

    def due_for_touch(self, key_id: uuid.UUID, now: datetime) -> bool:
        last = self._touched.get(key_id)
        if last is not None and now - last < TOUCH_INTERVAL:
            return False
        if len(self._touched) > 50_000:
            self._touched.clear()
        self._touched[key_id] = now
        return True


def parse_networks(allowed_ips: Sequence[str] | None) -> tuple[IpNetwork, ...] | None:
    """Addresses or CIDR blocks; ``ValueError`` names the first bad entry."""
    if allowed_ips is None:
        return None
    networks = []
    for item in allowed_ips:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"{item!r} is not an IP address or CIDR block") from exc
    return tuple(networks)


def grants_of(api_key: ApiKey) -> frozenset[str]:
    return parse_grants(list(api_key.permissions), list(api_key.scopes))


def snapshot_of(api_key: ApiKey) -> KeySnapshot:
    return KeySnapshot(
        id=api_key.id,
        organization_id=api_key.organization_id,
        grants=grants_of(api_key),
        rate_limit_per_minute=api_key.rate_limit_per_minute,
        expires_at=api_key.expires_at,
        revoked_at=api_key.revoked_at,
        allowed_networks=parse_networks(api_key.allowed_ips),
        package_name=api_key.package_name,
        events_per_hour=api_key.events_per_hour,
        signing_secret_encrypted=api_key.signing_secret_encrypted,
    )


def is_active(api_key: ApiKey, now: datetime | None = None) -> bool:
    now = now or utc_now()
    return api_key.revoked_at is None and (api_key.expires_at is None or api_key.expires_at > now)


def signing_box(settings: Settings) -> SecretBox:
    return settings.secret_box(SIGNING_PURPOSE)


async def create_api_key(
    session: AsyncSession,
    settings: Settings,
    *,
    organization_id: uuid.UUID,
    name: str,
    permissions: Sequence[str],
    scopes: Sequence[str],
    expires_at: datetime | None = None,
    allowed_ips: Sequence[str] | None = None,
    rate_limit_per_minute: int | None = None,
    package_name: str | None = None,
    events_per_hour: int | None = None,
    created_by_account_id: uuid.UUID | None = None,
    granted_by: Principal | None = None,
) -> CreatedKey:
    """Create a key in ``organization_id``. With ``granted_by``, the key may hold no grant its
    creator lacks. Invalid input raises ``Unprocessable``."""
    try:
        grants = parse_grants(list(permissions), list(scopes))
    except ValueError as exc:
        field = "permissions" if "permissions" in str(exc) else "scopes"
        raise Unprocessable(f"{str(exc).capitalize()}.", field=field) from exc
    try:
        parse_networks(allowed_ips)
    except ValueError as exc:
        raise Unprocessable(f"{str(exc).capitalize()}.", field="allowed_ips") from exc
    if expires_at is not None and expires_at <= utc_now():
        raise Unprocessable("`expires_at` must be in the future.", field="expires_at")
    if granted_by is not None and not grants <= granted_by.grants:
        raise InsufficientPermissions(
            grants - granted_by.grants,
            detail="A key cannot hold grants its creator lacks.",
        )
    key = key_format.generate_key()
    signing_secret = key_format.generate_signing_secret()
    row = ApiKey(
        organization_id=organization_id,
        created_by_account_id=created_by_account_id,
        name=name,
        key_hash=sha256_hex(key),
        prefix=key_format.display_prefix(key),
        last4=key_format.last4(key),
        permissions=list(dict.fromkeys(permissions)),
        scopes=list(dict.fromkeys(scopes)),
        signing_secret_encrypted=signing_box(settings).encrypt(signing_secret),
        allowed_ips=[item.strip() for item in allowed_ips] if allowed_ips is not None else None,
        rate_limit_per_minute=rate_limit_per_minute,
        package_name=package_name,
        events_per_hour=events_per_hour,
        expires_at=expires_at,
        extra={},
    )
    await ApiKeyRepository(session).add(row)
    return CreatedKey(api_key=row, key=key, signing_secret=signing_secret)


async def list_keys(session: AsyncSession, principal: Principal) -> Sequence[ApiKey]:
    return await ApiKeyRepository(session).list_for_organization(principal.organization_id)


async def get_key(session: AsyncSession, principal: Principal, key_id: uuid.UUID) -> ApiKey:
    row = await ApiKeyRepository(session).get_in_organization(principal.organization_id, key_id)
    if row is None:
        raise NotFound("No such API key.")
    return row


async def rotate_key(
    session: AsyncSession,
    settings: Settings,
    cache: KeyCache | None,
    principal: Principal,
    key_id: uuid.UUID,
    grace_seconds: int | None = None,
) -> CreatedKey:
    """Issue a replacement with the same grants; the old key works for ``grace_seconds`` more
    (0: stops at once) but never past its own expiry."""
    old = await get_key(session, principal, key_id)
    now = utc_now()
    if not is_active(old, now) or old.rotated_to_id is not None:
        raise KeyInactive("This key is revoked, expired or already rotated.")
    grace = settings.api_key_rotation_grace_seconds if grace_seconds is None else grace_seconds
    created = await create_api_key(
        session,
        settings,
        organization_id=old.organization_id,
        name=old.name,
        permissions=old.permissions,
        scopes=old.scopes,
        expires_at=old.expires_at,
        allowed_ips=old.allowed_ips,
        rate_limit_per_minute=old.rate_limit_per_minute,
        package_name=old.package_name,
        events_per_hour=old.events_per_hour,
        created_by_account_id=principal.account_id or old.created_by_account_id,
    )
    old.rotated_to_id = created.api_key.id
    if grace == 0:
        old.revoked_at = now
    else:
        ends = now + timedelta(seconds=grace)
        old.expires_at = min(old.expires_at, ends) if old.expires_at else ends
    await session.flush()
    if cache is not None:
        cache.forget(old.id)
    return created


async def revoke_key(
    session: AsyncSession, cache: KeyCache | None, principal: Principal, key_id: uuid.UUID
) -> ApiKey:
    """Revoke at once; revoking a revoked key changes nothing."""
    row = await get_key(session, principal, key_id)
    if row.revoked_at is None:
        row.revoked_at = utc_now()
        await session.flush()
    if cache is not None:
        cache.forget(row.id)
    return row


async def authenticate_key(
    sessionmaker: async_sessionmaker[AsyncSession], cache: KeyCache | None, token: str
) -> KeySnapshot:
    """The key's snapshot: a cache hit or one indexed query. ``invalid_api_key`` when the key
    is malformed, unknown, revoked or expired.

    It runs in short transactions of its own, so that a request pays for the database only on
    a cache miss or when ``last_used_at`` is due (at most once a minute per key).
    """
    key_hash = sha256_hex(token)
    snapshot = cache.get(key_hash) if cache is not None else None
    if snapshot is None:
        # The checksum turns away typos and guesses before they cost a query.
        if not key_format.is_well_formed(token):
            raise InvalidApiKey("The API key is not valid.")
        async with sessionmaker() as session:
            row = await ApiKeyRepository(session).get_by_hash(key_hash)
        if row is None:
            raise InvalidApiKey("The API key is not valid.")
        snapshot = snapshot_of(row)
        if cache is not None:
            cache.put(key_hash, snapshot)
    now = utc_now()
    if not snapshot.is_active(now):
        raise InvalidApiKey("The API key is revoked or expired.")
    if cache is None or cache.due_for_touch(snapshot.id, now):
        async with sessionmaker() as session:
            await ApiKeyRepository(session).touch(snapshot.id, now, now - TOUCH_INTERVAL)
            await session.commit()
    return snapshot
