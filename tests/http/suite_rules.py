"""The identity (issue 3) and API account (issue 4) rules that guard access, each once, end
to end over HTTP: authorities and roles (also through groups), disable/delete cascades, the
last admin, SSO users, TOTP with replay refusal, the audit trail, projects and API accounts
with verification by project and role.
"""
import base64
import hashlib
import hmac
import os
import struct
import time

from run import (ADMIN_PASS, ADMIN_USER, Client, check, create_key, dedicated, eq, expect,
                 shared, uniq, uniq_user, verify)
from suite_accounts import mkproject


def _user(d, roles=None, **extra):
    """Creates a user through the admin; returns (client logged in, username, password)."""
    name, pw = uniq_user("r"), "pw-" + os.urandom(8).hex()
    body = {"username": name, "password": pw}
    if roles is not None:
        body["roles"] = roles
    body.update(extra)
    expect(d.admin.request("POST", "/v1/users", json=body), 201, what="create user")
    c = Client(d)
    c.login(name, pw)
    return c, name, pw


def _role(d, authorities):
    name = uniq("role")
    expect(d.admin.request("POST", "/v1/roles",
                           json={"name": name, "authorities": authorities}), 201)
    return name


def totp(secret_b32, t=None, step=30):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if t is None else t) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


# ---- authorities and roles --------------------------------------------------------

def test_plain_user_is_refused_403_on_every_admin_endpoint():
    d = shared()
    c, name, _ = _user(d)
    calls = [("GET", "/v1/users", None), ("POST", "/v1/users", {"username": "x", "password": "y"}),
             ("PATCH", f"/v1/users/{ADMIN_USER}", {"full_name": "x"}),
             ("DELETE", f"/v1/users/{ADMIN_USER}", None),
             ("POST", "/v1/roles", {"name": "r", "authorities": []}),
             ("POST", "/v1/groups", {"name": "g"}), ("POST", "/v1/environments", {"name": "e"}),
             ("GET", "/v1/audit", None), ("GET", f"/v1/users/{ADMIN_USER}/keys", None),
             ("POST", "/v1/scopes", {"name": "S"}),
             ("POST", "/v1/service-accounts", {"name": "site"})]
    for method, path, body in calls:
        r = c.request(method, path, json=body)
        expect(r, 403, "forbidden", what=f"{method} {path} as a plain user")


def test_authority_through_a_group_role_comes_and_goes_with_membership():
    d = shared()
    c, name, _ = _user(d)
    expect(c.request("GET", "/v1/audit"), 403, what="before the group")
    role = _role(d, ["view_audit"])
    g = uniq("auditors")
    expect(d.admin.request("POST", "/v1/groups",
                           json={"name": g, "roles": [role], "members": [name]}), 201)
    expect(c.request("GET", "/v1/audit"), 200, what="with the group's role")
    expect(d.admin.request("PUT", f"/v1/groups/{g}", json={"members": []}), 200)
    expect(c.request("GET", "/v1/audit"), 403, what="after leaving the group")


def test_role_in_use_cannot_be_deleted_and_builtin_roles_cannot_change():
    d = shared()
    role = _role(d, ["view_audit"])
    _user(d, roles=[role])
    expect(d.admin.request("DELETE", f"/v1/roles/{role}"), 409, "conflict")
    expect(d.admin.request("PUT", "/v1/roles/admin", json={"authorities": []}), 403, "forbidden")
    expect(d.admin.request("DELETE", "/v1/roles/user"), 403, "forbidden")


def test_group_member_must_exist_and_share_the_environment():
    d = shared()
    env = uniq("env")
    expect(d.admin.request("POST", "/v1/environments", json={"name": env}), 201)
    _, root_user, _ = _user(d)
    r = d.admin.request("POST", "/v1/groups", json={"name": uniq("g"), "environment": env,
                                                      "members": [root_user]})
    expect(r, 422, "validation-failed", what="member from ROOT in a group of another env")
    r = d.admin.request("POST", "/v1/groups", json={"name": uniq("g"), "members": ["nobody-x"]})
    expect(r, 422, "validation-failed", what="member that does not exist")
    expect(d.admin.request("DELETE", "/v1/environments/ROOT"), 403, "forbidden")


