"""Leaked keys (issue 17, item 4): GitHub's secret scanning partner endpoint
(POST /v1/leaks/github) and revocation by anyone holding a key (POST /v1/keys/revoke).

GitHub's reports are signed here with throwaway ECDSA P-256 keys made by the `openssl`
command line (ensure-deps' test list has it), in the payload shape of GitHub's documentation;
the daemon reads their public halves from a github_scanning_keys_file written like GitHub's
/meta/public_keys/secret_scanning. Most tests share one daemon and keep out of each other's
way with their own keys and, for the per-client throttle, their own client address (the test
talks from 127.0.0.1, a trusted proxy, so X-Real-IP names the client).
"""
import base64
import hashlib
import json as jsonlib
import os
import sqlite3
import subprocess
import tempfile
import time

from run import (_TMPDIRS, Client, Daemon, check, check_settings_refused_at_start, create_key,
                 eq, expect, forge_key, iso, shared, snippet, uniq, verify)

KID = hashlib.sha256(b"apikeyd test current key").hexdigest()   # GitHub's ids: 64 hex
KID_OLD = hashlib.sha256(b"apikeyd test older key").hexdigest()  # listed, is_current false
KID_P384 = "p384-not-for-github"                                 # skipped at start
REVOKE_MAX = 3                                                   # requests per client
_STATE = {}


def _openssl(*args, data=None):
    out = subprocess.run(["openssl", *args], input=data, capture_output=True, timeout=30)
    check(out.returncode == 0, f"openssl {args[0]} failed: {out.stderr[-300:]!r}")
    return out.stdout


def _keypair(d, name, curve="prime256v1"):
    """A new EC private key file and its public key in PEM (SubjectPublicKeyInfo)."""
    path = os.path.join(d, name + ".pem")
    _openssl("ecparam", "-name", curve, "-genkey", "-noout", "-out", path)
    return path, _openssl("ec", "-in", path, "-pubout").decode()


def _keys():
    """The throwaway keys (made once): current, older, a P-384 one and one not in the file."""
    if "keys_file" not in _STATE:
        d = tempfile.mkdtemp(prefix="apikeyd-test-github-keys-")
        _TMPDIRS.append(d)
        cur, cur_pub = _keypair(d, "current")
        old, old_pub = _keypair(d, "older")
        _, p384_pub = _keypair(d, "p384", "secp384r1")
        stranger, _ = _keypair(d, "stranger")
        doc = {"public_keys": [
            {"key_identifier": KID, "key": cur_pub, "is_current": True},
            {"key_identifier": KID_OLD, "key": old_pub, "is_current": False},
            {"key_identifier": KID_P384, "key": p384_pub, "is_current": False}]}
        path = os.path.join(d, "secret_scanning.json")
        with open(path, "w") as f:
            jsonlib.dump(doc, f)
        _STATE.update(dir=d, keys_file=path, priv={KID: cur, KID_OLD: old, "stranger": stranger})
    return _STATE


def _sign(body, which=KID):
    """Base64 of the DER ECDSA-SHA256 signature of body by the named private key."""
    der = _openssl("dgst", "-sha256", "-sign", _keys()["priv"][which], data=body)
    return base64.b64encode(der).decode()


def _daemon():
    """The suite's daemon: GitHub's keys configured, a low revocation allowance."""
    d = _STATE.get("daemon")
    if d is None or d.proc is None:
        d = Daemon("leaks", env={"APIKEYD_GITHUB_SCANNING_KEYS_FILE": _keys()["keys_file"],
                                 "APIKEYD_REVOKE_MAX_REQUESTS": str(REVOKE_MAX),
                                 "APIKEYD_VERIFY_MAX_FAILURES": "1000000"}).start()
        _STATE["daemon"] = d
    return d


def _client_ip():
    """An address of its own, for one test's share of the per-client revocation allowance."""
    return "10.%d.%d.%d" % tuple(os.urandom(3))


def _report(key=None, url=None, source="content", type_="apikeyd_api_key"):
    entry = {"token": key or forge_key(), "type": type_,
             "url": url or f"https://github.com/octocat/Hello-World/blob/{os.urandom(20).hex()}"
                           "/config.env"}
    if source is not None:
        entry["source"] = source
    return entry


