// seeds-keys.test.mjs — the seed documents about API keys walked as they are written, by
// visible names and roles (docs/PORTAL.md "Shell", "User API Keys", "User Settings"):
// 000/001 "User API Keys" (log in, click your username, select User API Keys; the overview;
// + New API key; copy and save; delete), 003 "User Settings" → API Keys (list, New API key,
// three-dot menu → Delete), the user menu by keyboard, and screenshots of these pages and
// dialogs at 1280×800, 1024×768 and 390×844 with nothing wider than the window.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createUser, uniq, verify } from './daemon.mjs';
import {
  dialog, eventually, expectGone, expectText, expectVisible, isFocused, lbl, login, norm, rowWith,
  shot, shotThisSize, suite, tabTo, tableRows, TEST_TIMEOUT,
} from './portal.mjs';
import { WIDTHS } from './review.mjs';

const s = suite('seeds-keys');
const T = { timeout: TEST_TIMEOUT };
const SEED_SCOPES = ['Authentication', 'PublishApp', 'PublishAimms', 'Tasks', 'APIKey', 'Session',
  'Secret', 'User', 'Account'];
const WARNING = 'Copy and save your API key now. For security reasons, it will not be shown again.';
const DELETE_TEXT = 'Deleting an API key is permanent and cannot be undone. Any integrations or '
  + 'scripts using that key will immediately stop working.';

// Step 1 of seed 000: "Log in to the Cloud Portal."
async function loggedIn() {
  const u = await createUser(s.admin);
  const page = await s.newPage();
  await login(page, u.username, u.password);
  return { page, u };
}

// The username at the top left, a button inside the "Signed in as" group.
const userButton = (page, u) => page.getByRole('group', { name: 'Signed in as', exact: true })
  .getByRole('button', { name: u.username, exact: true });
const userMenu = (page, u) => page.getByRole('menu', { name: u.username, exact: true });

async function menuItems(menu) {
  return (await menu.getByRole('menuitem').allInnerTexts()).map(norm);
}

// "+ New API key" / "New API key" → New API Key → Finish → Save generated key: returns the key.
async function makeKey(page, button, name, scopes) {
  await button.click();
  const dlg = dialog(page, 'New API Key');
  await expectVisible(dlg, 'dialog "New API Key"');
  await dlg.getByLabel(lbl('Name')).fill(name);
  await dlg.getByLabel(lbl('Available API')).selectOption(scopes.map((label) => ({ label })));
  await dlg.getByRole('button', { name: 'Add selected', exact: true }).click();
  await dlg.getByRole('button', { name: 'Finish', exact: true }).click();
  const save = dialog(page, 'Save generated key');
  await expectVisible(save, 'dialog "Save generated key"');
  await expectVisible(save.getByText(WARNING, { exact: true }), 'the "will not be shown again" warning');
  const key = await eventually(async () => {
    const v = await save.getByLabel(lbl('API key')).inputValue({ timeout: 1000 });
    assert.ok(v, 'the key is shown');
    return v;
  });
  return { key, save };
}

// "click the three-dot menu next to the key and select Delete", then confirm.
async function deleteByMenu(page, scope, name) {
  await scope.getByRole('button', { name: `Actions for ${name}`, exact: true }).click();
  await page.getByRole('menu').getByRole('menuitem', { name: 'Delete', exact: true }).click();
  const confirm = dialog(page, 'Delete API key');
  await expectVisible(confirm.getByText(DELETE_TEXT, { exact: true }), 'the cannot-be-undone text');
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await expectGone(confirm, 'the confirmation after Delete');
}

