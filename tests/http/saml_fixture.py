"""A SAML 2.0 identity provider the tests control (issue 16): its key and certificate (openssl),
its metadata, and Responses built here and signed with the xmlsec1 command-line tool (Debian
xmlsec1), so a test can hand apikeyd unsigned, wrongly signed, wrapped, expired, mis-addressed
or replayed ones. Signing is done by xmlsec1, never by hand. The end-to-end flow against a real
IdP (SimpleSAMLphp) is tests/saml/ and tests/browser/saml.test.mjs."""
import base64
import datetime
import os
import shutil
import subprocess
import tempfile
import urllib.parse
import uuid
import zlib

DSIG = "http://www.w3.org/2000/09/xmldsig#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"


def make_cert(directory, name):
    """A fresh RSA-2048 key and self-signed certificate: (key_path, cert_path)."""
    key, cert = os.path.join(directory, name + ".key"), os.path.join(directory, name + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", f"/CN={name}"], check=True,
                   capture_output=True, timeout=60)
    return key, cert


def cert_body(cert_path):
    with open(cert_path) as f:
        lines = f.read().strip().splitlines()
    return "".join(l for l in lines if not l.startswith("-----"))


def iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def new_id():
    return "_" + uuid.uuid4().hex


def signature_template(ref_id):
    return (f'<ds:Signature xmlns:ds="{DSIG}"><ds:SignedInfo>'
            '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
            '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
            f'<ds:Reference URI="#{ref_id}"><ds:Transforms>'
            '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
            '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
            '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
            '<ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo>'
            '<ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data/></ds:KeyInfo>'
            '</ds:Signature>')


def xmlsec_sign(xml, key, cert, workdir):
    """Signs the first ds:Signature template of xml with xmlsec1; returns the signed text."""
    src = os.path.join(workdir, "in.xml")
    out = os.path.join(workdir, "out.xml")
    with open(src, "w") as f:
        f.write(xml)
    subprocess.run(["xmlsec1", "--sign", "--privkey-pem", f"{key},{cert}",
                    "--id-attr:ID", f"{SAML}:Assertion", "--id-attr:ID", f"{SAMLP}:Response",
                    "--output", out, src], check=True, capture_output=True, timeout=30)
    with open(out) as f:
        return f.read()


