/* textcheck_v1: the pre-issue-17 text check, frozen as the benchmark's baseline (see
 * textcheck_v1.h); only the names differ from what the daemons ran then. */
#include "textcheck_v1.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

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
    return s_upper(c) || s_lower(c);
}

static int s_alnum(uint8_t c)
{
    return s_alpha(c) || s_digit(c);
}

static uint8_t s_tolower(uint8_t c)
{
    return s_upper(c) ? (uint8_t)(c - 'A' + 'a') : c;
}

int tcv1_case_ref_check(const uint8_t *s, size_t len)
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

int tcv1_initials_check(const uint8_t *s, size_t len)
{
    if (!s || len < 2 || len > 4)
        return TACNET_EINITIALS;
    for (size_t i = 0; i < len; i++)
        if (!s_upper(s[i]))
            return TACNET_EINITIALS;
    return 0;
}

/* ---------------------------------------------------------------- string sets */

/* Case-insensitive (ASCII) set of words, open addressing. Entries are stored lowercased. */
typedef struct {
    char *s;
    size_t len;
} s_slot_t;

typedef struct {
    s_slot_t *slots;
    size_t cap, n;
} s_set_t;

static uint64_t s_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= s_tolower((uint8_t)s[i]);
        h *= 1099511628211ULL;
    }
    return h;
}

static int s_same(const s_slot_t *slot, const char *s, size_t len)
{
    if (slot->len != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((uint8_t)slot->s[i] != s_tolower((uint8_t)s[i]))
            return 0;
    return 1;
}

static int s_set_has(const s_set_t *set, const char *s, size_t len)
{
    if (set->cap == 0)
        return 0;
    size_t mask = set->cap - 1;
    for (size_t i = s_hash(s, len) & mask;; i = (i + 1) & mask) {
        if (!set->slots[i].s)
            return 0;
        if (s_same(&set->slots[i], s, len))
            return 1;
    }
}

static void s_set_put(s_slot_t *slots, size_t cap, s_slot_t entry)
{
    size_t mask = cap - 1;
    size_t i = s_hash(entry.s, entry.len) & mask;
    while (slots[i].s)
        i = (i + 1) & mask;
    slots[i] = entry;
}

static void s_set_add(s_set_t *set, const char *s, size_t len)
{
    if (s_set_has(set, s, len))
        return;
    if ((set->n + 1) * 2 > set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        s_slot_t *slots = xcalloc(cap, sizeof(*slots));
        for (size_t i = 0; i < set->cap; i++)
            if (set->slots[i].s)
                s_set_put(slots, cap, set->slots[i]);
        free(set->slots);
        set->slots = slots;
        set->cap = cap;
    }
    char *copy = xmalloc(len + 1);
    for (size_t i = 0; i < len; i++)
        copy[i] = (char)s_tolower((uint8_t)s[i]);
    copy[len] = '\0';
    s_set_put(set->slots, set->cap, (s_slot_t){ copy, len });
    set->n++;
}

static void s_set_clear(s_set_t *set, int wipe)
{
    for (size_t i = 0; i < set->cap; i++) {
        if (set->slots[i].s && wipe)
            sodium_memzero(set->slots[i].s, set->slots[i].len);
        free(set->slots[i].s);
    }
    free(set->slots);
    memset(set, 0, sizeof(*set));
}

/* ---------------------------------------------------------------- objects */

struct tcv1 {
    s_set_t given, surnames, allow;
};

struct tcv1_register {
    s_set_t words;
};

static int s_load_list(const char *dir, const char *file, s_set_t *set)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= sizeof(path))
        return TACNET_EINVAL;
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
        if (a == b || line[a] == '#')
            continue;
        s_set_add(set, line + a, b - a);
    }
    int rc = ferror(f) ? TACNET_EIO : 0;
    free(line);
    fclose(f);
    return rc;
}

