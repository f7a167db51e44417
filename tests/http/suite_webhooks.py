"""Webhooks (issue 17 item 3): endpoints under /v1/webhooks, events written to the outbox with
their audit record, deliveries signed per the Standard Webhooks specification.

Every delivery goes to tests/webhooks/receiver.mjs, a receiver on 127.0.0.1 that verifies it
with the specification's reference library (npm standardwebhooks) and records it; the tests
read what it recorded. Retries are fast here: webhook_retry_base_ms and webhook_poll_ms are
lowered, and the daemons allow private targets (the receiver is on loopback) except where the
SSRF refusals are tested.
"""
import atexit
import base64
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request

import run
from run import (REPO, Client, Daemon, check, create_key, eq, expect, expect_error_field, uniq,
                 uniq_user, wait_until)

WEBHOOKS_DIR = os.path.join(REPO, "tests", "webhooks")
SECRET_RE = re.compile(r"^whsec_[A-Za-z0-9+/]{43}=$")
FAST = {"APIKEYD_WEBHOOK_ALLOW_PRIVATE_TARGETS": "on", "APIKEYD_WEBHOOK_RETRY_BASE_MS": "150",
        "APIKEYD_WEBHOOK_POLL_MS": "50", "APIKEYD_WEBHOOK_TIMEOUT_MS": "3000"}
_RECEIVER = {}


