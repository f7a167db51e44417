// account-pane.js — the pane (a dialog) an API account opens into: its details, its keys (⋮:
// Rotate, Delete) and "Create API Key", which run the same New API Key, Rotate API key and
// Save generated key dialogs as user keys.
// The secret lives only in the Save generated key dialog, which wipes it when it closes; this
// pane keeps the key's name and hint only.
import { api, seg } from './api.js';
import { fmtDate, h, uid } from './dom.js';
import { confirmDialog, dialogButtons, openDialog } from './dialog.js';
import { clearErrors, showProblem } from './errors.js';
import { keyLabel, keyTable } from './key-table.js';
import { newKeyFlow } from './key-dialogs.js';
import { canRotate, rotateKeyFlow } from './key-rotate.js';
import { menuButton } from './menu.js';
import { DELETE_TEXT } from './page-keys.js';

const LICENSE = 'Engine executions made with these keys run under the license of the person '
  + 'who created each key.';

// accountPane({account, projectName, returnFocus, onClose}) opens the pane "API Account NAME".
export function accountPane({ account, projectName, returnFocus, onClose }) {
  const base = `/v1/service-accounts/${seg(account.id)}/keys`;
  const alerts = h('div', { class: 'alerts' });
  const status = h('p', { role: 'status', class: 'status' });
  const box = h('div', { class: 'table-wrap' }, h('p', { class: 'loading' }, 'Loading…'));
  const disabledWhy = uid('why');
  const createBtn = h('button', { type: 'button', class: 'btn primary' }, 'Create API Key');
  if (account.disabled) {
    createBtn.disabled = true;
    createBtn.setAttribute('aria-describedby', disabledWhy);
  }
  const close = h('button', { type: 'button', class: 'btn' }, 'Close');
  const detail = (term, value) => [h('dt', {}, term), h('dd', {}, value)];

  async function load() {
    try {
      const { keys } = await api('GET', base);
      box.replaceChildren(keyTable({
        caption: `API keys of ${account.name}`,
        keys,
        emptyText: 'This API account has no API keys yet.',
        actions: (k) => menuButton({
          text: '⋮',
          label: `Actions for ${keyLabel(k)}`,
          items: [
            canRotate(k) && !account.disabled
              ? { label: 'Rotate', action: (btn) => rotateKey(k, btn) } : null,
            { label: 'Delete', danger: true, action: (btn) => removeKey(k, btn) },
          ].filter(Boolean),
        }),
      }));
    } catch (err) {
      showProblem(alerts, err);
    }
  }

  function rotateKey(k, btn) {
    clearErrors(alerts);
    rotateKeyFlow({
      key: k,
      rotate: (body) => api('POST', `${base}/${seg(k.id)}/rotate`, body),
      onRotated: (nk) => {
        status.textContent = `API key "${nk.name}" rotated.`;
        load();
      },
      returnFocus: () => (btn.isConnected ? btn : createBtn),
    });
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
    title: `API Account ${account.name}`,
    className: 'dialog-wide',
    returnFocus,
    onClose,
    body: [
      h('dl', { class: 'details' },
        detail('Project', projectName || 'Site-wide'),
        detail('Description', account.description || '—'),
        detail('Created by', account.created_by),
        detail('Created', fmtDate(account.created_at)),
        detail('Status', account.disabled ? 'Disabled' : 'Active')),
      h('p', { class: 'hint' }, LICENSE),
      h('div', { class: 'form-actions' }, createBtn),
      account.disabled ? h('p', { class: 'hint', id: disabledWhy },
        'This API account is disabled: enable it to create keys.') : null,
      alerts, status, box, dialogButtons(close),
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
  return dlg;
}
