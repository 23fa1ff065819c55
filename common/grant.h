/* grant: the signed statement that gives a late member an earlier event's body key (history on
 * joining, docs/ARCHITECTURE.md).
 *
 * A grant (proto/wire.proto, Grant) names the event by msg_id, the grantee and the granter with
 * their key ids, and carries the event's content key wrapped for the grantee (seal_grant_wrap).
 * The granter signs it bound to the digest of the event's original sealed body, so the grant
 * cannot be moved to another event or another body, and the broker (which never opens a body)
 * and the grantee can both check who granted what. A "done" grant carries no key: it tells the
 * grantee that this granter has granted all it will for one join, and is signed over a zero
 * digest (it needs no body, so it still verifies once the broker has removed the join's).
 *
 * A "resealed" grant carries no key either: the broker no longer held the body, so the event's
 * sender sealed it again for the grantee alone, and the digest is that new body's.
 *
 * Signed bytes: "TACNET-GRANT/1" || msg_id(16) || digest(32) || grantee(1) || grantee key id(4,
 * BE) || granter(1) || granter key id(4, BE) || flags(1: done 1, resealed 2) || wrap nonce(24) ||
 * wrap(48), nonce and wrap zero when there is no key.
 */
#ifndef TACNET_GRANT_H
#define TACNET_GRANT_H

#include <stddef.h>
#include <stdint.h>

#include "seal.h"
#include "wire.pb-c.h"

/* Check G's shape: a 16-byte msg_id, known agencies below 16, a 64-byte signature, and either a
 * 24-byte nonce with a 48-byte wrap or (done, or resealed) neither. Returns 0 or TACNET_EBADMSG. */
int grant_check_shape(const Tacnet__Grant *g) __attribute__((warn_unused_result));

/* Sign G (its sig field must point at SEAL_SIG_BYTES of the caller's) with CTX's key, bound to
 * DIGEST of the event's sealed body. Returns 0, TACNET_EBADMSG (shape) or TACNET_EINVAL. */
int grant_sign(seal_ctx_t *ctx, Tacnet__Grant *g, const uint8_t digest[SEAL_DIGEST_LEN])
    __attribute__((warn_unused_result));

/* Verify G's signature under the granter's SIGN_PK and DIGEST. Returns 0, TACNET_EBADMSG or
 * TACNET_ESIGNATURE. */
int grant_verify(const uint8_t sign_pk[SEAL_KEY_BYTES], const Tacnet__Grant *g,
                 const uint8_t digest[SEAL_DIGEST_LEN]) __attribute__((warn_unused_result));

#endif
