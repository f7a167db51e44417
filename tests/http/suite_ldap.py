"""Directory sign-in over LDAP / Active Directory (issue 15), against a real OpenLDAP slapd
started on loopback by the test (ldap_directory.py): the usual login form takes directory
users (right and wrong password, unknown user, injection in the username, the empty password
an unauthenticated bind would accept), group -> role mapping, no takeover of a local account,
SSO rules (no MFA, no password change, keys work), throttling, the sync that disables a user
removed or disabled in the directory (their keys refused at once), and the directory down or
hung (503 for directory users, local users still sign in).
"""
import os
import socket
import time

from run import (ADMIN_PASS, ADMIN_USER, Client, _LIVE, check, check_settings_refused_at_start,
                 create_key, dedicated, eq, expect, verify, wait_until)
from ldap_directory import (AD, GROUPS, PEOPLE, SEARCH_DN, Directory, ad_dn_of, dn_of,
                            password_of)

GROUP_ROLES = (f"cn=admins,{GROUPS} => admin; "
               f"cn=devs,{GROUPS} => developer, user")
PEOPLE_NAMES = ["alice", "bob", "carol", "dave", "frank", "grace", "heidi", "ivan", "judy",
                "mallory", "sam", "trent", "peggy", "victor", "oscar"]
_DIR = {}


def directory():
    """The suite's slapd, started once."""
    if "main" not in _DIR:
        d = Directory(PEOPLE_NAMES, ad_people=["erin", "zoe"],
                      groups={"admins": [dn_of("alice")],
                              "devs": [dn_of("alice"), dn_of("bob"), dn_of("trent")]})
        d.start()
        _DIR["main"] = d
    return _DIR["main"]


def ldap_env(dirx, **extra):
    env = {"APIKEYD_LDAP_URL": dirx.url(),
           "APIKEYD_LDAP_BIND_DN": SEARCH_DN,
           "APIKEYD_LDAP_BIND_PASSWORD_FILE": dirx.search_pw_file,
           "APIKEYD_LDAP_USER_BASE": PEOPLE,
           "APIKEYD_LDAP_CA_FILE": dirx.cert,
           "APIKEYD_LDAP_GROUP_ROLES": GROUP_ROLES,
           "APIKEYD_LDAP_TIMEOUT_SECONDS": "2"}
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def with_developer_role(d):
    r = d.admin.request("POST", "/v1/roles", json={"name": "developer",
                                                    "authorities": ["view_audit"]})
    expect(r, 201, what="create the role developer")
    return d


def main_daemon():
    """A daemon signing in against the suite's directory (failures spread over many tests:
    the per-client limit is raised; the throttling test has its own daemon)."""
    d = _DIR.get("daemon")
    if d is None or d.proc is None:
        d = dedicated("ldap", env=ldap_env(directory(), APIKEYD_LOGIN_MAX_FAILURES="100"))
        with_developer_role(d)
        _DIR["daemon"] = d
    return d


def login(d, username, password):
    return Client(d).request("POST", "/v1/login",
                             json={"username": username, "password": password})


def signed_in(d, username, password=None):
    c = Client(d)
    c.login(username, password if password is not None else password_of(username))
    return c


def user(d, name):
    return d.admin.request("GET", f"/v1/users/{name}")


