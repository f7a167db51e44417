"""Key rotation with overlap, token families and reuse detection (issue 17 item 1), against
docs/API.md "Rotation" and docs/SECURITY.md's rotation rule: user keys and API-account keys,
the overlap, the expiry caps, key callers' limits, refusals that store nothing, reuse revoking
a family, concurrent rotations of one key, and two nodes on PostgreSQL.

Overlaps are small (0 or 2 s), so the few waits are about two seconds each. Most tests share
one user on the shared daemon (a user costs two Argon2id hashes); each works on its own keys.
"""
import threading
import time

from run import (DAY, KEY_RE, Client, check, create_key, dedicated, eq, expect,
                 expect_error_field, expired_key, get_key, iso, list_keys, near, new_user, now,
                 one_year_after, shared, ts, uniq, verify)
from suite_cluster import _fresh_database, _kill_all, _nodes, _stop_all

OVERLAP_MAX = 604800


# --------------------------------------------------------------------------- helpers

_USER = {}


def me():
    """The user most tests share on the shared daemon (a logged-in Client)."""
    d = shared()
    k = (id(d), d.starts)
    if k not in _USER:
        _USER[k] = new_user(d, prefix="rot")
    return _USER[k]


def rotate(c, kid, body=None, account=None, status=201, ptype=None):
    """POST …/rotate with body (default {}); asserts the status; returns the response."""
    path = (f"/v1/service-accounts/{account}/keys/{kid}/rotate" if account
            else f"/v1/keys/{kid}/rotate")
    r = c.request("POST", path, json={} if body is None else body)
    return expect(r, status, ptype, what=f"POST {path} {body!r}")


def code(d, key):
    return verify(d, key).get("code")


def wait_past(epoch):
    """Sleeps until the clock is past epoch (a key's expiry) by a little."""
    wait = epoch + 1.05 - now()
    check(wait < 5, f"waiting {wait:.1f} s: too long for this suite")
    if wait > 0:
        time.sleep(wait)


def snapshot(c):
    """The caller's keys as (id, expires_at, superseded_by), to see that nothing changed."""
    return sorted((k["id"], k["expires_at"], k.get("superseded_by")) for k in list_keys(c))


def audit_events(d, target, action):
    r = expect(d.admin.request("GET", f"/v1/audit?target={target}&action={action}"), 200)
    return r.body["events"]


def new_account(d):
    r = expect(d.admin.request("POST", "/v1/service-accounts", json={"name": uniq("rot-acct")}),
               201, what="create an API account")
    return r.body["id"]


def account_key(c, account, scopes=("Tasks",), **fields):
    body = {"name": uniq("acct-key"), "scopes": list(scopes)}
    body.update(fields)
    r = expect(c.request("POST", f"/v1/service-accounts/{account}/keys", json=body), 201,
               what="create an API-account key")
    return r.body


# --------------------------------------------------------------------------- user keys

def test_rotate_user_key_201_with_new_secret_same_name_scopes_owner_and_rotated_from():
    c = me()
    d = c.d
    old = create_key(c, scopes=["Tasks", "Secret"], description="deploy bot")
    r = rotate(c, old["id"])
    new = r.body
    check(isinstance(new.get("key"), str) and KEY_RE.match(new["key"]),
          f"the rotation answers the new secret once, got {new.get('key')!r}")
    check(new["key"] != old["key"] and new["id"] != old["id"], "a new id and a new secret")
    eq(r.headers.get("Location"), f"/v1/keys/{new['id']}", "Location of the new key")
    for f in ("name", "description", "scopes", "created_by"):
        eq(new[f], old[f], f"the new key's {f}")
    eq(new["rotated_from"], old["id"], "rotated_from")
    eq(new["family_id"], old["id"], "the family is the first key's id")
    eq((new["superseded_by"], new["rotated_at"]), (None, None), "the new key is current")
    listed = {k["id"]: k for k in list_keys(c)}
    eq(listed[old["id"]]["superseded_by"], new["id"], "the old key names its successor")
    near(ts(listed[old["id"]]["rotated_at"], "rotated_at"), now(), 5, "rotated_at")
    check("key" not in listed[new["id"]], "the list never shows the secret")
    eq(code(d, new["key"]), "VALID", "the new key")
    eq(code(d, old["key"]), "EXPIRED", "the old key with no overlap")
    ev = audit_events(d, new["id"], "key.rotate")
    eq(len(ev), 1, "one key.rotate event, target the new key")
    check(old["id"] in ev[0]["detail"], f"the event names the old key: {ev[0]['detail']!r}")


