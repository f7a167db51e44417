"""SAML 2.0 sign-in (issue 16) over HTTP, against docs/API.md ("Single sign-on") and
docs/SSO.md ("SAML 2.0"). The identity provider here is tests/http/saml_fixture.py: the test
builds each Response and signs it with xmlsec1, so it can hand apikeyd unsigned, wrongly
signed, wrapped, expired, mis-addressed, unsolicited or replayed ones. The same flow against a
real IdP (SimpleSAMLphp) in Chromium is tests/browser/saml.test.mjs.

Each sign-in: GET /v1/sso/saml/start (302 to the IdP with a signed AuthnRequest, HTTP-Redirect
binding), then the IdP's Response POSTed to /v1/sso/saml/acs (HTTP-POST binding); the outcome
is the ACS's redirect: to the portal signed in, or to PUBLIC_URL/?sso_error=CODE#/login. Why a
Response was refused is read from the daemon's log (the browser only gets the short code).
"""
import atexit
import base64
import os
import re
import subprocess
import tempfile
import time
import urllib.parse

from run import (_SHARED, _SHARED_FAILED, ADMIN_PASS, ADMIN_USER, Client, Daemon, check,
                 check_settings_refused_at_start, eq, expect, shared, uniq_user)
from saml_fixture import IdP, authn_request_of, make_cert

PUBLIC_URL = "http://apikeyd.example.test"
SP_ENTITY = PUBLIC_URL + "/v1/sso/saml/metadata"
ACS = PUBLIC_URL + "/v1/sso/saml/acs"
ROLE = "saml-auditor"            # made by the tests, mapped from the group "auditors"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

_IDP = []


def idp():
    if not _IDP:
        i = IdP()
        atexit.register(i.stop)
        _IDP.append(i)
    return _IDP[0]


def saml_env(i, tmpdir, **extra):
    key, cert = make_cert(tmpdir, "sp")
    env = {"APIKEYD_SAML_IDP_METADATA_FILE": i.metadata_path, "APIKEYD_SAML_SP_KEY_FILE": key,
           "APIKEYD_SAML_SP_CERT_FILE": cert, "APIKEYD_PUBLIC_URL": PUBLIC_URL,
           "APIKEYD_SAML_USERNAME_ATTRIBUTE": "uid", "APIKEYD_SAML_NAME_ATTRIBUTE": "displayName",
           "APIKEYD_SAML_EMAIL_ATTRIBUTE": "mail", "APIKEYD_SAML_GROUPS_ATTRIBUTE": "groups",
           "APIKEYD_SAML_ROLE_MAP": f"apikeyd-admins=admin, auditors={ROLE}",
           "APIKEYD_SAML_BUTTON_LABEL": "Sign in with Example SAML",
           "APIKEYD_VERIFY_MAX_FAILURES": "1000000", "APIKEYD_LOGIN_MAX_FAILURES": "1000"}
    env.update(extra)
    return env


def saml_daemon():
    """The shared daemon signing in through the fixture IdP (registered with run's shared
    daemons, so the runner stops it and checks it exits 0)."""
    kind = "saml"
    i = idp()
    if kind not in _SHARED and kind not in _SHARED_FAILED:
        d = Daemon("shared-saml")
        d.env = saml_env(i, d.tmp)
        try:
            d.start()
        except AssertionError as e:
            _SHARED_FAILED[kind] = str(e)
            raise
        _SHARED[kind] = d
        expect(d.admin.request("POST", "/v1/roles", json={
            "name": ROLE, "authorities": ["view_audit"]}), 201, what="create the mapped role")
    return shared(kind)


def own_daemon(label, **env):
    d = Daemon(label)
    d.env = saml_env(idp(), d.tmp, **env)
    d.start()
    return d


# --------------------------------------------------------------------------- the flow

BROWSER = {}   # AuthnRequest ID -> the browser cookie its start set (post() sends it back)
LOG_MARK = {}  # id(daemon) -> {log path: its size before the last post()}: wait_log reads after


