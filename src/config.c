/* config.c — see config.h. A config file holds "name = value" lines; '#' starts a comment.
 * Names: listen, data, db, key_prefix, threads, workers, max_connections,
 * max_connections_per_client, idle_timeout_seconds,
 * login_max_failures, login_backoff_seconds,
 * session_ttl_seconds, session_idle_seconds, verify_max_failures, secret_key_file (default DATA/secret.key),
 * trusted_proxies (CIDR list; default 127.0.0.0/8, ::1/128), cookie_secure (auto|always|never),
 * tls_cert_file and tls_key_file (both or neither),
 * metrics_listen (default off), log_format (text|json), log_level (error|warn|info|debug),
 * access_log (on|off),
 * max_keys_per_owner, stale_after_ms, max_projects_per_user, max_accounts_per_project,
 * max_site_wide_accounts, github_scanning_keys_file, revoke_max_requests, tls_cert_file,
 * tls_key_file; webhook_allow_private_targets (on|off), webhook_retry_base_ms,
 * webhook_poll_ms, webhook_timeout_ms; retention_days, retention_unit_seconds; OpenID Connect's oidc_* and public_url (core/oidc_config.c); SAML's
 * saml_* (core/saml_config.c);
 * the ldap_* settings of core/ldap_settings.h; mail's smtp_* and expiry_notice_*
 * (core/mail_settings.h). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "core/keyfmt.h"

#define APIKEYD_VERSION "0.1.0"

static int set_int(const char *name, const char *value, int min, int max, int *out)
{
    char *end;
    long v = strtol(value, &end, 10);
    if (*value == '\0' || *end || v < min || v > max) {
        fprintf(stderr, "apikeyd: %s must be a whole number from %d to %d\n", name, min, max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* set_int for a count kept as unsigned (min >= 0). */
static int set_unsigned(const char *name, const char *value, int min, int max, unsigned *out)
{
    int n;
    if (set_int(name, value, min, max, &n))
        return -1;
    *out = (unsigned)n;
    return 0;
}

static int set_text(const char *name, const char *value, char *out, size_t cap)
{
    if (strlen(value) >= cap) {
        fprintf(stderr, "apikeyd: %s is too long\n", name);
        return -1;
    }
    snprintf(out, cap, "%s", value);
    return 0;
}