tcv1_t *tcv1_new(const char *gazetteer_dir, int *err)
{
    int rc = TACNET_EINVAL;
    tcv1_t *self = NULL;
    if (!gazetteer_dir)
        goto fail;
    self = xcalloc(1, sizeof(*self));
    if ((rc = s_load_list(gazetteer_dir, "given-names.txt", &self->given)) != 0 ||
        (rc = s_load_list(gazetteer_dir, "surnames.txt", &self->surnames)) != 0 ||
        (rc = s_load_list(gazetteer_dir, "allowlist.txt", &self->allow)) != 0)
        goto fail;
    if (err)
        *err = 0;
    return self;
fail:
    tcv1_destroy(&self);
    if (err)
        *err = rc;
    return NULL;
}

void tcv1_destroy(tcv1_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tcv1_t *self = *self_p;
    s_set_clear(&self->given, 0);
    s_set_clear(&self->surnames, 0);
    s_set_clear(&self->allow, 0);
    free(self);
    *self_p = NULL;
}

/* Words are letters plus any non-ASCII byte, so UTF-8 names stay whole. */
static int s_word_byte(uint8_t c)
{
    return s_alpha(c) || c >= 0x80;
}

tcv1_register_t *tcv1_register_new(void)
{
    return xcalloc(1, sizeof(tcv1_register_t));
}

int tcv1_register_add(tcv1_register_t *self, const char *name)
{
    if (!self || !name)
        return TACNET_EINVAL;
    int added = 0;
    const char *p = name;
    while (*p) {
        if (!s_word_byte((uint8_t)*p)) {
            p++;
            continue;
        }
        const char *w = p;
        while (*p && s_word_byte((uint8_t)*p))
            p++;
        /* One letter is an initial, which the design allows; it would also match "a". */
        if (p - w >= 2) {
            s_set_add(&self->words, w, (size_t)(p - w));
            added = 1;
        }
    }
    return added ? 0 : TACNET_EINVAL;
}

void tcv1_register_destroy(tcv1_register_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_set_clear(&(*self_p)->words, 1);
    free(*self_p);
    *self_p = NULL;
}

const char *tcv1_kind_name(enum tcv1_kind kind)
{
    switch (kind) {
    case TCV1_KIND_REGISTER_NAME:
        return "register_name";
    case TCV1_KIND_NAME:
        return "name";
    case TCV1_KIND_NHS_NUMBER:
        return "nhs_number";
    case TCV1_KIND_DATE_OF_BIRTH:
        return "date_of_birth";
    case TCV1_KIND_POSTCODE:
        return "postcode";
    case TCV1_KIND_PHONE:
        return "phone";
    case TCV1_KIND_EMAIL:
        return "email";
    }
    return "unknown";
}

/* ---------------------------------------------------------------- text scanning */

typedef struct {
    const uint8_t *t;
    size_t len;
    tcv1_finding_t *v;
    size_t n, cap;
} s_scan_t;

