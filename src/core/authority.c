/* authority.c — see authority.h. */
#include "authority.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    const char *description;
} authorities[AUTHORITY_COUNT] = {
    {"manage_users", "Create, change, disable and delete users"},
    {"manage_user_api_keys", "See and delete other users' API keys"},
    {"manage_roles", "Create, change and delete roles"},
    {"manage_groups", "Create, change and delete groups"},
    {"manage_environments", "Create and delete environments"},
    {"manage_service_accounts", "Manage site-wide API accounts"},
    {"manage_projects", "Manage every project and its members"},
    {"manage_scopes", "Add scopes to the catalogue"},
    {"view_audit", "Read the audit trail"},
    {"manage_webhooks", "Register webhook endpoints and see their deliveries"},
};

uint32_t authority_bit(const char *name)
{
    for (size_t i = 0; i < AUTHORITY_COUNT; i++)
        if (strcmp(authorities[i].name, name) == 0)
            return 1u << i;
    return 0;
}

const char *authority_name(size_t i)
{
    return i < AUTHORITY_COUNT ? authorities[i].name : "";
}

const char *authority_description(size_t i)
{
    return i < AUTHORITY_COUNT ? authorities[i].description : "";
}

uint32_t authority_mask_from_csv(const char *csv, int *unknown)
{
    uint32_t mask = 0;
    char name[64];
    while (*csv) {
        size_t len = strcspn(csv, ",");
        if (len > 0) {
            uint32_t bit = 0;
            if (len < sizeof name) {
                memcpy(name, csv, len);
                name[len] = '\0';
                bit = authority_bit(name);
            }
            if (!bit && unknown)
                *unknown = 1;
            mask |= bit;
        }
        csv += len;
        if (*csv == ',')
            csv++;
    }
    return mask;
}

void authority_mask_to_csv(uint32_t mask, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < AUTHORITY_COUNT; i++) {
        if (!(mask & (1u << i)))
            continue;
        int n = snprintf(out + used, cap - used, "%s%s", used ? "," : "", authorities[i].name);
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
}
