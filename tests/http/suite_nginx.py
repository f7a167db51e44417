"""The nginx example of docs/DEPLOYMENT.md, for real: dist/nginx/apikeyd.conf itself (only its
three marked addresses changed) included in a minimal nginx.conf, in front of a backend (nginx
itself, echoing the headers it was sent) and apikeyd. Only 127.0.0.1; nginx is stopped at the
end of each test.
"""
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from run import _TMPDIRS, check, create_key, eq, shared, uniq

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLE = os.path.join(ROOT, "dist", "nginx", "apikeyd.conf")

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    include {tmp}/apikeyd.conf;
    server {{                       # the protected API: echoes what nginx sent it
        listen 127.0.0.1:{backend};
        location / {{
            add_header X-Seen-Id $http_x_apikey_id always;
            add_header X-Seen-Owner $http_x_apikey_owner always;
            add_header X-Seen-Created-By $http_x_apikey_created_by always;
            add_header X-Seen-Scopes $http_x_apikey_scopes always;
            add_header X-Seen-Authorization $http_authorization always;
            add_header X-Seen-Api-Key $http_x_api_key always;
            add_header X-Seen-Cookie $http_cookie always;
            default_type text/plain;
            return 200 "backend reached\\n";
        }}
    }}
}}
"""


def example_with(apikeyd, backend, port):
    """dist/nginx/apikeyd.conf with its three marked addresses pointed at the test's ports."""
    with open(EXAMPLE) as f:
        text = f.read()
    for old, new in (("server 127.0.0.1:8080;", f"server 127.0.0.1:{apikeyd};"),
                     ("server 127.0.0.1:9000;", f"server 127.0.0.1:{backend};"),
                     ("listen 80;", f"listen 127.0.0.1:{port};")):
        eq(text.count(old), 1, f"the example has one '{old}'")
        text = text.replace(old, new)
    return text


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
        backend = _free_port()
        with open(os.path.join(self.tmp, "apikeyd.conf"), "w") as f:
            f.write(example_with(apikeyd_port, backend, self.port))
        conf = os.path.join(self.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(tmp=self.tmp, backend=backend))
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
            self.seen = {h[len("X-Seen-"):].lower(): v for h, v in r.getheaders()
                         if h.startswith("X-Seen-")}
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


def test_nginx_example_passes_every_apikey_header_and_never_the_key():
    d = shared()
    n = Nginx(d.port)
    try:
        k = create_key(d.admin, name=uniq("nginx-hdrs"), scopes=("Tasks", "APIKey"))
        for header in ({"Authorization": f"Bearer {k['key']}"}, {"X-API-Key": k["key"]}):
            status, _, body = n.get("/api/things", header)
            eq(status, 200, "a valid key through nginx")
            eq(n.seen.get("id"), k["id"], "X-Apikey-Id reached the API")
            eq(n.seen.get("owner"), "user:admin", "X-Apikey-Owner reached the API")
            eq(n.seen.get("created-by"), "admin", "X-Apikey-Created-By reached the API")
            eq(sorted(n.seen.get("scopes", "").split(",")), ["APIKey", "Tasks"],
               "X-Apikey-Scopes reached the API")
            check("authorization" not in n.seen and "api-key" not in n.seen,
                  f"the key itself reached the API: {sorted(n.seen)}")
    finally:
        n.stop()


def test_nginx_example_replaces_apikey_headers_a_client_forged():
    d = shared()
    n = Nginx(d.port)
    try:
        k = create_key(d.admin, name=uniq("nginx-forge"), scopes=("Tasks",))
        status, owner, _ = n.get("/api/things", {"Authorization": f"Bearer {k['key']}",
                                                 "X-Apikey-Owner": "user:someone-else",
                                                 "X-Apikey-Scopes": "Everything"})
        eq(status, 200, "status")
        eq(owner, "user:admin", "the owner apikeyd named, not the client's")
        eq(n.seen.get("scopes"), "Tasks", "the scopes apikeyd named, not the client's")
    finally:
        n.stop()


