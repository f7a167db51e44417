// accounts.test.mjs — API Accounts (docs/PORTAL.md "API Accounts"), walked as seed 004
// ("Open API key") walks it: "Create API Account"; "Edit" (and Disable/Enable, Delete) from the
// row's context menu; open an account, "Create API Key", the key saved with the clipboard button
// and gone from the page once the pane closes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOwnedProject, createUser, uniq, verify } from './daemon.mjs';
import {
  dialog, eventually, expectGone, expectText, expectVisible, goTo, lbl, login, pageHolds, rowWith,
  selectByText, shot, suite, tableRows, TEST_TIMEOUT,
} from './portal.mjs';

const s = suite('accounts');
const T = { timeout: TEST_TIMEOUT };
const KEY_RE = /^[a-z0-9]{1,16}_[0-9A-Za-z]{49}$/;

async function adminOnAccounts() {
  const page = await s.newPage();
  await login(page, 'admin', 'correct-horse-battery');
  await goTo(page, 'API Accounts');
  return page;
}

async function accountViaApi(extra = {}) {
  const name = uniq('robot-');
  const acc = await s.admin.post('/v1/service-accounts', { name, description: 'made by the test', ...extra });
  return { name, id: acc.id };
}

// Opens the row's "⋮" menu and chooses `item`.
async function rowMenu(page, name, item) {
  const button = page.getByRole('button', { name: `Actions for ${name}`, exact: true });
  await button.click();
  const menu = page.getByRole('menu', { name: `Actions for ${name}` });
  await expectVisible(menu, `menu "Actions for ${name}"`);
  await menu.getByRole('menuitem', { name: item, exact: true }).click();
}

async function accountRow(page, name) {
  const { rows } = await tableRows(page.getByRole('table', { name: 'API accounts you manage' }));
  return rows.find((r) => r.Name === name);
}

test('an admin creates a site-wide API account with "Create API Account"', T, async () => {
  const page = await adminOnAccounts();
  const name = uniq('site-bot-');
  await page.getByRole('button', { name: 'Create API Account', exact: true }).click();
  const dlg = dialog(page, 'Create API Account');
  await expectVisible(dlg, 'dialog "Create API Account"');
  await dlg.getByLabel(lbl('Name')).fill(name);
  await dlg.getByLabel(lbl('Description')).fill('Nightly imports');
  await selectByText(dlg, 'Project', 'Site-wide');
  assert.equal(await dlg.getByLabel(lbl('Role')).isDisabled(), true, 'no role without a project');
  await shot(page, 'accounts-create-dialog');
  await dlg.getByRole('button', { name: 'Create', exact: true }).click();
  await expectGone(dlg, 'dialog "Create API Account" after Create');
  const table = page.getByRole('table', { name: 'API accounts you manage' });
  await expectVisible(rowWith(table, name), `row of ${name}`);
  const { headers } = await tableRows(table);
  for (const hd of ['Name', 'Project', 'Created by', 'Status']) {
    assert.ok(headers.includes(hd), `column "${hd}" (got ${JSON.stringify(headers)})`);
  }
  const row = await accountRow(page, name);
  assert.ok(row, `a row named ${name}`);
  assert.equal(row['Created by'], 'admin');
  assert.equal(row.Project, 'Site-wide');
  assert.equal(row.Status, 'Active');
  await expectVisible(page.getByRole('button', { name, exact: true }), `the name ${name} opens the account`);
  await expectVisible(page.getByRole('button', { name: `Actions for ${name}`, exact: true }),
    `button "Actions for ${name}"`);
  const { service_accounts: accounts } = await s.admin.get('/v1/service-accounts');
  const acc = accounts.find((a) => a.name === name);
  assert.ok(acc, 'the account exists on the server');
  assert.ok(acc.project == null, `site-wide: no project (got ${JSON.stringify(acc.project)})`);
  assert.equal(acc.description, 'Nightly imports');
  await shot(page, 'accounts');
  await page.context().close();
});