def start(d, query="?return=/"):
    """GET /v1/sso/saml/start: (the AuthnRequest's ID, its XML, the redirect's query). The
    start's browser cookie is kept for post(), as the browser that started would send it."""
    r = expect(Client(d).request("GET", "/v1/sso/saml/start" + query), 302, what="start")
    xml, q, _ = authn_request_of(r.headers["Location"])
    rid = re.search(r' ID="([^"]+)"', xml).group(1)
    BROWSER[rid] = browser_cookie(r)
    return rid, xml, q


def browser_cookie(r):
    """The apikeyd_saml cookie a start response set: its value, or None."""
    for sc in r.headers.get_all("Set-Cookie") or []:
        name, _, rest = sc.partition("=")
        if name.strip() == "apikeyd_saml":
            return rest.split(";")[0]
    return None


def attrs_for(user, groups=("auditors",), name="Sam Saml"):
    return {"uid": user, "displayName": name, "mail": f"{user}@example.org",
            "groups": list(groups)}


def post(d, response, relay="/", c=None, browser="start"):
    """POSTs a Response to the ACS as the browser that started its request would (with that
    start's cookie; browser=None: without one; or the cookie value given)."""
    c = c or Client(d)
    body = urllib.parse.urlencode({"SAMLResponse": response, "RelayState": relay}).encode()
    if browser == "start":
        try:
            irt = re.search(rb'InResponseTo="([^"]+)"', base64.b64decode(response))
        except ValueError:
            irt = None
        browser = BROWSER.get(irt.group(1).decode()) if irt else None
    headers = dict(FORM)
    LOG_MARK[id(d)] = {p: len(d.read_log(p)) for p in d.log_paths}
    if browser:
        cookies = [f"apikeyd_saml={browser}"] + ([f"{c.cookie_name}={c.cookie}"] if c.cookie else [])
        headers["Cookie"] = "; ".join(cookies)
    r = c.request("POST", "/v1/sso/saml/acs", raw_body=body, headers=headers, csrf=False)
    expect(r, 302, what="ACS")
    for sc in r.headers.get_all("Set-Cookie") or []:
        name, _, rest = sc.partition("=")
        if name.strip() == "apikeyd_csrf" and rest.split(";")[0]:
            c.csrf = rest.split(";")[0]
    return c, r


def response_for(d, user, in_response_to="start", **kw):
    """A Response for user answering a fresh AuthnRequest (or in_response_to as given)."""
    if in_response_to == "start":
        in_response_to, _, _ = start(d)
    kw.setdefault("attrs", attrs_for(user))
    return idp().response(f"nameid-{user}", SP_ENTITY, ACS, in_response_to, **kw)


def sso_error(r):
    loc = r.headers.get("Location") or ""
    prefix = PUBLIC_URL + "/?sso_error="
    if not loc.startswith(prefix):
        return None
    return loc[len(prefix):].split("#")[0]


def signed_in(c, r, user, where="/"):
    eq(r.headers.get("Location"), PUBLIC_URL + where, "redirect after sign-in")
    check(c.cookie, "expected a session cookie")
    me = expect(c.request("GET", "/v1/me"), 200, what="GET /v1/me after SAML").body
    eq(me["username"], user, "signed-in username")
    return me


def wait_log(d, text):
    """Waits until the daemon logs text after the last post() to it (not earlier: the daemon
    may be shared with other tests)."""
    mark = LOG_MARK.get(id(d), {})
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if any(text.encode() in d.read_log(p)[mark.get(p, 0):] for p in d.log_paths):
            return
        time.sleep(0.05)
    raise AssertionError(f"the daemon's log should say {text!r}")


def refused(d, c, r, code, log_text=None, user=None):
    eq(sso_error(r), code, f"sso_error (Location {r.headers.get('Location')!r})")
    check(not c.cookie, "a refused sign-in must set no session cookie")
    if log_text:
        wait_log(d, log_text)
    if user:  # nothing a refused request sent is stored
        expect(d.admin.request("GET", f"/v1/users/{user}"), 404, what="user of a refused sign-in")


def role_names(me):
    return sorted(x if isinstance(x, str) else x.get("name") for x in me["roles"])


