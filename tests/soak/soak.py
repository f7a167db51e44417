#!/usr/bin/env python3
"""Soak test (issue 14, item 7): `make soak` — not part of `make test` or CI.

Starts the real daemon on 127.0.0.1 with a fresh SQLite data folder (the helpers of
tests/http/run.py) and runs mixed traffic for SOAK_SECONDS (default 600): verifications over
keep-alive connections (valid, deleted and invented keys), key creates and deletes, key
listings, and logins with logouts. Every SAMPLE_SECONDS it samples the daemon's resident
memory (VmRSS) and open file descriptors from /proc.

Judged against the warm-up (the first fifth of the run): the RSS floor (smallest sample) of
the last third may exceed the warm-up's floor by at most RSS_GROWTH_MIB (floors, because each
login's Argon2id holds 64 MiB for a moment), and the most open descriptors of the last third
may exceed the warm-up's most by at most FD_GROWTH. Every request must be answered without a 5xx, and the
daemon must exit 0 at SIGTERM. Prints the samples, a summary and `N passed, N failed`; the
samples also go to $APIKEYD_TEST_OUTPUT/soak.csv. Only 127.0.0.1 is contacted; every loop
ends at the deadline.
"""
import http.client
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))

from run import ADMIN_PASS, ADMIN_USER, Client, Daemon, forge_key  # noqa: E402

SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
SAMPLE_SECONDS = float(os.environ.get("SOAK_SAMPLE_SECONDS", "5"))
RSS_GROWTH_MIB = 32     # stated bound: RSS growth after warm-up
FD_GROWTH = 16          # stated bound: open descriptors growth after warm-up
VERIFIERS = 4
WRITERS = 2
LOGINS = 1


def proc_stats(pid):
    """(rss_kib, open_fds, threads) of a live process, read from /proc."""
    rss = threads = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd")), threads


