/* users.c — see users.h. */
#include "users.h"

#include <sodium.h>
#include <string.h>

#include "../base/log.h"
#include "../base/random_token.h"
#include "../base/text.h"
#include "../base/timeutil.h"
#include "core_internal.h"
#include "password.h"

int users_name_valid(const char *name)
{
    return text_is_token(name, "._-", STORE_NAME_MAX);
}

static void check_password(const char *pw, struct field_errors *fe)
{
    size_t chars = text_codepoints(pw);
    if (chars < USERS_PASSWORD_MIN)
        field_errors_add(fe, "password", "must be at least 12 characters");
    else if (chars > USERS_PASSWORD_MAX)
        field_errors_add(fe, "password", "must be at most 128 characters");
}

static enum err store_new_user(struct core *c, const struct user_input *in,
                               struct user_record *u)
{
    memset(u, 0, sizeof *u);
    snprintf(u->username, sizeof u->username, "%s", in->username);
    snprintf(u->full_name, sizeof u->full_name, "%s", in->full_name ? in->full_name : "");
    snprintf(u->email, sizeof u->email, "%s", in->email ? in->email : "");
    snprintf(u->auth_source, sizeof u->auth_source, "local");
    snprintf(u->roles, sizeof u->roles, "%s", in->admin ? "admin" : "user");
    u->created_at = time_now();
    enum err e = password_hash(in->password, strlen(in->password), u->password_hash);
    if (e == ERR_OK)
        e = c->store->ops->user_create(c->store, u);
    sodium_memzero(u->password_hash, sizeof u->password_hash);
    return e;
}

enum err users_bootstrap(struct core *c, const char *spec, FILE *notice)
{
    int64_t count = 0;
    enum err e = c->store->ops->user_count(c->store, &count);
    if (e || count > 0)
        return e;
    char username[STORE_NAME_MAX + 1] = "admin";
    char password[USERS_PASSWORD_MAX * 4 + 1];
    int generated = 0;
    if (spec && *spec) {
        const char *colon = strchr(spec, ':');
        if (!colon || colon == spec || (size_t)(colon - spec) > STORE_NAME_MAX ||
            strlen(colon + 1) > sizeof password - 1) {
            log_error("APIKEYD_BOOTSTRAP_ADMIN must be user:password");
            return ERR_INVALID;
        }
        memcpy(username, spec, (size_t)(colon - spec));
        username[colon - spec] = '\0';
        snprintf(password, sizeof password, "%s", colon + 1);
    } else {
        random_token(password);
        password[24] = '\0';
        generated = 1;
    }
    struct user_input in = {.username = username, .password = password, .admin = 1};
    struct user_record u;
    if (!users_name_valid(username) || password[0] == '\0') {
        log_error("APIKEYD_BOOTSTRAP_ADMIN: invalid user name or empty password");
        e = ERR_INVALID;
    } else {
        e = store_new_user(c, &in, &u);
    }
    if (e == ERR_OK) {
        log_info("bootstrap: created admin user '%s'", username);
        if (generated) {
            fprintf(notice, "apikeyd: created admin user 'admin' with password: %s\n"
                            "apikeyd: this password is shown once; change it after logging in\n",
                    password);
            fflush(notice);
        }
    }
    sodium_memzero(password, sizeof password);
    return e;
}

enum err users_create(struct core *c, const struct caller *who, const struct user_input *in,
                      struct field_errors *fe, struct user_record *out)
{
    if (!who->is_admin)
        return ERR_FORBIDDEN;
    if (!users_name_valid(in->username))
        field_errors_add(fe, "username", "must be 1-64 of A-Z a-z 0-9 . _ -");
    check_password(in->password, fe);
    if (in->full_name && (text_codepoints(in->full_name) > 100 ||
                          strlen(in->full_name) > STORE_KEY_NAME_BYTES ||
                          text_has_control(in->full_name, 0)))
        field_errors_add(fe, "full_name", "must be at most 100 characters, no control characters");
    if (in->email && (strlen(in->email) > 254 || (*in->email && !strchr(in->email, '@')) ||
                      text_has_control(in->email, 0)))
        field_errors_add(fe, "email", "must be an email address");
    if (fe->count)
        return ERR_INVALID;
    return store_new_user(c, in, out);
}

enum err users_get(struct core *c, const char *username, struct user_record *out)
{
    if (!users_name_valid(username))
        return ERR_NOT_FOUND;
    enum err e = c->store->ops->user_get(c->store, username, out);
    if (e == ERR_OK)
        sodium_memzero(out->password_hash, sizeof out->password_hash);
    return e;
}

struct wiping_walk {
    store_user_cb cb;
    void *ctx;
};

static int wipe_then_call(void *ctx, const struct user_record *u)
{
    struct wiping_walk *w = ctx;
    struct user_record copy = *u;
    sodium_memzero(copy.password_hash, sizeof copy.password_hash);
    return w->cb(w->ctx, &copy);
}

enum err users_each(struct core *c, store_user_cb cb, void *ctx)
{
    struct wiping_walk w = {cb, ctx};
    return c->store->ops->user_each(c->store, wipe_then_call, &w);
}