def test_rotate_overlap_keeps_old_key_valid_then_expired():
    c = me()
    d = c.d
    old = create_key(c)
    new = rotate(c, old["id"], {"overlap_seconds": 2}).body
    old_now = get_key(c, old["id"])
    end = ts(old_now["expires_at"], "old key's expires_at")
    near(end, now() + 2, 2, "the old key's expiry: now + overlap")
    eq(code(d, old["key"]), "VALID", "the old key during the overlap")
    eq(code(d, new["key"]), "VALID", "the new key during the overlap")
    wait_past(end)
    eq(code(d, old["key"]), "EXPIRED", "the old key after the overlap")
    eq(code(d, new["key"]), "VALID", "the new key after the overlap")


def test_rotate_accepts_the_largest_overlap_of_7_days():
    c = me()
    old = create_key(c)
    rotate(c, old["id"], {"overlap_seconds": OVERLAP_MAX})
    near(ts(get_key(c, old["id"])["expires_at"], "expires_at"), now() + OVERLAP_MAX, 5,
         "old key's expiry with a 7-day overlap")


def test_rotate_overlap_never_lengthens_the_old_key():
    c = me()
    exp = int(now()) + 3600
    old = create_key(c, expires_at=iso(exp))
    rotate(c, old["id"], {"overlap_seconds": 2 * DAY})
    eq(get_key(c, old["id"])["expires_at"], iso(exp), "an overlap past the old expiry keeps it")


def test_rotate_default_expiry_is_the_old_lifetime_from_now():
    c = me()
    old = create_key(c, expires_at=iso(now() + 10 * DAY))
    lifetime = ts(old["expires_at"], "e") - ts(old["created_at"], "c")
    new = rotate(c, old["id"]).body
    near(ts(new["expires_at"], "new expires_at"), now() + lifetime, 5,
         "the new key lives as long as the old one did, from the rotation")


def test_rotate_explicit_expiry_is_kept():
    c = me()
    old = create_key(c)
    exp = int(now()) + 3 * DAY
    new = rotate(c, old["id"], {"expires_at": iso(exp)}).body
    eq(new["expires_at"], iso(exp), "expires_at as asked")


def test_rotate_one_year_cap_counted_from_the_rotation():
    c = me()
    t = now()
    old = create_key(c, expires_at=iso(one_year_after(t) - 60))
    ok = rotate(c, old["id"], {"expires_at": iso(one_year_after(now()) - 5)}).body
    check(ts(ok["expires_at"], "e") <= one_year_after(now()), "within a year of the rotation")
    before = snapshot(c)
    r = rotate(c, ok["id"], {"expires_at": iso(one_year_after(now()) + 120)}, status=422,
               ptype="validation-failed")
    expect_error_field(r, "expires_at")
    eq(snapshot(c), before, "nothing changed by the refused rotation")
    # the default (the old lifetime) never goes past a year from the rotation either
    new = rotate(c, ok["id"]).body
    check(ts(new["expires_at"], "e") <= one_year_after(now()),
          f"the default expiry is capped at one year: {new['expires_at']}")


def _refused_body_test(body, status, ptype, field=None, raw=None, headers=None):
    def t():
        c = me()
        d = c.d
        k = create_key(c)
        before = snapshot(c)
        if raw is None:
            r = c.request("POST", f"/v1/keys/{k['id']}/rotate", json=body, headers=headers)
        else:
            r = c.request("POST", f"/v1/keys/{k['id']}/rotate", raw_body=raw, headers=headers)
        expect(r, status, ptype)
        if field:
            expect_error_field(r, field)
        eq(snapshot(c), before, "nothing stored by the refused rotation")
        eq(code(d, k["key"]), "VALID", "the key still works")
    return t


