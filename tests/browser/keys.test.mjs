// keys.test.mjs — the User API Keys page (docs/PORTAL.md "User API Keys", "New API key
// dialog", "Save generated key dialog", "Dates"): create, see once (Close, Escape and the
// backdrop), copy, download, close, list (hint, description, dates), verify, delete, field errors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { createUser, uniq, verify } from './daemon.mjs';
import {
  addDaysUTC, addYearUTC, dialog, eventually, expectGone, expectText, expectValue, expectVisible, lbl, login,
  pageHolds, rowWith, shot, suite, tableRows, TEST_TIMEOUT, ymd,
} from './portal.mjs';

const s = suite('keys');
const T = { timeout: TEST_TIMEOUT };
const KEY_RE = /^[a-z0-9]{1,16}_[0-9A-Za-z]{49}$/;
const WARNING = 'Copy and save your API key now. For security reasons, it will not be shown again.';
const DELETE_TEXT = 'Deleting an API key is permanent and cannot be undone. Any integrations or '
  + 'scripts using that key will immediately stop working.';

// A fresh user logged in on a fresh page, on the User API Keys page.
async function userPage() {
  const u = await createUser(s.admin);
  const page = await s.newPage();
  await login(page, u.username, u.password);
  return { page, u };
}

const keysTable = (page) => page.getByRole('table', { name: 'Your API keys' });

// Opens "+ New API key"; returns the dialog locator.
async function openNewKey(page) {
  await page.getByRole('button', { name: '+ New API key', exact: true }).click();
  const dlg = dialog(page, 'New API Key');
  await expectVisible(dlg, 'dialog "New API Key"');
  return dlg;
}

// Fills the New API Key dialog (name, scopes moved to "Selected API") and presses Finish;
// returns {key, save} with the secret read from the "API key" field of "Save generated key".
async function createKeyInUI(page, { name, scopes = ['APIKey', 'Tasks'], description } = {}) {
  const dlg = await openNewKey(page);
  await dlg.getByLabel(lbl('Name')).fill(name);
  if (description !== undefined) await dlg.getByLabel(lbl('Description')).fill(description);
  await dlg.getByLabel(lbl('Available API')).selectOption(scopes.map((label) => ({ label })));
  await dlg.getByRole('button', { name: 'Add selected', exact: true }).click();
  await dlg.getByRole('button', { name: 'Finish', exact: true }).click();
  const save = dialog(page, 'Save generated key');
  await expectVisible(save, 'dialog "Save generated key"');
  const field = save.getByLabel(lbl('API key'));
  const key = await eventually(async () => {
    const v = await field.inputValue({ timeout: 1000 });
    assert.ok(v, 'the "API key" field is filled');
    return v;
  });
  assert.match(key, KEY_RE, 'the "API key" field holds a key');
  return { key, save };
}

async function createKeyViaApi(u, name, scopes = ['APIKey']) {
  const api = await s.daemon.api(u.username, u.password);
  return api.post('/v1/keys', { name, scopes });
}

test('an empty key list says "You have no API keys yet."', T, async () => {
  const { page } = await userPage();
  await expectVisible(page.getByText('You have no API keys yet.', { exact: true }), 'empty-state text');
  await expectVisible(page.getByText(/Requests made to the REST API are authenticated and authorized using API Keys/),
    'the seed paragraph');
  await expectVisible(page.getByRole('button', { name: '+ New API key', exact: true }), 'button "+ New API key"');
  await shot(page, 'keys-empty.png');
  await page.context().close();
});

test('the "+ New API key" button is at the top right of the page', T, async () => {
  const { page } = await userPage();
  const box = await page.getByRole('button', { name: '+ New API key', exact: true }).boundingBox();
  const vp = page.viewportSize();
  assert.ok(box.x + box.width / 2 > vp.width / 2, `button centre x ${box.x + box.width / 2} should be right of ${vp.width / 2}`);
  const h1 = await page.getByRole('heading', { name: 'User API Keys', level: 1 }).boundingBox();
  assert.ok(box.y < h1.y + h1.height + 80, `button top ${box.y} should be near the heading (bottom ${h1.y + h1.height})`);
  await page.context().close();
});

