// users.test.mjs — Admin → Users (docs/PORTAL.md "Users"): the list, the "User Account
// Details" window walked as seed 002 walks it (API Keys section, Generate key on one's own
// account), and the admin work on an account: full name, email, roles and groups offered only
// as far as the caller may grant them, password reset, MFA off, disable/enable and delete
// behind confirmations, and the server's refusals shown in role="alert".
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { Api, ApiError, createUser, password, totp, uniq, verify } from './daemon.mjs';
import {
  dialog, eventually, expectGone, expectText, expectVisible, goTo, lbl, login, pageHolds, rowWith,
  shot, suite, tableRows, TEST_TIMEOUT,
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
  assert.equal(await dlg.getByRole('button', { name: 'Generate key' }).count(), 0,
    'no "Generate key" on someone else\'s account: nobody creates keys for another person');
  await shot(page, 'user-details.png');
  await shot(page, 'user-details');
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
  await expectVisible(dlg.getByText(/you do not have the right permissions/), 'the sentence about permissions');
  await expectVisible(dlg.getByText(/Manage User API Keys authority \(manage_user_api_keys\)/),
    'the sentence names the authority');
  await shot(page, 'user-details-no-keys');
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
  await shot(page, 'users-new-user-dialog');
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

test('"Disable" asks first; after the confirmation the user cannot log in, and "Enable" lets them in again', T, async () => {
  const u = await createUser(s.admin);
  const page = await adminOnUsers();
  const dlg = await openDetails(page, u.username);
  await dlg.getByRole('button', { name: 'Disable', exact: true }).click();
  const confirm = dialog(page, 'Disable user');
  await expectVisible(confirm, 'confirmation "Disable user"');
  await confirm.getByRole('button', { name: 'Cancel', exact: true }).click();
  await expectGone(confirm, 'the confirmation after Cancel');
  assert.equal((await s.admin.get(`/v1/users/${u.username}`)).disabled, false, 'Cancel changes nothing');
  await dlg.getByRole('button', { name: 'Disable', exact: true }).click();
  await shot(page, 'user-disable-confirm');
  await confirm.getByRole('button', { name: 'Disable', exact: true }).click();
  await expectVisible(dlg.getByRole('button', { name: 'Enable', exact: true }), 'button "Enable" after Disable');
  await expectVisible(dlg.getByRole('status').filter({ hasText: `${u.username} is now disabled.` }), 'status');
  const got = await s.admin.get(`/v1/users/${u.username}`);
  assert.equal(got.disabled, true);
  await assert.rejects(Api.login(s.base, u.username, u.password), (e) => e instanceof ApiError && e.status === 401);
  await dlg.getByRole('button', { name: 'Enable', exact: true }).click();
  await expectVisible(dlg.getByRole('button', { name: 'Disable', exact: true }), 'button "Disable" after Enable');
  assert.equal((await s.admin.get(`/v1/users/${u.username}`)).disabled, false, 'enabled again');
  await Api.login(s.base, u.username, u.password);
  await page.context().close();
});

// ---- seed 002: Generate key on one's own account ----------------------------------------

test('seed 002: Admin → Users → your Username → User Account Details → API Keys → Generate key → New API Key → Save generated key; the key is then listed', T, async () => {
  const page = await s.newPage();
  await login(page, 'admin', 'correct-horse-battery');
  // "Select Admin from the application menu, then click Users in the left pane."
  const adminGroup = page.getByRole('navigation', { name: 'Main' }).getByRole('list', { name: 'Admin' });
  await adminGroup.getByRole('link', { name: 'Users', exact: true }).click();
  await expectVisible(page.getByRole('heading', { name: 'Users', level: 1 }), 'h1 "Users"');
  // "click the Username of the user account to open the User Account Details window"
  const dlg = await openDetails(page, 'admin');
  // "In the API Keys section, click the Generate key button to open the New API Key window."
  const section = dlg.getByRole('region', { name: 'API Keys' });
  await expectVisible(section, 'section "API Keys"');
  await shot(page, 'user-details-own');
  await section.getByRole('button', { name: 'Generate key', exact: true }).click();
  const nk = dialog(page, 'New API Key');
  await expectVisible(nk, 'window "New API Key"');
  await expectVisible(nk.getByText('*').first(), 'required fields marked with an asterisk');
  const name = uniq('seed002-');
  await nk.getByLabel(lbl('Name')).fill(name);
  await nk.getByLabel(lbl('Description')).fill('Made as seed 002 describes');
  // "click items in the Available API column and then click the right arrow"
  await nk.getByLabel(lbl('Available API')).selectOption([{ label: 'Tasks' }, { label: 'Session' }]);
  const right = nk.getByRole('button', { name: 'Add selected', exact: true });
  assert.equal((await right.innerText()).trim(), '→', 'the right arrow');
  await right.click();
  // "click items in the Selected API column and then click the left arrow to move them back"
  await nk.getByLabel(lbl('Selected API')).selectOption([{ label: 'Session' }]);
  const left = nk.getByRole('button', { name: 'Remove selected', exact: true });
  assert.equal((await left.innerText()).trim(), '←', 'the left arrow');
  await left.click();
  const selected = (await nk.getByLabel(lbl('Selected API')).locator('option').allInnerTexts()).map((t) => t.trim());
  assert.deepEqual(selected, ['Tasks'], 'Selected API after the arrows');
  await shot(page, 'user-details-new-key');
  // "Click Finish to complete generating the API key and open the Save generated key window."
  await nk.getByRole('button', { name: 'Finish', exact: true }).click();
  const save = dialog(page, 'Save generated key');
  await expectVisible(save, 'window "Save generated key"');
  const field = save.getByLabel(lbl('API key'));
  const key = await eventually(async () => {
    const v = await field.inputValue({ timeout: 1000 });
    assert.match(v, /^apk_/, 'the key is shown');
    return v;
  });
  await shot(page, 'user-details-save-key');
  await save.getByRole('button', { name: 'Copy to clipboard', exact: true }).click();
  await expectVisible(save.getByText('Copied to clipboard.', { exact: true }), 'status "Copied to clipboard."');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key, 'the clipboard holds the key');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    save.getByRole('button', { name: 'Download', exact: true }).click(),
  ]);
  assert.equal(download.suggestedFilename(), `${name}.APIKEY`, 'the *.APIKEY file');
  assert.equal(fs.readFileSync(await download.path(), 'utf8'), `${key}\n`);
  await save.getByRole('button', { name: 'Close', exact: true }).click();
  await expectGone(save, 'window "Save generated key" after Close');
  // the new key in the section's list, owned by the admin, valid for Tasks
  await expectVisible(rowWith(section.getByRole('table'), name), `the row of ${name} in "API Keys"`);
  const { rows } = await tableRows(section.getByRole('table'));
  const row = rows.find((r) => r['Key Name'] === name);
  assert.ok(row, `a row for ${name} (${JSON.stringify(rows)})`);
  assert.equal(row.Scope, 'Tasks');
  const v = await verify(s.base, key, { scope: 'Tasks' });
  assert.equal(v.code, 'VALID');
  assert.equal(v.owner.name, 'admin');
  assert.equal(await pageHolds(page, key), null, 'the secret is gone from the page after Close');
  await page.context().close();
});

