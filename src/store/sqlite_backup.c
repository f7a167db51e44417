/* sqlite_backup.c — see store.h (store_sqlite_backup). A consistent copy of DIR/apikeyd.db
 * made with SQLite's online backup API while a daemon may be serving from it.
 *
 * The source is opened read-only and the data-folder lock (datalock.c) is not taken: that
 * lock keeps a second *serving* daemon away; a backup changes nothing. SQLite's own locking
 * is what makes the copy consistent: sqlite3_backup_step(-1) copies every page inside one
 * read transaction, and in WAL mode a reader sees the last commit before it started —
 * including what still sits in apikeyd.db-wal — while the daemon goes on committing. The
 * copy goes to FILE.tmp, is checked (quick_check), fsynced, and then takes the name FILE
 * (without replacing an existing FILE unless force); the folder is fsynced last.
 *
 * FILE.tmp is made by this process (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600) and SQLite opens it
 * without following a symlink and without creating it: someone who can write to FILE's folder
 * (a shared /tmp) and plants a symlink or a file of their own at FILE.tmp after the checks
 * gets a refusal, never the copy of the password and key hashes written into their file. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define BACKUP_BUSY_MS 10000 /* how long a busy source (WAL recovery, a restart) is waited for */

static enum err fail(char *msg, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum err fail(char *msg, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return ERR_STORE;
}

/* Removes FILE.tmp and the rollback journal SQLite may have left beside it. */
static void remove_tmp(const char *tmp)
{
    char journal[4200];
    unlink(tmp);
    if ((size_t)snprintf(journal, sizeof journal, "%s-journal", tmp) < sizeof journal)
        unlink(journal);
}

/* fsync of a file or folder by path; 0 or -1 with errno. */
static int sync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* Copies src's main database into tmp (the empty file this process just made: no symlink is
 * followed, nothing is created), and checks the copy. */
static enum err copy_into(sqlite3 *src, const char *tmp, char *msg, size_t cap)
{
    sqlite3 *dst = NULL;
    enum err e = ERR_OK;
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
        SQLITE_OK) {
        e = fail(msg, cap, "cannot create %s: %s", tmp, dst ? sqlite3_errmsg(dst) : "?");
        sqlite3_close(dst);
        return e;
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        e = fail(msg, cap, "cannot start the backup into %s: %s", tmp, sqlite3_errmsg(dst));
        sqlite3_close(dst);
        return e;
    }
    int rc;
    int waited = 0;
    /* -1: every page in one step, so in one read transaction of the source (one snapshot) */
    while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        if (waited >= BACKUP_BUSY_MS)
            break;
        sqlite3_sleep(50);
        waited += 50;
    }
    int done = rc == SQLITE_DONE;
    rc = sqlite3_backup_finish(b);
    if (!done || rc != SQLITE_OK) {
        e = fail(msg, cap, "copying into %s failed: %s", tmp, sqlite3_errmsg(dst));
        sqlite3_close(dst);
        return e;
    }
    /* a file of its own: no -wal beside it is needed to read it (apikeyd turns WAL back on) */
    if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        e = fail(msg, cap, "cannot finish %s: %s", tmp, sqlite3_errmsg(dst));
        sqlite3_close(dst);
        return e;
    }
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(dst, "PRAGMA quick_check", -1, &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(q, 0), "ok") != 0)
        e = fail(msg, cap, "the copy in %s does not pass SQLite's quick_check: %s", tmp,
                 sqlite3_errmsg(dst));
    sqlite3_finalize(q);
    if (sqlite3_close(dst) != SQLITE_OK && !e)
        e = fail(msg, cap, "cannot close %s", tmp);
    return e;
}

