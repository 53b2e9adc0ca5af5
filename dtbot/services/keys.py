"""API keys: created with a secret shown once, stored as a SHA-256 hash, checked in constant time."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, Literal

from msgspec import Struct
from sqlalchemy import exc, func, select

from dtbot.clock import local, local_or_none, utcnow
from dtbot.errors import CacheUnavailable, InvalidApiKey, InvalidParameter, NotFound
from dtbot.ids import new_id
from dtbot.services.events import CHANNEL, KEYS_CHANGED
from dtbot.store import Database
from dtbot.store.models import ApiKey, Setting

if TYPE_CHECKING:
    from dtbot.cache import Cache

Role = Literal["admin", "user"]
ROLES: tuple[Role, ...] = ("admin", "user")
SECRET_PREFIX = "dtb_"
_AUTH_TTL = 10.0  # seconds a checked key is trusted before the database is asked again
# Refused secrets are remembered too, so that a flood of wrong keys costs no database queries. Safe:
# a refused key never becomes valid (new keys are fresh random secrets, revoked ones stay revoked).
_REFUSED_TTL = 60.0
_REFUSED_MAX = 10_000
_BOOTSTRAP_MARK = "_bootstrap_key"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's id, name and role."""

    key_id: str
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class KeyInfo(Struct, rename="camel", frozen=True, kw_only=True):
    """A key as listed: never its secret."""

    id: str
    name: str
    role: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class CreatedKey(KeyInfo, rename="camel", frozen=True, kw_only=True):
    """A new key with its secret, which exists only in this object."""

    key: str


def hash_secret(secret: str) -> str:
    """The stored form of a secret; the secrets are random enough that a fast hash is safe."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _fields(row: ApiKey, zone: tzinfo) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "role": row.role,
        "prefix": row.key_prefix,
        "created_at": local(row.created_at, zone),
        "last_used_at": local_or_none(row.last_used_at, zone),
        "revoked_at": local_or_none(row.revoked_at, zone),
    }


class KeyService:
    """Create, list, revoke and check API keys."""

    def __init__(self, db: Database, cache: Cache, zone: tzinfo) -> None:
        self._db = db
        self._cache = cache
        self._zone = zone
        self._trusted: dict[str, tuple[Principal, float]] = {}
        self._checking: set[str] = set()
        self._refused: dict[str, float] = {}  # digest -> until when it is refused without asking

    async def create(self, name: str, role: str = "user") -> CreatedKey:
        """A new key; raises `InvalidParameter` for an empty or long name or an unknown role."""
        name = name.strip()
        if not 1 <= len(name) <= 100:
            raise InvalidParameter("参数格式错误: name: must be 1 to 100 characters")
        if role not in ROLES:
            raise InvalidParameter(f"参数格式错误: role: must be one of {', '.join(ROLES)}")
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        row = ApiKey(
            id=new_id("key"),
            name=name,
            role=role,
            key_hash=hash_secret(secret),
            key_prefix=secret[:12],
            created_at=utcnow(),
        )
        async with self._db.session() as session:
            session.add(row)
            await session.commit()
        return CreatedKey(**_fields(row, self._zone), key=secret)

    async def list(self, *, include_revoked: bool = True) -> list[KeyInfo]:
        """Every key, oldest first."""
        query = select(ApiKey).order_by(ApiKey.created_at)
        if not include_revoked:
            query = query.where(ApiKey.revoked_at.is_(None))
        async with self._db.session() as session:
            return [KeyInfo(**_fields(row, self._zone)) for row in await session.scalars(query)]

    async def revoke(self, key_id: str) -> KeyInfo:
        """Revoke a key; with Redis other processes drop it at once, else within ten seconds."""
        async with self._db.session() as session:
            row = await session.get(ApiKey, key_id)
            if row is None:
                raise NotFound(f"API密钥不存在: {key_id}")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                await session.commit()
        self.forget()
        with contextlib.suppress(CacheUnavailable):  # then the others stop trusting it within ten seconds
            await self._cache.publish(CHANNEL, KEYS_CHANGED)
        return KeyInfo(**_fields(row, self._zone))

    def forget(self) -> None:
        """Drop every trusted key so the next request asks the database."""
        self._trusted.clear()

    async def authenticate(self, secret: str | None) -> Principal:
        """The principal for a presented secret; raises `InvalidApiKey` (40001)."""
        if not secret:
            raise InvalidApiKey("API密钥无效: missing Authorization: Bearer <key>")
        digest = hash_secret(secret)
        cached = self._trusted.get(digest)
        now = time.monotonic()
        if self._refused.get(digest, 0.0) > now:
            raise InvalidApiKey()
        if cached is not None and (cached[1] > now or digest in self._checking):
            return cached[0]  # while one request re-checks a known key, the others go on with it
        self._checking.add(digest)
        try:
            return await self._check(digest, now)
        finally:
            self._checking.discard(digest)

    async def _check(self, digest: str, now: float) -> Principal:
        async with self._db.session() as session:
            row = await session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
            if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, digest):
                self._trusted.pop(digest, None)
                self._refuse(digest, now)
                raise InvalidApiKey()
            row.last_used_at = utcnow()
            await session.commit()
        principal = Principal(row.id, row.name, row.role)
        self._trusted[digest] = (principal, now + _AUTH_TTL)
        return principal

    def _refuse(self, digest: str, now: float) -> None:
        if len(self._refused) >= _REFUSED_MAX:
            del self._refused[next(iter(self._refused))]  # the oldest
        self._refused[digest] = now + _REFUSED_TTL

    async def bootstrap(self) -> CreatedKey | None:
        """On a database without keys, create the first admin key, once across replicas."""
        async with self._db.session() as session:
            if await session.scalar(select(func.count()).select_from(ApiKey)):
                return None
            session.add(Setting(key=_BOOTSTRAP_MARK, value=True, updated_at=utcnow()))
            try:
                await session.commit()
            except exc.IntegrityError:
                return None  # another process is creating it
        return await self.create("admin", "admin")
