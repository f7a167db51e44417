// page-projects.js — #/projects "Projects": a keyboard-navigable tree of projects and
// subprojects, "+ New project", and the members (own and inherited) of the selected project.
import { api, seg } from './api.js';
import { field, fmtDate, h, uid } from './dom.js';
import { confirmDialog, dialogButtons, openDialog } from './dialog.js';
import { clearErrors, showProblem } from './errors.js';
import { loadProjects, manageableProjects, treeOrder } from './projects-data.js';

const ROLES = ['owner', 'contributor', 'reader'];

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

function membersSection(project, byId, { onDeleted }) {
  const headingId = uid('members');
  const alerts = h('div', { class: 'alerts' });
  const status = h('p', { role: 'status', class: 'status' });
  const tableBox = h('div', { class: 'table-wrap' }, h('p', { class: 'loading' }, 'Loading…'));
  const principal = field('Principal', h('input', { type: 'text', name: 'principal',
    autocomplete: 'off', spellcheck: 'false', placeholder: 'user:alice' }),
  { hint: 'user:NAME or service-account:ID' });
  const role = field('Role', h('select', { name: 'role' },
    ROLES.map((r) => h('option', { value: r, selected: r === 'reader' }, r))));
  const addBtn = h('button', { type: 'submit', class: 'btn primary' }, 'Add member');
  const formTitle = uid('add');
  const form = h('form', { class: 'form inline', novalidate: true, 'aria-labelledby': formTitle },
    principal.wrap, role.wrap, h('div', { class: 'form-actions' }, addBtn));
  const delBtn = h('button', { type: 'button', class: 'btn danger small' }, `Delete project ${project.name}`);
  const parentName = project.parent && byId.get(project.parent) ? byId.get(project.parent).name : null;
  const section = h('section', { class: 'card', 'aria-labelledby': headingId },
    h('h2', { id: headingId }, 'Members'),
    h('p', { class: 'project-meta' },
      h('strong', {}, project.name),
      parentName ? ` — subproject of ${parentName}` : ' — top-level project',
      project.created_by ? `; created by ${project.created_by}` : '',
      project.created_at ? ` on ${fmtDate(project.created_at)}` : '', '.'),
    alerts, status, tableBox,
    h('h3', { id: formTitle }, 'Add member'), form,
    h('div', { class: 'danger-zone' }, delBtn));

  async function load() {
    try {
      const { members } = await api('GET', `/v1/projects/${seg(project.id)}/members`);
      const rows = (members || []).map((m) => {
        let action = null;
        if (!m.inherited_from) {
          action = h('button', { type: 'button', class: 'btn small danger' }, `Remove ${m.principal}`);
          action.addEventListener('click', () => removeMember(m));
        }
        const from = m.inherited_from ? (byId.get(m.inherited_from)?.name || m.inherited_from) : '—';
        return h('tr', {}, h('td', { class: 'mono' }, m.principal), h('td', {}, m.role),
          h('td', {}, from), h('td', { class: 'actions' }, action));
      });
      if (!rows.length) rows.push(h('tr', { class: 'empty' }, h('td', { colspan: '4' }, 'No members.')));
      tableBox.replaceChildren(h('table', { class: 'table' },
        h('caption', {}, `Members of ${project.name}`),
        h('thead', {}, h('tr', {}, ['Principal', 'Role', 'Inherited from'].map((t) => h('th', { scope: 'col' }, t)),
          h('th', { scope: 'col', class: 'actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
        h('tbody', {}, rows)));
    } catch (err) {
      showProblem(alerts, err);
    }
  }

  async function removeMember(m) {
    clearErrors(alerts);
    try {
      await api('DELETE', `/v1/projects/${seg(project.id)}/members/${seg(m.principal)}`);
      status.textContent = `${m.principal} removed.`;
      await load();
      principal.input.focus();
    } catch (err) {
      showProblem(alerts, err);
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(alerts);
    const who = principal.input.value.trim();
    addBtn.disabled = true;
    try {
      await api('PUT', `/v1/projects/${seg(project.id)}/members/${seg(who)}`, { role: role.input.value });
      clearErrors(form);
      principal.input.value = '';
      status.textContent = `${who} is now ${role.input.value} of ${project.name}.`;
      await load();
    } catch (err) {
      showProblem(form, err, {
        principal: { input: principal.input, label: 'Principal' },
        role: { input: role.input, label: 'Role' },
      }, form.querySelector('.form-actions'));
    } finally {
      addBtn.disabled = false;
    }
  });

  delBtn.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Delete project',
      text: `Deleting the project "${project.name}" is permanent and cannot be undone. `
        + 'A project that still has subprojects or API accounts cannot be deleted.',
      returnFocus: delBtn,
      action: () => api('DELETE', `/v1/projects/${seg(project.id)}`),
    });
    if (ok) onDeleted();
  });

  load();
  return section;
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
