// user-details.js — the "User Account Details" window of Admin → Users: the account's facts;
// for holders of manage_users the account's full name, email and roles, its groups (with
// manage_groups), password reset, MFA off, disable/enable and delete, each that cannot be
// undone behind a confirmation; and the "API Keys" section (user-keys.js). Only what the
// caller may grant is offered (grant-offer.js); the server's refusals are shown in words.
import { api, seg } from './api.js';
import { field, fmtDate, h, uid } from './dom.js';
import { confirmDialog, dialogButtons, openDialog } from './dialog.js';
import { clearErrors, fieldError, showProblem } from './errors.js';
import { explainRefusal } from './grant-offer.js';
import { noKeysNote, userKeysSection } from './user-keys.js';

export const statusText = (u) => (u.disabled ? 'Disabled' : 'Active');
const list = (xs) => (xs && xs.length ? xs.join(', ') : '—');

// api() whose refusals of a grant are explained in words.
const call = (...args) => api(...args).catch((err) => { throw explainRefusal(err); });

// The status line of a section: what its last action did.
const statusLine = () => h('p', { role: 'status', class: 'status' });

// A section of the dialog with an h3 heading.
function section(title, ...children) {
  const id = uid('sec');
  return h('section', { 'aria-labelledby': id, class: 'dialog-section' },
    h('h3', { id }, title), children);
}

// A fieldset of checkboxes, one per name; returns {set, values()}.
function checkList(legend, names, checked, describe = () => '') {
  const set = h('fieldset', { class: 'field checks', id: uid('checks') }, h('legend', {}, legend),
    names.map((n) => {
      const id = uid('chk');
      const d = describe(n);
      return h('div', { class: 'check' },
        h('input', { type: 'checkbox', id, value: n, checked: checked.includes(n) }),
        h('label', { for: id }, n),
        d ? h('span', { class: 'hint' }, ` — ${d}`) : null);
    }));
  return { set, values: () => [...set.querySelectorAll('input:checked')].map((c) => c.value) };
}

