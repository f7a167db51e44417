/* cmd_auth.c — `apikey login`, `apikey logout`, `apikey status`: a personal key made with the
 * person's password (and one-time code) and kept in hosts.json, or one read from stdin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "output.h"
#include "prompt.h"

static const char LOGIN_USAGE[] =
    "apikey login [--server URL] [--scopes S,S...] [--with-key]";

/* POST /v1/login with the typed password and, when apikeyd asks for it, a one-time code. */
static int sign_in(struct ctx *c, const char *username, char *password)
{
    json_t *body = json_pack("{s:s, s:s}", "username", username, "password", password);
    struct reply r;
    long status = api_call(&c->api, "POST", "/v1/login", body, &r);
    if (status == 401 && strcmp(r.problem, "otp-required") == 0) {
        reply_free(&r);
        char code[128];
        if (prompt_line("One-time code: ", 1, code, sizeof code) != 0) {
            json_decref(body);
            fprintf(stderr, "apikey: a one-time code is needed\n");
            return EXIT_FAILED;
        }
        json_object_set_new(body, "otp", json_string(code));
        explicit_bzero(code, sizeof code);
        status = api_call(&c->api, "POST", "/v1/login", body, &r);
    }
    json_decref(body);
    if (status != 200) {
        int e = say_failure("login", &r) == EXIT_DENIED || status == 401 ? EXIT_DENIED : EXIT_FAILED;
        reply_free(&r);
        return e;
    }
    const char *csrf = json_string_value(json_object_get(r.body, "csrf_token"));
    snprintf(c->api.csrf, sizeof c->api.csrf, "%s", csrf ? csrf : "");
    reply_free(&r);
    return EXIT_OK;
}

/* Creates the CLI's key under the session: "apikey CLI on HOST", numbered when taken. */
static int make_cli_key(struct ctx *c, const char *scopes, struct host *h)
{
    char hostname[128] = "this machine";
    gethostname(hostname, sizeof hostname - 1);
    json_t *scope_list = json_array();
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", scopes);
    for (char *save = NULL, *s = strtok_r(copy, ", ", &save); s; s = strtok_r(NULL, ", ", &save))
        json_array_append_new(scope_list, json_string(s));
    struct reply r;
    int e = EXIT_FAILED;
    for (int n = 1; n <= 20; n++) {
        char name[200];
        if (n == 1)
            snprintf(name, sizeof name, "apikey CLI on %s", hostname);
        else
            snprintf(name, sizeof name, "apikey CLI on %s (%d)", hostname, n);
        json_t *body = json_pack("{s:s, s:s, s:O}", "name", name, "description",
                                 "made by apikey login", "scopes", scope_list);
        long status = api_call(&c->api, "POST", "/v1/keys", body, &r);
        json_decref(body);
        if (status == 409 && strcmp(r.problem, "conflict") == 0) {
            reply_free(&r);
            continue;
        }
        if (status != 201) {
            e = say_failure("creating the CLI's key", &r);
            reply_free(&r);
            break;
        }
        const char *key = json_string_value(json_object_get(r.body, "key"));
        snprintf(h->key, sizeof h->key, "%s", key ? key : "");
        snprintf(h->key_id, sizeof h->key_id, "%s",
                 json_string_value(json_object_get(r.body, "id")));
        if (key)
            explicit_bzero((char *)key, strlen(key));
        reply_free(&r);
        e = EXIT_OK;
        break;
    }
    json_decref(scope_list);
    return e;
}

