// page-login.js — #/login: username and password, then a one-time code when MFA is on.
import { api, startSession } from './api.js';
import { field, h } from './dom.js';
import { clearErrors, formError, problemText } from './errors.js';

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
  if (sessionEnded) formError(form, 'Your session has ended. Please log in again.');

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
