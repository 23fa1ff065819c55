/* lexicon: folded-word set with flags (see lexicon.h). */
#include "lexicon.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

/* Base letters of U+00C0-U+017F, one byte each; '0' marks a code point that is not a letter
 * (U+00D7, U+00F7). Ligatures and thorn fold to their first letter: what matters is that both
 * spellings of a name meet, not a faithful transliteration. */
static const char s_latin1_ext[] = "aaaaaaaceeeeiiiidnooooo0ouuuuyts" /* U+00C0-00DF */
                                   "aaaaaaaceeeeiiiidnooooo0ouuuuyty" /* U+00E0-00FF */
                                   "aaaaaaccccccccddddeeeeeeeeeegggg" /* U+0100-011F */
                                   "gggghhhhiiiiiiiiiiiijjkkklllllll" /* U+0120-013F */
                                   "lllnnnnnnnnnoooooooorrrrrrssssss" /* U+0140-015F */
                                   "ssttttttuuuuuuuuuuuuwwyyyzzzzzzs" /* U+0160-017F */;

/* Open addressing over 64-bit cells: the top 48 bits are the word's hash (its identity: two
 * of the ~10^5 words sharing them is a chance of about 10^-5 in all; a text word matching a
 * cell it is not is about 10^-10), the low 16 its flags. No key is stored, so a lookup touches
 * one cache line and a register keeps no name in memory. */
#define S_FLAG_BITS 16
#define S_FLAG_MASK ((uint64_t)0xFFFF)

struct lexicon {
    uint64_t *cells;
    size_t cap, n;
    int wipe;
};

static uint64_t s_key(uint64_t h)
{
    h ^= h >> 29;
    h &= ~S_FLAG_MASK;
    return h ? h : (uint64_t)1 << S_FLAG_BITS;
}

/* The first N (1..7) bytes of a chunk loaded from memory, as a mask: the low-addressed bytes
 * are the low-order ones on a little-endian machine and the high-order ones on a big-endian. */
static inline uint64_t s_low_bytes(size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return ~(~(uint64_t)0 >> (8 * n));
#else
    return ((uint64_t)1 << (8 * n)) - 1;
#endif
}

/* splitmix64's finaliser: every input bit reaches every output bit. */
static inline uint64_t s_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* The hash of N folded bytes at B, eight at a time (one multiply chain per eight letters, where
 * a byte-at-a-time hash has one per letter). LOWER is OR-ed into every byte: 0x20 for ASCII
 * letters of either case (which it lower-cases), 0 for bytes already folded. AVAIL >= N bytes
 * may be read at B: with eight or more the last chunk is one load, its bytes past the word
 * masked off. The same word always gives the same hash in one process, which is all a lexicon
 * needs (nothing stores it). */
static inline uint64_t s_hash(const uint8_t *b, size_t n, uint8_t lower, size_t avail)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL * (uint64_t)(n + 1);
    uint64_t lower8 = 0x0101010101010101ULL * lower;
    for (; n >= 8; b += 8, n -= 8, avail -= 8) {
        uint64_t c;
        memcpy(&c, b, 8);
        h = s_mix(h ^ (c | lower8));
    }
    if (n) {
        uint64_t c = 0;
        if (avail >= 8) {
            memcpy(&c, b, 8);
            c = (c | lower8) & s_low_bytes(n);
        } else {
            for (size_t i = 0; i < n; i++)
                c |= (uint64_t)(uint8_t)(b[i] | lower) << (8 * i);
        }
        h = s_mix(h ^ c);
    }
    return h;
}

/* Folds W (lexicon.h) and hashes the folded bytes; 0 when it folds to nothing or is too long. */
static uint64_t s_fold_hash(const char *w, size_t len)
{
    const uint8_t *s = (const uint8_t *)w;
    uint8_t folded[LEXICON_MAX_WORD];
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        uint8_t c = s[i], b;
        if (c < 0x80) {
            i++;
            if (c == '\'')
                continue;
            b = (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        } else {
            uint8_t c1 = i + 1 < len ? s[i + 1] : 0;
            if (c >= 0xC3 && c <= 0xC5 && (c1 & 0xC0) == 0x80) {
                unsigned cp = ((unsigned)(c & 0x1F) << 6) | (c1 & 0x3F);
                b = (uint8_t)s_latin1_ext[cp - 0xC0];
                if (b == '0')
                    return 0; /* a sign inside a word: not a word */
                i += 2;
            } else if (c == 0xC8 && c1 >= 0x98 && c1 <= 0x9B) {
                b = c1 < 0x9A ? 's' : 't'; /* Romanian comma-below s and t */
                i += 2;
            } else if ((c == 0xCC && c1 >= 0x80 && c1 <= 0xBF) ||
                       (c == 0xCD && c1 >= 0x80 && c1 <= 0xAF) || (c == 0xCA && c1 == 0xBC)) {
                i += 2; /* combining mark or modifier apostrophe: dropped */
                continue;
            } else if (c == 0xE2 && c1 == 0x80 && i + 2 < len && s[i + 2] == 0x99) {
                i += 3; /* right single quotation mark, the typographic apostrophe */
                continue;
            } else {
                b = c; /* any other byte stays as it is */
                i++;
            }
        }
        if (o == LEXICON_MAX_WORD)
            return 0;
        folded[o++] = b;
    }
    return o ? s_key(s_hash(folded, o, 0, o)) : 0;
}

