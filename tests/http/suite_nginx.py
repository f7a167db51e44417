"""The nginx `auth_request` example of docs/DEPLOYMENT.md, for real: nginx in front of a
backend (nginx itself answering 200), asking apikeyd's GET /v1/auth for every request.
Only 127.0.0.1; nginx is stopped at the end of each test.
"""
import http.client
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from run import _TMPDIRS, check, create_key, eq, shared, uniq

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    server {{
        listen 127.0.0.1:{port};
        location = /_apikeyd_auth {{
            internal;
            proxy_pass http://127.0.0.1:{apikeyd}/v1/auth;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Required-Scope "Tasks";
        }}
        location /api/ {{
            auth_request /_apikeyd_auth;
            auth_request_set $apikey_owner $upstream_http_x_apikey_owner;
            proxy_set_header X-Apikey-Owner $apikey_owner;
            proxy_pass http://127.0.0.1:{backend};
        }}
    }}
    server {{                       # the protected API: echoes who nginx said is calling
        listen 127.0.0.1:{backend};
        location / {{
            add_header X-Seen-Owner $http_x_apikey_owner always;
            default_type text/plain;
            return 200 "backend reached\\n";
        }}
    }}
}}
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    def __init__(self, apikeyd_port):
        check(shutil.which("nginx") is not None, "nginx is not installed")
        self.tmp = tempfile.mkdtemp(prefix="apikeyd-test-nginx-")
        _TMPDIRS.append(self.tmp)
        self.port = _free_port()
        conf = os.path.join(self.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(tmp=self.tmp, port=self.port, apikeyd=apikeyd_port,
                                      backend=_free_port()))
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-p", self.tmp],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError("nginx did not start")

    def get(self, path, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", path, headers=headers or {})
            r = c.getresponse()
            return r.status, r.getheader("X-Seen-Owner"), r.read()
        finally:
            c.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def test_nginx_auth_request_lets_a_valid_key_through_with_its_owner():
    d = shared()
    n = Nginx(d.port)
    try:
        k = create_key(d.admin, name=uniq("nginx"), scopes=("Tasks",))
        status, owner, body = n.get("/api/things", {"Authorization": f"Bearer {k['key']}"})
        eq(status, 200, "status through nginx with a valid key")
        eq(body, b"backend reached\n", "the backend answered")
        eq(owner, "user:admin", "X-Apikey-Owner passed on by nginx")
    finally:
        n.stop()


def test_nginx_auth_request_refuses_a_missing_or_bad_key_with_401():
    d = shared()
    n = Nginx(d.port)
    try:
        eq(n.get("/api/things")[0], 401, "no key")
        eq(n.get("/api/things", {"Authorization": "Bearer apk_nonsense"})[0], 401, "bad key")
    finally:
        n.stop()


def test_nginx_auth_request_refuses_a_key_without_the_scope_with_403():
    d = shared()
    n = Nginx(d.port)
    try:
        k = create_key(d.admin, name=uniq("nginx-noscope"), scopes=("Secret",))
        eq(n.get("/api/things", {"X-API-Key": k["key"]})[0], 403, "key lacking Tasks")
    finally:
        n.stop()


def test_nginx_auth_request_refuses_a_key_from_the_moment_it_is_deleted():
    d = shared()
    n = Nginx(d.port)
    try:
        k = create_key(d.admin, name=uniq("nginx-del"), scopes=("Tasks",))
        h = {"Authorization": f"Bearer {k['key']}"}
        eq(n.get("/api/things", h)[0], 200, "before the delete")
        r = d.admin.request("DELETE", f"/v1/keys/{k['id']}")
        eq(r.status, 204, "delete")
        eq(n.get("/api/things", h)[0], 401, "right after the delete")
    finally:
        n.stop()
