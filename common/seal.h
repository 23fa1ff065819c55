/* seal: node keys, key files and end-to-end event sealing (docs/ARCHITECTURE.md).
 *
 * Every node (the broker and each agency) has three key pairs, one per purpose: CURVE for the
 * ZeroMQ hop, Ed25519 for signing, X25519 for wrapping event keys. Secret halves live in one
 * sodium_malloc region, wiped when freed; a long-lived holder (a daemon) protects it so that it
 * is unreadable (PROT_NONE) except while an operation uses it.
 *
 * An event is sealed as:
 *   K      random 32-byte content key
 *   C      XChaCha20-Poly1305(K, nonce, body, AD = "TACNET/1" || header)
 *   W_r    crypto_box_easy_afternm(K, wrap_nonce, beforenm(sender seal sk, r seal pk))
 *   sealed = nonce(24) || wrap_nonce(24) || n(1) || n x { agency(1) key_id(4, BE) W_r(48) } || C
 *   sig    = Ed25519(sender sign sk, "TACNET-SIG/1" || header || BLAKE2b-256(sealed))
 * The pairwise X25519 key (crypto_box_beforenm) is computed once per peer and cached in a
 * seal_ctx_t, so a wrap costs ~1.5 µs instead of ~70 µs for crypto_box_seal.
 *
 * Nothing here prints; functions return 0 or a negative TACNET_E* code.
 */
#ifndef TACNET_SEAL_H
#define TACNET_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "events.pb-c.h"
#include "wire.pb-c.h"

#define SEAL_KEY_BYTES      32
#define SEAL_SIGN_SK_BYTES  64
#define SEAL_SIG_BYTES      64
#define SEAL_NONCE_BYTES    24
#define SEAL_WRAP_BYTES     48 /* 32-byte key + 16-byte MAC */
#define SEAL_MAX_RECIPIENTS 32 /* wrapped keys: every roster agency (ids 1..15), two keys each */
#define SEAL_Z85_BYTES      41 /* 40 chars + NUL */

struct seal_guard;

/* A node's key set. The public halves are plain arrays; *_sk point into one sodium_malloc region.
 * Once the set is protected (seal_keys_protect), read the secrets only between seal_keys_unlock
 * and seal_keys_lock. */
typedef struct seal_keys {
    uint32_t agency; /* tacnet Agency enum value */
    uint32_t key_id;
    uint8_t curve_pk[SEAL_KEY_BYTES];
    uint8_t sign_pk[SEAL_KEY_BYTES];
    uint8_t seal_pk[SEAL_KEY_BYTES];
    uint8_t *curve_sk;        /* 32 bytes, sodium_malloc */
    uint8_t *sign_sk;         /* 64 bytes, sodium_malloc */
    uint8_t *seal_sk;         /* 32 bytes, sodium_malloc */
    struct seal_guard *guard; /* private to seal.c; NULL in a set built by hand (never locked) */
} seal_keys_t;

/* Call once per process before anything else here (sodium_init). Returns 0 or TACNET_EINVAL. */
int seal_init(void);

/* Generate a fresh key set. Returns an owned set (free with seal_keys_destroy) or NULL on OOM. */
seal_keys_t *seal_keys_generate(uint32_t agency, uint32_t key_id);
void seal_keys_destroy(seal_keys_t **self_p);

/* From now on keep the secret halves of KEYS unreadable (PROT_NONE) except between
 * seal_keys_unlock and seal_keys_lock. This module's own operations (seal_ctx_*, seal_event,
 * seal_open, seal_keys_save, seal_keys_curve_z85) unlock and lock around their use. Meant for
 * long-lived holders (the broker, the agency daemons); a short-lived tool need not call it.
 * Returns 0, or TACNET_EINVAL (a set built by hand, or mprotect refused). */
int seal_keys_protect(seal_keys_t *keys) __attribute__((warn_unused_result));

/* Make the secret halves of a protected KEYS readable (read-only) until the matching
 * seal_keys_lock. Pairs nest and may be taken from several threads at once; the last lock makes
 * them unreadable again. A no-op for a set never protected. Returns 0, or TACNET_EINVAL (mprotect
 * refused: do not read them, and do not call seal_keys_lock). */
