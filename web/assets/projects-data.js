// projects-data.js — loading projects, working out which ones the caller may manage (owner,
// directly or through a parent, or holder of a site-wide authority), and naming members.
import { api, seg } from './api.js';

export async function loadProjects() {
  const { projects } = await api('GET', '/v1/projects');
  return projects || [];
}

// Projects in tree order (parents before children, siblings by name); `depth` is added.
export function treeOrder(projects) {
  const ids = new Set(projects.map((p) => p.id));
  const kids = new Map();
  for (const p of projects) {
    const parent = p.parent && ids.has(p.parent) ? p.parent : '';
    if (!kids.has(parent)) kids.set(parent, []);
    kids.get(parent).push(p);
  }
  for (const list of kids.values()) list.sort((a, b) => a.name.localeCompare(b.name));
  const out = [];
  const walk = (parent, depth) => {
    for (const p of kids.get(parent) || []) {
      out.push({ ...p, depth });
      walk(p.id, depth + 1);
    }
  };
  walk('', 0);
  return out;
}

// The projects whose owners may act there: all of them with one of `authorities`, otherwise
// those where the caller's (possibly inherited) role is owner.
export async function manageableProjects(me, projects, authorities = ['manage_projects']) {
  const auth = me.authorities || [];
  if (authorities.some((a) => auth.includes(a))) return projects;
  const principal = `user:${me.username}`;
  const checks = await Promise.all(projects.map(async (p) => {
    try {
      const { members } = await api('GET', `/v1/projects/${seg(p.id)}/members`);
      return (members || []).some((m) => m.principal === principal && m.role === 'owner');
    } catch (err) {
      if (err.sessionEnded) throw err;
      return false;
    }
  }));
  return projects.filter((_, i) => checks[i]);
}

// Names of the API accounts the caller manages, by id (empty when they cannot be listed).
export async function accountNames() {
  try {
    const { service_accounts: list } = await api('GET', '/v1/service-accounts');
    return new Map((list || []).map((a) => [a.id, a.name]));
  } catch (err) {
    if (err.sessionEnded) throw err;
    return new Map();
  }
}

// How a member is named on the page: "alice" for user:alice, "NAME (API account)" for an API
// account whose name the caller can read, the principal itself otherwise.
export function memberLabel(principal, names) {
  if (principal.startsWith('user:')) return principal.slice(5);
  if (principal.startsWith('service-account:')) {
    const name = names.get(principal.slice(16));
    return name ? `${name} (API account)` : principal;
  }
  return principal;
}

// The caller's strongest role in a project from its member list (own and inherited rows).
export function roleOf(members, principal) {
  const rank = { reader: 1, contributor: 2, owner: 3 };
  let best = null;
  for (const m of members) {
    if (m.principal === principal && (!best || rank[m.role] > rank[best])) best = m.role;
  }
  return best;
}
