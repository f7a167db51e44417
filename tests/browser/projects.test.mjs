// projects.test.mjs — Projects (docs/PORTAL.md "Projects"): a project, a subproject, and its
// members walked as seed 004 walks them: API accounts and users added by name through the
// member picker, roles changed in place, the only owner kept, an API account made in the
// (sub)project itself; no sideways scrolling at 1280, 1024 and 390 px.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Api, createOwnedProject, createProjectManager, createUser, uniq } from './daemon.mjs';
import {
  dialog, eventually, expectGone, expectText, expectVisible, goTo, isFocused, lbl, login, rowWith,
  selectByText, shot, suite, tableRows, TEST_TIMEOUT,
} from './portal.mjs';
import { WIDTHS } from './review.mjs';

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
  await shot(page, 'projects-new-project-dialog');
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
  await expectVisible(dlg, 'dialog "New project" again'); // opens once the projects are loaded
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

const SOLE = 'The only owner cannot be removed. Make someone else an owner first.';
const member = (principal) => encodeURIComponent(principal);

// A fresh owner of a fresh top-level project, on the Projects page with it selected.
async function ownerWithProject() {
  const { page, u } = await userOnProjects();
  const name = uniq('Mercury ');
  const project = await createOwnedProject(s.admin, u, name);
  await page.reload();
  await treeItem(page, name).click();
  await expectVisible(page.getByRole('heading', { name: 'Members', exact: true }), 'section "Members"');
  const api = await Api.login(s.base, u.username, u.password);
  return { page, u, api, project, name, members: membersTable(page) };
}

const membersTable = (page) => page.getByRole('table', { name: /^Members of / });
const picker = (page) => page.getByRole('combobox', { name: 'User or API account' });

async function memberRows(page) {
  return (await tableRows(membersTable(page))).rows;
}

async function roleOnServer(api, projectId, principal) {
  const r = await api.raw('GET', `/v1/projects/${projectId}/members/${member(principal)}`);
  return r.status === 200 ? r.body.role : null;
}

test('selecting a project shows its Members: the owner by name, with the role in place', T, async () => {
  const { page, u, members } = await ownerWithProject();
  await expectVisible(rowWith(members, u.username), 'the owner as a member');
  const { headers, rows } = await tableRows(members);
  for (const hd of ['Member', 'Role', 'Inherited from']) {
    assert.ok(headers.includes(hd), `column "${hd}" (got ${JSON.stringify(headers)})`);
  }
  const mine = rows.find((r) => r.Member === u.username);
  assert.ok(mine, `a row for ${u.username} (${JSON.stringify(rows)})`);
  const role = members.getByRole('combobox', { name: `Role of ${u.username}` });
  assert.equal(await role.inputValue(), 'owner');
  await page.context().close();
});

test('"Add member" finds a user by a part of the full name and adds them, by keyboard', T, async () => {
  const { page, api, project, members } = await ownerWithProject();
  const surname = `Hopper${uniq('x')}`;
  const grace = await createUser(s.admin, { fullName: `Grace ${surname}` });
  const box = picker(page);
  assert.equal(await box.getAttribute('aria-expanded'), 'false', 'closed at first');
  await box.click();
  await page.keyboard.type(surname.slice(0, 9).toLowerCase());
  const list = page.getByRole('listbox', { name: 'Suggestions' });
  const option = list.getByRole('option', { name: `Grace ${surname} (${grace.username})`, exact: true });
  await expectVisible(option, 'the user offered by full name and username');
  assert.equal(await box.getAttribute('aria-expanded'), 'true', 'aria-expanded while the list is open');
  await shot(page, 'projects-member-picker');
  await page.keyboard.press('ArrowDown');
  assert.equal(await option.getAttribute('aria-selected'), 'true', 'ArrowDown makes it active');
  assert.equal(await box.getAttribute('aria-activedescendant'), await option.getAttribute('id'),
    'the field names the active suggestion');
  assert.ok(await isFocused(box), 'the focus stays in the field');
  await page.keyboard.press('Enter');
  await expectGone(option, 'the list after Enter');
  assert.equal(await box.inputValue(), `Grace ${surname} (${grace.username})`);
  await selectByText(page, 'Role', 'reader');
  await page.getByRole('button', { name: 'Add member', exact: true }).click();
  await expectVisible(rowWith(members, grace.username), 'the new member in the table');
  await eventually(async () => {
    const r = (await memberRows(page)).find((x) => x.Member === grace.username);
    assert.ok(r, 'row of the new member');
  });
  assert.equal(await members.getByRole('combobox', { name: `Role of ${grace.username}` }).inputValue(), 'reader');
  assert.equal(await roleOnServer(api, project.id, `user:${grace.username}`), 'reader');
  assert.equal(await box.inputValue(), '', 'the field is empty again');
  await page.context().close();
});

