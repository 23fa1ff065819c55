/* merkle: batched signatures over a BLAKE2b Merkle tree, and the cache of verified roots. See
 * merkle.h. */
#include "merkle.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "err.h"

#define MERKLE_LEAF_PREFIX "TACNET-LEAF/1"
#define MERKLE_NODE_PREFIX "TACNET-NODE/1"
#define MERKLE_ROOT_PREFIX "TACNET-ROOT/1"

/* ------------------------------------------------------------------ hashing */

void merkle_leaf(const uint8_t *header, size_t hlen, const uint8_t digest[SEAL_DIGEST_LEN],
                 uint8_t out[MERKLE_HASH_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, MERKLE_HASH_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)MERKLE_LEAF_PREFIX, strlen(MERKLE_LEAF_PREFIX));
    crypto_generichash_update(&st, header, hlen);
    crypto_generichash_update(&st, digest, SEAL_DIGEST_LEN);
    crypto_generichash_final(&st, out, MERKLE_HASH_BYTES);
}

/* Node hashes this thread has computed (merkle_thread_node_hashes). */
static _Thread_local uint64_t s_node_hashes;

static void s_node(const uint8_t *left, const uint8_t *right, uint8_t out[MERKLE_HASH_BYTES])
{
    s_node_hashes++;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, MERKLE_HASH_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)MERKLE_NODE_PREFIX, strlen(MERKLE_NODE_PREFIX));
    crypto_generichash_update(&st, left, MERKLE_HASH_BYTES);
    crypto_generichash_update(&st, right, MERKLE_HASH_BYTES);
    crypto_generichash_final(&st, out, MERKLE_HASH_BYTES);
}

/* The largest power of two below N (N >= 2): the size of the left subtree. */
static size_t s_split(size_t n)
{
    size_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

/* The root of LEAVES[LO..LO+N), appending to each leaf's path the sibling on its side. */
static void s_subtree(const uint8_t *leaves, size_t lo, size_t n, uint8_t *paths, size_t *depths,
                      uint8_t out[MERKLE_HASH_BYTES])
{
    if (n == 1) {
        memcpy(out, leaves + lo * MERKLE_HASH_BYTES, MERKLE_HASH_BYTES);
        return;
    }
    size_t k = s_split(n);
    uint8_t left[MERKLE_HASH_BYTES], right[MERKLE_HASH_BYTES];
    s_subtree(leaves, lo, k, paths, depths, left);
    s_subtree(leaves, lo + k, n - k, paths, depths, right);
    for (size_t i = lo; paths && i < lo + n; i++) {
        uint8_t *at = paths + (i * MERKLE_MAX_DEPTH + depths[i]) * MERKLE_HASH_BYTES;
        memcpy(at, i < lo + k ? right : left, MERKLE_HASH_BYTES);
        depths[i]++;
    }
    s_node(left, right, out);
}

int merkle_tree(const uint8_t *leaves, size_t n, uint8_t root[MERKLE_HASH_BYTES], uint8_t *paths,
                size_t *depths)
{
    if (!leaves || !root || n == 0 || n > UINT32_MAX || (paths && !depths))
        return TACNET_EINVAL;
    if (depths)
        memset(depths, 0, n * sizeof(*depths));
    s_subtree(leaves, 0, n, paths, depths, root);
    return 0;
}

typedef struct span {
    uint32_t lo, hi; /* the leaves [lo, hi) a node spans */
} span_t;

/* One path of a tree: NODE[0..depth] (the leaf up to the root) and SIB[0..depth), the sibling
 * hashed with NODE[i], on its left when LEFT[i]. */
typedef struct path {
    size_t depth;
    span_t node[MERKLE_MAX_DEPTH + 1], sib[MERKLE_MAX_DEPTH];
    uint8_t left[MERKLE_MAX_DEPTH];
} path_t;

/* The path from leaf INDEX of a tree of SIZE (the shape s_subtree builds). Returns its depth. */
static size_t s_path(uint32_t index, uint32_t size, path_t *out)
{
    span_t down[MERKLE_MAX_DEPTH + 1], dsib[MERKLE_MAX_DEPTH];
    uint8_t dleft[MERKLE_MAX_DEPTH];
    uint32_t lo = 0, n = size;
    size_t d = 0;
    down[0] = (span_t){ 0, size };
    while (n > 1 && d < MERKLE_MAX_DEPTH) {
        uint32_t k = (uint32_t)s_split(n);
        if (index < lo + k) {
            dsib[d] = (span_t){ lo + k, lo + n }, dleft[d] = 0;
            n = k;
        } else {
            dsib[d] = (span_t){ lo, lo + k }, dleft[d] = 1;
            lo += k, n -= k;
        }
        down[++d] = (span_t){ lo, lo + n };
    }
    out->depth = d;
    for (size_t i = 0; i <= d; i++)
        out->node[i] = down[d - i];
    for (size_t i = 0; i < d; i++)
        out->sib[i] = dsib[d - 1 - i], out->left[i] = dleft[d - 1 - i];
    return d;
}

/* Hash PA's nodes from H[FROM] up to H[TO] with the frame's SIBLINGS (one per step). */
static void s_climb(const path_t *pa, const uint8_t *siblings, uint8_t h[][MERKLE_HASH_BYTES],
                    size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        const uint8_t *sib = siblings + i * MERKLE_HASH_BYTES;
        if (pa->left[i])
            s_node(sib, h[i], h[i + 1]);
        else
            s_node(h[i], sib, h[i + 1]);
    }
}

