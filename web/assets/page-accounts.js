// page-accounts.js — #/accounts "API Accounts": service accounts (site-wide or per project),
// their keys (same New API Key / Save generated key dialogs as user keys) and deletion.
import { api, seg } from './api.js';
import { field, h } from './dom.js';
import { confirmDialog, dialogButtons, openDialog } from './dialog.js';
import { clearErrors, showProblem } from './errors.js';
import { keyTable } from './key-table.js';
import { newKeyFlow } from './key-dialogs.js';
import { DELETE_TEXT } from './page-keys.js';
import { loadProjects, manageableProjects, treeOrder } from './projects-data.js';

const ROLES = ['owner', 'contributor', 'reader'];

async function newAccountDialog({ me, onCreated, returnFocus }) {
  const mine = treeOrder(await manageableProjects(me, await loadProjects(),
    ['manage_projects', 'manage_service_accounts']));
  const name = field('Name', h('input', { type: 'text', name: 'name', maxlength: '100',
    autocomplete: 'off', autofocus: true }), { required: true });
  const desc = field('Description', h('textarea', { name: 'description', rows: '2', maxlength: '1000' }));
  const project = field('Project', h('select', { name: 'project' },
    h('option', { value: '' }, 'Site-wide'),
    mine.map((p) => h('option', { value: p.id }, p.name))),
  { hint: 'A project account becomes a member of its project; site-wide accounts need the '
    + 'manage_service_accounts authority.' });
  const role = field('Role', h('select', { name: 'role' },
    ROLES.map((r) => h('option', { value: r, selected: r === 'contributor' }, r))),
  { hint: 'The account’s role in the project (project accounts only).' });
  const syncRole = () => { role.input.disabled = !project.input.value; };
  project.input.addEventListener('change', syncRole);
  syncRole();
  const create = h('button', { type: 'submit', class: 'btn primary' }, 'Create');
  const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
  const form = h('form', { class: 'form', novalidate: true },
    name.wrap, desc.wrap, project.wrap, role.wrap, dialogButtons(create, cancel));
  const fields = {
    name: { input: name.input, label: 'Name' },
    description: { input: desc.input, label: 'Description' },
    project: { input: project.input, label: 'Project' },
    role: { input: role.input, label: 'Role' },
  };
  const dlg = openDialog({ title: 'New API account', body: [form], returnFocus });
  cancel.addEventListener('click', () => dlg.close());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { name: name.input.value };
    if (desc.input.value.trim()) body.description = desc.input.value;
    if (project.input.value) {
      body.project = project.input.value;
      body.role = role.input.value;
    }
    create.disabled = true;
    try {
      const a = await api('POST', '/v1/service-accounts', body);
      dlg.close();
      onCreated(a);
    } catch (err) {
      create.disabled = false;
      showProblem(form, err, fields, form.querySelector('.dialog-actions'));
    }
  });
}

