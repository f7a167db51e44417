#!/usr/bin/env python3
"""HTTP tests for apikeyd: real requests to a real daemon.

Starts build/apikeyd (or $APIKEYD_BIN) on 127.0.0.1 with a free port and a fresh
temporary data directory, and checks its HTTP API against docs/API.md and the product
contract (SPEC.md). Standard library only.

    python3 tests/http/run.py            # every test
    python3 tests/http/run.py verify     # tests whose name contains "verify"
    python3 tests/http/run.py --jobs 2   # every test, in two worker processes

With --jobs N, N worker processes take the test files (run.py's own tests are one file) one
at a time from a shared list, slowest first by the durations of the last run (kept in
$APIKEYD_TEST_OUTPUT or build/), so the files run side by side; each file's tests run in
order in one worker, each worker with daemons of its own.

Every response a Client receives is also checked against the OpenAPI document
(web/openapi.json) by openapi_check.py: an undocumented route or status, or a body that does
not match its schema, fails the test.

Prints `ok   NAME` or `FAIL NAME: REASON` per test and finally `N passed, N failed`;
exits 1 if anything failed. $APIKEYD_TEST_OUTPUT, when set, receives the daemons' logs.
$APIKEYD_TEST_KEEP=1 keeps the temporary directories.

Most tests share one daemon and keep out of each other's way by using their own users
and unique names. Restart, bootstrap and throttling tests start daemons of their own.
Every wait is bounded; nothing but 127.0.0.1 is ever contacted.
"""

import base64
import calendar
import glob
import importlib
import hashlib
import http.client
import json as jsonlib
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import zlib

import openapi_check

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("APIKEYD_BIN") or os.path.join(REPO, "build", "apikeyd")

ADMIN_USER = "admin"
ADMIN_PASS = "correct-horse-battery"
DEFAULT_SCOPES = ["Authentication", "PublishApp", "PublishAimms", "Tasks", "APIKey",
                  "Session", "Secret", "User", "Account"]
PROBLEM = "urn:apikeyd:problem:"
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KEY_RE = re.compile(r"^apk_[0-9A-Za-z]{49}$")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
KEY_FIELDS = ["id", "name", "description", "hint", "scopes", "created_at", "expires_at",
              "last_used_at", "last_used_from", "created_by"]
DAY = 86400
HTTP_TIMEOUT = 10.0          # seconds, every socket operation
START_TIMEOUT = 10.0         # daemon must answer /healthz within this
STOP_TIMEOUT = 10.0          # daemon must exit 0 within this after SIGTERM


# --------------------------------------------------------------------------- asserts

def snippet(raw, n=300):
    if raw is None:
        return ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return text if len(text) <= n else text[:n] + "..."


def eq(got, expected, what):
    if got != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {got!r}")


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def expect(r, status, ptype=None, what=None):
    """Assert the response status (and problem type suffix, for errors)."""
    label = what or f"{r.method} {r.path_short}"
    if r.status != status:
        raise AssertionError(f"{label}: expected status {status}, got {r.status} "
                             f"(body: {snippet(r.raw)})")
    if ptype is not None:
        got = r.body.get("type") if isinstance(r.body, dict) else None
        eq(got, PROBLEM + ptype, f"{label}: problem type")
    return r


def expect_one_of(r, allowed, what=None):
    """allowed: {status: problem-type-suffix}."""
    label = what or f"{r.method} {r.path_short}"
    if r.status not in allowed:
        raise AssertionError(f"{label}: expected status in {sorted(allowed)}, got {r.status} "
                             f"(body: {snippet(r.raw)})")
    return expect(r, r.status, allowed[r.status], what)


def expect_error_field(r, field):
    errors = r.body.get("errors") if isinstance(r.body, dict) else None
    fields = [e.get("field") for e in errors or [] if isinstance(e, dict)]
    if field not in fields:
        raise AssertionError(f"{r.method} {r.path_short}: expected an `errors` entry with "
                             f"field {field!r}, got errors {errors!r}")


def assert_problem(r):
    """Every error is an RFC 9457 problem document (API.md, Errors)."""
    label = f"{r.method} {r.path_short} -> {r.status}"
    ctype = (r.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ctype != "application/problem+json":
        raise AssertionError(f"{label}: expected Content-Type application/problem+json, "
                             f"got {r.headers.get('Content-Type')!r} (body: {snippet(r.raw)})")
    b = r.body
    if not isinstance(b, dict):
        raise AssertionError(f"{label}: expected a JSON object problem document, "
                             f"got {snippet(r.raw)!r}")
    for f, t in (("type", str), ("title", str), ("status", int), ("detail", str)):
        if not isinstance(b.get(f), t) or isinstance(b.get(f), bool):
            raise AssertionError(f"{label}: expected problem member {f!r} of type "
                                 f"{t.__name__}, got {b.get(f)!r}")
    eq(b["status"], r.status, f"{label}: problem `status` member")
    check(b["type"].startswith(PROBLEM),
          f"{label}: expected problem type starting {PROBLEM!r}, got {b['type']!r}")
    if r.status == 422:
        errs = b.get("errors")
        check(isinstance(errs, list) and errs and all(
            isinstance(e, dict) and isinstance(e.get("field"), str)
            and isinstance(e.get("detail"), str) for e in errs),
            f"{label}: expected non-empty `errors` list of {{field, detail}}, got {errs!r}")
    else:
        check("errors" not in b, f"{label}: expected no `errors` member outside 422, "
                                 f"got {b.get('errors')!r}")


# --------------------------------------------------------------------------- time

def now():
    return time.time()


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


def ts(value, what):
    if not isinstance(value, str) or not TS_RE.match(value):
        raise AssertionError(f"{what}: expected an RFC 3339 UTC time like "
                             f"2026-11-22T22:14:49Z, got {value!r}")
    return calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))


def near(got, expected, tolerance, what):
    if abs(got - expected) > tolerance:
        raise AssertionError(f"{what}: expected {iso(expected)} (+-{tolerance}s), "
                             f"got {iso(got)}")


def one_year_after(epoch):
    """Same month, day and time a year later; 29 February maps to 28 February."""
    t = time.gmtime(int(epoch))
    day = 28 if (t.tm_mon == 2 and t.tm_mday == 29) else t.tm_mday
    return calendar.timegm((t.tm_year + 1, t.tm_mon, day, t.tm_hour, t.tm_min, t.tm_sec,
                            0, 0, 0))


def wait_until(fn, timeout, interval=0.1):
    """Poll fn() until truthy or timeout; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# --------------------------------------------------------------------------- keys

def b62(n, width):
    out = []
    for _ in range(width):
        n, r = divmod(n, 62)
        out.append(B62[r])
    check(n == 0, "b62: number too large for width")
    return "".join(reversed(out))


def checksum(s):
    return b62(zlib.crc32(s.encode()) & 0xFFFFFFFF, 6)


def forge_key():
    """A well-formed key with a correct checksum that nobody issued."""
    s = "apk_" + b62(int.from_bytes(os.urandom(32), "big"), 43)
    return s + checksum(s)


_seq = [0]


def uniq(prefix="k"):
    _seq[0] += 1
    return f"{prefix}-{_seq[0]}-{os.urandom(3).hex()}"


def uniq_user(prefix="u"):
    _seq[0] += 1
    return f"{prefix}{_seq[0]}x{os.urandom(4).hex()}"


# --------------------------------------------------------------------------- daemon

_LIVE = []           # daemons with a running process
_WORKER = os.environ.get("APIKEYD_TEST_WORKER", "")  # "w1-" in worker 1 of --jobs N
_TMPDIRS = []
_daemon_seq = [0]


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


class Daemon:
    """One apikeyd data directory; start() / stop() may be called repeatedly."""

    def __init__(self, label, bootstrap=f"{ADMIN_USER}:{ADMIN_PASS}", env=None, db_url=None,
                 port=None, tls=None):
        _daemon_seq[0] += 1
        self.seq = _daemon_seq[0]
        self.label = label
        self.tmp = tempfile.mkdtemp(prefix=f"apikeyd-test-{label}-")
        _TMPDIRS.append(self.tmp)
        self.data = os.path.join(self.tmp, "data")
        os.makedirs(self.data)
        self.bootstrap = bootstrap
        self.env = dict(env or {})
        self.db_url = db_url         # PostgreSQL store instead of SQLite in self.data
        self.fixed_port = port       # listen there (a provider's redirect URI names it)
        # tls: (certificate file, key file) to serve TLS with; the clients then speak TLS,
        # trusting that certificate (self.tls_context)
        self.tls_context = None
        if tls:
            self.env.setdefault("APIKEYD_TLS_CERT_FILE", tls[0])
            self.env.setdefault("APIKEYD_TLS_KEY_FILE", tls[1])
            self.tls_context = ssl.create_default_context(cafile=tls[0])
        self.proc = None
        self.port = None
        self.starts = 0
        self.log_paths = []          # stderr and stdout of every start
        self.secrets = []            # every key secret this daemon issued
        self._admin = None

    # -- life
    def start(self):
        if not (os.path.isfile(BIN) and os.access(BIN, os.X_OK)):
            raise AssertionError(f"daemon binary {BIN} not found or not executable "
                                 "(set APIKEYD_BIN)")
        env = {k: v for k, v in os.environ.items() if not k.startswith("APIKEYD_")}
        if self.bootstrap:
            env["APIKEYD_BOOTSTRAP_ADMIN"] = self.bootstrap
        env.update(self.env)
        for attempt in range(3):
            self.port = self.fixed_port or free_port()
            self.starts += 1
            err_path = os.path.join(self.tmp, f"stderr-{self.starts}.log")
            out_path = os.path.join(self.tmp, f"stdout-{self.starts}.log")
            self.log_paths += [err_path, out_path]
            self.stderr_path = err_path
            with open(err_path, "wb") as err, open(out_path, "wb") as out:
                self.proc = subprocess.Popen(
                    [BIN, "--listen", f"127.0.0.1:{self.port}", "--data", self.data] +
                    (["--db", self.db_url] if self.db_url else []),
                    env=env, cwd=self.tmp, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            _LIVE.append(self)
            deadline = time.monotonic() + START_TIMEOUT
            healthy = False
            while time.monotonic() < deadline and self.proc.poll() is None:
                if self._healthy():
                    healthy = True
                    break
                time.sleep(0.05)
            if healthy:
                self._admin = None
                return self
            if self.proc.poll() is None:
                self.kill()
                raise AssertionError(f"daemon did not answer GET /healthz 200 within "
                                     f"{START_TIMEOUT:.0f} s; stderr: "
                                     f"{snippet(self.read_log(err_path)[-600:])}")
            rc = self.proc.returncode
            _LIVE.remove(self)
            self.proc = None
            log = self.read_log(err_path)
            if attempt < 2 and b"in use" in log.lower():
                continue
            self.copy_logs()
            raise AssertionError(f"daemon exited with status {rc} before answering /healthz; "
                                 f"stderr: {snippet(log[-600:])}")
        raise AssertionError("could not start the daemon on a free port")

    def _healthy(self):
        try:
            c = self.http_connection(timeout=1.0)
            try:
                c.request("GET", "/healthz")
                return c.getresponse().status == 200
            finally:
                c.close()
        except (OSError, http.client.HTTPException):
            return False

    def http_connection(self, timeout=HTTP_TIMEOUT):
        """An http.client connection to the daemon: HTTPS when it serves TLS."""
        if self.tls_context:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=self.tls_context)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def connect(self, timeout=HTTP_TIMEOUT):
        """A socket to the daemon, wrapped in TLS when it serves TLS."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        if self.tls_context:
            sock = self.tls_context.wrap_socket(sock, server_hostname="127.0.0.1")
        return sock

    def stop(self, sig=signal.SIGTERM):
        """Signal the daemon and assert that it exits 0 within STOP_TIMEOUT."""
        proc = self.proc
        if proc is None:
            return
        self.proc = None
        if self in _LIVE:
            _LIVE.remove(self)
        if proc.poll() is not None:
            self.copy_logs()
            raise AssertionError(f"daemon had already exited with status {proc.returncode} "
                                 f"before it was stopped; stderr: "
                                 f"{snippet(self.read_log(self.stderr_path)[-600:])}")
        proc.send_signal(sig)
        try:
            rc = proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
            self.copy_logs()
            raise AssertionError(f"daemon did not exit within {STOP_TIMEOUT:.0f} s of "
                                 f"{signal.Signals(sig).name}")
        self.copy_logs()
        if rc != 0:
            raise AssertionError(f"daemon exited with status {rc} after "
                                 f"{signal.Signals(sig).name}, expected 0; stderr tail: "
                                 f"{snippet(self.read_log(self.stderr_path)[-800:], 800)}")

    def kill(self):
        """Hard stop for clean-up after a failure (no assertions)."""
        proc, self.proc = self.proc, None
        if self in _LIVE:
            _LIVE.remove(self)
        if proc is not None and proc.poll() is None:
            proc.kill()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.copy_logs()

    # -- files
    @staticmethod
    def read_log(path):
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError:
            return b""

    def all_logs(self):
        return b"\n".join(self.read_log(p) for p in self.log_paths)

    def data_files(self):
        out = {}
        for root, _, files in os.walk(self.data):
            for name in files:
                p = os.path.join(root, name)
                out[os.path.relpath(p, self.data)] = self.read_log(p)
        return out

    def copy_logs(self):
        dest = os.environ.get("APIKEYD_TEST_OUTPUT")
        if not dest:
            return
        try:
            os.makedirs(dest, exist_ok=True)
            for p in self.log_paths:
                if os.path.exists(p):
                    shutil.copyfile(p, os.path.join(
                        dest, f"{_WORKER}{self.seq:02d}-{self.label}-{os.path.basename(p)}"))
        except OSError as e:
            print(f"warning: could not copy logs to {dest}: {e}", file=sys.stderr)

    # -- helpers
    @property
    def admin(self):
        """A logged-in admin client (cached per start)."""
        if self._admin is None:
            c = Client(self)
            c.login(ADMIN_USER, ADMIN_PASS)
            self._admin = c
        return self._admin


