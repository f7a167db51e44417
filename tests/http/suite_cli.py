"""The `apikey` command-line client (build/apikey) against a real daemon: the interactive login
through a pseudo-terminal (the password never echoed, a one-time code asked when MFA is on),
--with-key, every command, --json, the secret printed only by create (or written 0600 with
--output-file), APIKEY_SERVER/APIKEY_TOKEN, exit codes 0/1/2/4, logout deleting the key on the
server, and the completion script. Each test has its own config folder.
"""
import json
import os
import pty
import re
import select
import stat
import subprocess
import tempfile
import time

from run import (BIN, _TMPDIRS, check, create_key, eq, expect, new_user, shared, uniq,
                 verify)
from suite_identity import mfa_on_with_codes

CLI = os.path.join(os.path.dirname(BIN), "apikey")


def _home():
    d = tempfile.mkdtemp(prefix="apikey-test-cli-")
    _TMPDIRS.append(d)
    return d


def _env(d, home, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("APIKEY_")}
    env.update(XDG_CONFIG_HOME=os.path.join(home, "cfg"), HOME=home,
               APIKEY_SERVER=f"http://127.0.0.1:{d.port}")
    env.update(extra)
    return env


def cli(d, home, *args, stdin=None, **extra):
    """Runs apikey without a terminal; returns (exit code, stdout, stderr)."""
    check(os.access(CLI, os.X_OK), f"{CLI} is not built")
    r = subprocess.run([CLI, *args], input=stdin, capture_output=True, text=True, timeout=60,
                       env=_env(d, home, **extra), start_new_session=True)
    return r.returncode, r.stdout, r.stderr


def cli_in_pty(d, home, args, answers, **extra):
    """Runs apikey on a pseudo-terminal, answering each prompt (a regex) in turn; returns (exit
    code, everything the terminal showed)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(CLI, [CLI, *args], _env(d, home, **extra))
    shown, pending, deadline = b"", list(answers), time.monotonic() + 60
    status = None
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                shown += chunk
            if pending and re.search(pending[0][0], shown.decode(errors="replace").split("\n")[-1]):
                os.write(fd, pending.pop(0)[1].encode() + b"\n")
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def hosts(home):
    path = os.path.join(home, "cfg", "apikey", "hosts.json")
    with open(path) as f:
        return path, json.load(f)


def logged_in(d, scopes="APIKey,Account,Authentication,Tasks"):
    """A home whose stored key is the admin's, made through --with-key."""
    home = _home()
    k = create_key(d.admin, name=uniq("cli-boot"), scopes=tuple(scopes.split(",")))
    d.secrets.append(k["key"])
    rc, _, err = cli(d, home, "login", "--with-key", stdin=k["key"] + "\n")
    eq(rc, 0, f"login --with-key: {err}")
    return home, k


def test_cli_interactive_login_hides_the_password_and_stores_a_key_0600():
    d = shared()
    c = new_user(d, "clil")
    home = _home()
    rc, shown = cli_in_pty(d, home, ["login"], [(r"Username: $", c.username),
                                                 (r"Password: $", c.password)])
    eq(rc, 0, f"exit code of the interactive login; terminal: {shown[-300:]!r}")
    check(c.password not in shown, "the password was echoed on the terminal")
    check(c.username in shown, "the username is echoed as typed")
    path, data = hosts(home)
    eq(stat.S_IMODE(os.stat(path).st_mode), 0o600, "mode of hosts.json")
    eq(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700, "mode of its folder")
    entry = data["hosts"][f"http://127.0.0.1:{d.port}"]
    d.secrets.append(entry["key"])
    eq(verify(d, entry["key"])["code"], "VALID", "the stored key verifies")
    keys = {k["name"]: k for k in expect(c.request("GET", "/v1/keys"), 200).body["keys"]}
    names = [n for n in keys if n.startswith("apikey CLI on ")]
    eq(len(names), 1, f"one key named 'apikey CLI on HOST': {list(keys)}")
    eq(keys[names[0]]["scopes"], ["APIKey"], "the default scopes")
    rc, out, _ = cli(d, home, "keys", "list")
    eq(rc, 0, "keys list with the stored key")
    check(names[0] in out, "the CLI's own key is listed")


