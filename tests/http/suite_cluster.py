"""Several apikeyd nodes on one PostgreSQL (issue 6): revocation that no node misses,
fail-closed when a node loses the database, recovery, and nothing lost to SIGKILL.

A throwaway PostgreSQL cluster is started on loopback by scripts/pg-test-cluster.sh (as the
postgres user, data in a temp dir) the first time a test needs it, and stopped at exit.
Each test gets its own database, so tests do not see each other's keys.
"""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from run import (REPO, Client, Daemon, _TMPDIRS, check, create_key, eq, expect, uniq,
                 verify)

PG_SCRIPT = os.path.join(REPO, "scripts", "pg-test-cluster.sh")
STALE_MS = 1000                      # the nodes' bound for an unsure view, kept short here
_PG = {}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_cluster():
    """Starts the shared throwaway cluster once; returns (dir, port, base_url)."""
    if "url" not in _PG:
        d = tempfile.mkdtemp(prefix="apikeyd-test-pg-")
        os.chmod(d, 0o755)                     # the postgres user must reach the data below
        _TMPDIRS.append(d)
        port = _free_port()
        out = subprocess.run(["bash", PG_SCRIPT, "start", os.path.join(d, "cluster"), str(port)],
                             capture_output=True, text=True, timeout=120)
        check(out.returncode == 0, f"could not start PostgreSQL: {out.stderr[-400:]}")
        _PG.update(dir=os.path.join(d, "cluster"), port=port, url=out.stdout.strip())
        atexit.register(_pg_stop)
    return _PG["dir"], _PG["port"], _PG["url"]


def _pg_stop():
    if "dir" in _PG:
        subprocess.run(["bash", PG_SCRIPT, "stop", _PG["dir"]], capture_output=True, timeout=60)


def _pg_ctl(action):
    """Stops or starts the running cluster in place (same data, same port)."""
    d, port, _ = _pg_cluster()
    bins = sorted(os.listdir("/usr/lib/postgresql"))
    pg_ctl = f"/usr/lib/postgresql/{bins[-1]}/bin/pg_ctl"
    cmd = [pg_ctl, "-D", os.path.join(d, "data"), "-w", "-t", "30"]
    if action == "stop":
        cmd += ["-m", "fast", "stop"]
    else:
        cmd += ["-l", os.path.join(d, "server.log"), "-o",
                f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={d}"
                " -c fsync=off", "start"]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, f"pg_ctl {action} failed: {out.stderr[-300:]}")


def _fresh_database():
    """A new empty database on the cluster; returns its URL."""
    d, port, url = _pg_cluster()
    name = "apikeyd_" + os.urandom(6).hex()
    bins = sorted(os.listdir("/usr/lib/postgresql"))
    createdb = f"/usr/lib/postgresql/{bins[-1]}/bin/createdb"
    cmd = [createdb, "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", name]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, f"createdb failed: {out.stderr[-300:]}")
    return url.rsplit("/", 1)[0] + "/" + name


def _nodes(n, url, env=None):
    """n started nodes on one database (they share one server key, as a deployment must)."""
    nodes = []
    key_dir = tempfile.mkdtemp(prefix="apikeyd-test-key-")
    _TMPDIRS.append(key_dir)
    e = {"APIKEYD_STALE_AFTER_MS": str(STALE_MS),
         "APIKEYD_SECRET_KEY_FILE": os.path.join(key_dir, "secret.key"),
         "APIKEYD_VERIFY_MAX_FAILURES": "1000000"}
    e.update(env or {})
    for i in range(n):
        nodes.append(Daemon(f"node{i}", env=e, db_url=url).start())
    return nodes


def _stop_all(nodes):
    for d in nodes:
        d.stop()


def _kill_all(nodes):
    for d in nodes:
        d.kill()


def _poll(fn, until, timeout, step=0.001):
    """Calls fn until until(result) or timeout seconds; returns (result, seconds waited)."""
    start = time.monotonic()
    while True:
        r = fn()
        waited = time.monotonic() - start
        if until(r) or waited > timeout:
            return r, waited
        time.sleep(step)


def test_key_created_on_one_node_verifies_on_another():
    a, b = _nodes(2, _fresh_database())
    try:
        k = create_key(a.admin, scopes=("Tasks",))
        body, _ = _poll(lambda: verify(b, k["key"]), lambda r: r.get("code") == "VALID", 2.0)
        eq(body.get("code"), "VALID", "node B verifies a key node A created")
        eq(body.get("created_by"), "admin", "created_by on node B")
        _stop_all([a, b])
    finally:
        _kill_all([a, b])