class Receiver:
    """The node receiver: configure a path's secret and answers, read what arrived."""

    def __init__(self):
        node = shutil.which("node")
        check(node is not None, "node is needed for the webhook receiver (scripts/ensure-deps.sh)")
        out = subprocess.run(["bash", os.path.join(WEBHOOKS_DIR, "install.sh")],
                             capture_output=True, text=True, timeout=600)
        check(out.returncode == 0, f"tests/webhooks/install.sh failed: {out.stderr[-400:]}")
        self.proc = subprocess.Popen([node, os.path.join(WEBHOOKS_DIR, "receiver.mjs"), "0"],
                                     cwd=WEBHOOKS_DIR, stdout=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline()
        check(line, "the webhook receiver did not start")
        self.port = json.loads(line)["port"]
        self.base = f"http://127.0.0.1:{self.port}"
        atexit.register(self.stop)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return json.loads(raw) if raw else None

    def endpoint(self, secret, statuses=(200,), location=None, path=None):
        """A new path on the receiver that verifies with secret; returns its URL."""
        path = path or "/hook/" + uniq("p")
        self._call("POST", "/_control/endpoint", {"path": path, "secret": secret,
                                                  "statuses": list(statuses),
                                                  "location": location})
        return self.base + path

    def got(self, url):
        path = url[len(self.base):]
        return [d for d in self._call("GET", "/_control/deliveries")["deliveries"]
                if d["path"] == path]

    def wait(self, url, n, timeout=10.0):
        """The deliveries to url once there are at least n (fails after timeout)."""
        wait_until(lambda: len(self.got(url)) >= n, timeout, 0.05)
        got = self.got(url)
        check(len(got) >= n, f"expected {n} deliveries to {url}, got {len(got)}: {got}")
        return got


def receiver():
    if "r" not in _RECEIVER:
        _RECEIVER["r"] = Receiver()
    return _RECEIVER["r"]


def daemon():
    """A daemon for these tests (shared; its final check: exit 0, no secret at rest)."""
    d = run._SHARED.get("webhooks")
    if d is None:
        d = Daemon("webhooks", env=dict(FAST))
        d.start()
        run._SHARED["webhooks"] = d
    return d


def register(d, rcv, events, statuses=(200,), location=None, client=None, **fields):
    """Registers an endpoint on a new receiver path: (webhook, its URL)."""
    placeholder = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    url = rcv.endpoint(placeholder, statuses, location)
    body = {"url": url, "events": list(events), "description": "test " + uniq("d")}
    body.update(fields)
    r = expect((client or d.admin).request("POST", "/v1/webhooks", json=body), 201,
               what="register a webhook")
    w = r.body
    check(SECRET_RE.match(w["secret"] or ""), f"secret as the spec writes it: {w['secret']!r}")
    eq(len(base64.b64decode(w["secret"][6:])), 32, "the secret's bytes")
    d.secrets += [w["secret"], w["secret"][6:]]
    rcv.endpoint(w["secret"], statuses, location, path=url[len(rcv.base):])
    return w, url


def body_of(delivery):
    return json.loads(delivery["body"])


def test_webhook_create_shows_the_secret_once_then_list_get_update_delete():
    d, rcv = daemon(), receiver()
    w, url = register(d, rcv, ["key.created", "key.deleted"])
    eq(w["url"], url, "url")
    eq(w["events"], ["key.created", "key.deleted"], "events")
    eq(w["enabled"], True, "enabled")
    eq(w["created_by"], "admin", "created_by")
    got = expect(d.admin.request("GET", f"/v1/webhooks/{w['id']}"), 200).body
    check("secret" not in got and w["secret"] not in json.dumps(got), "no secret in a get")
    listed = expect(d.admin.request("GET", "/v1/webhooks"), 200).body["webhooks"]
    check(any(x["id"] == w["id"] for x in listed), "listed")
    check("whsec_" not in json.dumps(listed), "no secret in the list")
    r = expect(d.admin.request("PATCH", f"/v1/webhooks/{w['id']}",
                               json={"events": ["user.disabled"], "description": "changed",
                                     "enabled": False}), 200)
    eq((r.body["events"], r.body["description"], r.body["enabled"]),
       (["user.disabled"], "changed", False), "changed")
    check("secret" not in r.body, "no secret in the change's answer")
    expect(d.admin.request("DELETE", f"/v1/webhooks/{w['id']}"), 204)
    expect(d.admin.request("GET", f"/v1/webhooks/{w['id']}"), 404)
    expect(d.admin.request("DELETE", f"/v1/webhooks/{w['id']}"), 404)
    check(w["secret"].encode() not in d.all_logs(), "the secret in the log")


def test_webhook_key_created_and_deleted_arrive_signed_and_verify():
    d, rcv = daemon(), receiver()
    w, url = register(d, rcv, ["key.created", "key.deleted"])
    k = create_key(d.admin, name=uniq("hooked"), scopes=("Tasks",))
    expect(d.admin.request("DELETE", f"/v1/keys/{k['id']}"), 204)
    got = rcv.wait(url, 2)
    eq(len(got), 2, "two deliveries")
    for g in got:
        check(g["verified"], f"verified by standardwebhooks: {g['error']}")
        eq(g["content_type"], "application/json", "content type")
        check(k["key"] not in g["body"], "the key's secret in a delivery")
    check(got[0]["id"] != got[1]["id"], "each message its own webhook-id")
    created, deleted = sorted((body_of(g) for g in got), key=lambda b: b["type"])
    eq(created["type"], "key.created", "first event")
    eq(deleted["type"], "key.deleted", "second event")
    for ev in (created, deleted):
        check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", ev["timestamp"]), "RFC 3339 time")
        eq(ev["data"]["key"], {"id": k["id"], "name": k["name"],
                               "owner": {"type": "user", "id": "admin"}},
           f"{ev['type']}: the key, named also once deleted")
        eq(ev["data"]["actor"], "admin", "actor")
        check(set(ev) == {"type", "timestamp", "data"}, f"the spec's members: {sorted(ev)}")
        check("hash" not in json.dumps(ev), "no hash")
    atts = expect(d.admin.request("GET", f"/v1/webhooks/{w['id']}/deliveries"), 200)
    atts = atts.body["deliveries"]
    eq(sorted(a["event"] for a in atts), ["key.created", "key.deleted"], "attempts listed")
    for a in atts:
        eq((a["status_code"], a["error"], a["state"], a["next_attempt_at"]),
           (200, None, "delivered", None), "a delivered attempt")
        check(isinstance(a["duration_ms"], int) and a["attempted_at"], "time and duration")


def test_webhook_user_disabled_and_service_account_deleted_events():
    d, rcv = daemon(), receiver()
    _, url = register(d, rcv, ["user.disabled", "service_account.deleted"])
    name = uniq_user("wh")
    expect(d.admin.request("POST", "/v1/users", json={"username": name,
                                                      "password": "pw-" + uniq("p")}), 201)
    expect(d.admin.request("PATCH", f"/v1/users/{name}", json={"full_name": "Not disabled"}), 200)
    expect(d.admin.request("PATCH", f"/v1/users/{name}", json={"disabled": True}), 200)
    acct = expect(d.admin.request("POST", "/v1/service-accounts",
                                  json={"name": uniq("acct")}), 201).body
    expect(d.admin.request("DELETE", f"/v1/service-accounts/{acct['id']}"), 204)
    got = rcv.wait(url, 2)
    time.sleep(0.3)                      # nothing more comes (the profile change is no event)
    got = rcv.got(url)
    eq(len(got), 2, "the disable and the delete only")
    check(all(g["verified"] for g in got), "verified")
    by_type = {body_of(g)["type"]: body_of(g) for g in got}
    eq(by_type["user.disabled"]["data"]["user"], {"username": name}, "the user")
    eq(by_type["service_account.deleted"]["data"]["service_account"], {"id": acct["id"]},
       "the account")
    check(acct["name"] in by_type["service_account.deleted"]["data"]["detail"], "its name")
    ev = expect(d.admin.request("GET", f"/v1/audit?target={name}&action=user.disable"), 200)
    eq(len(ev.body["events"]), 1, "the disable audited as user.disable")


def _deleted_keys(rcv, url, n):
    """The key.deleted events' data once n have arrived, by key id (each verified)."""
    got = rcv.wait(url, n)
    time.sleep(0.3)                      # nothing more comes
    got = rcv.got(url)
    check(all(g["verified"] for g in got), "verified")
    events = [body_of(g) for g in got]
    eq([e["type"] for e in events], ["key.deleted"] * len(events), "only key.deleted events")
    return {e["data"]["key"]["id"]: e["data"] for e in events}


def test_webhook_deleting_a_user_or_an_api_account_sends_key_deleted_for_each_key():
    """A subscriber mirroring keys sees every key that stops working with its owner: one
    key.deleted per key, named, by the person who deleted the owner."""
    d, rcv = daemon(), receiver()
    _, url = register(d, rcv, ["key.deleted"])
    name, pw = uniq_user("whdel"), "pw-" + uniq("p")
    expect(d.admin.request("POST", "/v1/users", json={"username": name, "password": pw}), 201)
    c = Client(d)
    c.login(name, pw)
    mine = [create_key(c, name=uniq("mine"), scopes=("Tasks",)) for _ in range(2)]
    acct = expect(d.admin.request("POST", "/v1/service-accounts",
                                  json={"name": uniq("whacct")}), 201).body
    theirs = []
    for _ in range(3):
        r = expect(d.admin.request("POST", f"/v1/service-accounts/{acct['id']}/keys",
                                   json={"name": uniq("acctkey"), "scopes": ["Tasks"]}), 201)
        theirs.append(r.body)
    expect(d.admin.request("DELETE", f"/v1/users/{name}"), 204)
    expect(d.admin.request("DELETE", f"/v1/service-accounts/{acct['id']}"), 204)
    by_id = _deleted_keys(rcv, url, 5)
    eq(sorted(by_id), sorted(k["id"] for k in mine + theirs), "one event per key, no more")
    for k in mine:
        eq(by_id[k["id"]]["key"], {"id": k["id"], "name": k["name"],
                                   "owner": {"type": "user", "id": name}}, "a user's key")
    for k in theirs:
        eq(by_id[k["id"]]["key"], {"id": k["id"], "name": k["name"],
                                   "owner": {"type": "service_account", "id": acct["id"]}},
           "an API account's key")
    for data in by_id.values():
        eq(data["actor"], "admin", "by whoever deleted the owner")
    for k in mine + theirs:
        ev = expect(d.admin.request("GET", f"/v1/audit?target={k['id']}&action=key.delete"),
                    200).body["events"]
        eq(len(ev), 1, f"one key.delete audit event for {k['id']}")
        check(k["name"] in ev[0]["detail"], f"the audit detail names the key: {ev[0]}")


def test_webhook_a_reuse_revocation_names_each_revoked_key():
    d, rcv = daemon(), receiver()
    _, url = register(d, rcv, ["key.deleted"])
    name, pw = uniq_user("whreuse"), "pw-" + uniq("p")
    expect(d.admin.request("POST", "/v1/users", json={"username": name, "password": pw}), 201)
    c = Client(d)
    c.login(name, pw)
    a = create_key(c, name=uniq("fam"), scopes=("APIKey", "Tasks"))
    b = expect(c.request("POST", f"/v1/keys/{a['id']}/rotate", json={}), 201).body
    cc = expect(c.request("POST", f"/v1/keys/{b['id']}/rotate",
                          json={"overlap_seconds": 600}), 201).body
    expect(Client(d, key=a["key"]).request("POST", f"/v1/keys/{cc['id']}/rotate", json={}),
           401)                          # a, rotated out and past its overlap: reuse
    by_id = _deleted_keys(rcv, url, 2)
    eq(sorted(by_id), sorted([b["id"], cc["id"]]), "the family's live keys")
    for k in (b, cc):
        eq(by_id[k["id"]]["key"], {"id": k["id"], "name": a["name"],
                                   "owner": {"type": "user", "id": name}},
           "named, not null, although the row is gone")
        eq(by_id[k["id"]]["actor"], "(system)", "apikeyd revoked it")


def test_webhook_a_user_named_system_is_not_apikeyd_in_the_trail():
    """A person may be called `system` (or `github`, `revoke`): what they do is theirs, and
    what apikeyd does itself is by `(system)`, which no username can be."""
    d, rcv = daemon(), receiver()
    _, url = register(d, rcv, ["key.deleted"])
    pw = "pw-" + uniq("p")
    for name in ("system", "github", "revoke"):
        expect(d.admin.request("POST", "/v1/users", json={"username": name, "password": pw}),
               201, what=f"a person named {name}")
    for name in ("(system)", "(github)", "(revoke)"):
        expect_error_field(d.admin.request("POST", "/v1/users",
                                           json={"username": name, "password": pw}), "username")
    c = Client(d)
    c.login("system", pw)
    mine = create_key(c, name=uniq("own"), scopes=("Tasks",))
    expect(c.request("DELETE", f"/v1/keys/{mine['id']}"), 204)
    a = create_key(c, name=uniq("fam"), scopes=("APIKey", "Tasks"))
    b = expect(c.request("POST", f"/v1/keys/{a['id']}/rotate", json={}), 201).body
    expect(Client(d, key=a["key"]).request("POST", f"/v1/keys/{b['id']}/rotate", json={}), 401)
    by_id = _deleted_keys(rcv, url, 2)
    eq(by_id[mine["id"]]["actor"], "system", "the person's own delete")
    eq(by_id[b["id"]]["actor"], "(system)", "apikeyd's revocation")
    person = expect(d.admin.request("GET", "/v1/audit?actor=system"), 200).body["events"]
    check(person and all(e["action"] != "key.reuse_revoke" for e in person),
          f"the person's trail holds none of apikeyd's doing: {person}")
    own = expect(d.admin.request("GET", "/v1/audit?actor=(system)&action=key.reuse_revoke"
                                 f"&target={a['id']}"), 200).body["events"]
    eq([e["target"] for e in own], [a["id"]], "apikeyd's revocation under its own name")


def test_webhook_wrong_secret_fails_verification_at_the_receiver():
    d, rcv = daemon(), receiver()
    _, url = register(d, rcv, ["key.created"])
    wrong = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    rcv.endpoint(wrong, path=url[len(rcv.base):])      # the receiver now expects another key
    create_key(d.admin, scopes=("Tasks",))
    g = rcv.wait(url, 1)[0]
    check(not g["verified"], "a delivery verified with a wrong secret")
    check("signature" in (g["error"] or "").lower(), f"why: {g['error']}")


def test_webhook_test_send_arrives_signed():
    d, rcv = daemon(), receiver()
    w, url = register(d, rcv, ["key.expired"])
    eq(expect(d.admin.request("POST", f"/v1/webhooks/{w['id']}/test"), 202).body["status"],
       "queued", "queued")
    g = rcv.wait(url, 1)[0]
    check(g["verified"], f"verified: {g['error']}")
    eq(body_of(g)["type"], "webhook.test", "type")
    eq(body_of(g)["data"]["webhook"], {"id": w["id"]}, "names the endpoint")
    expect(d.admin.request("POST", "/v1/webhooks/" + "0" * 24 + "/test"), 404)


def test_webhook_retried_after_500_until_200():
    d, rcv = daemon(), receiver()
    w, url = register(d, rcv, ["key.created"], statuses=(500, 503, 200))
    create_key(d.admin, scopes=("Tasks",))
    got = rcv.wait(url, 3)
    eq([g["answered"] for g in got], [500, 503, 200], "answers in turn")
    eq(len({g["id"] for g in got}), 1, "one message, the same webhook-id each time")
    check(all(g["verified"] for g in got), "each attempt verifies")
    check(got[0]["body"] == got[2]["body"], "the same body each time")
    t = [int(g["timestamp"]) for g in got]
    check(t[0] <= t[1] <= t[2], "timestamps")
    atts = expect(d.admin.request("GET", f"/v1/webhooks/{w['id']}/deliveries"), 200)
    atts = list(reversed(atts.body["deliveries"]))
    eq([(a["status_code"], a["state"]) for a in atts],
       [(500, "pending"), (503, "pending"), (200, "delivered")], "the attempts")
    check(atts[0]["next_attempt_at"] and atts[1]["next_attempt_at"], "next attempt shown")
    time.sleep(0.5)
    eq(len(rcv.got(url)), 3, "nothing after the 200")


def test_webhook_410_disables_the_endpoint():
    d, rcv = daemon(), receiver()
    w, url = register(d, rcv, ["key.created"], statuses=(410,))
    create_key(d.admin, scopes=("Tasks",))
    rcv.wait(url, 1)
    check(wait_until(lambda: not expect(d.admin.request("GET", f"/v1/webhooks/{w['id']}"),
                                        200).body["enabled"], 5), "disabled after 410")
    ev = expect(d.admin.request("GET", f"/v1/audit?target={w['id']}&action=webhook.disable"),
                200).body["events"]
    eq([(e["actor"], e["detail"]) for e in ev], [("(system)", "the endpoint answered 410 Gone")],
       "the disabling audited")
    create_key(d.admin, scopes=("Tasks",))
    time.sleep(0.5)
    eq(len(rcv.got(url)), 1, "a disabled endpoint gets nothing more")
    expect(d.admin.request("POST", f"/v1/webhooks/{w['id']}/test"), 409)


def test_webhook_redirects_are_not_followed():
    d, rcv = daemon(), receiver()
    elsewhere = rcv.endpoint("whsec_" + base64.b64encode(os.urandom(32)).decode())
    w, url = register(d, rcv, ["key.created"], statuses=(302,), location=elsewhere)
    create_key(d.admin, scopes=("Tasks",))
    rcv.wait(url, 2)                     # the first attempt and its retry
    eq(rcv.got(elsewhere), [], "the redirect's target was never asked")
    atts = expect(d.admin.request("GET", f"/v1/webhooks/{w['id']}/deliveries"), 200)
    check(all(a["status_code"] == 302 and a["state"] == "pending"
              for a in atts.body["deliveries"]), f"302 is a failure: {atts.body}")
    expect(d.admin.request("DELETE", f"/v1/webhooks/{w['id']}"), 204)


def test_webhook_refused_change_sends_nothing():
    d, rcv = daemon(), receiver()
    taken = create_key(d.admin, scopes=("Tasks",))    # made before the endpoint: no event
    _, url = register(d, rcv, ["key.created"])
    expect(d.admin.request("POST", "/v1/keys", json={"name": "", "scopes": ["Tasks"]}), 422)
    # refused by the store inside the key's transaction (the name is taken)
    expect(d.admin.request("POST", "/v1/keys", json={"name": taken["name"],
                                                     "scopes": ["Tasks"]}), 409)
    expect(d.admin.request("DELETE", "/v1/keys/" + "0" * 24), 404)
    expect(d.admin.request("POST", "/v1/keys", json={"name": uniq("k"), "scopes": ["Nope"]}),
           422)
    marker = create_key(d.admin, scopes=("Tasks",))
    got = rcv.wait(url, 1)
    time.sleep(0.3)
    got = rcv.got(url)
    eq([body_of(g)["data"]["key"]["id"] for g in got], [marker["id"]],
       "only the key that was made")


BAD_BODIES = [
    ({"url": "ftp://example.com/x", "events": ["key.created"]}, "url"),
    ({"url": "http://user:pw@example.com/x", "events": ["key.created"]}, "url"),
    ({"url": "not a url", "events": ["key.created"]}, "url"),
    ({"url": "http://example.com/" + "a" * 2000, "events": ["key.created"]}, "url"),
    ({"events": ["key.created"]}, "url"),
    ({"url": "http://example.com/x"}, "events"),
    ({"url": "http://example.com/x", "events": []}, "events"),
    ({"url": "http://example.com/x", "events": ["key.made"]}, "events"),
    ({"url": "http://example.com/x", "events": ["key.created", "key.created"]}, "events"),
    ({"url": "http://example.com/x", "events": "key.created"}, "events"),
    ({"url": "http://example.com/x", "events": ["key.created"] * 9}, "events"),
    ({"url": "http://example.com/x", "events": ["key.created"], "description": "x" * 201},
     "description"),
    ({"url": "http://example.com/x", "events": ["key.created"], "description": "a\u0007b"},
     "description"),
    ({"url": "http://example.com/x", "events": ["key.created"], "secret": "mine"}, "secret"),
    ({"url": "http://example.com/x", "events": ["key.created"], "enabled": "yes"}, "enabled"),
    ({"url": 5, "events": ["key.created"]}, "url"),
]


def test_webhook_bad_bodies_are_4xx_problems_and_nothing_is_stored():
    d = daemon()
    before = expect(d.admin.request("GET", "/v1/webhooks"), 200).body["webhooks"]
    for body, field in BAD_BODIES:
        expect_error_field(d.admin.request("POST", "/v1/webhooks", json=body), field)
    expect(d.admin.request("POST", "/v1/webhooks", raw_body=b"{not json",
                           headers={"Content-Type": "application/json"}), 400)
    expect(d.admin.request("POST", "/v1/webhooks", raw_body=b"url=x",
                           headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    w, _ = register(d, receiver(), ["key.created"])
    for body, field in BAD_BODIES:
        if field in ("url", "events") and field not in body:
            continue                     # a change may leave them out
        expect_error_field(d.admin.request("PATCH", f"/v1/webhooks/{w['id']}", json=body), field)
    eq(expect(d.admin.request("GET", f"/v1/webhooks/{w['id']}"), 200).body["events"],
       ["key.created"], "unchanged by the refused changes")
    expect(d.admin.request("DELETE", f"/v1/webhooks/{w['id']}"), 204)
    eq(expect(d.admin.request("GET", "/v1/webhooks"), 200).body["webhooks"], before,
       "nothing stored")


def test_webhook_endpoints_need_manage_webhooks():
    d = daemon()
    name, pw = uniq_user("nohook"), "pw-" + uniq("p")
    expect(d.admin.request("POST", "/v1/users", json={"username": name, "password": pw}), 201)
    c = Client(d)
    c.login(name, pw)
    expect(c.request("GET", "/v1/webhooks"), 403)
    expect(c.request("POST", "/v1/webhooks", json={"url": "http://example.com/",
                                                   "events": ["key.created"]}), 403)
    check("manage_webhooks" in [a["name"] for a in expect(
        d.admin.request("GET", "/v1/authorities"), 200).body["authorities"]], "listed")
    role = uniq("hooks")
    # registering one needs view_audit as well: its deliveries are audit records
    # (suite_attack_lifecycle.py tries manage_webhooks alone)
    expect(d.admin.request("POST", "/v1/roles", json={"name": role, "authorities":
                                                      ["manage_webhooks", "view_audit"]}), 201)
    expect(d.admin.request("PATCH", f"/v1/users/{name}", json={"roles": ["user", role]}), 200)
    w = expect(c.request("POST", "/v1/webhooks", json={"url": "http://192.0.2.7/",
                                                       "events": ["key.created"]}), 201).body
    d.secrets += [w["secret"]]
    expect(c.request("DELETE", f"/v1/webhooks/{w['id']}"), 204)


def test_webhook_private_targets_refused_at_create_and_at_delivery():
    """With webhook_allow_private_targets off (the default), loopback, private, link-local
    and the like are refused at create, and at delivery after resolution: a URL registered
    while they were allowed gets no request once they are not."""
    rcv = receiver()
    d = Daemon("webhooks-private", env=dict(FAST))
    d.start()
    try:
        w, url = register(d, rcv, ["key.created"])
        d.stop()
        env = dict(FAST)
        del env["APIKEYD_WEBHOOK_ALLOW_PRIVATE_TARGETS"]
        d.env = env
        d.start()
        for bad in ("http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://169.254.169.254/latest",
                    "http://[::1]/x", f"http://localhost:{rcv.port}/x", "http://100.64.0.1/",
                    "http://172.16.0.1/", "http://192.168.1.1/", "http://0.0.0.0/",
                    "http://[fd00::1]/", "http://[fe80::1]/", "http://224.0.0.1/",
                    "http://[::ffff:127.0.0.1]/", "http://2130706433/"):
            r = d.admin.request("POST", "/v1/webhooks", json={"url": bad,
                                                             "events": ["key.created"]})
            expect_error_field(r, "url")
            check("non-public" in json.dumps(r.body), f"{bad}: says why: {r.body}")
        expect_error_field(d.admin.request("PATCH", f"/v1/webhooks/{w['id']}",
                                           json={"url": "http://10.0.0.1/"}), "url")
        eq([x["id"] for x in expect(d.admin.request("GET", "/v1/webhooks"), 200)
            .body["webhooks"]], [w["id"]], "none of them stored")
        create_key(d.admin, scopes=("Tasks",))
        ok = wait_until(lambda: expect(d.admin.request(
            "GET", f"/v1/webhooks/{w['id']}/deliveries"), 200).body["deliveries"], 5)
        check(ok, "an attempt was recorded")
        a = expect(d.admin.request("GET", f"/v1/webhooks/{w['id']}/deliveries"),
                   200).body["deliveries"][0]
        eq(a["status_code"], None, "no answer")
        check("non-public" in a["error"], f"refused at delivery: {a['error']}")
        eq(rcv.got(url), [], "the loopback receiver was never asked")
        d.stop()
    finally:
        d.kill()


def test_webhook_outbox_survives_sigkill_before_delivery():
    rcv = receiver()
    slow = dict(FAST, APIKEYD_WEBHOOK_POLL_MS="60000")   # no delivery round before the kill
    d = Daemon("webhooks-kill", env=slow)
    d.start()
    try:
        _, url = register(d, rcv, ["key.created"])
        k = create_key(d.admin, scopes=("Tasks",))
        d.proc.kill()                                    # SIGKILL: no orderly stop
        d.proc.wait(5)
        d.proc = None
        eq(rcv.got(url), [], "nothing was delivered before the kill")
        d.env = dict(FAST)
        d.start()
        g = rcv.wait(url, 1)[0]
        check(g["verified"], "verified")
        eq(body_of(g)["data"]["key"]["id"], k["id"], "the key made before the kill")
        d.stop()
    finally:
        d.kill()


def test_webhook_two_nodes_on_postgresql_deliver_each_event_exactly_once():
    from suite_cluster import _fresh_database, _nodes
    rcv = receiver()
    nodes = _nodes(2, _fresh_database(), env=dict(FAST, APIKEYD_WEBHOOK_POLL_MS="10"))
    try:
        a, b = nodes
        _, url = register(a, rcv, ["key.created", "key.deleted"])
        made = []
        for i in range(12):
            node = nodes[i % 2]
            k = create_key(node.admin, scopes=("Tasks",))
            made.append(k["id"])
            if i % 3 == 0:
                expect(node.admin.request("DELETE", f"/v1/keys/{k['id']}"), 204)
        want = 12 + 4
        rcv.wait(url, want, timeout=15)
        time.sleep(0.5)                                  # late duplicates would show now
        got = rcv.got(url)
        eq(len(got), want, "each event delivered once")
        eq(len({g["id"] for g in got}), want, "distinct webhook-ids")
        check(all(g["verified"] for g in got), "all verified")
        created = sorted(body_of(g)["data"]["key"]["id"] for g in got
                         if body_of(g)["type"] == "key.created")
        eq(created, sorted(made), "every key's creation")
        for n in nodes:
            n.stop()
    finally:
        for n in nodes:
            n.kill()


def test_webhook_at_most_50_endpoints():
    d = Daemon("webhooks-limit", env=dict(FAST))
    d.start()
    try:
        for i in range(50):
            w = expect(d.admin.request("POST", "/v1/webhooks", json={
                "url": f"http://192.0.2.1/{i}", "events": ["key.created"]}), 201).body
            d.secrets.append(w["secret"])
        r = expect(d.admin.request("POST", "/v1/webhooks", json={
            "url": "http://192.0.2.1/51", "events": ["key.created"]}), 409, "limit-reached")
        check("whsec_" not in json.dumps(r.body), "no secret in the refusal")
        eq(len(expect(d.admin.request("GET", "/v1/webhooks"), 200).body["webhooks"]), 50,
           "the 51st was not stored")
        d.stop()
    finally:
        d.kill()