# --------------------------------------------------------------------------- settings, metadata

def test_saml_sso_endpoint_offers_the_button_only_when_configured():
    r = expect(Client(shared()).request("GET", "/v1/sso"), 200, what="GET /v1/sso")
    eq(r.body.get("saml"), None, "GET /v1/sso without SAML")
    for path in ("/v1/sso/saml/metadata", "/v1/sso/saml/start"):
        expect(Client(shared()).request("GET", path), 404, "not-found")
    expect(Client(shared()).request("POST", "/v1/sso/saml/acs", raw_body=b"SAMLResponse=x",
                                    headers=FORM, csrf=False), 404, "not-found")
    r = expect(Client(saml_daemon()).request("GET", "/v1/sso"), 200, what="GET /v1/sso")
    eq(r.body, {"oidc": None, "saml": {"button_label": "Sign in with Example SAML",
                                       "start_url": "/v1/sso/saml/start"}}, "GET /v1/sso")


def test_saml_bad_settings_refuse_to_start():
    i = idp()
    with tempfile.TemporaryDirectory() as tmp:
        key, cert = make_cert(tmp, "sp")
        check_settings_refused_at_start([
            ("APIKEYD_SAML_ROLE_MAP", "admins"),                  # no '='
            ("APIKEYD_SAML_ROLE_MAP", "admins=not a role"),
            ("APIKEYD_SAML_BUTTON_LABEL", "x" * 101),
            ("APIKEYD_SAML_ALLOW_IDP_INITIATED", "yes"),
            ("APIKEYD_SAML_GROUPS_ATTRIBUTE", "has space"),
            ("APIKEYD_SAML_SP_ENTITY_ID", 'urn:"quoted"'),
        ])
        # the metadata file without the key, certificate and public URL
        check_settings_refused_at_start([("APIKEYD_SAML_IDP_METADATA_FILE", i.metadata_path)])
        # files that cannot be read or are not what they should be
        base = {"APIKEYD_SAML_SP_KEY_FILE": key, "APIKEYD_SAML_SP_CERT_FILE": cert,
                "APIKEYD_PUBLIC_URL": PUBLIC_URL}
        bad_md = os.path.join(tmp, "bad.xml")
        with open(bad_md, "w") as f:
            f.write("<not-metadata/>")
        for md, k, c in ((os.path.join(tmp, "missing.xml"), key, cert), (bad_md, key, cert),
                         (i.metadata_path, key, key)):
            env = {k2: v for k2, v in os.environ.items() if not k2.startswith("APIKEYD_")}
            env.update(base)
            env.update(APIKEYD_SAML_IDP_METADATA_FILE=md, APIKEYD_SAML_SP_KEY_FILE=k,
                       APIKEYD_SAML_SP_CERT_FILE=c)
            from run import BIN, free_port
            p = subprocess.run([BIN, "--listen", f"127.0.0.1:{free_port()}", "--data",
                                os.path.join(tmp, "data")], env=env, capture_output=True,
                               text=True, timeout=30)
            check(p.returncode != 0, f"apikeyd started with metadata {md}, certificate {c}")
            check("saml" in p.stderr, f"stderr should say saml: {p.stderr[-300:]!r}")


def test_saml_metadata_names_entity_id_acs_and_signing_certificate():
    d = saml_daemon()
    r = expect(Client(d).request("GET", "/v1/sso/saml/metadata"), 200, what="metadata")
    eq(r.headers.get("Content-Type"), "application/samlmetadata+xml", "Content-Type")
    text = r.raw.decode()
    check(f'entityID="{SP_ENTITY}"' in text, "metadata: entity id")
    check(f'Location="{ACS}"' in text and "bindings:HTTP-POST" in text, "metadata: HTTP-POST ACS")
    with open(d.env["APIKEYD_SAML_SP_CERT_FILE"]) as f:
        body = "".join(l for l in f.read().splitlines() if not l.startswith("-----"))
    check(f"<ds:X509Certificate>{body}</ds:X509Certificate>" in text, "metadata: the certificate")
    check('use="signing"' in text and 'AuthnRequestsSigned="true"' in text, "metadata: signing")
    check(b"PRIVATE KEY" not in r.raw, "the private key is not in the metadata")


