// audit.test.mjs — Admin → Audit (docs/PORTAL.md "Audit"): the link only for holders of
// view_audit, the table (Time, Actor, Action, Target, Client, Detail) newest first, filters by
// actor, action, target and time range, "Load more" paging, and the refusals in words.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createUser, uniq } from './daemon.mjs';
import {
  eventually, expectGone, expectText, expectVisible, goTo, lbl, login, shot, suite, tableRows,
  TEST_TIMEOUT,
} from './portal.mjs';

const s = suite('audit');
const T = { timeout: TEST_TIMEOUT };
const HEADERS = ['Time', 'Actor', 'Action', 'Target', 'Client', 'Detail'];

// A user who makes `n` keys through the API, one after another; returns {u, names}.
async function keyMaker(n) {
  const u = await createUser(s.admin);
  const api = await s.daemon.api(u.username, u.password);
  const names = [];
  for (let i = 0; i < n; i += 1) {
    const name = `${uniq('k')}-${String(i).padStart(2, '0')}`;
    await api.post('/v1/keys', { name, scopes: ['Tasks'] });
    names.push(name);
  }
  return { u, names };
}

// A user holding view_audit (and nothing else); returns the user.
async function auditor() {
  const role = uniq('auditor');
  await s.admin.post('/v1/roles', { name: role, authorities: ['view_audit'] });
  const u = await createUser(s.admin, { roles: ['user', role] });
  return { ...u, role };
}

const auditTable = (page) => page.getByRole('table', { name: 'Audit events, newest first' });

async function applyFilters(page, { actor = '', target = '', action = 'Any action', perPage = '50', from = '', to = '' }) {
  await page.getByLabel(lbl('Actor')).fill(actor);
  await page.getByLabel(lbl('Target')).fill(target);
  await page.getByLabel(lbl('Action')).selectOption({ label: action });
  await page.getByLabel(lbl('Events per page')).selectOption({ label: perPage });
  await page.getByLabel(lbl('From')).fill(from);
  await page.getByLabel(lbl('To')).fill(to);
  await page.getByRole('button', { name: 'Apply filters', exact: true }).click();
}

// The data rows once the table shows `count` of them (a function of the row list when given).
async function rowsWhen(page, check) {
  return eventually(async () => {
    const { headers, rows: all } = await tableRows(auditTable(page));
    assert.deepEqual(headers, HEADERS);
    const rows = all.filter((r) => r.Action !== undefined); // not the empty state's one cell
    check(rows);
    return rows;
  });
}