def test_key_deleted_on_node_a_is_refused_by_node_b_quickly_worst_of_20():
    a, b = _nodes(2, _fresh_database())
    try:
        worst = 0.0
        for i in range(20):
            k = create_key(a.admin, name=uniq("revoke"), scopes=("Tasks",))
            _poll(lambda: verify(b, k["key"]), lambda r: r.get("code") == "VALID", 2.0)
            r = a.admin.request("DELETE", f"/v1/keys/{k['id']}")
            expect(r, 204, what="delete on node A")
            body, waited = _poll(lambda: verify(b, k["key"]),
                                 lambda r: r.get("code") == "NOT_FOUND", 2.0)
            eq(body.get("code"), "NOT_FOUND", f"node B after the delete on node A (round {i})")
            worst = max(worst, waited)
        print(f"     revocation seen by the other node: worst of 20 = {worst * 1000:.1f} ms "
              "(goal 50 ms)", flush=True)
        # the goal is 50 ms; the assertion leaves room for a noisy 2-core machine
        check(worst < 0.5, f"node B refused the deleted key only after {worst * 1000:.0f} ms")
        _stop_all([a, b])
    finally:
        _kill_all([a, b])


def test_disabling_a_user_on_one_node_disables_their_keys_on_another():
    a, b = _nodes(2, _fresh_database())
    try:
        name, pw = "u" + os.urandom(4).hex(), "pw-" + os.urandom(8).hex()
        expect(a.admin.request("POST", "/v1/users", json={"username": name, "password": pw}), 201)
        c = Client(a)
        c.login(name, pw)
        k = create_key(c, scopes=("Tasks",))
        _poll(lambda: verify(b, k["key"]), lambda r: r.get("code") == "VALID", 2.0)
        expect(a.admin.request("PATCH", f"/v1/users/{name}", json={"disabled": True}), 200)
        body, _ = _poll(lambda: verify(b, k["key"]), lambda r: r.get("code") == "DISABLED", 2.0)
        eq(body.get("code"), "DISABLED", "node B after the user was disabled on node A")
        _stop_all([a, b])
    finally:
        _kill_all([a, b])


def test_membership_removed_on_one_node_is_seen_by_another():
    a, b = _nodes(2, _fresh_database())
    try:
        p = expect(a.admin.request("POST", "/v1/projects", json={"name": uniq("p")}), 201).body
        acct = expect(a.admin.request("POST", "/v1/service-accounts",
                                      json={"name": uniq("bot"), "project": p["id"]}), 201).body
        k = expect(a.admin.request("POST", f"/v1/service-accounts/{acct['id']}/keys",
                                   json={"name": uniq("k"), "scopes": ["Tasks"]}), 201).body
        ask = {"key": k["key"], "project": p["id"], "role": "contributor"}
        body, _ = _poll(lambda: Client(b).request("POST", "/v1/verify", json=ask).body,
                        lambda r: r.get("code") == "VALID", 2.0)
        eq(body.get("code"), "VALID", "account key in its project on node B")
        expect(a.admin.request("DELETE", f"/v1/projects/{p['id']}/members/"
                                         f"service-account:{acct['id']}"), 204)
        body, _ = _poll(lambda: Client(b).request("POST", "/v1/verify", json=ask).body,
                        lambda r: r.get("code") == "INSUFFICIENT_ROLE", 2.0)
        eq(body.get("code"), "INSUFFICIENT_ROLE", "node B after the membership was removed")
        _stop_all([a, b])
    finally:
        _kill_all([a, b])


def test_node_that_lost_the_database_answers_unavailable_then_recovers():
    a, = _nodes(1, _fresh_database())
    try:
        k = create_key(a.admin, scopes=("Tasks",))
        eq(verify(a, k["key"]).get("code"), "VALID", "before the database stops")
        _pg_ctl("stop")
        try:
            body, waited = _poll(lambda: verify(a, k["key"]),
                                 lambda r: r.get("code") == "UNAVAILABLE", STALE_MS / 1000 + 5,
                                 step=0.05)
            eq(body.get("code"), "UNAVAILABLE", "verify once the node cannot be sure")
            eq(body.get("valid"), False, "valid while unsure")
            r = Client(a).request("GET", "/v1/auth", headers={"X-API-Key": k["key"],
                                                                "X-Required-Scope": "*"})
            expect(r, 503, "unavailable", what="/v1/auth while unsure")
        finally:
            _pg_ctl("start")
        body, waited = _poll(lambda: verify(a, k["key"]), lambda r: r.get("code") == "VALID",
                             20.0, step=0.1)
        eq(body.get("code"), "VALID", f"verify after the database returned ({waited:.1f} s)")
        _stop_all([a])
    finally:
        _kill_all([a])