def test_cli_login_asks_for_the_one_time_code_when_mfa_is_on():
    d = shared()
    c = new_user(d, "climfa")
    _, _, codes = mfa_on_with_codes(c)
    home = _home()
    rc, shown = cli_in_pty(d, home, ["login", "--scopes", "APIKey,User"],
                           [(r"Username: $", c.username), (r"Password: $", c.password),
                            (r"One-time code: $", codes[0])])  # a recovery code: no 30 s wait
    eq(rc, 0, f"login with MFA: {shown[-300:]!r}")
    _, data = hosts(home)
    key = data["hosts"][f"http://127.0.0.1:{d.port}"]["key"]
    d.secrets.append(key)
    eq(sorted(verify(d, key)["scopes"]), ["APIKey", "User"], "--scopes given to the key")


def test_cli_login_with_a_wrong_password_exits_4_and_stores_nothing():
    d = shared()
    c = new_user(d, "clibad")
    home = _home()
    rc, shown = cli_in_pty(d, home, ["login"], [(r"Username: $", c.username),
                                                 (r"Password: $", "not-the-password-at-all")])
    eq(rc, 4, f"exit code: {shown[-200:]!r}")
    check(not os.path.exists(os.path.join(home, "cfg", "apikey", "hosts.json")),
          "a refused login stored a hosts.json")


def test_cli_keys_create_shows_the_secret_once_and_list_show_never():
    d = shared()
    home, _ = logged_in(d)
    name = uniq("cli-k")
    rc, out, err = cli(d, home, "keys", "create", name, "--scope", "Tasks", "--description",
                       "from the CLI", "--expires", time.strftime("%Y-%m-%d",
                                                                  time.gmtime(time.time() + 86400 * 30)))
    eq(rc, 0, f"keys create: {err}")
    m = re.search(r"^(apk_[0-9A-Za-z]+)$", out, re.M)
    check(m, f"the secret on its own line: {out!r}")
    secret = m.group(1)
    d.secrets.append(secret)
    eq(verify(d, secret, "Tasks")["code"], "VALID", "the printed secret verifies")
    check("only time" in err, "create says the key is shown once")
    for args in (("keys", "list"), ("keys", "show", name), ("--json", "keys", "list"),
                 ("keys", "show", name, "--json")):
        rc, out, _ = cli(d, home, *args)
        eq(rc, 0, f"apikey {' '.join(args)}")
        check(name in out and secret not in out, f"apikey {' '.join(args)} shows the key, "
                                                 "never its secret")
    rc, out, _ = cli(d, home, "--json", "keys", "show", name)
    body = json.loads(out)
    eq((body["name"], body["description"], body["scopes"]), (name, "from the CLI", ["Tasks"]),
       "the key as --json shows it")


def test_cli_output_file_is_0600_and_never_overwritten():
    d = shared()
    home, _ = logged_in(d)
    path = os.path.join(home, "ci.APIKEY")
    rc, out, err = cli(d, home, "keys", "create", uniq("cli-f"), "--scope", "Tasks",
                       "--output-file", path)
    eq(rc, 0, f"create --output-file: {err}")
    eq(stat.S_IMODE(os.stat(path).st_mode), 0o600, "mode of NAME.APIKEY")
    with open(path) as f:
        secret = f.read().strip()
    d.secrets.append(secret)
    check(secret not in out + err, "with --output-file the secret is not printed")
    eq(verify(d, secret)["code"], "VALID", "the file's key verifies")
    rc, _, err = cli(d, home, "keys", "create", uniq("cli-f2"), "--scope", "Tasks",
                     "--output-file", path)
    eq(rc, 1, "a second create onto the same file fails")
    with open(path) as f:
        eq(f.read().strip(), secret, "the existing file is untouched")


def test_cli_rename_and_delete_by_name_and_id():
    d = shared()
    home, _ = logged_in(d)
    k = create_key(d.admin, name=uniq("cli-r"), scopes=("Tasks",))
    d.secrets.append(k["key"])
    new = uniq("cli-r2")
    rc, out, err = cli(d, home, "keys", "rename", k["name"], new)
    eq(rc, 0, f"rename by name: {err}")
    eq(expect(d.admin.request("GET", f"/v1/keys/{k['id']}"), 200).body["name"], new, "renamed")
    rc, _, err = cli(d, home, "keys", "delete", k["id"])
    eq(rc, 0, f"delete by id: {err}")
    eq(verify(d, k["key"])["code"], "NOT_FOUND", "the deleted key is refused at once")
    rc, _, err = cli(d, home, "keys", "delete", "no-such-key")
    eq(rc, 1, "deleting an unknown key fails")