def check_settings_refused_at_start(pairs):
    """For each (APIKEYD_NAME, value): apikeyd given it must exit non-zero before serving and
    name the setting on stderr."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, value in pairs:
            env = dict(os.environ, **{name: value})
            p = subprocess.run([BIN, "--listen", f"127.0.0.1:{free_port()}", "--data",
                                os.path.join(tmp, "data")], env=env, capture_output=True,
                               text=True, timeout=30)
            check(p.returncode != 0, f"{name}={value!r}: expected apikeyd to refuse to start")
            setting = name[len("APIKEYD_"):].lower()
            check(setting in p.stderr, f"{name}={value!r}: stderr should name {setting}: "
                                       f"{p.stderr[-300:]!r}")


def dedicated(label, **kw):
    d = Daemon(label, **kw)
    d.start()
    return d


_SHARED = {}
_SHARED_FAILED = {}


def shared(kind="main"):
    """The shared daemon (kind "main"), or the one for failing logins (kind "login")."""
    if kind in _SHARED_FAILED:
        raise AssertionError(f"shared {kind} daemon could not start: {_SHARED_FAILED[kind]}")
    d = _SHARED.get(kind)
    if d is None:
        # many tests present bad keys on purpose: keep verification throttling out of their
        # way; the administrator makes the top-level projects of every test user
        # (suite_accounts.mkproject), more than one creator's default limit
        d = Daemon(f"shared-{kind}", env={"APIKEYD_VERIFY_MAX_FAILURES": "1000000",
                                          "APIKEYD_MAX_PROJECTS_PER_USER": "1000000"})
        try:
            d.start()
        except AssertionError as e:
            _SHARED_FAILED[kind] = str(e)
            raise
        _SHARED[kind] = d
    if d.proc is None:
        raise AssertionError(f"shared {kind} daemon is not running")
    return d


# --------------------------------------------------------------------------- client

class Resp(tuple):
    """(status, headers, body) plus .raw bytes and the request's method and path."""

    def __new__(cls, status, headers, body, raw, method, path):
        r = super().__new__(cls, (status, headers, body))
        r.raw, r.method, r.path = raw, method, path
        return r

    status = property(lambda s: s[0])
    headers = property(lambda s: s[1])
    body = property(lambda s: s[2])

    @property
    def path_short(self):
        return self.path if len(self.path) <= 80 else self.path[:60] + "..."


class Client:
    """HTTP client for one caller: a session cookie + CSRF token, an API key, or nothing."""

    def __init__(self, daemon, key=None, key_header="bearer"):
        self.d = daemon
        self.cookie = None
        self.cookie_name = "apikeyd_session"   # __Host-apikeyd_session behind HTTPS
        self.csrf = None
        self.key = key
        self.key_header = key_header
        self.username = None
        self.password = None

    def login(self, username, password):
        r = self.request("POST", "/v1/login", json={"username": username, "password": password})
        expect(r, 200, what=f"login as {username}")
        check(isinstance(r.body, dict) and isinstance(r.body.get("csrf_token"), str)
              and r.body["csrf_token"], f"login: expected a csrf_token string, got {r.body!r}")
        eq(r.body.get("username"), username, "login: username in body")
        check(self.cookie, "login: expected a Set-Cookie apikeyd_session")
        self.csrf = r.body["csrf_token"]
        self.username, self.password = username, password
        return r

    def _default_headers(self, method, has_body, content_type, csrf):
        h = {}
        if has_body and content_type:
            h["Content-Type"] = content_type
        if self.cookie:
            h["Cookie"] = f"{self.cookie_name}={self.cookie}"
        if self.key:
            if self.key_header == "bearer":
                h["Authorization"] = f"Bearer {self.key}"
            else:
                h["X-API-Key"] = self.key
        if csrf and self.csrf and method in ("POST", "PUT", "PATCH", "DELETE"):
            h["X-CSRF-Token"] = self.csrf
        return h

    @staticmethod
    def _merge(h, headers):
        for k, v in (headers or {}).items():
            for existing in [x for x in h if x.lower() == k.lower()]:
                del h[existing]
            if v is not None:
                h[k] = v
        return h

    @staticmethod
    def _encode(json, raw_body):
        if json is not None:
            return jsonlib.dumps(json, ensure_ascii=False).encode("utf-8")
        if raw_body is not None:
            return raw_body.encode("utf-8") if isinstance(raw_body, str) else raw_body
        return None

    def request(self, method, path, json=None, headers=None, raw_body=None, csrf=True,
                content_type="application/json"):
        """Send one request on a fresh connection. headers override the defaults
        (a value of None removes a default header)."""
        body = self._encode(json, raw_body)
        h = self._merge(self._default_headers(method, body is not None, content_type, csrf),
                        headers)
        conn = self.d.http_connection()
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            raw = resp.read()
            status, hdrs = resp.status, resp.headers
        finally:
            conn.close()
        return self._finish(method, path, status, hdrs, raw)

    def raw_request(self, method, path, headers=None, body=b"", csrf=True,
                    content_type="application/json"):
        """Hand-written request on a plain socket, for oversized requests: the body is sent
        in chunks and sending stops as soon as the server answers."""
        h = {"Host": f"127.0.0.1:{self.d.port}", "Connection": "close"}
        h.update(self._default_headers(method, bool(body), content_type, csrf))
        h["Content-Length"] = str(len(body))
        self._merge(h, headers)
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
        return self.send_raw(method, path, head.encode("latin-1"), body)

    def send_raw(self, method, path, head, body=b"", check_problem=True):
        sock = self.d.connect()
        try:
            try:
                sock.sendall(head)
                for i in range(0, len(body), 8192):
                    readable, _, _ = select.select([sock], [], [], 0)
                    if readable and not self.d.tls_context:
                        break            # the server has answered (or closed) early
                    sock.sendall(body[i:i + 8192])
            except (BrokenPipeError, ConnectionResetError):
                pass                     # read whatever answer the server left us
            resp = http.client.HTTPResponse(sock, method=method)
            try:
                resp.begin()
                raw = resp.read()
            except (ConnectionResetError, http.client.RemoteDisconnected) as e:
                raise AssertionError(f"{method} {path[:60]}: connection closed without an "
                                     f"HTTP response ({type(e).__name__})")
            return self._finish(method, path, resp.status, resp.headers, raw, check_problem)
        finally:
            sock.close()

    def _finish(self, method, path, status, hdrs, raw, check_problem=True):
        for sc in hdrs.get_all("Set-Cookie") or []:
            name, _, rest = sc.partition("=")
            name = name.strip()
            if name not in ("apikeyd_session", "__Host-apikeyd_session"):
                continue
            value = rest.split(";")[0].strip()
            attrs = sc.lower()
            if not value or "max-age=0" in attrs or "expires=thu, 01 jan 1970" in attrs:
                if name == self.cookie_name:
                    self.cookie = None
            else:
                self.cookie, self.cookie_name = value, name
        # No response but the creating one may ever contain a secret (SPEC, API keys).
        header_blob = "\n".join(f"{k}: {v}" for k, v in hdrs.items()).encode("utf-8",
                                                                            "replace")
        for s in self.d.secrets:
            if s.encode() in raw or s.encode() in header_blob:
                raise AssertionError(f"{method} {path[:60]} -> {status}: response contains "
                                     "a key secret issued earlier")
        ctype = (hdrs.get("Content-Type") or "").lower()
        body = None
        if raw:
            try:
                body = jsonlib.loads(raw.decode("utf-8")) if "json" in ctype else \
                    raw.decode("utf-8", "replace")
            except (ValueError, UnicodeDecodeError):
                body = raw.decode("utf-8", "replace")
        r = Resp(status, hdrs, body, raw, method, path)
        if isinstance(body, dict) and isinstance(body.get("key"), str) and status == 201:
            self.d.secrets.append(body["key"])
        if status >= 400 and check_problem:
            assert_problem(r)
        openapi_check.check(method, path, status, hdrs.get("Content-Type"), raw)
        return r


# --------------------------------------------------------------------------- helpers

def new_user(d=None, prefix="u"):
    """Create an ordinary user through the admin and return a logged-in client."""
    d = d or shared()
    name, pw = uniq_user(prefix), "pw-" + os.urandom(8).hex()
    r = d.admin.request("POST", "/v1/users", json={"username": name, "password": pw})
    expect(r, 201, what=f"admin POST /v1/users {name}")
    c = Client(d)
    c.login(name, pw)
    return c


def create_key(c, name=None, scopes=("Tasks",), **fields):
    body = {"name": name or uniq("key"), "scopes": list(scopes)}
    body.update(fields)
    r = c.request("POST", "/v1/keys", json=body)
    expect(r, 201, what=f"create key {body['name']!r}")
    check(isinstance(r.body, dict) and isinstance(r.body.get("key"), str),
          f"create key: expected a `key` string in the response, got {snippet(r.raw)}")
    return r.body


def list_keys(c):
    r = expect(c.request("GET", "/v1/keys"), 200)
    check(isinstance(r.body, dict) and isinstance(r.body.get("keys"), list),
          f"GET /v1/keys: expected {{keys: [...]}}, got {snippet(r.raw)}")
    return r.body["keys"]


def get_key(c, kid):
    return expect(c.request("GET", f"/v1/keys/{kid}"), 200).body


def verify(d, key, scope=None, expect_status=200):
    body = {"key": key}
    if scope is not None:
        body["scope"] = scope
    r = Client(d).request("POST", "/v1/verify", json=body)
    expect(r, expect_status)
    return r.body


def auth(d, key, scope="*", header="bearer"):
    """GET /v1/auth; scope None sends no X-Required-Scope at all."""
    h = {"Authorization": f"Bearer {key}"} if header == "bearer" else {"X-API-Key": key}
    if scope is not None:
        h["X-Required-Scope"] = scope
    return Client(d).request("GET", "/v1/auth", headers=h)


def check_key_object(obj, what, with_secret=False):
    check(isinstance(obj, dict), f"{what}: expected a key object, got {obj!r}")
    missing = [f for f in KEY_FIELDS if f not in obj]
    check(not missing, f"{what}: expected fields {KEY_FIELDS}, missing {missing}")
    if with_secret:
        check(isinstance(obj.get("key"), str), f"{what}: expected the `key` secret")
    else:
        check("key" not in obj, f"{what}: expected no `key` member, got one")


def scope_names(c):
    r = expect(c.request("GET", "/v1/scopes"), 200)
    check(isinstance(r.body, dict) and isinstance(r.body.get("scopes"), list),
          f"GET /v1/scopes: expected {{scopes:[...]}}, got {snippet(r.raw)}")
    return [s.get("name") for s in r.body["scopes"]]


def role_names(roles):
    out = []
    for x in roles or []:
        out.append(x.get("name") if isinstance(x, dict) else x)
    return out


# =========================================================================== tests
# ---- 1. basics -------------------------------------------------------------------

def test_healthz_returns_200_status_ok():
    r = expect(Client(shared()).request("GET", "/healthz"), 200)
    check((r.headers.get("Content-Type") or "").startswith("application/json"),
          f"expected Content-Type application/json, got {r.headers.get('Content-Type')!r}")
    eq(r.body, {"status": "ok"}, "GET /healthz body")


def test_unknown_route_is_404_problem():
    a = shared().admin
    expect(a.request("GET", "/v1/no-such-route-here"), 404, "not-found")


def test_wrong_method_on_healthz_is_405_with_allow_header():
    r = expect(Client(shared()).request("DELETE", "/healthz"), 405, "method-not-allowed")
    allow = [m.strip().upper() for m in (r.headers.get("Allow") or "").split(",")]
    check("GET" in allow, f"expected an Allow header listing GET, got {r.headers.get('Allow')!r}")
    check("DELETE" not in allow, f"Allow lists DELETE: {r.headers.get('Allow')!r}")


def test_wrong_method_on_verify_is_405_with_allow_post():
    r = expect(Client(shared()).request("GET", "/v1/verify"), 405, "method-not-allowed")
    allow = [m.strip().upper() for m in (r.headers.get("Allow") or "").split(",")]
    check("POST" in allow, f"expected an Allow header listing POST, got "
                           f"{r.headers.get('Allow')!r}")


def test_wrong_method_on_keys_collection_is_405_with_allow_header():
    r = expect(shared().admin.request("PUT", "/v1/keys"), 405, "method-not-allowed")
    allow = [m.strip().upper() for m in (r.headers.get("Allow") or "").split(",")]
    check("GET" in allow and "POST" in allow,
          f"expected an Allow header listing GET and POST, got {r.headers.get('Allow')!r}")


def test_responses_carry_cache_control_no_store():
    d = shared()
    c = new_user(d)
    rs = [Client(d).request("GET", "/healthz"),
          c.request("GET", "/v1/no-such-route"),
          c.request("POST", "/v1/keys", json={"name": uniq(), "scopes": ["Tasks"]}),
          c.request("GET", "/v1/keys")]
    for r in rs:
        cc = (r.headers.get("Cache-Control") or "").lower()
        check("no-store" in cc, f"{r.method} {r.path} -> {r.status}: expected Cache-Control "
                                f"no-store, got {r.headers.get('Cache-Control')!r}")


