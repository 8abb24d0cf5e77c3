"""The OpenAPI schema documents how the staff API authenticates: a bearer scheme, required
by every /api operation except signing in."""


def test_every_api_operation_but_sign_in_declares_the_bearer_scheme(client):
    schema = client.get("/schema/openapi.json").json()
    assert schema["components"]["securitySchemes"]["BearerToken"] | {"description": "", "bearerFormat": ""} == {
        "type": "http", "scheme": "bearer", "description": "", "bearerFormat": ""}
    ops = [(path, method, op) for path, item in schema["paths"].items() if path.startswith("/api")
           for method, op in item.items() if method in ("get", "post", "put", "delete")]
    assert len(ops) > 20
    for path, method, op in ops:
        expected = None if (path, method) == ("/api/session", "post") else [{"BearerToken": []}]
        assert op.get("security") == expected, (path, method)
    assert all("security" not in op for path, item in schema["paths"].items() if path.startswith("/v1") for op in item.values())
