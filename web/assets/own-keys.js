// own-keys.js — the signed-in user's own API keys as one panel: the key table with each row's
// ⋮ menu (Delete), and a "new key" button opening the New API Key and Save generated key
// dialogs. Shared by the User API Keys page and User Settings' "API Keys" section.
import { api, seg } from './api.js';
import { h } from './dom.js';
import { showProblem } from './errors.js';
import { keyTable } from './key-table.js';
import { confirmDeleteKey, newKeyFlow } from './key-dialogs.js';
import { menuButton } from './menu.js';

// ownKeys({newLabel}) → {newButton, alerts, status, table, load}: the caller places the parts
// and calls load() once. `newLabel` is the button's text ("+ New API key", "New API key").
export function ownKeys({ newLabel }) {
  const newButton = h('button', { type: 'button', class: 'btn primary' }, newLabel);
  const status = h('p', { role: 'status', class: 'status' });
  const alerts = h('div', { class: 'alerts' });
  const table = h('div', { class: 'table-wrap' }, h('p', { class: 'loading' }, 'Loading…'));

  async function load() {
    try {
      const { keys } = await api('GET', '/v1/keys');
      table.replaceChildren(keyTable({
        caption: 'Your API keys',
        keys,
        actions: (k) => menuButton({
          text: '⋮',
          label: `Actions for ${k.name}`,
          items: [{ label: 'Delete', danger: true, action: (btn) => remove(k, btn) }],
        }),
      }));
    } catch (err) {
      table.replaceChildren();
      showProblem(alerts, err);
    }
  }

  async function remove(k, btn) {
    const ok = await confirmDeleteKey({
      returnFocus: btn,
      action: () => api('DELETE', `/v1/keys/${seg(k.id)}`),
    });
    if (!ok) return;
    status.textContent = `API key "${k.name}" deleted.`;
    await load();
    newButton.focus();
  }

  newButton.addEventListener('click', () => {
    alerts.replaceChildren();
    newKeyFlow({
      create: (body) => api('POST', '/v1/keys', body),
      onCreated: (k) => {
        status.textContent = `API key "${k.name}" created.`;
        load();
      },
      returnFocus: newButton,
    }).catch((err) => showProblem(alerts, err));
  });

  return { newButton, alerts, status, table, load };
}
