"""OpenID Connect sign-in (issue 15) over HTTP, against docs/API.md ("Single sign-on") and
docs/SSO-OIDC.md. The provider here is tests/http/oidc_fixture.py, an issuer the test controls
(so it can hand apikeyd tampered, expired, unsigned or wrongly signed ID tokens); the same
flow against a real OpenID Certified provider (npm oidc-provider) is
tests/oidc/suite (tests/oidc/run.sh) and tests/browser/sso.test.mjs.

Each sign-in: GET /v1/sso/oidc/start (302 to the issuer, flow cookie), the issuer's
/authorize (approves at once; the test picks the account with login_hint), then the daemon's
callback with the flow cookie; the outcome is the callback's redirect: to the portal signed
in, or to PUBLIC_URL/?sso_error=CODE#/login. Why a token was refused is read from the
daemon's log (the browser only gets the short code).
"""
import atexit
import os
import time
import urllib.parse
import http.client

from run import (_SHARED, _SHARED_FAILED, ADMIN_PASS, ADMIN_USER, Client, Daemon, check,
                 check_settings_refused_at_start, create_key, eq, expect, shared, uniq,
                 uniq_user, verify)
from oidc_fixture import Key, make_jwt, Issuer

CLIENT_ID = "apikeyd-test"
CLIENT_SECRET = "s3cret-" + os.urandom(6).hex()
PUBLIC_URL = "http://apikeyd.example.test"
ROLE = "oidc-auditor"            # made by the tests, mapped from the group "auditors"

_ISSUER = []


def issuer():
    if not _ISSUER:
        i = Issuer(CLIENT_ID, CLIENT_SECRET)
        atexit.register(i.stop)
        _ISSUER.append(i)
    _ISSUER[0].reset()
    return _ISSUER[0]


def oidc_env(iss, tmpdir, **extra):
    secret_file = os.path.join(tmpdir, "client-secret")
    with open(secret_file, "w") as f:
        f.write(CLIENT_SECRET + "\n")
    env = {"APIKEYD_OIDC_ISSUER": iss.url, "APIKEYD_OIDC_CLIENT_ID": CLIENT_ID,
           "APIKEYD_OIDC_CLIENT_SECRET_FILE": secret_file, "APIKEYD_PUBLIC_URL": PUBLIC_URL,
           "APIKEYD_OIDC_ROLES_CLAIM": "groups",
           "APIKEYD_OIDC_ROLE_MAP": f"apikeyd-admins=admin, auditors={ROLE}",
           "APIKEYD_OIDC_BUTTON_LABEL": "Sign in with Example SSO",
           "APIKEYD_VERIFY_MAX_FAILURES": "1000000", "APIKEYD_LOGIN_MAX_FAILURES": "1000"}
    env.update(extra)
    return env


def oidc_daemon():
    """The shared daemon signing in through the fixture issuer (registered with run's shared
    daemons, so the runner stops it and checks it exits 0)."""
    kind = "oidc"
    iss = issuer()
    if kind not in _SHARED and kind not in _SHARED_FAILED:
        d = Daemon("shared-oidc")
        d.env = oidc_env(iss, d.tmp)
        try:
            d.start()
        except AssertionError as e:
            _SHARED_FAILED[kind] = str(e)
            raise
        _SHARED[kind] = d
        expect(d.admin.request("POST", "/v1/roles", json={
            "name": ROLE, "authorities": ["view_audit"]}), 201, what="create the mapped role")
    return shared(kind)


# --------------------------------------------------------------------------- the flow

def start(d, c=None, query=""):
    c = c or Client(d)
    r = c.request("GET", "/v1/sso/oidc/start" + query)
    return c, r


def flow_cookie(r):
    for sc in r.headers.get_all("Set-Cookie") or []:
        name, _, rest = sc.partition("=")
        if name.strip() == "apikeyd_oidc":
            return rest.split(";")[0], sc
    return None, None