def _post_report(d, body, kid=KID, signer=None, signature=None, headers=None):
    """POST a report (a list, or raw bytes) to d, signed by signer (default: kid's key)."""
    raw = body if isinstance(body, bytes) else jsonlib.dumps(body).encode()
    h = {"Github-Public-Key-Identifier": kid,
         "Github-Public-Key-Signature": signature or _sign(raw, signer or kid)}
    h.update(headers or {})
    return Client(d).request("POST", "/v1/leaks/github", raw_body=raw, headers=h)


def _token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _revoke(d, keys, client=None, **kw):
    return Client(d).request("POST", "/v1/keys/revoke", json={"keys": keys},
                             headers={"X-Real-IP": client or _client_ip()}, **kw)


def _poll(fn, until, timeout):
    deadline = time.monotonic() + timeout
    while True:
        r = fn()
        if until(r) or time.monotonic() > deadline:
            return r
        time.sleep(0.02)


def _code(d, key):
    return verify(d, key).get("code")


def _leak_events(d, key_id):
    r = expect(d.admin.request("GET", f"/v1/audit?action=key.leaked&target={key_id}"), 200)
    return r.body["events"]


# --------------------------------------------------------------------------- GitHub

def test_leaked_github_report_revokes_a_live_key_at_once_and_labels_it_true_positive():
    d = _daemon()
    k = create_key(d.admin, name=uniq("gh-leak"))
    entry = _report(k["key"], source="commit")
    r = expect(_post_report(d, [entry]), 200, what="a signed report of a live key")
    eq(r.body, [{"token_hash": _token_hash(k["key"]), "token_type": "apikeyd_api_key",
                 "label": "true_positive"}], "GitHub's answer")
    eq(_code(d, k["key"]), "NOT_FOUND", "the reported key right after the answer")
    expect(d.admin.request("GET", f"/v1/keys/{k['id']}"), 404, what="the key is deleted")
    events = _leak_events(d, k["id"])
    eq(len(events), 1, "key.leaked events for the key")
    ev = events[0]
    eq((ev["actor"], ev["target_type"], ev["target"]), ("(github)", "key", k["id"]), "the event")
    for part in (k["name"], "owner user:admin", "source commit", entry["url"][:80]):
        check(part in ev["detail"], f"audit detail {ev['detail']!r} should name {part!r}")
    check(k["key"] not in jsonlib.dumps(events), "the audit trail holds no secret")


def test_leaked_github_report_signed_by_a_listed_older_key_is_accepted():
    d = _daemon()
    k = create_key(d.admin, name=uniq("gh-old"))
    r = expect(_post_report(d, [_report(k["key"])], kid=KID_OLD), 200, what="older key's report")
    eq(r.body[0]["label"], "true_positive", "label")
    eq(_code(d, k["key"]), "NOT_FOUND", "revoked")


def test_leaked_github_false_positives_are_labelled_so_in_order_and_duplicates_agree():
    d = _daemon()
    k = create_key(d.admin, name=uniq("gh-mixed"))
    keep = create_key(d.admin, name=uniq("gh-keep"))
    forged, junk = forge_key(), "ghp_" + os.urandom(18).hex()
    entries = [_report(forged), _report(k["key"]), _report(junk, source=None),
               _report(k["key"], type_="another_type")]
    r = expect(_post_report(d, entries), 200, what="a mixed report")
    eq([(x["token_hash"], x["token_type"], x["label"]) for x in r.body],
       [(_token_hash(forged), "apikeyd_api_key", "false_positive"),
        (_token_hash(k["key"]), "apikeyd_api_key", "true_positive"),
        (_token_hash(junk), "apikeyd_api_key", "false_positive"),
        (_token_hash(k["key"]), "another_type", "true_positive")], "labels by token_hash")
    eq(_code(d, k["key"]), "NOT_FOUND", "the reported key")
    eq(_code(d, keep["key"]), "VALID", "a key nobody reported")
    eq(len(_leak_events(d, k["id"])), 1, "one key.leaked event for a key named twice")
    again = expect(_post_report(d, [_report(k["key"])]), 200, what="the same key reported again")
    eq(again.body[0]["label"], "false_positive", "a key already revoked is no longer apikeyd's")


def test_leaked_github_expired_key_is_a_true_positive_left_as_it_is():
    d = _daemon()
    k = create_key(d.admin, name=uniq("gh-expired"), expires_at=iso(time.time() + 3))
    eq(_poll(lambda: _code(d, k["key"]), lambda c: c == "EXPIRED", 5.0), "EXPIRED",
       "the key once its expiry has passed")
    r = expect(_post_report(d, [_report(k["key"])]), 200, what="a report of an expired key")
    eq(r.body[0]["label"], "true_positive", "an expired key is still apikeyd's")
    expect(d.admin.request("GET", f"/v1/keys/{k['id']}"), 200, what="the expired key is kept")
    eq(_leak_events(d, k["id"]), [], "nothing revoked, nothing audited")


