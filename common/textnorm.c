/* textnorm: the text the identifier check reads (see textnorm.h). */
#include "textnorm.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

/* What a character does to the text (C_) and what it is in a word (R_). */
enum { C_KEEP, C_DROP, C_TO };
enum { R_BOUND, R_LATIN, R_NEUTRAL, R_OTHER, R_GLYPH, R_GLYPH2 };

typedef struct {
    uint8_t cls, role, ascii, n; /* C_TO: becomes ASCII; R_GLYPH*: folds to ASCII; N: bytes */
} s_char_t;

/* Letters of other scripts that look like Latin ones. Tier 1 is folded in a word with a Latin
 * letter and in a word of nothing but tier-1 letters; tier 2 only in a word with a Latin
 * letter (on their own they are the script's own letters: Cyrillic г, п, ь). Sorted. */
static const struct {
    uint16_t cp;
    char ascii;
    uint8_t tier;
} s_glyphs[] = {
    { 0x0391, 'A', 1 }, { 0x0392, 'B', 1 }, { 0x0395, 'E', 1 }, { 0x0396, 'Z', 1 },
    { 0x0397, 'H', 1 }, { 0x0399, 'I', 1 }, { 0x039A, 'K', 1 }, { 0x039C, 'M', 1 },
    { 0x039D, 'N', 1 }, { 0x039F, 'O', 1 }, { 0x03A1, 'P', 1 }, { 0x03A4, 'T', 1 },
    { 0x03A5, 'Y', 1 }, { 0x03A7, 'X', 1 }, { 0x03B1, 'a', 1 }, { 0x03B3, 'y', 2 },
    { 0x03B9, 'i', 1 }, { 0x03BA, 'k', 1 }, { 0x03BD, 'v', 1 }, { 0x03BF, 'o', 1 },
    { 0x03C1, 'p', 1 }, { 0x03C5, 'u', 1 }, { 0x03C7, 'x', 1 }, { 0x03F2, 'c', 1 },
    { 0x03F3, 'j', 1 }, { 0x03F9, 'C', 1 }, { 0x0401, 'E', 1 }, { 0x0405, 'S', 1 },
    { 0x0406, 'I', 1 }, { 0x0407, 'I', 1 }, { 0x0408, 'J', 1 }, { 0x0410, 'A', 1 },
    { 0x0412, 'B', 1 }, { 0x0415, 'E', 1 }, { 0x041A, 'K', 1 }, { 0x041C, 'M', 1 },
    { 0x041D, 'H', 1 }, { 0x041E, 'O', 1 }, { 0x0420, 'P', 1 }, { 0x0421, 'C', 1 },
    { 0x0422, 'T', 1 }, { 0x0425, 'X', 1 }, { 0x0430, 'a', 1 }, { 0x0433, 'r', 2 },
    { 0x0435, 'e', 1 }, { 0x043E, 'o', 1 }, { 0x043F, 'n', 2 }, { 0x0440, 'p', 1 },
    { 0x0441, 'c', 1 }, { 0x0443, 'y', 1 }, { 0x0445, 'x', 1 }, { 0x044C, 'b', 2 },
    { 0x0451, 'e', 1 }, { 0x0455, 's', 1 }, { 0x0456, 'i', 1 }, { 0x0457, 'i', 1 },
    { 0x0458, 'j', 1 }, { 0x0474, 'V', 1 }, { 0x0475, 'v', 1 }, { 0x04AE, 'Y', 1 },
    { 0x04BB, 'h', 1 }, { 0x04C0, 'I', 1 }, { 0x04CF, 'l', 1 }, { 0x0501, 'd', 1 },
    { 0x051A, 'Q', 1 }, { 0x051B, 'q', 1 }, { 0x051C, 'W', 1 }, { 0x051D, 'w', 1 },
    { 0x0570, 'h', 2 }, { 0x0578, 'n', 2 }, { 0x057D, 'u', 2 }, { 0x0581, 'g', 2 },
    { 0x0585, 'o', 2 },
};

