// page-users.js — #/users "Users" (admin): the user list, "User Account Details" (enable /
// disable; other people's API keys for holders of manage_user_api_keys) and "+ New user".
import { api, seg } from './api.js';
import { field, fmtDate, h, uid } from './dom.js';
import { confirmDialog, dialogButtons, openDialog } from './dialog.js';
import { clearErrors, showProblem } from './errors.js';
import { keyTable } from './key-table.js';
import { DELETE_TEXT } from './page-keys.js';

const statusText = (u) => (u.disabled ? 'Disabled' : 'Active');
const list = (xs) => (xs && xs.length ? xs.join(', ') : '—');

// The details window. `user` is the full user object, or {username} when only keys are visible.
function detailsDialog(user, { canUsers, canKeys, onChange, returnFocus }) {
  const alerts = h('div', { class: 'alerts' });
  const info = h('dl', { class: 'details' });
  const status = h('p', { role: 'status', class: 'status' });
  const toggle = canUsers ? h('button', { type: 'button', class: 'btn' }) : null;
  const keysBox = h('div', { class: 'table-wrap' });
  const keysId = uid('keys');
  const close = h('button', { type: 'button', class: 'btn' }, 'Close');

  function fill() {
    const rows = [['Username', user.username]];
    if (canUsers) {
      rows.push(['Full name', user.full_name || '—'], ['Email', user.email || '—'],
        ['Authentication', user.auth_source], ['Environment', user.environment],
        ['Roles', list(user.roles)], ['Groups', list(user.groups)],
        ['MFA', user.mfa_enabled ? 'On' : 'Off'], ['Status', statusText(user)],
        ['Created', fmtDate(user.created_at)]);
      toggle.textContent = user.disabled ? 'Enable' : 'Disable';
    }
    info.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  }

  async function loadKeys() {
    try {
      const { keys } = await api('GET', `/v1/users/${seg(user.username)}/keys`);
      keysBox.replaceChildren(keyTable({
        caption: `API keys of ${user.username}`,
        keys,
        emptyText: `${user.username} has no API keys.`,
        actions: (k) => {
          const b = h('button', { type: 'button', class: 'btn small danger' }, `Delete ${k.name}`);
          b.addEventListener('click', () => removeKey(k, b));
          return b;
        },
      }));
    } catch (err) {
      showProblem(alerts, err);
    }
  }

  async function removeKey(k, btn) {
    const ok = await confirmDialog({
      title: 'Delete API key', text: DELETE_TEXT, returnFocus: btn,
      action: () => api('DELETE', `/v1/users/${seg(user.username)}/keys/${seg(k.id)}`),
    });
    if (!ok) return;
    status.textContent = `API key "${k.name}" deleted.`;
    await loadKeys();
    close.focus();
  }

  fill();
  const dlg = openDialog({
    title: 'User Account Details',
    className: 'dialog-wide',
    returnFocus,
    body: [
      alerts, info, toggle ? h('div', { class: 'form-actions' }, toggle) : null, status,
      canKeys ? h('section', { 'aria-labelledby': keysId, class: 'dialog-section' },
        h('h3', { id: keysId }, 'API Keys'), keysBox) : null,
      dialogButtons(close),
    ],
  });
  close.addEventListener('click', () => dlg.close());
  if (toggle) {
    toggle.addEventListener('click', async () => {
      clearErrors(alerts);
      toggle.disabled = true;
      try {
        Object.assign(user, await api('PATCH', `/v1/users/${seg(user.username)}`, { disabled: !user.disabled }));
        fill();
        status.textContent = `${user.username} is now ${user.disabled ? 'disabled' : 'enabled'}.`;
        onChange();
      } catch (err) {
        showProblem(alerts, err);
      } finally {
        toggle.disabled = false;
        toggle.focus();
      }
    });
  }
  if (canKeys) loadKeys();
}

