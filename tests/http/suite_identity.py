"""Identity (issue 3) over HTTP, against docs/API.md ("Identity: users, roles, groups,
environments", "Other people's keys", "Groups and environments", "Self-service: profile,
password, MFA", "Audit"): one behaviour per test.

Most tests use the shared daemon and keep out of each other's way with their own users and
unique names. Tests that fail logins on purpose (wrong or replayed one-time codes, SSO or
disabled accounts, wrong current passwords) use a second shared daemon whose login throttle
is raised, because failed logins from 127.0.0.1 add up per client and would block everyone
else's logins on the main one. Last-admin tests change global state and start their own.

TOTP codes are computed here (RFC 6238). A code is never accepted twice and a step not later
than the last accepted one is refused, so after confirming with the current step's code the
tests log in with the next step's code (t+30, inside the +-1 step window) instead of
sleeping.
"""
import base64
import hashlib
import hmac
import os
import struct
import time
import urllib.parse

from run import (_SHARED, _SHARED_FAILED, ADMIN_PASS, ADMIN_USER, DEFAULT_SCOPES,
                 Client, Daemon, auth, check, check_key_object, create_key, dedicated, eq,
                 expect, expect_error_field, iso, list_keys, near, role_names, shared, ts,
                 uniq, uniq_user, verify)

AUTHORITIES = ["manage_users", "manage_user_api_keys", "manage_roles", "manage_groups",
               "manage_environments", "manage_service_accounts", "manage_projects",
               "manage_scopes", "view_audit", "manage_webhooks"]
USER_FIELDS = ["username", "full_name", "email", "auth_source", "environment", "roles",
               "groups", "authorities", "disabled", "mfa_enabled", "created_at"]
GROUP_FIELDS = ["name", "description", "environment", "roles", "members"]
ROLE_FIELDS = ["name", "description", "authorities", "builtin"]
EVENT_FIELDS = ["id", "at", "actor", "action", "target_type", "target", "client", "detail"]


# --------------------------------------------------------------------------- daemons

def logins():
    """A second shared daemon for tests that fail logins on purpose (see the module doc).
    Registered with run's shared daemons, so the runner stops it at the end and checks that
    it exits 0 and keeps no key secret at rest."""
    kind = "identity-logins"
    if kind not in _SHARED and kind not in _SHARED_FAILED:
        d = Daemon(f"shared-{kind}", env={"APIKEYD_VERIFY_MAX_FAILURES": "1000000",
                                          "APIKEYD_LOGIN_MAX_FAILURES": "1000"})
        try:
            d.start()
        except AssertionError as e:
            _SHARED_FAILED[kind] = str(e)
            raise
        _SHARED[kind] = d
    return shared(kind)


def with_dedicated(label, fn):
    d = dedicated(label)
    try:
        fn(d)
        d.stop()
    finally:
        d.kill()


# --------------------------------------------------------------------------- helpers

def new_pw():
    return "pw-" + os.urandom(8).hex()


def mkuser(d, roles=None, login=True, prefix="i", **fields):
    """Creates a local user through the admin; returns a Client (logged in unless
    login=False) whose username and password are set either way."""
    name, pw = uniq_user(prefix), new_pw()
    body = {"username": name, "password": pw}
    if roles is not None:
        body["roles"] = roles
    body.update(fields)
    expect(d.admin.request("POST", "/v1/users", json=body), 201, what=f"create user {name}")
    c = Client(d)
    if login:
        c.login(name, pw)
    c.username, c.password = name, pw
    return c


def mksso(d, source="saml"):
    name = uniq_user("sso")
    r = d.admin.request("POST", "/v1/users", json={"username": name, "auth_source": source})
    expect(r, 201, what=f"create {source} user")
    return name


def mkrole(d, authorities, **fields):
    name = uniq("role")
    body = {"name": name, "authorities": list(authorities)}
    body.update(fields)
    expect(d.admin.request("POST", "/v1/roles", json=body), 201, what=f"create role {name}")
    return name


def mkgroup(d, **fields):
    name = uniq("grp")
    body = {"name": name}
    body.update(fields)
    expect(d.admin.request("POST", "/v1/groups", json=body), 201, what=f"create group {name}")
    return name


def mkenv(d):
    name = uniq("env")
    expect(d.admin.request("POST", "/v1/environments", json={"name": name}), 201,
           what=f"create environment {name}")
    return name


def get_user(d, name):
    return expect(d.admin.request("GET", f"/v1/users/{name}"), 200,
                  what=f"admin GET /v1/users/{name}").body


def get_me(c):
    return expect(c.request("GET", "/v1/me"), 200, what=f"GET /v1/me as {c.username}").body


def status_of(c, path):
    return c.request("GET", path).status


def key_client(d, owner, scopes):
    """A Client that authenticates with a new key of owner's holding `scopes`."""
    return Client(d, key=create_key(owner, scopes=scopes)["key"])


def login(d, username, password, otp=None):
    body = {"username": username, "password": password}
    if otp is not None:
        body["otp"] = otp
    c = Client(d)
    r = c.request("POST", "/v1/login", json=body)
    return r, c


def audit(d, caller=None, **query):
    q = urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
    r = (caller or d.admin).request("GET", "/v1/audit" + (f"?{q}" if q else ""))
    expect(r, 200, what=f"GET /v1/audit?{q}")
    check(isinstance(r.body, dict) and isinstance(r.body.get("events"), list)
          and "next_before" in r.body,
          f"GET /v1/audit: expected {{events:[...], next_before}}, got {r.raw[:300]!r}")
    return r.body


def actions(events):
    return [e.get("action") for e in events]


def authority_names(body):
    items = body.get("authorities") if isinstance(body, dict) else body
    check(isinstance(items, list), f"GET /v1/authorities: expected a list, got {body!r}")
    return [x.get("name") if isinstance(x, dict) else x for x in items]


def totp(secret_b32, t=None, step=30):
    """RFC 6238: HMAC-SHA1 over the 30 s step counter, dynamic truncation, 6 digits."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if t is None else t) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def enrol(c):
    r = expect(c.request("POST", "/v1/me/mfa", json={"current_password": c.password}), 200,
               what="POST /v1/me/mfa")
    check(isinstance(r.body.get("secret"), str) and r.body["secret"],
          f"enrolment: expected a secret, got {r.body!r}")
    return r.body["secret"]


def mfa_on_with_codes(c):
    """Enrols and confirms with the current step's code; returns (secret, t of that code, the
    recovery codes). The codes join the daemon's secrets: no later response, log or data
    file may hold them."""
    secret = enrol(c)
    t = time.time()
    r = expect(c.request("POST", "/v1/me/mfa/confirm",
                         json={"code": totp(secret, t), "current_password": c.password}), 200,
               what="POST /v1/me/mfa/confirm with the current code")
    codes = r.body.get("recovery_codes") if isinstance(r.body, dict) else None
    check(isinstance(codes, list) and all(isinstance(x, str) for x in codes),
          f"confirm: expected recovery_codes, got {r.raw[:200]!r}")
    c.d.secrets.extend(codes)
    return secret, t, codes


def mfa_on(c):
    """Enrols and confirms with the current step's code; returns (secret, t of that code)."""
    secret, t, _ = mfa_on_with_codes(c)
    return secret, t


# =========================================================================== authorities, roles

def test_authorities_lists_the_ten_documented_authorities():
    c = mkuser(shared())
    r = expect(c.request("GET", "/v1/authorities"), 200, what="GET /v1/authorities as a plain user")
    eq(sorted(authority_names(r.body)), sorted(AUTHORITIES), "authorities")


def test_builtin_roles_admin_has_every_authority_and_user_none():
    c = mkuser(shared())
    r = expect(c.request("GET", "/v1/roles"), 200, what="GET /v1/roles as a plain user")
    roles = {x.get("name"): x for x in r.body.get("roles", [])}
    check("admin" in roles and "user" in roles, f"expected built-in admin and user, got "
                                                f"{sorted(roles)}")
    for f in ROLE_FIELDS:
        check(f in roles["admin"], f"role object: expected field {f!r}, got {roles['admin']!r}")
    eq(sorted(roles["admin"]["authorities"]), sorted(AUTHORITIES), "admin's authorities")
    eq(roles["user"]["authorities"], [], "user's authorities")
    eq((roles["admin"]["builtin"], roles["user"]["builtin"]), (True, True), "builtin flags")


def test_builtin_admin_role_cannot_be_replaced_403():
    d = shared()
    before = expect(d.admin.request("GET", "/v1/roles/admin"), 200).body
    expect(d.admin.request("PUT", "/v1/roles/admin", json={"authorities": ["view_audit"]}),
           403, "forbidden")
    eq(expect(d.admin.request("GET", "/v1/roles/admin"), 200).body, before, "role admin after")


def test_builtin_user_role_cannot_be_replaced_403():
    d = shared()
    expect(d.admin.request("PUT", "/v1/roles/user", json={"authorities": ["manage_users"]}),
           403, "forbidden")
    eq(expect(d.admin.request("GET", "/v1/roles/user"), 200).body.get("authorities"), [],
       "role user's authorities after")
    c = mkuser(d)
    expect(c.request("GET", "/v1/users"), 403, "forbidden", what="a plain user afterwards")


def test_builtin_roles_cannot_be_deleted_403():
    d = shared()
    for name in ("admin", "user"):
        expect(d.admin.request("DELETE", f"/v1/roles/{name}"), 403, "forbidden",
               what=f"DELETE /v1/roles/{name}")
        expect(d.admin.request("GET", f"/v1/roles/{name}"), 200, what=f"{name} afterwards")


def test_custom_role_created_201_and_readable():
    d = shared()
    name = uniq("role")
    r = d.admin.request("POST", "/v1/roles", json={"name": name, "description": "Auditors",
                                                   "authorities": ["view_audit"]})
    expect(r, 201)
    got = expect(mkuser(d).request("GET", f"/v1/roles/{name}"), 200,
                 what="GET the role as a plain user").body
    eq((got.get("name"), got.get("description"), got.get("authorities"), got.get("builtin")),
       (name, "Auditors", ["view_audit"], False), "the role")
    listed = [x for x in expect(d.admin.request("GET", "/v1/roles"), 200).body["roles"]
              if x.get("name") == name]
    eq(len(listed), 1, "the role in GET /v1/roles")


def test_custom_role_put_replaces_authorities_and_description():
    d = shared()
    name = mkrole(d, ["view_audit", "manage_groups"], description="old")
    r = d.admin.request("PUT", f"/v1/roles/{name}", json={"description": "new",
                                                          "authorities": ["manage_roles"]})
    expect(r, 200)
    got = expect(d.admin.request("GET", f"/v1/roles/{name}"), 200).body
    eq((got["description"], got["authorities"]), ("new", ["manage_roles"]), "role after PUT")


def test_custom_role_deleted_204_then_404():
    d = shared()
    name = mkrole(d, ["view_audit"])
    expect(d.admin.request("DELETE", f"/v1/roles/{name}"), 204)
    expect(d.admin.request("GET", f"/v1/roles/{name}"), 404, "not-found")
    check(name not in [x["name"] for x in d.admin.request("GET", "/v1/roles").body["roles"]],
          "the deleted role is still listed")


