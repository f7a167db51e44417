// keyboard.test.mjs — the portal by keyboard alone (docs/PORTAL.md: "works by keyboard
// (Tab / Enter / Space / Escape closes dialogs)").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createUser, uniq, verify } from './daemon.mjs';
import {
  dialog, eventually, expectGone, expectVisible, isFocused, lbl, login, rowWith, suite, tabTo,
  TEST_TIMEOUT,
} from './portal.mjs';

const s = suite('keyboard');
const T = { timeout: TEST_TIMEOUT };

async function userPage() {
  const u = await createUser(s.admin);
  const page = await s.newPage();
  await login(page, u.username, u.password);
  return { page, u };
}

const selectedValues = (select) => select.evaluate((el) => [...el.selectedOptions].map((o) => o.value));
const optionValues = (select) => select.evaluate((el) => [...el.options].map((o) => o.value));

test('the New API Key dialog can be opened, filled and submitted with the keyboard alone', T, async () => {
  const { page, u } = await userPage();
  const newKey = page.getByRole('button', { name: '+ New API key', exact: true });
  await tabTo(page, newKey);
  await page.keyboard.press('Enter');
  const dlg = dialog(page, 'New API Key');
  await expectVisible(dlg, 'dialog "New API Key" opened with Enter');

  const name = uniq('kbd-');
  await tabTo(page, dlg.getByLabel(lbl('Name')));
  await page.keyboard.type(name);
  await tabTo(page, dlg.getByLabel(lbl('Description')));
  await page.keyboard.type('typed, not clicked');

  const avail = dlg.getByLabel(lbl('Available API'));
  await tabTo(page, avail);
  // choose the first scope in the list box with the arrow keys (or Space)
  await page.keyboard.press('ArrowDown');
  if ((await selectedValues(avail)).length === 0) await page.keyboard.press('Space');
  const chosen = await selectedValues(avail);
  assert.ok(chosen.length > 0, 'a scope is selected in "Available API" by keyboard');
  await tabTo(page, dlg.getByRole('button', { name: 'Add selected', exact: true }));
  await page.keyboard.press('Space');
  await eventually(async () => {
    const sel = await optionValues(dlg.getByLabel(lbl('Selected API')));
    assert.deepEqual(sel, chosen, '"Add selected" by Space moved the scope');
  });

  await tabTo(page, dlg.getByRole('button', { name: 'Finish', exact: true }));
  await page.keyboard.press('Enter');
  const save = dialog(page, 'Save generated key');
  await expectVisible(save, 'dialog "Save generated key" after Enter on Finish');
  const key = await save.getByLabel(lbl('API key')).inputValue();
  await tabTo(page, save.getByRole('button', { name: 'Close', exact: true }));
  await page.keyboard.press('Enter');
  await expectGone(save, 'dialog "Save generated key" after Enter on Close');
  await expectVisible(rowWith(page.getByRole('table', { name: 'Your API keys' }), name), `row of ${name}`);

  const { keys } = await s.admin.get(`/v1/users/${u.username}/keys`);
  assert.equal(keys.length, 1);
  assert.equal(keys[0].name, name);
  assert.equal(keys[0].description, 'typed, not clicked');
  assert.deepEqual(keys[0].scopes, chosen);
  assert.equal((await verify(s.base, key)).code, 'VALID');
  await page.context().close();
});

test('Escape closes the New API Key dialog without creating a key', T, async () => {
  const { page, u } = await userPage();
  const newKey = page.getByRole('button', { name: '+ New API key', exact: true });
  await tabTo(page, newKey);
  await page.keyboard.press('Enter');
  const dlg = dialog(page, 'New API Key');
  await expectVisible(dlg, 'dialog "New API Key"');
  await tabTo(page, dlg.getByLabel(lbl('Name')));
  await page.keyboard.type('never-made');
  await page.keyboard.press('Escape');
  await expectGone(dlg, 'dialog "New API Key" after Escape');
  const { keys } = await s.admin.get(`/v1/users/${u.username}/keys`);
  assert.equal(keys.length, 0, 'no key made');
  await page.context().close();
});

test('the ⋮ menu and its Delete work by keyboard, and Escape cancels the confirmation', T, async () => {
  const u = await createUser(s.admin);
  const api = await s.daemon.api(u.username, u.password);
  const name = uniq('menu-');
  const { key } = await api.post('/v1/keys', { name, scopes: ['Tasks'] });
  const page = await s.newPage();
  await login(page, u.username, u.password);
  const table = page.getByRole('table', { name: 'Your API keys' });
  await expectVisible(rowWith(table, name), `row of ${name}`);
  await tabTo(page, page.getByRole('button', { name: `Actions for ${name}`, exact: true }));
  await page.keyboard.press('Enter');
  const item = page.getByRole('menu').getByRole('menuitem', { name: 'Delete', exact: true });
  await expectVisible(item, 'menu item "Delete"');
  if (!(await isFocused(item))) await tabTo(page, item, 5, 'ArrowDown');
  await page.keyboard.press('Enter');
  const confirm = dialog(page, 'Delete API key');
  await expectVisible(confirm, 'dialog "Delete API key" opened by keyboard');
  await page.keyboard.press('Escape');
  await expectGone(confirm, 'dialog "Delete API key" after Escape');
  await expectVisible(rowWith(table, name), `row of ${name} still there`);
  assert.equal((await verify(s.base, key)).code, 'VALID', 'the key was not deleted');
  await page.context().close();
});
