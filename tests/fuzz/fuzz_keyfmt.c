/* fuzz_keyfmt.c — libFuzzer harness for the key format: keyfmt_check (prefix, base62 body,
 * CRC-32 check) on any bytes, and base62 decoding then encoding back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/base/base62.h"
#include "../../src/core/keyfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1024)
        return 0;
    char *key = malloc(size + 1);
    if (!key)
        return 0;
    memcpy(key, data, size);
    key[size] = '\0';
    (void)keyfmt_check(key, size);
    uint8_t out[64];
    size_t n = size % 33 + 1;
    if (size <= 64 && base62_decode(key, size, out, n) == 0) {
        char back[128];
        if (base62_encode(out, n, back, size) != 0 || memcmp(back, key, size) != 0)
            abort(); /* a decoded number encodes back to the same text */
    }
    free(key);
    return 0;
}