def test_user_with_manage_user_api_keys_sees_and_deletes_others_keys_but_never_creates():
    d = shared()
    role = _role(d, ["manage_user_api_keys"])
    boss, _, _ = _user(d, roles=[role])
    owner, owner_name, _ = _user(d)
    k = create_key(owner, scopes=("Tasks",))
    r = expect(boss.request("GET", f"/v1/users/{owner_name}/keys"), 200)
    eq([x["id"] for x in r.body["keys"]], [k["id"]], "the owner's keys as the manager sees them")
    check("key" not in r.body["keys"][0], "a listed key carries no secret")
    r = boss.request("POST", f"/v1/users/{owner_name}/keys",
                     json={"name": "x", "scopes": ["Tasks"]})
    expect(r, 403, "forbidden", what="creating a key for someone else")
    expect(d.admin.request("POST", f"/v1/users/{owner_name}/keys",
                           json={"name": "x", "scopes": ["Tasks"]}), 403, "forbidden")
    expect(boss.request("DELETE", f"/v1/users/{owner_name}/keys/{k['id']}"), 204)
    eq(verify(d, k["key"]).get("code"), "NOT_FOUND", "the deleted key")


# ---- users: disable, delete, last admin, SSO ---------------------------------------

def test_disabling_a_user_refuses_their_keys_at_once_and_enabling_restores_them():
    d = shared()
    c, name, _ = _user(d)
    k = create_key(c, scopes=("Tasks",))
    expect(d.admin.request("PATCH", f"/v1/users/{name}", json={"disabled": True}), 200)
    eq(verify(d, k["key"]).get("code"), "DISABLED", "key of a disabled user")
    expect(c.request("GET", "/v1/keys"), 401, what="the disabled user's session")
    expect(d.admin.request("PATCH", f"/v1/users/{name}", json={"disabled": False}), 200)
    eq(verify(d, k["key"]).get("code"), "VALID", "key after enabling again")


def test_deleting_a_user_refuses_their_keys_at_once():
    d = shared()
    c, name, _ = _user(d)
    k = create_key(c, scopes=("Tasks",))
    expect(d.admin.request("DELETE", f"/v1/users/{name}"), 204)
    eq(verify(d, k["key"]).get("code"), "NOT_FOUND", "key of a deleted user")
    expect(d.admin.request("GET", f"/v1/users/{name}"), 404, "not-found")


def test_the_last_enabled_admin_cannot_be_demoted_disabled_or_deleted():
    d = dedicated("last-admin")
    try:
        a = d.admin
        # own roles are never the caller's to change (403), and the last admin stays (409)
        expect(a.request("PATCH", f"/v1/users/{ADMIN_USER}", json={"roles": ["user"]}), 403,
               "own-grants")
        expect(a.request("PATCH", f"/v1/users/{ADMIN_USER}", json={"disabled": True}), 409)
        expect(a.request("DELETE", f"/v1/users/{ADMIN_USER}"), 409)
        other, _, _ = _user(d, roles=["admin"])
        expect(other.request("PATCH", f"/v1/users/{ADMIN_USER}", json={"roles": ["user"]}), 200,
               what="demotion by another admin")
        d.stop()
    finally:
        d.kill()


def test_sso_user_cannot_log_in_with_a_password_nor_use_mfa_or_change_password():
    d = shared()
    name = uniq_user("sso")
    expect(d.admin.request("POST", "/v1/users", json={"username": name, "auth_source": "saml"}),
           201)
    r = Client(d).request("POST", "/v1/login", json={"username": name, "password": "anything-12"})
    expect(r, 401, "login-failed")
    r = d.admin.request("POST", "/v1/users", json={"username": uniq_user("sso"),
                                                     "auth_source": "ldap", "password": "x" * 12})
    expect(r, 422, "validation-failed", what="an SSO user with a password")


def test_weak_passwords_are_refused():
    d = shared()
    for pw in ("short", "password1234", "Password123!"):
        r = d.admin.request("POST", "/v1/users", json={"username": uniq_user("w"), "password": pw})
        expect(r, 422, "validation-failed", what=f"password {pw!r}")


def test_changing_password_ends_other_sessions_but_keeps_this_one():
    d = shared()
    c, name, pw = _user(d)
    other = Client(d)
    other.login(name, pw)
    new = "pw-" + os.urandom(8).hex()
    r = c.request("POST", "/v1/me/password", json={"current_password": "wrong-password-1",
                                                     "new_password": new})
    expect(r, 422, "validation-failed")
    expect(c.request("POST", "/v1/me/password", json={"current_password": pw,
                                                        "new_password": new}), 204)
    expect(c.request("GET", "/v1/me"), 200, what="the session that changed it")
    expect(other.request("GET", "/v1/me"), 401, what="another session of the user")


