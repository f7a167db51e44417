/* cmd_other.c — `apikey verify`, `accounts`, `projects`, `users`, `audit`: thin views of the
 * API for those who may (apikeyd decides; a refusal is shown in words, exit 4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "output.h"
#include "prompt.h"

static const char VERIFY_USAGE[] = "apikey verify [-|KEY] [--scope S] [--project P --role R]";

int cmd_verify(struct ctx *c, int argc, char **argv)
{
    static const char *const names[] = {"--scope", "--project", "--role"};
    const char *v[3] = {NULL, NULL, NULL}, *key;
    if (parse_args(argc, argv, 1, names, v, 3, &key, VERIFY_USAGE))
        return EXIT_USAGE;
    const char *scope = v[0], *project = v[1], *role = v[2];
    if (role && !project)
        return usage_error(VERIFY_USAGE);
    char typed[256]; /* no KEY or "-": read from stdin, out of sight of ps and /proc/PID/cmdline */
    if (!key || strcmp(key, "-") == 0) {
        if (read_stdin_line(typed, sizeof typed) != 0) {
            explicit_bzero(typed, sizeof typed);
            fprintf(stderr, "apikey: verify reads the key from standard input (one line)\n");
            return usage_error(VERIFY_USAGE);
        }
        key = typed;
    }
    json_t *body = json_pack("{s:s}", "key", key);
    explicit_bzero(typed, sizeof typed);
    if (scope)
        json_object_set_new(body, "scope", json_string(scope));
    if (project)
        json_object_set_new(body, "project", json_string(project));
    if (role)
        json_object_set_new(body, "role", json_string(role));
    struct reply r;
    long status = api_call(&c->api, "POST", "/v1/verify", body, &r); /* needs no sign-in */
    json_decref(body);
    if (status != 200) {
        int e = say_failure("verifying", &r);
        reply_free(&r);
        return e;
    }
    const char *code = json_string_value(json_object_get(r.body, "code"));
    int valid = json_is_true(json_object_get(r.body, "valid"));
    if (c->json) {
        print_json(r.body);
    } else {
        json_t *owner = json_object_get(r.body, "owner");
        char buf[1024];
        printf("%s\n", code ? code : "?");
        if (valid)
            printf("key      %s\nowner    %s:%s\nscopes   %s\nexpires  %s\n",
                   json_string_value(json_object_get(r.body, "key_id")),
                   json_string_value(json_object_get(owner, "type")),
                   json_string_value(json_object_get(owner, "name")),
                   field_text(r.body, "scopes", 0, buf, sizeof buf),
                   json_string_value(json_object_get(r.body, "expires_at")));
    }
    reply_free(&r);
    return valid ? EXIT_OK : EXIT_FAILED;
}

/* GET path and print the array member of the answer as a table of the given columns. */
static int list_table(struct ctx *c, const char *what, const char *path, const char *member,
                      int cols, const char *const *heads, const char *const *fields)
{
    struct reply r;
    int e = call(c, what, "GET", path, NULL, &r);
    if (e)
        return e;
    if (c->json) {
        print_json(r.body);
    } else {
        struct table t;
        table_init(&t, cols, heads);
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(r.body, member), i, o) {
            char bufs[TABLE_MAX_COLS][512];
            const char *row[TABLE_MAX_COLS];
            for (int f = 0; f < cols; f++)
                row[f] = field_text(o, fields[f], strstr(fields[f], "_at") != NULL, bufs[f],
                                    sizeof bufs[f]);
            table_row(&t, row);
        }
        table_print(&t);
    }
    reply_free(&r);
    return EXIT_OK;
}

/* GET collection/ID (the id percent-encoded) and print the object as "name value" lines (or
 * JSON). */
