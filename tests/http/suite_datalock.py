"""Issue 14, item 4: one daemon per SQLite data folder. A second daemon on the same folder
would keep its own view and go on accepting keys the first one deleted; it must exit 1,
naming the folder and the holder's PID. The lock dies with its holder, even by SIGKILL."""
import os
import signal
import subprocess

from run import BIN, create_key, dedicated, eq, expect, free_port, verify


def _second(data):
    """Starts a daemon on data and waits for it to exit (10 s at most)."""
    p = subprocess.Popen([BIN, "--listen", f"127.0.0.1:{free_port()}", "--data", data],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise AssertionError("a second daemon on the same data folder kept running")
    return p.returncode, err


def test_a_second_daemon_on_the_same_data_folder_exits_1_naming_the_holder():
    d = dedicated("datalock")
    try:
        k = create_key(d.admin, scopes=("Tasks",))
        rc, err = _second(d.data)
        eq(rc, 1, "the second daemon's exit status")
        eq(d.data in err and str(d.proc.pid) in err, True,
           f"stderr names the folder and the holder's PID: {err[-300:]!r}")
        eq(verify(d, k["key"]).get("code"), "VALID", "the first daemon keeps serving")
        expect(d.admin.request("DELETE", f"/v1/keys/{k['id']}"), 204)
        eq(verify(d, k["key"]).get("code"), "NOT_FOUND", "deleted on the only daemon")
        d.stop()
    finally:
        d.kill()


def test_the_data_folder_lock_dies_with_its_holder_even_by_sigkill():
    d = dedicated("datalock-kill")
    try:
        os.kill(d.proc.pid, signal.SIGKILL)
        d.proc.wait(10)
        p = subprocess.Popen([BIN, "--listen", f"127.0.0.1:{free_port()}", "--data", d.data],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            p.wait(2)
            raise AssertionError(f"a daemon after SIGKILL exited: {p.stderr.read()[-300:]!r}")
        except subprocess.TimeoutExpired:
            pass   # still running: it took the lock
        finally:
            p.terminate()
            p.communicate(timeout=10)
    finally:
        d.kill()
