"""Attacks on issue 12, items 5 and 13: MFA enrolment needs the current password, so a stolen
session cannot bind the attacker's authenticator; recovery codes give a locked-out owner a
way back without giving an attacker one: ten single-use codes shown once at enrolment,
stored hashed, each accepted once in place of a TOTP code (at login and to turn MFA off),
counted by the same throttle as every secret check, replaced as a whole on demand."""
import re

from run import Client, dedicated, eq, expect, expect_error_field, new_user
from suite_identity import audit, login, mfa_on_with_codes, totp
from suite_attack_throttle import LOGIN_ENV

CODE_FORMAT = re.compile(r"^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$")


def _me(c):
    return expect(c.request("GET", "/v1/me"), 200).body


def test_attack_a_stolen_session_cannot_start_mfa_enrolment_without_the_password():
    d = dedicated("mfa-enrol-password", env=LOGIN_ENV)
    try:
        owner = new_user(d)
        thief = Client(d)                   # the owner's session, taken from their browser
        thief.cookie, thief.cookie_name, thief.csrf = owner.cookie, owner.cookie_name, owner.csrf
        expect(thief.request("POST", "/v1/me/mfa"), 415, "unsupported-media-type",
               what="POST /v1/me/mfa without a body")
        for body in ({}, {"current_password": 12}, {"current_password": None}):
            r = thief.request("POST", "/v1/me/mfa", json=body)
            expect(r, 422, "validation-failed", what=f"POST /v1/me/mfa {body!r}")
            expect_error_field(r, "current_password")
        expect(owner.request("POST", "/v1/me/mfa/confirm",
                             json={"code": "123456", "current_password": owner.password}),
               409, "conflict", what="nothing was left pending by the refused starts")
        eq(_me(owner)["mfa_enabled"], False, "MFA stays off")
        # wrong passwords count as failed secret checks, like a login's: the limit is 5
        for i in range(5):
            r = thief.request("POST", "/v1/me/mfa", json={"current_password": f"guess-{i}"})
            expect(r, 422, "validation-failed", what=f"wrong password {i + 1}")
            expect_error_field(r, "current_password")
        expect(thief.request("POST", "/v1/me/mfa", json={"current_password": owner.password}),
               429, "too-many-requests", what="even the right password after 5 wrong ones")
        d.stop()
    finally:
        d.kill()


def test_attack_a_stolen_session_cannot_confirm_an_enrolment_without_the_password():
    d = dedicated("mfa-confirm-password")
    try:
        owner = new_user(d)
        secret = expect(owner.request("POST", "/v1/me/mfa",
                                      json={"current_password": owner.password}), 200).body["secret"]
        for body in ({"code": totp(secret)}, {"code": totp(secret), "current_password": "wrong"}):
            r = owner.request("POST", "/v1/me/mfa/confirm", json=body)
            expect(r, 422, "validation-failed", what=f"confirm with {sorted(body)}")
            expect_error_field(r, "current_password")
        eq(_me(owner)["mfa_enabled"], False, "MFA stays off")
        expect(owner.request("POST", "/v1/me/mfa/confirm",
                             json={"code": totp(secret), "current_password": owner.password}),
               200, what="confirm with code and password")
        d.stop()
    finally:
        d.kill()


def test_recovery_codes_are_ten_distinct_each_signs_in_once():
    d = dedicated("mfa-recovery-login")
    try:
        u = new_user(d)
        _, _, codes = mfa_on_with_codes(u)
        eq(len(codes), 10, "recovery codes at enrolment")
        eq(len(set(codes)), 10, "distinct recovery codes")
        for code in codes:
            if not CODE_FORMAT.match(code):
                raise AssertionError(f"recovery code {code!r}: expected xxxx-xxxx-xxxx-xxxx")
        eq(_me(u).get("recovery_codes_left"), 10, "recovery_codes_left")
        r, _ = login(d, u.username, u.password, codes[0])
        expect(r, 200, what="login with a recovery code")
        r, _ = login(d, u.username, u.password, codes[0])
        expect(r, 401, "login-failed", what="the same recovery code again")
        r, _ = login(d, u.username, u.password, codes[1].upper().replace("-", " "))
        expect(r, 200, what="a recovery code typed in capitals with spaces")
        eq(_me(u).get("recovery_codes_left"), 8, "recovery_codes_left after two")
        r, _ = login(d, u.username, "not-" + u.password, codes[2])
        expect(r, 401, "login-failed", what="a recovery code with a wrong password")
        events = audit(d, action="login.success", target=u.username)["events"]
        eq(sum(e.get("detail") == "with a recovery code" for e in events), 2,
           "logins with a recovery code, audited as such")
        d.stop()
    finally:
        d.kill()


