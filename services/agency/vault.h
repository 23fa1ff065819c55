/* vault: the agency daemon's keys at rest and the operations on them.
 *
 * Two keys derive from the agency's sealing secret (BLAKE2b keyed with it): the rest key, which
 * wraps each case's own random key and encrypts the records kept under no case (legal holds),
 * and the blind key, which turns a case reference into the 16-byte token the view indexes by. A
 * copied view is therefore unreadable, and its indexes unlinkable to case references, without
 * the key file. Both keys live in one sodium_malloc region that is unreadable (PROT_NONE) except
 * while an operation here, or a hold around a batch of them, uses it.
 *
 * A record is stored as seal_at_rest ciphertext (nonce, XChaCha20-Poly1305, tag) with the
 * database name and the record key as associated data, so it cannot be moved to another database
 * or key. The view (view.c) decides where records live; the vault only turns plaintext into
 * stored bytes and back. The byte layout is the view's on-disk format: it must not change.
 *
 * Not for use outside services/agency and its tests.
 */
#ifndef TACNET_AGENCY_VAULT_H
#define TACNET_AGENCY_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "seal.h"

#define AGENCY_VAULT_BLIND_BYTES 16

typedef struct agency_vault agency_vault_t;

/* One case's own key, unwrapped into the caller's memory (a stack variable for the length of an
 * operation). Wipe it with agency_vault_case_key_wipe on every path. */
typedef struct agency_vault_case_key {
    uint8_t k[SEAL_KEY_BYTES];
} agency_vault_case_key_t;

/* Derive the rest and blind keys from KEYS' sealing secret (unlocking KEYS for the derivation
 * only). On success *OUT is owned by the caller (agency_vault_destroy). Returns 0, TACNET_EINVAL
 * (KEYS has no sealing secret, or it cannot be unlocked), TACNET_ENOMEM, or TACNET_ECONFIG (the
 * derivation failed or the new keys cannot be locked). */
int agency_vault_new(const seal_keys_t *keys, agency_vault_t **out)
    __attribute__((warn_unused_result));

/* Wipe and free the vault's keys. */
void agency_vault_destroy(agency_vault_t **self_p);

/* Keep the keys readable across a batch of operations (a DELIVER batch, a query over many
 * records) so that each one inside pays no mprotect; every operation holds the vault itself, so
 * this is only a saving. Pairs nest and may be taken from several threads at once. Returns 0 or
 * TACNET_EINVAL (mprotect refused; then do not call agency_vault_release). */
int agency_vault_hold(agency_vault_t *self) __attribute__((warn_unused_result));
void agency_vault_release(agency_vault_t *self);

/* The blind index token of case reference REF (LEN bytes) into OUT. The keys are unlocked for the
 * hash; if the kernel refuses that (it is out of memory for mappings) the daemon stops with a
 * logged error rather than file a case under a wrong token. */
void agency_vault_blind(agency_vault_t *self, const uint8_t *ref, size_t len,
                        uint8_t out[AGENCY_VAULT_BLIND_BYTES]);

/* A new random key for case BLIND into *CK, and in *WRAPPED (malloc'd, the caller frees) the key
 * encrypted under the rest key as the value of database "case_keys", record key BLIND. Returns 0
 * or TACNET_EINVAL (the keys cannot be unlocked). */
int agency_vault_case_key_new(agency_vault_t *self, const uint8_t blind[AGENCY_VAULT_BLIND_BYTES],
                              agency_vault_case_key_t *ck, uint8_t **wrapped, size_t *wlen)
    __attribute__((warn_unused_result));

/* Unwrap the stored "case_keys" value WRAPPED of case BLIND into *CK. Returns 0, TACNET_ECORRUPT
 * (it does not authenticate, or is not a key) or TACNET_EINVAL (the keys cannot be unlocked). */
int agency_vault_case_key_open(agency_vault_t *self, const uint8_t blind[AGENCY_VAULT_BLIND_BYTES],
                               const uint8_t *wrapped, size_t wlen, agency_vault_case_key_t *ck)
    __attribute__((warn_unused_result));

void agency_vault_case_key_wipe(agency_vault_case_key_t *ck);

/* Encrypt VAL (VLEN bytes) as the value of database DB, record key KEY (KLEN bytes; DB and KEY
 * together at most 64 bytes), under case key CK, or under the rest key when CK is NULL. *OUT
 * (malloc'd, the caller frees) is PREFIX (PLEN bytes, stored in clear, e.g. the blind id an event
 * record starts with) followed by the ciphertext. Returns 0 or TACNET_EINVAL (a name and key too
 * long, or the keys cannot be unlocked). */
int agency_vault_seal(agency_vault_t *self, const agency_vault_case_key_t *ck, const char *db,
                      const void *key, size_t klen, const uint8_t *prefix, size_t plen,
                      const uint8_t *val, size_t vlen, uint8_t **out, size_t *outlen)
    __attribute__((warn_unused_result));

/* Decrypt IN (a stored value without its clear prefix) of database DB, record key KEY, under CK
 * or, when CK is NULL, the rest key. *OUT is malloc'd plaintext: the caller wipes it
 * (sodium_memzero) and frees it. Returns 0, TACNET_ECORRUPT (it does not authenticate) or
 * TACNET_EINVAL (a name and key too long, or the keys cannot be unlocked). */
int agency_vault_open(agency_vault_t *self, const agency_vault_case_key_t *ck, const char *db,
                      const void *key, size_t klen, const uint8_t *in, size_t len, uint8_t **out,
                      size_t *outlen) __attribute__((warn_unused_result));

#endif
