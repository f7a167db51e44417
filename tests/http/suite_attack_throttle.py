"""Attacks on issue 12, items 3 and 4: the failure throttles. An anonymous client sends junk
keys or guesses secrets; it must never make someone else's valid key RATE_LIMITED, never
choose the address it is counted under, never get more guesses than the limit by sending
them at once, and never flush a block by spraying names. Other clients are simulated with
X-Real-IP / X-Forwarded-For from the loopback proxy (trusted by default) or with /v1/verify's
client_ip. Each test starts a daemon of its own with small limits."""
import hashlib
import threading

from run import (Client, check_settings_refused_at_start, create_key, dedicated, eq, expect,
                 expect_error_field, new_user, uniq, uniq_user)
from suite_identity import mfa_on, totp

VERIFY_ENV = {"APIKEYD_VERIFY_MAX_FAILURES": "5", "APIKEYD_LOGIN_BACKOFF_SECONDS": "30"}
LOGIN_ENV = {"APIKEYD_LOGIN_MAX_FAILURES": "5", "APIKEYD_LOGIN_BACKOFF_SECONDS": "30",
             "APIKEYD_VERIFY_MAX_FAILURES": "1000000"}


def _verify(d, key, client_ip=None, headers=None):
    body = {"key": key}
    if client_ip is not None:
        body["client_ip"] = client_ip
    return Client(d).request("POST", "/v1/verify", json=body, headers=headers)


def _auth(d, key, headers):
    h = {"Authorization": f"Bearer {key}", "X-Required-Scope": "*"}
    h.update(headers)
    return Client(d).request("GET", "/v1/auth", headers=h)


def _login(d, user, pw, headers=None):
    return Client(d).request("POST", "/v1/login", json={"username": user, "password": pw},
                             headers=headers)


# ---- item 3: a valid key always verifies VALID --------------------------------------------

def test_attack_junk_keys_from_one_client_never_rate_limit_a_valid_key():
    d = dedicated("atk-junk", env=VERIFY_ENV)
    try:
        good = create_key(d.admin, scopes=("Tasks",))["key"]
        # the backend relays 100 junk keys from one end client, with and without client_ip
        for i in range(50):
            eq(_verify(d, f"apk_junk{i}").body.get("code"), "NOT_FOUND", f"junk {i}")
            _verify(d, f"apk_junk{i}", client_ip="198.51.100.66")
        for who in (None, "198.51.100.66", "198.51.100.67"):
            eq(_verify(d, good, client_ip=who).body.get("code"), "VALID",
               f"the valid key through /v1/verify, client_ip {who}")
        # and through nginx-style auth_request: the junk client, another, the proxy itself
        for i in range(50):
            _auth(d, f"apk_junk{i}", {"X-Real-IP": "198.51.100.66"})
        for h in ({"X-Real-IP": "198.51.100.66"}, {"X-Real-IP": "198.51.100.67"}, {}):
            expect(_auth(d, good, h), 204, what=f"/v1/auth with the valid key, {h}")
        d.stop()
    finally:
        d.kill()


def test_attack_verify_counts_only_the_client_ip_the_backend_names():
    d = dedicated("atk-client-ip", env=VERIFY_ENV)
    try:
        for i in range(5):
            eq(_verify(d, f"apk_g{i}", client_ip="203.0.113.9").body.get("code"), "NOT_FOUND",
               f"guess {i + 1}")
        r = _verify(d, "apk_g6", client_ip="203.0.113.9")
        eq(r.body.get("code"), "RATE_LIMITED", "the guessing client, once over the limit")
        eq(_verify(d, "apk_g7", client_ip="203.0.113.10").body.get("code"), "NOT_FOUND",
           "another end client of the same backend")
        for i in range(20):
            eq(_verify(d, f"apk_n{i}").body.get("code"), "NOT_FOUND",
               "without client_ip nobody is throttled")
        for bad in ("not-an-ip", "203.0.113.9:80", "", "203.0.113.999", "1" * 300, "[::1]"):
            r = _verify(d, "apk_x", client_ip=bad)
            expect(r, 422, "validation-failed", what=f"client_ip {bad[:20]!r}")
            expect_error_field(r, "client_ip")
        r = Client(d).request("POST", "/v1/verify", json={"key": "apk_x", "client_ip": 7})
        expect(r, 422, "validation-failed", what="client_ip as a number")
        d.stop()
    finally:
        d.kill()


