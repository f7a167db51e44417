"""Issue 14, item 5: backups that work while serving. `apikeyd backup --data DIR FILE` copies
DIR/apikeyd.db with SQLite's online backup API, what still sits in the WAL included, while
the daemon runs; restored elsewhere (the copy as apikeyd.db, the same secret.key) it holds
every key acknowledged before the backup began. A plain copy of apikeyd.db under load does
not (the demonstration below): the data is in apikeyd.db-wal."""
import os
import shutil
import subprocess
import time

from run import (ADMIN_PASS, ADMIN_USER, BIN, Client, Daemon, check, create_key, dedicated,
                 eq, expect, list_keys, verify)
from durable_load import Load, check_survivors, loader_key

LOAD_ENV = {"APIKEYD_MAX_KEYS_PER_OWNER": "1000000", "APIKEYD_VERIFY_MAX_FAILURES": "1000000"}


def _backup(*args, timeout=60):
    p = subprocess.run([BIN, "backup", *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def _restore(src, backup, label):
    """A new data folder holding the backup as apikeyd.db and src's secret.key; started with
    no bootstrap admin (the admin must come from the backup)."""
    d = Daemon(label, bootstrap=None, env=LOAD_ENV)
    shutil.copyfile(backup, os.path.join(d.data, "apikeyd.db"))
    shutil.copyfile(os.path.join(src.data, "secret.key"), os.path.join(d.data, "secret.key"))
    os.chmod(os.path.join(d.data, "secret.key"), 0o600)
    return d.start()


def test_backup_while_creates_run_restores_every_key_acknowledged_before_it_began():
    d = dedicated("backup-live", env=LOAD_ENV)
    r = None
    load = Load(loader_key(d), threads=4, delete_every=3)
    try:
        load.start(d.port)
        deadline = time.monotonic() + 20
        while load.counts()[0] < 60 and time.monotonic() < deadline:
            time.sleep(0.02)
        began = time.monotonic()
        target = os.path.join(d.tmp, "live.backup")
        rc, out, err = _backup("--data", d.data, target)
        ended = time.monotonic()
        time.sleep(0.2)                    # creates go on after the copy
        load.stop()
        eq((rc, err), (0, ""), "apikeyd backup's exit status and stderr")
        check(target in out, f"the message names the file: {out!r}")
        check(not os.path.exists(target + ".tmp"), "FILE.tmp is gone")
        eq(oct(os.stat(target).st_mode & 0o777), "0o600", "the backup's mode")
        made, deleted, _, _ = load.counts()
        during = [k for k, (_, t) in load.created.items() if began <= t <= ended]
        print(f"     {made} creates acknowledged ({deleted} deleted again), {len(during)} "
              f"while the backup ran ({(ended - began) * 1000:.0f} ms)", flush=True)
        before = load.must_be_valid(acked_before=began)
        check(len(before) >= 40, f"too few keys before the backup: {len(before)}")
        check_survivors(load, d.port, "the serving daemon")
        r = _restore(d, target, "backup-restored")
        n = check_survivors(load, r.port, "the restored daemon", acked_before=began)
        # deletes acknowledged before the backup stay deleted in it
        gone = {k: s for k, s in load.deleted.items() if load.created[k][1] < began}
        codes = {verify(r, s).get("code") for s in list(gone.values())[:20]}
        check(codes <= {"NOT_FOUND"}, f"keys deleted before the backup, restored: {codes}")
        c = Client(r)
        c.login(ADMIN_USER, ADMIN_PASS)    # the admin (and password) came with the backup
        check(len(list_keys(c)) >= n, "the restored admin lists the restored keys")
        r.stop()
        d.stop()
    finally:
        load.stop()
        d.kill()
        if r:
            r.kill()


def test_backup_of_a_folder_whose_daemon_was_killed_holds_what_is_in_the_wal():
    d = dedicated("backup-killed")
    r = None
    try:
        keys = [create_key(d.admin, scopes=("Tasks",))["key"] for _ in range(5)]
        d.kill()                           # SIGKILL: apikeyd.db-wal is left as it was
        check(os.path.getsize(os.path.join(d.data, "apikeyd.db-wal")) > 0, "a WAL is left")
        target = os.path.join(d.tmp, "after-kill.backup")
        rc, _, err = _backup("--data", d.data, target)
        eq((rc, err), (0, ""), "exit status and stderr")
        r = _restore(d, target, "backup-killed-restored")
        eq([verify(r, k).get("code") for k in keys], ["VALID"] * 5, "the keys in the copy")
        r.stop()
    finally:
        d.kill()
        if r:
            r.kill()


def test_a_plain_copy_of_apikeyd_db_while_serving_misses_acknowledged_keys():
    """The demonstration behind docs/DEPLOYMENT.md's warning: a file copy of apikeyd.db taken
    while the daemon runs has neither the keys nor the admin, which are in the WAL."""
    d = dedicated("backup-naive")
    r = None
    try:
        keys = [create_key(d.admin, scopes=("Tasks",))["key"] for _ in range(10)]
        wal = os.path.getsize(os.path.join(d.data, "apikeyd.db-wal"))
        # no checkpoint yet (SQLite checkpoints at 1000 pages), so this is deterministic
        check(wal < 1000 * 4096, f"the WAL ({wal} bytes) was checkpointed already")
        naive = os.path.join(d.tmp, "naive.db")
        shutil.copyfile(os.path.join(d.data, "apikeyd.db"), naive)
        r = Daemon("backup-naive-restored")          # bootstraps an admin of its own
        shutil.copyfile(naive, os.path.join(r.data, "apikeyd.db"))
        shutil.copyfile(os.path.join(d.data, "secret.key"), os.path.join(r.data, "secret.key"))
        r.start()
        eq({verify(r, k).get("code") for k in keys}, {"NOT_FOUND"},
           "keys acknowledged before the plain copy")
        eq(list_keys(r.admin), [], "the plain copy's admin (made anew at start) has no keys")
        r.stop()
        d.stop()
    finally:
        d.kill()
        if r:
            r.kill()


def test_backup_refuses_bad_usage_with_exit_2():
    for args, says in ((), "--data"), (("--data",), "--data"), (("some.db",), "--data"), \
            (("--data", "/tmp"), "FILE"), (("--data", "/tmp", "a.db", "b.db"), "one target"), \
            (("--data", "/tmp", "--bogus", "a.db"), "--bogus"), \
            (("--db", "postgresql://x/y", "a.db"), "pg_dump"):
        rc, out, err = _backup(*args)
        eq(rc, 2, f"apikeyd backup {' '.join(args)}: exit status")
        check(says in err, f"apikeyd backup {' '.join(args)}: stderr names {says!r}: {err!r}")
    rc, out, _ = _backup("--help")
    eq(rc, 0, "apikeyd backup --help")
    check("usage: apikeyd backup" in out, f"--help prints the usage: {out!r}")


def test_backup_failures_exit_1_naming_the_file_and_leave_nothing_behind():
    d = dedicated("backup-failures")
    try:
        tmp = d.tmp
        missing = os.path.join(tmp, "no-such-folder")
        rc, _, err = _backup("--data", missing, os.path.join(tmp, "a.db"))
        eq(rc, 1, "a data folder that does not exist")
        check(os.path.join(missing, "apikeyd.db") in err, f"names the database: {err!r}")
        junk = os.path.join(tmp, "junk")
        os.makedirs(junk)
        with open(os.path.join(junk, "apikeyd.db"), "wb") as f:
            f.write(b"this is not a database" * 100)
        rc, _, err = _backup("--data", junk, os.path.join(tmp, "b.db"))
        eq(rc, 1, "a data folder whose apikeyd.db is not a database")
        check(os.path.join(junk, "apikeyd.db") in err, f"names the database: {err!r}")
        eq(os.path.exists(os.path.join(tmp, "b.db")) or
           os.path.exists(os.path.join(tmp, "b.db.tmp")), False, "nothing written")
        rc, _, err = _backup("--data", d.data, os.path.join(tmp, "nowhere", "c.db"))
        eq(rc, 1, "a target in a folder that does not exist")
        check(os.path.join(tmp, "nowhere", "c.db") in err, f"names the target: {err!r}")
        # an existing target is kept unless --force
        target = os.path.join(tmp, "existing.db")
        with open(target, "wb") as f:
            f.write(b"keep me")
        rc, _, err = _backup("--data", d.data, target)
        eq(rc, 1, "an existing target without --force")
        check(target in err and "--force" in err, f"names the file and --force: {err!r}")
        with open(target, "rb") as f:
            eq(f.read(), b"keep me", "the existing target is untouched")
        eq(os.path.exists(target + ".tmp"), False, "no FILE.tmp left")
        k = create_key(d.admin, scopes=("Tasks",))["key"]
        rc, _, err = _backup("--data", d.data, "--force", target)
        eq((rc, err), (0, ""), "--force replaces it")
        # a FILE.tmp left by an interrupted backup is not taken over silently
        with open(target + "2.tmp", "wb") as f:
            f.write(b"left over")
        rc, _, err = _backup("--data", d.data, target + "2")
        eq(rc, 1, "FILE.tmp exists")
        check(target + "2.tmp" in err, f"names FILE.tmp: {err!r}")
        rc, _, err = _backup("--data", d.data, "--force", target + "2")
        eq((rc, err), (0, ""), "--force removes the leftover FILE.tmp")
        eq(os.path.exists(target + "2.tmp"), False, "no FILE.tmp left")
        d.stop()
        r = _restore(d, target, "backup-forced-restored")
        try:
            eq(verify(r, k).get("code"), "VALID", "the forced backup holds the latest key")
            r.stop()
        finally:
            r.kill()
    finally:
        d.kill()
