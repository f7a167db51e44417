// daemon.mjs — starts and stops a real apikeyd for the browser tests, and talks to its JSON
// API (docs/API.md) to set up users, roles, keys, accounts and projects quickly.
//
// startDaemon(): a fresh temporary data directory, a free port on 127.0.0.1, the bootstrap
// admin admin:correct-horse-battery, waits (bounded) for GET /healthz 200. stop(): SIGTERM,
// waits (bounded) and throws unless the exit code is 0. Only 127.0.0.1 is ever contacted.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const BIN = process.env.APIKEYD_BIN
  ? path.resolve(REPO, process.env.APIKEYD_BIN)
  : path.join(REPO, 'build', 'apikeyd');
export const OUTPUT = process.env.APIKEYD_TEST_OUTPUT
  ? path.resolve(process.env.APIKEYD_TEST_OUTPUT)
  : path.join(REPO, 'test-output');

export const ADMIN_USER = 'admin';
export const ADMIN_PASS = 'correct-horse-battery';

const START_TIMEOUT_MS = 10_000; // /healthz must answer within this
const STOP_TIMEOUT_MS = 10_000; // the daemon must exit within this after SIGTERM
const HTTP_TIMEOUT_MS = 10_000; // every API request

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Resolves with `p`'s value, or with null after `ms` (the timer never keeps the process alive).
function within(p, ms) {
  let timer;
  const t = new Promise((r) => { timer = setTimeout(() => r(null), ms); timer.unref(); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function healthy(base) {
  try {
    const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
    return r.status === 200;
  } catch {
    return false;
  }
}

let seq = 0;

// Returns {base, port, dataDir, api(user, pass), admin (an Api logged in), stop()}.
// port: listen there (one try) instead of on a free port of its own choosing, for a daemon
// whose address must be known before it starts (a provider's redirect URI, sso.test.mjs).
export async function startDaemon({ label = 'browser', env = {}, port: fixedPort } = {}) {
  if (!fs.existsSync(BIN)) {
    throw new Error(`daemon binary ${BIN} not found (build it or set APIKEYD_BIN)`);
  }
  seq += 1;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `apikeyd-browser-${label}-`));
  const dataDir = path.join(tmp, 'data');
  fs.mkdirSync(dataDir);
  const childEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('APIKEYD_')));
  Object.assign(childEnv, { APIKEYD_BOOTSTRAP_ADMIN: `${ADMIN_USER}:${ADMIN_PASS}` }, env);

  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = fixedPort || await freePort();
    const base = `http://127.0.0.1:${port}`;
    const logPath = path.join(tmp, `daemon-${attempt}.log`);
    const log = fs.openSync(logPath, 'w');
    const proc = spawn(BIN, ['--listen', `127.0.0.1:${port}`, '--data', dataDir], {
      cwd: tmp, env: childEnv, stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    let exited = null;
    const exitP = new Promise((resolve) => {
      proc.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); });
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    let ok = false;
    while (Date.now() < deadline && !exited) {
      if (await healthy(base)) { ok = true; break; }
      await sleep(50);
    }
    const readLog = () => fs.readFileSync(logPath, 'utf8');
    if (!ok) {
      if (!exited) {
        proc.kill('SIGKILL');
        await within(exitP, 5000);
        throw new Error(`daemon did not answer /healthz within ${START_TIMEOUT_MS} ms; log: ${readLog().slice(-600)}`);
      }
      if (attempt < 2 && !fixedPort && /in use/i.test(readLog())) continue;
      throw new Error(`daemon exited (${JSON.stringify(exited)}) before answering /healthz; log: ${readLog().slice(-600)}`);
    }

    const saveLog = () => {
      try {
        const dir = path.join(OUTPUT, 'browser-logs');
        fs.mkdirSync(dir, { recursive: true });
        fs.copyFileSync(logPath, path.join(dir, `${label}-${process.pid}-${seq}.log`));
      } catch { /* logs are a courtesy */ }
    };

    const d = {
      base, port, dataDir, proc, tmp,
      api: (user, pass, otp) => Api.login(base, user, pass, otp),
      admin: null,
      async stop() {
        if (exited) {
          saveLog();
          throw new Error(`daemon (${label}) had already exited (${JSON.stringify(exited)}) before it was stopped; log: ${readLog().slice(-600)}`);
        }
        proc.kill('SIGTERM');
        const res = await within(exitP, STOP_TIMEOUT_MS);
        if (!res) {
          proc.kill('SIGKILL');
          await within(exitP, 5000);
          saveLog();
          throw new Error(`daemon (${label}) did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`);
        }
        saveLog();
        if (res.code !== 0) {
          throw new Error(`daemon (${label}) exited with ${JSON.stringify(res)} after SIGTERM, expected code 0; log: ${readLog().slice(-800)}`);
        }
        if (!process.env.APIKEYD_TEST_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
      },
      // Hard stop for clean-up after a failure elsewhere (no assertion).
      kill() {
        if (!exited) proc.kill('SIGKILL');
      },
    };
    d.admin = await Api.login(base, ADMIN_USER, ADMIN_PASS);
    return d;
  }
  throw new Error('could not start the daemon on a free port');
}