def test_duplicate_role_name_is_409_and_original_kept():
    d = shared()
    name = mkrole(d, ["view_audit"])
    r = d.admin.request("POST", "/v1/roles", json={"name": name, "authorities": ["manage_users"]})
    expect(r, 409, "conflict")
    eq(d.admin.request("GET", f"/v1/roles/{name}").body.get("authorities"), ["view_audit"],
       "the original role's authorities")


def test_role_named_like_a_builtin_is_409():
    d = shared()
    r = d.admin.request("POST", "/v1/roles", json={"name": "admin", "authorities": []})
    expect(r, 409, "conflict")
    eq(sorted(d.admin.request("GET", "/v1/roles/admin").body.get("authorities")),
       sorted(AUTHORITIES), "admin's authorities afterwards")


def test_role_with_unknown_authority_is_422_nothing_stored():
    d = shared()
    name = uniq("role")
    r = d.admin.request("POST", "/v1/roles", json={"name": name,
                                                   "authorities": ["view_audit", "fly"]})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "authorities")
    expect(d.admin.request("GET", f"/v1/roles/{name}"), 404, "not-found", what="the role")


def test_role_put_with_unknown_authority_is_422_role_unchanged():
    d = shared()
    name = mkrole(d, ["view_audit"])
    r = d.admin.request("PUT", f"/v1/roles/{name}", json={"authorities": ["root_everything"]})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "authorities")
    eq(d.admin.request("GET", f"/v1/roles/{name}").body.get("authorities"), ["view_audit"],
       "authorities after the refused PUT")


def test_role_names_outside_charset_or_length_are_422():
    d = shared()
    for bad in ("", "has space", "semi;colon", "x" * 65, "r\u00f6le", "slash/name"):
        r = d.admin.request("POST", "/v1/roles", json={"name": bad, "authorities": []})
        expect(r, 422, "validation-failed", what=f"role name {bad!r}")
        expect_error_field(r, "name")
    ok = "R._-" + os.urandom(30).hex()
    expect(d.admin.request("POST", "/v1/roles", json={"name": ok, "authorities": []}), 201,
           what="a 64-character name of the allowed characters")
    expect(d.admin.request("DELETE", f"/v1/roles/{ok}"), 204)


def test_get_unknown_role_is_404():
    expect(shared().admin.request("GET", f"/v1/roles/{uniq('nope')}"), 404, "not-found")


def test_role_held_by_a_user_cannot_be_deleted_409():
    d = shared()
    name = mkrole(d, ["view_audit"])
    mkuser(d, roles=[name], login=False)
    expect(d.admin.request("DELETE", f"/v1/roles/{name}"), 409, "conflict")
    expect(d.admin.request("GET", f"/v1/roles/{name}"), 200, what="the role afterwards")


def test_role_held_by_a_group_cannot_be_deleted_409():
    d = shared()
    name = mkrole(d, ["view_audit"])
    mkgroup(d, roles=[name])
    expect(d.admin.request("DELETE", f"/v1/roles/{name}"), 409, "conflict")
    expect(d.admin.request("GET", f"/v1/roles/{name}"), 200, what="the role afterwards")


def test_role_can_be_deleted_once_no_user_holds_it():
    d = shared()
    name = mkrole(d, ["view_audit"])
    u = mkuser(d, roles=[name], login=False)
    expect(d.admin.request("PATCH", f"/v1/users/{u.username}", json={"roles": ["user"]}), 200)
    expect(d.admin.request("DELETE", f"/v1/roles/{name}"), 204)


def test_custom_role_grants_its_authority_to_its_holder():
    d = shared()
    c = mkuser(d, roles=["user", mkrole(d, ["manage_users"])])
    expect(c.request("GET", "/v1/users"), 200, what="GET /v1/users with manage_users")
    expect(c.request("GET", "/v1/audit"), 403, "forbidden", what="GET /v1/audit without view_audit")


def test_replacing_a_roles_authorities_takes_effect_for_its_holders():
    d = shared()
    role = mkrole(d, ["manage_users"])
    c = mkuser(d, roles=[role])
    expect(c.request("GET", "/v1/users"), 200, what="before the role changes")
    expect(d.admin.request("PUT", f"/v1/roles/{role}", json={"authorities": ["view_audit"]}), 200)
    expect(c.request("GET", "/v1/users"), 403, "forbidden", what="after manage_users was removed")
    expect(c.request("GET", "/v1/audit"), 200, what="after view_audit was added")


def test_manage_users_alone_does_not_allow_changing_roles():
    d = shared()
    c = mkuser(d, roles=[mkrole(d, ["manage_users"])])
    name = uniq("role")
    expect(c.request("POST", "/v1/roles", json={"name": name, "authorities": []}), 403,
           "forbidden")
    expect(d.admin.request("GET", f"/v1/roles/{name}"), 404, "not-found", what="the role")


def test_role_granted_through_group_comes_with_membership_and_goes_with_removal():
    d = shared()
    c = mkuser(d)
    expect(c.request("GET", "/v1/users"), 403, "forbidden", what="before joining the group")
    g = mkgroup(d, roles=[mkrole(d, ["manage_users"])])
    expect(d.admin.request("PUT", f"/v1/groups/{g}", json={"members": [c.username]}), 200)
    expect(c.request("GET", "/v1/users"), 200, what="as a member of the group")
    expect(d.admin.request("PUT", f"/v1/groups/{g}", json={"members": []}), 200)
    expect(c.request("GET", "/v1/users"), 403, "forbidden", what="after leaving the group")


def test_deleting_a_group_takes_its_roles_from_its_members():
    d = shared()
    c = mkuser(d)
    g = mkgroup(d, roles=[mkrole(d, ["view_audit"])], members=[c.username])
    expect(c.request("GET", "/v1/audit?limit=1"), 200, what="as a member of the group")
    expect(d.admin.request("DELETE", f"/v1/groups/{g}"), 204)
    expect(c.request("GET", "/v1/audit?limit=1"), 403, "forbidden", what="after the group went")


def test_user_authorities_are_union_of_own_and_group_roles():
    d = shared()
    own = mkrole(d, ["manage_groups"])
    u = mkuser(d, roles=[own], login=False)
    g = mkgroup(d, roles=[mkrole(d, ["view_audit", "manage_groups"])], members=[u.username])
    got = get_user(d, u.username)
    eq(sorted(got["authorities"]), ["manage_groups", "view_audit"], "effective authorities")
    eq(got["roles"], [own], "the user's own roles (group roles not copied)")
    eq(got["groups"], [g], "the user's groups")


# =========================================================================== users

def test_created_user_has_documented_fields_and_defaults():
    d = shared()
    name, pw = uniq_user("i"), new_pw()
    expect(d.admin.request("POST", "/v1/users", json={"username": name, "password": pw}), 201)
    body = get_user(d, name)
    for f in USER_FIELDS:
        check(f in body, f"user object: expected field {f!r}, got {sorted(body)}")
    eq((body["username"], body["auth_source"], body["environment"], body["roles"],
        body["groups"], body["authorities"], body["disabled"], body["mfa_enabled"]),
       (name, "local", "ROOT", ["user"], [], [], False, False), "defaults")
    near(ts(body["created_at"], "created_at"), time.time(), 10, "created_at")


def test_user_object_never_carries_password_or_mfa_secret():
    d = shared()
    c = mkuser(d)
    secret = enrol(c)
    for r in (d.admin.request("GET", f"/v1/users/{c.username}"), c.request("GET", "/v1/me"),
              d.admin.request("GET", "/v1/users")):
        expect(r, 200)
        raw = r.raw.decode()
        for bad in (c.password, secret, "argon2", "$argon2id$"):
            check(bad not in raw, f"{r.path}: the answer contains {bad[:8]!r}...")
        fields = set(r.body) if r.path != "/v1/users" else set().union(*r.body["users"])
        check(not [f for f in fields if "password" in f or "secret" in f or "hash" in f],
              f"{r.path}: secret-looking fields {sorted(fields)}")


def test_users_list_is_sorted_by_username_and_contains_new_users():
    d = shared()
    names = [mkuser(d, login=False).username for _ in range(2)]
    users = expect(d.admin.request("GET", "/v1/users"), 200).body["users"]
    got = [u["username"] for u in users]
    eq(got, sorted(got), "GET /v1/users order")
    for n in names + [ADMIN_USER]:
        check(n in got, f"GET /v1/users: {n} missing")


def test_user_reads_own_user_object_without_manage_users():
    c = mkuser(shared())
    body = expect(c.request("GET", f"/v1/users/{c.username}"), 200).body
    eq(body.get("username"), c.username, "username")


def test_get_unknown_user_is_404():
    expect(shared().admin.request("GET", f"/v1/users/{uniq_user('ghost')}"), 404, "not-found")


def test_duplicate_username_is_409_and_original_password_kept():
    d = shared()
    u = mkuser(d, login=False)
    r = d.admin.request("POST", "/v1/users", json={"username": u.username, "password": new_pw()})
    expect(r, 409, "conflict")
    Client(d).login(u.username, u.password)


def test_invalid_usernames_are_422_nothing_stored():
    d = shared()
    for bad in ("", "has space", "semi;colon", "u" * 65, "\u00fcser", "a/b", "x:y"):
        r = d.admin.request("POST", "/v1/users", json={"username": bad, "password": new_pw()})
        expect(r, 422, "validation-failed", what=f"username {bad!r}")
        expect_error_field(r, "username")
    names = [u["username"] for u in d.admin.request("GET", "/v1/users").body["users"]]
    check("has space" not in names and "x:y" not in names, "a refused user was stored")
    ok = "A.b_c-" + os.urandom(29).hex()
    expect(d.admin.request("POST", "/v1/users", json={"username": ok, "password": new_pw()}),
           201, what="a 64-character username of the allowed characters")


def test_password_shorter_than_12_or_longer_than_128_is_422():
    d = shared()
    for pw in ("a1-b2-c3-d4", "p" * 129):
        name = uniq_user("pl")
        r = d.admin.request("POST", "/v1/users", json={"username": name, "password": pw})
        expect(r, 422, "validation-failed", what=f"password of {len(pw)} characters")
        expect_error_field(r, "password")
        expect(d.admin.request("GET", f"/v1/users/{name}"), 404, "not-found")


def test_password_of_12_and_128_characters_accepted():
    d = shared()
    for pw in ("k7#Qm2!vX9zr", "Zq8" + "w" * 124 + "!"):
        name = uniq_user("pl")
        expect(d.admin.request("POST", "/v1/users", json={"username": name, "password": pw}), 201,
               what=f"password of {len(pw)} characters")
        Client(d).login(name, pw)


def test_common_passwords_are_422():
    d = shared()
    for pw in ("letmein12345", "correcthorsebatterystaple", "qwertyuiop123"):
        r = d.admin.request("POST", "/v1/users", json={"username": uniq_user("cp"), "password": pw})
        expect(r, 422, "validation-failed", what=f"common password {pw!r}")
        expect_error_field(r, "password")