test('"Edit" in the row\'s context menu changes the name and description', T, async () => {
  const { name, id } = await accountViaApi();
  const page = await adminOnAccounts();
  await rowMenu(page, name, 'Edit');
  const dlg = dialog(page, 'Edit API Account');
  await expectVisible(dlg, 'dialog "Edit API Account"');
  assert.equal(await dlg.getByLabel(lbl('Name')).inputValue(), name, 'Name filled in');
  assert.equal(await dlg.getByLabel(lbl('Description')).inputValue(), 'made by the test');
  await shot(page, 'accounts-edit-dialog');
  // a name another site-wide account has is refused, in words, next to Name
  const taken = await accountViaApi();
  await dlg.getByLabel(lbl('Name')).fill(taken.name);
  await dlg.getByRole('button', { name: 'Save', exact: true }).click();
  await expectVisible(dlg.getByRole('alert'), 'the conflict in words');
  const renamed = uniq('renamed-');
  await dlg.getByLabel(lbl('Name')).fill(renamed);
  await dlg.getByLabel(lbl('Description')).fill('Imports at night');
  await dlg.getByRole('button', { name: 'Save', exact: true }).click();
  await expectGone(dlg, 'dialog "Edit API Account" after Save');
  await expectVisible(page.getByRole('button', { name: renamed, exact: true }), `row of ${renamed}`);
  await expectVisible(page.getByText(`API account "${renamed}" saved.`), "the status");
  const acc = await s.admin.get(`/v1/service-accounts/${id}`);
  assert.equal(acc.name, renamed);
  assert.equal(acc.description, 'Imports at night');
  await page.context().close();
});

test('"Disable" (after a confirmation) and "Enable" in the menu stop and restore the account\'s keys', T, async () => {
  const { name, id } = await accountViaApi();
  const { key } = await s.admin.post(`/v1/service-accounts/${id}/keys`, { name: 'k', scopes: ['Tasks'] });
  const page = await adminOnAccounts();
  await rowMenu(page, name, 'Disable');
  const confirm = dialog(page, 'Disable API account');
  await expectVisible(confirm, 'dialog "Disable API account"');
  await shot(page, 'accounts-disable-confirm');
  await confirm.getByRole('button', { name: 'Disable', exact: true }).click();
  await expectGone(confirm, 'the confirmation after Disable');
  await eventually(async () => assert.equal((await accountRow(page, name))?.Status, 'Disabled'));
  assert.equal((await verify(s.base, key)).code, 'DISABLED', 'the key is refused at once');
  await rowMenu(page, name, 'Enable');
  await eventually(async () => assert.equal((await accountRow(page, name))?.Status, 'Active'));
  assert.equal((await verify(s.base, key)).code, 'VALID', 'the key works again');
  await page.context().close();
});

test('opening an account shows its keys; "Create API Key" shows the key once, with the clipboard button, and it is gone once the pane closes', T, async () => {
  const { name, id } = await accountViaApi();
  const old = uniq('acc-key-');
  await s.admin.post(`/v1/service-accounts/${id}/keys`, { name: old, scopes: ['Tasks'] });
  const page = await adminOnAccounts();
  await page.getByRole('button', { name, exact: true }).click();
  const pane = dialog(page, `API Account ${name}`);
  await expectVisible(pane, `the pane "API Account ${name}"`);
  await expectVisible(pane.getByRole('table', { name: `API keys of ${name}` }).getByText(old), `the key ${old}`);
  await shot(page, 'accounts-pane');
  await pane.getByRole('button', { name: 'Create API Key', exact: true }).click();
  const dlg = dialog(page, 'New API Key');
  await expectVisible(dlg, 'dialog "New API Key"');
  const keyName = uniq('svc-key-');
  await dlg.getByLabel(lbl('Name')).fill(keyName);
  await dlg.getByLabel(lbl('Available API')).selectOption([{ label: 'PublishApp' }]);
  await dlg.getByRole('button', { name: 'Add selected', exact: true }).click();
  await dlg.getByRole('button', { name: 'Finish', exact: true }).click();
  const save = dialog(page, 'Save generated key');
  await expectVisible(save, 'dialog "Save generated key"');
  const key = await eventually(async () => {
    const v = await save.getByLabel(lbl('API key')).inputValue({ timeout: 1000 });
    assert.match(v, KEY_RE);
    return v;
  });
  await shot(page, 'accounts-save-key');
  await save.getByRole('button', { name: 'Copy to clipboard', exact: true }).click();
  await expectVisible(save.getByText('Copied to clipboard.'), 'the copy is confirmed');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key, 'the clipboard holds the key');
  await save.getByRole('button', { name: 'Close', exact: true }).click();
  await expectGone(save, 'dialog "Save generated key" after Close');
  await expectVisible(pane.getByRole('table', { name: `API keys of ${name}` }).getByText(keyName), 'the new key in the pane');
  await pane.getByRole('button', { name: 'Close', exact: true }).click();
  await expectGone(pane, 'the pane after Close');
  assert.equal(await pageHolds(page, key), null, 'the key is gone from the page');
  assert.equal(await page.evaluate((k) => [...document.querySelectorAll('*')]
    .some((el) => [...el.attributes].some((a) => a.value.includes(k))), key), false, 'no attribute holds it');
  const v = await verify(s.base, key);
  assert.equal(v.code, 'VALID', JSON.stringify(v));
  assert.deepEqual(v.owner, { type: 'service-account', name: id });
  assert.equal(v.created_by, 'admin');
  const { keys } = await s.admin.get(`/v1/service-accounts/${id}/keys`);
  assert.deepEqual(keys.map((k) => k.name).sort(), [old, keyName].sort());
  await page.context().close();
});