// userDetailsDialog(user, ctx): `user` is the full user object, or {username} when the
// caller holds manage_user_api_keys alone. ctx: {me, has, offer, roles, groups, onChange,
// onDeleted(username), returnFocus}.
export function userDetailsDialog(user, ctx) {
  const { me, has, offer } = ctx;
  const canUsers = has('manage_users');
  const own = user.username === me.username;
  const editable = canUsers && offer.reaches(user);
  const alerts = h('div', { class: 'alerts' });
  const info = h('dl', { class: 'details' });
  const close = h('button', { type: 'button', class: 'btn' }, 'Close');
  const body = [alerts, info];
  const sync = [];
  let dlg = null;

  const report = (err, scope = alerts, fields = {}, anchor = null) => showProblem(scope, err, fields, anchor);
  async function reload() {
    Object.assign(user, await call('GET', `/v1/users/${seg(user.username)}`));
    fillInfo();
    sync.forEach((f) => f());
    ctx.onChange();
  }

  function fillInfo() {
    const rows = [['Username', user.username]];
    if (canUsers) {
      if (!editable) rows.push(['Full name', user.full_name || '—'], ['Email', user.email || '—']);
      rows.push(['Authentication', user.auth_source], ['Environment', user.environment],
        ['Roles', list(user.roles)], ['Groups', list(user.groups)],
        ['MFA', user.mfa_enabled ? 'On' : 'Off'], ['Status', statusText(user)],
        ['Created', fmtDate(user.created_at)]);
    }
    info.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  }

  // --- full name, email and roles ---
  function accountSection() {
    const fullName = field('Full name', h('input', { type: 'text', name: 'full_name', maxlength: '100' }));
    const email = field('Email', h('input', { type: 'email', name: 'email', maxlength: '254' }));
    const grantable = (ctx.roles || []).map((r) => r.name).filter(offer.canGrantRole);
    const describe = (n) => (ctx.roles.find((r) => r.name === n) || {}).description || '';
    let roles = null;
    const rolesBox = h('div', {});
    const save = h('button', { type: 'submit', class: 'btn primary' }, 'Save changes');
    const said = statusLine();
    const form = h('form', { class: 'form', novalidate: true }, fullName.wrap, email.wrap, rolesBox,
      h('div', { class: 'form-actions' }, save));
    const fields = {
      full_name: { input: fullName.input, label: 'Full name' },
      email: { input: email.input, label: 'Email' },
    };
    const fill = () => {
      fullName.input.value = user.full_name || '';
      email.input.value = user.email || '';
      if (own) {
        rolesBox.replaceChildren(h('p', { class: 'hint' },
          'You cannot change your own roles: another administrator does that.'));
        return;
      }
      roles = checkList('Roles', grantable, user.roles || [], describe);
      fields.roles = { input: roles.set, label: 'Roles' };
      const hidden = ctx.roles.length - grantable.length;
      rolesBox.replaceChildren(roles.set);
      if (hidden) rolesBox.append(h('p', { class: 'hint' }, 'Only the roles whose authorities you hold are offered.'));
    };
    fill();
    sync.push(fill);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      said.textContent = '';
      const patch = { full_name: fullName.input.value, email: email.input.value };
      if (roles) {
        const want = roles.values();
        const had = user.roles || [];
        if (want.length !== had.length || want.some((r) => !had.includes(r))) patch.roles = want;
      }
      save.disabled = true;
      try {
        Object.assign(user, await call('PATCH', `/v1/users/${seg(user.username)}`, patch));
        fillInfo();
        sync.forEach((f) => f());
        said.textContent = 'Changes saved.';
        ctx.onChange();
      } catch (err) {
        report(err, form, fields, form.querySelector('.form-actions'));
      } finally {
        save.disabled = false;
      }
    });
    return section('Account', form, said);
  }

  // --- group membership: PUT /v1/groups/{name} {members} (manage_groups) ---
  function groupsSection() {
    if (own) {
      return section('Groups', h('p', { class: 'hint' },
        'You cannot change your own groups: another administrator does that.'));
    }
    const offered = (ctx.groups || []).filter((g) => g.environment === user.environment
      && offer.canGrantRoles(g.roles)).map((g) => g.name);
    const describe = (n) => {
      const g = ctx.groups.find((x) => x.name === n);
      return g && g.roles && g.roles.length ? `roles: ${g.roles.join(', ')}` : '';
    };
    const box = h('div', {});
    const save = h('button', { type: 'submit', class: 'btn' }, 'Save groups');
    const said = statusLine();
    const form = h('form', { class: 'form', novalidate: true }, box, h('div', { class: 'form-actions' }, save));
    let groups = null;
    const fill = () => {
      groups = checkList('Member of', offered, user.groups || [], describe);
      box.replaceChildren(groups.set);
    };
    if (!offered.length) {
      const any = (ctx.groups || []).some((g) => g.environment === user.environment);
      return section('Groups', h('p', { class: 'hint' }, any
        ? `You hold the roles of none of the groups in the environment ${user.environment}, so you cannot change its groups.`
        : `There are no groups in the environment ${user.environment}.`));
    }
    fill();
    sync.push(fill);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      said.textContent = '';
      const want = new Set(groups.values());
      const had = new Set(user.groups || []);
      const changed = offered.filter((g) => want.has(g) !== had.has(g));
      save.disabled = true;
      try {
        for (const name of changed) { // each group's member list, read fresh and replaced
          const g = await call('GET', `/v1/groups/${seg(name)}`);
          const members = (g.members || []).filter((m) => m !== user.username);
          if (want.has(name)) members.push(user.username);
          await call('PUT', `/v1/groups/${seg(name)}`, { members });
        }
        said.textContent = changed.length ? 'Groups saved.' : 'No group was changed.';
      } catch (err) {
        report(err, form, {}, form.querySelector('.form-actions'));
      } finally {
        save.disabled = false;
        await reload().catch((err) => report(err));
      }
    });
    return section('Groups', form, said);
  }

  // --- password reset and MFA off ---
  function securitySection() {
    const parts = [];
    const said = statusLine();
    if (user.auth_source === 'local') {
      const pw = field('New password', h('input', { type: 'password', name: 'password',
        autocomplete: 'new-password', maxlength: '128' }),
      { hint: '12 to 128 characters; not a common password and not the username.' });
      const reset = h('button', { type: 'submit', class: 'btn danger' }, 'Reset password');
      const form = h('form', { class: 'form', novalidate: true }, pw.wrap,
        h('div', { class: 'form-actions' }, reset));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        clearErrors(form);
        said.textContent = '';
        if (!pw.input.value) {
          fieldError(pw.input, 'Enter the new password.');
          pw.input.focus();
          return;
        }
        const ok = await confirmDialog({
          title: 'Reset password',
          text: `The password of ${user.username} will be replaced and all of their sessions `
            + 'end at once. This cannot be undone.',
          confirmLabel: 'Reset password',
          returnFocus: reset,
        });
        if (!ok) return;
        reset.disabled = true;
        try {
          Object.assign(user, await call('PATCH', `/v1/users/${seg(user.username)}`, { password: pw.input.value }));
          pw.input.value = '';
          said.textContent = `The password of ${user.username} was reset.`;
        } catch (err) {
          report(err, form, { password: { input: pw.input, label: 'New password' } },
            form.querySelector('.form-actions'));
        } finally {
          reset.disabled = false;
        }
      });
      parts.push(form);
    } else {
      parts.push(h('p', { class: 'hint' },
        `${user.username} signs in through an identity provider (${user.auth_source}): there is no password to reset.`));
    }
    const mfaOff = h('button', { type: 'button', class: 'btn danger' }, 'Turn off MFA');
    const mfaBox = h('div', { class: 'form-actions' }, mfaOff);
    const fill = () => { mfaBox.hidden = !user.mfa_enabled; };
    fill();
    sync.push(fill);
    mfaOff.addEventListener('click', async () => {
      clearErrors(alerts);
      said.textContent = '';
      const ok = await confirmDialog({
        title: 'Turn off MFA',
        text: `MFA of ${user.username} will be turned off and their recovery codes deleted: `
          + 'they sign in with their password alone until they enable MFA again. This cannot be undone.',
        confirmLabel: 'Turn off MFA',
        returnFocus: mfaOff,
        action: () => call('DELETE', `/v1/users/${seg(user.username)}/mfa`),
      });
      if (!ok) return;
      said.textContent = `MFA of ${user.username} is now off.`;
      await reload().catch((err) => report(err));
      close.focus();
    });
    parts.push(mfaBox, said);
    return section('Password and MFA', parts);
  }

  // --- disable / enable, delete ---
  function statusSection() {
    const toggle = h('button', { type: 'button', class: 'btn' });
    const del = h('button', { type: 'button', class: 'btn danger' }, 'Delete user');
    const said = statusLine();
    const fill = () => { toggle.textContent = user.disabled ? 'Enable' : 'Disable'; };
    fill();
    sync.push(fill);
    const patchDisabled = async (disabled) => {
      Object.assign(user, await call('PATCH', `/v1/users/${seg(user.username)}`, { disabled }));
    };
    toggle.addEventListener('click', async () => {
      clearErrors(alerts);
      said.textContent = '';
      const disabling = !user.disabled;
      try {
        if (disabling) {
          const ok = await confirmDialog({
            title: 'Disable user',
            text: `${user.username} will be signed out at once and cannot log in, and every API `
              + 'key of theirs stops working. Their sessions cannot be restored; Enable lets them log in again.',
            confirmLabel: 'Disable',
            returnFocus: toggle,
            action: () => patchDisabled(true),
          });
          if (!ok) return;
        } else {
          toggle.disabled = true;
          await patchDisabled(false);
        }
        fillInfo();
        sync.forEach((f) => f());
        said.textContent = `${user.username} is now ${user.disabled ? 'disabled' : 'enabled'}.`;
        ctx.onChange();
      } catch (err) {
        report(err);
      } finally {
        toggle.disabled = false;
        toggle.focus();
      }
    });
    del.addEventListener('click', async () => {
      clearErrors(alerts);
      const ok = await confirmDialog({
        title: 'Delete user',
        text: `Deleting ${user.username} is permanent and cannot be undone. Their API keys stop `
          + 'working at once, and their sessions and group and project memberships are removed.',
        confirmLabel: 'Delete',
        returnFocus: del,
        action: () => call('DELETE', `/v1/users/${seg(user.username)}`),
      });
      if (!ok) return;
      dlg.close();
      ctx.onDeleted(user.username);
    });
    return section('Account status', h('div', { class: 'form-actions' }, toggle, del), said);
  }

  fillInfo();
  if (canUsers && !editable) {
    body.push(h('p', { class: 'hint' }, `You cannot change ${user.username}'s account: `
      + 'they hold authorities (or the admin role) that you do not hold.'));
  }
  if (editable) {
    body.push(accountSection());
    if (has('manage_groups')) body.push(groupsSection());
    if (own) {
      body.push(h('p', { class: 'hint' }, 'This is your own account: change your password and '
        + 'MFA in User Settings.'));
    } else {
      body.push(securitySection(), statusSection());
    }
  }
  body.push(has('manage_user_api_keys')
    ? userKeysSection({ username: user.username, own, afterFocus: () => close })
    : noKeysNote());
  body.push(dialogButtons(close));
  dlg = openDialog({ title: 'User Account Details', className: 'dialog-wide', returnFocus: ctx.returnFocus, body });
  close.addEventListener('click', () => dlg.close());
}