static int show_object(struct ctx *c, const char *what, const char *collection, const char *id)
{
    char seg[256], path[320];
    url_segment(id, seg, sizeof seg);
    snprintf(path, sizeof path, "%s/%s", collection, seg);
    struct reply r;
    int e = call(c, what, "GET", path, NULL, &r);
    if (e)
        return e;
    if (c->json) {
        print_json(r.body);
    } else {
        const char *k;
        json_t *v;
        json_object_foreach(r.body, k, v) {
            char buf[2048];
            const char *text = field_text(r.body, k, 0, buf, sizeof buf);
            printf("%-16s %s\n", k, text ? text : "-");
        }
    }
    reply_free(&r);
    return EXIT_OK;
}

int cmd_accounts_list(struct ctx *c, int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return usage_error("apikey accounts list");
    static const char *const heads[] = {"ID", "NAME", "PROJECT", "CREATED BY", "DISABLED"};
    static const char *const fields[] = {"id", "name", "project", "created_by", "disabled"};
    return list_table(c, "listing API accounts", "/v1/service-accounts", "service_accounts", 5,
                      heads, fields);
}

int cmd_accounts_create(struct ctx *c, int argc, char **argv)
{
    static const char usage[] =
        "apikey accounts create NAME [--description D] [--project P [--role R]]";
    static const char *const names[] = {"--description", "--project", "--role"};
    const char *v[3] = {NULL, NULL, NULL}, *name;
    if (parse_args(argc, argv, 1, names, v, 3, &name, usage))
        return EXIT_USAGE;
    const char *description = v[0], *project = v[1], *role = v[2];
    if (!name)
        return usage_error(usage);
    json_t *body = json_pack("{s:s}", "name", name);
    if (description)
        json_object_set_new(body, "description", json_string(description));
    if (project)
        json_object_set_new(body, "project", json_string(project));
    if (role)
        json_object_set_new(body, "role", json_string(role));
    struct reply r;
    int e = call(c, "creating the API account", "POST", "/v1/service-accounts", body, &r);
    json_decref(body);
    if (e)
        return e;
    if (c->json)
        print_json(r.body);
    else
        printf("%s\n", json_string_value(json_object_get(r.body, "id")));
    reply_free(&r);
    return EXIT_OK;
}

int cmd_accounts_show(struct ctx *c, int argc, char **argv)
{
    if (argc != 2)
        return usage_error("apikey accounts show ID");
    return show_object(c, "reading the API account", "/v1/service-accounts", argv[1]);
}

int cmd_accounts_delete(struct ctx *c, int argc, char **argv)
{
    if (argc != 2)
        return usage_error("apikey accounts delete ID");
    char seg[256], path[320];
    url_segment(argv[1], seg, sizeof seg);
    snprintf(path, sizeof path, "/v1/service-accounts/%s", seg);
    struct reply r;
    int e = call(c, "deleting the API account", "DELETE", path, NULL, &r);
    if (e)
        return e;
    reply_free(&r);
    fprintf(stderr, "Deleted API account %s: its keys are refused from now on\n", argv[1]);
    return EXIT_OK;
}

static const char ACCOUNT_KEYS_USAGE[] =
    "apikey accounts keys ACCOUNT list | create NAME --scope S [--scope S...] "
    "[--description D] [--expires YYYY-MM-DD] [--output-file F] | delete ID|NAME";

/* `apikey accounts keys ACCOUNT list|create|delete ...`: an API account's keys, with the
 * same rules (and the same output) as one's own. */
