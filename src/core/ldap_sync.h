/* ldap_sync.h — the directory sync: every ldap_sync_seconds one thread looks up each enabled
 * "ldap" user in the directory; one that is gone or disabled there is disabled here through
 * users_update (their keys answer DISABLED at once, their sessions end); the others get the
 * full name, email and (with ldap_group_roles) roles the directory gives them now
 * (ldap_user_refresh), so a person taken out of a group loses its roles without signing in
 * again. When the directory cannot be reached, or its user base cannot be read, the round
 * changes nothing. */
#ifndef APIKEYD_LDAP_SYNC_H
#define APIKEYD_LDAP_SYNC_H

#include "core.h"

/* Starts the thread when directory sign-in is on and ldap_sync_seconds > 0. */
enum err ldap_sync_start(struct core *c);

/* Stops and joins the thread (a round in progress ends after its current directory call). */
void ldap_sync_stop(struct core *c);

/* Runs one round now, on the calling thread. Returns how many users it disabled, or -1 when
 * the directory could not be asked (nothing changed). */
int ldap_sync_round(struct core *c);

#endif
