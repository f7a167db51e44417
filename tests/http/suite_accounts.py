"""API accounts (service accounts) and projects (issue 4) over HTTP, against docs/API.md
("API accounts (service accounts) and projects", "Verification by project and role", the
conventions, errors, key and expiry rules): one behaviour per test.

Every test uses the shared daemon with its own users, projects and accounts (unique names),
so tests never see each other's objects; only the restart test starts a daemon of its own.

Where API.md names no status for a refusal of someone who cannot even see the object (a
project the caller does not reach, an account it does not manage), the tests accept 403 or
404 and check that nothing changed; where API.md names one (GET of an account by others is
404; a contributor is a member who is simply not allowed: 403), they insist on it.
Projects are named by their id in /v1/verify (`project`) and /v1/auth (`X-Required-Project`).
"""
import json as jsonlib
import os
import urllib.parse

from run import (DAY, KEY_RE, Client, check, check_key_object, checksum, create_key,
                 dedicated, eq, expect, expect_error_field, expect_one_of, list_keys, near,
                 now, iso, shared, ts, uniq, uniq_user, verify)

PROJECT_FIELDS = ["id", "name", "parent", "created_at", "created_by"]
ACCOUNT_FIELDS = ["id", "name", "description", "project", "created_by", "created_at",
                  "disabled"]
ROLES = ["reader", "contributor", "owner"]          # weakest first
HIDDEN = {403: "forbidden", 404: "not-found"}       # refusals where API.md names no status


# --------------------------------------------------------------------------- helpers

_roles = {}


def role_with(d, *authorities):
    """A role holding exactly `authorities`, made once per daemon."""
    k = (id(d), d.starts, tuple(sorted(authorities)))
    if k not in _roles:
        name = uniq("acct-role")
        expect(d.admin.request("POST", "/v1/roles",
                               json={"name": name, "authorities": sorted(authorities)}),
               201, what=f"create role {name}")
        _roles[k] = name
    return _roles[k]


def user(d, *authorities, login=True):
    """A local user (holding `authorities` through a role of their own); a Client, logged
    in unless login=False, with .username and .password set."""
    name, pw = uniq_user("a"), "pw-" + os.urandom(8).hex()
    body = {"username": name, "password": pw}
    if authorities:
        body["roles"] = ["user", role_with(d, *authorities)]
    expect(d.admin.request("POST", "/v1/users", json=body), 201, what=f"create user {name}")
    c = Client(d)
    if login:
        c.login(name, pw)
    c.username, c.password = name, pw
    return c


def key_client(d, owner, scopes, **fields):
    """A Client that authenticates with a new key of `owner` holding `scopes`."""
    return Client(d, key=create_key(owner, scopes=scopes, **fields)["key"])


def mkproject(c, parent=None, name=None):
    """A new project owned by c. Top-level projects need manage_projects (SPEC): for a caller
    without it an administrator makes the project, hands it to c as its owner and leaves it,
    as an operator would for a team."""
    body = {"name": name or uniq("proj")}
    if parent is not None:
        body["parent"] = parent
    r = c.request("POST", "/v1/projects", json=body)
    if parent is None and r.status == 403 and c is not c.d.admin and c.username:
        r = expect(c.d.admin.request("POST", "/v1/projects", json=body), 201,
                   what=f"POST /v1/projects {body} by the administrator")
        pid = r.body["id"]
        put_member(c.d.admin, pid, f"user:{c.username}", "owner")
        expect(c.d.admin.request("DELETE", members_path(pid, f"user:{c.d.admin.username}")),
               204, what="the administrator leaves the project")
    expect(r, 201, what=f"POST /v1/projects {body}")
    check(isinstance(r.body, dict) and isinstance(r.body.get("id"), str) and r.body["id"],
          f"POST /v1/projects: expected an object with an id, got {r.raw[:300]!r}")
    return r.body["id"]


def members_path(pid, principal=None):
    p = f"/v1/projects/{pid}/members"
    return p if principal is None else p + "/" + urllib.parse.quote(principal, safe=":")


def put_member(c, pid, principal, role):
    r = c.request("PUT", members_path(pid, principal), json={"role": role})
    expect_one_of(r, {200: None, 201: None}, what=f"PUT member {principal} as {role}")
    return r


def members(c, pid):
    """{principal: (role, inherited_from)} of GET /v1/projects/{pid}/members."""
    r = expect(c.request("GET", members_path(pid)), 200, what=f"GET members of {pid}")
    check(isinstance(r.body, dict) and isinstance(r.body.get("members"), list),
          f"GET members: expected {{members:[...]}}, got {r.raw[:300]!r}")
    out = {}
    for m in r.body["members"]:
        check(isinstance(m, dict) and {"principal", "role", "inherited_from"} <= set(m),
              f"GET members: expected {{principal, role, inherited_from}}, got {m!r}")
        out.setdefault(m["principal"], []).append((m["role"], m["inherited_from"]))
    return out


def direct_role(c, pid, principal):
    got = [role for role, via in members(c, pid).get(principal, []) if via is None]
    return got[0] if got else None


def mkaccount(c, project=None, role=None, name=None, **fields):
    body = {"name": name or uniq("sa")}
    if project is not None:
        body["project"] = project
    if role is not None:
        body["role"] = role
    body.update(fields)
    r = expect(c.request("POST", "/v1/service-accounts", json=body), 201,
               what=f"POST /v1/service-accounts {body}")
    check(isinstance(r.body, dict) and isinstance(r.body.get("id"), str) and r.body["id"],
          f"POST /v1/service-accounts: expected an object with an id, got {r.raw[:300]!r}")
    return r.body["id"]


def account_key(c, sid, scopes=("Tasks",), name=None, **fields):
    body = {"name": name or uniq("sakey"), "scopes": list(scopes)}
    body.update(fields)
    r = c.request("POST", f"/v1/service-accounts/{sid}/keys", json=body)
    expect(r, 201, what=f"POST /v1/service-accounts/{sid}/keys")
    check(isinstance(r.body, dict) and isinstance(r.body.get("key"), str),
          f"account key: expected a `key` string, got {r.raw[:300]!r}")
    return r.body


def account_keys(c, sid):
    r = expect(c.request("GET", f"/v1/service-accounts/{sid}/keys"), 200,
               what=f"GET /v1/service-accounts/{sid}/keys")
    check(isinstance(r.body, dict) and isinstance(r.body.get("keys"), list),
          f"GET account keys: expected {{keys:[...]}}, got {r.raw[:300]!r}")
    return r.body["keys"]


def pverify(d, key, project, role=None, scope=None):
    """POST /v1/verify with a project (and role/scope); returns the body."""
    body = {"key": key, "project": project}
    if role is not None:
        body["role"] = role
    if scope is not None:
        body["scope"] = scope
    r = expect(Client(d).request("POST", "/v1/verify", json=body), 200,
               what=f"POST /v1/verify project={project} role={role}")
    return r.body


def pcode(d, key, project, role=None, scope=None):
    return pverify(d, key, project, role, scope).get("code")


def pauth(d, key, project, role=None, scope="*"):
    h = {"Authorization": f"Bearer {key}", "X-Required-Project": project}
    if role is not None:
        h["X-Required-Role"] = role
    if scope is not None:
        h["X-Required-Scope"] = scope
    return Client(d).request("GET", "/v1/auth", headers=h)


def audit_events(d, **query):
    q = urllib.parse.urlencode(dict(query, limit=200))
    r = expect(d.admin.request("GET", f"/v1/audit?{q}"), 200, what=f"GET /v1/audit?{q}")
    check(isinstance(r.body, dict) and isinstance(r.body.get("events"), list),
          f"GET /v1/audit: expected {{events:[...]}}, got {r.raw[:300]!r}")
    return r.body["events"], r.raw


def audited(d, actor, action, *needles):
    """Events of `actor` with `action` that mention every needle (in target or detail)."""
    events, _ = audit_events(d, actor=actor, action=action)
    return [e for e in events if e.get("action") == action and
            all(n in jsonlib.dumps(e) for n in needles)]


def project_ids(c):
    r = expect(c.request("GET", "/v1/projects"), 200, what="GET /v1/projects")
    check(isinstance(r.body, dict) and isinstance(r.body.get("projects"), list),
          f"GET /v1/projects: expected {{projects:[...]}}, got {r.raw[:300]!r}")
    return [p.get("id") for p in r.body["projects"]]


def account_ids(c):
    r = expect(c.request("GET", "/v1/service-accounts"), 200, what="GET /v1/service-accounts")
    check(isinstance(r.body, dict) and isinstance(r.body.get("service_accounts"), list),
          f"GET /v1/service-accounts: expected {{service_accounts:[...]}}, "
          f"got {r.raw[:300]!r}")
    return [a.get("id") for a in r.body["service_accounts"]]


def sa(sid):
    return f"service-account:{sid}"


def usr(c):
    return f"user:{c.username}"


def project_with_account(d, role=None):
    """(owner client, project id, account id, account key secret)."""
    owner = user(d)
    pid = mkproject(owner)
    sid = mkaccount(owner, project=pid, role=role)
    return owner, pid, sid, account_key(owner, sid)["key"]


# =========================================================================== projects