def test_attack_recovery_code_guessing_is_throttled_like_every_secret_check():
    d = dedicated("mfa-recovery-guess", env=LOGIN_ENV)
    try:
        u = new_user(d)
        _, _, codes = mfa_on_with_codes(u)
        statuses = []
        for i in range(8):
            guess = f"{i:04d}".translate(str.maketrans("0123456789", "abcdefghij"))
            r, _ = login(d, u.username, u.password, f"{guess}-aaaa-aaaa-aaaa")
            statuses.append(r.status)
        eq(statuses[:5], [401] * 5, "the first 5 wrong recovery codes are checked")
        eq(set(statuses[5:]), {429}, "further guesses are refused unchecked")
        r, _ = login(d, u.username, u.password, codes[0])
        expect(r, 429, "too-many-requests", what="even a right code while blocked")
        d.stop()
    finally:
        d.kill()


def test_regenerating_recovery_codes_needs_the_password_and_voids_the_old_ones():
    d = dedicated("mfa-recovery-regenerate")
    try:
        u = new_user(d)
        path = "/v1/me/mfa/recovery-codes"
        expect(u.request("POST", path, json={"current_password": u.password}), 409, "conflict",
               what="MFA off: no recovery codes to replace")
        _, _, old = mfa_on_with_codes(u)
        expect(u.request("POST", path), 415, "unsupported-media-type", what="no body")
        for body in ({}, {"current_password": "wrong"}, {"current_password": ["x"]}):
            r = u.request("POST", path, json=body)
            expect(r, 422, "validation-failed", what=f"POST {path} {body!r}")
            expect_error_field(r, "current_password")
        r = u.request("POST", path, json={"current_password": u.password, "codes": 3})
        expect(r, 422, "validation-failed", what="an unknown field")
        r, _ = login(d, u.username, u.password, old[0])
        expect(r, 200, what="the old codes still work after the refused requests")
        r = expect(u.request("POST", path, json={"current_password": u.password}), 200)
        fresh = r.body.get("recovery_codes")
        eq(len(fresh or []), 10, "new recovery codes")
        d.secrets.extend(fresh)
        eq(set(fresh) & set(old), set(), "new codes are all new")
        r, _ = login(d, u.username, u.password, old[1])
        expect(r, 401, "login-failed", what="an old, unused code after regeneration")
        r, _ = login(d, u.username, u.password, fresh[0])
        expect(r, 200, what="a new code")
        eq(len(audit(d, action="mfa.recovery_codes", target=u.username)["events"]), 1,
           "regeneration audited once")
        d.stop()
    finally:
        d.kill()


def test_a_recovery_code_turns_mfa_off_and_an_admin_reset_voids_the_codes():
    d = dedicated("mfa-recovery-off")
    try:
        u = new_user(d)
        _, _, codes = mfa_on_with_codes(u)
        r = u.request("DELETE", "/v1/me/mfa", json={"code": "aaaa-bbbb-cccc-dddd"})
        expect(r, 422, "validation-failed", what="turning MFA off with a wrong recovery code")
        expect(u.request("DELETE", "/v1/me/mfa", json={"code": codes[0]}), 204,
               what="turning MFA off with a recovery code")
        eq(_me(u)["mfa_enabled"], False, "MFA off")
        eq("recovery_codes_left" in _me(u), False, "no recovery codes shown with MFA off")
        # on again, then reset by an administrator: the codes of before are gone with it
        _, _, again = mfa_on_with_codes(u)
        r, _ = login(d, u.username, u.password, codes[1])
        expect(r, 401, "login-failed", what="a code of the first enrolment")
        expect(d.admin.request("DELETE", f"/v1/users/{u.username}/mfa"), 204)
        _, _, third = mfa_on_with_codes(u)
        r, _ = login(d, u.username, u.password, again[0])
        expect(r, 401, "login-failed", what="a code from before the administrator's reset")
        r, _ = login(d, u.username, u.password, third[0])
        expect(r, 200, what="a code of the current enrolment")
        d.stop()
    finally:
        d.kill()
