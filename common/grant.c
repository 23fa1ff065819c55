/* grant: the signed grant of an event's body key to a late member. */
#include "grant.h"
#include "bytes.h"
#include "err.h"

#include <string.h>

#define GRANT_SIG_PREFIX "TACNET-GRANT/1"
#define GRANT_MSG_BYTES  (16 + SEAL_DIGEST_LEN + 5 + 5 + 1 + SEAL_NONCE_BYTES + SEAL_WRAP_BYTES)

int grant_check_shape(const Tacnet__Grant *g)
{
    if (!g || g->msg_id.len != 16 || g->sig.len != SEAL_SIG_BYTES)
        return TACNET_EBADMSG;
    if ((unsigned)g->grantee == 0 || (unsigned)g->grantee >= 16 || (unsigned)g->granter == 0 ||
        (unsigned)g->granter >= 16 || g->grantee == g->granter)
        return TACNET_EBADMSG;
    int done = g->has_done && g->done, resealed = g->has_resealed && g->resealed;
    if (done && resealed)
        return TACNET_EBADMSG;
    if (done || resealed)
        return !g->has_wrap && !g->has_wrap_nonce ? 0 : TACNET_EBADMSG;
    return g->has_wrap && g->wrap.len == SEAL_WRAP_BYTES && g->has_wrap_nonce &&
                   g->wrap_nonce.len == SEAL_NONCE_BYTES
               ? 0
               : TACNET_EBADMSG;
}

/* The signed bytes (the prefix is added by seal_sign_detached). */
static void s_message(const Tacnet__Grant *g, const uint8_t digest[SEAL_DIGEST_LEN],
                      uint8_t out[GRANT_MSG_BYTES])
{
    uint8_t *p = out;
    memset(out, 0, GRANT_MSG_BYTES);
    memcpy(p, g->msg_id.data, 16);
    p += 16;
    memcpy(p, digest, SEAL_DIGEST_LEN);
    p += SEAL_DIGEST_LEN;
    *p++ = (uint8_t)g->grantee;
    bytes_be32_put(p, g->grantee_key_id);
    p += 4;
    *p++ = (uint8_t)g->granter;
    bytes_be32_put(p, g->granter_key_id);
    p += 4;
    *p++ = (uint8_t)((g->has_done && g->done) | (g->has_resealed && g->resealed) << 1);
    if (g->has_wrap_nonce)
        memcpy(p, g->wrap_nonce.data, SEAL_NONCE_BYTES);
    p += SEAL_NONCE_BYTES;
    if (g->has_wrap)
        memcpy(p, g->wrap.data, SEAL_WRAP_BYTES);
}

int grant_sign(seal_ctx_t *ctx, Tacnet__Grant *g, const uint8_t digest[SEAL_DIGEST_LEN])
{
    int rc = grant_check_shape(g);
    if (rc != 0)
        return rc;
    uint8_t m[GRANT_MSG_BYTES];
    s_message(g, digest, m);
    return seal_sign_detached(ctx, GRANT_SIG_PREFIX, m, sizeof(m), g->sig.data);
}

int grant_verify(const uint8_t sign_pk[SEAL_KEY_BYTES], const Tacnet__Grant *g,
                 const uint8_t digest[SEAL_DIGEST_LEN])
{
    int rc = grant_check_shape(g);
    if (rc != 0)
        return rc;
    uint8_t m[GRANT_MSG_BYTES];
    s_message(g, digest, m);
    return seal_verify_detached(sign_pk, GRANT_SIG_PREFIX, m, sizeof(m), g->sig.data);
}
