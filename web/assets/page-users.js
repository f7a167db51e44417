// page-users.js — #/users "Users" (Admin group): the user list, "+ New user" (offering only
// the roles the caller may grant) and, per username, "User Account Details" (user-details.js).
import { api } from './api.js';
import { field, h, uid } from './dom.js';
import { dialogButtons, openDialog } from './dialog.js';
import { clearErrors, showProblem } from './errors.js';
import { explainRefusal, grantOffer } from './grant-offer.js';
import { stackable } from './table-stack.js';
import { statusText, userDetailsDialog } from './user-details.js';

// "New user": the roles offered are those the caller may grant (`offer`, grant-offer.js).
function newUserDialog({ roles: allRoles, offer, onCreated, returnFocus }) {
  const roles = allRoles.filter((r) => offer.canGrantRole(r.name));
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
      showProblem(form, explainRefusal(err), fields, form.querySelector('.dialog-actions'));
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

// The page. The list, the roles and the groups are read together: the roles and groups tell
// what the caller may grant and whom they may manage.
export function render(view, { me, has }) {
  const canUsers = has('manage_users');
  const canKeys = has('manage_user_api_keys');
  const alerts = h('div', { class: 'alerts' });
  const status = h('p', { role: 'status', class: 'status' });
  const tableBox = h('div', { class: 'table-wrap' }, h('p', { class: 'loading' }, 'Loading…'));
  const newBtn = canUsers ? h('button', { type: 'button', class: 'btn primary' }, '+ New user') : null;
  view.append(h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Users'), newBtn),
    alerts, status);
  let ctx = { roles: [], groups: [], offer: grantOffer(me, [], []) };

  // focus returns to the user's button, even when the table was redrawn meanwhile
  const buttonOf = (name, fallback) => () => [...tableBox.querySelectorAll('button[data-user]')]
    .find((b) => b.dataset.user === name) || fallback;
  const open = (u, btn) => userDetailsDialog(u, {
    me,
    has,
    ...ctx,
    onChange: load,
    onDeleted: (name) => {
      status.textContent = `User ${name} deleted.`;
      load().then(() => view.querySelector('h1').focus());
    },
    returnFocus: buttonOf(u.username, btn),
  });

  async function load() {
    try {
      const [{ users }, { roles }, { groups }] = await Promise.all([
        api('GET', '/v1/users'), api('GET', '/v1/roles'), api('GET', '/v1/groups')]);
      ctx = { roles, groups, offer: grantOffer(me, roles, groups) };
      const rows = users.map((u) => {
        const b = h('button', { type: 'button', class: 'linkish', 'data-user': u.username }, u.username);
        b.addEventListener('click', () => open(u, b));
        return h('tr', {}, h('td', {}, b), h('td', {}, u.full_name || ''), h('td', { class: 'wrap-any' }, u.email || ''),
          h('td', {}, (u.roles || []).join(', ')),
          h('td', {}, h('span', { class: u.disabled ? 'badge warn' : 'badge ok' }, statusText(u))));
      });
      tableBox.replaceChildren(stackable(h('table', { class: 'table' },
        h('caption', {}, 'User accounts'),
        h('thead', {}, h('tr', {}, ['Username', 'Full name', 'Email', 'Roles', 'Status']
          .map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows))));
    } catch (err) {
      showProblem(alerts, err);
    }
  }

  if (!canUsers && !canKeys) {
    view.append(h('p', {}, 'You do not have permission to manage users.'));
    return;
  }
  view.append(h('p', { class: 'intro' }, canUsers
    ? 'Select a username to open the User Account Details window.'
    : 'You may view and delete other people’s API keys.'));
  if (!canUsers) {
    view.append(lookupForm(open));
    return;
  }
  view.append(tableBox);
  const ready = load();
  newBtn.addEventListener('click', async () => {
    clearErrors(alerts);
    await ready; // the roles on offer are known
    newUserDialog({
      roles: ctx.roles,
      offer: ctx.offer,
      returnFocus: newBtn,
      onCreated: (u) => {
        status.textContent = `User ${u.username} created.`;
        load();
      },
    });
  });
}
