"""Issue 18, item 4: native TLS (tls_cert_file, tls_key_file). A self-signed certificate made
here with `openssl req`, apikeyd serving TLS on 127.0.0.1, driven with `curl`, `openssl
s_client` and Python's ssl: TLS 1.3 and 1.2 handshakes, 1.1 refused, ALPN http/1.1 (an h2-only
client refused), verify / login / key creation over TLS with HSTS and Secure cookies,
keep-alive and pipelining, plain HTTP to the TLS port answered 400 and closed, a stalled or
trickled handshake closed at the idle timeout, SIGHUP taking a new certificate while an open
connection keeps working (and a bad one keeping the old), the settings checked at start, and
the essentials of suite_protocol run again over TLS.

Every test name starts with test_tls_. Only 127.0.0.1; every wait is bounded.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

import run
from run import (_TMPDIRS, ADMIN_PASS, ADMIN_USER, Client, Daemon, check, create_key, eq,
                 expect, free_port, new_user, wait_until)

IDLE = 4  # idle_timeout_seconds of the TLS daemon: a handshake must be done within it
HSTS = "max-age=31536000"


def _openssl(*args, timeout=30, input=None):
    return subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=timeout,
                          input=input)


def make_cert(folder, name, cn="127.0.0.1"):
    """A self-signed P-256 certificate for 127.0.0.1 and its key (mode 600): (cert, key)."""
    cert, key = os.path.join(folder, f"{name}.crt"), os.path.join(folder, f"{name}.key")
    p = _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={cn}",
                 "-addext", "subjectAltName=IP:127.0.0.1")
    check(p.returncode == 0, f"openssl req failed: {p.stderr[-300:]}")
    os.chmod(key, 0o600)
    return cert, key


def fingerprint_file(cert):
    with open(cert) as f:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()


_TLS = {}


def tls_daemon():
    """The suite's TLS daemon (started once): its certificate files are replaced by the reload
    test, so clients trust every certificate the suite makes (tls_context loads a bundle)."""
    d = _TLS.get("d")
    if d is not None and d.proc is not None:
        return d
    tmp = tempfile.mkdtemp(prefix="apikeyd-test-tls-")
    _TMPDIRS.append(tmp)
    cert, key = make_cert(tmp, "one")
    d = Daemon("tls", tls=(cert, key),
               env={"APIKEYD_IDLE_TIMEOUT_SECONDS": str(IDLE),
                    "APIKEYD_VERIFY_MAX_FAILURES": "1000000",
                    "APIKEYD_MAX_PROJECTS_PER_USER": "1000000"})
    d.tls_dir, d.cert, d.key = tmp, cert, key
    d.bundle = os.path.join(tmp, "trusted.pem")
    shutil.copyfile(cert, d.bundle)
    d.tls_context = ssl.create_default_context(cafile=d.bundle)
    d.start()
    _TLS["d"] = d
    return d


def trust(d, cert):
    """Adds cert to what the suite's clients trust for d."""
    with open(cert) as src, open(d.bundle, "a") as dst:
        dst.write(src.read())
    d.tls_context = ssl.create_default_context(cafile=d.bundle)


def s_client(d, *args, request=None):
    """openssl s_client to d with args; (exit status, stdout + stderr)."""
    p = _openssl("s_client", "-connect", f"127.0.0.1:{d.port}", "-CAfile", d.bundle,
                 "-servername", "localhost", *args, input=request or "", timeout=20)
    return p.returncode, p.stdout + p.stderr


def curl(d, *args):
    """curl over HTTPS to d (trusting the bundle): (exit status, head, body)."""
    p = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", d.bundle, "-D", "-",
                        *args], capture_output=True, text=True, timeout=30)
    head, _, body = p.stdout.partition("\n\n")  # text mode: line ends are "\n"
    return p.returncode, head, body, p.stderr