test('seed 000/001: log in, click your username in the top-left corner, select User API Keys', T, async () => {
  const { page, u } = await loggedIn();
  // start elsewhere, so that arriving at User API Keys is seen
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects', exact: true }).click();
  await expectVisible(page.getByRole('heading', { name: 'Projects', level: 1 }), 'heading "Projects"');

  // 2. Click on your username in the top-left corner.
  const who = userButton(page, u);
  await expectVisible(who, `the button "${u.username}"`);
  const box = await who.boundingBox();
  const vp = page.viewportSize();
  assert.ok(box.x < vp.width / 3 && box.y < 100, `the username is in the top-left corner (at ${box.x},${box.y})`);
  assert.equal(await who.getAttribute('aria-haspopup'), 'menu');
  assert.equal(await who.getAttribute('aria-expanded'), 'false');
  await who.click();
  const menu = userMenu(page, u);
  await expectVisible(menu, 'the user menu');
  assert.equal(await who.getAttribute('aria-expanded'), 'true');
  assert.deepEqual(await menuItems(menu), ['User API Keys', 'User Settings', 'Log out'], 'the user menu items');
  const mb = await menu.boundingBox();
  assert.ok(mb.x + mb.width <= vp.width && mb.x >= 0, 'the menu is inside the window');
  await shot(page, 'user-menu.png');

  // 3. Select User API Keys (from the menu that opened) …
  await menu.getByRole('menuitem', { name: 'User API Keys', exact: true }).click();
  await expectVisible(page.getByRole('heading', { name: 'User API Keys', level: 1 }), 'heading "User API Keys"');
  await expectGone(menu, 'the user menu after choosing');
  assert.match(new URL(page.url()).hash, /^#\/keys$/);

  // … and from the navigation menu on the left sidebar, which works too.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects', exact: true }).click();
  await expectVisible(page.getByRole('heading', { name: 'Projects', level: 1 }), 'heading "Projects"');
  const nav = page.getByRole('navigation', { name: 'Main' });
  const navBox = await nav.boundingBox();
  assert.ok(navBox.x < vp.width / 3, 'the navigation menu is on the left');
  await nav.getByRole('link', { name: 'User API Keys', exact: true }).click();
  await expectVisible(page.getByRole('heading', { name: 'User API Keys', level: 1 }), 'heading "User API Keys" from the sidebar');
  assert.equal(await nav.getByRole('link', { name: 'User API Keys', exact: true }).getAttribute('aria-current'), 'page');

  // "Log out" is in the same menu.
  await userButton(page, u).click();
  await userMenu(page, u).getByRole('menuitem', { name: 'Log out', exact: true }).click();
  await expectVisible(page.getByRole('heading', { name: 'Log in', level: 1 }), 'the login page after "Log out"');
  const me = await page.evaluate(async () => (await fetch('/v1/me')).status);
  assert.equal(me, 401, 'the session has ended');
  assert.deepEqual(page.jsErrors, [], 'no script errors');
  await page.context().close();
});

test('seed 000/001 overview: Key Name, Expiry Date and Scope; "+ New API key" top right; the key shown once; Delete is permanent', T, async () => {
  const { page } = await loggedIn();
  const table = page.getByRole('table', { name: 'Your API keys' });
  const { headers } = await tableRows(table);
  for (const hd of ['Key Name', 'Expiry Date', 'Scope']) assert.ok(headers.includes(hd), `column "${hd}"`);

  // "To create a new API key click the + New API key button in the top-right corner of the page."
  const newBtn = page.getByRole('button', { name: '+ New API key', exact: true });
  const nb = await newBtn.boundingBox();
  assert.ok(nb.x + nb.width > page.viewportSize().width / 2 && nb.y < 200, 'the button is at the top right');
  await newBtn.click();
  const dlg = dialog(page, 'New API Key');
  await expectVisible(dlg, 'dialog "New API Key"');
  // "Available Scopes": every scope of the seed can be assigned
  const avail = (await dlg.getByLabel(lbl('Available API')).locator('option').allInnerTexts()).map(norm);
  for (const sc of SEED_SCOPES) assert.ok(avail.includes(sc), `"Available API" offers ${sc}`);
  await dlg.getByRole('button', { name: 'Cancel', exact: true }).click();
  await expectGone(dlg, 'the dialog after Cancel');

  // "Copy and save your API key immediately after creation … the key value will not be shown again."
  const name = uniq('seed-');
  const { key, save } = await makeKey(page, newBtn, name, ['Session', 'Tasks']);
  await save.getByRole('button', { name: 'Copy to clipboard', exact: true }).click();
  await expectVisible(save.getByText('Copied to clipboard.', { exact: true }), 'status "Copied to clipboard."');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key, 'the clipboard holds the key');
  await save.getByRole('button', { name: 'Close', exact: true }).click();
  await expectGone(save, 'the key window after Close');
  await expectVisible(rowWith(table, name), `row of ${name}`);
  const row = (await tableRows(table)).rows.find((r) => r['Key Name'] === name);
  assert.match(row['Expiry Date'], /^\d{4}-\d{2}-\d{2}$/, 'Expiry Date as YYYY-MM-DD');
  assert.deepEqual(row.Scope.split(/\s*,\s*/).sort(), ['Session', 'Tasks']);
  await page.reload();
  await expectVisible(rowWith(table, name), `row of ${name} after reload`);
  assert.ok(!(await page.content()).includes(key), 'not shown again');
  assert.equal((await verify(s.base, key)).code, 'VALID', 'the key works');

  // "Deleting an API key is permanent … scripts using that key will immediately stop working."
  await deleteByMenu(page, table, name);
  await expectGone(rowWith(table, name), `row of ${name} after Delete`);
  assert.equal((await verify(s.base, key)).code, 'NOT_FOUND', 'the key stopped working');
  await page.context().close();
});

