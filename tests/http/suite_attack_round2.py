"""Attack round 2 on the rules of issues 13 and 14: the audit listing's filters, the query
string, `apikeyd backup`, and the member picker's lookup. Each test plays one attack that
broke a rule on the code before its fix (docs/SECURITY.md, item 16) and checks that nothing
is widened, leaked or answered with a 5xx.

The PostgreSQL test reuses suite_cluster's throwaway cluster; the backup race is made
deterministic with a tiny LD_PRELOAD shim (compiled here with cc) that plants the attacker's
symlink at the moment the real attacker would race for: after the backup's checks of
FILE.tmp, before the copy is written."""
import os
import stat
import subprocess
import tempfile
import urllib.parse

from run import (BIN, _TMPDIRS, Client, check, create_key, dedicated, eq, expect, shared, uniq,
                 uniq_user)
from suite_cluster import _fresh_database, _nodes


def _audit(c, query):
    return c.request("GET", "/v1/audit?" + query)


def _events(c, query):
    r = expect(_audit(c, query), 200, what=f"GET /v1/audit?{query}")
    return r.body["events"]


# ---- the audit listing's filters -----------------------------------------------------------

def _check_non_utf8_filters_are_400(d):
    create_key(d.admin, scopes=("Tasks",))           # at least one event besides the login
    for query in ("actor=%ff", "target=%ff%fe", "action=%c3", "actor=admin%c3%28"):
        r = _audit(d.admin, query)
        expect(r, 400, "bad-request", what=f"GET /v1/audit?{query}")
        check("UTF-8" in r.body.get("detail", ""), f"the detail says why: {r.body!r}")
    check(len(_events(d.admin, "limit=200")) >= 2, "the trail still answers")


def test_attack_audit_filters_that_are_not_utf8_are_400_not_500_on_postgresql():
    d = _nodes(1, _fresh_database())[0]
    try:
        _check_non_utf8_filters_are_400(d)
    finally:
        d.stop()


def test_attack_audit_filters_that_are_not_utf8_are_400_on_sqlite():
    d = shared()
    _check_non_utf8_filters_are_400(d)


def test_attack_a_filter_with_a_malformed_escape_is_refused_not_dropped():
    """`actor=%zz` used to be skipped by the query parser, so the filter vanished and the
    answer held every event; the same for an encoded NUL. A filter that cannot be read is
    refused, as more than 32 parameters are."""
    d = shared()
    create_key(d.admin, scopes=("Tasks",))
    eq(_events(d.admin, "actor=nobody-at-all"), [], "a filter that matches nothing")
    for query in ("actor=%zz", "actor=admin%00x", "target=%4", "action=%%", "limit=5&actor=%g1",
                  "act%zzor=admin"):
        r = _audit(d.admin, query)
        expect(r, 400, "bad-request", what=f"GET /v1/audit?{query}")
        check("escape" in r.body.get("detail", ""), f"the detail says why: {r.body!r}")
    # the member picker's q is refused the same way (it was: "q is required")
    pid = expect(d.admin.request("POST", "/v1/projects", json={"name": "r2-escape"}),
                 201).body["id"]
    expect(d.admin.request("GET", f"/v1/projects/{pid}/candidates?q=ad%zz"), 400, "bad-request")
    # well-formed escapes still work
    eq({e["actor"] for e in _events(d.admin, "actor=" + urllib.parse.quote("admin"))},
       {"admin"}, "an escaped filter value")


def test_attack_audit_until_the_epoch_lists_nothing():
    """The store read until=0 as "no bound": `until=1970-01-01T00:00:00Z` listed everything
    while `until=1970-01-01T00:00:01Z` listed nothing."""
    d = shared()
    create_key(d.admin, scopes=("Tasks",))
    eq(_events(d.admin, "until=1970-01-01T00:00:01Z"), [], "until one second after the epoch")
    eq(_events(d.admin, "until=1970-01-01T00:00:00Z"), [], "until the epoch itself")
    eq(_events(d.admin, "until=1970-01-01T01:00:00%2B01:00"), [], "the epoch with an offset")
    check(_events(d.admin, "since=1970-01-01T00:00:00Z"), "since the epoch: everything")


