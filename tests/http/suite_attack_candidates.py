"""The member picker's lookup, GET /v1/projects/{id}/candidates?q= (docs/API.md "Candidates
for membership", docs/SECURITY.md): who finds whom, and every attack on it. An insider who
does not manage a project's members (a non-member, a reader, a contributor, an API-account
key, a key without `Account`, a disabled owner) learns nothing through it; every bad query is
a 4xx problem document; an answer holds only principal, name and kind, at most ten, never an
email, a role or a disabled user."""
import urllib.parse

from run import Client, check, create_key, eq, expect, shared, uniq, uniq_user
from suite_accounts import (account_key, mkaccount, mkproject, put_member, user)

FIELDS = {"principal", "name", "kind"}


def path(pid, q=None, raw=None):
    p = f"/v1/projects/{pid}/candidates"
    if raw is not None:
        return f"{p}?{raw}"
    return p if q is None else f"{p}?{urllib.parse.urlencode({'q': q})}"


def found(c, pid, q):
    """The candidates c finds for q in project pid (200 asserted, shape checked)."""
    r = expect(c.request("GET", path(pid, q)), 200, what=f"candidates {q!r}")
    check(isinstance(r.body, dict) and isinstance(r.body.get("candidates"), list),
          f"expected {{candidates:[...]}}, got {r.raw[:300]!r}")
    for m in r.body["candidates"]:
        eq(set(m), FIELDS, f"the members of a candidate {m!r}")
    return r.body["candidates"]


def principals(c, pid, q):
    return [m["principal"] for m in found(c, pid, q)]


def named_user(d, stem, full_name, email=None):
    """A user whose username starts with `stem`, with a full name (and email)."""
    name = uniq_user(stem)
    body = {"username": name, "password": "pw-" + uniq("x") + "-long", "full_name": full_name}
    if email:
        body["email"] = email
    expect(d.admin.request("POST", "/v1/users", json=body), 201, what=f"create {name}")
    return name


def owner_and_project(d):
    owner = user(d)
    return owner, mkproject(owner)


# ---- what an owner finds ------------------------------------------------------------------

def test_candidates_owner_finds_users_by_username_prefix_and_full_name_without_case():
    d = shared()
    owner, pid = owner_and_project(d)
    stem = "cz" + uniq("")[-6:]
    alice = named_user(d, stem, "Alice Quibblewort")
    got = found(owner, pid, stem.upper())
    eq([m for m in got if m["principal"] == f"user:{alice}"],
       [{"principal": f"user:{alice}", "name": "Alice Quibblewort", "kind": "user"}],
       "found by the username's start, in other case")
    check(f"user:{alice}" in principals(owner, pid, "quibbleWORT"),
          "found by a part of the full name, in other case")
    check(f"user:{alice}" not in principals(owner, pid, alice[2:8]),
          "the middle of a username is not a match (prefix only)")


def test_candidates_never_show_emails_nor_match_them():
    d = shared()
    owner, pid = owner_and_project(d)
    secret = "zq" + uniq("")[-8:]
    name = named_user(d, "em", "Plain Person", email=f"{secret}@example.org")
    eq(principals(owner, pid, secret), [], "an email address is no way to find someone")
    r = owner.request("GET", path(pid, "Plain Person"))
    check(secret.encode() not in r.raw, "no email in the answer")
    check(f"user:{name}" in principals(owner, pid, "Plain Person"), "found by name")


def test_candidates_leave_out_disabled_users():
    d = shared()
    owner, pid = owner_and_project(d)
    stem = "dz" + uniq("")[-6:]
    gone = named_user(d, stem, "Gone Away")
    check(f"user:{gone}" in principals(owner, pid, stem), "found while enabled")
    expect(d.admin.request("PATCH", f"/v1/users/{gone}", json={"disabled": True}), 200)
    eq(principals(owner, pid, stem), [], "a disabled user is not offered")


def test_candidates_are_at_most_ten():
    d = shared()
    owner, pid = owner_and_project(d)
    stem = "tz" + uniq("")[-6:]
    for i in range(12):
        named_user(d, stem, f"Tenant {i}")
    eq(len(found(owner, pid, stem)), 10, "at most ten answers")


def test_candidates_offer_the_api_accounts_the_caller_manages_and_no_others():
    d = shared()
    owner, pid = owner_and_project(d)
    word = "Hz" + uniq("")[-6:]
    mine = mkaccount(owner, project=pid, name=f"{word} importer")
    other_owner, other_pid = owner_and_project(d)
    theirs = mkaccount(other_owner, project=other_pid, name=f"{word} exporter")
    site = mkaccount(d.admin, name=f"{word} site")
    got = found(owner, pid, word.lower())
    eq([m for m in got if m["kind"] == "service-account"],
       [{"principal": f"service-account:{mine}", "name": f"{word} importer",
         "kind": "service-account"}],
       "only the account the owner manages (not another project's, not a site-wide one)")
    admin_sees = principals(d.admin, pid, word)
    for sid in (mine, theirs, site):
        check(f"service-account:{sid}" in admin_sees,
              f"an administrator (manage_service_accounts) is offered {sid}")
    expect(owner.request("PATCH", f"/v1/service-accounts/{mine}", json={"disabled": True}), 200)
    check(f"service-account:{mine}" not in principals(owner, pid, word),
          "a disabled account is not offered")


