// page-settings.js — #/settings "User Settings": profile, security (MFA, password) and the
// caller's API keys (the same panel as User API Keys: list, "New API key", ⋮ → Delete).
import { api } from './api.js';
import { field, h, uid } from './dom.js';
import { clearErrors, showProblem } from './errors.js';
import { ownKeys } from './own-keys.js';

function section(title, ...children) {
  const id = uid('sec');
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), children);
}

function svgDataUrl(svg) {
  const bytes = new TextEncoder().encode(svg);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return `data:image/svg+xml;base64,${btoa(bin)}`;
}

function profile(me) {
  const username = field('Username', h('input', { type: 'text', readOnly: true, value: me.username }));
  const fullName = field('Full name', h('input', { type: 'text', name: 'full_name', maxlength: '100',
    autocomplete: 'name', value: me.full_name || '' }));
  const email = field('Email', h('input', { type: 'email', name: 'email', maxlength: '254',
    autocomplete: 'email', value: me.email || '' }));
  const save = h('button', { type: 'submit', class: 'btn primary' }, 'Save profile');
  const status = h('p', { role: 'status', class: 'status' });
  const form = h('form', { class: 'form', novalidate: true },
    username.wrap, fullName.wrap, email.wrap, h('div', { class: 'form-actions' }, save), status);
  const fields = {
    full_name: { input: fullName.input, label: 'Full name' },
    email: { input: email.input, label: 'Email' },
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    status.textContent = '';
    save.disabled = true;
    try {
      const u = await api('PATCH', '/v1/me', { full_name: fullName.input.value, email: email.input.value });
      clearErrors(form);
      fullName.input.value = u.full_name || '';
      email.input.value = u.email || '';
      status.textContent = 'Profile saved.';
    } catch (err) {
      showProblem(form, err, fields, form.querySelector('.form-actions'));
    } finally {
      save.disabled = false;
    }
  });
  return section('Profile', form);
}

// The MFA part of Security; re-renders itself as MFA turns on and off. Turning it on, off and
// getting new recovery codes each need the password (a session left open is not enough).
function mfa(me) {
  const state = h('p', { class: 'mfa-state' });
  const box = h('div', { class: 'mfa-box' });
  const status = h('p', { role: 'status', class: 'status' });
  const wrap = h('div', { class: 'subsection' }, h('h3', {}, 'Multi-factor authentication'), state, box, status);

  function show(on) {
    me.mfa_enabled = on;
    state.replaceChildren('MFA: ', h('strong', { class: on ? 'on' : 'off' }, on ? 'On' : 'Off'));
    if (on) showOn();
    else showOff();
  }

  function passwordField(hint) {
    return field('Password', h('input', { type: 'password', name: 'current_password',
      autocomplete: 'current-password' }), { hint });
  }

  function showOff() {
    const pw = passwordField('Enter your password to turn MFA on.');
    const enable = h('button', { type: 'submit', class: 'btn' }, 'Enable MFA');
    const form = h('form', { class: 'form', novalidate: true },
      pw.wrap, h('div', { class: 'form-actions' }, enable));
    box.replaceChildren(
      h('p', { class: 'hint' }, 'Protect your account with a one-time code from an authenticator app.'),
      form);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      enable.disabled = true;
      try {
        const password = pw.input.value;
        const en = await api('POST', '/v1/me/mfa', { current_password: password });
        status.textContent = '';
        enroll(en, password);
      } catch (err) {
        enable.disabled = false;
        showProblem(form, err, { current_password: { input: pw.input, label: 'Password' } },
          form.querySelector('.form-actions'));
      }
    });
  }

  function enroll(en, password) {
    const secretId = uid('secret');
    const img = h('img', { class: 'qr', alt: 'QR code for your authenticator app', width: '200', height: '200' });
    img.src = svgDataUrl(en.qr_svg || '');
    const code = field('Code from your authenticator', h('input', { type: 'text', name: 'code',
      inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '10' }));
    const confirm = h('button', { type: 'submit', class: 'btn primary' }, 'Confirm');
    const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    const form = h('form', { class: 'form', novalidate: true },
      code.wrap, h('div', { class: 'form-actions' }, confirm, cancel));
    box.replaceChildren(
      h('p', {}, 'Scan the QR code with your authenticator app (or type the secret into it), '
        + 'then enter the code it shows.'),
      img,
      h('div', { class: 'secret-line' },
        h('label', { for: secretId }, 'Secret'),
        h('output', { id: secretId, class: 'mono' }, en.secret)),
      form);
    code.input.focus();
    cancel.addEventListener('click', () => { password = ''; show(false); });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      confirm.disabled = true;
      try {
        const r = await api('POST', '/v1/me/mfa/confirm',
          { code: code.input.value.replace(/\s+/g, ''), current_password: password });
        password = '';
        me.mfa_enabled = true;
        state.replaceChildren('MFA: ', h('strong', { class: 'on' }, 'On'));
        status.textContent = 'MFA is now on.';
        showCodes(r.recovery_codes || []);
      } catch (err) {
        confirm.disabled = false;
        const f = { input: code.input, label: 'Code' };
        showProblem(form, err, { code: f, current_password: f }, form.querySelector('.form-actions'));
      }
    });
  }

  // The recovery codes, shown this once, with Copy and Download; "Done" forgets them.
  function showCodes(codes) {
    const listId = uid('codes');
    const list = h('ul', { class: 'recovery-codes mono', id: listId, 'aria-label': 'Recovery codes' },
      codes.map((c) => h('li', {}, c)));
    const text = () => `${codes.join('\n')}\n`;
    const note = h('p', { role: 'status', class: 'status' });
    const copy = h('button', { type: 'button', class: 'btn primary' }, 'Copy to clipboard');
    const download = h('button', { type: 'button', class: 'btn' }, 'Download');
    const done = h('button', { type: 'button', class: 'btn' }, 'Done');
    box.replaceChildren(
      h('h4', {}, 'Recovery codes'),
      h('p', { class: 'warning' }, 'Save these recovery codes now. If you lose your authenticator, '
        + 'each one signs you in once in place of a one-time code. They will not be shown again.'),
      list, note, h('div', { class: 'form-actions' }, copy, download, done));
    copy.focus();
    copy.addEventListener('click', async () => {
      try {
        if (!navigator.clipboard || !window.isSecureContext) throw new Error('no clipboard');
        await navigator.clipboard.writeText(text());
        note.textContent = 'Copied to clipboard.';
      } catch {
        window.getSelection().selectAllChildren(list);
        note.textContent = 'Press Ctrl+C to copy.';
      }
    });
    download.addEventListener('click', () => {
      const url = URL.createObjectURL(new Blob([text()], { type: 'text/plain' }));
      const a = h('a', { href: url, download: 'apikeyd-recovery-codes.txt', hidden: true });
      box.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      note.textContent = 'Downloaded apikeyd-recovery-codes.txt.';
    });
    done.addEventListener('click', () => {
      codes.length = 0;
      me.recovery_codes_left = list.children.length;
      list.replaceChildren();
      status.textContent = '';
      show(true);
    });
  }

  function showOn() {
    const pw = passwordField('Enter your password to turn MFA off or to get new recovery codes.');
    const disable = h('button', { type: 'submit', class: 'btn danger' }, 'Disable MFA');
    const renew = h('button', { type: 'button', class: 'btn' }, 'New recovery codes');
    const form = h('form', { class: 'form', novalidate: true },
      pw.wrap, h('div', { class: 'form-actions' }, disable, renew));
    const left = me.recovery_codes_left;
    box.replaceChildren(
      h('p', {}, `Recovery codes left: ${Number.isInteger(left) ? left : 0}`),
      form);
    const f = { input: pw.input, label: 'Password' };
    const fields = { password: f, current_password: f, code: f };
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      disable.disabled = true;
      try {
        await api('DELETE', '/v1/me/mfa', { password: pw.input.value });
        show(false);
        status.textContent = 'MFA is now off.';
      } catch (err) {
        disable.disabled = false;
        showProblem(form, err, fields, form.querySelector('.form-actions'));
      }
    });
    renew.addEventListener('click', async () => {
      renew.disabled = true;
      try {
        const r = await api('POST', '/v1/me/mfa/recovery-codes', { current_password: pw.input.value });
        status.textContent = 'New recovery codes; the old ones no longer work.';
        showCodes(r.recovery_codes || []);
      } catch (err) {
        renew.disabled = false;
        showProblem(form, err, fields, form.querySelector('.form-actions'));
      }
    });
  }

  show(Boolean(me.mfa_enabled));
  return wrap;
}

