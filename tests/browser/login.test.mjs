// login.test.mjs — Login, the shell (username top-left, sidebar, Log out), one-time codes
// and the end of a session (docs/PORTAL.md "Routing", "Login", "Shell").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createUser, totp } from './daemon.mjs';
import {
  expectGone, expectText, expectVisible, goTo, lbl, login, shot, suite, TEST_TIMEOUT,
} from './portal.mjs';

const s = suite('login');
const T = { timeout: TEST_TIMEOUT };
const SESSION_ENDED = 'Your session has ended. Please log in again.';

test('the login page has the heading "Log in", Username, Password and "Log in"', T, async () => {
  const page = await s.newPage();
  await page.goto('/');
  await expectVisible(page.getByRole('heading', { name: 'Log in', level: 1 }), 'heading "Log in"');
  assert.match(new URL(page.url()).hash, /^#\/login/, 'an unauthenticated visit lands on #/login');
  await expectVisible(page.getByLabel(lbl('Username')), 'field "Username"');
  await expectVisible(page.getByLabel(lbl('Password')), 'field "Password"');
  assert.equal(await page.getByLabel(lbl('Password')).getAttribute('type'), 'password');
  await expectVisible(page.getByRole('button', { name: 'Log in', exact: true }), 'button "Log in"');
  await shot(page, 'login.png');
  assert.deepEqual(page.jsErrors, [], 'no script errors');
  await page.context().close();
});

test('logging in with username and password shows the username top left and the User API Keys page', T, async () => {
  const u = await createUser(s.admin);
  const page = await s.newPage();
  await login(page, u.username, u.password);
  assert.match(new URL(page.url()).hash, /^#\/keys/, 'the default page after login is #/keys');
  const who = page.getByLabel('Signed in as', { exact: true });
  await expectText(who, (t) => t.includes(u.username), 'the "Signed in as" element');
  const box = await who.boundingBox();
  const vp = page.viewportSize();
  assert.ok(box.x < vp.width / 2 && box.y < 120, `the username is at the top left (at ${box.x},${box.y})`);
  const logout = page.getByRole('button', { name: 'Log out', exact: true });
  const lb = await logout.boundingBox();
  assert.ok(lb.x > vp.width / 2 && lb.y < 120, `"Log out" is at the top right (at ${lb.x},${lb.y})`);
  await expectVisible(page.getByRole('heading', { name: 'User API Keys', level: 1 }), 'h1 "User API Keys"');
  assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1, 'one h1');
  assert.deepEqual(page.jsErrors, [], 'no script errors');
  await page.context().close();
});

test('the sidebar links every page, marks the current one, and hides "Users" from a plain user', T, async () => {
  const u = await createUser(s.admin);
  const page = await s.newPage();
  await login(page, u.username, u.password);
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const name of ['User API Keys', 'User Settings', 'API Accounts', 'Projects']) {
    await expectVisible(nav.getByRole('link', { name, exact: true }), `sidebar link "${name}"`);
  }
  assert.equal(await nav.getByRole('link', { name: 'Users', exact: true }).count(), 0,
    'no "Users" link without manage_users / manage_user_api_keys');
  assert.equal(await nav.getByRole('link', { name: 'User API Keys', exact: true }).getAttribute('aria-current'), 'page');
  const box = await nav.boundingBox();
  assert.ok(box.x < page.viewportSize().width / 3, 'the sidebar is on the left');
  await goTo(page, 'User Settings');
  assert.equal(await nav.getByRole('link', { name: 'User Settings', exact: true }).getAttribute('aria-current'), 'page');
  assert.notEqual(await nav.getByRole('link', { name: 'User API Keys', exact: true }).getAttribute('aria-current'), 'page');
  await page.context().close();
});

test('an admin sees the "Users" link', T, async () => {
  const page = await s.newPage();
  await login(page, 'admin', 'correct-horse-battery');
  await expectVisible(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users', exact: true }),
    'sidebar link "Users"');
  await page.context().close();
});

test('a wrong password shows the alert "Wrong username, password or code."', T, async () => {
  const u = await createUser(s.admin);
  const page = await s.newPage();
  await page.goto('/#/login');
  await page.getByLabel(lbl('Username')).fill(u.username);
  await page.getByLabel(lbl('Password')).fill(`${u.password}-wrong`);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await expectText(page.getByRole('alert'), 'Wrong username, password or code.', 'the login alert');
  await expectVisible(page.getByRole('heading', { name: 'Log in', level: 1 }), 'still on "Log in"');
  assert.equal(await page.getByLabel('Signed in as', { exact: true }).count(), 0, 'not signed in');
  await page.context().close();
});

