/* cmd_util.c — see cmd.h: what the commands share. */
#include "cmd.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output.h"

int usage_error(const char *usage)
{
    fprintf(stderr, "usage: %s\n", usage);
    return EXIT_USAGE;
}

int call(struct ctx *c, const char *what, const char *method, const char *path, json_t *body,
         struct reply *r)
{
    if (!c->api.token[0] && !c->api.csrf[0]) {
        fprintf(stderr, "apikey: not signed in to %s: run `apikey login` (or set APIKEY_TOKEN)\n",
                c->api.server);
        memset(r, 0, sizeof *r);
        return EXIT_DENIED;
    }
    long status = api_call(&c->api, method, path, body, r);
    if (status >= 200 && status < 300)
        return EXIT_OK;
    int code = say_failure(what, r);
    reply_free(r);
    return code;
}

const char *option_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "apikey: %s needs a value\n", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

static int looks_like_id(const char *s)
{
    size_t n = strlen(s);
    if (n != 24)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return 0;
    return 1;
}

int key_path(struct ctx *c, const char *prefix, const char *id_or_name, char *path_out,
             size_t cap)
{
    char id[64];
    int e = resolve_key(c, prefix, id_or_name, id, sizeof id);
    if (!e)
        snprintf(path_out, cap, "%s/%s", prefix, id);
    return e;
}

int parse_args(int argc, char **argv, int first, const char *const *names, const char **values,
               size_t count, const char **positional, const char *usage)
{
    *positional = NULL;
    for (int i = first; i < argc; i++) {
        size_t n = 0;
        while (n < count && strcmp(argv[i], names[n]) != 0)
            n++;
        if (n < count) {
            if (!(values[n] = option_value(argc, argv, &i)))
                return usage_error(usage);
        } else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) && !*positional) {
            *positional = argv[i];
        } else {
            return usage_error(usage);
        }
    }
    return EXIT_OK;
}

int resolve_key(struct ctx *c, const char *prefix, const char *id_or_name, char *id, size_t cap)
{
    struct reply r;
    char path[1024];
    if (looks_like_id(id_or_name)) {
        snprintf(path, sizeof path, "%s/%s", prefix, id_or_name);
        if (api_call(&c->api, "GET", path, NULL, &r) == 200) {
            reply_free(&r);
            snprintf(id, cap, "%s", id_or_name);
            return EXIT_OK;
        }
        reply_free(&r);
    }
    int e = call(c, "listing keys", "GET", prefix, NULL, &r);
    if (e)
        return e;
    size_t i;
    json_t *k;
    int found = 0;
    json_array_foreach(json_object_get(r.body, "keys"), i, k) {
        const char *name = json_string_value(json_object_get(k, "name"));
        if (name && strcmp(name, id_or_name) == 0) {
            snprintf(id, cap, "%s", json_string_value(json_object_get(k, "id")));
            found = 1;
            break;
        }
    }
    reply_free(&r);
    if (!found) {
        fprintf(stderr, "apikey: no key with the id or name '%s'\n", id_or_name);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

void print_key(struct ctx *c, json_t *key)
{
    if (c->json) {
        print_json(key);
        return;
    }
    static const char *const fields[] = {"id", "name", "description", "hint", "scopes",
                                         "created_at", "expires_at", "last_used_at",
                                         "created_by", "rotated_from"};
    char buf[2048];
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (!json_object_get(key, fields[i]))
            continue;
        const char *v = field_text(key, fields[i], 0, buf, sizeof buf);
        printf("%-13s %s\n", fields[i], v ? v : "-");
    }
    const char *secret = json_string_value(json_object_get(key, "key"));
    if (secret) {
        printf("\n%s\n\n", secret);
        fprintf(stderr, "apikey: this is the only time the key is shown: store it now\n");
    }
}

int open_secret_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        fprintf(stderr, "apikey: cannot create %s: %s (nothing was asked of apikeyd)\n", path,
                strerror(errno));
    return fd;
}

void discard_secret_file(int fd, const char *path)
{
    close(fd);
    unlink(path);
}

int write_secret_file(int fd, const char *path, const char *secret)
{
    size_t len = strlen(secret);
    int ok = write(fd, secret, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    if (close(fd) != 0 || !ok) {
        fprintf(stderr, "apikey: cannot write %s\n", path);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

void print_keys(struct ctx *c, json_t *answer)
{
    if (c->json) {
        print_json(answer);
        return;
    }
    static const char *const heads[] = {"ID", "NAME", "SCOPES", "EXPIRES", "LAST USED", "HINT"};
    static const char *const names[] = {"id", "name", "scopes", "expires_at", "last_used_at",
                                        "hint"};
    struct table t;
    table_init(&t, 6, heads);
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(answer, "keys"), i, k) {
        char bufs[6][512];
        const char *row[6];
        for (int f = 0; f < 6; f++)
            row[f] = field_text(k, names[f], f == 3 || f == 4, bufs[f], sizeof bufs[f]);
        table_row(&t, row);
    }
    table_print(&t);
}

long parse_duration(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || v < 0 || errno)
        return -1;
    long unit = *end == '\0' || strcmp(end, "s") == 0 ? 1
                : strcmp(end, "m") == 0              ? 60
                : strcmp(end, "h") == 0              ? 3600
                : strcmp(end, "d") == 0              ? 86400
                                                     : 0;
    if (!unit || v > 100L * 365 * 86400 / unit)
        return -1;
    return v * unit;
}

void expiry_text(const char *in, char *out, size_t cap)
{
    if (strlen(in) != 10) { /* already a date-time: apikeyd judges it */
        snprintf(out, cap, "%s", in);
        return;
    }
    time_t now = time(NULL);
    struct tm t;
    gmtime_r(&now, &t);
    snprintf(out, cap, "%.10sT%02d:%02d:%02dZ", in, t.tm_hour, t.tm_min, t.tm_sec);
}