def test_project_create_returns_201_with_documented_fields():
    d = shared()
    c = user(d, "manage_projects")  # top-level projects need it
    name = uniq("proj")
    r = expect(c.request("POST", "/v1/projects", json={"name": name}), 201)
    missing = [f for f in PROJECT_FIELDS if f not in r.body]
    check(not missing, f"project: expected fields {PROJECT_FIELDS}, missing {missing}")
    eq((r.body["name"], r.body["parent"], r.body["created_by"]), (name, None, c.username),
       "(name, parent, created_by)")
    near(ts(r.body["created_at"], "created_at"), now(), 60, "created_at")


def test_project_creator_becomes_owner_of_top_level_project():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    eq(direct_role(c, pid, usr(c)), "owner", "the creator's direct role")


def test_project_get_by_member_returns_the_project():
    d = shared()
    owner, reader = user(d, "manage_projects"), user(d)
    pid = mkproject(owner)
    put_member(owner, pid, usr(reader), "reader")
    r = expect(reader.request("GET", f"/v1/projects/{pid}"), 200)
    eq((r.body.get("id"), r.body.get("created_by")), (pid, owner.username), "(id, created_by)")


def test_project_get_by_non_member_is_refused():
    d = shared()
    owner, other = user(d), user(d)
    pid = mkproject(owner)
    expect_one_of(other.request("GET", f"/v1/projects/{pid}"), HIDDEN)


def test_project_get_by_manage_projects_holder_who_is_no_member_is_200():
    d = shared()
    pid = mkproject(user(d))
    expect(user(d, "manage_projects").request("GET", f"/v1/projects/{pid}"), 200)


def test_project_get_unknown_id_is_404():
    d = shared()
    expect(user(d).request("GET", "/v1/projects/000000000000000000000000"), 404, "not-found")


def test_project_list_shows_own_projects_but_not_others():
    d = shared()
    a, b = user(d), user(d)
    pa, pb = mkproject(a), mkproject(b)
    ids = project_ids(a)
    check(pa in ids, f"GET /v1/projects: own project {pa} missing from {ids}")
    check(pb not in ids, f"GET /v1/projects: another user's project {pb} listed")


def test_project_list_includes_subprojects_reached_through_parent():
    d = shared()
    owner, reader = user(d), user(d)
    parent = mkproject(owner)
    child = mkproject(owner, parent=parent)
    put_member(owner, parent, usr(reader), "reader")
    ids = project_ids(reader)
    check(parent in ids and child in ids,
          f"GET /v1/projects of a parent's reader: expected {parent} and {child} in {ids}")


def test_project_list_shows_every_project_to_manage_projects_holder():
    d = shared()
    pid = mkproject(user(d))
    ids = project_ids(user(d, "manage_projects"))
    check(pid in ids, f"GET /v1/projects as manage_projects: {pid} missing")


def test_subproject_create_by_owner_of_parent_is_201_with_parent():
    d = shared()
    c = user(d)
    parent = mkproject(c)
    r = expect(c.request("POST", "/v1/projects", json={"name": uniq("sub"), "parent": parent}),
               201)
    eq(r.body.get("parent"), parent, "parent of the subproject")


def test_subproject_create_by_owner_of_grandparent_is_201():
    d = shared()
    c = user(d)
    top = mkproject(c)
    mid = mkproject(c, parent=top)
    if direct_role(c, mid, usr(c)) is not None:     # ownership of `mid` only through `top`
        expect(c.request("DELETE", members_path(mid, usr(c))), 204)
    mkproject(c, parent=mid)


def test_subproject_create_by_contributor_of_parent_is_403():
    d = shared()
    owner, contrib = user(d), user(d)
    parent = mkproject(owner)
    put_member(owner, parent, usr(contrib), "contributor")
    name = uniq("sub")
    r = contrib.request("POST", "/v1/projects", json={"name": name, "parent": parent})
    expect(r, 403, "forbidden")
    check(name not in jsonlib.dumps(
        owner.request("GET", "/v1/projects").body), "the refused subproject was stored")


def test_subproject_create_by_non_member_is_refused():
    d = shared()
    parent = mkproject(user(d))
    r = user(d).request("POST", "/v1/projects", json={"name": uniq("sub"), "parent": parent})
    expect_one_of(r, {403: "forbidden", 404: "not-found", 422: "validation-failed"})


def test_subproject_create_by_manage_projects_holder_is_201():
    d = shared()
    parent = mkproject(user(d))
    mkproject(user(d, "manage_projects"), parent=parent)


def test_subproject_create_with_unknown_parent_is_refused():
    d = shared()
    r = user(d).request("POST", "/v1/projects",
                        json={"name": uniq("sub"), "parent": "000000000000000000000000"})
    expect_one_of(r, {404: "not-found", 422: "validation-failed"})


def test_project_name_taken_by_a_sibling_is_409():
    d = shared()
    c = user(d)
    parent = mkproject(c)
    name = uniq("sib")
    mkproject(c, parent=parent, name=name)
    expect(c.request("POST", "/v1/projects", json={"name": name, "parent": parent}), 409,
           "conflict")


def test_project_same_name_under_different_parents_is_allowed():
    d = shared()
    c = user(d)
    p1, p2 = mkproject(c), mkproject(c)
    name = uniq("twin")
    mkproject(c, parent=p1, name=name)
    mkproject(c, parent=p2, name=name)


def test_project_name_of_100_characters_is_accepted():
    d = shared()
    mkproject(user(d), name=("p" + os.urandom(8).hex() + "\u00e9" * 100)[:100])


def _refused_project_body(body, status, field=None, raw=None):
    d = shared()
    c = user(d)
    r = c.request("POST", "/v1/projects", json=body, raw_body=raw)
    expect(r, status, "validation-failed" if status == 422 else "malformed-json")
    if field:
        expect_error_field(r, field)
    eq(project_ids(c), [], "projects of the refused caller")


def test_project_create_with_empty_name_is_422():
    _refused_project_body({"name": ""}, 422, "name")


def test_project_create_with_101_character_name_is_422():
    _refused_project_body({"name": "n" * 101}, 422, "name")


def test_project_create_without_name_is_422():
    _refused_project_body({}, 422, "name")


def test_project_create_with_numeric_name_is_422():
    _refused_project_body({"name": 7}, 422, "name")


def test_project_create_with_numeric_parent_is_422():
    _refused_project_body({"name": uniq("p"), "parent": 5}, 422, "parent")


def test_project_create_with_unknown_field_is_422():
    _refused_project_body({"name": uniq("p"), "owner": "admin"}, 422, "owner")


def test_project_create_with_malformed_json_is_400():
    _refused_project_body(None, 400, raw='{"name": "x"')


def test_project_tree_is_at_most_8_levels_deep():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    for _ in range(7):
        pid = mkproject(c, parent=pid)          # levels 2..8 are fine
    r = c.request("POST", "/v1/projects", json={"name": uniq("deep"), "parent": pid})
    expect_one_of(r, {409: None, 422: "validation-failed"}, what="a 9th level")


def test_project_delete_by_owner_is_204_and_project_gone():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    expect(c.request("DELETE", f"/v1/projects/{pid}"), 204)
    expect(c.request("GET", f"/v1/projects/{pid}"), 404, "not-found", what="GET after delete")
    check(pid not in project_ids(c), "the deleted project is still listed")


def test_project_delete_by_contributor_is_403_and_project_kept():
    d = shared()
    owner, contrib = user(d), user(d)
    pid = mkproject(owner)
    put_member(owner, pid, usr(contrib), "contributor")
    expect(contrib.request("DELETE", f"/v1/projects/{pid}"), 403, "forbidden")
    expect(owner.request("GET", f"/v1/projects/{pid}"), 200, what="GET after refused delete")


def test_project_delete_by_manage_projects_holder_is_204():
    d = shared()
    pid = mkproject(user(d))
    expect(user(d, "manage_projects").request("DELETE", f"/v1/projects/{pid}"), 204)


def test_project_delete_with_subprojects_is_409():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    mkproject(c, parent=pid)
    expect(c.request("DELETE", f"/v1/projects/{pid}"), 409, "conflict")
    expect(c.request("GET", f"/v1/projects/{pid}"), 200, what="GET after refused delete")


def test_project_delete_with_an_api_account_is_409():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    mkaccount(c, project=pid)
    expect(c.request("DELETE", f"/v1/projects/{pid}"), 409, "conflict")
    expect(c.request("GET", f"/v1/projects/{pid}"), 200, what="GET after refused delete")


def test_project_delete_allowed_once_its_account_is_deleted():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    sid = mkaccount(c, project=pid)
    expect(c.request("DELETE", f"/v1/service-accounts/{sid}"), 204)
    expect(c.request("DELETE", f"/v1/projects/{pid}"), 204)


def test_projects_unauthenticated_is_401():
    expect(Client(shared()).request("GET", "/v1/projects"), 401, "unauthenticated")


def test_project_create_with_cookie_but_no_csrf_token_is_403():
    d = shared()
    c = user(d)
    expect(c.request("POST", "/v1/projects", json={"name": uniq("proj")}, csrf=False), 403,
           "csrf-token-invalid")
    eq(project_ids(c), [], "projects after the refusal")