test('a holder of manage_user_api_keys alone finds their own account and generates a key there', T, async () => {
  const role = uniq('keymgr');
  await s.admin.post('/v1/roles', { name: role, authorities: ['manage_user_api_keys'] });
  const km = await createUser(s.admin, { roles: ['user', role] });
  const page = await s.newPage();
  await login(page, km.username, km.password);
  await goTo(page, 'Users');
  await page.getByLabel(lbl('Username')).fill(km.username);
  await page.getByRole('button', { name: 'Show user', exact: true }).click();
  const dlg = dialog(page, 'User Account Details');
  await expectVisible(dlg, 'dialog "User Account Details"');
  await dlg.getByRole('button', { name: 'Generate key', exact: true }).click();
  const nk = dialog(page, 'New API Key');
  const name = uniq('mine-');
  await nk.getByLabel(lbl('Name')).fill(name);
  await nk.getByLabel(lbl('Available API')).selectOption([{ label: 'Tasks' }]);
  await nk.getByRole('button', { name: 'Add selected', exact: true }).click();
  await nk.getByRole('button', { name: 'Finish', exact: true }).click();
  const save = dialog(page, 'Save generated key');
  await save.getByRole('button', { name: 'Close', exact: true }).click();
  await expectVisible(rowWith(dlg.getByRole('table'), name), `the row of ${name}`);
  const api = await s.daemon.api(km.username, km.password);
  assert.deepEqual((await api.get('/v1/keys')).keys.map((k) => k.name), [name], 'the key is the caller\'s own');
  await page.context().close();
});

