"""Attack round on the key-lifecycle features (rotation, webhooks, leaked keys, used-from,
expiry notices): each test plays one attacker against a rule of docs/SECURITY.md (20-25) that
did not hold, and fails on the code before its fix (named in each test's docstring).

One daemon for the suite (GitHub's throwaway keys from suite_leaked_keys, a low allowance per
client for the anonymous leak endpoints, private webhook targets refused as by default); the
test talks from 127.0.0.1, a trusted proxy, so X-Real-IP names the client a test plays.
"""
import json as jsonlib
import os
from concurrent.futures import ThreadPoolExecutor

import run
from run import Client, Daemon, check, create_key, eq, expect, expect_error_field, uniq, uniq_user
from suite_leaked_keys import (_await_mails, _client_ip, _keys, _mail_daemon, _mail_person,
                               _mails_to, _post_report, _report, _sign)

ALLOWANCE = 3  # revoke_max_requests: reports that fail the signature check per client
VERIFY_MAX = 3  # verify_max_failures: dead keys (and reuses) per client before a block


def _daemon():
    d = run._SHARED.get("attack-lifecycle")
    if d is None or d.proc is None:
        d = Daemon("attack-lifecycle",
                   env={"APIKEYD_GITHUB_SCANNING_KEYS_FILE": _keys()["keys_file"],
                        "APIKEYD_REVOKE_MAX_REQUESTS": str(ALLOWANCE),
                        "APIKEYD_VERIFY_MAX_FAILURES": str(VERIFY_MAX)})
        d.start()
        run._SHARED["attack-lifecycle"] = d
    return d


def _code(d, key):
    return run.verify(d, key).get("code")


def _person(d, *authorities):
    """A logged-in user whose only role (besides `user`) holds exactly these authorities."""
    role = uniq("role")
    expect(d.admin.request("POST", "/v1/roles", json={"name": role,
                                                      "authorities": list(authorities)}), 201)
    name, pw = uniq_user("atk"), "pw-" + os.urandom(8).hex()
    expect(d.admin.request("POST", "/v1/users", json={"username": name, "password": pw}), 201)
    expect(d.admin.request("PATCH", f"/v1/users/{name}", json={"roles": ["user", role]}), 200)
    c = Client(d)
    c.login(name, pw)
    return c


# --------------------------------------------------------------------------- leaked keys

def test_lifecycle_keys_revoke_with_another_method_is_405_allow_post_not_a_key_lookup():
    """A key holder (or anyone) sending GET/PATCH/DELETE to /v1/keys/revoke reached the
    /v1/keys/{id} routes, as if "revoke" were a key id: 404 (or 415, or a 401 asking for
    a key) where every other path answers a wrong method 405 with Allow. Fails before the
    router preferred a literal segment to a {} one."""
    d = _daemon()
    k = create_key(d.admin, scopes=("APIKey",))
    holder = Client(d, key=k["key"])
    for who, c in (("a key holder", holder), ("an anonymous client", Client(d))):
        for method in ("GET", "PUT", "PATCH", "DELETE"):
            body = {"name": "x"} if method in ("PUT", "PATCH") else None
            r = c.request(method, "/v1/keys/revoke", json=body)
            expect(r, 405, "method-not-allowed", what=f"{method} /v1/keys/revoke by {who}")
            eq(r.headers.get("Allow"), "POST", f"Allow of {method} /v1/keys/revoke")
    r = expect(holder.request("GET", f"/v1/keys/{k['id']}"), 200, what="a real key id still")
    eq(r.body["id"], k["id"], "GET /v1/keys/{id}")
    eq(_code(d, k["key"]), "VALID", "nothing was revoked")


def test_lifecycle_unsigned_github_reports_are_throttled_per_client_before_the_signature_check():
    """An anonymous client posts reports GitHub never signed, as fast as it likes: each cost
    a signature check and nothing counted them. Now a client gets revoke_max_requests refused
    reports, then 429 with Retry-After — even for a report that would verify, so a blocked
    client costs no ECDSA check — while another client (GitHub) is served, and reports that
    verify never count, however many are in flight at once. Fails before the throttle: the fourth bad report is a 401 again."""
    d = _daemon()
    attacker, github = _client_ip(), _client_ip()
    victim = create_key(d.admin, name=uniq("gh-throttle"))
    body = jsonlib.dumps([_report(victim["key"])]).encode()
    bad = [{"Github-Public-Key-Signature": _sign(body, "stranger")},
           {"Github-Public-Key-Identifier": None},
           {"Github-Public-Key-Identifier": "f" * 64}]
    check(len(bad) == ALLOWANCE, "one refused report per allowed failure")
    for headers in bad:
        expect(_post_report(d, body, headers=dict(headers, **{"X-Real-IP": attacker})), 401,
               "unauthenticated", what="a report nobody signed")
    r = _post_report(d, body, headers={"X-Real-IP": attacker})
    expect(r, 429, "too-many-requests", what="a signed report from the blocked client")
    check(int(r.headers.get("Retry-After", "0")) >= 1, f"Retry-After: {r.headers}")
    eq(_code(d, victim["key"]), "VALID", "the blocked client's report revoked nothing")
    # reports that verify neither count nor block, however many arrive at once
    bodies = [jsonlib.dumps([_report()]).encode() for _ in range(2 * ALLOWANCE)]
    signed = [(b, _sign(b)) for b in bodies]
    with ThreadPoolExecutor(len(signed)) as pool:
        got = list(pool.map(lambda bs: _post_report(d, bs[0], signature=bs[1],
                                                    headers={"X-Real-IP": github}), signed))
    for r in got:
        expect(r, 200, what="one of GitHub's reports sent at once")
        eq(r.body[0]["label"], "false_positive", "a token that is no key")
    r = expect(_post_report(d, body, headers={"X-Real-IP": github}), 200, what="GitHub again")
    eq(r.body[0]["label"], "true_positive", "the victim's key, reported by GitHub")
    eq(_code(d, victim["key"]), "NOT_FOUND", "revoked on GitHub's word")