int merkle_root_from_path(const uint8_t leaf[MERKLE_HASH_BYTES], uint32_t index, uint32_t size,
                          const uint8_t *siblings, size_t depth, uint8_t root[MERKLE_HASH_BYTES])
{
    path_t pa;
    uint8_t h[MERKLE_MAX_DEPTH + 1][MERKLE_HASH_BYTES];
    if (size == 0 || index >= size || s_path(index, size, &pa) != depth || (depth && !siblings))
        return TACNET_ESIGNATURE;
    memcpy(h[0], leaf, MERKLE_HASH_BYTES);
    s_climb(&pa, siblings, h, 0, depth);
    memcpy(root, h[depth], MERKLE_HASH_BYTES);
    return 0;
}

/* ------------------------------------------------------------------ the frame */

int merkle_frame_len_ok(size_t len)
{
    return len == SEAL_SIG_BYTES || (len >= MERKLE_FIXED_BYTES && len <= MERKLE_FRAME_MAX &&
                                     (len - MERKLE_FIXED_BYTES) % MERKLE_HASH_BYTES == 0);
}

/* merkle_proof_decode, with the path the index and size give into *PA. */
static int s_decode(const uint8_t *frame, size_t len, merkle_proof_t *out, path_t *pa)
{
    if (!frame || !out || len < MERKLE_FIXED_BYTES ||
        (len - MERKLE_FIXED_BYTES) % MERKLE_HASH_BYTES != 0)
        return TACNET_EBADMSG;
    size_t depth = (len - MERKLE_FIXED_BYTES) / MERKLE_HASH_BYTES;
    if (depth > MERKLE_MAX_DEPTH)
        return TACNET_ETOOBIG;
    merkle_proof_t p = {
        .sig = frame,
        .root = frame + SEAL_SIG_BYTES,
        .index = bytes_be32_get(frame + SEAL_SIG_BYTES + MERKLE_HASH_BYTES),
        .size = bytes_be32_get(frame + SEAL_SIG_BYTES + MERKLE_HASH_BYTES + 4),
        .siblings = frame + MERKLE_FIXED_BYTES,
        .depth = depth,
    };
    if (p.size == 0 || p.index >= p.size || s_path(p.index, p.size, pa) != depth)
        return TACNET_EBADMSG;
    *out = p;
    return 0;
}

int merkle_proof_decode(const uint8_t *frame, size_t len, merkle_proof_t *out)
{
    path_t pa;
    return s_decode(frame, len, out, &pa);
}