def test_garbage_request_gets_400_problem_and_server_keeps_serving():
    # A request line that is not HTTP is refused with a problem document like everything else
    # (docs/API.md), and the server goes on serving.
    d = shared()
    r = Client(d).send_raw("GET", "(garbage)", b"THIS IS NOT HTTP AT ALL\r\n\r\n")
    expect(r, 400, "bad-request", what="garbage request line")
    expect(Client(d).request("GET", "/healthz"), 200, what="GET /healthz afterwards")


def test_unauthenticated_request_is_401_with_www_authenticate_bearer():
    r = expect(Client(shared()).request("GET", "/v1/keys"), 401, "unauthenticated")
    wa = r.headers.get("WWW-Authenticate") or ""
    check(wa.lower().startswith("bearer"),
          f"expected WWW-Authenticate: Bearer, got {wa!r}")


# ---- 2. login, logout, CSRF ---------------------------------------------------------

def test_login_success_sets_httponly_samesite_strict_cookie_and_csrf_token():
    d = shared("login")
    u = new_user(d)
    c = Client(d)
    r = c.request("POST", "/v1/login", json={"username": u.username, "password": u.password})
    expect(r, 200)
    eq(r.body.get("username"), u.username, "login body username")
    check(isinstance(r.body.get("csrf_token"), str) and len(r.body["csrf_token"]) >= 16,
          f"expected a csrf_token of at least 16 characters, got {r.body.get('csrf_token')!r}")
    cookies = [s for s in r.headers.get_all("Set-Cookie") or []
               if s.strip().startswith("apikeyd_session=")]
    check(len(cookies) == 1, f"expected one Set-Cookie apikeyd_session, got "
                             f"{r.headers.get_all('Set-Cookie')!r}")
    attrs = [a.strip().lower() for a in cookies[0].split(";")[1:]]
    check("httponly" in attrs, f"cookie: expected HttpOnly, got {cookies[0]!r}")
    check("samesite=strict" in attrs, f"cookie: expected SameSite=Strict, got {cookies[0]!r}")
    check("path=/" in attrs, f"cookie: expected Path=/, got {cookies[0]!r}")
    check(len(cookies[0].split(";")[0].split("=", 1)[1]) >= 16,
          f"cookie: expected a session value of at least 16 characters, got {cookies[0]!r}")
    me = expect(c.request("GET", "/v1/me"), 200)
    eq(me.body.get("username"), u.username, "GET /v1/me with the new cookie")


def test_login_wrong_password_is_401_login_failed():
    d = shared("login")
    u = new_user(d)
    c = Client(d)
    r = c.request("POST", "/v1/login", json={"username": u.username, "password": "wrong-" + u.password})
    expect(r, 401, "login-failed")
    check(not c.cookie, f"expected no session cookie on a failed login, got "
                        f"{r.headers.get_all('Set-Cookie')!r}")


def test_login_unknown_user_is_401_with_same_body_as_wrong_password():
    d = shared("login")
    u = new_user(d)
    wrong = expect(Client(d).request("POST", "/v1/login", json={
        "username": u.username, "password": "not-the-password-1"}), 401, "login-failed")
    unknown = expect(Client(d).request("POST", "/v1/login", json={
        "username": uniq_user("ghost"), "password": "not-the-password-1"}), 401, "login-failed")
    eq(sorted(unknown.body), sorted(wrong.body), "problem members (unknown vs wrong password)")
    for f in ("type", "title", "status", "detail"):
        eq(unknown.body[f], wrong.body[f], f"problem {f!r} (unknown user vs wrong password)")


def _make_login_refusal_test(body_fn, allowed):
    def t():
        d = shared("login")
        u = new_user(d)
        c = Client(d)
        r = c.request("POST", "/v1/login", json=body_fn(u))
        expect_one_of(r, allowed)
        check(not c.cookie, "expected no session cookie on a refused login")
    return t


# API.md: any login mismatch is 401 login-failed (never says which field); a field
# missing or of the wrong type may also be refused as 422 by the general conventions.
_MISSING = {401: "login-failed", 422: "validation-failed"}
_MISMATCH = {401: "login-failed"}
LOGIN_REFUSALS = [
    ("missing_username", lambda u: {"password": u.password}, _MISSING),
    ("missing_password", lambda u: {"username": u.username}, _MISSING),
    ("empty_object", lambda u: {}, _MISSING),
    ("username_wrong_type", lambda u: {"username": 12345, "password": u.password}, _MISSING),
    ("password_wrong_type", lambda u: {"username": u.username, "password": [u.password]},
     _MISSING),
    ("empty_username", lambda u: {"username": "", "password": u.password}, _MISMATCH),
    ("empty_password", lambda u: {"username": u.username, "password": ""}, _MISMATCH),
    ("65_byte_username", lambda u: {"username": "a" * 65, "password": u.password}, _MISMATCH),
    ("1025_byte_password", lambda u: {"username": u.username, "password": "p" * 1025},
     _MISMATCH),
]
for _name, _fn, _allowed in LOGIN_REFUSALS:
    globals()[f"test_login_refuses_{_name}"] = _make_login_refusal_test(_fn, _allowed)


def test_login_malformed_json_is_400():
    c = Client(shared("login"))
    expect(c.request("POST", "/v1/login", raw_body=b'{"username": "admin", "password": '),
           400, "malformed-json")
    check(not c.cookie, "expected no session cookie")


def test_login_json_array_body_is_400():
    c = Client(shared("login"))
    expect(c.request("POST", "/v1/login", raw_body=b'["admin", "correct-horse-battery"]'),
           400, "malformed-json")


def test_logout_is_204_and_cookie_no_longer_works():
    d = shared()
    c = new_user(d)
    old_cookie = c.cookie
    r = expect(c.request("POST", "/v1/logout"), 204)
    cleared = [s for s in r.headers.get_all("Set-Cookie") or [] if s.startswith("apikeyd_session=")]
    check(cleared, "logout: expected a Set-Cookie that clears apikeyd_session")
    r = Client(d).request("GET", "/v1/me", headers={"Cookie": f"apikeyd_session={old_cookie}"})
    expect(r, 401, "unauthenticated", what="GET /v1/me with the logged-out cookie")
    r = Client(d).request("GET", "/v1/keys", headers={"Cookie": f"apikeyd_session={old_cookie}"})
    expect(r, 401, "unauthenticated", what="GET /v1/keys with the logged-out cookie")


def test_logout_without_csrf_token_is_403_and_session_survives():
    c = new_user()
    expect(c.request("POST", "/v1/logout", csrf=False), 403, "csrf-token-invalid")
    expect(c.request("GET", "/v1/me"), 200, what="GET /v1/me after the refused logout")


def test_cookie_write_without_csrf_token_is_403_and_nothing_stored():
    c = new_user()
    name = uniq()
    r = c.request("POST", "/v1/keys", json={"name": name, "scopes": ["Tasks"]}, csrf=False)
    expect(r, 403, "csrf-token-invalid")
    eq(list_keys(c), [], "keys after the refused create")


def test_cookie_write_with_wrong_csrf_token_is_403_and_nothing_stored():
    c = new_user()
    r = c.request("POST", "/v1/keys", json={"name": uniq(), "scopes": ["Tasks"]},
                  headers={"X-CSRF-Token": ("A" if c.csrf[0] != "A" else "B") + c.csrf[1:]})
    expect(r, 403, "csrf-token-invalid")
    eq(list_keys(c), [], "keys after the refused create")


def test_csrf_token_of_another_session_is_403():
    d = shared()
    c, other = new_user(d), new_user(d)
    r = c.request("POST", "/v1/keys", json={"name": uniq(), "scopes": ["Tasks"]},
                  headers={"X-CSRF-Token": other.csrf})
    expect(r, 403, "csrf-token-invalid")
    eq(list_keys(c), [], "keys after the refused create")


def test_cookie_delete_without_csrf_token_is_403_and_key_survives():
    c = new_user()
    k = create_key(c)
    expect(c.request("DELETE", f"/v1/keys/{k['id']}", csrf=False), 403, "csrf-token-invalid")
    get_key(c, k["id"])
    eq(verify(c.d, k["key"]).get("code"), "VALID", "verify after the refused delete")


def test_cookie_patch_without_csrf_token_is_403_and_key_unchanged():
    c = new_user()
    k = create_key(c)
    expect(c.request("PATCH", f"/v1/keys/{k['id']}", json={"name": uniq()}, csrf=False),
           403, "csrf-token-invalid")
    eq(get_key(c, k["id"]).get("name"), k["name"], "name after the refused PATCH")


# ---- 3. scope catalogue -------------------------------------------------------------

def test_scopes_list_nine_defaults_first_in_order():
    d = shared()
    r = expect(new_user(d).request("GET", "/v1/scopes"), 200)
    scopes = r.body.get("scopes")
    check(isinstance(scopes, list), f"expected {{scopes:[...]}}, got {snippet(r.raw)}")
    eq([s.get("name") for s in scopes[:9]], DEFAULT_SCOPES, "first nine scopes")
    for s in scopes:
        check(isinstance(s.get("description"), (str, type(None))),
              f"scope {s!r}: expected a description string")


def test_fresh_catalogue_is_exactly_the_nine_defaults():
    d = dedicated("fresh-scopes")
    try:
        eq(scope_names(d.admin), DEFAULT_SCOPES, "scopes of a fresh daemon")
        d.stop()
    finally:
        d.kill()


def test_scopes_unauthenticated_is_401():
    expect(Client(shared()).request("GET", "/v1/scopes"), 401, "unauthenticated")


def test_admin_adds_scope_201():
    d = shared()
    name = "Orders." + os.urandom(4).hex()
    r = d.admin.request("POST", "/v1/scopes", json={"name": name, "description": "order API"})
    expect(r, 201)
    eq(r.body.get("name"), name, "created scope name")
    names = scope_names(d.admin)
    check(name in names[9:], f"expected {name!r} listed after the defaults, got {names!r}")


def test_added_scope_can_be_granted_to_keys():
    d = shared()
    name = "Billing-" + os.urandom(4).hex()
    expect(d.admin.request("POST", "/v1/scopes", json={"name": name}), 201)
    c = new_user(d)
    k = create_key(c, scopes=[name])
    eq(verify(d, k["key"], scope=name).get("code"), "VALID", "verify with the new scope")


def test_adding_duplicate_scope_is_409_conflict():
    d = shared()
    name = "Dup_" + os.urandom(4).hex()
    expect(d.admin.request("POST", "/v1/scopes", json={"name": name}), 201)
    before = scope_names(d.admin)
    expect(d.admin.request("POST", "/v1/scopes", json={"name": name}), 409, "conflict")
    eq(scope_names(d.admin), before, "catalogue after the refused duplicate")


def test_adding_a_default_scope_again_is_409_conflict():
    expect(shared().admin.request("POST", "/v1/scopes", json={"name": "APIKey"}), 409, "conflict")


def _make_bad_scope_test(body_fn, field):
    def t():
        d = shared()
        before = scope_names(d.admin)
        r = d.admin.request("POST", "/v1/scopes", json=body_fn())
        expect(r, 422, "validation-failed")
        expect_error_field(r, field)
        eq(scope_names(d.admin), before, "catalogue after the refused scope")
    return t


BAD_SCOPES = [
    ("name_with_space", lambda: {"name": "has space"}, "name"),
    ("name_with_slash", lambda: {"name": "a/b"}, "name"),
    ("name_non_ascii", lambda: {"name": "Sc\u00f6pe"}, "name"),
    ("empty_name", lambda: {"name": ""}, "name"),
    ("65_char_name", lambda: {"name": "S" * 65}, "name"),
    ("missing_name", lambda: {"description": "nameless"}, "name"),
    ("name_wrong_type", lambda: {"name": 7}, "name"),
    ("1001_char_description", lambda: {"name": "D" + os.urandom(4).hex(),
                                       "description": "d" * 1001}, "description"),
    ("unknown_field", lambda: {"name": "U" + os.urandom(4).hex(), "owner": "x"}, "owner"),
]
for _name, _fn, _field in BAD_SCOPES:
    globals()[f"test_add_scope_refuses_{_name}"] = _make_bad_scope_test(_fn, _field)


def test_ordinary_user_adding_scope_is_403():
    d = shared()
    name = "Nope" + os.urandom(4).hex()
    expect(new_user(d).request("POST", "/v1/scopes", json={"name": name}), 403, "forbidden")
    check(name not in scope_names(d.admin), "scope was added despite the 403")


def test_key_with_any_scope_can_list_scopes():
    d = shared()
    k = create_key(new_user(d), scopes=["Tasks"])
    r = expect(Client(d, key=k["key"]).request("GET", "/v1/scopes"), 200)
    eq([s.get("name") for s in r.body["scopes"][:9]], DEFAULT_SCOPES, "scopes via a key")


def test_admin_key_without_account_scope_cannot_add_scope_403():
    d = shared()
    k = create_key(d.admin, scopes=["APIKey", "Tasks"])
    name = "ViaKey" + os.urandom(4).hex()
    r = Client(d, key=k["key"]).request("POST", "/v1/scopes", json={"name": name})
    expect(r, 403, "forbidden")
    check(name not in scope_names(d.admin), "scope was added despite the 403")