function password() {
  const current = field('Current password', h('input', { type: 'password', name: 'current_password',
    autocomplete: 'current-password' }));
  const next = field('New password', h('input', { type: 'password', name: 'new_password',
    autocomplete: 'new-password', maxlength: '128' }),
  { hint: '12 to 128 characters; not a common password and not your username.' });
  const change = h('button', { type: 'submit', class: 'btn' }, 'Change password');
  const status = h('p', { role: 'status', class: 'status' });
  const form = h('form', { class: 'form', novalidate: true },
    current.wrap, next.wrap, h('div', { class: 'form-actions' }, change), status);
  const fields = {
    current_password: { input: current.input, label: 'Current password' },
    new_password: { input: next.input, label: 'New password' },
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    status.textContent = '';
    change.disabled = true;
    try {
      await api('POST', '/v1/me/password', {
        current_password: current.input.value, new_password: next.input.value,
      });
      clearErrors(form);
      current.input.value = '';
      next.input.value = '';
      status.textContent = 'Password changed.';
    } catch (err) {
      showProblem(form, err, fields, form.querySelector('.form-actions'));
    } finally {
      change.disabled = false;
    }
  });
  return h('div', { class: 'subsection' }, h('h3', {}, 'Change password'), form);
}

function security(me) {
  if (me.auth_source && me.auth_source !== 'local') {
    return section('Security',
      h('p', { class: 'mfa-state' }, 'MFA: ', h('strong', {}, me.mfa_enabled ? 'On' : 'Off')),
      h('p', {}, 'MFA is not available for SSO users.'),
      h('p', {}, 'Your password is managed by your identity provider.'));
  }
  return section('Security', mfa(me), password());
}

function apiKeys() {
  const keys = ownKeys({ newLabel: 'New API key' });
  keys.load();
  return section('API Keys',
    h('p', { class: 'intro' }, 'Requests made to the REST API are authenticated and authorized by '
      + 'using API Keys. This section lists all your API keys used for programmatic access. The '
      + 'maximum expiration date for any API key is 1 year from the creation date.'),
    h('div', { class: 'section-actions' }, keys.newButton),
    keys.alerts, keys.status, keys.table);
}

export function render(view, { me }) {
  view.append(
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'User Settings')),
    h('p', { class: 'intro' }, 'Manage your personal profile, security preferences and API keys.'),
    profile(me), security(me), apiKeys());
}
