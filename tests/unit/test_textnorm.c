/* The text check against Unicode look-alikes (common/textnorm.h): invisible characters,
 * letters of other scripts that look Latin, full-width forms, Unicode dashes and spaces. Each
 * trick is refused with the finding it hid, its span in the original bytes; legitimate Unicode
 * still passes. Every person here is invented. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "policy.h"
#include "textnorm.h"

static policy_t *s_pol;
static policy_register_t *s_reg;

static void s_setup(void)
{
    const char *src = getenv("TACNET_SRC") ? getenv("TACNET_SRC") : ".";
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/deploy/gazetteer", src);
    int err = 0;
    s_pol = policy_new(dir, &err);
    cr_assert_not_null(s_pol, "loading %s: %s", dir, tacnet_strerror(err));
    s_reg = policy_register_new();
    cr_assert_eq(policy_register_add(s_reg, "Tamsin Brightwater"), 0);
    cr_assert_eq(policy_register_add(s_reg, "Orla Brightwater"), 0);
}

static void s_teardown(void)
{
    policy_register_destroy(&s_reg);
    policy_destroy(&s_pol);
}

TestSuite(textnorm, .init = s_setup, .fini = s_teardown);

typedef struct {
    enum policy_kind kind;
    const char *span; /* the exact original bytes the finding must cover (first occurrence) */
} s_want_t;

static void s_expect(const policy_register_t *reg, const char *text, const s_want_t *want,
                     size_t n_want)
{
    policy_finding_t got[16];
    size_t n = 99;
    int rc = policy_text_check(s_pol, reg, text, strlen(text), got, 16, &n);
    cr_assert_eq(rc, n_want ? TACNET_ETEXT : 0, "rc %d for \"%s\"", rc, text);
    cr_assert_eq(n, n_want, "%zu findings for \"%s\", want %zu (first %s %u-%u)", n, text, n_want,
                 n ? policy_kind_name(got[0].kind) : "-", n ? got[0].start : 0, n ? got[0].end : 0);
    for (size_t i = 0; i < n_want; i++) {
        const char *at = strstr(text, want[i].span);
        cr_assert_not_null(at);
        uint32_t start = (uint32_t)(at - text), end = start + (uint32_t)strlen(want[i].span);
        cr_assert_eq(got[i].kind, want[i].kind, "finding %zu of \"%s\": kind %s", i, text,
                     policy_kind_name(got[i].kind));
        cr_assert_eq(got[i].start, start, "finding %zu of \"%s\": start %u want %u", i, text,
                     got[i].start, start);
        cr_assert_eq(got[i].end, end, "finding %zu of \"%s\": end %u want %u", i, text, got[i].end,
                     end);
    }
}

#define EXPECT(reg, text, ...)                                            \
    do {                                                                  \
        const s_want_t want_[] = { __VA_ARGS__ };                         \
        s_expect((reg), (text), want_, sizeof(want_) / sizeof(want_[0])); \
    } while (0)
#define EXPECT_CLEAN(reg, text) s_expect((reg), (text), NULL, 0)

/* UTF-8 of the characters used below. */
#define ZWSP   "\xe2\x80\x8b" /* U+200B zero width space */
#define ZWJ    "\xe2\x80\x8d" /* U+200D zero width joiner */
#define WJ     "\xe2\x81\xa0" /* U+2060 word joiner */
#define BOM    "\xef\xbb\xbf" /* U+FEFF */
#define SHY    "\xc2\xad"     /* U+00AD soft hyphen */
#define CGJ    "\xcd\x8f"     /* U+034F combining grapheme joiner */
#define MVS    "\xe1\xa0\x8e" /* U+180E Mongolian vowel separator */
#define NBSP   "\xc2\xa0"     /* U+00A0 */
#define FIGSP  "\xe2\x80\x87" /* U+2007 figure space */
#define THINSP "\xe2\x80\x89" /* U+2009 thin space */
#define NNBSP  "\xe2\x80\xaf" /* U+202F narrow no-break space */
#define NBHY   "\xe2\x80\x91" /* U+2011 non-breaking hyphen */
#define HYPHEN "\xe2\x80\x90" /* U+2010 */
#define FIGDSH "\xe2\x80\x92" /* U+2012 figure dash */
#define ENDASH "\xe2\x80\x93" /* U+2013 */
#define EMDASH "\xe2\x80\x94" /* U+2014 */
#define MINUS  "\xe2\x88\x92" /* U+2212 */
#define CYR_A  "\xd0\x90"     /* U+0410 Cyrillic capital A */
#define CYR_VE "\xd0\x92"     /* U+0412 Cyrillic capital VE, looks like B */
#define CYR_O  "\xd0\x9e"     /* U+041E Cyrillic capital O */
#define CYR_ES "\xd0\xa1"     /* U+0421 Cyrillic capital ES, looks like C */
#define CYR_a  "\xd0\xb0"     /* U+0430 */
#define CYR_e  "\xd0\xb5"     /* U+0435 */
#define CYR_o  "\xd0\xbe"     /* U+043E */
#define CYR_u  "\xd1\x83"     /* U+0443 Cyrillic u, looks like y */
#define CYR_s  "\xd1\x95"     /* U+0455 Cyrillic dze, looks like s */
#define CYR_h  "\xd2\xbb"     /* U+04BB Cyrillic shha, looks like h */
#define CYR_i  "\xd1\x96"     /* U+0456 Byelorussian-Ukrainian i */
#define GR_O   "\xce\x9f"     /* U+039F Greek capital omicron */
#define GR_a   "\xce\xb1"     /* U+03B1 Greek alpha */

