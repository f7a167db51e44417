// responsive-tables.js — lets every data table (`table.table`) fit a phone without sideways
// scrolling: each cell is given its column's header text as `data-label`, which app.css
// shows before the cell when narrow screens stack a row's cells as a card. Explicit ARIA
// roles keep the table a table for assistive technology when CSS changes its display.
// One observer watches the whole portal, so pages build tables as they always did.

const ROLES = [['table', 'table'], ['thead', 'rowgroup'], ['tbody', 'rowgroup'], ['tr', 'row'],
  ['td', 'cell']];

// Labels the cells of one table by the texts of its column headers.
function label(table) {
  for (const [tag, role] of ROLES) {
    const els = tag === 'table' ? [table] : table.querySelectorAll(tag);
    for (const el of els) if (!el.hasAttribute('role')) el.setAttribute('role', role);
  }
  for (const th of table.querySelectorAll('thead th')) {
    if (!th.hasAttribute('role')) th.setAttribute('role', 'columnheader');
  }
  for (const th of table.querySelectorAll('tbody th')) {
    if (!th.hasAttribute('role')) th.setAttribute('role', 'rowheader');
  }
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
  for (const row of table.querySelectorAll('tbody tr')) {
    [...row.children].forEach((cell, i) => {
      const text = heads[i] || '';
      if (text && cell.dataset.label !== text) cell.dataset.label = text;
    });
  }
}

// Starts labelling every `table.table` under `root`, now and whenever one is added or changed.
export function watchTables(root) {
  const pending = new Set();
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    for (const t of pending) if (t.isConnected) label(t);
    pending.clear();
  };
  const observer = new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target instanceof Element ? r.target : r.target.parentElement;
      const own = el?.closest('table.table');
      if (own) pending.add(own);
      for (const n of r.addedNodes) {
        if (n instanceof Element) {
          if (n.matches('table.table')) pending.add(n);
          for (const t of n.querySelectorAll('table.table')) pending.add(t);
        }
      }
    }
    if (pending.size && !scheduled) {
      scheduled = true;
      queueMicrotask(flush);
    }
  });
  observer.observe(root, { childList: true, subtree: true });
  for (const t of root.querySelectorAll('table.table')) label(t);
}