def test_profile_username_is_immutable_and_email_validated():
    d = shared()
    c, name, _ = _user(d)
    expect(c.request("PATCH", "/v1/me", json={"username": "other"}), 422, "validation-failed")
    expect(c.request("PATCH", "/v1/me", json={"email": "not-an-email"}), 422)
    r = expect(c.request("PATCH", "/v1/me", json={"full_name": "Ada L", "email": "ada@x.org"}),
               200)
    eq((r.body["username"], r.body["full_name"], r.body["email"]), (name, "Ada L", "ada@x.org"),
       "profile after PATCH")


# ---- TOTP -----------------------------------------------------------------------------

def test_totp_enrolment_login_and_replay_refusal():
    d = shared()
    c, name, pw = _user(d)
    en = expect(c.request("POST", "/v1/me/mfa", json={"current_password": pw}), 200).body
    check(en["otpauth_uri"].startswith("otpauth://totp/") and en["secret"] in en["otpauth_uri"],
          "otpauth URI carries the secret")
    check(en.get("qr_svg", "").startswith("<svg"), "a QR code as SVG")
    expect(c.request("POST", "/v1/me/mfa/confirm",
                     json={"code": "000000", "current_password": pw}), 422)
    now = time.time()
    expect(c.request("POST", "/v1/me/mfa/confirm",
                     json={"code": totp(en["secret"], now), "current_password": pw}), 200)
    r = Client(d).request("POST", "/v1/login", json={"username": name, "password": pw})
    expect(r, 401, "otp-required", what="password alone with MFA on")
    code = totp(en["secret"], now + 30)                  # the next step (within the window)
    r = Client(d).request("POST", "/v1/login",
                          json={"username": name, "password": pw, "otp": code})
    expect(r, 200, what="password and the next step's code")
    r = Client(d).request("POST", "/v1/login",
                          json={"username": name, "password": pw, "otp": code})
    expect(r, 401, "login-failed", what="the same code again (replay)")


# ---- audit ------------------------------------------------------------------------------

def test_audit_records_logins_and_key_changes_without_secrets_and_pages():
    d = shared()
    c, name, _ = _user(d)
    Client(d).request("POST", "/v1/login", json={"username": name, "password": "wrong-pw-123"})
    k = create_key(c, scopes=("Tasks",))
    expect(c.request("DELETE", f"/v1/keys/{k['id']}"), 204)
    r = expect(d.admin.request("GET", f"/v1/audit?actor={name}"), 200)
    actions = [e["action"] for e in r.body["events"]]
    for a in ("login.failure", "login.success", "key.create", "key.delete"):
        check(a in actions, f"audit has {a} for {name}: {actions}")
    check(k["key"] not in str(r.body), "no secret in the audit trail")
    r = expect(d.admin.request("GET", f"/v1/audit?actor={name}&limit=1"), 200)
    eq(len(r.body["events"]), 1, "limit=1")
    nxt = r.body["next_before"]
    r2 = expect(d.admin.request("GET", f"/v1/audit?actor={name}&limit=1&before={nxt}"), 200)
    check(int(r2.body["events"][0]["id"]) < int(nxt), "the next page is older")
    expect(d.admin.request("GET", "/v1/audit?limit=0"), 400, "bad-request")
    expect(d.admin.request("GET", "/v1/audit?since=yesterday"), 400, "bad-request")


# ---- projects and API accounts -----------------------------------------------------

def test_site_wide_accounts_need_manage_service_accounts():
    d = shared()
    c, _, _ = _user(d)
    expect(c.request("POST", "/v1/service-accounts", json={"name": uniq("s")}), 403)
    expect(d.admin.request("POST", "/v1/service-accounts", json={"name": uniq("s")}), 201)


