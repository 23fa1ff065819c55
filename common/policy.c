/* policy: header identifier patterns and the free-text identifier checker. The heuristics
 * are described in policy.h; the comments here say why a rule is shaped the way it is. */
#include "policy.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "lexicon.h"
#include "textnorm.h"

/* A word list entry with its length: the scanners try these at every position of every text
 * checked (twice per event, sender and receiver), where strlen was half of the check's time. */
typedef struct {
    const char *s;
    size_t n;
} s_word_t;
#define S_WORD(w)        \
    {                    \
        w, sizeof(w) - 1 \
    }

/* ---------------------------------------------------------------- header fields */

static int s_upper(uint8_t c)
{
    return c >= 'A' && c <= 'Z';
}

static int s_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static int s_lower(uint8_t c)
{
    return c >= 'a' && c <= 'z';
}

static int s_alpha(uint8_t c)
{
    return (uint8_t)((c | 0x20) - 'a') < 26; /* one compare for both cases */
}

static int s_alnum(uint8_t c)
{
    return s_alpha(c) || s_digit(c);
}

static uint8_t s_tolower(uint8_t c)
{
    return s_upper(c) ? (uint8_t)(c - 'A' + 'a') : c;
}

int policy_case_ref_check(const uint8_t *s, size_t len)
{
    if (!s || len < 14 || len > 17 || !s_upper(s[0]))
        return TACNET_ECASEREF;
    size_t i = 1;
    while (i < len && (s_upper(s[i]) || s_digit(s[i])))
        i++;
    if (i < 2 || i > 5 || len - i != 12)
        return TACNET_ECASEREF;
    const uint8_t *t = s + i; /* "-20YY-NNNNNN" */
    if (t[0] != '-' || t[1] != '2' || t[2] != '0' || !s_digit(t[3]) || !s_digit(t[4]) ||
        t[5] != '-')
        return TACNET_ECASEREF;
    for (size_t k = 6; k < 12; k++)
        if (!s_digit(t[k]))
            return TACNET_ECASEREF;
    return 0;
}

int policy_initials_check(const uint8_t *s, size_t len)
{
    if (!s || len < 2 || len > 4)
        return TACNET_EINITIALS;
    for (size_t i = 0; i < len; i++)
        if (!s_upper(s[i]))
            return TACNET_EINITIALS;
    return 0;
}

/* ---------------------------------------------------------------- objects */

/* What the lexicon knows about a word. One lookup per word answers every rule. */
enum {
    L_GIVEN = 1u << 0,   /* given-names.txt */
    L_SURNAME = 1u << 1, /* surnames.txt */
    L_ALLOW = 1u << 2,   /* allowlist.txt: never a name on its own */
    L_WORD = 1u << 3,    /* words.txt: an everyday English word */
    L_KIN = 1u << 4,     /* kinship or role word: a name may follow ("Mum (Ama)") */
    L_VERB = 1u << 5,    /* first word of a two-word cue ("met" with, "seen" by) */
    L_PREP = 1u << 6,    /* second word of it */
    L_CUE1 = 1u << 7,    /* a one-word cue ("visited", "aka") */
    L_STREET = 1u << 8,  /* street word after a house number */
    L_FLAT = 1u << 9,    /* "Flat 3", "Apartment 12" */
    L_STOP = 1u << 10,   /* function and unit words: never part of a street's name */
    L_DET = 1u << 11,    /* determiners: "Jack the car" is a verb, not a boy */
    L_MONTH = 1u << 12,  /* a month's name or abbreviation: a written date may start here */
    L_AND = 1u << 13,    /* "and", which joins the last two of a list */
    L_AT = 1u << 14,     /* "at": an e-mail address may be written out around it */
};

/* Words a name may follow. Each list is language, not data, so it lives here. */
static const char *const s_kin[] = {
    "mum",         "mother",     "mam",      "mom",         "dad",         "father",
    "stepdad",     "stepfather", "stepmum",  "stepmother",  "grandmother", "grandfather",
    "grandma",     "grandad",    "granddad", "grandpa",     "nan",         "nana",
    "nanna",       "gran",       "granny",   "grandparent", "aunt",        "auntie",
    "aunty",       "uncle",      "sibling",  "siblings",    "brother",     "sister",
    "stepbrother", "stepsister", "cousin",   "carer",       "partner",     "boyfriend",
    "girlfriend",  "husband",    "wife",     "son",         "daughter",    "niece",
    "nephew",      "guardian",   "teacher",  "worker",      "childminder", "neighbour",
    "friend",      "keyworker",  "baby",     "twin",        "ex",          "fiance",
    "fiancee",     "pupil",      "student",  "patient",     "client",      "named",
    "called",      "aka",        "visited",  "phoned",      "rang",        "emailed",
    "texted",      "told",       "informed", "asked",       "thanked",     "reassured",
    "supported",   "collected",  "saw",      "dropped",
};
static const char *const s_verbs[] = {
    "met",       "seen",         "spoke",     "speak",       "talked",   "lives",       "living",
    "live",      "stays",        "staying",   "accompanied", "referred", "attended",    "visit",
    "discussed", "brought",      "collected", "meeting",     "session",  "appointment", "contact",
    "call",      "conversation", "sees",      "meets",
};
static const char *const s_preps[] = { "with", "by", "to", "for" };
static const char *const s_streets[] = {
    "road",    "street",  "avenue", "close", "lane", "drive", "way",    "crescent", "court",
    "gardens", "terrace", "place",  "grove", "hill", "mews",  "square", "rd",       "ave",
};
static const char *const s_flats[] = { "flat", "apartment", "apt", "maisonette" };
static const char *const s_stops[] = {
    "the",       "a",      "an",    "of",    "to",     "in",    "on",     "at",    "and",
    "or",        "for",    "with",  "by",    "up",     "down",  "her",    "his",   "their",
    "its",       "our",    "my",    "your",  "this",   "that",  "every",  "each",  "minute",
    "minutes",   "mile",   "miles", "hour",  "hours",  "day",   "days",   "week",  "weeks",
    "month",     "months", "year",  "years", "time",   "times", "metres", "yards", "steps",
    "km",        "more",   "other", "new",   "good",   "big",   "small",  "long",  "short",
    "different", "same",   "nice",  "whole", "better", "best",  "last",   "first", "next",
    "extra",     "very",   "quite",
};
static const char *const s_months[] = {
    "january",   "february", "march",    "april",    "may",  "june", "july", "august",
    "september", "october",  "november", "december", "jan",  "feb",  "mar",  "apr",
    "jun",       "jul",      "aug",      "sep",      "sept", "oct",  "nov",  "dec",
};
static const char *const s_dets[] = {
    "the", "a", "an", "up", "his", "her", "their", "its", "it", "this", "that", "them", "him",
};

struct policy {
    lexicon_t *lex;
    int have_words; /* words.txt loaded: unknown words may be judged */
};

struct policy_register {
    lexicon_t *words;
};

static void s_add_all(lexicon_t *lex, const char *const *w, size_t n, uint32_t flags)
{
    for (size_t i = 0; i < n; i++)
        (void)lexicon_add(lex, w[i], strlen(w[i]), flags);
}

#define S_ADD_ALL(lex, arr, flags) s_add_all((lex), (arr), sizeof(arr) / sizeof((arr)[0]), (flags))

static int s_load_list(const char *dir, const char *file, lexicon_t *lex, uint32_t flags)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= sizeof(path))
        return TACNET_EINVAL;
    return lexicon_load(lex, path, flags);
}

policy_t *policy_new(const char *gazetteer_dir, int *err)
{
    int rc = TACNET_EINVAL;
    policy_t *self = NULL;
    if (!gazetteer_dir)
        goto fail;
    self = xcalloc(1, sizeof(*self));
    self->lex = lexicon_new(0);
    if ((rc = s_load_list(gazetteer_dir, "given-names.txt", self->lex, L_GIVEN)) != 0 ||
        (rc = s_load_list(gazetteer_dir, "surnames.txt", self->lex, L_SURNAME)) != 0 ||
        (rc = s_load_list(gazetteer_dir, "allowlist.txt", self->lex, L_ALLOW)) != 0)
        goto fail;
    /* The word list is optional: without it no word counts as unknown, as before issue 17. */
    rc = s_load_list(gazetteer_dir, "words.txt", self->lex, L_WORD);
    if (rc != 0 && rc != TACNET_ENOTFOUND)
        goto fail;
    self->have_words = rc == 0;
    S_ADD_ALL(self->lex, s_kin, L_KIN);
    S_ADD_ALL(self->lex, s_verbs, L_VERB);
    S_ADD_ALL(self->lex, s_preps, L_PREP);
    S_ADD_ALL(self->lex, s_streets, L_STREET);
    S_ADD_ALL(self->lex, s_flats, L_FLAT);
    S_ADD_ALL(self->lex, s_stops, L_STOP);
    S_ADD_ALL(self->lex, s_dets, L_DET);
    S_ADD_ALL(self->lex, s_months, L_MONTH);
    (void)lexicon_add(self->lex, "and", 3, L_AND);
    (void)lexicon_add(self->lex, "at", 2, L_AT);
    if (err)
        *err = 0;
    return self;
fail:
    policy_destroy(&self);
    if (err)
        *err = rc;
    return NULL;
}

