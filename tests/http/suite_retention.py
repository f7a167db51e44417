"""Retention (core/retention.c): rotated-out keys are kept retention_days after their expiry
(for token-family reuse detection), then deleted with a key.delete event; finished expiry
notices of keys that expired that long ago go too. The daemon here counts a retention "day"
and a notice "day" as one second (retention_unit_seconds, expiry_notice_unit_seconds), so
retention_days = 7 is seven seconds and the whole story fits in about 11 s."""
import os
import sqlite3

from run import (Client, check, create_key, dedicated, eq, expect, iso, list_keys, now, uniq,
                 verify, wait_until)
from suite_webhooks import FAST, body_of, receiver, register

RETENTION = 7          # seconds here


def _rotate(c, kid, overlap=0, status=201):
    r = c.request("POST", f"/v1/keys/{kid}/rotate", json={"overlap_seconds": overlap})
    return expect(r, status, what=f"rotate {kid}").body


def _notice_rows(d, key_id):
    db = sqlite3.connect(f"file:{os.path.join(d.data, 'apikeyd.db')}?mode=ro", uri=True,
                         timeout=30)
    try:
        return db.execute("SELECT threshold, status FROM key_notices WHERE key_id = ?",
                          (key_id,)).fetchall()
    finally:
        db.close()


def test_retention_keeps_rotated_out_keys_for_reuse_detection_then_deletes_them():
    rcv = receiver()
    env = dict(FAST, APIKEYD_RETENTION_DAYS=str(RETENTION), APIKEYD_RETENTION_UNIT_SECONDS="1",
               APIKEYD_EXPIRY_NOTICE_DAYS="1", APIKEYD_EXPIRY_NOTICE_UNIT_SECONDS="1",
               APIKEYD_EXPIRY_NOTICE_SCAN_MS="100")
    d = dedicated("retention", env=env)
    try:
        c = d.admin
        t0 = now()
        short = create_key(c, name=uniq("short"), expires_at=iso(t0 + 1.5))  # expires, never
        _, url = register(d, rcv, ["key.deleted"])                           # rotated
        a = create_key(c, name=uniq("fam-a"), scopes=("APIKey", "Tasks"))
        b = _rotate(c, a["id"])                                   # a: rotated out, expired now
        x = create_key(c, name=uniq("fam-x"), scopes=("APIKey", "Tasks"))
        y = _rotate(c, x["id"])
        p = create_key(c, name=uniq("fam-p"))
        _rotate(c, p["id"], overlap=600)                          # p: rotated out, in overlap
        # while it is kept, a rotated-out key presented to a rotate endpoint revokes its family
        expect(Client(d, key=x["key"]).request("POST", f"/v1/keys/{y['id']}/rotate", json={}),
               401)
        eq(verify(d, y["key"])["code"], "NOT_FOUND", "reuse detected within the retention")
        ids = {k["id"] for k in list_keys(c)}
        check(a["id"] in ids and x["id"] in ids, "rotated-out keys are kept for a while")
        # the short key's expired notice is claimed at about t0 + 1.5 (looked for now: it may
        # be pruned from t0 + 9.5 on, before the checks below have finished)
        check(wait_until(lambda: _notice_rows(d, short["id"]), 5, 0.1),
              "the expired notice was claimed")
        # then they go, each with a key.delete event naming it
        gone = wait_until(lambda: a["id"] not in {k["id"] for k in list_keys(c)},
                          RETENTION + 4, 0.2)
        check(gone, f"the rotated-out key is still stored {RETENTION + 4} s after its expiry")
        check(now() - t0 >= RETENTION - 1, f"deleted too early: after {now() - t0:.1f} s")
        got = wait_until(lambda: [g for g in rcv.got(url)
                                  if body_of(g)["data"]["key"]["id"] == a["id"]], 3, 0.1)
        check(got, "a key.deleted event for the deleted rotated-out key")
        data = body_of(got[0])["data"]
        eq(data["key"], {"id": a["id"], "name": a["name"], "owner": {"type": "user",
                                                                    "id": "admin"}},
           "the event names the key")
        eq(data["actor"], "(system)", "apikeyd deleted it")
        # once forgotten, a copy of it is a plain 401: the family lives on
        expect(Client(d, key=a["key"]).request("POST", f"/v1/keys/{b['id']}/rotate", json={}),
               401)
        eq(verify(d, b["key"])["code"], "VALID", "no family revocation after the retention")
        # x was rotated out after a (later by the time the requests between took), so its
        # retention ends that much later: a round or two after a's
        check(wait_until(lambda: x["id"] not in {k["id"] for k in list_keys(c)}, 4, 0.2),
              "the reused key went too once its retention ended")
        ids = {k["id"] for k in list_keys(c)}
        check(b["id"] in ids and p["id"] in ids and short["id"] in ids,
              "current keys, keys still in their overlap and expired keys never rotated stay")
        # the expired key's notice row goes once it expired long enough ago (8 notice days
        # here, past the last notice window); the key itself stays
        check(wait_until(lambda: not _notice_rows(d, short["id"]), 12, 0.2),
              f"the finished notice is still stored: {_notice_rows(d, short['id'])}")
        check(short["id"] in {k["id"] for k in list_keys(c)}, "the expired key itself stays")
        d.stop()
    finally:
        d.kill()


def test_retention_settings_are_checked_at_start():
    from run import check_settings_refused_at_start
    check_settings_refused_at_start([
        ("APIKEYD_RETENTION_DAYS", "6"),          # shorter than a week: refused
        ("APIKEYD_RETENTION_DAYS", "x"),
        ("APIKEYD_RETENTION_DAYS", "3651"),
        ("APIKEYD_RETENTION_UNIT_SECONDS", "0"),
        ("APIKEYD_RETENTION_UNIT_SECONDS", "86401"),
    ])