def audit(d, **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    return expect(d.admin.request("GET", f"/v1/audit?{q}&limit=200"), 200).body["events"]


def same_refusal(a, b, what):
    expect(a, 401, "login-failed", what=what)
    body = lambda r: {k: v for k, v in r.body.items() if k != "instance"}  # the request's own id
    eq((b.status, body(b)), (a.status, body(a)), f"{what}: the same answer as a wrong password")


# --------------------------------------------------------------------------- sign-in

def test_ldap_right_password_signs_in_and_creates_the_user_just_in_time():
    d = main_daemon()
    expect(user(d, "frank"), 404, what="frank before the first sign-in")
    c = signed_in(d, "frank")
    me = expect(c.request("GET", "/v1/me"), 200).body
    eq((me["username"], me["auth_source"], me["full_name"], me["email"], me["mfa_enabled"]),
       ("frank", "ldap", "Frank Example", "frank@example.org", False), "frank's profile")
    eq(me["roles"], ["user"], "roles of a person in no mapped group")
    u = expect(user(d, "frank"), 200).body
    eq((u["auth_source"], u["disabled"]), ("ldap", False), "frank as the admin sees him")
    created = [e for e in audit(d, target="frank", action="user.create")]
    eq([(e["actor"], e["detail"]) for e in created], [("frank", "ldap sign-in")],
       "the just-in-time creation, audited")
    ok = audit(d, target="frank", action="login.success")
    eq([e["detail"] for e in ok], ["ldap"], "the sign-in audited with its method")
    # a second sign-in updates, never duplicates
    signed_in(d, "frank")
    eq(len(audit(d, target="frank", action="user.create")), 1, "created once")


def test_ldap_wrong_password_and_unknown_user_get_the_same_401():
    d = main_daemon()
    wrong = login(d, "bob", "not-" + password_of("bob"))
    unknown = login(d, "nobody-here", password_of("bob"))
    same_refusal(wrong, unknown, "unknown user")
    expect(user(d, "nobody-here"), 404, what="an unknown name is not created")
    expect(login(d, "bob", password_of("bob")), 200, what="bob with his password")
    fails = audit(d, target="bob", action="login.failure")
    eq([e["detail"] for e in fails], ["ldap"], "the failure audited with its method")


def test_ldap_injection_in_the_username_is_refused():
    d = main_daemon()
    pw = password_of("judy")
    right = expect(login(d, "judy", pw), 200, what="judy with her password")
    check("csrf_token" in right.body, "a session for judy")
    wrong = login(d, "judy", "not-" + pw)
    for name in ("*", "*)(uid=*", "*)(uid=*))(|(uid=*", "jud*", "judy)(uid=*", "j*y",
                 "judy\\2a", "(uid=judy)", "uid=judy," + PEOPLE):
        same_refusal(wrong, login(d, name, pw), f"username {name!r}")
    expect(user(d, "*"), 404, what="nothing created for '*'")


def test_ldap_empty_password_never_signs_in_though_the_directory_accepts_it():
    dirx = directory()
    # the hole: the directory answers a DN with an empty password with success
    check(dirx.accepts_bind(dn_of("mallory"), ""),
          "precondition: the test directory accepts an unauthenticated bind")
    d = main_daemon()
    wrong = login(d, "mallory", "not-" + password_of("mallory"))
    same_refusal(wrong, login(d, "mallory", ""), "an empty password")
    expect(user(d, "mallory"), 404, what="nobody created by an empty password")
    expect(login(d, "mallory", password_of("mallory")), 200, what="mallory's real password")


def test_ldap_group_membership_maps_to_roles_and_follows_the_directory():
    d = main_daemon()
    alice = signed_in(d, "alice")
    eq(sorted(expect(alice.request("GET", "/v1/me"), 200).body["roles"]),
       ["admin", "developer", "user"], "alice (admins, devs)")
    expect(alice.request("GET", "/v1/users"), 200, what="alice manages users (admin)")
    trent = signed_in(d, "trent")
    eq(sorted(expect(trent.request("GET", "/v1/me"), 200).body["roles"]),
       ["developer", "user"], "trent (devs)")
    expect(trent.request("GET", "/v1/users"), 403, "forbidden", what="trent is no admin")
    expect(trent.request("GET", "/v1/audit"), 200, what="developer gives view_audit")
    # the directory moves trent from devs to admins: the next sign-in brings the roles
    dirx = directory()
    dirx.modify(f"dn: cn=devs,{GROUPS}\nchangetype: modify\ndelete: member\n"
                f"member: {dn_of('trent')}\n")
    dirx.modify(f"dn: cn=admins,{GROUPS}\nchangetype: modify\nadd: member\n"
                f"member: {dn_of('trent')}\n")
    trent = signed_in(d, "trent")
    eq(expect(trent.request("GET", "/v1/me"), 200).body["roles"], ["admin"],
       "trent's roles after the directory's change")
    expect(trent.request("GET", "/v1/users"), 200, what="trent is admin now")
    changes = audit(d, target="trent", action="user.update")
    check(any("roles" in e["detail"] for e in changes),
          f"the role change audited: {[e['detail'] for e in changes]}")


def test_ldap_roles_from_the_directory_keep_the_last_enabled_admin():
    own = Directory(["olga"], groups={"admins": [dn_of("olga")]}).start()
    d = dedicated("ldap-last-admin", env=ldap_env(own, APIKEYD_LDAP_GROUP_ROLES=(
        f"cn=admins,{GROUPS} => admin")))
    try:
        olga = signed_in(d, "olga")
        eq(expect(olga.request("GET", "/v1/me"), 200).body["roles"], ["admin"], "olga is admin")
        expect(olga.request("PATCH", f"/v1/users/{ADMIN_USER}", json={"disabled": True}), 200,
               what="olga disables the local admin: she is the last enabled admin")
        own.modify(f"dn: cn=admins,{GROUPS}\nchangetype: modify\nadd: member\n"
                   f"member: cn=nobody,{PEOPLE}\n")
        own.modify(f"dn: cn=admins,{GROUPS}\nchangetype: modify\ndelete: member\n"
                   f"member: {dn_of('olga')}\n")
        olga = signed_in(d, "olga")
        eq(expect(olga.request("GET", "/v1/me"), 200).body["roles"], ["admin"],
           "the last enabled admin keeps admin though the directory took it")
        expect(olga.request("PATCH", f"/v1/users/{ADMIN_USER}", json={"disabled": False}), 200,
               what="olga brings the local admin back")
        olga = signed_in(d, "olga")
        eq(expect(olga.request("GET", "/v1/me"), 200).body["roles"], ["user"],
           "with another admin, the directory's word holds")
        d.stop()
    finally:
        d.kill()
        own.close()


def test_ldap_directory_user_never_takes_over_a_local_account():
    d = main_daemon()
    local_pw = "carol-local-password-1"
    expect(d.admin.request("POST", "/v1/users", json={"username": "carol",
                                                       "password": local_pw}), 201)
    wrong = login(d, "carol", "not-" + local_pw)
    same_refusal(wrong, login(d, "carol", password_of("carol")),
                 "the directory's carol against the local carol")
    same_refusal(wrong, login(d, "Carol", password_of("carol")),
                 "the directory's carol in another case")
    eq(expect(user(d, "carol"), 200).body["auth_source"], "local", "carol stays local")
    expect(login(d, "oscar", password_of("oscar")), 200,
           what="a directory user whose name is free (the directory is answering)")
    expect(login(d, "carol", local_pw), 200, what="the local carol signs in as before")
    # nor an SSO account of another source
    expect(d.admin.request("POST", "/v1/users", json={"username": "sam",
                                                       "auth_source": "saml"}), 201)
    same_refusal(wrong, login(d, "sam", password_of("sam")), "the directory's sam vs a SAML sam")
    eq(expect(user(d, "sam"), 200).body["auth_source"], "saml", "sam stays a SAML user")


def test_ldap_user_disabled_here_cannot_sign_in_with_the_right_password():
    d = main_daemon()
    signed_in(d, "heidi")
    expect(d.admin.request("PATCH", "/v1/users/heidi", json={"disabled": True}), 200)
    same_refusal(login(d, "heidi", "not-" + password_of("heidi")),
                 login(d, "heidi", password_of("heidi")), "disabled heidi")


def test_ldap_users_have_no_mfa_no_password_change_and_their_keys_work():
    d = main_daemon()
    c = signed_in(d, "peggy")
    r = expect(c.request("POST", "/v1/me/mfa", json={"current_password": password_of("peggy")}),
               403, "forbidden")
    eq(r.body["detail"], "MFA is not available for SSO users", "the seed's wording")
    expect(c.request("POST", "/v1/me/password",
                     json={"current_password": password_of("peggy"),
                           "new_password": "a-new-password-123"}), 403, "forbidden")
    k = create_key(c, scopes=["Tasks"])
    eq(verify(d, k["key"], scope="Tasks").get("code"), "VALID", "peggy's key")


def test_ldap_over_ldaps_and_active_directory_style_accounts():
    dirx = directory()
    d = dedicated("ldap-ad", env=ldap_env(dirx, APIKEYD_LDAP_URL=dirx.url(ldaps=True),
                                          APIKEYD_LDAP_USER_BASE=AD,
                                          APIKEYD_LDAP_USER_FILTER="(sAMAccountName=%s)",
                                          APIKEYD_LDAP_NAME_ATTRIBUTE="displayName",
                                          APIKEYD_LDAP_GROUP_ROLES=None))
    try:
        c = signed_in(d, "erin")
        me = expect(c.request("GET", "/v1/me"), 200).body
        eq((me["auth_source"], me["full_name"], me["email"]),
           ("ldap", "ERIN", "erin@ad.example.org"), "erin from the AD-style directory")
        # userAccountControl with ACCOUNTDISABLE (514): refused though the password is right
        dirx.modify(f"dn: {ad_dn_of('zoe')}\nchangetype: modify\nreplace: userAccountControl\n"
                    f"userAccountControl: 514\n")
        same_refusal(login(d, "zoe", "not-" + password_of("zoe")),
                     login(d, "zoe", password_of("zoe")), "a disabled AD account")
        d.stop()
    finally:
        d.kill()


def test_ldap_server_certificate_is_checked_no_cleartext_fallback():
    dirx = directory()
    # without the CA of the test directory, its certificate is not trusted: no sign-in
    d = dedicated("ldap-untrusted", env=ldap_env(dirx, APIKEYD_LDAP_CA_FILE=None))
    try:
        r = login(d, "victor", password_of("victor"))
        expect(r, 503, "directory-unavailable", what="an untrusted directory certificate")
        expect(login(d, ADMIN_USER, ADMIN_PASS), 200, what="the local admin")
        d.stop()
    finally:
        d.kill()
    # a directory that offers no StartTLS: the password is never sent in clear
    plain = Directory(["victor"], tls=False).start()
    d = dedicated("ldap-plain", env=ldap_env(plain, APIKEYD_LDAP_CA_FILE=dirx.cert))
    try:
        expect(login(d, "victor", password_of("victor")), 503, "directory-unavailable",
               what="a directory without StartTLS")
        d.stop()
    finally:
        d.kill()
        plain.close()


# --------------------------------------------------------------------------- throttling

def test_ldap_logins_are_throttled_like_local_ones():
    d = dedicated("ldap-throttle", env=ldap_env(directory()))
    try:
        expect(login(d, "grace", password_of("grace")), 200, what="grace signs in")
        for i in range(5):
            expect(login(d, "grace", f"wrong-{i}"), 401, "login-failed", what=f"failure {i + 1}")
        r = login(d, "grace", password_of("grace"))
        expect(r, 429, "too-many-requests", what="the right password while blocked")
        check(r.headers.get("Retry-After"), "Retry-After on the 429")
        d.stop()
    finally:
        d.kill()


# --------------------------------------------------------------------------- sync

def test_ldap_sync_disables_a_user_removed_from_the_directory_and_refuses_their_keys():
    dirx = directory()
    d = dedicated("ldap-sync", env=ldap_env(dirx, APIKEYD_LDAP_SYNC_SECONDS="1"))
    try:
        dave = signed_in(d, "dave")
        k = create_key(dave, scopes=["Tasks"])
        ivan = signed_in(d, "ivan")
        k2 = create_key(ivan, scopes=["Tasks"])
        time.sleep(1.5)                                  # a round with both present
        eq(verify(d, k["key"]).get("code"), "VALID", "dave's key while he is in the directory")
        dirx.delete(dn_of("dave"))
        gone = wait_until(lambda: verify(d, k["key"]).get("code") == "DISABLED", 8)
        check(gone, "dave's key should answer DISABLED within a few sync rounds")
        eq(expect(user(d, "dave"), 200).body["disabled"], True, "dave disabled here")
        expect(dave.request("GET", "/v1/me"), 401, what="dave's session ended")
        ev = [e for e in audit(d, target="dave", action="user.disable")]
        check(ev and ev[0]["actor"] == "(ldap-sync)",
              f"the disabling audited as the sync: {[(e['actor'], e['detail']) for e in ev]}")
        eq(verify(d, k2["key"]).get("code"), "VALID", "ivan, still in the directory, untouched")
        same_refusal(login(d, "dave", "x"), login(d, "dave", password_of("dave")),
                     "dave after removal")
        d.stop()
    finally:
        d.kill()


def test_ldap_sync_disables_a_user_disabled_in_active_directory():
    dirx = directory()
    d = dedicated("ldap-sync-ad", env=ldap_env(dirx, APIKEYD_LDAP_USER_BASE=AD,
                                               APIKEYD_LDAP_USER_FILTER="(sAMAccountName=%s)",
                                               APIKEYD_LDAP_GROUP_ROLES=None,
                                               APIKEYD_LDAP_SYNC_SECONDS="1"))
    try:
        erin = signed_in(d, "erin")
        k = create_key(erin, scopes=["Tasks"])
        dirx.modify(f"dn: {ad_dn_of('erin')}\nchangetype: modify\nreplace: userAccountControl\n"
                    f"userAccountControl: 514\n")
        check(wait_until(lambda: verify(d, k["key"]).get("code") == "DISABLED", 8),
              "erin's key should answer DISABLED once AD says ACCOUNTDISABLE")
        eq(expect(user(d, "erin"), 200).body["disabled"], True, "erin disabled here")
        d.stop()
    finally:
        d.kill()
        dirx.modify(f"dn: {ad_dn_of('erin')}\nchangetype: modify\nreplace: userAccountControl\n"
                    f"userAccountControl: 512\n")


# --------------------------------------------------------------------------- directory down

def test_ldap_directory_down_is_503_for_directory_users_local_users_still_sign_in():
    own = Directory(["ivan"]).start()
    d = dedicated("ldap-down", env=ldap_env(own, APIKEYD_LDAP_SYNC_SECONDS="1",
                                            APIKEYD_LDAP_GROUP_ROLES=None))
    try:
        ivan = signed_in(d, "ivan")
        k = create_key(ivan, scopes=["Tasks"])
        own.stop()
        r = login(d, "ivan", password_of("ivan"))
        expect(r, 503, "directory-unavailable", what="a directory user, directory down")
        check(r.headers.get("Retry-After"), "Retry-After on the 503")
        expect(login(d, "someone-else", "whatever-pw"), 503, "directory-unavailable",
               what="an unknown name, directory down")
        expect(login(d, ADMIN_USER, ADMIN_PASS), 200, what="the local admin, directory down")
        time.sleep(2.5)                                  # sync rounds with the directory down
        eq(verify(d, k["key"]).get("code"), "VALID", "the sync changed nothing while down")
        eq(expect(user(d, "ivan"), 200).body["disabled"], False, "ivan still enabled")
        own.start()
        expect(login(d, "ivan", password_of("ivan")), 200, what="ivan once the directory is back")
        d.stop()
    finally:
        d.kill()
        own.close()


def test_ldap_hung_directory_is_503_within_the_timeout():
    hung = socket.socket()                               # accepts TCP, never answers
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)
    port = hung.getsockname()[1]
    dirx = directory()
    d = dedicated("ldap-hung", env=ldap_env(dirx, APIKEYD_LDAP_URL=f"ldap://127.0.0.1:{port}",
                                            APIKEYD_LDAP_TIMEOUT_SECONDS="1"))
    try:
        t0 = time.monotonic()
        r = login(d, "alice", password_of("alice"))
        took = time.monotonic() - t0
        expect(r, 503, "directory-unavailable", what="a directory that never answers")
        check(took < 5, f"the answer took {took:.1f} s; ldap_timeout_seconds is 1")
        expect(login(d, ADMIN_USER, ADMIN_PASS), 200, what="the local admin meanwhile")
        d.stop()
    finally:
        d.kill()
        hung.close()


