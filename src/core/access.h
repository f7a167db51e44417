/* access.h — who holds which role in which project, held in memory so that verification by
 * project and role never touches the store. Projects form a tree; a role reaches every
 * subproject, and the strongest role on the way up counts. Thread-safe (rwlock). */
#ifndef APIKEYD_ACCESS_H
#define APIKEYD_ACCESS_H

#include "../base/err.h"
#include "../store/store.h"

enum project_role { ROLE_NONE = 0, ROLE_READER = 1, ROLE_CONTRIBUTOR = 2, ROLE_OWNER = 3 };

/* "reader" -> ROLE_READER ...; ROLE_NONE for anything else. */
enum project_role project_role_parse(const char *name);
/* "reader", "contributor", "owner" ("" for ROLE_NONE). */
const char *project_role_name(enum project_role role);

struct access;

/* Loads every project and membership from the store. */
enum err access_load(struct store *st, struct access **out);
void access_free(struct access *a);

/* Replaces the contents with what the store holds now. */
enum err access_reload(struct access *a, struct store *st);

/* The strongest role principal ("user:alice") holds in project_id or a parent of it; when
 * from is not NULL it receives the id of the project that grants it. ROLE_NONE for unknown
 * projects. */
enum project_role access_role(struct access *a, const char *project_id, const char *principal,
                              char from[STORE_ID_LEN + 1]);

/* Mirrors of store changes (call after the store change succeeded). */
enum err access_add_project(struct access *a, const char *id, const char *parent);
void access_remove_project(struct access *a, const char *id);
enum err access_set(struct access *a, const char *project_id, const char *principal,
                    enum project_role role); /* ROLE_NONE removes */
void access_forget_principal(struct access *a, const char *principal);

/* 1 when the project exists; its depth (1 for top-level) in *depth when not NULL. */
int access_project_exists(struct access *a, const char *id, int *depth);

#endif
