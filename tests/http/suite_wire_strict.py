"""Issue 14, item 2: a strict wire (RFC 9112). Folded header lines are refused (a desync
primitive behind a proxy that forwards them), only HTTP/1.0 and 1.1 are served, a query with
more parameters than apikeyd reads is refused rather than cut, and one client's idle sockets
cannot take every connection slot; at the global limit new connections get a quick 503 while
existing ones keep being served."""
import socket
import time

from run import check_settings_refused_at_start, create_key, dedicated, eq, expect, shared
from suite_protocol import Conn, _refused, request, send_while_open, still_serving


def test_wire_obs_fold_continuation_lines_are_400():
    d = shared()
    k = create_key(d.admin, scopes=("Tasks",))["key"]
    body = ('{"key":"%s"}' % k).encode()
    smuggle = (b"POST /v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
               b"\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: %d\r\n\r\n" % len(body)
               + body)
    _refused(d, smuggle, "POST", "/v1/verify", 400, "bad-request")
    for wire in (b"GET /healthz HTTP/1.1\r\nHost:\r\n 127.0.0.1\r\n\r\n",
                 b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A:\r\n\tfolded\r\n\r\n",
                 b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: one\r\n two\r\n\r\n"):
        _refused(d, wire, "GET", "/healthz", 400, "bad-request")
    still_serving(d, "after folded lines")


def test_wire_only_http_10_and_11_are_served():
    d = shared()
    for version in ("HTTP/2.0", "HTTP/1.2", "HTTP/3.0", "HTTP/0.9"):
        _refused(d, request("GET", "/healthz", version=version), "GET", "/healthz", 505,
                 "http-version-not-supported")
    for version in ("HTTP/1.0", "HTTP/1.1"):
        with Conn(d) as c:
            c.send(request("GET", "/healthz", version=version))
            eq(c.read_response().status, 200, version)


def test_wire_more_query_parameters_than_read_are_refused_not_cut():
    d = shared()
    filler = "&".join(f"p{i}=x" for i in range(32))
    r = d.admin.request("GET", f"/v1/audit?{filler}&action=login.failure")
    expect(r, 400, "bad-request", what="33 query parameters (the filter past the cut)")
    filler = "&".join(f"p{i}=x" for i in range(31))
    expect(d.admin.request("GET", f"/v1/audit?{filler}&action=login.failure"), 200,
           what="32 query parameters, the limit")


def _idle(n, port, source):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
        socks.append(s)
    return socks


def _get_from(d, source, path="/healthz"):
    """One request from source address (127.0.0.x); (status, problem type or None)."""
    s = socket.create_connection(("127.0.0.1", d.port), timeout=5, source_address=(source, 0))
    try:
        s.sendall(request("GET", path))
        c = Conn.__new__(Conn)
        c.sock, c.buf = s, b""
        a = c.read_response("GET")
        ptype = a.json().get("type") if a.status >= 400 else None
        return a.status, ptype
    finally:
        s.close()


def test_wire_max_connections_per_client_refuses_bad_values():
    check_settings_refused_at_start([("APIKEYD_MAX_CONNECTIONS_PER_CLIENT", v)
                                     for v in ("0", "-1", "many", "100001")])


def test_wire_one_clients_idle_sockets_do_not_take_every_slot():
    env = {"APIKEYD_MAX_CONNECTIONS": "20", "APIKEYD_MAX_CONNECTIONS_PER_CLIENT": "8",
           "APIKEYD_TRUSTED_PROXIES": "192.0.2.1"}   # loopback is a client here, not a proxy
    d = dedicated("wire-per-client", env=env)
    held = []
    try:
        held += _idle(8, d.port, "127.0.0.2")        # one client's share, held idle
        time.sleep(0.2)
        eq(_get_from(d, "127.0.0.2"), (429, "urn:apikeyd:problem:too-many-requests"),
           "the same client's next connection")
        eq(_get_from(d, "127.0.0.3")[0], 200, "another client is served")
        held += _idle(8, d.port, "127.0.0.4")
        held += _idle(4, d.port, "127.0.0.5")        # 20 open: the global limit
        time.sleep(0.2)
        t = time.monotonic()
        eq(_get_from(d, "127.0.0.6"), (503, "urn:apikeyd:problem:unavailable"),
           "a new client at the global limit")
        eq(time.monotonic() - t < 2, True, "the 503 is quick")
        # An existing connection is still served. The first one held: it was admitted with
        # no other connection open, whereas the last may have been counted past the limit
        # while the server had not yet seen the close of 127.0.0.3's request (a race seen in
        # a full run on a loaded machine: the last one was answered 503).
        s = held.pop(0)
        s.sendall(request("GET", "/healthz"))
        c = Conn.__new__(Conn)
        c.sock, c.buf = s, b""
        eq(c.read_response("GET").status, 200, "an open connection at the limit")
        s.close()
        for s in held:
            s.close()
        held = []
        time.sleep(0.3)
        eq(_get_from(d, "127.0.0.2")[0], 200, "served again once its sockets closed")
        d.stop()
    finally:
        for s in held:
            s.close()
        d.kill()