for _name, _args in {
    "negative_overlap": ({"overlap_seconds": -1}, 422, "validation-failed", "overlap_seconds"),
    "overlap_over_7_days": ({"overlap_seconds": OVERLAP_MAX + 1}, 422, "validation-failed",
                            "overlap_seconds"),
    "huge_overlap": ({"overlap_seconds": 2 ** 62}, 422, "validation-failed", "overlap_seconds"),
    "string_overlap": ({"overlap_seconds": "60"}, 422, "validation-failed", "overlap_seconds"),
    "fractional_overlap": ({"overlap_seconds": 1.5}, 422, "validation-failed",
                           "overlap_seconds"),
    "boolean_overlap": ({"overlap_seconds": True}, 422, "validation-failed", "overlap_seconds"),
    "past_expiry": ({"expires_at": "2020-01-01T00:00:00Z"}, 422, "validation-failed",
                    "expires_at"),
    "garbage_expiry": ({"expires_at": "next week"}, 422, "validation-failed", "expires_at"),
    "number_expiry": ({"expires_at": 1893456000}, 422, "validation-failed", "expires_at"),
    "unknown_field": ({"overlap": 60}, 422, "validation-failed", "overlap"),
    "name_field": ({"name": "renamed"}, 422, "validation-failed", "name"),
    "scopes_field": ({"scopes": ["Tasks"]}, 422, "validation-failed", "scopes"),
}.items():
    globals()[f"test_rotate_refuses_{_name}_and_stores_nothing"] = _refused_body_test(*_args)

test_rotate_refuses_malformed_json_400_and_stores_nothing = _refused_body_test(
    None, 400, "malformed-json", raw='{"overlap_seconds": ')
test_rotate_refuses_array_body_400_and_stores_nothing = _refused_body_test(
    None, 400, "malformed-json", raw='[]')
test_rotate_refuses_empty_body_400_and_stores_nothing = _refused_body_test(
    None, 400, "malformed-json", raw='')
test_rotate_refuses_duplicate_members_400_and_stores_nothing = _refused_body_test(
    None, 400, "malformed-json", raw='{"overlap_seconds": 1, "overlap_seconds": 2}')
test_rotate_refuses_wrong_media_type_415_and_stores_nothing = _refused_body_test(
    None, 415, "unsupported-media-type", raw='{}', headers={"Content-Type": "text/plain"})


def test_rotate_get_is_405():
    c = me()
    k = create_key(c)
    r = expect(c.request("GET", f"/v1/keys/{k['id']}/rotate"), 405, "method-not-allowed")
    check("POST" in (r.headers.get("Allow") or ""), "Allow: POST")


def test_rotate_a_rotated_out_key_again_is_409():
    c = me()
    d = c.d
    old = create_key(c)
    new = rotate(c, old["id"], {"overlap_seconds": 60}).body
    before = snapshot(c)
    rotate(c, old["id"], status=409, ptype="conflict")
    eq(snapshot(c), before, "nothing changed")
    eq(code(d, new["key"]), "VALID", "the successor keeps working")


def test_rotate_an_expired_key_is_409():
    c, k = expired_key()          # run.py's key that expired 3 s after it was made
    before = snapshot(c)
    rotate(c, k["id"], status=409, ptype="conflict")
    eq(snapshot(c), before, "nothing stored")


def test_rotate_unknown_or_another_users_key_is_404():
    d = shared()
    a, b = me(), new_user(d)
    k = create_key(a)
    rotate(b, k["id"], status=404, ptype="not-found")
    rotate(b, "0" * 24, status=404, ptype="not-found")
    rotate(b, "x", status=404, ptype="not-found")
    eq(get_key(a, k["id"]).get("superseded_by"), None, "the owner's key is not rotated")
    eq(code(d, k["key"]), "VALID", "and keeps working")
    rotate(a, k["id"])  # while its owner may


def test_rotate_unauthenticated_is_401():
    c = me()
    k = create_key(c)
    expect(Client(c.d).request("POST", f"/v1/keys/{k['id']}/rotate", json={}), 401,
           "unauthenticated")


def test_rotate_with_session_needs_csrf_token():
    c = me()
    k = create_key(c)
    expect(c.request("POST", f"/v1/keys/{k['id']}/rotate", json={}, csrf=False), 403,
           "csrf-token-invalid")
    eq(get_key(c, k["id"]).get("superseded_by"), None, "not rotated")


def test_rotated_out_key_gives_up_its_name():
    """docs/API.md: names are unique among an owner's keys that are not rotated out."""
    c = me()
    old = create_key(c, name=uniq("same"))
    new = rotate(c, old["id"], {"overlap_seconds": 60}).body
    expect(c.request("POST", "/v1/keys", json={"name": old["name"], "scopes": ["Tasks"]}), 409,
           "conflict", what="the current key holds the name")
    expect(c.request("DELETE", f"/v1/keys/{new['id']}"), 204)
    create_key(c, name=old["name"])  # the rotated-out key does not hold it


