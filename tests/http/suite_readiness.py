"""Issue 12, item 14: /readyz tells a load balancer whether to send traffic to this node
(503 while the store cannot take writes or the view may be stale); /healthz stays plain
liveness. The PostgreSQL case (database gone) is in suite_cluster.py."""
import os
import sqlite3
import time

from run import Client, dedicated, eq, expect


def test_readyz_answers_ready_on_a_healthy_node():
    d = dedicated("ready-ok")
    try:
        r = expect(Client(d).request("GET", "/readyz"), 200, what="/readyz")
        eq(r.body, {"status": "ready"}, "the body")
        expect(Client(d).request("HEAD", "/readyz"), 200, what="HEAD /readyz")
        d.stop()
    finally:
        d.kill()


def test_readyz_is_503_while_the_store_cannot_take_writes_and_healthz_stays_200():
    d = dedicated("ready-locked")
    db = None
    try:
        path = os.path.join(d.data, "apikeyd.db")
        eq(os.path.exists(path), True, f"the SQLite file {path}")
        db = sqlite3.connect(path, timeout=1, isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")   # another process holds the write lock
        t = time.monotonic()
        expect(Client(d).request("GET", "/healthz"), 200, what="/healthz while locked")
        eq(time.monotonic() - t < 2, True, "/healthz does not wait for the store")
        r = Client(d).request("GET", "/readyz")
        expect(r, 503, "unavailable", what="/readyz while the store is locked")
        eq(r.headers.get("Retry-After"), "1", "Retry-After")
        db.execute("ROLLBACK")
        expect(Client(d).request("GET", "/readyz"), 200, what="/readyz once the lock is gone")
        db.close()
        db = None
        d.stop()
    finally:
        if db:
            db.close()
        d.kill()
