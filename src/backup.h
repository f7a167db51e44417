/* backup.h — `apikeyd backup --data DIR [--force] FILE`: an online copy of the SQLite store
 * (see store_sqlite_backup). */
#ifndef APIKEYD_BACKUP_H
#define APIKEYD_BACKUP_H

/* Runs the command; argv[0] is "backup". Returns the exit status: 0 written, 1 failed (a
 * message naming the file on stderr), 2 bad usage. */
int backup_main(int argc, char **argv);

#endif
