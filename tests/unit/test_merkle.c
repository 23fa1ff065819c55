/* merkle: the tree and its paths, the batched signature frame (known answers from an independent
 * implementation, tests/vectors/gen_merkle_kat.py), its decoder's refusals, every forgery a
 * verifier must refuse, and the cache of verified roots. Synthetic bytes only. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "err.h"
#include "merkle.h"
#include "seal.h"
#include "seal_internal.h"
#include "verifier.h"

static void s_setup(void)
{
    cr_assert_eq(seal_init(), 0);
}

TestSuite(merkle, .init = s_setup, .timeout = 60);

/* Value of NAME in tests/vectors/merkle_kat.txt, decoded from hex; malloc'd. */
static uint8_t *s_kat(const char *name, size_t *len)
{
    const char *src = getenv("TACNET_SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/vectors/merkle_kat.txt", src ? src : ".");
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    char *line = NULL;
    size_t cap = 0, namelen = strlen(name);
    uint8_t *out = NULL;
    while (getline(&line, &cap, f) > 0) {
        if (strncmp(line, name, namelen) != 0 || line[namelen] != ' ')
            continue;
        char *hex = line + namelen + 1;
        size_t hexlen = strcspn(hex, "\n");
        out = malloc(hexlen / 2 + 1);
        cr_assert_eq(sodium_hex2bin(out, hexlen / 2 + 1, hex, hexlen, NULL, len, NULL), 0);
        break;
    }
    free(line);
    fclose(f);
    cr_assert_not_null(out, "%s missing from %s", name, path);
    return out;
}

/* A batch of N synthetic events as the vectors define them, signed by the vectors' key. */
typedef struct batch {
    size_t n;
    char headers[8][64];
    const uint8_t *hp[8];
    size_t hlens[8];
    char sealed[8][64];
    uint8_t digests[8 * SEAL_DIGEST_LEN];
    uint8_t frames[8 * MERKLE_FRAME_MAX];
    size_t lens[8];
    uint8_t pk[SEAL_KEY_BYTES];
} batch_t;

static seal_keys_t *s_keys(void)
{
    size_t len = 0;
    uint8_t *seed = s_kat("sign_seed", &len);
    cr_assert_eq(len, 32);
    seal_keys_t *k = seal_keys_from_seeds(1, 7, seed, seed, seed);
    free(seed);
    cr_assert_not_null(k);
    return k;
}

static void s_batch(batch_t *b, size_t n, const char *tag)
{
    memset(b, 0, sizeof(*b));
    b->n = n;
    for (size_t i = 0; i < n; i++) {
        snprintf(b->headers[i], sizeof b->headers[i], "%sheader %zu", tag, i);
        snprintf(b->sealed[i], sizeof b->sealed[i], "%ssealed body %zu", tag, i);
        b->hp[i] = (const uint8_t *)b->headers[i];
        b->hlens[i] = strlen(b->headers[i]);
        seal_digest((const uint8_t *)b->sealed[i], strlen(b->sealed[i]),
                    b->digests + i * SEAL_DIGEST_LEN);
    }
    seal_keys_t *k = s_keys();
    seal_ctx_t *ctx = seal_ctx_new(k);
    cr_assert_not_null(ctx);
    memcpy(b->pk, k->sign_pk, SEAL_KEY_BYTES);
    cr_assert_eq(merkle_sign(ctx, b->hp, b->hlens, b->digests, n, b->frames, b->lens), 0);
    seal_ctx_destroy(&ctx);
    seal_keys_destroy(&k);
}

static const uint8_t *s_frame(const batch_t *b, size_t i)
{
    return b->frames + i * MERKLE_FRAME_MAX;
}

static int s_verify(merkle_cache_t *c, const batch_t *b, size_t event, const uint8_t *frame,
                    size_t len)
{
    return merkle_verify(c, b->pk, b->hp[event], b->hlens[event], (const uint8_t *)b->sealed[event],
                         strlen(b->sealed[event]), frame, len);
}

