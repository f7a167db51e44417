// rotate.test.mjs — "Rotate" in the ⋮ menu of every key table that has one (docs/PORTAL.md
// "Rotate API key"): User API Keys, User Settings → API Keys and an API account's keys. The
// overlap is chosen in the dialog "Rotate API key", the new key is shown once in "Save generated
// key", the old key works for the overlap and is then listed "(rotated out)" with Delete only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createUser, uniq, verify } from './daemon.mjs';
import {
  dialog, eventually, expectGone, expectText, expectVisible, goTo, isFocused, lbl, login,
  pageHolds, rowWith, shot, suite, tabTo, TEST_TIMEOUT,
} from './portal.mjs';

const s = suite('rotate');
const T = { timeout: TEST_TIMEOUT };
const KEY_RE = /^[a-z0-9]{1,16}_[0-9A-Za-z]{49}$/;
const HOUR = 3600;

// Seconds between now and an RFC 3339 time.
const secondsFromNow = (iso) => (new Date(iso).getTime() - Date.now()) / 1000;

// A user with one key made through the API; the page logged in on User API Keys.
async function userWithKey(scopes = ['Tasks']) {
  const u = await createUser(s.admin);
  const api = await s.daemon.api(u.username, u.password);
  const name = uniq('rot-');
  const old = await api.post('/v1/keys', { name, scopes, description: 'nightly sync' });
  const page = await s.newPage();
  await login(page, u.username, u.password);
  return { u, api, name, old, page };
}

// Opens the ⋮ menu "Actions for LABEL" inside scope and returns the menu.
async function openMenu(page, scope, label) {
  await scope.getByRole('button', { name: `Actions for ${label}`, exact: true }).click();
  const menu = page.getByRole('menu', { name: `Actions for ${label}` });
  await expectVisible(menu, `menu "Actions for ${label}"`);
  return menu;
}

// Chooses the overlap in "Rotate API key" and presses Rotate; returns the new secret read
// from "Save generated key" (and that dialog).
async function rotateInDialog(page, overlap) {
  const dlg = dialog(page, 'Rotate API key');
  await expectVisible(dlg, 'dialog "Rotate API key"');
  await dlg.getByRole('radio', { name: overlap, exact: true }).check();
  await dlg.getByRole('button', { name: 'Rotate', exact: true }).click();
  const save = dialog(page, 'Save generated key');
  await expectVisible(save, 'dialog "Save generated key" after Rotate');
  const key = await eventually(async () => {
    const v = await save.getByLabel(lbl('API key')).inputValue({ timeout: 1000 });
    assert.match(v, KEY_RE, 'the "API key" field holds the new key');
    return v;
  });
  return { key, save };
}

