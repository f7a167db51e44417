/* cmd.h — the apikey client's commands and what they share: the server connection, the
 * output mode, and small helpers for options and key lookups. Exit codes: 0 done, 1 failed,
 * 2 bad usage, 4 not signed in or not allowed. */
#ifndef APIKEY_CMD_H
#define APIKEY_CMD_H

#include <jansson.h>

#include "hosts.h"
#include "http.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_DENIED = 4 };

struct ctx {
    struct api api;
    struct host host;
    int json;         /* --json: print apikeyd's JSON */
    const char *server_flag;
};

typedef int (*command_fn)(struct ctx *c, int argc, char **argv);

/* Each command: argv[0] is its last word (e.g. "create" of `apikey keys create`). */
int cmd_login(struct ctx *c, int argc, char **argv);
int cmd_logout(struct ctx *c, int argc, char **argv);
int cmd_status(struct ctx *c, int argc, char **argv);
int cmd_keys_list(struct ctx *c, int argc, char **argv);
int cmd_keys_create(struct ctx *c, int argc, char **argv);
int cmd_keys_show(struct ctx *c, int argc, char **argv);
int cmd_keys_rename(struct ctx *c, int argc, char **argv);
int cmd_keys_rotate(struct ctx *c, int argc, char **argv);
int cmd_keys_delete(struct ctx *c, int argc, char **argv);
int cmd_verify(struct ctx *c, int argc, char **argv);
int cmd_accounts_list(struct ctx *c, int argc, char **argv);
int cmd_accounts_create(struct ctx *c, int argc, char **argv);
int cmd_accounts_show(struct ctx *c, int argc, char **argv);
int cmd_accounts_delete(struct ctx *c, int argc, char **argv);
int cmd_accounts_keys(struct ctx *c, int argc, char **argv);
int cmd_projects_list(struct ctx *c, int argc, char **argv);
int cmd_projects_show(struct ctx *c, int argc, char **argv);
int cmd_users_list(struct ctx *c, int argc, char **argv);
int cmd_users_show(struct ctx *c, int argc, char **argv);
int cmd_audit(struct ctx *c, int argc, char **argv);
int cmd_completion(struct ctx *c, int argc, char **argv);

/* Prints the usage line of a command to stderr and returns EXIT_USAGE. */
int usage_error(const char *usage);

/* Makes a call with the stored key; on a refusal says why and returns the exit code (the
 * reply freed), else EXIT_OK with r filled. */
int call(struct ctx *c, const char *what, const char *method, const char *path, json_t *body,
         struct reply *r);

/* The value after option argv[*i] (moving *i), or NULL when it is missing. */
const char *option_value(int argc, char **argv, int *i);

/* The id of the key named by id_or_name (an id, or an exact name), written to id.
 * prefix is the collection ("/v1/keys" or "/v1/service-accounts/ID/keys"). Exit code. */
int resolve_key(struct ctx *c, const char *prefix, const char *id_or_name, char *id, size_t cap);

/* resolve_key, then "prefix/ID" written to path_out. Exit code. */
int key_path(struct ctx *c, const char *prefix, const char *id_or_name, char *path_out,
             size_t cap);

/* Reads argv[first..]: each "--name value" of names[count] into values[] (same index; unset ones
 * stay as they were) and at most one positional argument. EXIT_OK, or EXIT_USAGE (said). */
int parse_args(int argc, char **argv, int first, const char *const *names, const char **values,
               size_t count, const char **positional, const char *usage);

/* Prints one key: JSON with --json, else "name: value" lines; the secret when it is there. */
void print_key(struct ctx *c, json_t *key);

/* Creates path for a secret (mode 0600, never over an existing file or through a link) before
 * apikeyd is asked for one, so a path someone else took costs no key. fd, or -1 (said). */
int open_secret_file(const char *path);

/* Closes and removes a file open_secret_file made when no secret came. */
void discard_secret_file(int fd, const char *path);

/* Writes a new key's secret to fd (made by open_secret_file for path) and closes it. Exit code. */
int write_secret_file(int fd, const char *path, const char *secret);

/* `keys create` for the collection ("/v1/keys" or an account's keys): NAME and the options
 * from argv[first]; prints the new key (or writes --output-file) and wipes the secret. */
int create_key_in(struct ctx *c, const char *collection, int argc, char **argv, int first,
                  const char *usage);

/* Prints a list of keys as a table (or JSON). */
void print_keys(struct ctx *c, json_t *answer);

/* --expires as apikeyd takes it: a YYYY-MM-DD date means that day at the present time of day
 * (UTC), as the portal's expiry field does, so the date a year from today is within the limit;
 * anything else is passed on as it is. */
void expiry_text(const char *in, char *out, size_t cap);

/* Parses "90", "90s", "15m", "2h", "7d" into seconds; -1 when malformed. */
long parse_duration(const char *s);

#endif
