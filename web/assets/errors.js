// errors.js — shows API problems in words: next to the field they concern (422 `errors`) or
// at the form, always in elements with role="alert" that exist only while there is an error.
import { h } from './dom.js';

export function sentence(text) {
  const t = String(text || '').trim();
  if (!t) return 'Something went wrong. Please try again.';
  const s = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

export function problemText(err) {
  if (err && err.status === 403 && err.type === 'csrf-token-invalid') {
    return 'Your session could not be verified. Please log out and log in again.';
  }
  return sentence(err && (err.detail || err.message));
}

function describedBy(input, id, add) {
  const ids = (input.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== id);
  if (add) ids.push(id);
  if (ids.length) input.setAttribute('aria-describedby', ids.join(' '));
  else input.removeAttribute('aria-describedby');
}

// Removes every error shown in `scope` (a form, section or dialog).
export function clearErrors(scope) {
  for (const el of scope.querySelectorAll('.error[role="alert"]')) {
    const input = el.dataset.for ? scope.querySelector(`#${CSS.escape(el.dataset.for)}`) : null;
    if (input) {
      input.removeAttribute('aria-invalid');
      describedBy(input, el.id, false);
    }
    el.remove();
  }
}

// Puts `message` right after the field's input (and its hint), tied to it by aria-describedby.
export function fieldError(input, message) {
  const id = `${input.id}-error`;
  const old = document.getElementById(id);
  if (old) old.remove();
  const p = h('p', { class: 'error', role: 'alert', id, 'data-for': input.id }, message);
  const wrap = input.closest('.field, fieldset') || input.parentElement;
  wrap.append(p);
  input.setAttribute('aria-invalid', 'true');
  describedBy(input, id, true);
  return p;
}

// A form-level alert at the top of `scope` (or before `anchor` when given).
export function formError(scope, message, anchor) {
  const p = h('p', { class: 'error form-error', role: 'alert' }, message);
  if (anchor) anchor.before(p);
  else scope.prepend(p);
  return p;
}

// Shows an ApiError in `scope`. `fields` maps API field names to {input, label}.
// Returns nothing; a session that ended is handled by the router, so nothing is shown here.
export function showProblem(scope, err, fields = {}, anchor = null) {
  clearErrors(scope);
  if (!err || err.sessionEnded) return;
  if (!(err instanceof Error) || err.status === undefined) {
    formError(scope, sentence(err && err.message), anchor);
    return;
  }
  const rest = [];
  let first = null;
  for (const fe of err.errors) {
    const f = fields[fe.field];
    if (f) {
      fieldError(f.input, sentence(`${f.label} ${fe.detail}`));
      first = first || f.input;
    } else {
      rest.push(sentence(`${fe.field}: ${fe.detail}`));
    }
  }
  if (!err.errors.length) {
    // a name already used, e.g. 409 conflict, belongs next to the Name field
    if (err.type === 'conflict' && fields.name) {
      fieldError(fields.name.input, problemText(err));
      first = fields.name.input;
    } else {
      formError(scope, problemText(err), anchor);
    }
  } else if (rest.length) {
    formError(scope, rest.join(' '), anchor);
  }
  // move to the first field in error, in the order the form shows them
  const firstInForm = scope.querySelector('[aria-invalid="true"]');
  if (first) (firstInForm || first).focus();
}
