// key-table.js — the table of API keys (Key Name, Hint, Description, Scope, Created, Expiry
// Date, Last used with the addresses it was used from), used by the User API Keys page, User
// Settings, a user's details and an API account's keys. In a narrow box (a phone, a dialog)
// each row becomes a card of its own.
// A rotated-out key (docs/API.md "Rotation") is marked "(rotated out)" after its name.
import { fmtDate, h, srOnly } from './dom.js';

// The name a row's controls use: a rotated-out key shares its name with its successor, so it
// is told apart as "NAME (rotated out)".
export function keyLabel(k) {
  return k.superseded_by ? `${k.name} (rotated out)` : k.name;
}

const COLUMNS = [
  { head: 'Key Name', cls: 'key-name', cell: (k) => [k.name,
    k.superseded_by ? h('span', { class: 'badge' }, ' (rotated out)') : null] },
  { head: 'Hint', cls: 'key-hint', cell: (k) => h('span', { class: 'mono' }, k.hint || '') },
  { head: 'Description', cls: 'key-desc', cell: (k) => k.description || '—' },
  { head: 'Scope', cls: 'key-scope', cell: (k) => (k.scopes || []).join(', ') },
  { head: 'Created', cls: 'date', cell: (k) => fmtDate(k.created_at) },
  { head: 'Expiry Date', cls: 'date', cell: (k, now) => [fmtDate(k.expires_at),
    k.expires_at && new Date(k.expires_at).getTime() <= now
      ? h('span', { class: 'badge warn' }, ' (expired)') : null] },
  // one box for the date and the addresses: in a card, the value column holds both
  { head: 'Last used', cls: 'date key-used', cell: (k) => h('div', {}, fmtDate(k.last_used_at, 'Never'), usedFrom(k)) },
];

// The addresses the key was last used from (the API's last_used_from, newest first, at most
// 5), behind a disclosure "from N addresses" so that the column stays narrow until opened.
function usedFrom(k) {
  const from = k.last_used_from || [];
  if (!from.length) return null;
  return h('details', { class: 'used-from' },
    h('summary', {}, from.length === 1 ? 'from 1 address' : `from ${from.length} addresses`),
    h('ul', { 'aria-label': `Addresses ${k.name} was used from` },
      from.map((f) => h('li', {}, h('span', { class: 'mono' }, f.address), ' ',
        h('span', { class: 'used-date' }, fmtDate(f.last_used_at))))));
}

// keyTable({caption, keys, actions: (key) => node, emptyText}) → a box holding the <table>.
// Dates are YYYY-MM-DD; `hint` is the API's first 8 … last 4 characters of the key.
// The table roles are also written out: a table styled as stacked cards keeps them so.
export function keyTable({ caption, keys, actions = null, emptyText = 'You have no API keys yet.' }) {
  const cols = COLUMNS.length + (actions ? 1 : 0);
  const now = Date.now();
  const rows = keys.map((k) => {
    let act = null;
    if (actions) {
      const node = actions(k);
      const menu = node instanceof Element && node.classList.contains('menu-wrap');
      act = h('td', { role: 'cell', class: menu ? 'actions menu-cell' : 'actions' }, node);
    }
    return h('tr', { role: 'row' },
      COLUMNS.map((c) => h('td', { role: 'cell', class: c.cls, 'data-label': c.head }, c.cell(k, now))),
      act);
  });
  if (!rows.length) {
    rows.push(h('tr', { role: 'row', class: 'empty' },
      h('td', { role: 'cell', colspan: String(cols) }, emptyText)));
  }
  const table = h('table', { class: 'table key-table', role: 'table' },
    h('caption', {}, caption),
    h('thead', { role: 'rowgroup' }, h('tr', { role: 'row' },
      COLUMNS.map((c) => h('th', { scope: 'col', role: 'columnheader' }, c.head)),
      actions ? h('th', { scope: 'col', role: 'columnheader', class: 'actions' }, srOnly('Actions')) : null)),
    h('tbody', { role: 'rowgroup' }, rows));
  return h('div', { class: 'key-table-box' }, table);
}