def authorize(location, user):
    """Follows the authorization URL at the fixture; returns the callback URL it redirects to."""
    u = urllib.parse.urlsplit(location + "&" + urllib.parse.urlencode({"login_hint": user}))
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request("GET", u.path + "?" + u.query)
        r = conn.getresponse()
        r.read()
        check(r.status == 302, f"issuer /authorize answered {r.status}")
        return r.getheader("Location")
    finally:
        conn.close()


def callback(d, c, callback_url, cookie, tamper=None):
    """Sends the provider's redirect to the daemon (PUBLIC_URL is not this host: the path and
    query go to the daemon's port)."""
    u = urllib.parse.urlsplit(callback_url)
    eq(f"{u.scheme}://{u.netloc}{u.path}", PUBLIC_URL + "/v1/sso/oidc/callback", "redirect_uri")
    q = dict(urllib.parse.parse_qsl(u.query))
    if tamper:
        tamper(q)
    path = u.path + "?" + urllib.parse.urlencode(q)
    headers = {"Cookie": f"apikeyd_oidc={cookie}"} if cookie else {"Cookie": None}
    r = c.request("GET", path, headers=headers)
    expect(r, 302, what="callback")
    for sc in r.headers.get_all("Set-Cookie") or []:
        name, _, rest = sc.partition("=")
        if name.strip() == "apikeyd_csrf" and rest.split(";")[0]:
            c.csrf = rest.split(";")[0]
    return r


def sign_in(d, user, tamper=None, cookie_fn=None):
    """One whole sign-in as user; returns (client, callback response)."""
    c, r = start(d)
    expect(r, 302, what="start")
    cookie, _ = flow_cookie(r)
    check(cookie, "start: expected the apikeyd_oidc flow cookie")
    cb_url = authorize(r.headers["Location"], user)
    if cookie_fn:
        cookie = cookie_fn(cookie)
    return c, callback(d, c, cb_url, cookie, tamper), cb_url, cookie


def sso_error(r):
    loc = r.headers.get("Location") or ""
    prefix = PUBLIC_URL + "/?sso_error="
    if not loc.startswith(prefix):
        return None
    return loc[len(prefix):].split("#")[0]


def signed_in(c, r, user):
    eq(r.headers.get("Location"), PUBLIC_URL + "/", "redirect after sign-in")
    check(c.cookie, "expected a session cookie")
    me = expect(c.request("GET", "/v1/me"), 200, what="GET /v1/me after SSO").body
    eq(me["username"], user, "signed-in username")
    return me


def refused(d, c, r, code, log_text=None):
    eq(sso_error(r), code, f"sso_error (Location {r.headers.get('Location')!r})")
    check(not c.cookie, "a refused sign-in must set no session cookie")
    if log_text:
        wait_log(d, log_text)


def wait_log(d, text):
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if text.encode() in d.all_logs():
            return
        time.sleep(0.05)
    raise AssertionError(f"the daemon's log should say {text!r}")


def log_mark(d):
    return len(d.all_logs())


def now():
    return int(time.time())


# --------------------------------------------------------------------------- settings

def test_oidc_sso_endpoint_says_off_without_settings():
    r = expect(Client(shared()).request("GET", "/v1/sso"), 200, what="GET /v1/sso")
    eq(r.body, {"oidc": None, "saml": None}, "GET /v1/sso without single sign-on")
    expect(Client(shared()).request("GET", "/v1/sso/oidc/start"), 404, "not-found")
    expect(Client(shared()).request("GET", "/v1/sso/oidc/callback?code=x&state=y"), 404,
           "not-found")


def test_oidc_sso_endpoint_gives_the_button_label():
    d = oidc_daemon()
    r = expect(Client(d).request("GET", "/v1/sso"), 200, what="GET /v1/sso")
    eq(r.body, {"oidc": {"button_label": "Sign in with Example SSO",
                         "start_url": "/v1/sso/oidc/start"}, "saml": None}, "GET /v1/sso")