def test_wrong_method_on_a_project_is_405_with_allow_header():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    r = expect(c.request("PATCH", f"/v1/projects/{pid}", json={"name": "x"}), 405,
               "method-not-allowed")
    allow = {m.strip() for m in (r.headers.get("Allow") or "").split(",")}
    check({"GET", "DELETE"} <= allow, f"Allow: expected GET and DELETE, got {allow}")


# =========================================================================== members

def test_member_put_adds_user_with_role():
    d = shared()
    owner, other = user(d), user(d)
    pid = mkproject(owner)
    put_member(owner, pid, usr(other), "contributor")
    r = expect(owner.request("GET", members_path(pid, usr(other))), 200)
    eq((r.body.get("principal"), r.body.get("role")), (usr(other), "contributor"),
       "GET member")


def test_member_put_changes_existing_role():
    d = shared()
    owner, other = user(d), user(d)
    pid = mkproject(owner)
    put_member(owner, pid, usr(other), "reader")
    put_member(owner, pid, usr(other), "owner")
    eq(direct_role(owner, pid, usr(other)), "owner", "role after the change")


def test_member_put_by_manage_projects_holder_who_is_no_member_works():
    d = shared()
    owner, other = user(d), user(d)
    pid = mkproject(owner)
    put_member(user(d, "manage_projects"), pid, usr(other), "reader")
    eq(direct_role(owner, pid, usr(other)), "reader", "role set by the manage_projects holder")


def test_member_put_by_owner_of_parent_in_subproject_works():
    d = shared()
    owner, other = user(d), user(d)
    parent = mkproject(owner)
    child = mkproject(owner, parent=parent)
    put_member(owner, child, usr(other), "reader")
    eq(direct_role(owner, child, usr(other)), "reader", "role in the subproject")


def test_member_put_by_contributor_is_403_and_nothing_changes():
    d = shared()
    owner, contrib, other = user(d), user(d), user(d, login=False)
    pid = mkproject(owner)
    put_member(owner, pid, usr(contrib), "contributor")
    expect(contrib.request("PUT", members_path(pid, usr(other)), json={"role": "reader"}),
           403, "forbidden")
    eq(direct_role(owner, pid, usr(other)), None, "the refused member")


def test_member_put_by_reader_raising_own_role_is_403():
    d = shared()
    owner, reader = user(d), user(d)
    pid = mkproject(owner)
    put_member(owner, pid, usr(reader), "reader")
    expect(reader.request("PUT", members_path(pid, usr(reader)), json={"role": "owner"}),
           403, "forbidden")
    eq(direct_role(owner, pid, usr(reader)), "reader", "the reader's role")


def test_member_put_by_non_member_is_refused():
    d = shared()
    owner, stranger = user(d), user(d)
    pid = mkproject(owner)
    r = stranger.request("PUT", members_path(pid, usr(stranger)), json={"role": "owner"})
    expect_one_of(r, HIDDEN)
    eq(direct_role(owner, pid, usr(stranger)), None, "the stranger's membership")


def test_member_put_unknown_user_is_422():
    d = shared()
    owner = user(d)
    pid = mkproject(owner)
    ghost = "user:" + uniq_user("ghost")
    r = owner.request("PUT", members_path(pid, ghost), json={"role": "reader"})
    expect(r, 422, "validation-failed")
    eq(direct_role(owner, pid, ghost), None, "the unknown principal")


def test_member_put_unknown_service_account_is_422():
    d = shared()
    owner = user(d)
    pid = mkproject(owner)
    ghost = sa("000000000000000000000000")
    expect(owner.request("PUT", members_path(pid, ghost), json={"role": "reader"}), 422,
           "validation-failed")
    eq(direct_role(owner, pid, ghost), None, "the unknown principal")


def test_member_put_principal_of_unknown_kind_is_refused():
    d = shared()
    owner, other = user(d), user(d, login=False)
    pid = mkproject(owner)
    r = owner.request("PUT", members_path(pid, f"group:{other.username}"), json={"role": "reader"})
    expect_one_of(r, {400: "bad-request", 404: "not-found", 422: "validation-failed"})
    eq(sorted(members(owner, pid)), [usr(owner)], "members after the refusal")


def _refused_member_body(body, status, raw=None):
    d = shared()
    owner, other = user(d), user(d, login=False)
    pid = mkproject(owner)
    r = owner.request("PUT", members_path(pid, usr(other)), json=body, raw_body=raw)
    expect(r, status, "validation-failed" if status == 422 else "malformed-json")
    if status == 422:
        expect_error_field(r, "role")
    eq(direct_role(owner, pid, usr(other)), None, "the refused membership")


def test_member_put_unknown_role_is_422():
    _refused_member_body({"role": "admin"}, 422)


def test_member_put_role_in_wrong_case_is_422():
    _refused_member_body({"role": "Owner"}, 422)


def test_member_put_without_role_is_422():
    _refused_member_body({}, 422)


def test_member_put_role_not_a_string_is_422():
    _refused_member_body({"role": 3}, 422)


def test_member_put_unknown_field_is_422():
    d = shared()
    owner, other = user(d), user(d, login=False)
    pid = mkproject(owner)
    r = owner.request("PUT", members_path(pid, usr(other)),
                      json={"role": "reader", "expires": "never"})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "expires")
    eq(direct_role(owner, pid, usr(other)), None, "the refused membership")


def test_member_put_with_text_plain_body_is_415():
    d = shared()
    owner, other = user(d), user(d, login=False)
    pid = mkproject(owner)
    r = owner.request("PUT", members_path(pid, usr(other)), raw_body='{"role": "reader"}',
                      content_type="text/plain")
    expect(r, 415, "unsupported-media-type")
    eq(direct_role(owner, pid, usr(other)), None, "the refused membership")


def test_member_put_malformed_json_is_400():
    _refused_member_body(None, 400, raw='{"role": ')


def test_member_get_of_non_direct_member_is_404():
    d = shared()
    owner, other = user(d), user(d, login=False)
    pid = mkproject(owner)
    expect(owner.request("GET", members_path(pid, usr(other))), 404, "not-found")


def test_member_get_of_inherited_member_in_subproject_is_404():
    d = shared()
    owner, other = user(d), user(d, login=False)
    parent = mkproject(owner)
    child = mkproject(owner, parent=parent)
    put_member(owner, parent, usr(other), "reader")
    expect(owner.request("GET", members_path(child, usr(other))), 404, "not-found")


def test_members_list_shows_inherited_membership_with_inherited_from():
    d = shared()
    owner, other = user(d), user(d, login=False)
    parent = mkproject(owner)
    child = mkproject(owner, parent=parent)
    put_member(owner, parent, usr(other), "contributor")
    eq(members(owner, child).get(usr(other)), [("contributor", parent)],
       "the parent's member in the subproject's list")


def test_members_list_by_reader_is_200():
    d = shared()
    owner, reader = user(d), user(d)
    pid = mkproject(owner)
    put_member(owner, pid, usr(reader), "reader")
    got = members(reader, pid)
    check(usr(owner) in got and usr(reader) in got, f"members seen by a reader: {sorted(got)}")


def test_members_list_by_non_member_is_refused():
    d = shared()
    pid = mkproject(user(d))
    expect_one_of(user(d).request("GET", members_path(pid)), HIDDEN)


def test_member_delete_is_204_and_membership_gone():
    d = shared()
    owner, other = user(d), user(d, login=False)
    pid = mkproject(owner)
    put_member(owner, pid, usr(other), "reader")
    expect(owner.request("DELETE", members_path(pid, usr(other))), 204)
    expect(owner.request("GET", members_path(pid, usr(other))), 404, "not-found",
           what="GET member after delete")
    check(usr(other) not in members(owner, pid), "the removed member is still listed")


def test_member_delete_by_contributor_is_403_and_membership_kept():
    d = shared()
    owner, contrib, other = user(d), user(d), user(d, login=False)
    pid = mkproject(owner)
    put_member(owner, pid, usr(contrib), "contributor")
    put_member(owner, pid, usr(other), "reader")
    expect(contrib.request("DELETE", members_path(pid, usr(other))), 403, "forbidden")
    eq(direct_role(owner, pid, usr(other)), "reader", "the member after the refusal")


def test_member_delete_of_last_owner_of_top_level_project_is_409():
    d = shared()
    owner = user(d)
    pid = mkproject(owner)
    expect(owner.request("DELETE", members_path(pid, usr(owner))), 409, "conflict")
    eq(direct_role(owner, pid, usr(owner)), "owner", "the last owner")


def test_member_delete_of_last_owner_by_manage_projects_holder_is_409_too():
    d = shared()
    owner = user(d)
    pid = mkproject(owner)
    expect(user(d, "manage_projects").request("DELETE", members_path(pid, usr(owner))), 409,
           "conflict")
    eq(direct_role(owner, pid, usr(owner)), "owner", "the last owner")


def test_member_delete_of_an_owner_when_another_owner_remains_is_204():
    d = shared()
    owner, second = user(d), user(d)
    pid = mkproject(owner)
    put_member(owner, pid, usr(second), "owner")
    expect(second.request("DELETE", members_path(pid, usr(owner))), 204)
    eq(sorted(members(second, pid)), [usr(second)], "members left")