/* What the root's signature covers after its prefix: the batch's size, then the root. */
static void s_root_message(uint32_t size, const uint8_t root[MERKLE_HASH_BYTES], uint8_t out[36])
{
    bytes_be32_put(out, size);
    memcpy(out + 4, root, MERKLE_HASH_BYTES);
}

int merkle_sign(seal_ctx_t *ctx, const uint8_t *const *headers, const size_t *hlens,
                const uint8_t *digests, size_t n, uint8_t *frames, size_t *frame_lens)
{
    if (!ctx || !headers || !hlens || !digests || !frames || !frame_lens || n == 0 ||
        n > UINT32_MAX)
        return TACNET_EINVAL;
    uint8_t *leaves = xmalloc(n * MERKLE_HASH_BYTES);
    uint8_t *paths = xmalloc(n * MERKLE_MAX_DEPTH * MERKLE_HASH_BYTES);
    size_t *depths = xcalloc(n, sizeof(*depths));
    uint8_t root[MERKLE_HASH_BYTES], msg[36], sig[SEAL_SIG_BYTES];
    for (size_t i = 0; i < n; i++)
        merkle_leaf(headers[i], hlens[i], digests + i * SEAL_DIGEST_LEN,
                    leaves + i * MERKLE_HASH_BYTES);
    int rc = merkle_tree(leaves, n, root, paths, depths);
    if (rc != 0)
        goto fail;
    s_root_message((uint32_t)n, root, msg);
    if ((rc = seal_sign_detached(ctx, MERKLE_ROOT_PREFIX, msg, sizeof(msg), sig)) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        uint8_t *f = frames + i * MERKLE_FRAME_MAX;
        memcpy(f, sig, SEAL_SIG_BYTES);
        memcpy(f + SEAL_SIG_BYTES, root, MERKLE_HASH_BYTES);
        bytes_be32_put(f + SEAL_SIG_BYTES + MERKLE_HASH_BYTES, (uint32_t)i);
        bytes_be32_put(f + SEAL_SIG_BYTES + MERKLE_HASH_BYTES + 4, (uint32_t)n);
        memcpy(f + MERKLE_FIXED_BYTES, paths + i * MERKLE_MAX_DEPTH * MERKLE_HASH_BYTES,
               depths[i] * MERKLE_HASH_BYTES);
        frame_lens[i] = MERKLE_FIXED_BYTES + depths[i] * MERKLE_HASH_BYTES;
    }
fail:
    free(leaves);
    free(paths);
    free(depths);
    return rc;
}

/* ------------------------------------------------------------------ the cache of verified roots */

/* Set-associative: the root is a hash, so its first byte spreads entries evenly over the sets,
 * and only a root whose signature verified is ever inserted, so nobody without a signing key
 * can push out others' entries. Within a set the least recently used way is replaced. */
#define MERKLE_CACHE_WAYS 4
#define MERKLE_CACHE_SETS (MERKLE_CACHE_ENTRIES / MERKLE_CACHE_WAYS)
_Static_assert(MERKLE_CACHE_SETS == 256, "one set per value of the root's first byte");

typedef struct {
    uint8_t pk[SEAL_KEY_BYTES];
    uint8_t root[MERKLE_HASH_BYTES];
    uint8_t sig[SEAL_SIG_BYTES];
    uint32_t size;
    uint64_t used; /* 0: empty */
} cache_entry_t;

struct merkle_cache {
    pthread_mutex_t lock;
    uint64_t id; /* unique in the process: the path memos below are kept per cache */
    uint64_t clock, verified;
    atomic_uint_fast64_t hits; /* also counted by memo hits, which take no lock */
    cache_entry_t e[MERKLE_CACHE_SETS][MERKLE_CACHE_WAYS];
};

merkle_cache_t *merkle_cache_new(void)
{
    static atomic_uint_fast64_t next_id = 1;
    merkle_cache_t *self = xcalloc(1, sizeof(*self));
    pthread_mutex_init(&self->lock, NULL);
    self->id = atomic_fetch_add(&next_id, 1);
    atomic_init(&self->hits, 0);
    return self;
}