def test_cli_exit_codes_for_usage_refusals_and_missing_sign_in():
    d = shared()
    home = _home()
    eq(cli(d, home, "keys", "list")[0], 4, "no stored key: not signed in")
    eq(cli(d, home, "keys", "list", APIKEY_TOKEN="apk_nonsense")[0], 4, "a bad token: 401")
    eq(cli(d, home, "frobnicate")[0], 2, "an unknown command")
    eq(cli(d, home, "keys", "create", "x")[0], 2, "create without --scope")
    eq(cli(d, home, "verify")[0], 2, "verify without a key")
    eq(cli(d, home, "accounts", "create")[0], 2, "accounts create without a name")
    home, _ = logged_in(d, scopes="APIKey")
    rc, _, err = cli(d, home, "users", "list")
    eq(rc, 4, "a key without the Authentication scope: 403")
    check("HTTP 403" in err, f"the refusal in words: {err!r}")
    rc, _, err = cli(d, home, "keys", "create", "x", "--scope", "NoSuchScope")
    eq(rc, 1, "a refused create: 422")
    check("scopes" in err, f"the field named in the message: {err!r}")


def test_cli_environment_overrides_the_stored_server_and_key():
    d = shared()
    home, _ = logged_in(d)
    other = create_key(d.admin, name=uniq("cli-env"), scopes=("APIKey",))
    d.secrets.append(other["key"])
    rc, out, _ = cli(d, home, "--json", "status", APIKEY_TOKEN=other["key"])
    eq(rc, 0, "status with APIKEY_TOKEN")
    eq(json.loads(out)["key_id"], other["id"], "APIKEY_TOKEN is the key used")
    rc, _, err = cli(d, home, "keys", "list", APIKEY_SERVER="http://127.0.0.1:9",
                     APIKEY_TOKEN=other["key"])
    eq(rc, 1, "an unreachable APIKEY_SERVER fails")
    check("cannot reach http://127.0.0.1:9" in err, f"said in words: {err!r}")


def test_cli_verify_accounts_projects_users_and_audit():
    d = shared()
    home, boot = logged_in(d)
    rc, out, _ = cli(d, home, "verify", boot["key"], "--scope", "APIKey")
    eq((rc, out.splitlines()[0]), (0, "VALID"), "verify a valid key")
    rc, out, _ = cli(d, home, "verify", boot["key"], "--scope", "Secret")
    eq((rc, out.splitlines()[0]), (1, "INSUFFICIENT_SCOPE"), "verify without the scope")
    name = uniq("cli-acct")
    rc, out, err = cli(d, home, "accounts", "create", name, "--description", "robot")
    eq(rc, 0, f"accounts create: {err}")
    acct = out.strip()
    rc, out, _ = cli(d, home, "accounts", "list")
    check(name in out, "accounts list shows it")
    rc, out, _ = cli(d, home, "accounts", "show", acct)
    check(rc == 0 and re.search(r"^name\s+" + re.escape(name) + "$", out, re.M),
          f"accounts show: {out!r}")
    rc, out, err = cli(d, home, "accounts", "keys", acct, "create", "deploy", "--scope", "Tasks")
    eq(rc, 0, f"accounts keys create: {err}")
    secret = re.search(r"^(apk_[0-9A-Za-z]+)$", out, re.M).group(1)
    d.secrets.append(secret)
    eq(verify(d, secret)["owner"]["type"], "service-account", "the account's key")
    rc, out, _ = cli(d, home, "accounts", "keys", acct, "list")
    check("deploy" in out and secret not in out, "the account's keys listed, no secret")
    eq(cli(d, home, "accounts", "keys", acct, "delete", "deploy")[0], 0, "account key deleted")
    eq(verify(d, secret)["code"], "NOT_FOUND", "refused at once")
    eq(cli(d, home, "accounts", "delete", acct)[0], 0, "account deleted")
    rc, out, _ = cli(d, home, "users", "list")
    check(rc == 0 and "admin" in out, "users list")
    rc, out, _ = cli(d, home, "--json", "users", "show", "admin")
    eq(json.loads(out)["username"], "admin", "users show --json")
    rc, out, _ = cli(d, home, "audit", "--action", "account.delete", "--limit", "5")
    check(rc == 0 and acct in out, f"audit shows the account's deletion: {out!r}")
    r = expect(d.admin.request("POST", "/v1/projects", json={"name": uniq("cli-proj")}), 201,
               what="create a project")
    rc, out, _ = cli(d, home, "--json", "projects", "list")
    check(rc == 0 and r.body["id"] in [p["id"] for p in json.loads(out)["projects"]],
          "projects list --json")
    rc, out, _ = cli(d, home, "projects", "show", r.body["id"])
    check(rc == 0 and r.body["name"] in out and "admin" in out and "owner" in out,
          f"projects show names the project and its owner: {out!r}")


