// table-stack.js — lets a table turn into one labelled block per row on narrow screens
// (app.css `.table.stack`), so that nothing scrolls sideways at phone widths. The roles
// are set explicitly because a table shown as blocks loses its implicit ones in some readers.

// stackable(table) → table: class "stack", each cell's data-label from its column header.
// Key tables (key-table.js) have cards of their own and are not passed here.
export function stackable(table) {
  if (table.tagName !== 'TABLE') throw new Error('stackable() takes a <table>');
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
  table.classList.add('stack');
  table.setAttribute('role', 'table');
  for (const g of table.querySelectorAll('thead, tbody')) g.setAttribute('role', 'rowgroup');
  for (const tr of table.querySelectorAll('tr')) {
    tr.setAttribute('role', 'row');
    [...tr.children].forEach((cell, i) => {
      if (cell.tagName === 'TH') {
        cell.setAttribute('role', 'columnheader');
      } else {
        cell.setAttribute('role', 'cell');
        if (heads[i] && !tr.classList.contains('empty')) cell.dataset.label = heads[i];
      }
    });
  }
  return table;
}
