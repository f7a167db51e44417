// portal.mjs — browser side of the tests: Debian's chromium through playwright-core, one
// daemon and one browser per test file, and helpers that find things only by role, label and
// text as docs/PORTAL.md names them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';
import { OUTPUT, startDaemon } from './daemon.mjs';
import { review } from './review.mjs';

export const CHROMIUM = process.env.APIKEYD_CHROMIUM || '/usr/bin/chromium';
export const SHOTS = path.join(OUTPUT, 'screenshots');
export const TIMEOUT = 10_000; // every wait for the page, in ms
export const TEST_TIMEOUT = 90_000; // one test, in ms

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
    timeout: 30_000,
  });
}

// Registers before/after hooks: a daemon and a browser for the whole file. Returns an object
// whose fields (daemon, browser, base, admin) are filled in by `before`.
export function suite(label, { env } = {}) {
  const s = { daemon: null, browser: null, base: null, admin: null, contexts: [] };
  before(async () => {
    s.daemon = await startDaemon({ label, env });
    s.base = s.daemon.base;
    s.admin = s.daemon.admin;
    s.browser = await launchBrowser();
  }, { timeout: 60_000 });
  after(async () => {
    try {
      if (s.browser) await s.browser.close();
    } finally {
      if (s.daemon) await s.daemon.stop(); // throws unless the exit code is 0
    }
  }, { timeout: 30_000 });
  // A fresh browser context (own cookies) and page, UTC dates, clipboard allowed.
  s.newPage = async () => {
    const context = await s.browser.newContext({
      baseURL: s.base,
      timezoneId: 'UTC',
      locale: 'en-US',
      acceptDownloads: true,
      viewport: { width: 1280, height: 800 },
    });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.base });
    context.setDefaultTimeout(TIMEOUT);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.jsErrors = errors;
    return page;
  };
  return s;
}

// Screenshots of the page as it is now at the three widths the portal must hold, to
// $APIKEYD_TEST_OUTPUT/screenshots/NAME-WxH.png; fails when anything scrolls sideways or
// axe-core finds a serious or critical violation (review.mjs). Call it on every page and
// every dialog a test opens.
export async function shot(page, name) {
  await review(page, SHOTS, name);
}

// The same review at the page's current size only (a test that opens each state at each
// size itself, so that menus and dialogs are placed as they are at that size).
export async function shotThisSize(page, name) {
  await review(page, SHOTS, name, [page.viewportSize()]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Retries `fn` (which throws on failure) until it passes or `timeout` ms have passed.
export async function eventually(fn, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

export const norm = (s) => String(s ?? '').replace(/\s+/g, ' ').trim();

// Waits until the locator's text (whitespace-normalised) satisfies `want`: a string (equal),
// a RegExp, or a function.
export async function expectText(locator, want, what = 'text') {
  await eventually(async () => {
    const got = norm(await locator.innerText({ timeout: 1000 }));
    if (typeof want === 'string') assert.equal(got, want, what);
    else if (want instanceof RegExp) assert.match(got, want, what);
    else assert.ok(want(got), `${what}: unexpected ${JSON.stringify(got)}`);
  });
}

export async function expectVisible(locator, what) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout: TIMEOUT });
  } catch (err) {
    throw new Error(`${what || locator} not visible within ${TIMEOUT} ms: ${err.message.split('\n')[0]}`);
  }
}

export async function expectGone(locator, what) {
  try {
    await eventually(async () => assert.equal(await locator.count(), 0));
  } catch {
    throw new Error(`${what || locator} still on the page after ${TIMEOUT} ms`);
  }
}

export async function expectValue(locator, want, what = 'value') {
  await eventually(async () => assert.equal(await locator.inputValue({ timeout: 1000 }), want, what));
}

export const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
export const exactRe = (s) => new RegExp(`^\\s*${escapeRe(s)}\\s*$`);
// A field's label: exactly TEXT, optionally followed by the required marker "*".
export const lbl = (s) => new RegExp(`^\\s*${escapeRe(s)}\\s*\\*?\\s*$`);

// The dialog (role="dialog") whose heading is `title`.
export function dialog(page, title) {
  return page.getByRole('dialog').filter({
    has: page.getByRole('heading', { name: title, exact: true }),
  });
}

