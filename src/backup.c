/* backup.c — the `apikeyd backup` command line: arguments, messages and exit codes around
 * store_sqlite_backup (store/sqlite_backup.c). Exit 0 when the copy is written, 1 when it
 * failed (the message names the file), 2 for bad usage. */
#include "backup.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "store/store.h"

static int usage(FILE *f, int status)
{
    fprintf(f, "usage: apikeyd backup --data DIR [--force] FILE\n"
               "Writes a consistent copy of DIR/apikeyd.db to FILE, also while a daemon "
               "serves from DIR.\n"
               "--force replaces an existing FILE. Keep a copy of the server key "
               "(DIR/secret.key, or secret_key_file) with it.\n"
               "For PostgreSQL use pg_dump (docs/DEPLOYMENT.md).\n");
    return status;
}

int backup_main(int argc, char **argv)
{
    const char *dir = NULL, *file = NULL;
    int force = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(stdout, 0);
        if (strcmp(argv[i], "--force") == 0) {
            force = 1;
        } else if (strcmp(argv[i], "--data") == 0) {
            if (i + 1 >= argc || dir) {
                fprintf(stderr, "apikeyd backup: --data needs one folder\n");
                return usage(stderr, 2);
            }
            dir = argv[++i];
        } else if (strcmp(argv[i], "--db") == 0) {
            fprintf(stderr, "apikeyd backup: copies a SQLite data folder; back up PostgreSQL "
                            "with pg_dump or WAL archiving (docs/DEPLOYMENT.md)\n");
            return 2;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "apikeyd backup: unknown option %s\n", argv[i]);
            return usage(stderr, 2);
        } else if (file) {
            fprintf(stderr, "apikeyd backup: one target FILE only (got %s and %s)\n", file,
                    argv[i]);
            return usage(stderr, 2);
        } else {
            file = argv[i];
        }
    }
    if (!dir || !*dir || !file || !*file) {
        fprintf(stderr, "apikeyd backup: %s\n",
                !dir || !*dir ? "--data DIR is required" : "the target FILE is required");
        return usage(stderr, 2);
    }
    umask(077); /* the copy holds password hashes and sealed TOTP seeds */
    char msg[1024];
    if (store_sqlite_backup(dir, file, force, msg, sizeof msg) != ERR_OK) {
        fprintf(stderr, "apikeyd backup: %s\n", msg);
        return 1;
    }
    printf("apikeyd backup: %s/apikeyd.db copied to %s; keep the server key (%s/secret.key "
           "unless secret_key_file says otherwise) with it\n", dir, file, dir);
    return 0;
}
