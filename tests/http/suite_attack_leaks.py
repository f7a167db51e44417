"""Attacks on issue 12, item 10 (cookies and small leaks): bytes an anonymous client chooses
must never produce a 5xx, and small differences (timing, listings) must not tell an attacker
more than the owner would. Each test plays that client against a real daemon."""
import json as jsonlib

from run import Client, eq, expect, expect_error_field, shared


def test_attack_multibyte_unknown_field_names_get_a_422_not_a_500():
    d = shared()
    for ch in ("\u00e9", "\u20ac", "\U0001F600"):      # 2-, 3- and 4-byte characters
        for lead in range(4):                         # move the 63-byte cut through a character
            name = "a" * lead + ch * 40
            for path in ("/v1/login", "/v1/verify"):
                body = {"username": "x", "password": "y"} if path == "/v1/login" else {"key": "k"}
                body[name] = 1
                r = Client(d).request("POST", path, json=body)
                expect(r, 422, "validation-failed", what=f"{path} with {lead}+40 x {ch!r}")
                fields = [e.get("field") for e in r.body.get("errors", [])]
                cut = [f for f in fields if f not in ("username", "password", "key")]
                eq(len(cut), 1, f"one unknown field reported: {fields!r}")
                eq(name.startswith(cut[0]) and len(cut[0].encode()) <= 63, True,
                   f"the name cut on a character boundary: {cut[0]!r}")
                jsonlib.loads(r.raw.decode("utf-8"))   # the problem is valid UTF-8 JSON
    expect_error_field(Client(d).request("POST", "/v1/login",
                                         json={"username": "x", "password": "y", "\u00e9" * 40: 1}),
                       "\u00e9" * 31)