void policy_destroy(policy_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    lexicon_destroy(&(*self_p)->lex);
    free(*self_p);
    *self_p = NULL;
}

/* Words are letters plus any non-ASCII byte, so UTF-8 names stay whole. */
static int s_word_byte(uint8_t c)
{
    return s_alpha(c) || c >= 0x80;
}

policy_register_t *policy_register_new(void)
{
    policy_register_t *self = xcalloc(1, sizeof(policy_register_t));
    self->words = lexicon_new(1);
    return self;
}

int policy_register_add(policy_register_t *self, const char *name)
{
    if (!self || !name)
        return TACNET_EINVAL;
    /* Read as the text check reads text (textnorm.h), so a name typed with a look-alike or an
     * invisible character still meets the same name in a note. */
    textnorm_t nm;
    char *copy = NULL;
    if (textnorm_run(&nm, name, strlen(name))) {
        copy = xmalloc(nm.len + 1);
        memcpy(copy, nm.text, nm.len);
        copy[nm.len] = 0;
        textnorm_free(&nm);
        name = copy;
    }
    int added = 0;
    const char *p = name;
    while (*p) {
        if (!s_word_byte((uint8_t)*p)) {
            p++;
            continue;
        }
        /* A word with its apostrophes ("O'Neill", which the text check reads as one word),
         * then each part of it on its own ("Neill"). */
        const char *w = p;
        while (*p && (s_word_byte((uint8_t)*p) || (*p == '\'' && s_word_byte((uint8_t)p[1]))))
            p++;
        for (const char *q = w; q < p;) {
            const char *part = q;
            while (q < p && *q != '\'')
                q++;
            /* One letter is an initial, which the design allows; it would also match "a". */
            if (q - part >= 2 && lexicon_add(self->words, part, (size_t)(q - part), 1) == 0)
                added = 1;
            if (q < p)
                q++;
        }
        if (memchr(w, '\'', (size_t)(p - w)) &&
            lexicon_add(self->words, w, (size_t)(p - w), 1) == 0)
            added = 1;
    }
    if (copy) {
        sodium_memzero(copy, strlen(copy));
        free(copy);
    }
    return added ? 0 : TACNET_EINVAL;
}

void policy_register_destroy(policy_register_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    lexicon_destroy(&(*self_p)->words);
    free(*self_p);
    *self_p = NULL;
}

const char *policy_kind_name(enum policy_kind kind)
{
    switch (kind) {
    case POLICY_KIND_REGISTER_NAME:
        return "register_name";
    case POLICY_KIND_NAME:
        return "name";
    case POLICY_KIND_NHS_NUMBER:
        return "nhs_number";
    case POLICY_KIND_DATE_OF_BIRTH:
        return "date_of_birth";
    case POLICY_KIND_POSTCODE:
        return "postcode";
    case POLICY_KIND_PHONE:
        return "phone";
    case POLICY_KIND_EMAIL:
        return "email";
    case POLICY_KIND_ADDRESS:
        return "address";
    }
    return "unknown";
}

/* ---------------------------------------------------------------- text scanning */

/* One word of the text: bytes [s, e), its lexicon flags and its shape. */
enum { T_UPPER1 = 1, T_LOWER = 2, T_POSS = 4, T_REG = 8, T_TITLE = 16, T_HASHED = 32 };
/* The bytes between a word and the next, classified once: the rules ask often. */
enum { G_OTHER, G_SP, G_HY, G_COMMA, G_DOT, G_AMP, G_KIND = 0x0F, G_CUE = 0x10 };
typedef struct {
    uint32_t s, e, flags;
    uint8_t shape, letters, mark, gap;
    uint64_t h; /* lexicon_hash_letters of the word, when T_HASHED */
} s_tok_t;

enum { M_NONE, M_NAME, M_TITLE, M_TAKEN };

typedef struct {
    const uint8_t *t;
    size_t len;
    policy_finding_t *v;
    size_t n, cap;
    s_tok_t *tok;
    size_t ntok, tokcap;
    uint32_t *num; /* where each run of digits starts */
    size_t nnum, numcap;
    const policy_t *p;
    /* Most texts fit these, so a check allocates nothing. */
    s_tok_t tok_stack[128];
    policy_finding_t v_stack[16];
    uint32_t num_stack[32];
} s_scan_t;

/* Doubles array *CUR of *CAP elements of SIZE bytes, moving it off STACK the first time. */
static void *s_grow(void *cur, const void *stack, size_t *cap, size_t size)
{
    void *p;
    if (cur == stack) {
        p = xmalloc(*cap * 2 * size);
        memcpy(p, cur, *cap * size);
    } else {
        p = xrealloc(cur, *cap * 2 * size);
    }
    *cap *= 2;
    return p;
}

static void s_push(s_scan_t *sc, enum policy_kind kind, size_t start, size_t end)
{
    if (sc->n == sc->cap)
        sc->v = s_grow(sc->v, sc->v_stack, &sc->cap, sizeof(*sc->v));
    sc->v[sc->n++] = (policy_finding_t){ kind, (uint32_t)start, (uint32_t)end };
}

static int s_covered(const s_scan_t *sc, size_t pos)
{
    for (size_t i = 0; i < sc->n; i++)
        if (pos >= sc->v[i].start && pos < sc->v[i].end)
            return 1;
    return 0;
}

static uint8_t s_at(const s_scan_t *sc, size_t i)
{
    return i < sc->len ? sc->t[i] : 0;
}

/* ---- words */

/* Case of the letter at I: 'U' upper, 'L' lower, 'O' another word byte (a mark, another
 * script), 0 not part of a word. *ADV: its length in bytes. */
static inline int s_letter(const s_scan_t *sc, size_t i, size_t *adv)
{
    uint8_t c = sc->t[i], c1;
    *adv = 1;
    if (c < 0x80)
        return s_upper(c) ? 'U' : s_lower(c) ? 'L' : 0;
    c1 = s_at(sc, i + 1);
    if (c == 0xC2 || c == 0xE2 || c == 0xEF || (c & 0xC0) == 0x80)
        return 0; /* Latin-1 signs, general punctuation, specials, stray continuation */
    if ((c1 & 0xC0) != 0x80)
        return 'O';
    unsigned cp = ((unsigned)(c & 0x1F) << 6) | (c1 & 0x3F);
    /* The sequence's length, counting only continuation bytes that are there. */
    size_t want = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    *adv = 2;
    while (*adv < want && (s_at(sc, i + *adv) & 0xC0) == 0x80)
        (*adv)++;
    if (want > 2 || cp < 0xC0 || cp > 0x24F)
        return 'O'; /* a combining mark, another script: part of the word, no case */
    if (cp < 0x100)
        return cp == 0xD7 || cp == 0xF7 ? 0 : cp < 0xDF ? 'U' : 'L';
    if (cp < 0x180) {
        int odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
        if (cp == 0x138 || cp == 0x149 || cp == 0x17F)
            return 'L';
        if (cp == 0x178)
            return 'U';
        return (cp & 1) == (unsigned)odd_upper ? 'U' : 'L';
    }
    return (cp & 1) ? 'L' : 'U'; /* U+0180-024F: mostly pairs, upper first */
}

/* An apostrophe (' or U+2019) at I: its length, else 0. */
static size_t s_apos(const s_scan_t *sc, size_t i)
{
    if (s_at(sc, i) == '\'')
        return 1;
    if (s_at(sc, i) == 0xE2 && s_at(sc, i + 1) == 0x80 && s_at(sc, i + 2) == 0x99)
        return 3;
    return 0;
}

/* The gap between token A and the next one is of kind G. */
static int s_gap(const s_scan_t *sc, size_t a, int g)
{
    return a + 1 < sc->ntok && (sc->tok[a].gap & G_KIND) == g;
}

static uint8_t s_gap_kind(const s_scan_t *sc, size_t a, size_t b)
{
    const uint8_t *g = sc->t + a;
    size_t n = b - a;
    uint8_t k = G_OTHER;
    if (n == 1 && g[0] == ' ')
        return G_SP | G_CUE; /* most gaps: the rules below give the same */
    if (n == 1)
        k = g[0] == ' ' ? G_SP : g[0] == '-' ? G_HY : G_OTHER;
    else if (n == 2 && g[1] == ' ')
        k = g[0] == ',' ? G_COMMA : g[0] == '.' ? G_DOT : G_OTHER;
    else if (n == 3 && g[0] == ' ' && g[1] == '&' && g[2] == ' ')
        k = G_AMP;
    /* A cue's name may follow "(", ",", ":" or " - ": "Mum (Ama)", "Dad: Kofi". */
    int cue = n >= 1 && n <= 4;
    for (size_t i = 0; i < n && cue; i++)
        cue = g[i] == ' ' || g[i] == '(' || g[i] == ',' || g[i] == ':' || g[i] == '-';
    return (uint8_t)(k | (cue ? G_CUE : 0));
}

