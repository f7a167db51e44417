/* directory.c — see directory.h. One connection per sign-in (libldap handles are not shared
 * between threads); the sync keeps one for its round. */
#include "directory.h"

#include <ldap.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "../base/log.h"
#include "../base/random_token.h"
#include "../base/text.h"

#define BIND_PASSWORD_MAX 1024

struct directory {
    struct ldap_settings s;
    char bind_password[BIND_PASSWORD_MAX + 1];
    size_t bind_password_len;
};

struct directory_conn {
    struct directory *d;
    LDAP *ld;
};

/* AD's userAccountControl flag ACCOUNTDISABLE; OpenLDAP ppolicy's "locked by an admin". */
#define UAC_ACCOUNTDISABLE 0x2
#define PPOLICY_PERMANENT_LOCK "000001010000Z"

static enum err read_password_file(const char *path, char *out, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        log_error("ldap: cannot read ldap_bind_password_file %s", path);
        return ERR_INVALID;
    }
    size_t n = fread(out, 1, cap, f);
    int too_long = n == cap;
    fclose(f);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r')) /* the file's last line end */
        n--;
    out[n < cap ? n : cap - 1] = '\0';
    if (too_long || n == 0 || memchr(out, '\0', n)) {
        sodium_memzero(out, cap);
        log_error("ldap: ldap_bind_password_file %s must hold one password of 1-%d bytes", path,
                  BIND_PASSWORD_MAX);
        return ERR_INVALID;
    }
    *len = n;
    return ERR_OK;
}

enum err directory_open(const struct ldap_settings *s, struct directory **out)
{
    *out = NULL;
    if (!s->url[0])
        return ERR_OK;
    struct directory *d = sodium_malloc(sizeof *d);
    if (!d)
        return ERR_NOMEM;
    memset(d, 0, sizeof *d);
    d->s = *s;
    if (s->bind_dn[0]) {
        enum err e = read_password_file(s->bind_password_file, d->bind_password,
                                        sizeof d->bind_password, &d->bind_password_len);
        if (e) {
            sodium_free(d);
            return e;
        }
    }
    log_info("ldap: directory sign-in through %s (users under %s)", s->url, s->user_base);
    *out = d;
    return ERR_OK;
}

void directory_close(struct directory *d)
{
    if (d)
        sodium_free(d); /* sodium_free wipes the password with the rest */
}

int directory_sync_seconds(const struct directory *d)
{
    return d ? d->s.sync_seconds : 0;
}

enum err directory_filter(const char *tmpl, const char *username, char *out, size_t cap)
{
    struct berval in = {strlen(username), (char *)username}, esc = {0, NULL};
    if (ldap_bv2escaped_filter_value(&in, &esc) != 0 || !esc.bv_val)
        return ERR_NOMEM;
    size_t used = 0;
    enum err e = ERR_OK;
    for (const char *p = tmpl; *p && !e; p++) {
        const char *piece = p;
        size_t n = 1;
        if (p[0] == '%' && p[1] == 's') {
            piece = esc.bv_val;
            n = esc.bv_len;
            p++;
        }
        if (used + n >= cap)
            e = ERR_INVALID;
        else {
            memcpy(out + used, piece, n);
            used += n;
        }
    }
    ber_memfree(esc.bv_val);
    if (e || cap == 0)
        return ERR_INVALID;
    out[used] = '\0';
    return ERR_OK;
}

/* Logs why the directory failed (never a password) and says "unavailable". */
static enum err unavailable(struct directory *d, const char *what, int rc)
{
    log_warn("ldap: %s at %s failed: %s", what, d->s.url, ldap_err2string(rc));
    return ERR_DIRECTORY_UNAVAILABLE;
}

/* A simple bind of dn with the password (len bytes) on ld. */
static int simple_bind(LDAP *ld, const char *dn, const char *password, size_t len)
{
    struct berval cred = {len, (char *)password};
    return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
}

/* Opens a TLS connection (StartTLS for ldap://) with every call bounded, bound as the search
 * account (or anonymous when no ldap_bind_dn is set). */
