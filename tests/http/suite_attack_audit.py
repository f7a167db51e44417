"""Attacks on issue 12, item 8 (an audit that cannot be hidden), on SQLite and PostgreSQL.

An insider names a key, a project or an API account with 100 four-byte characters (U+1F600).
The audit record's detail holds fewer bytes than such a name, and it used to be cut inside a
character: on SQLite the broken row made `GET /v1/audit` stop there, hiding every older row
from whoever read the trail; on PostgreSQL the row was refused, so the action went
unrecorded (or, for a key, failed with a 500). Now text is cut on a code-point boundary, a
stored row that is not valid UTF-8 is rendered with U+FFFD, and paging reaches every row.

A change whose audit row cannot be written is refused and stores nothing: the tests make the
audit table refuse inserts (a trigger put in by hand, as a full disk or a broken database
would) and check that each action fails and leaves nothing behind (also after a restart, for
the scope catalogue).

The PostgreSQL tests reuse suite_cluster's throwaway cluster.
"""
import os
import sqlite3
import subprocess

from run import Client, Daemon, check, create_key, dedicated, eq, expect, uniq, uniq_user
from suite_cluster import _fresh_database, _nodes, _pg_cluster, _stop_all

GRIN = "\U0001F600"                 # 4 bytes in UTF-8
LONG = GRIN * 100                   # the longest name a key, project or account may have
DETAIL_BYTES = 255                  # what an audit detail holds (store.h audit_record)
CUT = GRIN * (DETAIL_BYTES // 4)    # LONG cut on a code-point boundary


# ---- the two stores ------------------------------------------------------------------------

def _sqlite_daemon():
    return dedicated("audit-sqlite")


def _pg_daemon():
    return _nodes(1, _fresh_database())[0]


def _psql(url, sql):
    """Runs sql on the database of url as the postgres user (the cluster's superuser)."""
    _, port, _ = _pg_cluster()
    bins = sorted(os.listdir("/usr/lib/postgresql"))
    cmd = [f"/usr/lib/postgresql/{bins[-1]}/bin/psql", "-h", "127.0.0.1", "-p", str(port), "-U",
           "postgres", "-v", "ON_ERROR_STOP=1", "-d", url.rsplit("/", 1)[1], "-c", sql]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, f"psql failed: {out.stderr[-300:]}")


def _sqlite_exec(d, sql):
    db = sqlite3.connect(os.path.join(d.data, "apikeyd.db"), timeout=30)
    try:
        db.executescript(sql)
    finally:
        db.close()


# ---- reading the whole trail -----------------------------------------------------------------

def _all_events(c, page=3):
    """Every event, newest first, read in pages of `page` following next_before."""
    events, before = [], None
    for _ in range(10000):
        path = f"/v1/audit?limit={page}" + (f"&before={before}" if before else "")
        r = expect(c.request("GET", path), 200, what=f"GET {path}")
        got = r.body.get("events")
        check(isinstance(got, list), f"GET {path}: events is {got!r}")
        events += got
        before = r.body.get("next_before")
        if before is None:
            return events
        check(len(got) == page, f"GET {path}: a page of {len(got)} events before the last page")
    raise AssertionError("audit paging did not end")


def _one(events, action, target=None):
    found = [e for e in events if e.get("action") == action and
             (target is None or e.get("target") == target)]
    check(found, f"no {action} event{' on ' + target if target else ''} in the trail "
                 f"({len(events)} events: {sorted({e.get('action') for e in events})})")
    return found[0]


# ---- 4-byte characters in every audited name -------------------------------------------------

