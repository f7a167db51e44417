/* scanning_keys.c — see scanning_keys.h. The file is read with jansson, each PEM key with
 * OpenSSL (PEM_read_bio_PUBKEY), and only P-256 keys are kept; a report is checked with
 * EVP_DigestVerify (SHA-256, DER signature) after libsodium's strict base64 decoding. */
#include "scanning_keys.h"

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../base/log.h"

#define SETTING "github_scanning_keys_file"
#define PEM_MAX 4096 /* bytes of one PEM public key */

struct scanning_key {
    char id[SCANNING_KEY_ID_MAX + 1];
    EVP_PKEY *pkey;
};

struct scanning_keys {
    size_t count;
    struct scanning_key keys[SCANNING_KEYS_MAX];
};

void scanning_keys_free(struct scanning_keys *ks)
{
    if (!ks)
        return;
    for (size_t i = 0; i < ks->count; i++)
        EVP_PKEY_free(ks->keys[i].pkey);
    free(ks);
}

/* The PEM text as an EC P-256 public key, or NULL (anything else). */
static EVP_PKEY *p256_key(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)strlen(pem));
    EVP_PKEY *pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    char group[32] = "";
    if (pkey && (!EVP_PKEY_is_a(pkey, "EC") ||
                 !EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                                 sizeof group, NULL) ||
                 strcmp(group, "prime256v1") != 0)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    ERR_clear_error(); /* a refused key leaves nothing in this thread's OpenSSL queue */
    return pkey;
}

/* Reads one entry of public_keys into ks (skipped with a warning when not P-256). 0, or -1
 * for an entry that is not {key_identifier, key} strings. */
static int add_entry(struct scanning_keys *ks, json_t *entry, size_t index)
{
    json_t *id = json_object_get(entry, "key_identifier");
    json_t *key = json_object_get(entry, "key");
    if (!json_is_object(entry) || !json_is_string(id) || !json_is_string(key) ||
        json_string_length(id) == 0 || json_string_length(id) > SCANNING_KEY_ID_MAX ||
        strlen(json_string_value(id)) != json_string_length(id) ||
        json_string_length(key) > PEM_MAX ||
        strlen(json_string_value(key)) != json_string_length(key)) {
        log_error("%s: public_keys[%zu] needs a key_identifier (1-%d bytes) and a PEM key", SETTING,
                  index, SCANNING_KEY_ID_MAX);
        return -1;
    }
    EVP_PKEY *pkey = p256_key(json_string_value(key));
    if (!pkey) {
        log_warn("%s: public_keys[%zu] is not an ECDSA P-256 public key: skipped", SETTING, index);
        return 0;
    }
    if (ks->count == SCANNING_KEYS_MAX) {
        EVP_PKEY_free(pkey);
        log_warn("%s: more than %d keys: public_keys[%zu] skipped", SETTING, SCANNING_KEYS_MAX,
                 index);
        return 0;
    }
    struct scanning_key *k = &ks->keys[ks->count++];
    snprintf(k->id, sizeof k->id, "%s", json_string_value(id));
    k->pkey = pkey;
    return 0;
}

enum err scanning_keys_load(const char *path, struct scanning_keys **out)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > SCANNING_KEYS_FILE_MAX) {
        log_error("%s: %s is not a readable file of at most %d bytes", SETTING, path,
                  SCANNING_KEYS_FILE_MAX);
        return ERR_INVALID;
    }
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    json_t *list = doc ? json_object_get(doc, "public_keys") : NULL;
    if (!json_is_array(list)) {
        log_error("%s: %s is not GitHub's {\"public_keys\": [...]} document", SETTING, path);
        json_decref(doc);
        return ERR_INVALID;
    }
    struct scanning_keys *ks = calloc(1, sizeof *ks);
    if (!ks) {
        json_decref(doc);
        return ERR_NOMEM;
    }
    int bad = 0;
    for (size_t i = 0; i < json_array_size(list) && !bad; i++)
        bad = add_entry(ks, json_array_get(list, i), i);
    json_decref(doc);
    if (!bad && ks->count == 0)
        log_error("%s: %s holds no ECDSA P-256 public key", SETTING, path);
    if (bad || ks->count == 0) {
        scanning_keys_free(ks);
        return ERR_INVALID;
    }
    log_info("%s: %zu GitHub secret scanning keys", SETTING, ks->count);
    *out = ks;
    return ERR_OK;
}

enum err scanning_keys_verify(const struct scanning_keys *ks, const char *key_id,
                              const char *signature_b64, const char *body, size_t len,
                              const char **why)
{
    const struct scanning_key *k = NULL;
    for (size_t i = 0; i < ks->count && !k; i++)
        if (strcmp(ks->keys[i].id, key_id) == 0)
            k = &ks->keys[i];
    if (!k) {
        *why = "the Github-Public-Key-Identifier names no key of github_scanning_keys_file";
        return ERR_UNAUTHENTICATED;
    }
    unsigned char sig[SCANNING_SIGNATURE_MAX];
    size_t sig_len = 0;
    if (sodium_base642bin(sig, sizeof sig, signature_b64, strlen(signature_b64), NULL, &sig_len,
                          NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        sig_len == 0) {
        *why = "the Github-Public-Key-Signature is not base64";
        return ERR_UNAUTHENTICATED;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
             EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)body, len) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error(); /* a malformed DER signature leaves errors behind */
    if (!ok) {
        *why = "the Github-Public-Key-Signature does not match the body";
        return ERR_UNAUTHENTICATED;
    }
    return ERR_OK;
}