test('User API Keys: "Rotate" offers the overlaps, shows the new key once, and lists the old one as rotated out', T, async () => {
  const { api, name, old, page } = await userWithKey();
  const table = page.getByRole('table', { name: 'Your API keys' });
  await expectVisible(rowWith(table, name), `row of ${name}`);
  const menu = await openMenu(page, page, name);
  const items = (await menu.getByRole('menuitem').allInnerTexts()).map((t) => t.trim());
  assert.deepEqual(items, ['Rotate', 'Delete'], 'the ⋮ menu of a current key');
  await menu.getByRole('menuitem', { name: 'Rotate', exact: true }).click();
  const dlg = dialog(page, 'Rotate API key');
  await expectVisible(dlg, 'dialog "Rotate API key"');
  const group = dlg.getByRole('group', { name: 'The old key stops working' });
  await expectVisible(group, 'the group "The old key stops working"');
  const radios = group.getByRole('radio');
  assert.equal(await radios.count(), 4, 'four overlaps');
  for (const label of ['Now', 'In 1 hour', 'In 1 day', 'In 7 days']) {
    await expectVisible(group.getByRole('radio', { name: label, exact: true }), `choice "${label}"`);
  }
  assert.equal(await group.getByRole('radio', { name: 'Now', exact: true }).isChecked(), true,
    '"Now" is chosen at first');
  await expectText(dlg.getByText(/A new key replaces/), `A new key replaces "${name}", with the same `
    + 'name, description and scopes. It is shown once, like a new key.', 'the explanation');
  await shot(page, 'rotate-dialog');

  const { key, save } = await rotateInDialog(page, 'In 1 hour');
  assert.notEqual(key, old.key, 'a new secret');
  await shot(page, 'rotate-save-once');
  await save.getByRole('button', { name: 'Copy to clipboard', exact: true }).click();
  await expectVisible(save.getByText('Copied to clipboard.'), 'the copy is confirmed');
  await save.getByRole('button', { name: 'Close', exact: true }).click();
  await expectGone(save, 'dialog "Save generated key" after Close');
  assert.equal(await pageHolds(page, key), null, 'the new key is gone from the page');
  await expectVisible(page.getByRole('status').getByText(`API key "${name}" rotated.`), 'the status');

  const { keys } = await api.get('/v1/keys');
  const fresh = keys.find((k) => k.rotated_from === old.id);
  const was = keys.find((k) => k.id === old.id);
  assert.ok(fresh, 'the new key names the old one in rotated_from');
  assert.equal(fresh.name, name);
  assert.equal(fresh.description, 'nightly sync');
  assert.equal(was.superseded_by, fresh.id, 'the old key names its successor');
  const left = secondsFromNow(was.expires_at);
  assert.ok(left > HOUR - 120 && left <= HOUR + 5, `the old key ends in about an hour (${left} s)`);
  assert.equal((await verify(s.base, key)).code, 'VALID', 'the new key');
  assert.equal((await verify(s.base, old.key)).code, 'VALID', 'the old key during the overlap');

  const rotatedOut = `${name} (rotated out)`;
  await expectVisible(table.getByText('(rotated out)'), 'the old row is marked "(rotated out)"');
  const oldMenu = await openMenu(page, page, rotatedOut);
  const oldItems = (await oldMenu.getByRole('menuitem').allInnerTexts()).map((t) => t.trim());
  assert.deepEqual(oldItems, ['Delete'], 'a rotated-out key can only be deleted');
  await page.keyboard.press('Escape');
  await expectVisible(page.getByRole('button', { name: `Actions for ${name}`, exact: true }),
    'the new key keeps the name');
  await shot(page, 'rotate-keys-after');
  assert.deepEqual(page.jsErrors, [], 'no script errors');
  await page.context().close();
});

test('User Settings → API Keys: "Rotate" with "Now" by keyboard stops the old key at once', T, async () => {
  const { name, old, page } = await userWithKey();
  await goTo(page, 'User Settings');
  const keys = page.getByRole('region', { name: 'API Keys', exact: true })
    .or(page.locator('section').filter({ has: page.getByRole('heading', { name: 'API Keys', exact: true, level: 2 }) }));
  await expectVisible(rowWith(keys.getByRole('table', { name: 'Your API keys' }), name), `row of ${name}`);
  await tabTo(page, keys.getByRole('button', { name: `Actions for ${name}`, exact: true }));
  await page.keyboard.press('Enter');
  const item = page.getByRole('menu').getByRole('menuitem', { name: 'Rotate', exact: true });
  await expectVisible(item, 'menu item "Rotate"');
  if (!(await isFocused(item))) await tabTo(page, item, 5, 'ArrowDown');
  await page.keyboard.press('Enter');
  const dlg = dialog(page, 'Rotate API key');
  await expectVisible(dlg, 'dialog "Rotate API key" opened by keyboard');
  const now = dlg.getByRole('radio', { name: 'Now', exact: true });
  assert.equal(await isFocused(now), true, '"Now" has the focus');
  await tabTo(page, dlg.getByRole('button', { name: 'Rotate', exact: true }));
  await page.keyboard.press('Enter');
  const save = dialog(page, 'Save generated key');
  await expectVisible(save, 'dialog "Save generated key"');
  const key = await eventually(async () => {
    const v = await save.getByLabel(lbl('API key')).inputValue({ timeout: 1000 });
    assert.match(v, KEY_RE);
    return v;
  });
  await shot(page, 'rotate-settings-save-once');
  await save.getByRole('button', { name: 'Download', exact: true }).click();
  await save.getByRole('button', { name: 'Close', exact: true }).click();
  await expectGone(save, 'dialog "Save generated key" after Close');
  assert.equal((await verify(s.base, old.key)).code, 'EXPIRED', 'the old key stops at once');
  assert.equal((await verify(s.base, key)).code, 'VALID', 'the new key works');
  await expectVisible(keys.getByRole('button', { name: `Actions for ${name} (rotated out)`, exact: true }),
    'the old key, rotated out, in the section');
  await page.context().close();
});