def _refused_report(r, what):
    expect(r, 401, "unauthenticated", what=what)


def test_leaked_github_refuses_unsigned_wrongly_signed_unknown_key_and_tampered_reports():
    d = _daemon()
    k = create_key(d.admin, name=uniq("gh-refused"))
    body = jsonlib.dumps([_report(k["key"])]).encode()
    sig = _sign(body)
    cases = [
        ("no signature headers", {"Github-Public-Key-Identifier": None,
                                  "Github-Public-Key-Signature": None}),
        ("no signature header", {"Github-Public-Key-Signature": None}),
        ("no identifier header", {"Github-Public-Key-Identifier": None}),
        ("empty signature", {"Github-Public-Key-Signature": ""}),
        ("signature by a key not in the file", {"Github-Public-Key-Signature":
                                                _sign(body, "stranger")}),
        ("signature by another listed key", {"Github-Public-Key-Identifier": KID_OLD}),
        ("unknown key identifier", {"Github-Public-Key-Identifier": "f" * 64}),
        ("the P-384 key skipped at start", {"Github-Public-Key-Identifier": KID_P384}),
        ("signature not base64", {"Github-Public-Key-Signature": "not*base64!"}),
        ("signature of random bytes", {"Github-Public-Key-Signature":
                                       base64.b64encode(os.urandom(70)).decode()}),
        ("oversized signature", {"Github-Public-Key-Signature": "A" * 4000}),
        ("oversized identifier", {"Github-Public-Key-Identifier": "a" * 4000}),
    ]
    # each refusal from a client of its own: refused reports count against their client
    # (revoke_max_requests of them, then 429: suite_attack_lifecycle.py)
    for what, headers in cases:
        _refused_report(_post_report(d, body, signature=sig,
                                     headers=dict(headers, **{"X-Real-IP": _client_ip()})), what)
    tampered = body.replace(b'"content"', b'"c0ntent"')
    check(tampered != body, "the tampered body differs")
    _refused_report(_post_report(d, tampered, signature=sig, headers={"X-Real-IP": _client_ip()}),
                    "a body changed after signing")
    _refused_report(_post_report(d, body + b" ", signature=sig,
                                 headers={"X-Real-IP": _client_ip()}), "a byte appended")
    eq(_code(d, k["key"]), "VALID", "no refused report revoked the key")
    eq(_leak_events(d, k["id"]), [], "no key.leaked event from a refused report")


def test_leaked_github_signed_but_malformed_reports_are_4xx_and_revoke_nothing():
    d = _daemon()
    k = create_key(d.admin, name=uniq("gh-bad"))
    good = _report(k["key"])
    cases = [
        (jsonlib.dumps({"token": k["key"]}).encode(), 400, "malformed-json", "an object"),
        (b"[" + jsonlib.dumps(good).encode(), 400, "malformed-json", "truncated JSON"),
        (b'[{"token":"a","token":"b","type":"t"}]', 400, "malformed-json", "a repeated member"),
        (jsonlib.dumps([good] + [{"token": "t", "type": "t"}] * 1000).encode(), 422,
         "validation-failed", "1001 tokens"),
        (jsonlib.dumps([good, {"type": "t"}]).encode(), 422, "validation-failed",
         "an entry without token"),
        (jsonlib.dumps([good, _report("x" * 1025)]).encode(), 422, "validation-failed",
         "a 1025-byte token"),
        (jsonlib.dumps([good, dict(good, type=7)]).encode(), 422, "validation-failed",
         "a type that is no string"),
        (jsonlib.dumps([good, dict(good, url="u" * 2049)]).encode(), 422, "validation-failed",
         "a 2049-byte url"),
        (jsonlib.dumps([good, dict(good, source="a\nb")]).encode(), 422, "validation-failed",
         "a source with a line break"),
        (jsonlib.dumps([good, dict(good, token="a\u0000b")]).encode(), 400,
         "malformed-json", "a token with NUL (jansson refuses it)"),
        (jsonlib.dumps([good, "apk_x"]).encode(), 422, "validation-failed", "a string entry"),
    ]
    for body, status, ptype, what in cases:
        check(len(body) <= 64 * 1024, f"{what}: the case must fit the 64 KiB body limit")
        expect(_post_report(d, body), status, ptype, what=what)
    r = _post_report(d, jsonlib.dumps([good]).encode(), headers={"Content-Type": "text/plain"})
    expect(r, 415, "unsupported-media-type", what="a signed report as text/plain")
    big = jsonlib.dumps([good, _report("y" * 70000)]).encode()
    expect(Client(d).raw_request("POST", "/v1/leaks/github", body=big,
                                 headers={"Github-Public-Key-Identifier": KID,
                                          "Github-Public-Key-Signature": _sign(big)}),
           413, "body-too-large", what="a report over 64 KiB")
    eq(_code(d, k["key"]), "VALID", "no refused report revoked the key")
    eq(_leak_events(d, k["id"]), [], "no key.leaked event")
    r = expect(_post_report(d, b"[]"), 200, what="an empty report")
    eq(r.body, [], "the answer to an empty report")


