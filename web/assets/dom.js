// dom.js — tiny element helpers shared by every page: element builder, ids, dates, form fields.

// h('button', {type: 'button', onclick: fn, class: 'x'}, 'text', child, [more])
// Keys starting with "on" become event listeners; a few are set as properties; the rest as
// attributes (null / false skip the attribute). Children: nodes, strings, arrays, null.
const PROPS = new Set(['value', 'checked', 'disabled', 'readOnly', 'required', 'selected',
  'multiple', 'hidden', 'open']);

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) el[k] = v;
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let counter = 0;
export function uid(prefix = 'id') {
  counter += 1;
  return `${prefix}-${counter}`;
}

// Dates are shown, and typed, as YYYY-MM-DD in the browser's time zone (docs/PORTAL.md "Dates").
export function ymd(date) {
  const p = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}`;
}

// "YYYY-MM-DD" (spaces around allowed) → that day at 00:00 in the browser's time zone, or null
// when it is not written so or is no real calendar day (2025-02-30).
export function parseYmd(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text).trim());
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return ymd(d) === m[0] ? d : null;
}

// An RFC 3339 time from the API → YYYY-MM-DD (or `empty` when there is none).
export function fmtDate(iso, empty = '') {
  if (!iso) return empty;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : ymd(d);
}

// A labelled form field: returns {wrap, input, id}. `input` is an element without an id yet.
export function field(label, input, { hint, required } = {}) {
  const id = input.id || uid('f');
  input.id = id;
  const lab = h('label', { for: id }, label,
    required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null);
  const wrap = h('div', { class: 'field' }, lab, input);
  if (required) {
    input.required = true;
    input.setAttribute('aria-required', 'true');
  }
  if (hint) {
    const hid = `${id}-hint`;
    wrap.append(h('p', { class: 'hint', id: hid }, hint));
    input.setAttribute('aria-describedby', hid);
  }
  return { wrap, input, id };
}

// A visually hidden text (for screen readers only).
export function srOnly(text) {
  return h('span', { class: 'sr-only' }, text);
}