static int s_title_word(const uint8_t *w, size_t n)
{
    static const s_word_t titles[] = {
        S_WORD("Mr"), S_WORD("Mrs"), S_WORD("Ms"),   S_WORD("Miss"), S_WORD("Mx"),
        S_WORD("Dr"), S_WORD("MR"),  S_WORD("MRS"),  S_WORD("MS"),   S_WORD("DR"),
        S_WORD("mr"), S_WORD("mrs"), S_WORD("Mstr"), S_WORD("Prof"),
    };
    if (n < 2 || n > 4 || (w[0] != 'M' && w[0] != 'D' && w[0] != 'm' && w[0] != 'P'))
        return 0;
    for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
        if (titles[i].n == n && memcmp(titles[i].s, w, n) == 0)
            return 1;
    return 0;
}

static void s_push_num(s_scan_t *sc, size_t i)
{
    if (sc->nnum == sc->numcap)
        sc->num = s_grow(sc->num, sc->num_stack, &sc->numcap, sizeof(*sc->num));
    sc->num[sc->nnum++] = (uint32_t)i;
}

/* Looks word T up: the policy's lexicon for its flags, the case's register (REG, may be NULL)
 * for T_REG. A word of ASCII letters only is looked up by the hash s_word took of it. */
static void s_lookup(s_scan_t *sc, const policy_register_t *reg, s_tok_t *t)
{
    if (t->shape & T_HASHED) {
        t->flags = lexicon_flags_hashed(sc->p->lex, t->h);
        if (reg && lexicon_flags_hashed(reg->words, t->h))
            t->shape |= T_REG;
    } else if (t->letters >= 2) {
        const char *w = (const char *)sc->t + t->s;
        t->flags = lexicon_flags(sc->p->lex, w, t->e - t->s);
        if (reg && lexicon_flags(reg->words, w, t->e - t->s))
            t->shape |= T_REG;
    }
}

/* The word at WS read letter by letter: any script, apostrophes ("O'Neill", a possessive's
 * "'s"). Returns its end; fills *T's shape and letters, *ASCII 1 when it is ASCII letters only. */
static size_t s_word_slow(s_scan_t *sc, size_t ws, s_tok_t *t, int *ascii_out)
{
    size_t i = ws, adv;
    int ascii = 1, any_lower = 0, first = 1;
    uint8_t shape = 0, letters = 0;
    for (;;) {
        uint8_t c = i < sc->len ? sc->t[i] : 0;
        int k;
        if (c < 0x80 && s_alpha(c)) {
            k = s_upper(c) ? 'U' : 'L';
            adv = 1;
        } else if (c >= 0x80 && (k = s_letter(sc, i, &adv)) != 0) {
            ascii = 0;
        } else {
            size_t ap = i < sc->len ? s_apos(sc, i) : 0;
            if (!ap || i + ap >= sc->len || !s_letter(sc, i + ap, &adv))
                break;
            size_t after = i + ap, ae = after;
            while (ae < sc->len && s_letter(sc, ae, &adv))
                ae += adv;
            if (ae - after == 1 && (sc->t[after] == 's' || sc->t[after] == 'S')) {
                shape |= T_POSS;
                break;
            }
            if (letters != 1)
                break;
            ascii = 0; /* "O'Neill": the lexicon folds the apostrophe away */
            i = after;
            continue;
        }
        if (first && k == 'U')
            shape |= T_UPPER1;
        first = 0;
        any_lower |= k == 'L';
        if (letters < 255)
            letters++;
        i += adv;
    }
    if (any_lower)
        shape |= T_LOWER; /* with T_UPPER1: capitalised */
    t->shape = shape, t->letters = letters;
    *ascii_out = ascii;
    return i;
}

/* Reads one word from WS; returns its end and fills *T (its flags are looked up afterwards, by
 * s_lookup). Most words are a run of ASCII letters ended by a space or punctuation: read in one
 * pass; anything else (another script, an apostrophe) by s_word_slow. */
static size_t s_word(s_scan_t *sc, size_t ws, s_tok_t *t)
{
    const uint8_t *s = sc->t;
    size_t i = ws;
    uint8_t any = 0;
    while (i < sc->len && s_alpha(s[i]))
        any |= s[i++];
    int ascii = 1;
    *t = (s_tok_t){ (uint32_t)ws, (uint32_t)i, 0, 0, 0, M_NONE, G_OTHER, 0 };
    if (i < sc->len && (s[i] >= 0x80 || s[i] == '\'')) {
        i = s_word_slow(sc, ws, t, &ascii);
    } else {
        size_t n = i - ws;
        t->letters = (uint8_t)(n < 255 ? n : 255);
        t->shape = (uint8_t)((s_upper(s[ws]) ? T_UPPER1 : 0) | ((any & 0x20) ? T_LOWER : 0));
    }
    /* Only ASCII letters: hashed here, looked up by that hash (the lexicon folds the rest). */
    if (ascii && t->letters >= 2 && t->letters <= LEXICON_MAX_WORD) {
        t->shape |= T_HASHED;
        t->h = lexicon_hash_letters(s + ws, i - ws, sc->len - ws);
    }
    t->e = (uint32_t)i;
    if (s_title_word(s + ws, i - ws))
        t->shape |= T_TITLE;
    if (t->shape & T_HASHED)
        lexicon_prefetch(sc->p->lex, t->h);
    return i;
}

/* Splits the text into words and notes where each run of digits starts. An apostrophe after
 * one letter joins ("O'Neill", "D'Souza"); "'s" after a word marks a possessive and is left
 * out of the word; a hyphen splits (each part of "Anne-Marie" is looked up) and the parts
 * stay adjacent for the span. */
static void s_tokenise(s_scan_t *sc, const policy_register_t *reg)
{
    for (size_t i = 0; i < sc->len;) {
        uint8_t c = sc->t[i];
        size_t adv = 1;
        if (c < 0x80) {
            if (s_digit(c) && (i == 0 || !s_digit(sc->t[i - 1])))
                s_push_num(sc, i);
            if (!s_alpha(c)) {
                i++;
                continue;
            }
        } else if (!s_letter(sc, i, &adv)) {
            i += adv;
            continue;
        }
        if (sc->ntok == sc->tokcap)
            sc->tok = s_grow(sc->tok, sc->tok_stack, &sc->tokcap, sizeof(*sc->tok));
        s_tok_t *t = &sc->tok[sc->ntok];
        i = s_word(sc, i, t);
        if (sc->ntok > 0)
            sc->tok[sc->ntok - 1].gap = s_gap_kind(sc, sc->tok[sc->ntok - 1].e, t->s);
        sc->ntok++;
        if (t->shape & T_POSS)
            i += s_apos(sc, i) + 1;
    }
    for (size_t k = 0; k < sc->ntok; k++)
        s_lookup(sc, reg, &sc->tok[k]);
}

/* Shapes: capitalised (upper then some lower), all capitals (2+ letters), lower case. */
static int s_cap(const s_tok_t *t)
{
    return (t->shape & (T_UPPER1 | T_LOWER)) == (T_UPPER1 | T_LOWER);
}

static int s_caps(const s_tok_t *t)
{
    return (t->shape & (T_UPPER1 | T_LOWER)) == T_UPPER1 && t->letters >= 2;
}

static int s_lc(const s_tok_t *t)
{
    return (t->shape & (T_UPPER1 | T_LOWER)) == T_LOWER;
}

/* In no list at all: the shape of a name the lists have not met (needs words.txt). */
static int s_unknown(const s_scan_t *sc, const s_tok_t *t)
{
    return sc->p->have_words && t->flags == 0 && t->letters >= 3;
}

static int s_strong_given(const s_tok_t *t)
{
    return (t->flags & (L_GIVEN | L_ALLOW)) == L_GIVEN;
}

/* A name-ish word: a listed name, or one the lists do not know. */
static int s_nameish(const s_scan_t *sc, const s_tok_t *t)
{
    if (s_lc(t))
        return s_strong_given(t) || ((t->flags & (L_SURNAME | L_WORD | L_ALLOW)) == L_SURNAME) ||
               s_unknown(sc, t);
    return (t->flags & L_GIVEN) || ((t->flags & (L_SURNAME | L_ALLOW | L_WORD)) == L_SURNAME) ||
           s_unknown(sc, t);
}

