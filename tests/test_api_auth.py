"""Authentication, roles, the error envelope and request ids, through real HTTP on both backends."""

from __future__ import annotations

import re

import httpx

from tests.conftest import run_on
from tests.support.servers import Server

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def assert_error(response: httpx.Response, status: int, code: int) -> dict:
    """The response is the document's error envelope with this status and business code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert body["data"] is None
    assert body["message"]
    assert ISO_WITH_OFFSET.match(body["timestamp"])
    assert body["requestId"] == response.headers["x-request-id"]
    assert body["error"] == {"message": body["message"], "type": body["error"]["type"], "code": code}
    return body


def test_missing_key_is_401_with_code_40001(server: Server) -> None:
    with httpx.Client(base_url=server.base) as anonymous:
        assert_error(anonymous.get("/stats"), 401, 40001)


def test_wrong_key_is_401(server: Server) -> None:
    with server.client("dtb_" + "x" * 43) as wrong:
        assert_error(wrong.get("/config"), 401, 40001)


def test_non_bearer_scheme_is_401(server: Server) -> None:
    with httpx.Client(base_url=server.base, headers={"Authorization": f"Basic {server.admin_key}"}) as client:
        assert_error(client.get("/config"), 401, 40001)


def test_user_key_gets_403_on_admin_routes(server: Server) -> None:
    with server.client() as admin:
        user_key = admin.post("/keys", json={"name": "app", "role": "user"}).json()["data"]["key"]
    with server.client(user_key) as user:
        for method, path in [("GET", "/stats"), ("GET", "/config"), ("PUT", "/config"), ("GET", "/keys")]:
            body = assert_error(user.request(method, path, json={"rateLimitPerMinute": 5}), 403, 40301)
            assert body["error"]["type"] == "permission_error"


def test_revoked_key_is_refused(server: Server) -> None:
    with server.client() as admin:
        created = admin.post("/keys", json={"name": "temp", "role": "admin"}).json()["data"]
        with server.client(created["key"]) as temp:
            assert temp.get("/config").status_code == 200
            assert admin.delete(f"/keys/{created['id']}").json()["data"]["revokedAt"]
            assert_error(temp.get("/config"), 401, 40001)


def test_keys_are_stored_as_hashes_only(server: Server) -> None:
    with server.client() as admin:
        created = admin.post("/keys", json={"name": "hashed"}).json()["data"]
        listed = admin.get("/keys").json()["data"]["keys"]
    assert created["role"] == "user"
    assert created["key"] not in str(listed)
    stored = run_on(server.backend, lambda rt: rt.keys.list())
    assert created["key"] not in repr(stored)
    assert any(key.id == created["id"] and key.prefix == created["key"][:12] for key in stored)


def test_key_creation_validates_role_and_name(server: Server) -> None:
    with server.client() as admin:
        assert "role" in assert_error(admin.post("/keys", json={"name": "x", "role": "root"}), 400, 40003)["message"]
        assert "name" in assert_error(admin.post("/keys", json={"name": "  "}), 400, 40003)["message"]
        assert_error(admin.post("/keys", json=["not", "an", "object"]), 400, 40003)
        assert_error(admin.delete("/keys/key_missing"), 404, 40401)


def test_request_id_is_echoed_or_generated(server: Server) -> None:
    with server.client() as admin:
        echoed = admin.get("/config", headers={"X-Request-ID": "trace-42"})
        generated = admin.get("/config")
        hostile = admin.get("/nowhere", headers={"X-Request-ID": "<script>"})
    assert echoed.headers["x-request-id"] == "trace-42"
    assert generated.headers["x-request-id"].startswith("req_")
    assert hostile.headers["x-request-id"].startswith("req_")
    assert_error(hostile, 404, 40401)


def test_openapi_schema_and_docs_need_no_key(server: Server) -> None:
    with httpx.Client(base_url=server.base) as anonymous:
        schema = anonymous.get("/schema/openapi.json")
        docs = anonymous.get("/schema/swagger")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/health", "/api/stats", "/api/config", "/api/keys"} <= set(paths)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_first_start_prints_an_admin_key_once(server: Server) -> None:
    assert server.admin_key is not None
    assert "dtbot keys create" in server.output()
    with server.client() as admin:
        keys = admin.get("/keys").json()["data"]["keys"]
    assert keys[0]["role"] == "admin" and keys[0]["name"] == "admin"
