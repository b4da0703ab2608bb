"""HTTPS only, security headers, CORS allow-list, health, metrics and OpenAPI."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.clients import Api, World
from tests.support.server import RunningServer


async def test_plain_http_only_redirects_to_https(server: RunningServer) -> None:
    async with httpx.AsyncClient() as plain:
        response = await plain.get(f"http://127.0.0.1:{server.http_port}/api/v1/directory/orgs?q=a")
    assert response.status_code == 308
    assert (
        response.headers["location"]
        == f"https://localhost:{server.https_port}/api/v1/directory/orgs?q=a"
    )
    assert response.content == b""


async def test_security_headers_on_every_response(world: World) -> None:
    for path in ["/healthz", "/api/v1/directory/orgs", "/api/v1/conversations", "/nope"]:
        response = await world.anonymous.http.get(path)
        assert response.headers["strict-transport-security"].startswith("max-age=")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"


async def test_health_readiness_metrics_and_openapi(world: World) -> None:
    api = world.anonymous
    assert (await api.get("/healthz")) == {"status": "ok"}
    assert (await api.get("/readyz")) == {"status": "ok"}
    metrics = await api.http.get("/metrics")
    assert "raasel_socket_connections" in metrics.text
    spec = await api.get("/openapi.json")
    assert "/api/v1/conversations/{conversation_id}/messages" in spec["paths"]
    errors = await api.get("/nope", expect=404)
    assert errors == {"error": {"code": "not_found", "message": "Not Found"}}


async def test_cors_allows_only_listed_origins(spawn_server: Callable[..., RunningServer]) -> None:
    node = spawn_server({"RAASEL_CORS_ORIGINS": '["https://shop.example"]'})
    api = Api(node)
    try:
        headers = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        }
        good = await api.http.options(
            "/api/v1/auth/login", headers=headers | {"Origin": "https://shop.example"}
        )
        bad = await api.http.options(
            "/api/v1/auth/login", headers=headers | {"Origin": "https://evil.example"}
        )
        assert good.headers.get("access-control-allow-origin") == "https://shop.example"
        assert "access-control-allow-origin" not in bad.headers
    finally:
        await api.close()