def test_password_equal_to_username_is_422():
    d = shared()
    name = "same" + os.urandom(6).hex()
    r = d.admin.request("POST", "/v1/users", json={"username": name, "password": name})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "password")
    expect(d.admin.request("GET", f"/v1/users/{name}"), 404, "not-found")


def test_local_user_without_password_is_422():
    d = shared()
    name = uniq_user("np")
    r = d.admin.request("POST", "/v1/users", json={"username": name})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "password")
    expect(d.admin.request("GET", f"/v1/users/{name}"), 404, "not-found")


def test_sso_users_are_created_without_password():
    d = shared()
    for source in ("ldap", "saml"):
        body = get_user(d, mksso(d, source))
        eq(body["auth_source"], source, "auth_source")


def test_sso_user_with_password_is_422():
    d = shared()
    name = uniq_user("sso")
    r = d.admin.request("POST", "/v1/users", json={"username": name, "auth_source": "ldap",
                                                   "password": new_pw()})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "password")
    expect(d.admin.request("GET", f"/v1/users/{name}"), 404, "not-found")


def test_unknown_auth_source_is_422():
    d = shared()
    name = uniq_user("as")
    r = d.admin.request("POST", "/v1/users", json={"username": name, "auth_source": "kerberos"})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "auth_source")


def test_invalid_user_emails_are_422_and_empty_email_accepted():
    d = shared()
    for bad in ("no-at-sign.example.org", "two@@example.org", "a@b@example.org",
                "nodot@localhost", "x" * 243 + "@example.org"):
        r = d.admin.request("POST", "/v1/users", json={"username": uniq_user("em"),
                                                       "password": new_pw(), "email": bad})
        expect(r, 422, "validation-failed", what=f"email {bad[:30]!r} ({len(bad)} chars)")
        expect_error_field(r, "email")
    ok = "x" * 242 + "@example.org"
    for good in ("", ok):
        expect(d.admin.request("POST", "/v1/users", json={"username": uniq_user("em"),
                                                          "password": new_pw(), "email": good}),
               201, what=f"email of {len(good)} characters")


def test_full_name_over_100_characters_is_422():
    d = shared()
    r = d.admin.request("POST", "/v1/users", json={"username": uniq_user("fn"),
                                                   "password": new_pw(), "full_name": "n" * 101})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "full_name")
    expect(d.admin.request("POST", "/v1/users", json={"username": uniq_user("fn"),
                                                      "password": new_pw(),
                                                      "full_name": "\u00e9" * 100}), 201,
           what="a full name of 100 characters")


def test_user_with_unknown_role_or_environment_is_422():
    d = shared()
    for field, value in (("roles", [uniq("norole")]), ("environment", uniq("noenv"))):
        name = uniq_user("ur")
        r = d.admin.request("POST", "/v1/users", json={"username": name, "password": new_pw(),
                                                       field: value})
        expect(r, 422, "validation-failed", what=f"unknown {field}")
        expect_error_field(r, field)
        expect(d.admin.request("GET", f"/v1/users/{name}"), 404, "not-found")


def test_patch_user_changes_full_name_email_and_roles():
    d = shared()
    u = mkuser(d, login=False)
    role = mkrole(d, ["view_audit"])
    r = d.admin.request("PATCH", f"/v1/users/{u.username}",
                        json={"full_name": "Grace H", "email": "grace@example.org",
                              "roles": ["user", role]})
    expect(r, 200)
    got = get_user(d, u.username)
    eq((got["full_name"], got["email"], sorted(got["roles"]), got["authorities"]),
       ("Grace H", "grace@example.org", sorted(["user", role]), ["view_audit"]), "after PATCH")


def test_patch_user_username_or_auth_source_is_422_unchanged():
    d = shared()
    u = mkuser(d, login=False)
    before = get_user(d, u.username)
    for field, value in (("username", uniq_user("ren")), ("auth_source", "ldap")):
        r = d.admin.request("PATCH", f"/v1/users/{u.username}", json={field: value})
        expect(r, 422, "validation-failed", what=f"PATCH {field}")
        expect_error_field(r, field)
    eq(get_user(d, u.username), before, "the user after the refused PATCHes")


def test_patch_user_moves_environment():
    d = shared()
    env = mkenv(d)
    u = mkuser(d, login=False)
    expect(d.admin.request("PATCH", f"/v1/users/{u.username}", json={"environment": env}), 200)
    eq(get_user(d, u.username)["environment"], env, "environment after PATCH")


def test_patch_unknown_user_is_404():
    expect(shared().admin.request("PATCH", f"/v1/users/{uniq_user('ghost')}",
                                  json={"full_name": "x"}), 404, "not-found")


def test_admin_password_reset_ends_users_sessions_and_new_password_logs_in():
    d = logins()
    u = mkuser(d)
    new = new_pw()
    expect(d.admin.request("PATCH", f"/v1/users/{u.username}", json={"password": new}), 200)
    expect(u.request("GET", "/v1/me"), 401, "unauthenticated", what="the user's old session")
    expect(login(d, u.username, u.password)[0], 401, "login-failed", what="the old password")
    Client(d).login(u.username, new)


def test_admin_password_reset_applies_the_password_policy():
    d = shared()
    u = mkuser(d, login=False)
    for pw in ("short-pw", "letmein12345", u.username):
        r = d.admin.request("PATCH", f"/v1/users/{u.username}", json={"password": pw})
        expect(r, 422, "validation-failed", what=f"reset to {pw!r}")
        expect_error_field(r, "password")
    Client(d).login(u.username, u.password)


def test_admin_cannot_set_a_password_for_an_sso_user_422():
    d = logins()
    name = mksso(d, "ldap")
    pw = new_pw()
    r = d.admin.request("PATCH", f"/v1/users/{name}", json={"password": pw})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "password")
    expect(login(d, name, pw)[0], 401, "login-failed", what="login with the refused password")


# ---- disable and delete --------------------------------------------------------------

def test_disabling_a_user_makes_verify_answer_disabled_for_all_their_keys():
    d = shared()
    u = mkuser(d)
    keys = [create_key(u, scopes=("Tasks",)), create_key(u, scopes=("Secret", "Tasks"))]
    expect(d.admin.request("PATCH", f"/v1/users/{u.username}", json={"disabled": True}), 200)
    for k in keys:
        body = verify(d, k["key"])
        eq((body.get("valid"), body.get("code")), (False, "DISABLED"), f"verify {k['name']}")
    eq(get_user(d, u.username)["disabled"], True, "disabled flag")


def test_disabling_a_user_makes_auth_answer_401_for_their_keys():
    d = shared()
    u = mkuser(d)
    k = create_key(u, scopes=("Tasks",))
    expect(auth(d, k["key"], "Tasks"), 204, what="/v1/auth before")
    expect(d.admin.request("PATCH", f"/v1/users/{u.username}", json={"disabled": True}), 200)
    expect(auth(d, k["key"], "Tasks"), 401, "unauthenticated", what="/v1/auth after disabling")


def test_disabling_a_user_ends_their_sessions():
    d = shared()
    u = mkuser(d)
    expect(d.admin.request("PATCH", f"/v1/users/{u.username}", json={"disabled": True}), 200)
    expect(u.request("GET", "/v1/me"), 401, "unauthenticated", what="the disabled user's session")


def test_disabled_user_cannot_log_in_401_login_failed():
    d = logins()
    u = mkuser(d, login=False)
    expect(d.admin.request("PATCH", f"/v1/users/{u.username}", json={"disabled": True}), 200)
    r, c = login(d, u.username, u.password)
    expect(r, 401, "login-failed")
    check(not c.cookie, "a disabled user's login set a session cookie")


def test_enabling_a_user_again_restores_their_keys():
    d = shared()
    u = mkuser(d)
    k = create_key(u, scopes=("Tasks",))
    expect(d.admin.request("PATCH", f"/v1/users/{u.username}", json={"disabled": True}), 200)
    expect(d.admin.request("PATCH", f"/v1/users/{u.username}", json={"disabled": False}), 200)
    eq(verify(d, k["key"]).get("code"), "VALID", "verify after enabling again")
    expect(auth(d, k["key"], "Tasks"), 204, what="/v1/auth after enabling again")


def test_deleting_a_user_makes_verify_answer_not_found_for_all_their_keys():
    d = shared()
    u = mkuser(d)
    keys = [create_key(u, scopes=("Tasks",)), create_key(u, scopes=("Secret",))]
    expect(d.admin.request("DELETE", f"/v1/users/{u.username}"), 204)
    for k in keys:
        body = verify(d, k["key"])
        eq((body.get("valid"), body.get("code")), (False, "NOT_FOUND"), f"verify {k['name']}")


def test_deleting_a_user_makes_auth_answer_401_for_their_keys():
    d = shared()
    u = mkuser(d)
    k = create_key(u, scopes=("Tasks",))
    expect(d.admin.request("DELETE", f"/v1/users/{u.username}"), 204)
    expect(auth(d, k["key"], "Tasks"), 401, "unauthenticated")


def test_deleting_a_user_ends_their_sessions_and_user_is_404():
    d = shared()
    u = mkuser(d)
    expect(d.admin.request("DELETE", f"/v1/users/{u.username}"), 204)
    expect(u.request("GET", "/v1/me"), 401, "unauthenticated", what="the deleted user's session")
    expect(d.admin.request("GET", f"/v1/users/{u.username}"), 404, "not-found")
    check(u.username not in [x["username"] for x in
                             d.admin.request("GET", "/v1/users").body["users"]],
          "the deleted user is still listed")


def test_deleting_a_user_removes_their_group_memberships():
    d = shared()
    u = mkuser(d, login=False)
    keep = mkuser(d, login=False)
    g = mkgroup(d, members=[u.username, keep.username])
    expect(d.admin.request("DELETE", f"/v1/users/{u.username}"), 204)
    eq(expect(d.admin.request("GET", f"/v1/groups/{g}"), 200).body.get("members"),
       [keep.username], "the group's members")


def test_deleted_user_cannot_log_in():
    d = logins()
    u = mkuser(d, login=False)
    expect(d.admin.request("DELETE", f"/v1/users/{u.username}"), 204)
    expect(login(d, u.username, u.password)[0], 401, "login-failed")


def test_recreated_username_does_not_inherit_deleted_users_keys():
    d = shared()
    u = mkuser(d)
    k = create_key(u, scopes=("Tasks",))
    expect(d.admin.request("DELETE", f"/v1/users/{u.username}"), 204)
    pw = new_pw()
    expect(d.admin.request("POST", "/v1/users", json={"username": u.username, "password": pw}),
           201, what="the same username again")
    c = Client(d)
    c.login(u.username, pw)
    eq(list_keys(c), [], "the new user's keys")
    eq(verify(d, k["key"]).get("code"), "NOT_FOUND", "the old user's key")


def test_deleting_unknown_user_is_404():
    expect(shared().admin.request("DELETE", f"/v1/users/{uniq_user('ghost')}"), 404, "not-found")