# ---- apikeyd backup ------------------------------------------------------------------------

SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>
/* The attacker's move, made deterministic: at the backup's first access(2) (open_source,
 * after its checks of FILE and FILE.tmp) a symlink appears at FILE.tmp. */
int access(const char *path, int mode)
{
    static int planted;
    const char *link = getenv("ATTACK_LINK"), *to = getenv("ATTACK_TO");
    if (!planted && link && to) {
        planted = 1;
        if (symlink(to, link) != 0)
            _exit(97);
    }
    int (*real)(const char *, int) = (int (*)(const char *, int))dlsym(RTLD_NEXT, "access");
    return real(path, mode);
}
"""


def _shim(folder):
    src, lib = os.path.join(folder, "plant.c"), os.path.join(folder, "plant.so")
    with open(src, "w") as f:
        f.write(SHIM)
    out = subprocess.run(["cc", "-shared", "-fPIC", "-o", lib, src, "-ldl"], capture_output=True,
                         text=True, timeout=60)
    check(out.returncode == 0, f"cc could not build the shim: {out.stderr[-300:]}")
    return lib


def test_attack_backup_never_writes_into_a_symlink_planted_at_file_tmp():
    """A local user who can write to the backup's folder (a shared /tmp) plants, right after
    the backup looked at FILE.tmp, a symlink there to an empty file of their own (mode 0666).
    SQLite followed it: the copy of every password hash, key hash and sealed TOTP seed was
    written into the attacker's file. Now FILE.tmp is made with O_EXCL|O_NOFOLLOW and opened
    by SQLite without following links: the backup is refused and the attacker gets nothing."""
    d = shared()
    create_key(d.admin, scopes=("Tasks",))
    folder = tempfile.mkdtemp(prefix="apikeyd-test-r2-backup-")
    _TMPDIRS.append(folder)
    lib = _shim(folder)
    loot = os.path.join(folder, "attackers-file")
    open(loot, "w").close()
    os.chmod(loot, 0o666)
    target = os.path.join(folder, "nightly.db")
    # verify_asan_link_order=0: the AddressSanitizer build accepts a preloaded library
    # (otherwise it stops before the shim runs); the plain build ignores the variable
    asan = (os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0").lstrip(":")
    env = dict(os.environ, LD_PRELOAD=lib, ATTACK_LINK=target + ".tmp", ATTACK_TO=loot,
               ASAN_OPTIONS=asan)
    p = subprocess.run([BIN, "backup", "--data", d.data, target], env=env, capture_output=True,
                       text=True, timeout=60)
    check(p.returncode != 97, "the shim planted its symlink")
    eq(os.path.getsize(loot), 0, "bytes of the backup written into the attacker's file")
    check(os.path.islink(target + ".tmp"), "the attacker's symlink is left where it was put")
    eq(p.returncode, 1, f"the backup is refused (stderr {p.stderr[-300:]!r})")
    check(target + ".tmp" in p.stderr, f"the message names FILE.tmp: {p.stderr[-300:]!r}")
    check(not os.path.exists(target), "no FILE")
    # without an attacker the same backup is written, mode 0600
    os.unlink(target + ".tmp")
    p = subprocess.run([BIN, "backup", "--data", d.data, target], capture_output=True, text=True,
                       timeout=60)
    eq(p.returncode, 0, f"the backup without an attacker ({p.stderr[-300:]!r})")
    eq(stat.S_IMODE(os.lstat(target).st_mode), 0o600, "the backup's mode")


def test_backup_force_replaces_only_a_regular_file():
    """`--force` renamed the copy over whatever FILE was: a FIFO, a device node (run as root,
    `apikeyd backup --force … /dev/null` replaced /dev/null with the database). It replaces a
    file (or a symlink, itself) and refuses anything else."""
    d = shared()
    folder = tempfile.mkdtemp(prefix="apikeyd-test-r2-force-")
    _TMPDIRS.append(folder)
    fifo = os.path.join(folder, "a-fifo")
    os.mkfifo(fifo)
    p = subprocess.run([BIN, "backup", "--data", d.data, "--force", fifo], capture_output=True,
                       text=True, timeout=60)
    eq(p.returncode, 1, f"--force onto a FIFO ({p.stderr[-300:]!r})")
    check(stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO is still there")
    check("not a regular file" in p.stderr, f"the message says why: {p.stderr[-300:]!r}")
    eq(os.path.exists(fifo + ".tmp"), False, "no FILE.tmp left")
    plain = os.path.join(folder, "old.db")
    open(plain, "w").close()
    p = subprocess.run([BIN, "backup", "--data", d.data, "--force", plain], capture_output=True,
                       text=True, timeout=60)
    eq(p.returncode, 0, f"--force onto a file ({p.stderr[-300:]!r})")
    check(os.path.getsize(plain) > 0, "the file was replaced by the copy")


# ---- the grant rule through other doors ----------------------------------------------------

def _role(d, *authorities):
    name = uniq("r2role")
    expect(d.admin.request("POST", "/v1/roles", json={"name": name,
                                                      "authorities": list(authorities)}), 201)
    return name


def _person(d, *roles):
    name, pw = uniq_user("r2"), "pw-" + uniq("p") + "-long"
    expect(d.admin.request("POST", "/v1/users", json={"username": name, "password": pw,
                                                      "roles": list(roles) or ["user"]}), 201)
    c = Client(d)
    c.login(name, pw)
    return c


def test_attack_manage_users_holder_cannot_reset_their_own_password_without_the_current_one():
    """PATCH /v1/users/{self} {"password"} was 200: a stolen session of any manage_users holder
    (an admin's too) set a new password without the current one and without the throttle of
    POST /v1/me/password, and so took the account over. One's own MFA reset was already
    refused (own-grants); now one's own password reset is too."""
    d = shared()
    for roles in ([_role(d, "manage_users")], ["admin"]):
        c = _person(d, *roles)
        r = c.request("PATCH", f"/v1/users/{c.username}", json={"password": "pw-taken-" + uniq("t")})
        expect(r, 403, "own-grants", what=f"own password reset by a holder of {roles}")
        check("/v1/me/password" in r.body.get("detail", ""), f"the detail points to the way: {r.body!r}")
        Client(d).login(c.username, c.password)       # the password is unchanged
        expect(c.request("GET", "/v1/me"), 200, what="the session lives on")
        # the way that needs the current password still works
        expect(c.request("POST", "/v1/me/password",
                         json={"current_password": c.password, "new_password": "pw-" + uniq("n") + "-ok"}),
               204, what="POST /v1/me/password")


def test_attack_group_editor_cannot_strip_a_stronger_member_through_the_group():
    """A holder of manage_groups and manage_users could not change a stronger user's roles
    (PATCH is not-held), but could take the same authorities away by editing a group: remove
    them from it, drop a role of it, or delete it. Taking away follows the rule for users: each
    member who loses something must hold no more than the caller."""
    d = shared()
    mine = _role(d, "manage_users", "manage_groups")
    editor = _person(d, mine)
    given = _role(d, "manage_users")                  # what the group gives: the editor holds it
    strong = _person(d, _role(d, "manage_users", "view_audit", "manage_roles"))
    weak = _person(d)
    group = uniq("r2grp")
    expect(d.admin.request("POST", "/v1/groups", json={"name": group, "roles": [given],
                                                       "members": [strong.username,
                                                                   weak.username]}), 201)
    expect(editor.request("PATCH", f"/v1/users/{strong.username}", json={"roles": ["user"]}),
           403, "not-held", what="the direct way is refused")
    expect(editor.request("PUT", f"/v1/groups/{group}", json={"members": [weak.username]}),
           403, "not-held", what="remove the stronger member")
    expect(editor.request("PUT", f"/v1/groups/{group}", json={"roles": []}), 403, "not-held",
           what="drop the group's role from under the stronger member")
    expect(editor.request("DELETE", f"/v1/groups/{group}"), 403, "not-held",
           what="delete the group of the stronger member")
    g = expect(d.admin.request("GET", f"/v1/groups/{group}"), 200).body
    eq(sorted(g["members"]), sorted([strong.username, weak.username]), "members unchanged")
    eq(g["roles"], [given], "roles unchanged")
    # the editor still manages what is theirs to manage
    expect(editor.request("PUT", f"/v1/groups/{group}", json={"members": [strong.username]}),
           200, what="remove the weaker member")
    other = _person(d)
    expect(editor.request("PUT", f"/v1/groups/{group}",
                          json={"members": [strong.username, other.username]}),
           200, what="add someone (gaining only what the editor holds)")
    expect(editor.request("PUT", f"/v1/groups/{group}", json={"description": "kept"}), 200)


def _check_role_narrowing(d):
    role = _role(d, "view_audit")
    editor = _person(d, _role(d, "manage_roles", "view_audit"))
    direct = _person(d, role, _role(d, "manage_groups"))        # holds more than the editor
    viagroup = _person(d, _role(d, "manage_groups"))
    group = uniq("r2via")
    expect(d.admin.request("POST", "/v1/groups", json={"name": group, "roles": [role],
                                                       "members": [viagroup.username]}), 201)
    weak = _person(d, role)
    expect(editor.request("PUT", f"/v1/roles/{role}", json={"authorities": []}), 403,
           "not-held", what="narrow a role held by someone stronger (directly and via a group)")
    for h in (direct, viagroup, weak):
        check("view_audit" in expect(d.admin.request("GET", f"/v1/users/{h.username}"),
                                     200).body["authorities"], f"{h.username} keeps view_audit")
    # widening or keeping stays the editor's to do
    expect(editor.request("PUT", f"/v1/roles/{role}", json={"authorities": ["view_audit"],
                                                             "description": "same"}), 200)
    expect(d.admin.request("PATCH", f"/v1/users/{direct.username}", json={"roles": ["user"]}), 200)
    expect(editor.request("PUT", f"/v1/roles/{role}", json={"authorities": []}), 403,
           "not-held", what="narrow a role a stronger user holds through a group")
    expect(d.admin.request("DELETE", f"/v1/groups/{group}"), 204)
    expect(editor.request("PUT", f"/v1/roles/{role}", json={"authorities": []}), 200,
           what="narrow a role held only by people holding no more")


def test_attack_role_editor_cannot_strip_a_stronger_holder_through_the_role_on_sqlite():
    """A holder of manage_roles and view_audit narrowed a role [view_audit] held by someone
    who also holds manage_groups (more than the editor), directly or through a group: they lost
    view_audit (the rule was "the editor holds the role before and after" only). Now taking an
    authority away needs every holder to hold no more than the editor."""
    _check_role_narrowing(shared())


def test_attack_role_editor_cannot_strip_a_stronger_holder_through_the_role_on_postgresql():
    d = _nodes(1, _fresh_database())[0]
    try:
        _check_role_narrowing(d)
    finally:
        d.stop()


# ---- the member picker ---------------------------------------------------------------------

def test_candidates_are_the_first_ten_by_name_not_the_first_ten_found():
    """The lookup stopped at the tenth match in the store's order (by username) and sorted
    those: with 15 matches whose full names run the other way, the five first by name were
    never offered, whatever was typed after the common part."""
    d = shared()
    stem = "fx" + uniq("")[-6:]
    names = {}
    for i in range(15):
        username = f"{stem}{i:02d}"
        full = f"Fx {chr(ord('Z') - i)} {stem}"          # username order is reverse name order
        expect(d.admin.request("POST", "/v1/users",
                               json={"username": username, "password": "pw-" + uniq("x") + "-long",
                                     "full_name": full}), 201)
        names[f"user:{username}"] = full
    pid = expect(d.admin.request("POST", "/v1/projects", json={"name": uniq("r2pick")}),
                 201).body["id"]
    r = expect(d.admin.request("GET", f"/v1/projects/{pid}/candidates?q={stem}"), 200)
    got = [(m["principal"], m["name"]) for m in r.body["candidates"]]
    want = sorted(names.items(), key=lambda kv: (kv[1], kv[0]))[:10]
    eq(got, want, "the ten candidates first by name, in order")