Test(merkle, batches_of_1_2_3_5_match_the_independent_vectors)
{
    size_t sizes[] = { 1, 2, 3, 5 }, len = 0;
    uint8_t *pk = s_kat("sign_pk", &len);
    for (size_t s = 0; s < 4; s++) {
        batch_t b;
        s_batch(&b, sizes[s], "kat ");
        cr_assert_arr_eq(b.pk, pk, SEAL_KEY_BYTES);
        char name[32];
        snprintf(name, sizeof name, "n%zu_root", sizes[s]);
        uint8_t *root = s_kat(name, &len);
        for (size_t i = 0; i < b.n; i++) {
            uint8_t leaf[MERKLE_HASH_BYTES];
            merkle_leaf(b.hp[i], b.hlens[i], b.digests + i * SEAL_DIGEST_LEN, leaf);
            snprintf(name, sizeof name, "n%zu_leaf%zu", sizes[s], i);
            uint8_t *want_leaf = s_kat(name, &len);
            cr_assert_arr_eq(leaf, want_leaf, MERKLE_HASH_BYTES, "%s", name);
            snprintf(name, sizeof name, "n%zu_frame%zu", sizes[s], i);
            uint8_t *want = s_kat(name, &len);
            cr_assert_eq(b.lens[i], len, "%s: length %zu, vector %zu", name, b.lens[i], len);
            cr_assert_arr_eq(s_frame(&b, i), want, len, "%s differs from the vector", name);
            cr_assert_arr_eq(s_frame(&b, i) + SEAL_SIG_BYTES, root, MERKLE_HASH_BYTES);
            cr_assert_eq(s_verify(NULL, &b, i, want, len), 0, "%s does not verify", name);
            free(want);
            free(want_leaf);
        }
        free(root);
    }
    free(pk);
}

Test(merkle, every_path_of_every_tree_up_to_70_leads_to_its_root)
{
    uint8_t leaves[70 * MERKLE_HASH_BYTES], root[MERKLE_HASH_BYTES], got[MERKLE_HASH_BYTES];
    static uint8_t paths[70 * MERKLE_MAX_DEPTH * MERKLE_HASH_BYTES];
    size_t depths[70];
    randombytes_buf(leaves, sizeof leaves);
    for (size_t n = 1; n <= 70; n++) {
        cr_assert_eq(merkle_tree(leaves, n, root, paths, depths), 0);
        for (size_t i = 0; i < n; i++) {
            const uint8_t *leaf = leaves + i * MERKLE_HASH_BYTES;
            const uint8_t *path = paths + i * MERKLE_MAX_DEPTH * MERKLE_HASH_BYTES;
            cr_assert_eq(
                merkle_root_from_path(leaf, (uint32_t)i, (uint32_t)n, path, depths[i], got), 0,
                "n %zu index %zu", n, i);
            cr_assert_arr_eq(got, root, MERKLE_HASH_BYTES, "n %zu index %zu", n, i);
            /* The path of one index does not lead to the root from another. */
            if (n > 1) {
                uint32_t other = (uint32_t)((i + 1) % n);
                int rc = merkle_root_from_path(leaf, other, (uint32_t)n, path, depths[i], got);
                cr_assert(rc != 0 || memcmp(got, root, MERKLE_HASH_BYTES) != 0, "n %zu i %zu", n,
                          i);
            }
        }
    }
    cr_assert_eq(merkle_tree(leaves, 0, root, NULL, NULL), TACNET_EINVAL);
}