test('"Log out" ends the session and shows the login page', T, async () => {
  const u = await createUser(s.admin);
  const page = await s.newPage();
  await login(page, u.username, u.password);
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await expectVisible(page.getByRole('heading', { name: 'Log in', level: 1 }), 'heading "Log in" after Log out');
  const r = await page.request.get('/v1/me');
  assert.equal(r.status(), 401, 'the session is gone on the server');
  await page.context().close();
});

test('with MFA on, login asks for the one-time code and "Verify" with a fresh code signs in', T, async () => {
  const u = await createUser(s.admin);
  const api = await s.daemon.api(u.username, u.password);
  const { secret } = await api.post('/v1/me/mfa', { current_password: u.password });
  await api.req('POST', '/v1/me/mfa/confirm', { code: await totp(secret), current_password: u.password }, 200);

  const page = await s.newPage();
  await page.goto('/#/login');
  await page.getByLabel(lbl('Username')).fill(u.username);
  await page.getByLabel(lbl('Password')).fill(u.password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  const code = page.getByLabel(lbl('One-time code'));
  await expectVisible(code, 'field "One-time code"');
  const verifyBtn = page.getByRole('button', { name: 'Verify', exact: true });
  await expectVisible(verifyBtn, 'button "Verify"');
  await code.fill(await totp(secret));
  await verifyBtn.click();
  await expectVisible(page.getByRole('heading', { name: 'User API Keys', level: 1 }), 'User API Keys after the code');
  await expectText(page.getByLabel('Signed in as', { exact: true }), (t) => t.includes(u.username));
  await page.context().close();
});

test('with MFA on, a wrong one-time code shows "Wrong username, password or code."', T, async () => {
  const u = await createUser(s.admin);
  const api = await s.daemon.api(u.username, u.password);
  const { secret } = await api.post('/v1/me/mfa', { current_password: u.password });
  await api.req('POST', '/v1/me/mfa/confirm', { code: await totp(secret), current_password: u.password }, 200);

  const page = await s.newPage();
  await page.goto('/#/login');
  await page.getByLabel(lbl('Username')).fill(u.username);
  await page.getByLabel(lbl('Password')).fill(u.password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  const code = page.getByLabel(lbl('One-time code'));
  await expectVisible(code, 'field "One-time code"');
  const good = await totp(secret);
  await code.fill(good === '000000' ? '111111' : '000000');
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await expectText(page.getByRole('alert'), 'Wrong username, password or code.', 'the login alert');
  await shot(page, 'login-otp-wrong');
  assert.equal(await page.getByLabel('Signed in as', { exact: true }).count(), 0, 'not signed in');
  await page.context().close();
});

test('after the session is ended elsewhere, the next navigation shows the login page with "Your session has ended."', T, async () => {
  const u = await createUser(s.admin);
  const page = await s.newPage();
  const loginResp = page.waitForResponse((r) => r.url().endsWith('/v1/login') && r.status() === 200,
    { timeout: 10_000 });
  await login(page, u.username, u.password);
  const { csrf_token: csrf } = await (await loginResp).json();
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'apikeyd_session');
  assert.ok(session, 'the browser holds the apikeyd_session cookie');
  // Log the same session out from outside the browser (the browser keeps its now dead cookie).
  const r = await fetch(`${s.base}/v1/logout`, {
    method: 'POST',
    headers: { Cookie: `apikeyd_session=${session.value}`, 'X-CSRF-Token': csrf },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(r.status, 204, 'POST /v1/logout');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'User Settings', exact: true }).click();
  await expectVisible(page.getByRole('heading', { name: 'Log in', level: 1 }), 'heading "Log in"');
  assert.match(new URL(page.url()).hash, /^#\/login/, 'back on #/login');
  await expectVisible(page.getByRole('alert').filter({ hasText: SESSION_ENDED }), `alert "${SESSION_ENDED}"`);
  await expectGone(page.getByLabel('Signed in as', { exact: true }), 'the signed-in header');
  // and logging in again works
  await page.getByLabel(lbl('Username')).fill(u.username);
  await page.getByLabel(lbl('Password')).fill(u.password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await expectVisible(page.getByRole('heading', { level: 1 }).filter({ hasText: /User API Keys|User Settings/ }),
    'a page after logging in again');
  await page.context().close();
});
