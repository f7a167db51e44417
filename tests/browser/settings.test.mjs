// settings.test.mjs — User Settings (docs/PORTAL.md "User Settings"): profile, MFA
// enrolment with a real TOTP code, password change, the API Keys section.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Api, ApiError, createUser, hotp, password, uniq } from './daemon.mjs';
import {
  eventually, expectText, expectValue, expectVisible, goTo, lbl, login, norm, rowWith, shot,
  suite, TEST_TIMEOUT,
} from './portal.mjs';

const s = suite('settings');
const T = { timeout: TEST_TIMEOUT };

async function settingsPage(opts) {
  const u = await createUser(s.admin, opts);
  const page = await s.newPage();
  await login(page, u.username, u.password);
  await goTo(page, 'User Settings');
  return { page, u };
}

// A section of the page by its h2 (PORTAL.md: "each a `section` with an `h2`"): the region named
// by the heading, or else the <section> element holding that heading.
const section = (page, title) => page.getByRole('region', { name: title, exact: true })
  .or(page.locator('section').filter({ has: page.getByRole('heading', { name: title, exact: true, level: 2 }) }))
  .first();

test('the settings page has the sections Profile, Security and API Keys', T, async () => {
  const { page } = await settingsPage();
  for (const h2 of ['Profile', 'Security', 'API Keys']) {
    await expectVisible(page.getByRole('heading', { name: h2, level: 2, exact: true }), `h2 "${h2}"`);
  }
  await page.context().close();
});

test('profile: full name and email are saved and still there after a reload', T, async () => {
  const { page, u } = await settingsPage({ fullName: 'Old Name', email: 'old@example.com' });
  const profile = section(page, 'Profile');
  const username = profile.getByLabel(lbl('Username'));
  await expectValue(username, u.username, 'Username');
  assert.equal(await username.isEditable(), false, 'Username is read-only');
  await expectValue(profile.getByLabel(lbl('Full name')), 'Old Name', 'Full name before');
  await profile.getByLabel(lbl('Full name')).fill('Ada Lovelace');
  await profile.getByLabel(lbl('Email')).fill('ada@example.org');
  await profile.getByRole('button', { name: 'Save profile', exact: true }).click();
  await expectVisible(profile.getByText('Profile saved.', { exact: true }), 'status "Profile saved."');
  await shot(page, 'settings.png');
  await page.reload();
  await expectVisible(page.getByRole('heading', { name: 'User Settings', level: 1 }), 'User Settings after reload');
  const again = section(page, 'Profile');
  await expectValue(again.getByLabel(lbl('Full name')), 'Ada Lovelace', 'Full name after reload');
  await expectValue(again.getByLabel(lbl('Email')), 'ada@example.org', 'Email after reload');
  const me = await s.admin.get(`/v1/users/${u.username}`);
  assert.equal(me.full_name, 'Ada Lovelace');
  assert.equal(me.email, 'ada@example.org');
  await page.context().close();
});

test('profile: an invalid email shows an error and is not saved', T, async () => {
  const { page, u } = await settingsPage({ email: 'good@example.com' });
  const profile = section(page, 'Profile');
  // passes a browser's own email check but not the server's (no dot in the domain)
  await profile.getByLabel(lbl('Email')).fill('someone@localhost');
  await profile.getByRole('button', { name: 'Save profile', exact: true }).click();
  // PORTAL.md: server errors appear in an element with role="alert" next to the form or field
  const alert = profile.getByRole('alert');
  await expectVisible(alert, 'an alert in Profile');
  assert.ok(norm(await alert.first().innerText()).length > 0, 'the alert says something');
  assert.equal(await profile.getByText('Profile saved.', { exact: true }).count(), 0, 'no "Profile saved."');
  const me = await s.admin.get(`/v1/users/${u.username}`);
  assert.equal(me.email, 'good@example.com', 'the email is unchanged');
  await page.context().close();
});

