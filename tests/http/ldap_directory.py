"""A throwaway OpenLDAP directory for the LDAP tests (suite_ldap.py): Debian's slapd started
by the test as a child process on loopback, with a slapd.conf-style config, an mdb database
in a temp dir loaded with slapadd, and a self-signed certificate (openssl) for StartTLS and
ldaps. It dies with the test runner (PR_SET_PDEATHSIG) and is stopped at exit.

The directory (dc=example,dc=org) holds ou=people (inetOrgPerson, uid=NAME, password
NAME-directory-pw), ou=ad (Active Directory-like accounts: sAMAccountName and
userAccountControl from a small schema of AD's attribute types), ou=groups (groupOfNames
admins and devs) and the search account cn=apikeyd,ou=services. As many Active Directory
servers do, it accepts unauthenticated binds (a DN with an empty password: `allow
bind_anon_dn`), so a client that sends an empty password "signs in".
"""
import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BASE = "dc=example,dc=org"
PEOPLE = f"ou=people,{BASE}"
AD = f"ou=ad,{BASE}"
GROUPS = f"ou=groups,{BASE}"
SEARCH_DN = f"cn=apikeyd,ou=services,{BASE}"
SEARCH_PW = "search-account-pw"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PW = "root-pw"
SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"

AD_SCHEMA = """\
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch
  SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl' EQUALITY integerMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.32473.1.1 NAME 'adAccount' SUP top AUXILIARY
  MAY ( sAMAccountName $ userAccountControl ) )
"""


def password_of(name):
    return f"{name}-directory-pw"


def dn_of(name):
    return f"uid={name},{PEOPLE}"


def ad_dn_of(name):
    return f"cn={name},{AD}"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def person_ldif(name, full_name=None, mail=True):
    lines = [f"dn: {dn_of(name)}", "objectClass: inetOrgPerson", f"uid: {name}",
             f"cn: {full_name or name.capitalize() + ' Example'}", f"sn: {name}",
             f"userPassword: {password_of(name)}"]
    if mail:
        lines.append(f"mail: {name}@example.org")
    return "\n".join(lines) + "\n\n"


def ad_ldif(name, uac=512):
    return "\n".join([f"dn: {ad_dn_of(name)}", "objectClass: inetOrgPerson",
                      "objectClass: adAccount", f"cn: {name}", f"sn: {name}",
                      f"sAMAccountName: {name}", f"userAccountControl: {uac}",
                      f"displayName: {name.upper()}", f"mail: {name}@ad.example.org",
                      f"userPassword: {password_of(name)}"]) + "\n\n"


def group_ldif(cn, members):
    return "\n".join([f"dn: cn={cn},{GROUPS}", "objectClass: groupOfNames", f"cn: {cn}"] +
                     [f"member: {m}" for m in members]) + "\n\n"


