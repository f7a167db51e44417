"""Attacks on issue 12, item 11 (no lost updates): a user's own writes racing an admin's.

The user keeps writing to their own account from threads (PATCH /v1/me with a new full name,
and POST /v1/me/password that sets the same password again, whose Argon2id checks keep a
read-then-write open for a long time) while an admin disables them, takes a role away or
resets their password. The admin's change must stay: afterwards the user is disabled (no
login, their key answers DISABLED), lacks the role, or the old password fails; on SQLite
also after a restart (the store is what counts, not the node's memory), and on two nodes
sharing PostgreSQL on both nodes. A TOTP code must never sign in twice while such writes
run (a write of the whole row used to put an older `mfa_last_step` back).

Each race runs for a bounded time (RACE_SECONDS around the admin's change). The two-node
tests reuse suite_cluster's throwaway PostgreSQL.
"""
import os
import threading
import time

from run import Client, check, create_key, dedicated, eq, expect, role_names, uniq_user, verify
from suite_cluster import _fresh_database, _kill_all, _nodes, _stop_all
from suite_identity import mfa_on, totp

RACE_SECONDS = 1.5          # the loops run this long before the admin's change, and after it
LOOP_ENV = {"APIKEYD_VERIFY_MAX_FAILURES": "1000000", "APIKEYD_LOGIN_MAX_FAILURES": "1000"}


def _new_pw():
    return "pw-" + os.urandom(8).hex()


def _user(d, roles=None, admin=None):
    """A local user made by the admin (or the admin client given); returns (name, password,
    client logged in on d)."""
    name, pw = uniq_user("race"), _new_pw()
    body = {"username": name, "password": pw}
    if roles is not None:
        body["roles"] = roles
    expect((admin or d.admin).request("POST", "/v1/users", json=body), 201,
           what=f"create user {name}")
    c = Client(d)
    c.login(name, pw)
    return name, pw, c


def _same_session(c, d):
    """Another client on the same session (the password change keeps only its own session)."""
    o = Client(d)
    o.cookie, o.csrf = c.cookie, c.csrf
    return o


class SelfServiceLoops:
    """Threads that keep writing to the user's own account through the session of `c`, on
    each daemon of `daemons`, until stop(). A 5xx answer is recorded as an error."""

    def __init__(self, c, daemons, password, profile=True, passwords=True):
        self.stopping = threading.Event()
        self.errors = []
        self.counts = {}
        self.lock = threading.Lock()
        self.threads = []
        for d in daemons:
            if profile:
                for _ in range(2):
                    self._spawn(self._profile, _same_session(c, d))
            if passwords:
                self._spawn(self._password, _same_session(c, d), password)

    def _spawn(self, fn, *args):
        t = threading.Thread(target=self._run, args=(fn,) + args, daemon=True)
        self.threads.append(t)

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _run(self, fn, *args):
        try:
            while not self.stopping.is_set():
                r = fn(*args)
                with self.lock:
                    self.counts[(r.method, r.status)] = self.counts.get((r.method, r.status), 0) + 1
                if r.status >= 500:
                    self.errors.append(f"{r.method} {r.path} -> {r.status}")
                if r.status == 401:  # the session ended (disabled, reset): keep trying a bit
                    time.sleep(0.01)
        except Exception as e:  # noqa: BLE001 - reported by stop()
            self.errors.append(f"{type(e).__name__}: {e}")

    @staticmethod
    def _profile(c):
        return c.request("PATCH", "/v1/me", json={"full_name": "looping " + os.urandom(3).hex()})

    @staticmethod
    def _password(c, pw):
        return c.request("POST", "/v1/me/password",
                         json={"current_password": pw, "new_password": pw})

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(30)
        check(not any(t.is_alive() for t in self.threads), "a write loop did not stop")
        check(not self.errors, f"the user's writes during the race: {self.errors[:3]}")
        check(self.counts.get(("PATCH", 200), 0) > 0 and
              sum(n for (m, s), n in self.counts.items() if m == "POST") > 0,
              f"the loops did not run (answers: {self.counts})")


def _race(c, daemons, password, admin_change):
    """Runs the loops, makes the admin's change in the middle, then stops the loops."""
    loops = SelfServiceLoops(c, daemons, password).start()
    try:
        time.sleep(RACE_SECONDS)
        admin_change()
        time.sleep(RACE_SECONDS)
    finally:
        loops.stop()


def _login_status(d, name, pw):
    return Client(d).request("POST", "/v1/login", json={"username": name, "password": pw}).status


# ---- the three admin changes, and what must hold after each ------------------------------