int seal_keys_unlock(const seal_keys_t *keys) __attribute__((warn_unused_result));
void seal_keys_lock(const seal_keys_t *keys);

/* Write the key set to PATH (a text file of hex fields, mode 0600) creating its directory with
 * mode 0700 if missing. Refuses an existing directory wider than 0700 (TACNET_EPERM). Written
 * to a temp file, fsynced and renamed, so a crash leaves the old file or the new one. */
int seal_keys_save(const seal_keys_t *keys, const char *path);

/* Load a key set from PATH. Refuses (TACNET_EPERM) a file readable or writable by group or
 * others, or a directory wider than 0700, and a malformed file (TACNET_EBADMSG); on success
 * *OUT is owned by the caller. WHY (may be NULL) gets a message naming the file. A missing file
 * is TACNET_ENOTFOUND, another read error TACNET_EIO. A root file (only agency, key_id and the
 * sign pair) loads with curve_sk and seal_sk NULL. Secret halves are decoded straight into
 * sodium_malloc memory and each secret is checked against its public half. */
int seal_keys_load(const char *path, seal_keys_t **out, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* The root signing key: the same file format holding only an Ed25519 pair (agency 0, key id 0;
 * curve_sk and seal_sk are NULL). Owned by the caller; NULL on OOM. */
seal_keys_t *seal_root_generate(void);

/* Z85 text of a 32-byte CURVE key, for zmq_setsockopt(ZMQ_CURVE_*). OUT gets 41 bytes. */
void seal_z85(const uint8_t key[SEAL_KEY_BYTES], char out[SEAL_Z85_BYTES]);

/* Z85 text of KEYS' CURVE secret for ZMQ_CURVE_SECRETKEY, the set unlocked for the copy only; the
 * caller wipes OUT (sodium_memzero) once libzmq has it. Returns 0, or TACNET_EINVAL (a root set
 * without a CURVE secret, or the set could not be unlocked). */
int seal_keys_curve_z85(const seal_keys_t *keys, char out[SEAL_Z85_BYTES])
    __attribute__((warn_unused_result));

/* A recipient of a sealed event. */
typedef struct seal_recipient {
    uint32_t agency;
    uint32_t key_id;
    uint8_t seal_pk[SEAL_KEY_BYTES];
} seal_recipient_t;

/* Per-process sealing context: our key set (borrowed; must outlive the ctx) and the cache of
 * pairwise keys (sodium_malloc, wiped on destroy). The pairwise keys are as secret as the sealing
 * key (each opens and forges the wraps between us and one peer), so the cache is PROT_NONE except
 * while an operation or a hold uses it. seal_ctx_new returns NULL if MINE lacks a signing or
 * sealing secret (a root key set), on OOM, or if the cache cannot be locked. */
typedef struct seal_ctx seal_ctx_t;
seal_ctx_t *seal_ctx_new(const seal_keys_t *mine);
void seal_ctx_destroy(seal_ctx_t **self_p);

/* Keep the ctx's secrets (its key set and the pairwise keys) readable across a batch of calls,
 * so that each call inside pays no mprotect. Every operation holds the ctx itself, so this is only
 * a saving. Pairs nest and may be taken from several threads. Returns 0 or TACNET_EINVAL
 * (mprotect refused; then do not call seal_ctx_release). */
int seal_ctx_hold(seal_ctx_t *self) __attribute__((warn_unused_result));
void seal_ctx_release(seal_ctx_t *self);

/* Compute and cache the pairwise key for PEER_PK now. A ctx is not thread-safe, except that
 * seal_open from several threads at once only reads it when the key of every sender it opens
 * for is cached: warm up to SEAL_CTX_WARM_MAX distinct keys first (more could evict one).
 * Returns 0, or TACNET_EOPEN for a peer key with no usable shared key (or, on a miss, secrets
 * that could not be unlocked), TACNET_EINVAL when the cache could not be. */
#define SEAL_CTX_WARM_MAX 32
int seal_ctx_warm(seal_ctx_t *self, const uint8_t peer_pk[SEAL_KEY_BYTES]);

/* Seal BODY for RCPTS (1..SEAL_MAX_RECIPIENTS) bound to HEADER, and sign into SIG. SIG may be
 * NULL: sealed only, for a sender that signs when it sends (seal_sign_event, or one signature
 * over a batch, merkle.h). *SEALED is malloc'd and owned by the caller. Returns 0, TACNET_EINVAL
 * (no or too many recipients, an agency over 255, the same (agency, key_id) twice, a peer key
 * with no usable shared key, or the ctx's secrets could not be unlocked). */
int seal_event(seal_ctx_t *self, const uint8_t *header, size_t hlen, const uint8_t *body,
               size_t blen, const seal_recipient_t *rcpts, size_t n, uint8_t **sealed,
               size_t *sealed_len, uint8_t sig[SEAL_SIG_BYTES]);

/* The event signature seal_event makes, over HEADER and an already SEALED body, with the ctx's
 * signing key. Returns 0 or TACNET_EINVAL (NULL inputs, or the ctx's secrets could not be
 * unlocked). */
int seal_sign_event(seal_ctx_t *self, const uint8_t *header, size_t hlen, const uint8_t *sealed,
                    size_t sealed_len, uint8_t sig[SEAL_SIG_BYTES])
    __attribute__((warn_unused_result));

/* Verify SIG over HEADER and SEALED with the sender's Ed25519 public key. Returns 0 or
 * TACNET_ESIGNATURE. The broker does only this; it never opens a body. */
int seal_verify(const uint8_t sign_pk[SEAL_KEY_BYTES], const uint8_t *header, size_t hlen,
                const uint8_t *sealed, size_t sealed_len, const uint8_t sig[SEAL_SIG_BYTES])
    __attribute__((warn_unused_result));

/* Open SEALED as recipient (our agency and key id from the ctx's key set), from a sender whose
 * X25519 public key is SENDER_SEAL_PK. Does not verify the signature: call seal_verify first.
 * *BODY is malloc'd and owned by the caller. Returns 0, TACNET_EBADMSG (malformed), TACNET_ENOTFOUND
 * (not wrapped for us), TACNET_EOPEN (tampered) or TACNET_EINVAL (the ctx's secrets could not be
 * unlocked). */
int seal_open(seal_ctx_t *self, const uint8_t sender_seal_pk[SEAL_KEY_BYTES], const uint8_t *header,
              size_t hlen, const uint8_t *sealed, size_t sealed_len, uint8_t **body, size_t *blen)
    __attribute__((warn_unused_result));
/* seal_open, and K_OUT gets the content key it opened with (what seal_content_key gives, without
 * unwrapping it a second time) when it returns 0; the caller wipes it. */
int seal_open_keep(seal_ctx_t *self, const uint8_t sender_seal_pk[SEAL_KEY_BYTES],
                   const uint8_t *header, size_t hlen, const uint8_t *sealed, size_t sealed_len,
                   uint8_t **body, size_t *blen, uint8_t k_out[SEAL_KEY_BYTES])
    __attribute__((warn_unused_result));

/* List the recipients wrapped in SEALED (agency values, in order) without opening anything.
 * Returns the count, or TACNET_EBADMSG. */
int seal_recipients(const uint8_t *sealed, size_t sealed_len, uint32_t *agencies, size_t cap);

/* History on joining (docs/ARCHITECTURE.md, "History on joining"). A member that joins a case
 * late is given an earlier event's content key K by a granter (the event's sender, or the lead
 * when it holds K): K wrapped for the newcomer under a fresh nonce with the pairwise key of
 * granter and newcomer. The sealed body and its signature stay as the sender made them.
 *
 * seal_content_key: K of SEALED from our own wrapped entry (SENDER_SEAL_PK as for seal_open), for
 * a granter to keep. Returns 0, TACNET_EBADMSG, TACNET_ENOTFOUND (not wrapped for us),
 * TACNET_EOPEN or TACNET_EINVAL. The caller wipes K.
 * seal_grant_wrap: wrap K for the grantee's sealing key; NONCE is drawn here. 0 or TACNET_EINVAL.
 * seal_open_granted: open SEALED with a grant's NONCE and WRAP from the granter; K_OUT (may be
 * NULL) gets K so the newcomer can grant in turn. Returns as seal_open. */
int seal_content_key(seal_ctx_t *self, const uint8_t sender_seal_pk[SEAL_KEY_BYTES],
                     const uint8_t *sealed, size_t sealed_len, uint8_t k[SEAL_KEY_BYTES])
    __attribute__((warn_unused_result));
int seal_grant_wrap(seal_ctx_t *self, const uint8_t k[SEAL_KEY_BYTES],
                    const uint8_t grantee_seal_pk[SEAL_KEY_BYTES], uint8_t nonce[SEAL_NONCE_BYTES],
                    uint8_t wrap[SEAL_WRAP_BYTES]) __attribute__((warn_unused_result));
int seal_open_granted(seal_ctx_t *self, const uint8_t granter_seal_pk[SEAL_KEY_BYTES],
                      const uint8_t nonce[SEAL_NONCE_BYTES], const uint8_t wrap[SEAL_WRAP_BYTES],
                      const uint8_t *header, size_t hlen, const uint8_t *sealed, size_t sealed_len,
                      uint8_t **body, size_t *blen, uint8_t k_out[SEAL_KEY_BYTES])
    __attribute__((warn_unused_result));

/* The digest the event signature covers (BLAKE2b-256 of the sealed body), and the signature
 * checked against it: the broker keeps the digest of a body it has removed (retention) so the
 * header's signature still verifies. seal_verify_digest returns 0 or TACNET_ESIGNATURE. */
#define SEAL_DIGEST_LEN 32
void seal_digest(const uint8_t *sealed, size_t sealed_len, uint8_t out[SEAL_DIGEST_LEN]);
int seal_verify_digest(const uint8_t sign_pk[SEAL_KEY_BYTES], const uint8_t *header, size_t hlen,
                       const uint8_t digest[SEAL_DIGEST_LEN], const uint8_t sig[SEAL_SIG_BYTES])
    __attribute__((warn_unused_result));

/* Ed25519 over PREFIX || MSG with the ctx's signing key, and its check: for signed statements
 * other than events (a grant, common/grant.h). PREFIX separates the domains. 0, TACNET_EINVAL, or
 * for the check TACNET_ESIGNATURE. */
int seal_sign_detached(seal_ctx_t *self, const char *prefix, const uint8_t *msg, size_t len,
                       uint8_t sig[SEAL_SIG_BYTES]) __attribute__((warn_unused_result));
int seal_verify_detached(const uint8_t sign_pk[SEAL_KEY_BYTES], const char *prefix,
                         const uint8_t *msg, size_t len, const uint8_t sig[SEAL_SIG_BYTES])
    __attribute__((warn_unused_result));

/* At rest (daemon views): XChaCha20-Poly1305 under a 32-byte storage key with AD (e.g. the
 * database name and key) so a record cannot be moved to another key. *OUT malloc'd. Return 0,
 * TACNET_EINVAL (bad arguments), and for decrypt TACNET_EBADMSG (too short) or TACNET_EOPEN (does
 * not authenticate). */
int seal_at_rest_encrypt(const uint8_t key[SEAL_KEY_BYTES], const uint8_t *ad, size_t adlen,
                         const uint8_t *in, size_t len, uint8_t **out, size_t *outlen);
int seal_at_rest_decrypt(const uint8_t key[SEAL_KEY_BYTES], const uint8_t *ad, size_t adlen,
                         const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
    __attribute__((warn_unused_result));

/* Blind index token: keyed BLAKE2b of DATA, 16 bytes. */
void seal_blind(const uint8_t key[SEAL_KEY_BYTES], const uint8_t *data, size_t len,
                uint8_t out[16]);

/* After opening: the body must repeat the header's msg_id and sender, so a relay cannot strip
 * the signature and re-sign someone else's sealed body as its own; a partnership rating's clear
 * ladder_rung and rated_by_family must be its body's rung and by_family. Returns 0, or
 * TACNET_EBODYMISMATCH if any is missing from the body or differs; TACNET_EINVAL for NULL. */
int seal_body_matches(const Tacnet__Header *h, const Tacnet__Body *b)
    __attribute__((warn_unused_result));

#endif