def test_admin_key_with_account_scope_adds_scope_201():
    d = shared()
    k = create_key(d.admin, scopes=["Account"])
    name = "ViaKey" + os.urandom(4).hex()
    expect(Client(d, key=k["key"]).request("POST", "/v1/scopes", json={"name": name}), 201)
    check(name in scope_names(d.admin), f"expected {name!r} in the catalogue")


def test_scope_catalogue_full_is_409_limit_reached():
    d = dedicated("scope-limit")
    try:
        for i in range(64 - len(DEFAULT_SCOPES)):
            expect(d.admin.request("POST", "/v1/scopes", json={"name": f"S{i:02d}"}), 201)
        expect(d.admin.request("POST", "/v1/scopes", json={"name": "OneTooMany"}), 409,
               "limit-reached")
        eq(len(scope_names(d.admin)), 64, "catalogue size")
        d.stop()
    finally:
        d.kill()


# ---- 4. creating keys ---------------------------------------------------------------

def test_create_key_returns_201_location_and_key_object():
    c = new_user()
    name = uniq()
    r = expect(c.request("POST", "/v1/keys", json={"name": name, "scopes": ["Tasks", "Secret"]}),
               201)
    check_key_object(r.body, "create response", with_secret=True)
    eq(r.headers.get("Location"), f"/v1/keys/{r.body['id']}", "Location header")
    eq(r.body["name"], name, "name")
    eq(sorted(r.body["scopes"]), ["Secret", "Tasks"], "scopes")
    eq(r.body["last_used_at"], None, "last_used_at of a new key")
    check(isinstance(r.body["id"], str) and r.body["id"], f"id: expected a string, got "
                                                          f"{r.body['id']!r}")
    near(ts(r.body["created_at"], "created_at"), now(), 60, "created_at")
    check(r.body["description"] in (None, ""), f"description: expected null, got "
                                              f"{r.body['description']!r}")


def test_created_key_has_documented_format_and_crc32_check():
    k = create_key(new_user())["key"]
    check(KEY_RE.match(k), f"key: expected ^apk_[0-9A-Za-z]{{49}}$, got length {len(k)} "
                           f"starting {k[:4]!r}")
    eq(k[-6:], checksum(k[:-6]), "last 6 characters (base62 CRC-32 of the rest)")


def test_created_keys_are_distinct():
    c = new_user()
    keys = {create_key(c)["key"] for _ in range(5)}
    eq(len(keys), 5, "distinct secrets among 5 keys")


def test_created_key_hint_is_first8_ellipsis_last4():
    k = create_key(new_user())
    eq(k["hint"], k["key"][:8] + "\u2026" + k["key"][-4:], "hint")


def test_create_key_default_expiry_is_90_days():
    k = create_key(new_user())
    near(ts(k["expires_at"], "expires_at"), now() + 90 * DAY, 120, "default expires_at")


def test_create_key_records_created_by_username():
    c = new_user()
    k = create_key(c)
    eq(k["created_by"], c.username, "created_by in the create response")
    eq(get_key(c, k["id"])["created_by"], c.username, "created_by in GET")


def test_create_key_keeps_description():
    c = new_user()
    k = create_key(c, description="for the nightly export")
    eq(k["description"], "for the nightly export", "description in the create response")
    eq(get_key(c, k["id"])["description"], "for the nightly export", "description in GET")


def test_list_and_get_never_show_the_secret():
    c = new_user()
    k = create_key(c)
    r = expect(c.request("GET", "/v1/keys"), 200)
    check(k["key"].encode() not in r.raw, "GET /v1/keys contains the secret")
    items = [x for x in r.body["keys"] if x.get("id") == k["id"]]
    eq(len(items), 1, "the new key in GET /v1/keys")
    check_key_object(items[0], "list item")
    eq(items[0]["hint"], k["hint"], "hint in the list")
    r = expect(c.request("GET", f"/v1/keys/{k['id']}"), 200)
    check(k["key"].encode() not in r.raw, "GET /v1/keys/{id} contains the secret")
    check_key_object(r.body, "GET /v1/keys/{id}")


def test_list_is_newest_first():
    c = new_user()
    k1 = create_key(c)
    time.sleep(1.1)
    k2 = create_key(c)
    eq([x["id"] for x in list_keys(c)], [k2["id"], k1["id"]], "key ids, newest first")


def test_secret_is_stored_only_as_sha256():
    d = dedicated("secret-at-rest")
    try:
        c = Client(d)
        c.login(ADMIN_USER, ADMIN_PASS)
        k = create_key(c, scopes=["Tasks"])
        secret = k["key"]
        list_keys(c)
        get_key(c, k["id"])
        eq(verify(d, secret).get("code"), "VALID", "verify")
        d.stop()
    finally:
        d.kill()
    logs = d.all_logs()
    check(secret.encode() not in logs, "the secret appears in the daemon's log")
    check(secret[4:-6].encode() not in logs, "the key body appears in the daemon's log")
    files = d.data_files()
    check("apikeyd.db" in files, f"expected {d.data}/apikeyd.db, found {sorted(files)}")
    for name, blob in files.items():
        check(secret.encode() not in blob, f"the secret appears in {name}")
        check(secret[4:-6].encode() not in blob, f"the key body appears in {name}")
    digest = hashlib.sha256(secret.encode()).digest()
    db = files.get("apikeyd.db", b"") + files.get("apikeyd.db-wal", b"")
    forms = [digest, digest.hex().encode(), digest.hex().upper().encode(),
             base64.b64encode(digest), base64.urlsafe_b64encode(digest).rstrip(b"=")]
    check(any(f in db for f in forms),
          "SHA-256 of the key (raw, hex or base64) not found in apikeyd.db/-wal")


def test_create_accepts_expiry_just_under_one_year():
    c = new_user()
    exp = one_year_after(now()) - 120
    k = create_key(c, expires_at=iso(exp))
    eq(ts(k["expires_at"], "expires_at"), exp, "expires_at as given")


def test_create_accepts_expiry_with_offset_and_returns_utc():
    c = new_user()
    target = int(now()) + 10 * DAY
    given = time.strftime("%Y-%m-%dT%H:%M:%S+02:00", time.gmtime(target + 7200))
    k = create_key(c, expires_at=given)
    eq(k["expires_at"], iso(target), f"expires_at for input {given}")


def test_create_drops_fraction_of_second_in_expiry():
    c = new_user()
    target = int(now()) + 10 * DAY
    k = create_key(c, expires_at=iso(target)[:-1] + ".750Z")
    eq(k["expires_at"], iso(target), "expires_at for an input with .750 seconds")


def test_create_accepts_100_char_multibyte_name():
    c = new_user()
    prefix = uniq("m")
    name = prefix + "\u00e9\u540d\U0001F511" * 40
    name = name[:100]
    eq(len(name), 100, "(test setup) name length in code points")
    k = create_key(c, name=name)
    eq(k["name"], name, "name as stored")
    eq(get_key(c, k["id"])["name"], name, "name in GET")


def test_create_accepts_100_char_name_sent_as_json_escapes():
    c = new_user()
    name = (uniq("e") + "\U0001F511" * 100)[:100]
    raw = jsonlib.dumps({"name": name, "scopes": ["Tasks"]}, ensure_ascii=True)
    r = expect(c.request("POST", "/v1/keys", raw_body=raw), 201)
    eq(r.body["name"], name, "name as stored")


def test_create_accepts_1000_char_description_with_tab_and_newline():
    c = new_user()
    desc = ("line one\tcol\nline two " * 100)[:1000]
    k = create_key(c, description=desc)
    eq(k["description"], desc, "description as stored")


# ---- 5. refused creates -------------------------------------------------------------

def _make_refused_create_test(body_fn, field):
    def t():
        c = new_user()
        before = list_keys(c)
        body = body_fn(uniq("bad"))
        r = c.request("POST", "/v1/keys", json=body)
        expect(r, 422, "validation-failed")
        expect_error_field(r, field)
        check(not r.headers.get("Location"), "a refused create has a Location header")
        eq(len(list_keys(c)), len(before), "number of keys after the refused create")
    return t


def _k(n, **kw):
    body = {"name": n, "scopes": ["Tasks"]}
    body.update(kw)
    for k in [k for k, v in kw.items() if v is _DROP]:
        del body[k]
    return body


_DROP = object()
REFUSED_CREATES = [
    ("missing_name", lambda n: _k(n, name=_DROP), "name"),
    ("empty_name", lambda n: _k(""), "name"),
    ("blank_name", lambda n: _k("     "), "name"),
    ("null_name", lambda n: _k(None), "name"),
    ("name_wrong_type", lambda n: _k(42), "name"),
    ("101_char_name", lambda n: _k((n + "x" * 101)[:101]), "name"),
    ("101_char_multibyte_name", lambda n: _k((n + "\u540d" * 101)[:101]), "name"),
    ("control_char_in_name", lambda n: _k(n + "\x01z"), "name"),
    ("newline_in_name", lambda n: _k(n + "\nz"), "name"),
    ("del_char_in_name", lambda n: _k(n + "\x7fz"), "name"),
    ("1001_char_description", lambda n: _k(n, description="d" * 1001), "description"),
    ("control_char_in_description", lambda n: _k(n, description="a\x07b"), "description"),
    ("description_wrong_type", lambda n: _k(n, description=7), "description"),
    ("missing_scopes", lambda n: _k(n, scopes=_DROP), "scopes"),
    ("empty_scopes", lambda n: _k(n, scopes=[]), "scopes"),
    ("scopes_not_a_list", lambda n: _k(n, scopes="Tasks"), "scopes"),
    ("unknown_scope", lambda n: _k(n, scopes=["Tasks", "NoSuchScope"]), "scopes"),
    ("duplicate_scope", lambda n: _k(n, scopes=["Tasks", "Tasks"]), "scopes"),
    ("non_string_scope", lambda n: _k(n, scopes=["Tasks", 5]), "scopes"),
    ("65_scopes", lambda n: _k(n, scopes=DEFAULT_SCOPES * 7 + ["Tasks", "APIKey"]), "scopes"),
    ("expiry_in_the_past", lambda n: _k(n, expires_at=iso(now() - 3600)), "expires_at"),
    ("expiry_one_second_ago", lambda n: _k(n, expires_at=iso(now() - 1)), "expires_at"),
    ("expiry_more_than_one_year_out",
     lambda n: _k(n, expires_at=iso(max(now() + 366 * DAY, one_year_after(now()) + DAY))),
     "expires_at"),
    ("expiry_not_a_date", lambda n: _k(n, expires_at="next tuesday"), "expires_at"),
    ("expiry_date_without_time",
     lambda n: _k(n, expires_at=iso(now() + 30 * DAY)[:10]), "expires_at"),
    ("expiry_impossible_date", lambda n: _k(n, expires_at="2027-02-30T12:00:00Z"), "expires_at"),
    ("expiry_wrong_type", lambda n: _k(n, expires_at=int(now()) + 30 * DAY), "expires_at"),
    ("unknown_field_owner", lambda n: _k(n, owner=ADMIN_USER), "owner"),
    ("unknown_field_user", lambda n: _k(n, user=ADMIN_USER), "user"),
    ("typo_field_expires", lambda n: _k(n, expires=iso(now() + 30 * DAY)), "expires"),
]
for _name, _fn, _field in REFUSED_CREATES:
    globals()[f"test_create_refuses_{_name}"] = _make_refused_create_test(_fn, _field)


def test_create_reports_every_invalid_field():
    c = new_user()
    r = c.request("POST", "/v1/keys", json={"name": "", "scopes": [], "expires_at": "soon"})
    expect(r, 422, "validation-failed")
    for f in ("name", "scopes", "expires_at"):
        expect_error_field(r, f)
    eq(list_keys(c), [], "keys after the refused create")


def _refused_request(send, status, ptype):
    """send(client, name) performs the request; nothing may be stored and the server must
    keep serving."""
    c = new_user()
    name = uniq("bad")
    r = send(c, name)
    expect(r, status, ptype)
    expect(Client(c.d).request("GET", "/healthz"), 200, what="GET /healthz afterwards")
    eq(list_keys(c), [], "keys after the refused create")


def test_create_refuses_non_json_body_400():
    _refused_request(lambda c, n: c.request("POST", "/v1/keys", raw_body=f"name={n}&scopes=Tasks"),
                     400, "malformed-json")


def test_create_refuses_truncated_json_400():
    _refused_request(lambda c, n: c.request(
        "POST", "/v1/keys", raw_body='{"name": "%s", "scopes": ["Tasks"]' % n), 400, "malformed-json")


def test_create_refuses_json_array_body_400():
    _refused_request(lambda c, n: c.request(
        "POST", "/v1/keys", raw_body='[{"name": "%s", "scopes": ["Tasks"]}]' % n),
        400, "malformed-json")


def test_create_refuses_json_null_body_400():
    _refused_request(lambda c, n: c.request("POST", "/v1/keys", raw_body="null"),
                     400, "malformed-json")


def test_create_refuses_duplicate_json_keys_400():
    _refused_request(lambda c, n: c.request(
        "POST", "/v1/keys",
        raw_body='{"name": "%s", "name": "%s-2", "scopes": ["Tasks"]}' % (n, n)),
        400, "malformed-json")


def test_create_refuses_invalid_utf8_400():
    _refused_request(lambda c, n: c.request(
        "POST", "/v1/keys", raw_body=b'{"name": "' + n.encode() + b'\xff\xfe", "scopes": ["Tasks"]}'),
        400, "malformed-json")


