"""Attacks on sign-in through the company directory, single sign-on and the TLS listener
(docs/SECURITY.md rule 26)."""
import base64
import os
import time

from run import (ADMIN_USER, Client, Daemon, check, eq, expect, uniq_user)
import suite_ldap as L
import suite_oidc as O
from ldap_directory import GROUPS, PEOPLE, dn_of, password_of, person_ldif
from run import _SHARED, _SHARED_FAILED, create_key, shared, wait_until
import suite_saml as S


def _inject(response_b64, old, new):
    xml = base64.b64decode(response_b64).decode()
    check(old in xml, f"{old!r} should be in the signed Response")
    return base64.b64encode(xml.replace(old, new).encode()).decode()


def test_attack_saml_comment_or_cdata_in_a_signed_value_is_refused():
    """The classic truncation (Duo, 2018): the IdP signs uid "VICTIM.evil" and the group
    "apikeyd-admins.not" for the attacker; a comment or a CDATA section put in after signing
    leaves the signature valid (exclusive c14n drops comments and unwraps CDATA), and lasso
    read only the first text node (a CDATA section it drops): the attacker signed in as
    VICTIM, with admin. Now such markup is refused; the same Response without it signs the
    attacker in as themselves."""
    d = S.saml_daemon()
    for form, reason in (("<!---->{}", "holds a comment"),
                         ("<![CDATA[{}]]>", "holds a CDATA section")):
        victim = uniq_user("sv")
        attacker = victim + ".evil"
        rid, _, _ = S.start(d)
        attrs = S.attrs_for(attacker, groups=("apikeyd-admins.not",))
        resp = S.idp().response(f"nameid-{attacker}", S.SP_ENTITY, S.ACS, rid, attrs=attrs)
        resp = _inject(resp, f'"xs:string">{attacker}<',
                       f'"xs:string">{victim}{form.format(".evil")}<')
        resp = _inject(resp, '"xs:string">apikeyd-admins.not<',
                       f'"xs:string">apikeyd-admins{form.format(".not")}<')
        c, r = S.post(d, resp)
        S.refused(d, c, r, "token", reason, user=victim)
        expect(d.admin.request("GET", f"/v1/users/{attacker}"), 404, what=f"user {attacker}")
    rid, _, _ = S.start(d)
    c, r = S.post(d, S.idp().response(f"nameid-{attacker}", S.SP_ENTITY, S.ACS, rid,
                                      attrs=attrs))
    eq(S.role_names(S.signed_in(c, r, attacker)), ["user"], f"roles of {attacker}")