/* The first slot KEY probes (s_cell says why this function). */
static size_t s_slot(const lexicon_t *self, uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 32) & (self->cap - 1);
}

/* The cell for KEY: linear probing from the slot the key's Fibonacci hash picks (times 2^64 /
 * golden ratio, high half). Taking the slot straight from the key's bits, as before, clustered
 * the gazetteer's ~10^5 words: a text word's lookup probed about 16 cells on average, against
 * under 2 now (callgrind over the benchmark's note: 60,500 instructions per check became 53,200).
 * Cells live only in memory, so the slot function can change freely. */
static uint64_t *s_cell(const lexicon_t *self, uint64_t key)
{
    size_t mask = self->cap - 1;
    for (size_t i = s_slot(self, key);; i = (i + 1) & mask) {
        uint64_t *c = &self->cells[i];
        if (*c == 0 || (*c & ~S_FLAG_MASK) == key)
            return c;
    }
}

static void s_grow(lexicon_t *self)
{
    size_t old_cap = self->cap;
    uint64_t *old = self->cells;
    self->cap = old_cap ? old_cap * 2 : 64;
    self->cells = xcalloc(self->cap, sizeof(*self->cells));
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            *s_cell(self, old[i] & ~S_FLAG_MASK) = old[i];
    if (old && self->wipe)
        sodium_memzero(old, old_cap * sizeof(*old));
    free(old);
}

lexicon_t *lexicon_new(int wipe)
{
    /* Empty until the first word: a case register is built for every publish and receipt,
     * and most cases register a handful of names. */
    lexicon_t *self = xcalloc(1, sizeof(*self));
    self->wipe = wipe;
    return self;
}

void lexicon_destroy(lexicon_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    lexicon_t *self = *self_p;
    if (self->wipe && self->cells)
        sodium_memzero(self->cells, self->cap * sizeof(*self->cells));
    free(self->cells);
    free(self);
    *self_p = NULL;
}

int lexicon_add(lexicon_t *self, const char *w, size_t len, uint32_t flags)
{
    uint64_t key = s_fold_hash(w, len);
    if (key == 0 || flags > S_FLAG_MASK)
        return TACNET_EINVAL;
    if ((self->n + 1) * 2 > self->cap)
        s_grow(self);
    uint64_t *c = s_cell(self, key);
    if (*c == 0) {
        *c = key;
        self->n++;
    }
    *c |= flags;
    return 0;
}

int lexicon_load(lexicon_t *self, const char *path, uint32_t flags)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? TACNET_ENOTFOUND : TACNET_EIO;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) >= 0) {
        size_t a = 0, b = (size_t)got;
        while (a < b && (line[a] == ' ' || line[a] == '\t'))
            a++;
        while (b > a && (line[b - 1] == '\n' || line[b - 1] == '\r' || line[b - 1] == ' ' ||
                         line[b - 1] == '\t'))
            b--;
        if (a < b && line[a] != '#')
            (void)lexicon_add(self, line + a, b - a, flags);
    }
    int rc = ferror(f) ? TACNET_EIO : 0;
    free(line);
    fclose(f);
    return rc;
}

uint32_t lexicon_flags(const lexicon_t *self, const char *w, size_t len)
{
    if (self->n == 0)
        return 0;
    uint64_t key = s_fold_hash(w, len);
    if (key == 0)
        return 0;
    return (uint32_t)(*s_cell(self, key) & S_FLAG_MASK);
}

uint64_t lexicon_hash_letters(const uint8_t *w, size_t len, size_t avail)
{
    return s_hash(w, len, 0x20, avail);
}

uint32_t lexicon_flags_hashed(const lexicon_t *self, uint64_t h)
{
    if (self->n == 0)
        return 0;
    return (uint32_t)(*s_cell(self, s_key(h)) & S_FLAG_MASK);
}

void lexicon_prefetch(const lexicon_t *self, uint64_t h)
{
    if (self->n == 0)
        return;
    __builtin_prefetch(&self->cells[s_slot(self, s_key(h))]);
}

size_t lexicon_size(const lexicon_t *self)
{
    return self->n;
}