# --------------------------------------------------------------------------- settings

def test_ldap_bad_settings_are_refused_at_start():
    check_settings_refused_at_start([
        ("APIKEYD_LDAP_URL", "http://ldap.example.org"),
        ("APIKEYD_LDAP_USER_FILTER", "(uid=alice)"),
        ("APIKEYD_LDAP_USER_FILTER", "uid=%s"),
        ("APIKEYD_LDAP_USER_FILTER", "(uid=%s))(x=%d"),
        ("APIKEYD_LDAP_GROUP_ROLES", "cn=admins,dc=example,dc=org admin"),
        ("APIKEYD_LDAP_GROUP_ROLES", "cn=admins,dc=example,dc=org => not a role!"),
        ("APIKEYD_LDAP_NAME_ATTRIBUTE", "cn)(x"),
        ("APIKEYD_LDAP_SYNC_SECONDS", "-1"),
        ("APIKEYD_LDAP_TIMEOUT_SECONDS", "0"),
    ])
    # a URL without a user base, and a bind DN without its password file
    check_settings_refused_at_start([("APIKEYD_LDAP_URL", "ldap://127.0.0.1:1")])


def test_ldap_passwords_are_never_stored_or_logged():
    d = main_daemon()
    signed_in(d, "victor")
    login(d, "victor", "not-" + password_of("victor"))
    d.stop()
    _DIR.pop("daemon", None)
    logs = d.all_logs()
    files = d.data_files()
    for secret in [password_of(n) for n in PEOPLE_NAMES + ["erin", "zoe"]] + [
            "search-account-pw"]:
        check(secret.encode() not in logs, f"{secret} appears in the daemon's log")
        for name, blob in files.items():
            check(secret.encode() not in blob, f"{secret} appears in {name}")
