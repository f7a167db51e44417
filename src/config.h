/* config.h — apikeyd's settings from defaults, a config file, the environment and flags
 * (later ones win). */
#ifndef APIKEYD_CONFIG_H
#define APIKEYD_CONFIG_H

#include <stdio.h>

#include "base/netaddr.h"
#include "core/core.h"

struct config {
    char listen[128];
    char data_dir[1024];
    char db_url[1024];
    unsigned threads; /* event threads: parsing and verification */
    unsigned workers; /* threads for requests that may block on the store */
    unsigned max_connections;      /* open client connections at once */
    unsigned max_connections_per_client; /* from one address (IPv6 /64), trusted proxies aside */
    unsigned idle_timeout_seconds; /* a connection silent this long is closed */
    struct netaddr_list trusted_proxies; /* peers whose X-Real-IP / X-Forwarded-For count */
    int cookie_secure; /* 0 auto, 1 always, 2 never (enum cookie_secure in api/server.h) */
    char tls_cert_file[1024]; /* PEM certificate chain; with tls_key_file: serve TLS */
    char tls_key_file[1024];  /* PEM private key (not encrypted, not world-readable) */
    char metrics_listen[128]; /* GET /metrics here ("" = off) */
    int log_format;           /* enum log_format (base/log.h) */
    int log_level;            /* enum log_level */
    int access_log;           /* one line per request */
    struct core_config core;
};

/* Fills cfg from defaults, then --config FILE, APIKEYD_* variables and flags in argv.
 * Returns 0, 1 when --help or --version was answered, or -1 after printing the problem. */
int config_load(struct config *cfg, int argc, char **argv);

/* Prints the name of every setting apikeyd reads (`apikeyd --settings`), one per line. */
void config_list_settings(FILE *out);

/* config_load, with the text of --config FILE read from the open stream file instead of
 * opening FILE (the config fuzzer feeds each input from memory); file is not closed. */
int config_load_stream(struct config *cfg, int argc, char **argv, FILE *file);

#endif
