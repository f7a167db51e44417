// dialog.js — modal <dialog> windows (showModal: role dialog, focus moves in, Escape closes)
// and the shared "are you sure?" confirmation.
import { h, uid } from './dom.js';
import { showProblem } from './errors.js';

// openDialog({title, body: [nodes], className, onClose, returnFocus}) → {dialog, body, close}
// The dialog is removed from the page when it closes; focus returns to `returnFocus` (or to
// the element that had it when the dialog opened, if it is still on the page).
export function openDialog({ title, body = [], className = '', onClose, returnFocus }) {
  const headingId = uid('dlg-title');
  const opener = returnFocus || document.activeElement;
  const content = h('div', { class: 'dialog-body' }, body);
  const dialog = h('dialog', { class: `dialog ${className}`.trim(), 'aria-labelledby': headingId },
    h('h2', { id: headingId, class: 'dialog-title' }, title),
    content);
  dialog.addEventListener('close', () => {
    dialog.remove();
    const target = typeof returnFocus === 'function' ? returnFocus() : opener;
    if (target && target.isConnected && typeof target.focus === 'function') target.focus();
    if (onClose) onClose(); // may open the next dialog, which then takes the focus
  }, { once: true });
  document.body.append(dialog);
  dialog.showModal();
  const first = dialog.querySelector('[autofocus]');
  if (first) first.focus();
  return { dialog, body: content, close: () => { if (dialog.open) dialog.close(); } };
}

export function dialogButtons(...buttons) {
  return h('div', { class: 'dialog-actions' }, buttons);
}

// confirmDialog({title, text, confirmLabel, action}) → Promise<boolean>.
// `action` runs while the dialog is open; an error it throws is shown in the dialog.
export function confirmDialog({ title, text, confirmLabel = 'Delete', action, returnFocus }) {
  return new Promise((resolve) => {
    let done = false;
    const confirm = h('button', { type: 'submit', class: 'btn danger' }, confirmLabel);
    const cancel = h('button', { type: 'button', class: 'btn', autofocus: true }, 'Cancel');
    const form = h('form', { class: 'confirm-form', novalidate: true },
      h('p', {}, text),
      dialogButtons(confirm, cancel));
    const dlg = openDialog({
      title, body: [form], className: 'dialog-narrow', returnFocus,
      onClose: () => resolve(done),
    });
    cancel.addEventListener('click', () => dlg.close());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      confirm.disabled = true;
      try {
        if (action) await action();
        done = true;
        dlg.close();
      } catch (err) {
        confirm.disabled = false;
        showProblem(form, err, {}, form.querySelector('.dialog-actions'));
      }
    });
  });
}
