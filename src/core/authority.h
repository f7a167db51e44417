/* authority.h — the fixed list of authorities (what a role grants), as bits of a mask. */
#ifndef APIKEYD_AUTHORITY_H
#define APIKEYD_AUTHORITY_H

#include <stddef.h>
#include <stdint.h>

enum authority {
    AUTH_MANAGE_USERS = 1u << 0,
    AUTH_MANAGE_USER_API_KEYS = 1u << 1,
    AUTH_MANAGE_ROLES = 1u << 2,
    AUTH_MANAGE_GROUPS = 1u << 3,
    AUTH_MANAGE_ENVIRONMENTS = 1u << 4,
    AUTH_MANAGE_SERVICE_ACCOUNTS = 1u << 5,
    AUTH_MANAGE_PROJECTS = 1u << 6,
    AUTH_MANAGE_SCOPES = 1u << 7,
    AUTH_VIEW_AUDIT = 1u << 8,
    AUTH_MANAGE_WEBHOOKS = 1u << 9,
};

#define AUTHORITY_COUNT 10

/* The bit of the authority called name, or 0 when there is none. */
uint32_t authority_bit(const char *name);

/* Name and description of the i-th authority (i < AUTHORITY_COUNT). */
const char *authority_name(size_t i);
const char *authority_description(size_t i);

/* Mask of the comma-separated names in csv; unknown names set *unknown (when not NULL). */
uint32_t authority_mask_from_csv(const char *csv, int *unknown);

/* Writes the names in mask, comma-separated, into out (cap bytes). */
void authority_mask_to_csv(uint32_t mask, char *out, size_t cap);

#endif