def _names_with_four_byte_characters(d):
    """Does every audited action with 100 x U+1F600 where a name is free text, and with
    4-byte characters where names are tokens (refused, nothing stored); then reads the whole
    trail and checks each event is there with its name cut on a code-point boundary."""
    admin = d.admin
    first = _all_events(admin)[-1]  # the oldest event (the bootstrap admin's first login)
    # keys: create, rename, delete
    key = create_key(admin, name=LONG)
    renamed = GRIN * 99 + "\U0001F603"
    r = expect(admin.request("PATCH", f"/v1/keys/{key['id']}", json={"name": renamed}), 200,
               what="rename the key")
    eq(r.body.get("name"), renamed, "the renamed key's name")
    expect(admin.request("DELETE", f"/v1/keys/{key['id']}"), 204, what="delete the key")
    # projects and API accounts
    p = expect(admin.request("POST", "/v1/projects", json={"name": LONG}), 201,
               what="project with a 4-byte name").body
    eq(p.get("name"), LONG, "the project's name")
    a = expect(admin.request("POST", "/v1/service-accounts", json={"name": LONG}), 201,
               what="account with a 4-byte name").body
    expect(admin.request("PATCH", f"/v1/service-accounts/{a['id']}",
                         json={"name": renamed, "disabled": True}), 200, what="rename account")
    expect(admin.request("DELETE", f"/v1/service-accounts/{a['id']}"), 204)
    # a user: full name free text; the username is a token (4-byte characters refused)
    name = uniq_user("grin")
    expect(admin.request("POST", "/v1/users", json={"username": name, "password": "pw-" +
                                                    os.urandom(8).hex(), "full_name": LONG}),
           201, what="user with a 4-byte full name")
    u = expect(admin.request("GET", f"/v1/users/{name}"), 200).body
    eq(u.get("full_name"), LONG, "the user's full name")
    bad_user = "u" + GRIN
    expect(admin.request("POST", "/v1/users", json={"username": bad_user, "password": "pw-" +
                                                    os.urandom(8).hex()}), 422)
    # roles, groups and environments: names are tokens, 4-byte characters refused
    expect(admin.request("POST", "/v1/roles", json={"name": "r" + GRIN, "authorities": []}), 422)
    expect(admin.request("POST", "/v1/groups", json={"name": "g" + GRIN}), 422)
    expect(admin.request("POST", "/v1/environments", json={"name": "e" + GRIN}), 422)
    role = uniq("r")
    expect(admin.request("POST", "/v1/roles", json={"name": role, "authorities": [],
                                                   "description": LONG}), 201)
    group = uniq("g")
    expect(admin.request("POST", "/v1/groups", json={"name": group, "description": LONG,
                                                    "roles": [role]}), 201)
    events = _all_events(admin)
    # paging reached the oldest event: nothing hidden behind a broken row
    eq(events[-1].get("id"), first.get("id"), "the oldest event is still listed")
    eq(len({e.get("id") for e in events}), len(events), "each event listed once")
    eq(_one(events, "key.create", key["id"]).get("detail"), CUT, "key.create detail")
    eq(_one(events, "key.update", key["id"]).get("detail"), CUT, "key.update detail")
    check(_one(events, "key.delete", key["id"]).get("detail").startswith(GRIN * 60),
          "key.delete detail keeps the name's first characters")
    eq(_one(events, "project.create", p["id"]).get("detail"), CUT, "project.create detail")
    eq(_one(events, "account.create", a["id"]).get("detail"), CUT, "account.create detail")
    _one(events, "account.update", a["id"])
    check(_one(events, "account.delete", a["id"]).get("detail").startswith(GRIN * 60),
          "account.delete detail")
    _one(events, "user.create", name)
    _one(events, "role.create", role)
    _one(events, "group.create", group)
    for bad in (bad_user, "r" + GRIN, "g" + GRIN, "e" + GRIN):
        check(not [e for e in events if e.get("target") == bad], f"{bad!r} was refused: no event")
    for e in events:
        for field in ("actor", "action", "target_type", "target", "client", "detail"):
            check(isinstance(e.get(field), str) and "\ufffd" not in e[field],
                  f"event {e.get('id')}: {field} is {e.get(field)!r}")


def test_attack_audit_four_byte_names_are_cut_whole_and_hide_nothing_on_sqlite():
    d = _sqlite_daemon()
    try:
        _names_with_four_byte_characters(d)
    finally:
        d.stop()


def test_attack_audit_four_byte_names_are_cut_whole_and_hide_nothing_on_postgresql():
    d = _pg_daemon()
    try:
        _names_with_four_byte_characters(d)
    finally:
        _stop_all([d])


def test_attack_audit_a_broken_stored_row_does_not_end_the_listing_on_sqlite():
    """A row stored by an older release with a character cut in half (or written by hand)
    is listed with U+FFFD, and the rows before it are still reached."""
    d = _sqlite_daemon()
    try:
        first = _all_events(d.admin)[-1]
        _sqlite_exec(d, "INSERT INTO audit(at, actor, action, target_type, target, client, detail)"
                        " VALUES (1, 'admin', 'key.create', 'key', 'broken', '',"
                        " CAST(X'F09F9880F09F98' AS TEXT))")
        create_key(d.admin, name=uniq("after"))
        events = _all_events(d.admin, page=1)
        eq(events[-1].get("id"), first.get("id"), "the oldest event is still listed")
        eq(_one(events, "key.create", "broken").get("detail"), GRIN + "\ufffd" * 3,
           "the broken detail, bad bytes replaced")
    finally:
        d.stop()


# ---- a change whose audit row cannot be stored is not made ------------------------------------

def _refused(r, what):
    check(r.status >= 500, f"{what}: expected a refusal (5xx: the audit store failed), got "
                           f"{r.status} {r.body!r}")


