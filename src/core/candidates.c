/* candidates.c — see candidates.h. Users come from the store's user walk (secrets wiped by
 * users_each), API accounts from the accounts the caller manages (accounts_list), so the
 * lookup shows no account the caller could not already list. */
#include "candidates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/text.h"
#include "accounts.h"
#include "projects.h"
#include "users.h"

struct candidate {
    char principal[STORE_PRINCIPAL_MAX + 1];
    char name[STORE_KEY_NAME_BYTES + 1];
    const char *kind;
};

struct found {
    const char *q;
    size_t qlen;
    struct candidate users[CANDIDATES_MAX], accounts[CANDIDATES_MAX];
    int n_users, n_accounts;
    struct candidate all[2 * CANDIDATES_MAX]; /* both, sorted */
};

static int lower(int ch)
{
    return ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch;
}

/* 1 when s starts with the n bytes of p, ASCII letters compared without case. */
static int starts_with_nocase(const char *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0' || lower((unsigned char)s[i]) != lower((unsigned char)p[i]))
            return 0;
    return 1;
}

/* 1 when s contains the n bytes of p, ASCII letters compared without case. UTF-8 is
 * self-synchronising, so a match of valid UTF-8 p always starts on a code point. */
static int contains_nocase(const char *s, const char *p, size_t n)
{
    for (; *s; s++)
        if (starts_with_nocase(s, p, n))
            return 1;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    const struct candidate *x = a, *y = b;
    int d = strcmp(x->name, y->name);
    return d ? d : strcmp(x->principal, y->principal);
}

/* Keeps c among the CANDIDATES_MAX first by name in list (of *n): the walk sees every match,
 * so the answer is the first ten by name, not the first ten the store happened to return. */
static void keep_first(struct candidate *list, int *n, const struct candidate *c)
{
    if (*n < CANDIDATES_MAX) {
        list[(*n)++] = *c;
        return;
    }
    int last = 0;
    for (int i = 1; i < *n; i++)
        if (by_name(&list[i], &list[last]) > 0)
            last = i;
    if (by_name(c, &list[last]) < 0)
        list[last] = *c;
}

static int user_one(void *ctx, const struct user_record *u)
{
    struct found *f = ctx;
    if (u->disabled)
        return 0;
    if (!starts_with_nocase(u->username, f->q, f->qlen) &&
        !contains_nocase(u->full_name, f->q, f->qlen))
        return 0;
    struct candidate c;
    snprintf(c.principal, sizeof c.principal, "user:%s", u->username);
    snprintf(c.name, sizeof c.name, "%s", u->full_name[0] ? u->full_name : u->username);
    c.kind = "user";
    keep_first(f->users, &f->n_users, &c);
    return 0;
}

static int account_one(void *ctx, const struct account_record *a)
{
    struct found *f = ctx;
    if (a->disabled || !contains_nocase(a->name, f->q, f->qlen))
        return 0;
    struct candidate c;
    snprintf(c.principal, sizeof c.principal, "service-account:%s", a->id);
    snprintf(c.name, sizeof c.name, "%s", a->name);
    c.kind = "service-account";
    keep_first(f->accounts, &f->n_accounts, &c);
    return 0;
}

/* NULL when q is a query the lookup takes, otherwise why not. */
static const char *query_problem(const char *q)
{
    if (!q)
        return "the query parameter q is required";
    if (strlen(q) > 4 * CANDIDATES_QUERY_MAX || !text_utf8_valid(q) ||
        text_codepoints(q) > CANDIDATES_QUERY_MAX)
        return "q must be at most 64 characters of UTF-8 text";
    if (text_has_control(q, 0))
        return "q must not contain control characters";
    if (text_is_blank(q) || text_codepoints(q) < CANDIDATES_QUERY_MIN)
        return "q must be at least 2 characters";
    return NULL;
}

enum err candidates_find(struct core *c, const struct caller *who, const char *project,
                         const char *q, const char **why, candidate_cb cb, void *ctx)
{
    struct project_record p;
    enum err e = projects_get(c, who, project, &p); /* ERR_NOT_FOUND unless the caller reaches it */
    if (e)
        return e;
    if (!projects_can_manage(c, who, project))
        return ERR_FORBIDDEN;
    if ((*why = query_problem(q)))
        return ERR_BAD_REQUEST;
    struct found *f = calloc(1, sizeof *f);
    if (!f)
        return ERR_NOMEM;
    f->q = q;
    f->qlen = strlen(q);
    e = users_each(c, user_one, f);
    if (!e)
        e = accounts_list(c, who, account_one, f);
    if (!e) {
        struct candidate *all = f->all;
        int n = 0;
        for (int i = 0; i < f->n_users; i++)
            all[n++] = f->users[i];
        for (int i = 0; i < f->n_accounts; i++)
            all[n++] = f->accounts[i];
        qsort(all, (size_t)n, sizeof all[0], by_name);
        for (int i = 0; i < n && i < CANDIDATES_MAX; i++)
            if (cb(ctx, all[i].principal, all[i].name, all[i].kind))
                break;
    }
    free(f);
    return e;
}