Test(textnorm, invisible_characters_inside_a_word_or_number_are_refused)
{
    EXPECT(s_reg, "Seen with Bright" ZWSP "water today.",
           { POLICY_KIND_REGISTER_NAME, "Bright" ZWSP "water" });
    EXPECT(s_reg, "Seen with Bright" SHY "water today.",
           { POLICY_KIND_REGISTER_NAME, "Bright" SHY "water" });
    EXPECT(s_reg, "Seen with Bri" WJ "ght" BOM "wa" ZWJ "ter today.",
           { POLICY_KIND_REGISTER_NAME, "Bri" WJ "ght" BOM "wa" ZWJ "ter" });
    EXPECT(s_reg, "Seen with Bright" CGJ "wat" MVS "er today.",
           { POLICY_KIND_REGISTER_NAME, "Bright" CGJ "wat" MVS "er" });
    EXPECT(NULL, "NHS 943 476 59" ZWSP "19 on file.",
           { POLICY_KIND_NHS_NUMBER, "943 476 59" ZWSP "19" });
    EXPECT(NULL, "DOB 03" ZWSP "/03/2019, seen today.",
           { POLICY_KIND_DATE_OF_BIRTH, "03" ZWSP "/03/2019" });
    EXPECT(NULL, "Moved to M1" ZWSP "1AE last week.", { POLICY_KIND_POSTCODE, "M1" ZWSP "1AE" });
    EXPECT(NULL, "Spoke to Mr" ZWSP "s Okonkwo at pick-up.",
           { POLICY_KIND_NAME, "Mr" ZWSP "s Okonkwo" });
    /* An invisible character at a span's edge is not part of it. */
    EXPECT(s_reg, "Seen with " ZWSP "Brightwater" ZWSP " today.",
           { POLICY_KIND_REGISTER_NAME, "Brightwater" });
}

Test(textnorm, look_alike_letters_of_other_scripts_are_refused)
{
    EXPECT(s_reg, "Seen with " CYR_VE "rightwater today.",
           { POLICY_KIND_REGISTER_NAME, CYR_VE "rightwater" });
    EXPECT(s_reg, CYR_O "rla came to clinic.", { POLICY_KIND_REGISTER_NAME, CYR_O "rla" });
    EXPECT(s_reg, "Seen with Brightw" GR_a "ter today.",
           { POLICY_KIND_REGISTER_NAME, "Brightw" GR_a "ter" });
    EXPECT(s_reg, GR_O "RLA came to clinic.", { POLICY_KIND_REGISTER_NAME, GR_O "RLA" });
    EXPECT(NULL, "Moved to M1 1" CYR_A "E last week.", { POLICY_KIND_POSTCODE, "M1 1" CYR_A "E" });
    EXPECT(NULL, "Spoke to Mrs W" CYR_u "nter-Qu" CYR_e "ll at pick-up.",
           { POLICY_KIND_NAME, "Mrs W" CYR_u "nter-Qu" CYR_e "ll" });
    /* Every letter Cyrillic, the spelling Latin: a name in disguise. */
    EXPECT(NULL, "Mum (" CYR_A CYR_s CYR_h CYR_a ") phoned.",
           { POLICY_KIND_NAME, CYR_A CYR_s CYR_h CYR_a });
    EXPECT(NULL, "Email " CYR_o "rla.quell@example.com today.",
           { POLICY_KIND_EMAIL, CYR_o "rla.quell@example.com" });
    EXPECT(NULL, "Lives at 12 Ash R" CYR_o "ad now.",
           { POLICY_KIND_ADDRESS, "12 Ash R" CYR_o "ad" });
}