static int s_joined(const s_scan_t *sc, size_t a)
{
    return s_gap(sc, a, G_SP) || s_gap(sc, a, G_HY);
}

static int s_is_title(const s_scan_t *sc, const s_tok_t *t)
{
    (void)sc;
    return t->shape & T_TITLE;
}

/* "St Mary's", "St. John's", "Saint Luke's" name a school, church or hospital, not a person. */
static int s_after_saint(const s_scan_t *sc, size_t ws)
{
    static const s_word_t saints[] = {
        S_WORD("St "),
        S_WORD("St. "),
        S_WORD("Saint "),
    };
    for (size_t i = 0; i < sizeof(saints) / sizeof(saints[0]); i++) {
        size_t n = saints[i].n;
        if (ws >= n && memcmp(sc->t + ws - n, saints[i].s, n) == 0 &&
            (ws == n || !s_word_byte(sc->t[ws - n - 1])))
            return 1;
    }
    return 0;
}

/* Marks the words after name word K that carry on the name ("Talia Rose Brennick",
 * "Anne-Marie O'Neill", "zainab begum"): capitalised or capitals after a capitalised name,
 * lower case after a lower-case one. */
static void s_extend(s_scan_t *sc, size_t k)
{
    int lower = s_lc(&sc->tok[k]);
    while (s_joined(sc, k)) {
        const s_tok_t *n = &sc->tok[k + 1];
        if (n->mark || s_is_title(sc, n) || (s_cap(n) && (n->flags & L_STREET)))
            return; /* "Zainab Road" is a place; a name does not run on into it */
        int ok;
        if (lower)
            ok = s_lc(n) && s_nameish(sc, n);
        else if (sc->p->have_words)
            ok =
                (s_cap(n) || s_caps(n)) && ((n->flags & (L_GIVEN | L_SURNAME)) || s_unknown(sc, n));
        else
            ok = s_cap(n) && ((n->flags & L_SURNAME) || !(n->flags & L_ALLOW));
        if (!ok)
            return;
        sc->tok[++k].mark = M_NAME;
    }
}

static void s_mark(s_scan_t *sc, size_t k)
{
    sc->tok[k].mark = M_NAME;
    s_extend(sc, k);
}

/* After a cue ending at token K: the token that may be a name, skipping "(", ",", ":", " - ". */
static size_t s_after_cue(const s_scan_t *sc, size_t k)
{
    if (k + 1 >= sc->ntok || (sc->tok[k].shape & T_POSS) || !(sc->tok[k].gap & G_CUE))
        return 0;
    return k + 1;
}

/* The rules that start a name at token K (policy.h); returns 1 when one did. */
static int s_name_rules(s_scan_t *sc, size_t k)
{
    s_tok_t *t = &sc->tok[k], *n = k + 1 < sc->ntok ? &sc->tok[k + 1] : NULL;
    if (s_is_title(sc, t)) {
        size_t e = t->e + (s_at(sc, t->e) == '.');
        if (n && n->s == e + 1 && sc->t[e] == ' ' && (s_cap(n) || s_caps(n)) &&
            !s_is_title(sc, n) && !((n->flags & L_ALLOW) && !(n->flags & (L_GIVEN | L_SURNAME)))) {
            t->mark = M_TITLE;
            s_mark(sc, k + 1);
            return 1;
        }
        return 0;
    }
    /* Each rule below needs one of these; most words (everyday ones) have none. */
    if (!(t->flags & (L_KIN | L_CUE1 | L_VERB | L_GIVEN | L_SURNAME)) && !(t->shape & T_POSS) &&
        !s_unknown(sc, t))
        return 0;
    size_t c = 0;
    if (t->flags & (L_KIN | L_CUE1))
        c = s_after_cue(sc, k);
    else if ((t->flags & L_VERB) && n && (n->flags & L_PREP) && s_gap(sc, k, G_SP))
        c = s_after_cue(sc, k + 1);
    if (c && !sc->tok[c].mark && !s_is_title(sc, &sc->tok[c]) &&
        (s_cap(&sc->tok[c]) || s_lc(&sc->tok[c]) || s_caps(&sc->tok[c])) &&
        s_nameish(sc, &sc->tok[c]) && !(sc->tok[c].flags & (L_KIN | L_PREP))) {
        s_mark(sc, c);
        return 0; /* the cue itself is not part of the name */
    }
    if (s_cap(t) && s_strong_given(t) && !s_after_saint(sc, t->s) &&
        !((t->flags & L_WORD) && n && (n->flags & L_DET) && s_gap(sc, k, G_SP)) &&
        !(n && s_cap(n) && (n->flags & L_STREET) && s_gap(sc, k, G_SP))) {
        s_mark(sc, k);
        return 1;
    }
    if (n && s_gap(sc, k, G_SP)) {
        /* Everyday-word given name, or a word no list knows, before a surname or another
         * unknown word: "Grace Okafor", "Brecaton Olusmi"; in lower case "zainab begum". */
        int first = s_cap(t) &&
                    ((t->flags & (L_GIVEN | L_ALLOW)) == (L_GIVEN | L_ALLOW) || s_unknown(sc, t));
        int second = s_cap(n) && (((n->flags & (L_SURNAME | L_ALLOW)) == L_SURNAME) ||
                                  s_unknown(sc, n) || s_strong_given(n));
        if (s_lc(t) && s_lc(n)) {
            /* A surname that is also a word ("khan", "brown") only after a real given name. */
            int given = s_strong_given(t) && !(t->flags & L_WORD);
            first = given || s_unknown(sc, t);
            second = s_unknown(sc, n) ||
                     ((n->flags & L_SURNAME) && (given || !(n->flags & (L_WORD | L_ALLOW))));
        }
        if (s_caps(t) && s_caps(n))
            /* "TALIA BRENNICK": capitals need a real given name and a surname or unknown
             * word, as acronyms come in pairs too ("SEND CAMHS"). */
            first = s_strong_given(t) && !(t->flags & L_WORD) && t->letters >= 3,
            second = ((n->flags & (L_SURNAME | L_ALLOW | L_WORD)) == L_SURNAME) || s_unknown(sc, n);
        /* "Great Ormond Street": two words before a street word name the street. */
        int street = k + 2 < sc->ntok && s_gap(sc, k + 1, G_SP) && s_cap(&sc->tok[k + 2]) &&
                     (sc->tok[k + 2].flags & L_STREET);
        if (first && second && !street && !s_after_saint(sc, t->s)) {
            t->mark = M_NAME;
            s_mark(sc, k + 1);
            return 1;
        }
    }
    if (n && s_gap(sc, k, G_COMMA) && s_cap(n) && !(n->flags & L_ALLOW && !(n->flags & L_GIVEN)) &&
        ((n->flags & L_GIVEN) || s_unknown(sc, n) || (s_caps(t) && (t->flags & L_SURNAME)))) {
        /* "OKAFOR, Chidi" and "Okafor, Chidi" (a register's order). */
        int sur =
            (s_caps(t) && ((t->flags & L_SURNAME) || s_unknown(sc, t)) && !(t->flags & L_ALLOW)) ||
            (s_cap(t) && (t->flags & (L_SURNAME | L_WORD | L_ALLOW)) == L_SURNAME);
        if (sur) {
            t->mark = M_NAME;
            s_mark(sc, k + 1);
            return 1;
        }
    }
    if ((t->shape & T_POSS) && !s_after_saint(sc, t->s) &&
        ((s_cap(t) && s_nameish(sc, t)) ||
         (s_lc(t) && s_strong_given(t) && !(t->flags & L_WORD)))) {
        t->mark = M_NAME;
        return 1;
    }
    return 0;
}

/* Lists of people: "A, B and C", "A & B". The token after K that continues a list, or 0. */
static inline size_t s_list_next(const s_scan_t *sc, size_t k)
{
    if (s_gap(sc, k, G_COMMA) || s_gap(sc, k, G_AMP))
        return k + 1;
    size_t a = k + 1;
    if ((s_gap(sc, k, G_SP) || s_gap(sc, k, G_COMMA)) && a + 1 < sc->ntok &&
        (sc->tok[a].flags & L_AND) && s_gap(sc, a, G_SP))
        return a + 1;
    return 0;
}

static int s_list_member(const s_scan_t *sc, const s_tok_t *t)
{
    return (s_cap(t) || s_caps(t)) && s_nameish(sc, t) && !s_is_title(sc, t) &&
           !(t->flags & (L_KIN | L_ALLOW | L_WORD));
}

/* A name-ish word in a list with a name is a name; so are three name-ish words listed
 * together ("Brecaton, Olusmi and Zorvath") when no list knows any of them. */
