"""GET /openapi.json: the API described (OpenAPI 3.1), served without credentials, and the
check every other test's responses go through (openapi_check.py)."""

import json

import openapi_check
from run import Client, check, eq, expect, shared


def test_openapi_json_is_served_without_credentials_and_is_the_repository_document():
    d = shared()
    r = expect(Client(d).request("GET", "/openapi.json"), 200)
    eq((r.headers.get("Content-Type") or "").split(";")[0], "application/json",
       "GET /openapi.json Content-Type")
    with open(openapi_check.DOC_PATH, encoding="utf-8") as f:
        eq(r.body, json.load(f), "GET /openapi.json body (web/openapi.json)")
    eq(r.body.get("openapi"), "3.1.0", "openapi version")
    check("no-store" in (r.headers.get("Cache-Control") or ""), "Cache-Control: no-store")
    # a bad key or an ended session changes nothing: the route is public
    r = Client(d, key="apk_not-a-key").request("GET", "/openapi.json")
    expect(r, 200, what="GET /openapi.json with a bad key")
    expect(Client(d).request("HEAD", "/openapi.json"), 200, what="HEAD /openapi.json")
    expect(Client(d).request("POST", "/openapi.json", json={}), 405, "method-not-allowed")


def test_openapi_check_refuses_what_the_document_does_not_say():
    # the check the whole suite relies on fails on an undocumented status, route, media type
    # or body (so a response that drifts from the document fails its test)
    problem = json.dumps({"type": "urn:apikeyd:problem:conflict", "title": "Conflict",
                          "status": 409, "detail": "x"}).encode()
    wrong = [("GET", "/v1/keys", 418, "application/json", b"{}", "status 418"),
             ("GET", "/v1/no-such", 200, "application/json", b"{}", "status 200"),
             ("GET", "/v1/keys", 200, "text/plain", b"{}", "Content-Type"),
             ("GET", "/v1/keys", 200, "application/json", b'{"keys":[{"id":"x"}]}', "keys/0"),
             ("DELETE", "/v1/keys/abc", 204, None, b"{}", "no body"),
             ("GET", "/v1/keys", 401, "application/problem+json",
              problem.replace(b"409", b"401"), "type")]
    if not openapi_check.ENABLED:
        return
    for method, path, status, ctype, raw, says in wrong:
        try:
            openapi_check.check(method, path, status, ctype, raw)
        except AssertionError as e:
            check(says in str(e), f"{method} {path} {status}: the refusal should mention "
                                  f"{says!r}: {e}")
            continue
        raise AssertionError(f"openapi_check accepted {method} {path} -> {status} {raw!r}")