def test_oidc_bad_settings_refuse_to_start():
    with open(os.devnull) as _:
        pass
    check_settings_refused_at_start([
        ("APIKEYD_OIDC_ISSUER", "http://idp.example.com"),      # http to a non-loopback host
        ("APIKEYD_OIDC_ISSUER", "ftp://idp.example.com"),
        ("APIKEYD_OIDC_ROLES_CLAIM", "has space"),
        ("APIKEYD_OIDC_ROLE_MAP", "admins"),                    # no '='
        ("APIKEYD_OIDC_ROLE_MAP", "admins=not a role"),
        ("APIKEYD_OIDC_BUTTON_LABEL", "x" * 101),
        ("APIKEYD_PUBLIC_URL", "apikeyd.example.com"),
    ])
    # an issuer without the rest
    check_settings_refused_at_start([("APIKEYD_OIDC_ISSUER", "https://idp.example.com")])


# --------------------------------------------------------------------------- start

def test_oidc_start_redirects_with_pkce_s256_state_and_nonce():
    d = oidc_daemon()
    iss = issuer()
    _, r = start(d)
    expect(r, 302, what="start")
    u = urllib.parse.urlsplit(r.headers["Location"])
    eq(f"{u.scheme}://{u.netloc}{u.path}", iss.url + "/authorize", "authorization endpoint")
    q = dict(urllib.parse.parse_qsl(u.query))
    eq((q.get("response_type"), q.get("client_id"), q.get("redirect_uri"), q.get("scope"),
        q.get("code_challenge_method")),
       ("code", CLIENT_ID, PUBLIC_URL + "/v1/sso/oidc/callback", "openid profile email", "S256"),
       "authorization request")
    for p in ("state", "nonce", "code_challenge"):
        check(len(q.get(p, "")) == 43, f"{p}: expected 43 base64url characters, got {q.get(p)!r}")
    check(len({q["state"], q["nonce"], q["code_challenge"]}) == 3, "state, nonce, challenge differ")
    cookie, sc = flow_cookie(r)
    check(cookie, "expected the apikeyd_oidc cookie")
    attrs = [a.strip().lower() for a in sc.split(";")[1:]]
    for a in ("httponly", "samesite=lax", "path=/v1/sso/oidc/", "max-age=600"):
        check(a in attrs, f"flow cookie: expected {a} in {sc!r}")
    for secret in (q["state"], q["nonce"]):
        check(secret not in cookie, "the flow cookie is sealed: no value in the clear")
    _, r2 = start(d)
    q2 = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r2.headers["Location"]).query))
    check(q2["state"] != q["state"] and q2["nonce"] != q["nonce"], "fresh values every start")


def test_oidc_start_refuses_a_return_path_to_another_site_400():
    d = oidc_daemon()
    for bad in ("//evil.example/", "https://evil.example/", "x", "/a\\b", "/" + "a" * 300):
        _, r = start(d, query="?" + urllib.parse.urlencode({"return": bad}))
        expect(r, 400, "bad-request", what=f"return={bad[:40]!r}")
        check(not flow_cookie(r)[0], "a refused start sets no flow cookie")


def test_oidc_start_with_the_provider_down_is_unavailable_not_5xx():
    iss = Issuer(CLIENT_ID, CLIENT_SECRET)
    d = Daemon("oidc-down")
    d.env = oidc_env(iss, d.tmp)
    iss.stop()                                  # nothing listens there any more
    d.start()
    try:
        _, r = start(d)
        expect(r, 302, what="start with the provider down")
        eq(sso_error(r), "unavailable", "sso_error")
        check(not flow_cookie(r)[0], "no flow cookie when nothing was started")
    finally:
        d.stop()


# --------------------------------------------------------------------------- sign-in

