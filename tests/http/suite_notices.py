"""Expiry notices by email (issue 17, item 2) against a real SMTP server.

The server is Debian's python3-aiosmtpd (tests/http/smtp_capture.py) on 127.0.0.1 with a
self-signed certificate made here by `openssl req`; STARTTLS is required (or TLS from the
first byte for smtps://) and so is SMTP AUTH with a password that apikeyd reads from
smtp_password_file. Each accepted message is captured to a file and parsed here with the
standard library's email parser.

Notice "days" last expiry_notice_unit_seconds = 1 s here, so a key made to expire in a few
seconds passes every threshold quickly; the notice thread scans every 100 ms. Thresholds are
at least 2 s apart, so a slow round (TLS handshakes on a busy machine) cannot skip one.
"""
import atexit
import base64
import email
import email.policy
import glob
import json
import os
import subprocess
import tempfile
import time

from run import (Client, Daemon, _TMPDIRS, check, eq, expect, free_port, iso, uniq,
                 uniq_user, wait_until)

SYS_PYTHON = "/usr/bin/python3"      # where Debian's python3-aiosmtpd is installed
HERE = os.path.dirname(os.path.abspath(__file__))
_CERT = {}


def _cert():
    """A self-signed certificate for 127.0.0.1 / localhost (made once)."""
    if not _CERT:
        d = tempfile.mkdtemp(prefix="apikeyd-test-smtp-cert-")
        _TMPDIRS.append(d)
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        out = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", key, "-out", cert], capture_output=True, text=True, timeout=60)
        check(out.returncode == 0, f"openssl req failed: {out.stderr[-300:]}")
        _CERT.update(cert=cert, key=key)
    return _CERT["cert"], _CERT["key"]