Test(merkle, the_decoder_refuses_malformed_frames)
{
    batch_t b;
    s_batch(&b, 5, "");
    merkle_proof_t p;
    uint8_t f[MERKLE_FRAME_MAX + 64];
    memcpy(f, s_frame(&b, 4), b.lens[4]);
    cr_assert_eq(merkle_proof_decode(f, b.lens[4], &p), 0);
    cr_assert_eq(p.index, 4);
    cr_assert_eq(p.size, 5);
    cr_assert_eq(p.depth, 1);
    /* Lengths: under the fixed part, not whole hashes. */
    cr_assert_eq(merkle_proof_decode(f, MERKLE_FIXED_BYTES - 1, &p), TACNET_EBADMSG);
    cr_assert_eq(merkle_proof_decode(f, b.lens[4] + 1, &p), TACNET_EBADMSG);
    cr_assert_eq(merkle_proof_decode(f, b.lens[4] - 1, &p), TACNET_EBADMSG);
    cr_assert_eq(merkle_proof_decode(f, SEAL_SIG_BYTES, &p), TACNET_EBADMSG);
    /* Depth over 32. */
    static uint8_t deep[MERKLE_FIXED_BYTES + 33 * MERKLE_HASH_BYTES];
    memcpy(deep, f, MERKLE_FIXED_BYTES);
    bytes_be32_put(deep + SEAL_SIG_BYTES + MERKLE_HASH_BYTES + 4, UINT32_MAX);
    cr_assert_eq(merkle_proof_decode(deep, sizeof deep, &p), TACNET_ETOOBIG);
    cr_assert_eq(merkle_frame_len_ok(sizeof deep), 0);
    cr_assert_eq(merkle_frame_len_ok(sizeof deep - MERKLE_HASH_BYTES), 1);
    /* Index at or past the size, size 0. */
    uint8_t *idx = f + SEAL_SIG_BYTES + MERKLE_HASH_BYTES, *size = idx + 4;
    bytes_be32_put(idx, 5);
    cr_assert_eq(merkle_proof_decode(f, b.lens[4], &p), TACNET_EBADMSG);
    bytes_be32_put(idx, 0);
    bytes_be32_put(size, 0);
    cr_assert_eq(merkle_proof_decode(f, b.lens[4], &p), TACNET_EBADMSG);
    /* A sibling count that is not the path length of that index in that size (index 0 of 5
     * takes 3 siblings; this frame has 1). */
    bytes_be32_put(size, 5);
    cr_assert_eq(merkle_proof_decode(f, b.lens[4], &p), TACNET_EBADMSG);
    cr_assert_eq(merkle_frame_len_ok(SEAL_SIG_BYTES), 1);
    cr_assert_eq(merkle_frame_len_ok(SEAL_SIG_BYTES + 1), 0);
}

Test(merkle, every_forgery_is_refused_as_a_bad_signature)
{
    batch_t b, other;
    s_batch(&b, 5, "");
    s_batch(&other, 3, "other ");
    uint8_t f[MERKLE_FRAME_MAX];
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(s_verify(NULL, &b, i, s_frame(&b, i), b.lens[i]), 0);
    /* A bad path: one sibling byte changed. */
    memcpy(f, s_frame(&b, 0), b.lens[0]);
    f[MERKLE_FIXED_BYTES + 5] ^= 1;
    cr_assert_eq(s_verify(NULL, &b, 0, f, b.lens[0]), TACNET_ESIGNATURE);
    /* A swapped leaf: event 1 with event 0's proof (same batch, same root). */
    cr_assert_eq(s_verify(NULL, &b, 1, s_frame(&b, 0), b.lens[0]), TACNET_ESIGNATURE);
    /* A wrong index: event 1's proof claiming index 0 (same path length). */
    memcpy(f, s_frame(&b, 1), b.lens[1]);
    bytes_be32_put(f + SEAL_SIG_BYTES + MERKLE_HASH_BYTES, 0);
    cr_assert_eq(s_verify(NULL, &b, 1, f, b.lens[1]), TACNET_ESIGNATURE);
    /* A wrong size. */
    memcpy(f, s_frame(&b, 1), b.lens[1]);
    bytes_be32_put(f + SEAL_SIG_BYTES + MERKLE_HASH_BYTES + 4, 4);
    cr_assert_eq(s_verify(NULL, &b, 1, f, b.lens[1]), TACNET_ESIGNATURE);
    /* A replayed root: another batch's event under this batch's root and path. */
    cr_assert_eq(s_verify(NULL, &other, 1, s_frame(&b, 1), b.lens[1]), TACNET_ESIGNATURE);
    /* A root that matches its path but was never signed: the signature is someone else's. */
    memcpy(f, s_frame(&b, 0), b.lens[0]);
    memcpy(f, s_frame(&other, 0), SEAL_SIG_BYTES);
    cr_assert_eq(s_verify(NULL, &b, 0, f, b.lens[0]), TACNET_ESIGNATURE);
    /* Another key. */
    batch_t wrongkey = b;
    wrongkey.pk[0] ^= 1;
    cr_assert_eq(s_verify(NULL, &wrongkey, 0, s_frame(&b, 0), b.lens[0]), TACNET_ESIGNATURE);
    /* A malformed frame is a bad signature too (the stable code of the refusal). */
    cr_assert_eq(s_verify(NULL, &b, 0, s_frame(&b, 0), b.lens[0] - 1), TACNET_ESIGNATURE);
}