test('the New API Key dialog has its fields, a 90-day default expiry capped at one year, and the hint', T, async () => {
  const { page } = await userPage();
  const dlg = await openNewKey(page);
  for (const label of ['Name', 'Description', 'Available API', 'Selected API', 'Expiry date']) {
    await expectVisible(dlg.getByLabel(lbl(label)), `field "${label}"`);
  }
  const name = dlg.getByLabel(lbl('Name'));
  assert.ok(await name.evaluate((el) => el.required || el.getAttribute('aria-required') === 'true'),
    'Name is required');
  await expectVisible(dlg.getByText('*'), 'the required marker *');
  const expiry = dlg.getByLabel(lbl('Expiry date'));
  assert.equal(await expiry.getAttribute('type'), 'text', 'Expiry date is typed as YYYY-MM-DD, not in the locale\'s format');
  assert.equal(await expiry.getAttribute('placeholder'), 'YYYY-MM-DD');
  assert.equal(await expiry.inputValue(), ymd(addDaysUTC(90)), 'default expiry is today + 90 days, as YYYY-MM-DD');
  await expectVisible(dlg.getByText(`Write the date as YYYY-MM-DD; the latest is ${ymd(addYearUTC())}.`),
    'the format hint naming the latest date, today + 1 year');
  await expectVisible(dlg.getByText('The maximum expiration date for any API key is 1 year from the creation date.'),
    'the one-year hint');
  const avail = (await dlg.getByLabel(lbl('Available API')).locator('option').allInnerTexts())
    .map((t) => t.trim());
  for (const sc of ['Authentication', 'PublishApp', 'PublishAimms', 'Tasks', 'APIKey', 'Session', 'Secret', 'User', 'Account']) {
    assert.ok(avail.includes(sc), `"Available API" lists ${sc} (got ${avail.join(', ')})`);
  }
  for (const b of ['Add selected', 'Remove selected', 'Finish', 'Cancel']) {
    await expectVisible(dlg.getByRole('button', { name: b, exact: true }), `button "${b}"`);
  }
  await dlg.getByLabel(lbl('Name')).fill('my-first-key');
  await dlg.getByLabel(lbl('Available API')).selectOption([{ label: 'APIKey' }, { label: 'Tasks' }]);
  await dlg.getByRole('button', { name: 'Add selected', exact: true }).click();
  const selected = (await dlg.getByLabel(lbl('Selected API')).locator('option').allInnerTexts())
    .map((t) => t.trim());
  assert.deepEqual(selected.sort(), ['APIKey', 'Tasks'], '"Add selected" moves the scopes to "Selected API"');
  await shot(page, 'new-key-dialog.png');
  await dlg.getByRole('button', { name: 'Cancel', exact: true }).click();
  await expectGone(dlg, 'dialog "New API Key" after Cancel');
  await expectVisible(page.getByText('You have no API keys yet.', { exact: true }), 'still no keys after Cancel');
  await page.context().close();
});

test('Finish shows the key once in "Save generated key" with the warning', T, async () => {
  const { page } = await userPage();
  const { key, save } = await createKeyInUI(page, { name: uniq('once-') });
  await expectVisible(save.getByText(WARNING, { exact: true }), 'the show-once warning');
  const field = save.getByLabel(lbl('API key'));
  assert.equal(await field.isEditable(), false, 'the "API key" field is read-only');
  assert.match(key, /^apk_/, 'default prefix apk_');
  for (const b of ['Copy to clipboard', 'Download', 'Close']) {
    await expectVisible(save.getByRole('button', { name: b, exact: true }), `button "${b}"`);
  }
  await shot(page, 'save-once.png');
  await page.context().close();
});