# ---- the last enabled admin ------------------------------------------------------------

def _still_sole_admin(d):
    me = get_me(d.admin)
    eq((me["disabled"], "admin" in role_names(me["roles"])), (False, True),
       "the admin afterwards (disabled, holds admin)")
    Client(d).login(ADMIN_USER, ADMIN_PASS)


def test_last_admin_cannot_demote_themselves_403_own_roles():
    def t(d):
        r = d.admin.request("PATCH", f"/v1/users/{ADMIN_USER}", json={"roles": ["user"]})
        expect(r, 403, "own-grants")  # nobody changes their own roles (issue 12, item 1)
        _still_sole_admin(d)
    with_dedicated("last-admin-demote", t)


def test_last_admin_cannot_disable_themselves_409():
    def t(d):
        r = d.admin.request("PATCH", f"/v1/users/{ADMIN_USER}", json={"disabled": True})
        expect(r, 409, "conflict")
        _still_sole_admin(d)
    with_dedicated("last-admin-disable", t)


def test_last_admin_cannot_delete_themselves_409():
    def t(d):
        expect(d.admin.request("DELETE", f"/v1/users/{ADMIN_USER}"), 409, "conflict")
        _still_sole_admin(d)
    with_dedicated("last-admin-delete", t)


def test_manage_users_holder_cannot_demote_or_delete_the_only_admin_403():
    def t(d):
        boss = mkuser(d, roles=[mkrole(d, ["manage_users"])])
        # the admin holds more than manage_users: not the holder's to manage (issue 12, item 1)
        expect(boss.request("PATCH", f"/v1/users/{ADMIN_USER}", json={"roles": ["user"]}), 403,
               "not-held", what="demote the only admin")
        expect(boss.request("PATCH", f"/v1/users/{ADMIN_USER}", json={"disabled": True}), 403,
               "not-held", what="disable the only admin")
        expect(boss.request("DELETE", f"/v1/users/{ADMIN_USER}"), 403, "not-held",
               what="delete the only admin")
        _still_sole_admin(d)
    with_dedicated("last-admin-by-manager", t)


def test_disabled_second_admin_does_not_count_as_enabled_admin():
    def t(d):
        other = mkuser(d, roles=["admin"], login=False)
        expect(d.admin.request("PATCH", f"/v1/users/{other.username}", json={"disabled": True}),
               200, what="disable the second admin")
        expect(d.admin.request("PATCH", f"/v1/users/{ADMIN_USER}", json={"disabled": True}),
               409, "conflict", what="disable the last enabled admin")
        _still_sole_admin(d)
    with_dedicated("last-admin-disabled-peer", t)


def test_admin_can_be_demoted_while_another_enabled_admin_exists():
    def t(d):
        other = mkuser(d, roles=["admin"])
        expect(other.request("PATCH", f"/v1/users/{ADMIN_USER}", json={"roles": ["user"]}), 200,
               what="the second admin demotes the first")
        eq(get_user(d, ADMIN_USER)["authorities"], [], "the demoted admin's authorities")
        expect(other.request("PATCH", f"/v1/users/{other.username}", json={"disabled": True}),
               409, "conflict", what="the remaining admin disables themselves")
    with_dedicated("admin-demote-ok", t)


# =========================================================================== other people's keys

def test_manage_user_api_keys_lists_other_users_keys_as_owner_sees_them():
    d = shared()
    boss = mkuser(d, roles=[mkrole(d, ["manage_user_api_keys"])])
    owner = mkuser(d)
    for _ in range(2):
        create_key(owner, scopes=("Tasks",), description="for the list")
    r = expect(boss.request("GET", f"/v1/users/{owner.username}/keys"), 200)
    check(isinstance(r.body, dict) and isinstance(r.body.get("keys"), list),
          f"expected {{keys:[...]}}, got {r.raw[:200]!r}")
    for k in r.body["keys"]:
        check_key_object(k, "a listed key of another user")
    eq(r.body["keys"], list_keys(owner), "the keys as the manager sees them vs the owner")


def test_manage_user_api_keys_deletes_another_users_key_refused_at_once():
    d = shared()
    boss = mkuser(d, roles=[mkrole(d, ["manage_user_api_keys"])])
    owner = mkuser(d)
    k = create_key(owner, scopes=("Tasks",))
    keep = create_key(owner, scopes=("Tasks",))
    expect(boss.request("DELETE", f"/v1/users/{owner.username}/keys/{k['id']}"), 204)
    eq(verify(d, k["key"]).get("code"), "NOT_FOUND", "verify the deleted key")
    expect(auth(d, k["key"], "Tasks"), 401, "unauthenticated", what="/v1/auth the deleted key")
    eq([x["id"] for x in list_keys(owner)], [keep["id"]], "the owner's keys afterwards")


def test_nobody_creates_keys_for_someone_else_403_nothing_stored():
    d = shared()
    boss = mkuser(d, roles=[mkrole(d, ["manage_user_api_keys", "manage_users"])])
    owner = mkuser(d)
    for caller, who in ((d.admin, "admin"), (boss, "key manager"), (owner, "the owner")):
        r = caller.request("POST", f"/v1/users/{owner.username}/keys",
                           json={"name": uniq(), "scopes": ["Tasks"]})
        expect(r, 403, "forbidden", what=f"POST /v1/users/{{u}}/keys as {who}")
    eq(list_keys(owner), [], "the owner's keys")


def test_manage_users_alone_cannot_see_other_users_keys():
    d = shared()
    boss = mkuser(d, roles=[mkrole(d, ["manage_users"])])
    owner = mkuser(d)
    k = create_key(owner, scopes=("Tasks",))
    expect(boss.request("GET", f"/v1/users/{owner.username}/keys"), 403, "forbidden")
    expect(boss.request("DELETE", f"/v1/users/{owner.username}/keys/{k['id']}"), 403, "forbidden")
    eq(verify(d, k["key"]).get("code"), "VALID", "the key afterwards")


def test_deleting_a_key_under_the_wrong_user_is_404_and_key_survives():
    d = shared()
    owner, other = mkuser(d), mkuser(d, login=False)
    k = create_key(owner, scopes=("Tasks",))
    expect(d.admin.request("DELETE", f"/v1/users/{other.username}/keys/{k['id']}"), 404,
           "not-found")
    eq(verify(d, k["key"]).get("code"), "VALID", "the key afterwards")


def test_other_users_keys_of_unknown_user_or_key_is_404():
    d = shared()
    owner = mkuser(d, login=False)
    expect(d.admin.request("GET", f"/v1/users/{uniq_user('ghost')}/keys"), 404, "not-found")
    expect(d.admin.request("DELETE", f"/v1/users/{owner.username}/keys/{'0' * 24}"), 404,
           "not-found")


# =========================================================================== plain user: 403

def _forbidden_cases():
    """name -> setup(d, plain_client) returning (method, path, body, snapshot)."""

    def other_user(d, c):
        return mkuser(d, login=False).username

    def users_list(d, c):
        return "GET", "/v1/users", None, lambda: None

    def users_create(d, c):
        name = uniq_user("sneak")
        return ("POST", "/v1/users", {"username": name, "password": new_pw(), "roles": ["admin"]},
                lambda: status_of(d.admin, f"/v1/users/{name}"))

    def users_read_other(d, c):
        return "GET", f"/v1/users/{other_user(d, c)}", None, lambda: None

    def users_patch_other(d, c):
        o = other_user(d, c)
        return ("PATCH", f"/v1/users/{o}", {"full_name": "changed by a plain user"},
                lambda: get_user(d, o))

    def users_patch_own_roles(d, c):
        return ("PATCH", f"/v1/users/{c.username}", {"roles": ["admin"]},
                lambda: get_user(d, c.username))

    def users_disable_other(d, c):
        o = other_user(d, c)
        return "PATCH", f"/v1/users/{o}", {"disabled": True}, lambda: get_user(d, o)

    def users_delete_other(d, c):
        o = other_user(d, c)
        return "DELETE", f"/v1/users/{o}", None, lambda: status_of(d.admin, f"/v1/users/{o}")

    def roles_create(d, c):
        name = uniq("role")
        return ("POST", "/v1/roles", {"name": name, "authorities": AUTHORITIES},
                lambda: status_of(d.admin, f"/v1/roles/{name}"))

    def roles_replace(d, c):
        name = mkrole(d, ["view_audit"])
        return ("PUT", f"/v1/roles/{name}", {"authorities": AUTHORITIES},
                lambda: d.admin.request("GET", f"/v1/roles/{name}").body)

    def roles_delete(d, c):
        name = mkrole(d, ["view_audit"])
        return "DELETE", f"/v1/roles/{name}", None, lambda: status_of(d.admin, f"/v1/roles/{name}")

    def groups_create(d, c):
        name = uniq("grp")
        return ("POST", "/v1/groups", {"name": name, "roles": ["admin"], "members": [c.username]},
                lambda: (status_of(d.admin, f"/v1/groups/{name}"), get_user(d, c.username)))

    def groups_join(d, c):
        g = mkgroup(d, roles=[mkrole(d, ["manage_users"])])
        return ("PUT", f"/v1/groups/{g}", {"members": [c.username]},
                lambda: d.admin.request("GET", f"/v1/groups/{g}").body)

    def groups_delete(d, c):
        g = mkgroup(d)
        return "DELETE", f"/v1/groups/{g}", None, lambda: status_of(d.admin, f"/v1/groups/{g}")

    def environments_create(d, c):
        name = uniq("env")
        return ("POST", "/v1/environments", {"name": name},
                lambda: status_of(d.admin, f"/v1/environments/{name}"))

    def environments_delete(d, c):
        e = mkenv(d)
        return ("DELETE", f"/v1/environments/{e}", None,
                lambda: status_of(d.admin, f"/v1/environments/{e}"))

    def audit_read(d, c):
        return "GET", "/v1/audit", None, lambda: None

    def other_keys_list(d, c):
        owner = mkuser(d)
        create_key(owner, scopes=("Tasks",))
        return "GET", f"/v1/users/{owner.username}/keys", None, lambda: None

    def other_keys_delete(d, c):
        owner = mkuser(d)
        k = create_key(owner, scopes=("Tasks",))
        return ("DELETE", f"/v1/users/{owner.username}/keys/{k['id']}", None,
                lambda: verify(d, k["key"]).get("code"))

    return [(n, f) for n, f in locals().items() if callable(f) and n != "other_user"]


def _make_forbidden_test(setup):
    def t():
        d = shared()
        c = mkuser(d)
        method, path, body, snapshot = setup(d, c)
        before = snapshot()
        r = c.request(method, path, json=body)
        expect(r, 403, "forbidden", what=f"{method} {path} as a plain user")
        eq(snapshot(), before, f"state after the refused {method} {path}")
    return t


for _name, _setup in _forbidden_cases():
    globals()[f"test_plain_user_403_on_{_name}"] = _make_forbidden_test(_setup)


