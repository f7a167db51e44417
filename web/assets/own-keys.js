// own-keys.js — the signed-in user's own API keys as one panel: the key table with each row's
// ⋮ menu (Rotate, Delete), and a "new key" button opening the New API Key and Save generated
// key dialogs. Shared by the User API Keys page and User Settings' "API Keys" section.
import { api, seg } from './api.js';
import { h } from './dom.js';
import { showProblem } from './errors.js';
import { keyLabel, keyTable } from './key-table.js';
import { confirmDeleteKey, newKeyFlow } from './key-dialogs.js';
import { canRotate, rotateKeyFlow } from './key-rotate.js';
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
          label: `Actions for ${keyLabel(k)}`,
          items: [
            canRotate(k) ? { label: 'Rotate', action: (btn) => rotateOne(k, btn) } : null,
            { label: 'Delete', danger: true, action: (btn) => remove(k, btn) },
          ].filter(Boolean),
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

  function rotateOne(k, btn) {
    alerts.replaceChildren();
    rotateKeyFlow({
      key: k,
      rotate: (body) => api('POST', `/v1/keys/${seg(k.id)}/rotate`, body),
      onRotated: (nk) => {
        status.textContent = `API key "${nk.name}" rotated.`;
        load();
      },
      returnFocus: () => (btn.isConnected ? btn : newButton),
    });
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
