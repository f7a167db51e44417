// key-table.js — the table of API keys (Key Name, Expiry Date, Scope, Last used), used by the
// User API Keys page, User Settings, a user's details and an API account's keys.
import { fmtDate, h, srOnly } from './dom.js';

// keyTable({caption, keys, actions: (key) => node, emptyText}) → <table>
export function keyTable({ caption, keys, actions = null, emptyText = 'You have no API keys yet.' }) {
  const heads = ['Key Name', 'Expiry Date', 'Scope', 'Last used'];
  const cols = heads.length + (actions ? 1 : 0);
  const now = Date.now();
  const rows = keys.map((k) => {
    const expired = k.expires_at && new Date(k.expires_at).getTime() <= now;
    return h('tr', {},
      h('td', { class: 'key-name' }, k.name),
      h('td', {}, fmtDate(k.expires_at),
        expired ? h('span', { class: 'badge warn' }, ' (expired)') : null),
      h('td', {}, (k.scopes || []).join(', ')),
      h('td', {}, fmtDate(k.last_used_at, 'Never')),
      actions ? h('td', { class: 'actions' }, actions(k)) : null);
  });
  if (!rows.length) {
    rows.push(h('tr', { class: 'empty' }, h('td', { colspan: String(cols) }, emptyText)));
  }
  return h('table', { class: 'table' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {},
      heads.map((t) => h('th', { scope: 'col' }, t)),
      actions ? h('th', { scope: 'col', class: 'actions' }, srOnly('Actions')) : null)),
    h('tbody', {}, rows));
}