test('"Copy to clipboard" copies the key and says "Copied to clipboard."', T, async () => {
  const { page } = await userPage();
  const { key, save } = await createKeyInUI(page, { name: uniq('copy-') });
  await save.getByRole('button', { name: 'Copy to clipboard', exact: true }).click();
  await expectVisible(save.getByText('Copied to clipboard.', { exact: true }), 'status "Copied to clipboard."');
  const clip = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(clip, key, 'the clipboard holds the key');
  await page.context().close();
});

test('"Download" saves NAME.APIKEY holding the key and a newline', T, async () => {
  const { page } = await userPage();
  const name = uniq('dl-');
  const { key, save } = await createKeyInUI(page, { name });
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 10_000 }),
    save.getByRole('button', { name: 'Download', exact: true }).click(),
  ]);
  assert.equal(download.suggestedFilename(), `${name}.APIKEY`);
  const file = await download.path();
  assert.equal(fs.readFileSync(file, 'utf8'), `${key}\n`, 'the file holds the key and a newline');
  await page.context().close();
});

test('after Close the row shows Key Name, Hint, Description, Scope, Created, Expiry Date and Last used "Never"', T, async () => {
  const { page, u } = await userPage();
  const name = uniq('row-');
  const { key, save } = await createKeyInUI(page, { name, scopes: ['APIKey', 'Tasks'], description: 'nightly export job' });
  await save.getByRole('button', { name: 'Close', exact: true }).click();
  await expectGone(save, 'dialog "Save generated key" after Close');
  const table = keysTable(page);
  await expectVisible(rowWith(table, name), `row of ${name}`);
  const { headers, rows } = await tableRows(table);
  for (const hd of ['Key Name', 'Hint', 'Description', 'Scope', 'Created', 'Expiry Date', 'Last used']) {
    assert.ok(headers.includes(hd), `column header "${hd}" (got ${JSON.stringify(headers)})`);
  }
  const row = rows.find((r) => r['Key Name'] === name);
  assert.ok(row, `a row with Key Name ${name} (rows: ${JSON.stringify(rows)})`);
  const { keys } = await s.admin.get(`/v1/users/${u.username}/keys`);
  assert.equal(keys.length, 1);
  assert.equal(row.Hint, keys[0].hint, 'Hint as the API returns it');
  assert.equal(row.Hint, `${key.slice(0, 8)}…${key.slice(-4)}`, 'Hint: first 8 … last 4 characters');
  assert.equal(row.Description, 'nightly export job');
  assert.equal(row.Created, keys[0].created_at.slice(0, 10), 'Created as YYYY-MM-DD');
  assert.equal(row['Expiry Date'], keys[0].expires_at.slice(0, 10), 'Expiry Date as YYYY-MM-DD');
  assert.equal(row['Expiry Date'], ymd(addDaysUTC(90)), 'the default expiry is today + 90 days');
  assert.deepEqual(row.Scope.split(/\s*,\s*/).sort(), ['APIKey', 'Tasks'], 'Scope comma-separated');
  assert.equal(row['Last used'], 'Never');
  await expectVisible(page.getByRole('button', { name: `Actions for ${name}`, exact: true }),
    `button "Actions for ${name}"`);
  await shot(page, 'keys-list.png');
  await page.context().close();
});

test('the date typed in "Expiry date" (YYYY-MM-DD) is the date the table shows', T, async () => {
  const { page, u } = await userPage();
  const name = uniq('date-');
  const day = ymd(addDaysUTC(45));
  const dlg = await openNewKey(page);
  await dlg.getByLabel(lbl('Name')).fill(name);
  await dlg.getByLabel(lbl('Available API')).selectOption([{ label: 'Tasks' }]);
  await dlg.getByRole('button', { name: 'Add selected', exact: true }).click();
  await dlg.getByLabel(lbl('Expiry date')).fill(day);
  await dlg.getByRole('button', { name: 'Finish', exact: true }).click();
  const save = dialog(page, 'Save generated key');
  await expectVisible(save, 'dialog "Save generated key"');
  await save.getByRole('button', { name: 'Close', exact: true }).click();
  await expectVisible(rowWith(keysTable(page), name), `row of ${name}`);
  const { rows } = await tableRows(keysTable(page));
  assert.equal(rows.find((r) => r['Key Name'] === name)['Expiry Date'], day, 'the table shows the typed date');
  const { keys } = await s.admin.get(`/v1/users/${u.username}/keys`);
  assert.equal(keys[0].expires_at.slice(0, 10), day, 'the API stored that date');
  await page.context().close();
});