int cmd_login(struct ctx *c, int argc, char **argv)
{
    const char *scopes = "APIKey";
    int with_key = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--scopes") == 0) {
            if (!(scopes = option_value(argc, argv, &i)))
                return usage_error(LOGIN_USAGE);
        } else if (strcmp(argv[i], "--with-key") == 0) {
            with_key = 1;
        } else {
            return usage_error(LOGIN_USAGE);
        }
    }
    struct host h;
    memset(&h, 0, sizeof h);
    snprintf(h.server, sizeof h.server, "%s", c->api.server);
    if (with_key) {
        if (read_stdin_line(h.key, sizeof h.key) != 0) {
            fprintf(stderr, "apikey: --with-key reads the key from standard input\n");
            return EXIT_USAGE;
        }
        json_t *body = json_pack("{s:s}", "key", h.key);
        struct reply r;
        long status = api_call(&c->api, "POST", "/v1/verify", body, &r);
        json_decref(body);
        if (status != 200) {
            explicit_bzero(h.key, sizeof h.key);
            int e = say_failure("checking the key", &r);
            reply_free(&r);
            return e;
        }
        const char *code = json_string_value(json_object_get(r.body, "code"));
        if (!code || strcmp(code, "VALID") != 0) {
            fprintf(stderr, "apikey: the key is not valid (%s)\n", code ? code : "?");
            reply_free(&r);
            explicit_bzero(h.key, sizeof h.key);
            return EXIT_DENIED;
        }
        snprintf(h.key_id, sizeof h.key_id, "%s",
                 json_string_value(json_object_get(r.body, "key_id")));
        snprintf(h.user, sizeof h.user, "%s",
                 json_string_value(json_object_get(json_object_get(r.body, "owner"), "name")));
        reply_free(&r);
        /* a key given to us is not ours to delete at logout */
        h.key_id[0] = '\0';
    } else {
        char username[128], password[1100];
        if (prompt_line("Username: ", 1, username, sizeof username) != 0 ||
            prompt_line("Password: ", 0, password, sizeof password) != 0) {
            explicit_bzero(password, sizeof password);
            fprintf(stderr, "apikey: login asks on a terminal; without one use --with-key\n");
            return EXIT_USAGE;
        }
        int e = sign_in(c, username, password);
        explicit_bzero(password, sizeof password);
        if (e)
            return e;
        snprintf(h.user, sizeof h.user, "%s", username);
        e = make_cli_key(c, scopes, &h);
        struct reply r;
        api_call(&c->api, "POST", "/v1/logout", NULL, &r); /* the session has done its job */
        reply_free(&r);
        explicit_bzero(c->api.csrf, sizeof c->api.csrf);
        if (e)
            return e;
    }
    int rc = hosts_save(&h);
    explicit_bzero(h.key, sizeof h.key);
    if (rc)
        return EXIT_FAILED;
    char path[1024];
    hosts_path(path, sizeof path);
    fprintf(stderr, "Logged in to %s as %s; the key is kept in %s\n", h.server, h.user, path);
    return EXIT_OK;
}

int cmd_logout(struct ctx *c, int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return usage_error("apikey logout [--server URL]");
    if (!c->host.key[0]) {
        fprintf(stderr, "apikey: not logged in to %s\n", c->api.server);
        return EXIT_FAILED;
    }
    if (c->host.key_id[0]) { /* the key login made: deleted on the server too */
        char path[256];
        snprintf(path, sizeof path, "/v1/keys/%s", c->host.key_id);
        struct reply r;
        long status = api_call(&c->api, "DELETE", path, NULL, &r);
        if (status != 204 && status != 401 && status != 404) {
            int e = say_failure("deleting the CLI's key", &r);
            reply_free(&r);
            return e;
        }
        reply_free(&r);
    }
    if (hosts_forget(c->api.server))
        return EXIT_FAILED;
    fprintf(stderr, "Logged out of %s\n", c->api.server);
    return EXIT_OK;
}

int cmd_status(struct ctx *c, int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return usage_error("apikey status");
    if (!c->host.key[0]) {
        fprintf(stderr, "apikey: not logged in to %s\n", c->api.server);
        return EXIT_DENIED;
    }
    json_t *body = json_pack("{s:s}", "key", c->host.key);
    struct reply r;
    long status = api_call(&c->api, "POST", "/v1/verify", body, &r);
    json_decref(body);
    if (status != 200) {
        int e = say_failure("checking the key", &r);
        reply_free(&r);
        return e;
    }
    const char *code = json_string_value(json_object_get(r.body, "code"));
    int valid = code && strcmp(code, "VALID") == 0;
    if (c->json) {
        print_json(r.body);
    } else {
        json_t *owner = json_object_get(r.body, "owner");
        printf("server   %s\nkey      %s\nowner    %s:%s\nexpires  %s\n", c->api.server,
               code ? code : "?", json_string_value(json_object_get(owner, "type")) ?: "-",
               json_string_value(json_object_get(owner, "name")) ?: "-",
               json_string_value(json_object_get(r.body, "expires_at")) ?: "-");
    }
    reply_free(&r);
    return valid ? EXIT_OK : EXIT_DENIED;
}