def test_leaked_github_unknown_fields_of_an_entry_are_ignored():
    d = _daemon()
    k = create_key(d.admin, name=uniq("gh-extra"))
    entry = dict(_report(k["key"]), some_future_field={"a": 1})
    r = expect(_post_report(d, [entry]), 200, what="an entry with a member GitHub may add")
    eq(r.body[0]["label"], "true_positive", "label")


def test_leaked_github_endpoint_is_404_without_a_keys_file():
    d = shared()
    body = jsonlib.dumps([_report()]).encode()
    r = _post_report(d, body)
    expect(r, 404, "not-found", what="POST /v1/leaks/github with no keys file")
    unknown = Client(d).request("POST", "/v1/leaks/nothing-here", raw_body=body)
    without_instance = lambda b: {k: v for k, v in b.items() if k != "instance"}  # per request
    eq(without_instance(r.body), without_instance(unknown.body),
       "the same problem as for a path that does not exist")
    r = Client(_daemon()).request("GET", "/v1/leaks/github")
    expect(r, 405, "method-not-allowed", what="GET /v1/leaks/github")
    eq(r.headers.get("Allow"), "POST", "Allow")


def test_leaked_github_keys_file_problems_refuse_start():
    d = tempfile.mkdtemp(prefix="apikeyd-test-bad-github-keys-")
    _TMPDIRS.append(d)

    def write(name, text):
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(text)
        return p
    _, p384_pub = _keypair(d, "only-p384", "secp384r1")
    check_settings_refused_at_start([
        ("APIKEYD_GITHUB_SCANNING_KEYS_FILE", os.path.join(d, "missing.json")),
        ("APIKEYD_GITHUB_SCANNING_KEYS_FILE", write("not-json.json", "public_keys = []")),
        ("APIKEYD_GITHUB_SCANNING_KEYS_FILE", write("no-list.json", '{"public_keys": {}}')),
        ("APIKEYD_GITHUB_SCANNING_KEYS_FILE", write("empty.json", '{"public_keys": []}')),
        ("APIKEYD_GITHUB_SCANNING_KEYS_FILE", write("no-id.json", jsonlib.dumps(
            {"public_keys": [{"key": p384_pub}]}))),
        ("APIKEYD_GITHUB_SCANNING_KEYS_FILE", write("p384-only.json", jsonlib.dumps(
            {"public_keys": [{"key_identifier": "x", "key": p384_pub}]}))),
        ("APIKEYD_GITHUB_SCANNING_KEYS_FILE", write("not-pem.json", jsonlib.dumps(
            {"public_keys": [{"key_identifier": "x", "key": "-----BEGIN PUBLIC KEY-----"}]}))),
        ("APIKEYD_GITHUB_SCANNING_KEYS_FILE", write("huge.json", " " * 300000 + "{}")),
        ("APIKEYD_REVOKE_MAX_REQUESTS", "0"),
    ])


# --------------------------------------------------------------------------- revoke

