// page-login.js — #/login: username and password, then a one-time code when MFA is on; the
// "Sign in with SSO" button when single sign-on is configured (sso.js).
import { api, startSession } from './api.js';
import { field, h } from './dom.js';
import { clearErrors, formError, problemText } from './errors.js';
import { adoptSsoSession, ssoOffer, takeSsoError } from './sso.js';

function seconds(n) {
  return `${n} ${n === 1 ? 'second' : 'seconds'}`;
}

export function render(view, { sessionEnded, onLoggedIn }) {
  const user = field('Username', h('input', { type: 'text', name: 'username',
    autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', autofocus: true }));
  const pass = field('Password', h('input', { type: 'password', name: 'password',
    autocomplete: 'current-password' }));
  const otp = field('One-time code', h('input', { type: 'text', name: 'otp',
    autocomplete: 'one-time-code', maxlength: '24' }),
  { hint: 'Enter the 6-digit code from your authenticator app, or one of your recovery codes.' });
  otp.wrap.hidden = true;
  const submit = h('button', { type: 'submit', class: 'btn primary wide' }, 'Log in');
  const form = h('form', { class: 'form login-form', novalidate: true },
    user.wrap, pass.wrap, otp.wrap, submit);
  const card = h('div', { class: 'login-card' },
    h('p', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'apikeyd'),
    h('h1', { tabindex: '-1' }, 'Log in'),
    form);
  view.replaceChildren(h('div', { class: 'login-page' }, card));
  const ssoError = takeSsoError();
  if (ssoError) formError(form, ssoError);
  else if (sessionEnded) formError(form, 'Your session has ended. Please log in again.');
  single(card, form, onLoggedIn);

  let needOtp = false;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = { username: user.input.value, password: pass.input.value };
    if (needOtp) body.otp = otp.input.value.replace(/\s+/g, '');
    submit.disabled = true;
    try {
      const res = await api('POST', '/v1/login', body);
      startSession(res.username, res.csrf_token);
      pass.input.value = '';
      onLoggedIn();
    } catch (err) {
      submit.disabled = false;
      if (err.status === 401 && err.type === 'otp-required') {
        needOtp = true;
        otp.wrap.hidden = false;
        submit.textContent = 'Verify';
        otp.input.focus();
      } else if (err.status === 401 || err.status === 422) {
        formError(form, 'Wrong username, password or code.');
        if (needOtp) {
          otp.input.value = '';
          otp.input.focus();
        } else {
          pass.input.select();
          pass.input.focus();
        }
      } else if (err.status === 429) {
        const n = Number.parseInt(err.retryAfter, 10);
        formError(form, Number.isFinite(n) && n > 0
          ? `Too many failed attempts. Try again in ${seconds(n)}.`
          : 'Too many failed attempts. Try again later.');
      } else {
        formError(form, problemText(err));
      }
    }
  });
  return { title: 'Log in' };
}

// Back from a successful SSO sign-in: the session is taken over; otherwise the SSO button is
// offered under the form when the server has single sign-on configured.
async function single(card, form, onLoggedIn) {
  try {
    if (await adoptSsoSession()) {
      onLoggedIn();
      return;
    }
  } catch (err) {
    formError(form, problemText(err));
  }
  const offers = await ssoOffer();
  if (!offers.length || !card.isConnected) return;
  card.append(h('p', { class: 'login-or' }, 'or'));
  for (const offer of offers) { // OpenID Connect first, then SAML, side by side
    const button = h('button', { type: 'button', class: 'btn wide sso-button' }, offer.button_label);
    button.addEventListener('click', () => {
      button.disabled = true;
      location.assign(offer.start_url);
    });
    card.append(button);
  }
}