def test_rotate_at_the_key_limit_is_409_limit_reached_and_stores_nothing():
    d = dedicated("rotate-limit", env={"APIKEYD_MAX_KEYS_PER_OWNER": "2"})
    try:
        c = new_user(d)
        a = create_key(c)
        create_key(c)
        before = snapshot(c)
        rotate(c, a["id"], status=409, ptype="limit-reached")
        eq(snapshot(c), before, "nothing stored")
        eq(code(d, a["key"]), "VALID", "the key is not rotated out")
    finally:
        d.stop()


def test_concurrent_rotations_of_one_key_exactly_one_wins():
    c = me()
    d = c.d
    old = create_key(c)
    n = 8
    go = threading.Barrier(n)
    results = [None] * n

    def one(i):
        go.wait()
        results[i] = c.request("POST", f"/v1/keys/{old['id']}/rotate",
                               json={"overlap_seconds": 60})

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    statuses = sorted(r.status for r in results)
    eq(statuses, [201] + [409] * (n - 1), "one rotation wins, the others are 409")
    for r in results:
        if r.status == 409:
            expect(r, 409, "conflict")
    winner = next(r.body for r in results if r.status == 201)
    family = [k for k in list_keys(c) if k["family_id"] == old["id"]]
    eq(sorted(k["id"] for k in family), sorted([old["id"], winner["id"]]),
       "the family holds the old key and the one winner")
    eq(get_key(c, old["id"])["superseded_by"], winner["id"], "the old key names the winner")
    eq(code(d, winner["key"]), "VALID", "the winner's key")


# --------------------------------------------------------------------------- key callers

def test_key_caller_rotates_with_apikey_scope_and_its_own_limits():
    c = me()
    d = c.d
    caller_exp = int(now()) + 5 * DAY
    caller = Client(d, key=create_key(c, scopes=["APIKey", "Tasks"],
                                      expires_at=iso(caller_exp))["key"])
    target = create_key(c, scopes=["Tasks"])
    before = snapshot(c)
    r = rotate(caller, target["id"], {"expires_at": iso(caller_exp + DAY)}, status=422,
               ptype="validation-failed")
    expect_error_field(r, "expires_at")
    eq(snapshot(c), before, "nothing stored")
    new = rotate(caller, target["id"]).body
    eq(new["expires_at"], iso(caller_exp), "the default is capped at the calling key's expiry")
    eq(new["scopes"], ["Tasks"], "same scopes")


def test_key_caller_cannot_rotate_a_key_with_scopes_it_lacks_403():
    c = me()
    d = c.d
    caller = Client(d, key=create_key(c, scopes=["APIKey"])["key"])
    target = create_key(c, scopes=["Tasks", "Secret"])
    before = snapshot(c)
    rotate(caller, target["id"], status=403, ptype="forbidden")
    eq(snapshot(c), before, "nothing stored")
    eq(code(d, target["key"]), "VALID", "the key is not rotated out")


def test_key_caller_without_apikey_scope_is_403():
    c = me()
    d = c.d
    caller = Client(d, key=create_key(c, scopes=["Tasks"])["key"])
    target = create_key(c, scopes=["Tasks"])
    rotate(caller, target["id"], status=403, ptype="forbidden")
    eq(get_key(c, target["id"]).get("superseded_by"), None, "not rotated")


def test_key_rotates_itself():
    c = me()
    d = c.d
    own = create_key(c, scopes=["APIKey", "Tasks"])
    new = rotate(Client(d, key=own["key"]), own["id"], {"overlap_seconds": 60}).body
    eq(new["rotated_from"], own["id"], "rotated_from")
    eq(new["expires_at"], own["expires_at"], "a key cannot outlive itself by rotating")
    eq((code(d, own["key"]), code(d, new["key"])), ("VALID", "VALID"), "both, during the overlap")


# --------------------------------------------------------------------------- reuse detection