function keysDialog(account, returnFocus) {
  const base = `/v1/service-accounts/${seg(account.id)}/keys`;
  const alerts = h('div', { class: 'alerts' });
  const status = h('p', { role: 'status', class: 'status' });
  const box = h('div', { class: 'table-wrap' }, h('p', { class: 'loading' }, 'Loading…'));
  const createBtn = h('button', { type: 'button', class: 'btn primary' }, 'Create API key');
  const close = h('button', { type: 'button', class: 'btn' }, 'Close');

  async function load() {
    try {
      const { keys } = await api('GET', base);
      box.replaceChildren(keyTable({
        caption: `Keys of ${account.name}`,
        keys,
        emptyText: 'This API account has no API keys yet.',
        actions: (k) => {
          const b = h('button', { type: 'button', class: 'btn small danger' }, `Delete key ${k.name}`);
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
      action: () => api('DELETE', `${base}/${seg(k.id)}`),
    });
    if (!ok) return;
    status.textContent = `API key "${k.name}" deleted.`;
    await load();
    createBtn.focus();
  }

  const dlg = openDialog({
    title: `API keys of ${account.name}`,
    className: 'dialog-wide',
    returnFocus,
    body: [
      h('p', { class: 'hint' }, 'Work done with these keys runs under the license of the person '
        + 'who created each key.'),
      h('div', { class: 'form-actions' }, createBtn), alerts, status, box, dialogButtons(close),
    ],
  });
  close.addEventListener('click', () => dlg.close());
  createBtn.addEventListener('click', () => {
    clearErrors(alerts);
    newKeyFlow({
      create: (body) => api('POST', base, body),
      onCreated: (k) => {
        status.textContent = `API key "${k.name}" created.`;
        load();
      },
      returnFocus: createBtn,
    }).catch((err) => showProblem(alerts, err));
  });
  load();
}

export function render(view, { me }) {
  const newBtn = h('button', { type: 'button', class: 'btn primary' }, '+ New API account');
  const alerts = h('div', { class: 'alerts' });
  const status = h('p', { role: 'status', class: 'status' });
  const tableBox = h('div', { class: 'table-wrap' }, h('p', { class: 'loading' }, 'Loading…'));
  view.append(
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'API Accounts'), newBtn),
    h('p', { class: 'intro' }, 'API accounts are principals for programs, site-wide or owned by a '
      + 'project. Their keys act in projects under the license of the person who issued each key.'),
    alerts, status, tableBox);

  async function load() {
    try {
      const [accounts, ps] = await Promise.all([api('GET', '/v1/service-accounts'), loadProjects()]);
      const names = new Map(ps.map((p) => [p.id, p.name]));
      const rows = (accounts.service_accounts || []).map((a) => {
        const keysBtn = h('button', { type: 'button', class: 'btn small' }, `Keys for ${a.name}`);
        const delBtn = h('button', { type: 'button', class: 'btn small danger' }, `Delete ${a.name}`);
        keysBtn.addEventListener('click', () => keysDialog(a, keysBtn));
        delBtn.addEventListener('click', () => remove(a, delBtn));
        return h('tr', {},
          h('td', {}, a.name),
          h('td', {}, a.project ? names.get(a.project) || a.project : 'Site-wide'),
          h('td', {}, a.created_by),
          h('td', {}, h('span', { class: a.disabled ? 'badge warn' : 'badge ok' },
            a.disabled ? 'Disabled' : 'Active')),
          h('td', { class: 'actions' }, keysBtn, delBtn));
      });
      if (!rows.length) {
        rows.push(h('tr', { class: 'empty' }, h('td', { colspan: '5' }, 'There are no API accounts yet.')));
      }
      tableBox.replaceChildren(h('table', { class: 'table' },
        h('caption', {}, 'API accounts you manage'),
        h('thead', {}, h('tr', {},
          ['Name', 'Project', 'Created by', 'Status'].map((t) => h('th', { scope: 'col' }, t)),
          h('th', { scope: 'col', class: 'actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
        h('tbody', {}, rows)));
    } catch (err) {
      showProblem(alerts, err);
    }
  }

  async function remove(a, btn) {
    const ok = await confirmDialog({
      title: 'Delete API account',
      text: `Deleting the API account "${a.name}" is permanent and cannot be undone. Its API keys `
        + 'will immediately stop working and its project memberships end.',
      returnFocus: btn,
      action: () => api('DELETE', `/v1/service-accounts/${seg(a.id)}`),
    });
    if (!ok) return;
    status.textContent = `API account "${a.name}" deleted.`;
    await load();
    newBtn.focus();
  }

  newBtn.addEventListener('click', () => {
    clearErrors(alerts);
    newAccountDialog({
      me, returnFocus: newBtn,
      onCreated: (a) => {
        status.textContent = `API account "${a.name}" created.`;
        load();
      },
    }).catch((err) => showProblem(alerts, err));
  });
  load();
}
