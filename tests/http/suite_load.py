"""Verification and writes under concurrent load (issue 7), judged by the order of events, never
by timings: a key deleted while verifications hammer it is refused by every verification sent
after the delete was answered; concurrent creates are each answered, distinct and verifiable;
verification is answered while password hashes occupy the server; the thread and worker
settings are checked at start and one worker still answers everything in turn.
Every client targets the test daemon on 127.0.0.1 and stops by itself.
"""
import http.client
import json
import threading
import time

from run import (Client, check, check_settings_refused_at_start,
                 create_key, dedicated, eq, expect, new_user, shared, uniq, verify)


def _hammer(port, key, stop, log, path="/v1/verify"):
    """Verifies key over one keep-alive connection until stop is set; appends
    (sent, answered, code) per request, times from time.monotonic()."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"key": key, "scope": "Tasks"})
    try:
        while not stop.is_set():
            sent = time.monotonic()
            if path == "/v1/verify":
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                code = json.loads(r.read())["code"]
            else:
                conn.request("GET", path, headers={"Authorization": f"Bearer {key}",
                                                   "X-Required-Scope": "*"})
                r = conn.getresponse()
                r.read()
                code = "VALID" if r.status == 204 else str(r.status)
            log.append((sent, time.monotonic(), code))
    finally:
        conn.close()


def test_key_deleted_under_verify_load_is_refused_by_every_request_sent_after_the_answer():
    d = shared()
    c = new_user(d)
    k = create_key(c)
    stop = threading.Event()
    logs = [[] for _ in range(6)]
    threads = [threading.Thread(target=_hammer, args=(d.port, k["key"], stop, logs[i],
                                                      "/v1/verify" if i % 2 else "/v1/auth"))
               for i in range(6)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 30
        while sum(len(x) for x in logs) < 600 and time.monotonic() < deadline:
            time.sleep(0.01)
        deleting = time.monotonic()
        expect(c.request("DELETE", f"/v1/keys/{k['id']}"), 204, what="delete under load")
        answered = time.monotonic()
        while (min(sum(1 for e in x if e[0] > answered) for x in logs) < 50
               and time.monotonic() < deadline):
            time.sleep(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    entries = [e for x in logs for e in x]
    before = [e for e in entries if e[1] < deleting]
    after = [e for e in entries if e[0] > answered]
    check(before and all(e[2] == "VALID" for e in before),
          "verifications answered before the delete was sent should be VALID")
    check(len(after) >= 300, f"expected load after the delete, got {len(after)} requests")
    wrong = [e for e in after if e[2] == "VALID"]
    eq(len(wrong), 0, "verifications sent after the delete was answered that still said VALID")
    eq(sorted({e[2] for e in after if e[2] != "401"}), ["NOT_FOUND"],
       "codes of /v1/verify after the delete")


def test_sixteen_concurrent_creators_are_each_answered_with_a_distinct_verifiable_key():
    d = shared()
    c = new_user(d)
    bearer = create_key(c, scopes=("APIKey", "Tasks"))["key"]
    results, errors = [], []

    def creator(n):
        kc = Client(d, key=bearer)
        for i in range(8):
            r = kc.request("POST", "/v1/keys", json={"name": f"{uniq('cc')}-{n}-{i}",
                                                     "scopes": ["Tasks"]})
            (results if r.status == 201 else errors).append(r.body)

    threads = [threading.Thread(target=creator, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    eq(errors, [], "refused concurrent creates")
    eq(len(results), 128, "answered creates")
    eq(len({r["key"] for r in results}), 128, "distinct secrets")
    eq(len({r["id"] for r in results}), 128, "distinct ids")
    for r in results[::8]:
        eq(verify(d, r["key"], "Tasks")["code"], "VALID", "a concurrently made key verifies")
    listed = {k["id"] for k in expect(c.request("GET", "/v1/keys"), 200).body["keys"]}
    check({r["id"] for r in results} <= listed, "every concurrently made key is listed")


def _verify_during_logins(d):
    """8 logins (each an Argon2id hash) at once, of 8 accounts (one account's concurrent
    attempts are capped by its login throttle); verifies one after another meanwhile."""
    c = new_user(d)
    k = create_key(c)
    people = [new_user(d) for _ in range(8)]
    done = []

    def login(who):
        Client(d).login(who.username, who.password)
        done.append(time.monotonic())

    logins = [threading.Thread(target=login, args=(p,)) for p in people]
    for t in logins:
        t.start()
    answered = []
    while len(done) < len(logins) and len(answered) < 200:
        eq(verify(d, k["key"])["code"], "VALID", "verify during logins")
        answered.append(time.monotonic())
    for t in logins:
        t.join(60)
    eq(len(done), 8, "logins answered")
    during = sum(1 for a in answered if a < max(done))
    check(during >= 20, f"only {during} verifications were answered while the logins were hashing")


def test_verification_is_answered_while_logins_hash_passwords():
    # one event thread: logins must not occupy it, or verification would wait for them
    d = dedicated("logins-and-verify", env={"APIKEYD_THREADS": "1"})
    try:
        _verify_during_logins(d)
    finally:
        d.stop()



def test_bad_thread_and_worker_counts_are_refused_at_start():
    check_settings_refused_at_start([("APIKEYD_WORKERS", "0"), ("APIKEYD_WORKERS", "1025"),
                                     ("APIKEYD_WORKERS", "many"), ("APIKEYD_WORKERS", "-3"),
                                     ("APIKEYD_THREADS", "0"), ("APIKEYD_THREADS", "257")])


def test_one_worker_answers_every_blocking_request_in_turn():
    d = dedicated("one-worker", env={"APIKEYD_WORKERS": "1"})
    try:
        c = new_user(d)
        keys = [create_key(c) for _ in range(5)]
        listed = {k["id"] for k in expect(c.request("GET", "/v1/keys"), 200).body["keys"]}
        check({k["id"] for k in keys} <= listed, "keys made through one worker are listed")
        eq(verify(d, keys[0]["key"])["code"], "VALID", "and verify")
    finally:
        d.stop()