def test_create_refuses_wrong_content_type_415():
    _refused_request(lambda c, n: c.request(
        "POST", "/v1/keys", json={"name": n, "scopes": ["Tasks"]}, content_type="text/plain"),
        415, "unsupported-media-type")


def test_create_refuses_form_content_type_415():
    _refused_request(lambda c, n: c.request(
        "POST", "/v1/keys", json={"name": n, "scopes": ["Tasks"]},
        content_type="application/x-www-form-urlencoded"), 415, "unsupported-media-type")


def test_create_refuses_missing_content_type_415():
    _refused_request(lambda c, n: c.request(
        "POST", "/v1/keys", json={"name": n, "scopes": ["Tasks"]}, content_type=None),
        415, "unsupported-media-type")


def test_create_accepts_content_type_with_charset():
    c = new_user()
    r = c.request("POST", "/v1/keys", json={"name": uniq(), "scopes": ["Tasks"]},
                  content_type="application/json; charset=utf-8")
    expect(r, 201)


def test_create_refuses_body_over_64k_413():
    def send(c, n):
        body = jsonlib.dumps({"name": n, "scopes": ["Tasks"], "description": "d" * (70 * 1024)})
        return c.raw_request("POST", "/v1/keys", body=body.encode())
    _refused_request(send, 413, "body-too-large")


def test_create_refuses_headers_over_8k_431():
    def send(c, n):
        body = jsonlib.dumps({"name": n, "scopes": ["Tasks"]}).encode()
        return c.raw_request("POST", "/v1/keys", body=body, headers={"X-Padding": "p" * 9000})
    _refused_request(send, 431, "headers-too-large")


def test_create_refuses_many_headers_over_8k_431():
    def send(c, n):
        body = jsonlib.dumps({"name": n, "scopes": ["Tasks"]}).encode()
        pad = {f"X-Pad-{i:03d}": "p" * 100 for i in range(90)}
        return c.raw_request("POST", "/v1/keys", body=body, headers=pad)
    _refused_request(send, 431, "headers-too-large")


def test_create_refuses_url_over_2k_414():
    def send(c, n):
        body = jsonlib.dumps({"name": n, "scopes": ["Tasks"]}).encode()
        return c.raw_request("POST", "/v1/keys?pad=" + "q" * 2100, body=body)
    _refused_request(send, 414, "uri-too-long")


def test_create_duplicate_name_same_owner_is_409_conflict():
    c = new_user()
    k = create_key(c)
    r = c.request("POST", "/v1/keys", json={"name": k["name"], "scopes": ["Secret"]})
    expect(r, 409, "conflict")
    eq([x["id"] for x in list_keys(c)], [k["id"]], "keys after the refused duplicate")


def test_same_key_name_for_different_user_is_allowed():
    d = shared()
    a, b = new_user(d), new_user(d)
    k = create_key(a)
    k2 = create_key(b, name=k["name"])
    eq(k2["name"], k["name"], "name of the second user's key")


# ---- 6. reading, renaming, deleting ---------------------------------------------------

def test_get_own_key_200():
    c = new_user()
    k = create_key(c, scopes=["Tasks", "Session"], description="mine")
    g = get_key(c, k["id"])
    check_key_object(g, "GET /v1/keys/{id}")
    for f in KEY_FIELDS:
        eq(g[f], k[f], f"GET field {f} vs create response")


def test_get_unknown_key_id_is_404():
    expect(new_user().request("GET", "/v1/keys/000000000000000000000000"), 404, "not-found")


def test_other_users_key_is_404_for_get_patch_delete_and_keeps_working():
    d = shared()
    owner, other = new_user(d), new_user(d)
    k = create_key(owner)
    path = f"/v1/keys/{k['id']}"
    expect(other.request("GET", path), 404, "not-found")
    expect(other.request("PATCH", path, json={"name": uniq()}), 404, "not-found")
    expect(other.request("DELETE", path), 404, "not-found")
    g = get_key(owner, k["id"])
    eq(g["name"], k["name"], "name after the other user's PATCH")
    eq(verify(d, k["key"]).get("code"), "VALID", "verify after the other user's DELETE")


def test_admin_cannot_touch_other_users_key_through_v1_keys():
    d = shared()
    owner = new_user(d)
    k = create_key(owner)
    path = f"/v1/keys/{k['id']}"
    expect(d.admin.request("GET", path), 404, "not-found")
    expect(d.admin.request("DELETE", path), 404, "not-found")
    eq(verify(d, k["key"]).get("code"), "VALID", "verify after the admin's DELETE")


def test_patch_renames_and_redescribes():
    c = new_user()
    k = create_key(c)
    new_name = uniq("renamed")
    r = expect(c.request("PATCH", f"/v1/keys/{k['id']}",
                         json={"name": new_name, "description": "now described"}), 200)
    check_key_object(r.body, "PATCH response")
    eq(r.body["name"], new_name, "name in the PATCH response")
    g = get_key(c, k["id"])
    eq(g["name"], new_name, "name after PATCH")
    eq(g["description"], "now described", "description after PATCH")
    eq(g["scopes"], k["scopes"], "scopes after PATCH")
    eq(g["expires_at"], k["expires_at"], "expires_at after PATCH")
    eq(verify(c.d, k["key"]).get("code"), "VALID", "verify after PATCH")


def test_patch_description_only_keeps_name():
    c = new_user()
    k = create_key(c)
    expect(c.request("PATCH", f"/v1/keys/{k['id']}", json={"description": "only this"}), 200)
    g = get_key(c, k["id"])
    eq(g["name"], k["name"], "name after PATCH of the description")
    eq(g["description"], "only this", "description after PATCH")


def test_patch_scopes_is_422_and_key_unchanged():
    c = new_user()
    k = create_key(c, scopes=["Tasks"])
    r = c.request("PATCH", f"/v1/keys/{k['id']}", json={"scopes": ["Tasks", "Secret"]})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "scopes")
    eq(get_key(c, k["id"])["scopes"], ["Tasks"], "scopes after the refused PATCH")
    eq(verify(c.d, k["key"], scope="Secret").get("code"), "INSUFFICIENT_SCOPE",
       "verify for the scope the PATCH tried to add")


def test_patch_expires_at_is_422_and_key_unchanged():
    c = new_user()
    k = create_key(c)
    r = c.request("PATCH", f"/v1/keys/{k['id']}", json={"expires_at": iso(now() + 200 * DAY)})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "expires_at")
    eq(get_key(c, k["id"])["expires_at"], k["expires_at"], "expires_at after the refused PATCH")


def test_patch_rename_with_expires_at_changes_nothing():
    c = new_user()
    k = create_key(c)
    r = c.request("PATCH", f"/v1/keys/{k['id']}",
                  json={"name": uniq(), "expires_at": iso(now() + 200 * DAY)})
    expect(r, 422, "validation-failed")
    g = get_key(c, k["id"])
    eq(g["name"], k["name"], "name after the refused PATCH")


def test_patch_empty_name_is_422():
    c = new_user()
    k = create_key(c)
    r = c.request("PATCH", f"/v1/keys/{k['id']}", json={"name": ""})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "name")
    eq(get_key(c, k["id"])["name"], k["name"], "name after the refused PATCH")


def test_patch_to_duplicate_name_is_409():
    c = new_user()
    k1, k2 = create_key(c), create_key(c)
    r = c.request("PATCH", f"/v1/keys/{k2['id']}", json={"name": k1["name"]})
    expect(r, 409, "conflict")
    eq(get_key(c, k2["id"])["name"], k2["name"], "name after the refused PATCH")


def test_delete_is_204_then_get_404_verify_not_found_auth_401():
    c = new_user()
    k = create_key(c)
    r = expect(c.request("DELETE", f"/v1/keys/{k['id']}"), 204)
    eq(r.raw, b"", "body of the 204")
    v = verify(c.d, k["key"])                      # right after the 204
    eq(v.get("valid"), False, "verify valid after delete")
    eq(v.get("code"), "NOT_FOUND", "verify code after delete")
    expect(auth(c.d, k["key"]), 401, "unauthenticated", what="GET /v1/auth after delete")
    expect(c.request("GET", f"/v1/keys/{k['id']}"), 404, "not-found")
    check(all(x["id"] != k["id"] for x in list_keys(c)), "deleted key still listed")


def test_delete_twice_second_is_404():
    c = new_user()
    k = create_key(c)
    expect(c.request("DELETE", f"/v1/keys/{k['id']}"), 204)
    expect(c.request("DELETE", f"/v1/keys/{k['id']}"), 404, "not-found")


def test_deleted_key_cannot_call_the_api():
    c = new_user()
    k = create_key(c, scopes=["APIKey"])
    expect(c.request("DELETE", f"/v1/keys/{k['id']}"), 204)
    expect(Client(c.d, key=k["key"]).request("GET", "/v1/keys"), 401, "unauthenticated")


# ---- 7. key callers -----------------------------------------------------------------

def test_bearer_key_with_apikey_scope_lists_keys():
    c = new_user()
    k = create_key(c, scopes=["APIKey"])
    other = create_key(c)
    r = expect(Client(c.d, key=k["key"]).request("GET", "/v1/keys"), 200)
    eq(sorted(x["id"] for x in r.body["keys"]), sorted([k["id"], other["id"]]),
       "keys listed by the key")


def test_x_api_key_header_with_apikey_scope_lists_keys():
    c = new_user()
    k = create_key(c, scopes=["APIKey"])
    r = expect(Client(c.d, key=k["key"], key_header="x-api-key").request("GET", "/v1/keys"), 200)
    eq([x["id"] for x in r.body["keys"]], [k["id"]], "keys listed via X-API-Key")


def test_key_without_apikey_scope_is_403_on_keys():
    c = new_user()
    k = create_key(c, scopes=["Tasks", "Secret"])
    kc = Client(c.d, key=k["key"])
    expect(kc.request("GET", "/v1/keys"), 403, "forbidden")
    expect(kc.request("GET", f"/v1/keys/{k['id']}"), 403, "forbidden")
    expect(kc.request("POST", "/v1/keys", json={"name": uniq(), "scopes": ["Tasks"]}), 403,
           "forbidden")
    eq(len(list_keys(c)), 1, "keys after the refused create")


def test_key_creates_key_with_scopes_it_holds():
    c = new_user()
    parent = create_key(c, scopes=["APIKey", "Tasks"])
    r = Client(c.d, key=parent["key"]).request("POST", "/v1/keys",
                                               json={"name": uniq(), "scopes": ["Tasks"]})
    expect(r, 201)
    eq(r.body["created_by"], c.username, "created_by of a key made by a key")
    v = verify(c.d, r.body["key"])
    eq(v.get("code"), "VALID", "verify the child key")
    eq(v.get("owner"), {"type": "user", "name": c.username}, "owner of the child key")
    eq(len(list_keys(c)), 2, "keys of the owner")


def test_key_cannot_grant_scope_it_lacks_403_nothing_stored():
    c = new_user()
    parent = create_key(c, scopes=["APIKey", "Tasks"])
    r = Client(c.d, key=parent["key"]).request(
        "POST", "/v1/keys", json={"name": uniq(), "scopes": ["Tasks", "Secret"]})
    expect(r, 403, "forbidden")
    eq([x["id"] for x in list_keys(c)], [parent["id"]], "keys after the refused create")


def test_key_cannot_give_later_expiry_than_its_own_422():
    c = new_user()
    parent = create_key(c, scopes=["APIKey", "Tasks"], expires_at=iso(now() + 10 * DAY))
    r = Client(c.d, key=parent["key"]).request(
        "POST", "/v1/keys", json={"name": uniq(), "scopes": ["Tasks"],
                                  "expires_at": iso(now() + 20 * DAY)})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "expires_at")
    eq([x["id"] for x in list_keys(c)], [parent["id"]], "keys after the refused create")


def test_key_may_give_earlier_expiry_than_its_own():
    c = new_user()
    parent = create_key(c, scopes=["APIKey", "Tasks"], expires_at=iso(now() + 10 * DAY))
    exp = int(now()) + 5 * DAY
    r = Client(c.d, key=parent["key"]).request(
        "POST", "/v1/keys", json={"name": uniq(), "scopes": ["Tasks"], "expires_at": iso(exp)})
    expect(r, 201)
    eq(r.body["expires_at"], iso(exp), "expires_at of the child")


def test_key_created_default_expiry_capped_at_parent_expiry():
    c = new_user()
    parent = create_key(c, scopes=["APIKey", "Tasks"], expires_at=iso(now() + 10 * DAY))
    r = Client(c.d, key=parent["key"]).request("POST", "/v1/keys",
                                               json={"name": uniq(), "scopes": ["Tasks"]})
    expect(r, 201)
    near(ts(r.body["expires_at"], "child expires_at"), ts(parent["expires_at"], "parent"), 1,
         "child's default expires_at (the parent's)")


def test_key_caller_needs_no_csrf_token():
    c = new_user()
    parent = create_key(c, scopes=["APIKey", "Tasks"])
    kc = Client(c.d, key=parent["key"])
    child = create_key(kc)
    expect(kc.request("DELETE", f"/v1/keys/{child['id']}"), 204)


def test_bad_bearer_key_with_valid_cookie_is_401():
    c = new_user()
    r = c.request("GET", "/v1/keys", headers={"Authorization": "Bearer " + forge_key()})
    expect(r, 401, "unauthenticated")


def test_bad_x_api_key_with_valid_cookie_is_401():
    c = new_user()
    r = c.request("GET", "/v1/keys", headers={"X-API-Key": "apk_nonsense"})
    expect(r, 401, "unauthenticated")


