/* fuzz_config.c — libFuzzer harness for the config file: each input is read by config_load
 * (--config FILE) as apikeyd reads its own at start-up, line by line with the same fgets,
 * from a memory stream over the input (config_load_stream) rather than a file written per
 * input, so no system call is made per input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../src/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char empty[1];
    /* an empty input is an empty file: a zero-length memory stream is refused by some libcs */
    FILE *f = fmemopen(size ? (void *)data : empty, size ? size : 1, "r");
    if (!f)
        abort();
    /* the stream's buffer is the harness's own: a fresh 4 KiB malloc per input, filled and
     * quarantined by ASan, took most of the time */
    static char buf[BUFSIZ];
    setvbuf(f, buf, _IOFBF, sizeof buf);
    if (!size)
        fgetc(f); /* at the end already */
    /* the refusals config_load prints are expected: they go to /dev/null meanwhile (a
     * stream of its own; libFuzzer and the sanitizers write to descriptor 2 themselves) */
    static FILE *devnull;
    if (!devnull && !(devnull = fopen("/dev/null", "w")))
        abort();
    FILE *saved = stderr;
    stderr = devnull;
    char *argv[] = {"apikeyd", "--config", "fuzz-input", NULL};
    static struct config cfg; /* 92 KiB: off the stack, which ASan poisons per call */
    (void)config_load_stream(&cfg, 3, argv, f);
    stderr = saved;
    fclose(f);
    return 0;
}
