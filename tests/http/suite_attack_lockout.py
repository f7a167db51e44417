"""Attacks on issue 12, item 5: the owner is not locked out by an attacker, and a locked-out
owner has a way back. An administrator turns off the MFA of a person who lost their
authenticator, within the grant rule (never someone holding more), audited."""
from run import Client, dedicated, eq, expect, new_user, uniq, uniq_user
from suite_identity import mfa_on, totp


def _holder(d, authorities):
    role = uniq("r")
    expect(d.admin.request("POST", "/v1/roles", json={"name": role, "authorities": authorities}),
           201)
    name, pw = uniq_user("hold"), "pw-holder-" + uniq("p")
    expect(d.admin.request("POST", "/v1/users", json={"username": name, "password": pw,
                                                      "roles": [role]}), 201)
    c = Client(d)
    c.login(name, pw)
    return c


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
        insider = _holder(d, ["manage_users"])
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
