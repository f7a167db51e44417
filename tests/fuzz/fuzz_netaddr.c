/* fuzz_netaddr.c — libFuzzer harness for addresses and CIDR lists (trusted_proxies,
 * client_ip, X-Real-IP): parsing never reads past the text, and an address inside a list
 * built from itself is found there. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/base/netaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct netaddr a;
    if (netaddr_parse(text, &a)) {
        char name[NETADDR_TEXT_MAX];
        netaddr_throttle_name(&a, name);
        struct netaddr_list self;
        if (netaddr_list_parse(text, &self) != 0 || !netaddr_list_contains(&self, &a))
            abort();
    }
    struct netaddr_list l;
    if (netaddr_list_parse(text, &l) == 0 && l.count > NETADDR_LIST_MAX)
        abort();
    free(text);
    return 0;
}
