#!/usr/bin/python3
"""A real SMTP server for the notice tests: Debian's python3-aiosmtpd on 127.0.0.1, capturing
every message it accepts into a directory (one JSON file each: envelope sender, recipients,
the raw message in base64).

    smtp_capture.py --port P --dir D [--mode starttls|smtps|plain] [--cert C --key K]
                    [--user U --password-file F] [--reject-file R]

starttls: STARTTLS offered and required before MAIL (and AUTH); smtps: TLS from the first
byte; plain: no TLS at all (apikeyd must refuse to send through it). With --user, AUTH
PLAIN/LOGIN is required. While the file R exists, RCPT TO an address listed in it (one a
line) gets 451 (try again later). Prints "ready" once listening; stops at SIGTERM.

Run with Debian's /usr/bin/python3 (where python3-aiosmtpd is installed), whatever
interpreter runs the tests.
"""
import argparse
import base64
import json
import os
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Capture:
    def __init__(self, directory, reject_file=None):
        self.dir = directory
        self.reject_file = reject_file
        self.seq = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_file and os.path.exists(self.reject_file):
            with open(self.reject_file) as f:
                if address in f.read().split():
                    return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.seq += 1
            name = os.path.join(self.dir, f"{os.getpid()}-{self.seq:04d}.json")
        tls = (session.ssl is not None or
               server.transport.get_extra_info("ssl_object") is not None)
        record = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                  "tls": tls,
                  "data": base64.b64encode(envelope.original_content).decode()}
        with open(name + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(name + ".tmp", name)
        return "250 OK"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--mode", default="starttls", choices=["starttls", "smtps", "plain"])
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--user")
    ap.add_argument("--password-file")
    ap.add_argument("--reject-file")
    a = ap.parse_args()

    kwargs = {}
    ssl_context = None
    if a.mode != "plain":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
        if a.mode == "starttls":
            kwargs.update(tls_context=ctx, require_starttls=True)
        else:
            ssl_context = ctx
    if a.user:
        with open(a.password_file) as f:
            password = f.read().strip()

        def authenticator(server, session, envelope, mechanism, data):
            ok = (data.login.decode() == a.user and data.password.decode() == password)
            return AuthResult(success=ok)
        # smtps is TLS from the first byte, which aiosmtpd's own check (made for STARTTLS)
        # does not see; plain offers AUTH so that only the missing STARTTLS stops apikeyd
        kwargs.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=a.mode == "starttls")
    controller = Controller(Capture(a.dir, a.reject_file), hostname="127.0.0.1", port=a.port,
                            ssl_context=ssl_context, server_hostname="localhost",
                            ready_timeout=10, **kwargs)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