# --------------------------------------------------------------------------- rotation

def _rotated_out(d):
    """A key with APIKey rotated with no overlap: (the dead old key, its successor)."""
    old = create_key(d.admin, name=uniq("reuse"), scopes=("APIKey",))
    new = expect(d.admin.request("POST", f"/v1/keys/{old['id']}/rotate", json={}), 201).body
    return old, new


def _reuse_events(d, key_id):
    r = expect(d.admin.request("GET", f"/v1/audit?action=key.reuse_revoke&target={key_id}"), 200)
    return r.body["events"]


def test_lifecycle_replaying_a_dead_rotated_out_key_cannot_fill_the_audit_trail():
    """A thief holding a key its owner rotated out presents it to a rotate endpoint again and
    again: the first time revokes the family (as it should), and every later time was another
    write transaction and another key.reuse_revoke row, unthrottled (30 in 0.07 s). Now each
    recorded reuse counts as a failed verification of the thief's address; once blocked, a
    reuse with nothing left to revoke is 429 before anything is written, while one whose
    family still has a live key is revoked and recorded all the same. Fails before: the
    fourth replay is a 401 and a fourth row."""
    d = _daemon()
    thief = _client_ip()
    old, new = _rotated_out(d)
    stolen = Client(d, key=old["key"])
    for i in range(VERIFY_MAX):
        r = stolen.request("POST", f"/v1/keys/{new['id']}/rotate", json={},
                           headers={"X-Real-IP": thief})
        expect(r, 401, "unauthenticated", what=f"replay {i + 1} of the rotated-out key")
    eq(_code(d, new["key"]), "NOT_FOUND", "the first replay revoked the family")
    for i in range(3):
        r = stolen.request("POST", f"/v1/keys/{new['id']}/rotate", json={},
                           headers={"X-Real-IP": thief})
        expect(r, 429, "too-many-requests", what="a replay from the blocked thief")
        check(int(r.headers.get("Retry-After", "0")) >= 1, f"Retry-After: {r.headers}")
    eq(len(_reuse_events(d, old["id"])), VERIFY_MAX, "key.reuse_revoke rows: one per allowed replay")
    old2, new2 = _rotated_out(d)  # a family with a live key: revoked even from a blocked client
    r = Client(d, key=old2["key"]).request("POST", f"/v1/keys/{new2['id']}/rotate", json={},
                                           headers={"X-Real-IP": thief})
    expect(r, 401, "unauthenticated", what="the blocked thief presents another stolen key")
    eq(_code(d, new2["key"]), "NOT_FOUND", "its family is revoked all the same")
    eq(len(_reuse_events(d, old2["id"])), 1, "and recorded")
    r = stolen.request("POST", f"/v1/keys/{new['id']}/rotate", json={},
                       headers={"X-Real-IP": _client_ip()})
    expect(r, 401, "unauthenticated", what="the same dead key from another address")
    eq(len(_reuse_events(d, old["id"])), VERIFY_MAX + 1, "recorded: that client is not blocked")


# --------------------------------------------------------------------------- webhooks

