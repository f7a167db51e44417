// key-dialogs.js — the "New API Key" dialog, the show-once "Save generated key" dialog (also
// after a rotation, key-rotate.js) and the "Delete API key" confirmation. Used for a user's own keys and for API accounts' keys
// (the `create` and delete callbacks differ). The secret lives only in the read-only input;
// it is wiped the moment the dialog is closed.
import { api } from './api.js';
import { field, h, parseYmd, uid, ymd } from './dom.js';
import { confirmDialog, dialogButtons, openDialog } from './dialog.js';
import { clearErrors, fieldError, showProblem } from './errors.js';

const MAX_HINT = 'The maximum expiration date for any API key is 1 year from the creation date.';

export const DELETE_TEXT = 'Deleting an API key is permanent and cannot be undone. '
  + 'Any integrations or scripts using that key will immediately stop working.';

export const UNSAVED_TEXT = 'You have not copied or downloaded this key. Close anyway?';

// The "Delete API key" confirmation; `action` deletes (its error is shown in the dialog).
// Resolves to true when the key was deleted.
export function confirmDeleteKey({ action, returnFocus }) {
  return confirmDialog({
    title: 'Delete API key', text: DELETE_TEXT, confirmLabel: 'Delete', returnFocus, action,
  });
}

function addDays(date, n) {
  const d = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  d.setDate(d.getDate() + n);
  return d;
}

// Same month and day a year later; 29 February becomes 28 February (as the server does).
function addYear(date) {
  const d = new Date(date.getFullYear() + 1, date.getMonth(), date.getDate());
  if (d.getMonth() !== date.getMonth()) d.setDate(0);
  return d;
}

// A YYYY-MM-DD date (the browser's time zone) → RFC 3339 at the current time of day on that date.
function expiryFromDate(day) {
  const now = new Date();
  const t = new Date(day.getFullYear(), day.getMonth(), day.getDate(),
    now.getHours(), now.getMinutes(), now.getSeconds());
  return t.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function scopeLists(scopes) {
  const selected = new Set();
  const describe = new Map(scopes.map((s) => [s.name, s.description || '']));
  const avail = h('select', { multiple: true, size: '9', class: 'scope-list' });
  const chosen = h('select', { multiple: true, size: '9', class: 'scope-list', name: 'scopes' });
  const info = h('p', { class: 'hint scope-info', 'aria-live': 'polite' });
  const fill = () => {
    const keep = (sel) => new Set([...sel.selectedOptions].map((o) => o.value));
    const [a, c] = [keep(avail), keep(chosen)];
    avail.replaceChildren(...scopes.filter((s) => !selected.has(s.name))
      .map((s) => h('option', { value: s.name, selected: a.has(s.name) }, s.name)));
    chosen.replaceChildren(...scopes.filter((s) => selected.has(s.name))
      .map((s) => h('option', { value: s.name, selected: c.has(s.name) }, s.name)));
  };
  const move = (from, add) => {
    const names = [...from.selectedOptions].map((o) => o.value);
    names.forEach((n) => (add ? selected.add(n) : selected.delete(n)));
    fill();
    const to = add ? chosen : avail;
    for (const o of to.options) o.selected = names.includes(o.value);
  };
  const addBtn = h('button', { type: 'button', class: 'btn icon', 'aria-label': 'Add selected',
    title: 'Add selected' }, '→');
  const removeBtn = h('button', { type: 'button', class: 'btn icon', 'aria-label': 'Remove selected',
    title: 'Remove selected' }, '←');
  addBtn.addEventListener('click', () => move(avail, true));
  removeBtn.addEventListener('click', () => move(chosen, false));
  for (const [list, add] of [[avail, true], [chosen, false]]) {
    list.addEventListener('dblclick', () => move(list, add));
    list.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        move(list, add);
      }
    });
    list.addEventListener('change', () => {
      const o = list.selectedOptions[list.selectedOptions.length - 1];
      info.textContent = o && describe.get(o.value) ? `${o.value}: ${describe.get(o.value)}` : '';
    });
  }
  fill();
  const a = field('Available API', avail);
  const c = field('Selected API', chosen);
  const box = h('div', { class: 'scope-picker' },
    a.wrap, h('div', { class: 'scope-moves' }, addBtn, removeBtn), c.wrap);
  return { box, info, chosen, values: () => scopes.map((s) => s.name).filter((n) => selected.has(n)) };
}

