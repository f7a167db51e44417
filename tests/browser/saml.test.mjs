// saml.test.mjs — SAML 2.0 sign-in end to end (docs/PORTAL.md "Login", docs/SSO.md "SAML
// 2.0"): a real identity provider (Debian's SimpleSAMLphp under `php -S` on loopback,
// tests/saml/idp.mjs) that knows apikeyd's metadata and two users, the portal's "Sign in with
// SAML" button, the IdP's own login page, its signed Response POSTed back to the ACS, and the
// portal signed in with the roles the groups map to. A second daemon with OpenID Connect as
// well shows both buttons.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, REPO, startDaemon } from './daemon.mjs';
import { expectVisible, launchBrowser, lbl, shot, TEST_TIMEOUT, TIMEOUT } from './portal.mjs';

const { startIdp } = await import(path.join(REPO, 'tests', 'saml', 'idp.mjs'));

const T = { timeout: TEST_TIMEOUT };
const ROLE = 'saml-auditor';
const s = { idp: null, daemon: null, both: null, browser: null, tmp: null };
const USERS = {
  carol: { password: 'carol-idp-pass', name: 'Carol Auditor', mail: 'carol@example.org', groups: ['auditors'] },
  dave: { password: 'dave-idp-pass', name: 'Dave Admin', mail: 'dave@example.org', groups: ['apikeyd-admins', 'staff'] },
};

before(async () => {
  s.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'apikeyd-saml-'));
  const key = path.join(s.tmp, 'sp.key');
  const cert = path.join(s.tmp, 'sp.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', '/CN=apikeyd-sp', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  s.idp = await startIdp({
    dir: path.join(s.tmp, 'idp'),
    port: await freePort(),
    sp: { entityId: `${base}/v1/sso/saml/metadata`, acs: `${base}/v1/sso/saml/acs`, certFile: cert },
    users: USERS,
  });
  const saml = {
    APIKEYD_SAML_IDP_METADATA_FILE: s.idp.metadataFile,
    APIKEYD_SAML_SP_KEY_FILE: key,
    APIKEYD_SAML_SP_CERT_FILE: cert,
    APIKEYD_SAML_USERNAME_ATTRIBUTE: 'uid',
    APIKEYD_SAML_NAME_ATTRIBUTE: 'displayName',
    APIKEYD_SAML_EMAIL_ATTRIBUTE: 'mail',
    APIKEYD_SAML_GROUPS_ATTRIBUTE: 'groups',
    APIKEYD_SAML_ROLE_MAP: `apikeyd-admins=admin, auditors=${ROLE}`,
    APIKEYD_PUBLIC_URL: base,
  };
  s.daemon = await startDaemon({ label: 'saml', port, env: saml });
  const r = await s.daemon.admin.raw('POST', '/v1/roles', { name: ROLE, authorities: ['view_audit'] });
  assert.equal(r.status, 201, `create role ${ROLE}: ${JSON.stringify(r.body)}`);
  // OpenID Connect as well (its provider is only asked when someone uses it)
  const secretFile = path.join(s.tmp, 'oidc-secret');
  fs.writeFileSync(secretFile, 'not-used\n', { mode: 0o600 });
  const port2 = await freePort();
  s.both = await startDaemon({
    label: 'saml-oidc',
    port: port2,
    env: {
      ...saml,
      APIKEYD_PUBLIC_URL: `http://127.0.0.1:${port2}`,
      APIKEYD_OIDC_ISSUER: 'http://127.0.0.1:9/oidc',
      APIKEYD_OIDC_CLIENT_ID: 'apikeyd',
      APIKEYD_OIDC_CLIENT_SECRET_FILE: secretFile,
    },
  });
  s.browser = await launchBrowser();
}, { timeout: 90_000 });

after(async () => {
  try {
    if (s.browser) await s.browser.close();
  } finally {
    try {
      if (s.daemon) await s.daemon.stop();
      if (s.both) await s.both.stop();
    } finally {
      if (s.idp) await s.idp.stop();
      if (s.tmp) fs.rmSync(s.tmp, { recursive: true, force: true });
    }
  }
}, { timeout: 30_000 });

async function newPage(daemon = s.daemon) {
  const context = await s.browser.newContext({
    baseURL: daemon.base, timezoneId: 'UTC', locale: 'en-US', viewport: { width: 1280, height: 800 },
  });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  page.jsErrors = [];
  page.on('pageerror', (e) => { if (new URL(page.url()).origin === daemon.base) page.jsErrors.push(String(e)); });
  return page;
}