def test_member_delete_of_only_direct_owner_of_subproject_is_204():
    d = shared()
    owner, sub_owner = user(d), user(d, login=False)
    parent = mkproject(owner)
    child = mkproject(owner, parent=parent)
    put_member(owner, child, usr(sub_owner), "owner")
    for p, roles in members(owner, child).items():
        if p != usr(sub_owner) and any(via is None for _, via in roles):
            expect(owner.request("DELETE", members_path(child, p)), 204,
                   what=f"remove direct member {p} of the subproject")
    expect(owner.request("DELETE", members_path(child, usr(sub_owner))), 204,
           what="remove the subproject's only direct owner")


def test_member_delete_of_non_member_is_404():
    d = shared()
    owner, other = user(d), user(d, login=False)
    pid = mkproject(owner)
    expect(owner.request("DELETE", members_path(pid, usr(other))), 404, "not-found")


def test_deleting_a_user_removes_their_project_memberships():
    d = shared()
    owner, other = user(d), user(d, login=False)
    parent = mkproject(owner)
    pid = mkproject(owner, parent=parent)
    put_member(owner, parent, usr(other), "reader")
    put_member(owner, pid, usr(other), "contributor")
    expect(d.admin.request("DELETE", f"/v1/users/{other.username}"), 204)
    check(usr(other) not in members(owner, parent), "deleted user still a member of parent")
    check(usr(other) not in members(owner, pid), "deleted user still a member of subproject")


# =========================================================================== API accounts

def test_site_account_create_by_manage_service_accounts_holder_is_201():
    d = shared()
    c = user(d, "manage_service_accounts")
    name = uniq("site")
    r = expect(c.request("POST", "/v1/service-accounts",
                         json={"name": name, "description": "nightly export"}), 201)
    missing = [f for f in ACCOUNT_FIELDS if f not in r.body]
    check(not missing, f"account: expected fields {ACCOUNT_FIELDS}, missing {missing}")
    eq((r.body["name"], r.body["description"], r.body["project"], r.body["created_by"],
        r.body["disabled"]), (name, "nightly export", None, c.username, False),
       "(name, description, project, created_by, disabled)")
    near(ts(r.body["created_at"], "created_at"), now(), 60, "created_at")


def test_site_account_create_by_plain_user_is_403():
    d = shared()
    c = user(d)
    expect(c.request("POST", "/v1/service-accounts", json={"name": uniq("site")}), 403,
           "forbidden")
    eq(account_ids(c), [], "accounts the refused user manages")


def test_site_account_create_by_project_owner_without_authority_is_403():
    d = shared()
    c = user(d)
    mkproject(c)
    expect(c.request("POST", "/v1/service-accounts", json={"name": uniq("site")}), 403,
           "forbidden")


def test_site_account_name_taken_is_409():
    d = shared()
    c = user(d, "manage_service_accounts")
    name = uniq("site")
    mkaccount(c, name=name)
    expect(c.request("POST", "/v1/service-accounts", json={"name": name}), 409, "conflict")


def test_project_account_create_by_owner_is_201_with_project():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    r = expect(c.request("POST", "/v1/service-accounts",
                         json={"name": uniq("sa"), "project": pid}), 201)
    eq((r.body.get("project"), r.body.get("created_by"), r.body.get("disabled")),
       (pid, c.username, False), "(project, created_by, disabled)")


def test_project_account_becomes_contributor_member_by_default():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    sid = mkaccount(c, project=pid)
    eq(direct_role(c, pid, sa(sid)), "contributor", "the new account's role")


def test_project_account_with_role_reader_becomes_reader_member():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    sid = mkaccount(c, project=pid, role="reader")
    eq(direct_role(c, pid, sa(sid)), "reader", "the new account's role")


def test_project_account_with_unknown_role_is_422_and_nothing_stored():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    r = c.request("POST", "/v1/service-accounts",
                  json={"name": uniq("sa"), "project": pid, "role": "superuser"})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "role")
    eq(account_ids(c), [], "accounts after the refusal")
    eq(sorted(members(c, pid)), [usr(c)], "members after the refusal")


def test_project_account_create_by_contributor_is_403():
    d = shared()
    owner, contrib = user(d), user(d)
    pid = mkproject(owner)
    put_member(owner, pid, usr(contrib), "contributor")
    expect(contrib.request("POST", "/v1/service-accounts",
                           json={"name": uniq("sa"), "project": pid}), 403, "forbidden")
    eq(sorted(members(owner, pid)), sorted([usr(owner), usr(contrib)]), "members")


def test_project_account_create_by_non_member_is_refused():
    d = shared()
    owner = user(d)
    pid = mkproject(owner)
    r = user(d).request("POST", "/v1/service-accounts", json={"name": uniq("sa"), "project": pid})
    expect_one_of(r, {403: "forbidden", 404: "not-found", 422: "validation-failed"})
    eq(sorted(members(owner, pid)), [usr(owner)], "members after the refusal")


def test_project_account_create_in_subproject_by_owner_of_parent_is_201():
    d = shared()
    c = user(d)
    child = mkproject(c, parent=mkproject(c))
    sid = mkaccount(c, project=child)
    eq(direct_role(c, child, sa(sid)), "contributor", "the account's role in the subproject")


def test_project_account_create_in_unknown_project_is_refused():
    d = shared()
    r = user(d).request("POST", "/v1/service-accounts",
                        json={"name": uniq("sa"), "project": "000000000000000000000000"})
    expect_one_of(r, {404: "not-found", 422: "validation-failed"})


def test_project_account_name_taken_in_same_project_is_409():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    name = uniq("sa")
    mkaccount(c, project=pid, name=name)
    expect(c.request("POST", "/v1/service-accounts", json={"name": name, "project": pid}),
           409, "conflict")


def test_project_account_same_name_in_other_project_is_allowed():
    d = shared()
    c = user(d)
    name = uniq("sa")
    mkaccount(c, project=mkproject(c), name=name)
    mkaccount(c, project=mkproject(c), name=name)


def _refused_account_body(body, status, field=None, raw=None):
    d = shared()
    c = user(d, "manage_service_accounts")
    before = sorted(account_ids(c))
    r = c.request("POST", "/v1/service-accounts", json=body, raw_body=raw)
    expect(r, status, "validation-failed" if status == 422 else "malformed-json")
    if field:
        expect_error_field(r, field)
    eq(sorted(account_ids(c)), before, "accounts after the refusal")


def test_account_create_without_name_is_422():
    _refused_account_body({"description": "x"}, 422, "name")


def test_account_create_with_empty_name_is_422():
    _refused_account_body({"name": ""}, 422, "name")


def test_account_create_with_101_character_name_is_422():
    _refused_account_body({"name": "s" * 101}, 422, "name")


def test_account_create_with_numeric_name_is_422():
    _refused_account_body({"name": 12}, 422, "name")


def test_account_create_with_description_not_a_string_is_422():
    _refused_account_body({"name": uniq("sa"), "description": ["x"]}, 422, "description")


def test_account_create_with_numeric_project_is_422():
    _refused_account_body({"name": uniq("sa"), "project": 1}, 422, "project")


def test_account_create_with_unknown_field_is_422():
    _refused_account_body({"name": uniq("sa"), "scopes": ["Tasks"]}, 422, "scopes")


def test_account_create_with_malformed_json_is_400():
    _refused_account_body(None, 400, raw='{"name": "x",}')


def test_account_get_by_its_project_owner_is_200():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    sid = mkaccount(c, project=pid)
    r = expect(c.request("GET", f"/v1/service-accounts/{sid}"), 200)
    eq((r.body.get("id"), r.body.get("project")), (sid, pid), "(id, project)")


def test_account_get_by_contributor_of_its_project_is_404():
    d = shared()
    owner, contrib = user(d), user(d)
    pid = mkproject(owner)
    sid = mkaccount(owner, project=pid)
    put_member(owner, pid, usr(contrib), "contributor")
    expect(contrib.request("GET", f"/v1/service-accounts/{sid}"), 404, "not-found")


def test_account_get_of_site_account_by_plain_user_is_404():
    d = shared()
    sid = mkaccount(user(d, "manage_service_accounts"))
    expect(user(d).request("GET", f"/v1/service-accounts/{sid}"), 404, "not-found")


def test_account_list_shows_only_accounts_the_caller_manages():
    d = shared()
    a, b = user(d), user(d)
    sa_a = mkaccount(a, project=mkproject(a))
    sa_b = mkaccount(b, project=mkproject(b))
    ids = account_ids(a)
    check(sa_a in ids, f"own project's account {sa_a} missing from {ids}")
    check(sa_b not in ids, f"another project's account {sa_b} listed")


def test_account_list_of_manage_service_accounts_holder_includes_site_accounts():
    d = shared()
    sid = mkaccount(user(d, "manage_service_accounts"))
    check(sid in account_ids(user(d, "manage_service_accounts")),
          "a site-wide account missing for another holder of manage_service_accounts")