static void s_lists(s_scan_t *sc)
{
    for (size_t k = 0; k < sc->ntok; k++) {
        size_t j = s_list_next(sc, k), j2 = j ? s_list_next(sc, j) : 0;
        if (!j || sc->tok[j].mark || !s_list_member(sc, &sc->tok[j]))
            continue;
        int three = j2 && s_list_member(sc, &sc->tok[k]) && s_list_member(sc, &sc->tok[j2]);
        if (sc->tok[k].mark == M_NAME || three) {
            sc->tok[k].mark = M_NAME;
            s_mark(sc, j);
        }
    }
    for (size_t k = sc->ntok; k-- > 1;) {
        size_t i = k - 1;
        if (sc->tok[k].mark != M_NAME)
            continue;
        if (i > 0 && s_list_next(sc, i - 1) == k)
            i--; /* "X and Y": the member before "and" */
        if (s_list_next(sc, i) == k && !sc->tok[i].mark && s_list_member(sc, &sc->tok[i]))
            sc->tok[i].mark = M_NAME;
    }
}

/* ---- addresses */

/* A house number ending at E ("12", "14b", "27,"): its start, or SIZE_MAX. */
static size_t s_house_number(const s_scan_t *sc, size_t e)
{
    if (e >= 1 && sc->t[e - 1] == ',')
        e--;
    if (e >= 1 && s_alpha(sc->t[e - 1]) && e >= 2 && s_digit(sc->t[e - 2]))
        e--;
    size_t s = e;
    while (s > 0 && s_digit(sc->t[s - 1]) && e - s < 5)
        s--;
    if (s == e || e - s > 4 ||
        (s > 0 && (s_alnum(sc->t[s - 1]) || (sc->t[s - 1] && strchr(".,/:-", sc->t[s - 1])))))
        return SIZE_MAX;
    return s;
}

static void s_addresses(s_scan_t *sc)
{
    for (size_t k = 0; k < sc->ntok; k++) {
        s_tok_t *t = &sc->tok[k];
        if ((t->flags & L_FLAT) && (s_cap(t) || s_lc(t)) && s_at(sc, t->e) == ' ' &&
            s_digit(s_at(sc, t->e + 1))) {
            size_t e = t->e + 1;
            while (s_digit(s_at(sc, e)) && e - t->e < 6)
                e++;
            if (s_alpha(s_at(sc, e)) && !s_alpha(s_at(sc, e + 1)))
                e++;
            if (!s_alnum(s_at(sc, e)))
                s_push(sc, POLICY_KIND_ADDRESS, t->s, e);
            continue;
        }
        if (!(t->flags & L_STREET) || k == 0)
            continue;
        int lower = s_lc(t);
        if (!s_cap(t) && !lower)
            continue;
        /* One or two words of the street's name, each joined by one space, then the number. */
        for (size_t first = k; first-- > 0 && k - first <= 2;) {
            const s_tok_t *w = &sc->tok[first];
            if ((w->flags & L_STOP) || !s_gap(sc, first, G_SP) || (lower ? !s_lc(w) : !s_cap(w)))
                break;
            if (w->s < 2 || sc->t[w->s - 1] != ' ')
                continue;
            size_t hs = s_house_number(sc, w->s - 1);
            if (hs != SIZE_MAX) {
                s_push(sc, POLICY_KIND_ADDRESS, hs, t->e);
                break;
            }
        }
    }
}

/* Does the name whose span so far ends at word END take the next word too? */
static int s_name_goes_on(const s_scan_t *sc, size_t end)
{
    if (end + 1 >= sc->ntok)
        return 0;
    const s_tok_t *t = &sc->tok[end], *nx = &sc->tok[end + 1];
    if (nx->mark == M_NAME)
        return s_joined(sc, end) || (t->mark == M_TITLE && s_gap(sc, end, G_DOT)) ||
               (s_caps(t) && s_cap(nx) && s_gap(sc, end, G_COMMA));
    /* The last part of a double-barrelled name the lists do not know as one, or know as a
     * word: "Quellan-Brisk". */
    return !nx->mark && t->mark == M_NAME && s_gap(sc, end, G_HY) && s_cap(nx);
}

static void s_scan_words(s_scan_t *sc)
{
    for (size_t k = 0; k < sc->ntok; k++) {
        s_tok_t *t = &sc->tok[k];
        if (t->shape & T_REG) {
            size_t end = k;
            while (s_gap(sc, end, G_SP) && (sc->tok[end + 1].shape & T_REG))
                end++;
            s_push(sc, POLICY_KIND_REGISTER_NAME, t->s, sc->tok[end].e);
            for (size_t j = k; j <= end; j++)
                sc->tok[j].mark = M_TAKEN; /* a register name, not a heuristic one */
            k = end;
        }
    }
    for (size_t k = 0; k < sc->ntok; k++)
        if (!sc->tok[k].mark)
            (void)s_name_rules(sc, k);
    s_lists(sc);
    for (size_t k = 0; k < sc->ntok; k++) {
        if (sc->tok[k].mark != M_NAME && sc->tok[k].mark != M_TITLE)
            continue;
        size_t end = k, first = k;
        /* The first part of a double-barrelled name the lists do not know: "Xanthe-Marie". */
        while (first > 0 && !sc->tok[first - 1].mark && s_gap(sc, first - 1, G_HY) &&
               s_cap(&sc->tok[first - 1]))
            first--;
        while (s_name_goes_on(sc, end))
            end++;
        s_push(sc, POLICY_KIND_NAME, sc->tok[first].s, sc->tok[end].e);
        k = end;
    }
    s_addresses(sc);
}

/* ---- numbers */

/* A number may start here: not glued to a word, a '+', or a digit-separator-digit run. */
static int s_num_start_ok(const s_scan_t *sc, size_t i)
{
    if (i == 0)
        return 1;
    uint8_t c = sc->t[i - 1];
    if (s_alnum(c) || c == '+' || c == '_')
        return 0;
    if ((c == '-' || c == '/' || c == '.') && i >= 2 && s_digit(sc->t[i - 2]))
        return 0;
    return 1;
}

static int s_num_end_ok(const s_scan_t *sc, size_t e)
{
    uint8_t c = s_at(sc, e);
    if (e >= sc->len)
        return 1;
    if (s_alnum(c) || c == '_')
        return 0;
    if ((c == '-' || c == '/' || c == '.') && s_digit(s_at(sc, e + 1)))
        return 0;
    return 1;
}

static size_t s_digits(const s_scan_t *sc, size_t i, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!s_digit(s_at(sc, i + k)))
            return 0;
    return 1;
}

static int s_nhs_valid(const uint8_t d[10])
{
    unsigned sum = 0;
    for (int k = 0; k < 9; k++)
        sum += (unsigned)(d[k] - '0') * (unsigned)(10 - k);
    unsigned check = 11 - sum % 11;
    if (check == 11)
        check = 0;
    return check != 10 && check == (unsigned)(d[9] - '0');
}

/* NHS numbers as people write them: ten digits in groups of any size, the groups split by one
 * space, dot or hyphen each ("943 476 5919", "943.476.5919", "9 4 3 4 7 6 5 9 1 9"). The
 * run of groups starting at I is read whole (so "943 476 5919 22" is not mistaken for a
 * longer number) and any whole groups adding up to ten digits with a valid check digit are
 * the number. Returns the end or 0; *START the number's start. */
static size_t s_nhs_at(const s_scan_t *sc, size_t i, size_t *start)
{
    enum { MAX_GROUPS = 16 };
    size_t gs[MAX_GROUPS], ge[MAX_GROUPS], ng = 0, p = i;
    while (ng < MAX_GROUPS) {
        size_t e = p;
        while (e < sc->len && s_digit(sc->t[e]) && e - p <= 10)
            e++;
        if (e - p > 10)
            return 0;
        gs[ng] = p, ge[ng] = e, ng++;
        uint8_t c = s_at(sc, e);
        if ((c != ' ' && c != '.' && c != '-') || !s_digit(s_at(sc, e + 1)))
            break;
        p = e + 1;
    }
    if (!s_num_end_ok(sc, ge[ng - 1]) && s_at(sc, ge[ng - 1]) != '.')
        return 0;
    for (size_t a = 0; a < ng; a++) {
        uint8_t d[10];
        size_t n = 0, b = a;
        for (; b < ng && n < 10; b++)
            for (size_t k = gs[b]; k < ge[b] && n < 10 + 1; k++)
                d[n < 10 ? n : 9] = sc->t[k], n++;
        if (n == 10 && s_nhs_valid(d)) {
            *start = gs[a];
            return ge[b - 1];
        }
    }
    return 0;
}

/* UK phone numbers; returns the end or 0. The longest valid digit count wins, so a number
 * followed by a space and another figure is still found. */