def _disable(admin, name):
    expect(admin.request("PATCH", f"/v1/users/{name}", json={"disabled": True}), 200,
           what="the admin disables the user")


def _disabled_holds(d, name, pw, key, what):
    r = expect(d.admin.request("GET", f"/v1/users/{name}"), 200)
    eq(r.body.get("disabled"), True, f"{what}: the user's `disabled`")
    eq(_login_status(d, name, pw), 401, f"{what}: login of the disabled user")
    eq(verify(d, key["key"]).get("code"), "DISABLED", f"{what}: the disabled user's key")


def _remove_admin_role(admin, name):
    expect(admin.request("PATCH", f"/v1/users/{name}", json={"roles": ["user"]}), 200,
           what="the admin takes the admin role away")


def _role_removed_holds(d, name, pw, key, what):
    r = expect(d.admin.request("GET", f"/v1/users/{name}"), 200)
    eq(role_names(r.body.get("roles")), ["user"], f"{what}: the user's roles")
    c = Client(d)
    c.login(name, pw)
    expect(c.request("GET", "/v1/users"), 403, what=f"{what}: listing users without admin")


def _reset(new_pw):
    def change(admin, name):
        expect(admin.request("PATCH", f"/v1/users/{name}", json={"password": new_pw}), 200,
               what="the admin resets the password")
    return change


def _reset_holds(new_pw):
    def holds(d, name, pw, key, what):
        eq(_login_status(d, name, pw), 401, f"{what}: login with the password before the reset")
        eq(_login_status(d, name, new_pw), 200, f"{what}: login with the reset password")
    return holds


# ---- SQLite: one daemon, then the same checks after a restart ----------------------------

def _sqlite_race(roles, change, holds):
    d = dedicated("races", env=LOOP_ENV)
    try:
        name, pw, c = _user(d, roles)
        key = create_key(c, scopes=("Tasks",))
        _race(c, [d], pw, lambda: change(d.admin, name))
        holds(d, name, pw, key, "right after the race")
        d.stop()
        d.start()
        holds(d, name, pw, key, "after a restart")
        d.stop()
    finally:
        d.kill()


def test_race_admin_disable_wins_over_the_users_own_writes_on_sqlite():
    _sqlite_race(None, _disable, _disabled_holds)


def test_race_admin_role_removal_wins_over_the_users_own_writes_on_sqlite():
    _sqlite_race(["admin", "user"], _remove_admin_role, _role_removed_holds)


def test_race_admin_password_reset_wins_over_the_users_own_writes_on_sqlite():
    new = _new_pw()
    _sqlite_race(None, _reset(new), _reset_holds(new))


# ---- PostgreSQL: two nodes, the admin on one, the user's writes on both ------------------

def _cluster_race(roles, change, holds):
    a, b = _nodes(2, _fresh_database(), env=LOOP_ENV)
    try:
        name, pw, c = _user(a, roles)
        key = create_key(c, scopes=("Tasks",))
        _race(c, [a, b], pw, lambda: change(a.admin, name))
        time.sleep(0.5)                      # the change feed reaches the other node
        holds(a, name, pw, key, "node A right after the race")
        holds(b, name, pw, key, "node B right after the race")
        _stop_all([a, b])
        a.start()
        b.start()
        holds(b, name, pw, key, "node B after both restarted")
        _stop_all([a, b])
    finally:
        _kill_all([a, b])


def test_race_admin_disable_wins_over_the_users_own_writes_on_two_postgresql_nodes():
    _cluster_race(None, _disable, _disabled_holds)


def test_race_admin_role_removal_wins_over_the_users_own_writes_on_two_postgresql_nodes():
    _cluster_race(["admin", "user"], _remove_admin_role, _role_removed_holds)


def test_race_admin_password_reset_wins_over_the_users_own_writes_on_two_postgresql_nodes():
    new = _new_pw()
    _cluster_race(None, _reset(new), _reset_holds(new))


# ---- TOTP: one code signs in once, whatever the user writes meanwhile --------------------

def test_race_totp_code_is_never_accepted_twice_while_profile_writes_run():
    d = dedicated("races-totp", env=LOOP_ENV)
    try:
        name, pw, c = _user(d)
        c.username, c.password = name, pw
        secret, t = mfa_on(c)
        code = totp(secret, t + 30)           # the next step's code: unused, inside the window
        loops = SelfServiceLoops(c, [d], pw).start()
        accepted = 0
        try:
            deadline = time.monotonic() + 2 * RACE_SECONDS
            while time.monotonic() < deadline:
                r = Client(d).request("POST", "/v1/login",
                                      json={"username": name, "password": pw, "otp": code})
                check(r.status in (200, 401), f"login with the code: {r.status} {r.body!r}")
                accepted += r.status == 200
        finally:
            loops.stop()
        eq(accepted, 1, "logins the one code was accepted for")
        d.stop()
    finally:
        d.kill()