test('a disabled account\'s pane says why "Create API Key" is not available', T, async () => {
  const { name, id } = await accountViaApi();
  await s.admin.patch(`/v1/service-accounts/${id}`, { disabled: true });
  const page = await adminOnAccounts();
  await page.getByRole('button', { name, exact: true }).click();
  const pane = dialog(page, `API Account ${name}`);
  const create = pane.getByRole('button', { name: 'Create API Key', exact: true });
  await expectVisible(create, 'button "Create API Key"');
  assert.equal(await create.isDisabled(), true, 'disabled');
  const why = await create.evaluate((el) => document.getElementById(el.getAttribute('aria-describedby'))?.textContent);
  assert.match(why || '', /disabled: enable it to create keys/);
  await page.context().close();
});

test('"Delete" in the menu, after a confirmation, removes the account and its keys stop verifying', T, async () => {
  const { name, id } = await accountViaApi();
  const { key } = await s.admin.post(`/v1/service-accounts/${id}/keys`, { name: 'doomed', scopes: ['Tasks'] });
  assert.equal((await verify(s.base, key)).code, 'VALID');
  const page = await adminOnAccounts();
  await rowMenu(page, name, 'Delete');
  const confirm = dialog(page, 'Delete API account');
  await expectVisible(confirm, 'dialog "Delete API account"');
  await expectVisible(confirm.getByText(/is permanent and cannot be undone/), 'the warning');
  await shot(page, 'accounts-delete-confirm');
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await expectGone(confirm, 'the confirmation after Delete');
  await expectGone(page.getByRole('button', { name, exact: true }), `row of ${name}`);
  const v = await verify(s.base, key);
  assert.equal(v.valid, false, `the account's key is refused (${JSON.stringify(v)})`);
  const r = await s.admin.raw('GET', `/v1/service-accounts/${id}`);
  assert.equal(r.status, 404, 'the account is gone');
  await page.context().close();
});

test('a project owner sees only their projects\' accounts and makes one in their project, not site-wide', T, async () => {
  const u = await createUser(s.admin);
  const pname = uniq('Atlas ');
  const project = await createOwnedProject(s.admin, u, pname);
  const site = await accountViaApi();
  const page = await s.newPage();
  await login(page, u.username, u.password);
  await goTo(page, 'API Accounts');
  await expectVisible(page.getByText('There are no API accounts you manage yet.'), 'the empty state');
  await expectGone(page.getByRole('button', { name: site.name, exact: true }), 'the site-wide account');
  await page.getByRole('button', { name: 'Create API Account', exact: true }).click();
  const dlg = dialog(page, 'Create API Account');
  // The dialog opens once the projects and their members are loaded: wait for it before
  // reading its options (allInnerTexts does not wait, and read [] in a loaded full run).
  await expectVisible(dlg, 'dialog "Create API Account"');
  const options = (await dlg.getByLabel(lbl('Project')).locator('option').allInnerTexts()).map((t) => t.trim());
  assert.deepEqual(options, [pname], 'only the owned project; no "Site-wide"');
  const name = uniq('atlas-bot-');
  await dlg.getByLabel(lbl('Name')).fill(name);
  await selectByText(dlg, 'Role', 'reader');
  await dlg.getByRole('button', { name: 'Create', exact: true }).click();
  await expectGone(dlg, 'the dialog after Create');
  await eventually(async () => assert.equal((await accountRow(page, name))?.Project, pname));
  const { service_accounts: list } = await s.admin.get('/v1/service-accounts');
  const acc = list.find((a) => a.name === name);
  assert.equal(acc.project, project.id);
  const m = await s.admin.get(`/v1/projects/${project.id}/members/${encodeURIComponent(`service-account:${acc.id}`)}`);
  assert.equal(m.role, 'reader');
  await page.context().close();
});
