"""Attack round 27 (docs/SECURITY.md): the `apikey` client against a malicious server, a network
attacker and another local user. A small fake apikeyd in a thread answers what the attacker
chooses and records what the client sent; no real daemon is needed.
"""
import http.server
import json
import os
import socket
import ssl
import subprocess
import tempfile
import threading

from run import _TMPDIRS, check, eq

from suite_cli import CLI
from suite_tls import make_cert

ESC = "\x1b]0;pwned\x07\x1b[2J\x1b[31m"  # retitles the terminal, clears it, turns it red
KEY = "apk_" + "A" * 40


class Fake:
    """A fake apikeyd on host:port answering each path with a chosen (status, JSON body)."""

    def __init__(self, answers, host="127.0.0.1", tls=None):
        self.answers, self.seen = answers, []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                fake.seen.append((self.command, self.path, dict(self.headers), body))
                answer = fake.answers.get(self.path, (404, {"title": "not found"}))
                if callable(answer):  # writes its own answer
                    return answer(self)
                status, doc = answer
                raw = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.srv.handle_error = lambda *a: None  # a client hanging up is what some tests want
        if tls:  # (cert, key): a certificate the client has no reason to trust
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True,
                                              do_handshake_on_connect=False)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def _home():
    d = tempfile.mkdtemp(prefix="apikey-test-attack-cli-")
    _TMPDIRS.append(d)
    return d


def run_cli(server, home, *args, stdin=None, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("APIKEY_")}
    env.update(XDG_CONFIG_HOME=os.path.join(home, "cfg"), HOME=home, APIKEY_SERVER=server)
    env.update(extra)
    r = subprocess.run([CLI, *args], input=stdin, capture_output=True, timeout=30, env=env,
                       start_new_session=True)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def _no_controls(text, what):
    bad = sorted({hex(ord(ch)) for ch in text
                  if (ord(ch) < 0x20 and ch not in "\n\t") or 0x7f <= ord(ch) <= 0x9f})
    check(not bad, f"{what}: the server's control characters reached the terminal: {bad}")


def test_attack_cli_escape_sequences_from_the_server_never_reach_the_terminal():
    kid = "0123456789abcdef01234567"
    key = {"id": kid, "name": "evil" + ESC, "description": "d\x9b2J" + ESC, "hint": "apk_…x",
           "scopes": ["Tasks" + ESC], "created_at": "2026-01-01T00:00:00Z",
           "created_by": "admin" + ESC}
    f = Fake({"/v1/keys": (200, {"keys": [key]}),
              f"/v1/keys/{kid}": (200, key),
              "/v1/verify": (200, {"valid": True, "code": "VALID" + ESC, "key_id": kid + ESC,
                                   "owner": {"type": "user", "name": "eve" + ESC},
                                   "scopes": ["Tasks" + ESC], "expires_at": ESC}),
              "/v1/users": (500, {"title": "broken" + ESC, "detail": "really" + ESC,
                                  "errors": [{"field": "x" + ESC, "detail": "y" + ESC}]})})
    home = _home()
    server = f"http://127.0.0.1:{f.port}"
    try:
        for args in (("keys", "list"), ("keys", "show", kid), ("users", "list"), ("status",),
                     ("verify", KEY)):
            code, out, err = run_cli(server, home, *args, APIKEY_TOKEN=KEY)
            _no_controls(out, f"{' '.join(args)} stdout")
            _no_controls(err, f"{' '.join(args)} stderr")
        code, out, _ = run_cli(server, home, "keys", "list", APIKEY_TOKEN=KEY)
        eq(code, 0, "keys list still works")
        check("evil" in out and kid in out, f"the key is still listed: {out!r}")
        key["name"] = "ok\tTasks\n0123456789abcdef0123beef\tforged"
        code, out, _ = run_cli(server, home, "keys", "list", APIKEY_TOKEN=KEY)
        eq(len(out.splitlines()), 1, f"one key, one row for a script: {out!r}")
        eq(len(out.splitlines()[0].split("\t")), 6, f"six columns: {out!r}")
        code, out, _ = run_cli(server, home, "--json", "keys", "list", APIKEY_TOKEN=KEY)
        eq(json.loads(out)["keys"][0]["id"], kid, "--json still prints the answer")
        _no_controls(out, "--json stdout")
    finally:
        f.close()


