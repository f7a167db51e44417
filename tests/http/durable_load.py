"""Load for the durability suites (suite_backup.py, suite_crash.py): threads that create
keys and delete some of them through an API key, recording what the daemon acknowledged,
and the checks that whatever was acknowledged survived.

A create answered 201 must verify VALID afterwards (unless a delete of it was sent); a
delete answered 204 must stay NOT_FOUND. A request that got no answer (the daemon was
killed) or a 503 has an unknown outcome and is not checked. Any other status is recorded as
unexpected, and so is an answer slower than `slow_s`.
"""
import http.client
import json
import os
import threading
import time

from run import check, create_key, eq

ALLOWED_REFUSAL = 503


def loader_key(d):
    """An API key of the admin's that may create and delete keys (no login per restart)."""
    return create_key(d.admin, name="loader-" + os.urandom(4).hex(),
                      scopes=("APIKey", "Tasks"))["key"]


class Load:
    """Creates keys from `threads` threads; every `delete_every`-th key a thread created is
    deleted again. start() / stop() may be repeated (the port may change between them)."""

    def __init__(self, key, threads=4, delete_every=2, refusals=(), slow_s=8.0):
        self.key = key
        self.threads = threads
        self.delete_every = delete_every
        self.refusals = set(refusals)      # statuses allowed besides 201/204 (e.g. {503})
        self.slow_s = slow_s
        self.lock = threading.Lock()
        self.created = {}                  # id -> (secret, monotonic time of the 201)
        self.delete_sent = set()           # ids a delete was sent for (outcome maybe unknown)
        self.deleted = {}                  # id -> secret, deletes answered 204
        self.refused = []                  # (method, status, problem type) of allowed refusals
        self.unexpected = []               # what must never happen
        self.no_answer = 0
        self.slowest = 0.0
        self._stop = threading.Event()
        self._workers = []
        self.port = None

    # -- running
    def start(self, port):
        self.port = port
        self._stop.clear()
        self._workers = [threading.Thread(target=self._run, args=(i,), daemon=True)
                         for i in range(self.threads)]
        for t in self._workers:
            t.start()

    def stop(self):
        self._stop.set()
        for t in self._workers:
            t.join(30)
        check(not any(t.is_alive() for t in self._workers), "a load thread did not stop")
        self._workers = []

    def _request(self, conn, method, path, body=None):
        """One request; (status, parsed body) or None when no answer came."""
        headers = {"Authorization": f"Bearer {self.key}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        t = time.monotonic()
        try:
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            raw = r.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            with self.lock:
                self.no_answer += 1
            return None
        took = time.monotonic() - t
        with self.lock:
            self.slowest = max(self.slowest, took)
            if took > self.slow_s:
                self.unexpected.append(f"{method} {path}: answered after {took:.1f} s")
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = None
        return r.status, doc, r.getheader("Content-Type") or ""

    def _refusal(self, method, got):
        status, doc, ctype = got
        ptype = doc.get("type") if isinstance(doc, dict) else None
        with self.lock:
            if status in self.refusals and ctype.startswith("application/problem+json"):
                self.refused.append((method, status, ptype))
            else:
                self.unexpected.append(f"{method}: {status} {ctype} {doc!r}"[:300])

    def _run(self, n):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        made = 0
        while not self._stop.is_set():
            name = f"load-{n}-{os.urandom(5).hex()}"
            got = self._request(conn, "POST", "/v1/keys", {"name": name, "scopes": ["Tasks"]})
            if got is None:
                time.sleep(0.01)
                continue
            if got[0] != 201:
                self._refusal("POST", got)
                time.sleep(0.01)
                continue
            kid, secret = got[1]["id"], got[1]["key"]
            with self.lock:
                self.created[kid] = (secret, time.monotonic())
            made += 1
            if made % self.delete_every:
                continue
            with self.lock:
                self.delete_sent.add(kid)
            got = self._request(conn, "DELETE", f"/v1/keys/{kid}")
            if got is None:
                continue
            if got[0] == 204:
                with self.lock:
                    self.deleted[kid] = secret
            else:
                self._refusal("DELETE", got)
        conn.close()

    # -- what must have survived
    def must_be_valid(self, acked_before=None):
        """{id: secret} of acknowledged creates with no delete sent (and, given a monotonic
        time, acknowledged before it)."""
        with self.lock:
            return {k: s for k, (s, t) in self.created.items()
                    if k not in self.delete_sent and (acked_before is None or t < acked_before)}

    def counts(self):
        with self.lock:
            return len(self.created), len(self.deleted), len(self.refused), self.no_answer


def verdicts(port, secrets):
    """POST /v1/verify for each secret on one keep-alive connection: {secret: code}."""
    out = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for s in secrets:
            conn.request("POST", "/v1/verify", body=json.dumps({"key": s}).encode(),
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            out[s] = json.loads(r.read()).get("code")
    finally:
        conn.close()
    return out


def check_survivors(load, port, what, acked_before=None):
    """Every acknowledged create (no delete sent) verifies VALID, every acknowledged delete
    answers NOT_FOUND; nothing unexpected was answered."""
    eq(load.unexpected[:5], [], f"{what}: answers that must never be given")
    valid = load.must_be_valid(acked_before)
    got = verdicts(port, valid.values())
    lost = [k for k, s in valid.items() if got[s] != "VALID"]
    eq(lost[:5], [], f"{what}: acknowledged creates that do not verify VALID "
                     f"({len(lost)} of {len(valid)}; e.g. {[got[valid[k]] for k in lost[:3]]})")
    if acked_before is None:
        with load.lock:
            deleted = dict(load.deleted)
        got = verdicts(port, deleted.values())
        back = [k for k, s in deleted.items() if got[s] != "NOT_FOUND"]
        eq(back[:5], [], f"{what}: acknowledged deletes that verify again "
                         f"({len(back)} of {len(deleted)})")
    return len(valid)
