// grant-offer.js — what the signed-in person may grant and whom they may manage, computed
// the way src/core/grants.c judges it (docs/SECURITY.md): a role is offered only when the
// caller holds every authority it gives, `admin` only to a holder of `admin`; a person is
// managed only when they hold no more than the caller. The server still decides: these
// only keep the portal from offering what it would refuse.

export const ADMIN_ROLE = 'admin';

// Does `person` ({roles, groups}) hold the built-in admin role, directly or through a group?
// `groups` is the list from GET /v1/groups (roles visible to manage_users/manage_groups).
export function holdsAdmin(person, groups) {
  if ((person.roles || []).includes(ADMIN_ROLE)) return true;
  const mine = new Set(person.groups || []);
  return (groups || []).some((g) => mine.has(g.name) && (g.roles || []).includes(ADMIN_ROLE));
}

// grantOffer(me, roles, groups) → {meAdmin, canGrantRole(name), canGrantRoles(names),
// reaches(user)}. `roles` is GET /v1/roles' list.
export function grantOffer(me, roles, groups) {
  const mine = new Set(me.authorities || []);
  const meAdmin = holdsAdmin(me, groups);
  const byName = new Map((roles || []).map((r) => [r.name, r]));
  const canGrantRole = (name) => {
    const r = byName.get(name);
    if (!r) return false;
    if (r.builtin && r.name === ADMIN_ROLE) return meAdmin;
    return (r.authorities || []).every((a) => mine.has(a));
  };
  return {
    meAdmin,
    canGrantRole,
    canGrantRoles: (names) => (names || []).every(canGrantRole),
    // the caller may change, reset, disable or delete `user` (the full user object)
    reaches: (user) => (user.authorities || []).every((a) => mine.has(a))
      && (meAdmin || !holdsAdmin(user, groups)),
  };
}

const NOT_HELD = 'The server refused the change: you may grant only roles whose authorities '
  + 'you hold yourself (admin only if you hold admin), and manage only people who hold no '
  + 'more than you do.';

// The server's refusal of a grant (403 not-held) in words a person reads; returns `err`.
export function explainRefusal(err) {
  if (err && err.type === 'not-held') err.detail = NOT_HELD;
  return err;
}
