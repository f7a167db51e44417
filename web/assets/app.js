// app.js — the portal's entry point: hash router, the signed-in shell (header with the user
// menu, sidebar nav), and the move to #/login when the session ends.
import { api, dropSession, session, setSessionEndedHandler } from './api.js';
import { h } from './dom.js';
import { problemText } from './errors.js';
import { menuButton } from './menu.js';
import * as login from './page-login.js';
import * as keys from './page-keys.js';
import * as settings from './page-settings.js';
import * as users from './page-users.js';
import * as accounts from './page-accounts.js';
import * as projects from './page-projects.js';
import * as audit from './page-audit.js';
import * as webhooks from './page-webhooks.js';

const ROUTES = {
  '#/keys': { label: 'User API Keys', page: keys },
  '#/settings': { label: 'User Settings', page: settings },
  '#/accounts': { label: 'API Accounts', page: accounts },
  '#/projects': { label: 'Projects', page: projects },
  '#/users': { label: 'Users', page: users },
  '#/audit': { label: 'Audit', page: audit },
  '#/webhooks': { label: 'Webhooks', page: webhooks },
};
// The sidebar's Admin group: each link is shown to holders of any of its authorities, the
// group to those who see one of its links. (The pages themselves also check.)
const ADMIN_LINKS = {
  '#/users': ['manage_users', 'manage_user_api_keys'],
  '#/audit': ['view_audit'],
  '#/webhooks': ['manage_webhooks'],
};

const root = document.getElementById('app');
let shell = null; // {whoami, userButton, links, adminGroup, main}
let sessionEnded = false;
let seq = 0;
let firstRender = true;

function buildShell() {
  const main = h('main', { id: 'main', tabindex: '-1', class: 'main' });
  const skip = h('a', { href: '#main', class: 'skip-link' }, 'Skip to main content');
  skip.addEventListener('click', (ev) => {
    ev.preventDefault();
    main.focus();
  });
  // The username at the top left opens the user menu (seed 000: "Click on your username").
  const userMenu = menuButton({
    text: '',
    buttonClass: 'user-button',
    align: 'left',
    items: [
      { label: 'User API Keys', action: () => go('#/keys') },
      { label: 'User Settings', action: () => go('#/settings') },
      { label: 'Log out', action: logout },
    ],
  });
  const userButton = userMenu.querySelector('button');
  const whoami = h('div', { class: 'whoami', role: 'group', 'aria-label': 'Signed in as' }, userMenu);
  const logoutBtn = h('button', { type: 'button', class: 'btn' }, 'Log out');
  logoutBtn.addEventListener('click', logout);
  const links = {};
  const link = (hash) => {
    links[hash] = h('a', { href: hash }, ROUTES[hash].label);
    return h('li', {}, links[hash]);
  };
  const adminGroup = h('div', { class: 'nav-group', hidden: true },
    h('p', { class: 'nav-heading', id: 'nav-admin' }, 'Admin'),
    h('ul', { 'aria-labelledby': 'nav-admin' }, Object.keys(ADMIN_LINKS).map(link)));
  const nav = h('nav', { 'aria-label': 'Main', class: 'sidebar' },
    h('p', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'apikeyd'),
    h('ul', {}, ['#/keys', '#/settings', '#/accounts', '#/projects'].map(link)),
    adminGroup);
  const header = h('header', { class: 'topbar' }, whoami, h('div', { class: 'spacer' }), logoutBtn);
  root.replaceChildren(skip, h('div', { class: 'shell' }, header, nav, main));
  return { whoami, userButton, links, adminGroup, main };
}

function updateShell(me, hash) {
  // The button is named by the username alone: the initial and the caret are aria-hidden.
  shell.userButton.replaceChildren(
    h('span', { class: 'avatar', 'aria-hidden': 'true' }, (me.username || '?').slice(0, 1).toUpperCase()),
    h('span', { class: 'user-name' }, me.username),
    h('span', { class: 'caret', 'aria-hidden': 'true' }, '▾'));
  const auth = me.authorities || [];
  let anyAdmin = false;
  for (const [hash, needs] of Object.entries(ADMIN_LINKS)) {
    const shown = needs.some((a) => auth.includes(a));
    shell.links[hash].parentElement.hidden = !shown;
    anyAdmin = anyAdmin || shown;
  }
  shell.adminGroup.hidden = !anyAdmin;
  for (const [k, a] of Object.entries(shell.links)) {
    if (k === hash) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

// Goes to a page from the user menu; on the current page, moves the focus to its heading.
function go(hash) {
  if (location.hash !== hash) location.hash = hash;
  else shell?.main.querySelector('h1')?.focus();
}

async function logout() {
  try {
    await api('POST', '/v1/logout');
  } catch (err) {
    if (err.sessionEnded) return; // already on its way to #/login
  }
  dropSession();
  shell = null;
  location.hash = '#/login';
}

function showLogin() {
  shell = null;
  const view = h('div', { class: 'page' });
  root.replaceChildren(view);
  const ended = sessionEnded;
  login.render(view, {
    sessionEnded: ended,
    onLoggedIn: () => {
      sessionEnded = false;
      location.hash = '#/keys';
    },
  });
  document.title = 'Log in — apikeyd';
  if (!firstRender || ended) view.querySelector('input')?.focus();
  firstRender = false;
}

async function route() {
  const my = ++seq;
  const hash = location.hash;
  if (!session()) {
    if (hash !== '#/login') location.replace('#/login');
    else showLogin();
    return;
  }
  if (!ROUTES[hash]) {
    location.replace('#/keys');
    return;
  }
  if (!shell) shell = buildShell();
  let me;
  try {
    me = await api('GET', '/v1/me');
  } catch (err) {
    if (!err.sessionEnded && my === seq) {
      shell.main.replaceChildren(h('p', { class: 'error form-error', role: 'alert' }, problemText(err)));
    }
    return;
  }
  if (my !== seq || !shell) return;
  updateShell(me, hash);
  const r = ROUTES[hash];
  const view = h('div', { class: 'page' });
  shell.main.replaceChildren(view);
  document.title = `${r.label} — apikeyd`;
  const has = (a) => (me.authorities || []).includes(a);
  r.page.render(view, { me, has });
  if (!firstRender) view.querySelector('h1')?.focus();
  firstRender = false;
}

setSessionEndedHandler(() => {
  for (const d of document.querySelectorAll('dialog[open]')) d.close();
  sessionEnded = true;
  shell = null;
  if (location.hash === '#/login') route();
  else location.hash = '#/login';
});

window.addEventListener('hashchange', route);
route();