static enum err open_conn(struct directory *d, LDAP **out)
{
    LDAP *ld = NULL;
    int rc = ldap_initialize(&ld, d->s.url);
    if (rc != LDAP_SUCCESS || !ld)
        return unavailable(d, "ldap_initialize", rc);
    int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;
    struct timeval tv = {d->s.timeout_seconds, 0};
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF); /* AD's referrals: never chased */
    ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv); /* connect and TLS handshake */
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);         /* each synchronous call */
    ldap_set_option(ld, LDAP_OPT_TIMELIMIT, &d->s.timeout_seconds); /* the server's search */
    ldap_set_option(ld, LDAP_OPT_DEREF, &zero);
    rc = ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
    if (rc == LDAP_SUCCESS && d->s.ca_file[0])
        rc = ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, d->s.ca_file);
    if (rc == LDAP_SUCCESS)
        rc = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
    if (rc != LDAP_SUCCESS) {
        ldap_unbind_ext_s(ld, NULL, NULL);
        return unavailable(d, "TLS set-up (ldap_ca_file)", rc);
    }
    if (strncmp(d->s.url, "ldap://", 7) == 0 && (rc = ldap_start_tls_s(ld, NULL, NULL)) != 0) {
        ldap_unbind_ext_s(ld, NULL, NULL);
        return unavailable(d, "StartTLS", rc);
    }
    if (d->s.bind_dn[0] &&
        (rc = simple_bind(ld, d->s.bind_dn, d->bind_password, d->bind_password_len)) != 0) {
        ldap_unbind_ext_s(ld, NULL, NULL);
        return unavailable(d, rc == LDAP_INVALID_CREDENTIALS
                                  ? "the search account's bind (ldap_bind_dn)"
                                  : "the search account's bind", rc);
    }
    *out = ld;
    return ERR_OK;
}

/* Copies the first value of attr in entry e into out (cap bytes), cut on a code-point
 * boundary to at most max_points code points; "" when absent, not valid UTF-8, or holding
 * control characters. */
static void first_value(LDAP *ld, LDAPMessage *e, const char *attr, char *out, size_t cap,
                        size_t max_points)
{
    out[0] = '\0';
    struct berval **v = ldap_get_values_len(ld, e, attr);
    if (v && v[0] && v[0]->bv_len > 0 && !memchr(v[0]->bv_val, '\0', v[0]->bv_len)) {
        text_cutn(out, cap, v[0]->bv_val, v[0]->bv_len); /* never half a character */
        size_t points = 0;
        for (char *p = out; *p; p++)
            if (((unsigned char)*p & 0xC0) != 0x80 && ++points > max_points) {
                *p = '\0';
                break;
            }
        if (!text_utf8_valid(out) || text_has_control(out, 0))
            out[0] = '\0';
    }
    if (v)
        ldap_value_free_len(v);
}

/* The entry's own state: AD's ACCOUNTDISABLE bit, or OpenLDAP ppolicy's permanent lock. */
static int entry_disabled(LDAP *ld, LDAPMessage *e)
{
    char uac[24], locked[32];
    first_value(ld, e, "userAccountControl", uac, sizeof uac, sizeof uac);
    first_value(ld, e, "pwdAccountLockedTime", locked, sizeof locked, sizeof locked);
    return (uac[0] && (strtoll(uac, NULL, 10) & UAC_ACCOUNTDISABLE)) ||
           strcmp(locked, PPOLICY_PERMANENT_LOCK) == 0;
}

/* The entry's own identity (entryUUID, else objectGUID, as bytes) hashed into out (hex); ""
 * when it has neither. Survives renames; a new entry of the same name has another. */
static void entry_identity(LDAP *ld, LDAPMessage *e, char out[65])
{
    out[0] = '\0';
    static const char *const attrs[] = {"entryUUID", "objectGUID"};
    for (size_t i = 0; i < sizeof attrs / sizeof *attrs && !out[0]; i++) {
        struct berval **v = ldap_get_values_len(ld, e, attrs[i]);
        if (v && v[0] && v[0]->bv_len > 0 && v[0]->bv_len <= 256) {
            uint8_t d[crypto_hash_sha256_BYTES];
            crypto_hash_sha256_state st;
            crypto_hash_sha256_init(&st);
            crypto_hash_sha256_update(&st, (const uint8_t *)attrs[i], strlen(attrs[i]) + 1);
            crypto_hash_sha256_update(&st, (const uint8_t *)v[0]->bv_val, v[0]->bv_len);
            crypto_hash_sha256_final(&st, d);
            sodium_bin2hex(out, 65, d, sizeof d);
        }
        if (v)
            ldap_value_free_len(v);
    }
}

