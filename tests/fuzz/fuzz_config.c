/* fuzz_config.c — libFuzzer harness for the config file: each input is written to a file
 * and read by config_load (--config FILE), as apikeyd reads its own at start-up. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../src/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/apikeyd-fuzz-config-%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    /* the refusals config_load prints are expected: stderr goes to /dev/null meanwhile, and
     * back for libFuzzer and the sanitizers */
    static int devnull = -1;
    if (devnull < 0)
        devnull = open("/dev/null", O_WRONLY);
    int saved = dup(STDERR_FILENO);
    fflush(stderr);
    dup2(devnull, STDERR_FILENO);
    char *argv[] = {"apikeyd", "--config", path, NULL};
    struct config cfg;
    (void)config_load(&cfg, 3, argv);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    return 0;
}