Test(merkle, the_cache_spares_the_signature_check_but_never_the_path)
{
    batch_t b, other;
    s_batch(&b, 5, "");
    s_batch(&other, 3, "other ");
    merkle_cache_t *c = merkle_cache_new();
    uint64_t verified = 0, hits = 0;
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(s_verify(c, &b, i, s_frame(&b, i), b.lens[i]), 0);
    merkle_cache_stats(c, &verified, &hits);
    cr_assert_eq(verified, 1, "one Ed25519 check for the batch, %llu made",
                 (unsigned long long)verified);
    cr_assert_eq(hits, 4);
    cr_assert_eq(merkle_cached(c, b.pk, s_frame(&b, 2), b.lens[2]), 1);
    /* With the root cached, a swapped leaf, a bad path and a replayed root still fail. */
    cr_assert_eq(s_verify(c, &b, 1, s_frame(&b, 0), b.lens[0]), TACNET_ESIGNATURE);
    uint8_t f[MERKLE_FRAME_MAX];
    memcpy(f, s_frame(&b, 3), b.lens[3]);
    f[b.lens[3] - 1] ^= 0x80;
    cr_assert_eq(s_verify(c, &b, 3, f, b.lens[3]), TACNET_ESIGNATURE);
    cr_assert_eq(s_verify(c, &other, 0, s_frame(&b, 0), b.lens[0]), TACNET_ESIGNATURE);
    /* The cached root with other signature bytes is checked again, and refused. */
    memcpy(f, s_frame(&b, 0), b.lens[0]);
    f[3] ^= 1;
    cr_assert_eq(s_verify(c, &b, 0, f, b.lens[0]), TACNET_ESIGNATURE);
    /* Another key with the cached root is not a hit. */
    batch_t wrongkey = b;
    wrongkey.pk[1] ^= 1;
    cr_assert_eq(s_verify(c, &wrongkey, 0, s_frame(&b, 0), b.lens[0]), TACNET_ESIGNATURE);
    merkle_cache_stats(c, &verified, &hits);
    cr_assert_eq(verified, 1);
    merkle_cache_destroy(&c);
    cr_assert_null(c);
}

Test(merkle, the_cache_is_bounded_and_forgets_the_oldest)
{
    seal_keys_t *k = s_keys();
    seal_ctx_t *ctx = seal_ctx_new(k);
    merkle_cache_t *c = merkle_cache_new();
    size_t n = MERKLE_CACHE_ENTRIES * 2;
    uint8_t(*frames)[MERKLE_FRAME_MAX] = calloc(n, MERKLE_FRAME_MAX);
    uint8_t(*digests)[SEAL_DIGEST_LEN] = calloc(n, SEAL_DIGEST_LEN);
    size_t lens[2];
    const uint8_t *hp[2] = { (const uint8_t *)"a", (const uint8_t *)"b" };
    size_t hl[2] = { 1, 1 };
    uint8_t pair[2 * MERKLE_FRAME_MAX], dg[2 * SEAL_DIGEST_LEN];
    for (size_t i = 0; i < n; i++) {
        randombytes_buf(dg, sizeof dg);
        cr_assert_eq(merkle_sign(ctx, hp, hl, dg, 2, pair, lens), 0);
        memcpy(frames[i], pair, lens[0]);
        memcpy(digests[i], dg, SEAL_DIGEST_LEN);
        cr_assert_eq(merkle_verify_digest(c, k->sign_pk, hp[0], 1, digests[i], frames[i], lens[0]),
                     0);
    }
    uint64_t verified = 0, hits = 0;
    merkle_cache_stats(c, &verified, &hits);
    cr_assert_eq(verified, n);
    size_t held = 0;
    for (size_t i = 0; i < n; i++)
        held += (size_t)merkle_cached(c, k->sign_pk, frames[i], lens[0]);
    cr_assert_leq(held, MERKLE_CACHE_ENTRIES);
    cr_assert_gt(held, MERKLE_CACHE_ENTRIES / 2, "only %zu held", held);
    /* The newest is held. A root is forgotten once four newer roots fell in its set (the
     * cache's sets are chosen by the root's first byte, which follows the 64-byte signature in
     * the frame; four ways each, least recently used out): the first such root is checked
     * again, and still verifies. Which root that is depends on the random digests, not
     * whether there is one (2,048 roots in 256 sets). */
    cr_assert_eq(merkle_cached(c, k->sign_pk, frames[n - 1], lens[0]), 1);
    size_t old = n;
    for (size_t i = 0; i < n && old == n; i++) {
        size_t newer = 0;
        for (size_t j = i + 1; j < n; j++)
            newer += frames[j][SEAL_SIG_BYTES] == frames[i][SEAL_SIG_BYTES];
        if (newer >= 4)
            old = i;
    }
    cr_assert_lt(old, n, "no set received five roots");
    cr_assert_eq(merkle_cached(c, k->sign_pk, frames[old], lens[0]), 0);
    cr_assert_eq(merkle_verify_digest(c, k->sign_pk, hp[0], 1, digests[old], frames[old], lens[0]),
                 0);
    merkle_cache_stats(c, &verified, &hits);
    cr_assert_eq(verified, n + 1);
    free(frames);
    free(digests);
    merkle_cache_destroy(&c);
    seal_ctx_destroy(&ctx);
    seal_keys_destroy(&k);
}