test('a holder of view_audit sees "Audit" in the Admin group; the table lists events newest first', T, async () => {
  const a = await auditor();
  const { u, names } = await keyMaker(3);
  const page = await s.newPage();
  await login(page, a.username, a.password);
  const admin = page.getByRole('navigation', { name: 'Main' }).getByRole('list', { name: 'Admin' });
  await expectVisible(admin.getByRole('link', { name: 'Audit', exact: true }), 'link "Audit" in the Admin group');
  assert.equal(await admin.getByRole('link', { name: 'Users', exact: true }).count(), 0,
    'no "Users" link without manage_users / manage_user_api_keys');
  await goTo(page, 'Audit');
  assert.equal(await admin.getByRole('link', { name: 'Audit' }).getAttribute('aria-current'), 'page');
  const rows = await rowsWhen(page, (r) => assert.ok(r.some((x) => x.Actor === u.username)));
  // newest first: the auditor's own login is newer than the keys made before it
  const iLogin = rows.findIndex((r) => r.Actor === a.username && r.Action === 'login.success');
  const iKeys = names.map((n) => rows.findIndex((r) => r.Detail === n));
  assert.ok(iLogin >= 0 && iKeys.every((i) => i > iLogin), `login first, then the keys (${iLogin}, ${iKeys})`);
  assert.deepEqual([...iKeys].sort((x, y) => y - x), iKeys, 'the later key above the earlier');
  const times = rows.map((r) => r.Time);
  assert.deepEqual([...times].sort().reverse(), times, 'times never rise down the table');
  const k = rows[iKeys[0]];
  assert.equal(k.Action, 'key.create');
  assert.match(k.Target, /^key [0-9a-f]+$/);
  assert.match(k.Time, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  assert.match(k.Client, /127\.0\.0\.1/);
  await shot(page, 'audit');
  await page.context().close();
});

test('filters by actor and action, and "Load more" fetches the next page until none is left', T, async () => {
  const { u, names } = await keyMaker(12);
  const api = await s.daemon.api(u.username, u.password);
  await api.patch('/v1/me', { full_name: 'Someone Else' }); // an event of another action by the same actor
  const page = await s.newPage();
  await login(page, 'admin', 'correct-horse-battery');
  await goTo(page, 'Audit');
  await applyFilters(page, { actor: u.username, action: 'key.create', perPage: '10' });
  let rows = await rowsWhen(page, (r) => assert.equal(r.length, 10));
  assert.ok(rows.every((r) => r.Actor === u.username && r.Action === 'key.create'), 'only that actor and action');
  assert.deepEqual(rows.map((r) => r.Detail), [...names].reverse().slice(0, 10), 'the 10 newest, newest first');
  await expectVisible(page.getByRole('status').filter({ hasText: 'Showing 10 events; more are older.' }), 'status');
  const more = page.getByRole('button', { name: 'Load more', exact: true });
  await shot(page, 'audit-filtered');
  await more.click();
  rows = await rowsWhen(page, (r) => assert.equal(r.length, 12));
  assert.deepEqual(rows.map((r) => r.Detail), [...names].reverse(), 'all 12, newest first, none twice');
  await expectGone(more, 'button "Load more" on the last page');
  await expectVisible(page.getByRole('status').filter({ hasText: 'Showing 12 events.' }), 'status');
  // the other action of the same actor
  await applyFilters(page, { actor: u.username, action: 'user.update' });
  rows = await rowsWhen(page, (r) => assert.equal(r.length, 1));
  assert.equal(rows[0].Detail, 'profile');
  await applyFilters(page, { actor: u.username, action: 'Any action' });
  rows = await rowsWhen(page, (r) => assert.equal(r.length, 15)); // login, 12 keys, login, profile
  assert.deepEqual(rows.map((r) => r.Action).slice(0, 3), ['user.update', 'login.success', 'key.create']);
  assert.equal(rows[14].Action, 'login.success');
  // by target: the user's creation by the admin
  await applyFilters(page, { target: u.username, action: 'user.create' });
  rows = await rowsWhen(page, (r) => assert.equal(r.length, 1));
  assert.equal(rows[0].Actor, 'admin');
  assert.equal(rows[0].Target, `user ${u.username}`);
  await page.context().close();
});

test('the time range: From/To around now keep the events, a range in the past has none', T, async () => {
  const { u } = await keyMaker(1);
  const page = await s.newPage();
  await login(page, 'admin', 'correct-horse-battery');
  await goTo(page, 'Audit');
  const now = new Date(); // the browser runs in UTC
  const minute = (d) => d.toISOString().slice(0, 16);
  const before = new Date(now.getTime() - 10 * 60_000);
  await applyFilters(page, { actor: u.username, from: minute(before), to: minute(now) });
  await rowsWhen(page, (r) => assert.equal(r.length, 2)); // login and the key
  await applyFilters(page, { actor: u.username, from: '2001-01-01T00:00', to: '2001-01-02T00:00' });
  await rowsWhen(page, (r) => assert.equal(r.length, 0));
  await expectVisible(page.getByText('No events match these filters.', { exact: true }), 'the empty state');
  // To before From is refused at the field, before anything is asked
  await applyFilters(page, { from: '2030-01-02T00:00', to: '2030-01-01T00:00' });
  await expectText(page.getByRole('alert').first(), 'To must not be before From.', 'the field alert');
  await page.context().close();
});

test('without view_audit there is no "Audit" link, and #/audit says so in words', T, async () => {
  const u = await createUser(s.admin);
  const page = await s.newPage();
  await login(page, u.username, u.password);
  const nav = page.getByRole('navigation', { name: 'Main' });
  assert.equal(await nav.getByRole('link', { name: 'Audit', exact: true }).count(), 0, 'no "Audit" link');
  await page.goto('/#/audit');
  await expectVisible(page.getByRole('heading', { name: 'Audit', level: 1 }), 'h1 "Audit"');
  await expectText(page.getByRole('alert').first(),
    /You do not have permission to view the audit log\. It is shown to holders of the View Audit authority \(view_audit\)/,
    'the message');
  assert.equal(await page.getByRole('table').count(), 0, 'no table');
  await shot(page, 'audit-no-permission');
  await page.context().close();
});

test('when the server refuses (view_audit taken away meanwhile) the answer shows in role="alert"', T, async () => {
  const a = await auditor();
  const page = await s.newPage();
  await login(page, a.username, a.password);
  await goTo(page, 'Audit');
  await rowsWhen(page, (r) => assert.ok(r.length > 0));
  await s.admin.put(`/v1/roles/${a.role}`, { authorities: [] });
  await page.getByRole('button', { name: 'Apply filters', exact: true }).click();
  await expectText(page.getByRole('alert').first(), 'Reading the audit trail needs view_audit.', 'the server\'s words');
  await page.context().close();
});
