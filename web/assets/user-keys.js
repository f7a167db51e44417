// user-keys.js — the "API Keys" section of "User Account Details" (seed 002): a user's keys
// for holders of manage_user_api_keys, "Delete NAME" per key after a confirmation, and
// "Generate key" on one's own account only (nobody creates keys for someone else: the API
// refuses POST /v1/users/{u}/keys, so one's own keys are made with POST /v1/keys).
import { api, seg } from './api.js';
import { h, uid } from './dom.js';
import { confirmDialog } from './dialog.js';
import { clearErrors, showProblem } from './errors.js';
import { keyLabel, keyTable } from './key-table.js';
import { newKeyFlow } from './key-dialogs.js';
import { DELETE_TEXT } from './page-keys.js';

// Shown in place of the section to those without manage_user_api_keys (the seed's hint).
export const NO_KEYS_TEXT = 'API keys are not shown here because you do not have the right '
  + 'permissions: seeing and deleting other people\'s API keys needs the Admin role or a '
  + 'custom role that includes the Manage User API Keys authority (manage_user_api_keys).';

// userKeysSection({username, own, afterFocus}) → <section>. `own`: the account is the
// caller's. `afterFocus()` names the element to focus after a key is deleted.
export function userKeysSection({ username, own, afterFocus }) {
  const headingId = uid('keys');
  const alerts = h('div', { class: 'alerts' });
  const status = h('p', { role: 'status', class: 'status' });
  const box = h('div', { class: 'table-wrap' }, h('p', { class: 'loading' }, 'Loading…'));
  const generate = own ? h('button', { type: 'button', class: 'btn primary' }, 'Generate key') : null;

  async function load() {
    try {
      const { keys } = await api('GET', `/v1/users/${seg(username)}/keys`);
      box.replaceChildren(keyTable({
        caption: own ? 'Your API keys' : `API keys of ${username}`,
        keys,
        emptyText: own ? 'You have no API keys yet.' : `${username} has no API keys.`,
        actions: (k) => {
          const b = h('button', { type: 'button', class: 'btn small danger' }, `Delete ${keyLabel(k)}`);
          b.addEventListener('click', () => remove(k, b));
          return b;
        },
      }));
    } catch (err) {
      showProblem(alerts, err);
    }
  }

  async function remove(k, btn) {
    clearErrors(alerts);
    const ok = await confirmDialog({
      title: 'Delete API key', text: DELETE_TEXT, returnFocus: btn,
      action: () => api('DELETE', `/v1/users/${seg(username)}/keys/${seg(k.id)}`),
    });
    if (!ok) return;
    status.textContent = `API key "${k.name}" deleted.`;
    await load();
    (generate || afterFocus()).focus();
  }

  if (generate) {
    generate.addEventListener('click', () => {
      clearErrors(alerts);
      status.textContent = '';
      newKeyFlow({
        create: (body) => api('POST', '/v1/keys', body),
        onCreated: (k) => {
          status.textContent = `API key "${k.name}" created.`;
          load();
        },
        returnFocus: generate,
      }).catch((err) => showProblem(alerts, err));
    });
  }

  load();
  return h('section', { 'aria-labelledby': headingId, class: 'dialog-section' },
    h('div', { class: 'section-head' }, h('h3', { id: headingId }, 'API Keys'), generate),
    own ? null : h('p', { class: 'hint' },
      `Only ${username} can generate keys for this account; you may list and delete them.`),
    alerts, status, box);
}

// The sentence shown instead of the section.
export function noKeysNote() {
  return h('p', { class: 'hint no-keys' }, NO_KEYS_TEXT);
}
