/* main.c — apikeyd start-up and shut-down: settings, store, core, first admin, HTTP server;
 * then wait for SIGTERM or SIGINT and stop in order (server, last-used flush, store); SIGHUP
 * meanwhile reloads the TLS certificate and key.
 * `apikeyd backup ...` runs the backup command instead (backup.c). */
#include <signal.h>
#include <sys/resource.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/server.h"
#include "api/tls.h"
#include "backup.h"
#include "base/log.h"
#include "config.h"
#include "core/users.h"
#include "store/datalock.h"
#include "store/store.h"

static enum err open_store(const struct config *cfg, struct store **out)
{
    if (cfg->db_url[0]) {
        if (strncmp(cfg->db_url, "postgresql://", 13) != 0 &&
            strncmp(cfg->db_url, "postgres://", 11) != 0) {
            log_error("--db must be a postgresql:// URL");
            return ERR_INVALID;
        }
        return store_pg_open(cfg->db_url, out);
    }
    if (datalock_take(cfg->data_dir) != ERR_OK) /* one daemon per SQLite folder */
        return ERR_CONFLICT;
    return store_sqlite_open(cfg->data_dir, out);
}

/* Raises the soft limit of open files towards what max_connections needs (the hard limit
 * caps it), so the connection limit, not EMFILE, is what refuses connections. */
static void raise_open_files(unsigned max_connections)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)max_connections + 256; /* the store, logs and threads need a few */
    if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max)
        want = rl.rlim_max;
    if (want > rl.rlim_cur) {
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            log_error("cannot raise the open files limit to %lu", (unsigned long)want);
    }
}

/* The first admin's password, framed so that it stands out after the build's output. */
static void print_banner(const char *notice, const char *scheme, const char *listen,
                         unsigned port)
{
    static const char rule[] = "================================================================";
    char host[128];
    snprintf(host, sizeof host, "%s", listen);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "[::]") == 0 || !host[0])
        snprintf(host, sizeof host, "127.0.0.1"); /* every address: this machine's will do */
    fprintf(stderr, "\n%s\n%s  Portal: %s://%s:%u/\n%s\n\n", rule, notice, scheme, host, port,
            rule);
    fflush(stderr);
}

/* What start-up prints once the port is bound, before the first request is served. */
struct announcement {
    const struct config *cfg;
    char *notice; /* the generated admin password's notice, or "" */
};

static void announce(struct server *server, void *ctx)
{
    const struct announcement *a = ctx;
    log_info("apikeyd listening on %s://%s (port %u), data in %s",
             server_tls(server) ? "https" : "http", a->cfg->listen, server_port(server),
             a->cfg->data_dir);
    if (a->notice[0]) {
        print_banner(a->notice, server_tls(server) ? "https" : "http", a->cfg->listen,
                     server_port(server));
        sodium_memzero(a->notice, strlen(a->notice));
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "backup") == 0)
        return backup_main(argc - 1, argv + 1);
    struct config cfg;
    int rc = config_load(&cfg, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    log_configure((enum log_format)cfg.log_format, (enum log_level)cfg.log_level);
    umask(077);
    if (sodium_init() < 0) {
        log_error("libsodium failed to initialise");
        return 1;
    }
    /* block the stop signals and SIGHUP in every thread; the main thread waits for them below */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* past a file size limit (ulimit -f) a write fails with EFBIG, answered as a full store
     * (503), instead of the signal ending the process */
    signal(SIGXFSZ, SIG_IGN);

    struct store *store = NULL;
    struct core *core = NULL;
    struct server *server = NULL;
    struct tls *tls = NULL;
    int status = 1;
    if (users_bootstrap_check(getenv("APIKEYD_BOOTSTRAP_ADMIN")) != ERR_OK)
        return 1; /* before anything is created */
    if (cfg.tls_cert_file[0] && tls_open(cfg.tls_cert_file, cfg.tls_key_file, &tls) != ERR_OK)
        return 1; /* unusable TLS files (logged): before anything is created either */
    mkdir(cfg.data_dir, 0700); /* holds the server key even when the store is PostgreSQL */
    if (open_store(&cfg, &store) != ERR_OK)
        goto out;
    if (core_open(&cfg.core, store, &core) != ERR_OK) {
        log_error("core: cannot start");
        goto out;
    }
    /* a generated admin password is held here, unbuffered (no stdio copy), and shown in a
     * banner once the server listens and before it serves, after all else start-up prints */
    char notice[512] = "";
    FILE *nf = fmemopen(notice, sizeof notice, "w");
    if (!nf)
        goto out;
    setvbuf(nf, NULL, _IONBF, 0);
    enum err booted = users_bootstrap(core, getenv("APIKEYD_BOOTSTRAP_ADMIN"), nf);
    fclose(nf);
    if (booted != ERR_OK)
        goto wiped;
    raise_open_files(cfg.max_connections);
    struct announcement said = {&cfg, notice};
    struct server_options opts = {
        .threads = cfg.threads,
        .workers = cfg.workers,
        .max_connections = cfg.max_connections,
        .max_connections_per_client = cfg.max_connections_per_client,
        .idle_timeout_seconds = cfg.idle_timeout_seconds,
        .trusted_proxies = cfg.trusted_proxies,
        .cookie_secure = (enum cookie_secure)cfg.cookie_secure,
        .tls = tls,
        .metrics_listen = cfg.metrics_listen,
        .access_log = cfg.access_log,
        .before_serving = announce,
        .before_serving_ctx = &said,
    };
    if (server_start(core, cfg.listen, &opts, &server) != ERR_OK)
        goto wiped;

    int sig = 0;
    while (sigwait(&stop, &sig) == 0 && sig == SIGHUP) {
        if (server_tls(server))
            server_reload(server); /* logs what it did */
        else
            log_info("SIGHUP: nothing to reload (TLS is off)");
    }
    log_info("received signal %d, shutting down", sig);
    status = 0;
wiped:
    sodium_memzero(notice, sizeof notice);
out:
    server_stop(server);
    tls_close(tls); /* after the connections that hold its context */
    core_close(core); /* flushes last-used times */
    if (store)
        store->ops->close(store);
    if (status == 0)
        log_info("stopped cleanly");
    return status;
}
