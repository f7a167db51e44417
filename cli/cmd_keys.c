/* cmd_keys.c — `apikey keys list|create|show|rename|rotate|delete`: the caller's own keys.
 * A secret is printed only by create and rotate, or written with --output-file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "output.h"

int cmd_keys_list(struct ctx *c, int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return usage_error("apikey keys list");
    struct reply r;
    int e = call(c, "listing keys", "GET", "/v1/keys", NULL, &r);
    if (e)
        return e;
    print_keys(c, r.body);
    reply_free(&r);
    return EXIT_OK;
}

/* Prints (or writes to file, open as fd, -1 when none) a key answer holding a new secret, then
 * wipes the secret. */
static int show_new_key(struct ctx *c, json_t *key, const char *file, int fd)
{
    const char *secret = json_string_value(json_object_get(key, "key"));
    int e = EXIT_OK;
    if (fd >= 0 && !secret) {
        discard_secret_file(fd, file);
        fprintf(stderr, "apikey: apikeyd's answer held no key\n");
        return EXIT_FAILED;
    }
    if (fd >= 0) {
        e = write_secret_file(fd, file, secret);
        json_t *copy = json_deep_copy(key);
        json_object_del(copy, "key");
        if (!e) {
            print_key(c, copy);
            fprintf(stderr, "apikey: the key is in %s (mode 0600); it is not shown again\n", file);
        }
        json_decref(copy);
    } else {
        print_key(c, key);
    }
    if (secret)
        explicit_bzero((char *)secret, strlen(secret));
    return e;
}

static const char CREATE_USAGE[] =
    "apikey keys create NAME --scope S [--scope S...] [--description D] [--expires YYYY-MM-DD]"
    " [--output-file NAME.APIKEY]";

int create_key_in(struct ctx *c, const char *collection, int argc, char **argv, int first,
                  const char *usage)
{
    const char *name = NULL, *description = NULL, *expires = NULL, *file = NULL;
    json_t *scopes = json_array();
    int bad = 0;
    for (int i = first; i < argc && !bad; i++) {
        const char *v;
        if (strcmp(argv[i], "--scope") == 0 && (v = option_value(argc, argv, &i)))
            json_array_append_new(scopes, json_string(v));
        else if (strcmp(argv[i], "--description") == 0 && (v = option_value(argc, argv, &i)))
            description = v;
        else if (strcmp(argv[i], "--expires") == 0 && (v = option_value(argc, argv, &i)))
            expires = v;
        else if (strcmp(argv[i], "--output-file") == 0 && (v = option_value(argc, argv, &i)))
            file = v;
        else if (argv[i][0] != '-' && !name)
            name = argv[i];
        else
            bad = 1;
    }
    if (bad || !name || json_array_size(scopes) == 0) {
        json_decref(scopes);
        return usage_error(usage);
    }
    int fd = -1;
    if (file && (fd = open_secret_file(file)) < 0) {
        json_decref(scopes);
        return EXIT_FAILED;
    }
    json_t *body = json_pack("{s:s, s:o}", "name", name, "scopes", scopes);
    if (description)
        json_object_set_new(body, "description", json_string(description));
    if (expires) {
        char when[64];
        expiry_text(expires, when, sizeof when);
        json_object_set_new(body, "expires_at", json_string(when));
    }
    struct reply r;
    int e = call(c, "creating the key", "POST", collection, body, &r);
    json_decref(body);
    if (e) {
        if (fd >= 0)
            discard_secret_file(fd, file);
        return e;
    }
    e = show_new_key(c, r.body, file, fd);
    reply_free(&r);
    return e;
}

int cmd_keys_create(struct ctx *c, int argc, char **argv)
{
    return create_key_in(c, "/v1/keys", argc, argv, 1, CREATE_USAGE);
}

int cmd_keys_show(struct ctx *c, int argc, char **argv)
{
    if (argc != 2)
        return usage_error("apikey keys show ID|NAME");
    char path[128];
    int e = key_path(c, "/v1/keys", argv[1], path, sizeof path);
    if (e)
        return e;
    struct reply r;
    if ((e = call(c, "reading the key", "GET", path, NULL, &r)))
        return e;
    print_key(c, r.body);
    reply_free(&r);
    return EXIT_OK;
}

int cmd_keys_rename(struct ctx *c, int argc, char **argv)
{
    if (argc != 3)
        return usage_error("apikey keys rename ID|NAME NEW-NAME");
    char path[128];
    int e = key_path(c, "/v1/keys", argv[1], path, sizeof path);
    if (e)
        return e;
    json_t *body = json_pack("{s:s}", "name", argv[2]);
    struct reply r;
    e = call(c, "renaming the key", "PATCH", path, body, &r);
    json_decref(body);
    if (e)
        return e;
    print_key(c, r.body);
    reply_free(&r);
    return EXIT_OK;
}

static const char ROTATE_USAGE[] =
    "apikey keys rotate ID|NAME [--overlap DURATION] [--output-file NAME.APIKEY]";

int cmd_keys_rotate(struct ctx *c, int argc, char **argv)
{
    static const char *const names[] = {"--overlap", "--output-file"};
    const char *values[2] = {"0", NULL}, *which;
    long overlap;
    if (parse_args(argc, argv, 1, names, values, 2, &which, ROTATE_USAGE))
        return EXIT_USAGE;
    if (!which || (overlap = parse_duration(values[0])) < 0)
        return usage_error(ROTATE_USAGE);
    int fd = -1;
    if (values[1] && (fd = open_secret_file(values[1])) < 0)
        return EXIT_FAILED;
    char path[160];
    int e = key_path(c, "/v1/keys", which, path, sizeof path);
    if (!e) {
        strncat(path, "/rotate", sizeof path - strlen(path) - 1);
        json_t *body = json_pack("{s:I}", "overlap_seconds", (json_int_t)overlap);
        struct reply r;
        e = call(c, "rotating the key", "POST", path, body, &r);
        json_decref(body);
        if (!e) {
            e = show_new_key(c, r.body, values[1], fd);
            reply_free(&r);
            return e;
        }
    }
    if (fd >= 0)
        discard_secret_file(fd, values[1]);
    return e;
}

int cmd_keys_delete(struct ctx *c, int argc, char **argv)
{
    if (argc != 2)
        return usage_error("apikey keys delete ID|NAME");
    char path[128];
    int e = key_path(c, "/v1/keys", argv[1], path, sizeof path);
    if (e)
        return e;
    struct reply r;
    if ((e = call(c, "deleting the key", "DELETE", path, NULL, &r)))
        return e;
    reply_free(&r);
    if (!c->json)
        fprintf(stderr, "Deleted key %s: it is refused from now on\n", argv[1]);
    return EXIT_OK;
}
