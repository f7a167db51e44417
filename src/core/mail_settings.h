/* mail_settings.h — the settings of outgoing mail (smtp_* in the config file, APIKEYD_SMTP_*
 * in the environment) and of the expiry notices (expiry_notice_*): defaults, parsing and the
 * start-up checks. No libcurl here: config.c reads these, mailer.c and notices.c use them. */
#ifndef APIKEYD_MAIL_SETTINGS_H
#define APIKEYD_MAIL_SETTINGS_H

#include <stddef.h>

#define NOTICE_DAYS_MAX 8 /* thresholds in expiry_notice_days */

struct mail_settings {
    char smtp_url[512];           /* smtp://host[:port] (STARTTLS required) or smtps://; "" off */
    char smtp_from[256];          /* the sender's address (envelope and From:) */
    char smtp_username[256];      /* "" = no SMTP authentication */
    char smtp_password_file[1024]; /* its password, read once at start */
    char smtp_ca_file[1024];      /* CA certificates the server's must chain to ("" = system) */
    int smtp_timeout_seconds;     /* bound of one message's whole SMTP conversation */
    int notice_days[NOTICE_DAYS_MAX]; /* expiry_notice_days, largest first; count 0 = off */
    size_t notice_day_count;
    int notice_unit_seconds;  /* the length of a notice "day" (tests set 1) */
    int notice_scan_ms;       /* how often the notice thread looks for due notices */
    int notice_retry_seconds; /* first wait after a failed send (doubling, at most an hour) */
};

/* Fills the defaults: mail off; notices 30,7,1 days, a day of 86400 s, a scan a minute. */
void mail_settings_defaults(struct mail_settings *s);

/* Applies setting `name` = value. Returns 0 when applied, -1 after printing the problem to
 * stderr, 1 when name is not one of these settings. */
int mail_settings_set(struct mail_settings *s, const char *name, const char *value);

/* The names of these settings (config.c reads each from APIKEYD_<NAME> too). */
const char *const *mail_settings_names(size_t *count);

/* Checks the settings hang together (a URL needs smtp_from; a username its password file).
 * 0, or -1 after printing the problem. */
int mail_settings_check(const struct mail_settings *s);

/* 1 when a is a plain mailbox address: local@domain, printable ASCII or UTF-8 without
 * spaces, control characters, quotes, angle brackets, commas, semicolons or backslashes. */
int mail_address_ok(const char *a);

#endif