/* Finds username's entry. ERR_OK fills u (not its roles), ERR_NOT_FOUND for none,
 * ERR_CONFLICT for more than one (refused, and never taken for "gone"),
 * ERR_DIRECTORY_UNAVAILABLE on failure. */
static enum err find_user(struct directory *d, LDAP *ld, const char *username,
                          struct directory_user *u)
{
    char filter[DIR_FILTER_MAX * 4 + 256];
    if (directory_filter(d->s.user_filter, username, filter, sizeof filter))
        return ERR_NOT_FOUND; /* cannot fit: no such name */
    char *attrs[] = {d->s.name_attribute, d->s.email_attribute, "userAccountControl",
                     "pwdAccountLockedTime", "entryUUID", "objectGUID", NULL};
    struct timeval tv = {d->s.timeout_seconds, 0};
    LDAPMessage *res = NULL;
    int rc = ldap_search_ext_s(ld, d->s.user_base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL,
                               NULL, &tv, 2, &res);
    enum err e = ERR_OK;
    int entries = res ? ldap_count_entries(ld, res) : 0;
    if (rc == LDAP_SIZELIMIT_EXCEEDED || (rc == LDAP_SUCCESS && entries > 1)) {
        log_warn("ldap: more than one entry matches ldap_user_filter for one username; refused");
        e = ERR_CONFLICT;
    } else if (rc != LDAP_SUCCESS) {
        e = unavailable(d, "the user search", rc);
    } else if (entries == 0) {
        e = ERR_NOT_FOUND;
    } else {
        LDAPMessage *entry = ldap_first_entry(ld, res);
        char *dn = entry ? ldap_get_dn(ld, entry) : NULL;
        if (!dn || strlen(dn) > DIR_DN_MAX || !*dn) {
            e = ERR_NOT_FOUND;
        } else {
            memset(u, 0, sizeof *u);
            snprintf(u->dn, sizeof u->dn, "%s", dn);
            first_value(ld, entry, d->s.name_attribute, u->full_name, sizeof u->full_name, 100);
            first_value(ld, entry, d->s.email_attribute, u->email, sizeof u->email, 254);
            u->disabled = entry_disabled(ld, entry);
            entry_identity(ld, entry, u->entry);
        }
        ldap_memfree(dn);
    }
    if (res)
        ldap_msgfree(res);
    return e;
}

/* Adds to u->roles the roles of each ldap_group_roles group whose member attribute holds
 * u->dn (an LDAP compare as the search account: works on OpenLDAP and AD alike). */