def test_reuse_of_a_rotated_out_key_revokes_its_family():
    c = me()
    d = c.d
    a = create_key(c, scopes=["APIKey", "Tasks"])
    other = create_key(c)
    b = rotate(c, a["id"]).body                              # a: rotated out, overlap over
    cc = rotate(c, b["id"], {"overlap_seconds": 600}).body   # b: rotated out, still live
    eq((code(d, b["key"]), code(d, cc["key"])), ("VALID", "VALID"), "b and c before the reuse")
    r = rotate(Client(d, key=a["key"]), cc["id"], status=401, ptype="unauthenticated")
    check("revoked" in r.body["detail"], f"the answer says so: {r.body['detail']!r}")
    eq((code(d, b["key"]), code(d, cc["key"])), ("NOT_FOUND", "NOT_FOUND"),
       "every live key of the family is revoked")
    eq(code(d, a["key"]), "EXPIRED", "the reused key stays, expired")
    eq(code(d, other["key"]), "VALID", "another family of the same owner is untouched")
    ids = {k["id"] for k in list_keys(c)}
    check(b["id"] not in ids and cc["id"] not in ids and a["id"] in ids,
          f"b and c deleted, a kept: {ids}")
    eq(len(audit_events(d, a["id"], "key.reuse_revoke")), 1, "one key.reuse_revoke event")
    for k in (b, cc):
        ev = audit_events(d, k["id"], "key.delete")
        eq(len(ev), 1, f"a key.delete event for {k['id']}")
        eq(ev[0]["actor"], "(system)", "the revocation's actor")


def test_reuse_on_any_rotate_endpoint_counts():
    """Presenting the old key to rotate some other key (even one it may not reach) is reuse."""
    d = shared()
    c, stranger = me(), new_user(d)
    a = create_key(c, scopes=["APIKey"])
    b = rotate(c, a["id"]).body
    elsewhere = create_key(stranger)
    rotate(Client(d, key=a["key"]), elsewhere["id"], status=401, ptype="unauthenticated")
    eq(code(d, b["key"]), "NOT_FOUND", "the family is revoked")
    eq(code(d, elsewhere["key"]), "VALID", "the stranger's key is untouched")


def test_rotated_out_key_during_its_overlap_is_no_reuse():
    c = me()
    d = c.d
    a = create_key(c, scopes=["APIKey", "Tasks"])
    b = rotate(c, a["id"], {"overlap_seconds": 600}).body
    rotate(Client(d, key=a["key"]), a["id"], status=409, ptype="conflict")
    eq((code(d, a["key"]), code(d, b["key"])), ("VALID", "VALID"), "nothing revoked")


def test_expired_key_that_was_never_rotated_is_no_reuse():
    c, k = expired_key()          # scopes APIKey and Tasks, never rotated
    d = c.d
    other = create_key(c)
    r = rotate(Client(d, key=k["key"]), other["id"], status=401, ptype="unauthenticated")
    check("revoked" not in r.body["detail"], f"no revocation: {r.body['detail']!r}")
    eq(code(d, other["key"]), "VALID", "nothing revoked")
    eq(audit_events(d, k["id"], "key.reuse_revoke"), [], "no reuse event")


def test_rotated_out_key_on_other_endpoints_is_plain_401():
    c = me()
    d = c.d
    a = create_key(c, scopes=["APIKey"])
    b = rotate(c, a["id"]).body
    expect(Client(d, key=a["key"]).request("GET", "/v1/keys"), 401, "unauthenticated")
    expect(Client(d, key=a["key"]).request("POST", "/v1/keys",
                                           json={"name": uniq(), "scopes": ["APIKey"]}),
           401, "unauthenticated")
    eq(code(d, b["key"]), "VALID", "no revocation outside the rotate endpoints")


# --------------------------------------------------------------------------- API-account keys

def test_rotate_account_key_by_its_manager():
    d = shared()
    acct = new_account(d)
    old = account_key(d.admin, acct, description="ci")
    r = rotate(d.admin, old["id"], {"overlap_seconds": 60}, account=acct)
    new = r.body
    eq(r.headers.get("Location"), f"/v1/service-accounts/{acct}/keys/{new['id']}", "Location")
    eq((new["name"], new["description"], new["scopes"], new["rotated_from"]),
       (old["name"], "ci", old["scopes"], old["id"]), "name, description, scopes, rotated_from")
    v = verify(d, new["key"])
    eq((v["code"], v["owner"]), ("VALID", {"type": "service-account", "name": acct}),
       "the new key's owner is the account")
    eq(code(d, old["key"]), "VALID", "the old key during the overlap")
    listed = expect(d.admin.request("GET", f"/v1/service-accounts/{acct}/keys"), 200).body["keys"]
    eq(next(k for k in listed if k["id"] == old["id"])["superseded_by"], new["id"],
       "the account's list shows the old key as rotated out")


