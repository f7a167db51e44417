"""Attacks on issue 12, item 13 (sessions): a session left open on a shared machine, or
stolen from it, stops working once it has not been used for session_idle_seconds, on every
node (the last use lives in the store); a session in use lives on past that time."""
import time

from run import Client, dedicated, eq, expect, new_user


def test_attack_an_idle_session_ends_and_a_used_one_lives_on():
    d = dedicated("sessions-idle", env={"APIKEYD_SESSION_IDLE_SECONDS": "5"})
    try:
        busy, idle = new_user(d), new_user(d)
        start = time.monotonic()
        while time.monotonic() - start < 8:     # used every second for longer than 5 s
            expect(busy.request("GET", "/v1/me"), 200, what="a session in use")
            time.sleep(1)
        expect(idle.request("GET", "/v1/me"), 401, "unauthenticated",
               what="a session unused for 8 s (idle limit 5 s)")
        expect(idle.request("GET", "/v1/me"), 401, what="and it stays ended")
        expect(busy.request("GET", "/v1/me"), 200, what="the used one still works")
        d.stop()
    finally:
        d.kill()


def test_session_idle_seconds_refuses_bad_values():
    from run import check_settings_refused_at_start
    check_settings_refused_at_start([("APIKEYD_SESSION_IDLE_SECONDS", "4"),
                                     ("APIKEYD_SESSION_IDLE_SECONDS", "never"),
                                     ("APIKEYD_SESSION_IDLE_SECONDS", "2592001")])
