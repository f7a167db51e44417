// webhooks.test.mjs — Admin → Webhooks (docs/PORTAL.md "Webhooks"): the link only for holders
// of manage_webhooks; "Register endpoint" with a refused URL shown at its field, the signing
// secret shown once and gone from the page once closed; the row's menu: Deliveries, Disable,
// Delete.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createUser } from './daemon.mjs';
import {
  dialog, expectGone, expectText, expectVisible, goTo, lbl, login, pageHolds, shot, suite,
  tableRows, TEST_TIMEOUT,
} from './portal.mjs';

const s = suite('webhooks');
const T = { timeout: TEST_TIMEOUT };
const URL_OK = 'https://93.184.216.34/apikeyd-hook'; // public; no event is made, so never asked

async function rowMenu(page, url, item) {
  await page.getByRole('button', { name: `Actions for ${url}`, exact: true }).click();
  const menu = page.getByRole('menu', { name: `Actions for ${url}` });
  await expectVisible(menu, `menu "Actions for ${url}"`);
  await menu.getByRole('menuitem', { name: item, exact: true }).click();
}

test('an admin registers an endpoint: a refused URL at its field, the secret once, then deliveries, disable, delete', T, async () => {
  const page = await s.newPage();
  await login(page, 'admin', 'correct-horse-battery');
  await goTo(page, 'Webhooks');
  await expectVisible(page.getByText('No webhook endpoints are registered.', { exact: true }), 'empty state');
  await shot(page, 'webhooks-empty');

  await page.getByRole('button', { name: 'Register endpoint', exact: true }).click();
  let dlg = dialog(page, 'Register webhook endpoint');
  await expectVisible(dlg, 'dialog "Register webhook endpoint"');
  await dlg.getByLabel(lbl('URL')).fill('http://127.0.0.1:8080/hook');
  await dlg.getByRole('checkbox', { name: 'key.created', exact: true }).check();
  await dlg.getByRole('checkbox', { name: 'key.deleted', exact: true }).check();
  await dlg.getByLabel(lbl('Description')).fill('Deploy bot');
  await dlg.getByRole('button', { name: 'Register', exact: true }).click();
  await expectVisible(dlg.getByText(/URL resolves to a loopback, private, link-local/), 'the refusal at URL');
  await shot(page, 'webhooks-register-refused');

  await dlg.getByLabel(lbl('URL')).fill(URL_OK);
  await dlg.getByRole('button', { name: 'Register', exact: true }).click();
  dlg = dialog(page, 'Save signing secret');
  await expectVisible(dlg, 'dialog "Save signing secret"');
  const secret = await dlg.getByLabel('Signing secret').inputValue();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  await shot(page, 'webhooks-secret');
  await dlg.getByRole('button', { name: 'Close', exact: true }).click();
  await expectGone(dlg, 'the secret dialog');
  assert.equal(await pageHolds(page, secret), null, 'the secret is on the page after Close');

  const table = page.getByRole('table', { name: 'Webhook endpoints' });
  const { headers, rows } = await tableRows(table);
  assert.deepEqual(headers.slice(0, 5), ['URL', 'Events', 'Description', 'Status', 'Created']);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].URL, URL_OK);
  assert.equal(rows[0].Events, 'key.created, key.deleted');
  assert.equal(rows[0].Status, 'Active');
  await shot(page, 'webhooks-list');

  await rowMenu(page, URL_OK, 'Deliveries');
  dlg = dialog(page, `Deliveries to ${URL_OK}`);
  await expectVisible(dlg.getByText('Nothing was sent yet.', { exact: true }), 'no deliveries yet');
  await shot(page, 'webhooks-deliveries');
  await dlg.getByRole('button', { name: 'Close', exact: true }).click();

  await rowMenu(page, URL_OK, 'Disable');
  await expectText(page.getByRole('status').filter({ hasText: 'disabled' }), `${URL_OK} disabled.`, 'status');
  assert.equal((await tableRows(table)).rows[0].Status, 'Disabled');

  await rowMenu(page, URL_OK, 'Delete');
  dlg = dialog(page, 'Delete webhook endpoint');
  await shot(page, 'webhooks-delete');
  await dlg.getByRole('button', { name: 'Delete', exact: true }).click();
  await expectVisible(page.getByText('No webhook endpoints are registered.', { exact: true }), 'empty again');
  assert.deepEqual(await s.admin.get('/v1/webhooks'), { webhooks: [] });
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});

test('without manage_webhooks there is no Webhooks link and the page says why', T, async () => {
  const u = await createUser(s.admin);
  const page = await s.newPage();
  await login(page, u.username, u.password);
  await expectGone(page.getByRole('link', { name: 'Webhooks', exact: true }), 'the Webhooks link');
  await page.goto('/#/webhooks');
  await expectVisible(page.getByRole('alert').filter({ hasText: 'You do not have permission to manage webhooks.' }),
    'the alert');
  await shot(page, 'webhooks-forbidden');
  await page.context().close();
});