# --------------------------------------------------------------------------- start

def test_saml_start_sends_a_signed_authn_request_by_redirect():
    d = saml_daemon()
    r = expect(Client(d).request("GET", "/v1/sso/saml/start?return=/keys"), 302, what="start")
    loc = r.headers["Location"]
    check(loc.startswith(idp().sso_url + "?"), f"start goes to the IdP's SSO URL: {loc[:80]}")
    xml, q, u = authn_request_of(loc)
    check(f"<saml:Issuer>{SP_ENTITY}</saml:Issuer>" in xml, "the AuthnRequest's issuer")
    check(f'AssertionConsumerServiceURL="{ACS}"' in xml, "the AuthnRequest's ACS URL")
    eq(q.get("RelayState"), "/keys", "RelayState carries the return path")
    eq(q.get("SigAlg"), "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "SigAlg")
    # the redirect binding's signature: over SAMLRequest, RelayState, SigAlg as sent, checked
    # with the certificate of the SP metadata
    raw = u.query
    parts = dict(p.split("=", 1) for p in raw.split("&"))
    signed = "&".join(f"{k}={parts[k]}" for k in ("SAMLRequest", "RelayState", "SigAlg"))
    with tempfile.TemporaryDirectory() as tmp:
        pub = os.path.join(tmp, "pub.pem")
        subprocess.run(["openssl", "x509", "-in", d.env["APIKEYD_SAML_SP_CERT_FILE"], "-pubkey",
                        "-noout", "-out", pub], check=True, capture_output=True)
        sig, data = os.path.join(tmp, "sig"), os.path.join(tmp, "data")
        with open(sig, "wb") as f:
            f.write(base64.b64decode(q["Signature"]))
        with open(data, "wb") as f:
            f.write(signed.encode())
        p = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub, "-signature", sig, data],
                           capture_output=True, text=True)
        check(p.returncode == 0, f"the AuthnRequest's signature does not verify: {p.stdout}{p.stderr}")


def test_saml_start_refuses_a_return_path_to_another_site_400():
    d = saml_daemon()
    for ret in ("//evil.example.com/", "https://evil.example.com/", "/a b"):
        expect(Client(d).request("GET", "/v1/sso/saml/start?return=" + urllib.parse.quote(ret)),
               400, "bad-request")


# --------------------------------------------------------------------------- sign-in

def test_saml_sign_in_creates_the_user_just_in_time_with_mapped_roles():
    d = saml_daemon()
    user = uniq_user("sa")
    c, r = post(d, response_for(d, user, attrs=attrs_for(user, ("auditors", "unmapped"))),
                relay="/keys")
    me = signed_in(c, r, user, "/keys")
    eq((me["auth_source"], me["full_name"], me["email"]), ("saml", "Sam Saml", f"{user}@example.org"),
       "the user's profile from the attributes")
    eq(role_names(me), [ROLE], "roles from saml_role_map")
    check(not me.get("mfa_enabled"), "an SSO user has no MFA")
    # no local password: the password login is refused
    expect(Client(d).request("POST", "/v1/login", json={"username": user, "password": "x" * 12}),
           401, "login-failed")
    events = expect(d.admin.request("GET", "/v1/audit?" + urllib.parse.urlencode(
        {"actor": user})), 200).body["events"]
    got = [(e["action"], e["detail"]) for e in events]
    check(("login.success", "saml") in got, f"audit: expected login.success with detail saml: {got}")
    check(("user.create", "saml sign-in") in got, f"audit: expected user.create: {got}")
    # the next sign-in brings roles and profile up to date
    c2, r2 = post(d, response_for(d, user, attrs=attrs_for(user, ("apikeyd-admins",), "Sam Renamed")))
    me2 = signed_in(c2, r2, user)
    eq((role_names(me2), me2["full_name"]), (["admin"], "Sam Renamed"), "roles and name updated")


def test_saml_response_signed_over_the_response_only_is_accepted():
    d = saml_daemon()
    user = uniq_user("sr")
    c, r = post(d, response_for(d, user, sign="response"))
    signed_in(c, r, user)


