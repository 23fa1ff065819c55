/* seal_internal: entry points for known-answer tests only.
 *
 * Production code must never choose its own content key or nonces; these exist so that
 * tests/unit/test_seal.c can reproduce tests/vectors/seal_kat.txt byte for byte.
 */
#ifndef TACNET_SEAL_INTERNAL_H
#define TACNET_SEAL_INTERNAL_H

#include "seal.h"

/* seal_event with the content key K, the body NONCE and the WRAP_NONCE given instead of drawn at
 * random. Same returns and ownership as seal_event. */
int seal_event_fixed(seal_ctx_t *self, const uint8_t k[SEAL_KEY_BYTES],
                     const uint8_t nonce[SEAL_NONCE_BYTES],
                     const uint8_t wrap_nonce[SEAL_NONCE_BYTES], const uint8_t *header, size_t hlen,
                     const uint8_t *body, size_t blen, const seal_recipient_t *rcpts, size_t n,
                     uint8_t **sealed, size_t *sealed_len, uint8_t sig[SEAL_SIG_BYTES]);

/* A key set derived from fixed seeds (crypto_box_seed_keypair for CURVE and sealing,
 * crypto_sign_seed_keypair for signing). Owned by the caller; NULL on OOM. */
seal_keys_t *seal_keys_from_seeds(uint32_t agency, uint32_t key_id,
                                  const uint8_t curve_seed[SEAL_KEY_BYTES],
                                  const uint8_t sign_seed[SEAL_KEY_BYTES],
                                  const uint8_t seal_seed[SEAL_KEY_BYTES]);

#endif
