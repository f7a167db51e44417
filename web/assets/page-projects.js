// page-projects.js — #/projects "Projects": a keyboard-navigable tree of projects and
// subprojects, "+ New project", and the selected project's section (project-members.js).
import { api } from './api.js';
import { field, h, uid } from './dom.js';
import { dialogButtons, openDialog } from './dialog.js';
import { clearErrors, showProblem } from './errors.js';
import { membersSection } from './project-members.js';
import { loadProjects, manageableProjects, treeOrder } from './projects-data.js';

async function newProjectDialog({ me, onCreated, returnFocus, parent }) {
  const parents = treeOrder(await manageableProjects(me, await loadProjects()));
  // top-level projects need manage_projects; subprojects, an owner of the parent
  const topLevel = (me.authorities || []).includes('manage_projects');
  const name = field('Name', h('input', { type: 'text', name: 'name', maxlength: '100',
    autocomplete: 'off', autofocus: true }), { required: true });
  const parentSel = field('Parent', h('select', { name: 'parent' },
    topLevel ? h('option', { value: '' }, 'None (top level)') : null,
    parents.map((p) => h('option', { value: p.id, selected: p.id === parent }, p.name))),
  { hint: topLevel ? 'A subproject can be made by the owners of its parent.'
    : 'A subproject can be made by the owners of its parent. Top-level projects are made by '
      + 'holders of the manage_projects authority.' });
  const create = h('button', { type: 'submit', class: 'btn primary', disabled: !topLevel && !parents.length },
    'Create');
  const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
  const form = h('form', { class: 'form', novalidate: true },
    name.wrap, parentSel.wrap, dialogButtons(create, cancel));
  const fields = {
    name: { input: name.input, label: 'Name' },
    parent: { input: parentSel.input, label: 'Parent' },
  };
  const dlg = openDialog({ title: 'New project', body: [form], returnFocus });
  cancel.addEventListener('click', () => dlg.close());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { name: name.input.value };
    if (parentSel.input.value) body.parent = parentSel.input.value;
    create.disabled = true;
    try {
      const p = await api('POST', '/v1/projects', body);
      dlg.close();
      onCreated(p);
    } catch (err) {
      create.disabled = false;
      showProblem(form, err, fields, form.querySelector('.dialog-actions'));
    }
  });
}

// The tree widget (WAI-ARIA tree view pattern, single selection, roving tabindex).
function projectTree(projects, { selected, collapsed, onSelect }) {
  const ordered = treeOrder(projects);
  const items = new Map();
  const tree = h('ul', { role: 'tree', 'aria-label': 'Projects', class: 'tree' });
  for (const p of ordered) {
    const labelId = uid('tl');
    const hasKids = ordered.some((q) => q.parent === p.id);
    const li = h('li', { role: 'treeitem', 'aria-labelledby': labelId, tabindex: '-1',
      'aria-selected': String(p.id === selected), 'data-id': p.id },
    h('span', { class: 'tree-row' },
      h('span', { class: 'twisty', 'aria-hidden': 'true' }),
      h('span', { id: labelId, class: 'tree-label' }, p.name)));
    if (hasKids) {
      li.setAttribute('aria-expanded', String(!collapsed.has(p.id)));
      li.append(h('ul', { role: 'group' }));
    }
    const parentItem = p.depth > 0 ? items.get(p.parent) : null;
    (parentItem ? parentItem.querySelector(':scope > ul') : tree).append(li);
    items.set(p.id, li);
  }
  const all = () => [...tree.querySelectorAll('[role="treeitem"]')];
  const visible = () => all().filter((li) => !li.parentElement.closest('[aria-expanded="false"]'));
  const focusItem = (li) => {
    if (!li) return;
    for (const x of all()) x.tabIndex = -1;
    li.tabIndex = 0;
    li.focus();
  };
  const setExpanded = (li, open) => {
    if (!li.hasAttribute('aria-expanded')) return;
    li.setAttribute('aria-expanded', String(open));
    if (open) collapsed.delete(li.dataset.id);
    else collapsed.add(li.dataset.id);
  };
  const start = items.get(selected) || all()[0];
  if (start) start.tabIndex = 0;

  tree.addEventListener('click', (ev) => {
    const li = ev.target.closest('[role="treeitem"]');
    if (!li) return;
    ev.stopPropagation();
    if (ev.target.closest('.twisty')) setExpanded(li, li.getAttribute('aria-expanded') === 'false');
    focusItem(li);
    onSelect(li.dataset.id);
  });
  tree.addEventListener('keydown', (ev) => {
    const li = ev.target.closest('[role="treeitem"]');
    if (!li) return;
    const vis = visible();
    const i = vis.indexOf(li);
    const expanded = li.getAttribute('aria-expanded');
    const parent = li.parentElement.closest('[role="treeitem"]');
    let handled = true;
    switch (ev.key) {
      case 'ArrowDown': focusItem(vis[i + 1]); break;
      case 'ArrowUp': focusItem(vis[i - 1]); break;
      case 'Home': focusItem(vis[0]); break;
      case 'End': focusItem(vis[vis.length - 1]); break;
      case 'ArrowRight':
        if (expanded === 'false') setExpanded(li, true);
        else if (expanded === 'true') focusItem(li.querySelector('[role="treeitem"]'));
        break;
      case 'ArrowLeft':
        if (expanded === 'true') setExpanded(li, false);
        else focusItem(parent);
        break;
      case 'Enter':
      case ' ':
        onSelect(li.dataset.id);
        break;
      default: handled = false;
    }
    if (handled) {
      ev.preventDefault();
      ev.stopPropagation();
    }
  });
  return tree;
}