def test_leaked_revoke_revokes_the_live_keys_listed_and_audits_them():
    d = _daemon()
    a = create_key(d.admin, name=uniq("rv-a"))
    b = create_key(d.admin, name=uniq("rv-b"))
    keep = create_key(d.admin, name=uniq("rv-keep"))
    ip = _client_ip()
    r = expect(_revoke(d, [a["key"], forge_key(), "not a key", b["key"]], client=ip), 202)
    for k in (a, b):
        eq(_poll(lambda: _code(d, k["key"]), lambda c: c == "NOT_FOUND", 5.0), "NOT_FOUND",
           "a listed live key shortly after the 202")
        ev = _poll(lambda: _leak_events(d, k["id"]), lambda e: e, 5.0)
        eq(len(ev), 1, "its key.leaked event")
        eq((ev[0]["actor"], ev[0]["client"]), ("(revoke)", ip), "actor and client")
        check(k["name"] in ev[0]["detail"] and "/v1/keys/revoke" in ev[0]["detail"],
              f"detail {ev[0]['detail']!r}")
    eq(_code(d, keep["key"]), "VALID", "a key that was not listed")
    check(r.body.get("status") == "accepted", f"the answer: {snippet(r.raw)}")


def _answer_bytes(r):
    h = {k.lower(): v for k, v in r.headers.items()
         if k.lower() not in ("date", "x-request-id")}  # the time and the request's own id
    return r.status, h, r.raw


def test_leaked_revoke_answers_the_same_bytes_for_live_forged_gone_and_junk_keys():
    d = _daemon()
    k = create_key(d.admin, name=uniq("rv-same"))
    live = _revoke(d, [k["key"]])
    _poll(lambda: _code(d, k["key"]), lambda c: c == "NOT_FOUND", 5.0)
    answers = [live, _revoke(d, [forge_key()]), _revoke(d, [k["key"]]),
               _revoke(d, ["x"]), _revoke(d, [forge_key() for _ in range(1000)])]
    for r in answers:
        eq(_answer_bytes(r), _answer_bytes(live), "the answer, whatever was listed")
    eq(live.status, 202, "status")