static size_t s_phone_at(const s_scan_t *sc, size_t i)
{
    size_t p = i;
    int intl = 0, paren = 0;
    if (s_at(sc, p) == '+') {
        if (s_at(sc, p + 1) != '4' || s_at(sc, p + 2) != '4')
            return 0;
        intl = 1;
        p += 3;
        if (s_at(sc, p) == ' ' || s_at(sc, p) == '-')
            p++;
        if (s_at(sc, p) == '(' && s_at(sc, p + 1) == '0' && s_at(sc, p + 2) == ')') {
            p += 3;
            if (s_at(sc, p) == ' ')
                p++;
        }
    } else if (s_at(sc, p) == '(') {
        paren = 1;
        p++;
    }
    if (!s_digit(s_at(sc, p)))
        return 0;
    uint8_t first = 0, second = 0;
    size_t count = 0, best = 0;
    for (;;) {
        uint8_t c = s_at(sc, p);
        if (s_digit(c)) {
            count++;
            if (count == 1)
                first = c;
            else if (count == 2)
                second = c;
            p++;
            int ok;
            if (intl)
                ok = (first == '1' || first == '2' || first == '3' || first == '7') &&
                     (count == 10 || (count == 9 && first != '7'));
            else
                ok = first == '0' &&
                     (second == '1' || second == '2' || second == '3' || second == '7') &&
                     (count == 11 || (count == 10 && second != '7'));
            if (ok && !s_digit(s_at(sc, p)) && s_num_end_ok(sc, p))
                best = p;
            if (count > 11)
                break;
            continue;
        }
        if (paren && c == ')') {
            paren = 0;
            p++;
            if (s_at(sc, p) == ' ')
                p++;
            continue;
        }
        if ((c == ' ' || c == '-' || c == '.') && s_digit(s_at(sc, p + 1)) && !paren) {
            p++;
            continue;
        }
        break;
    }
    return best;
}

/* Numbers start where a run of digits does (s_tokenise noted each), or at the '(' or '+'
 * just before one, so the scanners below never look at the other bytes. */
static void s_scan_numbers(s_scan_t *sc)
{
    size_t done = 0;
    for (size_t r = 0; r < sc->nnum; r++) {
        size_t i = sc->num[r];
        if (i < done || !s_num_start_ok(sc, i))
            continue;
        /* Inside a run of digit groups only its first group starts one ("+44 7700 900123"). */
        uint8_t sep = i >= 2 ? sc->t[i - 1] : 0;
        if ((sep == ' ' || sep == '.' || sep == '-') && s_digit(sc->t[i - 2]))
            continue;
        size_t start = i, end = s_nhs_at(sc, i, &start);
        /* A UK phone number is the better reading of a run that starts with 0. */
        if (end && sc->t[start] == '0' && s_phone_at(sc, start) >= end)
            end = 0;
        if (end) {
            s_push(sc, POLICY_KIND_NHS_NUMBER, start, end);
            done = end;
        }
    }
    done = 0;
    for (size_t r = 0; r < sc->nnum; r++) {
        size_t d = sc->num[r];
        for (size_t i = d > 0 && (sc->t[d - 1] == '+' || sc->t[d - 1] == '(') ? d - 1 : d; i <= d;
             i++) {
            uint8_t c = sc->t[i];
            if (i < done || (c != '+' && c != '(' && c != '0') || !s_num_start_ok(sc, i) ||
                s_covered(sc, i))
                continue;
            size_t end = s_phone_at(sc, i);
            if (end) {
                s_push(sc, POLICY_KIND_PHONE, i, end);
                done = end;
                break;
            }
        }
    }
}

/* ---- postcodes */

static int s_pc_inward_letter(uint8_t c)
{
    c = s_tolower(c);
    return s_lower(c) && !strchr("cikmov", c);
}

static size_t s_postcode_at(const s_scan_t *sc, size_t i)
{
    /* GIR 0AA: the one postcode outside the pattern (Girobank, kept by Royal Mail). */
    if (s_tolower(sc->t[i]) == 'g' && s_tolower(s_at(sc, i + 1)) == 'i' &&
        s_tolower(s_at(sc, i + 2)) == 'r') {
        size_t in = i + 3 + (s_at(sc, i + 3) == ' ');
        if (s_at(sc, in) == '0' && s_tolower(s_at(sc, in + 1)) == 'a' &&
            s_tolower(s_at(sc, in + 2)) == 'a' && !s_alnum(s_at(sc, in + 3)))
            return in + 3;
    }
    /* Outward code shapes, 'A' a letter and '9' a digit. */
    static const s_word_t shapes[] = {
        S_WORD("AA9A"), S_WORD("AA99"), S_WORD("A9A"), S_WORD("A99"), S_WORD("AA9"), S_WORD("A9"),
    };
    for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
        const char *shape = shapes[k].s;
        size_t n = shapes[k].n, j;
        for (j = 0; j < n; j++) {
            uint8_t c = s_at(sc, i + j);
            if (shape[j] == 'A' ? !s_alpha(c) : !s_digit(c))
                break;
        }
        if (j < n)
            continue;
        uint8_t a1 = s_tolower(sc->t[i]);
        if (a1 == 'q' || a1 == 'v' || a1 == 'x')
            continue;
        if (shape[1] == 'A' && strchr("ijz", s_tolower(sc->t[i + 1])))
            continue;
        size_t in = i + n;
        if (s_at(sc, in) == ' ')
            in++;
        uint8_t d = s_at(sc, in), l1 = s_at(sc, in + 1), l2 = s_at(sc, in + 2);
        if (!s_digit(d) || !s_pc_inward_letter(l1) || !s_pc_inward_letter(l2))
            continue;
        if (s_alnum(s_at(sc, in + 3)))
            continue;
        /* "Y11 2nd" is a school year and an ordinal, not a postcode. */
        if (s_lower(l1) && s_lower(l2)) {
            char suf[3] = { (char)l1, (char)l2, 0 };
            if (!strcmp(suf, "st") || !strcmp(suf, "nd") || !strcmp(suf, "rd") ||
                !strcmp(suf, "th"))
                continue;
        }
        return in + 3;
    }
    return 0;
}

static void s_scan_postcodes(s_scan_t *sc)
{
    size_t done = 0;
    for (size_t k = 0; k < sc->ntok; k++) {
        size_t i = sc->tok[k].s, n = sc->tok[k].e - i;
        /* Every outward code is one or two letters then a digit; GIR 0AA is the exception. */
        if (!((n <= 2 && s_digit(s_at(sc, i + n))) || (n == 3 && s_tolower(sc->t[i]) == 'g')))
            continue;
        if (i < done || (i > 0 && s_alnum(sc->t[i - 1])))
            continue;
        size_t end = s_postcode_at(sc, i);
        if (end) {
            s_push(sc, POLICY_KIND_POSTCODE, i, end);
            done = end;
        }
    }
}

/* ---- email */

static int s_email_local(uint8_t c)
{
    return s_alnum(c) || (c && strchr("._%+-", c));
}

static int s_email_domain(uint8_t c)
{
    return s_alnum(c) || c == '.' || c == '-';
}

static void s_scan_emails(s_scan_t *sc)
{
    for (size_t at = 0; at < sc->len; at++) {
        const uint8_t *next = memchr(sc->t + at, '@', sc->len - at);
        if (!next)
            break;
        at = (size_t)(next - sc->t);
        size_t ls = at, de = at + 1;
        while (ls > 0 && s_email_local(sc->t[ls - 1]))
            ls--;
        while (ls < at && sc->t[ls] == '.')
            ls++;
        while (de < sc->len && s_email_domain(sc->t[de]))
            de++;
        while (de > at + 1 && (sc->t[de - 1] == '.' || sc->t[de - 1] == '-'))
            de--;
        if (ls == at || de == at + 1)
            continue;
        /* Labels non-empty, at least one dot, last label 2+ letters. */
        size_t dots = 0, label = 0, ok = 1, tld_alpha = 1;
        for (size_t k = at + 1; k < de; k++) {
            if (sc->t[k] == '.') {
                if (label == 0)
                    ok = 0;
                dots++;
                label = 0;
                tld_alpha = 1;
            } else {
                label++;
                if (!s_alpha(sc->t[k]))
                    tld_alpha = 0;
            }
        }
        if (!ok || dots == 0 || label < 2 || !tld_alpha)
            continue;
        s_push(sc, POLICY_KIND_EMAIL, ls, de);
        at = de - 1;
    }
}

/* Obfuscated addresses: "name at gmail dot com", "name [at] x [dot] org", "name(at)x(dot)uk",
 * "name @ x.com". A separator matched at I (case-insensitive): its length, else 0. */