def test_cli_tables_are_aligned_on_a_terminal():
    d = shared()
    home, _ = logged_in(d)
    create_key(d.admin, name=uniq("cli-a-short"), scopes=("Tasks",))
    rc, shown = cli_in_pty(d, home, ["keys", "list"], [])
    eq(rc, 0, "keys list on a terminal")
    lines = [l for l in shown.replace("\r", "").split("\n") if l.strip()]
    check(lines[0].startswith("ID") and "NAME" in lines[0], f"a header row: {lines[:2]!r}")
    col = lines[0].index("NAME")
    check(all(len(l) > col and l[col - 2:col] == "  " for l in lines[1:]),
          f"every row's NAME starts under the header's: {lines[:4]!r}")


def test_cli_logout_deletes_its_key_on_the_server_and_forgets_it():
    d = shared()
    c = new_user(d, "clilo")
    home = _home()
    rc, _ = cli_in_pty(d, home, ["login"], [(r"Username: $", c.username),
                                             (r"Password: $", c.password)])
    eq(rc, 0, "login")
    _, data = hosts(home)
    key = data["hosts"][f"http://127.0.0.1:{d.port}"]["key"]
    d.secrets.append(key)
    rc, _, err = cli(d, home, "logout")
    eq(rc, 0, f"logout: {err}")
    eq(verify(d, key)["code"], "NOT_FOUND", "the CLI's key is deleted on the server")
    _, data = hosts(home)
    eq(data["hosts"], {}, "hosts.json forgets the server")
    eq(cli(d, home, "keys", "list")[0], 4, "signed out")


def test_cli_completion_scripts_load_and_complete():
    d = shared()
    home = _home()
    rc, script, _ = cli(d, home, "completion", "bash")
    eq(rc, 0, "completion bash")
    probe = script + '\nCOMP_WORDS=(apikey keys ro); COMP_CWORD=2; _apikey; echo "${COMPREPLY[@]}"\n'
    r = subprocess.run(["bash", "-c", probe], capture_output=True, text=True)
    eq(r.stdout.strip(), "rotate", "bash completes `apikey keys ro`")
    rc, script, _ = cli(d, home, "completion", "zsh")
    check(rc == 0 and script.startswith("#compdef apikey"), "completion zsh")
    eq(cli(d, home, "completion", "fish")[0], 2, "an unknown shell is a usage error")


def test_cli_keys_rotate_prints_the_new_secret_and_keeps_the_old_for_the_overlap():
    d = shared()
    home, _ = logged_in(d)
    k = create_key(d.admin, name=uniq("cli-rot"), scopes=("Tasks",))
    d.secrets.append(k["key"])
    rc, out, err = cli(d, home, "keys", "rotate", k["name"], "--overlap", "1h")
    eq(rc, 0, f"keys rotate: {err}")
    secret = re.search(r"^(apk_[0-9A-Za-z]+)$", out, re.M).group(1)
    d.secrets.append(secret)
    check(f"rotated_from  {k['id']}" in out, f"the new key names the old one: {out!r}")
    eq(verify(d, secret, "Tasks")["code"], "VALID", "the new key verifies")
    eq(verify(d, k["key"], "Tasks")["code"], "VALID", "the old key works during the overlap")
    path = os.path.join(home, "rotated.APIKEY")
    rc, out, err = cli(d, home, "keys", "rotate", k["name"], "--output-file", path)
    eq(rc, 0, f"rotate --output-file: {err}")
    with open(path) as f:
        newest = f.read().strip()
    d.secrets.append(newest)
    check(newest not in out + err, "with --output-file the secret is not printed")
    eq(verify(d, secret)["code"], "EXPIRED", "overlap 0: the key rotated out at once")
    eq(cli(d, home, "keys", "rotate", k["name"], "--overlap", "soon")[0], 2,
       "a malformed overlap is a usage error")