/* Applies one setting by name. */
static int config_set(struct config *cfg, const char *name, const char *value)
{
    int sso = oidc_config_set(&cfg->core.oidc, name, value); /* oidc_*, public_url */
    if (sso <= 0)
        return sso;
    int saml = saml_config_set(&cfg->core.saml, name, value); /* the saml_* settings */
    if (saml <= 0)
        return saml;
    int ldap = ldap_settings_set(&cfg->core.ldap, name, value); /* the ldap_* settings */
    if (ldap <= 0)
        return ldap;
    int mail = mail_settings_set(&cfg->core.mail, name, value); /* smtp_*, expiry_notice_* */
    if (mail <= 0)
        return mail;
    if (strcmp(name, "listen") == 0)
        return set_text(name, value, cfg->listen, sizeof cfg->listen);
    if (strcmp(name, "data") == 0)
        return set_text(name, value, cfg->data_dir, sizeof cfg->data_dir);
    if (strcmp(name, "db") == 0)
        return set_text(name, value, cfg->db_url, sizeof cfg->db_url);
    if (strcmp(name, "key_prefix") == 0) {
        if (!keyfmt_prefix_valid(value)) {
            fprintf(stderr, "apikeyd: key_prefix must be 1-16 of a-z 0-9\n");
            return -1;
        }
        return set_text(name, value, cfg->core.key_prefix, sizeof cfg->core.key_prefix);
    }
    if (strcmp(name, "threads") == 0)
        return set_unsigned(name, value, 1, 256, &cfg->threads);
    if (strcmp(name, "workers") == 0)
        return set_unsigned(name, value, 1, 1024, &cfg->workers);
    if (strcmp(name, "max_connections") == 0)
        return set_unsigned(name, value, 1, 100000, &cfg->max_connections);
    if (strcmp(name, "max_connections_per_client") == 0)
        return set_unsigned(name, value, 1, 100000, &cfg->max_connections_per_client);
    if (strcmp(name, "idle_timeout_seconds") == 0)
        return set_unsigned(name, value, 1, 3600, &cfg->idle_timeout_seconds);
    if (strcmp(name, "login_max_failures") == 0)
        return set_int(name, value, 1, 1000, &cfg->core.login_max_failures);
    if (strcmp(name, "login_backoff_seconds") == 0)
        return set_int(name, value, 1, 3600, &cfg->core.login_backoff_seconds);
    if (strcmp(name, "secret_key_file") == 0)
        return set_text(name, value, cfg->core.secret_key_file, sizeof cfg->core.secret_key_file);
    if (strcmp(name, "max_keys_per_owner") == 0)
        return set_int(name, value, 1, 100000000, &cfg->core.max_keys_per_owner);
    if (strcmp(name, "max_projects_per_user") == 0)
        return set_int(name, value, 1, 1000000, &cfg->core.max_projects_per_user);
    if (strcmp(name, "max_accounts_per_project") == 0)
        return set_int(name, value, 1, 1000000, &cfg->core.max_accounts_per_project);
    if (strcmp(name, "max_site_wide_accounts") == 0)
        return set_int(name, value, 1, 1000000, &cfg->core.max_site_wide_accounts);
    if (strcmp(name, "stale_after_ms") == 0)
        return set_int(name, value, 100, 600000, &cfg->core.stale_after_ms);
    if (strcmp(name, "github_scanning_keys_file") == 0)
        return set_text(name, value, cfg->core.github_scanning_keys_file,
                        sizeof cfg->core.github_scanning_keys_file);
    if (strcmp(name, "revoke_max_requests") == 0)
        return set_int(name, value, 1, 1000000, &cfg->core.revoke_max_requests);
    if (strcmp(name, "verify_max_failures") == 0)
        return set_int(name, value, 1, 1000000, &cfg->core.verify_max_failures);
    if (strcmp(name, "session_idle_seconds") == 0)
        return set_int(name, value, 5, 30 * 86400, &cfg->core.session_idle_seconds);
    if (strcmp(name, "session_ttl_seconds") == 0)
        return set_int(name, value, 60, 30 * 86400, &cfg->core.session_ttl_seconds);
    if (strcmp(name, "webhook_allow_private_targets") == 0) {
        if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0) {
            fprintf(stderr, "apikeyd: webhook_allow_private_targets must be on or off\n");
            return -1;
        }
        cfg->core.webhook_allow_private = strcmp(value, "on") == 0;
        return 0;
    }
    if (strcmp(name, "webhook_retry_base_ms") == 0)
        return set_int(name, value, 10, 3600000, &cfg->core.webhook_retry_base_ms);
    if (strcmp(name, "webhook_poll_ms") == 0)
        return set_int(name, value, 10, 60000, &cfg->core.webhook_poll_ms);
    if (strcmp(name, "webhook_timeout_ms") == 0)
        return set_int(name, value, 100, 60000, &cfg->core.webhook_timeout_ms);
    if (strcmp(name, "retention_days") == 0)
        return set_int(name, value, 7, 3650, &cfg->core.retention_days);
    if (strcmp(name, "retention_unit_seconds") == 0)
        return set_int(name, value, 1, 86400, &cfg->core.retention_unit_seconds);
    if (strcmp(name, "cookie_secure") == 0) {
        static const char *const modes[] = {"auto", "always", "never"};
        for (int i = 0; i < 3; i++)
            if (strcmp(value, modes[i]) == 0) {
                cfg->cookie_secure = i;
                return 0;
            }
        fprintf(stderr, "apikeyd: cookie_secure must be auto, always or never\n");
        return -1;
    }
    if (strcmp(name, "tls_cert_file") == 0)
        return set_text(name, value, cfg->tls_cert_file, sizeof cfg->tls_cert_file);
    if (strcmp(name, "tls_key_file") == 0)
        return set_text(name, value, cfg->tls_key_file, sizeof cfg->tls_key_file);
    if (strcmp(name, "metrics_listen") == 0)
        return set_text(name, value, cfg->metrics_listen, sizeof cfg->metrics_listen);
    if (strcmp(name, "log_format") == 0) {
        if ((cfg->log_format = log_format_parse(value)) >= 0)
            return 0;
        fprintf(stderr, "apikeyd: log_format must be text or json\n");
        return -1;
    }
    if (strcmp(name, "log_level") == 0) {
        if ((cfg->log_level = log_level_parse(value)) >= 0)
            return 0;
        fprintf(stderr, "apikeyd: log_level must be error, warn, info or debug\n");
        return -1;
    }
    if (strcmp(name, "access_log") == 0) {
        if (strcmp(value, "on") == 0 || strcmp(value, "off") == 0) {
            cfg->access_log = strcmp(value, "on") == 0;
            return 0;
        }
        fprintf(stderr, "apikeyd: access_log must be on or off\n");
        return -1;
    }
    if (strcmp(name, "trusted_proxies") == 0) {
        if (netaddr_list_parse(value, &cfg->trusted_proxies)) {
            fprintf(stderr, "apikeyd: trusted_proxies must be IP addresses or CIDR ranges"
                            " (at most %d), separated by commas\n", NETADDR_LIST_MAX);
            return -1;
        }
        return 0;
    }
    fprintf(stderr, "apikeyd: unknown setting '%s'\n", name);
    return -1;
}

