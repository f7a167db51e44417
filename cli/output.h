/* output.h — what the apikey client prints: aligned tables on a terminal (tab-separated
 * without a header when piped, as gh does), JSON with --json, problems in words. */
#ifndef APIKEY_OUTPUT_H
#define APIKEY_OUTPUT_H

#include <jansson.h>
#include <stdio.h>

#include "http.h"

#define TABLE_MAX_COLS 8

struct table {
    int cols;
    const char *heads[TABLE_MAX_COLS];
    char **cells; /* rows * cols strings */
    size_t rows, cap;
};

/* Starts a table with cols columns named by heads. */
void table_init(struct table *t, int cols, const char *const *heads);

/* Adds a row of cols values (NULL prints as "-"). */
void table_row(struct table *t, const char *const *values);

/* Prints it to stdout and frees it. */
void table_print(struct table *t);

/* Prints j to stdout, indented. */
void print_json(json_t *j);

/* A member of an object as text for a table: strings as they are, YYYY-MM-DD for RFC 3339
 * times when date_only, arrays joined with ",", null and missing as NULL. Uses buf. */
const char *field_text(json_t *obj, const char *name, int date_only, char *buf, size_t cap);

/* Says why a call failed, on stderr, and returns the exit code for it: 4 for 401/403, else 1. */
int say_failure(const char *what, const struct reply *r);

#endif