def test_attack_ipv6_clients_in_one_64_share_a_count():
    d = dedicated("atk-v6", env=VERIFY_ENV)
    try:
        for i in range(5):   # a /64 is one subscriber: rotating the low bits gains nothing
            _verify(d, f"apk_v6{i}", client_ip=f"2001:db8:5:6::{i + 1:x}")
        eq(_verify(d, "apk_v6x", client_ip="2001:db8:5:6:ffff:ffff:ffff:1").body.get("code"),
           "RATE_LIMITED", "another address of the same /64")
        eq(_verify(d, "apk_v6y", client_ip="2001:db8:5:7::1").body.get("code"), "NOT_FOUND",
           "the neighbouring /64")
        expect(_auth(d, "apk_v6z", {"X-Real-IP": "2001:db8:5:6::abcd"}), 429,
               "too-many-requests", what="/v1/auth from the same /64 via X-Real-IP")
        d.stop()
    finally:
        d.kill()


def test_attack_forwarded_for_names_the_client_only_from_the_right():
    d = dedicated("atk-xff", env=VERIFY_ENV)
    try:
        # the proxy appends the address it saw; everything left of it is the client's to forge
        for i in range(5):
            _auth(d, f"apk_f{i}", {"X-Forwarded-For": f"10.9.9.{i}, 203.0.113.50"})
        expect(_auth(d, "apk_f6", {"X-Forwarded-For": "1.1.1.1, 203.0.113.50"}), 429,
               "too-many-requests", what="same client, a new forged left part")
        expect(_auth(d, "apk_f7", {"X-Forwarded-For": "203.0.113.51"}), 401,
               what="another client behind the proxy")
        expect(_auth(d, "apk_f8", {"X-Forwarded-For": "203.0.113.50, 127.0.0.1"}), 429,
               "too-many-requests", what="a trusted hop right of the client is skipped")
        d.stop()
    finally:
        d.kill()


def test_attack_forwarding_headers_from_an_untrusted_peer_are_ignored():
    env = dict(VERIFY_ENV, APIKEYD_TRUSTED_PROXIES="192.0.2.1/32")  # loopback not trusted
    d = dedicated("atk-untrusted", env=env)
    try:
        for i in range(5):  # a client rotating X-Real-IP to escape its count
            _auth(d, f"apk_u{i}", {"X-Real-IP": f"198.51.100.{i}",
                                   "X-Forwarded-For": f"198.51.100.{i}"})
        expect(_auth(d, "apk_u6", {"X-Real-IP": "198.51.100.200"}), 429, "too-many-requests",
               what="counted under its real address, whatever it claims")
        d.stop()
    finally:
        d.kill()


def test_trusted_proxies_setting_refuses_malformed_lists():
    check_settings_refused_at_start([("APIKEYD_TRUSTED_PROXIES", v) for v in
                                     ("10.0.0.0/33", "nope", "10.0.0.0/8,,x", "::/200")])


# ---- item 4: every secret check is throttled, atomically ----------------------------------

def test_attack_mfa_disable_code_guessing_is_throttled():
    d = dedicated("atk-mfa-off", env=LOGIN_ENV)
    try:
        c = new_user(d)
        secret, _ = mfa_on(c)
        right = totp(secret)
        codes = [f"{(int(right) + 1 + i) % 1000000:06d}" for i in range(40)]
        statuses = [c.request("DELETE", "/v1/me/mfa", json={"code": code}).status
                    for code in codes]
        eq(statuses[:5], [422] * 5, "the first 5 wrong codes are checked")
        eq(set(statuses[5:]), {429}, "every further guess is refused unchecked")
        r = c.request("DELETE", "/v1/me/mfa", json={"code": right})
        expect(r, 429, "too-many-requests", what="even the right code while blocked")
        eq(expect(d.admin.request("GET", f"/v1/users/{c.username}"), 200).body.get(
            "mfa_enabled"), True, "MFA is still on")
        d.stop()
    finally:
        d.kill()


def test_attack_mfa_confirm_code_guessing_is_throttled():
    d = dedicated("atk-mfa-confirm", env=LOGIN_ENV)
    try:
        c = new_user(d)
        expect(c.request("POST", "/v1/me/mfa", json={"current_password": c.password}), 200)
        statuses = [c.request("POST", "/v1/me/mfa/confirm",
                              json={"code": f"{i:06d}", "current_password": c.password}).status
                    for i in range(12)]
        eq(statuses[:5], [422] * 5, "the first 5 wrong codes are checked")
        eq(set(statuses[5:]), {429}, "further guesses are refused")
        d.stop()
    finally:
        d.kill()