class Smtp:
    """The capturing SMTP server, restartable on the same port."""

    def __init__(self, mode="starttls", port=None):
        self.dir = tempfile.mkdtemp(prefix="apikeyd-test-smtp-")
        _TMPDIRS.append(self.dir)
        self.mail_dir = os.path.join(self.dir, "mail")
        os.makedirs(self.mail_dir)
        self.port = port or free_port()
        self.mode = mode
        self.user = "notices"
        self.password = "smtp-pw-" + os.urandom(12).hex()
        self.password_file = os.path.join(self.dir, "smtp-password")
        self.reject_file = os.path.join(self.dir, "reject")    # while it exists: 451 to those
        with open(self.password_file, "w") as f:
            f.write(self.password + "\n")
        self.proc = None

    def start(self, mode=None):
        self.mode = mode or self.mode
        cert, key = _cert()
        self.proc = subprocess.Popen(
            [SYS_PYTHON, os.path.join(HERE, "smtp_capture.py"), "--port", str(self.port),
             "--dir", self.mail_dir, "--mode", self.mode, "--cert", cert, "--key", key,
             "--user", self.user, "--password-file", self.password_file,
             "--reject-file", self.reject_file],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.proc.kill()
            raise AssertionError(f"SMTP server did not start: {line!r} "
                                 f"{self.proc.stderr.read()[-500:]}")
        _SERVERS.append(self)
        return self

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None
        if self in _SERVERS:
            _SERVERS.remove(self)

    def env(self, **more):
        """apikeyd's settings for this server, notices in 1 s "days", scanning every 100 ms."""
        scheme = "smtps" if self.mode == "smtps" else "smtp"
        e = {"APIKEYD_SMTP_URL": f"{scheme}://127.0.0.1:{self.port}",
             "APIKEYD_SMTP_FROM": "apikeyd@example.test",
             "APIKEYD_SMTP_USERNAME": self.user,
             "APIKEYD_SMTP_PASSWORD_FILE": self.password_file,
             "APIKEYD_SMTP_CA_FILE": _cert()[0],
             "APIKEYD_SMTP_TIMEOUT_SECONDS": "5",
             "APIKEYD_EXPIRY_NOTICE_UNIT_SECONDS": "1",
             "APIKEYD_EXPIRY_NOTICE_SCAN_MS": "100",
             "APIKEYD_EXPIRY_NOTICE_RETRY_SECONDS": "1"}
        e.update({"APIKEYD_" + k.upper(): v for k, v in more.items()})
        return e

    def messages(self):
        """Every captured message: dicts with mail_from, rcpt_tos, tls, msg (parsed)."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.mail_dir, "*.json"))):
            with open(path) as f:
                rec = json.load(f)
            rec["raw"] = base64.b64decode(rec["data"])
            rec["msg"] = email.message_from_bytes(rec["raw"], policy=email.policy.default)
            out.append(rec)
        return out

    def subjects_to(self, address):
        return sorted(str(m["msg"]["subject"]) for m in self.messages()
                      if m["rcpt_tos"] == [address])


_SERVERS = []


def _stop_servers():
    for s in list(_SERVERS):
        s.stop()


# whichever test file started a server last (suite_leaked_keys and suite_attack_lifecycle
# share one through _mail_daemon), none outlives the run
atexit.register(_stop_servers)


def _person(d, email_addr=None, full_name=None, roles=None, login=True):
    """A local user with an email address; a Client (logged in when login) with .username."""
    name, pw = uniq_user("n"), "pw-" + os.urandom(8).hex()
    body = {"username": name, "password": pw}
    if email_addr:
        body["email"] = email_addr
    if full_name:
        body["full_name"] = full_name
    if roles:
        body["roles"] = roles
    expect(d.admin.request("POST", "/v1/users", json=body), 201, what=f"create user {name}")
    c = Client(d)
    if login:
        c.login(name, pw)
    c.username = name
    return c


def _key(c, seconds, name=None, path="/v1/keys"):
    body = {"name": name or uniq("expiring"), "scopes": ["Tasks"],
            "expires_at": iso(time.time() + seconds)}
    r = expect(c.request("POST", path, json=body), 201, what=f"create key {body['name']!r}")
    return r.body


def _audit(d, kid, action):
    r = expect(d.admin.request("GET", f"/v1/audit?target={kid}&action={action}&limit=200"),
               200, what="GET /v1/audit")
    return r.body["events"]


def _shared_plain():
    from run import shared
    return shared()


def _expect_thresholds(smtp, address, key_name, days):
    """address got exactly one mail per threshold in days (and the expired one)."""
    want = sorted([f'API key "{key_name}" expires in {n} day{"" if n == 1 else "s"}'
                   for n in days] + [f'API key "{key_name}" has expired'])
    eq(smtp.subjects_to(address), want, f"the notices mailed to {address}")


def _check_audit(d, kid, days):
    expiring = _audit(d, kid, "key.expiring")
    eq(sorted(e["detail"] for e in expiring),
       sorted(f"{n} day{'' if n == 1 else 's'}" for n in days), "key.expiring events' details")
    expired = _audit(d, kid, "key.expired")
    eq(len(expired), 1, "key.expired events")
    for e in expiring + expired:
        eq(e["actor"], "(system)", "a notice's audit actor")
        eq(e["target_type"], "key", "a notice's audit target type")


def _no_password_in_logs(smtp, *daemons):
    for d in daemons:
        check(smtp.password.encode() not in d.all_logs(),
              "the SMTP password appears in the daemon's log")


def test_notices_each_threshold_once_across_a_restart_with_a_proper_message():
    smtp = Smtp().start()
    d = Daemon("notices", env=smtp.env(expiry_notice_days="6,4,2")).start()
    try:
        owner = _person(d, email_addr="owner@example.test", full_name="Öwner Person")
        k = _key(owner, 8, name="deploy ünïcode key")
        # a legal name that looks like headers stays inside the encoded Subject
        odd = _key(owner, 8, name='Bcc: evil@example.test =?UTF-8?B?SGk=?= "quoted" ünï')
        # the 6-day notices, then a restart before the 4-day ones (each window lasts 2 s)
        wait_until(lambda: len(smtp.messages()) >= 2, 6)
        d.stop()
        d.start()
        wait_until(lambda: len(smtp.messages()) >= 8, 10)
        time.sleep(0.6)                         # the expired notices were the last: no more
        for key in (k, odd):
            got = sorted(str(m["msg"]["subject"]) for m in smtp.messages()
                         if key["id"] in m["msg"].get_content())
            eq(got, sorted([f'API key "{key["name"]}" expires in {n}'
                            for n in ("6 days", "4 days", "2 days")] +
                           [f'API key "{key["name"]}" has expired']), f"notices of {key['name']}")
            _check_audit(d, key["id"], [6, 4, 2])
        eq(len(smtp.messages()), 8, "messages captured")
        for m in smtp.messages():
            eq(m["mail_from"], "apikeyd@example.test", "envelope sender")
            eq(m["rcpt_tos"], ["owner@example.test"], "envelope recipients")
            check(m["tls"], "the message travelled over TLS (STARTTLS)")
            msg = m["msg"]
            eq(msg.get_all("Bcc"), None, "a Bcc header")
            for h in ("To", "From", "Subject", "Date", "Message-ID"):
                eq(len(msg.get_all(h) or []), 1, f"{h} headers")
            head = m["raw"].split(b"\r\n\r\n", 1)[0]
            check(b"evil" not in head, f"the raw header holds names only encoded: {head!r}")
        msg = smtp.messages()[0]["msg"]
        eq(msg["To"].addresses[0].addr_spec, "owner@example.test", "To")
        eq(msg["From"].addresses[0].addr_spec, "apikeyd@example.test", "From")
        check(msg["Date"].datetime is not None, "a Date header")
        check(abs(msg["Date"].datetime.timestamp() - time.time()) < 60, "Date is now")
        check(str(msg["Message-ID"]).startswith("<") and
              str(msg["Message-ID"]).endswith("@example.test>"), "a Message-ID")
        eq(msg["MIME-Version"], "1.0", "MIME-Version")
        eq(msg.get_content_type(), "text/plain", "content type")
        eq(msg.get_content_charset(), "utf-8", "charset")
        body = msg.get_content()
        check("Öwner Person" in body and ("deploy ünïcode key" in body or odd["name"] in body),
              f"the body names the person and the key: {body!r}")
        for m in smtp.messages():
            for key in (k, odd):
                check(key["key"] not in m["msg"].get_content(), "a body holds a secret")
        ids = [str(x["msg"]["Message-ID"]) for x in smtp.messages()]
        eq(len(set(ids)), len(ids), "Message-IDs are unique")
        _no_password_in_logs(smtp, d)
    finally:
        d.kill()
        _stop_servers()


def test_notices_names_with_cr_or_lf_are_refused_before_they_reach_a_mail():
    d = _shared_plain()
    owner = _person(d, email_addr="inject@example.test")
    for bad in ("x\r\nBcc: evil@example.test", "x\nSubject: hi", "x\rTo: evil@example.test"):
        r = owner.request("POST", "/v1/keys", json={"name": bad, "scopes": ["Tasks"]})
        eq(r.status, 422, f"key name {bad!r}")
        for field in ("email", "full_name"):
            r = d.admin.request("PATCH", f"/v1/users/{owner.username}", json={field: bad})
            eq(r.status, 422, f"{field} {bad!r}")
    eq(expect(owner.request("GET", "/v1/keys"), 200).body["keys"], [], "no key stored")
    u = expect(d.admin.request("GET", f"/v1/users/{owner.username}"), 200).body
    eq(u.get("email"), "inject@example.test", "the stored email")


def test_notices_of_an_api_account_key_go_to_its_issuer_and_the_project_owners():
    smtp = Smtp(mode="smtps").start()
    d = Daemon("notices-acct", env=smtp.env(expiry_notice_days="6,2")).start()
    try:
        issuer = _person(d, email_addr="issuer@example.test", roles=["user"])
        owner = _person(d, email_addr="owner2@example.test", login=False)
        reader = _person(d, email_addr="reader@example.test", login=False)
        r = expect(d.admin.request("POST", "/v1/projects", json={"name": uniq("proj")}), 201)
        pid = r.body["id"]
        sub = expect(d.admin.request("POST", "/v1/projects",
                                     json={"name": uniq("sub"), "parent": pid}), 201).body["id"]
        for who, role, project in ((owner, "owner", pid), (issuer, "owner", sub),
                                   (reader, "reader", sub)):
            r = d.admin.request("PUT", f"/v1/projects/{project}/members/user:{who.username}",
                                json={"role": role})
            check(r.status in (200, 201), f"PUT member: {r.status}")
        acct = expect(issuer.request("POST", "/v1/service-accounts",
                                     json={"name": uniq("acct"), "project": sub}), 201).body
        # the owner's mail server answers "try again later" to the first 6-day notice: the
        # issuer, mailed first, must not get it again when the notice is retried
        with open(smtp.reject_file, "w") as f:
            f.write("owner2@example.test\n")
        k = _key(issuer, 8, path=f"/v1/service-accounts/{acct['id']}/keys")
        wait_until(lambda: b"next try" in d.all_logs(), 5)
        os.unlink(smtp.reject_file)
        wait_until(lambda: len(smtp.messages()) >= 6, 12)
        time.sleep(0.5)
        name = f'{k["name"]}" of the API account "{acct["name"]}'
        for addr in ("issuer@example.test", "owner2@example.test"):
            _expect_thresholds(smtp, addr, name, [6, 2])
        eq(smtp.subjects_to("reader@example.test"), [], "a reader of the project is not mailed")
        eq(len(smtp.messages()), 6, "messages captured")
        check(all(m["tls"] for m in smtp.messages()), "smtps: TLS from the first byte")
        _check_audit(d, k["id"], [6, 2])
        _no_password_in_logs(smtp, d)
        check(b"admin gets no mail about key " + k["id"].encode() + b" (no email address)"
              in d.all_logs(), "the project's owner without email (admin) is logged, unmailed")
    finally:
        d.kill()
        _stop_servers()


def test_notices_retry_while_the_mail_server_is_down_or_without_tls_and_never_twice():
    smtp = Smtp()                               # not started: nothing listens on its port
    d = Daemon("notices-retry", env=smtp.env(expiry_notice_days="10")).start()
    try:
        owner = _person(d, email_addr="retry@example.test")
        k = _key(owner, 12)
        # the 10-day notice is claimed (audited) after 2 s but cannot be sent; retries follow
        # 1, 2 and 4 s later (doubling), all before the key expires
        wait_until(lambda: _audit(d, k["id"], "key.expiring"), 5)
        wait_until(lambda: b"next try" in d.all_logs(), 3)
        # a server that offers no STARTTLS: apikeyd must not send in the clear
        smtp.start(mode="plain")
        fails = d.all_logs().count(b"next try")
        wait_until(lambda: d.all_logs().count(b"next try") > fails, 4)
        eq(smtp.messages(), [], "messages accepted by a server without TLS")
        smtp.stop()
        smtp.start(mode="starttls")
        wait_until(lambda: smtp.messages(), 10)
        time.sleep(1.5)                         # a retry after the success would come by now
        eq(smtp.subjects_to("retry@example.test"),
           [f'API key "{k["name"]}" expires in 10 days'], "the notices mailed")
        eq(sorted(e["detail"] for e in _audit(d, k["id"], "key.expiring")), ["10 days"],
           "key.expiring events")
        _no_password_in_logs(smtp, d)
    finally:
        d.kill()
        _stop_servers()


def test_notices_two_nodes_on_postgresql_send_each_notice_once():
    from suite_cluster import _fresh_database, _nodes
    smtp = Smtp().start()
    url = _fresh_database()
    nodes = _nodes(2, url, env=smtp.env(expiry_notice_days="4,2"))
    try:
        owner = _person(nodes[0], email_addr="cluster@example.test")
        keys = [_key(owner, 6) for _ in range(3)]
        wait_until(lambda: len(smtp.messages()) >= 9, 12)
        time.sleep(0.5)
        msgs = smtp.messages()
        eq(len(msgs), 9, "messages for 3 keys x (4 days, 2 days, expired)")
        for k in keys:
            got = sorted(str(m["msg"]["subject"]) for m in msgs if k["name"] in
                         str(m["msg"]["subject"]))
            eq(got, sorted([f'API key "{k["name"]}" expires in 4 days',
                            f'API key "{k["name"]}" expires in 2 days',
                            f'API key "{k["name"]}" has expired']), f"notices of {k['name']}")
            _check_audit(nodes[1], k["id"], [4, 2])
        _no_password_in_logs(smtp, *nodes)
    finally:
        for n in nodes:
            n.kill()
        _stop_servers()


def test_notice_and_smtp_settings_are_checked_at_start():
    from run import check_settings_refused_at_start
    check_settings_refused_at_start([
        ("APIKEYD_SMTP_URL", "http://127.0.0.1:25"),
        ("APIKEYD_SMTP_URL", "smtp://user:pw@127.0.0.1:25"),
        ("APIKEYD_SMTP_FROM", "a@b\r\nBcc: x@y"),
        ("APIKEYD_EXPIRY_NOTICE_DAYS", "1,7"),
        ("APIKEYD_EXPIRY_NOTICE_DAYS", "30,x"),
        ("APIKEYD_EXPIRY_NOTICE_UNIT_SECONDS", "0"),
    ])


def test_notice_smtp_password_file_that_cannot_be_read_stops_the_start():
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("APIKEYD_")}
        env.update({"APIKEYD_SMTP_URL": "smtp://127.0.0.1:25",
                    "APIKEYD_SMTP_FROM": "apikeyd@example.test",
                    "APIKEYD_SMTP_USERNAME": "u",
                    "APIKEYD_SMTP_PASSWORD_FILE": os.path.join(tmp, "missing")})
        from run import BIN
        p = subprocess.run([BIN, "--listen", f"127.0.0.1:{free_port()}", "--data",
                            os.path.join(tmp, "data")], env=env, capture_output=True, text=True,
                           timeout=30)
        check(p.returncode != 0, "apikeyd started without its SMTP password")
        check("smtp_password_file" in p.stderr, f"stderr names the setting: {p.stderr[-300:]!r}")
        del env["APIKEYD_SMTP_USERNAME"]
        p = subprocess.run([BIN, "--listen", f"127.0.0.1:{free_port()}", "--data",
                            os.path.join(tmp, "data2")], env=env, capture_output=True, text=True,
                           timeout=30)
        check(p.returncode != 0 and "smtp_password_file" in p.stderr,
              f"a password file without a username is refused: {p.stderr[-300:]!r}")


def test_notices_skip_a_rotated_out_key_whose_successor_lives_on():
    smtp = Smtp().start()
    d = Daemon("notices-rotated", env=smtp.env(expiry_notice_days="2")).start()
    try:
        owner = _person(d, email_addr="rotator@example.test")
        k = _key(owner, 60, name="rotated key")
        r = expect(owner.request("POST", f"/v1/keys/{k['id']}/rotate",
                                 json={"overlap_seconds": 3}), 201, what="rotate")
        d.secrets.append(r.body["key"])
        time.sleep(5)  # the old key's 2-"day" window and its expiry have both passed
        eq([m for m in smtp.messages() if k["id"] in m["msg"].get_content()], [],
           "mails about the rotated-out key")
        eq(_audit(d, k["id"], "key.expiring") + _audit(d, k["id"], "key.expired"), [],
           "notice events of the rotated-out key")
    finally:
        d.kill()
        _stop_servers()