void merkle_cache_destroy(merkle_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_destroy(&(*self_p)->lock);
    free(*self_p);
    *self_p = NULL;
}

void merkle_cache_stats(const merkle_cache_t *self, uint64_t *verified, uint64_t *hits)
{
    merkle_cache_t *m = (merkle_cache_t *)self;
    if (!m) {
        if (verified)
            *verified = 0;
        if (hits)
            *hits = 0;
        return;
    }
    pthread_mutex_lock(&m->lock);
    if (verified)
        *verified = m->verified;
    pthread_mutex_unlock(&m->lock);
    if (hits)
        *hits = (uint64_t)atomic_load(&m->hits);
}

static int s_entry_is(const cache_entry_t *e, const uint8_t *pk, const merkle_proof_t *p)
{
    return e->used && e->size == p->size && memcmp(e->root, p->root, MERKLE_HASH_BYTES) == 0 &&
           memcmp(e->pk, pk, SEAL_KEY_BYTES) == 0 && memcmp(e->sig, p->sig, SEAL_SIG_BYTES) == 0;
}

/* Look up (INSERT 0) or insert (INSERT 1) the verified root of P under PK. 1 when found. */
static int s_cache(merkle_cache_t *self, const uint8_t *pk, const merkle_proof_t *p, int insert)
{
    cache_entry_t *set = self->e[p->root[0]];
    int found = 0;
    pthread_mutex_lock(&self->lock);
    cache_entry_t *oldest = &set[0];
    for (size_t w = 0; w < MERKLE_CACHE_WAYS && !found; w++) {
        if (s_entry_is(&set[w], pk, p)) {
            set[w].used = ++self->clock;
            found = 1;
        } else if (set[w].used < oldest->used) {
            oldest = &set[w];
        }
    }
    if (!insert && found)
        atomic_fetch_add_explicit(&self->hits, 1, memory_order_relaxed);
    if (insert && !found) {
        memcpy(oldest->pk, pk, SEAL_KEY_BYTES);
        memcpy(oldest->root, p->root, MERKLE_HASH_BYTES);
        memcpy(oldest->sig, p->sig, SEAL_SIG_BYTES);
        oldest->size = p->size;
        oldest->used = ++self->clock;
        self->verified++;
    }
    pthread_mutex_unlock(&self->lock);
    return found;
}

int merkle_cached(merkle_cache_t *cache, const uint8_t sign_pk[SEAL_KEY_BYTES], const uint8_t *sig,
                  size_t sig_len)
{
    merkle_proof_t p;
    if (!cache || !sign_pk || !sig || sig_len == SEAL_SIG_BYTES ||
        merkle_proof_decode(sig, sig_len, &p) != 0)
        return 0;
    pthread_mutex_lock(&cache->lock);
    int found = 0;
    for (size_t w = 0; w < MERKLE_CACHE_WAYS && !found; w++)
        found = s_entry_is(&cache->e[p.root[0]][w], sign_pk, &p);
    pthread_mutex_unlock(&cache->lock);
    return found;
}

/* ------------------------------------------------------------------ the path memo */

/* A batch's events after the first cost less than a full path each: every thread remembers,
 * for the last few batches it verified, the last path it proved (each node on it and each
 * sibling, by the leaves they span). Another event of the batch meets that path just below the
 * two leaves' lowest common ancestor: it hashes up to there (in order of index, about one node
 * hash per event instead of the tree's depth), then its own siblings from there up must be the
 * ones already proven, byte for byte. Anything else (another batch, a node or sibling that
 * differs, a memo forgotten) takes the full walk to the root and the root's signature check, so
 * the answer is always the full verification's: a memo only ever holds a path that led to a
 * root whose signature verified, and the hashes above the meeting point are the same hashes.
 * Thread-local, so it takes no lock; kept per cache (a fresh cache starts cold). */
