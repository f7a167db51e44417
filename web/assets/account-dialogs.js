// account-dialogs.js — the "Create API Account" and "Edit API Account" dialogs, used by the
// API Accounts page and by a project's section on the Projects page (which fixes the project).
import { api, seg } from './api.js';
import { field, h } from './dom.js';
import { dialogButtons, openDialog } from './dialog.js';
import { showProblem } from './errors.js';
import { loadProjects, manageableProjects, treeOrder } from './projects-data.js';

export const ROLES = ['owner', 'contributor', 'reader'];

// The Name and Description fields, filled from `account` when given.
function nameFields(account) {
  const name = field('Name', h('input', { type: 'text', name: 'name', maxlength: '100',
    autocomplete: 'off', autofocus: true, value: account ? account.name : '' }), { required: true });
  const desc = field('Description', h('textarea', { name: 'description', rows: '2',
    maxlength: '1000' }));
  if (account) desc.input.value = account.description || '';
  return { name, desc };
}

// createAccountDialog({me, project, onCreated, returnFocus}). Without `project` the "Project"
// select offers "Site-wide" (holders of manage_service_accounts) and the projects the caller
// manages; with `project` ({id, name}) the account is made in that project, shown read-only.
// `onCreated(account)` runs after the 201. Errors loading the projects are thrown.
export async function createAccountDialog({ me, project = null, onCreated, returnFocus }) {
  const { name, desc } = nameFields(null);
  let projectField;
  if (project) {
    projectField = field('Project', h('input', { type: 'text', name: 'project', readOnly: true,
      value: project.name }), { hint: 'The account becomes a member of this project.' });
  } else {
    const siteWide = (me.authorities || []).includes('manage_service_accounts');
    const mine = treeOrder(await manageableProjects(me, await loadProjects(),
      ['manage_projects', 'manage_service_accounts']));
    projectField = field('Project', h('select', { name: 'project' },
      siteWide ? h('option', { value: '' }, 'Site-wide') : null,
      mine.map((p) => h('option', { value: p.id }, `${'\u2003'.repeat(p.depth)}${p.name}`))),
    { hint: 'A project account becomes a member of its project and is managed by the project’s '
      + 'owners; site-wide accounts need the manage_service_accounts authority.' });
  }
  const role = field('Role', h('select', { name: 'role' },
    ROLES.map((r) => h('option', { value: r, selected: r === 'contributor' }, r))),
  { hint: 'The account’s role in the project.' });
  const projectId = () => (project ? project.id : projectField.input.value);
  const syncRole = () => { role.input.disabled = !projectId(); };
  if (!project) projectField.input.addEventListener('change', syncRole);
  syncRole();
  const create = h('button', { type: 'submit', class: 'btn primary',
    disabled: !project && !projectField.input.options.length }, 'Create');
  const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
  const form = h('form', { class: 'form', novalidate: true },
    name.wrap, desc.wrap, projectField.wrap, role.wrap, dialogButtons(create, cancel));
  if (!project && !projectField.input.options.length) {
    form.prepend(h('p', { class: 'hint' }, 'You own no project, and site-wide API accounts need '
      + 'the manage_service_accounts authority.'));
  }
  const fields = {
    name: { input: name.input, label: 'Name' },
    description: { input: desc.input, label: 'Description' },
    project: { input: projectField.input, label: 'Project' },
    role: { input: role.input, label: 'Role' },
  };
  const dlg = openDialog({ title: 'Create API Account', body: [form], returnFocus });
  cancel.addEventListener('click', () => dlg.close());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { name: name.input.value };
    if (desc.input.value.trim()) body.description = desc.input.value;
    if (projectId()) {
      body.project = projectId();
      body.role = role.input.value;
    }
    create.disabled = true;
    try {
      const a = await api('POST', '/v1/service-accounts', body);
      dlg.close();
      onCreated(a);
    } catch (err) {
      create.disabled = false;
      showProblem(form, err, fields, form.querySelector('.dialog-actions'));
    }
  });
}

// editAccountDialog({account, onSaved, returnFocus}): "Edit API Account" changes the name and
// description (PATCH); `onSaved(account)` runs with the answer.
export function editAccountDialog({ account, onSaved, returnFocus }) {
  const { name, desc } = nameFields(account);
  const save = h('button', { type: 'submit', class: 'btn primary' }, 'Save');
  const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
  const form = h('form', { class: 'form', novalidate: true },
    name.wrap, desc.wrap, dialogButtons(save, cancel));
  const fields = {
    name: { input: name.input, label: 'Name' },
    description: { input: desc.input, label: 'Description' },
  };
  const dlg = openDialog({ title: 'Edit API Account', body: [form], returnFocus });
  cancel.addEventListener('click', () => dlg.close());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    save.disabled = true;
    try {
      const a = await api('PATCH', `/v1/service-accounts/${seg(account.id)}`,
        { name: name.input.value, description: desc.input.value });
      dlg.close();
      onSaved(a);
    } catch (err) {
      save.disabled = false;
      showProblem(form, err, fields, form.querySelector('.dialog-actions'));
    }
  });
}