test('an expiry date not written as YYYY-MM-DD, or no real day, is refused next to the field and nothing is sent', T, async () => {
  const { page, u } = await userPage();
  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/v1/keys')) posts.push(r.url()); });
  const dlg = await openNewKey(page);
  await dlg.getByLabel(lbl('Name')).fill(uniq('baddate-'));
  await dlg.getByLabel(lbl('Available API')).selectOption([{ label: 'Tasks' }]);
  await dlg.getByRole('button', { name: 'Add selected', exact: true }).click();
  const expiry = dlg.getByLabel(lbl('Expiry date'));
  const later = addDaysUTC(40);
  const mdy = `${ymd(later).slice(5, 7)}/${ymd(later).slice(8, 10)}/${ymd(later).slice(0, 4)}`;
  for (const bad of [mdy, `${ymd(addYearUTC()).slice(0, 4)}-02-30`, '']) {
    await expiry.fill(bad);
    await dlg.getByRole('button', { name: 'Finish', exact: true }).click();
    const alert = dlg.getByRole('alert');
    await expectText(alert, /^Write the expiry date as YYYY-MM-DD, for example \d{4}-\d{2}-\d{2}\.$/,
      `the alert for ${JSON.stringify(bad)}`);
    assert.equal(await expiry.getAttribute('aria-invalid'), 'true', 'the field is marked invalid');
    assert.ok(await expiry.evaluate((el) => el === document.activeElement), 'the focus is on the field');
    const a = await alert.boundingBox();
    const f = await expiry.boundingBox();
    assert.ok(Math.abs(a.y - (f.y + f.height)) < 120, 'the alert is right by the "Expiry date" field');
  }
  assert.deepEqual(posts, [], 'nothing was sent');
  const { keys } = await s.admin.get(`/v1/users/${u.username}/keys`);
  assert.equal(keys.length, 0, 'nothing stored');
  await expiry.fill(ymd(later));
  await dlg.getByRole('button', { name: 'Finish', exact: true }).click();
  await expectVisible(dialog(page, 'Save generated key'), 'a well-written date is accepted');
  await page.context().close();
});

test('a key created in the portal verifies VALID', T, async () => {
  const { page, u } = await userPage();
  const { key, save } = await createKeyInUI(page, { name: uniq('valid-'), scopes: ['Tasks'] });
  await save.getByRole('button', { name: 'Close', exact: true }).click();
  const v = await verify(s.base, key);
  assert.equal(v.code, 'VALID', JSON.stringify(v));
  assert.equal(v.valid, true);
  assert.deepEqual(v.owner, { type: 'user', name: u.username });
  assert.deepEqual(v.scopes, ['Tasks']);
  await page.context().close();
});

// Optionally clicks `button`, then, in the same task (before any event, timer or promise of the
// page can run), lists where the document still holds `secret`: any element's text or
// attribute, any input's or textarea's value, the markup, and the elements in `held` (handles
// the test kept, so a detached input that still holds the key is caught too).
async function traces(page, secret, held, button = null) {
  return page.evaluate(([b, k, ...els]) => {
    if (b) b.click();
    const found = [];
    for (const el of [document.documentElement, ...document.querySelectorAll('*')]) {
      for (const a of el.attributes) if (a.value.includes(k)) found.push(`attribute ${a.name} of <${el.tagName}>`);
      if (typeof el.value === 'string' && el.value.includes(k)) found.push(`value of <${el.tagName}>`);
    }
    if (document.documentElement.textContent.includes(k)) found.push('the text of the page');
    if (document.documentElement.outerHTML.includes(k)) found.push('the markup');
    els.forEach((el, i) => { if (typeof el.value === 'string' && el.value.includes(k)) found.push(`value of held element ${i}`); });
    return found;
  }, [button, secret, ...held]);
}

