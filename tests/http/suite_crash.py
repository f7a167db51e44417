"""Issue 14, item 6: crashes and faults that lose nothing acknowledged.

- SIGKILL under concurrent create and delete load, ten rounds on SQLite and five on
  PostgreSQL: after each restart every acknowledged create verifies VALID and every
  acknowledged delete stays NOT_FOUND (durable_load.py keeps the books).
- A full disk (a small tmpfs under the data folder when mounting is allowed, else
  RLIMIT_FSIZE lowered on the running daemon with prlimit): writes answer a 503 problem,
  never a 500 or a crash; verification keeps answering; once space returns writes succeed,
  and a restart shows nothing acknowledged lost.
- PostgreSQL stopped with `pg_ctl -m immediate` mid-load: writes get 503 problems within a
  bound, verification answers UNAVAILABLE past stale_after_ms and VALID again once the
  database is back, without a restart of the daemon; nothing acknowledged is lost.
"""
import os
import resource
import subprocess
import time

from run import Daemon, check, eq, expect, verify
from durable_load import Load, check_survivors, loader_key, verdicts

LOAD_ENV = {"APIKEYD_MAX_KEYS_PER_OWNER": "1000000", "APIKEYD_VERIFY_MAX_FAILURES": "1000000"}
ROUND_S = 1.0                                  # load per round before the kill


def _wait_valid(d, secret, timeout=20.0):
    """Polls until the daemon's view is loaded (PostgreSQL loads it when the feed listens)."""
    deadline = time.monotonic() + timeout
    while True:
        code = verify(d, secret).get("code")
        if code == "VALID" or time.monotonic() > deadline:
            return code
        time.sleep(0.05)


def _kill_rounds(d, rounds, what):
    load = Load(loader_key(d), threads=4, delete_every=2)
    try:
        for i in range(rounds):
            before = load.counts()
            load.start(d.port)
            time.sleep(ROUND_S)
            d.kill()                           # SIGKILL while requests are in flight
            load.stop()
            made, deleted, _, _ = load.counts()
            check(made > before[0] and deleted > before[1],
                  f"round {i + 1}: no creates or deletes were acknowledged")
            d.start()
            eq(_wait_valid(d, load.key), "VALID", f"round {i + 1}: the loader key")
            check_survivors(load, d.port, f"{what}, after SIGKILL {i + 1}")
        made, deleted, _, lost = load.counts()
        print(f"     {rounds} kills: {made} creates and {deleted} deletes acknowledged, "
              f"{lost} requests cut off", flush=True)
        d.stop()
    finally:
        load.stop()
        d.kill()


def test_sigkill_under_create_and_delete_load_ten_times_loses_nothing_on_sqlite():
    d = Daemon("crash-sqlite", env=LOAD_ENV).start()
    _kill_rounds(d, 10, "SQLite")


def test_sigkill_under_create_and_delete_load_five_times_loses_nothing_on_postgresql():
    from suite_cluster import STALE_MS, _fresh_database
    d = Daemon("crash-pg", env=dict(LOAD_ENV, APIKEYD_STALE_AFTER_MS=str(STALE_MS)),
               db_url=_fresh_database()).start()
    _kill_rounds(d, 5, "PostgreSQL")


# ---- a full disk -----------------------------------------------------------------------

def _mount_small_tmpfs(path, size="8m"):
    """Mounts a tmpfs of size on path; False when this machine does not allow it."""
    if os.geteuid() != 0:
        return False
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", path],
                       capture_output=True, text=True, timeout=30)
    return p.returncode == 0


def _umount(path):
    subprocess.run(["umount", path], capture_output=True, timeout=30)


def _fill(path):
    """Writes path until the file system is full; returns the bytes written."""
    n = 0
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                n += f.write(chunk)
            except OSError:
                break
        try:
            while True:
                n += f.write(b"\0" * 512)
        except OSError:
            pass
    return n


