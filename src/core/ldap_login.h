/* ldap_login.h — directory sign-in through the usual login form (POST /v1/login): the
 * directory checks the password, and the person is created or updated here just in time
 * (auth_source "ldap", no password stored, roles from ldap_group_roles). auth.c calls it
 * inside its throttled, audited login, so the rules of local logins hold here too. */
#ifndef APIKEYD_LDAP_LOGIN_H
#define APIKEYD_LDAP_LOGIN_H

#include <stddef.h>

#include "core.h"

/* 1 when this login goes to the directory: directory sign-in is on and the username is no
 * local account (found is the store's answer for it: ERR_NOT_FOUND, or ERR_OK with u an
 * "ldap" user). A local, SAML or OIDC account of that name is never taken over. */
int ldap_login_applies(struct core *c, enum err found, const struct user_record *u);

/* Checks username/password (len bytes) with the directory and brings the stored user up to
 * date: created on first sign-in, full name, email and (with ldap_group_roles) roles updated
 * at each (the last-admin rule kept: roles that would leave no enabled admin stay, logged).
 * Spends the Argon2id time of a local check, so timing does not tell local names from
 * others. ERR_OK with *u the stored, enabled user. ERR_LOGIN_FAILED for a malformed name, an
 * unknown one, a wrong password, a disabled user (here or in the directory), or a name taken
 * meanwhile by another kind of account; ERR_DIRECTORY_UNAVAILABLE when the directory cannot
 * answer; store errors as they come. Creations and changes are audited with actor username. */
enum err ldap_login(struct core *c, const char *username, const char *password, size_t len,
                    const char *client, struct user_record *u);

struct directory_user;

/* Brings the stored, enabled "ldap" user u up to date with what the directory says of them
 * (du, from directory_lookup): full name, email and, with ldap_group_roles, roles — so a
 * person the directory took out of a group loses its roles without signing in again (the
 * last-admin rule kept). Writes only what differs, audited as user.update by actor from
 * client. The account is bound to the directory entry (entryUUID / objectGUID) it first
 * signed in with: ERR_LOGIN_FAILED, nothing written, when du is another entry of the same
 * name (the person deleted and someone else given the name). */
enum err ldap_user_refresh(struct core *c, const struct user_record *u,
                           const struct directory_user *du, const char *actor,
                           const char *client);

#endif
