// accounts.test.mjs — API Accounts (docs/PORTAL.md "API Accounts"): a site-wide account made
// by an admin, its keys through the same New API Key / Save generated key dialogs, deletion.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uniq, verify } from './daemon.mjs';
import {
  dialog, eventually, expectGone, expectVisible, goTo, lbl, login, rowWith, selectByText, shot,
  suite, tableRows, TEST_TIMEOUT,
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

async function accountViaApi() {
  const name = uniq('robot-');
  const acc = await s.admin.post('/v1/service-accounts', { name, description: 'made by the test' });
  return { name, id: acc.id };
}

test('an admin creates a site-wide API account', T, async () => {
  const page = await adminOnAccounts();
  const name = uniq('site-bot-');
  await page.getByRole('button', { name: '+ New API account', exact: true }).click();
  const dlg = dialog(page, 'New API account');
  await expectVisible(dlg, 'dialog "New API account"');
  await dlg.getByLabel(lbl('Name')).fill(name);
  await dlg.getByLabel(lbl('Description')).fill('Nightly imports');
  await selectByText(dlg, 'Project', 'Site-wide');
  await dlg.getByRole('button', { name: 'Create', exact: true }).click();
  await expectGone(dlg, 'dialog "New API account" after Create');
  const table = page.getByRole('table');
  await expectVisible(rowWith(table, name), `row of ${name}`);
  const { headers, rows } = await tableRows(table);
  for (const hd of ['Name', 'Project', 'Created by', 'Status']) {
    assert.ok(headers.includes(hd), `column "${hd}" (got ${JSON.stringify(headers)})`);
  }
  const row = rows.find((r) => r.Name === name);
  assert.ok(row, `a row named ${name} (rows ${JSON.stringify(rows)})`);
  assert.equal(row['Created by'], 'admin');
  await expectVisible(page.getByRole('button', { name: `Keys for ${name}`, exact: true }), `button "Keys for ${name}"`);
  await expectVisible(page.getByRole('button', { name: `Delete ${name}`, exact: true }), `button "Delete ${name}"`);
  const { service_accounts: accounts } = await s.admin.get('/v1/service-accounts');
  const acc = accounts.find((a) => a.name === name);
  assert.ok(acc, 'the account exists on the server');
  assert.ok(acc.project == null, `site-wide: no project (got ${JSON.stringify(acc.project)})`);
  assert.equal(acc.description, 'Nightly imports');
  await shot(page, 'accounts.png');
  await page.context().close();
});

test('"Keys for NAME" lists the account\'s keys', T, async () => {
  const { name, id } = await accountViaApi();
  const keyName = uniq('acc-key-');
  await s.admin.post(`/v1/service-accounts/${id}/keys`, { name: keyName, scopes: ['Tasks'] });
  const page = await adminOnAccounts();
  await page.getByRole('button', { name: `Keys for ${name}`, exact: true }).click();
  const dlg = dialog(page, `API keys of ${name}`);
  await expectVisible(dlg, `dialog "API keys of ${name}"`);
  await expectVisible(dlg.getByText(keyName).first(), `the key ${keyName}`);
  await expectVisible(dlg.getByRole('button', { name: 'Create API key', exact: true }), 'button "Create API key"');
  await page.context().close();
});

test('a key for an API account is made through New API Key and shown once in Save generated key', T, async () => {
  const { name, id } = await accountViaApi();
  const page = await adminOnAccounts();
  await page.getByRole('button', { name: `Keys for ${name}`, exact: true }).click();
  const list = dialog(page, `API keys of ${name}`);
  await expectVisible(list, `dialog "API keys of ${name}"`);
  await list.getByRole('button', { name: 'Create API key', exact: true }).click();
  const dlg = dialog(page, 'New API Key');
  await expectVisible(dlg, 'dialog "New API Key"');
  const keyName = uniq('svc-key-');
  await dlg.getByLabel(lbl('Name')).fill(keyName);
  await dlg.getByLabel(lbl('Available API')).selectOption([{ label: 'PublishApp' }]);
  await dlg.getByRole('button', { name: 'Add selected', exact: true }).click();
  await dlg.getByRole('button', { name: 'Finish', exact: true }).click();
  const save = dialog(page, 'Save generated key');
  await expectVisible(save, 'dialog "Save generated key"');
  await expectVisible(save.getByText('Copy and save your API key now. For security reasons, it will not be shown again.'),
    'the show-once warning');
  const key = await eventually(async () => {
    const v = await save.getByLabel(lbl('API key')).inputValue({ timeout: 1000 });
    assert.match(v, KEY_RE);
    return v;
  });
  for (const b of ['Copy to clipboard', 'Download', 'Close']) {
    await expectVisible(save.getByRole('button', { name: b, exact: true }), `button "${b}"`);
  }
  await save.getByRole('button', { name: 'Close', exact: true }).click();
  await expectGone(save, 'dialog "Save generated key" after Close');
  assert.ok(!(await page.content()).includes(key), 'the key is gone from the page');
  const v = await verify(s.base, key);
  assert.equal(v.code, 'VALID', JSON.stringify(v));
  assert.deepEqual(v.owner, { type: 'service-account', name: id });
  assert.equal(v.created_by, 'admin');
  const { keys } = await s.admin.get(`/v1/service-accounts/${id}/keys`);
  assert.deepEqual(keys.map((k) => k.name), [keyName]);
  await page.context().close();
});

test('deleting an API account after a confirmation removes it and its keys stop verifying', T, async () => {
  const { name, id } = await accountViaApi();
  const { key } = await s.admin.post(`/v1/service-accounts/${id}/keys`, { name: 'doomed', scopes: ['Tasks'] });
  assert.equal((await verify(s.base, key)).code, 'VALID');
  const page = await adminOnAccounts();
  const table = page.getByRole('table');
  await expectVisible(rowWith(table, name), `row of ${name}`);
  await page.getByRole('button', { name: `Delete ${name}`, exact: true }).click();
  const confirm = page.getByRole('dialog').filter({ has: page.getByRole('button', { name: 'Delete', exact: true }) });
  await expectVisible(confirm, 'a confirmation dialog');
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await expectGone(confirm, 'the confirmation after Delete');
  await expectGone(rowWith(table, name), `row of ${name}`);
  const v = await verify(s.base, key);
  assert.equal(v.valid, false, `the account's key is refused (${JSON.stringify(v)})`);
  const r = await s.admin.raw('GET', `/v1/service-accounts/${id}`);
  assert.equal(r.status, 404, 'the account is gone');
  await page.context().close();
});