class _FileSizeLimit:
    """The other way to run out of room: RLIMIT_FSIZE lowered on the running daemon (prlimit)
    to what its files hold now, so a write that grows one fails (EFBIG; apikeyd ignores
    SIGXFSZ), and raised again to give the room back."""

    def __init__(self, d):
        self.pid = d.proc.pid
        self.limit = resource.prlimit(self.pid, resource.RLIMIT_FSIZE)

    def fill(self, d):
        wal = os.path.getsize(os.path.join(d.data, "apikeyd.db-wal"))
        resource.prlimit(self.pid, resource.RLIMIT_FSIZE, (wal, self.limit[1]))

    def free(self):
        resource.prlimit(self.pid, resource.RLIMIT_FSIZE, self.limit)


def _expect_full(r, what):
    expect(r, 503, "storage-full", what=what)


def _disk_full(mode):
    d = Daemon(f"disk-full-{mode}", env=LOAD_ENV)
    mounted = mode == "tmpfs" and _mount_small_tmpfs(d.data)
    if mode == "tmpfs" and not mounted:
        print("     mount -t tmpfs is not permitted here: RLIMIT_FSIZE instead", flush=True)
    load = None
    try:
        d.start()
        key = loader_key(d)
        from run import Client, create_key
        c = Client(d, key=key)
        kept = [create_key(c, scopes=("Tasks",)) for _ in range(10)]
        gone = create_key(c, scopes=("Tasks",))
        expect(c.request("DELETE", f"/v1/keys/{gone['id']}"), 204)
        admin = d.admin
        if mounted:
            filler = os.path.join(d.data, "filler")
            _fill(filler)
        else:
            limit = _FileSizeLimit(d)
            limit.fill(d)
        # writes are refused with 503 while nothing fits; the load must see only 201/204/503
        load = Load(key, threads=3, delete_every=2, refusals=(503,))
        load.start(d.port)
        time.sleep(1.0)
        load.stop()
        check(d.proc.poll() is None, f"the daemon died while the disk was full (status "
                                     f"{d.proc.returncode})")
        made, _, refused, _ = load.counts()
        eq(load.unexpected[:3], [], "answers while the disk was full")
        check(refused > 0, f"no write was refused while the disk was full ({made} created)")
        check(all(t == "urn:apikeyd:problem:storage-full" for _, _, t in load.refused),
              f"refusals: {sorted(set(load.refused))[:4]}")
        _expect_full(c.request("POST", "/v1/keys", json={"name": "full", "scopes": ["Tasks"]}),
                     "create while full")
        _expect_full(c.request("DELETE", f"/v1/keys/{kept[0]['id']}"), "delete while full")
        _expect_full(admin.request("PATCH", f"/v1/keys/{kept[1]['id']}",
                                   json={"name": "renamed"}), "rename while full")
        _expect_full(admin.request("POST", "/v1/users",
                                   json={"username": "full" + os.urandom(3).hex(),
                                         "password": "long-enough-pw-1"}), "user create")
        _expect_full(Client(d).request("POST", "/v1/login", json={
            "username": "admin", "password": "correct-horse-battery"}), "login while full")
        eq({verify(d, k["key"]).get("code") for k in kept}, {"VALID"},
           "existing keys while full (the refused delete changed nothing)")
        eq(verify(d, gone["key"]).get("code"), "NOT_FOUND", "a key deleted before")
        expect(c.request("GET", "/v1/keys"), 200, what="reading while full")
        # room again: writes succeed, by themselves
        if mounted:
            os.unlink(filler)
        else:
            limit.free()
        r = c.request("POST", "/v1/keys", json={"name": "after", "scopes": ["Tasks"]})
        expect(r, 201, what="the first create once there is room again")
        after = r.body["key"]
        expect(c.request("DELETE", f"/v1/keys/{kept[0]['id']}"), 204, what="delete with room")
        load.refusals = set()
        load.start(d.port)
        time.sleep(0.5)
        load.stop()
        d.stop()                                  # SIGTERM: exits 0
        d.start()
        check_survivors(load, d.port, f"after the disk was full ({mode}), restarted")
        eq([verify(d, k["key"]).get("code") for k in kept[1:]] + [verify(d, after).get("code")],
           ["VALID"] * 10, "keys from before and after")
        eq(verify(d, kept[0]["key"]).get("code"), "NOT_FOUND", "the key deleted with room")
        d.stop()
    finally:
        if load:
            load.stop()
        d.kill()
        if mounted:
            _umount(d.data)


