// sso.js — single sign-on on the login page: what GET /v1/sso offers (the "Sign in with SSO"
// and "Sign in with SAML" buttons), the session an OpenID Connect callback or a SAML ACS
// opened (its CSRF token arrives once in the short-lived apikeyd_csrf cookie, read and
// deleted here), and their sso_error codes in words. docs/API.md "Single sign-on".
import { api, startSession } from './api.js';

const CSRF_COOKIES = ['__Host-apikeyd_csrf', 'apikeyd_csrf'];

const SSO_ERRORS = {
  denied: 'Sign-in was cancelled or refused at the identity provider.',
  expired: 'The sign-in took too long or was started in another browser. Please try again.',
  state: 'The sign-in could not be verified. Please try again.',
  unavailable: 'The identity provider cannot be reached. Try again later.',
  token: "The identity provider's answer could not be verified. Please try again.",
  account: 'There is no apikeyd account you can use with this sign-in. Ask an administrator.',
  disabled: 'Your account is disabled. Ask an administrator.',
  throttled: 'Too many failed sign-ins from here. Try again later.',
  unsolicited: 'Sign-in must start from this page. Please try again.',
};

// The sso_error of the page's address in words (or '' when none), and the address without it.
export function takeSsoError() {
  const params = new URLSearchParams(location.search);
  const code = params.get('sso_error');
  if (code === null) return '';
  history.replaceState(null, '', location.pathname + location.hash);
  return SSO_ERRORS[code] || 'Single sign-on failed. Please try again.';
}

function readCookie(name) {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return '';
}

// After a successful callback: takes the CSRF token from its cookie (deleting it), learns the
// username and starts the portal's session. Resolves true when it did.
export async function adoptSsoSession() {
  for (const name of CSRF_COOKIES) {
    const csrf = readCookie(name);
    if (!csrf) continue;
    const secure = name.startsWith('__Host-') ? '; Secure' : '';
    document.cookie = `${name}=; Max-Age=0; Path=/; SameSite=Strict${secure}`;
    const me = await api('GET', '/v1/me');
    startSession(me.username, csrf);
    return true;
  }
  return false;
}

// The configured sign-ins as [{button_label, start_url}]: OpenID Connect, then SAML; [] when
// neither is.
export async function ssoOffer() {
  try {
    const res = await api('GET', '/v1/sso');
    return res ? [res.oidc, res.saml].filter(Boolean) : [];
  } catch {
    return []; // the password form still works
  }
}
