// users.test.mjs — the admin Users page (docs/PORTAL.md "Users"): the list, the "User Account
// Details" dialog and its API Keys section (only for holders of manage_user_api_keys).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Api, ApiError, createUser, password, uniq, verify } from './daemon.mjs';
import {
  dialog, expectGone, expectVisible, goTo, lbl, login, rowWith, shot, suite, tableRows, TEST_TIMEOUT,
} from './portal.mjs';

const s = suite('users');
const T = { timeout: TEST_TIMEOUT };

async function adminOnUsers() {
  const page = await s.newPage();
  await login(page, 'admin', 'correct-horse-battery');
  await goTo(page, 'Users');
  return page;
}

// A user with one key (made by the user through the API); returns {u, keyName, key}.
async function userWithKey() {
  const u = await createUser(s.admin, { fullName: 'Key Holder', email: 'holder@example.com' });
  const api = await s.daemon.api(u.username, u.password);
  const keyName = uniq('theirs-');
  const created = await api.post('/v1/keys', { name: keyName, scopes: ['Tasks'] });
  return { u, keyName, key: created.key };
}

async function openDetails(page, username) {
  const table = page.getByRole('table');
  await expectVisible(rowWith(table, username), `row of ${username}`);
  await rowWith(table, username).getByRole('button', { name: username, exact: true }).click();
  const dlg = dialog(page, 'User Account Details');
  await expectVisible(dlg, 'dialog "User Account Details"');
  return dlg;
}

test('the Users page lists users with Username, Full name, Email, Roles and Status', T, async () => {
  const a = await createUser(s.admin, { fullName: 'Grace Hopper', email: 'grace@example.com' });
  const b = await createUser(s.admin, { fullName: 'Alan Turing', email: 'alan@example.com', roles: ['admin'] });
  const page = await adminOnUsers();
  const table = page.getByRole('table');
  await expectVisible(rowWith(table, b.username), `row of ${b.username}`);
  const { headers, rows } = await tableRows(table);
  for (const hd of ['Username', 'Full name', 'Email', 'Roles', 'Status']) {
    assert.ok(headers.includes(hd), `column "${hd}" (got ${JSON.stringify(headers)})`);
  }
  const byName = Object.fromEntries(rows.map((r) => [r.Username, r]));
  for (const n of ['admin', a.username, b.username]) assert.ok(byName[n], `a row for ${n} (rows ${JSON.stringify(rows)})`);
  assert.equal(byName[a.username]['Full name'], 'Grace Hopper');
  assert.equal(byName[a.username].Email, 'grace@example.com');
  assert.match(byName[a.username].Roles, /\buser\b/);
  assert.match(byName[b.username].Roles, /\badmin\b/);
  assert.ok(byName[a.username].Status, 'a status is shown');
  await expectVisible(page.getByRole('button', { name: '+ New user', exact: true }), 'button "+ New user"');
  await shot(page, 'users.png');
  await page.context().close();
});

test('for an admin the details dialog shows the user\'s "API Keys" section with their keys', T, async () => {
  const { u, keyName } = await userWithKey();
  const page = await adminOnUsers();
  const dlg = await openDetails(page, u.username);
  await expectVisible(dlg.getByText(u.username).first(), 'the username in the dialog');
  await expectVisible(dlg.getByRole('heading', { name: 'API Keys', exact: true }), 'section "API Keys"');
  await expectVisible(dlg.getByText(keyName).first(), `the key ${keyName}`);
  await expectVisible(dlg.getByRole('button', { name: `Delete ${keyName}`, exact: true }), `button "Delete ${keyName}"`);
  await shot(page, 'user-details.png');
  await page.context().close();
});

test('a holder of manage_users only does not see the "API Keys" section in the details dialog', T, async () => {
  const role = uniq('usermgr');
  await s.admin.post('/v1/roles', { name: role, authorities: ['manage_users'] });
  const mgr = await createUser(s.admin, { roles: [role] });
  const { u, keyName } = await userWithKey();
  const page = await s.newPage();
  await login(page, mgr.username, mgr.password);
  await goTo(page, 'Users');
  const dlg = await openDetails(page, u.username);
  await expectVisible(dlg.getByText(u.username).first(), 'the username in the dialog');
  assert.equal(await dlg.getByRole('heading', { name: 'API Keys' }).count(), 0, 'no "API Keys" heading');
  assert.equal(await dlg.getByText(keyName).count(), 0, 'the user\'s key is not listed');
  assert.equal(await dlg.getByRole('button', { name: `Delete ${keyName}` }).count(), 0, 'no delete button');
  await page.context().close();
});

test('an admin deletes a user\'s key from the details dialog after a confirmation; the key stops verifying', T, async () => {
  const { u, keyName, key } = await userWithKey();
  const page = await adminOnUsers();
  const dlg = await openDetails(page, u.username);
  await dlg.getByRole('button', { name: `Delete ${keyName}`, exact: true }).click();
  const confirm = page.getByRole('dialog').filter({ hasText: 'cannot be undone' });
  await expectVisible(confirm, 'a confirmation that says it cannot be undone');
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await expectGone(confirm, 'the confirmation after Delete');
  await expectGone(page.getByRole('button', { name: `Delete ${keyName}`, exact: true }), `button "Delete ${keyName}"`);
  assert.equal((await verify(s.base, key)).code, 'NOT_FOUND', 'the key is refused');
  const { keys } = await s.admin.get(`/v1/users/${u.username}/keys`);
  assert.equal(keys.length, 0);
  await page.context().close();
});

test('"+ New user" creates a user who can log in', T, async () => {
  const page = await adminOnUsers();
  const name = uniq('newbie');
  const pw = password();
  await page.getByRole('button', { name: '+ New user', exact: true }).click();
  const dlg = dialog(page, 'New user');
  await expectVisible(dlg, 'dialog "New user"');
  await dlg.getByLabel(lbl('Username')).fill(name);
  await dlg.getByLabel(lbl('Password')).fill(pw);
  await dlg.getByLabel(lbl('Full name')).fill('New Person');
  await dlg.getByLabel(lbl('Email')).fill('new.person@example.com');
  const userRole = dlg.getByRole('checkbox', { name: 'user', exact: true });
  await expectVisible(userRole, 'checkbox for the role "user"');
  await expectVisible(dlg.getByRole('checkbox', { name: 'admin', exact: true }), 'checkbox for the role "admin"');
  await userRole.check();
  await dlg.getByRole('button', { name: 'Create', exact: true }).click();
  await expectGone(dlg, 'dialog "New user" after Create');
  await expectVisible(rowWith(page.getByRole('table'), name), `row of ${name}`);
  const got = await s.admin.get(`/v1/users/${name}`);
  assert.equal(got.full_name, 'New Person');
  assert.equal(got.email, 'new.person@example.com');
  assert.deepEqual(got.roles, ['user']);
  await Api.login(s.base, name, pw);
  await page.context().close();
});

test('"Disable" in the details dialog stops the user logging in', T, async () => {
  const u = await createUser(s.admin);
  const page = await adminOnUsers();
  const dlg = await openDetails(page, u.username);
  await dlg.getByRole('button', { name: 'Disable', exact: true }).click();
  await expectVisible(page.getByRole('button', { name: 'Enable', exact: true }), 'button "Enable" after Disable');
  const got = await s.admin.get(`/v1/users/${u.username}`);
  assert.equal(got.disabled, true);
  await assert.rejects(Api.login(s.base, u.username, u.password), (e) => e instanceof ApiError && e.status === 401);
  await page.context().close();
});
