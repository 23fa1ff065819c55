/* lexicon: a set of words with flags, looked up the way people write words, for the identifier
 * policy's text check (common/policy.h). One lookup answers every question the check asks of a
 * word (a given name? a surname? an everyday word? a kinship cue? a street word?), so each word
 * of a text is hashed once.
 *
 * Words are compared by a folded key: ASCII letters lower-cased, Latin letters with diacritics
 * (U+00C0-U+024F, the ones used by the UK's European communities) reduced to their base letter,
 * combining marks (U+0300-U+036F) dropped, and apostrophes (' and U+2019) dropped. So "Zoë"
 * typed precomposed (NFC) or decomposed (NFD), "Zoe" and "ZOE" are one word, as are "O'Neill"
 * and "ONeill". Other bytes are kept as they are.
 */
#ifndef TACNET_LEXICON_H
#define TACNET_LEXICON_H

#include <stddef.h>
#include <stdint.h>

/* The longest folded word kept or looked up; longer words are never in a lexicon. */
#define LEXICON_MAX_WORD 47

typedef struct lexicon lexicon_t;

/* A new, empty lexicon (owned; free with lexicon_destroy). It keeps a 48-bit hash of each
 * folded word, never the word. WIPE: zero the table when it grows or is destroyed (for a
 * case's identity register, whose hashes stand for real names). */
lexicon_t *lexicon_new(int wipe);

/* Frees *SELF_P and sets it to NULL. Null-safe. */
void lexicon_destroy(lexicon_t **self_p);

/* Adds FLAGS (16 bits) to word W (LEN bytes, folded first; flags of an existing entry are
 * OR-ed). Returns 0, or TACNET_EINVAL for an empty word, one longer than LEXICON_MAX_WORD
 * folded, or flags over 16 bits. */
int lexicon_add(lexicon_t *self, const char *w, size_t len, uint32_t flags);

/* Adds every line of PATH with FLAGS (one entry per line, '#' starts a comment line,
 * surrounding blanks ignored; a line too long to be a word is skipped). Returns 0,
 * TACNET_ENOTFOUND (no such file), TACNET_EIO or TACNET_EINVAL (path too long). */
int lexicon_load(lexicon_t *self, const char *path, uint32_t flags);

/* The flags of word W (LEN bytes), 0 when absent or too long. */
uint32_t lexicon_flags(const lexicon_t *self, const char *w, size_t len);

/* The hash lexicon_flags() would take of W, a word of LEN (1..LEXICON_MAX_WORD) ASCII letters
 * of either case and nothing else; AVAIL >= LEN bytes are readable at W (the rest of the text:
 * with eight or more, the word's last bytes are read in one load). With it a scanner that has
 * found where a word ends hashes it once and looks it up in more than one lexicon, or
 * prefetches before it looks. */
uint64_t lexicon_hash_letters(const uint8_t *w, size_t len, size_t avail);

/* The flags of the word whose lexicon_hash_letters() is H, 0 when absent. */
uint32_t lexicon_flags_hashed(const lexicon_t *self, uint64_t h);

/* Starts loading the cell lexicon_flags_hashed(SELF, H) will read: a scanner that hashes every
 * word of a text first and looks them up after has the lookups' cache misses overlap. */
void lexicon_prefetch(const lexicon_t *self, uint64_t h);

/* Number of distinct entries. */
size_t lexicon_size(const lexicon_t *self);

#endif
