"""Every response the HTTP tests receive, checked against the OpenAPI document
(web/openapi.json, the one apikeyd serves at /openapi.json).

check(method, path, status, content_type, raw) raises AssertionError when the route (method
and path template) is not in the document, the status is not one of the operation's
responses (nor of `x-any-request`, the answers given before a route is chosen), the content
type is not one the response lists, or the body does not match its schema. JSON Schema
validation is Debian's python3-jsonschema (Draft 2020-12, as OpenAPI 3.1 uses); a validator
is compiled once per operation, status and media type.

Set APIKEYD_OPENAPI_CHECK=0 to switch the check off (for a look at a failure without it).
"""

import json
import os
import re
import sys
import time

try:
    import jsonschema
except ImportError:                      # a python3 other than Debian's: use Debian's package
    sys.path.append("/usr/lib/python3/dist-packages")
    import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
DOC_PATH = os.path.join(os.path.dirname(os.path.dirname(HERE)), "web", "openapi.json")
ENABLED = os.environ.get("APIKEYD_OPENAPI_CHECK", "1") != "0"
METHODS = ("get", "put", "post", "delete", "patch")

_doc = None
_routes = []          # (regex, template, path item)
_validators = {}      # (template, method, status, media type) -> validator
checked = [0, 0.0]    # responses checked and the seconds it took, for the summary


def _load():
    global _doc
    if _doc is not None:
        return _doc
    with open(DOC_PATH, encoding="utf-8") as f:
        _doc = json.load(f)
    for template, item in _doc["paths"].items():
        rx = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        _routes.append((re.compile(rx), template, item))
    return _doc


def _media(ctype):
    return (ctype or "").split(";")[0].strip().lower()


def _inline(schema, depth=0):
    """schema with every local $ref replaced by what it names (the document has no cycles),
    so validation follows no references: several times faster."""
    if depth > 32:
        raise AssertionError("OpenAPI: $ref nesting deeper than 32 (a cycle?)")
    if isinstance(schema, list):
        return [_inline(x, depth) for x in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        target = _doc
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        inner = _inline(target, depth + 1)
        return {"allOf": [inner, _inline(rest, depth)]} if rest else inner
    return {k: _inline(v, depth) for k, v in schema.items()}


def _validator(key, schema):
    v = _validators.get(key)
    if v is None:
        v = jsonschema.Draft202012Validator(_inline(schema))
        _validators[key] = v
    return v


def check(method, path, status, content_type, raw):
    """Raises AssertionError when the response is not what the document says."""
    if not ENABLED:
        return
    started = time.perf_counter()
    try:
        _check(method, path, status, content_type, raw)
    finally:
        checked[1] += time.perf_counter() - started


def _check(method, path, status, content_type, raw):
    doc = _load()
    method = method.upper()
    head = method == "HEAD"
    verb = "get" if head else method.lower()
    bare = path.split("?", 1)[0]
    label = f"{method} {path[:80]} -> {status}"
    template, operation, other_methods = None, None, False
    # as the daemon's router: of the templates a path matches, those with the fewest {}
    # segments are the path's (/v1/keys/revoke is not /v1/keys/{id})
    matching = [(t.count("{"), rx, t, item) for rx, t, item in _routes if rx.match(bare)]
    fewest = min((m[0] for m in matching), default=0)
    for _, rx, t, item in (m for m in matching if m[0] == fewest):
        if rx.match(bare):
            if verb in item:
                template, operation = t, item[verb]
                break
            other_methods = other_methods or any(m in item for m in METHODS)
    response = None
    if operation is not None:
        response = operation["responses"].get(str(status))
    if response is None:
        response = doc["x-any-request"]["responses"].get(str(status))
        if response is not None and status == 405 and operation is not None:
            response = None          # the route takes this method
        if response is not None and status == 404 and operation is None and other_methods:
            response = None          # the path exists: another method is 405, not 404
    if response is None:
        where = f"operation {verb} {template}" if operation is not None else \
            "no operation (and not an answer x-any-request lists)"
        raise AssertionError(f"OpenAPI: {label}: status {status} is not documented for {where}")
    if "$ref" in response:
        response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    content = response.get("content") or {}
    checked[0] += 1
    if head:
        return
    if not content:
        if raw:
            raise AssertionError(f"OpenAPI: {label}: the document gives no body, got "
                                 f"{raw[:120]!r}")
        return
    media = _media(content_type)
    if media not in {_media(k) for k in content}:
        raise AssertionError(f"OpenAPI: {label}: Content-Type {content_type!r} is not one of "
                             f"{sorted(content)}")
    key = (template, verb, status, media)
    schema = next(v.get("schema") for k, v in content.items() if _media(k) == media)
    if not schema or not media.endswith("json"):
        return
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise AssertionError(f"OpenAPI: {label}: {media} body is not JSON: {raw[:120]!r}")
    error = jsonschema.exceptions.best_match(_validator(key, schema).iter_errors(body))
    if error is not None:
        at = "/".join(str(p) for p in error.absolute_path) or "(the body)"
        raise AssertionError(f"OpenAPI: {label}: body at {at}: {error.message[:300]}")