static size_t s_sep(const s_scan_t *sc, size_t i, int dot)
{
    static const s_word_t ats[] = { S_WORD(" at "),   S_WORD(" [at] "), S_WORD("[at]"),
                                    S_WORD(" (at) "), S_WORD("(at)"),   S_WORD(" {at} "),
                                    S_WORD("{at}"),   S_WORD(" @ ") };
    static const s_word_t dots[] = { S_WORD(" dot "),   S_WORD(" [dot] "), S_WORD("[dot]"),
                                     S_WORD(" (dot) "), S_WORD("(dot)"),   S_WORD(" {dot} "),
                                     S_WORD("{dot}"),   S_WORD(".") };
    const s_word_t *w = dot ? dots : ats;
    size_t n = dot ? sizeof(dots) / sizeof(dots[0]) : sizeof(ats) / sizeof(ats[0]);
    for (size_t k = 0; k < n; k++) {
        size_t j = 0;
        while (j < w[k].n && s_tolower(s_at(sc, i + j)) == (uint8_t)w[k].s[j])
            j++;
        if (j == w[k].n)
            return j;
    }
    return 0;
}

/* Top-level labels an address written out in words must end with: "at home dot" is prose. */
static int s_tld(const s_scan_t *sc, size_t s, size_t e)
{
    static const s_word_t tlds[] = {
        S_WORD("com"), S_WORD("org"), S_WORD("net"), S_WORD("uk"),   S_WORD("gov"),
        S_WORD("nhs"), S_WORD("edu"), S_WORD("io"),  S_WORD("info"), S_WORD("ie"),
        S_WORD("me"),  S_WORD("biz"), S_WORD("eu"),  S_WORD("scot"), S_WORD("wales"),
    };
    for (size_t k = 0; k < sizeof(tlds) / sizeof(tlds[0]); k++) {
        if (tlds[k].n != e - s)
            continue;
        size_t j = 0;
        while (j < tlds[k].n && s_tolower(sc->t[s + j]) == (uint8_t)tlds[k].s[j])
            j++;
        if (j == tlds[k].n)
            return 1;
    }
    return 0;
}

static size_t s_label_end(const s_scan_t *sc, size_t i)
{
    while (i < sc->len && (s_alnum(sc->t[i]) || sc->t[i] == '-'))
        i++;
    return i;
}

/* An address whose at-separator starts at I (the byte before "at" or "@"): pushes it and
 * returns its end, or 0. */
static size_t s_obfuscated_at(s_scan_t *sc, size_t i)
{
    size_t m = s_sep(sc, i, 0);
    if (!m || i == 0 || !s_email_local(sc->t[i - 1]) || s_covered(sc, i - 1))
        return 0;
    size_t ls = i;
    while (ls > 0 && s_email_local(sc->t[ls - 1]))
        ls--;
    size_t ds = i + m, de = s_label_end(sc, ds), labels = 1, last = ds, worded = 0;
    if (de == ds)
        return 0;
    for (;;) {
        size_t d = s_sep(sc, de, 1), ne = d ? s_label_end(sc, de + d) : 0;
        if (!d || ne == de + d)
            break;
        worded |= d > 1;
        last = de + d;
        de = ne;
        labels++;
    }
    int alpha = de - last >= 2;
    for (size_t k = last; k < de && alpha; k++)
        alpha = s_alpha(sc->t[k]);
    if (labels < 2 || !alpha || ((worded || sc->t[i + 1] != '@') && !s_tld(sc, last, de)))
        return 0;
    s_push(sc, POLICY_KIND_EMAIL, ls, de);
    return de;
}

/* Separators are the word "at" (" at ", "[at]", "(at)", "{at}") or a spaced " @ ". */
static void s_scan_obfuscated_emails(s_scan_t *sc)
{
    size_t done = 0;
    for (size_t k = 0; k < sc->ntok; k++) {
        size_t s = sc->tok[k].s;
        if ((sc->tok[k].flags & L_AT) && s >= 2 && s > done && sc->tok[k].e - s == 2) {
            size_t i = s - 1; /* " at", or " [at", "(at", ... */
            uint8_t b = sc->t[i];
            if ((b == '[' || b == '(' || b == '{') && sc->t[i - 1] == ' ')
                i--;
            size_t end = s_obfuscated_at(sc, i);
            done = end ? end : done;
        }
    }
    for (const uint8_t *at = sc->t; sc->len > 0 && (size_t)(at - sc->t) < sc->len &&
                                    (at = memchr(at, '@', sc->len - (size_t)(at - sc->t)));
         at++) {
        size_t i = (size_t)(at - sc->t);
        if (i >= 2 && sc->t[i - 1] == ' ' && s_at(sc, i + 1) == ' ')
            (void)s_obfuscated_at(sc, i - 1);
    }
}

/* ---- dates of birth */

static int s_month_at(const s_scan_t *sc, size_t i, size_t *end)
{
    static const s_word_t months[] = {
        S_WORD("january"),   S_WORD("february"), S_WORD("march"),    S_WORD("april"),
        S_WORD("may"),       S_WORD("june"),     S_WORD("july"),     S_WORD("august"),
        S_WORD("september"), S_WORD("october"),  S_WORD("november"), S_WORD("december"),
        S_WORD("jan"),       S_WORD("feb"),      S_WORD("mar"),      S_WORD("apr"),
        S_WORD("jun"),       S_WORD("jul"),      S_WORD("aug"),      S_WORD("sep"),
        S_WORD("sept"),      S_WORD("oct"),      S_WORD("nov"),      S_WORD("dec"),
    };
    if (i > 0 && s_alpha(sc->t[i - 1]))
        return 0;
    size_t we = i;
    while (we < sc->len && s_alpha(sc->t[we]))
        we++;
    for (size_t k = 0; k < sizeof(months) / sizeof(months[0]); k++) {
        size_t n = months[k].n;
        if (n != we - i)
            continue;
        size_t j = 0;
        while (j < n && s_tolower(sc->t[i + j]) == (uint8_t)months[k].s[j])
            j++;
        if (j == n) {
            *end = (k >= 12 && s_at(sc, we) == '.') ? we + 1 : we;
            return 1;
        }
    }
    return 0;
}

/* Reads 1-2 digit day (with an optional ordinal suffix) at I; returns the end or 0. */
static size_t s_day_at(const s_scan_t *sc, size_t i)
{
    size_t e = i;
    unsigned v = 0;
    while (e < sc->len && s_digit(sc->t[e]) && e - i < 3)
        v = v * 10 + (unsigned)(sc->t[e++] - '0');
    if (e - i < 1 || e - i > 2 || v < 1 || v > 31)
        return 0;
    if (s_alpha(s_at(sc, e)) && s_alpha(s_at(sc, e + 1)) && !s_alpha(s_at(sc, e + 2))) {
        uint8_t a = s_tolower(sc->t[e]), b = s_tolower(sc->t[e + 1]);
        if ((a == 's' && b == 't') || (a == 'n' && b == 'd') || (a == 'r' && b == 'd') ||
            (a == 't' && b == 'h'))
            e += 2;
    }
    return s_alpha(s_at(sc, e)) ? 0 : e;
}

static size_t s_year4_at(const s_scan_t *sc, size_t i)
{
    if (!s_digits(sc, i, 4) || s_digit(s_at(sc, i + 4)))
        return 0;
    return i + 4;
}

static unsigned s_num(const s_scan_t *sc, size_t i, size_t n)
{
    unsigned v = 0;
    for (size_t k = 0; k < n; k++)
        v = v * 10 + (unsigned)(sc->t[i + k] - '0');
    return v;
}

static size_t s_numeric_date_at(const s_scan_t *sc, size_t i)
{
    size_t a = i;
    while (a < sc->len && s_digit(sc->t[a]))
        a++;
    size_t la = a - i;
    uint8_t sep = s_at(sc, a);
    if (sep != '/' && sep != '.' && sep != '-')
        return 0;
    size_t b = a + 1;
    while (b < sc->len && s_digit(sc->t[b]))
        b++;
    size_t lb = b - (a + 1);
    if (s_at(sc, b) != sep)
        return 0;
    size_t c = b + 1;
    while (c < sc->len && s_digit(sc->t[c]))
        c++;
    size_t lc = c - (b + 1);
    if (!s_num_end_ok(sc, c) || s_alpha(s_at(sc, c)))
        return 0;
    unsigned day, month;
    if (la == 4 && sep != '.' && lb >= 1 && lb <= 2 && lc >= 1 && lc <= 2) {
        month = s_num(sc, a + 1, lb);
        day = s_num(sc, b + 1, lc);
    } else if (la >= 1 && la <= 2 && lb >= 1 && lb <= 2 && (lc == 2 || lc == 4)) {
        day = s_num(sc, i, la);
        month = s_num(sc, a + 1, lb);
    } else {
        return 0;
    }
    if (day < 1 || day > 31 || month < 1 || month > 12)
        return 0;
    return c;
}

