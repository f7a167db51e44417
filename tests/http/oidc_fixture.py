"""A tiny OpenID Connect issuer the HTTP tests control (a test fixture, not a mock of
oidc-provider): discovery, JWKS, an authorization endpoint that approves at once, and a token
endpoint that checks the client's Basic credentials, the code, redirect_uri and the PKCE
verifier like a real provider, then signs an ID token the way the test asks (its claims, its
algorithm, its key). Keys are made here with `cryptography`; tokens are put together here
because the point is to hand apikeyd broken ones. Serves 127.0.0.1 only, in a thread of the
test process; stop() ends it.
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import threading
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_int(n, length=None):
    length = length or (n.bit_length() + 7) // 8
    return b64u(n.to_bytes(length, "big"))


class Key:
    """An RSA (RS256) or P-256 (ES256) signing key with its public JWK."""

    def __init__(self, kind="RSA", kid=None):
        self.kind = kind
        self.kid = kid or ("k-" + os.urandom(4).hex())
        if kind == "RSA":
            self.priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            self.priv = ec.generate_private_key(ec.SECP256R1())

    def jwk(self, kid=None):
        pub = self.priv.public_key().public_numbers()
        if self.kind == "RSA":
            return {"kty": "RSA", "kid": kid or self.kid, "use": "sig", "alg": "RS256",
                    "n": b64u_int(pub.n), "e": b64u_int(pub.e)}
        return {"kty": "EC", "kid": kid or self.kid, "use": "sig", "alg": "ES256",
                "crv": "P-256", "x": b64u_int(pub.x, 32), "y": b64u_int(pub.y, 32)}

    def sign(self, data):
        if self.kind == "RSA":
            return self.priv.sign(data, padding.PKCS1v15(), hashes.SHA256())
        r, s = decode_dss_signature(self.priv.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def make_jwt(claims, key=None, alg=None, kid=None, hmac_secret=None):
    """A compact JWS: signed with key (alg RS256/ES256 by its kind), or HS256 with
    hmac_secret, or alg "none" with an empty signature."""
    alg = alg or ("HS256" if hmac_secret is not None else
                  "none" if key is None else "RS256" if key.kind == "RSA" else "ES256")
    header = {"alg": alg, "typ": "JWT"}
    if key is not None or kid:
        header["kid"] = kid or key.kid
    signing_input = (b64u(json.dumps(header).encode()) + "." +
                     b64u(json.dumps(claims).encode())).encode()
    if alg == "none":
        sig = b""
    elif hmac_secret is not None:
        sig = hmac.new(hmac_secret.encode(), signing_input, hashlib.sha256).digest()
    else:
        sig = key.sign(signing_input)
    return signing_input.decode() + "." + b64u(sig)


class Issuer:
    """The issuer. Attributes the tests change between sign-ins:
    claims        extra or overriding claims of the next ID tokens (None values remove one)
    token_fn      None, or fn(claims, issuer) -> compact token (replaces normal signing)
    jwks_keys     the JWKs served (default: the signing key's)
    allow_reuse   whether a code may be exchanged twice (real providers refuse)
    down          whether every endpoint answers 503
    """

    def __init__(self, client_id, client_secret):
        self.client_id, self.client_secret = client_id, client_secret
        self.default_key = Key("RSA")
        self.reset()
        self.codes = {}
        self.lock = threading.Lock()
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                issuer._get(self)

            def do_POST(self):
                issuer._post(self)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reset(self):
        self.key = self.default_key  # the signing key (a test may rotate it)
        self.claims = {}
        self.token_fn = None
        self.jwks_keys = None
        self.allow_reuse = False
        self.down = False
        self.sub_for = {}   # username -> sub (default: "sub-" + username)
        self.jwks_fetches = 0

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # -- HTTP
    @staticmethod
    def _send(h, status, body=None, headers=None, ctype="application/json"):
        data = b"" if body is None else (body if isinstance(body, bytes) else
                                         json.dumps(body).encode())
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        if data:
            h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _get(self, h):
        if self.down:
            return self._send(h, 503, {"error": "down"})
        u = urllib.parse.urlsplit(h.path)
        if u.path == "/.well-known/openid-configuration":
            return self._send(h, 200, {
                "issuer": self.url, "authorization_endpoint": self.url + "/authorize",
                "token_endpoint": self.url + "/token", "jwks_uri": self.url + "/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                "code_challenge_methods_supported": ["S256"]})
        if u.path == "/jwks":
            self.jwks_fetches += 1
            keys = self.jwks_keys if self.jwks_keys is not None else [self.key.jwk()]
            return self._send(h, 200, {"keys": keys})
        if u.path == "/authorize":
            q = dict(urllib.parse.parse_qsl(u.query))
            user = q.get("login_hint", "")
            code = "c-" + os.urandom(12).hex()
            with self.lock:
                self.codes[code] = {"q": q, "user": user, "used": False}
            loc = q["redirect_uri"] + "?" + urllib.parse.urlencode(
                {"code": code, "state": q.get("state", "")})
            return self._send(h, 302, headers={"Location": loc})
        return self._send(h, 404, {"error": "not_found"})

    def _post(self, h):
        if self.down:
            return self._send(h, 503, {"error": "down"})
        n = int(h.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(h.rfile.read(n).decode()))
        if urllib.parse.urlsplit(h.path).path != "/token":
            return self._send(h, 404, {"error": "not_found"})
        auth = h.headers.get("Authorization", "")
        want = "Basic " + base64.b64encode(
            f"{urllib.parse.quote(self.client_id, safe='')}:"
            f"{urllib.parse.quote(self.client_secret, safe='')}".encode()).decode()
        if auth != want:
            return self._send(h, 401, {"error": "invalid_client"})
        with self.lock:
            entry = self.codes.get(form.get("code", ""))
            if not entry or (entry["used"] and not self.allow_reuse):
                return self._send(h, 400, {"error": "invalid_grant"})
            entry["used"] = True
        q = entry["q"]
        challenge = b64u(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
        if (form.get("grant_type") != "authorization_code" or
                form.get("redirect_uri") != q["redirect_uri"] or
                q.get("code_challenge_method") != "S256" or challenge != q.get("code_challenge")):
            return self._send(h, 400, {"error": "invalid_grant"})
        user = entry["user"]
        now = int(time.time())
        claims = {"iss": self.url, "aud": self.client_id, "sub": self.sub_for.get(user, "sub-" + user),
                  "iat": now, "exp": now + 300, "nonce": q.get("nonce"),
                  "preferred_username": user, "name": f"{user.title()} Example",
                  "email": f"{user}@example.org", "email_verified": True}
        for k, v in self.claims.items():
            if v is None:
                claims.pop(k, None)
            else:
                claims[k] = v
        token = self.token_fn(claims, self) if self.token_fn else make_jwt(claims, self.key)
        return self._send(h, 200, {"access_token": "at-" + os.urandom(8).hex(),
                                   "token_type": "Bearer", "expires_in": 300,
                                   "id_token": token})
