#!/usr/bin/env python3
"""bench/run.py — apikeyd against nginx answering a fixed 200, in one run on one machine.

Starts apikeyd with N keys (put in the store in one transaction by bench/seed, not by N HTTP
calls) and nginx serving apikeyd's own answers for the bench key as fixed answers (the verify
body; the auth 204 with its headers), then drives both with wrk (same threads, connections,
duration, keep-alive), alternating them ROUNDS times (each apikeyd run paired with an nginx
run next to it; the ratio is the median over the rounds of each pair's ratio, since this
machine's speed drifts between runs). Reports, as ratios to nginx serving the
same answer: requests/second and p50/p99 latency of POST /v1/verify and GET /v1/auth; apikeyd's
RSS per key; start-up time with N keys; durable key creations per second with 16 clients.
Then verify over TLS: apikeyd restarted on the same data with tls_cert_file/tls_key_file, and
nginx serving the same answer over TLS with the same certificate (a P-256 one made here with
`openssl req`), the same protocols (TLS 1.2 and 1.3) and ciphers, wrk over https with the same
keep-alive load, alternating in the same way.
Only 127.0.0.1 is used; every process is stopped at the end.

usage: bench/run.py [--keys N] [--duration S] [--rounds R] [--threads T] [--connections C]
                    [--json FILE]
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.environ.get("APIKEYD_BIN", os.path.join(REPO, "build", "apikeyd"))
SEED = os.path.join(REPO, "build", "bench-seed")
ADMIN = "admin:bench-password-1234"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port, timeout=120, tls=False):
    deadline = time.monotonic() + timeout
    ctx = ssl._create_unverified_context() if tls else None  # the bench's own certificate
    scheme = "https" if tls else "http"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{scheme}://127.0.0.1:{port}/healthz", timeout=1,
                                        context=ctx) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.01)
    return False


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Apikeyd:
    def __init__(self, data, env=None, tls=None):
        self.data, self.port, self.proc = data, free_port(), None
        self.tls = tls  # (certificate, key): serve TLS
        if tls:
            env = dict(env or {}, APIKEYD_TLS_CERT_FILE=tls[0], APIKEYD_TLS_KEY_FILE=tls[1])
        self.env = dict(os.environ, APIKEYD_BOOTSTRAP_ADMIN=ADMIN,
                        APIKEYD_VERIFY_MAX_FAILURES="1000000", **(env or {}))

    def start(self):
        t0 = time.monotonic()
        self.proc = subprocess.Popen([BIN, "--listen", f"127.0.0.1:{self.port}", "--data",
                                      self.data], env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(os.path.dirname(self.data),
                                                              "apikeyd.log"), "ab"))
        if not wait_healthy(self.port, tls=bool(self.tls)):
            self.stop()
            sys.exit("bench: apikeyd did not start")
        return time.monotonic() - t0

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None


def nginx_text(value):
    """value as an nginx single-quoted string (nginx would expand a `$`: refuse it)."""
    if "$" in value:
        sys.exit("bench: an answer holds '$', which nginx cannot serve verbatim")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def apikeyd_answers(port, key):
    """apikeyd's own answers for the bench key: the verify body and the auth headers, which
    nginx then serves as its fixed answers (the same bytes and headers on the wire)."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/verify", method="POST",
                                 data=json.dumps({"key": key, "scope": "Tasks"}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        verify_body = r.read().decode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/auth", headers={
        "Authorization": f"Bearer {key}", "X-Required-Scope": "Tasks"})
    with urllib.request.urlopen(req, timeout=30) as r:
        auth_headers = [(k, v) for k, v in r.headers.items() if k.lower().startswith("x-apikey-")]
    return verify_body, auth_headers


# the protocols and ciphers apikeyd's TLS allows (src/api/tls.c), for nginx's TLS server
TLS_CIPHERS_12 = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")