def test_bad_bearer_key_with_valid_cookie_cannot_write():
    c = new_user()
    r = c.request("POST", "/v1/keys", json={"name": uniq(), "scopes": ["Tasks"]},
                  headers={"Authorization": "Bearer " + forge_key()})
    expect(r, 401, "unauthenticated")
    eq(list_keys(c), [], "keys after the refused create")


def test_basic_authorization_is_401():
    d = shared()
    cred = base64.b64encode(f"{ADMIN_USER}:{ADMIN_PASS}".encode()).decode()
    r = Client(d).request("GET", "/v1/keys", headers={"Authorization": "Basic " + cred})
    expect(r, 401, "unauthenticated")


def test_key_caller_cannot_see_other_users_key_404():
    d = shared()
    a, b = new_user(d), new_user(d)
    ka = create_key(a, scopes=["APIKey"])
    kb = create_key(b)
    kc = Client(d, key=ka["key"])
    expect(kc.request("GET", f"/v1/keys/{kb['id']}"), 404, "not-found")
    expect(kc.request("DELETE", f"/v1/keys/{kb['id']}"), 404, "not-found")
    r = expect(kc.request("GET", "/v1/keys"), 200)
    check(all(x["id"] != kb["id"] for x in r.body["keys"]), "another user's key listed")
    eq(verify(d, kb["key"]).get("code"), "VALID", "the other user's key after the attempt")


def test_key_caller_needs_user_scope_for_me():
    c = new_user()
    without = create_key(c, scopes=["APIKey"])
    with_user = create_key(c, scopes=["User"])
    expect(Client(c.d, key=without["key"]).request("GET", "/v1/me"), 403, "forbidden")
    r = expect(Client(c.d, key=with_user["key"]).request("GET", "/v1/me"), 200)
    eq(r.body.get("username"), c.username, "/v1/me username via a key")


def test_expired_key_cannot_call_the_api():
    c, k = expired_key()
    expect(Client(c.d, key=k["key"]).request("GET", "/v1/keys"), 401, "unauthenticated")


# ---- 8. verify ----------------------------------------------------------------------

def test_verify_valid_key():
    c = new_user()
    k = create_key(c, scopes=["Tasks", "Secret"])
    v = verify(c.d, k["key"])
    eq(v.get("valid"), True, "valid")
    eq(v.get("code"), "VALID", "code")
    eq(v.get("key_id"), k["id"], "key_id")
    eq(v.get("owner"), {"type": "user", "name": c.username}, "owner")
    eq(v.get("created_by"), c.username, "created_by")
    eq(sorted(v.get("scopes") or []), ["Secret", "Tasks"], "scopes")
    eq(v.get("expires_at"), k["expires_at"], "expires_at")


def test_verify_with_held_scope_is_valid():
    c = new_user()
    k = create_key(c, scopes=["Tasks", "Secret"])
    v = verify(c.d, k["key"], scope="Secret")
    eq((v.get("valid"), v.get("code")), (True, "VALID"), "(valid, code)")


def test_verify_with_missing_scope_is_insufficient_scope():
    c = new_user()
    k = create_key(c, scopes=["Tasks"])
    v = verify(c.d, k["key"], scope="Secret")
    eq((v.get("valid"), v.get("code")), (False, "INSUFFICIENT_SCOPE"), "(valid, code)")
    eq(v.get("key_id"), k["id"], "key_id")
    eq(v.get("owner"), {"type": "user", "name": c.username}, "owner")


def test_verify_with_unknown_scope_is_insufficient_scope():
    c = new_user()
    k = create_key(c, scopes=["Tasks"])
    v = verify(c.d, k["key"], scope="NoSuchScope")
    eq((v.get("valid"), v.get("code")), (False, "INSUFFICIENT_SCOPE"), "(valid, code)")


def _not_found(key):
    v = verify(shared(), key)
    eq((v.get("valid"), v.get("code")), (False, "NOT_FOUND"), "(valid, code)")
    check("key_id" not in v or v["key_id"] is None, f"expected no key_id, got {v.get('key_id')!r}")


def test_verify_garbage_key_not_found():
    _not_found("this is not a key")


def test_verify_empty_key_not_found():
    _not_found("")


def test_verify_changed_checksum_char_not_found():
    k = create_key(new_user())["key"]
    last = k[-1]
    changed = k[:-1] + ("A" if last != "A" else "B")
    _not_found(changed)
    eq(verify(shared(), k).get("code"), "VALID", "the original key")


def test_verify_changed_body_char_not_found():
    k = create_key(new_user())["key"]
    changed = k[:10] + ("x" if k[10] != "x" else "y") + k[11:]
    _not_found(changed)


def test_verify_forged_key_with_good_checksum_not_found():
    _not_found(forge_key())


def test_verify_wrong_prefix_not_found():
    k = create_key(new_user())["key"]
    s = "xyz_" + k[4:-6]
    _not_found(s + checksum(s))


def test_verify_deleted_key_not_found():
    c = new_user()
    k = create_key(c)
    expect(c.request("DELETE", f"/v1/keys/{k['id']}"), 204)
    _not_found(k["key"])


def test_verify_600_char_key_not_found():
    _not_found("apk_" + "a" * 596)


def test_verify_long_key_with_valid_key_inside_not_found():
    k = create_key(new_user())["key"]
    _not_found(k + "x" * (600 - len(k)))


def test_verify_missing_key_field_422():
    r = Client(shared()).request("POST", "/v1/verify", json={"scope": "Tasks"})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "key")


def test_verify_non_string_key_422():
    r = Client(shared()).request("POST", "/v1/verify", json={"key": 12345})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "key")


def test_verify_non_string_scope_422():
    k = create_key(new_user())["key"]
    r = Client(shared()).request("POST", "/v1/verify", json={"key": k, "scope": ["Tasks"]})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "scope")


def test_verify_unknown_field_422():
    k = create_key(new_user())["key"]
    r = Client(shared()).request("POST", "/v1/verify", json={"key": k, "scopes": "Tasks"})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "scopes")


def test_verify_non_json_400():
    expect(Client(shared()).request("POST", "/v1/verify", raw_body="key=apk_123"),
           400, "malformed-json")


def test_verify_json_string_body_400():
    expect(Client(shared()).request("POST", "/v1/verify", raw_body='"apk_123"'),
           400, "malformed-json")


# The verify body is read by a fast reader when it is a flat object of plain ASCII strings
# (src/base/flatjson.c) and by jansson otherwise; both must give the same answers.

def _verify_raw(body, content_type="application/json"):
    return Client(shared()).request("POST", "/v1/verify", raw_body=body, content_type=content_type)


def _escape_first_letter(s):
    """s with its first letter written as a JSON \\u escape (forces the jansson path)."""
    return "\\u%04x" % ord(s[0]) + s[1:]


def _same_answer(plain, escaped, status, what):
    a, b = _verify_raw(plain), _verify_raw(escaped)
    expect(a, status, what=f"{what} (plain)")
    expect(b, status, what=f"{what} (escaped)")
    def same(body):  # a problem's instance names its own request: the rest must be equal
        return {k: v for k, v in body.items() if k != "instance"} if isinstance(body, dict) \
            else body
    eq(same(a.body), same(b.body), f"{what}: plain and escaped bodies answered alike")
    return a


def test_verify_escaped_key_string_is_valid_via_fallback():
    c = new_user()
    k = create_key(c, scopes=["Tasks"])
    body = '{"key":"%s","scope":"Tasks"}' % _escape_first_letter(k["key"])
    check(body.startswith('{"key":"\\u0061pk_'), f"escaped body: {body[:20]}")
    r = expect(_verify_raw(body), 200)
    eq((r.body.get("valid"), r.body.get("code")), (True, "VALID"), "(valid, code)")
    eq(r.body.get("key_id"), k["id"], "key_id")


def test_verify_escaped_and_plain_bodies_give_identical_verdicts():
    c = new_user()
    k = create_key(c, scopes=["Tasks", "Secret"])
    key, esc = k["key"], _escape_first_letter(k["key"])
    for scope in ("Tasks", "Secret", "PublishApp", "NoSuchScope"):
        _same_answer('{"key":"%s","scope":"%s"}' % (key, scope),
                     '{"key":"%s","scope":"%s"}' % (esc, scope), 200, f"scope {scope}")
    _same_answer('{"key":"%s"}' % key, '{"key":"%s"}' % esc, 200, "no scope")
    _same_answer('{"key":"%s","project":"no-such-project"}' % key,
                 '{"key":"%s","project":"no-such-project"}' % esc, 200, "unknown project")
    fake = forge_key()
    _same_answer('{"key":"%s"}' % fake, '{"key":"%s"}' % _escape_first_letter(fake), 200,
                 "forged key")
    _same_answer('{"key":""}', '{"key":"","scope":"\\u0054asks"}', 200, "empty key")


def test_verify_member_names_with_escapes_are_read_via_fallback():
    c = new_user()
    k = create_key(c, scopes=["Tasks"])
    r = expect(_verify_raw('{"k\\u0065y":"%s","scop\\u0065":"Tasks"}' % k["key"]), 200)
    eq(r.body.get("code"), "VALID", "code")


def test_verify_white_space_around_tokens_is_accepted():
    c = new_user()
    k = create_key(c, scopes=["Tasks"])
    body = '\r\n \t{ \n"key"\t:\r\n "%s" \t,\n"scope" :"Tasks"\r\n}\n\t ' % k["key"]
    r = expect(_verify_raw(body), 200)
    eq((r.body.get("valid"), r.body.get("code"), r.body.get("key_id")), (True, "VALID", k["id"]),
       "(valid, code, key_id)")


def test_verify_content_type_with_parameters_is_accepted():
    c = new_user()
    k = create_key(c, scopes=["Tasks"])
    for ct in ("application/json; charset=utf-8", "Application/JSON", " application/json"):
        r = expect(_verify_raw('{"key":"%s"}' % k["key"], content_type=ct), 200,
                   what=f"Content-Type {ct!r}")
        eq(r.body.get("code"), "VALID", f"code with Content-Type {ct!r}")


def test_verify_duplicate_member_400_on_both_paths():
    k = create_key(new_user())["key"]
    for body in ('{"key":"%s","key":"%s"}' % (k, k),
                 '{"key":"%s","scope":"Tasks","key":"x"}' % k,
                 '{"key":"%s","k\\u0065y":"%s"}' % (k, k)):
        r = expect(_verify_raw(body), 400, "malformed-json", what=f"duplicate: {body[:40]}")
        assert_problem(r)
        eq(r.body.get("detail"), "the body is not valid JSON (or repeats a member)", "detail")


def test_verify_unknown_members_422_same_on_both_paths():
    k = create_key(new_user())["key"]
    r = _same_answer('{"zeta":"1","key":"%s","scopes":"Tasks","alpha":"2"}' % k,
                     '{"zeta":"1","key":"%s","scopes":"\\u0054asks","alpha":"2"}' % k, 422,
                     "unknown members")
    expect(r, 422, "validation-failed")
    eq([e.get("field") for e in r.body.get("errors")], ["zeta", "scopes", "alpha"],
       "fields in body order")
    long_name = "n" * 100
    r = _same_answer('{"key":"%s","%s":"x"}' % (k, long_name),
                     '{"key":"%s","%s":"\\u0078"}' % (k, long_name), 422, "long unknown name")
    eq([e.get("field") for e in r.body.get("errors")], [long_name[:63]], "name cut at 63 bytes")


def test_verify_missing_key_and_role_without_project_422_same_on_both_paths():
    r = _same_answer('{}', '{"scope":"\\u0054asks"}', 422, "no key")
    eq([e.get("field") for e in r.body.get("errors")], ["key"], "fields")
    k = create_key(new_user())["key"]
    r = _same_answer('{"key":"%s","role":"reader"}' % k,
                     '{"key":"%s","role":"r\\u0065ader"}' % k, 422, "role without project")
    eq(r.body.get("errors"), [{"field": "role", "detail": "needs a project"}], "errors")
    r = _same_answer('{"role":"reader","other":"x"}', '{"role":"r\\u0065ader","other":"x"}', 422,
                     "all three problems")
    eq([e.get("field") for e in r.body.get("errors")], ["other", "key", "role"], "fields")


def test_verify_wrong_content_type_415_before_the_body_is_read():
    k = create_key(new_user())["key"]
    for ct in ("text/plain", "application/x-www-form-urlencoded", "application/jsonx", None):
        for body in ('{"key":"%s"}' % k, "not json at all"):
            r = expect(_verify_raw(body, content_type=ct), 415, "unsupported-media-type",
                       what=f"Content-Type {ct!r}, body {body[:12]!r}")
            assert_problem(r)


def test_verify_empty_body_400():
    expect(_verify_raw(b""), 400, "malformed-json")


def test_verify_non_string_values_and_nesting_422_or_400():
    k = create_key(new_user())["key"]
    r = expect(_verify_raw('{"key":"%s","scope":null}' % k), 200)
    eq(r.body.get("code"), "VALID", "null scope is no scope")
    expect(_verify_raw('{"key":"%s","scope":{"a":"b"}}' % k), 422, "validation-failed")
    expect(_verify_raw('{"key":"%s",}' % k), 400, "malformed-json")
    expect(_verify_raw('{"key":"%s"} x' % k), 400, "malformed-json")
    expect(_verify_raw('{"key" "%s"}' % k), 400, "malformed-json")
    expect(_verify_raw('[{"key":"%s"}]' % k), 400, "malformed-json")


