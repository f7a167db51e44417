"""Packaging as a Debian server expects it: the manual page and the example settings name every
setting and flag the daemon knows (and nothing else), the page lints clean, `make install`
lays the files out under DESTDIR with a systemd unit that `systemd-analyze verify` accepts and
whose exposure score stays within 2.0, the installed daemon starts on the installed settings,
and `make deb` builds a package holding all of it. (CI also installs the .deb for real and
starts it: scripts/deb-smoke.sh.)
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request

from run import BIN, REPO, _TMPDIRS, check, eq, free_port

MAN = os.path.join(REPO, "man", "apikeyd.8")
CLI_MAN = os.path.join(REPO, "man", "apikey.1")
CLI = os.path.join(os.path.dirname(BIN), "apikey")
CONF = os.path.join(REPO, "dist", "apikeyd.conf")


def _settings():
    out = subprocess.run([BIN, "--settings"], capture_output=True, text=True, check=True)
    names = out.stdout.split()
    check(len(names) > 40, f"--settings listed only {len(names)} names")
    return names


def _read(path):
    with open(path) as f:
        return f.read()


def _tmp():
    d = tempfile.mkdtemp(prefix="apikeyd-test-pkg-")
    _TMPDIRS.append(d)
    return d


def _build_dir():
    return os.path.relpath(os.path.dirname(BIN), REPO)


def test_package_man_page_describes_every_setting_and_no_other():
    man = _read(MAN)
    documented = set(re.findall(r"^\.It Cm ([a-z0-9_]+) No =", man, re.M))
    known = set(_settings())
    eq(sorted(known - documented), [], "settings apikeyd(8) does not describe")
    eq(sorted(documented - known), [], "settings apikeyd(8) describes that apikeyd does not know")


def test_package_example_settings_name_every_setting_and_no_other():
    conf = _read(CONF)
    shown = set(re.findall(r"^#? ?([a-z0-9_]+) =", conf, re.M))
    known = set(_settings())
    eq(sorted(known - shown), [], "settings missing from dist/apikeyd.conf")
    eq(sorted(shown - known), [], "names in dist/apikeyd.conf that apikeyd does not know")


def test_package_man_page_describes_every_flag_of_help():
    out = subprocess.run([BIN, "--help"], capture_output=True, text=True, check=True).stdout
    flags = set(re.findall(r"(--[a-z]+)", out))
    check({"--listen", "--data", "--db", "--config", "--settings", "--version", "--help",
           "--force"} <= flags, f"--help lost a flag: {sorted(flags)}")
    man = _read(MAN)
    in_man = set("--" + f for f in re.findall(r"Fl -([a-z]+)", man))
    eq(sorted(flags - in_man), [], "flags of --help missing from apikeyd(8)")
    eq(sorted(in_man - flags), [], "flags in apikeyd(8) that --help does not name")


def test_package_man_pages_lint_clean():
    check(shutil.which("mandoc"), "mandoc is not installed (scripts/ensure-deps.sh test)")
    for page in (MAN, CLI_MAN):
        r = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", page], capture_output=True,
                           text=True)
        eq((r.returncode, r.stdout + r.stderr), (0, ""), f"mandoc -T lint of {page}")


def test_package_cli_man_page_describes_every_command_of_help():
    out = subprocess.run([CLI, "--help"], capture_output=True, text=True, check=True).stdout
    commands = set(re.findall(r"^  ([a-z]+(?: [a-z]+)?)  ", out, re.M))
    check(len(commands) >= 20, f"apikey --help lists {len(commands)} commands")
    man = _read(CLI_MAN)
    in_man = set()
    for line in re.findall(r"^\.It Cm (.*)$", man, re.M):
        tokens = line.split()  # "keys create Ar name ...": macros start with a capital
        in_man.add(tokens[0])
        if len(tokens) > 1 and re.fullmatch(r"[a-z]+", tokens[1]):
            in_man.add(f"{tokens[0]} {tokens[1]}")
    missing = sorted(c for c in commands if c not in in_man)
    eq(missing, [], "commands of apikey --help that apikey(1) does not describe")


def _install(dest, **vars):
    args = ["make", "--no-print-directory", "-s", "-C", REPO, "install",
            f"BUILD={_build_dir()}"] + [f"{k}={v}" for k, v in vars.items()]
    r = subprocess.run(args, capture_output=True, text=True)
    eq(r.returncode, 0, f"make install: {r.stderr[-500:]}")


def test_package_install_lays_out_the_files_and_keeps_an_edited_config():
    dest = _tmp()
    _install(dest, DESTDIR=dest, PREFIX="/usr", UNITDIR="/lib/systemd/system")
    for path, mode in (("usr/sbin/apikeyd", 0o755), ("usr/share/man/man8/apikeyd.8", 0o644),
                       ("usr/bin/apikey", 0o755), ("usr/share/man/man1/apikey.1", 0o644),
                       ("usr/share/bash-completion/completions/apikey", 0o644),
                       ("lib/systemd/system/apikeyd.service", 0o644),
                       ("etc/apikeyd/apikeyd.conf", 0o644),
                       ("usr/share/doc/apikeyd/examples/nginx-apikeyd.conf", 0o644)):
        full = os.path.join(dest, path)
        check(os.path.isfile(full), f"make install did not write /{path}")
        eq(os.stat(full).st_mode & 0o777, mode, f"mode of /{path}")
    unit = _read(os.path.join(dest, "lib/systemd/system/apikeyd.service"))
    check("ExecStart=/usr/sbin/apikeyd --config /etc/apikeyd/apikeyd.conf" in unit,
          "the unit starts the installed binary on the installed settings")
    conf = os.path.join(dest, "etc/apikeyd/apikeyd.conf")
    with open(conf, "a") as f:
        f.write("max_keys_per_owner = 7\n")
    _install(dest, DESTDIR=dest, PREFIX="/usr", UNITDIR="/lib/systemd/system")
    check("max_keys_per_owner = 7" in _read(conf), "a second make install replaced the edited "
                                                    "/etc/apikeyd/apikeyd.conf")


def test_package_systemd_unit_verifies_and_is_hardened():
    check(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
    prefix = _tmp()
    # installed where it really runs from, so verify can find the binary and manual page
    _install(prefix, PREFIX=f"{prefix}/usr", SYSCONFDIR=f"{prefix}/etc", UNITDIR=f"{prefix}/units")
    unit = os.path.join(prefix, "units", "apikeyd.service")
    env = dict(os.environ, MANPATH=os.path.join(prefix, "usr", "share", "man"))
    r = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True,
                       env=env, cwd=prefix)
    eq((r.returncode, r.stderr.strip()), (0, ""), "systemd-analyze verify")
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", unit],
                       capture_output=True, text=True, cwd=prefix)
    m = re.search(r"Overall exposure level for apikeyd.service: ([0-9.]+)", r.stdout + r.stderr)
    check(m, f"no exposure level in: {(r.stdout + r.stderr)[-300:]}")
    check(float(m.group(1)) <= 2.0, f"exposure {m.group(1)} is above the goal of 2.0")
    text = _read(unit)
    for line in ("DynamicUser=yes", "StateDirectory=apikeyd", "ProtectSystem=strict",
                 "NoNewPrivileges=yes", "PrivateTmp=yes", "CapabilityBoundingSet=\n",
                 "SystemCallFilter=@system-service"):
        check(line in text, f"the unit lacks {line.strip()}")


def test_package_installed_daemon_starts_on_the_installed_settings():
    dest = _tmp()
    _install(dest, DESTDIR=dest, PREFIX="/usr", UNITDIR="/lib/systemd/system")
    data = os.path.join(dest, "data")
    port = free_port()
    proc = subprocess.Popen([os.path.join(dest, "usr/sbin/apikeyd"), "--config",
                             os.path.join(dest, "etc/apikeyd/apikeyd.conf"), "--data", data,
                             "--listen", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, status = time.monotonic() + 20, None
        while time.monotonic() < deadline and status is None:
            try:
                status = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                                timeout=2).status
            except OSError:
                check(proc.poll() is None, "the installed daemon exited at start")
                time.sleep(0.1)
        eq(status, 200, "/healthz of the installed daemon")
        proc.terminate()
        eq(proc.wait(20), 0, "exit status after SIGTERM")
        err = proc.stderr.read().decode()
        check("Password: " in err and "=====" in err, "the first admin's password banner")
        check(err.rfind("Password: ") > err.find("listening on"),
              "the banner comes after the listening line")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_package_deb_holds_the_daemon_unit_manual_and_conffile():
    out = _tmp()
    r = subprocess.run(["make", "--no-print-directory", "-s", "-C", REPO, "deb",
                        f"BUILD={_build_dir()}", f"DEB_OUT={out}"], capture_output=True, text=True)
    eq(r.returncode, 0, f"make deb: {r.stderr[-500:]}")
    debs = [f for f in os.listdir(out) if f.endswith(".deb")]
    eq(len(debs), 1, "one .deb written")
    deb = os.path.join(out, debs[0])
    field = lambda name: subprocess.run(["dpkg-deb", "--field", deb, name], capture_output=True,
                                        text=True, check=True).stdout.strip()
    eq(field("Package"), "apikeyd", "Package")
    check("libsodium23" in field("Depends") and "libsqlite3-0" in field("Depends"),
          f"Depends from dpkg-shlibdeps: {field('Depends')}")
    contents = subprocess.run(["dpkg-deb", "--contents", deb], capture_output=True, text=True,
                              check=True).stdout
    for path in ("./usr/sbin/apikeyd", "./usr/bin/apikey", "./usr/share/man/man1/apikey.1.gz",
                 "./lib/systemd/system/apikeyd.service",
                 "./usr/share/man/man8/apikeyd.8.gz", "./etc/apikeyd/apikeyd.conf"):
        check(path in contents, f"the package lacks {path}")
    check("root/root" in contents, "files owned by root")
    ctl = _tmp()
    subprocess.run(["dpkg-deb", "--control", deb, ctl], check=True)
    eq(_read(os.path.join(ctl, "conffiles")).split(), ["/etc/apikeyd/apikeyd.conf"], "conffiles")


def test_package_secret_files_reach_the_dynamic_user_as_credentials_not_world_readable():
    """Attack round 27: the unit's dynamic user cannot read a root-only secret file, so the
    deployment guide must give a way that does not make it readable by every local user: its
    drop-in of LoadCredential= lines verifies with the installed unit, and each credential the
    drop-in loads is the file apikeyd.conf is told to read."""
    check(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
    doc = _read(os.path.join(REPO, "docs", "DEPLOYMENT.md"))
    m = re.search(r"```ini\n(# /etc/systemd/system/apikeyd\.service\.d/[^\n]*\n.*?)```", doc, re.S)
    check(m, "docs/DEPLOYMENT.md has no apikeyd.service.d drop-in block")
    dropin = m.group(1)
    creds = dict(re.findall(r"^LoadCredential=([a-z-]+):(/etc/apikeyd/\S+)$", dropin, re.M))
    check({"tls-key", "smtp-password"} <= set(creds), f"credentials in the drop-in: {creds}")
    for name in creds:
        check(re.search(rf"^\w+_file = /run/credentials/apikeyd\.service/{name}$", doc, re.M),
              f"the guide names no setting reading the credential {name}")
    prefix = _tmp()
    _install(prefix, PREFIX=f"{prefix}/usr", SYSCONFDIR=f"{prefix}/etc", UNITDIR=f"{prefix}/units")
    os.makedirs(os.path.join(prefix, "units", "apikeyd.service.d"))
    with open(os.path.join(prefix, "units", "apikeyd.service.d", "secrets.conf"), "w") as f:
        f.write(dropin)
    env = dict(os.environ, MANPATH=os.path.join(prefix, "usr", "share", "man"),
               SYSTEMD_UNIT_PATH=os.path.join(prefix, "units") + ":")
    r = subprocess.run(["systemd-analyze", "verify", os.path.join(prefix, "units",
                                                                  "apikeyd.service")],
                       capture_output=True, text=True, env=env, cwd=prefix)
    eq((r.returncode, r.stderr.strip()), (0, ""), "systemd-analyze verify with the drop-in")
