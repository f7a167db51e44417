"""Issue 18, items 2 and 3: Prometheus metrics on metrics_listen, structured logs, X-Request-Id.

A real Prometheus (Debian's `prometheus`) is started on 127.0.0.1 with a temp config and data
dir, scraping apikeyd every second; after known traffic its query API must return exactly the
values that traffic produces. The logs are read as JSON lines: their fields, the security
events at warn, and no secret sent during the test anywhere in them."""
import http.client
import json as jsonlib
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from run import (ADMIN_PASS, ADMIN_USER, Client, check, create_key, dedicated, eq, expect,
                 free_port, new_user, verify, forge_key)
from suite_identity import mfa_on_with_codes, totp

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
ID_RE = re.compile(r"^[0-9a-f]{16}-[0-9a-f]+$")


def fetch(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode("utf-8")


class Prometheus:
    """A throwaway Prometheus scraping one target every second."""

    def __init__(self, target):
        self.tmp = tempfile.mkdtemp(prefix="apikeyd-prom-")
        self.port = free_port()
        cfg = os.path.join(self.tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
                    "scrape_configs:\n  - job_name: apikeyd\n"
                    f"    static_configs:\n      - targets: ['{target}']\n")
        self.log = open(os.path.join(self.tmp, "prometheus.log"), "wb")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={cfg}",
             f"--storage.tsdb.path={os.path.join(self.tmp, 'data')}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"prometheus exited: {self.tail()}")
            try:
                if fetch(f"http://127.0.0.1:{self.port}/-/ready", 1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"prometheus not ready within 20 s: {self.tail()}")

    def tail(self):
        with open(os.path.join(self.tmp, "prometheus.log"), "rb") as f:
            return f.read()[-600:].decode("utf-8", "replace")

    def query(self, expr):
        """{label-set (sorted tuple): value} for an instant query."""
        url = (f"http://127.0.0.1:{self.port}/api/v1/query?"
               + urllib.parse.urlencode({"query": expr}))
        status, text = fetch(url)
        doc = jsonlib.loads(text)
        eq(doc.get("status"), "success", f"query {expr}")
        out = {}
        for s in doc["data"]["result"]:
            labels = tuple(sorted((k, v) for k, v in s["metric"].items()
                                  if k not in ("__name__", "job", "instance")))
            out[labels] = float(s["value"][1])
        return out

    def value(self, expr):
        got = self.query(expr)
        return next(iter(got.values())) if len(got) == 1 else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def metrics_daemon(label, **env):
    mport = free_port()
    d = dedicated(label, env=dict({"APIKEYD_METRICS_LISTEN": f"127.0.0.1:{mport}"}, **env))
    d.metrics_port = mport
    return d


def test_prometheus_scrapes_metrics_with_the_values_known_traffic_produces():
    check(os.path.exists(PROMETHEUS), "Debian's prometheus is not installed "
                                      "(scripts/ensure-deps.sh test)")
    d = metrics_daemon("metrics-prom", APIKEYD_LOGIN_MAX_FAILURES="2")
    prom = None
    try:
        admin = d.admin                                  # 1 successful password sign-in
        k = create_key(admin, scopes=("Tasks",))
        for _ in range(7):
            eq(verify(d, k["key"])["code"], "VALID", "a verification of a live key")
        for _ in range(3):
            eq(verify(d, forge_key())["code"], "NOT_FOUND", "a verification of a made-up key")
        victim = "metrics-victim"
        expect(admin.request("POST", "/v1/users",
                             json={"username": victim, "password": "pw-" + os.urandom(8).hex()}),
               201, what="create the user whose sign-ins fail")
        for _ in range(2):
            expect(Client(d).request("POST", "/v1/login",
                                     json={"username": victim, "password": "wrong-password-1"}),
                   401, "login-failed", what="a wrong password")
        r = Client(d).request("POST", "/v1/login",
                              json={"username": victim, "password": "wrong-password-1"})
        expect(r, 429, "too-many-requests", what="the third wrong password: throttled")
        expect(admin.request("GET", f"/v1/keys/{k['id']}"), 200, what="GET one key")

        prom = Prometheus(f"127.0.0.1:{d.metrics_port}")
        want = {
            'apikeyd_verifications_total{code="VALID"}': 7,
            'apikeyd_verifications_total{code="NOT_FOUND"}': 3,
            'apikeyd_verifications_total{code="EXPIRED"}': 0,
            'apikeyd_verification_duration_seconds_count': 10,
            'apikeyd_http_requests_total{route="/v1/verify",status_class="2xx"}': 10,
            'apikeyd_http_request_duration_seconds_count{route="/v1/verify"}': 10,
            'apikeyd_http_requests_total{route="/v1/login",status_class="4xx"}': 3,
            'apikeyd_http_requests_total{route="/v1/login",status_class="2xx"}': 1,
            'apikeyd_http_requests_total{route="/v1/keys/{}",status_class="2xx"}': 1,
            'apikeyd_logins_total{method="password",result="success"}': 1,
            'apikeyd_logins_total{method="password",result="failure"}': 2,
            'apikeyd_logins_total{method="password",result="throttled"}': 1,
            'apikeyd_throttled_total{what="login"}': 1,
            'apikeyd_throttled_total{what="verify"}': 0,
            'apikeyd_keys': 1,
            'apikeyd_group_commit_batch_size_count > 0': 1,
            'apikeyd_store_operation_duration_seconds_count{op="commit"} > 0': 1,
            'process_open_fds > 5': 1,
            'process_resident_memory_bytes > 1e6': 1,
            'process_threads >= 3': 1,
        }

        def mismatches():
            out = {}
            for expr, v in want.items():
                if " " in expr:      # a comparison: present (and true) or not
                    got = 1 if prom.query(expr) else 0
                else:
                    got = prom.value(expr)
                if got != v:
                    out[expr] = got
            return out

        deadline = time.monotonic() + 15
        bad = mismatches()
        while bad and time.monotonic() < deadline:
            time.sleep(0.5)
            bad = mismatches()
        check(not bad, f"Prometheus's values differ from what the traffic produced: {bad}; "
                       f"expected {want}")

        # the histograms hold every observation: the +Inf bucket equals the count
        eq(prom.value('apikeyd_verification_duration_seconds_bucket{le="+Inf"}'), 10.0,
           "the verification histogram's +Inf bucket")

        # labels never carry a key id, a username, an address or a raw path
        status, text = fetch(f"http://127.0.0.1:{d.metrics_port}/metrics")
        eq(status, 200, "GET /metrics on metrics_listen")
        for secret, what in ((k["id"], "the key id"), (k["key"], "the key"),
                             (victim, "a username"), (ADMIN_USER + '"', "the admin's name"),
                             ("127.0.0.1", "the client address")):
            check(secret not in text, f"/metrics holds {what} ({secret!r})")
        names = set(prom.query('{job="apikeyd", route=~".+"}').keys())
        routes = {dict(ls).get("route") for ls in names}
        check(routes and all(r == "unmatched" or r.startswith("/") for r in routes),
              f"route labels are templates: {routes}")
        d.stop()                                         # exits 0 (the sanitizer build: no leak)
    finally:
        if prom:
            prom.stop()
        d.kill()


def test_metrics_are_not_on_the_public_port_and_metrics_listen_serves_only_metrics():
    d = metrics_daemon("metrics-public")
    try:
        expect(Client(d).request("GET", "/metrics"), 404, "not-found",
               what="/metrics on the public port")
        def ask(method, path, body=None):  # the metrics listener is no part of the API
            conn = http.client.HTTPConnection("127.0.0.1", d.metrics_port, timeout=10)
            try:
                conn.request(method, path, body=body,
                             headers={"Content-Type": "application/json"} if body else {})
                r = conn.getresponse()
                return r.status, r.getheader("Content-Type") or "", r.read().decode()
            finally:
                conn.close()
        status, ctype, body = ask("GET", "/v1/keys")
        eq(status, 404, "another path on metrics_listen")
        check('"not-found"' in body or "not-found" in body, f"a not-found problem: {body!r}")
        status, ctype, body = ask("POST", "/metrics", "{}")
        eq(status, 405, "POST /metrics")
        status, ctype, body = ask("GET", "/metrics")
        eq(status, 200, "GET /metrics on metrics_listen")
        check(ctype.startswith("text/plain; version=0.0.4"),
              f"the exposition's media type: {ctype!r}")
        check("# TYPE apikeyd_verifications_total counter" in body,
              "the exposition names its families")
        d.stop()
    finally:
        d.kill()


def test_metrics_listen_is_off_by_default():
    d = dedicated("metrics-off")
    try:
        log = d.read_log(d.stderr_path).decode("utf-8", "replace")
        check("metrics on" not in log, f"no metrics listener without metrics_listen: {log}")
        expect(Client(d).request("GET", "/metrics"), 404, "not-found", what="/metrics")
        d.stop()
    finally:
        d.kill()


def _log_lines(d):
    lines = []
    for raw in d.read_log(d.stderr_path).decode("utf-8").splitlines():
        try:
            lines.append(jsonlib.loads(raw))
        except ValueError:
            raise AssertionError(f"a log line that is not JSON: {raw!r}")
    return lines


def test_json_logs_carry_their_fields_security_events_at_warn_and_no_secret():
    d = dedicated("logs-json", env={"APIKEYD_LOG_FORMAT": "json", "APIKEYD_ACCESS_LOG": "on",
                                    "APIKEYD_LOG_LEVEL": "info"})
    try:
        u = new_user(d, prefix="logs")
        secrets = [u.password, ADMIN_PASS, u.cookie, u.csrf, d.admin.cookie, d.admin.csrf]
        k = create_key(u, scopes=("Tasks", "APIKey"))
        secrets.append(k["key"])
        verify(d, k["key"])
        expect(Client(d, key=k["key"]).request("GET", f"/v1/keys?token={k['key']}"), 200,
               what="a key in the Authorization header and in the query")
        totp_secret, t, codes = mfa_on_with_codes(u)   # sends a one-time code
        secrets += codes + [totp_secret]
        mfa_code = totp(totp_secret, t)
        expect(Client(d).request("POST", "/v1/login",
                                 json={"username": u.username, "password": "not-the-password"}),
               401, "login-failed", what="a wrong password")
        expect(u.request("DELETE", f"/v1/keys/{k['id']}"), 204, what="revoke the key")
        d.stop()
        lines = _log_lines(d)
        for ln in lines:
            for f in ("time", "level", "msg"):
                check(isinstance(ln.get(f), str), f"log line without {f}: {ln}")
            check(ln["level"] in ("error", "warn", "info", "debug"), f"level: {ln}")
        access = [ln for ln in lines if ln["msg"] == "request"]
        check(len(access) >= 8, f"one access line per request: {len(access)}")
        for ln in access:
            for f, t in (("method", str), ("route", str), ("status", int), ("duration_us", int),
                         ("client", str), ("request_id", str)):
                check(isinstance(ln.get(f), t), f"access line without {f} ({t.__name__}): {ln}")
            check(ln["route"] == "-" or ln["route"].startswith("/"), f"route template: {ln}")
            check("?" not in ln["route"] and k["id"] not in ln["route"],
                  f"the route is the template, never the path: {ln}")
        check(any(ln["route"] == "/v1/keys/{}" and ln["method"] == "DELETE" for ln in access),
              "the DELETE is logged under its template")
        failed = [ln for ln in lines if ln.get("event") == "login_failed"]
        check(len(failed) == 1 and failed[0]["level"] == "warn" and
              failed[0].get("user") == u.username and failed[0].get("client") == "127.0.0.1"
              and failed[0].get("request_id"), f"the failed sign-in at warn: {failed}")
        revoked = [ln for ln in lines if ln.get("event") == "key_revoked"]
        check(len(revoked) == 1 and revoked[0]["level"] == "warn" and
              revoked[0].get("key_id") == k["id"], f"the revoked key at warn: {revoked}")
        text = d.all_logs().decode("utf-8", "replace")
        for s in secrets + d.secrets:
            check(s and s not in text, f"a secret sent during the test is in the log: {s[:6]}…")
        # the six-digit code: in no text of any line (numbers such as durations aside)
        for ln in lines:
            for name, v in ln.items():
                check(not (isinstance(v, str) and mfa_code in v and name != "request_id"),
                      f"the MFA code is in the log: {ln}")
    finally:
        d.kill()


def test_throttles_and_refused_escalations_are_logged_at_warn():
    d = dedicated("logs-warn", env={"APIKEYD_LOG_FORMAT": "json",
                                    "APIKEYD_LOGIN_MAX_FAILURES": "1"})
    try:
        u = new_user(d, prefix="esc")
        # not even an admin resets its own password here (own-grants): a refused escalation
        expect(d.admin.request("PATCH", f"/v1/users/{ADMIN_USER}",
                               json={"password": "pw-taken-" + os.urandom(6).hex()}),
               403, "own-grants", what="the admin's own password reset")
        expect(Client(d).request("POST", "/v1/login",
                                 json={"username": u.username, "password": "wrong-one-1"}),
               401, "login-failed", what="wrong password")
        expect(Client(d).request("POST", "/v1/login",
                                 json={"username": u.username, "password": "wrong-one-1"}),
               429, "too-many-requests", what="throttled")
        d.stop()
        lines = _log_lines(d)
        throttled = [ln for ln in lines if ln.get("event") == "login_throttled"]
        check(len(throttled) == 1 and throttled[0]["level"] == "warn",
              f"the throttled sign-in at warn: {throttled}")
        esc = [ln for ln in lines if str(ln.get("event", "")).startswith("escalation")]
        check(len(esc) == 1 and esc[0]["level"] == "warn" and
              esc[0].get("event") == "escalation_refused_own_grants" and
              esc[0].get("actor") == ADMIN_USER and esc[0].get("reason") == "/v1/users/{}",
              f"the refused escalation at warn: {esc}")
    finally:
        d.kill()


def test_log_level_warn_leaves_info_out_and_bad_settings_are_refused():
    from run import check_settings_refused_at_start
    check_settings_refused_at_start([("APIKEYD_LOG_FORMAT", "xml"),
                                     ("APIKEYD_LOG_LEVEL", "verbose"),
                                     ("APIKEYD_ACCESS_LOG", "yes"),
                                     ("APIKEYD_METRICS_LISTEN", "not-an-address")])
    d = dedicated("logs-level", env={"APIKEYD_LOG_LEVEL": "warn", "APIKEYD_ACCESS_LOG": "on"})
    try:
        expect(Client(d).request("GET", "/healthz"), 200)
        d.stop()
        text = d.read_log(d.stderr_path).decode("utf-8", "replace")
        check(" INFO " not in text, f"no info line at log_level=warn: {text[:400]}")
    finally:
        d.kill()


def _raw_with_id(d, rid):
    """GET /v1/nowhere with X-Request-Id rid: (the response's X-Request-Id, the instance)."""
    r = Client(d).request("GET", "/v1/nowhere", headers={"X-Request-Id": rid})
    expect(r, 404, "not-found")
    return r.headers.get("X-Request-Id"), r.body.get("instance")


def test_request_ids_from_a_trusted_proxy_are_kept_others_replaced():
    d = dedicated("reqid-trusted")     # trusted_proxies holds 127.0.0.0/8 by default
    try:
        got, inst = _raw_with_id(d, "edge-7f3a.42:x_1@lb")
        eq(got, "edge-7f3a.42:x_1@lb", "a sane id from a trusted proxy is kept")
        eq(inst, "urn:apikeyd:request:edge-7f3a.42:x_1@lb", "the problem's instance")
        for bad in ("x" * 65, "a b", "a<b>", "é", "a/b", '"q"'):
            got, inst = _raw_with_id(d, bad)
            check(got and got != bad and ID_RE.match(got),
                  f"an over-long or bad id {bad!r} is replaced by a made one, got {got!r}")
            eq(inst, f"urn:apikeyd:request:{got}", "instance names the id sent back")
        got64, _ = _raw_with_id(d, "y" * 64)
        eq(got64, "y" * 64, "64 characters are kept")
        # every response has one, successes and refusals before routing too
        r = Client(d).request("GET", "/healthz")
        check(ID_RE.match(r.headers.get("X-Request-Id") or ""), "an id on a 200")
        r2 = Client(d).request("GET", "/healthz")
        check(r.headers["X-Request-Id"] != r2.headers["X-Request-Id"], "ids differ")
        r = Client(d).send_raw("GET", "/", b"GARBAGE\r\n\r\n")
        eq(r.status, 400, "a garbage request")
        check(ID_RE.match(r.headers.get("X-Request-Id") or ""), "an id on an early 400")
        eq(r.body.get("instance"), f"urn:apikeyd:request:{r.headers['X-Request-Id']}",
           "the early problem's instance")
        d.stop()
    finally:
        d.kill()


def test_request_ids_from_an_untrusted_peer_are_replaced():
    d = dedicated("reqid-untrusted", env={"APIKEYD_TRUSTED_PROXIES": "10.9.9.9"})
    try:
        got, inst = _raw_with_id(d, "edge-7f3a")
        check(got != "edge-7f3a" and ID_RE.match(got or ""),
              f"an untrusted peer's id is replaced, got {got!r}")
        eq(inst, f"urn:apikeyd:request:{got}", "instance")
        d.stop()
    finally:
        d.kill()


def _samples(port):
    """{'name{labels}': value} of one scrape of metrics_listen."""
    _, text = fetch(f"http://127.0.0.1:{port}/metrics")
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def test_postgresql_nodes_report_the_view_age_and_the_change_feed_state():
    from suite_cluster import STALE_MS, _fresh_database, _kill_all, _nodes, _pg_ctl, _poll
    url = _fresh_database()
    ports = [free_port(), free_port()]
    a = _nodes(1, url, env={"APIKEYD_METRICS_LISTEN": f"127.0.0.1:{ports[0]}"})[0]
    b = _nodes(1, url, env={"APIKEYD_METRICS_LISTEN": f"127.0.0.1:{ports[1]}"})[0]
    try:
        k = create_key(a.admin, scopes=("Tasks",))
        # b learns of a's key through the feed: its gauge counts it
        s, _ = _poll(lambda: _samples(ports[1]), lambda s: s.get("apikeyd_keys") == 1, 5, 0.05)
        eq(s.get("apikeyd_keys"), 1.0, "node b's apikeyd_keys after a created a key")
        eq(s.get('apikeyd_change_feed_state{state="in_step"}'), 1.0, "b's feed is in step")
        eq(s.get('apikeyd_change_feed_state{state="stale"}'), 0.0, "not stale")
        check(0 <= s.get("apikeyd_view_age_seconds", -1) < STALE_MS / 1000,
              f"the view's age is under stale_after_ms: {s.get('apikeyd_view_age_seconds')}")
        _pg_ctl("stop")
        try:
            s, waited = _poll(lambda: _samples(ports[0]),
                              lambda s: s.get('apikeyd_change_feed_state{state="stale"}') == 1,
                              STALE_MS / 1000 + 5, 0.05)
            eq(s.get('apikeyd_change_feed_state{state="stale"}'), 1.0,
               f"a's feed is stale without the database ({waited:.1f} s)")
            check(s.get("apikeyd_view_age_seconds", 0) > STALE_MS / 1000,
                  f"the view's age grows past the bound: {s.get('apikeyd_view_age_seconds')}")
            eq(verify(a, k["key"]).get("code"), "UNAVAILABLE", "verification while stale")
            s = _samples(ports[0])
            check(s.get('apikeyd_verifications_total{code="UNAVAILABLE"}', 0) >= 1,
                  "the UNAVAILABLE answer is counted")
        finally:
            _pg_ctl("start")
        s, waited = _poll(lambda: _samples(ports[0]),
                          lambda s: s.get('apikeyd_change_feed_state{state="in_step"}') == 1,
                          20, 0.1)
        eq(s.get('apikeyd_change_feed_state{state="in_step"}'), 1.0,
           f"in step again once the database is back ({waited:.1f} s)")
        a.stop()
        b.stop()
    finally:
        _kill_all([a, b])