/* Applies the APIKEYD_<NAME> variable of each of names that is set and not empty (the
 * settings of core_names and of the OpenID Connect, SAML and LDAP modules). 0, or -1 after
 * the problem. */
static int env_apply(struct config *cfg, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        char env[64] = "APIKEYD_";
        size_t n = strlen(env);
        for (const char *p = names[i]; *p && n + 1 < sizeof env; p++)
            env[n++] = (char)toupper((unsigned char)*p);
        env[n] = '\0';
        const char *v = getenv(env);
        if (v && *v && config_set(cfg, names[i], v))
            return -1;
    }
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    return s;
}

/* Reads name = value lines from f (named path in messages); 0, or -1 after the problem. */
static int config_lines(struct config *cfg, FILE *f, const char *path)
{
    char line[2048];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *text = trim(line);
        if (*text == '\0')
            continue;
        char *eq = strchr(text, '=');
        if (!eq) {
            fprintf(stderr, "apikeyd: %s:%d: expected name = value\n", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        rc = config_set(cfg, trim(text), trim(eq + 1));
    }
    return rc;
}

/* The config file at path, or the stream file (not closed here) when it is given. */
static int config_file(struct config *cfg, const char *path, FILE *file)
{
    if (file)
        return config_lines(cfg, file, path);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "apikeyd: cannot read config file %s\n", path);
        return -1;
    }
    int rc = config_lines(cfg, f, path);
    fclose(f);
    return rc;
}

/* The settings config_set reads itself, in the order `apikeyd --settings` lists them; each is
 * also APIKEYD_<NAME> in the environment. The modules list their own (modules[] below). */
static const char *const core_names[] = {
    "listen",           "data",
    "db",               "key_prefix",
    "threads",          "workers",
    "max_connections",  "max_connections_per_client",
    "idle_timeout_seconds", "login_max_failures",
    "login_backoff_seconds", "session_ttl_seconds",
    "session_idle_seconds", "verify_max_failures",
    "secret_key_file",  "stale_after_ms",
    "max_keys_per_owner", "trusted_proxies",
    "cookie_secure",    "max_projects_per_user",
    "max_accounts_per_project", "max_site_wide_accounts",
    "github_scanning_keys_file", "revoke_max_requests",
    "tls_cert_file", "tls_key_file",
    "webhook_allow_private_targets", "webhook_retry_base_ms",
    "webhook_poll_ms", "webhook_timeout_ms",
    "retention_days", "retention_unit_seconds",
    "metrics_listen", "log_format", "log_level", "access_log",
};

static const char *const *core_settings_names(size_t *count)
{
    *count = sizeof core_names / sizeof core_names[0];
    return core_names;
}

