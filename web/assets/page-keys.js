// page-keys.js — #/keys "User API Keys": the caller's keys, "+ New API key", delete per row
// (the panel itself is own-keys.js, shared with User Settings).
import { h } from './dom.js';
import { ownKeys } from './own-keys.js';

// Kept here for the pages that import it from this module (Users, API Accounts).
export { DELETE_TEXT } from './key-dialogs.js';

const INTRO = 'Requests made to the REST API are authenticated and authorized using API Keys. '
  + 'This page is the central place to manage all your API keys for programmatic access. '
  + 'The maximum expiration date for any API key is 1 year from the creation date.';

export function render(view) {
  const keys = ownKeys({ newLabel: '+ New API key' });
  view.append(
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'User API Keys'), keys.newButton),
    h('p', { class: 'intro' }, INTRO),
    keys.alerts, keys.status, keys.table);
  keys.load();
}