Test(merkle, a_verifier_checks_each_batch_root_once_across_its_threads)
{
    batch_t b;
    s_batch(&b, 8, "");
    verifier_t *v = verifier_new(2);
    cr_assert_not_null(v);
    verifier_job_t jobs[9];
    for (size_t i = 0; i < 8; i++)
        jobs[i] = (verifier_job_t){ b.pk,
                                    b.hp[i],
                                    b.hlens[i],
                                    (const uint8_t *)b.sealed[i],
                                    strlen(b.sealed[i]),
                                    s_frame(&b, i),
                                    b.lens[i],
                                    -1,
                                    { 0 } };
    /* A ninth job: event 2 again with event 5's proof, refused whatever the cache holds. */
    jobs[8] = jobs[2];
    jobs[8].sig = s_frame(&b, 5);
    jobs[8].sig_len = b.lens[5];
    verifier_run(v, jobs, 9);
    for (size_t i = 0; i < 8; i++)
        cr_assert_eq(jobs[i].result, 0, "job %zu", i);
    cr_assert_eq(jobs[8].result, TACNET_ESIGNATURE);
    uint64_t verified = 0, hits = 0;
    merkle_cache_stats(verifier_cache(v), &verified, &hits);
    cr_assert_eq(verified, 1, "%llu Ed25519 checks for one batch", (unsigned long long)verified);
    verifier_destroy(&v);
}

/* A batch of N events on the heap, for the path memo's tests (batch_t holds eight). */
typedef struct big {
    size_t n;
    char (*headers)[64];
    const uint8_t **hp;
    size_t *hlens, *lens;
    uint8_t *digests, *frames;
    uint8_t pk[SEAL_KEY_BYTES];
} big_t;

static void s_big(big_t *b, size_t n)
{
    b->n = n;
    b->headers = calloc(n, sizeof(*b->headers));
    b->hp = calloc(n, sizeof(*b->hp));
    b->hlens = calloc(n, sizeof(size_t));
    b->lens = calloc(n, sizeof(size_t));
    b->digests = calloc(n, SEAL_DIGEST_LEN);
    b->frames = calloc(n, MERKLE_FRAME_MAX);
    cr_assert(b->headers && b->hp && b->hlens && b->lens && b->digests && b->frames);
    for (size_t i = 0; i < n; i++) {
        snprintf(b->headers[i], sizeof b->headers[i], "memo header %zu of %zu", i, n);
        b->hp[i] = (const uint8_t *)b->headers[i];
        b->hlens[i] = strlen(b->headers[i]);
        seal_digest(b->hp[i], b->hlens[i], b->digests + i * SEAL_DIGEST_LEN);
    }
    seal_keys_t *k = s_keys();
    seal_ctx_t *ctx = seal_ctx_new(k);
    memcpy(b->pk, k->sign_pk, SEAL_KEY_BYTES);
    cr_assert_eq(merkle_sign(ctx, b->hp, b->hlens, b->digests, n, b->frames, b->lens), 0);
    seal_ctx_destroy(&ctx);
    seal_keys_destroy(&k);
}

static void s_big_free(big_t *b)
{
    free(b->headers);
    free(b->hp);
    free(b->hlens);
    free(b->lens);
    free(b->digests);
    free(b->frames);
}

/* Event EVENT of B against FRAME (LEN bytes) under PK. */
static int s_big_verify(merkle_cache_t *c, const big_t *b, const uint8_t *pk, size_t event,
                        const uint8_t *frame, size_t len)
{
    return merkle_verify_digest(c, pk, b->hp[event], b->hlens[event],
                                b->digests + event * SEAL_DIGEST_LEN, frame, len);
}

/* Node hashes to verify every event of B in the order STEP (1: by index, -1: backwards, 2:
 * even indexes then odd ones) with cache C (NULL: the full walk each time). */
