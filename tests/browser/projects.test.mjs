// projects.test.mjs — Projects (docs/PORTAL.md "Projects"): a project, a subproject, members.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOwnedProject, createProjectManager, createUser, uniq } from './daemon.mjs';
import {
  dialog, eventually, expectGone, expectVisible, goTo, lbl, login, rowWith, selectByText, shot,
  suite, tableRows, TEST_TIMEOUT,
} from './portal.mjs';

const s = suite('projects');
const T = { timeout: TEST_TIMEOUT };

// A fresh user (projects are per member) on the Projects page; with manager, one holding
// manage_projects (top-level projects need it).
async function userOnProjects({ manager = false } = {}) {
  const u = manager ? await createProjectManager(s.admin) : await createUser(s.admin);
  const page = await s.newPage();
  await login(page, u.username, u.password);
  await goTo(page, 'Projects');
  return { page, u };
}

const treeItem = (page, name) => page.getByRole('tree').getByRole('treeitem', { name }).last();

async function createProjectInUI(page, name, parent) {
  await page.getByRole('button', { name: '+ New project', exact: true }).click();
  const dlg = dialog(page, 'New project');
  await expectVisible(dlg, 'dialog "New project"');
  await dlg.getByLabel(lbl('Name')).fill(name);
  const parentSel = dlg.getByLabel(lbl('Parent'));
  const options = (await parentSel.locator('option').allInnerTexts()).map((t) => t.trim());
  if (!parent) assert.ok(options.includes('None (top level)'), `"Parent" offers "None (top level)" (got ${JSON.stringify(options)})`);
  await selectByText(dlg, 'Parent', parent || 'None (top level)');
  await dlg.getByRole('button', { name: 'Create', exact: true }).click();
  await expectGone(dlg, 'dialog "New project" after Create');
}

test('"+ New project" creates a top-level project shown in the tree', T, async () => {
  const { page, u } = await userOnProjects({ manager: true });
  const name = uniq('Apollo ');
  await createProjectInUI(page, name);
  await expectVisible(treeItem(page, name), `tree item ${name}`);
  const { projects } = await (await s.daemon.api(u.username, u.password)).get('/v1/projects');
  const p = projects.find((x) => x.name === name);
  assert.ok(p, 'the project exists on the server');
  assert.equal(p.parent, null, 'top level');
  await page.context().close();
});

test('without manage_projects, "+ New project" offers only one\'s own projects as parents', T, async () => {
  const { page, u } = await userOnProjects();
  await page.getByRole('button', { name: '+ New project', exact: true }).click();
  let dlg = dialog(page, 'New project');
  await expectVisible(dlg, 'dialog "New project"');
  assert.equal(await dlg.locator('option').count(), 0, 'no parent to choose, not even "None (top level)"');
  assert.equal(await dlg.getByRole('button', { name: 'Create', exact: true }).isDisabled(), true, 'Create is disabled');
  await expectVisible(dlg.getByText(/Top-level projects are made by holders of the manage_projects authority/), 'the reason');
  await dlg.getByRole('button', { name: 'Cancel', exact: true }).click();
  const mine = uniq('Vostok ');
  await createOwnedProject(s.admin, u, mine);
  await page.reload();
  await page.getByRole('button', { name: '+ New project', exact: true }).click();
  dlg = dialog(page, 'New project');
  const options = (await dlg.getByLabel(lbl('Parent')).locator('option').allInnerTexts()).map((t) => t.trim());
  assert.deepEqual(options, [mine], 'only the owned project is offered as the parent');
  await page.context().close();
});

test('a subproject is created under its parent and shown below it in the tree', T, async () => {
  const { page, u } = await userOnProjects();
  const api = await s.daemon.api(u.username, u.password);
  const parentName = uniq('Gemini ');
  const parent = await createOwnedProject(s.admin, u, parentName);
  await page.reload();
  await expectVisible(treeItem(page, parentName), `tree item ${parentName}`);
  const childName = uniq('Capsule ');
  await createProjectInUI(page, childName, parentName);
  const child = treeItem(page, childName);
  await expectVisible(child, `tree item ${childName}`);
  const { projects } = await api.get('/v1/projects');
  const c = projects.find((x) => x.name === childName);
  assert.ok(c, 'the subproject exists on the server');
  assert.equal(c.parent, parent.id, 'its parent is the chosen project');
  // below the parent: nested in its tree item, or one aria-level deeper
  const parentItem = page.getByRole('tree').getByRole('treeitem', { name: parentName }).first();
  const nested = await parentItem.getByRole('treeitem', { name: childName }).count();
  const lvP = Number(await parentItem.getAttribute('aria-level'));
  const lvC = Number(await child.getAttribute('aria-level'));
  assert.ok(nested > 0 || (lvP && lvC === lvP + 1), `the subproject is below its parent (nested ${nested}, levels ${lvP}/${lvC})`);
  await page.context().close();
});

test('selecting a project shows its Members, and "Add member" adds one', T, async () => {
  const { page, u } = await userOnProjects();
  const api = await s.daemon.api(u.username, u.password);
  const other = await createUser(s.admin);
  const name = uniq('Mercury ');
  const project = await createOwnedProject(s.admin, u, name);
  await page.reload();
  await treeItem(page, name).click();
  await expectVisible(page.getByRole('heading', { name: 'Members', exact: true }), 'section "Members"');
  const members = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Principal' }) });
  await expectVisible(rowWith(members, `user:${u.username}`), 'the creator as a member');
  const before = await tableRows(members);
  for (const hd of ['Principal', 'Role', 'Inherited from']) {
    assert.ok(before.headers.includes(hd), `column "${hd}" (got ${JSON.stringify(before.headers)})`);
  }
  const mine = before.rows.find((r) => r.Principal === `user:${u.username}`);
  assert.ok(mine, `a row for user:${u.username} (${JSON.stringify(before.rows)})`);
  assert.match(mine.Role, /owner/i);
  await expectVisible(page.getByRole('heading', { name: 'Add member', exact: true })
    .or(page.getByRole('form', { name: 'Add member' })).first(), 'the "Add member" form');
  const principal = page.getByLabel(lbl('Principal'));
  await principal.fill(`user:${other.username}`);
  await selectByText(page, 'Role', 'reader');
  await page.getByRole('button', { name: 'Add member', exact: true }).click();
  await expectVisible(rowWith(members, `user:${other.username}`), 'the new member in the table');
  await eventually(async () => {
    const { rows } = await tableRows(members);
    const r = rows.find((x) => x.Principal === `user:${other.username}`);
    assert.ok(r, 'row of the new member');
    assert.match(r.Role, /reader/i);
  });
  await expectVisible(page.getByRole('button', { name: `Remove user:${other.username}`, exact: true }),
    `button "Remove user:${other.username}"`);
  const m = await api.get(`/v1/projects/${project.id}/members/${encodeURIComponent(`user:${other.username}`)}`);
  assert.equal(m.role, 'reader');
  await shot(page, 'projects.png');
  await page.context().close();
});
