// page-audit.js — #/audit "Audit" (Admin group, holders of view_audit): GET /v1/audit newest
// first, filtered by actor, target, action and a time range, paged with "Load more" (the
// answer's next_before passed as `before`).
import { api } from './api.js';
import { field, h } from './dom.js';
import { clearErrors, fieldError, showProblem } from './errors.js';
import { stackable } from './table-stack.js';

// The actions docs/API.md lists under "Audit".
export const ACTIONS = ['login.success', 'login.failure', 'logout', 'key.create', 'key.update',
  'key.delete', 'key.rotate', 'key.reuse_revoke', 'user.create', 'user.update', 'user.disable',
  'user.delete', 'role.create', 'role.update',
  'role.delete', 'group.create', 'group.update', 'group.delete', 'environment.create',
  'environment.delete', 'password.change', 'mfa.enable', 'mfa.disable', 'mfa.reset',
  'mfa.recovery_codes', 'scope.create', 'project.create', 'project.delete',
  'project.member.put', 'project.member.delete', 'account.create', 'account.update',
  'account.delete', 'webhook.create', 'webhook.update', 'webhook.delete', 'webhook.test',
  'webhook.disable'];
const PAGE_SIZES = ['10', '25', '50', '100', '200'];
const NO_PERMISSION = 'You do not have permission to view the audit log. It is shown to holders '
  + 'of the View Audit authority (view_audit): ask an administrator for a role that includes it.';

// "YYYY-MM-DD HH:MM:SS" in the browser's time zone.
function fmtTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso || '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} `
    + `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// A datetime-local value (browser's time zone) → RFC 3339 UTC; `end` takes the last second
// of that minute (the range includes the minute the person typed). '' → undefined.
function rfc3339(value, end) {
  if (!value) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return null;
  if (end) d.setSeconds(59, 0);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function render(view, { has }) {
  view.append(h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Audit')));
  if (!has('view_audit')) {
    view.append(h('p', { class: 'error form-error', role: 'alert' }, NO_PERMISSION));
    return;
  }
  const alerts = h('div', { class: 'alerts' });
  const status = h('p', { role: 'status', class: 'status' });
  const actor = field('Actor', h('input', { type: 'text', name: 'actor', maxlength: '128',
    autocapitalize: 'none', spellcheck: 'false' }), { hint: 'A username, exactly.' });
  const target = field('Target', h('input', { type: 'text', name: 'target', maxlength: '128',
    autocapitalize: 'none', spellcheck: 'false' }), { hint: 'A username, key id, role, group or project id.' });
  const action = field('Action', h('select', { name: 'action' },
    h('option', { value: '' }, 'Any action'), ACTIONS.map((a) => h('option', { value: a }, a))));
  const since = field('From', h('input', { type: 'datetime-local', name: 'since' }));
  const until = field('To', h('input', { type: 'datetime-local', name: 'until' }));
  const size = field('Events per page', h('select', { name: 'limit' },
    PAGE_SIZES.map((n) => h('option', { value: n, selected: n === '50' }, n))));
  const apply = h('button', { type: 'submit', class: 'btn primary' }, 'Apply filters');
  const reset = h('button', { type: 'button', class: 'btn' }, 'Clear filters');
  const form = h('form', { class: 'form filters', novalidate: true, 'aria-label': 'Filter audit events' },
    actor.wrap, target.wrap, action.wrap, since.wrap, until.wrap, size.wrap,
    h('div', { class: 'form-actions' }, apply, reset));
  const tbody = h('tbody', {});
  const table = h('table', { class: 'table audit' },
    h('caption', {}, 'Audit events, newest first'),
    h('thead', {}, h('tr', {}, ['Time', 'Actor', 'Action', 'Target', 'Client', 'Detail']
      .map((t) => h('th', { scope: 'col' }, t)))),
    tbody);
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  view.append(h('p', { class: 'intro' },
    'Who did what to which key, user, role, group, API account or project, when, and from where.'),
  form, alerts, status, h('div', { class: 'table-wrap scroll-x' }, table), h('div', { class: 'form-actions' }, more));

  let query = null; // the filters of the listing shown
  let next = null; // next_before of the last page read
  let seq = 0;

  function row(ev) {
    return h('tr', {},
      h('td', {}, h('time', { datetime: ev.at }, fmtTime(ev.at))),
      h('td', { class: 'wrap-word' }, ev.actor || ''),
      h('td', { class: 'nowrap' }, ev.action || ''),
      h('td', { class: 'wrap-any' }, ev.target_type && ev.target ? `${ev.target_type} ${ev.target}` : ev.target || ''),
      h('td', { class: 'wrap-any client' }, ev.client || ''),
      h('td', { class: 'wrap-word' }, ev.detail || ''));
  }

  async function fetchPage(append) {
    const my = ++seq;
    const params = new URLSearchParams(query);
    if (append && next) params.set('before', next);
    more.disabled = true;
    try {
      const res = await api('GET', `/v1/audit?${params}`);
      if (my !== seq) return;
      if (!append) tbody.replaceChildren();
      tbody.append(...res.events.map(row));
      next = res.next_before || null;
      more.hidden = !next;
      const n = tbody.querySelectorAll('tr:not(.empty)').length;
      if (!n) tbody.replaceChildren(h('tr', { class: 'empty' }, h('td', { colspan: '6' }, 'No events match these filters.')));
      stackable(table);
      status.textContent = n ? `Showing ${n} event${n === 1 ? '' : 's'}${next ? '; more are older' : ''}.` : '';
    } catch (err) {
      if (my === seq) showProblem(alerts, err);
    } finally {
      more.disabled = false;
    }
  }

  function readFilters() {
    clearErrors(form);
    clearErrors(alerts);
    const q = {};
    for (const [k, f] of [['actor', actor], ['target', target]]) {
      const v = f.input.value.trim();
      if (v) q[k] = v;
    }
    if (action.input.value) q.action = action.input.value;
    const from = rfc3339(since.input.value, false);
    const to = rfc3339(until.input.value, true);
    if (from === null) fieldError(since.input, 'From must be a date and time.');
    if (to === null) fieldError(until.input, 'To must be a date and time.');
    if (from && to && from > to) fieldError(until.input, 'To must not be before From.');
    if (form.querySelector('[aria-invalid="true"]')) {
      form.querySelector('[aria-invalid="true"]').focus();
      return null;
    }
    if (from) q.since = from;
    if (to) q.until = to;
    q.limit = size.input.value;
    return q;
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = readFilters();
    if (!q) return;
    query = q;
    next = null;
    fetchPage(false);
  });
  reset.addEventListener('click', () => {
    form.reset();
    size.input.value = '50';
    query = readFilters();
    next = null;
    fetchPage(false);
  });
  more.addEventListener('click', async () => {
    const before = tbody.querySelectorAll('tr').length;
    await fetchPage(true);
    // the first new row's time cell takes the focus, so keyboard users continue there
    const first = tbody.querySelectorAll('tr')[before];
    if (first) {
      first.firstChild.setAttribute('tabindex', '-1');
      first.firstChild.focus();
    } else {
      more.focus();
    }
  });
  query = readFilters();
  fetchPage(false);
}