# ---- a reset ends every session the old password gave, also one a login was making --------

def _login_loop_race(daemons, admin_daemon):
    """Threads log in with the user's password on every daemon while the admin resets it;
    afterwards every session those logins got is ended (GET /v1/me 401) and the old password
    fails."""
    name, pw, _ = _user(admin_daemon)
    new = _new_pw()
    stopping = threading.Event()
    sessions, errors = [], []

    def loop(d):
        try:
            while not stopping.is_set():
                c = Client(d)
                r = c.request("POST", "/v1/login", json={"username": name, "password": pw})
                if r.status == 200:
                    sessions.append(c)
                elif r.status != 401:
                    errors.append(f"login -> {r.status}")
        except Exception as e:  # noqa: BLE001
            errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=loop, args=(d,), daemon=True)
               for d in daemons for _ in range(2)]
    for t in threads:
        t.start()
    try:
        time.sleep(RACE_SECONDS)
        _reset(new)(admin_daemon.admin, name)
        time.sleep(RACE_SECONDS)
    finally:
        stopping.set()
        for t in threads:
            t.join(30)
    check(not errors, f"logins during the race: {errors[:3]}")
    check(sessions, "no login succeeded before the reset")
    time.sleep(0.2)
    alive = [c for c in sessions if c.request("GET", "/v1/me").status != 401]
    eq(len(alive), 0, f"sessions of the old password still open after the reset "
                      f"(of {len(sessions)})")
    for d in daemons:
        eq(_login_status(d, name, pw), 401, "login with the password before the reset")


def test_race_password_reset_ends_sessions_of_logins_in_flight_on_sqlite():
    d = dedicated("races-login", env=LOOP_ENV)
    try:
        _login_loop_race([d], d)
        d.stop()
    finally:
        d.kill()


def test_race_password_reset_ends_sessions_of_logins_in_flight_on_two_postgresql_nodes():
    a, b = _nodes(2, _fresh_database(), env=LOOP_ENV)
    try:
        _login_loop_race([a, b], a)
        _stop_all([a, b])
    finally:
        _kill_all([a, b])


# ---- the last admin: two admins disabling each other at once leave one -------------------

def _two_admins_race(node_a, node_b, rounds=8):
    """Each round: two fresh admins X (on node A) and Y (on node B) are the only enabled
    admins; X disables Y while Y disables X. Exactly one wins; one enabled admin is left."""
    boss = node_a.admin
    boss_name = "admin"
    for i in range(rounds):
        xn, _, xc = _user(node_a, ["admin"], admin=boss)
        yn, _, yc = _user(node_b, ["admin"], admin=boss)
        expect(boss.request("PATCH", f"/v1/users/{boss_name}", json={"disabled": True}), 200,
               what=f"round {i}: the previous admin steps down")
        go = threading.Barrier(2)
        out = {}

        def disable(who, client, target):
            go.wait(10)
            out[who] = client.request("PATCH", f"/v1/users/{target}", json={"disabled": True})

        ts = [threading.Thread(target=disable, args=("x", xc, yn)),
              threading.Thread(target=disable, args=("y", yc, xn))]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        statuses = sorted(r.status for r in out.values())
        # the loser is refused: 409 (last admin), or 401 when the winner's change ended its
        # session before its own request was read
        check(statuses in ([200, 409], [200, 401]),
              f"round {i}: the two admins disabling each other: {statuses}, expected one 200")
        winner_name, boss = (xn, xc) if out["x"].status == 200 else (yn, yc)
        boss_name = winner_name
        enabled = [u for u in expect(boss.request("GET", "/v1/users"), 200).body["users"]
                   if not u.get("disabled") and "admin" in role_names(u.get("roles"))]
        eq(len(enabled), 1, f"round {i}: enabled admins left")


def test_race_two_admins_disabling_each_other_leave_one_on_sqlite():
    d = dedicated("races-admins", env=LOOP_ENV)
    try:
        _two_admins_race(d, d)
        d.stop()
    finally:
        d.kill()


def test_race_two_admins_disabling_each_other_leave_one_on_two_postgresql_nodes():
    a, b = _nodes(2, _fresh_database(), env=LOOP_ENV)
    try:
        _two_admins_race(a, b)
        _stop_all([a, b])
    finally:
        _kill_all([a, b])