def served_fingerprint(d):
    """SHA-256 of the certificate a new connection to d is served."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", d.port), timeout=5) as raw:
        with ctx.wrap_socket(raw) as s:
            return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def read_until_closed(sock, limit=5.0):
    """Everything sock receives until the peer closes; (bytes, seconds, closed)."""
    sock.settimeout(limit)
    t0, data = time.monotonic(), b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data, time.monotonic() - t0, True
            data += chunk
    except ConnectionResetError:
        return data, time.monotonic() - t0, True
    except socket.timeout:
        return data, time.monotonic() - t0, False


def still_serving_tls(d, what):
    r = Client(d).request("GET", "/healthz")
    expect(r, 200, what=f"{what}: GET /healthz over TLS")


# --------------------------------------------------------------------------- handshakes

def test_tls_handshakes_13_and_12_succeed_11_is_refused_and_alpn_is_http11():
    d = tls_daemon()
    req = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    rc, out = s_client(d, "-tls1_3", "-alpn", "http/1.1", "-ign_eof", request=req)
    check(rc == 0 and "Protocol  : TLSv1.3" in out, f"TLS 1.3 handshake: {out[-600:]}")
    check("ALPN protocol: http/1.1" in out, f"TLS 1.3: ALPN http/1.1 expected: {out[-600:]}")
    check("Verify return code: 0 (ok)" in out, f"TLS 1.3: certificate check: {out[-400:]}")
    check('{"status":"ok"}' in out, f"TLS 1.3: the answer to GET /healthz: {out[-400:]}")
    rc, out = s_client(d, "-tls1_2", "-alpn", "http/1.1", "-ign_eof", request=req)
    check(rc == 0 and "Protocol  : TLSv1.2" in out, f"TLS 1.2 handshake: {out[-600:]}")
    m = re.search(r"Cipher    : (\S+)", out)
    check(m and m.group(1).startswith("ECDHE-") and ("GCM" in m.group(1) or "CHACHA" in
                                                       m.group(1)),
          f"TLS 1.2: an ECDHE AEAD cipher expected, got {m and m.group(1)}")
    check('{"status":"ok"}' in out, f"TLS 1.2: the answer to GET /healthz: {out[-400:]}")
    # a client that really offers TLS 1.1 (its own security level lowered so it may)
    rc, out = s_client(d, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", request=req)
    check(rc != 0 and "alert protocol version" in out and "Cipher is (NONE)" in out and
          '"status"' not in out, f"TLS 1.1 must be refused: {out[-600:]}")
    # TLS 1.2 with a CBC (non-AEAD) cipher only: no cipher in common
    rc, out = s_client(d, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA",
                       request=req)
    check(rc != 0 and '"status"' not in out, f"a CBC-only client must be refused: {out[-400:]}")
    still_serving_tls(d, "after the refused handshakes")


def test_tls_alpn_h2_only_client_is_refused_and_h2_or_http11_gets_http11():
    d = tls_daemon()
    rc, out = s_client(d, "-alpn", "h2")
    check(rc != 0 and "no application protocol" in out,
          f"an h2-only client must get the no_application_protocol alert: {out[-500:]}")
    rc, out = s_client(d, "-alpn", "h2,http/1.1")
    check(rc == 0 and "ALPN protocol: http/1.1" in out, f"h2,http/1.1 → http/1.1: {out[-500:]}")
    rc, head, body, err = curl(d, "--http2", f"https://127.0.0.1:{d.port}/healthz")
    eq(rc, 0, f"curl --http2 (offers h2 and http/1.1): {err}")
    check(head.startswith("HTTP/1.1 200"), f"curl --http2 must be answered in HTTP/1.1: {head}")
    still_serving_tls(d, "after the h2-only client")


def test_tls_session_tickets_resume_and_a_reload_renews_their_key():
    d = tls_daemon()
    req = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    sess = {v: os.path.join(d.tls_dir, f"session{v}.pem") for v in ("-tls1_3", "-tls1_2")}
    for v, path in sess.items():
        rc, out = s_client(d, v, "-sess_out", path, "-ign_eof", request=req)
        check(rc == 0 and "\nNew, " in out, f"{v}: a first, full handshake: {out[-300:]}")
        rc, out = s_client(d, v, "-sess_in", path, "-ign_eof", request=req)
        check(rc == 0 and "\nReused, " in out and '{"status":"ok"}' in out,
              f"{v}: the ticket resumes the session (no server-side cache: a ticket): "
              f"{out[-400:]}")
    reloads = d.all_logs().count(b"tls: reloaded")
    d.proc.send_signal(signal.SIGHUP)
    check(wait_until(lambda: d.all_logs().count(b"tls: reloaded") > reloads, 5, 0.05),
          "the reload is logged")
    for v, path in sess.items():
        rc, out = s_client(d, v, "-sess_in", path, "-ign_eof", request=req)
        check(rc == 0 and "\nNew, " in out and '{"status":"ok"}' in out,
              f"{v}: after a reload the old ticket key is gone (a full handshake): {out[-300:]}")


# --------------------------------------------------------------------------- the API over TLS

def test_tls_verify_login_and_key_create_work_with_hsts_and_secure_cookies():
    d = tls_daemon()
    admin = Client(d)
    r = admin.login(ADMIN_USER, ADMIN_PASS)
    eq(r.headers.get("Strict-Transport-Security"), HSTS, "login: HSTS")
    cookies = r.headers.get_all("Set-Cookie") or []
    session = [c for c in cookies if c.startswith("__Host-apikeyd_session=")]
    check(session, f"over TLS the session cookie is __Host-apikeyd_session: {cookies}")
    check("; Secure" in session[0] and "HttpOnly" in session[0] and "Path=/" in session[0],
          f"the session cookie must be Secure, HttpOnly, Path=/: {session[0][:30]}...")
    check(not [c for c in cookies if c.startswith("apikeyd_session=")],
          "no plain apikeyd_session cookie over TLS")
    u = new_user(d)
    k = create_key(u, scopes=("Tasks",))
    key = k["key"]
    # verify with curl (its own TLS stack), over TLS 1.3 and 1.2
    for flags in (["--tlsv1.3"], ["--tlsv1.2", "--tls-max", "1.2"]):
        rc, head, body, err = curl(d, *flags, "-H", "Content-Type: application/json",
                                   "--data", json.dumps({"key": key, "scope": "Tasks"}),
                                   f"https://127.0.0.1:{d.port}/v1/verify")
        eq(rc, 0, f"curl {flags} verify: {err}")
        check(head.startswith("HTTP/1.1 200"), f"curl {flags} verify: {head[:200]}")
        check(f"strict-transport-security: {HSTS}" in head.lower(), f"verify: HSTS: {head}")
        v = json.loads(body)
        eq((v.get("valid"), v.get("code"), v.get("key_id")), (True, "VALID", k["id"]),
           f"curl {flags} verify verdict")
    rc, head, _, err = curl(d, "-H", f"Authorization: Bearer {key}", "-H",
                            "X-Required-Scope: Tasks", f"https://127.0.0.1:{d.port}/v1/auth")
    check(rc == 0 and head.startswith("HTTP/1.1 204"), f"GET /v1/auth over TLS: {head} {err}")
    # every answer carries HSTS: a problem, a 404, a static file, the logout
    for method, path in (("GET", "/v1/keys"), ("GET", "/nothing-here"), ("GET", "/"),
                         ("GET", "/healthz")):
        r = Client(d).request(method, path)
        eq(r.headers.get("Strict-Transport-Security"), HSTS, f"{method} {path} -> {r.status}")
    r = u.request("POST", "/v1/logout")
    expect(r, 204, what="logout over TLS")
    eq(r.headers.get("Strict-Transport-Security"), HSTS, "logout: HSTS")
    check(any(c.startswith("__Host-apikeyd_session=;") and "Secure" in c
              for c in r.headers.get_all("Set-Cookie") or []),
          "logout clears the __Host- cookie, Secure")


def test_tls_keep_alive_and_pipelined_requests_are_answered_in_order():
    from suite_protocol import Conn, expect_healthz, expect_valid, good_key, request, \
        verify_request
    d = tls_daemon()
    key, kid = good_key(d)
    with Conn(d) as c:
        for i in range(3):                      # keep-alive: one TLS connection, turn by turn
            c.send(verify_request(key, scope="Tasks"))
            expect_valid(c.read_response(), kid, f"keep-alive request {i + 1}")
        # pipelined: three requests in one TLS record, answered in order
        c.send(request("GET", "/healthz") + verify_request(key) + request("GET", "/healthz"))
        expect_healthz(c.read_response(), "pipelined 1")
        expect_valid(c.read_response(), kid, "pipelined 2")
        expect_healthz(c.read_response(), "pipelined 3")
        # one request in many small TLS records
        wire = verify_request(key)
        for i in range(0, len(wire), 7):
            c.send(wire[i:i + 7])
        expect_valid(c.read_response(), kid, "a request sent 7 bytes per record")
        # a worker's route (key create) between two event-thread ones on the same connection
        u = new_user(d)
        body = json.dumps({"name": "pipe-" + os.urandom(3).hex(), "scopes": ["Tasks"]}).encode()
        c.send(request("GET", "/healthz") +
               request("POST", "/v1/keys", [("Content-Type", "application/json"),
                                            ("Cookie", f"{u.cookie_name}={u.cookie}"),
                                            ("X-CSRF-Token", u.csrf)], body) +
               request("GET", "/healthz"))
        expect_healthz(c.read_response(), "before the create")
        created = c.read_response("POST")
        eq(created.status, 201, f"the pipelined create: {created}")
        d.secrets.append(created.json()["key"])
        expect_healthz(c.read_response(), "after the create")


# --------------------------------------------------------------------------- not TLS

def test_tls_plain_http_to_the_tls_port_is_answered_400_in_plain_and_closed():
    d = tls_daemon()
    with socket.create_connection(("127.0.0.1", d.port), timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data, took, closed = read_until_closed(s)
    check(closed and took < 3, f"a plain request must be answered and closed at once "
                               f"(closed={closed} after {took:.1f} s)")
    head, _, body = data.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 400 "), f"plain request: {data[:200]!r}")
    check(b"Strict-Transport-Security" not in head, "no HSTS in a plain-HTTP answer")
    problem = json.loads(body)
    eq(problem.get("type"), "urn:apikeyd:problem:bad-request", "plain request: problem type")
    check("HTTPS" in problem.get("detail", ""), f"the detail says to use HTTPS: {problem}")
    rc, head, _, _ = (lambda p: (p.returncode, p.stdout, None, None))(subprocess.run(
        ["curl", "-sS", "-i", "--max-time", "5", f"http://127.0.0.1:{d.port}/v1/verify",
         "--data", "{}"], capture_output=True, text=True, timeout=20))
    check(rc == 0 and head.startswith("HTTP/1.1 400"), f"curl http:// to the TLS port: {head}")
    # bytes that are neither TLS nor an HTTP request: closed, promptly
    for junk in (b"HELLO THERE\r\n\r\n", b"\x00" * 64, b"OPTIONS * HTTP/1.1\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", d.port), timeout=5) as s:
            s.sendall(junk)
            data, took, closed = read_until_closed(s)
        check(closed and took < 3 and b"HTTP/1.1 200" not in data,
              f"{junk[:12]!r}: must be closed promptly (closed={closed}, {took:.1f} s)")
    still_serving_tls(d, "after plain HTTP on the TLS port")


def test_tls_stalled_or_trickled_handshake_is_closed_at_the_idle_timeout():
    """A handshake has the idle timeout from the connection's start, however its bytes come; a
    handshake done within it gives the request a fresh idle timeout of its own."""
    from suite_protocol import Conn, expect_healthz, request
    d = tls_daemon()
    # a ClientHello made by a real client, cut short: the record header says more follows
    hello = _client_hello()
    t0 = time.monotonic()
    stalled = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    stalled.sendall(hello[:40])
    trickle = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    silent = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    late = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    late_tls, handshake_at, late_answer = None, None, None
    sent, trickle_closed_at = 0, None
    deadline = t0 + IDLE + 4
    while time.monotonic() < deadline:              # a byte every 0.25 s
        now = time.monotonic()
        if late_tls is None and now >= t0 + IDLE - 1:
            # the handshake a second before the timeout, then the request a second before
            # the timeout counted from the handshake (past the first one)
            late_tls = d.tls_context.wrap_socket(late, server_hostname="127.0.0.1")
            handshake_at = time.monotonic()
        if late_tls is not None and late_answer is None and now >= handshake_at + IDLE - 1:
            c = Conn.__new__(Conn)
            c.sock, c.buf = late_tls, b""
            c.send(request("GET", "/healthz"))
            late_answer = c.read_response()
        if trickle_closed_at is None and sent < len(hello) - 1:
            try:
                trickle.sendall(hello[sent:sent + 1])
                sent += 1
            except OSError:
                trickle_closed_at = time.monotonic() - t0
        if late_answer is not None and (trickle_closed_at is not None or sent >= len(hello) - 1):
            break
        time.sleep(0.25)
    check(late_answer is not None, "the request after a late handshake was not sent in time")
    expect_healthz(late_answer, "a request a second before the idle timeout counted from a "
                                "handshake done a second before its own")
    _, took, closed = read_until_closed(stalled, limit=max(0.1, deadline - time.monotonic()))
    check(closed, f"a handshake stalled after 40 bytes must be closed within {IDLE}+1 s")
    check(time.monotonic() - t0 < IDLE + 5, "the stalled handshake was closed too late")
    if trickle_closed_at is None:
        _, _, closed = read_until_closed(trickle, limit=max(0.1, deadline - time.monotonic()))
        check(closed, f"a handshake trickled a byte at a time must be closed at the idle "
                      f"timeout ({sent} bytes sent)")
    check(sent < len(hello) - 1, "the trickled handshake was let run to its end")
    _, _, closed = read_until_closed(silent, limit=1.0)
    check(closed, "a connection that never began its handshake must be closed too")
    for s in (stalled, trickle, silent, late_tls):
        s.close()
    still_serving_tls(d, "after the stalled handshakes")


def _client_hello():
    """The first flight of a real TLS client, captured through a local socket pair."""
    a, b = socket.socketpair()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    tls = ctx.wrap_socket(a, do_handshake_on_connect=False)
    tls.setblocking(False)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    b.settimeout(2)
    data = b.recv(65536)
    tls.close()
    b.close()
    check(len(data) > 100 and data[0] == 0x16, "could not capture a ClientHello")
    return data


# --------------------------------------------------------------------------- reload

def test_tls_sighup_takes_a_new_certificate_while_an_open_connection_keeps_working():
    from suite_protocol import Conn, expect_healthz, request
    d = tls_daemon()
    old_fp = fingerprint_file(d.cert)
    eq(served_fingerprint(d), old_fp, "the certificate served before the reload")
    with Conn(d) as open_conn:
        open_conn.send(request("GET", "/healthz"))
        expect_healthz(open_conn.read_response(), "the open connection before the reload")
        old_peer = hashlib.sha256(open_conn.sock.getpeercert(binary_form=True)).hexdigest()
        eq(old_peer, old_fp, "the open connection's certificate")
        # a new certificate and key put in place of the old files (renamed over them)
        new_cert, new_key = make_cert(d.tls_dir, "two-" + os.urandom(2).hex(), cn="apikeyd-two")
        trust(d, new_cert)
        new_fp = fingerprint_file(new_cert)
        os.replace(new_cert, d.cert)
        os.replace(new_key, d.key)
        d.proc.send_signal(signal.SIGHUP)
        got = wait_until(lambda: served_fingerprint(d) == new_fp, 5, 0.05)
        check(got, "new connections must be served the new certificate after SIGHUP")
        # the connection made before the reload still works, with its certificate
        for i in range(2):
            open_conn.send(request("GET", "/healthz"))
            expect_healthz(open_conn.read_response(), f"the open connection after reload {i}")
    rc, out = s_client(d, "-tls1_3")
    check(rc == 0 and "CN = apikeyd-two" in out, f"s_client sees the new subject: {out[-500:]}")
    still_serving_tls(d, "after the reload")
    check(b"tls: reloaded" in d.all_logs(), "the reload is logged")

    # a bad new certificate (not PEM), a key that does not match, a world-readable key: each
    # reload keeps the certificate served now, and says why
    with open(d.cert, "rb") as f:
        good_cert = f.read()
    with open(d.key, "rb") as f:
        good_key_pem = f.read()
    other_cert, other_key = make_cert(d.tls_dir, "three", cn="apikeyd-three")
    bad_cases = [("not a certificate", lambda: _write(d.cert, b"-----BEGIN CERTIFICATE-----\n"
                                                      b"garbage\n-----END CERTIFICATE-----\n")),
                 ("a key that does not match", lambda: shutil.copyfile(other_key, d.key)),
                 ("a world-readable key", lambda: os.chmod(d.key, 0o644))]
    for what, spoil in bad_cases:
        _write(d.cert, good_cert)
        _write(d.key, good_key_pem)
        os.chmod(d.key, 0o600)
        spoil()
        failures = d.all_logs().count(b"tls: reload failed")
        d.proc.send_signal(signal.SIGHUP)
        check(wait_until(lambda: d.all_logs().count(b"tls: reload failed") > failures, 5, 0.05),
              f"{what}: the failed reload must be logged")
        eq(served_fingerprint(d), new_fp, f"{what}: the previous certificate is still served")
        still_serving_tls(d, f"after a reload with {what}")
    _write(d.cert, good_cert)
    _write(d.key, good_key_pem)
    os.chmod(d.key, 0o600)
    check(b"world" in d.all_logs() or b"every user" in d.all_logs(),
          "the world-readable key is named in the log")


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


# --------------------------------------------------------------------------- settings

def test_tls_settings_are_checked_at_start():
    tmp = tempfile.mkdtemp(prefix="apikeyd-test-tls-start-")
    _TMPDIRS.append(tmp)
    cert, key = make_cert(tmp, "s")
    other_cert, other_key = make_cert(tmp, "o")
    loose = os.path.join(tmp, "loose.key")
    shutil.copyfile(key, loose)
    os.chmod(loose, 0o644)
    enc = os.path.join(tmp, "enc.key")
    p = _openssl("pkey", "-in", key, "-out", enc, "-aes256", "-passout", "pass:secret")
    check(p.returncode == 0, f"openssl pkey: {p.stderr}")
    os.chmod(enc, 0o600)
    cases = [({"APIKEYD_TLS_CERT_FILE": cert}, "tls_key_file"),
             ({"APIKEYD_TLS_KEY_FILE": key}, "tls_cert_file"),
             ({"APIKEYD_TLS_CERT_FILE": os.path.join(tmp, "none.crt"),
               "APIKEYD_TLS_KEY_FILE": key}, "tls_cert_file"),
             ({"APIKEYD_TLS_CERT_FILE": cert, "APIKEYD_TLS_KEY_FILE": other_key},
              "mismatch"),
             ({"APIKEYD_TLS_CERT_FILE": cert, "APIKEYD_TLS_KEY_FILE": loose}, "every user"),
             ({"APIKEYD_TLS_CERT_FILE": cert, "APIKEYD_TLS_KEY_FILE": enc}, "tls_key_file")]
    for env, said in cases:
        full = {k: v for k, v in os.environ.items() if not k.startswith("APIKEYD_")}
        full.update(env, APIKEYD_BOOTSTRAP_ADMIN=f"{ADMIN_USER}:{ADMIN_PASS}")
        p = subprocess.run([run.BIN, "--listen", f"127.0.0.1:{free_port()}", "--data",
                            os.path.join(tmp, "data")], env=full, capture_output=True,
                           text=True, timeout=30, stdin=subprocess.DEVNULL)
        check(p.returncode != 0, f"{env}: apikeyd must refuse to start")
        check(said in p.stderr, f"{env}: stderr should say {said!r}: {p.stderr[-300:]!r}")
        check(not os.path.exists(os.path.join(tmp, "data")),
              f"{env}: refused before the data folder (and store) is created")
    # a group-readable key is served, with a warning
    os.chmod(key, 0o640)
    d = Daemon("tls-group-key", tls=(cert, key))
    d.start()
    try:
        still_serving_tls(d, "a group-readable key")
        check(b"readable by its group" in d.all_logs(), "a group-readable key is warned about")
    finally:
        d.stop()


# --------------------------------------------------------------------------- suite_protocol

def test_tls_protocol_essentials_pass_over_tls_too():
    """The keep-alive, pipelining, framing and limit tests of suite_protocol, run unchanged
    against the TLS daemon (their Conn and Client speak TLS to a daemon that serves it)."""
    import suite_protocol as sp
    essentials = [sp.test_protocol_keep_alive_connection_answers_several_requests_in_turn,
                  sp.test_protocol_error_answers_leave_the_keep_alive_connection_usable,
                  sp.test_protocol_pipelined_requests_are_answered_in_order,
                  sp.test_protocol_pipelined_slow_request_keeps_its_place_before_a_fast_one,
                  sp.test_protocol_http10_without_keep_alive_is_answered_then_closed,
                  sp.test_protocol_connection_close_is_answered_then_closed,
                  sp.test_protocol_expect_100_continue_gets_interim_response_then_the_verdict,
                  sp.test_protocol_chunked_request_body_gets_the_same_verdict_as_content_length,
                  sp.test_protocol_body_over_64k_is_413_problem,
                  sp.test_protocol_headers_over_8k_are_431_problem,
                  sp.test_protocol_uri_over_2k_is_414_problem,
                  sp.test_protocol_request_sent_a_few_bytes_at_a_time_is_answered,
                  sp.test_protocol_content_length_with_chunked_is_refused_and_closed,
                  sp.test_protocol_204_has_no_body_and_no_content_length,
                  sp.test_protocol_hundred_concurrent_connections_each_verify_200,
                  sp.test_protocol_client_vanishing_mid_request_does_not_disturb_others]
    d = tls_daemon()
    saved = run._SHARED.get("main")
    run._SHARED["main"] = d                      # shared() hands these tests the TLS daemon
    try:
        for fn in essentials:
            try:
                fn()
            except AssertionError as e:
                raise AssertionError(f"{fn.__name__} over TLS: {e}") from None
    finally:
        if saved is None:
            run._SHARED.pop("main", None)
        else:
            run._SHARED["main"] = saved


def test_tls_daemon_exits_0_on_sigterm_and_keeps_no_secret():
    d = tls_daemon()                 # started by the tests above (or now, when run alone)
    _TLS.pop("d", None)
    run._final_checks(d)