class Directory:
    """One slapd: start() loads the LDIF and serves ldap:// (StartTLS) and ldaps://."""

    def __init__(self, people, ad_people=(), groups=None, tls=True):
        self.tmp = tempfile.mkdtemp(prefix="apikeyd-test-slapd-")
        self.people, self.ad_people = list(people), list(ad_people)
        self.groups = groups or {}
        self.tls = tls
        self.proc = None
        self.port = self.ldaps_port = None
        self.cert = os.path.join(self.tmp, "cert.pem")
        self.search_pw_file = os.path.join(self.tmp, "search.pw")
        self._prepare()
        atexit.register(self.close)

    def _prepare(self):
        t = self.tmp
        os.makedirs(os.path.join(t, "db"))
        with open(os.path.join(t, "ad.schema"), "w") as f:
            f.write(AD_SCHEMA)
        with open(self.search_pw_file, "w") as f:
            f.write(SEARCH_PW + "\n")
        os.chmod(self.search_pw_file, 0o600)
        if self.tls:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                            "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                            "-keyout", os.path.join(t, "key.pem"), "-out", self.cert],
                           check=True, capture_output=True, timeout=30)
        tls = (f"TLSCertificateFile {self.cert}\n"
               f"TLSCertificateKeyFile {os.path.join(t, 'key.pem')}\n") if self.tls else ""
        conf = f"""\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include {t}/ad.schema
pidfile {t}/slapd.pid
argsfile {t}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
{tls}allow bind_anon_dn
database mdb
suffix "{BASE}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PW}
directory {t}/db
maxsize 10485760
access to attrs=userPassword by anonymous auth by * none
access to * by dn.exact="{SEARCH_DN}" read by anonymous auth by * none
"""
        self.conf = os.path.join(t, "slapd.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        ldif = (f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Example\n"
                f"dc: example\n\n")
        for ou in ("people", "ad", "groups", "services"):
            ldif += f"dn: ou={ou},{BASE}\nobjectClass: organizationalUnit\nou: {ou}\n\n"
        ldif += (f"dn: {SEARCH_DN}\nobjectClass: organizationalRole\n"
                 f"objectClass: simpleSecurityObject\ncn: apikeyd\nuserPassword: {SEARCH_PW}\n\n")
        ldif += "".join(person_ldif(p) for p in self.people)
        ldif += "".join(ad_ldif(p) for p in self.ad_people)
        ldif += "".join(group_ldif(cn, members) for cn, members in self.groups.items())
        path = os.path.join(t, "data.ldif")
        with open(path, "w") as f:
            f.write(ldif)
        p = subprocess.run([SLAPADD, "-f", self.conf, "-l", path], capture_output=True,
                           text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError(f"slapadd failed: {p.stderr[-600:]}")

    def start(self):
        """Starts slapd (again, on the same ports after a stop) and waits until it answers."""
        if self.port is None:
            self.port, self.ldaps_port = _free_port(), _free_port()
        urls = f"ldap://127.0.0.1:{self.port}/"
        if self.tls:
            urls += f" ldaps://127.0.0.1:{self.ldaps_port}/"
        self.log = open(os.path.join(self.tmp, "slapd.log"), "ab")
        self.proc = subprocess.Popen([SLAPD, "-f", self.conf, "-h", urls, "-d", "0"],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"slapd exited with {self.proc.returncode}; "
                                     f"log: {self._log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError("slapd did not listen within 10 s")

    def _log_tail(self):
        try:
            with open(os.path.join(self.tmp, "slapd.log"), "rb") as f:
                return f.read()[-600:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def close(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def url(self, ldaps=False):
        return (f"ldaps://127.0.0.1:{self.ldaps_port}" if ldaps
                else f"ldap://127.0.0.1:{self.port}")

    def _tool(self, tool, args, stdin=None):
        env = dict(os.environ, LDAPTLS_CACERT=self.cert, LDAPTLS_REQCERT="demand")
        p = subprocess.run([tool, "-H", self.url(), "-ZZ", "-x", "-D", ROOT_DN, "-w", ROOT_PW]
                           + args, input=stdin, env=env, capture_output=True, text=True,
                           timeout=30)
        if p.returncode != 0:
            raise AssertionError(f"{tool} {args}: {p.stderr[-400:]}")
        return p.stdout

    def modify(self, ldif):
        """Applies an LDIF change (ldapmodify as the directory's root)."""
        self._tool("ldapmodify", [], stdin=ldif)

    def delete(self, dn):
        self._tool("ldapdelete", [dn])

    def accepts_bind(self, dn, password):
        """Whether the directory itself answers a simple bind of dn/password with success."""
        env = dict(os.environ, LDAPTLS_CACERT=self.cert, LDAPTLS_REQCERT="demand")
        p = subprocess.run(["ldapwhoami", "-H", self.url(), "-ZZ", "-x", "-D", dn, "-w",
                            password], env=env, capture_output=True, text=True, timeout=30)
        return p.returncode == 0
