// page-webhooks.js — #/webhooks "Webhooks" (holders of manage_webhooks): the endpoints apikeyd
// sends signed events to, "Register endpoint" (the signing secret shown once, wiped on Close),
// and per row a "⋮" menu with Deliveries, Send test, Disable/Enable and Delete.
import { api, seg } from './api.js';
import { field, fmtDate, h, uid } from './dom.js';
import { confirmDialog, dialogButtons, openDialog } from './dialog.js';
import { clearErrors, showProblem } from './errors.js';
import { menuButton } from './menu.js';
import { stackable } from './table-stack.js';

// The events of docs/API.md "Webhooks", in its order.
export const EVENTS = ['key.created', 'key.deleted', 'key.rotated', 'key.expiring', 'key.expired',
  'key.leaked', 'user.disabled', 'service_account.deleted'];
const INTRO = 'apikeyd sends these endpoints an HTTP POST for each event they take, signed per '
  + 'the Standard Webhooks specification with the endpoint\u2019s signing secret.';
const NO_PERMISSION = 'You do not have permission to manage webhooks. They are shown to holders '
  + 'of the Manage Webhooks authority (manage_webhooks): ask an administrator for a role that '
  + 'includes it.';

// "Save signing secret": shown once after a registration; the value is wiped when it closes.
function secretDialog(secret, returnFocus) {
  const input = h('input', { type: 'text', readOnly: true, value: secret, autocomplete: 'off',
    spellcheck: 'false' });
  const f = field('Signing secret', input, { hint: 'Give it to the receiver to verify each '
    + 'delivery. This is the only time it is shown.' });
  const copy = h('button', { type: 'button', class: 'btn' }, 'Copy to clipboard');
  const close = h('button', { type: 'button', class: 'btn primary' }, 'Close');
  const note = h('p', { role: 'status', class: 'status' });
  const dlg = openDialog({ title: 'Save signing secret', body: [f.wrap, note,
    dialogButtons(copy, close)], returnFocus, onClose: () => { input.value = ''; } });
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      note.textContent = 'Copied.';
    } catch {
      input.select();
      note.textContent = 'Select the secret and copy it.';
    }
  });
  close.addEventListener('click', () => {
    input.value = '';
    dlg.close();
  });
}

// "Register webhook endpoint": URL, the events (checkboxes), description.
function registerDialog({ returnFocus, onRegistered }) {
  const url = field('URL', h('input', { type: 'url', name: 'url', maxlength: '2000',
    autocomplete: 'off', autofocus: true, placeholder: 'https://' }), { required: true });
  const boxes = EVENTS.map((ev) => h('input', { type: 'checkbox', id: uid('ev'), value: ev }));
  const events = h('fieldset', { class: 'field checks' }, h('legend', {}, 'Events'),
    EVENTS.map((ev, i) => h('div', { class: 'check' }, boxes[i], h('label', { for: boxes[i].id }, ev))));
  const desc = field('Description', h('input', { type: 'text', name: 'description',
    maxlength: '200' }));
  const register = h('button', { type: 'submit', class: 'btn primary' }, 'Register');
  const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
  const form = h('form', { class: 'form', novalidate: true }, url.wrap, events, desc.wrap,
    dialogButtons(register, cancel));
  const fields = {
    url: { input: url.input, label: 'URL' },
    events: { input: boxes[0], label: 'Events' },
    description: { input: desc.input, label: 'Description' },
  };
  const dlg = openDialog({ title: 'Register webhook endpoint', body: [form], returnFocus });
  cancel.addEventListener('click', () => dlg.close());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { url: url.input.value.trim(), events: boxes.filter((b) => b.checked).map((b) => b.value) };
    if (desc.input.value.trim()) body.description = desc.input.value;
    register.disabled = true;
    try {
      const w = await api('POST', '/v1/webhooks', body);
      dlg.close();
      onRegistered(w);
    } catch (err) {
      register.disabled = false;
      showProblem(form, err, fields, form.querySelector('.dialog-actions'));
    }
  });
}

const fmtTime = (iso) => (iso ? iso.replace('T', ' ').replace('Z', '') : '');