def make_cert(tmp):
    """A self-signed P-256 certificate for 127.0.0.1 and its key (mode 600), for both servers."""
    cert, key = os.path.join(tmp, "bench.crt"), os.path.join(tmp, "bench.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days",
                    "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


def start_nginx(tmp, port, workers, verify_body, auth_headers, tls_port, cert, key):
    """nginx answering /v1/verify with apikeyd's verify body, /v1/auth with a 204 carrying
    apikeyd's X-Apikey-* headers (both with apikeyd's Cache-Control and nosniff), and anything
    else with the minimal fixed answer earlier benchmarks used; on tls_port the same verify
    answer over TLS (cert, key), with the HSTS header apikeyd adds over TLS."""
    common = ("add_header Cache-Control no-store always; "
              "add_header X-Content-Type-Options nosniff always;")
    auth = " ".join(f"add_header {k} {nginx_text(v)} always;" for k, v in auth_headers)
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes {workers};
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    server {{
        listen 127.0.0.1:{port};
        location = /v1/verify {{
            default_type application/json; {common}
            return 200 {nginx_text(verify_body)};
        }}
        location = /v1/auth {{
            {common} {auth}
            return 204;
        }}
        location / {{
            default_type application/json;
            return 200 '{{"valid":true,"code":"VALID"}}';
        }}
    }}
    server {{
        listen 127.0.0.1:{tls_port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers {TLS_CIPHERS_12};
        location = /v1/verify {{
            default_type application/json; {common}
            add_header Strict-Transport-Security max-age=31536000 always;
            return 200 {nginx_text(verify_body)};
        }}
    }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", tmp], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("bench: nginx did not start")


def wrk(url, script, key, args):
    out = subprocess.run(["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d",
                          f"{args.duration}s", "--latency", "-s", script, url],
                         env=dict(os.environ, KEY=key), capture_output=True, text=True,
                         timeout=args.duration + 60)
    text = out.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))

    def pct(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", text, re.M)
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    return {"rps": rps, "p50_ms": pct(50), "p99_ms": pct(99),
            "errors": int(non2xx.group(1)) if non2xx else 0}


def call(port, method, path, body=None, cookie=None, csrf=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if cookie:
        req.add_header("Cookie", cookie)
    if csrf:
        req.add_header("X-CSRF-Token", csrf)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.headers.get("Set-Cookie"), json.loads(r.read() or b"{}")


def login(port, user, password):
    cookie, body = call(port, "POST", "/v1/login", {"username": user, "password": password})
    return cookie.split(";")[0], body["csrf_token"]


def create_user_key(port):
    """A new user with an API key holding APIKey (the bearer of the create benchmark)."""
    cookie, csrf = login(port, *ADMIN.split(":", 1))
    call(port, "POST", "/v1/users", {"username": "bench", "password": "bench-password-5678"},
         cookie, csrf)
    cookie, csrf = login(port, "bench", "bench-password-5678")
    _, k = call(port, "POST", "/v1/keys", {"name": "creator", "scopes": ["APIKey", "Tasks"]},
                cookie, csrf)
    return k["key"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is not installed (make bench installs it)")

    tmp = tempfile.mkdtemp(prefix="apikeyd-bench-")
    os.chmod(tmp, 0o755)
    results = {"keys": args.keys, "cpus": os.cpu_count(), "wrk": vars(args).copy()}
    nginx = None
    d = None
    try:
        # empty store: baseline RSS
        empty = os.path.join(tmp, "empty")
        d0 = Apikeyd(empty)
        d0.start()
        time.sleep(0.5)
        rss0 = rss_kib(d0.proc.pid)
        d0.stop()

        data = os.path.join(tmp, "data")
        d = Apikeyd(data, env={"APIKEYD_MAX_KEYS_PER_OWNER": "100000000"})
        d.start()                                     # creates the schema and the admin
        d.stop()
        t = time.monotonic()
        key = subprocess.run([SEED, data, "admin", str(args.keys)], capture_output=True,
                             text=True, check=True).stdout.strip()
        results["seed_seconds"] = round(time.monotonic() - t, 1)
        results["startup_seconds"] = round(d.start(), 3)
        time.sleep(0.5)
        rssn = rss_kib(d.proc.pid)
        results["rss_base_kib"] = rss0
        results["rss_kib"] = rssn
        results["rss_bytes_per_key"] = round((rssn - rss0) * 1024 / max(args.keys, 1), 1)

        ngx_port, ngx_tls_port = free_port(), free_port()
        cert, tls_key = make_cert(tmp)
        verify_body, auth_headers = apikeyd_answers(d.port, key)
        nginx = start_nginx(tmp, ngx_port, os.cpu_count() or 2, verify_body, auth_headers,
                            ngx_tls_port, cert, tls_key)
        # each apikeyd run paired with nginx serving the same answer to the same requests,
        # right before it in even rounds and right after it in odd ones (so neither side always
        # runs first); nginx's minimal answer (earlier benchmarks' reference) once per round
        pairs = [(("nginx_verify", ngx_port, "/v1/verify", "verify.lua"),
                  ("verify", d.port, "/v1/verify", "verify.lua")),
                 (("nginx_auth", ngx_port, "/v1/auth", "auth.lua"),
                  ("auth", d.port, "/v1/auth", "auth.lua"))]
        runs = {name: [] for pair in pairs for name, _, _, _ in pair}
        runs["nginx_min"] = []
        for rnd in range(args.rounds):
            plan = [("nginx_min", ngx_port, "/", "verify.lua")]
            for pair in pairs:
                plan += pair if rnd % 2 == 0 else pair[::-1]
            for name, port, path, script in plan:
                runs[name].append(wrk(f"http://127.0.0.1:{port}{path}",
                                      os.path.join(HERE, script), key, args))

        def median_of(name, field):
            return statistics.median(r[field] for r in runs[name])
        for name in runs:
            results[name] = {"rps": median_of(name, "rps"), "p50_ms": median_of(name, "p50_ms"),
                             "p99_ms": median_of(name, "p99_ms"),
                             "best_rps": max(r["rps"] for r in runs[name]),
                             "errors": sum(r["errors"] for r in runs[name]), "runs": runs[name]}
        for name, ref in (("verify", "nginx_verify"), ("auth", "nginx_auth")):
            # the machine's speed drifts between runs (a noisy 2-core VM): each round's ratio
            # is taken against its own nginx run, and the median of those is the result
            rps_ratios = [a["rps"] / n["rps"] for a, n in zip(runs[name], runs[ref])]
            p99_ratios = [a["p99_ms"] / max(n["p99_ms"], 0.001)
                          for a, n in zip(runs[name], runs[ref])]
            results[name]["reference"] = ref
            results[name]["round_ratios"] = [round(x, 3) for x in rps_ratios]
            results[name]["rps_ratio"] = round(statistics.median(rps_ratios), 3)
            results[name]["p99_ratio"] = round(statistics.median(p99_ratios), 2)
            results[name]["rps_ratio_min"] = round(statistics.median(
                a["rps"] / m["rps"] for a, m in zip(runs[name], runs["nginx_min"])), 3)

        # a person of their own for the creates: the admin holds the N seeded keys
        ckey = create_user_key(d.port)
        cargs = argparse.Namespace(**vars(args))
        cargs.connections, cargs.duration = 16, min(args.duration, 5)
        c = wrk(f"http://127.0.0.1:{d.port}/v1/keys", os.path.join(HERE, "create.lua"), ckey,
                cargs)
        results["create"] = {"per_second": c["rps"], "p99_ms": c["p99_ms"],
                             "errors": c["errors"], "clients": 16}

        # verify over TLS: apikeyd again on the same data, now serving TLS with the certificate
        # nginx's TLS server has; each apikeyd run paired with an nginx run, alternating
        d.stop()
        d = Apikeyd(data, tls=(cert, tls_key))
        d.start()
        time.sleep(0.5)
        pair = (("nginx_tls_verify", f"https://127.0.0.1:{ngx_tls_port}/v1/verify"),
                ("tls_verify", f"https://127.0.0.1:{d.port}/v1/verify"))
        tls_runs = {name: [] for name, _ in pair}
        for rnd in range(args.rounds):
            for name, url in (pair if rnd % 2 == 0 else pair[::-1]):
                tls_runs[name].append(wrk(url, os.path.join(HERE, "verify.lua"), key, args))
        for name in tls_runs:
            rs = tls_runs[name]
            results[name] = {"rps": statistics.median(r["rps"] for r in rs),
                             "p50_ms": statistics.median(r["p50_ms"] for r in rs),
                             "p99_ms": statistics.median(r["p99_ms"] for r in rs),
                             "best_rps": max(r["rps"] for r in rs),
                             "errors": sum(r["errors"] for r in rs), "runs": rs}
        ratios = [a["rps"] / n["rps"] for a, n in zip(tls_runs["tls_verify"],
                                                      tls_runs["nginx_tls_verify"])]
        p99s = [a["p99_ms"] / max(n["p99_ms"], 0.001) for a, n in zip(
            tls_runs["tls_verify"], tls_runs["nginx_tls_verify"])]
        results["tls_verify"].update(reference="nginx_tls_verify",
                                     round_ratios=[round(x, 3) for x in ratios],
                                     rps_ratio=round(statistics.median(ratios), 3),
                                     p99_ratio=round(statistics.median(p99s), 2))
    finally:
        if d:
            d.stop()
        if nginx:
            nginx.send_signal(signal.SIGQUIT)
            try:
                nginx.wait(10)
            except subprocess.TimeoutExpired:
                nginx.kill()
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}", file=sys.stderr)

    r = results
    print(f"\napikeyd benchmark: {r['keys']} keys, {r['cpus']} CPUs, wrk -t{args.threads} "
          f"-c{args.connections} -d{args.duration}s, {args.rounds} alternating rounds; "
          f"medians, and ratios as the median of each round's ratio to its nginx run\n")
    v, a, nv, na, nm = r["verify"], r["auth"], r["nginx_verify"], r["nginx_auth"], r["nginx_min"]
    print("| measure | nginx, verify's answer | apikeyd verify | nginx, auth's answer "
          "| apikeyd auth | nginx, minimal answer |")
    print("|---|---|---|---|---|---|")
    print(f"| requests/s | {nv['rps']:.0f} | {v['rps']:.0f} ({v['rps_ratio']:.2f}x) | "
          f"{na['rps']:.0f} | {a['rps']:.0f} ({a['rps_ratio']:.2f}x) | {nm['rps']:.0f} |")
    print(f"| p50 ms | {nv['p50_ms']:.2f} | {v['p50_ms']:.2f} | {na['p50_ms']:.2f} | "
          f"{a['p50_ms']:.2f} | {nm['p50_ms']:.2f} |")
    print(f"| p99 ms | {nv['p99_ms']:.2f} | {v['p99_ms']:.2f} ({v['p99_ratio']:.2f}x) | "
          f"{na['p99_ms']:.2f} | {a['p99_ms']:.2f} ({a['p99_ratio']:.2f}x) | "
          f"{nm['p99_ms']:.2f} |")
    print(f"| non-2xx answers | {nv['errors']} | {v['errors']} | {na['errors']} | "
          f"{a['errors']} | {nm['errors']} |")
    print(f"\nper-round requests/s ratios (each against nginx serving the same answer next to "
          f"it): verify {v['round_ratios']}, auth {a['round_ratios']}")
    print(f"best rounds: nginx {nv['best_rps']:.0f}, verify {v['best_rps']:.0f}; nginx "
          f"{na['best_rps']:.0f}, auth {a['best_rps']:.0f}")
    print(f"against nginx's minimal answer (median of rounds): verify "
          f"{v['rps_ratio_min']:.2f}x, auth {a['rps_ratio_min']:.2f}x")
    print(f"\nRSS: {r['rss_base_kib']} KiB empty, {r['rss_kib']} KiB with {r['keys']} keys = "
          f"{r['rss_bytes_per_key']} bytes/key; start-up with {r['keys']} keys: "
          f"{r['startup_seconds']} s (seeding took {r['seed_seconds']} s)")
    print(f"durable creates: {r['create']['per_second']:.0f}/s with 16 clients "
          f"(p99 {r['create']['p99_ms']:.1f} ms, {r['create']['errors']} non-2xx)")
    t, nt = r["tls_verify"], r["nginx_tls_verify"]
    print("\nverify over TLS (same certificate, TLS 1.3, keep-alive; medians):\n")
    print("| measure | nginx TLS, verify's answer | apikeyd TLS verify |")
    print("|---|---|---|")
    print(f"| requests/s | {nt['rps']:.0f} | {t['rps']:.0f} ({t['rps_ratio']:.2f}x) |")
    print(f"| p50 ms | {nt['p50_ms']:.2f} | {t['p50_ms']:.2f} |")
    print(f"| p99 ms | {nt['p99_ms']:.2f} | {t['p99_ms']:.2f} ({t['p99_ratio']:.2f}x) |")
    print(f"| non-2xx answers | {nt['errors']} | {t['errors']} |")
    print(f"per-round requests/s ratios: {t['round_ratios']}; best rounds: nginx "
          f"{nt['best_rps']:.0f}, apikeyd {t['best_rps']:.0f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
