// api.js — the JSON API client: fetch wrapper, CSRF header, session storage, 401 handling and
// problem documents (RFC 9457) turned into ApiError.

const CSRF_KEY = 'apikeyd.csrf';
const USER_KEY = 'apikeyd.user';

export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    const p = problem && typeof problem === 'object' ? problem : {};
    super(p.detail || p.title || `The request failed (HTTP ${status}).`);
    this.status = status;
    this.type = typeof p.type === 'string' ? p.type.replace('urn:apikeyd:problem:', '') : '';
    this.detail = p.detail || p.title || '';
    this.errors = Array.isArray(p.errors) ? p.errors : [];
    this.retryAfter = retryAfter;
    this.sessionEnded = false;
  }
}

// --- the session: the CSRF token survives reloads of this tab (sessionStorage) ---
export function session() {
  const csrf = sessionStorage.getItem(CSRF_KEY);
  return csrf ? { csrf, username: sessionStorage.getItem(USER_KEY) || '' } : null;
}

export function startSession(username, csrf) {
  sessionStorage.setItem(CSRF_KEY, csrf);
  sessionStorage.setItem(USER_KEY, username);
}

export function dropSession() {
  sessionStorage.removeItem(CSRF_KEY);
  sessionStorage.removeItem(USER_KEY);
}

let onSessionEnded = () => {};
export function setSessionEndedHandler(fn) {
  onSessionEnded = fn;
}

async function readBody(res) {
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  if (!type.includes('json')) return null;
  try {
    return await res.json();
  } catch {
    return null;
  }
}

// api('POST', '/v1/keys', {name, scopes}) → parsed JSON (null for 204); throws ApiError.
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') {
    const s = session();
    if (s) headers['X-CSRF-Token'] = s.csrf;
  }
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, {
      detail: 'The server could not be reached. Check the connection and try again.',
    });
  }
  const data = await readBody(res);
  if (res.ok) return data;
  const err = new ApiError(res.status, data, res.headers.get('Retry-After'));
  // 401 from login means wrong credentials; anywhere else the session has ended.
  if (res.status === 401 && path !== '/v1/login') {
    err.sessionEnded = true;
    dropSession();
    onSessionEnded();
  }
  throw err;
}

// Path segments from user data (usernames, ids, principals) are always encoded.
export const seg = encodeURIComponent;
