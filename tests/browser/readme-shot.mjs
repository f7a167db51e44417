// readme-shot.mjs — retakes the README's screenshot (docs/images/portal-keys.png) from a clean,
// realistic data set: a fresh daemon, one person with the keys a team would have, some of them
// used, signed in through the login page of Debian's chromium. Not a test; run it with
// `make readme-shot` after changing the User API Keys page.
import path from 'node:path';
import { REPO, createUser, startDaemon, verify } from './daemon.mjs';
import { expectVisible, launchBrowser, login } from './portal.mjs';

const OUT = path.join(REPO, 'docs', 'images', 'portal-keys.png');
const DAY = 86_400_000;

const KEYS = [
  { name: 'ci-deploy', description: 'GitLab CI: deploys the booking API', scopes: ['PublishApp', 'Tasks'], days: 340, used: true },
  { name: 'grafana-metrics', description: 'Grafana dashboards read task states', scopes: ['Tasks'], days: 180, used: true },
  { name: 'nightly-export', description: 'Exports the ledger at 02:00', scopes: ['Secret', 'Tasks'], days: 90, used: true },
  { name: 'laptop-scripts', description: 'My own scripts', scopes: ['APIKey', 'Tasks'], days: 30, used: false },
];

async function main() {
  const daemon = await startDaemon({ label: 'readme-shot' });
  let browser = null;
  try {
    const person = await createUser(daemon.admin, {
      username: 'maria.jensen', fullName: 'Maria Jensen', email: 'maria.jensen@example.com',
    });
    const api = await daemon.api(person.username, person.password);
    for (const k of [...KEYS].reverse()) {
      const expires = new Date(Date.now() + k.days * DAY).toISOString().replace(/\.\d+Z$/, 'Z');
      const made = await api.post('/v1/keys', {
        name: k.name, description: k.description, scopes: k.scopes, expires_at: expires,
      });
      if (k.used) await verify(daemon.base, made.key, { scope: 'Tasks' });
    }
    browser = await launchBrowser();
    const context = await browser.newContext({
      baseURL: daemon.base, timezoneId: 'UTC', locale: 'en-US', viewport: { width: 1280, height: 800 },
    });
    const page = await context.newPage();
    await login(page, person.username, person.password);
    await expectVisible(page.getByRole('cell', { name: 'laptop-scripts' }), 'the key table');
    await page.screenshot({ path: OUT });
    console.log(`wrote ${path.relative(REPO, OUT)}`);
  } finally {
    if (browser) await browser.close();
    await daemon.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
