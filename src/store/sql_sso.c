/* sql_sso.c — the single sign-on tables: used nonces, SAML request and assertion ids (replay
 * refusal on every node) and the
 * provider subject each SSO user is bound to (store.h, sso_*). */
#include <stdio.h>
#include <string.h>

#include "sql_internal.h"

static enum err sq_sso_nonce_claim(struct store *s, const uint8_t hash[STORE_HASH_LEN],
                                   int64_t expires_at, int64_t now)
{
    struct sql_store *st = as_sql(s);
    sq_write_begin(st);
    enum err e = sq_begin(st);
    if (!e) {
        e = sq_run(st, NULL, "DELETE FROM sso_nonces WHERE expires_at < ?", "i", now);
        int64_t rows = 0;
        if (!e && !(e = sq_int(st, &rows, "SELECT COUNT(*) FROM sso_nonces", "")) &&
            rows >= STORE_SSO_NONCES_MAX)
            e = ERR_LIMIT; /* bounded: SAML start records a row for anyone who asks */
        if (!e) /* a primary-key conflict is ERR_CONFLICT: the nonce was used before */
            e = sq_run(st, NULL, "INSERT INTO sso_nonces(nonce_hash, expires_at) VALUES (?, ?)",
                       "bi", hash, STORE_HASH_LEN, expires_at);
        e = sq_finish(st, e);
    }
    sq_write_end(st);
    return e;
}

static enum err sq_sso_nonce_take(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now)
{
    struct sql_store *st = as_sql(s);
    int changes = 0;
    sq_write_begin(st);
    enum err e = sq_run(st, &changes, "DELETE FROM sso_nonces WHERE nonce_hash = ? AND expires_at >= ?",
                        "bi", hash, STORE_HASH_LEN, now);
    sq_write_end(st);
    return !e && changes == 0 ? ERR_NOT_FOUND : e;
}

struct subject_row {
    char *subject;
    int64_t *created;
    int found;
};

static int subject_row(void *ctx, struct sq_row *row)
{
    struct subject_row *r = ctx;
    sq_text(row, 0, r->subject, 65);
    *r->created = sq_col_int64(row, 1);
    r->found = 1;
    return 1;
}

static enum err sq_sso_subject_get(struct store *s, const char *username, char subject[65],
                                   int64_t *user_created_at)
{
    struct sql_store *st = as_sql(s);
    struct subject_row r = {subject, user_created_at, 0};
    sq_read_begin(st);
    enum err e = sq_each(st, subject_row, &r,
                         "SELECT subject, user_created_at FROM sso_subjects WHERE username = ?",
                         "t", username);
    sq_read_end(st);
    return !e && !r.found ? ERR_NOT_FOUND : e;
}

static enum err sq_sso_subject_set(struct store *s, const char *username, const char *subject,
                                   int64_t user_created_at)
{
    struct sql_store *st = as_sql(s);
    sq_write_begin(st);
    enum err e = sq_run(st, NULL,
                        "INSERT INTO sso_subjects(username, subject, user_created_at)"
                        " VALUES (?, ?, ?) ON CONFLICT (username) DO UPDATE"
                        " SET subject = excluded.subject,"
                        " user_created_at = excluded.user_created_at",
                        "tti", username, subject, user_created_at);
    sq_write_end(st);
    return e;
}

void sql_sso_ops(struct store_ops *ops)
{
    ops->sso_nonce_claim = sq_sso_nonce_claim;
    ops->sso_nonce_take = sq_sso_nonce_take;
    ops->sso_subject_get = sq_sso_subject_get;
    ops->sso_subject_set = sq_sso_subject_set;
}