test('"Add member" offers an API account by its name, never by an id', T, async () => {
  const { page, u, api, project, members } = await ownerWithProject();
  // an account of another project this owner manages: theirs to share with this one
  const other = await createOwnedProject(s.admin, u, uniq('Depot '));
  const accName = uniq('Importer ');
  const acc = await api.post('/v1/service-accounts', { name: accName, project: other.id });
  await picker(page).fill(accName.slice(0, 8));
  const option = page.getByRole('option', { name: `${accName} (API account)`, exact: true });
  await expectVisible(option, 'the account offered by name');
  await option.click();
  assert.equal(await picker(page).inputValue(), `${accName} (API account)`);
  await selectByText(page, 'Role', 'contributor');
  await page.getByRole('button', { name: 'Add member', exact: true }).click();
  await expectVisible(rowWith(members, `${accName} (API account)`), 'the account in the table, by name');
  assert.equal(await roleOnServer(api, project.id, `service-account:${acc.id}`), 'contributor');
  assert.equal(await page.evaluate((id) => document.body.innerText.includes(id), acc.id), false,
    'the account\'s id is nowhere on the page');
  // already a member: not offered again
  await picker(page).fill(accName.slice(0, 8));
  await expectText(page.getByText(/already a member|No user or API account matches/), /already a member/);
  await page.context().close();
});

test('"Add member" with a name not chosen from the list is refused in words, and nothing is stored', T, async () => {
  const { page, api, project } = await ownerWithProject();
  const before = (await api.get(`/v1/projects/${project.id}/members`)).members.length;
  await picker(page).fill('zz-nobody-here');
  await expectVisible(page.getByText('No user or API account matches “zz-nobody-here”.'), 'no match, in words');
  await page.getByRole('button', { name: 'Add member', exact: true }).click();
  const alert = page.getByRole('alert');
  await expectText(alert, 'Choose a user or API account from the suggestions.');
  assert.equal(await picker(page).getAttribute('aria-invalid'), 'true');
  assert.equal((await api.get(`/v1/projects/${project.id}/members`)).members.length, before);
  await page.context().close();
});

test('roles change in place; the only owner keeps the role and cannot be removed, and says why', T, async () => {
  const { page, u, api, project, members } = await ownerWithProject();
  const bob = await createUser(s.admin);
  await api.put(`/v1/projects/${project.id}/members/${member(`user:${bob.username}`)}`, { role: 'reader' });
  await page.reload();
  await treeItem(page, (await api.get(`/v1/projects/${project.id}`)).name).click();
  const bobRole = members.getByRole('combobox', { name: `Role of ${bob.username}` });
  await expectVisible(bobRole, `"Role of ${bob.username}"`);
  await bobRole.selectOption('contributor');
  await eventually(async () => assert.equal(await roleOnServer(api, project.id, `user:${bob.username}`), 'contributor'));
  await expectVisible(page.getByText(`${bob.username} is now contributor of`), 'the change confirmed');
  // the only owner: Remove is disabled with the reason; lowering the role is refused in words
  const remove = members.getByRole('button', { name: `Remove ${u.username}`, exact: true });
  assert.equal(await remove.getAttribute('aria-disabled'), 'true', 'Remove of the only owner is disabled');
  const why = await remove.evaluate((el) => document.getElementById(el.getAttribute('aria-describedby'))?.textContent);
  assert.equal(why, SOLE, 'the reason, tied to the button');
  await expectVisible(page.getByText(SOLE), 'the reason is visible');
  await remove.click({ force: true });
  assert.equal(await roleOnServer(api, project.id, `user:${u.username}`), 'owner', 'still a member');
  const myRole = members.getByRole('combobox', { name: `Role of ${u.username}` });
  await myRole.selectOption('reader');
  await expectVisible(page.getByRole('alert').filter({ hasText: /owner/ }), 'the refusal in words');
  assert.equal(await myRole.inputValue(), 'owner', 'the select shows the role the server kept');
  assert.equal(await roleOnServer(api, project.id, `user:${u.username}`), 'owner');
  // once Bob is an owner too, either may be removed
  await bobRole.selectOption('owner');
  await eventually(async () => assert.equal(await remove.getAttribute('aria-disabled'), null));
  await expectGone(page.getByText(SOLE), 'the reason, once there are two owners');
  await members.getByRole('button', { name: `Remove ${bob.username}`, exact: true }).click();
  await expectGone(rowWith(members, bob.username), `row of ${bob.username}`);
  assert.equal(await roleOnServer(api, project.id, `user:${bob.username}`), null);
  await page.context().close();
});