def test_oidc_sign_in_creates_the_user_just_in_time_with_mapped_roles():
    d = oidc_daemon()
    iss = issuer()
    user = uniq_user("oi")
    iss.claims = {"groups": ["auditors", "unmapped"], "name": "Ola Idp"}
    c, r, _, _ = sign_in(d, user)
    me = signed_in(c, r, user)
    eq((me["auth_source"], me["full_name"], me["email"]), ("oidc", "Ola Idp", f"{user}@example.org"),
       "the user's profile from the claims")
    eq(sorted(x if isinstance(x, str) else x.get("name") for x in me["roles"]), [ROLE],
       "roles from oidc_role_map")
    # the flow cookie is cleared at the callback
    check(any(sc.startswith("apikeyd_oidc=;") and "max-age=0" in sc.lower()
              for sc in r.headers.get_all("Set-Cookie")), "callback clears the flow cookie")
    # audited with the method
    events = expect(d.admin.request("GET", "/v1/audit?" + urllib.parse.urlencode(
        {"actor": user})), 200).body["events"]
    got = [(e["action"], e["detail"]) for e in events]
    check(("login.success", "oidc") in got, f"audit: expected login.success with detail oidc: {got}")
    check(("user.create", "oidc sign-in") in got, f"audit: expected user.create: {got}")
    # the next sign-in brings roles and profile up to date
    iss.claims = {"groups": ["apikeyd-admins"], "name": "Ola Renamed"}
    c2, r2, _, _ = sign_in(d, user)
    me2 = signed_in(c2, r2, user)
    eq(([x if isinstance(x, str) else x.get("name") for x in me2["roles"]], me2["full_name"]),
       (["admin"], "Ola Renamed"), "roles and name updated at sign-in")
    iss.claims = {"groups": []}
    c3, r3, _, _ = sign_in(d, user)
    me3 = signed_in(c3, r3, user)
    eq([x if isinstance(x, str) else x.get("name") for x in me3["roles"]], ["user"],
       "no mapped group: the user role")


def own_daemon(label, **env):
    """A daemon of its own, for tests that change the issuer's keys (the shared one keeps the
    JWKS it fetched for an hour, and fetches it again at most every 30 s)."""
    iss = issuer()
    d = Daemon(label)
    d.env = oidc_env(iss, d.tmp, **env)
    d.start()
    expect(d.admin.request("POST", "/v1/roles", json={
        "name": ROLE, "authorities": ["view_audit"]}), 201, what="create the mapped role")
    return d, iss


def test_oidc_es256_token_is_accepted():
    d, iss = own_daemon("oidc-es256")
    try:
        ec_key = Key("EC")
        iss.jwks_keys = [ec_key.jwk(), iss.key.jwk()]
        iss.token_fn = lambda claims, _: make_jwt(claims, ec_key)
        user = uniq_user("oe")
        c, r, _, _ = sign_in(d, user)
        signed_in(c, r, user)
    finally:
        d.stop()


def test_oidc_unknown_kid_fetches_the_jwks_again_at_most_every_30_seconds():
    d, iss = own_daemon("oidc-rotate")
    try:
        user = uniq_user("ok")
        c, r, _, _ = sign_in(d, user)
        signed_in(c, r, user)
        eq(iss.jwks_fetches, 1, "JWKS fetches after the first sign-in")
        iss.key = Key("RSA")               # rotated: a new kid, served from now on
        c, r, _, _ = sign_in(d, user)      # unknown kid, but the JWKS is less than 30 s old
        refused(d, c, r, "token", "no key of the provider's JWKS fits")
        eq(iss.jwks_fetches, 1, "tokens naming unknown keys do not make apikeyd hammer the JWKS")
    finally:
        d.stop()