static void s_push(s_scan_t *sc, enum tcv1_kind kind, size_t start, size_t end)
{
    if (sc->n == sc->cap) {
        sc->cap = sc->cap ? sc->cap * 2 : 16;
        sc->v = xrealloc(sc->v, sc->cap * sizeof(*sc->v));
    }
    sc->v[sc->n++] = (tcv1_finding_t){ kind, (uint32_t)start, (uint32_t)end };
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

/* ---- words and names */

static size_t s_word_end(const s_scan_t *sc, size_t i)
{
    while (i < sc->len && s_word_byte(sc->t[i]))
        i++;
    return i;
}

static int s_capitalised(const s_scan_t *sc, size_t ws, size_t we)
{
    if (we - ws < 2 || !s_upper(sc->t[ws]))
        return 0;
    for (size_t i = ws + 1; i < we; i++)
        if (s_lower(sc->t[i]))
            return 1;
    return 0;
}

static int s_in(const s_set_t *set, const s_scan_t *sc, size_t ws, size_t we)
{
    return s_set_has(set, (const char *)sc->t + ws, we - ws);
}

/* The word after a single space (or hyphen, for double-barrelled names) at END, if any. */
static int s_next_word(const s_scan_t *sc, size_t end, size_t *ws, size_t *we)
{
    uint8_t c = s_at(sc, end);
    if ((c != ' ' && c != '-') || !s_word_byte(s_at(sc, end + 1)))
        return 0;
    *ws = end + 1;
    *we = s_word_end(sc, *ws);
    return 1;
}

static int s_title(const s_scan_t *sc, size_t ws, size_t we)
{
    static const s_word_t titles[] = {
        S_WORD("Mr"), S_WORD("Mrs"), S_WORD("Ms"), S_WORD("Miss"), S_WORD("Mx"), S_WORD("Dr"),
    };
    for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
        if (titles[i].n == we - ws && memcmp(titles[i].s, sc->t + ws, we - ws) == 0)
            return 1;
    return 0;
}

static size_t s_extend_name(const s_scan_t *sc, const tcv1_t *p, size_t end)
{
    size_t ws, we;
    while (s_next_word(sc, end, &ws, &we) && s_capitalised(sc, ws, we) && !s_title(sc, ws, we) &&
           (s_in(&p->surnames, sc, ws, we) || !s_in(&p->allow, sc, ws, we)))
        end = we;
    return end;
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

/* Returns the end of a name starting at word [ws, we), or 0 if none starts there. */
static size_t s_name_at(const s_scan_t *sc, const tcv1_t *p, size_t ws, size_t we)
{
    size_t ns, ne;
    if (s_title(sc, ws, we)) {
        size_t e = we;
        if (s_at(sc, e) == '.')
            e++;
        if (s_at(sc, e) == ' ' && s_word_byte(s_at(sc, e + 1))) {
            ns = e + 1;
            ne = s_word_end(sc, ns);
            if (s_capitalised(sc, ns, ne) && !s_in(&p->allow, sc, ns, ne))
                return s_extend_name(sc, p, ne);
        }
        return 0;
    }
    if (!s_capitalised(sc, ws, we) || !s_in(&p->given, sc, ws, we) || s_after_saint(sc, ws))
        return 0;
    if (!s_in(&p->allow, sc, ws, we))
        return s_extend_name(sc, p, we);
    if (s_next_word(sc, we, &ns, &ne) && sc->t[we] == ' ' && s_capitalised(sc, ns, ne) &&
        s_in(&p->surnames, sc, ns, ne) && !s_in(&p->allow, sc, ns, ne))
        return s_extend_name(sc, p, ne);
    return 0;
}

static void s_scan_words(s_scan_t *sc, const tcv1_t *p, const tcv1_register_t *reg)
{
    size_t i = 0;
    while (i < sc->len) {
        if (!s_word_byte(sc->t[i])) {
            i++;
            continue;
        }
        size_t ws = i, we = s_word_end(sc, i);
        int in_reg =
            reg && we - ws >= 2 && s_set_has(&reg->words, (const char *)sc->t + ws, we - ws);
        if (in_reg) {
            size_t end = we, ns, ne;
            while (s_at(sc, end) == ' ' && s_next_word(sc, end, &ns, &ne) &&
                   s_set_has(&reg->words, (const char *)sc->t + ns, ne - ns))
                end = ne;
            s_push(sc, TCV1_KIND_REGISTER_NAME, ws, end);
            i = end;
            continue;
        }
        size_t end = s_name_at(sc, p, ws, we);
        if (end) {
            s_push(sc, TCV1_KIND_NAME, ws, end);
            i = end;
            continue;
        }
        i = we;
    }
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

static size_t s_nhs_at(const s_scan_t *sc, size_t i)
{
    uint8_t d[10];
    size_t end = 0;
    if (s_digits(sc, i, 10)) {
        memcpy(d, sc->t + i, 10);
        end = i + 10;
    } else if (s_digits(sc, i, 3) && (s_at(sc, i + 3) == ' ' || s_at(sc, i + 3) == '-') &&
               s_digits(sc, i + 4, 3) && s_at(sc, i + 7) == s_at(sc, i + 3) &&
               s_digits(sc, i + 8, 4)) {
        memcpy(d, sc->t + i, 3);
        memcpy(d + 3, sc->t + i + 4, 3);
        memcpy(d + 6, sc->t + i + 8, 4);
        end = i + 12;
    }
    if (!end || !s_num_end_ok(sc, end) || !s_nhs_valid(d))
        return 0;
    return end;
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
        if ((c == ' ' || c == '-') && s_digit(s_at(sc, p + 1)) && !paren) {
            p++;
            continue;
        }
        break;
    }
    return best;
}

static void s_scan_numbers(s_scan_t *sc)
{
    for (size_t i = 0; i < sc->len; i++) {
        if (!s_digit(sc->t[i]) || !s_num_start_ok(sc, i))
            continue;
        size_t end = s_nhs_at(sc, i);
        if (end) {
            s_push(sc, TCV1_KIND_NHS_NUMBER, i, end);
            i = end - 1;
        }
    }
    for (size_t i = 0; i < sc->len; i++) {
        uint8_t c = sc->t[i];
        if ((c != '+' && c != '(' && c != '0') || !s_num_start_ok(sc, i) || s_covered(sc, i))
            continue;
        size_t end = s_phone_at(sc, i);
        if (end) {
            s_push(sc, TCV1_KIND_PHONE, i, end);
            i = end - 1;
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
    for (size_t i = 0; i < sc->len; i++) {
        if (!s_alpha(sc->t[i]) || (i > 0 && s_alnum(sc->t[i - 1])))
            continue;
        size_t end = s_postcode_at(sc, i);
        if (end) {
            s_push(sc, TCV1_KIND_POSTCODE, i, end);
            i = end - 1;
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
        if (sc->t[at] != '@')
            continue;
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
        s_push(sc, TCV1_KIND_EMAIL, ls, de);
        at = de - 1;
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
    if (i > 0 && s_alpha(sc->t[i - 1]))
        return 0;
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

static void s_scan_dates(s_scan_t *sc)
{
    for (size_t i = 0; i < sc->len; i++) {
        uint8_t c = sc->t[i];
        if (!s_alnum(c) || (i > 0 && s_alnum(sc->t[i - 1])))
            continue;
        if (s_digit(c) && !s_num_start_ok(sc, i))
            continue;
        size_t end = s_digit(c) ? s_numeric_date_at(sc, i) : 0;
        if (!end)
            end = s_text_date_at(sc, i);
        if (!end)
            continue;
        if (s_cue_near(sc, i, end))
            s_push(sc, TCV1_KIND_DATE_OF_BIRTH, i, end);
        i = end - 1;
    }
}

/* ---------------------------------------------------------------- check */

static int s_cmp(const void *a, const void *b)
{
    const tcv1_finding_t *x = a, *y = b;
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
        tcv1_finding_t *f = &sc->v[i];
        int drop = 0;
        for (size_t k = 0; k < sc->n && f->kind == TCV1_KIND_NAME && !drop; k++)
            drop = sc->v[k].kind != TCV1_KIND_NAME && sc->v[k].start < f->end &&
                   f->start < sc->v[k].end;
        if (!drop)
            sc->v[w++] = *f;
    }
    sc->n = w;
}

int tcv1_text_check(const tcv1_t *p, const tcv1_register_t *reg, const char *text, size_t len,
                    tcv1_finding_t *out, size_t cap, size_t *n_found)
{
    if (!p || !n_found || (!text && len > 0) || (!out && cap > 0) || len >= UINT32_MAX)
        return TACNET_EINVAL;
    s_scan_t sc = { .t = (const uint8_t *)text, .len = len };
    s_scan_words(&sc, p, reg);
    s_scan_emails(&sc);
    s_scan_numbers(&sc);
    s_scan_dates(&sc);
    s_scan_postcodes(&sc);
    s_drop_shadowed_names(&sc);
    if (sc.n > 1)
        qsort(sc.v, sc.n, sizeof(*sc.v), s_cmp);
    for (size_t i = 0; i < sc.n && i < cap; i++)
        out[i] = sc.v[i];
    *n_found = sc.n;
    free(sc.v);
    return sc.n ? TACNET_ETEXT : 0;
}