test('an API account\'s keys: "Rotate" with "In 7 days" in the account\'s pane', T, async () => {
  const acct = await s.admin.post('/v1/service-accounts', { name: uniq('rot-robot-') });
  const keyName = uniq('acct-rot-');
  const old = await s.admin.post(`/v1/service-accounts/${acct.id}/keys`, { name: keyName, scopes: ['Tasks'] });
  const page = await s.newPage();
  await login(page, 'admin', 'correct-horse-battery');
  await goTo(page, 'API Accounts');
  await page.getByRole('button', { name: acct.name, exact: true }).click();
  const pane = dialog(page, `API Account ${acct.name}`);
  await expectVisible(pane, `the pane "API Account ${acct.name}"`);
  const menu = await openMenu(page, pane, keyName);
  await menu.getByRole('menuitem', { name: 'Rotate', exact: true }).click();
  const { key, save } = await rotateInDialog(page, 'In 7 days');
  await shot(page, 'rotate-account-save-once');
  await save.getByRole('button', { name: 'Copy to clipboard', exact: true }).click();
  await save.getByRole('button', { name: 'Close', exact: true }).click();
  await expectGone(save, 'dialog "Save generated key" after Close');
  await expectVisible(pane.getByRole('button', { name: `Actions for ${keyName} (rotated out)`, exact: true }),
    'the old key, rotated out, in the pane');
  await shot(page, 'rotate-account-pane');
  const v = await verify(s.base, key);
  assert.equal(v.code, 'VALID', JSON.stringify(v));
  assert.deepEqual(v.owner, { type: 'service-account', name: acct.id }, 'the account owns the new key');
  const { keys } = await s.admin.get(`/v1/service-accounts/${acct.id}/keys`);
  const was = keys.find((k) => k.id === old.id);
  const left = secondsFromNow(was.expires_at);
  assert.ok(left > 7 * 86400 - 120 && left <= 7 * 86400 + 5, `the old key ends in about 7 days (${left} s)`);
  assert.equal((await verify(s.base, old.key)).code, 'VALID', 'the old key during the overlap');
  await pane.getByRole('button', { name: 'Close', exact: true }).click();
  await expectGone(pane, 'the pane after Close');
  assert.equal(await pageHolds(page, key), null, 'the new key is gone from the page');
  await page.context().close();
});

test('a refused rotation is shown in words in the dialog and stores nothing', T, async () => {
  const { api, name, old, page } = await userWithKey();
  const table = page.getByRole('table', { name: 'Your API keys' });
  await expectVisible(rowWith(table, name), `row of ${name}`);
  const menu = await openMenu(page, page, name);
  await menu.getByRole('menuitem', { name: 'Rotate', exact: true }).click();
  const dlg = dialog(page, 'Rotate API key');
  await expectVisible(dlg, 'dialog "Rotate API key"');
  await api.post(`/v1/keys/${old.id}/rotate`, { overlap_seconds: 600 }); // elsewhere, meanwhile
  const before = (await api.get('/v1/keys')).keys.length;
  await dlg.getByRole('button', { name: 'Rotate', exact: true }).click();
  const alert = dlg.getByRole('alert');
  await expectVisible(alert, 'an alert in the dialog');
  await expectText(alert, 'This key has been rotated already: rotate the key that replaced it.',
    'the server\'s words');
  await shot(page, 'rotate-refused');
  assert.equal((await api.get('/v1/keys')).keys.length, before, 'no key made');
  await dlg.getByRole('button', { name: 'Cancel', exact: true }).click();
  await expectGone(dlg, 'dialog "Rotate API key" after Cancel');
  await page.context().close();
});
