"""Issue 14, item 3: no 5xx from input. Replays the HTTP fuzz corpus (the committed seeds in
tests/fuzz/corpus/http and whatever `make fuzz`/`make test` found into build/fuzz/corpus/http)
over real connections against a real daemon, split as the harness splits them (the first
byte), and asserts that no answer is a 5xx other than 505 and that the daemon is alive after."""
import glob
import os
import socket

from run import REPO, check, dedicated, expect, Client

MAX_FILES = 3000


def _replay(port, data):
    split = data[0] * 16 + 1 if data else 1
    body = data[1:]
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        for off in range(0, len(body), split):
            try:
                s.sendall(body[off:off + split])
            except (BrokenPipeError, ConnectionResetError):
                break
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        got = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
        return got
    finally:
        s.close()


def _status_lines(answer):
    return [line for line in answer.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]


def test_fuzz_corpus_replayed_over_http_gets_no_5xx():
    files = sorted(glob.glob(os.path.join(REPO, "tests/fuzz/corpus/http/*")))
    check(files, "the committed HTTP seed corpus is there")
    files += sorted(glob.glob(os.path.join(REPO, "build/fuzz/corpus/http/*")))[:MAX_FILES]
    d = dedicated("fuzz-replay", env={"APIKEYD_VERIFY_MAX_FAILURES": "1000000",
                                      "APIKEYD_LOGIN_MAX_FAILURES": "1000"})
    try:
        bad = []
        for path in files:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                continue  # a fuzzer running meanwhile replaced it with a smaller input
            for line in _status_lines(_replay(d.port, data)):
                code = line[9:12]
                if code.startswith(b"5") and code != b"505":
                    bad.append(f"{os.path.basename(path)}: {line[:40]!r}")
        check(not bad, f"{len(bad)} of {len(files)} inputs got a 5xx: {bad[:5]}")
        expect(Client(d).request("GET", "/healthz"), 200, what="alive after the corpus")
        d.stop()
    finally:
        d.kill()