// ---- the admin's work on an account ------------------------------------------------------

test('an admin changes full name, email and roles in "User Account Details"', T, async () => {
  const role = uniq('editors');
  await s.admin.post('/v1/roles', { name: role, authorities: ['manage_projects'] });
  const u = await createUser(s.admin, { fullName: 'Old Name', email: 'old@example.com' });
  const page = await adminOnUsers();
  const dlg = await openDetails(page, u.username);
  const account = dlg.getByRole('region', { name: 'Account', exact: true });
  await expectVisible(account, 'section "Account"');
  assert.equal(await account.getByLabel(lbl('Full name')).inputValue(), 'Old Name');
  await account.getByLabel(lbl('Full name')).fill('New Name');
  await account.getByLabel(lbl('Email')).fill('new@example.com');
  await account.getByRole('checkbox', { name: role, exact: true }).check();
  await account.getByRole('button', { name: 'Save changes', exact: true }).click();
  await expectVisible(dlg.getByRole('status').filter({ hasText: 'Changes saved.' }), 'status "Changes saved."');
  const got = await s.admin.get(`/v1/users/${u.username}`);
  assert.equal(got.full_name, 'New Name');
  assert.equal(got.email, 'new@example.com');
  assert.deepEqual([...got.roles].sort(), [role, 'user'].sort());
  await expectVisible(rowWith(page.getByRole('table', { name: 'User accounts' }), 'New Name'), 'the list shows the new name');
  await shot(page, 'user-details-edit');
  await page.context().close();
});

test('an admin adds a user to a group and takes them out again (PUT /v1/groups/{name})', T, async () => {
  const u = await createUser(s.admin);
  const other = await createUser(s.admin);
  const group = uniq('team');
  await s.admin.post('/v1/groups', { name: group, roles: ['user'], members: [other.username] });
  const page = await adminOnUsers();
  const dlg = await openDetails(page, u.username);
  const groups = dlg.getByRole('region', { name: 'Groups', exact: true });
  const box = groups.getByRole('checkbox', { name: group, exact: true });
  await expectVisible(box, `checkbox "${group}"`);
  await box.check();
  await groups.getByRole('button', { name: 'Save groups', exact: true }).click();
  await expectVisible(dlg.getByRole('status').filter({ hasText: 'Groups saved.' }), 'status "Groups saved."');
  let g = await s.admin.get(`/v1/groups/${group}`);
  assert.deepEqual([...g.members].sort(), [other.username, u.username].sort(), 'added, the other member kept');
  assert.deepEqual((await s.admin.get(`/v1/users/${u.username}`)).groups, [group]);
  await box.uncheck();
  await groups.getByRole('button', { name: 'Save groups', exact: true }).click();
  await eventually(async () => {
    g = await s.admin.get(`/v1/groups/${group}`);
    assert.deepEqual(g.members, [other.username], 'taken out, the other member kept');
  });
  await page.context().close();
});

test('"Reset password" asks first, refuses a weak password in an alert, then sets the new one', T, async () => {
  const u = await createUser(s.admin);
  const page = await adminOnUsers();
  const dlg = await openDetails(page, u.username);
  const sec = dlg.getByRole('region', { name: 'Password and MFA' });
  await sec.getByLabel(lbl('New password')).fill('short');
  await sec.getByRole('button', { name: 'Reset password', exact: true }).click();
  let confirm = dialog(page, 'Reset password');
  await expectVisible(confirm.getByText(/cannot be undone/), 'a confirmation that says it cannot be undone');
  await confirm.getByRole('button', { name: 'Reset password', exact: true }).click();
  await expectGone(confirm, 'the confirmation');
  await expectVisible(sec.getByRole('alert'), 'the server\'s refusal in role="alert"');
  await expectText(sec.getByRole('alert').first(), /New password/, 'the alert names the field');
  await shot(page, 'user-details-password-error');
  await Api.login(s.base, u.username, u.password); // unchanged
  const pw = password();
  await sec.getByLabel(lbl('New password')).fill(pw);
  await sec.getByRole('button', { name: 'Reset password', exact: true }).click();
  confirm = dialog(page, 'Reset password');
  await confirm.getByRole('button', { name: 'Reset password', exact: true }).click();
  await expectVisible(dlg.getByRole('status').filter({ hasText: `The password of ${u.username} was reset.` }), 'status');
  assert.equal(await sec.getByRole('alert').count(), 0, 'the alert is gone');
  await assert.rejects(Api.login(s.base, u.username, u.password), (e) => e instanceof ApiError && e.status === 401);
  await Api.login(s.base, u.username, pw);
  await page.context().close();
});

