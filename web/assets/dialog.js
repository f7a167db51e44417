// dialog.js — modal <dialog> windows (showModal: role dialog, focus moves in, Escape closes)
// and the shared "are you sure?" confirmation.
import { h, uid } from './dom.js';
import { showProblem } from './errors.js';

// Keeps a dialog open on Escape and on a click on its backdrop, calling `request()` instead.
// Three guards, so no browser closes it behind our back: closedby="none" (browsers that know
// it send no close request), Escape's keydown cancelled (the HTML close-request steps run only
// for a keydown not cancelled), and the `cancel` event cancelled (any other close request).
function holdOpen(dialog, request) {
  dialog.setAttribute('closedby', 'none');
  dialog.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape' || ev.defaultPrevented) return;
    ev.preventDefault();
    ev.stopPropagation();
    request();
  });
  dialog.addEventListener('cancel', (ev) => {
    ev.preventDefault();
    request();
  });
  // Escape while the focus is outside every dialog (a window on top of this one has just
  // closed and the focus is not back yet) reaches the document, not the dialog: while this
  // dialog is the topmost one open, it is this dialog's close request too, never lost.
  const onDocumentKey = (ev) => {
    if (ev.key !== 'Escape' || ev.defaultPrevented || !dialog.open) return;
    if (ev.target instanceof Element && ev.target.closest('dialog')) return;
    const open = document.querySelectorAll('dialog[open]');
    if (open[open.length - 1] !== dialog) return;
    ev.preventDefault();
    request();
  };
  document.addEventListener('keydown', onDocumentKey);
  dialog.addEventListener('close', () => document.removeEventListener('keydown', onDocumentKey),
    { once: true });
  // A click on the backdrop reaches the dialog element with a point outside its box; both the
  // press and the release must be outside (dragging a selection out of the dialog is no click).
  const outside = (ev) => {
    if (ev.target !== dialog) return false;
    const r = dialog.getBoundingClientRect();
    return ev.clientX < r.left || ev.clientX > r.right || ev.clientY < r.top || ev.clientY > r.bottom;
  };
  let pressedOutside = false;
  dialog.addEventListener('pointerdown', (ev) => { pressedOutside = outside(ev); });
  dialog.addEventListener('click', (ev) => {
    if (pressedOutside && outside(ev)) request();
    pressedOutside = false;
  });
}

// openDialog({title, body: [nodes], className, onClose, returnFocus, onCloseRequest})
//   → {dialog, body, close}
// The dialog is removed from the page when it closes; focus returns to `returnFocus` (or to
// the element that had it when the dialog opened, if it is still on the page). With
// `onCloseRequest`, Escape and a click on the backdrop call it instead of closing the dialog.
export function openDialog({ title, body = [], className = '', onClose, returnFocus, onCloseRequest }) {
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
  if (onCloseRequest) holdOpen(dialog, onCloseRequest);
  document.body.append(dialog);
  dialog.showModal();
  const first = dialog.querySelector('[autofocus]');
  if (first) first.focus();
  return { dialog, body: content, close: () => { if (dialog.open) dialog.close(); } };
}

export function dialogButtons(...buttons) {
  return h('div', { class: 'dialog-actions' }, buttons);
}

// confirmDialog({title, text, confirmLabel, cancelLabel, action, returnFocus}) → Promise<boolean>.
// `action` runs while the dialog is open; an error it throws is shown in the dialog. The
// cancel button has the focus, so Enter and Escape both keep things as they are.
export function confirmDialog({ title, text, confirmLabel = 'Delete', cancelLabel = 'Cancel', action, returnFocus }) {
  return new Promise((resolve) => {
    let done = false;
    const confirm = h('button', { type: 'submit', class: 'btn danger' }, confirmLabel);
    const cancel = h('button', { type: 'button', class: 'btn', autofocus: true }, cancelLabel);
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