def test_plain_user_reads_roles_groups_environments_authorities_200():
    c = mkuser(shared())
    for path in ("/v1/roles", "/v1/groups", "/v1/environments", "/v1/environments/ROOT",
                 "/v1/authorities", "/v1/roles/user"):
        expect(c.request("GET", path), 200, what=f"GET {path} as a plain user")


def test_view_audit_alone_does_not_allow_user_management():
    d = shared()
    c = mkuser(d, roles=[mkrole(d, ["view_audit"])])
    expect(c.request("GET", "/v1/audit?limit=1"), 200, what="GET /v1/audit with view_audit")
    expect(c.request("GET", "/v1/users"), 403, "forbidden", what="GET /v1/users with view_audit")


# =========================================================================== environments, groups

def test_environments_list_contains_root():
    r = expect(mkuser(shared()).request("GET", "/v1/environments"), 200)
    root = [e for e in r.body.get("environments", []) if e.get("name") == "ROOT"]
    eq(len(root), 1, "ROOT in GET /v1/environments")
    check("description" in root[0], f"environment object: expected description, got {root[0]!r}")


def test_environment_created_201_readable_and_deleted_204():
    d = shared()
    name = uniq("env")
    r = d.admin.request("POST", "/v1/environments", json={"name": name, "description": "Staging"})
    expect(r, 201)
    got = expect(d.admin.request("GET", f"/v1/environments/{name}"), 200).body
    eq((got.get("name"), got.get("description")), (name, "Staging"), "the environment")
    expect(d.admin.request("DELETE", f"/v1/environments/{name}"), 204)
    expect(d.admin.request("GET", f"/v1/environments/{name}"), 404, "not-found")


def test_duplicate_environment_is_409():
    d = shared()
    name = mkenv(d)
    expect(d.admin.request("POST", "/v1/environments", json={"name": name}), 409, "conflict")
    expect(d.admin.request("POST", "/v1/environments", json={"name": "ROOT"}), 409, "conflict")


def test_root_environment_cannot_be_deleted_403():
    d = shared()
    expect(d.admin.request("DELETE", "/v1/environments/ROOT"), 403, "forbidden")
    expect(d.admin.request("GET", "/v1/environments/ROOT"), 200, what="ROOT afterwards")


def test_environment_with_users_cannot_be_deleted_409():
    d = shared()
    env = mkenv(d)
    mkuser(d, login=False, environment=env)
    expect(d.admin.request("DELETE", f"/v1/environments/{env}"), 409, "conflict")
    expect(d.admin.request("GET", f"/v1/environments/{env}"), 200, what="the environment after")


def test_environment_with_groups_cannot_be_deleted_409():
    d = shared()
    env = mkenv(d)
    mkgroup(d, environment=env)
    expect(d.admin.request("DELETE", f"/v1/environments/{env}"), 409, "conflict")
    expect(d.admin.request("GET", f"/v1/environments/{env}"), 200, what="the environment after")


def test_environment_deletable_once_its_users_are_gone():
    d = shared()
    env = mkenv(d)
    u = mkuser(d, login=False, environment=env)
    eq(get_user(d, u.username)["environment"], env, "the user's environment")
    expect(d.admin.request("DELETE", f"/v1/users/{u.username}"), 204)
    expect(d.admin.request("DELETE", f"/v1/environments/{env}"), 204)


def test_environment_names_outside_charset_are_422():
    d = shared()
    for bad in ("", "with space", "e" * 65, "env/x"):
        r = d.admin.request("POST", "/v1/environments", json={"name": bad})
        expect(r, 422, "validation-failed", what=f"environment name {bad!r}")
        expect_error_field(r, "name")


def test_get_unknown_environment_is_404():
    expect(shared().admin.request("GET", f"/v1/environments/{uniq('noenv')}"), 404, "not-found")


def test_group_created_in_root_by_default_and_readable():
    d = shared()
    role = mkrole(d, ["view_audit"])
    u = mkuser(d, login=False)
    name = uniq("grp")
    r = d.admin.request("POST", "/v1/groups", json={"name": name, "description": "Ops",
                                                    "roles": [role], "members": [u.username]})
    expect(r, 201)
    plain = expect(mkuser(d).request("GET", f"/v1/groups/{name}"), 200,
                   what="GET the group as a plain user").body
    eq(plain, {"name": name, "description": "Ops", "environment": "ROOT"},
       "a plain user sees no members or roles")
    got = expect(d.admin.request("GET", f"/v1/groups/{name}"), 200).body
    for f in GROUP_FIELDS:
        check(f in got, f"group object: expected field {f!r}, got {sorted(got)}")
    eq((got["name"], got["description"], got["environment"], got["roles"], got["members"]),
       (name, "Ops", "ROOT", [role], [u.username]), "the group")
    listed = [g for g in d.admin.request("GET", "/v1/groups").body["groups"] if g["name"] == name]
    eq(len(listed), 1, "the group in GET /v1/groups")


def test_group_put_replaces_description_roles_and_members():
    d = shared()
    a, b = mkuser(d, login=False), mkuser(d, login=False)
    r1, r2 = mkrole(d, ["view_audit"]), mkrole(d, ["manage_groups"])
    g = mkgroup(d, description="old", roles=[r1], members=[a.username])
    r = d.admin.request("PUT", f"/v1/groups/{g}", json={"description": "new", "roles": [r2],
                                                        "members": [b.username]})
    expect(r, 200)
    got = expect(d.admin.request("GET", f"/v1/groups/{g}"), 200).body
    eq((got["description"], got["roles"], got["members"]), ("new", [r2], [b.username]),
       "group after PUT")
    eq(get_user(d, a.username)["groups"], [], "the old member's groups")


def test_group_deleted_204_then_404():
    d = shared()
    u = mkuser(d, login=False)
    g = mkgroup(d, members=[u.username])
    expect(d.admin.request("DELETE", f"/v1/groups/{g}"), 204)
    expect(d.admin.request("GET", f"/v1/groups/{g}"), 404, "not-found")
    eq(get_user(d, u.username)["groups"], [], "the former member's groups")


def test_duplicate_group_is_409():
    d = shared()
    g = mkgroup(d, description="first")
    expect(d.admin.request("POST", "/v1/groups", json={"name": g, "description": "second"}), 409,
           "conflict")
    eq(d.admin.request("GET", f"/v1/groups/{g}").body.get("description"), "first",
       "the original group's description")


def test_group_member_that_does_not_exist_is_422_nothing_stored():
    d = shared()
    name = uniq("grp")
    r = d.admin.request("POST", "/v1/groups", json={"name": name,
                                                    "members": [uniq_user("nobody")]})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "members")
    expect(d.admin.request("GET", f"/v1/groups/{name}"), 404, "not-found", what="the group")


def test_group_put_with_unknown_member_is_422_group_unchanged():
    d = shared()
    u = mkuser(d, login=False)
    g = mkgroup(d, members=[u.username])
    r = d.admin.request("PUT", f"/v1/groups/{g}", json={"members": [u.username,
                                                                    uniq_user("nobody")]})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "members")
    eq(d.admin.request("GET", f"/v1/groups/{g}").body.get("members"), [u.username],
       "members after the refused PUT")


def test_group_member_from_another_environment_is_422():
    d = shared()
    env = mkenv(d)
    root_user = mkuser(d, login=False)
    name = uniq("grp")
    r = d.admin.request("POST", "/v1/groups", json={"name": name, "environment": env,
                                                    "members": [root_user.username]})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "members")
    expect(d.admin.request("GET", f"/v1/groups/{name}"), 404, "not-found", what="the group")


def test_root_group_refuses_member_of_another_environment_422():
    d = shared()
    env = mkenv(d)
    u = mkuser(d, login=False, environment=env)
    g = mkgroup(d)
    r = d.admin.request("PUT", f"/v1/groups/{g}", json={"members": [u.username]})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "members")
    eq(d.admin.request("GET", f"/v1/groups/{g}").body.get("members"), [], "members after")


def test_group_in_an_environment_takes_members_of_that_environment():
    d = shared()
    env = mkenv(d)
    u = mkuser(d, login=False, environment=env)
    g = mkgroup(d, environment=env, members=[u.username])
    got = expect(d.admin.request("GET", f"/v1/groups/{g}"), 200).body
    eq((got["environment"], got["members"]), (env, [u.username]), "the group")
    eq(get_user(d, u.username)["groups"], [g], "the member's groups")


def test_group_with_unknown_role_or_environment_is_422():
    d = shared()
    for field, value in (("roles", [uniq("norole")]), ("environment", uniq("noenv"))):
        name = uniq("grp")
        r = d.admin.request("POST", "/v1/groups", json={"name": name, field: value})
        expect(r, 422, "validation-failed", what=f"unknown {field}")
        expect_error_field(r, field)
        expect(d.admin.request("GET", f"/v1/groups/{name}"), 404, "not-found")


def test_group_names_outside_charset_are_422():
    d = shared()
    for bad in ("", "with space", "g" * 65, "g/x"):
        r = d.admin.request("POST", "/v1/groups", json={"name": bad})
        expect(r, 422, "validation-failed", what=f"group name {bad!r}")
        expect_error_field(r, "name")


def test_get_unknown_group_is_404():
    expect(shared().admin.request("GET", f"/v1/groups/{uniq('nogrp')}"), 404, "not-found")


# =========================================================================== key callers' scopes

def test_admin_key_without_authentication_scope_is_403_on_users():
    d = shared()
    c = key_client(d, d.admin, [s for s in DEFAULT_SCOPES if s != "Authentication"])
    expect(c.request("GET", "/v1/users"), 403, "forbidden")


def test_admin_key_with_authentication_scope_lists_users_200():
    d = shared()
    c = key_client(d, d.admin, ["Authentication"])
    r = expect(c.request("GET", "/v1/users"), 200)
    check(ADMIN_USER in [u["username"] for u in r.body["users"]], "admin in the list")


def test_admin_key_with_authentication_scope_creates_user_without_csrf_201():
    d = shared()
    c = key_client(d, d.admin, ["Authentication"])
    name = uniq_user("bykey")
    expect(c.request("POST", "/v1/users", json={"username": name, "password": new_pw()}), 201)
    get_user(d, name)


def test_plain_users_key_with_authentication_scope_is_403_on_users():
    d = shared()
    c = key_client(d, mkuser(d), ["Authentication"])
    expect(c.request("GET", "/v1/users"), 403, "forbidden")


def test_admin_key_without_authentication_scope_is_403_on_roles_groups_environments():
    d = shared()
    c = key_client(d, d.admin, ["APIKey", "User", "Account"])
    name = uniq("byk")
    calls = [("GET", "/v1/roles", None), ("GET", "/v1/groups", None),
             ("GET", "/v1/environments", None),
             ("POST", "/v1/roles", {"name": name, "authorities": []}),
             ("POST", "/v1/groups", {"name": name}),
             ("POST", "/v1/environments", {"name": name})]
    for method, path, body in calls:
        expect(c.request(method, path, json=body), 403, "forbidden", what=f"{method} {path}")
    for path in ("/v1/roles", "/v1/groups", "/v1/environments"):
        expect(d.admin.request("GET", f"{path}/{name}"), 404, "not-found",
               what=f"{path}/{name} afterwards")


