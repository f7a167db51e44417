// sso.test.mjs — OpenID Connect sign-in end to end (docs/PORTAL.md "Login", docs/SSO-OIDC.md):
// a real OpenID Certified provider (npm oidc-provider, tests/oidc/provider.mjs) with one client
// and two accounts, the portal's "Sign in with SSO" button, the provider's own login and
// consent pages, and back in the portal signed in with the roles the groups map to.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, REPO, startDaemon } from './daemon.mjs';
import {
  expectVisible, launchBrowser, lbl, shot, TEST_TIMEOUT, TIMEOUT,
} from './portal.mjs';

const T = { timeout: TEST_TIMEOUT };
const CLIENT_ID = 'apikeyd';
const ROLE = 'sso-auditor';
const s = { provider: null, daemon: null, browser: null, tmp: null };

// Starts tests/oidc/provider.mjs and waits (bounded) for its {"issuer"} line.
async function startProvider(port, redirectUri, secret) {
  const proc = spawn(process.execPath, [path.join(REPO, 'tests', 'oidc', 'provider.mjs'),
    String(port), redirectUri, CLIENT_ID, secret], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (b) => { err += b; });
  const issuer = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`provider did not start: ${err}`)), 15_000);
    let out = '';
    proc.stdout.on('data', (b) => {
      out += b;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) { clearTimeout(timer); resolve(JSON.parse(line).issuer); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`provider exited ${code}: ${err}`)); });
  });
  return { proc, issuer };
}

before(async () => {
  s.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'apikeyd-sso-'));
  const secret = randomBytes(16).toString('hex');
  const secretFile = path.join(s.tmp, 'client-secret');
  fs.writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  s.provider = await startProvider(await freePort(), `${base}/v1/sso/oidc/callback`, secret);
  s.daemon = await startDaemon({
    label: 'sso',
    port,
    env: {
      APIKEYD_OIDC_ISSUER: s.provider.issuer,
      APIKEYD_OIDC_CLIENT_ID: CLIENT_ID,
      APIKEYD_OIDC_CLIENT_SECRET_FILE: secretFile,
      APIKEYD_OIDC_ROLES_CLAIM: 'groups',
      APIKEYD_OIDC_ROLE_MAP: `apikeyd-admins=admin, auditors=${ROLE}`,
      APIKEYD_PUBLIC_URL: base,
    },
  });
  const r = await s.daemon.admin.raw('POST', '/v1/roles', { name: ROLE, authorities: ['view_audit'] });
  assert.equal(r.status, 201, `create role ${ROLE}: ${JSON.stringify(r.body)}`);
  s.browser = await launchBrowser();
}, { timeout: 60_000 });

after(async () => {
  try {
    if (s.browser) await s.browser.close();
  } finally {
    try {
      if (s.daemon) await s.daemon.stop();
    } finally {
      if (s.provider) s.provider.proc.kill('SIGTERM');
      if (s.tmp) fs.rmSync(s.tmp, { recursive: true, force: true });
    }
  }
}, { timeout: 30_000 });

async function newPage() {
  const context = await s.browser.newContext({
    baseURL: s.daemon.base, timezoneId: 'UTC', locale: 'en-US', viewport: { width: 1280, height: 800 },
  });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  page.jsErrors = [];
  page.on('pageerror', (e) => page.jsErrors.push(String(e)));
  return page;
}

// The portal's button, then the provider's login and consent pages as account `login`.
async function signInWithSso(page, login) {
  await page.goto('/');
  await expectVisible(page.getByRole('heading', { name: 'Log in', level: 1 }), 'heading "Log in"');
  await page.getByRole('button', { name: 'Sign in with SSO', exact: true }).click();
  await page.waitForURL((u) => u.origin === s.provider.issuer, { timeout: TIMEOUT });
  await page.getByPlaceholder('Enter any login').fill(login);
  await page.getByPlaceholder('and password').fill('any password will do');
  await page.getByRole('button', { name: 'Sign-in', exact: true }).click();
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
}

test('the login page offers "Sign in with SSO" under the password form', T, async () => {
  const page = await newPage();
  await page.goto('/');
  const button = page.getByRole('button', { name: 'Sign in with SSO', exact: true });
  await expectVisible(button, 'button "Sign in with SSO"');
  await expectVisible(page.getByRole('button', { name: 'Log in', exact: true }), 'button "Log in"');
  await shot(page, 'login-sso.png');
  assert.deepEqual(page.jsErrors, [], 'no script errors');
  await page.context().close();
});

test('bob signs in through the provider and comes back signed in with the auditor role', T, async () => {
  const page = await newPage();
  await signInWithSso(page, 'bob');
  await expectVisible(page.getByRole('heading', { name: 'User API Keys', level: 1 }),
    'the User API Keys page after SSO');
  assert.equal(new URL(page.url()).origin, s.daemon.base, 'back on the portal');
  await expectVisible(page.getByRole('button', { name: 'bob', exact: true }), 'the username top left');
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expectVisible(nav.getByRole('link', { name: 'Audit', exact: true }),
    'the Audit link (view_audit through the mapped role)');
  assert.equal(await nav.getByRole('link', { name: 'Users', exact: true }).count(), 0,
    'no Users link: the auditor role holds no manage_users');
  const me = await page.evaluate(async () => (await fetch('/v1/me')).json());
  assert.equal(me.auth_source, 'oidc');
  assert.equal(me.full_name, 'Bob Auditor');
  assert.deepEqual(me.roles.map((r) => (typeof r === 'string' ? r : r.name)), [ROLE]);
  // the CSRF token came through: a write works
  await page.getByRole('link', { name: 'User Settings', exact: true }).click();
  await expectVisible(page.getByText('MFA is not available for SSO users.'), 'the seed\'s MFA wording');
  assert.deepEqual(page.jsErrors, [], 'no script errors');
  await page.context().close();
});

test('alice signs in through the provider and holds the admin role', T, async () => {
  const page = await newPage();
  await signInWithSso(page, 'alice');
  await expectVisible(page.getByRole('heading', { name: 'User API Keys', level: 1 }), 'signed in');
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expectVisible(nav.getByRole('link', { name: 'Users', exact: true }), 'the Users link (admin)');
  const status = await page.evaluate(async () => {
    const csrf = sessionStorage.getItem('apikeyd.csrf');
    const r = await fetch('/v1/keys', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ name: 'made after SSO', scopes: ['Tasks'] }),
    });
    return r.status;
  });
  assert.equal(status, 201, 'a write with the CSRF token handed over after SSO');
  assert.equal(await page.evaluate(() => document.cookie.includes('apikeyd_csrf')), false,
    'the hand-over cookie is gone');
  await page.context().close();
});

test('cancelling at the provider comes back to the login page with the reason in words', T, async () => {
  const page = await newPage();
  await page.goto('/');
  await page.getByRole('button', { name: 'Sign in with SSO', exact: true }).click();
  await page.waitForURL((u) => u.origin === s.provider.issuer, { timeout: TIMEOUT });
  await page.getByRole('link', { name: '[ Cancel ]' }).click();
  await expectVisible(page.getByRole('alert').filter({
    hasText: 'Sign-in was cancelled or refused at the identity provider.',
  }), 'the reason in role="alert"');
  assert.ok(!page.url().includes('sso_error'), 'the code is taken out of the address');
  await expectVisible(page.getByLabel(lbl('Username')), 'the password form is still there');
  await page.context().close();
});