def test_oidc_csrf_token_comes_in_a_short_lived_script_readable_cookie():
    d = oidc_daemon()
    user = uniq_user("oc")
    c, r, _, _ = sign_in(d, user)
    signed_in(c, r, user)
    sc = [s for s in r.headers.get_all("Set-Cookie") if s.startswith("apikeyd_csrf=")]
    check(len(sc) == 1, f"expected one apikeyd_csrf cookie: {r.headers.get_all('Set-Cookie')}")
    attrs = sc[0].lower()
    check("samesite=strict" in attrs and "max-age=120" in attrs and "httponly" not in attrs,
          f"csrf cookie attributes: {sc[0]!r}")
    session = [s for s in r.headers.get_all("Set-Cookie") if s.startswith("apikeyd_session=")]
    check(session and "httponly" in session[0].lower() and "samesite=strict" in session[0].lower(),
          f"session cookie as POST /v1/login sets it: {session}")
    # the token works for writes: a key of one's own, and it verifies
    key = create_key(c)["key"]
    verify(d, key, "Tasks")


def test_oidc_sso_user_has_no_password_and_no_mfa():
    d = oidc_daemon()
    user = uniq_user("on")
    c, r, _, _ = sign_in(d, user)
    signed_in(c, r, user)
    r = expect(c.request("POST", "/v1/me/mfa", json={"current_password": "x" * 12}), 403,
               "forbidden")
    eq(r.body.get("detail"), "MFA is not available for SSO users", "the seed's wording")
    expect(c.request("POST", "/v1/me/password", json={"current_password": "whatever-it-is",
                                                      "new_password": "a-new-pass-phrase-1"}),
           403, "forbidden")
    expect(Client(d).request("POST", "/v1/login", json={"username": user,
                                                        "password": "any-password-at-all"}),
           401, "login-failed")


# --------------------------------------------------------------------------- negatives

def test_oidc_tampered_state_is_refused():
    d = oidc_daemon()
    user = uniq_user("os")
    c, r, _, _ = sign_in(d, user, tamper=lambda q: q.update(state=q["state"][:-1] + (
        "A" if q["state"][-1] != "A" else "B")))
    refused(d, c, r, "state")
    expect(d.admin.request("GET", f"/v1/users/{user}"), 404, "not-found")


def test_oidc_callback_without_or_with_an_altered_flow_cookie_is_refused():
    d = oidc_daemon()
    c, r, _, _ = sign_in(d, uniq_user("ox"), cookie_fn=lambda ck: None)
    refused(d, c, r, "expired")
    flip = lambda ck: ck[:10] + ("A" if ck[10] != "A" else "B") + ck[11:]
    c, r, _, _ = sign_in(d, uniq_user("ox"), cookie_fn=flip)
    refused(d, c, r, "expired")


def test_oidc_provider_error_is_denied():
    d = oidc_daemon()
    c, r = start(d)
    cookie, _ = flow_cookie(r)
    r = callback(d, c, PUBLIC_URL + "/v1/sso/oidc/callback?error=access_denied&state=x", cookie)
    refused(d, c, r, "denied")


def test_oidc_missing_code_is_refused():
    d = oidc_daemon()
    c, r, _, _ = sign_in(d, uniq_user("om"), tamper=lambda q: q.pop("code"))
    refused(d, c, r, "token")


def test_oidc_replayed_code_is_refused_by_the_provider():
    d = oidc_daemon()
    user = uniq_user("or")
    c, r, cb_url, cookie = sign_in(d, user)
    signed_in(c, r, user)
    c2 = Client(d)
    r2 = callback(d, c2, cb_url, cookie)
    refused(d, c2, r2, "token", "the token endpoint refused the code (400 invalid_grant)")


def test_oidc_replayed_id_token_nonce_is_refused_even_when_the_provider_allows_the_code():
    d = oidc_daemon()
    iss = issuer()
    iss.allow_reuse = True                       # a provider that does not refuse a second use
    user = uniq_user("oq")
    c, r, cb_url, cookie = sign_in(d, user)
    signed_in(c, r, user)
    c2 = Client(d)
    r2 = callback(d, c2, cb_url, cookie)
    refused(d, c2, r2, "token", "its nonce was used before")


