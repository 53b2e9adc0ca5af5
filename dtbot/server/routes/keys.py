"""`/keys`: API key management for admins."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from msgspec import Struct

from dtbot.server.auth import admin_only
from dtbot.server.envelope import Envelope, ok
from dtbot.services.keys import CreatedKey, KeyInfo
from dtbot.services.runtime import Runtime


class KeyList(Struct):
    keys: list[KeyInfo]


class KeyIn(Struct):
    name: str
    role: str = "user"


class KeysController(Controller):
    path = "/keys"
    guards = [admin_only]  # noqa: RUF012
    tags = ["keys"]  # noqa: RUF012

    @get("/", summary="List API keys (never their secrets)")
    async def list_keys(self, runtime: Runtime) -> Envelope[KeyList]:
        return ok(KeyList(await runtime.keys.list()))

    @post("/", status_code=200, summary="Create an API key; the secret is in this answer only")
    async def create_key(self, runtime: Runtime, data: KeyIn) -> Envelope[CreatedKey]:
        return ok(await runtime.keys.create(data.name, data.role), "API密钥创建成功")

    @delete("/{key_id:str}", status_code=200, summary="Revoke an API key")
    async def revoke_key(self, runtime: Runtime, key_id: str) -> Envelope[KeyInfo]:
        return ok(await runtime.keys.revoke(key_id), "API密钥已吊销")
