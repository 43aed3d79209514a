import jsonschema_rs
from redis.asyncio import Redis


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert len(response.headers["x-request-id"]) == 16


async def test_readyz_reports_both_dependencies(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok"}


async def test_readyz_is_503_when_the_cache_is_down(client, rt):
    # Point the runtime at a port where nothing listens: readiness names the cache,
    # liveness is unaffected.
    healthy = rt.cache
    rt.cache = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")
    finally:
        await rt.cache.aclose()
        rt.cache = healthy
    assert alive.status_code == 200
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"].startswith("cache:")


async def test_openapi_documents_served_for_both_apps(client):
    backend = await client.get("/openapi.json")
    verifier = await client.get("/verifier/openapi.json")
    assert backend.status_code == verifier.status_code == 200
    assert backend.json()["openapi"].startswith("3.")
    assert "/healthz" in backend.json()["paths"]
    assert verifier.json()["info"]["title"].endswith("verifier API")


async def test_unknown_path_is_a_problem(client):
    response = await client.get("/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


async def test_wrong_method_is_a_problem(client):
    response = await client.post("/healthz")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


async def test_readyz_503_matches_its_declared_response(client, rt):
    document = (await client.get("/openapi.json")).json()
    healthy = rt.cache
    rt.cache = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        ready = await client.get("/readyz")
    finally:
        await rt.cache.aclose()
        rt.cache = healthy
    assert ready.status_code == 503
    declared = document["paths"]["/readyz"]["get"]["responses"]["503"]["content"]
    media = ready.headers["content-type"].split(";")[0]
    assert media in declared
    schema = {**document, **declared[media]["schema"]}
    validator = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
    assert [e.message for e in validator.iter_errors(ready.json())] == []