#define MEMO_SLOTS 4

typedef struct memo {
    uint64_t cache_id, used; /* used 0: empty */
    uint8_t pk[SEAL_KEY_BYTES], root[MERKLE_HASH_BYTES], sig[SEAL_SIG_BYTES];
    uint32_t size, leaf;
    path_t path;
    uint8_t node[MERKLE_MAX_DEPTH + 1][MERKLE_HASH_BYTES], sib[MERKLE_MAX_DEPTH][MERKLE_HASH_BYTES];
} memo_t;

static _Thread_local memo_t s_memo[MEMO_SLOTS];
static _Thread_local uint64_t s_memo_clock;

uint64_t merkle_thread_node_hashes(void)
{
    return s_node_hashes;
}

static int s_span_eq(span_t a, span_t b)
{
    return a.lo == b.lo && a.hi == b.hi;
}

static memo_t *s_memo_find(const merkle_cache_t *cache, const uint8_t *pk, const merkle_proof_t *p)
{
    for (size_t i = 0; i < MEMO_SLOTS; i++) {
        memo_t *m = &s_memo[i];
        if (m->used && m->cache_id == cache->id && m->size == p->size &&
            memcmp(m->root, p->root, MERKLE_HASH_BYTES) == 0 &&
            memcmp(m->pk, pk, SEAL_KEY_BYTES) == 0 && memcmp(m->sig, p->sig, SEAL_SIG_BYTES) == 0)
            return m;
    }
    return NULL;
}

/* Does the event at P's index, whose NODE[0..] the caller hashes on demand, meet memo M's path
 * with all of its siblings from there up proven? On 1, H[0..depth] holds every node of its path
 * (the ones above the meeting point copied from M). */
static int s_memo_meets(const memo_t *m, const merkle_proof_t *p, const path_t *pa,
                        uint8_t h[][MERKLE_HASH_BYTES])
{
    const path_t *mp = &m->path;
    size_t a = 0, u = 0; /* the lowest step at which each path spans the other's leaf */
    while (a <= pa->depth && !(pa->node[a].lo <= m->leaf && m->leaf < pa->node[a].hi))
        a++;
    while (u <= mp->depth && !(mp->node[u].lo <= p->index && p->index < mp->node[u].hi))
        u++;
    if (a > pa->depth || u > mp->depth || pa->depth - a != mp->depth - u ||
        !s_span_eq(pa->node[a], mp->node[u]))
        return 0;
    if (a > 1)
        s_climb(pa, p->siblings, h, 0, a - 1);
    if (a == 0) {
        /* The same leaf again: its hash and every sibling must be the memo's. */
        if (memcmp(h[0], m->node[u], MERKLE_HASH_BYTES) != 0)
            return 0;
    } else {
        /* Below the common ancestor: this path's node is the memo's sibling and the other way
         * round. */
        if (!s_span_eq(pa->node[a - 1], mp->sib[u - 1]) ||
            memcmp(h[a - 1], m->sib[u - 1], MERKLE_HASH_BYTES) != 0 ||
            memcmp(p->siblings + (a - 1) * MERKLE_HASH_BYTES, m->node[u - 1], MERKLE_HASH_BYTES) !=
                0)
            return 0;
    }
    for (size_t k = 0; a + k < pa->depth; k++)
        if (memcmp(p->siblings + (a + k) * MERKLE_HASH_BYTES, m->sib[u + k], MERKLE_HASH_BYTES) !=
            0)
            return 0;
    for (size_t k = 0; a + k <= pa->depth; k++)
        memcpy(h[a + k], m->node[u + k], MERKLE_HASH_BYTES);
    return 1;
}

/* Remember the path PA (nodes H, siblings from P) of a verified event in M, or in the least
 * recently used slot when M is NULL. */
