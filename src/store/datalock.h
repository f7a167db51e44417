/* datalock.h — one daemon per SQLite data folder: an exclusive flock on DIR/apikeyd.lock,
 * held for the life of the process, with the holder's PID written in the file. A second
 * daemon on the same folder would keep its own in-memory view and go on accepting keys the
 * first one deleted. */
#ifndef APIKEYD_DATALOCK_H
#define APIKEYD_DATALOCK_H

#include "../base/err.h"

/* Takes the lock on dir. ERR_CONFLICT (logged, naming dir and the holder's PID) when another
 * process holds it; ERR_STORE when the file cannot be opened. The lock is released when the
 * process exits. */
enum err datalock_take(const char *dir);

#endif