def test_account_patch_changes_name_and_description():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    name = uniq("renamed")
    r = expect(c.request("PATCH", f"/v1/service-accounts/{sid}",
                         json={"name": name, "description": "runs the nightly build"}), 200)
    eq((r.body.get("name"), r.body.get("description")), (name, "runs the nightly build"),
       "PATCH response")
    r = expect(c.request("GET", f"/v1/service-accounts/{sid}"), 200)
    eq((r.body.get("name"), r.body.get("description")), (name, "runs the nightly build"),
       "GET after PATCH")


def test_account_patch_of_site_account_by_holder_is_200():
    d = shared()
    c = user(d, "manage_service_accounts")
    sid = mkaccount(c)
    expect(user(d, "manage_service_accounts").request(
        "PATCH", f"/v1/service-accounts/{sid}", json={"description": "shared"}), 200)


def test_account_patch_by_non_manager_is_refused_and_nothing_changes():
    d = shared()
    owner, contrib = user(d), user(d)
    pid = mkproject(owner)
    name = uniq("sa")
    sid = mkaccount(owner, project=pid, name=name)
    put_member(owner, pid, usr(contrib), "contributor")
    r = contrib.request("PATCH", f"/v1/service-accounts/{sid}", json={"name": uniq("evil")})
    expect_one_of(r, HIDDEN)
    eq(owner.request("GET", f"/v1/service-accounts/{sid}").body.get("name"), name, "name")


def test_account_patch_with_empty_name_is_422():
    d = shared()
    c = user(d)
    name = uniq("sa")
    sid = mkaccount(c, project=mkproject(c), name=name)
    r = c.request("PATCH", f"/v1/service-accounts/{sid}", json={"name": ""})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "name")
    eq(c.request("GET", f"/v1/service-accounts/{sid}").body.get("name"), name, "name")


def test_account_of_subproject_is_managed_by_owner_of_parent():
    d = shared()
    top_owner, sub_owner = user(d), user(d)
    child = mkproject(top_owner, parent=mkproject(top_owner))
    put_member(top_owner, child, usr(sub_owner), "owner")
    sid = mkaccount(sub_owner, project=child)
    expect(top_owner.request("GET", f"/v1/service-accounts/{sid}"), 200)
    expect(top_owner.request("PATCH", f"/v1/service-accounts/{sid}",
                             json={"description": "seen from above"}), 200)


def test_account_patch_unknown_field_is_422():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    sid = mkaccount(c, project=pid)
    r = c.request("PATCH", f"/v1/service-accounts/{sid}", json={"project": mkproject(c)})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "project")
    eq(c.request("GET", f"/v1/service-accounts/{sid}").body.get("project"), pid, "project")


def test_account_patch_disabled_not_a_boolean_is_422():
    d = shared()
    owner, pid, sid, key = project_with_account(d)
    r = owner.request("PATCH", f"/v1/service-accounts/{sid}", json={"disabled": "yes"})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "disabled")
    eq(verify(d, key).get("code"), "VALID", "the account's key after the refusal")


def test_account_patch_name_taken_in_same_project_is_409():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    taken = uniq("sa")
    mkaccount(c, project=pid, name=taken)
    sid = mkaccount(c, project=pid)
    expect(c.request("PATCH", f"/v1/service-accounts/{sid}", json={"name": taken}), 409,
           "conflict")


def test_account_disable_makes_its_keys_disabled_at_once():
    d = shared()
    owner, pid, sid, key = project_with_account(d)
    r = expect(owner.request("PATCH", f"/v1/service-accounts/{sid}", json={"disabled": True}),
               200)
    eq(r.body.get("disabled"), True, "disabled in the PATCH response")
    eq(verify(d, key).get("code"), "DISABLED", "verify right after disabling")
    eq(pcode(d, key, pid), "DISABLED", "verify with the project right after disabling")


def test_account_disabled_key_is_401_at_auth():
    d = shared()
    owner, pid, sid, key = project_with_account(d)
    expect(owner.request("PATCH", f"/v1/service-accounts/{sid}", json={"disabled": True}), 200)
    expect(pauth(d, key, pid), 401, "unauthenticated")


def test_account_reenable_makes_its_keys_valid_again():
    d = shared()
    owner, pid, sid, key = project_with_account(d)
    expect(owner.request("PATCH", f"/v1/service-accounts/{sid}", json={"disabled": True}), 200)
    expect(owner.request("PATCH", f"/v1/service-accounts/{sid}", json={"disabled": False}), 200)
    eq(verify(d, key).get("code"), "VALID", "verify after re-enabling")
    eq(pcode(d, key, pid, "contributor"), "VALID", "verify with project after re-enabling")


def test_account_delete_is_204_and_its_keys_not_found_at_once():
    d = shared()
    owner, pid, sid, key = project_with_account(d)
    expect(owner.request("DELETE", f"/v1/service-accounts/{sid}"), 204)
    eq(verify(d, key).get("code"), "NOT_FOUND", "verify right after deleting the account")
    expect(pauth(d, key, pid), 401, "unauthenticated", what="auth after deleting the account")


def test_account_delete_ends_its_memberships():
    d = shared()
    owner, pid, sid, _ = project_with_account(d)
    other = mkproject(owner)
    put_member(owner, other, sa(sid), "reader")
    expect(owner.request("DELETE", f"/v1/service-accounts/{sid}"), 204)
    check(sa(sid) not in members(owner, pid), "deleted account still a member of its project")
    check(sa(sid) not in members(owner, other), "deleted account still a member elsewhere")


def test_account_delete_makes_it_404():
    d = shared()
    owner, pid, sid, _ = project_with_account(d)
    expect(owner.request("DELETE", f"/v1/service-accounts/{sid}"), 204)
    expect(owner.request("GET", f"/v1/service-accounts/{sid}"), 404, "not-found")
    check(sid not in account_ids(owner), "the deleted account is still listed")


def test_account_delete_by_non_manager_is_refused_and_key_still_valid():
    d = shared()
    owner, pid, sid, key = project_with_account(d)
    contrib = user(d)
    put_member(owner, pid, usr(contrib), "contributor")
    expect_one_of(contrib.request("DELETE", f"/v1/service-accounts/{sid}"), HIDDEN)
    eq(verify(d, key).get("code"), "VALID", "the account's key after the refusal")


def test_site_account_added_as_member_verifies_in_that_project():
    d = shared()
    admin_of_accounts, owner = user(d, "manage_service_accounts"), user(d)
    sid = mkaccount(admin_of_accounts)
    key = account_key(admin_of_accounts, sid)["key"]
    pid = mkproject(owner)
    eq(pcode(d, key, pid), "INSUFFICIENT_ROLE", "before the account is a member")
    put_member(owner, pid, sa(sid), "contributor")
    eq(pcode(d, key, pid, "contributor"), "VALID", "after the account was added")


# =========================================================================== account keys

def test_account_key_create_is_201_with_key_object_and_secret():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    name = uniq("sakey")
    r = expect(c.request("POST", f"/v1/service-accounts/{sid}/keys",
                         json={"name": name, "scopes": ["Tasks", "Secret"],
                               "description": "ci"}), 201)
    check_key_object(r.body, "account key create response", with_secret=True)
    eq((r.body["name"], sorted(r.body["scopes"]), r.body["description"]),
       (name, ["Secret", "Tasks"], "ci"), "(name, scopes, description)")


def test_account_key_create_with_cookie_but_no_csrf_token_is_403():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    expect(c.request("POST", f"/v1/service-accounts/{sid}/keys",
                     json={"name": uniq(), "scopes": ["Tasks"]}, csrf=False), 403,
           "csrf-token-invalid")
    eq(account_keys(c, sid), [], "keys after the refusal")


def test_service_accounts_unauthenticated_is_401():
    expect(Client(shared()).request("GET", "/v1/service-accounts"), 401, "unauthenticated")


def test_account_key_has_documented_format_and_hint():
    d = shared()
    c = user(d)
    k = account_key(c, mkaccount(c, project=mkproject(c)))
    check(KEY_RE.match(k["key"]), f"account key: expected ^apk_[0-9A-Za-z]{{49}}$, "
                                  f"got length {len(k['key'])}")
    eq(k["key"][-6:], checksum(k["key"][:-6]), "checksum of the account key")
    eq(k["hint"], k["key"][:8] + "\u2026" + k["key"][-4:], "hint")


def test_account_key_default_expiry_is_90_days():
    d = shared()
    c = user(d)
    k = account_key(c, mkaccount(c, project=mkproject(c)))
    near(ts(k["expires_at"], "expires_at"), now() + 90 * DAY, 120, "default expires_at")


def test_account_key_expiry_over_one_year_is_422():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    r = c.request("POST", f"/v1/service-accounts/{sid}/keys",
                  json={"name": uniq(), "scopes": ["Tasks"], "expires_at": iso(now() + 400 * DAY)})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "expires_at")
    eq(account_keys(c, sid), [], "keys after the refusal")


def test_account_key_expiry_in_the_past_is_422():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    r = c.request("POST", f"/v1/service-accounts/{sid}/keys",
                  json={"name": uniq(), "scopes": ["Tasks"], "expires_at": iso(now() - 60)})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "expires_at")