def test_saml_username_defaults_to_the_name_id():
    d = own_daemon("saml-nameid", APIKEYD_SAML_USERNAME_ATTRIBUTE="")
    try:
        user = uniq_user("sn")
        rid, _, _ = start(d)
        c, r = post(d, idp().response(user, SP_ENTITY, ACS, rid, attrs={"uid": "someone-else"}))
        signed_in(c, r, user)
    finally:
        d.stop()


# --------------------------------------------------------------------------- negatives

def test_saml_unsigned_assertion_is_refused():
    d = saml_daemon()
    user = uniq_user("su")
    c, r = post(d, response_for(d, user, sign=None))
    refused(d, c, r, "token", "Signature element not found", user=user)


def test_saml_signature_by_another_key_is_refused():
    d = saml_daemon()
    user = uniq_user("sk")
    i = idp()
    for sign in ("assertion", "response"):
        c, r = post(d, response_for(d, user, sign=sign, key=(i.other_key, i.other_cert)))
        refused(d, c, r, "token", "Failed to verify signature", user=user)


def test_saml_signature_wrapping_is_refused():
    """The IdP's signed assertion for an ordinary user moved beside an unsigned one naming the
    administrator: the unsigned one must not be taken."""
    d = saml_daemon()
    user = uniq_user("sw")
    c, r = post(d, response_for(d, user, wrap=ADMIN_USER))
    refused(d, c, r, "token", user=user)
    check(not c.cookie, "no session from a wrapped response")


def test_saml_wrong_audience_is_refused():
    d = saml_daemon()
    user = uniq_user("sd")
    c, r = post(d, response_for(d, user, audience="https://other-sp.example.test/metadata"))
    refused(d, c, r, "token", "its audience is not this service provider", user=user)


def test_saml_wrong_recipient_or_destination_is_refused():
    d = saml_daemon()
    user = uniq_user("sp")
    c, r = post(d, response_for(d, user, recipient="https://other-sp.example.test/acs"))
    refused(d, c, r, "token", "its Recipient is not this ACS URL", user=user)
    c, r = post(d, response_for(d, user, destination="https://other-sp.example.test/acs"))
    refused(d, c, r, "token", user=user)


def test_saml_expired_assertion_is_refused():
    d = saml_daemon()
    user = uniq_user("se")
    now = int(time.time())
    # expired past the allowed skew (120 s)
    c, r = post(d, response_for(d, user, now=now - 900, not_before=now - 960,
                                not_on_or_after=now - 300))
    refused(d, c, r, "token", "has expired", user=user)
    # not valid yet, beyond the skew
    c, r = post(d, response_for(d, user, not_before=now + 600, not_on_or_after=now + 900))
    refused(d, c, r, "token", "not valid yet", user=user)


def test_saml_replayed_response_is_refused_also_after_a_restart():
    d = own_daemon("saml-replay")
    try:
        user = uniq_user("sy")
        resp = response_for(d, user)
        c, r = post(d, resp)
        signed_in(c, r, user)
        c, r = post(d, resp)
        refused(d, c, r, "token", "was used before (a replay)")
        # the assertion ids live in the store, not in the process
        d.stop()
        d.start()
        c, r = post(d, resp)
        refused(d, c, r, "token")
    finally:
        d.stop()


def test_saml_in_response_to_never_sent_is_refused():
    d = saml_daemon()
    user = uniq_user("si")
    rid, _, _ = start(d)  # a browser that started a sign-in, answered for another request
    c, r = post(d, response_for(d, user, in_response_to="_" + "ab" * 16), browser=BROWSER[rid])
    refused(d, c, r, "expired", "names no request that is pending", user=user)


def test_saml_idp_initiated_is_off_unless_turned_on():
    d = saml_daemon()
    user = uniq_user("sx")
    c, r = post(d, response_for(d, user, in_response_to=None))
    refused(d, c, r, "unsolicited", "saml_allow_idp_initiated is off", user=user)
    d2 = own_daemon("saml-idp-init", APIKEYD_SAML_ALLOW_IDP_INITIATED="true")
    try:
        c, r = post(d2, response_for(d2, user, in_response_to=None))
        signed_in(c, r, user)
    finally:
        d2.stop()