/* Opens DIR/apikeyd.db read-only and checks it holds an apikeyd schema. */
static enum err open_source(const char *db, sqlite3 **out, char *msg, size_t cap)
{
    sqlite3 *src = NULL;
    enum err e = ERR_OK;
    if (access(db, R_OK) != 0) {
        e = fail(msg, cap, "cannot read %s: %s", db, strerror(errno));
    } else if (sqlite3_open_v2(db, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        e = fail(msg, cap, "cannot open %s: %s", db, src ? sqlite3_errmsg(src) : "?");
    } else {
        sqlite3_busy_timeout(src, BACKUP_BUSY_MS);
        sqlite3_stmt *q = NULL;
        int version = -1;
        if (sqlite3_prepare_v2(src, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW)
            version = sqlite3_column_int(q, 0);
        else
            e = fail(msg, cap, "cannot read %s: %s", db, sqlite3_errmsg(src));
        sqlite3_finalize(q);
        if (!e && version <= 0)
            e = fail(msg, cap, "%s is not an apikeyd database (no schema)", db);
    }
    if (e) {
        sqlite3_close(src);
        return e;
    }
    *out = src;
    return ERR_OK;
}

/* Gives tmp the name file: never over an existing file unless force. */
static enum err publish(const char *tmp, const char *file, int force, char *msg, size_t cap)
{
    if (force) {
        if (rename(tmp, file) != 0)
            return fail(msg, cap, "cannot rename %s to %s: %s", tmp, file, strerror(errno));
        return ERR_OK;
    }
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, file, RENAME_NOREPLACE) == 0)
        return ERR_OK;
    if (errno == EEXIST)
        return fail(msg, cap, "%s exists (appeared during the backup); use --force to replace "
                              "it", file);
    if (errno != EINVAL && errno != ENOSYS)
        return fail(msg, cap, "cannot rename %s to %s: %s", tmp, file, strerror(errno));
    if (link(tmp, file) == 0) { /* a file system without RENAME_NOREPLACE */
        unlink(tmp);
        return ERR_OK;
    }
    if (errno == EEXIST)
        return fail(msg, cap, "%s exists; use --force to replace it", file);
    return fail(msg, cap, "cannot create %s: %s", file, strerror(errno));
}

enum err store_sqlite_backup(const char *dir, const char *file, int force, char *msg, size_t cap)
{
    char db[4200], tmp[4200], folder[4200];
    struct stat sb;
    if ((size_t)snprintf(db, sizeof db, "%s/apikeyd.db", dir) >= sizeof db ||
        (size_t)snprintf(tmp, sizeof tmp, "%s.tmp", file) >= sizeof tmp ||
        (size_t)snprintf(folder, sizeof folder, "%s", file) >= sizeof folder)
        return fail(msg, cap, "a path is too long");
    if (!force && lstat(file, &sb) == 0)
        return fail(msg, cap, "%s exists; use --force to replace it", file);
    if (force && lstat(file, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISLNK(sb.st_mode))
        return fail(msg, cap, "%s is not a regular file; --force replaces only a file", file);
    if (lstat(tmp, &sb) == 0) {
        if (!force)
            return fail(msg, cap, "%s exists: another backup is running or one was "
                                  "interrupted; remove it or use --force", tmp);
        remove_tmp(tmp);
    }
    sqlite3 *src = NULL;
    enum err e = open_source(db, &src, msg, cap);
    if (e)
        return e;
    /* ours alone: a symlink or file someone planted since the check above is refused */
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        e = errno == EEXIST || errno == ELOOP
                ? fail(msg, cap, "%s appeared during the backup (another backup, or a file or "
                                 "symlink someone else put there): not written", tmp)
                : fail(msg, cap, "cannot create %s: %s", tmp, strerror(errno));
        sqlite3_close(src);
        return e; /* not ours: left as it is */
    }
    e = copy_into(src, tmp, msg, cap);
    sqlite3_close(src);
    struct stat made, now;
    if (!e && (fstat(fd, &made) != 0 || lstat(tmp, &now) != 0 || made.st_dev != now.st_dev ||
               made.st_ino != now.st_ino))
        e = fail(msg, cap, "%s was replaced during the backup: not used", tmp);
    if (!e && fsync(fd) != 0)
        e = fail(msg, cap, "cannot fsync %s: %s", tmp, strerror(errno));
    close(fd);
    if (!e)
        e = publish(tmp, file, force, msg, cap);
    if (e) {
        remove_tmp(tmp);
        return e;
    }
    if (sync_path(dirname(folder), O_RDONLY | O_DIRECTORY) != 0)
        return fail(msg, cap, "%s is written, but its folder could not be fsynced: %s", file,
                    strerror(errno));
    return ERR_OK;
}