class Tally:
    """Counts answers by kind; remembers the first few unexpected ones."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.bad = []

    def add(self, what, status, ok):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1
            if not ok:
                self.counts["unexpected"] = self.counts.get("unexpected", 0) + 1
                if len(self.bad) < 10:
                    self.bad.append(f"{what}: {status}")


def verifier(port, keys, deadline, tally):
    """Verifies valid, stale and invented keys over one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    i = 0
    try:
        while time.monotonic() < deadline:
            i += 1
            with keys["lock"]:
                live = list(keys["live"][-50:])
                gone = list(keys["gone"][-50:])
            if i % 3 == 0 or not live:
                key, want = forge_key(), ("NOT_FOUND", "RATE_LIMITED")
            elif i % 3 == 1 and gone:
                key, want = gone[i % len(gone)], ("NOT_FOUND", "RATE_LIMITED")
            else:
                key, want = live[i % len(live)], ("VALID", "NOT_FOUND", "RATE_LIMITED")
            body = json.dumps({"key": key, "scope": "Tasks"})
            conn.request("POST", "/v1/verify", body=body,
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            code = json.loads(data).get("code") if data else None
            tally.add("verify", r.status, r.status < 500 and code in want)
    finally:
        conn.close()


def writer(d, keys, deadline, tally, n):
    """Creates keys, lists them, deletes the older ones: a user of its own."""
    c = Client(d)
    name = f"soakw{n}"
    pw = "soak-writer-pass-" + name
    d.admin.request("POST", "/v1/users", {"username": name, "password": pw})
    c.login(name, pw)
    mine = []
    i = 0
    while time.monotonic() < deadline:
        i += 1
        r = c.request("POST", "/v1/keys", {"name": f"k{i}", "scopes": ["Tasks"]})
        tally.add("create", r.status, r.status == 201)
        if r.status == 201:
            mine.append((r.body["id"], r.body["key"]))
            with keys["lock"]:
                keys["live"].append(r.body["key"])
        if i % 5 == 0:
            r = c.request("GET", "/v1/keys")
            tally.add("list", r.status, r.status == 200)
        while len(mine) > 20:
            kid, secret = mine.pop(0)
            r = c.request("DELETE", f"/v1/keys/{kid}")
            tally.add("delete", r.status, r.status == 204)
            with keys["lock"]:
                if secret in keys["live"]:
                    keys["live"].remove(secret)
                keys["gone"].append(secret)
                del keys["gone"][:-200]


def login_loop(d, deadline, tally):
    """Logs in and out again and again (Argon2id each time), paced to stay under the throttle."""
    name, pw = "soaklogin", "soak-login-password-1"
    d.admin.request("POST", "/v1/users", {"username": name, "password": pw})
    while time.monotonic() < deadline:
        c = Client(d)
        try:
            c.login(name, pw)
            tally.add("login", 200, True)
        except AssertionError as e:
            tally.add("login", str(e)[:80], False)
            time.sleep(1)
            continue
        r = c.request("POST", "/v1/logout")
        tally.add("logout", r.status, r.status == 204)
        time.sleep(0.2)


def main():
    d = Daemon("soak", env={"APIKEYD_VERIFY_MAX_FAILURES": "1000000",
                            "APIKEYD_LOGIN_MAX_FAILURES": "1000"})
    d.start()
    pid = d.proc.pid
    out_dir = os.environ.get("APIKEYD_TEST_OUTPUT", os.path.join(HERE, "..", "..", "test-output"))
    os.makedirs(out_dir, exist_ok=True)
    csv_path = os.path.join(out_dir, "soak.csv")
    tally = Tally()
    keys = {"lock": threading.Lock(), "live": [], "gone": []}
    start = time.monotonic()
    deadline = start + SECONDS
    _ = d.admin  # log the admin in before the load
    threads = [threading.Thread(target=verifier, args=(d.port, keys, deadline, tally))
               for _ in range(VERIFIERS)]
    threads += [threading.Thread(target=writer, args=(d, keys, deadline, tally, n))
                for n in range(WRITERS)]
    threads += [threading.Thread(target=login_loop, args=(d, deadline, tally))
                for _ in range(LOGINS)]
    for t in threads:
        t.daemon = True
        t.start()
    samples = []
    print(f"soak: {SECONDS} s against 127.0.0.1:{d.port} (pid {pid}); "
          f"sampling every {SAMPLE_SECONDS:g} s", flush=True)
    with open(csv_path, "w") as csv:
        csv.write("seconds,rss_kib,open_fds,threads,requests\n")
        while time.monotonic() < deadline:
            time.sleep(SAMPLE_SECONDS)
            d.secrets.clear()  # the client's leak check scans every secret issued: keep it small
            rss, fds, nthreads = proc_stats(pid)
            t = time.monotonic() - start
            total = sum(v for k, v in tally.counts.items() if k != "unexpected")
            samples.append((t, rss, fds))
            csv.write(f"{t:.0f},{rss},{fds},{nthreads},{total}\n")
            csv.flush()
            print(f"{t:6.0f} s  rss {rss / 1024:7.1f} MiB  fds {fds:4d}  threads {nthreads:3d}  "
                  f"requests {total}", flush=True)
    for t in threads:
        t.join(60)
    failures = []
    warm = [s for s in samples if s[0] <= SECONDS / 5]
    late = [s for s in samples if s[0] >= SECONDS * 2 / 3]
    if warm and late:
        # Each login's Argon2id holds 64 MiB for a moment, so single samples jump by 64 MiB
        # steps: the floor (smallest sample) of a window is the memory the daemon keeps.
        rss_warm, rss_late = min(s[1] for s in warm), min(s[1] for s in late)
        fd_warm, fd_late = max(s[2] for s in warm), max(s[2] for s in late)
        print(f"rss floor: warm-up {rss_warm / 1024:.1f} MiB, last third {rss_late / 1024:.1f} "
              f"MiB (bound +{RSS_GROWTH_MIB} MiB); peak {max(s[1] for s in samples) / 1024:.1f} MiB")
        print(f"fds: warm-up max {fd_warm}, last third max {fd_late} (bound +{FD_GROWTH})")
        if rss_late - rss_warm > RSS_GROWTH_MIB * 1024:
            failures.append(f"RSS floor grew by {(rss_late - rss_warm) / 1024:.1f} MiB")
        if fd_late - fd_warm > FD_GROWTH:
            failures.append(f"open descriptors grew by {fd_late - fd_warm}")
    else:
        failures.append("too few samples to judge (SOAK_SECONDS too small?)")
    print("answers: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.counts.items())))
    if tally.bad:
        failures.append("unexpected answers: " + "; ".join(tally.bad))
    try:
        d.stop()
    except AssertionError as e:
        failures.append(str(e))
    print(f"samples in {csv_path}")
    for f in failures:
        print(f"FAIL soak: {f}")
    passed = 0 if failures else 1
    print(f"{passed} passed, {1 - passed} failed")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