def test_writes_answer_503_storage_full_on_a_full_disk_and_lose_nothing():
    _disk_full("tmpfs")


def test_writes_answer_503_storage_full_at_the_file_size_limit_and_lose_nothing():
    _disk_full("rlimit")


# ---- PostgreSQL stopped mid-load -------------------------------------------------------

def _pg_immediate(action):
    """Stops the test cluster with -m immediate (no shutdown checkpoint: recovery at the next
    start replays the WAL, as after a crash), or starts it again."""
    from suite_cluster import _pg_cluster
    d, port, _ = _pg_cluster()
    bins = sorted(os.listdir("/usr/lib/postgresql"))
    cmd = [f"/usr/lib/postgresql/{bins[-1]}/bin/pg_ctl", "-D", os.path.join(d, "data"),
           "-w", "-t", "60"]
    if action == "stop":
        cmd += ["-m", "immediate", "stop"]
    else:
        cmd += ["-l", os.path.join(d, "server.log"), "-o",
                f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={d}"
                " -c fsync=off", "start"]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    check(out.returncode == 0, f"pg_ctl {action} failed: {out.stderr[-300:]}")


def test_postgresql_stopped_immediately_mid_load_503s_then_recovers_by_itself_losing_nothing():
    from suite_cluster import STALE_MS, _fresh_database
    d = Daemon("pg-restart", env=dict(LOAD_ENV, APIKEYD_STALE_AFTER_MS=str(STALE_MS)),
               db_url=_fresh_database()).start()
    load = None
    up = True
    try:
        key = loader_key(d)
        eq(_wait_valid(d, key), "VALID", "the loader key")
        load = Load(key, threads=3, delete_every=2, refusals=(503,), slow_s=5.0)
        load.start(d.port)
        time.sleep(0.5)
        _pg_immediate("stop")
        up = False
        stopped = time.monotonic()
        mid = load.counts()
        # verification: UNAVAILABLE once past stale_after_ms, never VALID from a stale view
        while time.monotonic() - stopped < STALE_MS / 1000 + 1.0:
            time.sleep(0.1)
        eq(verify(d, key).get("code"), "UNAVAILABLE",
           f"verify {STALE_MS} ms (stale_after_ms) and more after the database stopped")
        r = verdicts(d.port, [key])
        eq(r[key], "UNAVAILABLE", "verify again")
        _pg_immediate("start")
        up = True
        back = time.monotonic()
        deadline = back + 20
        while verify(d, key).get("code") != "VALID" and time.monotonic() < deadline:
            time.sleep(0.05)
        eq(verify(d, key).get("code"), "VALID", "verify once the database is back (no restart)")
        waited = time.monotonic() - back
        made_before = load.counts()[0]
        deadline = time.monotonic() + 20
        while load.counts()[0] < made_before + 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        load.stop()
        made, deleted, refused, _ = load.counts()
        print(f"     VALID again {waited:.1f} s after the start; {refused} writes refused (503), "
              f"slowest answer {load.slowest:.2f} s; {made} creates, {deleted} deletes",
              flush=True)
        eq(load.unexpected[:3], [], "answers while the database was away")
        check(refused > 0, f"no write was refused while the database was down ({mid})")
        check(made >= made_before + 20, "writes succeed again once the database is back")
        check_survivors(load, d.port, "after PostgreSQL came back")
        d.stop()
        d.start()
        eq(_wait_valid(d, key), "VALID", "the loader key after a daemon restart")
        check_survivors(load, d.port, "after PostgreSQL came back, daemon restarted")
        d.stop()
    finally:
        if load:
            load.stop()
        if not up:
            _pg_immediate("start")
        d.kill()
