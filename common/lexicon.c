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
static const char s_latin1_ext[] =
    "aaaaaaaceeeeiiiidnooooo0ouuuuyts" /* U+00C0-00DF */
    "aaaaaaaceeeeiiiidnooooo0ouuuuyty" /* U+00E0-00FF */
    "aaaaaaccccccccddddeeeeeeeeeegggg" /* U+0100-011F */
    "gggghhhhiiiiiiiiiiiijjkkklllllll" /* U+0120-013F */
    "lllnnnnnnnnnoooooooorrrrrrssssss" /* U+0140-015F */
    "ssttttttuuuuuuuuuuuuwwyyyzzzzzzs" /* U+0160-017F */;

struct lexicon {
    struct slot {
        char *s;
        uint32_t len, flags;
    } *slots;
    size_t cap, n;
    int wipe;
};

size_t lexicon_fold(const char *w, size_t len, char *out)
{
    const uint8_t *s = (const uint8_t *)w;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        uint8_t c = s[i], c1 = i + 1 < len ? s[i + 1] : 0;
        char b = 0;
        size_t adv = 1;
        if (c < 0x80) {
            if (c == '\'')
                b = 0;
            else
                b = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        } else if (c >= 0xC3 && c <= 0xC5 && (c1 & 0xC0) == 0x80) {
            unsigned cp = ((unsigned)(c & 0x1F) << 6) | (c1 & 0x3F);
            b = s_latin1_ext[cp - 0xC0];
            if (b == '0')
                b = 0, o = LEXICON_MAX_WORD + 1; /* a sign inside a word: not a word */
            adv = 2;
        } else if (c == 0xC8 && c1 >= 0x98 && c1 <= 0x9B) {
            b = c1 < 0x9A ? 's' : 't'; /* Romanian comma-below s and t */
            adv = 2;
        } else if ((c == 0xCC && c1 >= 0x80 && c1 <= 0xBF) ||
                   (c == 0xCD && c1 >= 0x80 && c1 <= 0xAF) || (c == 0xCA && c1 == 0xBC)) {
            adv = 2; /* combining mark or modifier apostrophe: dropped */
        } else if (c == 0xE2 && c1 == 0x80 && i + 2 < len && s[i + 2] == 0x99) {
            adv = 3; /* right single quotation mark, the typographic apostrophe */
        } else {
            b = (char)c; /* any other byte stays as it is */
        }
        if (b) {
            if (o >= LEXICON_MAX_WORD)
                return 0;
            out[o++] = b;
        }
        i += adv;
    }
    return o > LEXICON_MAX_WORD ? 0 : o;
}

static uint64_t s_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static struct slot *s_find(const lexicon_t *self, const char *key, size_t len)
{
    if (self->cap == 0)
        return NULL;
    size_t mask = self->cap - 1;
    for (size_t i = s_hash(key, len) & mask;; i = (i + 1) & mask) {
        struct slot *sl = &self->slots[i];
        if (!sl->s)
            return sl;
        if (sl->len == len && memcmp(sl->s, key, len) == 0)
            return sl;
    }
}

static void s_grow(lexicon_t *self)
{
    size_t cap = self->cap ? self->cap * 2 : 256;
    struct slot *old = self->slots;
    size_t old_cap = self->cap;
    self->slots = xcalloc(cap, sizeof(*self->slots));
    self->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].s)
            *s_find(self, old[i].s, old[i].len) = old[i];
    free(old);
}

lexicon_t *lexicon_new(int wipe)
{
    lexicon_t *self = xcalloc(1, sizeof(*self));
    self->wipe = wipe;
    return self;
}

void lexicon_destroy(lexicon_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    lexicon_t *self = *self_p;
    for (size_t i = 0; i < self->cap; i++) {
        if (self->slots[i].s && self->wipe)
            sodium_memzero(self->slots[i].s, self->slots[i].len);
        free(self->slots[i].s);
    }
    free(self->slots);
    free(self);
    *self_p = NULL;
}

int lexicon_add(lexicon_t *self, const char *w, size_t len, uint32_t flags)
{
    char key[LEXICON_MAX_WORD];
    size_t n = lexicon_fold(w, len, key);
    if (n == 0)
        return TACNET_EINVAL;
    if ((self->n + 1) * 2 > self->cap)
        s_grow(self);
    struct slot *sl = s_find(self, key, n);
    if (!sl->s) {
        sl->s = xmalloc(n);
        memcpy(sl->s, key, n);
        sl->len = (uint32_t)n;
        self->n++;
    }
    sl->flags |= flags;
    if (self->wipe)
        sodium_memzero(key, sizeof(key));
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
    char key[LEXICON_MAX_WORD];
    size_t n = lexicon_fold(w, len, key);
    if (n == 0 || self->n == 0)
        return 0;
    struct slot *sl = s_find(self, key, n);
    uint32_t flags = sl->s ? sl->flags : 0;
    if (self->wipe)
        sodium_memzero(key, n);
    return flags;
}

size_t lexicon_size(const lexicon_t *self)
{
    return self->n;
}