static size_t s_text_date_at(const s_scan_t *sc, size_t i)
{
    size_t e, m;
    if (s_digit(sc->t[i])) {
        if (!(e = s_day_at(sc, i)) || s_at(sc, e) != ' ')
            return 0;
        e++;
        if (s_tolower(s_at(sc, e)) == 'o' && s_tolower(s_at(sc, e + 1)) == 'f' &&
            s_at(sc, e + 2) == ' ')
            e += 3;
        if (!s_month_at(sc, e, &m))
            return 0;
        if (s_at(sc, m) == ',')
            m++;
        if (s_at(sc, m) != ' ')
            return 0;
        return s_year4_at(sc, m + 1);
    }
    if (!s_month_at(sc, i, &m) || s_at(sc, m) != ' ' || !(e = s_day_at(sc, m + 1)))
        return 0;
    if (s_at(sc, e) == ',')
        e++;
    if (s_at(sc, e) != ' ')
        return 0;
    return s_year4_at(sc, e + 1);
}

/* A birth cue starting at I; returns its end or 0. */
static size_t s_cue_at(const s_scan_t *sc, size_t i)
{
    static const s_word_t cues[] = {
        S_WORD("date of birth"), S_WORD("birth date"), S_WORD("birthdate"),
        S_WORD("birthday"),      S_WORD("born"),       S_WORD("d.o.b."),
        S_WORD("d.o.b"),         S_WORD("dob"),        S_WORD("b."),
    };
    uint8_t c0 = s_tolower(s_at(sc, i));
    if ((c0 != 'd' && c0 != 'b') || (i > 0 && s_alpha(sc->t[i - 1])))
        return 0; /* every cue starts with d or b */
    for (size_t k = 0; k < sizeof(cues) / sizeof(cues[0]); k++) {
        size_t n = cues[k].n, j = 0;
        while (j < n && s_tolower(s_at(sc, i + j)) == (uint8_t)cues[k].s[j])
            j++;
        if (j == n && !s_alpha(s_at(sc, i + n)))
            return i + n;
    }
    return 0;
}

enum { S_CUE_BEFORE = 24, S_CUE_AFTER = 8, S_CUE_LONGEST = 13 };

static int s_cue_near(const s_scan_t *sc, size_t ds, size_t de)
{
    size_t from = ds > S_CUE_BEFORE + S_CUE_LONGEST ? ds - S_CUE_BEFORE - S_CUE_LONGEST : 0;
    for (size_t i = from; i < ds; i++) {
        size_t e = s_cue_at(sc, i);
        if (e && e <= ds && ds - e <= S_CUE_BEFORE)
            return 1;
    }
    for (size_t i = de; i <= de + S_CUE_AFTER && i < sc->len; i++)
        if (s_cue_at(sc, i))
            return 1;
    return 0;
}

/* A written date starts with a day (where a run of digits does) or a month (a word the
 * lexicon flags as one), so the candidates are those two lists, merged in order. */
static void s_scan_dates(s_scan_t *sc)
{
    size_t r = 0, k = 0, done = 0;
    for (;;) {
        while (k < sc->ntok && !(sc->tok[k].flags & L_MONTH))
            k++;
        size_t i;
        if (r < sc->nnum && (k == sc->ntok || sc->num[r] < sc->tok[k].s))
            i = sc->num[r++];
        else if (k < sc->ntok)
            i = sc->tok[k++].s;
        else
            break;
        uint8_t c = sc->t[i];
        if (i < done || (i > 0 && s_alnum(sc->t[i - 1])) || (s_digit(c) && !s_num_start_ok(sc, i)))
            continue;
        size_t end = s_digit(c) ? s_numeric_date_at(sc, i) : 0;
        if (!end)
            end = s_text_date_at(sc, i);
        if (!end)
            continue;
        if (s_cue_near(sc, i, end))
            s_push(sc, POLICY_KIND_DATE_OF_BIRTH, i, end);
        done = end;
    }
}

/* ---- addresses by their postcode */

/* "14 Linden, M1 1AE", "3 Old Forge LS6 1AE": a house number and one or two capitalised words
 * right before a postcode are an address even without a street word. */
static void s_addresses_before_postcodes(s_scan_t *sc)
{
    size_t n = sc->n;
    for (size_t f = 0; f < n; f++) {
        if (sc->v[f].kind != POLICY_KIND_POSTCODE)
            continue;
        size_t ps = sc->v[f].start, k = sc->ntok;
        for (size_t j = 0; j < sc->ntok && sc->tok[j].e <= ps; j++)
            k = j; /* the last word ending before the postcode */
        if (k == sc->ntok)
            continue;
        size_t gap = ps - sc->tok[k].e;
        if (!((gap == 1 && sc->t[sc->tok[k].e] == ' ') ||
              (gap == 2 && sc->t[sc->tok[k].e] == ',' && sc->t[sc->tok[k].e + 1] == ' ')))
            continue;
        for (size_t first = k + 1; first-- > 0 && k - first < 2;) {
            const s_tok_t *w = &sc->tok[first];
            if (!s_cap(w) || (w->flags & L_STOP) || (first < k && !s_gap(sc, first, G_SP)))
                break;
            if (w->s < 2 || sc->t[w->s - 1] != ' ')
                continue;
            size_t hs = s_house_number(sc, w->s - 1);
            if (hs != SIZE_MAX) {
                s_push(sc, POLICY_KIND_ADDRESS, hs, sc->tok[k].e);
                break;
            }
        }
    }
}

/* ---------------------------------------------------------------- check */

static int s_cmp(const void *a, const void *b)
{
    const policy_finding_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return (int)x->kind - (int)y->kind;
}

/* A heuristic name inside an email, postcode or register span adds nothing: drop it. */
static void s_drop_shadowed_names(s_scan_t *sc)
{
    size_t w = 0;
    for (size_t i = 0; i < sc->n; i++) {
        policy_finding_t *f = &sc->v[i];
        int drop = 0;
        for (size_t k = 0; k < sc->n && f->kind == POLICY_KIND_NAME && !drop; k++)
            drop = sc->v[k].kind != POLICY_KIND_NAME && sc->v[k].start < f->end &&
                   f->start < sc->v[k].end;
        if (!drop)
            sc->v[w++] = *f;
    }
    sc->n = w;
}

/* The rules over LEN bytes at T: the text, or its normalised copy NM (then T is NM's text and
 * each finding is mapped back to the original's bytes). */
static int s_check(const policy_t *p, const policy_register_t *reg, const uint8_t *t, size_t len,
                   const textnorm_t *nm, policy_finding_t *out, size_t cap, size_t *n_found)
{
    s_scan_t sc;
    sc.t = t, sc.len = len, sc.p = p;
    sc.v = sc.v_stack, sc.n = 0, sc.cap = sizeof(sc.v_stack) / sizeof(sc.v_stack[0]);
    sc.tok = sc.tok_stack, sc.ntok = 0, sc.tokcap = sizeof(sc.tok_stack) / sizeof(sc.tok_stack[0]);
    sc.num = sc.num_stack, sc.nnum = 0, sc.numcap = sizeof(sc.num_stack) / sizeof(sc.num_stack[0]);
    s_tokenise(&sc, reg);
    s_scan_words(&sc);
    s_scan_emails(&sc);
    s_scan_obfuscated_emails(&sc);
    s_scan_numbers(&sc);
    s_scan_dates(&sc);
    s_scan_postcodes(&sc);
    s_addresses_before_postcodes(&sc);
    s_drop_shadowed_names(&sc);
    for (size_t i = 0; nm && i < sc.n; i++)
        textnorm_span(nm, &sc.v[i].start, &sc.v[i].end);
    if (sc.n > 1)
        qsort(sc.v, sc.n, sizeof(*sc.v), s_cmp);
    for (size_t i = 0; i < sc.n && i < cap; i++)
        out[i] = sc.v[i];
    *n_found = sc.n;
    if (sc.v != sc.v_stack)
        free(sc.v);
    if (sc.tok != sc.tok_stack)
        free(sc.tok);
    if (sc.num != sc.num_stack)
        free(sc.num);
    return sc.n ? TACNET_ETEXT : 0;
}

int policy_text_check(const policy_t *p, const policy_register_t *reg, const char *text, size_t len,
                      policy_finding_t *out, size_t cap, size_t *n_found)
{
    if (!p || !n_found || (!text && len > 0) || (!out && cap > 0) || len >= UINT32_MAX)
        return TACNET_EINVAL;
    /* The rules read the text with look-alikes folded (textnorm.h), so "Bright" U+200B "water"
     * and "９４３ ４７６ ５９１９" are the name and number they show. Pure ASCII text is told by
     * one quick scan and read as it is. Two calls keep s_check a function of its own, compiled
     * as the check was before: with one, GCC inlined it here and then left s_word out of line,
     * which cost the benchmark's note 5%. */
    textnorm_t nm;
    if (!textnorm_run(&nm, text, len))
        return s_check(p, reg, (const uint8_t *)text, len, NULL, out, cap, n_found);
    int rc = s_check(p, reg, (const uint8_t *)nm.text, nm.len, &nm, out, cap, n_found);
    textnorm_free(&nm);
    return rc;
}
