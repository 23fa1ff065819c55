/* textnorm: the form of a text the identifier policy's check reads (common/policy.h), so that
 * Unicode look-alikes do not hide an identifier from it. The text sent is never changed: the
 * check reads the normalised copy and maps what it finds back to the original bytes.
 *
 * Normalised, character by character (only well-formed UTF-8; any other byte is kept as it is):
 * - invisible format characters are dropped: soft hyphen U+00AD, U+034F, U+061C, U+115F-1160,
 *   U+17B4-17B5, U+180B-180F, U+200B-200F, U+202A-202E, U+2060-206F, U+3164, U+FE00-FE0F,
 *   U+FEFF, U+FFA0, U+FFF9-FFFB, U+1D173-1D17A, U+E0000-E007F, U+E0100-E01EF (so "Bright"
 *   U+200B "water" and "943 476 59" U+200B "19" read as the word and the number they show);
 * - spaces become ' ': U+0085, U+00A0, U+1680, U+2000-200A, U+2028-2029, U+202F, U+205F, U+3000;
 * - hyphens, dashes and minus signs become '-': U+2010-2015, U+2043, U+2212, U+FE58, U+FE63;
 * - full-width ASCII U+FF01-FF5E becomes ASCII ("９４３", "＠"), and mathematical letters and
 *   digits U+1D400-1D6A3 and U+1D7CE-1D7FF become ASCII letters and digits;
 * - Cyrillic, Greek and Armenian letters that look like Latin ones (Cyrillic А В Е К М Н О Р С
 *   Т Х а е о р с у х і ј ѕ һ ԁ ԝ, Greek Α Β Ε Ζ Η Ι Κ Μ Ν Ο Ρ Τ Υ Χ α ι κ ν ο ρ υ χ ...)
 *   become those Latin letters in a word (a run of letters, digits and marks) that also has a
 *   Latin letter ("Вrightwater"), where a few looser look-alikes (Cyrillic г п ь, Greek γ,
 *   Armenian օ հ ո ս ց) are folded too; and in a word made of nothing but such look-alikes
 *   ("Аѕһа": every letter Cyrillic, the spelling Latin). A word with any other letter of its
 *   script is the script's own word ("Олена") and stays as it is.
 * Every replacement is no longer than what it replaces, so the normalised text is never longer
 * than the original. */
#ifndef TACNET_TEXTNORM_H
#define TACNET_TEXTNORM_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *text;     /* the normalised bytes (owned; not NUL-terminated) */
    size_t len;     /* their number, at most the original's */
    uint32_t *from; /* from[i]: where the original character that gave byte i starts */
    uint32_t *to;   /* to[i]: where it ends (exclusive) */
} textnorm_t;

/* Normalises LEN bytes of TEXT (LEN < 4 GiB). Returns 0 when the normalised text would be the
 * same bytes (*N untouched, nothing allocated: pure ASCII text is told by one quick scan), or 1
 * with *N filled; free it with textnorm_free. */
int textnorm_run(textnorm_t *n, const char *text, size_t len);

/* The original byte span [*START, *END) of the normalised span [*START, *END) of N. */
void textnorm_span(const textnorm_t *n, uint32_t *start, uint32_t *end);

/* Frees what textnorm_run allocated in *N, wiping the text first. Null-safe. */
void textnorm_free(textnorm_t *n);

#endif