def test_account_key_unknown_scope_is_422():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    r = c.request("POST", f"/v1/service-accounts/{sid}/keys",
                  json={"name": uniq(), "scopes": ["NoSuchScope"]})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "scopes")
    eq(account_keys(c, sid), [], "keys after the refusal")


def test_account_key_without_scopes_is_422():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    r = c.request("POST", f"/v1/service-accounts/{sid}/keys", json={"name": uniq(), "scopes": []})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "scopes")


def test_account_key_unknown_field_is_422():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    r = c.request("POST", f"/v1/service-accounts/{sid}/keys",
                  json={"name": uniq(), "scopes": ["Tasks"], "owner": c.username})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "owner")


def test_account_key_name_taken_on_same_account_is_409():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    name = uniq()
    account_key(c, sid, name=name)
    expect(c.request("POST", f"/v1/service-accounts/{sid}/keys",
                     json={"name": name, "scopes": ["Tasks"]}), 409, "conflict")


def test_account_key_name_may_repeat_a_key_name_of_the_issuer():
    d = shared()
    c = user(d)
    name = uniq()
    create_key(c, name=name)
    account_key(c, mkaccount(c, project=mkproject(c)), name=name)


def test_account_key_secret_is_not_in_list_get_or_audit():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    k = account_key(c, sid)
    r = expect(c.request("GET", f"/v1/service-accounts/{sid}/keys"), 200)
    check(k["key"].encode() not in r.raw, "GET account keys contains the secret")
    items = [x for x in r.body["keys"] if x.get("id") == k["id"]]
    eq(len(items), 1, "the new key in the account's list")
    check_key_object(items[0], "account key list item")
    r = expect(c.request("GET", f"/v1/service-accounts/{sid}"), 200)
    check(k["key"].encode() not in r.raw, "GET account contains the secret")
    _, raw = audit_events(d, actor=c.username)
    check(k["key"].encode() not in raw, "the audit trail contains the secret")
    check(k["key"][8:-4].encode() not in raw, "the audit trail contains most of the secret")


def test_account_key_created_by_is_the_issuing_person():
    d = shared()
    owner, second = user(d), user(d)
    pid = mkproject(owner)
    sid = mkaccount(owner, project=pid)
    put_member(owner, pid, usr(second), "owner")
    k = account_key(second, sid)
    eq(k["created_by"], second.username, "created_by in the create response")
    got = [x for x in account_keys(owner, sid) if x.get("id") == k["id"]]
    eq([x.get("created_by") for x in got], [second.username], "created_by in the list")


def test_account_key_verify_reports_service_account_owner_and_created_by():
    d = shared()
    owner, second = user(d), user(d)
    pid = mkproject(owner)
    sid = mkaccount(owner, project=pid)
    put_member(owner, pid, usr(second), "owner")
    k = account_key(second, sid, scopes=("Tasks",))
    v = verify(d, k["key"], "Tasks")
    eq((v.get("valid"), v.get("code"), v.get("key_id"), v.get("owner"), v.get("created_by")),
       (True, "VALID", k["id"], {"type": "service-account", "name": sid}, second.username),
       "(valid, code, key_id, owner, created_by)")


def test_account_key_auth_reports_owner_and_created_by_headers():
    d = shared()
    owner, pid, sid, _ = project_with_account(d)
    k = account_key(owner, sid, scopes=("Tasks", "Secret"))
    r = expect(pauth(d, k["key"], pid, scope="Tasks"), 204)
    eq((r.headers.get("X-Apikey-Id"), r.headers.get("X-Apikey-Owner"),
        r.headers.get("X-Apikey-Created-By")),
       (k["id"], f"service-account:{sid}", owner.username),
       "(X-Apikey-Id, X-Apikey-Owner, X-Apikey-Created-By)")


def test_account_key_is_not_among_the_issuers_own_keys():
    d = shared()
    c = user(d)
    k = account_key(c, mkaccount(c, project=mkproject(c)))
    check(k["id"] not in [x.get("id") for x in list_keys(c)],
          "the account's key is listed in the issuer's GET /v1/keys")
    expect(c.request("GET", f"/v1/keys/{k['id']}"), 404, "not-found",
           what="GET /v1/keys/{account key id} as the issuer")


def test_account_key_cannot_be_deleted_through_own_keys_endpoint():
    d = shared()
    c = user(d)
    k = account_key(c, mkaccount(c, project=mkproject(c)))
    expect(c.request("DELETE", f"/v1/keys/{k['id']}"), 404, "not-found")
    eq(verify(d, k["key"]).get("code"), "VALID", "the account key after the refusal")


def test_account_key_delete_is_204_and_not_found_at_once():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    k = account_key(c, sid)
    expect(c.request("DELETE", f"/v1/service-accounts/{sid}/keys/{k['id']}"), 204)
    eq(verify(d, k["key"]).get("code"), "NOT_FOUND", "verify right after the delete")
    check(k["id"] not in [x.get("id") for x in account_keys(c, sid)], "deleted key listed")


def test_account_key_delete_through_another_account_is_404():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    sid1, sid2 = mkaccount(c, project=pid), mkaccount(c, project=pid)
    k = account_key(c, sid1)
    expect(c.request("DELETE", f"/v1/service-accounts/{sid2}/keys/{k['id']}"), 404,
           "not-found")
    eq(verify(d, k["key"]).get("code"), "VALID", "the key after the refusal")


def test_account_keys_list_by_non_manager_is_refused():
    d = shared()
    owner, pid, sid, _ = project_with_account(d)
    contrib = user(d)
    put_member(owner, pid, usr(contrib), "contributor")
    expect_one_of(contrib.request("GET", f"/v1/service-accounts/{sid}/keys"), HIDDEN)


def test_account_key_create_by_non_manager_is_refused():
    d = shared()
    owner, pid, sid, _ = project_with_account(d)
    contrib = user(d)
    put_member(owner, pid, usr(contrib), "contributor")
    r = contrib.request("POST", f"/v1/service-accounts/{sid}/keys",
                        json={"name": uniq(), "scopes": ["Tasks"]})
    expect_one_of(r, HIDDEN)
    eq(len(account_keys(owner, sid)), 1, "the account's keys after the refusal")


def test_account_key_delete_by_non_manager_is_refused_and_key_valid():
    d = shared()
    owner, pid, sid, _ = project_with_account(d)
    k = account_key(owner, sid)
    contrib = user(d)
    put_member(owner, pid, usr(contrib), "contributor")
    expect_one_of(contrib.request("DELETE", f"/v1/service-accounts/{sid}/keys/{k['id']}"),
                  HIDDEN)
    eq(verify(d, k["key"]).get("code"), "VALID", "the key after the refusal")


def test_account_key_location_names_the_account_key_and_get_shows_it_without_secret():
    d = shared()
    owner, pid, sid, _ = project_with_account(d)
    r = owner.request("POST", f"/v1/service-accounts/{sid}/keys",
                      json={"name": uniq("loc"), "scopes": ["Tasks"]})
    expect(r, 201, what="account key create")
    loc = r.headers.get("Location")
    eq(loc, f"/v1/service-accounts/{sid}/keys/{r.body['id']}", "Location")
    g = expect(owner.request("GET", loc), 200, what="GET the Location")
    check_key_object(g.body, "account key")
    eq((g.body["id"], g.body["name"], g.body["created_by"]),
       (r.body["id"], r.body["name"], owner.username), "(id, name, created_by)")
    check("key" not in g.body and r.body["key"] not in g.raw.decode(), "GET shows no secret")
    other = account_key(owner, mkaccount(owner, project=pid))
    expect(owner.request("GET", f"/v1/service-accounts/{sid}/keys/{other['id']}"), 404,
           "not-found", what="another account's key under this account")
    mine = create_key(owner)
    expect(owner.request("GET", f"/v1/service-accounts/{sid}/keys/{mine['id']}"), 404,
           "not-found", what="a user key under this account")
    expect(owner.request("GET", f"/v1/service-accounts/{sid}/keys/nope"), 404, "not-found")
    stranger = user(d)
    expect_one_of(stranger.request("GET", loc), HIDDEN)


def test_deleting_the_only_owner_of_a_project_is_409_until_someone_else_owns_it():
    d = shared()
    owner, other = user(d), user(d)
    pid = mkproject(owner)
    sub = mkproject(owner, parent=pid)
    r = d.admin.request("DELETE", f"/v1/users/{owner.username}")
    expect(r, 409, "conflict", what="delete the only owner")
    check(pid in (r.body.get("detail") or ""), f"the detail names the project: {r.body!r}")
    expect(owner.request("GET", f"/v1/projects/{pid}"), 200, what="the refused user still works")
    put_member(owner, sub, usr(other), "owner")  # a subproject owner does not own the top
    expect(d.admin.request("DELETE", f"/v1/users/{owner.username}"), 409, "conflict")
    put_member(owner, pid, usr(other), "owner")
    expect(d.admin.request("DELETE", f"/v1/users/{owner.username}"), 204, what="then the delete")
    check(usr(owner) not in members(other, pid), "the deleted owner's membership is gone")


def test_a_subproject_owner_can_be_deleted_while_the_parent_has_owners():
    d = shared()
    owner, sub_owner = user(d), user(d)
    pid = mkproject(owner)
    sub = mkproject(owner, parent=pid)
    put_member(owner, sub, usr(sub_owner), "owner")
    expect(d.admin.request("DELETE", f"/v1/users/{sub_owner.username}"), 204)