Test(textnorm, full_width_forms_are_refused)
{
    EXPECT(NULL,
           "NHS \xef\xbc\x99\xef\xbc\x94\xef\xbc\x93 \xef\xbc\x94\xef\xbc\x97\xef\xbc\x96 "
           "\xef\xbc\x95\xef\xbc\x99\xef\xbc\x91\xef\xbc\x99 noted.",
           { POLICY_KIND_NHS_NUMBER,
             "\xef\xbc\x99\xef\xbc\x94\xef\xbc\x93 \xef\xbc\x94\xef\xbc\x97\xef\xbc\x96 "
             "\xef\xbc\x95\xef\xbc\x99\xef\xbc\x91\xef\xbc\x99" });
    EXPECT(NULL,
           "Ring 0\xef\xbc\x97\xef\xbc\x97"
           "00 900123 after six.",
           { POLICY_KIND_PHONE, "0\xef\xbc\x97\xef\xbc\x97"
                                "00 900123" });
    EXPECT(NULL,
           "Write to zainab\xef\xbc\xa0"
           "example.com please.",
           { POLICY_KIND_EMAIL, "zainab\xef\xbc\xa0"
                                "example.com" });
    EXPECT(NULL, "Born 03/03/\xef\xbc\x92\xef\xbc\x90\xef\xbc\x91\xef\xbc\x99 at home.",
           { POLICY_KIND_DATE_OF_BIRTH, "03/03/\xef\xbc\x92\xef\xbc\x90\xef\xbc\x91\xef\xbc\x99" });
    /* Full-width letters, and mathematical bold ones (U+1D401 B, U+1D42B r). */
    EXPECT(s_reg, "Seen with \xef\xbc\xa2rightwater today.",
           { POLICY_KIND_REGISTER_NAME, "\xef\xbc\xa2rightwater" });
    EXPECT(s_reg,
           "Seen with \xf0\x9d\x90\x81\xf0\x9d\x90\xab"
           "ightwater today.",
           { POLICY_KIND_REGISTER_NAME, "\xf0\x9d\x90\x81\xf0\x9d\x90\xab"
                                        "ightwater" });
}

Test(textnorm, unicode_dashes_and_spaces_separate_like_ascii_ones)
{
    EXPECT(NULL, "NHS 943" NBHY "476" NBHY "5919.",
           { POLICY_KIND_NHS_NUMBER, "943" NBHY "476" NBHY "5919" });
    EXPECT(NULL, "NHS 943" HYPHEN "476" FIGDSH "5919.",
           { POLICY_KIND_NHS_NUMBER, "943" HYPHEN "476" FIGDSH "5919" });
    EXPECT(NULL, "NHS 943" MINUS "476" ENDASH "5919.",
           { POLICY_KIND_NHS_NUMBER, "943" MINUS "476" ENDASH "5919" });
    EXPECT(NULL, "NHS 943" NBSP "476" FIGSP "5919.",
           { POLICY_KIND_NHS_NUMBER, "943" NBSP "476" FIGSP "5919" });
    EXPECT(NULL, "Ring 07700" THINSP "900123 today.",
           { POLICY_KIND_PHONE, "07700" THINSP "900123" });
    EXPECT(NULL, "Moved to M1" NNBSP "1AE.", { POLICY_KIND_POSTCODE, "M1" NNBSP "1AE" });
    EXPECT(NULL, "DOB 03" EMDASH "03" EMDASH "2019.",
           { POLICY_KIND_DATE_OF_BIRTH, "03" EMDASH "03" EMDASH "2019" });
    EXPECT(NULL, "Spoke to Mr" NBSP "Okonkwo at pick-up.",
           { POLICY_KIND_NAME, "Mr" NBSP "Okonkwo" });
    /* A family name registered with a no-break space is two words, as typed with a space. */
    policy_register_t *reg = policy_register_new();
    cr_assert_eq(policy_register_add(reg, "Idris" NBSP "Wynterquell"), 0);
    EXPECT(reg, "Seen with wynterquell today.", { POLICY_KIND_REGISTER_NAME, "wynterquell" });
    policy_register_destroy(&reg);
}

Test(textnorm, spans_after_multi_byte_characters_are_original_bytes)
{
    /* "Café", "Zoë" (NFD), a curly apostrophe and an en dash before the finding. */
    EXPECT(s_reg,
           "Caf\xc3\xa9 visit " ENDASH " Zoe\xcc\x88 book\xe2\x80\x99s back; " CYR_VE "right" ZWSP
           "water came.",
           { POLICY_KIND_NAME, "Zoe\xcc\x88" },
           { POLICY_KIND_REGISTER_NAME, CYR_VE "right" ZWSP "water" });
    EXPECT(NULL, "\xef\xbc\xa1\xef\xbc\xa1 meeting; NHS 943" NBHY "476" NBHY "5919 " ENDASH " ok",
           { POLICY_KIND_NHS_NUMBER, "943" NBHY "476" NBHY "5919" });
}