def test_leaked_revoke_answers_before_the_revocation_is_made():
    """The revocation waits for the store; the 202 does not. The test holds SQLite's write lock
    (the daemon waits up to 5 s for it, then retries): a revocation made before answering would
    hold the 202 back that long."""
    d = _daemon()
    k = create_key(d.admin, name=uniq("rv-later"))
    other = forge_key()
    db = sqlite3.connect(os.path.join(d.data, "apikeyd.db"), timeout=10, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")                   # no writer but this one from now on
        timings = []
        for keys in ([k["key"]], [other]):
            t0 = time.monotonic()
            expect(_revoke(d, keys), 202, what="revoke while the store is locked")
            timings.append(time.monotonic() - t0)
        # a revocation made before answering waits the daemon's 5 s busy timeout (then 503)
        check(max(timings) < 2.5, f"answers took {timings} s: the 202 waited for the store")
        time.sleep(0.3)
        eq(_code(d, k["key"]), "VALID", "the key while its revocation waits for the store")
    finally:
        db.execute("ROLLBACK")
        db.close()
    eq(_poll(lambda: _code(d, k["key"]), lambda c: c == "NOT_FOUND", 10.0), "NOT_FOUND",
       "the key once the store takes writes again")


def test_leaked_revoke_refuses_malformed_and_oversized_lists_and_revokes_nothing():
    d = _daemon()
    k = create_key(d.admin, name=uniq("rv-bad"))
    key = k["key"]
    cases = [
        ({"keys": [key] + ["x"] * 1000}, 422, "1001 keys"),
        ({"keys": [key, "k" * 67]}, 422, "a 67-byte key"),
        ({"keys": []}, 422, "no keys"),
        ({"keys": [key, 7]}, 422, "a number"),
        ({"keys": [key, ""]}, 422, "an empty string"),
        ({"keys": key}, 422, "a string instead of a list"),
        ({}, 422, "no keys member"),
        ({"keys": [key], "reason": "leaked"}, 422, "an unknown member"),
    ]
    for body, status, what in cases:
        r = Client(d).request("POST", "/v1/keys/revoke", json=body,
                              headers={"X-Real-IP": _client_ip()})
        expect(r, status, "validation-failed", what=what)
    for raw, ptype, what in [(f'{{"keys":["{key}"]', "malformed-json", "truncated JSON"),
                             (f'["{key}"]', "malformed-json", "a list, not an object"),
                             (f'{{"keys":["{key}","a\\u0000b"]}}', "malformed-json",
                              "a string with NUL")]:
        r = Client(d).request("POST", "/v1/keys/revoke", raw_body=raw,
                              headers={"X-Real-IP": _client_ip()})
        expect(r, 400, ptype, what=what)
    r = Client(d).request("POST", "/v1/keys/revoke", json={"keys": [key]},
                          content_type="text/plain", headers={"X-Real-IP": _client_ip()})
    expect(r, 415, "unsupported-media-type", what="text/plain")
    big = jsonlib.dumps({"keys": [key] + [forge_key() for _ in range(1300)]}).encode()
    r = Client(d).raw_request("POST", "/v1/keys/revoke", body=big,
                              headers={"X-Real-IP": _client_ip()})
    expect(r, 413, "body-too-large", what=f"a {len(big)}-byte body")
    # a later accepted request is revoked after anything queued before it (one FIFO): once
    # its key is gone, nothing refused above was queued
    marker = create_key(d.admin, name=uniq("rv-marker"))
    expect(_revoke(d, [marker["key"]]), 202)
    _poll(lambda: _code(d, marker["key"]), lambda c: c == "NOT_FOUND", 5.0)
    eq(_code(d, key), "VALID", "the key listed only in refused requests")
    eq(_leak_events(d, k["id"]), [], "no key.leaked event")


def test_leaked_revoke_is_throttled_per_client_and_a_refused_request_revokes_nothing():
    d = _daemon()
    k = create_key(d.admin, name=uniq("rv-throttle"))
    ip = _client_ip()
    for i in range(REVOKE_MAX):
        expect(_revoke(d, [forge_key()], client=ip), 202, what=f"request {i + 1} of {ip}")
    r = expect(_revoke(d, [k["key"]], client=ip), 429, "too-many-requests",
               what=f"request {REVOKE_MAX + 1} of one client")
    check(int(r.headers.get("Retry-After", "0")) >= 1, f"Retry-After: {r.headers}")
    marker = create_key(d.admin, name=uniq("rv-marker"))
    expect(_revoke(d, [marker["key"]], client=_client_ip()), 202, what="another client")
    _poll(lambda: _code(d, marker["key"]), lambda c: c == "NOT_FOUND", 5.0)
    eq(_code(d, k["key"]), "VALID", "the key listed in the throttled request")


# --------------------------------------------------------------------------- two nodes

def test_leaked_github_and_revoke_on_one_node_are_seen_by_another_over_postgresql():
    from suite_cluster import _fresh_database, _kill_all, _nodes, _stop_all
    a, b = _nodes(2, _fresh_database(), env={
        "APIKEYD_GITHUB_SCANNING_KEYS_FILE": _keys()["keys_file"]})
    try:
        gh = create_key(a.admin, name=uniq("pg-gh"))
        rv = create_key(a.admin, name=uniq("pg-rv"))
        for k in (gh, rv):
            eq(_poll(lambda: _code(b, k["key"]), lambda c: c == "VALID", 5.0), "VALID",
               "node B verifies the key first")
        r = expect(_post_report(a, [_report(gh["key"])]), 200, what="report on node A")
        eq(r.body[0]["label"], "true_positive", "label")
        eq(_poll(lambda: _code(b, gh["key"]), lambda c: c == "NOT_FOUND", 5.0), "NOT_FOUND",
           "node B after node A revoked the reported key")
        expect(_revoke(b, [rv["key"]]), 202, what="revoke on node B")
        eq(_poll(lambda: _code(a, rv["key"]), lambda c: c == "NOT_FOUND", 5.0), "NOT_FOUND",
           "node A after node B revoked the key")
        r = expect(_post_report(b, [_report(gh["key"])]), 200, what="the same report on B")
        eq(r.body[0]["label"], "false_positive", "a key another node revoked")
        ev = _leak_events(a, gh["id"])
        eq([e["actor"] for e in ev], ["(github)"], "one key.leaked event in the shared store")
        _stop_all([a, b])
    finally:
        _kill_all([a, b])


# --------------------------------------------------------------------------- email
# The people of a revoked leaked key are mailed (a real SMTP server: suite_notices.Smtp). The
# mail is queued in the store at the revocation and sent by the notice thread; this daemon
# scans only once a minute and has expiry notices off, so a mail that arrives at once shows
# the revocation woke the sender.

def _mail_daemon():
    from suite_notices import Smtp
    d = _STATE.get("mail_daemon")
    if d is None or d.proc is None:
        smtp = Smtp().start()
        d = Daemon("leaks-mail", env=smtp.env(
            github_scanning_keys_file=_keys()["keys_file"], expiry_notice_days="off",
            expiry_notice_scan_ms="60000", verify_max_failures="1000000")).start()
        d.smtp = smtp
        _STATE["mail_daemon"] = d
    return d


def _mail_person(d, email_addr, login=True, roles=None):
    from suite_notices import _person
    return _person(d, email_addr=email_addr, full_name="Léak Owner", roles=roles, login=login)


def _mails_to(smtp, addr):
    return [m for m in smtp.messages() if m["rcpt_tos"] == [addr]]


def _body(m):
    return m["msg"].get_body(preferencelist=("plain",)).get_content()


def _leak_subject(name, account=None):
    if account:
        return (f'apikeyd: API key "{name}" of the API account "{account}" was revoked '
                "because it was found leaked")
    return f'apikeyd: your API key "{name}" was revoked because it was found leaked'


def _await_mails(smtp, addr, n, timeout=5.0):
    from run import wait_until
    wait_until(lambda: len(_mails_to(smtp, addr)) >= n, timeout, interval=0.05)
    time.sleep(0.3)                      # a duplicate would be on its way by now
    return _mails_to(smtp, addr)


def test_leaked_mail_github_report_mails_the_owner_once_naming_the_key_and_the_url():
    d = _mail_daemon()
    addr = f"{uniq('gh')}@example.test"
    owner = _mail_person(d, addr)
    k = create_key(owner, name=uniq("gh-mail ünï"))
    entry = _report(k["key"], source="commit")
    t0 = time.monotonic()
    r = expect(_post_report(d, [entry, _report()]), 200, what="a report of a live key")
    check(time.monotonic() - t0 < 2.0, "GitHub's answer waited for the mail")
    eq([e["label"] for e in r.body], ["true_positive", "false_positive"], "labels")
    mails = _await_mails(d.smtp, addr, 1)
    eq(len(mails), 1, f"mails to the owner {addr}")
    m = mails[0]
    eq(str(m["msg"]["subject"]), _leak_subject(k["name"]), "the subject")
    body = _body(m)
    for part in (k["name"], k["id"], k["hint"], entry["url"], "source: commit",
                 "Create a new key", "Hello Léak Owner"):
        check(part in body, f"the mail should name {part!r}: {body!r}")
    check(k["key"] not in body and k["key"].encode() not in m["raw"], "the secret is not mailed")
    # reported again: the key is gone (false positive), no second mail
    r = expect(_post_report(d, [entry]), 200, what="the same report again")
    eq(r.body[0]["label"], "false_positive", "a key already revoked")
    eq(len(_await_mails(d.smtp, addr, 2, timeout=0.5)), 1, "mails after a second report")


def test_leaked_mail_api_account_key_goes_to_its_issuer_and_the_project_owners():
    d = _mail_daemon()
    tag = uniq("acct")
    issuer = _mail_person(d, f"{tag}-issuer@example.test", roles=["user"])
    owner = _mail_person(d, f"{tag}-owner@example.test", login=False)
    reader = _mail_person(d, f"{tag}-reader@example.test", login=False)
    pid = expect(d.admin.request("POST", "/v1/projects", json={"name": uniq("proj")}),
                 201).body["id"]
    sub = expect(d.admin.request("POST", "/v1/projects",
                                 json={"name": uniq("sub"), "parent": pid}), 201).body["id"]
    for who, role, project in ((owner, "owner", pid), (issuer, "owner", sub),
                               (reader, "reader", sub)):
        r = d.admin.request("PUT", f"/v1/projects/{project}/members/user:{who.username}",
                            json={"role": role})
        check(r.status in (200, 201), f"PUT member: {r.status}")
    acct = expect(issuer.request("POST", "/v1/service-accounts",
                                 json={"name": uniq("acct"), "project": sub}), 201).body
    k = expect(issuer.request("POST", f"/v1/service-accounts/{acct['id']}/keys",
                              json={"name": uniq("acct-key"), "scopes": ["Tasks"]}), 201).body
    entry = _report(k["key"])
    expect(_post_report(d, [entry]), 200, what="a report of an API account's key")
    for who in ("issuer", "owner"):
        mails = _await_mails(d.smtp, f"{tag}-{who}@example.test", 1)
        eq(len(mails), 1, f"mails to the {who}")
        eq(str(mails[0]["msg"]["subject"]), _leak_subject(k["name"], acct["name"]),
           f"the {who}'s subject")
        check(entry["url"] in _body(mails[0]), "the url in the mail")
    eq(_mails_to(d.smtp, f"{tag}-reader@example.test"), [], "a reader of the project")


def test_leaked_mail_revoke_endpoint_mails_the_owner_of_a_valid_key_only():
    d = _mail_daemon()
    addr = f"{uniq('rv')}@example.test"
    owner = _mail_person(d, addr)
    k = create_key(owner, name=uniq("rv-mail"))
    ip = _client_ip()
    expect(_revoke(d, [forge_key(), k["key"], "junk"], client=ip), 202)
    mails = _await_mails(d.smtp, addr, 1)
    eq(len(mails), 1, f"mails to the owner {addr}")
    eq(str(mails[0]["msg"]["subject"]), _leak_subject(k["name"]), "the subject")
    body = _body(mails[0])
    for part in (k["name"], k["id"], f"POST /v1/keys/revoke from {ip}"):
        check(part in body, f"the mail should say {part!r}: {body!r}")
    check(k["key"] not in body, "the secret is not mailed")


def test_leaked_mail_false_positives_and_expired_keys_mail_nobody():
    d = _mail_daemon()
    addr = f"{uniq('fp')}@example.test"
    owner = _mail_person(d, addr)
    expired = create_key(owner, name=uniq("fp-expired"), expires_at=iso(time.time() + 1))
    time.sleep(1.2)
    before = len(d.smtp.messages())
    r = expect(_post_report(d, [_report(), _report(expired["key"]), _report("not a key")]), 200)
    eq([e["label"] for e in r.body], ["false_positive", "true_positive", "false_positive"],
       "labels")
    expect(_revoke(d, [forge_key(), expired["key"]]), 202)
    # then a live key: once its mail is in, any mail the others caused would be too
    live = create_key(owner, name=uniq("fp-live"))
    expect(_post_report(d, [_report(live["key"])]), 200)
    mails = _await_mails(d.smtp, addr, 1)
    eq([str(m["msg"]["subject"]) for m in mails], [_leak_subject(live["name"])],
       "the only mail is about the live key")
    eq(len(d.smtp.messages()) - before, 1, "mails sent by the server in all")


def test_leaked_mail_waits_out_a_slow_or_down_mail_server_and_a_restart():
    """GitHub's answer does not wait for the mail server: one that accepts connections and
    never answers (smtp_timeout_seconds 2), then none at all. The queued mails survive a
    restart and go out once a server is back."""
    import socket
    from suite_notices import Smtp, _stop_servers
    smtp = Smtp()                                       # not started yet
    slow = socket.socket()
    slow.bind(("127.0.0.1", smtp.port))
    slow.listen(16)                                     # accepted by the kernel, never read
    d = Daemon("leaks-mail-down", env=smtp.env(
        github_scanning_keys_file=_keys()["keys_file"], expiry_notice_days="off",
        smtp_timeout_seconds="2")).start()
    try:
        owner = _mail_person(d, "down@example.test")
        a = create_key(owner, name=uniq("down-a"))
        b = create_key(owner, name=uniq("down-b"))
        t0 = time.monotonic()
        expect(_post_report(d, [_report(a["key"])]), 200, what="a report, mail server slow")
        check(time.monotonic() - t0 < 1.5, "the answer waited for a slow mail server")
        from run import wait_until
        check(wait_until(lambda: b"next try" in d.all_logs(), 6), "a retry is planned")
        slow.close()                                    # now nothing listens
        t0 = time.monotonic()
        expect(_post_report(d, [_report(b["key"])]), 200, what="a report, mail server down")
        check(time.monotonic() - t0 < 1.5, "the answer waited for a down mail server")
        d.stop()
        eq(smtp.messages(), [], "mails before the server is back")
        d.start()
        smtp.start()
        mails = _await_mails(smtp, "down@example.test", 2, timeout=10.0)
        eq(sorted(str(m["msg"]["subject"]) for m in mails),
           sorted(_leak_subject(k["name"]) for k in (a, b)), "the mails after the restart")
    finally:
        slow.close()
        d.kill()
        _stop_servers()


def test_leaked_zz_daemon_exits_0_and_keeps_no_secret():
    for which in ("daemon", "mail_daemon"):
        d = _STATE.get(which)
        if d is None or d.proc is None:
            continue
        d.stop()
        logs = d.all_logs()
        files = d.data_files()
        for s in d.secrets:
            check(s.encode() not in logs, "a key secret appears in the daemon's log")
            for name, blob in files.items():
                check(s.encode() not in blob, f"a key secret appears in {name}")
        if which == "mail_daemon":
            for m in d.smtp.messages():
                for s in d.secrets:
                    check(s.encode() not in m["raw"], "a key secret was mailed")
            d.smtp.stop()