static uint64_t s_hashes_for_all(merkle_cache_t *c, const big_t *b, int step)
{
    uint64_t before = merkle_thread_node_hashes();
    for (size_t k = 0; k < b->n; k++) {
        size_t evens = (b->n + 1) / 2;
        size_t i = step == 1    ? k
                   : step == -1 ? b->n - 1 - k
                   : k < evens  ? 2 * k
                                : 2 * (k - evens) + 1;
        cr_assert_eq(s_big_verify(c, b, b->pk, i, b->frames + i * MERKLE_FRAME_MAX, b->lens[i]), 0,
                     "event %zu of %zu (order %d)", i, b->n, step);
    }
    return merkle_thread_node_hashes() - before;
}

Test(merkle, a_batch_verified_in_order_costs_about_one_node_hash_per_event)
{
    const size_t sizes[] = { 2, 3, 64, 70, 256 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        big_t b;
        s_big(&b, sizes[s]);
        uint64_t full = s_hashes_for_all(NULL, &b, 1);
        const int orders[] = { 1, -1, 2 };
        for (size_t o = 0; o < 3; o++) {
            merkle_cache_t *c = merkle_cache_new();
            uint64_t memo = s_hashes_for_all(c, &b, orders[o]);
            uint64_t verified = 0, hits = 0;
            merkle_cache_stats(c, &verified, &hits);
            cr_assert_eq(verified, 1);
            cr_assert_eq(hits, b.n - 1);
            /* The first event walks its whole path; each later one at most one hash more than
             * it needs to reach the last path proven. In order that is under two per event. */
            cr_assert_leq(memo, 2 * b.n, "%zu events, order %d: %llu node hashes (full walk %llu)",
                          b.n, orders[o], (unsigned long long)memo, (unsigned long long)full);
            if (b.n >= 64)
                cr_assert_lt(memo * 3, full, "%zu events, order %d: %llu node hashes, full %llu",
                             b.n, orders[o], (unsigned long long)memo, (unsigned long long)full);
            merkle_cache_destroy(&c);
        }
        s_big_free(&b);
    }
}

static uint32_t s_rnd(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* The memo only shortens the walk: whatever the frame, an event checked after others of its
 * batch (the memo warm) gets exactly the answer it gets from scratch (no cache). Mutations: a
 * byte of the frame flipped (signature, root, index, size, any sibling), another event's
 * frame, another key; 4,000 cases from a fixed seed over a 37-event batch (an uneven tree). */
Test(merkle, the_path_memo_answers_exactly_as_the_full_walk)
{
    big_t b;
    s_big(&b, 37);
    uint32_t x = 0x2545F491u;
#define RND() s_rnd(&x)
    size_t accepted = 0, refused = 0;
    merkle_cache_t *c = merkle_cache_new();
    for (int round = 0; round < 4000; round++) {
        /* Warm: a valid event of the batch, so the memo holds its path. */
        size_t w = RND() % b.n;
        cr_assert_eq(s_big_verify(c, &b, b.pk, w, b.frames + w * MERKLE_FRAME_MAX, b.lens[w]), 0);
        size_t e = RND() % b.n, f = RND() % 4 ? e : RND() % b.n;
        uint8_t frame[MERKLE_FRAME_MAX], pk[SEAL_KEY_BYTES];
        size_t len = b.lens[f];
        memcpy(frame, b.frames + f * MERKLE_FRAME_MAX, len);
        memcpy(pk, b.pk, SEAL_KEY_BYTES);
        switch (RND() % 4) {
        case 0:
            break;
        case 1:
        case 2:
            frame[RND() % len] ^= (uint8_t)(1u << (RND() % 8));
            break;
        default:
            pk[RND() % SEAL_KEY_BYTES] ^= 1;
            break;
        }
        int cold = s_big_verify(NULL, &b, pk, e, frame, len);
        int warm = s_big_verify(c, &b, pk, e, frame, len);
        cr_assert_eq(warm, cold, "round %d: event %zu, frame of %zu: warm %d, cold %d", round, e, f,
                     warm, cold);
        accepted += cold == 0;
        refused += cold != 0;
    }
#undef RND
    /* Both answers were exercised, many times each. */
    cr_assert_gt(accepted, 500);
    cr_assert_gt(refused, 1500);
    merkle_cache_destroy(&c);
    s_big_free(&b);
}
