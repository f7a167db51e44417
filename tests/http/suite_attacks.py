"""Attacks on issue 12: an insider holding one authority tries to gain more (item 1, no
escalation through delegation), and a proxy that forgot X-Required-Scope (item 9, fail
closed). Each test plays the attacker against the shared daemon and checks that nothing the
refused request sent was stored."""
from run import (Client, auth, create_key, eq, expect, role_names, shared, uniq, uniq_user,
                 verify)


def _holder(d, authorities):
    """A user (logged-in client) holding only `authorities`, through a role of its own."""
    role = uniq("r")
    expect(d.admin.request("POST", "/v1/roles", json={"name": role, "authorities": authorities}),
           201, what=f"role {role}")
    name, pw = uniq_user("ins"), "pw-insider-" + uniq("p")
    expect(d.admin.request("POST", "/v1/users",
                           json={"username": name, "password": pw, "roles": [role]}), 201)
    c = Client(d)
    c.login(name, pw)
    return c, role


def _roles_of(d, name):
    return sorted(role_names(expect(d.admin.request("GET", f"/v1/users/{name}"), 200)
                             .body.get("roles")))


def test_attack_manage_users_holder_cannot_make_themselves_admin():
    d = shared()
    c, role = _holder(d, ["manage_users"])
    r = c.request("PATCH", f"/v1/users/{c.username}", json={"roles": ["admin"]})
    expect(r, 403, "own-grants", what="PATCH own roles to admin")
    eq(_roles_of(d, c.username), [role], "roles after the refused change")


def test_attack_manage_users_holder_cannot_grant_admin_to_an_accomplice():
    d = shared()
    c, _ = _holder(d, ["manage_users"])
    name = uniq_user("acc")
    r = c.request("POST", "/v1/users", json={"username": name, "password": "pw-" + uniq("x"),
                                             "roles": ["admin"]})
    expect(r, 403, "not-held", what="create a user with admin")
    expect(d.admin.request("GET", f"/v1/users/{name}"), 404, what="nothing stored")
    other = uniq_user("acc")
    expect(c.request("POST", "/v1/users", json={"username": other, "password": "pw-" + uniq("x")}),
           201, what="a plain user is still allowed")
    expect(c.request("PATCH", f"/v1/users/{other}", json={"roles": ["admin"]}), 403, "not-held")
    eq(_roles_of(d, other), ["user"], "the accomplice's roles")


def test_attack_manage_users_holder_cannot_disable_reset_or_delete_an_admin():
    d = shared()
    c, _ = _holder(d, ["manage_users"])
    admin_name, admin_pw = uniq_user("adm"), "pw-" + uniq("a")
    expect(d.admin.request("POST", "/v1/users", json={"username": admin_name, "password": admin_pw,
                                                      "roles": ["admin"]}), 201)
    for body in ({"disabled": True}, {"password": "pw-taken-over-" + uniq("t")}):
        expect(c.request("PATCH", f"/v1/users/{admin_name}", json=body), 403, "not-held",
               what=f"PATCH an admin {list(body)}")
    expect(c.request("DELETE", f"/v1/users/{admin_name}"), 403, "not-held")
    Client(d).login(admin_name, admin_pw)  # still enabled, same password


def test_attack_group_holder_cannot_gain_admin_through_a_group():
    d = shared()
    c, _ = _holder(d, ["manage_groups"])
    g = uniq("g")
    expect(c.request("POST", "/v1/groups", json={"name": g, "roles": ["admin"]}), 403, "not-held")
    expect(d.admin.request("GET", f"/v1/groups/{g}"), 404, what="nothing stored")
    expect(c.request("POST", "/v1/groups", json={"name": g, "members": [c.username]}), 403,
           "own-grants", what="joining a group by one's own hand")
    expect(d.admin.request("POST", "/v1/groups", json={"name": g, "roles": ["admin"]}), 201)
    expect(c.request("PUT", f"/v1/groups/{g}", json={"members": [c.username]}), 403, "not-held",
           what="joining the admins' group")
    expect(c.request("DELETE", f"/v1/groups/{g}"), 403, "not-held")
    eq(_roles_of(d, c.username)[0].startswith("r"), True, "still only the own role")
    me = expect(c.request("GET", "/v1/me"), 200).body
    eq("manage_users" in (me.get("authorities") or []), False, "no authority gained")


def test_attack_manage_roles_holder_cannot_widen_their_own_role():
    d = shared()
    c, role = _holder(d, ["manage_roles"])
    r = c.request("PUT", f"/v1/roles/{role}", json={"authorities": ["manage_roles", "manage_users"]})
    expect(r, 403, "not-held", what="widen own role")
    got = expect(d.admin.request("GET", f"/v1/roles/{role}"), 200).body
    eq(got.get("authorities"), ["manage_roles"], "the role after the refused change")
    expect(c.request("POST", "/v1/roles", json={"name": uniq("r"), "authorities": ["view_audit"]}),
           403, "not-held", what="a new role with an authority not held")
    ok = uniq("r")
    expect(c.request("POST", "/v1/roles", json={"name": ok, "authorities": ["manage_roles"]}), 201,
           what="a role within what the caller holds")


