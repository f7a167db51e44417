/* main.c — `apikey`, the command-line client of apikeyd: global flags, the command table, help
 * and shell completion. Commands live in cmd_*.c; apikey(1) is the manual. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

#define APIKEY_VERSION "0.1.0"

struct command {
    const char *group; /* "keys", or NULL for a one-word command */
    const char *name;
    command_fn fn;
    int needs_key;     /* 0: works without a stored key (login, verify, completion) */
    const char *summary;
};

static const struct command commands[] = {
    {NULL, "login", cmd_login, 0, "sign in and store a personal key for this machine"},
    {NULL, "logout", cmd_logout, 0, "delete that key on the server and forget it"},
    {NULL, "status", cmd_status, 0, "which server and key are in use, and whether it is valid"},
    {"keys", "list", cmd_keys_list, 1, "your keys"},
    {"keys", "create", cmd_keys_create, 1, "a new key (its secret shown this once)"},
    {"keys", "show", cmd_keys_show, 1, "one key, by id or name"},
    {"keys", "rename", cmd_keys_rename, 1, "give a key a new name"},
    {"keys", "rotate", cmd_keys_rotate, 1, "replace a key, the old one kept for --overlap"},
    {"keys", "delete", cmd_keys_delete, 1, "delete a key: it is refused at once"},
    {NULL, "verify", cmd_verify, 0, "ask apikeyd whether a key is valid"},
    {"accounts", "list", cmd_accounts_list, 1, "API accounts you manage"},
    {"accounts", "create", cmd_accounts_create, 1, "a new API account"},
    {"accounts", "show", cmd_accounts_show, 1, "one API account"},
    {"accounts", "delete", cmd_accounts_delete, 1, "delete an API account and its keys"},
    {"accounts", "keys", cmd_accounts_keys, 1, "an API account's keys: list, create, delete"},
    {"projects", "list", cmd_projects_list, 1, "projects you can see"},
    {"projects", "show", cmd_projects_show, 1, "one project and its members"},
    {"users", "list", cmd_users_list, 1, "users (manage_users)"},
    {"users", "show", cmd_users_show, 1, "one user"},
    {NULL, "audit", cmd_audit, 1, "the audit trail (view_audit)"},
    {NULL, "completion", cmd_completion, 0, "a bash or zsh completion script"},
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void help(FILE *f)
{
    fprintf(f, "apikey — the command-line client of apikeyd\n\n"
               "usage: apikey [--server URL] [--json] COMMAND ...\n\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        char words[64];
        snprintf(words, sizeof words, "%s%s%s", commands[i].group ? commands[i].group : "",
                 commands[i].group ? " " : "", commands[i].name);
        fprintf(f, "  %-18s %s\n", words, commands[i].summary);
    }
    fprintf(f, "\n  --server URL   the apikeyd to use (else APIKEY_SERVER, else the one logged in to)\n"
               "  --json         print apikeyd's JSON answers\n"
               "  --version      print the version\n\n"
               "APIKEY_TOKEN overrides the stored key. Exit codes: 0 done, 1 failed, 2 bad usage,\n"
               "4 not signed in or not allowed. See apikey(1).\n");
}

static const char *const group_names[] = {"keys", "accounts", "projects", "users"};

static const struct command *find(const char *first, const char *second, int *words)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        const struct command *c = &commands[i];
        if (!c->group && strcmp(c->name, first) == 0) {
            *words = 1;
            return c;
        }
        if (c->group && second && strcmp(c->group, first) == 0 && strcmp(c->name, second) == 0) {
            *words = 2;
            return c;
        }
    }
    return NULL;
}