export function render(view, { me }) {
  const newBtn = h('button', { type: 'button', class: 'btn primary' }, '+ New project');
  const alerts = h('div', { class: 'alerts' });
  const status = h('p', { role: 'status', class: 'status' });
  const treeBox = h('div', { class: 'tree-panel card' }, h('p', { class: 'loading' }, 'Loading…'));
  const detail = h('div', { class: 'detail-panel' });
  view.append(
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Projects'), newBtn),
    h('p', { class: 'intro' }, 'Projects and subprojects group access: a member’s role reaches every '
      + 'subproject below. Select a project to see and change its members.'),
    alerts, status, h('div', { class: 'split' }, treeBox, detail));
  let selected = null;
  const collapsed = new Set();
  let projects = [];

  function showDetail() {
    const p = projects.find((x) => x.id === selected);
    if (!p) {
      detail.replaceChildren(h('p', { class: 'hint' }, projects.length
        ? 'Select a project to see its members.' : ''));
      return;
    }
    const byId = new Map(projects.map((x) => [x.id, x]));
    detail.replaceChildren(membersSection(p, byId, {
      me,
      onDeleted: () => {
        status.textContent = `Project "${p.name}" deleted.`;
        selected = null;
        load().then(() => {
          const item = treeBox.querySelector('[role="treeitem"][tabindex="0"]');
          (item || newBtn).focus();
        });
      },
    }));
  }

  function select(id) {
    selected = id;
    for (const li of treeBox.querySelectorAll('[role="treeitem"]')) {
      li.setAttribute('aria-selected', String(li.dataset.id === id));
    }
    showDetail();
  }

  async function load() {
    try {
      projects = await loadProjects();
    } catch (err) {
      showProblem(alerts, err);
      return;
    }
    if (!projects.length) {
      treeBox.replaceChildren(h('p', {}, 'You have no projects yet.'));
    } else {
      treeBox.replaceChildren(projectTree(projects, { selected, collapsed, onSelect: select }));
    }
    showDetail();
  }

  newBtn.addEventListener('click', () => {
    clearErrors(alerts);
    newProjectDialog({
      me, returnFocus: newBtn, parent: selected,
      onCreated: async (p) => {
        status.textContent = `Project "${p.name}" created.`;
        if (p.parent) collapsed.delete(p.parent);
        selected = p.id;
        await load();
        treeBox.querySelector(`[data-id="${CSS.escape(p.id)}"]`)?.focus();
      },
    }).catch((err) => showProblem(alerts, err));
  });
  load();
}