// The portal's button, then SimpleSAMLphp's own login page as login.
async function signInWithSaml(page, login) {
  await page.goto('/');
  await expectVisible(page.getByRole('heading', { name: 'Log in', level: 1 }), 'heading "Log in"');
  await page.getByRole('button', { name: 'Sign in with SAML', exact: true }).click();
  await page.waitForURL((u) => u.origin === s.idp.base, { timeout: TIMEOUT });
  await page.getByLabel('Username').fill(login);
  await page.getByLabel('Password').fill(USERS[login].password);
  await page.getByRole('button', { name: 'Login' }).click();
}

const roleNames = (me) => me.roles.map((r) => (typeof r === 'string' ? r : r.name)).sort();

test('the login page offers "Sign in with SAML" under the password form', T, async () => {
  const page = await newPage();
  await page.goto('/');
  await expectVisible(page.getByRole('button', { name: 'Sign in with SAML', exact: true }),
    'button "Sign in with SAML"');
  await expectVisible(page.getByRole('button', { name: 'Log in', exact: true }), 'button "Log in"');
  assert.equal(await page.getByRole('button', { name: 'Sign in with SSO', exact: true }).count(), 0,
    'no OpenID Connect button while it is off');
  await shot(page, 'login-saml.png');
  assert.deepEqual(page.jsErrors, [], 'no script errors');
  await page.context().close();
});

test('with OpenID Connect configured too, both buttons are offered', T, async () => {
  const page = await newPage(s.both);
  await page.goto('/');
  await expectVisible(page.getByRole('button', { name: 'Sign in with SSO', exact: true }),
    'button "Sign in with SSO"');
  await expectVisible(page.getByRole('button', { name: 'Sign in with SAML', exact: true }),
    'button "Sign in with SAML"');
  await shot(page, 'login-sso-and-saml.png');
  await page.context().close();
});

test('carol signs in at SimpleSAMLphp and comes back signed in with the auditor role', T, async () => {
  const page = await newPage();
  await signInWithSaml(page, 'carol');
  await expectVisible(page.getByRole('heading', { name: 'User API Keys', level: 1 }),
    'the User API Keys page after SAML sign-in');
  assert.equal(new URL(page.url()).origin, s.daemon.base, 'back on the portal');
  await expectVisible(page.getByRole('button', { name: 'carol', exact: true }), 'the username top left');
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expectVisible(nav.getByRole('link', { name: 'Audit', exact: true }),
    'the Audit link (view_audit through the mapped role)');
  assert.equal(await nav.getByRole('link', { name: 'Users', exact: true }).count(), 0,
    'no Users link: the auditor role holds no manage_users');
  const me = await page.evaluate(async () => (await fetch('/v1/me')).json());
  assert.equal(me.auth_source, 'saml');
  assert.equal(me.full_name, 'Carol Auditor');
  assert.equal(me.email, 'carol@example.org');
  assert.deepEqual(roleNames(me), [ROLE]);
  assert.deepEqual(page.jsErrors, [], 'no script errors');
  await page.context().close();
});

test('dave signs in at SimpleSAMLphp, holds the admin role and can write', T, async () => {
  const page = await newPage();
  await signInWithSaml(page, 'dave');
  await expectVisible(page.getByRole('heading', { name: 'User API Keys', level: 1 }), 'signed in');
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expectVisible(nav.getByRole('link', { name: 'Users', exact: true }), 'the Users link (admin)');
  const status = await page.evaluate(async () => {
    const csrf = sessionStorage.getItem('apikeyd.csrf');
    const r = await fetch('/v1/keys', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ name: 'made after SAML', scopes: ['Tasks'] }),
    });
    return r.status;
  });
  assert.equal(status, 201, 'a write with the CSRF token handed over after SAML');
  await page.context().close();
});

test('a Response posted again is refused with the reason in words', T, async () => {
  // the IdP's auto-submitting form is caught, its SAMLResponse posted twice
  const page = await newPage();
  let posted = null;
  await page.route('**/v1/sso/saml/acs', async (route) => {
    posted = route.request().postData();
    await route.continue();
  });
  await signInWithSaml(page, 'carol');
  await expectVisible(page.getByRole('heading', { name: 'User API Keys', level: 1 }), 'signed in');
  assert.ok(posted && posted.includes('SAMLResponse='), 'the ACS form was seen');
  const page2 = await newPage();
  await page2.goto('/');
  await page2.evaluate((body) => {
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = '/v1/sso/saml/acs';
    for (const [k, v] of new URLSearchParams(body)) {
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = k;
      input.value = v;
      form.append(input);
    }
    document.body.append(form);
    form.submit();
  }, posted);
  await expectVisible(page2.getByRole('alert').filter({
    hasText: "The identity provider's answer could not be verified. Please try again.",
  }), 'the reason in role="alert"');
  await expectVisible(page2.getByLabel(lbl('Username')), 'the password form is still there');
  await page.context().close();
  await page2.context().close();
});