def test_attack_current_password_guessing_is_throttled_and_shared_with_login():
    d = dedicated("atk-pw-change", env=LOGIN_ENV)
    try:
        c = new_user(d)
        statuses = [c.request("POST", "/v1/me/password", json={
            "current_password": f"guess-{i}", "new_password": "a-new-pass-phrase-" + uniq("n")
        }).status for i in range(8)]
        eq(statuses[:5], [422] * 5, "the first 5 wrong current passwords are checked")
        eq(set(statuses[5:]), {429}, "further guesses are refused")
        r = _login(d, c.username, c.password, headers={"X-Real-IP": "198.51.100.80"})
        expect(r, 429, "too-many-requests", what="the account's login shares the count")
        d.stop()
    finally:
        d.kill()


def test_attack_concurrent_wrong_logins_meet_the_limit_one_by_one():
    d = dedicated("atk-concurrent", env=LOGIN_ENV)
    try:
        victim = new_user(d)
        results = []
        lock = threading.Lock()
        start = threading.Barrier(40)

        def guess(i):
            start.wait()
            r = _login(d, victim.username, f"guess-{i}",
                       headers={"X-Real-IP": f"198.51.100.{i + 1}"})
            with lock:
                results.append(r.status)

        threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        eq(len(results), 40, "every guess answered")
        evaluated = results.count(401)
        eq(evaluated <= 5, True, f"at most 5 of 40 concurrent guesses checked, got {evaluated}")
        eq(results.count(401) + results.count(429), 40, f"only 401 and 429: {sorted(results)}")
        r = expect(d.admin.request(
            "GET", f"/v1/audit?action=login.failure&target={victim.username}&limit=200"), 200)
        eq(len(r.body.get("events", [])) <= 5, True,
           f"at most 5 login.failure rows, got {len(r.body.get('events', []))}")
        d.stop()
    finally:
        d.kill()


def _fnv1a64(data):
    h = 1469598103934665603
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def _window(name):
    """Where the former, unkeyed table (16384 entries: 64 stripes x 256) put a name."""
    h = _fnv1a64(name.encode())
    return h % 64, (h // 64) & 255


def test_attack_colliding_names_cannot_flush_a_block():
    d = dedicated("atk-collide", env=LOGIN_ENV)
    try:
        victim = new_user(d)
        for i in range(5):
            expect(_login(d, victim.username, f"wrong-{i}",
                          headers={"X-Real-IP": f"198.51.100.{i + 1}"}), 401)
        expect(_login(d, victim.username, victim.password,
                      headers={"X-Real-IP": "198.51.100.99"}), 429, "too-many-requests",
               what="the victim's account is blocked")
        # names an attacker computed offline to land in the victim's probe window
        target = _window("u:" + victim.username.lower())
        colliding = []
        n = 0
        while len(colliding) < 12:
            n += 1
            name = "x" + hashlib.sha256(str(n).encode()).hexdigest()[:12]
            if _window("u:" + name) == target:
                colliding.append(name)
        for i, name in enumerate(colliding):
            _login(d, name, "whatever", headers={"X-Real-IP": f"203.0.113.{i + 1}"})
        expect(_login(d, victim.username, victim.password,
                      headers={"X-Real-IP": "198.51.100.98"}), 429, "too-many-requests",
               what="the block survives the colliding names")
        d.stop()
    finally:
        d.kill()


def test_attack_wrong_logins_from_one_64_share_the_client_count():
    d = dedicated("atk-login-v6", env=LOGIN_ENV)
    try:
        for i in range(20):   # 4x the account limit, each for another (unknown) account
            expect(_login(d, uniq_user(f"g{i}"), "wrong",
                          headers={"X-Real-IP": f"2001:db8:9:9::{i + 1:x}"}), 401)
        expect(_login(d, uniq_user("g"), "wrong", headers={"X-Real-IP": "2001:db8:9:9:1::1"}),
               429, "too-many-requests", what="a new address in the same /64")
        expect(_login(d, uniq_user("g"), "wrong", headers={"X-Real-IP": "2001:db8:9:a::1"}), 401,
               what="the next /64")
        d.stop()
    finally:
        d.kill()