def test_admin_key_with_authentication_scope_manages_roles_groups_environments():
    d = shared()
    c = key_client(d, d.admin, ["Authentication"])
    name = uniq("byk")
    expect(c.request("POST", "/v1/roles", json={"name": name, "authorities": ["view_audit"]}), 201)
    expect(c.request("POST", "/v1/environments", json={"name": name}), 201)
    expect(c.request("POST", "/v1/groups", json={"name": name, "roles": [name]}), 201)
    for path in ("/v1/roles", "/v1/groups", "/v1/environments"):
        expect(c.request("GET", path), 200, what=f"GET {path}")


def test_key_without_user_scope_is_403_on_me_writes_nothing_changed():
    d = shared()
    u = mkuser(d)
    c = key_client(d, u, [s for s in DEFAULT_SCOPES if s != "User"])
    expect(c.request("PATCH", "/v1/me", json={"full_name": "by key"}), 403, "forbidden")
    expect(c.request("POST", "/v1/me/mfa"), 403, "forbidden")
    expect(c.request("POST", "/v1/me/password", json={"current_password": u.password,
                                                      "new_password": new_pw()}), 403, "forbidden")
    me = get_me(u)
    eq((me["full_name"], me["mfa_enabled"]), ("", False), "profile afterwards")
    expect(u.request("POST", "/v1/me/mfa/confirm",
                     json={"code": "123456", "current_password": u.password}), 409, "conflict",
           what="confirm (no enrolment was started by the refused key)")
    Client(d).login(u.username, u.password)


def test_key_with_user_scope_reads_and_patches_me():
    d = shared()
    u = mkuser(d)
    c = key_client(d, u, ["User"])
    eq(expect(c.request("GET", "/v1/me"), 200).body.get("username"), u.username, "GET /v1/me")
    expect(c.request("PATCH", "/v1/me", json={"full_name": "Via Key"}), 200)
    eq(get_me(u)["full_name"], "Via Key", "full name afterwards")


def test_admin_key_without_account_scope_is_403_on_audit():
    d = shared()
    c = key_client(d, d.admin, [s for s in DEFAULT_SCOPES if s != "Account"])
    expect(c.request("GET", "/v1/audit"), 403, "forbidden")


def test_admin_key_with_account_scope_reads_audit_200():
    d = shared()
    c = key_client(d, d.admin, ["Account"])
    audit(d, caller=c, limit=1)


def test_plain_users_key_with_account_scope_is_403_on_audit():
    d = shared()
    c = key_client(d, mkuser(d), ["Account"])
    expect(c.request("GET", "/v1/audit"), 403, "forbidden")


# =========================================================================== self-service

def test_me_is_the_callers_user_object():
    d = shared()
    role = mkrole(d, ["view_audit"])
    c = mkuser(d, roles=["user", role], full_name="Ada L", email="ada@example.org")
    me = get_me(c)
    for f in USER_FIELDS:
        check(f in me, f"/v1/me: expected field {f!r}, got {sorted(me)}")
    eq((me["username"], me["full_name"], me["email"], me["auth_source"], me["mfa_enabled"],
        sorted(role_names(me["roles"])), me["authorities"]),
       (c.username, "Ada L", "ada@example.org", "local", False, sorted(["user", role]),
        ["view_audit"]), "/v1/me")


def test_patch_me_changes_full_name_and_email():
    d = shared()
    c = mkuser(d)
    r = expect(c.request("PATCH", "/v1/me", json={"full_name": "Alan T",
                                                  "email": "alan@example.org"}), 200)
    eq((r.body.get("username"), r.body.get("full_name"), r.body.get("email")),
       (c.username, "Alan T", "alan@example.org"), "PATCH answer")
    got = get_user(d, c.username)
    eq((got["full_name"], got["email"]), ("Alan T", "alan@example.org"), "admin's view after")
    expect(c.request("PATCH", "/v1/me", json={"email": ""}), 200, what="clearing the email")
    eq(get_me(c)["email"], "", "email after clearing")


def test_patch_me_username_is_422_unchanged():
    d = shared()
    c = mkuser(d)
    r = c.request("PATCH", "/v1/me", json={"username": uniq_user("ren"), "full_name": "X"})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "username")
    me = get_me(c)
    eq((me["username"], me["full_name"]), (c.username, ""), "profile after the refused PATCH")


def test_patch_me_roles_or_disabled_is_422_no_escalation():
    d = shared()
    c = mkuser(d)
    for field, value in (("roles", ["admin"]), ("disabled", False), ("auth_source", "ldap"),
                         ("environment", "ROOT")):
        r = c.request("PATCH", "/v1/me", json={field: value})
        expect(r, 422, "validation-failed", what=f"PATCH /v1/me {field}")
        expect_error_field(r, field)
    eq(get_me(c)["roles"], ["user"], "roles afterwards")
    expect(c.request("GET", "/v1/users"), 403, "forbidden", what="GET /v1/users afterwards")


def test_patch_me_invalid_email_is_422_unchanged():
    d = shared()
    c = mkuser(d, email="kept@example.org")
    for bad in ("plainaddress", "a@@example.org", "a@localhost", "x" * 243 + "@example.org",
                ["a@example.org"]):
        r = c.request("PATCH", "/v1/me", json={"email": bad})
        expect(r, 422, "validation-failed", what=f"email {str(bad)[:30]!r}")
        expect_error_field(r, "email")
    eq(get_me(c)["email"], "kept@example.org", "email afterwards")


def test_patch_me_full_name_over_100_is_422():
    d = shared()
    c = mkuser(d)
    r = c.request("PATCH", "/v1/me", json={"full_name": "n" * 101})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "full_name")
    eq(get_me(c)["full_name"], "", "full name afterwards")


def test_change_password_ends_other_sessions_but_keeps_the_current_one():
    d = shared()
    c = mkuser(d)
    other = Client(d)
    other.login(c.username, c.password)
    new = new_pw()
    expect(c.request("POST", "/v1/me/password", json={"current_password": c.password,
                                                      "new_password": new}), 204)
    expect(c.request("GET", "/v1/me"), 200, what="the session that changed the password")
    expect(c.request("PATCH", "/v1/me", json={"full_name": "still here"}), 200,
           what="a write from that session (its CSRF token still valid)")
    expect(other.request("GET", "/v1/me"), 401, "unauthenticated", what="another session")


def test_change_password_new_one_logs_in_old_one_fails():
    d = logins()
    c = mkuser(d)
    new = new_pw()
    expect(c.request("POST", "/v1/me/password", json={"current_password": c.password,
                                                      "new_password": new}), 204)
    expect(login(d, c.username, c.password)[0], 401, "login-failed", what="the old password")
    Client(d).login(c.username, new)


def test_change_password_with_wrong_current_is_422_unchanged():
    d = logins()
    c = mkuser(d)
    r = c.request("POST", "/v1/me/password", json={"current_password": "not-" + c.password,
                                                   "new_password": new_pw()})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "current_password")
    Client(d).login(c.username, c.password)


def test_change_password_applies_the_policy_to_the_new_one():
    d = shared()
    c = mkuser(d)
    for pw in ("short-pw", "p" * 129, "letmein12345", c.username):
        r = c.request("POST", "/v1/me/password", json={"current_password": c.password,
                                                       "new_password": pw})
        expect(r, 422, "validation-failed", what=f"new password {pw[:20]!r}")
        expect_error_field(r, "new_password")
    Client(d).login(c.username, c.password)


def test_change_password_without_current_password_is_422():
    d = logins()
    c = mkuser(d)
    r = c.request("POST", "/v1/me/password", json={"new_password": new_pw()})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "current_password")
    Client(d).login(c.username, c.password)


def test_sso_user_cannot_log_in_with_a_password():
    d = logins()
    for source in ("ldap", "saml"):
        name = mksso(d, source)
        for pw in ("any-password-12", ""):
            r, c = login(d, name, pw)
            expect(r, 401, "login-failed", what=f"{source} user, password {pw!r}")
            check(not c.cookie, "an SSO user's password login set a cookie")


def test_sso_login_refusal_looks_like_a_wrong_password():
    d = logins()
    sso = expect(login(d, mksso(d), "any-password-12")[0], 401, "login-failed").body
    local = mkuser(d, login=False)
    wrong = expect(login(d, local.username, "not-" + local.password)[0], 401, "login-failed").body
    for f in ("type", "title", "status", "detail"):
        eq(sso.get(f), wrong.get(f), f"problem {f!r} (SSO user vs wrong password)")


# ---- MFA --------------------------------------------------------------------------------

def test_mfa_enrolment_returns_160_bit_base32_secret_uri_and_qr():
    c = mkuser(shared())
    r = expect(c.request("POST", "/v1/me/mfa", json={"current_password": c.password}), 200)
    secret, uri = r.body.get("secret"), r.body.get("otpauth_uri")
    raw = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    eq(len(raw) * 8, 160, "secret size in bits")
    p = urllib.parse.urlparse(uri)
    eq((p.scheme, p.netloc), ("otpauth", "totp"), "otpauth_uri scheme and type")
    q = urllib.parse.parse_qs(p.query)
    eq(q.get("secret"), [secret], "secret in otpauth_uri")
    for k, v in (("algorithm", "SHA1"), ("digits", "6"), ("period", "30")):
        if k in q:
            eq(q[k][0].upper(), v, f"otpauth_uri {k}")
    check(c.username in urllib.parse.unquote(p.path), f"otpauth_uri label names the user: {uri}")
    svg = r.body.get("qr_svg") or ""
    check("<svg" in svg[:200], f"qr_svg: expected an SVG document, got {svg[:60]!r}")


def test_mfa_not_in_force_until_confirmed():
    d = shared()
    c = mkuser(d)
    enrol(c)
    eq(get_me(c)["mfa_enabled"], False, "mfa_enabled after enrolment only")
    Client(d).login(c.username, c.password)


def test_mfa_confirm_with_wrong_code_is_422_and_stays_off():
    d = logins()
    c = mkuser(d)
    secret = enrol(c)
    wrong = totp(secret, time.time() + 3600)
    r = c.request("POST", "/v1/me/mfa/confirm",
                  json={"code": wrong, "current_password": c.password})
    expect(r, 422, "validation-failed")
    eq(get_me(c)["mfa_enabled"], False, "mfa_enabled after a wrong code")
    Client(d).login(c.username, c.password)


def test_mfa_confirm_without_enrolment_is_409():
    c = mkuser(shared())
    expect(c.request("POST", "/v1/me/mfa/confirm",
                     json={"code": "123456", "current_password": c.password}), 409, "conflict")
    eq(get_me(c)["mfa_enabled"], False, "mfa_enabled")


def test_mfa_confirm_turns_mfa_on():
    d = shared()
    c = mkuser(d)
    mfa_on(c)
    eq(get_me(c)["mfa_enabled"], True, "/v1/me mfa_enabled")
    eq(get_user(d, c.username)["mfa_enabled"], True, "admin's view of mfa_enabled")


