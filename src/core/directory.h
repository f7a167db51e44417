/* directory.h — the LDAP / Active Directory client (Debian's libldap): find a person with the
 * search account, prove their password by binding as them, read their name, email, state and
 * group memberships. Every connection is TLS (StartTLS for ldap://, or ldaps://) with the
 * server's certificate checked, and every call is bounded by ldap_timeout_seconds, so a hung
 * directory cannot hold a worker. No HTTP, no store: ldap_login.c and ldap_sync.c use it. */
#ifndef APIKEYD_DIRECTORY_H
#define APIKEYD_DIRECTORY_H

#include <stddef.h>

#include "../base/err.h"
#include "../store/store.h"
#include "ldap_settings.h"

struct directory;
struct directory_conn;

/* What the directory says about one person. */
struct directory_user {
    char dn[DIR_DN_MAX + 1];
    char full_name[STORE_KEY_NAME_BYTES + 1]; /* ldap_name_attribute, cut to fit; "" if none */
    char email[256];                          /* ldap_email_attribute; "" if none */
    int disabled; /* AD userAccountControl ACCOUNTDISABLE, or OpenLDAP ppolicy's permanent lock */
    char roles[STORE_ROLES_BYTES]; /* roles of the ldap_group_roles groups they are in */
    int has_roles; /* ldap_group_roles is set: roles is the directory's word on their roles */
    char entry[65]; /* hex SHA-256 of the entry's entryUUID (OpenLDAP) or objectGUID (AD): who
                     * the entry is, whatever its name; "" when the directory gives neither */
};

/* Opens the client for settings s (copied) and reads the search account's password file.
 * *out is NULL when directory sign-in is off (no ldap_url). ERR_INVALID (logged) when the
 * password file cannot be read. */
enum err directory_open(const struct ldap_settings *s, struct directory **out);

/* Wipes the search account's password and frees d (NULL is fine). */
void directory_close(struct directory *d);

/* How often ldap_sync.c re-checks directory users (0 = never). */
int directory_sync_seconds(const struct directory *d);

/* Checks username's password (len bytes) against the directory: finds the one entry
 * ldap_user_filter matches under ldap_user_base (the username escaped per RFC 4515), binds as
 * it, then reads its group memberships as the search account. ERR_OK fills *out.
 * ERR_LOGIN_FAILED for an empty password, an unknown or ambiguous name, a wrong password or
 * a disabled entry, with about the same work done for each. ERR_DIRECTORY_UNAVAILABLE when
 * the directory cannot be reached, TLS fails, the search account is refused or a call times
 * out (logged, without secrets). */
enum err directory_authenticate(struct directory *d, const char *username, const char *password,
                                size_t len, struct directory_user *out);

/* A connection bound as the search account, for a series of lookups (the sync).
 * ERR_DIRECTORY_UNAVAILABLE when it cannot be opened, or when ldap_user_base cannot be read
 * (so a wrong base or a lost permission never looks like "everyone is gone"). */
enum err directory_connect(struct directory *d, struct directory_conn **out);

/* Looks username up on conn: ERR_OK with *out (groups included), ERR_NOT_FOUND when no entry
 * matches, ERR_CONFLICT when several do, ERR_DIRECTORY_UNAVAILABLE on any failure (the
 * connection is then unusable). */
enum err directory_lookup(struct directory_conn *conn, const char *username,
                          struct directory_user *out);

/* Closes conn (NULL is fine). */
void directory_disconnect(struct directory_conn *conn);

/* Writes the filter for username into out (cap bytes): ldap_user_filter with each %s replaced
 * by username escaped per RFC 4515 (\2A \28 \29 \5C \00 ...). ERR_INVALID when it does not fit. */
enum err directory_filter(const char *tmpl, const char *username, char *out, size_t cap);

#endif
