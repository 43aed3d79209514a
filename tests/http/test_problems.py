"""The HTTP edge: every malformed request is a problem+json 4xx, never a 500."""

import pytest


async def _signin(client, **kwargs):
    return await client.post("/verifier/v1/session", **kwargs)


async def test_wrong_content_type_is_415(client):
    response = await _signin(client, content=b"badge=x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"


async def test_malformed_json_is_400(client):
    response = await _signin(
        client, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["code"] == "malformed_json"


async def test_oversized_body_is_413(client):
    response = await _signin(
        client,
        content=b'{"badge":"' + b"x" * 10_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"


@pytest.mark.parametrize("body", [[], "x", 1, {"badge": None}, {"badge": 1}, {"badge": "b"}])
async def test_wrong_shapes_are_422_without_echoing_values(client, body):
    response = await _signin(client, json=body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_failed" and problem["errors"]
    assert all(set(e) == {"field", "rule", "message"} for e in problem["errors"])


async def test_problem_carries_the_request_id(client):
    response = await _signin(client, json={})
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_every_operation_is_documented(client):
    doc = (await client.get("/openapi.json")).json()
    verifier = (await client.get("/verifier/openapi.json")).json()
    # The console page's own API has its document beside the page.
    console = (await client.get("/console/openapi.json")).json()
    from starlette.routing import Route

    from httpkit.combined import create_app

    documented = {
        (method.upper(), path)
        for d in (doc, verifier, console)
        for path, item in d["paths"].items()
        for method in item
    }
    import re

    for route in create_app().routes:
        if isinstance(route, Route) and route.include_in_schema:
            path = re.sub(r"{(\w+):\w+}", r"{\1}", route.path)
            for method in route.methods - {"HEAD"}:
                assert (method, path) in documented, (method, path)