static enum err read_roles(struct directory *d, LDAP *ld, struct directory_user *u)
{
    u->roles[0] = '\0';
    u->has_roles = d->s.group_role_count > 0;
    size_t used = 0;
    for (size_t i = 0; i < d->s.group_role_count; i++) {
        const struct ldap_group_role *g = &d->s.group_roles[i];
        struct berval dn = {strlen(u->dn), u->dn};
        int rc = ldap_compare_ext_s(ld, g->dn, d->s.group_member_attribute, &dn, NULL, NULL);
        if (rc == LDAP_COMPARE_FALSE || rc == LDAP_NO_SUCH_OBJECT ||
            rc == LDAP_NO_SUCH_ATTRIBUTE)
            continue;
        if (rc != LDAP_COMPARE_TRUE)
            return unavailable(d, "a group membership compare", rc);
        /* each role once: roles of several groups are joined */
        char list[sizeof g->roles];
        snprintf(list, sizeof list, "%s", g->roles);
        char *save = NULL;
        for (char *r = strtok_r(list, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
            size_t rl = strlen(r);
            int seen = 0;
            for (const char *p = u->roles; *p && !seen;) {
                const char *end = strchr(p, ',');
                size_t pl = end ? (size_t)(end - p) : strlen(p);
                seen = pl == rl && memcmp(p, r, rl) == 0;
                p += pl + (end ? 1 : 0);
            }
            if (seen)
                continue;
            int n = snprintf(u->roles + used, sizeof u->roles - used, "%s%s", used ? "," : "", r);
            if (n < 0 || (size_t)n >= sizeof u->roles - used) {
                u->roles[used] = '\0';
                break;
            }
            used += (size_t)n;
        }
    }
    return ERR_OK;
}

enum err directory_authenticate(struct directory *d, const char *username, const char *password,
                                size_t len, struct directory_user *out)
{
    /* an empty password is an "unauthenticated bind", which many servers answer with
     * success: it never reaches the directory */
    if (len == 0 || memchr(password, '\0', len))
        return ERR_LOGIN_FAILED;
    LDAP *ld = NULL;
    enum err e = open_conn(d, &ld);
    if (e)
        return e;
    struct directory_user *u = out;
    e = find_user(d, ld, username, u);
    int rc;
    if (e == ERR_NOT_FOUND || e == ERR_CONFLICT) {
        /* the same round trip as a wrong password: a bind that cannot succeed (a DN that
         * cannot exist, a random password), so timing does not tell who exists */
        char dummy_dn[DIR_DN_MAX + 64], dummy_pw[RANDOM_TOKEN_LEN + 1];
        random_token(dummy_pw);
        snprintf(dummy_dn, sizeof dummy_dn, "cn=apikeyd-no-such-user-%.8s,%s", dummy_pw,
                 d->s.user_base);
        rc = simple_bind(ld, dummy_dn, dummy_pw, strlen(dummy_pw));
        sodium_memzero(dummy_pw, sizeof dummy_pw);
        e = rc == LDAP_SUCCESS || rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INVALID_DN_SYNTAX
                ? ERR_LOGIN_FAILED
                : unavailable(d, "a bind", rc);
    } else if (e == ERR_OK) {
        /* the DN comes from the search alone, never from what was typed */
        rc = simple_bind(ld, u->dn, password, len);
        if (rc == LDAP_INVALID_CREDENTIALS)
            e = ERR_LOGIN_FAILED;
        else if (rc != LDAP_SUCCESS)
            e = unavailable(d, "the user's bind", rc);
        else if (u->disabled)
            e = ERR_LOGIN_FAILED;
        else if (d->s.group_role_count > 0) {
            /* groups are read as the search account, not as the person */
            rc = d->s.bind_dn[0] ? simple_bind(ld, d->s.bind_dn, d->bind_password,
                                               d->bind_password_len)
                                 : simple_bind(ld, "", "", 0); /* back to anonymous */
            e = rc == LDAP_SUCCESS ? read_roles(d, ld, u)
                                   : unavailable(d, "the search account's bind", rc);
        } else {
            u->has_roles = 0;
        }
    }
    ldap_unbind_ext_s(ld, NULL, NULL);
    if (e)
        memset(out, 0, sizeof *out);
    return e;
}

enum err directory_connect(struct directory *d, struct directory_conn **out)
{
    struct directory_conn *c = calloc(1, sizeof *c);
    if (!c)
        return ERR_NOMEM;
    c->d = d;
    enum err e = open_conn(d, &c->ld);
    if (!e) { /* the base itself must be readable: else nobody can be judged missing */
        char *attrs[] = {"1.1", NULL};
        struct timeval tv = {d->s.timeout_seconds, 0};
        LDAPMessage *res = NULL;
        int rc = ldap_search_ext_s(c->ld, d->s.user_base, LDAP_SCOPE_BASE, "(objectClass=*)",
                                   attrs, 0, NULL, NULL, &tv, 1, &res);
        if (rc != LDAP_SUCCESS || !res || ldap_count_entries(c->ld, res) != 1)
            e = unavailable(d, "reading ldap_user_base",
                            rc != LDAP_SUCCESS ? rc : LDAP_NO_SUCH_OBJECT);
        if (res)
            ldap_msgfree(res);
    }
    if (e) {
        directory_disconnect(c);
        return e;
    }
    *out = c;
    return ERR_OK;
}

enum err directory_lookup(struct directory_conn *conn, const char *username,
                          struct directory_user *out)
{
    enum err e = find_user(conn->d, conn->ld, username, out);
    if (!e)
        e = read_roles(conn->d, conn->ld, out);
    return e;
}

void directory_disconnect(struct directory_conn *conn)
{
    if (!conn)
        return;
    if (conn->ld)
        ldap_unbind_ext_s(conn->ld, NULL, NULL);
    free(conn);
}
