/* output.c — see output.h. */
#include "output.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void table_init(struct table *t, int cols, const char *const *heads)
{
    memset(t, 0, sizeof *t);
    t->cols = cols < TABLE_MAX_COLS ? cols : TABLE_MAX_COLS;
    for (int i = 0; i < t->cols; i++)
        t->heads[i] = heads[i];
}

void table_row(struct table *t, const char *const *values)
{
    if (t->rows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **grown = realloc(t->cells, cap * (size_t)t->cols * sizeof *grown);
        if (!grown)
            return;
        t->cells = grown;
        t->cap = cap;
    }
    for (int i = 0; i < t->cols; i++)
        t->cells[t->rows * (size_t)t->cols + (size_t)i] = strdup(values[i] ? values[i] : "-");
    t->rows++;
}

/* Display width of UTF-8 text: one column per code point (names are mostly Latin). */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

void table_print(struct table *t)
{
    int tty = isatty(STDOUT_FILENO);
    size_t w[TABLE_MAX_COLS] = {0};
    for (int c = 0; c < t->cols; c++) {
        w[c] = width(t->heads[c]);
        for (size_t r = 0; r < t->rows; r++) {
            size_t cw = width(t->cells[r * (size_t)t->cols + (size_t)c]);
            if (cw > w[c])
                w[c] = cw;
        }
    }
    for (size_t r = tty ? 0 : 1; r <= t->rows; r++) { /* row 0: the header, on a tty only */
        for (int c = 0; c < t->cols; c++) {
            const char *v = r == 0 ? t->heads[c] : t->cells[(r - 1) * (size_t)t->cols + (size_t)c];
            if (!tty) {
                printf("%s%s", v, c + 1 < t->cols ? "\t" : "\n");
                continue;
            }
            printf("%s", v);
            if (c + 1 < t->cols)
                printf("%*s", (int)(w[c] - width(v) + 2), "");
            else
                printf("\n");
        }
    }
    for (size_t i = 0; i < t->rows * (size_t)t->cols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

void print_json(json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("\n");
}

const char *field_text(json_t *obj, const char *name, int date_only, char *buf, size_t cap)
{
    json_t *v = json_object_get(obj, name);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (date_only && strlen(s) >= 10 && s[4] == '-' && s[7] == '-') {
            snprintf(buf, cap, "%.10s", s);
            return buf;
        }
        return s;
    }
    if (json_is_boolean(v))
        return json_is_true(v) ? "yes" : "no";
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_array(v)) {
        size_t i, n = 0;
        json_t *e;
        buf[0] = '\0';
        json_array_foreach(v, i, e) {
            const char *s = json_is_string(e) ? json_string_value(e)
                                              : json_string_value(json_object_get(e, "name"));
            if (s && n + strlen(s) + 2 < cap)
                n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? "," : "", s);
        }
        return buf;
    }
    return NULL;
}

int say_failure(const char *what, const struct reply *r)
{
    if (r->status == 0)
        fprintf(stderr, "apikey: %s: %s\n", what, r->message);
    else
        fprintf(stderr, "apikey: %s: %s (HTTP %ld)\n", what, r->message, r->status);
    if (r->status == 401)
        fprintf(stderr, "apikey: not signed in, or the key is no longer valid: run `apikey login`\n");
    return r->status == 401 || r->status == 403 ? 4 : 1;
}