test('after Close the key is nowhere in the page: wiped in the Close click itself', T, async () => {
  const { page } = await userPage();
  const name = uniq('gone-');
  const { key, save } = await createKeyInUI(page, { name });
  assert.ok(await pageHolds(page, key), 'the key is shown before Close');
  const held = [await save.getByLabel(lbl('API key')).elementHandle()];
  assert.deepEqual(await traces(page, key, held), ['value of <INPUT>', 'value of held element 0'],
    'before Close the key is in the field, and only there');
  const close = await save.getByRole('button', { name: 'Close', exact: true }).elementHandle();
  assert.deepEqual(await traces(page, key, held, close), [],
    'right after the Close click the key is in no element, attribute or input value');
  await expectGone(save, 'dialog "Save generated key" after Close');
  await expectVisible(rowWith(keysTable(page), name), `row of ${name}`);
  assert.deepEqual(await traces(page, key, held), [], 'the key is not back once the dialog has gone');
  assert.equal(await pageHolds(page, key), null, 'the key text must not remain in the page');
  await page.context().close();
});

const UNSAVED = 'You have not copied or downloaded this key. Close anyway?';
const askDialog = (page) => dialog(page, 'Close without saving the key?');

test('Escape before the key was copied asks "Close anyway?"; going back keeps the key; closing anyway wipes it', T, async () => {
  const { page, u } = await userPage();
  const name = uniq('esc-');
  const { key, save } = await createKeyInUI(page, { name });
  const field = save.getByLabel(lbl('API key'));
  await page.keyboard.press('Escape');
  const ask = askDialog(page);
  await expectVisible(ask, 'the question after Escape');
  await expectVisible(ask.getByText(UNSAVED, { exact: true }), `the text "${UNSAVED}"`);
  for (const b of ['Close anyway', 'Go back to the key']) {
    await expectVisible(ask.getByRole('button', { name: b, exact: true }), `button "${b}"`);
  }
  assert.ok(await ask.getByRole('button', { name: 'Go back to the key', exact: true })
    .evaluate((el) => el === document.activeElement), '"Go back to the key" has the focus');
  await shot(page, 'save-once-unsaved.png');
  await ask.getByRole('button', { name: 'Go back to the key', exact: true }).click();
  await expectGone(ask, 'the question after "Go back to the key"');
  await expectVisible(save, 'the key window is still open');
  await expectValue(field, key, 'the key is still in the field');

  // Escape twice with no click between (Chromium lets a page refuse only one close request per
  // user activation): the first Escape closes the question, the second asks again.
  await page.keyboard.press('Escape');
  await expectVisible(ask, 'the question after Escape again');
  await page.keyboard.press('Escape');
  await expectGone(ask, 'the question after Escape in it');
  await expectVisible(save, 'the key window is still open after Escape in the question');
  await expectValue(field, key, 'the key is still in the field after Escape in the question');
  await page.keyboard.press('Escape');
  await expectVisible(ask, 'the question after a third Escape');
  await expectVisible(save, 'the key window is still open under the question');

  const held = await field.elementHandle();
  await ask.getByRole('button', { name: 'Close anyway', exact: true }).click();
  await expectGone(ask, 'the question after "Close anyway"');
  await expectGone(save, 'the key window after "Close anyway"');
  assert.equal(await held.evaluate((el) => el.value), '', 'the key field was wiped');
  assert.equal(await pageHolds(page, key), null, 'the key is nowhere in the page');
  await expectVisible(rowWith(keysTable(page), name), `row of ${name}`);
  const { keys } = await s.admin.get(`/v1/users/${u.username}/keys`);
  assert.equal(keys.length, 1, 'the key exists (closing only forgets the secret)');
  await page.context().close();
});

