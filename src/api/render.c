/* render.c — see render.h. */
#include "render.h"

#include <string.h>

#include "../base/timeutil.h"
#include "../base/usedfrom.h"
#include "../core/authority.h"
#include "../core/users.h"

json_t *render_time(int64_t t)
{
    if (t == 0)
        return json_null();
    char text[TIME_RFC3339_LEN];
    time_format_rfc3339(t, text);
    return json_string(text);
}

json_t *render_csv_array(const char *csv)
{
    json_t *list = json_array();
    while (list && *csv) {
        size_t len = strcspn(csv, ",");
        if (len > 0)
            json_array_append_new(list, json_stringn(csv, len));
        csv += len;
        if (*csv == ',')
            csv++;
    }
    return list;
}

static json_t *id_or_null(const char *id)
{
    return id[0] ? json_string(id) : json_null();
}

/* [{address, last_used_at}], newest first, from a key's stored last_used_from. */
static json_t *render_used_from(const char *text)
{
    struct usedfrom l;
    usedfrom_parse(text, &l);
    json_t *list = json_array();
    for (int i = 0; list && i < l.count; i++)
        json_array_append_new(list, json_pack("{s:s, s:o}", "address", l.e[i].address,
                                              "last_used_at", render_time(l.e[i].at)));
    return list;
}

json_t *render_key(const struct key_record *k)
{
    return json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:s, s:s, s:o, s:o, s:o}",
                     "id", k->id, "name", k->name, "description",
                     k->has_description ? json_string(k->description) : json_null(), "hint",
                     k->hint, "scopes", render_csv_array(k->scopes), "created_at",
                     render_time(k->created_at), "expires_at", render_time(k->expires_at),
                     "last_used_at", render_time(k->last_used_at), "last_used_from",
                     render_used_from(k->last_used_from), "created_by", k->created_by,
                     "family_id", k->family_id[0] ? k->family_id : k->id, "rotated_from",
                     id_or_null(k->rotated_from), "superseded_by", id_or_null(k->superseded_by),
                     "rotated_at", render_time(k->rotated_at));
}

static int add_name(void *ctx, const char *name)
{
    return json_array_append_new((json_t *)ctx, json_string(name)) != 0;
}

json_t *render_user(struct core *c, const struct user_record *u)
{
    json_t *groups = json_array();
    uint32_t authorities = 0;
    char auth_csv[STORE_AUTHORITIES_BYTES];
    if (groups)
        users_groups_each(c, u->username, add_name, groups);
    users_authorities(c, u->username, &authorities);
    authority_mask_to_csv(authorities, auth_csv, sizeof auth_csv);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:b, s:b, s:o}", "username",
                     u->username, "full_name", u->full_name, "email", u->email, "auth_source",
                     u->auth_source, "environment", u->environment, "roles",
                     render_csv_array(u->roles), "groups", groups ? groups : json_array(),
                     "authorities", render_csv_array(auth_csv), "disabled", u->disabled,
                     "mfa_enabled", u->mfa_enabled, "created_at", render_time(u->created_at));
}
