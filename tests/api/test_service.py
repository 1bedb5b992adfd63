"""Probes, rules, CORS, security headers and the error envelope's last resorts."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from fastapi.testclient import TestClient

from app.engine.analyzer import Engine
from app.service.factory import create_app
from app.settings import Settings
from tests.fetch.servers import closed_port

EXTENSION = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"


def test_probes(client: TestClient, engine: Engine) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "rules_version": engine.ruleset.version,
        "database": "ok",
    }


def test_not_ready_while_the_database_is_unreachable(
    make_client: Callable[..., TestClient],
) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/test"
    client = make_client(database_url=url, migrate_on_start=False)
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"


def test_the_rule_catalogue(client: TestClient, engine: Engine) -> None:
    body = client.get("/api/v1/rules").json()
    assert body["rules_version"] == engine.ruleset.version
    assert len(body["rules"]) == len(engine.ruleset.rules)
    rule = body["rules"][0]
    assert set(rule) == {
        "id", "title", "category", "polarity", "weight", "status", "explanation", "advice",
        "references",
    }  # fmt: skip
    assert {r["polarity"] for r in body["rules"]} == {"red_flag", "absence", "mitigating"}


def test_security_headers_everywhere(client: TestClient) -> None:
    for path in ("/healthz", "/api/v1/rules", "/api/v1/checks/nope", "/openapi.json"):
        headers = client.get(path).headers
        assert headers["content-security-policy"].startswith("default-src 'self'")
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
    too_big = client.post("/api/v1/checks", content=b"x" * 100_000)
    assert too_big.headers["x-content-type-options"] == "nosniff"


def _preflight(client: TestClient, path: str, origin: str) -> dict[str, str]:
    response = client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-api-key",
        },
    )
    return {"status": str(response.status_code), **response.headers}


def test_cors_extensions_on_analyze_only(make_client: Callable[..., TestClient]) -> None:
    client = make_client(cors_origins=["https://partner.example"])
    analyze = _preflight(client, "/api/v1/analyze", EXTENSION)
    assert analyze["status"] == "200"
    assert analyze["access-control-allow-origin"] == EXTENSION
    assert "x-api-key" in analyze["access-control-allow-headers"].lower()
    firefox = _preflight(client, "/api/v1/analyze", "moz-extension://0d4f-77aa-1234")
    assert firefox["access-control-allow-origin"] == "moz-extension://0d4f-77aa-1234"

    refused = client.options(
        "/api/v1/checks",
        headers={"Origin": EXTENSION, "Access-Control-Request-Method": "POST"},
    )
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert refused.json()["error"]["code"] == "cors_refused"  # the envelope, not plain text
    assert "Disallowed CORS origin" in refused.json()["error"]["message"]
    assert _preflight(client, "/api/v1/analyze", "https://evil.example")["status"] == "400"

    partner = _preflight(client, "/api/v1/checks", "https://partner.example")
    assert partner["access-control-allow-origin"] == "https://partner.example"
    simple = client.post("/api/v1/analyze", json={"text": "x"}, headers={"Origin": EXTENSION})
    assert simple.headers["access-control-allow-origin"] == EXTENSION
    assert "X-RateLimit-Remaining" in simple.headers["access-control-expose-headers"]


def test_unexpected_errors_are_a_generic_500(
    make_settings: Callable[..., Settings], engine: Engine
) -> None:
    app = create_app(make_settings(), engine=engine)
    broken = APIRouter()

    @broken.get("/api/v1/broken")
    def fail() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    app.include_router(broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/broken")
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "internal_error",
            "message": "Something went wrong on our side. It has been logged; please try again "
            "later.",
        }
    }
    assert "secret" not in response.text


def test_other_http_errors_use_the_envelope(client: TestClient) -> None:
    wrong_method = client.delete("/api/v1/rules")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert client.get("/api/v1/nothing-here").json()["error"]["code"] == "not_found"


def test_openapi_documents_examples_and_errors(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert schemas["CheckRequest"]["examples"][0]["url"] == "https://clinic.example"
    assert "examples" in schemas["AnalyzeRequest"]
    check = spec["paths"]["/api/v1/checks"]["post"]["responses"]
    assert {"201", "400", "413", "422", "429", "502", "504"} <= set(check)
    assert check["429"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorBody")
    assert "APIKeyHeader" in spec["components"]["securitySchemes"]