def test_account_key_of_site_account_issued_by_holder_is_201():
    d = shared()
    c = user(d, "manage_service_accounts")
    k = account_key(c, mkaccount(c))
    eq(k["created_by"], c.username, "created_by")


def test_account_key_create_by_key_caller_with_scope_it_lacks_is_403():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    kc = key_client(d, c, ["Account"])
    expect(kc.request("POST", f"/v1/service-accounts/{sid}/keys",
                      json={"name": uniq(), "scopes": ["Tasks"]}), 403, "forbidden")
    eq(account_keys(c, sid), [], "keys after the refusal")


def test_account_key_create_by_key_caller_holding_the_scope_is_201():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    kc = key_client(d, c, ["APIKey", "Tasks"])
    r = expect(kc.request("POST", f"/v1/service-accounts/{sid}/keys",
                          json={"name": uniq(), "scopes": ["Tasks"]}), 201)
    eq(r.body.get("created_by"), c.username, "created_by of a key made by a key caller")


def test_account_key_by_key_caller_cannot_outlive_the_calling_key():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    kc = key_client(d, c, ["APIKey", "Tasks"], expires_at=iso(now() + 10 * DAY))
    r = kc.request("POST", f"/v1/service-accounts/{sid}/keys",
                   json={"name": uniq(), "scopes": ["Tasks"], "expires_at": iso(now() + 20 * DAY)})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "expires_at")


def test_account_key_by_key_caller_default_expiry_is_capped_to_calling_key():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    own_expiry = now() + 10 * DAY
    kc = key_client(d, c, ["APIKey", "Tasks"], expires_at=iso(own_expiry))
    r = expect(kc.request("POST", f"/v1/service-accounts/{sid}/keys",
                          json={"name": uniq(), "scopes": ["Tasks"]}), 201)
    near(ts(r.body.get("expires_at"), "expires_at"), own_expiry, 5, "capped default expiry")


# =========================================================================== Account scope

def test_key_without_account_scope_cannot_list_projects_403():
    d = shared()
    expect(key_client(d, user(d), ["Tasks"]).request("GET", "/v1/projects"), 403, "forbidden")


def test_key_without_account_scope_cannot_create_project_403():
    d = shared()
    c = user(d)
    expect(key_client(d, c, ["Tasks", "APIKey"]).request(
        "POST", "/v1/projects", json={"name": uniq("proj")}), 403, "forbidden")
    eq(project_ids(c), [], "projects after the refusal")


def test_key_with_account_scope_creates_project_owned_by_its_person():
    d = shared()
    c = user(d, "manage_projects")  # top-level projects need it
    r = expect(key_client(d, c, ["Account"]).request(
        "POST", "/v1/projects", json={"name": uniq("proj")}), 201)
    eq(r.body.get("created_by"), c.username, "created_by")
    eq(direct_role(c, r.body["id"], usr(c)), "owner", "the key's person's role")


def test_key_without_account_scope_cannot_manage_members_403():
    d = shared()
    c, other = user(d), user(d, login=False)
    pid = mkproject(c)
    expect(key_client(d, c, ["Tasks"]).request(
        "PUT", members_path(pid, usr(other)), json={"role": "reader"}), 403, "forbidden")
    eq(direct_role(c, pid, usr(other)), None, "the refused membership")


def test_key_without_account_scope_cannot_create_account_403():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    expect(key_client(d, c, ["Tasks", "APIKey"]).request(
        "POST", "/v1/service-accounts", json={"name": uniq("sa"), "project": pid}),
        403, "forbidden")
    eq(account_ids(c), [], "accounts after the refusal")


def test_key_without_apikey_scope_cannot_read_account_keys_403():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    expect(key_client(d, c, ["Account"]).request("GET", f"/v1/service-accounts/{sid}/keys"),
           403, "forbidden")


def test_key_with_account_scope_creates_project_account_201():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    sid = mkaccount(key_client(d, c, ["Account"]), project=pid)
    eq(direct_role(c, pid, sa(sid)), "contributor", "the account's role")


def test_key_with_account_scope_but_no_authority_cannot_create_site_account_403():
    d = shared()
    expect(key_client(d, user(d), ["Account"]).request(
        "POST", "/v1/service-accounts", json={"name": uniq("site")}), 403, "forbidden")


# =========================================================================== verify by project

def test_verify_account_key_in_its_project_is_valid():
    d = shared()
    _, pid, sid, key = project_with_account(d)
    v = pverify(d, key, pid, "contributor")
    eq((v.get("valid"), v.get("code"), v.get("owner")),
       (True, "VALID", {"type": "service-account", "name": sid}), "(valid, code, owner)")


def test_verify_project_without_role_means_reader():
    d = shared()
    _, pid, _, key = project_with_account(d, role="reader")
    eq(pcode(d, key, pid), "VALID", "a reader with only project given")


def test_auth_role_without_project_is_400_not_ignored():
    d = shared()
    _, pid, _, key = project_with_account(d, role="owner")
    for role in ("reader", "owner"):
        r = Client(d).request("GET", "/v1/auth", headers={"Authorization": f"Bearer {key}",
                                                            "X-Required-Role": role,
                                                            "X-Required-Scope": "*"})
        expect(r, 400, "bad-request", what=f"/v1/auth X-Required-Role {role} without project")
        check("X-Apikey-Id" not in r.headers, "a refused auth names no key")
    eq(pauth(d, key, pid, "owner").status, 204, "the same key with the project")


def test_verify_reader_lacks_contributor_and_owner():
    d = shared()
    _, pid, _, key = project_with_account(d, role="reader")
    got = [pcode(d, key, pid, r) for r in ROLES]
    eq(got, ["VALID", "INSUFFICIENT_ROLE", "INSUFFICIENT_ROLE"], "reader, contributor, owner")


def test_verify_contributor_meets_reader_but_not_owner():
    d = shared()
    _, pid, _, key = project_with_account(d)
    got = [pcode(d, key, pid, r) for r in ROLES]
    eq(got, ["VALID", "VALID", "INSUFFICIENT_ROLE"], "reader, contributor, owner")


def test_verify_owner_meets_every_role():
    d = shared()
    _, pid, _, key = project_with_account(d, role="owner")
    got = [pcode(d, key, pid, r) for r in ROLES]
    eq(got, ["VALID", "VALID", "VALID"], "reader, contributor, owner")


def test_verify_insufficient_role_is_not_valid():
    d = shared()
    _, pid, _, key = project_with_account(d, role="reader")
    eq(pverify(d, key, pid, "owner").get("valid"), False, "valid")


def test_verify_project_the_account_is_no_member_of_is_insufficient_role():
    d = shared()
    owner, _, _, key = project_with_account(d)
    other = mkproject(owner)
    eq(pcode(d, key, other), "INSUFFICIENT_ROLE", "another project of the same owner")


def test_verify_unknown_project_is_insufficient_role():
    d = shared()
    _, _, _, key = project_with_account(d)
    eq(pcode(d, key, "000000000000000000000000"), "INSUFFICIENT_ROLE", "unknown project")


def test_verify_parent_membership_reaches_subproject():
    d = shared()
    owner = user(d)
    parent = mkproject(owner)
    child = mkproject(owner, parent=parent)
    sid = mkaccount(owner, project=parent)
    key = account_key(owner, sid)["key"]
    eq(pcode(d, key, child, "contributor"), "VALID", "contributor of the parent, in the child")


def test_verify_parent_membership_reaches_grandchild():
    d = shared()
    owner = user(d)
    top = mkproject(owner)
    grandchild = mkproject(owner, parent=mkproject(owner, parent=top))
    key = account_key(owner, mkaccount(owner, project=top))["key"]
    eq(pcode(d, key, grandchild, "contributor"), "VALID", "in the grandchild")


def test_verify_subproject_membership_does_not_reach_parent():
    d = shared()
    owner = user(d)
    parent = mkproject(owner)
    child = mkproject(owner, parent=parent)
    key = account_key(owner, mkaccount(owner, project=child))["key"]
    eq(pcode(d, key, child), "VALID", "in its own subproject")
    eq(pcode(d, key, parent), "INSUFFICIENT_ROLE", "in the parent")


def test_verify_subproject_membership_does_not_reach_sibling():
    d = shared()
    owner = user(d)
    parent = mkproject(owner)
    child, sibling = mkproject(owner, parent=parent), mkproject(owner, parent=parent)
    key = account_key(owner, mkaccount(owner, project=child))["key"]
    eq(pcode(d, key, sibling), "INSUFFICIENT_ROLE", "in a sibling subproject")


def test_verify_strongest_role_along_the_path_counts():
    d = shared()
    owner = user(d)
    parent = mkproject(owner)
    child = mkproject(owner, parent=parent)
    sid = mkaccount(owner, project=child, role="reader")
    put_member(owner, parent, sa(sid), "owner")
    key = account_key(owner, sid)["key"]
    eq(pcode(d, key, child, "owner"), "VALID", "reader in child, owner in parent")