def _token_refused(claims=None, token_fn=None, jwks=None, log_text=None):
    """One sign-in whose ID token the daemon must refuse for log_text; jwks (a new key set)
    takes a daemon of its own, which has not fetched the issuer's keys before."""
    d, iss = own_daemon("oidc-jwks") if jwks is not None else (oidc_daemon(), issuer())
    try:
        iss.claims = claims or {}
        iss.token_fn = token_fn
        iss.jwks_keys = jwks
        user = uniq_user("ot")
        c, r, _, _ = sign_in(d, user)
        refused(d, c, r, "token", f"ID token refused: {log_text}")
        expect(d.admin.request("GET", f"/v1/users/{user}"), 404, "not-found")
    finally:
        if jwks is not None:
            d.stop()


def test_oidc_wrong_audience_is_refused():
    _token_refused({"aud": "another-client"}, log_text="wrong audience")


def test_oidc_several_audiences_without_azp_are_refused():
    _token_refused({"aud": [CLIENT_ID, "another-client"]}, log_text="wrong audience")


def test_oidc_expired_token_is_refused():
    _token_refused({"exp": now() - 120, "iat": now() - 400}, log_text="expired")


def test_oidc_token_issued_in_the_future_is_refused():
    _token_refused({"iat": now() + 600}, log_text="issued at a time out of range")


def test_oidc_wrong_issuer_is_refused():
    _token_refused({"iss": "http://127.0.0.1:1"}, log_text="wrong issuer")


def test_oidc_wrong_nonce_is_refused():
    _token_refused({"nonce": "not-the-flow-nonce"}, log_text="wrong nonce")


def test_oidc_unsigned_token_alg_none_is_refused():
    _token_refused(token_fn=lambda claims, _: make_jwt(claims, None, alg="none"),
                   log_text="algorithm not allowed")


def test_oidc_hs256_token_signed_with_the_client_secret_is_refused():
    _token_refused(token_fn=lambda claims, iss: make_jwt(claims, hmac_secret=CLIENT_SECRET,
                                                         kid=iss.key.kid),
                   log_text="algorithm not allowed")


def test_oidc_token_signed_by_a_key_that_does_not_match_the_jwks_is_refused():
    other = Key("RSA")
    iss_kid = issuer().key.kid
    # same kid, another key: the signature does not verify
    _token_refused(token_fn=lambda claims, iss: make_jwt(claims, other, kid=iss.key.kid),
                   log_text="signature does not verify")
    # a kid the JWKS does not have (fetched again once, still not there)
    _token_refused(token_fn=lambda claims, _: make_jwt(claims, other),
                   log_text="no key of the provider's JWKS fits")
    check(iss_kid, "kid")


def test_oidc_rs256_token_with_an_ec_key_in_the_jwks_is_refused():
    ec_key = Key("EC", kid="shared-kid")
    rsa_key = Key("RSA", kid="shared-kid")
    _token_refused(token_fn=lambda claims, _: make_jwt(claims, rsa_key),
                   jwks=[ec_key.jwk()], log_text="no key of the provider's JWKS fits")


def test_oidc_username_of_a_local_account_is_refused_not_taken_over():
    d = oidc_daemon()
    name, pw = uniq_user("ol"), "pw-" + os.urandom(8).hex()
    expect(d.admin.request("POST", "/v1/users", json={"username": name, "password": pw}), 201)
    c, r, _, _ = sign_in(d, name)
    refused(d, c, r, "account", "does not sign in with OpenID Connect")
    u = expect(d.admin.request("GET", f"/v1/users/{name}"), 200).body
    eq(u["auth_source"], "local", "the local account stays local")
    Client(d).login(name, pw)                    # and its password still works
    # a name that differs only in case is the same account
    c, r, _, _ = sign_in(d, name.upper())
    refused(d, c, r, "account")


def test_oidc_account_bound_to_another_subject_is_refused():
    d = oidc_daemon()
    iss = issuer()
    user = uniq_user("ob")
    c, r, _, _ = sign_in(d, user)
    signed_in(c, r, user)
    iss.sub_for[user] = "someone-else"           # the provider's username now names another
    c2, r2, _, _ = sign_in(d, user)
    refused(d, c2, r2, "account", "bound to another subject")