def _own_address():
    """An address of this machine that is not loopback, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent: only picks the outgoing address
            addr = s.getsockname()[0]
        except OSError:
            return None
    return None if addr.startswith("127.") else addr


def test_attack_cli_plain_http_to_another_host_never_carries_a_key_or_password():
    addr = _own_address()
    check(addr is not None, "this machine has no address but loopback")
    f = Fake({"/v1/keys": (200, {"keys": []}), "/v1/verify": (200, {"valid": False})},
             host="0.0.0.0")
    home = _home()
    try:
        server = f"http://{addr}:{f.port}"
        code, _, err = run_cli(server, home, "keys", "list", APIKEY_TOKEN=KEY)
        eq(code, 2, f"keys list over plain http to {addr}: {err!r}")
        check("https" in err, f"the refusal says to use https: {err!r}")
        code, _, err = run_cli(server, home, "login", "--with-key", stdin=KEY.encode() + b"\n")
        eq(code, 2, f"login --with-key over plain http to {addr}: {err!r}")
        code, _, err = run_cli(server, home, "verify", "-", stdin=KEY.encode() + b"\n")
        eq(code, 2, f"verify over plain http to {addr}: {err!r}")
        eq(f.seen, [], "nothing was sent in clear to another host")
        code, _, err = run_cli(f"HTTP://[::1]:1", home, "keys", "list", APIKEY_TOKEN=KEY)
        check(code != 2, f"loopback stays allowed over http: {err!r}")
    finally:
        f.close()


def test_attack_cli_verify_takes_the_key_from_stdin_off_the_command_line():
    f = Fake({"/v1/verify": (200, {"valid": False, "code": "UNKNOWN"})})
    home = _home()
    try:
        code, out, err = run_cli(f"http://127.0.0.1:{f.port}", home, "verify", "-",
                                 stdin=KEY.encode() + b"\n")
        eq((code, out.strip()), (1, "UNKNOWN"), f"verify - read the key: {err!r}")
        eq(json.loads(f.seen[0][3])["key"], KEY, "the key from stdin was the one checked")
        code, _, err = run_cli(f"http://127.0.0.1:{f.port}", home, "verify",
                               stdin=KEY.encode() + b"\n")
        eq(code, 1, f"verify without KEY reads stdin too: {err!r}")
        eq(len(f.seen), 2, "both asked apikeyd")
    finally:
        f.close()


def test_attack_cli_refuses_a_config_folder_or_file_another_user_could_change():
    f = Fake({"/v1/keys": (200, {"keys": []})})
    server = f"http://127.0.0.1:{f.port}"
    try:
        home = _home()
        cfg = os.path.join(home, "cfg", "apikey")
        os.makedirs(cfg)
        os.chmod(cfg, 0o777)  # as another user could have left it
        with open(os.path.join(cfg, "hosts.json"), "w") as out:
            json.dump({"current": server, "hosts": {server: {"key": KEY}}}, out)
        code, _, err = run_cli(server, home, "keys", "list")
        eq(code, 1, f"a world-writable config folder is refused: {err!r}")
        check(cfg in err, f"the refusal names the folder: {err!r}")
        eq(f.seen, [], "nothing was sent with a key from that folder")
        code, _, err = run_cli(server, home, "login", "--with-key", stdin=KEY.encode() + b"\n")
        eq(code, 1, f"login does not store a key there: {err!r}")

        home2 = _home()
        cfg2 = os.path.join(home2, "cfg", "apikey")
        os.makedirs(cfg2, mode=0o700)
        elsewhere = os.path.join(home2, "planted.json")
        with open(elsewhere, "w") as out:
            json.dump({"current": server, "hosts": {server: {"key": KEY}}}, out)
        os.symlink(elsewhere, os.path.join(cfg2, "hosts.json"))
        code, _, err = run_cli(server, home2, "keys", "list")
        eq(code, 1, f"a hosts.json that is a symbolic link is refused: {err!r}")
        eq(f.seen, [], "nothing was sent with a key from a link")
    finally:
        f.close()


def test_attack_cli_a_redirect_to_another_host_never_gets_the_key():
    """Held: libcurl follows no redirect, so a server (or a network attacker on loopback http)
    answering 307 to another host gets nothing sent there."""
    other = Fake({"/v1/keys": (200, {"keys": []})})

    def redirect(h):
        h.send_response(307)
        h.send_header("Location", f"http://127.0.0.1:{other.port}/v1/keys")
        h.send_header("Content-Length", "0")
        h.end_headers()

    f = Fake({"/v1/keys": redirect})
    try:
        code, _, err = run_cli(f"http://127.0.0.1:{f.port}", _home(), "keys", "list",
                               APIKEY_TOKEN=KEY)
        eq(code, 1, f"a redirect is a failure, said in words: {err!r}")
        eq(len(f.seen), 1, "the first server was asked once")
        eq(other.seen, [], "the host the redirect named was never contacted")
    finally:
        f.close()
        other.close()


def test_attack_cli_an_endless_answer_is_cut_at_8_mib():
    """Held: an answer over 8 MiB is refused in words, not read into memory without end."""
    def endless(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.end_headers()
        chunk = b" " * (1 << 20)
        try:
            for _ in range(64):
                h.wfile.write(chunk)
        except OSError:
            pass  # the client hung up, as it should

    f = Fake({"/v1/keys": endless})
    try:
        code, _, err = run_cli(f"http://127.0.0.1:{f.port}", _home(), "keys", "list",
                               APIKEY_TOKEN=KEY)
        eq(code, 1, "an endless answer fails")
        check("too large" in err, f"said in words: {err!r}")
    finally:
        f.close()


def test_attack_cli_an_untrusted_certificate_is_refused_before_the_key_is_sent():
    """Held: TLS is verified (no switch turns it off); a network attacker's self-signed
    certificate ends the connection before any request, so the key is never sent."""
    folder = _home()
    f = Fake({"/v1/keys": (200, {"keys": []})}, tls=make_cert(folder, "mitm"))
    try:
        code, _, err = run_cli(f"https://127.0.0.1:{f.port}", _home(), "keys", "list",
                               APIKEY_TOKEN=KEY)
        eq(code, 1, f"an untrusted certificate fails: {err!r}")
        check("certificate" in err.lower() or "ssl" in err.lower(), f"said in words: {err!r}")
        eq(f.seen, [], "no request crossed the untrusted connection")
    finally:
        f.close()


def test_attack_cli_an_output_file_someone_else_took_costs_no_key():
    """Another local user who creates (or links) the --output-file path first, e.g. in /tmp:
    the client refused to write it only after apikeyd had made the key (or rotated the old
    one away), so a live key existed whose secret nobody had. Now the file is made first."""
    kid = "0123456789abcdef01234567"
    made = {"id": kid, "name": "ci", "key": KEY, "scopes": ["Tasks"]}
    f = Fake({"/v1/keys": (201, made), f"/v1/keys/{kid}": (200, made),
              f"/v1/keys/{kid}/rotate": (201, made)})
    home = _home()
    server = f"http://127.0.0.1:{f.port}"
    try:
        taken = os.path.join(home, "taken.APIKEY")
        with open(taken, "w") as out:
            out.write("planted\n")
        linked = os.path.join(home, "linked.APIKEY")
        os.symlink(os.path.join(home, "target"), linked)
        for path in (taken, linked):
            code, out, err = run_cli(server, home, "keys", "create", "ci", "--scope", "Tasks",
                                     "--output-file", path, APIKEY_TOKEN=KEY)
            eq(code, 1, f"create into {path}: {err!r}")
            code, out, err = run_cli(server, home, "keys", "rotate", kid, "--output-file", path,
                                     APIKEY_TOKEN=KEY)
            eq(code, 1, f"rotate into {path}: {err!r}")
            check(KEY not in out + err, "the secret was not printed instead")
        eq([s[:2] for s in f.seen], [], "apikeyd was asked for nothing")
        with open(taken) as got:
            eq(got.read(), "planted\n", "the other user's file is untouched")
        check(not os.path.exists(os.path.join(home, "target")), "nothing written through a link")
        fresh = os.path.join(home, "fresh.APIKEY")
        code, _, err = run_cli(server, home, "keys", "create", "ci", "--scope", "Tasks",
                               "--output-file", fresh, APIKEY_TOKEN=KEY)
        eq(code, 0, f"a free path still works: {err!r}")
        with open(fresh) as got:
            eq(got.read(), KEY + "\n", "the secret is in the file")
        eq(os.stat(fresh).st_mode & 0o777, 0o600, "mode of the secret file")
        denied = Fake({"/v1/keys": (403, {"title": "forbidden"})})
        try:
            gone = os.path.join(home, "refused.APIKEY")
            code, _, _ = run_cli(f"http://127.0.0.1:{denied.port}", home, "keys", "create", "ci",
                                 "--scope", "Tasks", "--output-file", gone, APIKEY_TOKEN=KEY)
            eq(code, 4, "a refused create")
            check(not os.path.exists(gone), "a refused create leaves no empty file behind")
        finally:
            denied.close()
    finally:
        f.close()


def test_attack_cli_the_key_stored_for_one_server_is_never_sent_to_another():
    """Held: keys are stored per server URL, so --server (or APIKEY_SERVER) naming another
    server finds no key for it and sends none."""
    mine, other = Fake({"/v1/keys": (200, {"keys": []})}), Fake({"/v1/keys": (200, {"keys": []})})
    home = _home()
    try:
        mine.answers["/v1/verify"] = (200, {"valid": True, "code": "VALID", "key_id": "k",
                                            "owner": {"type": "user", "name": "me"}})
        code, _, err = run_cli(f"http://127.0.0.1:{mine.port}", home, "login", "--with-key",
                               stdin=KEY.encode() + b"\n")
        eq(code, 0, f"login to my server: {err!r}")
        code, _, err = run_cli(f"http://127.0.0.1:{mine.port}", home, "keys", "list",
                               "--server", f"http://127.0.0.1:{other.port}")
        eq(code, 4, f"another server: not signed in there: {err!r}")
        eq(other.seen, [], "the other server was sent nothing")
    finally:
        mine.close()
        other.close()