def test_attack_auth_without_required_scope_is_400():
    d = shared()
    c = Client(d)
    key = create_key(d.admin, scopes=["Tasks"])["key"]
    r = c.request("GET", "/v1/auth", headers={"Authorization": f"Bearer {key}"})
    expect(r, 400, "bad-request", what="/v1/auth with no X-Required-Scope")
    eq("X-Apikey-Id" in r.headers, False, "a refused auth names no key")
    expect(auth(d, key, scope=""), 400, "bad-request", what="an empty X-Required-Scope")
    expect(auth(d, key, scope="*"), 204, what="* asks for any valid key")
    expect(auth(d, key, scope="Tasks"), 204)


# ---- item 2: an API-account key is not its creator ------------------------------------------

def _account_key_of(d, scopes):
    """(creator client, account id, key secret): a project owner's API-account key."""
    from suite_accounts import account_key, mkaccount, mkproject, user
    owner = user(d)
    pid = mkproject(owner)
    sid = mkaccount(owner, project=pid)
    return owner, sid, account_key(owner, sid, scopes=scopes)["key"]


def test_attack_account_key_cannot_read_or_change_its_creator():
    d = shared()
    owner, _, key = _account_key_of(d, ["User", "Tasks"])
    k = Client(d, key=key)
    for method, path, body in (("GET", "/v1/me", None),
                               ("PATCH", "/v1/me", {"full_name": "taken over"}),
                               ("POST", "/v1/me/password", {"current_password": owner.password,
                                                            "new_password": "pw-taken-" + uniq("x")}),
                               ("POST", "/v1/me/mfa", {}),
                               ("POST", "/v1/me/mfa/confirm", {"code": "123456"}),
                               ("DELETE", "/v1/me/mfa", None)):
        expect(k.request(method, path, json=body), 403, "forbidden", what=f"{method} {path}")
    me = expect(owner.request("GET", "/v1/me"), 200).body
    eq((me.get("full_name"), me.get("mfa_enabled", False)), ("", False), "the creator's account")
    Client(d).login(owner.username, owner.password)  # the password is unchanged


def test_attack_account_key_stops_when_its_creator_is_disabled_and_returns_when_enabled():
    d = shared()
    owner, _, key = _account_key_of(d, ["Tasks"])
    eq(verify(d, key).get("code"), "VALID", "before")
    expect(d.admin.request("PATCH", f"/v1/users/{owner.username}", json={"disabled": True}), 200)
    eq(verify(d, key).get("code"), "DISABLED", "right after the creator is disabled")
    expect(auth(d, key), 401, "unauthenticated", what="/v1/auth while the creator is disabled")
    expect(d.admin.request("PATCH", f"/v1/users/{owner.username}", json={"disabled": False}), 200)
    eq(verify(d, key).get("code"), "VALID", "after the creator is enabled again")


def test_attack_account_key_stops_when_its_creator_is_deleted():
    d = shared()
    owner, sid, key = _account_key_of(d, ["Tasks"])
    from suite_accounts import user
    heir = user(d)
    # the project needs another owner before its only owner may be deleted
    pid = expect(owner.request("GET", f"/v1/service-accounts/{sid}"), 200).body.get("project")
    expect(owner.request("PUT", f"/v1/projects/{pid}/members/user:{heir.username}",
                         json={"role": "owner"}), 200, what="a second owner")
    eq(verify(d, key).get("code"), "VALID", "before")
    expect(d.admin.request("DELETE", f"/v1/users/{owner.username}"), 204)
    eq(verify(d, key).get("code") in ("DISABLED", "NOT_FOUND"), True,
       "the key once its creator is deleted")


# ---- item 12: names that look the same are the same ------------------------------------------

def test_attack_names_differing_only_in_case_are_taken():
    d = shared()
    expect(d.admin.request("POST", "/v1/users", json={"username": "Admin", "password":
                                                      "pw-lookalike-" + uniq("x")}),
           409, "conflict", what="user Admin while admin exists")
    expect(d.admin.request("GET", "/v1/users/Admin"), 404, what="nothing stored")
    role = uniq("Role")
    expect(d.admin.request("POST", "/v1/roles", json={"name": role, "authorities": []}), 201)
    expect(d.admin.request("POST", "/v1/roles", json={"name": role.upper(), "authorities": []}),
           409, "conflict", what="a role differing in case")
    expect(d.admin.request("POST", "/v1/roles", json={"name": "ADMIN", "authorities": []}), 409,
           "conflict", what="role ADMIN")
    g = uniq("grp")
    expect(d.admin.request("POST", "/v1/groups", json={"name": g}), 201)
    expect(d.admin.request("POST", "/v1/groups", json={"name": g.upper()}), 409, "conflict")
    expect(d.admin.request("GET", f"/v1/groups/{g.upper()}"), 404, what="nothing stored")