int cmd_accounts_keys(struct ctx *c, int argc, char **argv)
{
    if (argc < 3)
        return usage_error(ACCOUNT_KEYS_USAGE);
    char seg[256], prefix[320];
    url_segment(argv[1], seg, sizeof seg);
    snprintf(prefix, sizeof prefix, "/v1/service-accounts/%s/keys", seg);
    const char *verb = argv[2];
    struct reply r;
    int e;
    if (strcmp(verb, "list") == 0 && argc == 3) {
        if ((e = call(c, "listing the account's keys", "GET", prefix, NULL, &r)))
            return e;
        print_keys(c, r.body);
        reply_free(&r);
        return EXIT_OK;
    }
    if (strcmp(verb, "delete") == 0 && argc == 4) {
        char path[400];
        if ((e = key_path(c, prefix, argv[3], path, sizeof path)))
            return e;
        if ((e = call(c, "deleting the key", "DELETE", path, NULL, &r)))
            return e;
        reply_free(&r);
        fprintf(stderr, "Deleted key %s: it is refused from now on\n", argv[3]);
        return EXIT_OK;
    }
    if (strcmp(verb, "create") != 0)
        return usage_error(ACCOUNT_KEYS_USAGE);
    return create_key_in(c, prefix, argc, argv, 3, ACCOUNT_KEYS_USAGE);
}

int cmd_projects_list(struct ctx *c, int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return usage_error("apikey projects list");
    static const char *const heads[] = {"ID", "NAME", "PARENT", "CREATED BY", "CREATED"};
    static const char *const fields[] = {"id", "name", "parent", "created_by", "created_at"};
    return list_table(c, "listing projects", "/v1/projects", "projects", 5, heads, fields);
}

int cmd_projects_show(struct ctx *c, int argc, char **argv)
{
    if (argc != 2)
        return usage_error("apikey projects show ID");
    int e = show_object(c, "reading the project", "/v1/projects", argv[1]);
    if (e || c->json)
        return e;
    static const char *const heads[] = {"MEMBER", "ROLE", "INHERITED FROM"};
    static const char *const fields[] = {"principal", "role", "inherited_from"};
    char seg[256], path[320];
    url_segment(argv[1], seg, sizeof seg);
    snprintf(path, sizeof path, "/v1/projects/%s/members", seg);
    printf("\n");
    return list_table(c, "listing members", path, "members", 3, heads, fields);
}

int cmd_users_list(struct ctx *c, int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return usage_error("apikey users list");
    static const char *const heads[] = {"USERNAME", "FULL NAME", "EMAIL", "ROLES", "SOURCE",
                                        "DISABLED"};
    static const char *const fields[] = {"username", "full_name", "email", "roles",
                                         "auth_source", "disabled"};
    return list_table(c, "listing users", "/v1/users", "users", 6, heads, fields);
}

int cmd_users_show(struct ctx *c, int argc, char **argv)
{
    if (argc != 2)
        return usage_error("apikey users show USERNAME");
    return show_object(c, "reading the user", "/v1/users", argv[1]);
}

static const char AUDIT_USAGE[] =
    "apikey audit [--actor A] [--target T] [--action X] [--since TIME] [--until TIME]"
    " [--limit N]";

int cmd_audit(struct ctx *c, int argc, char **argv)
{
    static const char *const names[] = {"--actor", "--target", "--action", "--since", "--until",
                                        "--limit"};
    char query[1600] = "/v1/audit";
    size_t used = strlen(query);
    for (int i = 1; i < argc; i++) {
        size_t n = 0;
        while (n < 6 && strcmp(argv[i], names[n]) != 0)
            n++;
        const char *v;
        if (n == 6 || !(v = option_value(argc, argv, &i)))
            return usage_error(AUDIT_USAGE);
        char seg[600];
        url_segment(v, seg, sizeof seg);
        used += (size_t)snprintf(query + used, sizeof query - used, "%c%s=%s",
                                 used == strlen("/v1/audit") ? '?' : '&', names[n] + 2, seg);
        if (used >= sizeof query)
            return usage_error(AUDIT_USAGE);
    }
    static const char *const heads[] = {"TIME", "ACTOR", "ACTION", "TARGET", "CLIENT", "DETAIL"};
    static const char *const fields[] = {"at", "actor", "action", "target", "client",
                                         "detail"};
    return list_table(c, "reading the audit trail", query, "events", 6, heads, fields);
}