test('MFA: "Enable MFA" shows a QR code and the secret; a TOTP code from it turns "MFA: On"', T, async () => {
  const { page, u } = await settingsPage();
  const sec = section(page, 'Security');
  await expectVisible(sec.getByText('MFA: Off', { exact: true }), '"MFA: Off"');
  await sec.getByLabel(lbl('Password')).fill(u.password);
  await sec.getByRole('button', { name: 'Enable MFA', exact: true }).click();
  const qr = sec.getByRole('img', { name: 'QR code for your authenticator app', exact: true });
  await expectVisible(qr, 'the QR code image');
  const size = await qr.evaluate((img) => ({ w: img.naturalWidth, h: img.naturalHeight, done: img.complete }));
  assert.ok(size.done && size.w > 0 && size.h > 0, `the QR image loaded (${JSON.stringify(size)})`);
  // the secret, shown as text labelled "Secret"
  const secretEl = sec.getByLabel(lbl('Secret')).or(sec.getByText(/^\s*[A-Z2-7 ]{32,}=*\s*$/)).first();
  await expectVisible(secretEl, 'the secret');
  await expectVisible(sec.getByText('Secret', { exact: false }).first(), 'the label "Secret"');
  const secretText = await secretEl.evaluate((el) => ('value' in el && el.value) || el.textContent);
  const secret = secretText.replace(/\s+/g, '');
  assert.match(secret, /^[A-Z2-7]{32}=*$/, 'a base32 secret of 160 bits');
  await shot(page, 'mfa-qr.png');
  const step = Math.floor(Date.now() / 1000 / 30);
  await sec.getByLabel(lbl('Code from your authenticator')).fill(hotp(secret, step));
  await sec.getByRole('button', { name: 'Confirm', exact: true }).click();
  await expectVisible(sec.getByText('MFA: On', { exact: true }), '"MFA: On"');
  // the recovery codes, shown once, then "Done"
  const codes = sec.getByRole('list', { name: 'Recovery codes', exact: true }).getByRole('listitem');
  await eventually(async () => assert.equal(await codes.count(), 10, 'ten recovery codes'));
  await shot(page, 'settings-recovery-codes');
  await sec.getByRole('button', { name: 'Done', exact: true }).click();
  await expectVisible(sec.getByRole('button', { name: 'Disable MFA', exact: true }), 'button "Disable MFA"');
  await expectVisible(sec.getByText('Recovery codes left: 10', { exact: true }), '"Recovery codes left: 10"');
  const me = await s.admin.get(`/v1/users/${u.username}`);
  assert.equal(me.mfa_enabled, true, 'MFA is on on the server');
  // logging in again now asks for the one-time code
  const page2 = await s.newPage();
  await page2.goto('/#/login');
  await page2.getByLabel(lbl('Username')).fill(u.username);
  await page2.getByLabel(lbl('Password')).fill(u.password);
  await page2.getByRole('button', { name: 'Log in', exact: true }).click();
  await expectVisible(page2.getByLabel(lbl('One-time code')), 'field "One-time code" at the next login');
  await page2.getByLabel(lbl('One-time code')).fill(hotp(secret, step + 1));
  await page2.getByRole('button', { name: 'Verify', exact: true }).click();
  await expectVisible(page2.getByRole('heading', { name: 'User API Keys', level: 1 }), 'signed in with the code');
  await page2.context().close();
  await page.context().close();
});

test('MFA: a wrong code at Confirm shows an error and MFA stays off', T, async () => {
  const { page, u } = await settingsPage();
  const sec = section(page, 'Security');
  await sec.getByLabel(lbl('Password')).fill(u.password);
  await sec.getByRole('button', { name: 'Enable MFA', exact: true }).click();
  await expectVisible(sec.getByRole('img', { name: 'QR code for your authenticator app' }), 'the QR code');
  await sec.getByLabel(lbl('Code from your authenticator')).fill('000000');
  await sec.getByRole('button', { name: 'Confirm', exact: true }).click();
  await expectVisible(sec.getByRole('alert'), 'an alert for the wrong code');
  assert.equal(await sec.getByText('MFA: On', { exact: true }).count(), 0, 'not "MFA: On"');
  const me = await s.admin.get(`/v1/users/${u.username}`);
  assert.equal(me.mfa_enabled, false, 'MFA is still off on the server');
  await page.context().close();
});

test('MFA: "Enable MFA" with a wrong password shows an error and shows no QR code', T, async () => {
  const { page, u } = await settingsPage();
  const sec = section(page, 'Security');
  await sec.getByLabel(lbl('Password')).fill(`not-${u.password}`);
  await sec.getByRole('button', { name: 'Enable MFA', exact: true }).click();
  await expectVisible(sec.getByRole('alert'), 'an alert for the wrong password');
  assert.equal(await sec.getByRole('img', { name: 'QR code for your authenticator app' }).count(), 0,
    'no QR code');
  await page.context().close();
});