def test_account_key_rotates_its_own_accounts_key_but_not_another_accounts():
    d = shared()
    acct, other = new_account(d), new_account(d)
    mine = account_key(d.admin, acct, scopes=["APIKey", "Tasks"])
    target = account_key(d.admin, acct)
    theirs = account_key(d.admin, other)
    caller = Client(d, key=mine["key"])
    rotate(caller, target["id"], account=acct)
    rotate(caller, theirs["id"], account=other, status=403, ptype="forbidden")
    eq(code(d, theirs["key"]), "VALID", "the other account's key is untouched")


def test_account_key_rotation_refused_to_non_managers_and_through_v1_keys():
    d = shared()
    acct = new_account(d)
    k = account_key(d.admin, acct)
    u = me()  # an ordinary user: manages no API account
    rotate(u, k["id"], account=acct, status=404, ptype="not-found")
    rotate(d.admin, k["id"], status=404, ptype="not-found")  # not the admin's own key
    check(verify(d, k["key"])["code"] == "VALID", "not rotated")
    rotate(d.admin, k["id"], account=acct)  # while its manager may


def test_rotate_key_of_disabled_account_is_409():
    d = shared()
    acct = new_account(d)
    k = account_key(d.admin, acct)
    expect(d.admin.request("PATCH", f"/v1/service-accounts/{acct}", json={"disabled": True}), 200)
    rotate(d.admin, k["id"], account=acct, status=409, ptype="conflict")
    listed = expect(d.admin.request("GET", f"/v1/service-accounts/{acct}/keys"), 200).body["keys"]
    eq([x["id"] for x in listed], [k["id"]], "nothing stored")


def test_reuse_on_the_account_rotate_endpoint_revokes_the_family():
    d = shared()
    acct = new_account(d)
    a = account_key(d.admin, acct, scopes=["APIKey", "Tasks"])
    b = rotate(d.admin, a["id"], account=acct).body
    rotate(Client(d, key=a["key"]), b["id"], account=acct, status=401, ptype="unauthenticated")
    eq(code(d, b["key"]), "NOT_FOUND", "the account key's family is revoked")


# --------------------------------------------------------------------------- several nodes

def test_cluster_rotation_on_one_node_is_seen_on_the_other():
    a, b = _nodes(2, _fresh_database())
    try:
        c = new_user(a)
        old = create_key(c, scopes=["APIKey", "Tasks"])
        deadline = time.monotonic() + 2
        while code(b, old["key"]) != "VALID" and time.monotonic() < deadline:
            time.sleep(0.01)
        eq(code(b, old["key"]), "VALID", "node B knows the key")
        new = rotate(c, old["id"], {"overlap_seconds": 2}).body
        end = ts(get_key(c, old["id"])["expires_at"], "old expires_at")
        deadline = time.monotonic() + 2
        while code(b, new["key"]) != "VALID" and time.monotonic() < deadline:
            time.sleep(0.01)
        eq(code(b, new["key"]), "VALID", "node B verifies the new key")
        check(now() < end, "still inside the overlap")
        eq(code(b, old["key"]), "VALID", "node B: the old key during the overlap")
        wait_past(end)
        eq((code(b, old["key"]), code(a, old["key"])), ("EXPIRED", "EXPIRED"),
           "the old key after the overlap, on both nodes")
        eq(code(b, new["key"]), "VALID", "node B: the new key after the overlap")
        # reuse detected on node B revokes the family on node A too
        rotate(Client(b, key=old["key"]), new["id"], status=401, ptype="unauthenticated")
        deadline = time.monotonic() + 2
        while code(a, new["key"]) != "NOT_FOUND" and time.monotonic() < deadline:
            time.sleep(0.01)
        eq(code(a, new["key"]), "NOT_FOUND", "node A: the family revoked on node B")
        _stop_all([a, b])
    finally:
        _kill_all([a, b])


def test_cluster_concurrent_rotations_on_two_nodes_exactly_one_wins():
    a, b = _nodes(2, _fresh_database())
    try:
        c = new_user(a)
        cb = Client(b)
        cb.login(c.username, c.password)
        old = create_key(c)
        n = 6
        go = threading.Barrier(n)
        results = [None] * n

        def one(i):
            who = c if i % 2 == 0 else cb
            go.wait()
            results[i] = who.request("POST", f"/v1/keys/{old['id']}/rotate", json={})

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        eq(sorted(r.status for r in results), [201] + [409] * (n - 1),
           "one rotation wins across the nodes, the others are 409")
        family = [k for k in list_keys(c) if k["family_id"] == old["id"]]
        eq(len(family), 2, "the old key and one successor")
        _stop_all([a, b])
    finally:
        _kill_all([a, b])
