/* hosts.h — where `apikey login` keeps the server and key: $XDG_CONFIG_HOME/apikey/hosts.json
 * (~/.config when unset), mode 0600 in a 0700 folder; APIKEY_SERVER and APIKEY_TOKEN win. */
#ifndef APIKEY_HOSTS_H
#define APIKEY_HOSTS_H

#include <stddef.h>

struct host {
    char server[512];
    char key[256];
    char key_id[64];
    char user[128];
};

/* The server and key to use: APIKEY_SERVER / APIKEY_TOKEN, else the stored current host;
 * server_flag (may be NULL) names a server whose stored key is taken. The key may be "".
 * 0, or -1 (said) when the folder or hosts.json is not private to this user. */
int hosts_current(const char *server_flag, struct host *out);

/* Stores h as the current host (replacing what was stored for its server). 0 or -1 (said). */
int hosts_save(const struct host *h);

/* Forgets server's entry. 0 or -1 (said). */
int hosts_forget(const char *server);

/* The file's path. */
void hosts_path(char *out, size_t cap);

#endif