test('"Turn off MFA" is offered only while the user has MFA on, and asks first', T, async () => {
  const u = await createUser(s.admin);
  const plain = await createUser(s.admin);
  const api = await s.daemon.api(u.username, u.password);
  const { secret } = await api.post('/v1/me/mfa', { current_password: u.password });
  await api.post('/v1/me/mfa/confirm', { code: await totp(secret), current_password: u.password });
  const page = await adminOnUsers();
  let dlg = await openDetails(page, plain.username);
  await expectVisible(dlg.getByRole('region', { name: 'Password and MFA' }), 'section "Password and MFA"');
  assert.equal(await dlg.getByRole('button', { name: 'Turn off MFA' }).count(), 0, 'not offered with MFA off');
  await dlg.getByRole('button', { name: 'Close', exact: true }).click();
  dlg = await openDetails(page, u.username);
  await dlg.getByRole('button', { name: 'Turn off MFA', exact: true }).click();
  const confirm = dialog(page, 'Turn off MFA');
  await expectVisible(confirm.getByText(/cannot be undone/), 'a confirmation that says it cannot be undone');
  await shot(page, 'user-mfa-off-confirm');
  await confirm.getByRole('button', { name: 'Turn off MFA', exact: true }).click();
  await expectVisible(dlg.getByRole('status').filter({ hasText: `MFA of ${u.username} is now off.` }), 'status');
  await expectGone(dlg.getByRole('button', { name: 'Turn off MFA' }), 'the button once MFA is off');
  assert.equal((await s.admin.get(`/v1/users/${u.username}`)).mfa_enabled, false);
  await Api.login(s.base, u.username, u.password); // the password alone again
  await page.context().close();
});

test('"Delete user" asks first; after Delete the user is gone from the list and the server', T, async () => {
  const u = await createUser(s.admin);
  const page = await adminOnUsers();
  const dlg = await openDetails(page, u.username);
  await dlg.getByRole('button', { name: 'Delete user', exact: true }).click();
  const confirm = dialog(page, 'Delete user');
  await expectVisible(confirm.getByText(/permanent and cannot be undone/), 'a confirmation that says it cannot be undone');
  await shot(page, 'user-delete-confirm');
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await expectGone(dlg, 'the details window after Delete');
  await expectGone(rowWith(page.getByRole('table', { name: 'User accounts' }), u.username), 'the row of the user');
  await expectVisible(page.getByRole('status').filter({ hasText: `User ${u.username} deleted.` }), 'status');
  const r = await s.admin.raw('GET', `/v1/users/${u.username}`);
  assert.equal(r.status, 404);
  await page.context().close();
});

test('your own account: name and email editable, no roles, groups, reset, disable or delete', T, async () => {
  const page = await adminOnUsers();
  const dlg = await openDetails(page, 'admin');
  await expectVisible(dlg.getByText(/You cannot change your own roles/), 'own roles are not offered');
  await expectVisible(dlg.getByText(/You cannot change your own groups/), 'own groups are not offered');
  for (const b of ['Reset password', 'Disable', 'Delete user', 'Turn off MFA']) {
    assert.equal(await dlg.getByRole('button', { name: b, exact: true }).count(), 0, `no "${b}" for oneself`);
  }
  assert.equal(await dlg.getByRole('checkbox').count(), 0, 'no role or group checkboxes');
  await expectVisible(dlg.getByRole('button', { name: 'Save changes', exact: true }), 'button "Save changes"');
  await page.context().close();
});

// ---- what a less-than-admin may offer, and the server's refusals --------------------------

// A user manager holding manage_users and manage_groups but neither admin nor view_audit,
// a role they do not hold (view_audit), and groups carrying each.
async function limitedManager() {
  const mgrRole = uniq('usermgr');
  const auditRole = uniq('auditor');
  await s.admin.post('/v1/roles', { name: mgrRole, authorities: ['manage_users', 'manage_groups'] });
  await s.admin.post('/v1/roles', { name: auditRole, authorities: ['view_audit'] });
  const mgr = await createUser(s.admin, { roles: ['user', mgrRole] });
  const plainGroup = uniq('plain');
  const auditGroup = uniq('audit');
  const adminGroup = uniq('admins');
  await s.admin.post('/v1/groups', { name: plainGroup, roles: ['user'] });
  await s.admin.post('/v1/groups', { name: auditGroup, roles: [auditRole] });
  await s.admin.post('/v1/groups', { name: adminGroup, roles: ['admin'] });
  return { mgr, mgrRole, auditRole, plainGroup, auditGroup, adminGroup };
}

