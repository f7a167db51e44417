/* mail_settings.c — see mail_settings.h. */
#include "mail_settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/setting.h"
#include "../base/text.h"

void mail_settings_defaults(struct mail_settings *s)
{
    memset(s, 0, sizeof *s);
    s->smtp_timeout_seconds = 30;
    s->notice_days[0] = 30;
    s->notice_days[1] = 7;
    s->notice_days[2] = 1;
    s->notice_day_count = 3;
    s->notice_unit_seconds = 86400;
    s->notice_scan_ms = 60000;
    s->notice_retry_seconds = 60;
}

int mail_address_ok(const char *a)
{
    size_t n = strlen(a);
    const char *at = strrchr(a, '@');
    if (n < 3 || n > 254 || !at || at == a || !at[1] || text_has_control(a, 0))
        return 0;
    for (const char *p = a; *p; p++)
        if (*p == ' ' || strchr("\"<>(),;:\\[]", *p))
            return 0;
    return strchr(a, '@') == at; /* exactly one '@' */
}

/* "30,7,1": 1..NOTICE_DAYS_MAX whole numbers from 1 to 365, each smaller than the one
 * before; "off" (or empty) turns the notices off. */
static int notice_days(struct mail_settings *s, const char *value)
{
    const char *what = "must be days before expiry, largest first, e.g. 30,7,1 (at most 8, "
                       "each 1-365), or off";
    if (*value == '\0' || strcmp(value, "off") == 0) {
        s->notice_day_count = 0;
        return 0;
    }
    int days[NOTICE_DAYS_MAX];
    size_t count = 0;
    const char *p = value;
    for (;;) {
        while (*p == ' ')
            p++;
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 365 || count == NOTICE_DAYS_MAX ||
            (count && v >= days[count - 1]))
            return setting_fail("expiry_notice_days", what);
        days[count++] = (int)v;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        if (*p++ != ',')
            return setting_fail("expiry_notice_days", what);
    }
    memcpy(s->notice_days, days, sizeof days);
    s->notice_day_count = count;
    return 0;
}

int mail_settings_set(struct mail_settings *s, const char *name, const char *value)
{
    if (strcmp(name, "smtp_url") == 0) {
        if (*value && strncmp(value, "smtp://", 7) != 0 && strncmp(value, "smtps://", 8) != 0)
            return setting_fail(name, "must start with smtp:// (STARTTLS, required) or smtps://");
        if (strpbrk(value, " ,@"))
            return setting_fail(name, "names one server (credentials go in smtp_username and "
                              "smtp_password_file)");
        return setting_text(name, value, s->smtp_url, sizeof s->smtp_url);
    }
    if (strcmp(name, "smtp_from") == 0) {
        if (*value && !mail_address_ok(value))
            return setting_fail(name, "must be one email address, e.g. apikeyd@example.com");
        return setting_text(name, value, s->smtp_from, sizeof s->smtp_from);
    }
    if (strcmp(name, "smtp_username") == 0)
        return setting_text(name, value, s->smtp_username, sizeof s->smtp_username);
    if (strcmp(name, "smtp_password_file") == 0)
        return setting_text(name, value, s->smtp_password_file, sizeof s->smtp_password_file);
    if (strcmp(name, "smtp_ca_file") == 0)
        return setting_text(name, value, s->smtp_ca_file, sizeof s->smtp_ca_file);
    if (strcmp(name, "smtp_timeout_seconds") == 0)
        return setting_int(name, value, 1, 300, &s->smtp_timeout_seconds);
    if (strcmp(name, "expiry_notice_days") == 0)
        return notice_days(s, value);
    if (strcmp(name, "expiry_notice_unit_seconds") == 0)
        return setting_int(name, value, 1, 86400, &s->notice_unit_seconds);
    if (strcmp(name, "expiry_notice_scan_ms") == 0)
        return setting_int(name, value, 100, 3600000, &s->notice_scan_ms);
    if (strcmp(name, "expiry_notice_retry_seconds") == 0)
        return setting_int(name, value, 1, 3600, &s->notice_retry_seconds);
    return 1;
}

static const char *const env_names[] = {
    "smtp_url",           "smtp_from",
    "smtp_username",      "smtp_password_file",
    "smtp_ca_file",       "smtp_timeout_seconds",
    "expiry_notice_days", "expiry_notice_unit_seconds",
    "expiry_notice_scan_ms", "expiry_notice_retry_seconds",
};

const char *const *mail_settings_names(size_t *count)
{
    *count = sizeof env_names / sizeof env_names[0];
    return env_names;
}

int mail_settings_check(const struct mail_settings *s)
{
    if (!s->smtp_url[0])
        return 0;
    if (!s->smtp_from[0])
        return setting_fail("smtp_url", "needs smtp_from (the sender's address)");
    if (s->smtp_username[0] && !s->smtp_password_file[0])
        return setting_fail("smtp_username", "needs smtp_password_file");
    if (s->smtp_password_file[0] && !s->smtp_username[0])
        return setting_fail("smtp_password_file", "needs smtp_username");
    return 0;
}