def test_nginx_example_serves_the_portal_and_api_of_apikeyd():
    d = shared()
    n = Nginx(d.port)
    try:
        status, _, body = n.get("/healthz")
        eq(status, 200, "apikeyd's /healthz through nginx")
        status, _, body = n.get("/")
        eq(status, 200, "the portal through nginx")
    finally:
        n.stop()


def test_nginx_example_is_shown_unchanged_in_deployment_doc():
    with open(os.path.join(ROOT, "docs", "DEPLOYMENT.md")) as f:
        doc = f.read()
    with open(EXAMPLE) as f:
        example = f.read()
    blocks = re.findall(r"```nginx\n(.*?)```", doc, re.S)
    check(example in blocks, "docs/DEPLOYMENT.md has no ```nginx block equal to "
                             "dist/nginx/apikeyd.conf")


def test_nginx_example_ignores_required_project_and_role_a_client_sent():
    """Attack round 27: the auth subrequest carries the client's own headers, so without the
    example clearing them a client's X-Required-Role (no project) made apikeyd answer 400 and
    nginx turn that into a 500; only the example decides what apikeyd checks."""
    d = shared()
    n = Nginx(d.port)
    try:
        k = create_key(d.admin, name=uniq("nginx-req"), scopes=("Tasks",))
        auth = {"Authorization": f"Bearer {k['key']}"}
        eq(n.get("/api/things", {**auth, "X-Required-Role": "owner"})[0], 200,
           "a client's X-Required-Role alone")
        eq(n.get("/api/things", {**auth, "X-Required-Project": "no-such-project",
                                 "X-Required-Role": "owner"})[0], 200,
           "a client's X-Required-Project and X-Required-Role")
        eq(n.get("/api/things", {"Authorization": "Bearer apk_nonsense",
                                 "X-Required-Scope": "*"})[0], 401,
           "a client's X-Required-Scope does not loosen the example's")
    finally:
        n.stop()


def test_nginx_example_encoded_and_dotted_paths_to_the_api_still_need_a_key():
    """Attack round 27, held: nginx decodes and normalises the path before choosing a location,
    so no spelling of /api/ reaches the backend without the auth subrequest."""
    d = shared()
    n = Nginx(d.port)
    try:
        for path in ("/%61pi/things", "/api/../api/things", "/x/../api/things", "/api//things",
                     "/api/%2e%2e/api/things", "/./api/things"):
            status, _, body = n.get(path)
            check(status in (400, 401) and body != b"backend reached\n",
                  f"{path} without a key: {status} {body[:60]!r}")
        status, _, body = n.get("/_apikeyd_auth")
        check(status == 404 and body != b"backend reached\n",
              f"the internal auth location from outside: {status}")
    finally:
        n.stop()


def test_nginx_example_never_hands_apikeyds_session_cookie_to_the_api():
    """Attack round 27: the portal and the API share the host in the example and apikeyd's
    cookies have Path=/, so a browser sends the portal session (and the device and CSRF
    cookies) with every /api/ request: the backend, its logs or whoever runs it got a
    session worth more than any key. The example drops the Cookie header to the API."""
    d = shared()
    n = Nginx(d.port)
    try:
        k = create_key(d.admin, name=uniq("nginx-cookie"), scopes=("Tasks",))
        cookie = ("apikeyd_session=s1; __Host-apikeyd_session=s2; apikeyd_device=d1; "
                  "__Host-apikeyd_csrf=c1")
        status, _, _ = n.get("/api/things", {"Authorization": f"Bearer {k['key']}",
                                             "Cookie": cookie})
        eq(status, 200, "a valid key with the portal's cookies")
        check("apikeyd" not in n.seen.get("cookie", ""),
              f"apikeyd's cookies reached the API: {n.seen.get('cookie')!r}")
    finally:
        n.stop()