def _nothing_stored_while_audit_fails(d, break_audit, mend_audit):
    admin = d.admin
    key = create_key(admin, name=uniq("kept"))
    name, pw = uniq_user("aud"), "pw-" + os.urandom(8).hex()
    expect(admin.request("POST", "/v1/users", json={"username": name, "password": pw}), 201)
    role = uniq("r")
    expect(admin.request("POST", "/v1/roles", json={"name": role, "authorities": []}), 201)
    group = uniq("g")
    expect(admin.request("POST", "/v1/groups", json={"name": group}), 201)
    before = len(_all_events(admin, page=200))
    break_audit()
    try:
        new_user, new_role, new_group = uniq_user("no"), uniq("r"), uniq("g")
        new_scope = "Audit" + os.urandom(4).hex()
        _refused(admin.request("POST", "/v1/scopes", json={"name": new_scope}), "scope create")
        _refused(admin.request("POST", "/v1/keys", json={"name": LONG, "scopes": ["Tasks"]}),
                 "key create")
        _refused(admin.request("DELETE", f"/v1/keys/{key['id']}"), "key delete")
        _refused(admin.request("POST", "/v1/users", json={"username": new_user,
                                                          "password": "pw-" + uniq("p")}),
                 "user create")
        _refused(admin.request("PATCH", f"/v1/users/{name}", json={"full_name": LONG}),
                 "user update")
        _refused(admin.request("PATCH", f"/v1/users/{name}", json={"disabled": True}),
                 "user disable")
        _refused(admin.request("POST", "/v1/roles", json={"name": new_role, "authorities": []}),
                 "role create")
        _refused(admin.request("PUT", f"/v1/roles/{role}",
                               json={"authorities": ["view_audit"]}), "role update")
        _refused(admin.request("POST", "/v1/groups", json={"name": new_group}), "group create")
        _refused(admin.request("PUT", f"/v1/groups/{group}", json={"members": [name]}),
                 "group update")
        _refused(admin.request("POST", "/v1/projects", json={"name": LONG}), "project create")
        _refused(admin.request("POST", "/v1/service-accounts", json={"name": LONG}),
                 "account create")
        login = Client(d).request("POST", "/v1/login", json={"username": name, "password": pw})
        _refused(login, "login")
    finally:
        mend_audit()
    # nothing of the refused changes is stored
    scopes = expect(admin.request("GET", "/v1/scopes"), 200).body["scopes"]
    eq([s for s in scopes if s.get("name") == new_scope], [], "no scope was added")
    eq(len(_all_events(admin, page=200)), before, "no audit event was added")
    d.stop()  # the store too: a restart reads the catalogue back
    d.start()
    admin = d.admin
    scopes = expect(admin.request("GET", "/v1/scopes"), 200).body["scopes"]
    eq([s for s in scopes if s.get("name") == new_scope], [], "no scope was stored")
    expect(admin.request("GET", f"/v1/keys/{key['id']}"), 200, what="the key is still there")
    keys = expect(admin.request("GET", "/v1/keys"), 200).body["keys"]
    eq([k for k in keys if k.get("name") == LONG], [], "no key was created")
    expect(admin.request("GET", f"/v1/users/{new_user}"), 404, what="no user was created")
    u = expect(admin.request("GET", f"/v1/users/{name}"), 200).body
    eq((u.get("full_name"), u.get("disabled")), ("", False), "the user is unchanged")
    expect(admin.request("GET", f"/v1/roles/{new_role}"), 404, what="no role was created")
    r = expect(admin.request("GET", f"/v1/roles/{role}"), 200).body
    eq(r.get("authorities"), [], "the role is unchanged")
    expect(admin.request("GET", f"/v1/groups/{new_group}"), 404, what="no group was created")
    g = expect(admin.request("GET", f"/v1/groups/{group}"), 200).body
    eq(g.get("members") or [], [], "the group is unchanged")
    projects = expect(admin.request("GET", "/v1/projects"), 200).body["projects"]
    eq([p for p in projects if p.get("name") == LONG], [], "no project was created")
    accounts = expect(admin.request("GET", "/v1/service-accounts"), 200).body["service_accounts"]
    eq([a for a in accounts if a.get("name") == LONG], [], "no account was created")
    Client(d).login(name, pw)  # works again once the audit can be written


def test_attack_audit_a_change_that_cannot_be_audited_is_refused_on_sqlite():
    d = _sqlite_daemon()
    try:
        _nothing_stored_while_audit_fails(
            d, lambda: _sqlite_exec(d, "CREATE TRIGGER audit_broken BEFORE INSERT ON audit"
                                       " BEGIN INSERT INTO audit_is_gone VALUES (1); END;"),
            lambda: _sqlite_exec(d, "DROP TRIGGER audit_broken;"))
    finally:
        d.stop()


def test_attack_audit_a_change_that_cannot_be_audited_is_refused_on_postgresql():
    url = _fresh_database()
    d = _nodes(1, url)[0]
    try:
        _nothing_stored_while_audit_fails(
            d, lambda: _psql(url, "CREATE FUNCTION audit_broken() RETURNS trigger LANGUAGE plpgsql"
                                  " AS $$ BEGIN RAISE EXCEPTION 'audit is gone'; END $$;"
                                  " CREATE TRIGGER audit_broken BEFORE INSERT ON audit"
                                  " FOR EACH ROW EXECUTE FUNCTION audit_broken();"),
            lambda: _psql(url, "DROP TRIGGER audit_broken ON audit;"))
    finally:
        _stop_all([d])
