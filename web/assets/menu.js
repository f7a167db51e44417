// menu.js — a button that opens a small action menu (role="menu"), per the ARIA menu button
// pattern: Enter/Space/ArrowDown open it, arrows move, Escape closes, focus returns.
import { h, uid } from './dom.js';

// menuButton({text, label, items: [{label, action, danger}], buttonClass, align}) → wrapper.
// `label` becomes the button's aria-label (for a symbol such as '⋮'); without it the button is
// named by its text, and so is the menu. `buttonClass` (default 'btn icon') styles the button;
// `align: 'left'` opens the menu under the button's left edge (default: its right edge).
export function menuButton({ text, label, items, buttonClass = 'btn icon', align = 'right' }) {
  const menuId = uid('menu');
  const buttonId = uid('menu-btn');
  const button = h('button', {
    type: 'button', class: buttonClass, id: buttonId, 'aria-label': label || null,
    'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-controls': menuId,
  }, text);
  const entries = items.map((it) => h('button', {
    type: 'button', role: 'menuitem', tabindex: '-1', class: it.danger ? 'danger' : '',
  }, it.label));
  const menu = h('div', {
    role: 'menu', id: menuId, class: align === 'left' ? 'menu menu-left' : 'menu',
    'aria-label': label || null, 'aria-labelledby': label ? null : buttonId, hidden: true,
  }, entries);
  const wrap = h('div', { class: 'menu-wrap' }, button, menu);

  const outside = (ev) => { if (!wrap.contains(ev.target)) close(false); };
  function open(focusLast = false) {
    menu.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    (focusLast ? entries[entries.length - 1] : entries[0]).focus();
    document.addEventListener('pointerdown', outside, true);
  }
  function close(refocus = true) {
    if (menu.hidden) return;
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
    if (refocus) button.focus();
  }

  button.addEventListener('click', () => (menu.hidden ? open() : close()));
  button.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      open(ev.key === 'ArrowUp');
    }
  });
  menu.addEventListener('keydown', (ev) => {
    const i = entries.indexOf(document.activeElement);
    const move = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: entries.length - 1 }[ev.key];
    if (move !== undefined) {
      ev.preventDefault();
      entries[(move + entries.length) % entries.length].focus();
    } else if (ev.key === 'Escape') {
      ev.preventDefault();
      ev.stopPropagation();
      close();
    } else if (ev.key === 'Tab') {
      close(false);
    }
  });
  entries.forEach((el, i) => el.addEventListener('click', () => {
    close();
    items[i].action(button);
  }));
  return wrap;
}