test('Escape while the focus is outside the key window (a window on top just closed) still asks', T, async () => {
  const { page } = await userPage();
  const { key, save } = await createKeyInUI(page, { name: uniq('esc-body-') });
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  assert.ok(await page.evaluate(() => !document.activeElement.closest('dialog')),
    'the focus is outside every dialog');
  await page.keyboard.press('Escape');
  const ask = askDialog(page);
  await expectVisible(ask, 'the question after Escape with the focus outside the window');
  await ask.getByRole('button', { name: 'Go back to the key', exact: true }).click();
  await expectValue(save.getByLabel(lbl('API key')), key, 'the key is still in the field');
});

test('a click on the backdrop asks too; a click inside the window does not', T, async () => {
  const { page } = await userPage();
  const { key, save } = await createKeyInUI(page, { name: uniq('backdrop-') });
  await save.getByText(WARNING, { exact: true }).click();
  assert.equal(await askDialog(page).count(), 0, 'a click inside the window asks nothing');
  const box = await save.boundingBox();
  assert.ok(box.y > 10, 'there is backdrop above the window');
  await page.mouse.click(5, 5);
  const ask = askDialog(page);
  await expectVisible(ask, 'the question after a click on the backdrop');
  await ask.getByRole('button', { name: 'Go back to the key', exact: true }).click();
  await expectGone(ask, 'the question after "Go back to the key"');
  await expectValue(save.getByLabel(lbl('API key')), key, 'the key is still shown');
  await page.context().close();
});

test('after Copy to clipboard, Escape closes the window at once and wipes the key', T, async () => {
  const { page } = await userPage();
  const { key, save } = await createKeyInUI(page, { name: uniq('copied-') });
  const field = save.getByLabel(lbl('API key'));
  const held = await field.elementHandle();
  await save.getByRole('button', { name: 'Copy to clipboard', exact: true }).click();
  await expectVisible(save.getByText('Copied to clipboard.', { exact: true }), 'status "Copied to clipboard."');
  await page.keyboard.press('Escape');
  await expectGone(save, 'the key window after Escape');
  assert.equal(await askDialog(page).count(), 0, 'no question once the key was copied');
  assert.equal(await held.evaluate((el) => el.value), '', 'the key field was wiped');
  assert.equal(await pageHolds(page, key), null, 'the key is nowhere in the page');
  await page.context().close();
});

test('after Download, Escape closes the window, wipes the key and revokes the download\'s URL', T, async () => {
  const { page } = await userPage();
  const name = uniq('dlesc-');
  const { key, save } = await createKeyInUI(page, { name });
  const field = save.getByLabel(lbl('API key'));
  const held = await field.elementHandle();
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 10_000 }),
    save.getByRole('button', { name: 'Download', exact: true }).click(),
  ]);
  const url = download.url();
  assert.match(url, /^blob:/, 'the download comes from an object URL');
  await page.keyboard.press('Escape');
  // at once: the URL would be revoked a second after the download anyway
  const readable = await page.evaluate(async (u) => {
    try {
      await (await fetch(u)).text();
      return true;
    } catch {
      return false;
    }
  }, url);
  await expectGone(save, 'the key window after Escape');
  assert.equal(await askDialog(page).count(), 0, 'no question once the key was downloaded');
  assert.equal(readable, false, 'the object URL holding the key was revoked when the window closed');
  assert.equal(await held.evaluate((el) => el.value), '', 'the key field was wiped');
  assert.equal(await pageHolds(page, key), null, 'the key is nowhere in the page');
  assert.equal(fs.readFileSync(await download.path(), 'utf8'), `${key}\n`, 'the downloaded file is whole');
  await page.context().close();
});

