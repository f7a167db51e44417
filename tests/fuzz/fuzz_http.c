/* fuzz_http.c — libFuzzer harness for the whole HTTP path: each input is sent over a real
 * loopback connection to a real server (src/api: parser, router, every handler, body parsing,
 * cookies and query decoding) on a real core over a temporary SQLite store, in splits the
 * input's first byte chooses. A 5xx answer, a crash or a sanitizer report is a finding. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/api/server.h"
#include "../../src/core/users.h"
#include "../../src/store/store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned port;

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
    struct server *srv;
    if (store_sqlite_open(dir, &st) || core_open(&cfg, st, &core) ||
        users_bootstrap(core, "admin:fuzzing-passphrase-42", stderr))
        abort();
    struct server_options opts = {1, 4, 256, 256, 5, {0}, 0, NULL, NULL, 0}; /* plain HTTP */
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
    struct pollfd p = {fd, POLLIN, 0};
    ok = ok && poll(&p, 1, 2000) == 1;
    if (fd >= 0)
        close(fd);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 70000)
        return 0;
    size_t split = (size_t)data[0] * 16 + 1; /* bytes per write */
    data++;
    size--;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        abort();
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (size_t off = 0; off < size; off += split) {
        size_t n = size - off < split ? size - off : split;
        if (send(fd, data + off, n, MSG_NOSIGNAL) < 0)
            break; /* the server closed early: fine */
    }
    shutdown(fd, SHUT_WR);
    static char buf[1 << 20];
    size_t got = 0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 30000) <= 0) {
            fprintf(stderr, "fuzz_http: no answer and no close within 30 s (%zu bytes so far); "
                            "a fresh /healthz %s\n",
                    got, server_answers() ? "is answered" : "is not answered either");
            abort();
        }
        ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (r <= 0 || got + (size_t)r >= sizeof buf - 1)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (has_5xx(buf, got)) {
        fprintf(stderr, "fuzz_http: a 5xx answer:\n%.*s\n", (int)(got < 2000 ? got : 2000), buf);
        abort();
    }
    return 0;
}