// Opens "New API Key"; `create(body)` makes the key (returns the key object with `key`).
// After Finish, the "Save generated key" dialog shows the secret once. `onCreated(keyWithoutSecret)`
// runs as soon as the key exists. Errors loading the scopes are thrown to the caller.
export async function newKeyFlow({ create, onCreated, returnFocus }) {
  const { scopes } = await api('GET', '/v1/scopes');
  const today = new Date();
  const name = field('Name', h('input', { type: 'text', name: 'name', maxlength: '100',
    autocomplete: 'off', autofocus: true }), { required: true });
  const desc = field('Description', h('textarea', { name: 'description', rows: '2', maxlength: '1000' }));
  const lists = scopeLists(scopes || []);
  // A text field, not <input type="date">: that one shows the browser's locale format, and
  // the portal writes every date as YYYY-MM-DD (docs/PORTAL.md "Dates").
  const latest = ymd(addYear(today));
  const expiry = field('Expiry date', h('input', {
    type: 'text', name: 'expires_at', value: ymd(addDays(today, 90)), placeholder: 'YYYY-MM-DD',
    maxlength: '10', autocomplete: 'off', spellcheck: 'false', class: 'date',
  }), { required: true, hint: `Write the date as YYYY-MM-DD; the latest is ${latest}. ${MAX_HINT}` });
  const finish = h('button', { type: 'submit', class: 'btn primary' }, 'Finish');
  const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
  const form = h('form', { novalidate: true, class: 'form' },
    h('p', { class: 'hint' }, 'Required fields are marked with an asterisk (*).'),
    name.wrap, desc.wrap, lists.box, lists.info, expiry.wrap,
    dialogButtons(finish, cancel));
  const fields = {
    name: { input: name.input, label: 'Name' },
    description: { input: desc.input, label: 'Description' },
    scopes: { input: lists.chosen, label: 'Selected API' },
    expires_at: { input: expiry.input, label: 'Expiry date' },
  };
  let created = null;
  const dlg = openDialog({
    title: 'New API Key', body: [form], className: 'dialog-wide', returnFocus,
    onClose: () => { if (created) saveKeyDialog(created, returnFocus); },
  });
  cancel.addEventListener('click', () => dlg.close());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { name: name.input.value, scopes: lists.values() };
    if (desc.input.value.trim()) body.description = desc.input.value;
    const day = parseYmd(expiry.input.value);
    if (!day) {
      clearErrors(form);
      fieldError(expiry.input, 'Write the expiry date as YYYY-MM-DD, for example '
        + `${ymd(addDays(today, 90))}.`);
      expiry.input.focus();
      return;
    }
    body.expires_at = expiryFromDate(day);
    finish.disabled = true;
    try {
      created = await create(body);
    } catch (err) {
      finish.disabled = false;
      showProblem(form, err, fields, form.querySelector('.dialog-actions'));
      return;
    }
    const listed = { ...created };
    delete listed.key;
    if (onCreated) onCreated(listed);
    dlg.close(); // opens the save dialog (onClose above)
  });
}

// The show-once window. `created` carries the secret in `key`; it is moved into the input
// and deleted from the object at once. Close wipes it at once, in its click handler: the
// input's value, the download's object URL (revoked), the variables; then the window closes.
// Escape or a click on the backdrop close it the same way once the key was copied or
// downloaded; before that they ask "Close anyway?" first.
export function saveKeyDialog(created, returnFocus) {
  const keyName = created.name;
  let input = h('input', { type: 'text', readOnly: true, class: 'secret', spellcheck: 'false',
    autocomplete: 'off', autofocus: true });
  input.value = created.key;
  delete created.key;
  let saved = false; // copied or downloaded
  let downloadUrl = null;
  let asking = false;
  const status = h('p', { role: 'status', class: 'status', id: uid('status') });
  const copy = h('button', { type: 'button', class: 'btn primary' }, 'Copy to clipboard');
  const download = h('button', { type: 'button', class: 'btn' }, 'Download');
  const close = h('button', { type: 'button', class: 'btn' }, 'Close');
  const keyField = field('API key', input);

  // Forgets the key everywhere this window put it. Safe to run twice.
  function wipe() {
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    downloadUrl = null;
    if (!input) return;
    input.value = '';
    input.remove();
    input = null;
  }
  function wipeAndClose() {
    wipe();
    dlg.close();
  }
  async function closeRequested() {
    if (saved) {
      wipeAndClose();
      return;
    }
    if (asking) return;
    asking = true;
    const closeAnyway = await confirmDialog({
      title: 'Close without saving the key?',
      text: UNSAVED_TEXT,
      confirmLabel: 'Close anyway',
      cancelLabel: 'Go back to the key',
    });
    asking = false;
    if (closeAnyway) wipeAndClose();
  }

  const dlg = openDialog({
    title: 'Save generated key',
    className: 'dialog-wide',
    returnFocus,
    body: [
      h('p', { class: 'warning' },
        'Copy and save your API key now. For security reasons, it will not be shown again.'),
      keyField.wrap,
      status,
      dialogButtons(copy, download, close),
    ],
    onCloseRequest: closeRequested,
    onClose: wipe, // however else it closes (the session ended): no key stays behind
  });
  input.addEventListener('focus', (ev) => ev.target.select());
  // Ctrl+C on the selected key (the fallback below) counts as copied.
  input.addEventListener('copy', () => {
    saved = true;
    status.textContent = 'Copied to clipboard.';
  });
  copy.addEventListener('click', async () => {
    if (!input) return;
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error('no clipboard');
      await navigator.clipboard.writeText(input.value);
      saved = true;
      status.textContent = 'Copied to clipboard.';
    } catch {
      if (!input) return;
      input.focus();
      input.select();
      status.textContent = 'Press Ctrl+C to copy.';
    }
  });
  download.addEventListener('click', () => {
    if (!input) return;
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    const url = URL.createObjectURL(new Blob([`${input.value}\n`], { type: 'text/plain' }));
    downloadUrl = url;
    const a = h('a', { href: url, download: `${keyName}.APIKEY`, hidden: true });
    dlg.dialog.append(a);
    a.click();
    a.remove();
    // the download has its own copy by then; the URL must not outlive the window either
    setTimeout(() => {
      URL.revokeObjectURL(url);
      if (downloadUrl === url) downloadUrl = null;
    }, 1000);
    saved = true;
    status.textContent = `Downloaded ${keyName}.APIKEY.`;
  });
  close.addEventListener('click', wipeAndClose);
}