static int s_glyph(uint32_t cp, s_char_t *c)
{
    size_t lo = 0, hi = sizeof(s_glyphs) / sizeof(s_glyphs[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s_glyphs[mid].cp == cp) {
            c->role = s_glyphs[mid].tier == 1 ? R_GLYPH : R_GLYPH2;
            c->ascii = (uint8_t)s_glyphs[mid].ascii;
            return 1;
        }
        if (s_glyphs[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* The code point of the well-formed UTF-8 sequence at S (AVAIL bytes readable) and its length
 * in *N; 0 with *N = 1 for a byte that does not start one (overlong forms, surrogates and values
 * past U+10FFFF are not UTF-8). */
static uint32_t s_decode(const uint8_t *s, size_t avail, uint8_t *n)
{
    uint8_t c = s[0];
    *n = 1;
    if (c >= 0xC2 && c <= 0xDF) {
        if (avail >= 2 && (s[1] & 0xC0) == 0x80) {
            *n = 2;
            return ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
        }
    } else if (c >= 0xE0 && c <= 0xEF) {
        if (avail >= 3 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 &&
            (c != 0xE0 || s[1] >= 0xA0) && (c != 0xED || s[1] < 0xA0)) {
            *n = 3;
            return ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        }
    } else if (c >= 0xF0 && c <= 0xF4) {
        if (avail >= 4 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80 &&
            (c != 0xF0 || s[1] >= 0x90) && (c != 0xF4 || s[1] < 0x90)) {
            *n = 4;
            return ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
                   ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        }
    }
    return 0;
}

static int s_invisible(uint32_t cp)
{
    return cp == 0xAD || cp == 0x34F || cp == 0x61C || cp == 0x115F || cp == 0x1160 ||
           cp == 0x17B4 || cp == 0x17B5 || (cp >= 0x180B && cp <= 0x180F) ||
           (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x206F) || cp == 0x3164 || (cp >= 0xFE00 && cp <= 0xFE0F) ||
           cp == 0xFEFF || cp == 0xFFA0 || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
           (cp >= 0x1D173 && cp <= 0x1D17A) || (cp >= 0xE0000 && cp <= 0xE007F) ||
           (cp >= 0xE0100 && cp <= 0xE01EF);
}

static int s_space(uint32_t cp)
{
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

static int s_dash(uint32_t cp)
{
    return (cp >= 0x2010 && cp <= 0x2015) || cp == 0x2043 || cp == 0x2212 || cp == 0xFE58 ||
           cp == 0xFE63;
}

static uint8_t s_ascii_role(uint8_t a)
{
    if ((uint8_t)((a | 0x20) - 'a') < 26)
        return R_LATIN;
    return a >= '0' && a <= '9' ? R_NEUTRAL : R_BOUND;
}

/* Latin letters beyond ASCII: Latin-1 and Extended-A/B, IPA, Extended Additional, -C, -D, -E. */
static int s_latin(uint32_t cp)
{
    return (cp >= 0xC0 && cp <= 0x2AF && cp != 0xD7 && cp != 0xF7) ||
           (cp >= 0x1E00 && cp <= 0x1EFF) || (cp >= 0x2C60 && cp <= 0x2C7F) ||
           (cp >= 0xA720 && cp <= 0xA7FF) || (cp >= 0xAB30 && cp <= 0xAB6F);
}

/* Punctuation, signs and symbols above U+036F: they end a word. */
static int s_sign(uint32_t cp)
{
    return (cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x2E00 && cp <= 0x2E7F) ||
           (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xE000 && cp <= 0xF8FF) ||
           (cp >= 0xFE10 && cp <= 0xFE6F) || (cp >= 0xFF00 && cp <= 0xFFEF) ||
           (cp >= 0xFFF0 && cp <= 0xFFFF) || (cp >= 0x1F000 && cp <= 0x1FBFF);
}

/* The character at S (AVAIL >= 1 bytes readable). */
static s_char_t s_class(const uint8_t *s, size_t avail)
{
    s_char_t c = { C_KEEP, R_BOUND, 0, 1 };
    if (s[0] < 0x80) {
        c.role = s_ascii_role(s[0]);
        return c;
    }
    uint32_t cp = s_decode(s, avail, &c.n);
    if (cp == 0) {
        c.role = R_OTHER; /* not UTF-8: kept, and a word byte as the check reads it */
    } else if (s_invisible(cp)) {
        c.cls = C_DROP, c.role = R_NEUTRAL;
    } else if (s_space(cp)) {
        c.cls = C_TO, c.ascii = ' ';
    } else if (s_dash(cp)) {
        c.cls = C_TO, c.ascii = '-';
    } else if (cp >= 0xFF01 && cp <= 0xFF5E) {
        c.cls = C_TO, c.ascii = (uint8_t)(cp - 0xFEE0);
        c.role = s_ascii_role(c.ascii);
    } else if (cp >= 0x1D400 && cp <= 0x1D6A3) {
        unsigned k = (cp - 0x1D400) % 52;
        c.cls = C_TO, c.role = R_LATIN;
        c.ascii = (uint8_t)(k < 26 ? 'A' + k : 'a' + (k - 26));
    } else if (cp >= 0x1D7CE && cp <= 0x1D7FF) {
        c.cls = C_TO, c.role = R_NEUTRAL;
        c.ascii = (uint8_t)('0' + (cp - 0x1D7CE) % 10);
    } else if ((cp >= 0x300 && cp <= 0x36F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
               (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF)) {
        c.role = R_NEUTRAL; /* combining marks */
    } else if (s_latin(cp)) {
        c.role = R_LATIN;
    } else if (s_glyph(cp, &c)) {
        /* role and ascii set */
    } else if (cp >= 0x370 && !s_sign(cp)) {
        c.role = R_OTHER;
    }
    return c;
}

/* Nothing to normalise: no character that changes, no look-alike letter. */
static int s_plain(const uint8_t *s, size_t len)
{
    const uint64_t high = 0x8080808080808080ULL;
    size_t i = 0;
    /* Pure ASCII, the common case: 32 bytes a step, one test each (a typical note is 15). */
    for (; i + 32 <= len; i += 32) {
        uint64_t w[4];
        memcpy(w, s + i, 32);
        if ((w[0] | w[1] | w[2] | w[3]) & high)
            break;
    }
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & high)
            break;
    }
    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        s_char_t c = s_class(s + i, len - i);
        if (c.cls != C_KEEP || c.role == R_GLYPH || c.role == R_GLYPH2)
            return 0;
        i += c.n;
    }
    return 1;
}

int textnorm_run(textnorm_t *n, const char *text, size_t len)
{
    const uint8_t *s = (const uint8_t *)text;
    if (len == 0 || s_plain(s, len))
        return 0;
    uint8_t *out = xmalloc(len);
    uint32_t *from = xmalloc(len * sizeof(*from)), *to = xmalloc(len * sizeof(*to));
    size_t o = 0;
    int changed = 0;
    for (size_t i = 0; i < len;) {
        s_char_t c = s_class(s + i, len - i);
        size_t we = i + c.n;
        int fold1 = 0, fold2 = 0;
        if (c.role != R_BOUND) {
            /* A word: which of its look-alike letters fold depends on the rest of it. */
            int latin = 0, other = 0, glyph = 0;
            for (s_char_t w = c;;) {
                latin |= w.role == R_LATIN;
                other |= w.role == R_OTHER || w.role == R_GLYPH2;
                glyph |= w.role == R_GLYPH;
                if (we >= len)
                    break;
                w = s_class(s + we, len - we);
                if (w.role == R_BOUND)
                    break;
                we += w.n;
            }
            fold1 = glyph && (latin || !other);
            fold2 = latin;
        }
        while (i < we) {
            c = s_class(s + i, len - i);
            int fold =
                c.cls == C_TO || (c.role == R_GLYPH && fold1) || (c.role == R_GLYPH2 && fold2);
            if (c.cls == C_DROP) {
                changed = 1;
            } else if (fold) {
                out[o] = c.ascii, from[o] = (uint32_t)i, to[o] = (uint32_t)(i + c.n);
                o++;
                changed = 1;
            } else {
                for (size_t k = 0; k < c.n; k++, o++)
                    out[o] = s[i + k], from[o] = (uint32_t)(i + k), to[o] = (uint32_t)(i + k + 1);
            }
            i += c.n;
        }
    }
    if (!changed) {
        free(out), free(from), free(to);
        return 0;
    }
    n->text = (char *)out, n->len = o, n->from = from, n->to = to;
    return 1;
}

void textnorm_span(const textnorm_t *n, uint32_t *start, uint32_t *end)
{
    uint32_t s = *start, e = *end;
    if (n->len == 0) {
        *start = *end = 0;
        return;
    }
    if (s >= n->len)
        s = (uint32_t)n->len - 1;
    *start = n->from[s];
    *end = e > s ? n->to[e > n->len ? n->len - 1 : e - 1] : *start;
}

void textnorm_free(textnorm_t *n)
{
    if (!n)
        return;
    if (n->text)
        sodium_memzero(n->text, n->len); /* a register's names, a note's words */
    free(n->text), free(n->from), free(n->to);
    n->text = NULL, n->from = n->to = NULL, n->len = 0;
}