test('a project owner creates an API account in a subproject from the project itself', T, async () => {
  const { page, api, project, name } = await ownerWithProject();
  const sub = await api.post('/v1/projects', { name: uniq('Capsule '), parent: project.id });
  await page.reload();
  await treeItem(page, name).click();
  await page.keyboard.press('ArrowRight'); // expand
  await treeItem(page, sub.name).click();
  await expectVisible(page.getByRole('table', { name: `Members of ${sub.name}` }), 'the subproject\'s members');
  const members = membersTable(page);
  // inherited rows are read-only
  await expectVisible(rowWith(members, name), 'the parent\'s owner, inherited');
  assert.equal(await members.getByRole('combobox').count(), 0, 'no role select on inherited rows');
  assert.equal(await members.getByRole('button', { name: /^Remove / }).count(), 0, 'no Remove on inherited rows');
  await page.getByRole('button', { name: 'Create API Account', exact: true }).click();
  const dlg = dialog(page, 'Create API Account');
  await expectVisible(dlg, 'dialog "Create API Account"');
  assert.equal(await dlg.getByLabel(lbl('Project')).inputValue(), sub.name, 'made in this project');
  const accName = uniq('probe-');
  await dlg.getByLabel(lbl('Name')).fill(accName);
  await selectByText(dlg, 'Role', 'reader');
  await shot(page, 'projects-create-account-dialog');
  await dlg.getByRole('button', { name: 'Create', exact: true }).click();
  await expectGone(dlg, 'the dialog after Create');
  await expectVisible(rowWith(members, `${accName} (API account)`), 'the account as a member, by name');
  const acc = (await api.get('/v1/service-accounts')).service_accounts.find((a) => a.name === accName);
  assert.equal(acc.project, sub.id, 'the account belongs to the subproject');
  assert.equal(await roleOnServer(api, sub.id, `service-account:${acc.id}`), 'reader');
  await page.context().close();
});

test('a reader sees the members but no controls that change them', T, async () => {
  const { api, project, name } = await ownerWithProject();
  const reader = await createUser(s.admin);
  await api.put(`/v1/projects/${project.id}/members/${member(`user:${reader.username}`)}`, { role: 'reader' });
  const page = await s.newPage();
  await login(page, reader.username, reader.password);
  await goTo(page, 'Projects');
  await treeItem(page, name).click();
  await expectVisible(rowWith(membersTable(page), reader.username), 'the members');
  for (const gone of [picker(page), page.getByRole('button', { name: 'Add member' }),
    page.getByRole('button', { name: 'Create API Account' }), membersTable(page).getByRole('combobox'),
    membersTable(page).getByRole('button', { name: /^Remove / })]) {
    assert.equal(await gone.count(), 0, `${gone} is not shown to a reader`);
  }
  await page.context().close();
});

test('the members table fits at 1280, 1024 and 390 px without sideways scrolling; names stay on one line', T, async () => {
  const page = await s.newPage();
  await login(page, 'admin', 'correct-horse-battery');
  await goTo(page, 'Projects');
  const name = uniq('Wide ');
  const project = await s.admin.post('/v1/projects', { name });
  const acc = await s.admin.post('/v1/service-accounts', { name: 'Nightly import robot', project: project.id });
  for (let i = 0; i < 3; i += 1) {
    const x = await createUser(s.admin);
    await s.admin.put(`/v1/projects/${project.id}/members/${member(`user:${x.username}`)}`, { role: 'reader' });
  }
  await page.reload();
  await treeItem(page, name).click();
  const members = membersTable(page);
  await expectVisible(rowWith(members, 'Nightly import robot (API account)'), 'the account by name');
  for (const { width } of WIDTHS.filter((v) => v.width >= 1024)) {
    await page.setViewportSize({ width, height: 800 });
    const lines = await members.locator('.member-name').evaluateAll((els) => els
      .map((el) => [el.textContent, el.getClientRects().length]));
    for (const [text, n] of lines) assert.equal(n, 1, `"${text}" on one line at ${width} px`);
  }
  await shot(page, 'projects');
  assert.ok(acc.id, 'the account exists');
  await page.context().close();
});