def test_project_owner_makes_an_account_whose_keys_act_in_the_project_and_below():
    d = shared()
    owner, owner_name, _ = _user(d)
    p = {"id": mkproject(owner)}  # top level: handed over by an administrator
    sub = expect(owner.request("POST", "/v1/projects", json={"name": "sub", "parent": p["id"]}),
                 201).body
    acct = expect(owner.request("POST", "/v1/service-accounts",
                                json={"name": uniq("bot"), "project": p["id"]}), 201).body
    k = expect(owner.request("POST", f"/v1/service-accounts/{acct['id']}/keys",
                             json={"name": "k", "scopes": ["Tasks"]}), 201).body
    check(k["key"].startswith("apk_"), "the secret in the create answer")
    listed = expect(owner.request("GET", f"/v1/service-accounts/{acct['id']}/keys"), 200).body
    check(k["key"] not in str(listed), "no secret in the account's key list")

    def v(project, role):
        return Client(d).request("POST", "/v1/verify", json={"key": k["key"], "project": project,
                                                              "role": role}).body
    body = v(sub["id"], "contributor")
    eq(body["code"], "VALID", "contributor of the parent, in the subproject")
    eq(body["created_by"], owner_name, "created_by is the issuing person")
    eq(v(p["id"], "owner")["code"], "INSUFFICIENT_ROLE", "owner needed, contributor held")
    r = Client(d).request("GET", "/v1/auth", headers={
        "X-API-Key": k["key"], "X-Required-Project": sub["id"], "X-Required-Role": "reader",
        "X-Required-Scope": "*"})
    expect(r, 204, what="/v1/auth with project and role")
    eq(r.headers.get("X-Apikey-Created-By"), owner_name, "X-Apikey-Created-By")
    expect(owner.request("DELETE", f"/v1/projects/{p['id']}/members/"
                                   f"service-account:{acct['id']}"), 204)
    eq(v(sub["id"], "reader")["code"], "INSUFFICIENT_ROLE", "right after the membership went")


def test_non_owner_cannot_manage_a_project_or_its_accounts():
    d = shared()
    owner, _, _ = _user(d)
    other, other_name, _ = _user(d)
    p = {"id": mkproject(owner)}  # top level: handed over by an administrator
    expect(other.request("GET", f"/v1/projects/{p['id']}"), 404, what="a stranger reads it")
    expect(owner.request("PUT", f"/v1/projects/{p['id']}/members/user:{other_name}",
                         json={"role": "contributor"}), 200)
    expect(other.request("GET", f"/v1/projects/{p['id']}"), 200, what="a member reads it")
    expect(other.request("POST", "/v1/service-accounts",
                         json={"name": uniq("b"), "project": p["id"]}), 403,
           what="a contributor makes an account")
    expect(other.request("PUT", f"/v1/projects/{p['id']}/members/user:{other_name}",
                         json={"role": "owner"}), 403, what="a contributor promotes itself")
    expect(owner.request("PUT", f"/v1/projects/{p['id']}/members/user:nobody-zz",
                         json={"role": "reader"}), 422, what="an unknown principal")
    expect(owner.request("PUT", f"/v1/projects/{p['id']}/members/user:{other_name}",
                         json={"role": "boss"}), 422, what="an unknown role")


def test_deleting_or_disabling_an_account_refuses_its_keys_at_once():
    d = shared()
    a = expect(d.admin.request("POST", "/v1/service-accounts", json={"name": uniq("s")}),
               201).body
    k = expect(d.admin.request("POST", f"/v1/service-accounts/{a['id']}/keys",
                               json={"name": "k", "scopes": ["Tasks"]}), 201).body
    eq(verify(d, k["key"])["code"], "VALID", "before")
    expect(d.admin.request("PATCH", f"/v1/service-accounts/{a['id']}",
                           json={"disabled": True}), 200)
    eq(verify(d, k["key"])["code"], "DISABLED", "disabled account")
    expect(d.admin.request("DELETE", f"/v1/service-accounts/{a['id']}"), 204)
    eq(verify(d, k["key"])["code"], "NOT_FOUND", "deleted account")


def test_last_owner_of_a_top_level_project_stays_and_busy_projects_are_not_deleted():
    d = shared()
    owner, owner_name, _ = _user(d)
    p = {"id": mkproject(owner)}  # top level: handed over by an administrator
    expect(owner.request("DELETE", f"/v1/projects/{p['id']}/members/user:{owner_name}"), 409)
    expect(owner.request("POST", "/v1/projects", json={"name": "child", "parent": p["id"]}), 201)
    expect(owner.request("DELETE", f"/v1/projects/{p['id']}"), 409, "conflict")


def test_admin_lists_users_and_groups_with_their_memberships():
    d = shared()
    _, name, _ = _user(d)
    g = uniq("listed")
    expect(d.admin.request("POST", "/v1/groups", json={"name": g, "members": [name]}), 201)
    users = expect(d.admin.request("GET", "/v1/users"), 200).body["users"]
    me = [u for u in users if u["username"] == name]
    eq(len(me), 1, "the new user in GET /v1/users")
    check(g in me[0]["groups"], f"the user's groups list the group: {me[0]['groups']}")
    check("password_hash" not in str(users), "no password hashes in the list")
    groups = expect(d.admin.request("GET", "/v1/groups"), 200).body["groups"]
    mine = [x for x in groups if x["name"] == g]
    eq(mine[0]["members"], [name], "GET /v1/groups lists the members")