def test_attack_saml_doctype_external_entity_and_entity_expansion_are_refused():
    """XXE (an entity reading a local file into the full name) and a billion-laughs expansion:
    both refused before any entity is read or expanded (lasso refused a DOCTYPE before too)."""
    d = S.saml_daemon()
    secret = os.path.join(d.tmp, "xxe-secret.txt")
    with open(secret, "w") as f:
        f.write("XXE-SECRET-" + uniq_user("x"))
    lol = ('<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(8)))
    # the file entity reaches the markup check (a DOCTYPE); libxml2 itself refuses the
    # expansion bomb as not well-formed (its amplification guard) before the check runs
    for subset, ref, why in ((f'<!ENTITY x SYSTEM "file://{secret}">', "&x;", "holds a DOCTYPE"),
                             (lol, "&i;", "not well-formed XML")):
        user = uniq_user("sx")
        rid, _, _ = S.start(d)
        xml = base64.b64decode(S.response_for(d, user, in_response_to=rid)).decode()
        xml = f"<!DOCTYPE samlp:Response [{subset}]>" + xml.replace(
            '"xs:string">Sam Saml<', f'"xs:string">{ref}<')
        t0 = time.monotonic()
        c, r = S.post(d, base64.b64encode(xml.encode()).decode())
        check(time.monotonic() - t0 < 2, "an entity expansion must not be worked through")
        S.refused(d, c, r, "token", why, user=user)
    check(b"XXE-SECRET" not in d.all_logs(), "the file an entity names is never read")


def test_attack_saml_login_csrf_someone_elses_response_is_refused():
    """Login CSRF: the attacker starts a sign-in, signs in at the IdP as themselves and has a
    page the victim visits auto-POST that Response to the ACS. The request ID was known to the
    store but to no browser, so the victim ended up signed in as the attacker (their keys made
    in the attacker's account). Now the request is bound to the starting browser's cookie."""
    d = S.saml_daemon()
    attacker = uniq_user("sc")

    def attackers_response():
        rid, _, _ = S.start(d)                              # in the attacker's browser
        return S.idp().response(f"nameid-{attacker}", S.SP_ENTITY, S.ACS, rid,
                                attrs=S.attrs_for(attacker))
    c, r = S.post(d, attackers_response(), browser=None)    # the victim has no cookie
    S.refused(d, c, r, "expired", "has no sign-in cookie", user=attacker)
    c, r = S.post(d, attackers_response(), browser="A" * 300)   # one too long to be ours
    S.refused(d, c, r, "expired", user=attacker)
    own, _, _ = S.start(d)                                  # or one of a sign-in of their own
    c, r = S.post(d, attackers_response(), browser=S.BROWSER[own])
    S.refused(d, c, r, "expired", "pending for this browser", user=attacker)
    c, r = S.post(d, attackers_response())                  # the browser that started it
    S.signed_in(c, r, attacker)


# --------------------------------------------------------------------------- OpenID Connect

def test_attack_oidc_unverified_email_as_username_does_not_claim_an_account():
    """With oidc_username_claim = email, an attacker at the provider types the victim's address
    into their own account (most providers let anyone set an address they do not own; it is
    then sent with email_verified false, or not at all) and signs in first: before, they got
    the account an administrator had made for the victim, with its roles, bound to the
    attacker's subject for good."""
    iss = O.issuer()
    d = Daemon("oidc-email-username")
    d.env = O.oidc_env(iss, d.tmp, APIKEYD_OIDC_USERNAME_CLAIM="email",
                       APIKEYD_OIDC_ROLES_CLAIM="", APIKEYD_OIDC_ROLE_MAP="")
    d.start()
    try:
        expect(d.admin.request("POST", "/v1/roles", json={
            "name": "oidc-email-auditor", "authorities": ["view_audit"]}), 201)
        victim = uniq_user("ov") + "@example.org"
        expect(d.admin.request("POST", "/v1/users", json={
            "username": victim, "auth_source": "oidc", "roles": ["oidc-email-auditor"]}), 201,
            what="the victim's account, made ahead of their first sign-in")
        for verified in (False, "false", None, "yes"):
            iss.claims = {"email": victim, "email_verified": verified}
            c, r, _, _ = O.sign_in(d, "attacker")
            O.refused(d, c, r, "account", "an email address the provider has not verified")
        # the victim, whose provider verified the address, signs in and is bound
        iss.claims = {"email": victim, "email_verified": True}
        c, r, _, _ = O.sign_in(d, "victim")
        me = O.signed_in(c, r, victim)
        eq(sorted(x if isinstance(x, str) else x["name"] for x in me["roles"]),
           ["oidc-email-auditor"], "the victim's roles")
        iss.claims = {"email": victim, "email_verified": "true"}   # a string, as some send it
        c, r, _, _ = O.sign_in(d, "victim")
        O.signed_in(c, r, victim)
    finally:
        d.stop()


# --------------------------------------------------------------------------- LDAP

def ldap_sync_daemon():
    """A daemon on the LDAP suite's slapd whose sync runs every second (shared by the LDAP
    attacks; run's shared daemons are stopped and checked at the end)."""
    kind = "ldap-sync-attack"
    if kind not in _SHARED and kind not in _SHARED_FAILED:
        d = Daemon("shared-" + kind)
        d.env = L.ldap_env(L.directory(), APIKEYD_LDAP_SYNC_SECONDS="1")
        try:
            d.start()
        except AssertionError as e:
            _SHARED_FAILED[kind] = str(e)
            raise
        _SHARED[kind] = d
    return shared(kind)


def test_attack_ldap_sync_takes_away_the_roles_the_directory_took_away():
    """A person the directory takes out of the admins group (they changed team, or were let
    go but kept their directory account) kept admin here until they chose to sign in again:
    their open session and their keys went on acting as admin. The sync now brings the roles
    the directory gives them, at once on every request."""
    dirx = L.directory()
    name = uniq_user("lr")
    lines = person_ldif(name).splitlines()
    dirx.modify("\n".join(lines[:1] + ["changetype: add"] + lines[1:]) + "\n")
    dirx.modify(f"dn: cn=admins,{GROUPS}\nchangetype: modify\nadd: member\n"
                f"member: {dn_of(name)}\n")
    d = ldap_sync_daemon()
    try:
        c = L.signed_in(d, name)
        eq(expect(c.request("GET", "/v1/me"), 200).body["roles"], ["admin"], "roles at sign-in")
        expect(c.request("GET", "/v1/users"), 200, what="an admin lists users")
        dirx.modify(f"dn: cn=admins,{GROUPS}\nchangetype: modify\ndelete: member\n"
                    f"member: {dn_of(name)}\n")
        check(wait_until(lambda: L.user(d, name).body["roles"] == ["user"], 6),
              f"the sync should leave {name} with the roles the directory gives (user), "
              f"not {L.user(d, name).body['roles']}")
        expect(c.request("GET", "/v1/users"), 403, "forbidden",
               what="the open session lost admin with the group")
        ev = L.audit(d, target=name, action="user.update")
        check(any(e["actor"] == "(ldap-sync)" and "roles" in e["detail"] for e in ev),
              f"the change audited as the sync: {[(e['actor'], e['detail']) for e in ev]}")
        eq(L.user(d, name).body["disabled"], False, "still enabled: only the roles changed")
    finally:
        dirx.delete(dn_of(name))


def test_attack_ldap_a_new_entry_given_a_departed_persons_name_does_not_get_their_account():
    """The directory deletes a person and later gives their username to someone else (or an
    insider with the right to add entries makes one with an admin's uid). The account here,
    its keys and its projects were bound to nothing but the name: the newcomer signed in to
    them. Now the account is bound to the entry it first signed in with (entryUUID /
    objectGUID): the new entry's sign-in is refused like a wrong password, and the sync
    disables the account (its keys answer DISABLED). The new entry is added before the old
    one is deleted, so no sync round ever sees the name gone."""
    dirx = L.directory()
    name = uniq_user("le")
    lines = person_ldif(name).splitlines()
    dirx.modify("\n".join(lines[:1] + ["changetype: add"] + lines[1:]) + "\n")
    d = ldap_sync_daemon()
    try:
        k = create_key(L.signed_in(d, name), scopes=["Tasks"])
        newcomer_pw = "newcomer-" + uniq_user("pw")
        dirx.modify(f"dn: cn=newcomer-{name},{PEOPLE}\nchangetype: add\n"
                    f"objectClass: inetOrgPerson\ncn: newcomer-{name}\nsn: newcomer\n"
                    f"uid: {name}\nuserPassword: {newcomer_pw}\n")
        dirx.delete(dn_of(name))
        L.same_refusal(L.login(d, name, "wrong-" + newcomer_pw), L.login(d, name, newcomer_pw),
                       "the newcomer with the departed person's name")
        check(wait_until(lambda: L.verify(d, k["key"]).get("code") == "DISABLED", 6),
              "the departed person's key should answer DISABLED once the sync sees the new entry")
        eq(L.user(d, name).body["disabled"], True, "the account is disabled")
        ev = L.audit(d, target=name, action="user.disable")
        check(ev and ev[0]["actor"] == "(ldap-sync)", f"disabled by the sync: {ev}")
    finally:
        dirx.delete(f"cn=newcomer-{name},{PEOPLE}")
