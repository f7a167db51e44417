"""Where a key was used (issue 17, item 5): besides last_used_at, every key object carries
last_used_from, the last 5 distinct client addresses the key was used from, newest first,
each with the time it was last seen. The address is the client as apikeyd resolves it
(docs/API.md, "Client addresses"): the X-Forwarded-For client when the peer is one of
trusted_proxies, the peer's own address otherwise; POST /v1/verify records the client_ip
its caller reports when that caller is itself in trusted_proxies, else the caller. The usage writer flushes once a second (usage_flush_ms),
so the tests poll for up to a few seconds."""
import time

from run import (Client, auth, check, create_key, dedicated, eq, get_key, list_keys, near,
                 new_user, now, shared, ts, verify, wait_until)
from suite_accounts import account_key, account_keys, mkaccount, mkproject

FLUSH_WAIT = 4.0


def _auth_from(d, key, address):
    """GET /v1/auth with the key, as a proxy on 127.0.0.1 forwarding for address."""
    r = Client(d).request("GET", "/v1/auth", headers={"Authorization": f"Bearer {key}",
                                                      "X-Required-Scope": "*",
                                                      "X-Forwarded-For": address})
    eq(r.status, 204, f"GET /v1/auth forwarded for {address}")


def _addresses(obj):
    got = obj.get("last_used_from")
    check(isinstance(got, list), f"last_used_from: expected a list, got {got!r}")
    for item in got:
        check(isinstance(item, dict) and set(item) == {"address", "last_used_at"},
              f"last_used_from item: expected {{address, last_used_at}}, got {item!r}")
        ts(item["last_used_at"], "last_used_from[].last_used_at")
    return [item["address"] for item in got]


def _wait_addresses(fetch, want, timeout=FLUSH_WAIT):
    """Polls fetch() (a key object) until its addresses are want; returns the key object."""
    last = {}

    def ready():
        last["k"] = fetch()
        return _addresses(last["k"]) == want
    wait_until(ready, timeout, 0.2)
    eq(_addresses(last["k"]), want, "last_used_from addresses, newest first")
    return last["k"]


def test_used_from_is_an_empty_list_on_a_new_key():
    c = new_user()
    k = create_key(c)
    eq(k.get("last_used_from"), [], "last_used_from in the create answer")
    eq(get_key(c, k["id"]).get("last_used_from"), [], "last_used_from in GET")
    eq([x.get("last_used_from") for x in list_keys(c)], [[]], "last_used_from in the list")


def test_used_from_keeps_five_distinct_forwarded_clients_newest_first_with_times():
    d = shared()
    c = new_user(d)
    k = create_key(c)
    t0 = now()
    # seven addresses, one repeated: the repeat moves to the front, the two oldest fall off
    for a in ("198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.1",
              "2001:db8::7", "198.51.100.4", "198.51.100.5", "198.51.100.6"):
        _auth_from(d, k["key"], a)
    want = ["198.51.100.6", "198.51.100.5", "198.51.100.4", "2001:db8::7", "198.51.100.1"]
    got = _wait_addresses(lambda: get_key(c, k["id"]), want)
    for item in got["last_used_from"]:
        near(ts(item["last_used_at"], "last_used_at"), t0, 3, f"time of {item['address']}")
    times = [ts(i["last_used_at"], "t") for i in got["last_used_from"]]
    eq(times, sorted(times, reverse=True), "times newest first")
    near(ts(got["last_used_at"], "last_used_at"), times[0], 1, "last_used_at is the newest")
    eq(_addresses([x for x in list_keys(c) if x["id"] == k["id"]][0]), want, "in the list")


def test_used_from_the_same_address_again_is_one_entry_with_the_later_time():
    d = shared()
    c = new_user(d)
    k = create_key(c)
    _auth_from(d, k["key"], "203.0.113.9")
    first = _wait_addresses(lambda: get_key(c, k["id"]), ["203.0.113.9"])
    t1 = ts(first["last_used_from"][0]["last_used_at"], "first time")
    time.sleep(1.1)
    for _ in range(3):
        _auth_from(d, k["key"], "203.0.113.9")
    later = wait_until(lambda: (lambda g: g if ts(g["last_used_from"][0]["last_used_at"], "t")
                                > t1 else None)(get_key(c, k["id"])), FLUSH_WAIT, 0.2)
    check(later, "the time of a repeated address did not move on")
    eq(_addresses(later), ["203.0.113.9"], "one entry for one address")


def test_used_from_an_untrusted_peer_is_its_own_address_whatever_it_forwards():
    d = dedicated("usedfrom-untrusted", env={"APIKEYD_TRUSTED_PROXIES": "192.0.2.0/24"})
    try:
        c = new_user(d)
        k = create_key(c)
        _auth_from(d, k["key"], "198.51.100.77")    # ignored: 127.0.0.1 is not trusted here
        r = Client(d).request("GET", "/v1/auth", headers={"Authorization": f"Bearer {k['key']}",
                                                          "X-Required-Scope": "*",
                                                          "X-Real-IP": "198.51.100.78"})
        eq(r.status, 204, "GET /v1/auth with X-Real-IP")
        _wait_addresses(lambda: get_key(c, k["id"]), ["127.0.0.1"])
        d.stop()
    finally:
        d.kill()


