/* merkle: one Ed25519 signature for a batch of events, each event still verifiable alone.
 *
 * A sender signs the root of a BLAKE2b-256 Merkle tree over the events it sends in one turn.
 * Each event then travels with its own proof in the signature frame (F5): the signature over
 * the root, the root, the event's leaf index, the batch size and the sibling hashes on the path
 * from its leaf to the root. A verifier recomputes the root from the event alone, so it needs
 * none of the other events, and the siblings are hashes, so they reveal nothing about them. A
 * verifier that has already checked the root's signature under the same key (another event of
 * the same batch) only hashes: that is the saving, one Ed25519 check per batch per verifier
 * instead of one per event.
 *
 *   leaf  = BLAKE2b-256("TACNET-LEAF/1" || header || BLAKE2b-256(sealed))
 *   node  = BLAKE2b-256("TACNET-NODE/1" || left || right)
 *   sig   = Ed25519(sender sign sk, "TACNET-ROOT/1" || size (u32 BE) || root)
 *   F5    = sig (64) || root (32) || index (u32 BE) || size (u32 BE) || siblings (32 each)
 *
 * The leaf binds exactly what a single event's signature binds (the header, which names the
 * sender and its key id, and the sealed body's digest); distinct prefixes keep leaves, nodes,
 * roots and single-event signatures apart. The tree's shape is RFC 9162's (a left subtree of the
 * largest power of two below the size), so the path length follows from index and size and a
 * batch of one has no siblings. A 64-byte F5 is today's per-event signature and is verified as
 * before. Key validity (rotation windows, revocation at created_at) stays the caller's check per
 * event, from the header, exactly as for a single signature.
 */
#ifndef TACNET_MERKLE_H
#define TACNET_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "seal.h"

#define MERKLE_HASH_BYTES 32
#define MERKLE_MAX_DEPTH  32 /* a u32 batch size never needs more */
#define MERKLE_FIXED_BYTES \
    (SEAL_SIG_BYTES + MERKLE_HASH_BYTES + 8) /* sig, root, index, size: a tree of one */
#define MERKLE_FRAME_MAX (MERKLE_FIXED_BYTES + MERKLE_MAX_DEPTH * MERKLE_HASH_BYTES)

/* A decoded batched signature frame. Pointers into the frame the caller owns. */
typedef struct merkle_proof {
    const uint8_t *sig;      /* SEAL_SIG_BYTES */
    const uint8_t *root;     /* MERKLE_HASH_BYTES */
    uint32_t index, size;    /* the leaf's index, the batch's size */
    const uint8_t *siblings; /* depth x MERKLE_HASH_BYTES, leaf upwards */
    size_t depth;
} merkle_proof_t;

/* Is LEN a length F5 may have: SEAL_SIG_BYTES (one event's signature) or a batched frame
 * (MERKLE_FIXED_BYTES plus whole sibling hashes, at most MERKLE_MAX_DEPTH)? 1 or 0. */
int merkle_frame_len_ok(size_t len);

/* Decode a batched F5. Returns 0, or TACNET_EBADMSG (length not MERKLE_FIXED_BYTES plus whole
 * hashes, size 0, index >= size, or a sibling count other than the path length of that index in
 * a tree of that size) or TACNET_ETOOBIG (more than MERKLE_MAX_DEPTH siblings). */
int merkle_proof_decode(const uint8_t *frame, size_t len, merkle_proof_t *out);

/* The leaf of an event: HEADER and the digest of its sealed body (seal_digest). */
void merkle_leaf(const uint8_t *header, size_t hlen, const uint8_t digest[SEAL_DIGEST_LEN],
                 uint8_t out[MERKLE_HASH_BYTES]);

