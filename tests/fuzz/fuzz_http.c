/* fuzz_http.c — libFuzzer harness for the whole HTTP path: each input is sent over a fresh
 * connection to a real server (src/api: its event loop, parser, router, every handler, body
 * parsing, cookies and query decoding) on a real core over a temporary SQLite store, in
 * splits the input's first byte chooses. A 5xx answer, a crash or a sanitizer report is a
 * finding. For speed (about ten times the inputs a second of a TCP connection per input to
 * server threads), the server runs in the fuzzer's thread: no event thread and no workers
 * (threads = workers = 0), its event loop stepped by the harness (server_step) between its
 * sends and reads, and each connection is a socketpair the server takes as accepted from
 * 127.0.0.1 (server_adopt). The TCP listener and the thread hand-over are the HTTP suites'. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../src/api/server.h"
#include "../../src/core/users.h"
#include "../../src/store/store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned port;
static struct server *srv;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0)
        abort();
    char dir[] = "/tmp/apikeyd-fuzz-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    struct core_config cfg;
    core_config_defaults(&cfg);
    snprintf(cfg.secret_key_file, sizeof cfg.secret_key_file, "%s/secret.key", dir);
    cfg.verify_max_failures = 1000000; /* keep the throttles out of the fuzzer's way */
    cfg.login_max_failures = 1000;
    struct store *st;
    struct core *core;
    if (store_sqlite_open(dir, &st) || core_open(&cfg, st, &core) ||
        users_bootstrap(core, "admin:fuzzing-passphrase-42", stderr))
        abort();
    /* no event thread and no workers: every request is served inside server_step, in the
     * fuzzer's thread (the same code, without a hand-over between threads per request) */
    struct server_options opts = {.max_connections = 256,
                                  .max_connections_per_client = 256,
                                  .idle_timeout_seconds = 5};
    netaddr_list_parse("127.0.0.0/8", &opts.trusted_proxies);
    if (server_start(core, "127.0.0.1:0", &opts, &srv))
        abort();
    port = server_port(srv);
    return 0; /* the server lives as long as the fuzzer */
}

/* 1 when a status line of the answer says 5xx, other than 505 (the answer RFC 9112 gives a
 * version apikeyd does not serve). Answers are problem or JSON documents, whose bodies hold
 * no raw line breaks, so a status line is at the start or after a CRLF. */
static int has_5xx(const char *buf, size_t len)
{
    static const char pre[] = "HTTP/1.1 5";
    for (size_t i = 0; i + sizeof pre + 1 <= len; i++)
        if ((i == 0 || buf[i - 1] == '\n') && memcmp(buf + i, pre, sizeof pre - 1) == 0 &&
            memcmp(buf + i + sizeof pre - 1, "05", 2) != 0)
            return 1;
    return 0;
}

/* Every Argon2id hash the server makes (the bootstrap admin, the timing equaliser, users and
 * passwords the inputs set) gets libsodium's least cost instead of 64 MiB: the link wraps
 * crypto_pwhash_str (Makefile, -Wl,--wrap). Verification is libsodium's own and reads the
 * cost from the stored string, so every login is checked as in the daemon, in microseconds
 * rather than the tens of milliseconds that capped this harness at a few hundred inputs a
 * second. */
int __real_crypto_pwhash_str(char out[crypto_pwhash_STRBYTES], const char *passwd,
                             unsigned long long passwdlen, unsigned long long opslimit,
                             size_t memlimit);
int __wrap_crypto_pwhash_str(char out[crypto_pwhash_STRBYTES], const char *passwd,
                             unsigned long long passwdlen, unsigned long long opslimit,
                             size_t memlimit);
int __wrap_crypto_pwhash_str(char out[crypto_pwhash_STRBYTES], const char *passwd,
                             unsigned long long passwdlen, unsigned long long opslimit,
                             size_t memlimit)
{
    (void)opslimit;
    (void)memlimit;
    return __real_crypto_pwhash_str(out, passwd, passwdlen, crypto_pwhash_OPSLIMIT_MIN,
                                    crypto_pwhash_MEMLIMIT_MIN);
}

/* Runs the server until the client socket fd has something to read (or 2 s pass without it);
 * 1 when it has. */
static int serve_until_readable(int fd, int ms)
{
    for (int waited = 0; waited < ms; waited += 10) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 0) == 1)
            return 1;
        server_step(srv, 10);
    }
    return 0;
}

/* 1 when a fresh connection gets an answer to GET /healthz within 2 s (tells a stuck
 * connection from a stuck server when an input hangs). */
static int server_answers(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
             send(fd, req, sizeof req - 1, MSG_NOSIGNAL) > 0;
    ok = ok && serve_until_readable(fd, 2000);
    if (fd >= 0)
        close(fd);
    return ok;
}

static char answer[1 << 20];
static size_t answer_len;

/* Reads what the server has sent so far (non-blocking); 1 at the end of the answer (the
 * server closed, or the buffer is full: the rest is not needed). */
static int read_answer(int fd)
{
    for (;;) {
        ssize_t r = recv(fd, answer + answer_len, sizeof answer - 1 - answer_len, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 1;
        answer_len += (size_t)r;
        if (answer_len >= sizeof answer - 1)
            return 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 70000)
        return 0;
    size_t split = (size_t)data[0] * 16 + 1; /* bytes per write */
    data++;
    size--;
    /* a socketpair the server takes as a connection accepted from 127.0.0.1 (a trusted proxy
     * here, so the forwarding headers are read) */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        abort();
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(40000)};
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server_adopt(srv, sv[0], (struct sockaddr *)&peer);
    int fd = sv[1];
    answer_len = 0;
    int ended = 0;
    /* each write is read by the server before the next one is sent, so the split is the one
     * the server sees */
    for (size_t off = 0; off < size && !ended;) {
        size_t n = size - off < split ? size - off : split;
        ssize_t w = send(fd, data + off, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            break; /* the server closed early: fine */
        if (w > 0)
            off += (size_t)w;
        server_step(srv, w > 0 ? 0 : 10);
        ended = read_answer(fd);
    }
    shutdown(fd, SHUT_WR);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!ended) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec > 30) {
            fprintf(stderr, "fuzz_http: no answer and no close within 30 s (%zu bytes so far); "
                            "a fresh /healthz %s\n",
                    answer_len, server_answers() ? "is answered" : "is not answered either");
            abort();
        }
        ended = read_answer(fd);
        if (!ended)
            server_step(srv, 10);
    }
    close(fd);
    if (has_5xx(answer, answer_len)) {
        fprintf(stderr, "fuzz_http: a 5xx answer:\n%.*s\n",
                (int)(answer_len < 2000 ? answer_len : 2000), answer);
        abort();
    }
    return 0;
}