def test_mfa_enrolment_when_already_on_is_409():
    c = mkuser(shared())
    secret, t = mfa_on(c)
    expect(c.request("POST", "/v1/me/mfa", json={"current_password": c.password}), 409,
           "conflict")
    eq(get_me(c)["mfa_enabled"], True, "mfa_enabled afterwards")


def test_login_with_mfa_and_no_otp_is_401_otp_required():
    d = logins()
    c = mkuser(d)
    mfa_on(c)
    r, fresh = login(d, c.username, c.password)
    expect(r, 401, "otp-required")
    check(not fresh.cookie, "an otp-required answer set a session cookie")


def test_login_with_mfa_and_wrong_password_is_login_failed_not_otp_required():
    d = logins()
    c = mkuser(d)
    secret, t = mfa_on(c)
    expect(login(d, c.username, "not-" + c.password)[0], 401, "login-failed",
           what="wrong password, no otp")
    expect(login(d, c.username, "not-" + c.password, totp(secret, t + 30))[0], 401,
           "login-failed", what="wrong password, valid otp")


def test_login_with_mfa_and_next_step_code_succeeds():
    d = logins()
    c = mkuser(d)
    secret, t = mfa_on(c)
    r, fresh = login(d, c.username, c.password, totp(secret, t + 30))
    expect(r, 200)
    check(fresh.cookie, "a successful MFA login set no session cookie")
    fresh.csrf = r.body.get("csrf_token")
    eq(get_me(fresh)["username"], c.username, "GET /v1/me with the new session")


def test_login_with_mfa_and_wrong_otp_is_401_login_failed():
    d = logins()
    c = mkuser(d)
    secret, t = mfa_on(c)
    good = {totp(secret, t + k * 30) for k in (-1, 0, 1, 2)}
    wrong = next(f"{n:06d}" for n in range(1000000) if f"{n:06d}" not in good)
    r, fresh = login(d, c.username, c.password, wrong)
    expect(r, 401, "login-failed")
    check(not fresh.cookie, "a wrong-otp login set a session cookie")


def test_login_replaying_a_used_totp_code_is_401_login_failed():
    d = logins()
    c = mkuser(d)
    secret, t = mfa_on(c)
    code = totp(secret, t + 30)
    expect(login(d, c.username, c.password, code)[0], 200, what="first use of the code")
    r, fresh = login(d, c.username, c.password, code)
    expect(r, 401, "login-failed", what="the same code again")
    check(not fresh.cookie, "a replayed code set a session cookie")


def test_login_with_the_code_that_confirmed_mfa_is_refused():
    d = logins()
    c = mkuser(d)
    secret, t = mfa_on(c)
    expect(login(d, c.username, c.password, totp(secret, t))[0], 401, "login-failed",
           what="the confirming code at login")


def test_code_of_a_step_before_the_last_accepted_one_is_refused():
    d = logins()
    c = mkuser(d)
    secret = enrol(c)
    t = time.time()
    expect(c.request("POST", "/v1/me/mfa/confirm",
                     json={"code": totp(secret, t + 30), "current_password": c.password}), 200,
           what="confirm with the next step's code")
    expect(login(d, c.username, c.password, totp(secret, t))[0], 401, "login-failed",
           what="the (unused) current step's code, older than the last accepted step")


def test_code_outside_the_one_step_window_is_refused():
    d = logins()
    c = mkuser(d)
    secret, t = mfa_on(c)
    for k in (3, 4):         # 3+ steps ahead stays outside +-1 even if a step passes meanwhile
        expect(login(d, c.username, c.password, totp(secret, t + 30 * k))[0], 401,
               "login-failed", what=f"the code {k} steps ahead")
    expect(login(d, c.username, c.password, totp(secret, t + 30))[0], 200,
           what="the next step's code afterwards")


def test_mfa_disabled_with_password_then_login_needs_no_otp():
    d = shared()
    c = mkuser(d)
    mfa_on(c)
    expect(c.request("DELETE", "/v1/me/mfa", json={"password": c.password}), 204)
    eq(get_me(c)["mfa_enabled"], False, "mfa_enabled after disabling")
    Client(d).login(c.username, c.password)


def test_mfa_disabled_with_an_unused_code():
    d = shared()
    c = mkuser(d)
    secret, t = mfa_on(c)
    expect(c.request("DELETE", "/v1/me/mfa", json={"code": totp(secret, t + 30)}), 204)
    eq(get_me(c)["mfa_enabled"], False, "mfa_enabled after disabling")


def test_mfa_disable_with_wrong_password_or_code_is_422_stays_on():
    d = logins()
    c = mkuser(d)
    secret, t = mfa_on(c)
    for body in ({"password": "not-" + c.password}, {"code": totp(secret, t + 3600)}, {}):
        expect(c.request("DELETE", "/v1/me/mfa", json=body), 422, "validation-failed",
               what=f"DELETE /v1/me/mfa {sorted(body)}")
    eq(get_me(c)["mfa_enabled"], True, "mfa_enabled afterwards")
    expect(login(d, c.username, c.password)[0], 401, "otp-required", what="login afterwards")


def test_mfa_disable_with_replayed_code_is_422_stays_on():
    d = logins()
    c = mkuser(d)
    secret, t = mfa_on(c)
    r = c.request("DELETE", "/v1/me/mfa", json={"code": totp(secret, t)})
    expect(r, 422, "validation-failed", what="the confirming code again")
    eq(get_me(c)["mfa_enabled"], True, "mfa_enabled afterwards")


# =========================================================================== audit

def _one(events, action, what):
    got = [e for e in events if e.get("action") == action]
    check(got, f"{what}: expected a {action} event, got actions {actions(events)}")
    return got[0]


def test_audit_event_has_documented_fields_actor_target_time_client():
    d = shared()
    u = mkuser(d)
    e = _one(audit(d, actor=u.username, action="login.success")["events"], "login.success",
             "login")
    for f in EVENT_FIELDS:
        check(f in e, f"audit event: expected field {f!r}, got {sorted(e)}")
    eq((e["actor"], e["target"]), (u.username, u.username), "login.success actor and target")
    near(ts(e["at"], "event at"), time.time(), 10, "event at")
    check(isinstance(e["client"], str) and "127.0.0.1" in e["client"],
          f"event client: expected the caller's address 127.0.0.1, got {e['client']!r}")


def test_audit_event_ids_are_opaque_strings():
    d = shared()
    events = audit(d, limit=5)["events"]
    check(events, "expected some audit events")
    for e in events:
        check(isinstance(e.get("id"), str) and e["id"],
              f"audit event id: expected an opaque string (API.md: ids are opaque strings), "
              f"got {e.get('id')!r}")


def test_audit_records_failed_login():
    d = logins()
    u = mkuser(d, login=False)
    login(d, u.username, "not-" + u.password)
    events = audit(d, target=u.username, action="login.failure")["events"]
    e = _one(events, "login.failure", "failed login")
    check("127.0.0.1" in (e.get("client") or ""), f"client of the failure: {e.get('client')!r}")
    check(u.password not in str(events), "the password appears in the audit trail")


def test_audit_records_logout():
    d = shared()
    u = mkuser(d)
    expect(u.request("POST", "/v1/logout"), 204)
    _one(audit(d, actor=u.username, action="logout")["events"], "logout", "logout")


def test_audit_records_key_create_and_delete_without_the_secret():
    d = shared()
    u = mkuser(d)
    k = create_key(u, scopes=("Tasks",))
    expect(u.request("DELETE", f"/v1/keys/{k['id']}"), 204)
    body = audit(d, actor=u.username)
    for a in ("key.create", "key.delete"):
        e = _one(body["events"], a, "key events")
        eq(e["target"], k["id"], f"{a} target")
    check(k["key"] not in str(body), "the key secret appears in the audit trail")


def test_audit_records_user_create_update_delete_by_admin():
    d = shared()
    u = mkuser(d, login=False)
    expect(d.admin.request("PATCH", f"/v1/users/{u.username}", json={"full_name": "Audited"}), 200)
    expect(d.admin.request("DELETE", f"/v1/users/{u.username}"), 204)
    body = audit(d, target=u.username)
    for a in ("user.create", "user.update", "user.delete"):
        eq(_one(body["events"], a, "user events")["actor"], ADMIN_USER, f"{a} actor")
    check(u.password not in str(body), "the user's password appears in the audit trail")


def test_audit_records_role_changes():
    d = shared()
    name = mkrole(d, ["view_audit"])
    expect(d.admin.request("PUT", f"/v1/roles/{name}", json={"authorities": []}), 200)
    expect(d.admin.request("DELETE", f"/v1/roles/{name}"), 204)
    got = actions(audit(d, target=name)["events"])
    for a in ("role.create", "role.update", "role.delete"):
        check(a in got, f"expected {a} for role {name}, got {got}")


def test_audit_records_group_changes():
    d = shared()
    g = mkgroup(d)
    expect(d.admin.request("PUT", f"/v1/groups/{g}", json={"description": "x"}), 200)
    expect(d.admin.request("DELETE", f"/v1/groups/{g}"), 204)
    got = actions(audit(d, target=g)["events"])
    for a in ("group.create", "group.update", "group.delete"):
        check(a in got, f"expected {a} for group {g}, got {got}")


def test_audit_records_environment_changes():
    d = shared()
    e = mkenv(d)
    expect(d.admin.request("DELETE", f"/v1/environments/{e}"), 204)
    got = actions(audit(d, target=e)["events"])
    for a in ("environment.create", "environment.delete"):
        check(a in got, f"expected {a} for environment {e}, got {got}")


def test_audit_records_password_change_without_passwords():
    d = shared()
    c = mkuser(d)
    new = new_pw()
    expect(c.request("POST", "/v1/me/password", json={"current_password": c.password,
                                                      "new_password": new}), 204)
    body = audit(d, actor=c.username)
    _one(body["events"], "password.change", "password change")
    for pw in (c.password, new):
        check(pw not in str(body), "a password appears in the audit trail")


def test_audit_records_mfa_enable_and_disable_without_the_secret():
    d = shared()
    c = mkuser(d)
    secret, t = mfa_on(c)
    expect(c.request("DELETE", "/v1/me/mfa", json={"password": c.password}), 204)
    body = audit(d, actor=c.username)
    for a in ("mfa.enable", "mfa.disable"):
        eq(_one(body["events"], a, "MFA events")["target"], c.username, f"{a} target")
    check(secret not in str(body), "the TOTP secret appears in the audit trail")


def test_audit_filters_by_action_and_target():
    d = shared()
    u = mkuser(d)
    create_key(u, scopes=("Tasks",))
    events = audit(d, actor=u.username, action="key.create")["events"]
    check(events, "expected the key.create event")
    eq(set(actions(events)), {"key.create"}, "actions with action=key.create")
    eq({e["actor"] for e in events}, {u.username}, "actors with actor=")
    events = audit(d, target=u.username)["events"]
    eq({e["target"] for e in events}, {u.username}, "targets with target=")