test('the ⋮ menu\'s Delete asks for a confirmation saying it cannot be undone; Cancel keeps the key', T, async () => {
  const { page, u } = await userPage();
  const name = uniq('del-');
  const created = await createKeyViaApi(u, name);
  await page.reload();
  const table = keysTable(page);
  await expectVisible(rowWith(table, name), `row of ${name}`);
  const menuButton = page.getByRole('button', { name: `Actions for ${name}`, exact: true });
  await expectText(menuButton, '⋮', 'the actions button text');
  await menuButton.click();
  const menu = page.getByRole('menu');
  await expectVisible(menu, 'the actions menu');
  await menu.getByRole('menuitem', { name: 'Delete', exact: true }).click();
  const dlg = dialog(page, 'Delete API key');
  await expectVisible(dlg, 'dialog "Delete API key"');
  await expectVisible(dlg.getByText(DELETE_TEXT), 'the cannot-be-undone text');
  await expectVisible(dlg.getByRole('button', { name: 'Delete', exact: true }), 'button "Delete"');
  await shot(page, 'delete-confirm.png');
  await dlg.getByRole('button', { name: 'Cancel', exact: true }).click();
  await expectGone(dlg, 'the confirmation after Cancel');
  await expectVisible(rowWith(table, name), `row of ${name} after Cancel`);
  assert.equal((await verify(s.base, created.key)).code, 'VALID', 'the key still works after Cancel');
  await page.context().close();
});

test('confirming Delete removes the row and the key verifies NOT_FOUND', T, async () => {
  const { page, u } = await userPage();
  const name = uniq('del-');
  const keep = uniq('keep-');
  const created = await createKeyViaApi(u, name);
  await createKeyViaApi(u, keep);
  await page.reload();
  const table = keysTable(page);
  await expectVisible(rowWith(table, name), `row of ${name}`);
  await page.getByRole('button', { name: `Actions for ${name}`, exact: true }).click();
  await page.getByRole('menu').getByRole('menuitem', { name: 'Delete', exact: true }).click();
  const dlg = dialog(page, 'Delete API key');
  await dlg.getByRole('button', { name: 'Delete', exact: true }).click();
  await expectGone(dlg, 'the confirmation after Delete');
  await expectGone(rowWith(table, name), `row of ${name} after Delete`);
  await expectVisible(rowWith(table, keep), `row of the other key ${keep}`);
  const v = await verify(s.base, created.key);
  assert.equal(v.code, 'NOT_FOUND', JSON.stringify(v));
  await page.reload();
  await expectVisible(rowWith(keysTable(page), keep), `row of ${keep} after reload`);
  await expectGone(rowWith(keysTable(page), name), `row of ${name} after reload`);
  await page.context().close();
});

test('a 422 (expiry past the one-year limit) shows the error next to the Expiry date field', T, async () => {
  const { page, u } = await userPage();
  const dlg = await openNewKey(page);
  await dlg.getByLabel(lbl('Name')).fill(uniq('late-'));
  await dlg.getByLabel(lbl('Available API')).selectOption([{ label: 'Tasks' }]);
  await dlg.getByRole('button', { name: 'Add selected', exact: true }).click();
  const expiry = dlg.getByLabel(lbl('Expiry date'));
  await expiry.fill(ymd(addDaysUTC(3, addYearUTC())));
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/v1/keys') && r.request().method() === 'POST', { timeout: 10_000 }),
    dlg.getByRole('button', { name: 'Finish', exact: true }).click(),
  ]);
  assert.equal(resp.status(), 422, 'the server refuses the expiry');
  const alert = dlg.getByRole('alert');
  await expectVisible(alert, 'an alert in the dialog');
  const text = (await alert.first().innerText()).trim();
  assert.ok(text.length > 0, 'the alert says something');
  // next to the field: nearer to "Expiry date" than to any other field of the form
  const a = await alert.first().boundingBox();
  const dist = async (label) => {
    const b = await dlg.getByLabel(lbl(label)).boundingBox();
    const mid = (r) => r.y + r.height / 2;
    return Math.abs(mid(a) - mid(b));
  };
  const dExpiry = await dist('Expiry date');
  for (const other of ['Name', 'Description']) {
    const d = await dist(other);
    assert.ok(dExpiry < d, `the alert (${JSON.stringify(text)}) should be next to "Expiry date" (distance ${dExpiry}) rather than "${other}" (${d})`);
  }
  assert.ok(dExpiry < 120, `the alert should be right by the "Expiry date" field (distance ${dExpiry}px)`);
  await expectVisible(dlg, 'the dialog stays open');
  const { keys } = await s.admin.get(`/v1/users/${u.username}/keys`);
  assert.equal(keys.length, 0, 'nothing stored');
  await page.context().close();
});