Test(textnorm, legitimate_unicode_still_passes)
{
    EXPECT_CLEAN(s_reg, "Open Mon" ENDASH "Fri 9" ENDASH "5; it\xe2\x80\x99s the caf\xc3\xa9 by "
                        "the school.");
    EXPECT_CLEAN(s_reg, "Plan agreed " EMDASH " review in six weeks.");
    EXPECT_CLEAN(s_reg, "Review at 10:30" NBSP "am; \xe2\x80\x9cgood week\xe2\x80\x9d, she said.");
    /* Ukrainian "thank you for the meeting": its own script's words, not look-alikes. */
    EXPECT_CLEAN(s_reg, "\xd0\x94\xd1\x8f\xd0\xba\xd1\x83\xd1\x8e \xd0\xb7\xd0\xb0 "
                        "\xd0\xb7\xd1\x83\xd1\x81\xd1\x82\xd1\x80\xd1\x96\xd1\x87.");
    /* Polish "thank you". */
    EXPECT_CLEAN(s_reg, "Mum wrote \xe2\x80\x9c"
                        "dzi\xc4\x99kuj\xc4\x99\xe2\x80\x9d on the card.");
    EXPECT_CLEAN(s_reg, "Melatonin 500 \xce\xbcg at night.");
    EXPECT_CLEAN(s_reg, "Feeling \xf0\x9f\x99\x82 today" ZWJ ".");
}

Test(textnorm, pure_ascii_and_unchanged_text_is_read_as_it_is)
{
    textnorm_t n;
    const char *ascii = "Seen at home with Mum after school.";
    cr_assert_eq(textnorm_run(&n, ascii, strlen(ascii)), 0);
    const char *cafe =
        "Caf\xc3\xa9 \xe2\x80\x9cok\xe2\x80\x9d \xd0\x94\xd1\x8f\xd0\xba\xd1\x83\xd1\x8e";
    cr_assert_eq(textnorm_run(&n, cafe, strlen(cafe)), 0);
    cr_assert_eq(textnorm_run(&n, "", 0), 0);
}

Test(textnorm, the_normalised_text_and_its_map)
{
    textnorm_t n;
    const char *t = "A" ZWSP CYR_VE "c" NBSP "\xef\xbc\x99" ENDASH "x";
    cr_assert_eq(textnorm_run(&n, t, strlen(t)), 1);
    cr_assert_eq(n.len, 7);
    cr_assert_eq(memcmp(n.text, "ABc 9-x", 7), 0);
    static const uint32_t from[] = { 0, 4, 6, 7, 9, 12, 15 }, to[] = { 1, 6, 7, 9, 12, 15, 16 };
    for (size_t i = 0; i < 7; i++) {
        cr_assert_eq(n.from[i], from[i], "from[%zu] %u", i, n.from[i]);
        cr_assert_eq(n.to[i], to[i], "to[%zu] %u", i, n.to[i]);
    }
    uint32_t s = 0, e = 3; /* "ABc": from A through c, the invisible character inside */
    textnorm_span(&n, &s, &e);
    cr_assert(s == 0 && e == 7);
    s = 4, e = 6; /* "9-" */
    textnorm_span(&n, &s, &e);
    cr_assert(s == 9 && e == 15);
    textnorm_free(&n);
    cr_assert_null(n.text);
}

Test(textnorm, bytes_that_are_not_utf8_are_kept_as_they_are)
{
    textnorm_t n;
    /* Not UTF-8 and nothing to fold: not normalised at all, the check reads it as before. */
    const char *bad = "Seen \xff\xfe at \xe2\x80 home \xc3 and \xed\xa0\x80 today.";
    cr_assert_eq(textnorm_run(&n, bad, strlen(bad)), 0);
    /* Beside a character that is folded, each stray byte is copied as it is. */
    const char *mixed = "\xff" NBSP "\xe2\x80" ZWSP "\xc3";
    cr_assert_eq(textnorm_run(&n, mixed, strlen(mixed)), 1);
    cr_assert_eq(n.len, 5);
    cr_assert_eq(memcmp(n.text, "\xff \xe2\x80\xc3", 5), 0);
    cr_assert_eq(n.from[4], 8);
    textnorm_free(&n);
    size_t found = 0;
    policy_finding_t f[4];
    int rc = policy_text_check(s_pol, s_reg, mixed, strlen(mixed), f, 4, &found);
    cr_assert(rc == 0 || rc == TACNET_ETEXT);
    /* Look-alikes beside a stray byte and no Latin letter: not a Latin word, nothing folds. */
    const char *stray = "\xff" CYR_ES CYR_a;
    cr_assert_eq(textnorm_run(&n, stray, strlen(stray)), 0);
}