def test_audit_filters_by_since_and_until():
    d = shared()
    u = mkuser(d, login=False)
    t = time.time()
    eq(audit(d, target=u.username, since=iso(t + 3600))["events"], [], "since an hour ahead")
    eq(audit(d, target=u.username, until=iso(t - 3600))["events"], [], "until an hour ago")
    got = actions(audit(d, target=u.username, since=iso(t - 60), until=iso(t + 60))["events"])
    check("user.create" in got, f"since/until around now: expected user.create, got {got}")


def test_audit_since_accepts_a_utc_offset():
    d = shared()
    u = mkuser(d, login=False)
    t = time.time()
    ahead = time.strftime("%Y-%m-%dT%H:%M:%S+01:00", time.gmtime(t + 3600 - 60))
    got = actions(audit(d, target=u.username, since=ahead)["events"])
    check("user.create" in got, f"since a minute ago written with +01:00: got {got}")


def test_audit_pages_with_limit_and_next_before_newest_first():
    d = shared()
    u = mkuser(d, login=False)
    for i in range(5):
        expect(d.admin.request("PATCH", f"/v1/users/{u.username}", json={"full_name": f"n{i}"}),
               200)
    full = audit(d, target=u.username)
    eq(len(full["events"]), 6, "events for the user (create + 5 updates)")
    eq(full["next_before"], None, "next_before of a single page")
    eq(full["events"][-1]["action"], "user.create", "the oldest event comes last")
    stamps = [ts(e["at"], "at") for e in full["events"]]
    eq(stamps, sorted(stamps, reverse=True), "newest first")
    pages, before = [], None
    for _ in range(5):
        body = audit(d, target=u.username, limit=4, before=before)
        pages.append(body["events"])
        before = body["next_before"]
        if before is None:
            break
    eq([len(p) for p in pages], [4, 2], "page sizes with limit=4")
    eq([e["id"] for p in pages for e in p], [e["id"] for e in full["events"]],
       "the pages joined vs one page")


def test_audit_next_before_is_null_on_a_page_that_ends_with_the_oldest_event():
    d = shared()
    u = mkuser(d, login=False)
    for i in range(3):
        expect(d.admin.request("PATCH", f"/v1/users/{u.username}", json={"full_name": f"n{i}"}),
               200)
    body = audit(d, target=u.username, limit=4)
    eq(len(body["events"]), 4, "events (create + 3 updates) with limit=4")
    eq(body["events"][-1]["action"], "user.create", "the page's last event is the oldest")
    eq(body["next_before"], None, "next_before of the last page (exactly full)")


def test_audit_limit_defaults_to_50():
    d = shared()
    u = mkuser(d, login=False)
    for i in range(51):
        expect(d.admin.request("PATCH", f"/v1/users/{u.username}", json={"full_name": f"n{i}"}),
               200)
    body = audit(d, target=u.username)
    eq(len(body["events"]), 50, "events without limit")
    check(body["next_before"] is not None, "expected next_before on a full page")
    eq(len(audit(d, target=u.username, limit=200)["events"]), 52, "events with limit=200")


def test_audit_readable_with_view_audit_through_a_role():
    d = shared()
    c = mkuser(d, roles=[mkrole(d, ["view_audit"])])
    audit(d, caller=c, actor=c.username)


BAD_AUDIT_QUERIES = [
    ("limit_zero", "limit=0"),
    ("limit_201", "limit=201"),
    ("negative_limit", "limit=-1"),
    ("limit_not_a_number", "limit=ten"),
    ("since_not_a_time", "since=yesterday"),
    ("until_not_a_time", "until=2026-13-45T99:00:00Z"),
    ("since_date_only", "since=2026-01-01"),
]


def _make_bad_audit_query_test(query):
    def t():
        expect(shared().admin.request("GET", f"/v1/audit?{query}"), 400, "bad-request",
               what=f"GET /v1/audit?{query}")
    return t


for _name, _query in BAD_AUDIT_QUERIES:
    globals()[f"test_audit_query_{_name}_is_400"] = _make_bad_audit_query_test(_query)


# =========================================================================== bad bodies

def _body_cases():
    """name -> setup(d) returning dict(caller, method, path, good, wrong, wrong_field,
    snapshot): `good` would succeed; `wrong` has `wrong_field` of the wrong type."""

    def users_create(d):
        name = uniq_user("bb")
        good = {"username": name, "password": new_pw()}
        return dict(caller=d.admin, method="POST", path="/v1/users", good=good,
                    wrong={**good, "roles": "user"}, wrong_field="roles",
                    snapshot=lambda: status_of(d.admin, f"/v1/users/{name}"))

    def users_patch(d):
        u = mkuser(d, login=False)
        return dict(caller=d.admin, method="PATCH", path=f"/v1/users/{u.username}",
                    good={"full_name": "Changed"}, wrong={"disabled": "yes"},
                    wrong_field="disabled", snapshot=lambda: get_user(d, u.username))

    def roles_create(d):
        name = uniq("role")
        good = {"name": name, "authorities": ["view_audit"]}
        return dict(caller=d.admin, method="POST", path="/v1/roles", good=good,
                    wrong={**good, "authorities": "view_audit"}, wrong_field="authorities",
                    snapshot=lambda: status_of(d.admin, f"/v1/roles/{name}"))

    def roles_replace(d):
        name = mkrole(d, ["view_audit"])
        return dict(caller=d.admin, method="PUT", path=f"/v1/roles/{name}",
                    good={"authorities": ["manage_groups"]},
                    wrong={"authorities": ["manage_groups"], "description": 7},
                    wrong_field="description",
                    snapshot=lambda: d.admin.request("GET", f"/v1/roles/{name}").body)

    def groups_create(d):
        name = uniq("grp")
        good = {"name": name}
        return dict(caller=d.admin, method="POST", path="/v1/groups", good=good,
                    wrong={**good, "members": "nobody"}, wrong_field="members",
                    snapshot=lambda: status_of(d.admin, f"/v1/groups/{name}"))

    def groups_replace(d):
        g = mkgroup(d, description="kept")
        return dict(caller=d.admin, method="PUT", path=f"/v1/groups/{g}",
                    good={"description": "changed"}, wrong={"roles": {"user": True}},
                    wrong_field="roles",
                    snapshot=lambda: d.admin.request("GET", f"/v1/groups/{g}").body)

    def environments_create(d):
        name = uniq("env")
        good = {"name": name}
        return dict(caller=d.admin, method="POST", path="/v1/environments", good=good,
                    wrong={**good, "description": ["x"]}, wrong_field="description",
                    snapshot=lambda: status_of(d.admin, f"/v1/environments/{name}"))

    def me_patch(d):
        c = mkuser(d)
        return dict(caller=c, method="PATCH", path="/v1/me", good={"full_name": "Changed"},
                    wrong={"email": 12}, wrong_field="email", snapshot=lambda: get_me(c))

    def me_password(d):
        c = mkuser(d)
        return dict(caller=c, method="POST", path="/v1/me/password",
                    good={"current_password": c.password, "new_password": new_pw()},
                    wrong={"current_password": c.password, "new_password": ["pw-long-enough"]},
                    wrong_field="new_password",
                    snapshot=lambda: (status_of(c, "/v1/me"),
                                      login(d, c.username, c.password)[0].status))

    def mfa_confirm(d):
        c = mkuser(d)
        secret = enrol(c)
        return dict(caller=c, method="POST", path="/v1/me/mfa/confirm",
                    good={"code": totp(secret), "current_password": c.password},
                    wrong={"code": [totp(secret)], "current_password": c.password},
                    wrong_field="code", snapshot=lambda: get_me(c)["mfa_enabled"])

    def mfa_disable(d):
        c = mkuser(d)
        mfa_on(c)
        return dict(caller=c, method="DELETE", path="/v1/me/mfa",
                    good={"password": c.password}, wrong={"password": 123456789012},
                    wrong_field="password", snapshot=lambda: get_me(c)["mfa_enabled"])

    return list(locals().items())


def _make_body_test(setup, kind):
    def t():
        d = shared()
        case = setup(d)
        caller, method, path = case["caller"], case["method"], case["path"]
        before = case["snapshot"]()
        if kind == "unknown_field":
            r = caller.request(method, path, json={**case["good"], "bogus_field": "x"})
            expect(r, 422, "validation-failed", what=f"{method} {path} with an unknown field")
            expect_error_field(r, "bogus_field")
        elif kind == "wrong_type":
            r = caller.request(method, path, json=case["wrong"])
            expect(r, 422, "validation-failed",
                   what=f"{method} {path} with {case['wrong_field']} of the wrong type")
            expect_error_field(r, case["wrong_field"])
        else:
            r = caller.request(method, path, raw_body='{"name": "x", ')
            expect(r, 400, "malformed-json", what=f"{method} {path} with truncated JSON")
        eq(case["snapshot"](), before, f"state after the refused {method} {path}")
    return t


for _name, _setup in _body_cases():
    for _kind, _label in (("unknown_field", "unknown_field_is_422"),
                          ("wrong_type", "wrong_type_is_422"),
                          ("malformed", "malformed_json_is_400")):
        globals()[f"test_{_name}_{_label}_nothing_changed"] = _make_body_test(_setup, _kind)


def test_email_like_username_is_a_username_everywhere():
    """A username may hold '@' (a sign-in name such as ada@example.org, as directories and
    identity providers give it): created, signed in, found by path, a project member, an
    audit actor. Other characters stay refused."""
    d = shared()
    name = uniq_user("ada") + "@example.org"
    pw = "pw-" + os.urandom(8).hex() + "-Zz"
    expect(d.admin.request("POST", "/v1/users", json={"username": name, "password": pw}), 201)
    c = Client(d)
    c.login(name, pw)
    k = create_key(c)
    eq(verify(d, k["key"], "Tasks")["code"], "VALID", "the key of an email-like user")
    quoted = urllib.parse.quote(name)
    eq(expect(d.admin.request("GET", f"/v1/users/{quoted}"), 200).body["username"], name,
       "found by path")
    eq(expect(d.admin.request("GET", f"/v1/users/{name}"), 200).body["username"], name,
       "found by path with a literal @")
    project = expect(d.admin.request("POST", "/v1/projects", json={"name": uniq("p")}), 201).body
    expect(d.admin.request("PUT", f"/v1/projects/{project['id']}/members/"
                           + urllib.parse.quote(f"user:{name}", safe=""), json={"role": "reader"}), 200)
    members = expect(d.admin.request("GET", f"/v1/projects/{project['id']}/members"), 200).body
    check(any(m["principal"] == f"user:{name}" for m in members["members"]), "a project member")
    events = expect(d.admin.request("GET", "/v1/audit?" + urllib.parse.urlencode({"actor": name})),
                    200).body["events"]
    check(any(e["action"] == "key.create" for e in events), "an audit actor")
    for bad in ("a b", "a/b", "a:b", "a+b", "a%b", "a\\b", "a,b"):
        r = d.admin.request("POST", "/v1/users", json={"username": bad, "password": pw})
        expect(r, 422, what=f"username {bad!r}")