test('a user manager holding less than admin is offered only the roles and groups they hold', T, async () => {
  const m = await limitedManager();
  const u = await createUser(s.admin);
  const page = await s.newPage();
  await login(page, m.mgr.username, m.mgr.password);
  await goTo(page, 'Users');
  const dlg = await openDetails(page, u.username);
  const account = dlg.getByRole('region', { name: 'Account', exact: true });
  await expectVisible(account.getByRole('checkbox', { name: 'user', exact: true }), 'role "user" offered');
  await expectVisible(account.getByRole('checkbox', { name: m.mgrRole, exact: true }), 'a role they hold is offered');
  for (const r of ['admin', m.auditRole]) {
    assert.equal(await dlg.getByRole('checkbox', { name: r, exact: true }).count(), 0, `role "${r}" is not offered`);
  }
  await expectVisible(account.getByText('Only the roles whose authorities you hold are offered.'), 'the hint');
  const groups = dlg.getByRole('region', { name: 'Groups', exact: true });
  await expectVisible(groups.getByRole('checkbox', { name: m.plainGroup, exact: true }), 'a group of held roles is offered');
  for (const g of [m.auditGroup, m.adminGroup]) {
    assert.equal(await groups.getByRole('checkbox', { name: g, exact: true }).count(), 0, `group "${g}" is not offered`);
  }
  await shot(page, 'user-details-limited');
  await dlg.getByRole('button', { name: 'Close', exact: true }).click();
  // "+ New user" offers the same roles
  await page.getByRole('button', { name: '+ New user', exact: true }).click();
  const nu = dialog(page, 'New user');
  await expectVisible(nu.getByRole('checkbox', { name: 'user', exact: true }), 'role "user" in New user');
  for (const r of ['admin', m.auditRole]) {
    assert.equal(await nu.getByRole('checkbox', { name: r, exact: true }).count(), 0, `"New user" does not offer "${r}"`);
  }
  await nu.getByRole('button', { name: 'Cancel', exact: true }).click();
  // an admin's account is out of reach: nothing to change is offered
  const dlgAdmin = await openDetails(page, 'admin');
  await expectVisible(dlgAdmin.getByText(/You cannot change admin's account/), 'the reason');
  for (const b of ['Save changes', 'Reset password', 'Disable', 'Delete user']) {
    assert.equal(await dlgAdmin.getByRole('button', { name: b, exact: true }).count(), 0, `no "${b}" on an admin`);
  }
  await page.context().close();
});

test('the server\'s refusal (403 not-held) appears in words in role="alert" and nothing changes', T, async () => {
  const m = await limitedManager();
  const u = await createUser(s.admin, { fullName: 'Before' });
  const page = await s.newPage();
  await login(page, m.mgr.username, m.mgr.password);
  await goTo(page, 'Users');
  const dlg = await openDetails(page, u.username);
  // meanwhile an administrator gives the user a role the manager does not hold
  await s.admin.patch(`/v1/users/${u.username}`, { roles: ['user', m.auditRole] });
  const account = dlg.getByRole('region', { name: 'Account', exact: true });
  await account.getByLabel(lbl('Full name')).fill('After');
  await account.getByRole('button', { name: 'Save changes', exact: true }).click();
  const alert = account.getByRole('alert');
  await expectVisible(alert, 'an alert');
  await expectText(alert.first(), /you may grant only roles whose authorities you hold yourself/, 'the refusal in words');
  assert.equal((await s.admin.get(`/v1/users/${u.username}`)).full_name, 'Before', 'nothing changed');
  // the same for a delete: the refusal shows in the confirmation
  await dlg.getByRole('button', { name: 'Delete user', exact: true }).click();
  const confirm = dialog(page, 'Delete user');
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await expectVisible(confirm.getByRole('alert'), 'an alert in the confirmation');
  await expectText(confirm.getByRole('alert').first(), /manage only people who hold no more than you do/, 'the refusal in words');
  await shot(page, 'user-delete-refused');
  await confirm.getByRole('button', { name: 'Cancel', exact: true }).click();
  assert.equal((await s.admin.raw('GET', `/v1/users/${u.username}`)).status, 200, 'the user is still there');
  await page.context().close();
});