_EXPIRED = {}


def expired_key():
    """A key (on the shared daemon) created to expire 3 s later, once it has expired."""
    if "k" not in _EXPIRED:
        c = new_user()
        exp = int(now()) + 3
        k = create_key(c, scopes=["APIKey", "Tasks"], expires_at=iso(exp))
        eq(k["expires_at"], iso(exp), "expires_at of the short-lived key")
        eq(verify(c.d, k["key"]).get("code"), "VALID", "the short-lived key before expiry")
        wait = exp + 1.2 - now()
        check(wait < 10, "short-lived key: expiry too far away")
        if wait > 0:
            time.sleep(wait)
        _EXPIRED["k"] = (c, k)
    return _EXPIRED["k"]


def test_verify_expired_key_is_expired_and_auth_401():
    c, k = expired_key()
    v = verify(c.d, k["key"])
    eq((v.get("valid"), v.get("code")), (False, "EXPIRED"), "(valid, code) after expiry")
    expect(auth(c.d, k["key"]), 401, "unauthenticated", what="GET /v1/auth after expiry")


def test_expired_key_is_still_listed():
    c, k = expired_key()
    ids = [x["id"] for x in list_keys(c)]
    check(k["id"] in ids, f"expected the expired key {k['id']} in GET /v1/keys, got {ids}")


# ---- 9. /v1/auth --------------------------------------------------------------------

def test_auth_valid_key_204_with_identity_headers():
    c = new_user()
    k = create_key(c, scopes=["Tasks", "Secret"])
    r = expect(auth(c.d, k["key"]), 204)
    eq(r.headers.get("X-Apikey-Id"), k["id"], "X-Apikey-Id")
    eq(r.headers.get("X-Apikey-Owner"), f"user:{c.username}", "X-Apikey-Owner")
    eq(r.headers.get("X-Apikey-Created-By"), c.username, "X-Apikey-Created-By")
    scopes = [s.strip() for s in (r.headers.get("X-Apikey-Scopes") or "").split(",")]
    eq(sorted(scopes), ["Secret", "Tasks"], "X-Apikey-Scopes (comma-separated)")


def test_auth_with_required_scope_held_204():
    c = new_user()
    k = create_key(c, scopes=["Tasks", "Secret"])
    expect(auth(c.d, k["key"], scope="Secret"), 204)


def test_auth_with_required_scope_not_held_403():
    c = new_user()
    k = create_key(c, scopes=["Tasks"])
    expect(auth(c.d, k["key"], scope="Secret"), 403, "forbidden")


def test_auth_without_key_401():
    r = expect(Client(shared()).request("GET", "/v1/auth", headers={"X-Required-Scope": "*"}),
               401, "unauthenticated")
    check((r.headers.get("WWW-Authenticate") or "").lower().startswith("bearer"),
          f"expected WWW-Authenticate: Bearer, got {r.headers.get('WWW-Authenticate')!r}")


def test_auth_bad_key_401():
    expect(auth(shared(), forge_key()), 401, "unauthenticated")


def test_auth_malformed_key_401():
    expect(auth(shared(), "apk_short"), 401, "unauthenticated")


def test_auth_accepts_x_api_key():
    c = new_user()
    k = create_key(c, scopes=["Tasks"])
    r = expect(auth(c.d, k["key"], scope="Tasks", header="x-api-key"), 204)
    eq(r.headers.get("X-Apikey-Id"), k["id"], "X-Apikey-Id")


def test_auth_ignores_session_cookie():
    c = new_user()
    expect(c.request("GET", "/v1/auth", headers={"X-Required-Scope": "*"}), 401,
           "unauthenticated")


# ---- 10. last_used_at ----------------------------------------------------------------

def test_last_used_at_null_on_new_key():
    c = new_user()
    k = create_key(c)
    eq(k["last_used_at"], None, "last_used_at in the create response")
    eq(get_key(c, k["id"])["last_used_at"], None, "last_used_at in GET")
    eq([x["last_used_at"] for x in list_keys(c)], [None], "last_used_at in the list")


def _poll_last_used(c, kid, timeout=3.5):
    return wait_until(lambda: get_key(c, kid)["last_used_at"], timeout, 0.2)


def test_last_used_at_set_after_verify():
    c = new_user()
    k = create_key(c)
    t0 = now()
    eq(verify(c.d, k["key"]).get("code"), "VALID", "verify")
    lu = _poll_last_used(c, k["id"])
    check(lu, "last_used_at still null 3.5 s after a verify")
    near(ts(lu, "last_used_at"), t0, 3, "last_used_at")


def test_last_used_at_set_after_key_calls_the_api():
    c = new_user()
    k = create_key(c, scopes=["APIKey"])
    t0 = now()
    expect(Client(c.d, key=k["key"]).request("GET", "/v1/keys"), 200)
    lu = _poll_last_used(c, k["id"])
    check(lu, "last_used_at still null 3.5 s after the key called GET /v1/keys")
    near(ts(lu, "last_used_at"), t0, 3, "last_used_at")


def test_last_used_at_set_after_auth():
    c = new_user()
    k = create_key(c)
    t0 = now()
    expect(auth(c.d, k["key"]), 204)
    lu = _poll_last_used(c, k["id"])
    check(lu, "last_used_at still null 3.5 s after GET /v1/auth")
    near(ts(lu, "last_used_at"), t0, 3, "last_used_at")


def test_last_used_at_flushed_on_sigterm():
    d = dedicated("last-used-flush")
    try:
        c = Client(d)
        c.login(ADMIN_USER, ADMIN_PASS)
        k = create_key(c)
        time.sleep(1.2)          # let any batch of the create itself pass
        eq(get_key(c, k["id"])["last_used_at"], None, "last_used_at before the verify")
        t0 = now()
        eq(verify(d, k["key"]).get("code"), "VALID", "verify")
        check(now() - t0 < 0.3, "(test setup) verify took longer than 0.3 s")
        d.stop()                 # within 0.3 s of the verify: only the shutdown flush saves it
        d.start()
        c = Client(d)
        c.login(ADMIN_USER, ADMIN_PASS)
        g = get_key(c, k["id"])
        check(g["last_used_at"], "last_used_at lost across SIGTERM and restart")
        near(ts(g["last_used_at"], "last_used_at"), t0, 2, "last_used_at after restart")
        d.stop()
    finally:
        d.kill()


# ---- 11. restart --------------------------------------------------------------------

def test_restart_keeps_keys_and_deletions():
    d = dedicated("restart")
    try:
        c = Client(d)
        c.login(ADMIN_USER, ADMIN_PASS)
        kept = create_key(c, scopes=["Tasks"], description="kept")
        gone = create_key(c)
        expect(c.request("DELETE", f"/v1/keys/{gone['id']}"), 204)
        d.stop()
        d.start()
        v = verify(d, kept["key"], scope="Tasks")
        eq(v.get("code"), "VALID", "kept key after restart")
        eq(v.get("key_id"), kept["id"], "key_id after restart")
        eq(verify(d, gone["key"]).get("code"), "NOT_FOUND", "deleted key after restart")
        c = Client(d)
        c.login(ADMIN_USER, ADMIN_PASS)
        g = get_key(c, kept["id"])
        for f in ("name", "description", "hint", "scopes", "created_at", "expires_at",
                  "created_by"):
            eq(g[f], kept[f], f"{f} after restart")
        expect(c.request("GET", f"/v1/keys/{gone['id']}"), 404, "not-found")
        d.stop()
    finally:
        d.kill()


def test_restart_does_not_reset_bootstrap_admin():
    d = dedicated("bootstrap-kept")
    try:
        d.stop()
        d.bootstrap = f"{ADMIN_USER}:another-password-42"
        d.start()
        expect(Client(d).request("POST", "/v1/login", json={
            "username": ADMIN_USER, "password": "another-password-42"}), 401, "login-failed",
            what="login with the second start's bootstrap password")
        Client(d).login(ADMIN_USER, ADMIN_PASS)
        d.stop()
    finally:
        d.kill()


def test_restart_with_other_bootstrap_user_creates_no_second_admin():
    d = dedicated("bootstrap-other-user")
    try:
        d.stop()
        d.bootstrap = "root:another-password-42"
        d.start()
        expect(Client(d).request("POST", "/v1/login", json={
            "username": "root", "password": "another-password-42"}), 401, "login-failed",
            what="login as the second start's bootstrap user")
        Client(d).login(ADMIN_USER, ADMIN_PASS)
        d.stop()
    finally:
        d.kill()


# ---- 12. bootstrap without APIKEYD_BOOTSTRAP_ADMIN ----------------------------------

def _password_candidates(log):
    text = log.decode("utf-8", "replace")
    out = []
    for line in text.splitlines():
        if "password" not in line.lower():
            continue
        m = re.search(r'"password"\s*:\s*"([^"]+)"', line)
        if m:
            out.append(m.group(1))
        tail = line[line.lower().rfind("password") + len("password"):]
        for tok in re.split(r"\s+", tail):
            tok = tok.strip("'\"`:=,;.()[]{}<>")
            if len(tok) >= 8 and tok not in out:
                out.append(tok)
    return out


def _bootstrap_password(d):
    cands = _password_candidates(d.read_log(d.stderr_path))
    check(cands, "expected a line mentioning the admin password on stderr, got: "
                 f"{snippet(d.read_log(d.stderr_path)[-600:])}")
    for pw in sorted(cands, key=len, reverse=True)[:3]:
        r = Client(d).request("POST", "/v1/login", json={"username": ADMIN_USER, "password": pw})
        if r.status == 200:
            return pw
    raise AssertionError(f"no word of the password line logs in as {ADMIN_USER} "
                         f"(candidates {len(cands)})")


def test_bootstrap_without_env_prints_random_password_that_logs_in():
    d = dedicated("bootstrap-random", bootstrap=None)
    try:
        pw = _bootstrap_password(d)
        check(len(pw) >= 12, f"expected a random password of at least 12 characters, got "
                             f"{len(pw)} characters")
        c = Client(d)
        c.login(ADMIN_USER, pw)
        me = expect(c.request("GET", "/v1/me"), 200)
        check("admin" in role_names(me.body.get("roles")),
              f"expected the bootstrap user to have role admin, got {me.body.get('roles')!r}")
        eq(d.read_log(d.stderr_path).count(pw.encode()), 1, "times the password is printed")
        d.stop()
    finally:
        d.kill()


def test_bootstrap_random_password_is_printed_once_only():
    d = dedicated("bootstrap-once", bootstrap=None)
    try:
        pw = _bootstrap_password(d)
        d.stop()
        d.start()
        check(pw.encode() not in d.read_log(d.stderr_path),
              "the admin password was printed again on the second start")
        Client(d).login(ADMIN_USER, pw)
        d.stop()
    finally:
        d.kill()
    check(pw.encode() not in b"".join(d.data_files().values()),
          "the admin password appears in plain text in the data directory")


def test_two_fresh_daemons_get_different_random_passwords():
    pws = []
    for i in range(2):
        d = dedicated(f"bootstrap-distinct{i}", bootstrap=None)
        try:
            pws.append(_bootstrap_password(d))
            d.stop()
        finally:
            d.kill()
    check(pws[0] != pws[1], "two fresh daemons printed the same admin password")


# ---- 13. login throttling -----------------------------------------------------------

THROTTLE_ENV = {"APIKEYD_LOGIN_MAX_FAILURES": "3", "APIKEYD_LOGIN_BACKOFF_SECONDS": "2"}


def _retry_after(r):
    ra = r.headers.get("Retry-After")
    check(ra is not None and ra.strip().isdigit(),
          f"expected Retry-After as whole seconds, got {ra!r}")
    ra = int(ra)
    check(1 <= ra <= 3, f"expected Retry-After between 1 and 3 s (backoff 2 s), got {ra}")
    return ra


def _login(d, user, pw):
    return Client(d).request("POST", "/v1/login", json={"username": user, "password": pw})


def test_login_throttled_per_account_then_usable_after_retry_after():
    d = dedicated("throttle-account", env=THROTTLE_ENV)
    try:
        for i in range(3):
            expect(_login(d, ADMIN_USER, f"wrong-password-{i}"), 401, "login-failed",
                   what=f"failed login {i + 1}")
        r = _login(d, ADMIN_USER, ADMIN_PASS)
        expect(r, 429, "too-many-requests", what="4th login (right password) while blocked")
        check(not r.headers.get_all("Set-Cookie"), "a throttled login set a cookie")
        ra = _retry_after(r)
        time.sleep(ra + 0.2)
        expect(_login(d, ADMIN_USER, ADMIN_PASS), 200,
               what=f"right password {ra} s (Retry-After) later")
        d.stop()
    finally:
        d.kill()


def test_login_throttle_is_per_account_other_account_logs_in():
    d = dedicated("throttle-other-account", env=THROTTLE_ENV)
    try:
        victim = new_user(d)
        for i in range(3):
            expect(_login(d, victim.username, f"wrong-password-{i}"), 401, "login-failed")
        expect(_login(d, victim.username, victim.password), 429, "too-many-requests",
               what="the blocked account")
        expect(_login(d, ADMIN_USER, ADMIN_PASS), 200, what="another account meanwhile")
        d.stop()
    finally:
        d.kill()