def test_verify_membership_removal_takes_effect_on_next_verify():
    d = shared()
    owner, pid, sid, key = project_with_account(d)
    eq(pcode(d, key, pid), "VALID", "before the removal")
    expect(owner.request("DELETE", members_path(pid, sa(sid))), 204)
    eq(pcode(d, key, pid), "INSUFFICIENT_ROLE", "the very next verify")


def test_verify_parent_membership_removal_takes_effect_in_subproject_at_once():
    d = shared()
    owner = user(d)
    parent = mkproject(owner)
    child = mkproject(owner, parent=parent)
    sid = mkaccount(owner, project=parent)
    key = account_key(owner, sid)["key"]
    eq(pcode(d, key, child), "VALID", "before the removal")
    expect(owner.request("DELETE", members_path(parent, sa(sid))), 204)
    eq(pcode(d, key, child), "INSUFFICIENT_ROLE", "in the child, right after")


def test_verify_role_downgrade_takes_effect_at_once():
    d = shared()
    owner, pid, sid, key = project_with_account(d, role="owner")
    eq(pcode(d, key, pid, "owner"), "VALID", "before the downgrade")
    put_member(owner, pid, sa(sid), "reader")
    eq(pcode(d, key, pid, "contributor"), "INSUFFICIENT_ROLE", "right after the downgrade")


def test_verify_membership_added_takes_effect_at_once():
    d = shared()
    owner, _, sid, key = project_with_account(d)
    other = mkproject(owner)
    eq(pcode(d, key, other), "INSUFFICIENT_ROLE", "before the membership")
    put_member(owner, other, sa(sid), "reader")
    eq(pcode(d, key, other), "VALID", "right after the membership")


def test_verify_scope_is_still_checked_with_project():
    d = shared()
    _, pid, _, key = project_with_account(d)          # key holds Tasks only
    eq(pcode(d, key, pid, "reader", scope="Secret"), "INSUFFICIENT_SCOPE", "missing scope")
    eq(pcode(d, key, pid, "reader", scope="Tasks"), "VALID", "held scope")


def test_verify_user_key_of_project_member_meets_its_role():
    d = shared()
    owner, member = user(d), user(d)
    pid = mkproject(owner)
    put_member(owner, pid, usr(member), "contributor")
    key = create_key(member)["key"]
    got = [pcode(d, key, pid, r) for r in ROLES]
    eq(got, ["VALID", "VALID", "INSUFFICIENT_ROLE"], "reader, contributor, owner")


def test_verify_user_key_of_non_member_is_insufficient_role():
    d = shared()
    pid = mkproject(user(d))
    eq(pcode(d, create_key(user(d))["key"], pid), "INSUFFICIENT_ROLE", "a stranger's key")


def test_verify_user_key_of_project_creator_is_owner():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    eq(pcode(d, create_key(c)["key"], pid, "owner"), "VALID", "the creator's key")


def test_verify_user_member_removed_is_insufficient_role_at_once():
    d = shared()
    owner, member = user(d), user(d)
    pid = mkproject(owner)
    put_member(owner, pid, usr(member), "reader")
    key = create_key(member)["key"]
    eq(pcode(d, key, pid), "VALID", "before the removal")
    expect(owner.request("DELETE", members_path(pid, usr(member))), 204)
    eq(pcode(d, key, pid), "INSUFFICIENT_ROLE", "right after the removal")


def test_auth_account_key_with_enough_role_is_204():
    d = shared()
    _, pid, sid, key = project_with_account(d)
    r = expect(pauth(d, key, pid, "contributor"), 204)
    eq(r.headers.get("X-Apikey-Owner"), f"service-account:{sid}", "X-Apikey-Owner")


def test_auth_project_without_role_means_reader():
    d = shared()
    _, pid, _, key = project_with_account(d, role="reader")
    expect(pauth(d, key, pid), 204, what="reader, X-Required-Project only")


def test_auth_insufficient_role_is_403():
    d = shared()
    _, pid, _, key = project_with_account(d, role="reader")
    expect(pauth(d, key, pid, "contributor"), 403, "forbidden")


def test_auth_non_member_is_403():
    d = shared()
    owner, _, _, key = project_with_account(d)
    expect(pauth(d, key, mkproject(owner)), 403, "forbidden")


def test_auth_unknown_project_is_403():
    d = shared()
    _, _, _, key = project_with_account(d)
    expect(pauth(d, key, "000000000000000000000000"), 403, "forbidden")


def test_auth_parent_membership_reaches_subproject():
    d = shared()
    owner = user(d)
    parent = mkproject(owner)
    child = mkproject(owner, parent=parent)
    key = account_key(owner, mkaccount(owner, project=parent))["key"]
    expect(pauth(d, key, child, "contributor"), 204, what="parent's contributor in child")


def test_auth_subproject_membership_does_not_reach_parent():
    d = shared()
    owner = user(d)
    parent = mkproject(owner)
    key = account_key(owner, mkaccount(owner, project=mkproject(owner, parent=parent)))["key"]
    expect(pauth(d, key, parent), 403, "forbidden")


def test_auth_membership_removal_is_403_at_once():
    d = shared()
    owner, pid, sid, key = project_with_account(d)
    expect(pauth(d, key, pid), 204, what="before the removal")
    expect(owner.request("DELETE", members_path(pid, sa(sid))), 204)
    expect(pauth(d, key, pid), 403, "forbidden", what="right after the removal")


def test_auth_user_key_of_member_with_role_is_204():
    d = shared()
    owner, member = user(d), user(d)
    pid = mkproject(owner)
    put_member(owner, pid, usr(member), "owner")
    r = expect(pauth(d, create_key(member)["key"], pid, "owner"), 204)
    eq(r.headers.get("X-Apikey-Owner"), f"user:{member.username}", "X-Apikey-Owner")


# =========================================================================== audit

def test_audit_records_project_create():
    d = shared()
    c = user(d, "manage_projects")  # the creator is the actor: top-level needs the authority
    pid = mkproject(c)
    check(audited(d, c.username, "project.create", pid), "no project.create event naming it")


def test_audit_records_project_delete():
    d = shared()
    c = user(d)
    pid = mkproject(c)
    expect(c.request("DELETE", f"/v1/projects/{pid}"), 204)
    check(audited(d, c.username, "project.delete", pid), "no project.delete event naming it")


def test_audit_records_project_member_put():
    d = shared()
    c, other = user(d), user(d, login=False)
    pid = mkproject(c)
    put_member(c, pid, usr(other), "reader")
    check(audited(d, c.username, "project.member.put", pid, other.username),
          "no project.member.put event naming the project and the member")


def test_audit_records_project_member_delete():
    d = shared()
    c, other = user(d), user(d, login=False)
    pid = mkproject(c)
    put_member(c, pid, usr(other), "reader")
    expect(c.request("DELETE", members_path(pid, usr(other))), 204)
    check(audited(d, c.username, "project.member.delete", pid, other.username),
          "no project.member.delete event naming the project and the member")


def test_audit_records_account_create():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    check(audited(d, c.username, "account.create", sid), "no account.create event naming it")


def test_audit_records_account_update():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    expect(c.request("PATCH", f"/v1/service-accounts/{sid}", json={"disabled": True}), 200)
    check(audited(d, c.username, "account.update", sid), "no account.update event naming it")


def test_audit_records_account_delete():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    expect(c.request("DELETE", f"/v1/service-accounts/{sid}"), 204)
    check(audited(d, c.username, "account.delete", sid), "no account.delete event naming it")


def test_audit_records_account_key_create_and_delete():
    d = shared()
    c = user(d)
    sid = mkaccount(c, project=mkproject(c))
    k = account_key(c, sid)
    expect(c.request("DELETE", f"/v1/service-accounts/{sid}/keys/{k['id']}"), 204)
    check(audited(d, c.username, "key.create", k["id"]), "no key.create event for the key")
    check(audited(d, c.username, "key.delete", k["id"]), "no key.delete event for the key")


def test_audit_of_refused_member_put_records_nothing():
    d = shared()
    owner, contrib, other = user(d), user(d), user(d, login=False)
    pid = mkproject(owner)
    put_member(owner, pid, usr(contrib), "contributor")
    expect(contrib.request("PUT", members_path(pid, usr(other)), json={"role": "owner"}), 403)
    eq(audited(d, contrib.username, "project.member.put"), [], "events of the refused put")


# =========================================================================== restart

def test_projects_memberships_and_account_keys_survive_a_restart():
    d = dedicated("accounts-restart")
    try:
        owner = user(d)
        parent = mkproject(owner)
        child = mkproject(owner, parent=parent)
        sid = mkaccount(owner, project=parent, role="reader")
        put_member(owner, child, sa(sid), "owner")
        key = account_key(owner, sid)["key"]
        d.stop()
        d.start()
        eq(pcode(d, key, child, "owner"), "VALID", "owner in the child after restart")
        eq(pcode(d, key, parent, "contributor"), "INSUFFICIENT_ROLE",
           "reader in the parent after restart")
        c = Client(d)
        c.login(owner.username, owner.password)
        eq(direct_role(c, parent, usr(owner)), "owner", "creator's role after restart")
        d.stop()
    finally:
        d.kill()
