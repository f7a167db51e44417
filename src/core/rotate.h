/* rotate.h — key rotation with overlap, token families and reuse detection (GitLab's token
 * families). A rotation replaces a live key that has not been rotated out with a new one of
 * the same name, description, scopes and owner; the old key keeps working for the overlap and
 * then answers EXPIRED, but stays stored as "rotated out". Every key belongs to a family (the
 * id of the key its chain of rotations began with). A rotated-out key presented after its
 * overlap to a rotate endpoint is taken as stolen: every live key of its family is revoked. */
#ifndef APIKEYD_ROTATE_H
#define APIKEYD_ROTATE_H

#include <stdint.h>

#include "../base/fielderr.h"
#include "core.h"
#include "keyindex.h"

#define ROTATE_OVERLAP_MAX_SECONDS 604800 /* 7 days */

struct rotate_input {
    int has_overlap;         /* 0: no overlap (the old key stops at once) */
    int64_t overlap_seconds; /* 0..ROTATE_OVERLAP_MAX_SECONDS, checked here */
    int has_expires_at;      /* 0: the old key's lifetime, counted from now (keys.h rules) */
    int64_t expires_at;
};

/* Rotates key id of owner_type:owner_id, for a caller already allowed to create and delete
 * that owner's keys. fe may hold problems found while parsing (those fields are not checked
 * again). The new key gets the old one's name, description, scopes and owner, created_by the
 * caller, a new id and secret, rotated_from = id and the old one's family; its expiry follows
 * create's rules (keys_check_expiry) counted from now. The old key's expiry becomes now +
 * overlap (never later than it was). One transaction with the audit event key.rotate (target
 * the new key). On ERR_OK fills *out and secret (wipe it after sending it once). Refusals,
 * with nothing stored: ERR_INVALID (fe), ERR_NOT_FOUND (not that owner's key), ERR_CONFLICT
 * (rotated out already, also by a concurrent rotation, or expired; *why says which),
 * ERR_FORBIDDEN (a calling key lacks one of the key's scopes, or the owner is disabled),
 * ERR_LIMIT (max_keys_per_owner: rotated-out keys count until deleted). */
enum err rotate_key_owned(struct core *c, const struct caller *who, const char *owner_type,
                          const char *owner_id, const char *id, const struct rotate_input *in,
                          struct field_errors *fe, struct key_record *out,
                          char secret[KEYFMT_MAX_LEN + 1], const char **why);

/* Rotates one of the caller's own keys (another owner's key is ERR_NOT_FOUND). */
enum err rotate_key(struct core *c, const struct caller *who, const char *id,
                    const struct rotate_input *in, struct field_errors *fe,
                    struct key_record *out, char secret[KEYFMT_MAX_LEN + 1], const char **why);

/* Reuse detection, for a key presented to a rotate endpoint that verification found EXPIRED
 * (view): when the store says it was rotated out, every key of its family that has not
 * expired is deleted (from the store, then from this node's index; other nodes follow the
 * feed), each audited as key.delete and the whole as key.reuse_revoke (actor "(system)",
 * client the presenter's address), in one transaction; *reused is then 1. A key that merely
 * expired leaves everything as it is (*reused 0). Store failures are returned (nothing
 * revoked). Each reuse recorded counts as a failed verification of client (verify_max_failures,
 * then blocked as verification is); while client is blocked, a reuse whose family has no live
 * key left to revoke is ERR_THROTTLED with *retry_after_s, nothing written (one that still
 * has a key to revoke is made and recorded, blocked or not). */
enum err rotate_check_reuse(struct core *c, const struct keyindex_view *view, const char *client,
                            int *reused, int64_t *retry_after_s);

#endif