test('MFA: a recovery code from "New recovery codes" signs in once in place of the one-time code', T, async () => {
  const { page, u } = await settingsPage();
  const sec = section(page, 'Security');
  await sec.getByLabel(lbl('Password')).fill(u.password);
  await sec.getByRole('button', { name: 'Enable MFA', exact: true }).click();
  const secretEl = sec.getByLabel(lbl('Secret'));
  await expectVisible(secretEl, 'the secret');
  const secret = (await secretEl.textContent()).replace(/\s+/g, '');
  await sec.getByLabel(lbl('Code from your authenticator')).fill(hotp(secret, Math.floor(Date.now() / 30000)));
  await sec.getByRole('button', { name: 'Confirm', exact: true }).click();
  const list = sec.getByRole('list', { name: 'Recovery codes', exact: true });
  await eventually(async () => assert.equal(await list.getByRole('listitem').count(), 10, 'ten recovery codes'));
  const first = norm(await list.getByRole('listitem').first().innerText());
  await sec.getByRole('button', { name: 'Done', exact: true }).click();
  // new codes: the first set stops working
  await sec.getByLabel(lbl('Password')).fill(u.password);
  await sec.getByRole('button', { name: 'New recovery codes', exact: true }).click();
  await eventually(async () => assert.equal(await list.getByRole('listitem').count(), 10, 'ten new recovery codes'));
  const fresh = norm(await list.getByRole('listitem').nth(3).innerText());
  assert.notEqual(fresh, first, 'a new code');
  const download = page.waitForEvent('download');
  await sec.getByRole('button', { name: 'Download', exact: true }).click();
  assert.equal((await download).suggestedFilename(), 'apikeyd-recovery-codes.txt', 'the downloaded file');
  await sec.getByRole('button', { name: 'Done', exact: true }).click();
  assert.equal(await list.count(), 0, 'the codes are gone from the page after "Done"');
  for (const [code, works] of [[first, false], [fresh, true], [fresh, false]]) {
    const p = await s.newPage();
    await p.goto('/#/login');
    await p.getByLabel(lbl('Username')).fill(u.username);
    await p.getByLabel(lbl('Password')).fill(u.password);
    await p.getByRole('button', { name: 'Log in', exact: true }).click();
    await p.getByLabel(lbl('One-time code')).fill(code);
    await p.getByRole('button', { name: 'Verify', exact: true }).click();
    if (works) {
      await expectVisible(p.getByRole('heading', { name: 'User API Keys', level: 1 }), `signed in with ${code}`);
    } else {
      await expectVisible(p.getByText('Wrong username, password or code.'), `refused: ${code}`);
    }
    await p.context().close();
  }
  await page.context().close();
});

test('change password: "Password changed.", the new password logs in and the old one no longer does', T, async () => {
  const { page, u } = await settingsPage();
  const sec = section(page, 'Security');
  const fresh = password();
  await sec.getByLabel(lbl('Current password')).fill(u.password);
  await sec.getByLabel(lbl('New password')).fill(fresh);
  await sec.getByRole('button', { name: 'Change password', exact: true }).click();
  await expectVisible(sec.getByText('Password changed.', { exact: true }), 'status "Password changed."');
  // the old password fails, the new one works (through the API ...)
  await assert.rejects(Api.login(s.base, u.username, u.password), (e) => e instanceof ApiError && e.status === 401,
    'the old password is refused');
  await Api.login(s.base, u.username, fresh);
  // ... and through the login page
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await expectVisible(page.getByRole('heading', { name: 'Log in', level: 1 }), 'login page after Log out');
  await page.getByLabel(lbl('Username')).fill(u.username);
  await page.getByLabel(lbl('Password')).fill(u.password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await expectText(page.getByRole('alert'), 'Wrong username, password or code.', 'the old password at login');
  await page.getByLabel(lbl('Password')).fill(fresh);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await expectVisible(page.getByRole('heading', { name: 'User API Keys', level: 1 }), 'signed in with the new password');
  await page.context().close();
});

test('change password: a wrong current password shows an error and nothing changes', T, async () => {
  const { page, u } = await settingsPage();
  const sec = section(page, 'Security');
  await sec.getByLabel(lbl('Current password')).fill(`${u.password}-nope`);
  await sec.getByLabel(lbl('New password')).fill(password());
  await sec.getByRole('button', { name: 'Change password', exact: true }).click();
  await expectVisible(sec.getByRole('alert'), 'an alert for the wrong current password');
  assert.equal(await sec.getByText('Password changed.', { exact: true }).count(), 0);
  await Api.login(s.base, u.username, u.password);
  await page.context().close();
});

test('the API Keys section lists the user\'s keys and manages them as User API Keys does (seed 003)', T, async () => {
  const u = await createUser(s.admin);
  const api = await s.daemon.api(u.username, u.password);
  const name = uniq('listed-');
  await api.post('/v1/keys', { name, scopes: ['Tasks'] });
  const page = await s.newPage();
  await login(page, u.username, u.password);
  await goTo(page, 'User Settings');
  const keys = section(page, 'API Keys');
  const table = keys.getByRole('table', { name: 'Your API keys' });
  await expectVisible(rowWith(table, name), `row of ${name}`);
  await expectVisible(keys.getByRole('button', { name: `Actions for ${name}`, exact: true }), 'the row\'s ⋮ menu');
  await keys.getByRole('button', { name: 'New API key', exact: true }).click();
  const dlg = page.getByRole('dialog').filter({ has: page.getByRole('heading', { name: 'New API Key', exact: true }) });
  await expectVisible(dlg, 'the same "New API Key" dialog');
  await dlg.getByRole('button', { name: 'Cancel', exact: true }).click();
  await keys.getByRole('button', { name: `Actions for ${name}`, exact: true }).click();
  await page.getByRole('menu').getByRole('menuitem', { name: 'Delete', exact: true }).click();
  const confirm = page.getByRole('dialog').filter({ has: page.getByRole('heading', { name: 'Delete API key', exact: true }) });
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await expectVisible(keys.getByText('You have no API keys yet.', { exact: true }), 'the empty list after Delete');
  assert.equal((await api.get('/v1/keys')).keys.length, 0, 'the key is deleted');
  await page.context().close();
});