test('a name of 101 characters is refused (maxlength or an error next to Name)', T, async () => {
  const { page, u } = await userPage();
  const dlg = await openNewKey(page);
  const name = dlg.getByLabel(lbl('Name'));
  await name.fill('n'.repeat(101));
  await dlg.getByLabel(lbl('Available API')).selectOption([{ label: 'Tasks' }]);
  await dlg.getByRole('button', { name: 'Add selected', exact: true }).click();
  const typed = await name.inputValue();
  if (typed.length <= 100) {
    // the field itself stops at 100 characters: nothing to refuse
    assert.equal(typed.length, 100, 'the Name field keeps the first 100 characters');
  } else {
    await dlg.getByRole('button', { name: 'Finish', exact: true }).click();
    const alert = dlg.getByRole('alert');
    await expectVisible(alert, 'an alert for the 101-character name');
    const a = await alert.first().boundingBox();
    const n = await name.boundingBox();
    const e = await dlg.getByLabel(lbl('Expiry date')).boundingBox();
    assert.ok(Math.abs(a.y - n.y) < Math.abs(a.y - e.y), 'the alert is next to Name');
    const { keys } = await s.admin.get(`/v1/users/${u.username}/keys`);
    assert.equal(keys.length, 0, 'nothing stored');
  }
  await page.context().close();
});

test('"Last used" shows the addresses a key was used from, newest first, behind "from N addresses"', T, async () => {
  const u = await createUser(s.admin);
  const name = uniq('where-');
  const made = await createKeyViaApi(u, name, ['Tasks']);
  // the test runs on 127.0.0.1, a trusted proxy by default: apikeyd records the forwarded client
  for (const address of ['198.51.100.7', '2001:db8::42']) {
    const r = await fetch(`${s.base}/v1/auth`, {
      headers: { Authorization: `Bearer ${made.key}`, 'X-Required-Scope': '*', 'X-Forwarded-For': address },
    });
    assert.equal(r.status, 204, `GET /v1/auth for ${address}`);
  }
  const api = await s.daemon.api(u.username, u.password);
  await eventually(async () => {
    const k = await api.get(`/v1/keys/${made.id}`);
    assert.equal(k.last_used_from.length, 2, JSON.stringify(k.last_used_from));
  }, 6000);
  const page = await s.newPage();
  await login(page, u.username, u.password);
  const table = keysTable(page);
  const row = rowWith(table, name);
  await expectVisible(row, `row of ${name}`);
  const list = row.getByRole('list', { name: `Addresses ${name} was used from` });
  const summary = row.getByText('from 2 addresses', { exact: true });
  await expectVisible(summary, '"from 2 addresses" under Last used');
  assert.equal(await list.isVisible(), false, 'the list is closed at first');
  await summary.click();
  await expectVisible(list, `list "Addresses ${name} was used from"`);
  const items = (await list.getByRole('listitem').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
  const today = ymd(new Date());
  assert.deepEqual(items, [`2001:db8::42 ${today}`, `198.51.100.7 ${today}`], 'newest first, each with its date');
  await shot(page, 'keys-used-from.png');
  await page.context().close();
});
