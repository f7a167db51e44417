/* password.c — see password.h. The cost is libsodium's "interactive" Argon2id setting (64 MiB
 * each); at most one hash per CPU runs at once, so a burst of logins on many worker threads
 * queues instead of taking 64 MiB per thread. */
#include "password.h"

#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../base/fielderr.h"
#include "../base/text.h"

static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static sem_t hashing_slots;
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;

static void make_slots(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    sem_init(&hashing_slots, 0, cpus > 1 ? (unsigned)cpus : 1);
}

/* Waits for one of the hashing slots (sem_wait retried when a signal interrupts it). */
static void slot_take(void)
{
    pthread_once(&slots_once, make_slots);
    while (sem_wait(&hashing_slots) != 0) {
    }
}

/* Argon2id hash of password into out, in one of the hashing slots. 0 on success. */
static int hash_in_slot(char out[crypto_pwhash_STRBYTES], const char *password, size_t len)
{
    slot_take();
    int rc = crypto_pwhash_str(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE);
    sem_post(&hashing_slots);
    return rc;
}

/* 1 when password matches hash (an Argon2id string), checked in one of the hashing slots. */
static int verify_in_slot(const char *hash, const char *password, size_t len)
{
    slot_take();
    int ok = crypto_pwhash_str_verify(hash, password, len) == 0;
    sem_post(&hashing_slots);
    return ok;
}

static void make_dummy_hash(void)
{
    if (hash_in_slot(dummy_hash, "apikeyd-timing-equaliser", 24) != 0)
        dummy_hash[0] = '\0';
}

enum err password_hash(const char *password, size_t len, char out[PASSWORD_HASH_MAX])
{
    if (hash_in_slot(out, password, len) != 0)
        return ERR_NOMEM;
    return ERR_OK;
}

int password_verify(const char *hash, const char *password, size_t len)
{
    if (!hash) {
        pthread_once(&dummy_once, make_dummy_hash);
        if (dummy_hash[0] && verify_in_slot(dummy_hash, password, len))
            return 0; /* cannot match a real account either way */
        return 0;
    }
    if (hash[0] == '\0' || memchr(hash, '\0', PASSWORD_HASH_MAX) == NULL)
        return 0;
    return verify_in_slot(hash, password, len);
}

/* Common passwords of 12 or more characters (from public breach-frequency lists); compared
 * without regard to case. */
static const char *const common_passwords[] = {
    "123456789012",   "1234567890123",    "12345678910111", "password1234",
    "password12345",  "passwordpassword", "qwertyuiop12",   "qwertyuiop123",
    "qwertyuiopasdf", "1q2w3e4r5t6y",     "1qaz2wsx3edc",   "abcdefghijkl",
    "abc123abc123",   "iloveyou1234",     "letmein12345",   "welcome12345",
    "administrator",  "adminadmin12",     "changeme1234",   "trustno1trustno1",
    "000000000000",   "111111111111",     "999999999999",   "123123123123",
    "qazwsxedcrfv",   "asdfghjkl123",     "zxcvbnm12345",   "football1234",
    "baseball1234",   "princess1234",     "sunshine1234",   "superman1234",
    "monkey123456",   "dragon123456",     "correcthorse",   "correcthorsebatterystaple",
    "p@ssw0rd1234",   "passw0rd1234",     "password123!",   "Password123!",
};

void password_check_policy(const char *username, const char *password, const char *field,
                           struct field_errors *fe)
{
    size_t chars = text_codepoints(password);
    if (chars < 12) {
        field_errors_add(fe, field, "must be at least 12 characters");
        return;
    }
    if (chars > 128) {
        field_errors_add(fe, field, "must be at most 128 characters");
        return;
    }
    if (username && strcasecmp(password, username) == 0) {
        field_errors_add(fe, field, "must not be the username");
        return;
    }
    for (size_t i = 0; i < sizeof common_passwords / sizeof common_passwords[0]; i++) {
        if (strcasecmp(password, common_passwords[i]) == 0) {
            field_errors_add(fe, field, "is too common; choose another");
            return;
        }
    }
}
