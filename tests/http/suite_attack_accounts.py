"""Attacks on issue 12 items 6 and 7: a leaked API-account key tries to manage other
accounts' keys or to make accounts, projects and memberships (item 6, key management needs
APIKey and a key manages only its own owner's keys); one user tries to use up a limit that
others share (item 7). Each test checks that nothing a refused request sent was stored."""
from run import Client, check, create_key, dedicated, eq, expect, expect_one_of, shared, uniq, verify
from suite_accounts import (account_key, account_keys, members, mkaccount, mkproject,
                            put_member, user)


def _owned_project(d, owner):
    """A top-level project made by the admin with `owner` (a user client) as its owner."""
    pid = mkproject(d.admin)
    put_member(d.admin, pid, f"user:{owner.username}", "owner")
    return pid


def _account_owning(d, scopes):
    """(person, project, account A owning the project, A's key client, account B there)."""
    person = user(d)
    pid = _owned_project(d, person)
    a = mkaccount(person, project=pid, role="owner")
    b = mkaccount(person, project=pid)
    return person, pid, a, Client(d, key=account_key(person, a, scopes=scopes)["key"]), b


# ---- item 6: key management needs APIKey; a key manages only its own owner's keys ----------

def test_attack_account_key_cannot_list_create_read_or_delete_another_accounts_keys():
    d = shared()
    person, _, a, ka, b = _account_owning(d, ["Account", "APIKey", "Tasks"])
    kb = account_key(person, b, scopes=["Tasks"])
    expect(ka.request("GET", f"/v1/service-accounts/{b}/keys"), 403, "forbidden",
           what="list another account's keys")
    expect(ka.request("POST", f"/v1/service-accounts/{b}/keys",
                      json={"name": uniq("stolen"), "scopes": ["Tasks"]}), 403, "forbidden",
           what="create a key for another account")
    expect(ka.request("GET", f"/v1/service-accounts/{b}/keys/{kb['id']}"), 403, "forbidden",
           what="read another account's key")
    expect(ka.request("DELETE", f"/v1/service-accounts/{b}/keys/{kb['id']}"), 403, "forbidden",
           what="delete another account's key")
    eq([k["id"] for k in account_keys(person, b)], [kb["id"]], "B's keys after the refusals")
    eq(verify(d, kb["key"]).get("code"), "VALID", "B's key still verifies")
    # its own account's keys it does manage
    own = expect(ka.request("POST", f"/v1/service-accounts/{a}/keys",
                            json={"name": uniq("own"), "scopes": ["Tasks"]}), 201).body
    expect(ka.request("GET", f"/v1/service-accounts/{a}/keys/{own['id']}"), 200)
    expect(ka.request("DELETE", f"/v1/service-accounts/{a}/keys/{own['id']}"), 204)


def test_attack_account_key_without_apikey_scope_cannot_manage_keys():
    d = shared()
    person, _, a, ka, _ = _account_owning(d, ["Account", "Tasks"])
    before = [k["id"] for k in account_keys(person, a)]
    expect(ka.request("GET", f"/v1/service-accounts/{a}/keys"), 403, "forbidden",
           what="list own keys without APIKey")
    expect(ka.request("POST", f"/v1/service-accounts/{a}/keys",
                      json={"name": uniq("k"), "scopes": ["Tasks"]}), 403, "forbidden",
           what="create an own key without APIKey")
    expect(ka.request("DELETE", f"/v1/service-accounts/{a}/keys/{before[0]}"), 403, "forbidden",
           what="delete an own key without APIKey")
    eq([k["id"] for k in account_keys(person, a)], before, "A's keys after the refusals")


def test_attack_account_key_creates_no_accounts_projects_or_memberships():
    d = shared()
    person, pid, a, ka, b = _account_owning(d, ["Account", "APIKey", "Tasks"])
    name = uniq("sa")
    expect(ka.request("POST", "/v1/service-accounts", json={"name": name, "project": pid}), 403,
           "forbidden", what="an account key creating an account")
    eq(name in [x["name"] for x in expect(person.request("GET", "/v1/service-accounts"), 200)
                .body["service_accounts"]], False, "no account stored")
    sub = uniq("sub")
    expect(ka.request("POST", "/v1/projects", json={"name": sub, "parent": pid}), 403,
           "forbidden", what="an account key creating a subproject")
    expect(ka.request("POST", "/v1/projects", json={"name": uniq("top")}), 403, "forbidden",
           what="an account key creating a top-level project")
    eq(sub in [p["name"] for p in expect(person.request("GET", "/v1/projects"), 200)
               .body["projects"]], False, "no project stored")
    other = user(d)
    expect(ka.request("PUT", f"/v1/projects/{pid}/members/user:{other.username}",
                      json={"role": "owner"}), 403, "forbidden",
           what="an account key adding a member")
    expect(ka.request("PUT", f"/v1/projects/{pid}/members/service-account:{b}",
                      json={"role": "owner"}), 403, "forbidden",
           what="an account key raising another account")
    got = members(person, pid)
    eq(f"user:{other.username}" in got, False, "no membership stored")
    eq(got.get(f"service-account:{b}"), [("contributor", None)], "B's role unchanged")


def test_attack_person_key_manages_account_keys_only_in_projects_the_person_owns():
    d = shared()
    person = user(d)
    pid = _owned_project(d, person)
    k = Client(d, key=create_key(person, scopes=["Account", "APIKey", "Tasks"])["key"])
    # seed 004: an account and keys at the subproject level, by REST, by the project's owner
    sub = expect(k.request("POST", "/v1/projects", json={"name": uniq("sub"), "parent": pid}),
                 201).body["id"]
    sid = expect(k.request("POST", "/v1/service-accounts",
                           json={"name": uniq("sa"), "project": sub}), 201).body["id"]
    made = expect(k.request("POST", f"/v1/service-accounts/{sid}/keys",
                            json={"name": uniq("k"), "scopes": ["Tasks"]}), 201).body
    expect(k.request("GET", f"/v1/service-accounts/{sid}/keys"), 200)
    expect(k.request("DELETE", f"/v1/service-accounts/{sid}/keys/{made['id']}"), 204)
    # Account without APIKey does not manage keys
    ka = Client(d, key=create_key(person, scopes=["Account", "Tasks"])["key"])
    expect(ka.request("GET", f"/v1/service-accounts/{sid}/keys"), 403, "forbidden",
           what="a person's key without APIKey listing account keys")
    expect(ka.request("POST", f"/v1/service-accounts/{sid}/keys",
                      json={"name": uniq("k"), "scopes": ["Tasks"]}), 403, "forbidden",
           what="a person's key without APIKey creating an account key")
    eq(account_keys(person, sid), [], "nothing stored")
    # a project the person does not own (a contributor there)
    foreign = mkproject(d.admin)
    put_member(d.admin, foreign, f"user:{person.username}", "contributor")
    expect(k.request("POST", "/v1/service-accounts",
                     json={"name": uniq("sa"), "project": foreign}), 403, "forbidden",
           what="an account in a project the person does not own")
    theirs = mkaccount(d.admin, project=foreign)
    expect_one_of(k.request("GET", f"/v1/service-accounts/{theirs}/keys"), {403: None, 404: None},
                  what="keys of an account in a project not owned")
    expect_one_of(k.request("POST", f"/v1/service-accounts/{theirs}/keys",
                            json={"name": uniq("k"), "scopes": ["Tasks"]}),
                  {403: None, 404: None}, what="a key for an account in a project not owned")
    eq(account_keys(d.admin, theirs), [], "nothing stored for the foreign account")
