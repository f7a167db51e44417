"""OpenID Connect against a real OpenID Certified provider (npm oidc-provider,
tests/oidc/provider.mjs, installed by tests/oidc/install.sh) over plain HTTP: the whole flow
through the provider's own login and consent forms, then the same code sent again (the
provider refuses the second exchange). The browser drives the same provider in
tests/browser/sso.test.mjs; the token-level negatives are in suite_oidc.py.
"""
import http.cookiejar
import json
import os
import re
import subprocess
import tempfile
import urllib.parse
import urllib.request

from run import REPO, Client, Daemon, check, eq, expect, free_port

CLIENT_ID = "apikeyd"


class _Recorder(urllib.request.HTTPRedirectHandler):
    """Follows redirects and remembers every URL it was sent to."""

    def __init__(self):
        self.urls = []

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        self.urls.append(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _form(html, base):
    m = re.search(r'<form[^>]*action="([^"]+)"', html)
    check(m, f"expected a form in the provider's page: {html[:300]!r}")
    return urllib.parse.urljoin(base, m.group(1).replace("&amp;", "&"))


def test_oidc_real_provider_sign_in_then_the_replayed_code_is_refused():
    subprocess.run(["bash", os.path.join(REPO, "tests", "oidc", "install.sh")], check=True,
                   timeout=600, stdout=subprocess.DEVNULL)
    tmp = tempfile.mkdtemp(prefix="apikeyd-oidc-op-")
    secret = os.urandom(16).hex()
    with open(os.path.join(tmp, "secret"), "w") as f:
        f.write(secret)
    port, op_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    op = subprocess.Popen(["node", os.path.join(REPO, "tests", "oidc", "provider.mjs"),
                           str(op_port), base + "/v1/sso/oidc/callback", CLIENT_ID, secret],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    d = None
    try:
        issuer = json.loads(op.stdout.readline())["issuer"]
        d = Daemon("oidc-op", env={
            "APIKEYD_OIDC_ISSUER": issuer, "APIKEYD_OIDC_CLIENT_ID": CLIENT_ID,
            "APIKEYD_OIDC_CLIENT_SECRET_FILE": os.path.join(tmp, "secret"),
            "APIKEYD_PUBLIC_URL": base, "APIKEYD_OIDC_ROLES_CLAIM": "groups",
            "APIKEYD_OIDC_ROLE_MAP": "apikeyd-admins=admin"}, port=port)
        d.start()
    except Exception:
        op.terminate()
        op.wait(10)
        raise
    try:
        jar = http.cookiejar.CookieJar()
        rec = _Recorder()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), rec)
        page = opener.open(base + "/v1/sso/oidc/start", timeout=10)
        html = page.read().decode()
        page = opener.open(_form(html, page.geturl()), data=urllib.parse.urlencode(
            {"prompt": "login", "login": "alice", "password": "whatever"}).encode(), timeout=10)
        html = page.read().decode()
        page = opener.open(_form(html, page.geturl()), data=b"prompt=consent", timeout=10)
        page.read()
        callbacks = [u for u in rec.urls if u.startswith(base + "/v1/sso/oidc/callback")]
        eq(len(callbacks), 1, "one callback")
        eq(rec.urls[-1], base + "/", "signed in: back at the portal")
        session = [c for c in jar if c.name == "apikeyd_session"]
        check(session, "a session cookie after the real provider's sign-in")
        c = Client(d)
        c.cookie = session[0].value
        me = expect(c.request("GET", "/v1/me"), 200).body
        eq((me["username"], me["auth_source"], me["full_name"]), ("alice", "oidc", "Alice Admin"),
           "the user from the provider's claims")
        eq([r if isinstance(r, str) else r.get("name") for r in me["roles"]], ["admin"],
           "the admin role from the group apikeyd-admins")
        # the same code again, with a flow cookie of its own: the provider refuses it
        c2 = Client(d)
        r = c2.request("GET", "/v1/sso/oidc/start")
        flow = r.headers["Set-Cookie"].split(";")[0]
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query))
        cb = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callbacks[0]).query))
        cb["state"] = q["state"]                 # an attacker's own flow with alice's code
        r = c2.request("GET", "/v1/sso/oidc/callback?" + urllib.parse.urlencode(cb),
                       headers={"Cookie": flow})
        expect(r, 302)
        eq(r.headers["Location"], base + "/?sso_error=token#/login", "replayed code refused")
        check(not c2.cookie, "no session for the replayed code")
        check(b"the token endpoint refused the code (400 invalid_grant)" in d.all_logs(),
              "the provider refused the exchange")
    finally:
        d.stop()
        op.terminate()
        op.wait(10)
