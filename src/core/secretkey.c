/* secretkey.c — see secretkey.h. libsodium secretbox (XSalsa20-Poly1305). */
#include "secretkey.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include "../base/log.h"

struct secretkey {
    uint8_t key[crypto_secretbox_KEYBYTES];
};

static int read_all(int fd, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    uint8_t extra;
    return read(fd, &extra, 1) == 0 ? 0 : -1; /* exactly n bytes */
}

enum err secretkey_load(const char *path, struct secretkey **out)
{
    struct secretkey *k = sodium_malloc(sizeof *k);
    if (!k)
        return ERR_NOMEM;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            crypto_secretbox_keygen(k->key);
            int ok = write(fd, k->key, sizeof k->key) == (ssize_t)sizeof k->key && fsync(fd) == 0;
            close(fd);
            if (!ok) {
                log_error("secret key: cannot write %s", path);
                unlink(path);
                sodium_free(k);
                return ERR_STORE;
            }
            log_info("secret key: created %s", path);
            *out = k;
            return ERR_OK;
        }
    }
    if (fd < 0 || read_all(fd, k->key, sizeof k->key) != 0) {
        log_error("secret key: cannot read 32 bytes from %s", path);
        if (fd >= 0)
            close(fd);
        sodium_free(k);
        return ERR_STORE;
    }
    close(fd);
    *out = k;
    return ERR_OK;
}

void secretkey_free(struct secretkey *k)
{
    if (k)
        sodium_free(k); /* wipes */
}

void secretkey_seal(const struct secretkey *k, const uint8_t *plain, size_t n, uint8_t *out)
{
    randombytes_buf(out, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, plain, n, out, k->key);
}

int secretkey_open(const struct secretkey *k, const uint8_t *sealed, size_t len, uint8_t *plain)
{
    if (len < SECRETKEY_OVERHEAD)
        return -1;
    return crypto_secretbox_open_easy(plain, sealed + crypto_secretbox_NONCEBYTES,
                                      len - crypto_secretbox_NONCEBYTES, sealed, k->key);
}
