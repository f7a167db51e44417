/* hosts.c — see hosts.h. The file is {"current": URL, "hosts": {URL: {key, key_id, user}}};
 * it is rewritten whole through a temporary file created 0600 and renamed. A folder or file
 * another user could change (or a symbolic link in its place) is refused, never read. */
#include "hosts.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_SERVER "http://127.0.0.1:8080"

static void config_dir(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(out, cap, "%s/apikey", xdg);
    else
        snprintf(out, cap, "%s/.config/apikey", home && *home ? home : ".");
}

void hosts_path(char *out, size_t cap)
{
    char dir[900];
    config_dir(dir, sizeof dir);
    snprintf(out, cap, "%s/hosts.json", dir);
}

/* Whether path (lstat) is ours and no one else can change it: a real directory or file (not a
 * link) owned by this user, with no group or other write bit (for the file: no group or other
 * bit at all, it holds keys). 1 when it does not exist yet. Says why when 0. */
static int private_path(const char *path, int is_dir)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT;
    const char *why = NULL;
    if (is_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
        why = is_dir ? "is not a directory (a symbolic link?)" : "is not a plain file (a symbolic link?)";
    else if (st.st_uid != getuid())
        why = "belongs to another user";
    else if (st.st_mode & (is_dir ? 022 : 077))
        why = is_dir ? "can be changed by other users (chmod 700 it)"
                     : "can be read or changed by other users (chmod 600 it)";
    if (why)
        fprintf(stderr, "apikey: %s %s: refusing to use it\n", path, why);
    return why == NULL;
}

/* The stored hosts, or NULL (said) when the folder or file is one another user could change. */
static json_t *load(void)
{
    char dir[900], path[1024];
    config_dir(dir, sizeof dir);
    hosts_path(path, sizeof path);
    if (!private_path(dir, 1) || !private_path(path, 0))
        return NULL;
    json_t *j = NULL;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        json_error_t err;
        j = json_loadfd(fd, 0, &err);
        close(fd);
    }
    if (!json_is_object(j)) {
        json_decref(j);
        j = json_object();
    }
    if (!json_is_object(json_object_get(j, "hosts")))
        json_object_set_new(j, "hosts", json_object());
    return j;
}

static void copy(char *out, size_t cap, const char *s)
{
    snprintf(out, cap, "%s", s ? s : "");
}

int hosts_current(const char *server_flag, struct host *out)
{
    memset(out, 0, sizeof *out);
    json_t *j = load();
    if (!j)
        return -1;
    const char *env_server = getenv("APIKEY_SERVER");
    const char *server = server_flag && *server_flag  ? server_flag
                         : env_server && *env_server ? env_server
                                                     : json_string_value(json_object_get(j, "current"));
    copy(out->server, sizeof out->server, server ? server : DEFAULT_SERVER);
    size_t n = strlen(out->server);
    while (n > 0 && out->server[n - 1] == '/')
        out->server[--n] = '\0';
    json_t *h = json_object_get(json_object_get(j, "hosts"), out->server);
    copy(out->key, sizeof out->key, json_string_value(json_object_get(h, "key")));
    copy(out->key_id, sizeof out->key_id, json_string_value(json_object_get(h, "key_id")));
    copy(out->user, sizeof out->user, json_string_value(json_object_get(h, "user")));
    const char *env_token = getenv("APIKEY_TOKEN");
    if (env_token && *env_token) {
        copy(out->key, sizeof out->key, env_token);
        out->key_id[0] = '\0';
    }
    json_decref(j);
    return 0;
}

static int write_file(json_t *j)
{
    char dir[900], path[1024], tmp[1100];
    config_dir(dir, sizeof dir);
    char parent[900];
    copy(parent, sizeof parent, dir);
    char *slash = strrchr(parent, '/');
    if (slash) {
        *slash = '\0';
        mkdir(parent, 0700); /* ~/.config may not exist yet */
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "apikey: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    if (!private_path(dir, 1)) /* made by someone else between load() and here */
        return -1;
    hosts_path(path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    if (fd < 0) {
        fprintf(stderr, "apikey: cannot write %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    size_t len = text ? strlen(text) : 0;
    int ok = text && write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
             fsync(fd) == 0;
    if (text) {
        explicit_bzero(text, len);
        free(text);
    }
    if (close(fd) != 0 || !ok || rename(tmp, path) != 0) {
        fprintf(stderr, "apikey: cannot write %s\n", path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

int hosts_save(const struct host *h)
{
    json_t *j = load();
    if (!j)
        return -1;
    json_t *entry = json_pack("{s:s, s:s, s:s}", "key", h->key, "key_id", h->key_id, "user",
                              h->user);
    json_object_set_new(json_object_get(j, "hosts"), h->server, entry);
    json_object_set_new(j, "current", json_string(h->server));
    int rc = write_file(j);
    json_decref(j);
    return rc;
}

int hosts_forget(const char *server)
{
    json_t *j = load();
    if (!j)
        return -1;
    json_object_del(json_object_get(j, "hosts"), server);
    const char *cur = json_string_value(json_object_get(j, "current"));
    if (cur && strcmp(cur, server) == 0)
        json_object_del(j, "current");
    int rc = write_file(j);
    json_decref(j);
    return rc;
}