def test_candidates_owner_of_a_parent_and_manage_projects_holder_may_ask():
    d = shared()
    owner, pid = owner_and_project(d)
    sub = mkproject(owner, parent=pid)
    found(owner, sub, "ad")  # owner through the parent
    manager = user(d, "manage_projects")
    found(manager, pid, "ad")  # no member, manage_projects


# ---- attackers ----------------------------------------------------------------------------

def test_candidates_refused_to_a_non_member_reader_and_contributor():
    d = shared()
    owner, pid = owner_and_project(d)
    stranger, reader, contributor = user(d), user(d), user(d)
    put_member(owner, pid, f"user:{reader.username}", "reader")
    put_member(owner, pid, f"user:{contributor.username}", "contributor")
    expect(stranger.request("GET", path(pid, "ad")), 404, "not-found",
           what="a non-member (the project is not theirs to see)")
    expect(reader.request("GET", path(pid, "ad")), 403, "forbidden", what="a reader")
    expect(contributor.request("GET", path(pid, "ad")), 403, "forbidden", what="a contributor")
    # a bad query from them is still refused for who they are, not for the query
    expect(reader.request("GET", path(pid)), 403, "forbidden", what="a reader without q")


def test_candidates_refused_to_an_api_account_key_even_an_owner_one():
    d = shared()
    owner, pid = owner_and_project(d)
    sid = mkaccount(owner, project=pid, role="owner")
    key = account_key(owner, sid, scopes=["Account", "APIKey"])["key"]
    r = expect(Client(d, key=key).request("GET", path(pid, "ad")), 403, "forbidden",
               what="an API-account key owning the project")
    check("candidates" in r.body["detail"], f"the detail says why: {r.body['detail']!r}")


def test_candidates_need_the_account_scope_from_a_persons_key():
    d = shared()
    owner, pid = owner_and_project(d)
    without = Client(d, key=create_key(owner, scopes=["APIKey"])["key"])
    expect(without.request("GET", path(pid, "ad")), 403, "forbidden", what="no Account scope")
    with_scope = Client(d, key=create_key(owner, scopes=["Account"])["key"])
    expect(with_scope.request("GET", path(pid, "ad")), 200, what="a key with Account")


def test_candidates_refused_to_a_disabled_owner_and_to_no_one():
    d = shared()
    owner, pid = owner_and_project(d)
    key = Client(d, key=create_key(owner, scopes=["Account"])["key"])
    second = user(d)
    put_member(owner, pid, f"user:{second.username}", "owner")  # so the owner may be disabled
    expect(d.admin.request("PATCH", f"/v1/users/{owner.username}", json={"disabled": True}), 200)
    expect(owner.request("GET", path(pid, "ad")), 401, what="the disabled owner's session")
    expect(key.request("GET", path(pid, "ad")), 401, what="the disabled owner's key")
    expect(Client(d).request("GET", path(pid, "ad")), 401, what="no credentials")


def test_candidates_bad_project_ids_are_404():
    d = shared()
    owner, pid = owner_and_project(d)
    expect(owner.request("GET", path("x" * len(pid), "ad")), 404, "not-found",
           what="an id of the right length naming no project")
    expect(owner.request("GET", path("nope", "ad")), 404, "not-found", what="a malformed id")
    expect(owner.request("GET", path("%2e%2e", "ad")), 404, "not-found", what="'..' as the id")


def test_candidates_bad_queries_are_400():
    d = shared()
    owner, pid = owner_and_project(d)
    cases = [
        (None, "missing q"),
        ("", "empty q"),
        ("a", "one character"),
        ("  ", "only spaces"),
        ("a" * 65, "65 characters"),
        ("é" * 65, "65 two-byte characters"),
        ("ab\x01", "a control character"),
        ("ab\u202e", "a bidirectional override"),
    ]
    for q, what in cases:
        r = expect(owner.request("GET", path(pid, q)), 400, "bad-request", what=what)
        check("q" in r.body["detail"], f"{what}: the detail names q: {r.body['detail']!r}")
    for raw, what in [("q=%ff%fe", "not UTF-8"), ("q=ab%00cd", "an encoded NUL"),
                      ("q=%zz", "a bad escape"), ("qq=ab", "another parameter only")]:
        expect(owner.request("GET", path(pid, raw=raw)), 400, "bad-request", what=what)
    found(owner, pid, "a" * 64)  # 64 is allowed
    found(owner, pid, "é" * 64)
    found(owner, pid, "ab")


def test_candidates_change_nothing():
    d = shared()
    owner, pid = owner_and_project(d)
    before = expect(owner.request("GET", f"/v1/projects/{pid}/members"), 200).body
    found(owner, pid, "ad")
    expect(owner.request("POST", path(pid, "ad"), json={}), 405, "method-not-allowed")
    eq(expect(owner.request("GET", f"/v1/projects/{pid}/members"), 200).body, before,
       "members unchanged")
