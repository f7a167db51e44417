// project-members.js — the selected project's section on the Projects page: its members (own
// and inherited) with each direct member's role changed in place, "Add member" with the
// member picker, "Create API Account" in this project, and deleting the project. Controls
// that change something are shown only to those who manage the project's members (owner, also
// through a parent, or manage_projects); the server decides in any case.
import { api, seg } from './api.js';
import { fmtDate, h, uid } from './dom.js';
import { confirmDialog } from './dialog.js';
import { clearErrors, fieldError, problemText, showProblem } from './errors.js';
import { createAccountDialog, ROLES } from './account-dialogs.js';
import { memberPicker } from './member-picker.js';
import { stackable } from './table-stack.js';
import { accountNames, memberLabel, roleOf } from './projects-data.js';

export const SOLE_OWNER_TEXT = 'The only owner cannot be removed. Make someone else an owner first.';

// membersSection(project, byId, {me, onDeleted}) → <section> "Members".
export function membersSection(project, byId, { me, onDeleted }) {
  const headingId = uid('members');
  const soleId = uid('sole');
  const alerts = h('div', { class: 'alerts' });
  const status = h('p', { role: 'status', class: 'status' });
  const tableBox = h('div', { class: 'table-wrap' }, h('p', { class: 'loading' }, 'Loading…'));
  const manageBox = h('div', { class: 'manage' });
  const parentName = project.parent && byId.get(project.parent) ? byId.get(project.parent).name : null;
  const section = h('section', { class: 'card members', 'aria-labelledby': headingId },
    h('h2', { id: headingId, tabindex: '-1' }, 'Members'),
    h('p', { class: 'project-meta' },
      h('strong', {}, project.name),
      parentName ? ` — subproject of ${parentName}` : ' — top-level project',
      project.created_by ? `; created by ${project.created_by}` : '',
      project.created_at ? ` on ${fmtDate(project.created_at)}` : '', '.'),
    alerts, status, tableBox, manageBox);
  let members = [];
  let names = new Map();
  let built = false;

  const path = (principal) => `/v1/projects/${seg(project.id)}/members/${seg(principal)}`;
  const label = (principal) => memberLabel(principal, names);
  // the name, and "(API account)" apart so that it may move to the next line as a whole
  const nameCell = (principal) => {
    const text = label(principal);
    const kind = text.endsWith(' (API account)') ? ' (API account)' : '';
    return [h('span', { class: 'member-name' }, text.slice(0, text.length - kind.length)),
      kind ? [' ', h('span', { class: 'member-kind' }, kind.trim())] : null];
  };
  const direct = () => members.filter((m) => !m.inherited_from);

  function roleControl(m, canManage) {
    if (m.inherited_from || !canManage) return m.role;
    const sel = h('select', { 'aria-label': `Role of ${label(m.principal)}`, class: 'role-select' },
      ROLES.map((r) => h('option', { value: r, selected: r === m.role }, r)));
    sel.addEventListener('change', async () => {
      clearErrors(section);
      sel.disabled = true;
      try {
        await api('PUT', path(m.principal), { role: sel.value });
        status.textContent = `${label(m.principal)} is now ${sel.value} of ${project.name}.`;
        await load(`[aria-label="${CSS.escape(sel.getAttribute('aria-label'))}"]`);
      } catch (err) {
        sel.disabled = false;
        sel.value = m.role; // the role the server still has
        if (!err.sessionEnded) fieldError(sel, problemText(err));
        sel.focus();
      }
    });
    return sel;
  }

  function removeControl(m, soleOwner) {
    const btn = h('button', { type: 'button', class: 'btn small danger',
      'aria-label': `Remove ${label(m.principal)}` }, 'Remove');
    if (soleOwner) {
      btn.setAttribute('aria-disabled', 'true');
      btn.setAttribute('aria-describedby', soleId);
    }
    btn.addEventListener('click', () => {
      if (soleOwner) return;
      removeMember(m);
    });
    return btn;
  }

  function table(canManage) {
    // a top-level project keeps one direct owner (the server refuses the rest with 409)
    const owners = direct().filter((m) => m.role === 'owner');
    const sole = !project.parent && owners.length === 1 ? owners[0].principal : null;
    const cell = (name, ...content) => h('td', { 'data-label': name }, content);
    const rows = members.map((m) => {
      const from = m.inherited_from ? (byId.get(m.inherited_from)?.name || m.inherited_from) : '—';
      return h('tr', {},
        cell('Member', nameCell(m.principal)),
        cell('Role', roleControl(m, canManage)),
        cell('Inherited from', from),
        h('td', { class: 'actions' },
          !m.inherited_from && canManage ? removeControl(m, m.principal === sole) : null));
    });
    if (!rows.length) rows.push(h('tr', { class: 'empty' }, h('td', { colspan: '4' }, 'No members.')));
    return [
      stackable(h('table', { class: 'table members-table' },
        h('caption', {}, `Members of ${project.name}`),
        h('thead', {}, h('tr', {},
          ['Member', 'Role', 'Inherited from'].map((t) => h('th', { scope: 'col' }, t)),
          h('th', { scope: 'col', class: 'actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
        h('tbody', {}, rows))),
      sole && canManage ? h('p', { class: 'hint', id: soleId }, SOLE_OWNER_TEXT) : null,
    ];
  }

  // "Add member", "Create API Account" and "Delete project": built once, for managers.
  function manageControls() {
    const picker = memberPicker({
      projectId: project.id,
      exclude: () => new Set(direct().map((m) => m.principal)),
    });
    const role = h('select', { name: 'role', id: uid('f') });
    role.append(...ROLES.map((r) => h('option', { value: r, selected: r === 'contributor' }, r)));
    const roleField = h('div', { class: 'field role-field' }, h('label', { for: role.id }, 'Role'), role);
    const addBtn = h('button', { type: 'submit', class: 'btn primary' }, 'Add member');
    const formTitle = uid('add');
    const form = h('form', { class: 'form inline add-member', novalidate: true,
      'aria-labelledby': formTitle },
    picker.wrap, roleField, h('div', { class: 'form-actions' }, addBtn));
    const accountBtn = h('button', { type: 'button', class: 'btn' }, 'Create API Account');
    const delBtn = h('button', { type: 'button', class: 'btn danger small' },
      `Delete project ${project.name}`);
    manageBox.replaceChildren(
      h('h3', { id: formTitle }, 'Add member'), form,
      h('h3', {}, 'API accounts of this project'),
      h('p', { class: 'hint' }, 'An API account made here is a member of this project with the '
        + 'role you choose, and is managed by the project’s owners.'),
      h('div', { class: 'form-actions' }, accountBtn),
      h('div', { class: 'danger-zone' }, delBtn));

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(section);
      const who = picker.principal();
      if (!who) {
        fieldError(picker.input, picker.input.value.trim()
          ? 'Choose a user or API account from the suggestions.'
          : 'Type a name, then choose a user or API account from the suggestions.');
        picker.input.focus();
        return;
      }
      const shown = picker.chosenText();
      addBtn.disabled = true;
      try {
        await api('PUT', path(who), { role: role.value });
        picker.clear();
        status.textContent = `${shown} is now ${role.value} of ${project.name}.`;
        await load();
      } catch (err) {
        showProblem(form, err, {
          principal: { input: picker.input, label: 'User or API account' },
          role: { input: role, label: 'Role' },
        }, form.querySelector('.form-actions'));
      } finally {
        addBtn.disabled = false;
      }
    });

    accountBtn.addEventListener('click', () => {
      clearErrors(section);
      createAccountDialog({
        me, project, returnFocus: accountBtn,
        onCreated: async (a) => {
          status.textContent = `API account "${a.name}" created in ${project.name}.`;
          await load();
        },
      }).catch((err) => showProblem(alerts, err));
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
  }

  async function removeMember(m) {
    clearErrors(section);
    const shown = label(m.principal);
    try {
      await api('DELETE', path(m.principal));
      status.textContent = `${shown} removed from ${project.name}.`;
      await load();
      (section.querySelector('.add-member input') || section.querySelector('h2')).focus();
    } catch (err) {
      showProblem(alerts, err);
    }
  }

  // Loads members (and account names) and redraws; `focusSel` names a control to refocus.
  async function load(focusSel) {
    try {
      const [{ members: list }, n] = await Promise.all([
        api('GET', `/v1/projects/${seg(project.id)}/members`), accountNames()]);
      members = list || [];
      names = n;
    } catch (err) {
      showProblem(alerts, err);
      return;
    }
    const canManage = (me.authorities || []).includes('manage_projects')
      || roleOf(members, `user:${me.username}`) === 'owner';
    tableBox.replaceChildren(...table(canManage).filter(Boolean));
    if (canManage && !built) manageControls();
    else if (!canManage && built) manageBox.replaceChildren(); // e.g. one's own role lowered
    built = canManage;
    if (focusSel) tableBox.querySelector(focusSel)?.focus();
  }

  load();
  return section;
}