export class ApiError extends Error {
  constructor(method, p, status, body) {
    super(`${method} ${p}: HTTP ${status} ${JSON.stringify(body)}`);
    this.status = status;
    this.body = body;
  }
}

// A cookie-session client of the JSON API.
export class Api {
  constructor(base) {
    this.base = base;
    this.cookie = null;
    this.csrf = null;
    this.username = null;
  }

  static async login(base, username, password, otp) {
    const a = new Api(base);
    const body = { username, password };
    if (otp !== undefined) body.otp = otp;
    const r = await fetch(`${base}/v1/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    const text = await r.text();
    if (r.status !== 200) throw new ApiError('POST', '/v1/login', r.status, text);
    const setCookie = r.headers.get('set-cookie') || '';
    const m = /apikeyd_session=([^;]+)/.exec(setCookie);
    if (!m) throw new Error(`login: no apikeyd_session cookie in ${setCookie}`);
    a.cookie = `apikeyd_session=${m[1]}`;
    a.csrf = JSON.parse(text).csrf_token;
    a.username = username;
    return a;
  }

  // Raw request: returns {status, body} (body parsed as JSON when possible).
  async raw(method, p, body, headers = {}) {
    const h = { ...headers };
    if (this.cookie) h.Cookie = this.cookie;
    if (this.csrf && method !== 'GET') h['X-CSRF-Token'] = this.csrf;
    if (body !== undefined) h['Content-Type'] = 'application/json';
    const r = await fetch(`${this.base}${p}`, {
      method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual', signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    const text = await r.text();
    let parsed = text;
    try { parsed = text ? JSON.parse(text) : null; } catch { /* keep text */ }
    return { status: r.status, body: parsed };
  }

  async req(method, p, body, expectStatus) {
    const r = await this.raw(method, p, body);
    const ok = expectStatus === undefined ? r.status >= 200 && r.status < 300 : r.status === expectStatus;
    if (!ok) throw new ApiError(method, p, r.status, r.body);
    return r.body;
  }

  get(p) { return this.req('GET', p); }
  post(p, body) { return this.req('POST', p, body ?? {}); }
  patch(p, body) { return this.req('PATCH', p, body); }
  put(p, body) { return this.req('PUT', p, body); }
  del(p, body) { return this.req('DELETE', p, body); }
}

// ---- helpers for test set-up through the API -------------------------------------------

let nameSeq = 0;
// A unique name for this process: prefix + counter + random hex (safe as username/role name).
export function uniq(prefix) {
  nameSeq += 1;
  return `${prefix}${nameSeq}${randomBytes(3).toString('hex')}`;
}

export function password() {
  return `Pw-${randomBytes(9).toString('hex')}-x`;
}

// Creates a local user through the admin API; returns {username, password}.
export async function createUser(admin, { username = uniq('user'), roles = ['user'], fullName, email } = {}) {
  const pw = password();
  const body = { username, password: pw, roles };
  if (fullName !== undefined) body.full_name = fullName;
  if (email !== undefined) body.email = email;
  await admin.post('/v1/users', body);
  return { username, password: pw };
}

// A user holding a role of its own with manage_projects (top-level projects need it).
export async function createProjectManager(admin) {
  const role = uniq('projmgr');
  await admin.post('/v1/roles', { name: role, authorities: ['manage_projects'] });
  return createUser(admin, { roles: ['user', role] });
}

// A top-level project that the administrator makes and hands to user u as its owner (an
// ordinary user cannot make top-level projects); returns the project.
export async function createOwnedProject(admin, u, name) {
  const project = await admin.post('/v1/projects', { name });
  await admin.put(`/v1/projects/${project.id}/members/${encodeURIComponent(`user:${u.username}`)}`,
    { role: 'owner' });
  const me = await admin.get('/v1/me');
  await admin.del(`/v1/projects/${project.id}/members/${encodeURIComponent(`user:${me.username}`)}`);
  return project;
}

// POST /v1/verify without authentication: returns the answer object.
export async function verify(base, key, extra = {}) {
  const r = await fetch(`${base}/v1/verify`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ key, ...extra }),
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  if (r.status !== 200) throw new Error(`POST /v1/verify: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

// ---- TOTP (RFC 6238 / RFC 4226: SHA-1, 6 digits, 30 s) ---------------------------------

export function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.toUpperCase().replace(/[\s=-]/g, '');
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${JSON.stringify(text)}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function hotp(secret, counter) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(bin % 1_000_000).padStart(6, '0');
}

// The server accepts the current step and one either side, never a step twice. Each secret's
// last used step is remembered here so that every code handed out is fresh: the current step,
// or the next one when the current was used already (waits, bounded, if even that is used).
const lastStep = new Map();
export async function totp(secret) {
  for (let i = 0; i < 40; i += 1) {
    const now = Math.floor(Date.now() / 1000 / 30);
    const last = lastStep.get(secret) ?? -Infinity;
    const step = Math.max(now, last + 1);
    if (step <= now + 1) {
      lastStep.set(secret, step);
      return hotp(secret, step);
    }
    await sleep(1000);
  }
  throw new Error('no fresh TOTP step within 40 s');
}