def test_oidc_account_made_by_an_admin_is_bound_at_first_sign_in():
    d = oidc_daemon()
    iss = issuer()
    user = uniq_user("oa")
    expect(d.admin.request("POST", "/v1/users", json={"username": user, "auth_source": "oidc"}),
           201, what="pre-provisioned OpenID Connect user")
    c, r, _, _ = sign_in(d, user)
    signed_in(c, r, user)
    iss.sub_for[user] = "another-subject"
    c2, r2, _, _ = sign_in(d, user)
    refused(d, c2, r2, "account")


def test_oidc_disabled_user_cannot_sign_in():
    d = oidc_daemon()
    user = uniq_user("od")
    c, r, _, _ = sign_in(d, user)
    signed_in(c, r, user)
    expect(d.admin.request("PATCH", f"/v1/users/{user}", json={"disabled": True}), 200)
    c2, r2, _, _ = sign_in(d, user)
    refused(d, c2, r2, "disabled", "the account is disabled")


def test_oidc_invalid_username_claim_is_refused():
    d = oidc_daemon()
    iss = issuer()
    for bad in ("has space", "a" * 65, None, "ali:ce"):
        iss.claims = {"preferred_username": bad}
        c, r, _, _ = sign_in(d, uniq_user("oz"))
        refused(d, c, r, "account")


def test_oidc_token_endpoint_down_is_unavailable():
    d = oidc_daemon()
    iss = issuer()
    c, r = start(d)
    cookie, _ = flow_cookie(r)
    cb_url = authorize(r.headers["Location"], uniq_user("ou"))
    iss.down = True
    try:
        r = callback(d, c, cb_url, cookie)
    finally:
        iss.down = False
    refused(d, c, r, "unavailable")


def test_oidc_callback_failures_are_throttled_per_client():
    iss = issuer()
    d = Daemon("oidc-throttle")
    d.env = oidc_env(iss, d.tmp, APIKEYD_LOGIN_MAX_FAILURES="1", APIKEYD_LOGIN_BACKOFF_SECONDS="60")
    d.start()
    try:
        # four bad callbacks fill the client's allowance (4 x login_max_failures) ...
        for _ in range(4):
            c, r, _, _ = sign_in(d, uniq_user("oh"), tamper=lambda q: q.update(state="x" * 43))
            refused(d, c, r, "state")
        # ... and then even a good sign-in from that client waits
        c, r, _, _ = sign_in(d, uniq_user("oh"))
        refused(d, c, r, "throttled")
        check(int(r.headers.get("Retry-After", "0")) >= 1, "Retry-After on a throttled callback")
        # a password login from the same client shares the count
        expect(Client(d).request("POST", "/v1/login", json={"username": ADMIN_USER,
                                                            "password": ADMIN_PASS}), 429,
               "too-many-requests")
    finally:
        d.stop()


def test_oidc_client_secret_never_reaches_the_log_or_a_page():
    d = oidc_daemon()
    user = uniq_user("og")
    c, r, _, _ = sign_in(d, user)
    signed_in(c, r, user)
    check(CLIENT_SECRET.encode() not in d.all_logs(), "the client secret is in the daemon's log")
    for path in ("/v1/sso", "/v1/me"):
        check(CLIENT_SECRET.encode() not in c.request("GET", path).raw,
              f"the client secret is in {path}")


def test_oidc_email_like_username_as_entra_id_and_okta_send_it_signs_in():
    """Entra ID's and Okta's preferred_username is a sign-in name like ada@corp.example: it is
    the username as it is, with no custom claim."""
    d = oidc_daemon()
    user = uniq_user("upn") + "@corp.example"
    c, r, _, _ = sign_in(d, user)
    me = signed_in(c, r, user)
    eq(me["auth_source"], "oidc", "an SSO user")
    u = expect(d.admin.request("GET", f"/v1/users/{urllib.parse.quote(user)}"), 200).body
    eq(u["username"], user, "the admin finds the user by that name")
