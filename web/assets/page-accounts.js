// page-accounts.js — #/accounts "API Accounts" (seed 004): the API accounts the caller manages
// (site-wide, or of projects they own), "Create API Account", and per row a name that opens the
// account's pane (its keys, "Create API Key") and a "⋮" menu with Edit, Disable/Enable, Delete.
import { api, seg } from './api.js';
import { h } from './dom.js';
import { confirmDialog } from './dialog.js';
import { clearErrors, showProblem } from './errors.js';
import { accountPane } from './account-pane.js';
import { createAccountDialog, editAccountDialog } from './account-dialogs.js';
import { menuButton } from './menu.js';
import { stackable } from './table-stack.js';
import { loadProjects } from './projects-data.js';

const INTRO = 'API accounts are principals for programs, site-wide or owned by a project. In a '
  + 'project an API account acts just as a user: share the project with it to let its keys work '
  + 'there. Work done with its keys runs under the license of the person who created each key.';

export function render(view, { me }) {
  const newBtn = h('button', { type: 'button', class: 'btn primary' }, 'Create API Account');
  const alerts = h('div', { class: 'alerts' });
  const status = h('p', { role: 'status', class: 'status' });
  const tableBox = h('div', { class: 'table-wrap' }, h('p', { class: 'loading' }, 'Loading…'));
  view.append(
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'API Accounts'), newBtn),
    h('p', { class: 'intro' }, INTRO),
    alerts, status, tableBox);
  let projectNames = new Map();

  // The row's control that should get the focus back after `a` changed (its name button).
  const nameButton = (id) => tableBox.querySelector(`[data-account="${CSS.escape(id)}"]`);

  function row(a) {
    const open = h('button', { type: 'button', class: 'linkish', 'data-account': a.id }, a.name);
    open.addEventListener('click', () => accountPane({
      account: a,
      projectName: a.project ? projectNames.get(a.project) || a.project : null,
      returnFocus: () => nameButton(a.id) || newBtn,
    }));
    const menu = menuButton({
      text: '⋮',
      label: `Actions for ${a.name}`,
      items: [
        { label: 'Edit', action: (btn) => edit(a, btn) },
        { label: a.disabled ? 'Enable' : 'Disable', action: (btn) => setDisabled(a, !a.disabled, btn) },
        { label: 'Delete', danger: true, action: (btn) => remove(a, btn) },
      ],
    });
    const cell = (label, ...content) => h('td', { 'data-label': label }, content);
    return h('tr', {},
      cell('Name', open),
      cell('Project', a.project ? projectNames.get(a.project) || a.project : 'Site-wide'),
      cell('Created by', a.created_by),
      cell('Status', h('span', { class: a.disabled ? 'badge warn' : 'badge ok' },
        a.disabled ? 'Disabled' : 'Active')),
      h('td', { class: 'actions' }, menu));
  }

  async function load() {
    try {
      const [accounts, ps] = await Promise.all([api('GET', '/v1/service-accounts'), loadProjects()]);
      projectNames = new Map(ps.map((p) => [p.id, p.name]));
      const list = (accounts.service_accounts || []).slice()
        .sort((x, y) => x.name.localeCompare(y.name));
      const rows = list.map(row);
      if (!rows.length) {
        rows.push(h('tr', { class: 'empty' }, h('td', { colspan: '5' },
          'There are no API accounts you manage yet.')));
      }
      tableBox.replaceChildren(stackable(h('table', { class: 'table' },
        h('caption', {}, 'API accounts you manage'),
        h('thead', {}, h('tr', {},
          ['Name', 'Project', 'Created by', 'Status'].map((t) => h('th', { scope: 'col' }, t)),
          h('th', { scope: 'col', class: 'actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
        h('tbody', {}, rows))));
    } catch (err) {
      showProblem(alerts, err);
    }
  }

  // After a change: reload, then put the focus on the row's name (or on Create API Account).
  async function changed(message, id) {
    status.textContent = message;
    await load();
    (id && nameButton(id) ? nameButton(id) : newBtn).focus();
  }

  function edit(a, btn) {
    clearErrors(alerts);
    editAccountDialog({
      account: a,
      returnFocus: btn,
      onSaved: (saved) => changed(`API account "${saved.name}" saved.`, saved.id),
    });
  }

  async function setDisabled(a, disabled, btn) {
    clearErrors(alerts);
    const patch = () => api('PATCH', `/v1/service-accounts/${seg(a.id)}`, { disabled });
    if (disabled) {
      const ok = await confirmDialog({
        title: 'Disable API account',
        text: `Disabling the API account "${a.name}" makes all of its API keys stop working at `
          + 'once, until the account is enabled again.',
        confirmLabel: 'Disable',
        returnFocus: btn,
        action: patch,
      });
      if (ok) await changed(`API account "${a.name}" disabled.`, a.id);
      return;
    }
    try {
      await patch();
      await changed(`API account "${a.name}" enabled.`, a.id);
    } catch (err) {
      showProblem(alerts, err);
    }
  }

  async function remove(a, btn) {
    clearErrors(alerts);
    const ok = await confirmDialog({
      title: 'Delete API account',
      text: `Deleting the API account "${a.name}" is permanent and cannot be undone. Its API keys `
        + 'will immediately stop working and its project memberships end.',
      returnFocus: btn,
      action: () => api('DELETE', `/v1/service-accounts/${seg(a.id)}`),
    });
    if (ok) await changed(`API account "${a.name}" deleted.`, null);
  }

  newBtn.addEventListener('click', () => {
    clearErrors(alerts);
    createAccountDialog({
      me, returnFocus: newBtn,
      onCreated: (a) => changed(`API account "${a.name}" created.`, a.id),
    }).catch((err) => showProblem(alerts, err));
  });
  load();
}