def test_lifecycle_webhook_admin_without_view_audit_cannot_stream_the_audit_trail():
    """An insider holding manage_webhooks alone registered an endpoint for key.created and
    received every key's name, owner, actor and detail — the audit records that GET
    /v1/audit refuses them. Choosing an endpoint's url or events now needs view_audit too;
    its description and enabled stay theirs to change. Fails before: the create is 201."""
    d = _daemon()
    hooks_only = _person(d, "manage_webhooks")
    body = {"url": "http://93.184.216.34/hook", "events": ["key.created"]}
    expect(hooks_only.request("GET", "/v1/audit"), 403, "forbidden", what="the audit trail")
    r = expect(hooks_only.request("POST", "/v1/webhooks", json=body), 403, "forbidden",
               what="create by manage_webhooks alone")
    check("view_audit" in r.body["detail"], f"the refusal says why: {r.body['detail']!r}")
    eq([x for x in expect(d.admin.request("GET", "/v1/webhooks"), 200).body["webhooks"]
        if x["created_by"] == hooks_only.username], [], "nothing stored")
    w = expect(d.admin.request("POST", "/v1/webhooks", json=dict(body, events=["key.expired"])),
               201, what="an endpoint registered by the administrator").body
    d.secrets += [w.pop("secret")]
    for change in ({"url": "http://93.184.216.35/mine"}, {"events": ["key.created"]},
                   {"url": "http://93.184.216.35/mine", "description": "x"}):
        expect(hooks_only.request("PATCH", f"/v1/webhooks/{w['id']}", json=change), 403,
               "forbidden", what=f"PATCH {change}")
    got = expect(hooks_only.request("GET", f"/v1/webhooks/{w['id']}"), 200).body
    eq((got["url"], got["events"], got["description"]), (w["url"], w["events"], w["description"]),
       "the endpoint is unchanged")
    r = expect(hooks_only.request("PATCH", f"/v1/webhooks/{w['id']}",
                                  json={"description": "renamed", "enabled": False}), 200,
               what="description and enabled by manage_webhooks alone")
    eq((r.body["description"], r.body["enabled"]), ("renamed", False), "changed")
    auditor = _person(d, "manage_webhooks", "view_audit")
    w2 = expect(auditor.request("POST", "/v1/webhooks", json=body), 201,
                what="create with view_audit as well").body
    d.secrets += [w2.pop("secret")]
    for x in (w, w2):
        expect(d.admin.request("DELETE", f"/v1/webhooks/{x['id']}"), 204)


def test_lifecycle_webhook_targets_behind_a_local_nat64_or_6to4_are_refused():
    """An insider with the webhook authorities points an endpoint at 64:ff9b:1::/48 (RFC 8215
    local-use NAT64: a local translator turns 64:ff9b:1::a9fe:a9fe into 169.254.169.254) or a
    6to4 address wrapping a private IPv4 one. Fails before: both were stored (201)."""
    d = _daemon()
    urls = ("http://[64:ff9b:1::a9fe:a9fe]/latest/meta-data/", "http://[64:ff9b:1::a00:1]/",
            "http://[2002:7f00:1::]/", "http://[2002:a9fe:a9fe::1]/")
    for url in urls:
        r = d.admin.request("POST", "/v1/webhooks", json={"url": url, "events": ["key.created"]})
        expect_error_field(r, "url")
        check("non-public" in r.body["errors"][0]["detail"], f"{url}: {r.body}")
    eq([x["url"] for x in expect(d.admin.request("GET", "/v1/webhooks"), 200).body["webhooks"]
        if x["url"] in urls], [], "none of them stored")


# --------------------------------------------------------------------------- notices

def test_lifecycle_an_issuer_taken_off_the_project_is_mailed_no_more_about_its_accounts_keys():
    """A project owner issues an API account's key and is then taken off the project: they
    may no longer see the account or its keys, yet every expiry notice and leak mail about
    the key still went to them (its name, hint, id, where it leaked). The issuer is now
    mailed only while they still manage the account; the project's owners are mailed as
    before. Fails before: the former owner receives the leak mail."""
    d = _mail_daemon()
    tag = uniq("gone")
    issuer = _mail_person(d, f"{tag}-issuer@example.test", roles=["user"])
    owner = _mail_person(d, f"{tag}-owner@example.test", login=False)
    pid = expect(d.admin.request("POST", "/v1/projects", json={"name": uniq("proj")}),
                 201).body["id"]
    for name in (issuer.username, owner.username):
        r = d.admin.request("PUT", f"/v1/projects/{pid}/members/user:{name}",
                            json={"role": "owner"})
        check(r.status in (200, 201), f"PUT member {name}: {r.status}")
    acct = expect(issuer.request("POST", "/v1/service-accounts",
                                 json={"name": uniq("acct"), "project": pid}), 201).body
    k = expect(issuer.request("POST", f"/v1/service-accounts/{acct['id']}/keys",
                              json={"name": uniq("acct-key"), "scopes": ["Tasks"]}), 201).body
    expect(d.admin.request("DELETE", f"/v1/projects/{pid}/members/user:{issuer.username}"), 204)
    expect(issuer.request("GET", f"/v1/service-accounts/{acct['id']}/keys/{k['id']}"), 404,
           what="the former owner can no longer see the key")
    expect(_post_report(d, [_report(k["key"])]), 200, what="GitHub reports the key")
    eq(len(_await_mails(d.smtp, f"{tag}-owner@example.test", 1)), 1, "mails to the owner")
    eq(_mails_to(d.smtp, f"{tag}-issuer@example.test"), [], "mails to the former owner")