/* The root over LEAVES[0..N) (N >= 1), and for each leaf its path: PATHS (may be NULL) gets N
 * x MERKLE_MAX_DEPTH hashes, leaf I's siblings at PATHS + I x MERKLE_MAX_DEPTH x
 * MERKLE_HASH_BYTES, DEPTHS[I] of them. Returns 0 or TACNET_EINVAL (N 0 or over UINT32_MAX). */
int merkle_tree(const uint8_t *leaves, size_t n, uint8_t root[MERKLE_HASH_BYTES], uint8_t *paths,
                size_t *depths);

/* The root LEAF at INDEX of a tree of SIZE leads to through SIBLINGS (DEPTH of them), into
 * ROOT. Returns 0, or TACNET_ESIGNATURE when the path's length does not fit index and size. */
int merkle_root_from_path(const uint8_t leaf[MERKLE_HASH_BYTES], uint32_t index, uint32_t size,
                          const uint8_t *siblings, size_t depth, uint8_t root[MERKLE_HASH_BYTES]);

/* Sign a batch: N events (HEADERS[i] of HLENS[i] bytes, DIGESTS N x SEAL_DIGEST_LEN) under one
 * signature with CTX's key. FRAMES gets N x MERKLE_FRAME_MAX bytes, event I's frame at FRAMES
 * + I x MERKLE_FRAME_MAX, FRAME_LENS[I] long. Returns 0 or a negative TACNET_E* code. */
int merkle_sign(seal_ctx_t *ctx, const uint8_t *const *headers, const size_t *hlens,
                const uint8_t *digests, size_t n, uint8_t *frames, size_t *frame_lens);

/* A bounded cache of verified roots, shared by the threads of one process (locked inside). */
typedef struct merkle_cache merkle_cache_t;

#define MERKLE_CACHE_ENTRIES 1024
merkle_cache_t *merkle_cache_new(void);
void merkle_cache_destroy(merkle_cache_t **self_p);
/* Counters since creation: roots whose signature was checked and inserted, and checks the
 * cache avoided (zeros for a NULL SELF). */
void merkle_cache_stats(const merkle_cache_t *self, uint64_t *verified, uint64_t *hits);

/* Verify F5 (SIG, SIG_LEN bytes) of the event HEADER + sealed body digest DIGEST under SIGN_PK.
 * A 64-byte SIG is checked as seal_verify_digest; a batched one by its path to its root and
 * the root's signature, which CACHE (may be NULL) remembers once checked, keyed by key, root,
 * size and signature. With a CACHE, each thread also remembers the last path it proved in each
 * of its last few batches, so a later event of the batch hashes only up to where its path meets
 * that one and compares its siblings from there up with the proven ones (merkle.c, "the path
 * memo"); the result is always the full walk's. Returns 0, TACNET_ESIGNATURE (anything wrong
 * with the frame, the path or the signature) or TACNET_EINVAL (NULL inputs). */
int merkle_verify_digest(merkle_cache_t *cache, const uint8_t sign_pk[SEAL_KEY_BYTES],
                         const uint8_t *header, size_t hlen, const uint8_t digest[SEAL_DIGEST_LEN],
                         const uint8_t *sig, size_t sig_len);

/* The same over the sealed body itself. */
int merkle_verify(merkle_cache_t *cache, const uint8_t sign_pk[SEAL_KEY_BYTES],
                  const uint8_t *header, size_t hlen, const uint8_t *sealed, size_t sealed_len,
                  const uint8_t *sig, size_t sig_len);

/* Node hashes (not leaves) the calling thread has computed since it started: what the path memo
 * saves, for tests and benchmarks. */
uint64_t merkle_thread_node_hashes(void);

/* Is the batched root of F5 SIG already in CACHE for SIGN_PK? 1 or 0 (0 for a 64-byte SIG).
 * Lets a caller check the first event of each batch before spreading the rest over threads. */
int merkle_cached(merkle_cache_t *cache, const uint8_t sign_pk[SEAL_KEY_BYTES], const uint8_t *sig,
                  size_t sig_len);

#endif