static void s_memo_store(memo_t *m, const merkle_cache_t *cache, const uint8_t *pk,
                         const merkle_proof_t *p, const path_t *pa,
                         const uint8_t h[][MERKLE_HASH_BYTES])
{
    if (!m) {
        m = &s_memo[0];
        for (size_t i = 1; i < MEMO_SLOTS; i++)
            if (s_memo[i].used < m->used)
                m = &s_memo[i];
        m->cache_id = cache->id;
        memcpy(m->pk, pk, SEAL_KEY_BYTES);
        memcpy(m->root, p->root, MERKLE_HASH_BYTES);
        memcpy(m->sig, p->sig, SEAL_SIG_BYTES);
        m->size = p->size;
    }
    m->used = ++s_memo_clock;
    m->leaf = p->index;
    m->path = *pa;
    memcpy(m->node, h, (pa->depth + 1) * MERKLE_HASH_BYTES);
    memcpy(m->sib, p->siblings, pa->depth * MERKLE_HASH_BYTES);
}

/* ------------------------------------------------------------------ verification */

/* A batched frame P, whose path is PA, for the event whose leaf is LEAF. */
static int s_verify_batched(merkle_cache_t *cache, const uint8_t *pk, const merkle_proof_t *p,
                            const path_t *pa, const uint8_t leaf[MERKLE_HASH_BYTES])
{
    uint8_t h[MERKLE_MAX_DEPTH + 1][MERKLE_HASH_BYTES], msg[36];
    memcpy(h[0], leaf, MERKLE_HASH_BYTES);
    memo_t *m = cache ? s_memo_find(cache, pk, p) : NULL;
    if (m && s_memo_meets(m, p, pa, h)) {
        atomic_fetch_add_explicit(&cache->hits, 1, memory_order_relaxed);
        s_memo_store(m, cache, pk, p, pa, h);
        return 0;
    }
    s_climb(pa, p->siblings, h, 0, pa->depth);
    if (memcmp(h[pa->depth], p->root, MERKLE_HASH_BYTES) != 0)
        return TACNET_ESIGNATURE;
    if (!cache || !s_cache(cache, pk, p, 0)) {
        s_root_message(p->size, p->root, msg);
        if (seal_verify_detached(pk, MERKLE_ROOT_PREFIX, msg, sizeof(msg), p->sig) != 0)
            return TACNET_ESIGNATURE;
        if (cache)
            s_cache(cache, pk, p, 1);
    }
    if (cache)
        s_memo_store(m, cache, pk, p, pa, h);
    return 0;
}

int merkle_verify_digest(merkle_cache_t *cache, const uint8_t sign_pk[SEAL_KEY_BYTES],
                         const uint8_t *header, size_t hlen, const uint8_t digest[SEAL_DIGEST_LEN],
                         const uint8_t *sig, size_t sig_len)
{
    if (!sign_pk || !digest || !sig || (!header && hlen))
        return TACNET_EINVAL;
    if (sig_len == SEAL_SIG_BYTES)
        return seal_verify_digest(sign_pk, header, hlen, digest, sig);
    merkle_proof_t p;
    path_t pa;
    uint8_t leaf[MERKLE_HASH_BYTES];
    if (s_decode(sig, sig_len, &p, &pa) != 0)
        return TACNET_ESIGNATURE;
    merkle_leaf(header, hlen, digest, leaf);
    return s_verify_batched(cache, sign_pk, &p, &pa, leaf);
}

int merkle_verify(merkle_cache_t *cache, const uint8_t sign_pk[SEAL_KEY_BYTES],
                  const uint8_t *header, size_t hlen, const uint8_t *sealed, size_t sealed_len,
                  const uint8_t *sig, size_t sig_len)
{
    if (!sign_pk || !sig || (!header && hlen) || (!sealed && sealed_len))
        return TACNET_EINVAL;
    if (sig_len == SEAL_SIG_BYTES)
        return seal_verify(sign_pk, header, hlen, sealed, sealed_len, sig);
    uint8_t digest[SEAL_DIGEST_LEN];
    seal_digest(sealed, sealed_len, digest);
    return merkle_verify_digest(cache, sign_pk, header, hlen, digest, sig, sig_len);
}