async function newUserDialog({ onCreated, returnFocus }) {
  const { roles } = await api('GET', '/v1/roles');
  const username = field('Username', h('input', { type: 'text', name: 'username', maxlength: '64',
    autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', autofocus: true }), { required: true });
  const password = field('Password', h('input', { type: 'password', name: 'password',
    autocomplete: 'new-password', maxlength: '128' }),
  { hint: '12 to 128 characters; not a common password and not the username.', required: true });
  const fullName = field('Full name', h('input', { type: 'text', name: 'full_name', maxlength: '100' }));
  const email = field('Email', h('input', { type: 'email', name: 'email', maxlength: '254' }));
  const rolesSet = h('fieldset', { class: 'field checks', id: uid('roles') },
    h('legend', {}, 'Roles'),
    (roles || []).map((r) => {
      const id = uid('role');
      return h('div', { class: 'check' },
        h('input', { type: 'checkbox', id, value: r.name, checked: r.name === 'user' }),
        h('label', { for: id }, r.name),
        r.description ? h('span', { class: 'hint' }, ` — ${r.description}`) : null);
    }));
  const create = h('button', { type: 'submit', class: 'btn primary' }, 'Create');
  const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
  const form = h('form', { class: 'form', novalidate: true },
    username.wrap, password.wrap, fullName.wrap, email.wrap, rolesSet, dialogButtons(create, cancel));
  const fields = {
    username: { input: username.input, label: 'Username' },
    password: { input: password.input, label: 'Password' },
    full_name: { input: fullName.input, label: 'Full name' },
    email: { input: email.input, label: 'Email' },
    roles: { input: rolesSet, label: 'Roles' },
  };
  const dlg = openDialog({ title: 'New user', body: [form], returnFocus });
  cancel.addEventListener('click', () => dlg.close());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {
      username: username.input.value,
      password: password.input.value,
      roles: [...rolesSet.querySelectorAll('input:checked')].map((c) => c.value),
    };
    if (fullName.input.value) body.full_name = fullName.input.value;
    if (email.input.value) body.email = email.input.value;
    create.disabled = true;
    try {
      const u = await api('POST', '/v1/users', body);
      dlg.close();
      onCreated(u);
    } catch (err) {
      create.disabled = false;
      showProblem(form, err, fields, form.querySelector('.dialog-actions'));
    }
  });
}

// For holders of manage_user_api_keys without manage_users: look a user up by name.
function lookupForm(open) {
  const name = field('Username', h('input', { type: 'text', name: 'username', autocapitalize: 'none',
    spellcheck: 'false' }));
  const show = h('button', { type: 'submit', class: 'btn' }, 'Show user');
  const form = h('form', { class: 'form inline', novalidate: true }, name.wrap, show);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (name.input.value.trim()) open({ username: name.input.value.trim() }, show);
  });
  return h('section', { class: 'card', 'aria-label': 'Find a user' },
    h('p', {}, 'Enter a username to see that user’s API keys.'), form);
}

export function render(view, { has }) {
  const canUsers = has('manage_users');
  const canKeys = has('manage_user_api_keys');
  const alerts = h('div', { class: 'alerts' });
  const status = h('p', { role: 'status', class: 'status' });
  const tableBox = h('div', { class: 'table-wrap' });
  const newBtn = canUsers ? h('button', { type: 'button', class: 'btn primary' }, '+ New user') : null;
  view.append(h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Users'), newBtn),
    alerts, status);

  // focus returns to the user's button, even when the table was redrawn meanwhile
  const buttonOf = (name, fallback) => () => [...tableBox.querySelectorAll('button[data-user]')]
    .find((b) => b.dataset.user === name) || fallback;
  const open = (u, btn) => detailsDialog(u, {
    canUsers, canKeys, onChange: load, returnFocus: buttonOf(u.username, btn),
  });

  async function load() {
    try {
      const { users } = await api('GET', '/v1/users');
      const rows = users.map((u) => {
        const b = h('button', { type: 'button', class: 'linkish', 'data-user': u.username }, u.username);
        b.addEventListener('click', () => open(u, b));
        return h('tr', {}, h('td', {}, b), h('td', {}, u.full_name || ''), h('td', {}, u.email || ''),
          h('td', {}, (u.roles || []).join(', ')),
          h('td', {}, h('span', { class: u.disabled ? 'badge warn' : 'badge ok' }, statusText(u))));
      });
      tableBox.replaceChildren(h('table', { class: 'table' },
        h('caption', {}, 'User accounts'),
        h('thead', {}, h('tr', {}, ['Username', 'Full name', 'Email', 'Roles', 'Status']
          .map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows)));
    } catch (err) {
      showProblem(alerts, err);
    }
  }

  if (!canUsers && !canKeys) {
    view.append(h('p', {}, 'You do not have permission to manage users.'));
    return;
  }
  view.append(h('p', { class: 'intro' }, canUsers
    ? 'Select a username to open the account details.'
    : 'You may view and delete other people’s API keys.'));
  if (!canUsers) {
    view.append(lookupForm(open));
    return;
  }
  view.append(tableBox);
  newBtn.addEventListener('click', () => {
    clearErrors(alerts);
    newUserDialog({
      returnFocus: newBtn,
      onCreated: (u) => {
        status.textContent = `User ${u.username} created.`;
        load();
      },
    }).catch((err) => showProblem(alerts, err));
  });
  load();
}
