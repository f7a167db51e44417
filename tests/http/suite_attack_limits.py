"""Attacks on issue 12, item 7: limits no single user can exhaust for others. Top-level
projects need manage_projects; projects are counted per creator (max_projects_per_user),
API accounts per project (max_accounts_per_project) and site-wide ones on their own
(max_site_wide_accounts), each judged inside the write transaction, so concurrent creates
cannot pass a limit together. A refusal is a 4xx problem and stores nothing."""
import threading

from run import (Client, check_settings_refused_at_start, dedicated, eq, expect, new_user,
                 uniq)
from suite_accounts import mkproject
from suite_attacks import _holder

LIMITS_ENV = {"APIKEYD_MAX_PROJECTS_PER_USER": "3", "APIKEYD_MAX_ACCOUNTS_PER_PROJECT": "2",
              "APIKEYD_MAX_SITE_WIDE_ACCOUNTS": "2"}


def _project_names(d):
    body = expect(d.admin.request("GET", "/v1/projects"), 200).body
    items = body.get("projects", body) if isinstance(body, dict) else body
    return {p.get("name") for p in items}


def _account_names(d):
    body = expect(d.admin.request("GET", "/v1/service-accounts"), 200).body
    items = body.get("service_accounts", body) if isinstance(body, dict) else body
    return {a.get("name") for a in items}


def _create_project(c, name, parent=None):
    body = {"name": name}
    if parent:
        body["parent"] = parent
    return c.request("POST", "/v1/projects", json=body)


def test_attack_a_user_without_manage_projects_cannot_create_a_top_level_project():
    d = dedicated("limits-top-level")
    try:
        u = new_user(d)
        name = uniq("top")
        r = expect(_create_project(u, name), 403, "forbidden")
        if "manage_projects" not in (r.body.get("detail") or ""):
            raise AssertionError(f"the refusal names the authority: {r.body!r}")
        eq(name in _project_names(d), False, "the refused project is not stored")
        # an owner of a project still makes subprojects there (the parent's owners decide)
        pid = mkproject(u)
        expect(_create_project(u, uniq("sub"), pid), 201, what="a subproject of one's own project")
        d.stop()
    finally:
        d.kill()


def test_attack_one_creator_cannot_fill_the_project_limit_for_others():
    d = dedicated("limits-projects", env=LIMITS_ENV)
    try:
        greedy, _ = _holder(d, ["manage_projects"])
        other, _ = _holder(d, ["manage_projects"])
        first = expect(_create_project(greedy, uniq("p")), 201).body["id"]
        expect(_create_project(greedy, uniq("p")), 201)
        expect(_create_project(greedy, uniq("sub"), first), 201, what="subprojects count too")
        name = uniq("p")
        r = expect(_create_project(greedy, name), 409, "limit-reached",
                   what="a fourth project with max_projects_per_user = 3")
        if "max_projects_per_user" not in (r.body.get("detail") or ""):
            raise AssertionError(f"the refusal names the setting: {r.body!r}")
        expect(_create_project(greedy, uniq("sub"), first), 409, "limit-reached",
               what="nor a subproject")
        eq(name in _project_names(d), False, "the refused project is not stored")
        for _ in range(3):
            expect(_create_project(other, uniq("p")), 201, what="another creator's own three")
        # deleting one of them frees a place
        second = [p for p in expect(d.admin.request("GET", "/v1/projects"), 200).body["projects"]
                  if p.get("created_by") == greedy.username and p.get("parent") is None
                  and p.get("id") != first]
        expect(greedy.request("DELETE", f"/v1/projects/{second[0]['id']}"), 204)
        expect(_create_project(greedy, uniq("p")), 201, what="a project after deleting one")
        d.stop()
    finally:
        d.kill()


def test_attack_concurrent_creates_cannot_pass_the_project_limit_together():
    d = dedicated("limits-projects-race", env=LIMITS_ENV)
    try:
        greedy, _ = _holder(d, ["manage_projects"])
        statuses, lock = [], threading.Lock()

        def create(i):
            c = Client(d)
            c.cookie, c.cookie_name, c.csrf = greedy.cookie, greedy.cookie_name, greedy.csrf
            s = _create_project(c, f"race-{i}-{uniq('p')}").status
            with lock:
                statuses.append(s)

        threads = [threading.Thread(target=create, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        eq(sorted(statuses), [201] * 3 + [409] * 9, "12 concurrent creates, limit 3")
        eq(sum(n.startswith("race-") for n in _project_names(d)), 3, "projects stored")
        d.stop()
    finally:
        d.kill()


def test_attack_one_project_owner_cannot_fill_the_account_limit_of_other_projects():
    d = dedicated("limits-accounts", env=LIMITS_ENV)
    try:
        owner = new_user(d)
        mine, theirs = mkproject(owner), mkproject(new_user(d))
        for _ in range(2):
            expect(owner.request("POST", "/v1/service-accounts",
                                 json={"name": uniq("sa"), "project": mine}), 201)
        name = uniq("sa")
        r = expect(owner.request("POST", "/v1/service-accounts",
                                 json={"name": name, "project": mine}), 409, "limit-reached",
                   what="a third account in a project with max_accounts_per_project = 2")
        if "max_accounts_per_project" not in (r.body.get("detail") or ""):
            raise AssertionError(f"the refusal names the setting: {r.body!r}")
        eq(name in _account_names(d), False, "the refused account is not stored")
        expect(d.admin.request("POST", "/v1/service-accounts",
                               json={"name": uniq("sa"), "project": theirs}), 201,
               what="another project is not affected")
        # site-wide accounts have their own count
        for _ in range(2):
            expect(d.admin.request("POST", "/v1/service-accounts", json={"name": uniq("site")}),
                   201)
        name = uniq("site")
        expect(d.admin.request("POST", "/v1/service-accounts", json={"name": name}), 409,
               "limit-reached", what="a third site-wide account (max_site_wide_accounts = 2)")
        eq(name in _account_names(d), False, "the refused site-wide account is not stored")
        d.stop()
    finally:
        d.kill()


def test_limit_settings_refuse_bad_values():
    check_settings_refused_at_start([
        ("APIKEYD_MAX_PROJECTS_PER_USER", "0"), ("APIKEYD_MAX_PROJECTS_PER_USER", "many"),
        ("APIKEYD_MAX_ACCOUNTS_PER_PROJECT", "0"), ("APIKEYD_MAX_ACCOUNTS_PER_PROJECT", "-1"),
        ("APIKEYD_MAX_SITE_WIDE_ACCOUNTS", "0"), ("APIKEYD_MAX_SITE_WIDE_ACCOUNTS", "1000001")])
