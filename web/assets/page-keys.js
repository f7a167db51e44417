// page-keys.js — #/keys "User API Keys": the caller's keys, "+ New API key", delete per row.
import { api, seg } from './api.js';
import { h } from './dom.js';
import { confirmDialog } from './dialog.js';
import { showProblem } from './errors.js';
import { keyTable } from './key-table.js';
import { newKeyFlow } from './key-dialogs.js';
import { menuButton } from './menu.js';

const INTRO = 'Requests made to the REST API are authenticated and authorized using API Keys. '
  + 'This page is the central place to manage all your API keys for programmatic access. '
  + 'The maximum expiration date for any API key is 1 year from the creation date.';

export const DELETE_TEXT = 'Deleting an API key is permanent and cannot be undone. '
  + 'Any integrations or scripts using that key will immediately stop working.';

export function render(view) {
  const newBtn = h('button', { type: 'button', class: 'btn primary' }, '+ New API key');
  const status = h('p', { role: 'status', class: 'status' });
  const alerts = h('div', { class: 'alerts' });
  const tableBox = h('div', { class: 'table-wrap' }, h('p', { class: 'loading' }, 'Loading…'));
  view.append(
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'User API Keys'), newBtn),
    h('p', { class: 'intro' }, INTRO),
    alerts, status, tableBox);

  async function load() {
    try {
      const { keys } = await api('GET', '/v1/keys');
      tableBox.replaceChildren(keyTable({
        caption: 'Your API keys',
        keys,
        actions: (k) => menuButton({
          text: '⋮',
          label: `Actions for ${k.name}`,
          items: [{ label: 'Delete', danger: true, action: (btn) => remove(k, btn) }],
        }),
      }));
    } catch (err) {
      showProblem(alerts, err);
    }
  }

  async function remove(k, btn) {
    const ok = await confirmDialog({
      title: 'Delete API key',
      text: DELETE_TEXT,
      confirmLabel: 'Delete',
      returnFocus: btn,
      action: () => api('DELETE', `/v1/keys/${seg(k.id)}`),
    });
    if (!ok) return;
    status.textContent = `API key "${k.name}" deleted.`;
    await load();
    newBtn.focus();
  }

  newBtn.addEventListener('click', () => {
    alerts.replaceChildren();
    newKeyFlow({
      create: (body) => api('POST', '/v1/keys', body),
      onCreated: (k) => {
        status.textContent = `API key "${k.name}" created.`;
        load();
      },
      returnFocus: newBtn,
    }).catch((err) => showProblem(alerts, err));
  });

  load();
}