def test_successful_login_clears_account_failures():
    d = dedicated("throttle-clear", env=THROTTLE_ENV)
    try:
        for i in range(2):
            expect(_login(d, ADMIN_USER, f"wrong-password-{i}"), 401, "login-failed")
        expect(_login(d, ADMIN_USER, ADMIN_PASS), 200, what="login after 2 failures")
        for i in range(2):
            expect(_login(d, ADMIN_USER, f"wrong-again-{i}"), 401, "login-failed",
                   what=f"failure {i + 1} after the successful login")
        expect(_login(d, ADMIN_USER, ADMIN_PASS), 200,
               what="login after 2 more failures (count was cleared)")
        d.stop()
    finally:
        d.kill()


def test_login_throttled_per_client_after_4x_failures():
    d = dedicated("throttle-client", env=THROTTLE_ENV)
    try:
        for i in range(12):
            expect(_login(d, uniq_user(f"ghost{i}"), "wrong-password"), 401, "login-failed",
                   what=f"failed login {i + 1} (distinct usernames)")
        r = _login(d, ADMIN_USER, ADMIN_PASS)
        expect(r, 429, "too-many-requests", what="13th login from the same client")
        _retry_after(r)
        d.stop()
    finally:
        d.kill()


VERIFY_THROTTLE_ENV = {"APIKEYD_VERIFY_MAX_FAILURES": "5", "APIKEYD_LOGIN_BACKOFF_SECONDS": "2"}


def _auth_from(d, key, client=None):
    h = {"Authorization": f"Bearer {key}", "X-Required-Scope": "*"}
    if client:
        h["X-Real-IP"] = client
    return Client(d).request("GET", "/v1/auth", headers=h)


def test_verify_throttled_per_client_after_bad_keys_then_recovers():
    d = dedicated("throttle-verify", env=VERIFY_THROTTLE_ENV)
    try:
        good = create_key(d.admin, scopes=("Tasks",))["key"]
        for i in range(5):
            expect(_auth_from(d, f"apk_not-a-key-{i}"), 401, what=f"bad key {i + 1}")
        r = _auth_from(d, "apk_not-a-key-6")
        expect(r, 429, "too-many-requests", what="/v1/auth, another bad key, blocked client")
        ra = _retry_after(r)
        r = Client(d).request("GET", "/v1/keys", headers={"Authorization": "Bearer apk_nope"})
        expect(r, 429, "too-many-requests", what="apikeyd's own endpoint, a bad key, blocked")
        # a real key answers by its own state, blocked client or not
        expect(_auth_from(d, good), 204, what="/v1/auth with a real key from the blocked client")
        expect(Client(d, key=good).request("GET", "/v1/keys"), 403,
               what="apikeyd's own endpoint with a real key (lacks APIKey), not 429")
        time.sleep(ra + 0.2)
        expect(_auth_from(d, "apk_not-a-key-7"), 401, what=f"a bad key {ra} s (Retry-After) later")
        d.stop()
    finally:
        d.kill()


def test_verify_throttle_is_per_client_behind_a_local_proxy():
    d = dedicated("throttle-verify-proxy", env=VERIFY_THROTTLE_ENV)
    try:
        good = create_key(d.admin, scopes=("Tasks",))["key"]
        attacker = "192.0.2.7"   # documentation address, only a header value
        for i in range(5):
            expect(_auth_from(d, f"apk_guess{i}", attacker), 401, what=f"guess {i + 1}")
        expect(_auth_from(d, "apk_guess6", attacker), 429, "too-many-requests",
               what="the attacker's address is blocked")
        expect(_auth_from(d, "apk_guess7", "192.0.2.8"), 401,
               what="another client behind the same proxy")
        expect(_auth_from(d, "apk_guess8"), 401, what="the proxy itself (no X-Real-IP)")
        expect(_auth_from(d, good, attacker), 204, what="a real key, even from the attacker")
        d.stop()
    finally:
        d.kill()


# ---- 14. /v1/me ---------------------------------------------------------------------

def test_me_admin_has_admin_role():
    r = expect(shared().admin.request("GET", "/v1/me"), 200)
    for f in ("username", "full_name", "email", "mfa_enabled", "auth_source", "roles"):
        check(f in r.body, f"/v1/me: expected field {f!r}, got {sorted(r.body)}")
    eq(r.body["username"], ADMIN_USER, "username")
    check("admin" in role_names(r.body["roles"]),
          f"expected roles to contain 'admin', got {r.body['roles']!r}")


def test_me_ordinary_user_lacks_admin_role():
    c = new_user()
    r = expect(c.request("GET", "/v1/me"), 200)
    eq(r.body.get("username"), c.username, "username")
    check(isinstance(r.body.get("roles"), list), f"roles: expected a list, got "
                                                 f"{r.body.get('roles')!r}")
    check("admin" not in role_names(r.body["roles"]),
          f"ordinary user's roles contain 'admin': {r.body['roles']!r}")


def test_me_unauthenticated_is_401():
    expect(Client(shared()).request("GET", "/v1/me"), 401, "unauthenticated")


def test_ordinary_user_cannot_create_users_403():
    d = shared()
    name = uniq_user("sneaky")
    expect(new_user(d).request("POST", "/v1/users", json={"username": name,
                                                          "password": "long-enough-pw-1"}),
           403, "forbidden")
    expect(_login(d, name, "long-enough-pw-1"), 401, "login-failed",
           what="login as the refused user")


# ---- 15. admins cannot mint keys for others -----------------------------------------

def test_admin_cannot_mint_key_with_owner_field():
    d = shared()
    u = new_user(d)
    before = len(list_keys(d.admin))
    name = uniq()
    r = d.admin.request("POST", "/v1/keys", json={"name": name, "scopes": ["Tasks"],
                                                  "owner": u.username})
    expect(r, 422, "validation-failed")
    expect_error_field(r, "owner")
    eq(list_keys(u), [], "the user's keys")
    eq(len(list_keys(d.admin)), before, "the admin's number of keys")


def test_admin_cannot_create_keys_under_other_user_path():
    d = shared()
    u = new_user(d)
    before = len(list_keys(d.admin))
    r = d.admin.request("POST", f"/v1/users/{u.username}/keys",
                        json={"name": uniq(), "scopes": ["Tasks"]})
    check(400 <= r.status < 500, f"POST /v1/users/{{u}}/keys: expected a 4xx, got {r.status}")
    check(r.status in (403, 404, 405), f"expected 403 (or 404/405), got {r.status}")
    eq(list_keys(u), [], "the user's keys")
    eq(len(list_keys(d.admin)), before, "the admin's number of keys")


# =========================================================================== runner

def _reason(e):
    tb = traceback.extract_tb(e.__traceback__)
    here = [f for f in tb if os.path.dirname(os.path.abspath(f.filename)) ==
            os.path.dirname(os.path.abspath(__file__))]
    where = f" [{os.path.basename(here[-1].filename)}:{here[-1].lineno}]" if here else ""
    msg = str(e) if isinstance(e, AssertionError) else f"{type(e).__name__}: {e}"
    return (msg or type(e).__name__).replace("\n", " | ") + where


def _final_checks(d):
    """Stop a shared daemon (must exit 0) and check no secret it issued is at rest."""
    d.stop()
    logs = d.all_logs()
    files = d.data_files()
    for s in d.secrets:
        check(s.encode() not in logs, "a key secret appears in the daemon's log")
        for name, blob in files.items():
            check(s.encode() not in blob, f"a key secret appears in {name}")


def _suite_tests():
    """test_* functions of this file, then of every tests/http/suite_*.py (which import their
    helpers with `from run import ...`; they share this module's state)."""
    sys.modules.setdefault("run", sys.modules[__name__])
    found = [(n, f) for n, f in list(globals().items()) if n.startswith("test_") and callable(f)]
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    for path in sorted(glob.glob(os.path.join(here, "suite_*.py"))):
        mod = importlib.import_module(os.path.splitext(os.path.basename(path))[0])
        found += [(n, f) for n, f in vars(mod).items()
                  if n.startswith("test_") and callable(f) and f.__module__ == mod.__name__]
    return found


def _run_tests(tests):
    """Runs tests in order; prints a line each and returns (passed, failed)."""
    passed = failed = 0
    for name, fn in tests:
        started = time.monotonic()
        try:
            fn()
            took = time.monotonic() - started
            # the time of a slow test, so a CI log shows where the minutes go
            print(f"ok   {name}" + (f" ({took:.1f} s)" if took >= 5 else ""), flush=True)
            passed += 1
        except Exception as e:              # noqa: BLE001 - report every failure
            print(f"FAIL {name}: {_reason(e)}", flush=True)
            failed += 1
    return passed, failed


def _files_of(tests):
    """The tests grouped by the file that defines them, in the order found."""
    files = {}
    for name, fn in tests:
        files.setdefault(fn.__module__, []).append((name, fn))
    return files


def _durations_path():
    out = os.environ.get("APIKEYD_TEST_OUTPUT") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
    return os.path.join(out, "http-durations.json")


def _claimed(claim_dir, module):
    """True for the one worker that claims module first (an exclusive create)."""
    try:
        os.close(os.open(os.path.join(claim_dir, module), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


def _run_worker(tests, claim_dir):
    """A worker of --jobs: runs each file it claims; records each file's duration."""
    passed = failed = 0
    for module, group in _files_of(tests).items():
        if not _claimed(claim_dir, module):
            continue
        started = time.monotonic()
        p, f = _run_tests(group)
        passed, failed = passed + p, failed + f
        with open(os.path.join(claim_dir, module + ".took"), "w") as out:
            out.write(f"{time.monotonic() - started:.1f}")
    return passed, failed


def _run_parallel(jobs, pattern):
    """Starts jobs workers over one claim list; passes their lines on; returns the exit code."""
    import selectors
    import subprocess
    try:
        with open(_durations_path()) as f:
            known = jsonlib.load(f)
    except (OSError, ValueError):
        known = {}
    claim_dir = tempfile.mkdtemp(prefix="apikeyd-claims-")
    _TMPDIRS.append(claim_dir)
    # the slowest files first (unknown ones by size), so no long file starts last
    tests = [(n, f) for n, f in _suite_tests() if pattern in n]
    order = sorted(_files_of(tests), key=lambda m: -known.get(
        m, os.path.getsize(sys.modules[m].__file__) / 1000))
    with open(os.path.join(claim_dir, "order"), "w") as f:
        f.write("\n".join(order))
    sel = selectors.DefaultSelector()
    procs = []
    for i in range(jobs):
        env = dict(os.environ, APIKEYD_TEST_WORKER=f"w{i + 1}-")
        proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--claim", claim_dir,
                                 pattern], stdout=subprocess.PIPE, env=env)
        procs.append(proc)
        sel.register(proc.stdout, selectors.EVENT_READ)
    passed = failed = 0
    open_pipes = jobs
    while open_pipes:
        for key, _ in sel.select():
            line = key.fileobj.readline()
            if not line:
                sel.unregister(key.fileobj)
                open_pipes -= 1
                continue
            m = re.fullmatch(rb"(\d+) passed, (\d+) failed\n?", line)
            if m:
                passed, failed = passed + int(m.group(1)), failed + int(m.group(2))
            else:
                sys.stdout.write(line.decode("utf-8", "replace"))
                sys.stdout.flush()
    codes = [p.wait() for p in procs]
    for i, code in enumerate(codes):
        if code not in (0, 1):
            print(f"FAIL worker_{i + 1}_exits_0_or_1: exit code {code}", flush=True)
            failed += 1
    took = dict(known)
    for m in order:
        try:
            with open(os.path.join(claim_dir, m + ".took")) as f:
                took[m] = float(f.read())
        except (OSError, ValueError):
            pass
    try:
        os.makedirs(os.path.dirname(_durations_path()), exist_ok=True)
        with open(_durations_path(), "w") as f:
            jsonlib.dump(took, f, indent=1, sort_keys=True)
    except OSError:
        pass
    shutil.rmtree(claim_dir, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    args = sys.argv[1:]
    jobs, claim_dir = 1, None
    while args and args[0] in ("--jobs", "--claim"):
        if args[0] == "--jobs":
            jobs = max(1, int(args[1]))
        else:
            claim_dir = args[1]
        args = args[2:]
    pattern = args[0] if args else ""
    if jobs > 1:
        return _run_parallel(jobs, pattern)
    tests = [(n, f) for n, f in _suite_tests() if pattern in n]
    if claim_dir:  # a worker: the files in the order the parent wrote
        with open(os.path.join(claim_dir, "order")) as f:
            rank = {m: i for i, m in enumerate(f.read().split("\n"))}
        tests.sort(key=lambda t: rank.get(t[1].__module__, len(rank)))
    passed = failed = 0
    try:
        if claim_dir:
            passed, failed = _run_worker(tests, claim_dir)
        else:
            passed, failed = _run_tests(tests)
        for kind, d in list(_SHARED.items()):
            name = f"{_WORKER}shared_{kind}_daemon_exits_0_on_sigterm_and_keeps_no_secret"
            try:
                _final_checks(d)
                print(f"ok   {name}", flush=True)
                passed += 1
            except Exception as e:              # noqa: BLE001
                print(f"FAIL {name}: {_reason(e)}", flush=True)
                failed += 1
    finally:
        for d in list(_LIVE):
            d.kill()
        if os.environ.get("APIKEYD_TEST_KEEP") != "1":
            for t in _TMPDIRS:
                shutil.rmtree(t, ignore_errors=True)
        elif _TMPDIRS:
            print("kept: " + " ".join(_TMPDIRS), file=sys.stderr)
    if openapi_check.ENABLED:
        print(f"openapi: {_WORKER}{openapi_check.checked[0]} responses matched web/openapi.json "
              f"({openapi_check.checked[1]:.1f} s of checking)", file=sys.stderr)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