test('seed 003: User Settings → API Keys lists your keys, "New API key" makes one, the three-dot menu deletes one', T, async () => {
  const { page, u } = await loggedIn();
  const api = await s.daemon.api(u.username, u.password);
  const old = uniq('old-');
  const made = await api.post('/v1/keys', { name: old, scopes: ['Tasks', 'Session'], description: 'made by a script' });

  // reach User Settings the way seed 000 reaches pages: the username's menu
  await userButton(page, u).click();
  await userMenu(page, u).getByRole('menuitem', { name: 'User Settings', exact: true }).click();
  await expectVisible(page.getByRole('heading', { name: 'User Settings', level: 1 }), 'heading "User Settings"');
  const section = page.getByRole('region', { name: 'API Keys', exact: true });
  await expectVisible(section.getByRole('heading', { name: 'API Keys', level: 2 }), 'section "API Keys"');
  const table = section.getByRole('table', { name: 'Your API keys' });
  await expectVisible(rowWith(table, old), `row of ${old}`);
  const { headers, rows } = await tableRows(table);
  for (const hd of ['Key Name', 'Expiry Date', 'Scope']) assert.ok(headers.includes(hd), `column "${hd}"`);
  const row = rows.find((r) => r['Key Name'] === old);
  assert.equal(row['Expiry Date'], made.expires_at.slice(0, 10));
  assert.deepEqual(row.Scope.split(/\s*,\s*/).sort(), ['Session', 'Tasks']);
  assert.equal(row.Hint, made.hint);
  assert.equal(row.Description, 'made by a script');

  // "To create a new API key, click New API key."
  const name = uniq('set-');
  const newBtn = section.getByRole('button', { name: 'New API key', exact: true });
  const { key, save } = await makeKey(page, newBtn, name, ['APIKey']);
  await shot(page, 'settings-save-once.png');
  await save.getByRole('button', { name: 'Close', exact: true }).click();
  await expectGone(save, 'the key window after Close');
  await expectVisible(rowWith(table, name), `row of ${name} in User Settings`);
  assert.ok(await isFocused(newBtn), 'the focus is back on "New API key"');
  assert.equal((await verify(s.base, key)).code, 'VALID');
  await shot(page, 'settings-keys.png');

  // "To delete an existing API key, click the three-dot menu next to the key and select Delete."
  await deleteByMenu(page, section, old);
  await expectGone(rowWith(table, old), `row of ${old} after Delete`);
  await expectVisible(rowWith(table, name), `row of ${name} stays`);
  assert.equal((await verify(s.base, made.key)).code, 'NOT_FOUND', 'the deleted key stopped working');
  const { keys } = await api.get('/v1/keys');
  assert.deepEqual(keys.map((k) => k.name), [name]);
  assert.deepEqual(page.jsErrors, [], 'no script errors');
  await page.context().close();
});