def test_used_from_of_post_verify_is_the_client_ip_sent_or_else_the_caller():
    d = shared()
    c = new_user(d)
    k = create_key(c)
    r = Client(d).request("POST", "/v1/verify", json={"key": k["key"], "client_ip": "203.0.113.50"})
    eq(r.status, 200, "POST /v1/verify with client_ip")
    eq(r.body.get("code"), "VALID", "verify code")
    _wait_addresses(lambda: get_key(c, k["id"]), ["203.0.113.50"])
    eq(verify(d, k["key"]).get("code"), "VALID", "verify without client_ip")
    _wait_addresses(lambda: get_key(c, k["id"]), ["127.0.0.1", "203.0.113.50"])


def _verify_as(d, key, client_ip, headers=None):
    r = Client(d).request("POST", "/v1/verify", json={"key": key, "client_ip": client_ip},
                          headers=headers or {})
    eq(r.status, 200, f"POST /v1/verify client_ip {client_ip}")
    return r.body


def test_used_from_client_ip_of_an_untrusted_caller_is_ignored_and_it_is_counted_itself():
    """A thief holding a leaked key calls /v1/verify directly with made-up client_ip values to
    push their own address out of the key's list: from a caller that is not in
    trusted_proxies client_ip does not count, for the list or for the throttle."""
    d = dedicated("usedfrom-verify-untrusted", env={"APIKEYD_TRUSTED_PROXIES": "192.0.2.0/24",
                                                    "APIKEYD_VERIFY_MAX_FAILURES": "3"})
    try:
        c = new_user(d)
        k = create_key(c)
        for i in range(1, 7):
            eq(_verify_as(d, k["key"], f"198.51.100.{i}")["code"], "VALID", "the key verifies")
        _wait_addresses(lambda: get_key(c, k["id"]), ["127.0.0.1"])
        # unknown keys from made-up client_ips are the caller's failures: blocked after 3
        codes = [_verify_as(d, "apk_" + "x" * 40, f"203.0.113.{i}")["code"] for i in range(4)]
        eq(codes, ["NOT_FOUND"] * 3 + ["RATE_LIMITED"], "counted under the caller's address")
        eq(_verify_as(d, k["key"], "203.0.113.99")["code"], "VALID", "a real key still answers")
        d.stop()
    finally:
        d.kill()


def test_used_from_client_ip_counts_from_a_trusted_backend_behind_a_trusted_proxy_only():
    """Behind a proxy (127.0.0.1, trusted) the caller is who the proxy forwards for: an
    outside client's client_ip is ignored, a backend that is itself trusted is believed."""
    d = shared()
    c = new_user(d)
    k = create_key(c)
    _verify_as(d, k["key"], "203.0.113.70", {"X-Forwarded-For": "198.51.100.66"})
    _wait_addresses(lambda: get_key(c, k["id"]), ["198.51.100.66"])
    _verify_as(d, k["key"], "203.0.113.71", {"X-Real-IP": "127.0.0.9"})   # a trusted backend
    _wait_addresses(lambda: get_key(c, k["id"]), ["203.0.113.71", "198.51.100.66"])


def test_used_from_of_a_key_calling_the_api_is_its_client():
    d = shared()
    c = new_user(d)
    k = create_key(c, scopes=["APIKey"])
    r = Client(d, key=k["key"]).request("GET", "/v1/keys",
                                        headers={"X-Forwarded-For": "198.51.100.200"})
    eq(r.status, 200, "GET /v1/keys with the key")
    _wait_addresses(lambda: get_key(c, k["id"]), ["198.51.100.200"])


def test_used_from_is_shown_for_api_account_keys():
    d = shared()
    c = new_user(d)
    sid = mkaccount(c, project=mkproject(c))
    k = account_key(c, sid)
    eq(k.get("last_used_from"), [], "last_used_from of a new account key")
    _auth_from(d, k["key"], "198.51.100.31")
    _auth_from(d, k["key"], "198.51.100.32")
    want = ["198.51.100.32", "198.51.100.31"]
    _wait_addresses(lambda: [x for x in account_keys(c, sid) if x["id"] == k["id"]][0], want)
    r = c.request("GET", f"/v1/service-accounts/{sid}/keys/{k['id']}")
    eq(r.status, 200, "GET one account key")
    eq(_addresses(r.body), want, "last_used_from of one account key")


def test_used_from_is_not_shown_to_someone_who_cannot_see_the_key():
    d = shared()
    c = new_user(d)
    k = create_key(c)
    _auth_from(d, k["key"], "198.51.100.240")
    _wait_addresses(lambda: get_key(c, k["id"]), ["198.51.100.240"])
    other = new_user(d)
    r = other.request("GET", f"/v1/keys/{k['id']}")
    eq(r.status, 404, "another user's key")
    check("198.51.100.240" not in str(other.request("GET", "/v1/keys").body),
          "another user's key list names the address")