def test_saml_idp_error_status_is_denied():
    d = saml_daemon()
    user = uniq_user("sq")
    c, r = post(d, response_for(d, user, status="urn:oasis:names:tc:SAML:2.0:status:Responder"))
    refused(d, c, r, "denied", user=user)


def test_saml_username_of_a_local_account_is_refused_not_taken_over():
    d = saml_daemon()
    c, r = post(d, response_for(d, ADMIN_USER, attrs=attrs_for(ADMIN_USER, ("apikeyd-admins",))))
    refused(d, c, r, "account", "does not sign in with SAML")


def test_saml_acs_body_must_be_the_http_post_form():
    d = saml_daemon()
    c = Client(d)
    expect(c.request("POST", "/v1/sso/saml/acs", json={"SAMLResponse": "x"}, csrf=False), 415,
           "unsupported-media-type")
    for body in (b"RelayState=/", b"SAMLResponse=%zz", b"SAMLResponse=a%00b",
                 b"SAMLResponse=" + b"A" * 61441, b"SAMLResponse=abc&RelayState=" + b"a" * 300):
        expect(c.request("POST", "/v1/sso/saml/acs", raw_body=body, headers=FORM, csrf=False),
               400, "bad-request")
    # not base64, not XML: refused like any invalid Response, never a 5xx
    for junk in ("not base64 at all!", base64.b64encode(b"<junk/>").decode(),
                 base64.b64encode(b"\x00\xff" * 50).decode()):
        c2, r = post(d, junk)
        refused(d, c2, r, "token")
    check(d.proc.poll() is None, "the daemon is still running")


def test_saml_nodes_sharing_postgresql_take_each_others_requests_and_refuse_replays():
    """Two nodes on one PostgreSQL: the AuthnRequest node 0 sent is answered at node 1's ACS,
    and the same Response posted to node 0 afterwards is a replay there too."""
    from run import _TMPDIRS
    from suite_cluster import _fresh_database, _nodes, _stop_all
    url = _fresh_database()
    certs = tempfile.mkdtemp(prefix="apikeyd-test-saml-sp-")
    _TMPDIRS.append(certs)
    nodes = _nodes(2, url, env=saml_env(idp(), certs))
    try:
        user = uniq_user("sc")
        rid, _, _ = start(nodes[0])
        resp = idp().response(f"nameid-{user}", SP_ENTITY, ACS, rid, attrs=attrs_for(user))
        c, r = post(nodes[1], resp)
        signed_in(c, r, user)
        c, r = post(nodes[0], resp)
        refused(nodes[0], c, r, "token", "was used before (a replay)")
        # a request answered once cannot be answered again with a new assertion either
        again = idp().response(f"nameid-{user}", SP_ENTITY, ACS, rid, attrs=attrs_for(user))
        c, r = post(nodes[0], again)
        refused(nodes[0], c, r, "expired", "names no request that is pending")
    finally:
        _stop_all(nodes)


def test_saml_acs_failures_are_throttled_per_client():
    d = own_daemon("saml-throttle", APIKEYD_LOGIN_MAX_FAILURES="1",
                   APIKEYD_LOGIN_BACKOFF_SECONDS="60")
    try:
        # four forged Responses fill the client's allowance (4 x login_max_failures) ...
        for _ in range(4):
            c, r = post(d, response_for(d, uniq_user("st"), sign=None))
            refused(d, c, r, "token")
        # ... and then even a good one from that client waits
        user = uniq_user("st")
        c, r = post(d, response_for(d, user))
        refused(d, c, r, "throttled")
        check(int(r.headers.get("Retry-After", "0")) >= 1, "Retry-After on a throttled ACS")
        # a password login from the same client shares the count
        expect(Client(d).request("POST", "/v1/login", json={"username": ADMIN_USER,
                                                            "password": ADMIN_PASS}), 429,
               "too-many-requests")
    finally:
        d.stop()
