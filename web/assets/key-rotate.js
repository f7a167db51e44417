// key-rotate.js — "Rotate API key": a new key replaces one (same name, description and
// scopes; docs/API.md "Rotation"), the old one working on for the overlap chosen in the dialog
// (now, 1 hour, 1 day or 7 days); then the new key is shown once in the same "Save generated
// key" window as a new key (key-dialogs.js), which wipes it when it closes.
import { h, uid } from './dom.js';
import { dialogButtons, openDialog } from './dialog.js';
import { showProblem } from './errors.js';
import { saveKeyDialog } from './key-dialogs.js';

export const OVERLAPS = [
  { label: 'Now', seconds: 0 },
  { label: 'In 1 hour', seconds: 3600 },
  { label: 'In 1 day', seconds: 86400 },
  { label: 'In 7 days', seconds: 604800 },
];

// true when the key can be rotated: not rotated out already and not expired.
export function canRotate(k, now = Date.now()) {
  return !k.superseded_by && !!k.expires_at && new Date(k.expires_at).getTime() > now;
}

// Opens "Rotate API key" for key `k`; `rotate(body)` makes the new key (returns it with `key`).
// `onRotated(newKeyWithoutSecret)` runs as soon as it exists; then the secret is shown once.
export function rotateKeyFlow({ key: k, rotate, onRotated, returnFocus }) {
  const group = uid('overlap');
  const choices = OVERLAPS.map((o, i) => {
    const id = uid('overlap-choice');
    const input = h('input', { type: 'radio', name: group, id, value: String(o.seconds),
      checked: i === 0, autofocus: i === 0 });
    return h('div', { class: 'check' }, input, h('label', { for: id }, o.label));
  });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, 'Rotate');
  const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
  const form = h('form', { novalidate: true, class: 'form' },
    h('p', {}, `A new key replaces "${k.name}", with the same name, description and scopes. `
      + 'It is shown once, like a new key.'),
    h('fieldset', { class: 'field checks' }, h('legend', {}, 'The old key stops working'), choices),
    dialogButtons(submit, cancel));
  let created = null;
  const dlg = openDialog({
    title: 'Rotate API key', body: [form], className: 'dialog-narrow', returnFocus,
    onClose: () => { if (created) saveKeyDialog(created, returnFocus); },
  });
  cancel.addEventListener('click', () => dlg.close());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const chosen = form.querySelector(`input[name="${group}"]:checked`);
    submit.disabled = true;
    try {
      created = await rotate({ overlap_seconds: Number(chosen ? chosen.value : 0) });
    } catch (err) {
      submit.disabled = false;
      showProblem(form, err, {}, form.querySelector('.dialog-actions'));
      return;
    }
    const listed = { ...created };
    delete listed.key;
    if (onRotated) onRotated(listed);
    dlg.close(); // opens the save dialog (onClose above)
  });
}
