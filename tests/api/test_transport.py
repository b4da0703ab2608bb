"""HTTPS only, security headers, CORS allow-list, health, metrics and OpenAPI."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.clients import Api, World
from tests.support.server import TEST_ENV, RunningServer, free_port


async def test_plain_http_only_redirects_to_https(server: RunningServer) -> None:
    async with httpx.AsyncClient() as plain:
        response = await plain.get(f"http://127.0.0.1:{server.http_port}/api/v1/directory/orgs?q=a")
    assert response.status_code == 308
    assert (
        response.headers["location"]
        == f"https://localhost:{server.https_port}/api/v1/directory/orgs?q=a"
    )
    assert response.content == b""


async def test_a_redirected_path_may_hold_any_character(server: RunningServer) -> None:
    """Issue 9, item 12: a snowman in the path was a 500 on the redirect port."""
    async with httpx.AsyncClient() as plain:
        response = await plain.get(f"http://127.0.0.1:{server.http_port}/%E2%98%83?x=%E2%98%83")
    assert response.status_code == 308
    assert response.headers["location"] == (
        f"https://localhost:{server.https_port}/%E2%98%83?x=%E2%98%83"
    )


async def test_metrics_on_their_own_loopback_port(
    spawn_server: Callable[..., RunningServer],
) -> None:
    port = free_port()
    node = spawn_server({"RAASEL_METRICS_PORT": str(port), "RAASEL_METRICS_TOKEN": ""})
    async with httpx.AsyncClient() as plain:
        scraped = await plain.get(f"http://127.0.0.1:{port}/metrics")
        other = await plain.get(f"http://127.0.0.1:{port}/api/v1/me")
    assert scraped.status_code == 200 and "raasel_socket_connections" in scraped.text
    assert other.status_code == 404
    api = Api(node)
    try:
        assert (await api.http.get("/metrics")).status_code == 404, "no token: never public"
    finally:
        await api.close()


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
    # Not for the public: the unknown path's 404 without the scraper's token.
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eDp5"}):
        hidden = await api.http.get("/metrics", headers=headers)
        assert hidden.status_code == 404 and "raasel_" not in hidden.text
    metrics = await api.http.get(
        "/metrics", headers={"Authorization": f"Bearer {TEST_ENV['RAASEL_METRICS_TOKEN']}"}
    )
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
        # Engine.IO: the listed origin and the server's own are accepted (item 6: setting
        # the list used to refuse the web app itself), any other is refused.
        own = f"https://localhost:{node.https_port}"
        handshakes = {
            origin: (
                await api.http.get(
                    "/socket.io/",
                    params={"EIO": "4", "transport": "polling"},
                    headers={"Origin": origin},
                )
            ).status_code
            for origin in (own, "https://shop.example", "https://evil.example")
        }
        assert handshakes == {own: 200, "https://shop.example": 200, "https://evil.example": 400}
    finally:
        await api.close()