/* Every setting's names list: apikeyd's own first, then each module's. */
static const char *const *(*const modules[])(size_t *) = {
    core_settings_names, oidc_config_names, saml_config_names, ldap_settings_names,
    mail_settings_names};

void config_list_settings(FILE *out)
{
    for (size_t m = 0; m < sizeof modules / sizeof modules[0]; m++) {
        size_t count;
        const char *const *names = modules[m](&count);
        for (size_t i = 0; i < count; i++)
            fprintf(out, "%s\n", names[i]);
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: apikeyd [--listen ADDRESS:PORT] [--data DIR | --db postgresql://...]"
               " [--config FILE]\n"
               "       apikeyd backup --data DIR [--force] FILE\n"
               "       apikeyd --settings | --version | --help\n"
               "  --listen ADDRESS:PORT  where to serve HTTP (default 127.0.0.1:8080)\n"
               "  --data DIR             the SQLite store and secret.key (default ./var)\n"
               "  --db URL               a PostgreSQL store shared by several nodes\n"
               "  --config FILE          name = value lines; every setting: --settings\n"
               "  --settings             list every setting's name\n"
               "  --version              print the version\n"
               "Each setting is also APIKEYD_<NAME> in the environment (flags win, then the\n"
               "environment, then the file). See apikeyd(8).\n");
}

int config_load(struct config *cfg, int argc, char **argv)
{
    return config_load_stream(cfg, argc, argv, NULL);
}

int config_load_stream(struct config *cfg, int argc, char **argv, FILE *file)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->listen, sizeof cfg->listen, "127.0.0.1:8080");
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "./var");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = cpus > 0 ? (unsigned)cpus : 2; /* event threads never block: one per CPU */
    cfg->workers = 32;
    cfg->max_connections = 4000;
    cfg->max_connections_per_client = 256;
    cfg->idle_timeout_seconds = 60;
    cfg->log_format = LOG_FORMAT_TEXT;
    cfg->log_level = LOG_INFO;
    core_config_defaults(&cfg->core);
    netaddr_list_parse("127.0.0.0/8, ::1/128", &cfg->trusted_proxies);

    const char *config_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(argv[i], "--settings") == 0) {
            config_list_settings(stdout);
            return 1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("apikeyd %s\n", APIKEYD_VERSION);
            return 1;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config_path = argv[i + 1];
    }
    if (config_path && config_file(cfg, config_path, file))
        return -1;
    for (size_t m = 0; m < sizeof modules / sizeof modules[0]; m++) {
        size_t count;
        const char *const *names = modules[m](&count);
        if (env_apply(cfg, names, count))
            return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        const char *name = strcmp(flag, "--listen") == 0 ? "listen"
                           : strcmp(flag, "--data") == 0 ? "data"
                           : strcmp(flag, "--db") == 0   ? "db"
                                                         : NULL;
        if (strcmp(flag, "--config") == 0) {
            i++;
            continue;
        }
        if (!name || i + 1 >= argc) {
            usage(stderr);
            return -1;
        }
        if (config_set(cfg, name, argv[++i]))
            return -1;
    }
    if (oidc_config_check(&cfg->core.oidc) ||
        saml_config_check(&cfg->core.saml, cfg->core.oidc.public_url))
        return -1;
    if (ldap_settings_check(&cfg->core.ldap))
        return -1; /* whether the LDAP settings hang together */
    if (mail_settings_check(&cfg->core.mail))
        return -1;
    if (!cfg->tls_cert_file[0] != !cfg->tls_key_file[0]) {
        fprintf(stderr, "apikeyd: tls_cert_file and tls_key_file go together: set both to "
                        "serve TLS, or neither\n");
        return -1;
    }
    if (!cfg->core.secret_key_file[0] &&
        (size_t)snprintf(cfg->core.secret_key_file, sizeof cfg->core.secret_key_file,
                         "%s/secret.key", cfg->data_dir) >= sizeof cfg->core.secret_key_file) {
        fprintf(stderr, "apikeyd: data directory path is too long\n");
        return -1;
    }
    return 0;
}