export function alerts(scope) {
  return scope.getByRole('alert');
}

// Logs in through the login page; waits for the User API Keys page.
export async function login(page, username, pw) {
  await page.goto('/#/login');
  await expectVisible(page.getByRole('heading', { name: 'Log in', level: 1 }), 'heading "Log in"');
  await page.getByLabel(lbl('Username')).fill(username);
  await page.getByLabel(lbl('Password')).fill(pw);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await expectVisible(page.getByRole('heading', { name: 'User API Keys', level: 1 }),
    'heading "User API Keys" after login');
}

// Navigates through the sidebar (nav "Main") and waits for the page's h1.
export async function goTo(page, link, h1 = link) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link, exact: true }).click();
  await expectVisible(page.getByRole('heading', { name: h1, level: 1, exact: true }), `heading "${h1}"`);
}

// A table's rows as objects keyed by column header text (data rows only).
export async function tableRows(table) {
  const headers = (await table.getByRole('columnheader').allInnerTexts()).map(norm);
  const rows = table.getByRole('row');
  const out = [];
  for (let i = 0; i < await rows.count(); i += 1) {
    const row = rows.nth(i);
    if (await row.getByRole('columnheader').count()) continue;
    const cells = (await row.getByRole('cell').or(row.getByRole('rowheader')).allInnerTexts()).map(norm);
    const obj = {};
    headers.forEach((hd, j) => { obj[hd || `#${j}`] = cells[j]; });
    out.push(obj);
  }
  return { headers, rows: out };
}

// The table row (role "row") that mentions `text`.
export function rowWith(table, text) {
  return table.getByRole('row').filter({ hasText: text });
}

// Presses Tab until `locator` has the focus (at most `max` presses).
export async function tabTo(page, locator, max = 40, key = 'Tab') {
  for (let i = 0; i <= max; i += 1) {
    if (await locator.evaluate((el) => el === document.activeElement).catch(() => false)) return;
    await page.keyboard.press(key);
  }
  const active = await page.evaluate(() => {
    const a = document.activeElement;
    return a ? `${a.tagName} ${a.getAttribute('aria-label') || a.textContent || ''}`.slice(0, 80) : 'none';
  });
  throw new Error(`${locator} did not get the focus after ${max} presses of ${key}; focus is on ${active}`);
}

export async function isFocused(locator) {
  return locator.evaluate((el) => el === document.activeElement);
}

// YYYY-MM-DD of a Date (UTC: the browser contexts run in UTC).
export function ymd(d) {
  return d.toISOString().slice(0, 10);
}

export function addDaysUTC(days, from = new Date()) {
  const d = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  d.setUTCDate(d.getUTCDate() + days);
  return d;
}

export function addYearUTC(from = new Date()) {
  const d = new Date(Date.UTC(from.getUTCFullYear() + 1, from.getUTCMonth(), from.getUTCDate()));
  if (d.getUTCMonth() !== from.getUTCMonth()) d.setUTCDate(0); // 29 Feb -> 28 Feb
  return d;
}

// Does the text of the whole document (markup, input values, text) contain `secret`?
export async function pageHolds(page, secret) {
  const html = await page.content();
  if (html.includes(secret)) return 'page.content()';
  const inPage = await page.evaluate((s) => {
    for (const el of document.querySelectorAll('input, textarea')) {
      if (el.value.includes(s)) return `the value of an ${el.tagName}`;
    }
    if ((document.body.innerText || '').includes(s)) return 'the visible text';
    return null;
  }, secret);
  return inPage;
}

// Selects `value` in the <select> labelled `label` by the option's visible text (an option
// whose text equals `text`, or failing that contains it).
export async function selectByText(scope, label, text) {
  const select = scope.getByLabel(lbl(label));
  const value = await select.evaluate((el, t) => {
    const opts = [...el.options];
    const low = t.toLowerCase();
    const o = opts.find((x) => x.textContent.trim() === t)
      || opts.find((x) => x.textContent.trim().toLowerCase() === low)
      || opts.find((x) => x.textContent.toLowerCase().includes(low));
    return o ? o.value : null;
  }, text);
  assert.ok(value !== null, `no option "${text}" in the select "${label}"`);
  await select.selectOption(value);
}