def test_readyz_sends_traffic_away_from_a_node_that_lost_the_database():
    a, = _nodes(1, _fresh_database())
    try:
        expect(Client(a).request("GET", "/readyz"), 200, what="/readyz before")
        _pg_ctl("stop")
        try:
            r, waited = _poll(lambda: Client(a).request("GET", "/readyz"),
                              lambda r: r.status == 503, STALE_MS / 1000 + 10, step=0.05)
            expect(r, 503, "unavailable", what=f"/readyz without the database ({waited:.1f} s)")
            eq(r.headers.get("Retry-After"), "1", "Retry-After")
            expect(Client(a).request("GET", "/healthz"), 200, what="/healthz: still alive")
        finally:
            _pg_ctl("start")
        r, waited = _poll(lambda: Client(a).request("GET", "/readyz"), lambda r: r.status == 200,
                          20.0, step=0.1)
        expect(r, 200, what=f"/readyz after the database returned ({waited:.1f} s)")
        _stop_all([a])
    finally:
        _kill_all([a])


def test_sigkill_loses_nothing_acknowledged_and_other_nodes_keep_serving():
    url = _fresh_database()
    a, b = _nodes(2, url)
    try:
        k = create_key(a.admin, scopes=("Tasks",))
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(10)
        a.proc = None
        body, _ = _poll(lambda: verify(b, k["key"]), lambda r: r.get("code") == "VALID", 2.0)
        eq(body.get("code"), "VALID", "node B serves after node A was killed")
        a.start()                              # same database: the acknowledged key is there
        eq(verify(a, k["key"]).get("code"), "VALID", "node A after its restart")
        _stop_all([a, b])
    finally:
        _kill_all([a, b])


def test_several_nodes_start_at_once_on_an_empty_database():
    url = _fresh_database()
    nodes = []
    try:
        ds = [Daemon(f"race{i}", db_url=url,
                     env={"APIKEYD_STALE_AFTER_MS": str(STALE_MS)}) for i in range(3)]
        import threading
        errors = []

        def start(d):
            try:
                d.start()
                nodes.append(d)
            except AssertionError as e:          # reported below
                errors.append(str(e))
        ts = [threading.Thread(target=start, args=(d,)) for d in ds]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        eq(errors, [], "every node started (migrations and bootstrap raced safely)")
        k = create_key(nodes[0].admin, scopes=("Tasks",))
        for d in nodes:
            body, _ = _poll(lambda: verify(d, k["key"]), lambda r: r.get("code") == "VALID", 2.0)
            eq(body.get("code"), "VALID", f"node {d.label}")
        _stop_all(nodes)
    finally:
        _kill_all(nodes)


def test_used_from_each_node_records_what_it_saw_and_the_lists_merge_by_time():
    """Issue 17, item 5 over PostgreSQL: node B sees the test itself, then node A two
    clients, then node B another; the key's last_used_from (read on either node) holds all
    four, newest first."""
    a, b = _nodes(2, _fresh_database())
    try:
        k = create_key(a.admin, scopes=("Tasks",))
        _poll(lambda: verify(b, k["key"]), lambda r: r.get("code") == "VALID", 2.0)
        time.sleep(1.1)        # that verification (from 127.0.0.1 on B) is the oldest

        def seen(node, address):
            r = Client(node).request("GET", "/v1/auth", headers={
                "Authorization": f"Bearer {k['key']}", "X-Required-Scope": "*",
                "X-Forwarded-For": address})
            eq(r.status, 204, f"GET /v1/auth on {node.label} for {address}")
        seen(a, "198.51.100.1")
        seen(a, "198.51.100.2")
        time.sleep(1.1)        # B's sighting is a second newer than A's
        seen(b, "203.0.113.3")
        want = ["203.0.113.3", "198.51.100.2", "198.51.100.1", "127.0.0.1"]

        def addresses(node):
            r = node.admin.request("GET", f"/v1/keys/{k['id']}")
            eq(r.status, 200, "GET the key")
            return [x["address"] for x in r.body["last_used_from"]]
        for node in (a, b):
            got, _ = _poll(lambda: addresses(node), lambda g: g == want, 5.0, 0.2)
            eq(got, want, f"last_used_from read on {node.label}")
        _stop_all([a, b])
    finally:
        _kill_all([a, b])