test('the user menu by keyboard: Enter, Space and ArrowDown open it, arrows move, Escape closes and returns the focus', T, async () => {
  const { page, u } = await loggedIn();
  const who = userButton(page, u);
  const menu = userMenu(page, u);
  const item = (name) => menu.getByRole('menuitem', { name, exact: true });
  await tabTo(page, who);

  await page.keyboard.press('Enter');
  await expectVisible(menu, 'the menu after Enter');
  assert.ok(await isFocused(item('User API Keys')), 'Enter puts the focus on the first item');
  await page.keyboard.press('ArrowDown');
  assert.ok(await isFocused(item('User Settings')), 'ArrowDown moves to "User Settings"');
  await page.keyboard.press('ArrowDown');
  assert.ok(await isFocused(item('Log out')), 'ArrowDown moves to "Log out"');
  await page.keyboard.press('ArrowDown');
  assert.ok(await isFocused(item('User API Keys')), 'ArrowDown wraps to the first item');
  await page.keyboard.press('ArrowUp');
  assert.ok(await isFocused(item('Log out')), 'ArrowUp wraps to the last item');
  await page.keyboard.press('Escape');
  await expectGone(menu, 'the menu after Escape');
  assert.equal(await who.getAttribute('aria-expanded'), 'false');
  assert.ok(await isFocused(who), 'Escape returns the focus to the username');

  await page.keyboard.press('Space');
  await expectVisible(menu, 'the menu after Space');
  assert.ok(await isFocused(item('User API Keys')), 'Space puts the focus on the first item');
  await page.keyboard.press('Escape');
  assert.ok(await isFocused(who), 'Escape returns the focus');

  await page.keyboard.press('ArrowDown');
  await expectVisible(menu, 'the menu after ArrowDown');
  await page.keyboard.press('ArrowDown');
  assert.ok(await isFocused(item('User Settings')));
  await page.keyboard.press('Enter');
  await expectVisible(page.getByRole('heading', { name: 'User Settings', level: 1 }), 'User Settings chosen by Enter');
  await expectText(page.getByRole('heading', { level: 1 }), 'User Settings');

  await tabTo(page, who, 40, 'Shift+Tab');
  await page.keyboard.press('ArrowUp');
  assert.ok(await isFocused(item('Log out')), 'ArrowUp opens the menu on its last item');
  await page.keyboard.press('Enter');
  await expectVisible(page.getByRole('heading', { name: 'Log in', level: 1 }), 'logged out by keyboard');
  await page.context().close();
});

for (const { width: w, height: hgt } of WIDTHS) {
  test(`screenshots at ${w}×${hgt}: user menu, User API Keys, its dialogs and User Settings fit the window`, T, async () => {
    const { page, u } = await loggedIn();
    await page.setViewportSize({ width: w, height: hgt });
    const api = await s.daemon.api(u.username, u.password);
    await api.post('/v1/keys', { name: 'deploy-production-eu-west', scopes: ['PublishApp', 'PublishAimms', 'Session', 'Tasks'],
      description: 'Used by the nightly deployment pipeline to publish new application versions.' });
    await api.post('/v1/keys', { name: 'ci', scopes: ['APIKey'] });
    await page.reload();
    const table = page.getByRole('table', { name: 'Your API keys' });
    await expectVisible(rowWith(table, 'deploy-production-eu-west'), 'the key rows');
    await shotThisSize(page, 'seed-keys-list');

    await userButton(page, u).click();
    await expectVisible(userMenu(page, u), 'the user menu');
    await shotThisSize(page, 'seed-user-menu');
    await page.keyboard.press('Escape');

    await page.getByRole('button', { name: 'Actions for ci', exact: true }).click();
    await expectVisible(page.getByRole('menu', { name: 'Actions for ci' }), 'the row menu');
    await page.keyboard.press('Escape');

    const newBtn = page.getByRole('button', { name: '+ New API key', exact: true });
    await newBtn.click();
    const dlg = dialog(page, 'New API Key');
    await expectVisible(dlg, 'dialog "New API Key"');
    await dlg.getByLabel(lbl('Expiry date')).fill('someday');
    await dlg.getByRole('button', { name: 'Finish', exact: true }).click();
    await expectVisible(dlg.getByRole('alert'), 'the date error');
    await shotThisSize(page, 'seed-new-key');
    await dlg.getByRole('button', { name: 'Cancel', exact: true }).click();

    const { save } = await makeKey(page, newBtn, uniq('shot-'), ['Tasks']);
    await shotThisSize(page, 'seed-save-once');
    await page.keyboard.press('Escape');
    const ask = dialog(page, 'Close without saving the key?');
    await expectVisible(ask, 'the question');
    await shotThisSize(page, 'seed-save-once-unsaved');
    await ask.getByRole('button', { name: 'Close anyway', exact: true }).click();
    await expectGone(save, 'the key window');

    await page.getByRole('button', { name: 'Actions for ci', exact: true }).click();
    await page.getByRole('menu').getByRole('menuitem', { name: 'Delete', exact: true }).click();
    const confirm = dialog(page, 'Delete API key');
    await expectVisible(confirm, 'dialog "Delete API key"');
    await shotThisSize(page, 'seed-delete-key');
    await confirm.getByRole('button', { name: 'Cancel', exact: true }).click();

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'User Settings', exact: true }).click();
    const keys = page.getByRole('region', { name: 'API Keys', exact: true });
    await expectVisible(rowWith(keys.getByRole('table'), 'deploy-production-eu-west'), 'the keys in User Settings');
    await keys.scrollIntoViewIfNeeded();
    await shotThisSize(page, 'seed-settings');
    assert.deepEqual(page.jsErrors, [], 'no script errors');
    await page.context().close();
  });
}