// "Deliveries to URL": the last attempts, newest first.
async function deliveriesDialog(w, returnFocus) {
  const got = await api('GET', `/v1/webhooks/${seg(w.id)}/deliveries`);
  const cell = (label, ...content) => h('td', { 'data-label': label }, content);
  const rows = (got.deliveries || []).map((d) => h('tr', {},
    cell('Time', fmtTime(d.attempted_at)),
    cell('Event', d.event || ''),
    cell('Result', d.status_code ? `HTTP ${d.status_code}` : d.error || ''),
    cell('Duration', `${d.duration_ms} ms`),
    cell('State', d.state),
    cell('Next attempt', fmtTime(d.next_attempt_at))));
  if (!rows.length) {
    rows.push(h('tr', { class: 'empty' }, h('td', { colspan: '6' }, 'Nothing was sent yet.')));
  }
  const close = h('button', { type: 'button', class: 'btn primary' }, 'Close');
  const table = stackable(h('table', { class: 'table' },
    h('caption', {}, 'Delivery attempts, newest first'),
    h('thead', {}, h('tr', {}, ['Time', 'Event', 'Result', 'Duration', 'State', 'Next attempt']
      .map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows)));
  const dlg = openDialog({ title: `Deliveries to ${w.url}`, className: 'dialog-wide',
    body: [h('div', { class: 'table-wrap' }, table), dialogButtons(close)], returnFocus });
  close.addEventListener('click', () => dlg.close());
}

export function render(view, { me }) {
  const heading = h('h1', { tabindex: '-1' }, 'Webhooks');
  const alerts = h('div', { class: 'alerts' });
  if (!(me.authorities || []).includes('manage_webhooks')) {
    view.append(h('div', { class: 'page-head' }, heading), alerts);
    alerts.append(h('p', { role: 'alert', class: 'error' }, NO_PERMISSION));
    return;
  }
  const newBtn = h('button', { type: 'button', class: 'btn primary' }, 'Register endpoint');
  const status = h('p', { role: 'status', class: 'status' });
  const tableBox = h('div', { class: 'table-wrap' }, h('p', { class: 'loading' }, 'Loading…'));
  view.append(h('div', { class: 'page-head' }, heading, newBtn), h('p', { class: 'intro' }, INTRO),
    alerts, status, tableBox);
  const menuOf = (id) => tableBox.querySelector(`[data-webhook="${CSS.escape(id)}"] button`);

  function row(w) {
    const menu = menuButton({
      text: '⋮',
      label: `Actions for ${w.url}`,
      items: [
        { label: 'Deliveries', action: (btn) => deliveriesDialog(w, btn).catch((err) => showProblem(alerts, err)) },
        { label: 'Send test', action: () => sendTest(w) },
        { label: w.enabled ? 'Disable' : 'Enable', action: () => setEnabled(w, !w.enabled) },
        { label: 'Delete', danger: true, action: (btn) => remove(w, btn) },
      ],
    });
    const cell = (label, ...content) => h('td', { 'data-label': label }, content);
    return h('tr', {},
      cell('URL', h('span', { class: 'wrap-any' }, w.url)),
      cell('Events', w.events.join(', ')),
      cell('Description', w.description),
      cell('Status', h('span', { class: w.enabled ? 'badge ok' : 'badge warn' },
        w.enabled ? 'Active' : 'Disabled')),
      cell('Created', fmtDate(w.created_at)),
      h('td', { class: 'actions', 'data-webhook': w.id }, menu));
  }

  async function load() {
    try {
      const got = await api('GET', '/v1/webhooks');
      const rows = (got.webhooks || []).map(row);
      if (!rows.length) {
        rows.push(h('tr', { class: 'empty' }, h('td', { colspan: '6' },
          'No webhook endpoints are registered.')));
      }
      tableBox.replaceChildren(stackable(h('table', { class: 'table' },
        h('caption', {}, 'Webhook endpoints'),
        h('thead', {}, h('tr', {},
          ['URL', 'Events', 'Description', 'Status', 'Created'].map((t) => h('th', { scope: 'col' }, t)),
          h('th', { scope: 'col', class: 'actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
        h('tbody', {}, rows))));
    } catch (err) {
      showProblem(alerts, err);
    }
  }

  async function changed(message, id) {
    status.textContent = message;
    await load();
    (id && menuOf(id) ? menuOf(id) : newBtn).focus();
  }

  async function sendTest(w) {
    clearErrors(alerts);
    try {
      await api('POST', `/v1/webhooks/${seg(w.id)}/test`);
      status.textContent = `A test event is queued for ${w.url}.`;
    } catch (err) {
      showProblem(alerts, err);
    }
  }

  async function setEnabled(w, enabled) {
    clearErrors(alerts);
    try {
      await api('PATCH', `/v1/webhooks/${seg(w.id)}`, { enabled });
      await changed(`${w.url} ${enabled ? 'enabled' : 'disabled'}.`, w.id);
    } catch (err) {
      showProblem(alerts, err);
    }
  }

  async function remove(w, btn) {
    clearErrors(alerts);
    const ok = await confirmDialog({
      title: 'Delete webhook endpoint',
      text: `Deleting the endpoint ${w.url} is permanent: it gets no more events, and its `
        + 'deliveries are forgotten.',
      returnFocus: btn,
      action: () => api('DELETE', `/v1/webhooks/${seg(w.id)}`),
    });
    if (ok) await changed(`${w.url} deleted.`, null);
  }

  newBtn.addEventListener('click', () => {
    clearErrors(alerts);
    registerDialog({
      returnFocus: newBtn,
      onRegistered: (w) => {
        const secret = w.secret;
        delete w.secret;
        status.textContent = `${w.url} registered.`;
        load();
        secretDialog(secret, () => menuOf(w.id) || newBtn);
      },
    });
  });
  load();
}
