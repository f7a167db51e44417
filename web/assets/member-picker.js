// member-picker.js — "User or API account": a combobox (WAI-ARIA combobox pattern with a list
// box popup) that looks people and API accounts up by name through
// GET /v1/projects/{id}/candidates?q= as one types, for a project's "Add member" form.
// Keyboard: ArrowDown/ArrowUp move through the suggestions, Enter chooses, Escape closes the
// list (a second Escape clears the field), Tab leaves. The focus stays in the field
// (aria-activedescendant names the active suggestion).
import { api, seg } from './api.js';
import { field, h, uid } from './dom.js';
import { clearErrors, fieldError, problemText } from './errors.js';

const MIN = 2; // as the server: 2 to 64 characters
const MAX = 64;
const DELAY = 150; // ms after the last key before asking

// The words a suggestion is shown with (also its accessible name).
export function candidateText(c) {
  if (c.kind === 'service-account') return `${c.name} (API account)`;
  const username = c.principal.slice(5);
  return c.name && c.name !== username ? `${c.name} (${username})` : username;
}

// memberPicker({projectId, exclude}) → {wrap, input, principal(), clear()}. `exclude()` gives
// the principals not to offer (the project's direct members). principal() is the chosen
// suggestion's principal, or a typed `user:NAME` / `service-account:ID`, or null.
export function memberPicker({ projectId, exclude = () => new Set() }) {
  const listId = uid('suggest');
  const input = h('input', {
    type: 'text', name: 'principal', role: 'combobox', autocomplete: 'off', spellcheck: 'false',
    maxlength: String(MAX), 'aria-autocomplete': 'list', 'aria-expanded': 'false',
    'aria-controls': listId,
  });
  const f = field('User or API account', input, {
    hint: 'Type at least 2 letters of a name or username, then choose from the list.',
  });
  const list = h('ul', { role: 'listbox', id: listId, class: 'suggestions', hidden: true,
    'aria-label': 'Suggestions' });
  const note = h('p', { class: 'hint suggest-status', role: 'status' });
  // the list box hangs right below the field, over what follows
  const anchor = h('div', { class: 'combo' });
  input.replaceWith(anchor);
  anchor.append(input, list);
  f.wrap.append(note);

  let options = []; // [{el, c}]
  let active = -1;
  let chosen = null;
  let timer = null;
  let seq = 0;

  function setActive(i) {
    active = i;
    options.forEach((o, j) => o.el.setAttribute('aria-selected', String(j === i)));
    if (i >= 0) {
      input.setAttribute('aria-activedescendant', options[i].el.id);
      options[i].el.scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function close() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    setActive(-1);
  }

  function open() {
    if (!options.length) return;
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  }

  function choose(i) {
    chosen = options[i].c;
    input.value = candidateText(chosen);
    note.textContent = '';
    close();
  }

  function show(candidates, q) {
    const skip = exclude();
    const offered = candidates.filter((c) => !skip.has(c.principal));
    options = offered.map((c) => {
      const el = h('li', { role: 'option', id: uid('opt'), 'aria-selected': 'false',
        class: `kind-${c.kind}` }, candidateText(c));
      return { el, c };
    });
    list.replaceChildren(...options.map((o) => o.el));
    options.forEach((o, i) => {
      o.el.addEventListener('mousedown', (ev) => ev.preventDefault()); // keep the focus
      o.el.addEventListener('click', () => choose(i));
    });
    setActive(-1);
    if (options.length) {
      note.textContent = `${options.length} suggestion${options.length === 1 ? '' : 's'}.`;
      open();
    } else {
      note.textContent = candidates.length
        ? `Everyone matching “${q}” is already a member.`
        : `No user or API account matches “${q}”.`;
      close();
    }
  }

  async function lookup(q) {
    const my = ++seq;
    try {
      const { candidates } = await api('GET',
        `/v1/projects/${seg(projectId)}/candidates?q=${encodeURIComponent(q)}`);
      if (my !== seq || input.value.trim() !== q) return; // an older answer
      clearErrors(f.wrap);
      show(candidates || [], q);
    } catch (err) {
      if (my !== seq || err.sessionEnded) return;
      close();
      note.textContent = '';
      fieldError(input, problemText(err));
    }
  }

  input.addEventListener('input', () => {
    chosen = null;
    clearTimeout(timer);
    clearErrors(f.wrap);
    const q = input.value.trim();
    if (q.length < MIN || /^(user|service-account):/.test(q)) {
      seq += 1; // drop answers still on their way
      options = [];
      list.replaceChildren();
      note.textContent = '';
      close();
      return;
    }
    timer = setTimeout(() => lookup(q), DELAY);
  });

  input.addEventListener('keydown', (ev) => {
    const n = options.length;
    switch (ev.key) {
      case 'ArrowDown':
      case 'ArrowUp':
        if (!n) return;
        ev.preventDefault();
        {
          const step = ev.key === 'ArrowDown' ? 1 : -1;
          const start = step > 0 ? 0 : n - 1;
          open();
          setActive(active < 0 ? start : (active + step + n) % n);
        }
        break;
      case 'Enter':
        if (!list.hidden && active >= 0) {
          ev.preventDefault(); // choose, do not submit yet
          choose(active);
        }
        break;
      case 'Escape':
        ev.preventDefault();
        if (!list.hidden) {
          close();
        } else {
          input.value = '';
          chosen = null;
          note.textContent = '';
        }
        break;
      case 'Tab':
        close();
        break;
      default:
    }
  });
  input.addEventListener('blur', () => close());

  return {
    wrap: f.wrap,
    input,
    principal: () => {
      if (chosen && input.value === candidateText(chosen)) return chosen.principal;
      const typed = input.value.trim();
      return /^(user|service-account):\S+$/.test(typed) ? typed : null;
    },
    chosenText: () => (chosen ? candidateText(chosen) : input.value.trim()),
    clear: () => {
      input.value = '';
      chosen = null;
      options = [];
      list.replaceChildren();
      note.textContent = '';
      close();
    },
  };
}
