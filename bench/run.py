#!/usr/bin/env python3
"""bench/run.py — apikeyd against nginx answering a fixed 200, in one run on one machine.

Starts apikeyd with N keys (put in the store in one transaction by bench/seed, not by N HTTP
calls) and nginx serving a fixed JSON answer, then drives both with wrk (same threads,
connections, duration, keep-alive), alternating them ROUNDS times. Reports, as ratios to
nginx: requests/second and p50/p99 latency of POST /v1/verify and GET /v1/auth; apikeyd's
RSS per key; start-up time with N keys; durable key creations per second with 16 clients.
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


def wait_healthy(port, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
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
    def __init__(self, data, env=None):
        self.data, self.port, self.proc = data, free_port(), None
        self.env = dict(os.environ, APIKEYD_BOOTSTRAP_ADMIN=ADMIN,
                        APIKEYD_VERIFY_MAX_FAILURES="1000000", **(env or {}))

    def start(self):
        t0 = time.monotonic()
        self.proc = subprocess.Popen([BIN, "--listen", f"127.0.0.1:{self.port}", "--data",
                                      self.data], env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(os.path.dirname(self.data),
                                                              "apikeyd.log"), "ab"))
        if not wait_healthy(self.port):
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


def start_nginx(tmp, port, workers):
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
        location / {{
            default_type application/json;
            return 200 '{{"valid":true,"code":"VALID"}}';
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
    ap.add_argument("--rounds", type=int, default=3)
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

        ngx_port = free_port()
        nginx = start_nginx(tmp, ngx_port, os.cpu_count() or 2)
        runs = {"nginx": [], "verify": [], "auth": []}
        for _ in range(args.rounds):
            runs["nginx"].append(wrk(f"http://127.0.0.1:{ngx_port}/", os.path.join(HERE,
                                     "verify.lua"), key, args))
            runs["verify"].append(wrk(f"http://127.0.0.1:{d.port}/v1/verify",
                                      os.path.join(HERE, "verify.lua"), key, args))
            runs["auth"].append(wrk(f"http://127.0.0.1:{d.port}/v1/auth",
                                    os.path.join(HERE, "auth.lua"), key, args))

        def best(name, field, pick):
            return pick(r[field] for r in runs[name])
        for name in ("nginx", "verify", "auth"):
            results[name] = {"rps": best(name, "rps", max), "p50_ms": best(name, "p50_ms", min),
                             "p99_ms": best(name, "p99_ms", min),
                             "errors": sum(r["errors"] for r in runs[name]), "runs": runs[name]}
        for name in ("verify", "auth"):
            results[name]["rps_ratio"] = round(results[name]["rps"] / results["nginx"]["rps"], 3)
            # each round against the nginx run just before it: the spread shows the noise
            results[name]["round_ratios"] = [round(a["rps"] / n["rps"], 3) for a, n in
                                             zip(runs[name], runs["nginx"])]
            results[name]["p99_ratio"] = round(results[name]["p99_ms"] /
                                               max(results["nginx"]["p99_ms"], 0.001), 2)

        # a person of their own for the creates: the admin holds the N seeded keys
        ckey = create_user_key(d.port)
        cargs = argparse.Namespace(**vars(args))
        cargs.connections, cargs.duration = 16, min(args.duration, 5)
        c = wrk(f"http://127.0.0.1:{d.port}/v1/keys", os.path.join(HERE, "create.lua"), ckey,
                cargs)
        results["create"] = {"per_second": c["rps"], "p99_ms": c["p99_ms"],
                             "errors": c["errors"], "clients": 16}
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
          f"-c{args.connections} -d{args.duration}s, best of {args.rounds} alternating rounds\n")
    print("| measure | nginx | apikeyd verify | apikeyd auth |")
    print("|---|---|---|---|")
    print(f"| requests/s | {r['nginx']['rps']:.0f} | {r['verify']['rps']:.0f} "
          f"({r['verify']['rps_ratio']:.2f}x) | {r['auth']['rps']:.0f} "
          f"({r['auth']['rps_ratio']:.2f}x) |")
    print(f"| p50 ms | {r['nginx']['p50_ms']:.2f} | {r['verify']['p50_ms']:.2f} | "
          f"{r['auth']['p50_ms']:.2f} |")
    print(f"| p99 ms | {r['nginx']['p99_ms']:.2f} | {r['verify']['p99_ms']:.2f} "
          f"({r['verify']['p99_ratio']:.2f}x) | {r['auth']['p99_ms']:.2f} "
          f"({r['auth']['p99_ratio']:.2f}x) |")
    print(f"| non-2xx answers | {r['nginx']['errors']} | {r['verify']['errors']} | "
          f"{r['auth']['errors']} |")
    print(f"\nper-round requests/s ratios (each against the nginx run before it): verify "
          f"{r['verify']['round_ratios']}, auth {r['auth']['round_ratios']}")
    print(f"\nRSS: {r['rss_base_kib']} KiB empty, {r['rss_kib']} KiB with {r['keys']} keys = "
          f"{r['rss_bytes_per_key']} bytes/key; start-up with {r['keys']} keys: "
          f"{r['startup_seconds']} s (seeding took {r['seed_seconds']} s)")
    print(f"durable creates: {r['create']['per_second']:.0f}/s with 16 clients "
          f"(p99 {r['create']['p99_ms']:.1f} ms, {r['create']['errors']} non-2xx)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