class IdP:
    """The test identity provider: entity id, keys, metadata file, Response maker."""

    def __init__(self, sso_url="http://127.0.0.1:9/sso"):
        self.dir = tempfile.mkdtemp(prefix="apikeyd-saml-idp-")
        self.entity_id = "http://idp.example.test/saml/metadata"
        self.sso_url = sso_url
        self.key, self.cert = make_cert(self.dir, "idp")
        self.other_key, self.other_cert = make_cert(self.dir, "other")   # not in the metadata
        self.metadata_path = os.path.join(self.dir, "idp-metadata.xml")
        with open(self.metadata_path, "w") as f:
            f.write(self.metadata())

    def stop(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def metadata(self):
        return (f'<?xml version="1.0"?>\n'
                f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
                f'xmlns:ds="{DSIG}" entityID="{self.entity_id}">'
                '<md:IDPSSODescriptor WantAuthnRequestsSigned="true" '
                f'protocolSupportEnumeration="{SAMLP}">'
                '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
                f'{cert_body(self.cert)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>'
                '</md:KeyDescriptor>'
                '<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified'
                '</md:NameIDFormat>'
                '<md:SingleSignOnService '
                'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
                f'Location="{self.sso_url}"/></md:IDPSSODescriptor></md:EntityDescriptor>\n')

    def assertion(self, name_id, sp_entity_id, acs_url, in_response_to, now, attrs=None,
                  audience=None, not_before=None, not_on_or_after=None, recipient=None,
                  assertion_id=None, issuer=None, signed_template=False):
        aid = assertion_id or new_id()
        irt = f' InResponseTo="{in_response_to}"' if in_response_to else ""
        nb = not_before if not_before is not None else now - 60
        noa = not_on_or_after if not_on_or_after is not None else now + 300
        attr_xml = ""
        for name, values in (attrs or {}).items():
            if isinstance(values, str):
                values = [values]
            attr_xml += (f'<saml:Attribute Name="{name}" '
                         'NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">' +
                         "".join(f'<saml:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" '
                                 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                                 f'xsi:type="xs:string">{v}</saml:AttributeValue>'
                                 for v in values) + '</saml:Attribute>')
        statement = f"<saml:AttributeStatement>{attr_xml}</saml:AttributeStatement>" if attr_xml else ""
        return aid, (
            f'<saml:Assertion xmlns:saml="{SAML}" ID="{aid}" Version="2.0" '
            f'IssueInstant="{iso(now)}"><saml:Issuer>{issuer or self.entity_id}</saml:Issuer>' +
            (signature_template(aid) if signed_template else "") +
            '<saml:Subject><saml:NameID '
            'Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">'
            f'{name_id}</saml:NameID><saml:SubjectConfirmation '
            'Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData'
            f'{irt} NotOnOrAfter="{iso(noa)}" Recipient="{recipient or acs_url}"/>'
            '</saml:SubjectConfirmation></saml:Subject>'
            f'<saml:Conditions NotBefore="{iso(nb)}" NotOnOrAfter="{iso(noa)}">'
            f'<saml:AudienceRestriction><saml:Audience>{audience or sp_entity_id}'
            '</saml:Audience></saml:AudienceRestriction></saml:Conditions>'
            f'<saml:AuthnStatement AuthnInstant="{iso(now)}" SessionIndex="{new_id()}">'
            '<saml:AuthnContext><saml:AuthnContextClassRef>'
            'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'
            '</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>'
            f'{statement}</saml:Assertion>')

    def response(self, name_id, sp_entity_id, acs_url, in_response_to, now=None, sign="assertion",
                 key=None, wrap=False, destination=None, status="urn:oasis:names:tc:SAML:2.0:status:Success",
                 **assertion_kw):
        """A Response as base64 (the HTTP-POST binding's SAMLResponse). sign: "assertion",
        "response", "both" or None; key: (key, cert) to sign with (default the IdP's); wrap:
        the signed assertion moved beside an unsigned, altered copy (signature wrapping)."""
        import time as _t
        now = int(now if now is not None else _t.time())
        key, cert = key or (self.key, self.cert)
        work = tempfile.mkdtemp(dir=self.dir)
        aid, assertion = self.assertion(name_id, sp_entity_id, acs_url, in_response_to, now,
                                        signed_template=sign in ("assertion", "both"),
                                        **assertion_kw)
        if sign in ("assertion", "both"):
            assertion = xmlsec_sign(assertion, key, cert, work)
            assertion = assertion.split("?>", 1)[1].strip() if assertion.startswith("<?xml") else assertion
        if wrap:
            # an unsigned assertion for another user first, the signed one after it
            _, evil = self.assertion(wrap, sp_entity_id, acs_url, in_response_to, now,
                                     **assertion_kw)
            assertion = evil + assertion
        rid = new_id()
        irt = f' InResponseTo="{in_response_to}"' if in_response_to else ""
        xml = (f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{rid}" '
               f'Version="2.0" IssueInstant="{iso(now)}" Destination="{destination or acs_url}"{irt}>'
               f'<saml:Issuer>{self.entity_id}</saml:Issuer>' +
               (signature_template(rid) if sign in ("response", "both") else "") +
               f'<samlp:Status><samlp:StatusCode Value="{status}"/></samlp:Status>'
               f'{assertion}</samlp:Response>')
        if sign in ("response", "both"):
            xml = xmlsec_sign(xml, key, cert, work)
        shutil.rmtree(work, ignore_errors=True)
        return base64.b64encode(xml.encode()).decode()


def authn_request_of(location):
    """The AuthnRequest XML and the query parameters of an HTTP-Redirect binding URL."""
    u = urllib.parse.urlsplit(location)
    q = dict(urllib.parse.parse_qsl(u.query))
    xml = zlib.decompress(base64.b64decode(q["SAMLRequest"]), -15).decode()
    return xml, q, u
