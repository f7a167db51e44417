"""Attacks on issue 12, item 5: the owner is not locked out by an attacker, and a locked-out
owner has a way back. An administrator turns off the MFA of a person who lost their
authenticator, within the grant rule (never someone holding more), audited."""
from run import Client, dedicated, eq, expect, new_user, uniq, uniq_user
from suite_attacks import _holder
from suite_identity import mfa_on, totp



def _mfa_enabled(d, name):
    return expect(d.admin.request("GET", f"/v1/users/{name}"), 200).body.get("mfa_enabled")


def test_admin_turns_off_a_users_mfa_and_the_user_signs_in_again():
    d = dedicated("lockout-mfa-reset")
    try:
        u = new_user(d)
        mfa_on(u)
        expect(Client(d).request("POST", "/v1/login", json={"username": u.username,
                                                            "password": u.password}),
               401, "otp-required", what="login needs the code")
        expect(d.admin.request("DELETE", f"/v1/users/{u.username}/mfa"), 204)
        eq(_mfa_enabled(d, u.username), False, "MFA is off")
        Client(d).login(u.username, u.password)
        r = expect(d.admin.request("GET", f"/v1/audit?action=mfa.reset&target={u.username}"),
                   200)
        eq(len(r.body.get("events", [])), 1, "audited once")
        eq(r.body["events"][0].get("actor"), "admin", "by whom")
        expect(d.admin.request("DELETE", f"/v1/users/{u.username}/mfa"), 409, "conflict",
               what="MFA already off")
        expect(d.admin.request("DELETE", f"/v1/users/{uniq_user('ghost')}/mfa"), 404)
        d.stop()
    finally:
        d.kill()


def test_attack_mfa_reset_needs_manage_users_and_never_reaches_someone_stronger():
    d = dedicated("lockout-mfa-reset-attack")
    try:
        strong = new_user(d)
        expect(d.admin.request("PATCH", f"/v1/users/{strong.username}",
                               json={"roles": ["admin"]}), 200)
        mfa_on(strong)
        victim = new_user(d)
        mfa_on(victim)
        plain = new_user(d)
        expect(plain.request("DELETE", f"/v1/users/{victim.username}/mfa"), 403, "forbidden",
               what="a plain user")
        insider, _ = _holder(d, ["manage_users"])
        expect(insider.request("DELETE", f"/v1/users/{strong.username}/mfa"), 403, "not-held",
               what="manage_users alone against an admin")
        eq(_mfa_enabled(d, strong.username), True, "the admin's MFA stays on")
        expect(insider.request("DELETE", f"/v1/users/{victim.username}/mfa"), 204,
               what="manage_users against a plain user")
        secret, _ = mfa_on(insider)
        expect(insider.request("DELETE", f"/v1/users/{insider.username}/mfa"), 403, "own-grants",
               what="one's own MFA without a code")
        eq(_mfa_enabled(d, insider.username), True, "one's own MFA stays on")
        eq(len(totp(secret)), 6, "the insider's authenticator still works")
        d.stop()
    finally:
        d.kill()


# ---- the device cookie (OWASP) ---------------------------------------------------------------

LOCK_ENV = {"APIKEYD_LOGIN_MAX_FAILURES": "5", "APIKEYD_LOGIN_BACKOFF_SECONDS": "60"}


def _login(d, user, pw, ip, device=None):
    h = {"X-Real-IP": ip}
    if device:
        h["Cookie"] = f"apikeyd_device={device}"
    return Client(d).request("POST", "/v1/login", json={"username": user, "password": pw},
                             headers=h)


def _device_of(r):
    for sc in r.headers.get_all("Set-Cookie") or []:
        name, _, rest = sc.partition("=")
        if name == "apikeyd_device":
            attrs = [a.strip().lower() for a in rest.split(";")[1:]]
            eq("httponly" in attrs and "path=/v1/login" in attrs, True, f"attributes of {sc!r}")
            return rest.split(";")[0]
    raise AssertionError(f"no apikeyd_device cookie in {r.headers.get_all('Set-Cookie')!r}")


def _exhaust(d, user, n=5):
    for i in range(n):
        expect(_login(d, user, f"guess-{i}", f"203.0.113.{i + 1}"), 401, what=f"guess {i + 1}")


def test_attack_exhausting_the_account_does_not_block_the_owners_known_browser():
    d = dedicated("lockout-device", env=LOCK_ENV)
    try:
        owner = new_user(d)
        device = _device_of(expect(_login(d, owner.username, owner.password, "198.51.100.7"),
                                   200, what="the owner signs in once"))
        _exhaust(d, owner.username)   # an attacker from five addresses
        expect(_login(d, owner.username, owner.password, "198.51.100.8"), 429,
               "too-many-requests", what="the account from an unknown browser")
        r = expect(_login(d, owner.username, owner.password, "198.51.100.7", device), 200,
                   what="the owner's known browser")
        _device_of(r)   # and it gets a fresh device cookie
        d.stop()
    finally:
        d.kill()


def test_attack_forged_foreign_or_garbage_device_cookies_count_as_unknown():
    d = dedicated("lockout-device-forged", env=LOCK_ENV)
    try:
        owner, other = new_user(d), new_user(d)
        theirs = _device_of(expect(_login(d, other.username, other.password, "198.51.100.9"),
                                   200))
        _exhaust(d, owner.username)
        mine = _device_of(expect(_login(d, other.username, other.password, "198.51.100.9"),
                                 200))
        flipped = mine[:-2] + ("AA" if mine[-2:] != "AA" else "BB")
        for bad in (theirs, flipped, "garbage", "A" * 300, ""):
            expect(_login(d, owner.username, owner.password, "198.51.100.10", bad), 429,
                   "too-many-requests", what=f"the blocked account with device cookie {bad[:12]!r}")
        d.stop()
    finally:
        d.kill()


def test_attack_a_stolen_device_cookie_gets_its_own_limit_only():
    d = dedicated("lockout-device-stolen", env=LOCK_ENV)
    try:
        owner = new_user(d)
        device = _device_of(expect(_login(d, owner.username, owner.password, "198.51.100.11"),
                                   200))
        for i in range(5):   # the thief guesses with the stolen cookie
            expect(_login(d, owner.username, f"guess-{i}", "203.0.113.77", device), 401)
        expect(_login(d, owner.username, owner.password, "203.0.113.77", device), 429,
               "too-many-requests", what="the device is blocked after its own failures")
        expect(_login(d, owner.username, owner.password, "198.51.100.12"), 200,
               what="the account itself was not counted against")
        d.stop()
    finally:
        d.kill()