int cmd_completion(struct ctx *c, int argc, char **argv)
{
    (void)c;
    if (argc != 2 || (strcmp(argv[1], "bash") != 0 && strcmp(argv[1], "zsh") != 0))
        return usage_error("apikey completion bash|zsh");
    int zsh = strcmp(argv[1], "zsh") == 0;
    if (zsh)
        printf("#compdef apikey\nautoload -U bashcompinit && bashcompinit\n");
    printf("_apikey() {\n  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[1]}\n"
           "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n    COMPREPLY=($(compgen -W \"");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (!commands[i].group)
            printf("%s ", commands[i].name);
    for (size_t g = 0; g < sizeof group_names / sizeof group_names[0]; g++)
        printf("%s%s", group_names[g], g + 1 < sizeof group_names / sizeof group_names[0] ? " " : "");
    printf("\" -- \"$cur\"))\n  elif [ \"$COMP_CWORD\" -eq 2 ]; then\n    case \"$prev\" in\n");
    for (size_t g = 0; g < sizeof group_names / sizeof group_names[0]; g++) {
        printf("      %s) COMPREPLY=($(compgen -W \"", group_names[g]);
        int first = 1;
        for (size_t i = 0; i < COMMAND_COUNT; i++)
            if (commands[i].group && strcmp(commands[i].group, group_names[g]) == 0) {
                printf("%s%s", first ? "" : " ", commands[i].name);
                first = 0;
            }
        printf("\" -- \"$cur\")) ;;\n");
    }
    printf("      completion) COMPREPLY=($(compgen -W \"bash zsh\" -- \"$cur\")) ;;\n"
           "    esac\n  fi\n}\ncomplete -F _apikey apikey\n");
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    struct ctx c;
    memset(&c, 0, sizeof c);
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            c.json = 1;
        } else if (strcmp(argv[i], "--server") == 0 && i + 1 < argc) {
            c.server_flag = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help(stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("apikey %s\n", APIKEY_VERSION);
            return EXIT_OK;
        } else {
            help(stderr);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        help(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[i], "help") == 0) {
        help(stdout);
        return EXIT_OK;
    }
    int words = 0;
    const struct command *cmd = find(argv[i], i + 1 < argc ? argv[i + 1] : NULL, &words);
    if (!cmd) {
        fprintf(stderr, "apikey: unknown command '%s'%s\n", argv[i],
                i + 1 < argc ? " (or its second word)" : "");
        help(stderr);
        return EXIT_USAGE;
    }
    /* later words: --json and --server are also taken after the command */
    int sub_argc = 0;
    char **sub_argv = calloc((size_t)argc + 1, sizeof *sub_argv);
    if (!sub_argv)
        return EXIT_FAILED;
    sub_argv[sub_argc++] = argv[i + words - 1];
    for (int j = i + words; j < argc; j++) {
        if (strcmp(argv[j], "--json") == 0)
            c.json = 1;
        else if (strcmp(argv[j], "--server") == 0 && j + 1 < argc)
            c.server_flag = argv[++j];
        else
            sub_argv[sub_argc++] = argv[j];
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return EXIT_FAILED;
    int rc;
    char why[1100];
    if (cmd->fn == cmd_completion) { /* talks to no server */
        rc = cmd->fn(&c, sub_argc, sub_argv);
    } else if (hosts_current(c.server_flag, &c.host) != 0) {
        rc = EXIT_FAILED;
    } else if (!api_server_allowed(c.host.server, why, sizeof why)) {
        fprintf(stderr, "apikey: %s\n", why);
        rc = EXIT_USAGE;
    } else if (api_open(&c.api, c.host.server) != 0) {
        fprintf(stderr, "apikey: libcurl cannot start\n");
        rc = EXIT_FAILED;
    } else {
        if (cmd->needs_key || cmd->fn == cmd_logout)
            snprintf(c.api.token, sizeof c.api.token, "%s", c.host.key);
        rc = cmd->fn(&c, sub_argc, sub_argv);
    }
    api_close(&c.api);
    explicit_bzero(c.host.key, sizeof c.host.key);
    free(sub_argv);
    curl_global_cleanup();
    return rc;
}
