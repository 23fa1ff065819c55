/* Tests for the identifier policy and `tacnet policy check`. Every person here is invented. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/policy_cmd.h"
#include "err.h"
#include "policy.h"

static char s_dir[64];
static policy_t *s_pol;

static void s_write(const char *name, const char *body)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", s_dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(body, f);
    fclose(f);
}

static void s_remove(const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", s_dir, name);
    unlink(path);
}

/* A small synthetic gazetteer, so expectations do not drift with the shipped lists. */
static void s_setup(void)
{
    strcpy(s_dir, "/tmp/tacnet-policy-XXXXXX");
    cr_assert_not_null(mkdtemp(s_dir));
    s_write("given-names.txt", "# test given names\ntalia\ngrace\nwill\nmark\noren\nmarisol\n"
                               "june\nmay\n  rosalind  \nlukasz\n");
    s_write("surnames.txt", "brennick\nokafor\nquillfeather\nyoung\nday\n");
    s_write("allowlist.txt", "# clinical and common words\ngrace\nwill\nmark\nmay\njune\n"
                             "down\ncamhs\nmonday\nyoung\nday\nschool\n");
    int err = -1;
    s_pol = policy_new(s_dir, &err);
    cr_assert_not_null(s_pol);
    cr_assert_eq(err, 0);
}

static void s_teardown(void)
{
    policy_destroy(&s_pol);
    s_remove("given-names.txt");
    s_remove("surnames.txt");
    s_remove("allowlist.txt");
    s_remove("register.txt");
    rmdir(s_dir);
}

TestSuite(policy, .init = s_setup, .fini = s_teardown);

typedef struct {
    enum policy_kind kind;
    const char *span; /* the exact bytes the finding must cover (first occurrence) */
} s_want_t;

static void s_expect(const policy_register_t *reg, const char *text, const s_want_t *want,
                     size_t n_want)
{
    policy_finding_t got[16];
    size_t n = 99;
    int rc = policy_text_check(s_pol, reg, text, strlen(text), got, 16, &n);
    cr_assert_eq(rc, n_want ? TACNET_ETEXT : 0, "rc %d for \"%s\"", rc, text);
    cr_assert_eq(n, n_want, "%zu findings for \"%s\", want %zu", n, text, n_want);
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

/* ---------------------------------------------------------------- header fields */

static int s_ref(const char *s, size_t len)
{
    return policy_case_ref_check((const uint8_t *)s, len);
}

static int s_ini(const char *s, size_t len)
{
    return policy_initials_check((const uint8_t *)s, len);
}

#define REF(lit) s_ref((lit), sizeof(lit) - 1)
#define INI(lit) s_ini((lit), sizeof(lit) - 1)

Test(policy, well_formed_case_refs_are_accepted)
{
    cr_assert_eq(REF("LA7-2026-000123"), 0);
    cr_assert_eq(REF("AB-2000-000000"), 0);
    cr_assert_eq(REF("ABCDE-2099-999999"), 0);
    cr_assert_eq(REF("X9-2050-123456"), 0);
}

Test(policy, malformed_case_refs_are_rejected)
{
    static const char *const bad[] = {
        "la7-2026-000123",    /* lower case */
        "La7-2026-000123",    /* mixed case */
        "L-2026-000123",      /* area too short */
        "ABCDEF-2026-000123", /* area too long */
        "7LA-2026-000123",    /* area starts with a digit */
        "LA7-1999-000123",    /* year before 2000 */
        "LA7-2100-000123",    /* year after 2099 */
        "LA7-2026-00012",     /* 5 digits */
        "LA7-2026-0001234",   /* 7 digits */
        "LA7-2026-000123 ",   /* trailing space */
        " LA7-2026-000123",   /* leading space */
        "LA7 2026 000123",    /* spaces for hyphens */
        "LA7_2026_000123",    /* wrong separator */
        "LA7-2026-00A123",    /* letter in the number */
        "LA7-26-000123",      /* two-digit year */
        "LA7--2026-000123",   /* doubled hyphen */
        "LA7-2026-000123X",   /* extra character */
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(s_ref(bad[i], strlen(bad[i])), TACNET_ECASEREF, "accepted \"%s\"", bad[i]);
    cr_assert_eq(REF("LA\0-2026-000123"), TACNET_ECASEREF);
    cr_assert_eq(REF("LA7-2026-00012\0"), TACNET_ECASEREF);
    cr_assert_eq(REF("LA7-2026-000123\0"), TACNET_ECASEREF);
    cr_assert_eq(REF("LA7-2026-000123\0Talia"), TACNET_ECASEREF);
    cr_assert_eq(REF("L\xc3\x84-2026-000123"), TACNET_ECASEREF);
    cr_assert_eq(policy_case_ref_check(NULL, 15), TACNET_ECASEREF);
}

Test(policy, two_to_four_capitals_are_valid_initials)
{
    cr_assert_eq(INI("TB"), 0);
    cr_assert_eq(INI("TRB"), 0);
    cr_assert_eq(INI("ABCD"), 0);
}

Test(policy, anything_else_is_rejected_as_initials)
{
    static const char *const bad[] = { "T",
                                       "ABCDE",
                                       "tb",
                                       "Tb",
                                       "T B",
                                       "T.B",
                                       "T-B",
                                       "T1",
                                       "",
                                       " TB",
                                       "TB ",
                                       "\xc3\x89"
                                       "B" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(s_ini(bad[i], strlen(bad[i])), TACNET_EINITIALS, "accepted \"%s\"", bad[i]);
    cr_assert_eq(INI("T\0"), TACNET_EINITIALS);
    cr_assert_eq(INI("TB\0"), TACNET_EINITIALS);
    cr_assert_eq(INI("TB\0Brennick"), TACNET_EINITIALS);
    cr_assert_eq(policy_initials_check(NULL, 2), TACNET_EINITIALS);
}

/* ---------------------------------------------------------------- loading */

Test(policy, missing_gazetteer_file_is_not_found)
{
    s_remove("surnames.txt");
    int err = 0;
    policy_t *p = policy_new(s_dir, &err);
    cr_assert_null(p);
    cr_assert_eq(err, TACNET_ENOTFOUND);
    cr_assert_null(policy_new(NULL, &err));
    cr_assert_eq(err, TACNET_EINVAL);
    policy_destroy(&p);
    policy_destroy(NULL);
}

Test(policy, kinds_have_stable_names)
{
    cr_assert_str_eq(policy_kind_name(POLICY_KIND_REGISTER_NAME), "register_name");
    cr_assert_str_eq(policy_kind_name(POLICY_KIND_NAME), "name");
    cr_assert_str_eq(policy_kind_name(POLICY_KIND_NHS_NUMBER), "nhs_number");
    cr_assert_str_eq(policy_kind_name(POLICY_KIND_DATE_OF_BIRTH), "date_of_birth");
    cr_assert_str_eq(policy_kind_name(POLICY_KIND_POSTCODE), "postcode");
    cr_assert_str_eq(policy_kind_name(POLICY_KIND_PHONE), "phone");
    cr_assert_str_eq(policy_kind_name(POLICY_KIND_EMAIL), "email");
    cr_assert_str_eq(policy_kind_name(POLICY_KIND_ADDRESS), "address");
    cr_assert_str_eq(policy_kind_name((enum policy_kind)99), "unknown");
}

/* ---------------------------------------------------------------- register names */

Test(policy, register_names_are_found_in_any_case_on_word_boundaries)
{
    policy_register_t *reg = policy_register_new();
    cr_assert_eq(policy_register_add(reg, "Ysolde Varnham-Pike"), 0);
    EXPECT(reg, "Met ysolde VARNHAM and her brother.",
           { POLICY_KIND_REGISTER_NAME, "ysolde VARNHAM" });
    EXPECT(reg, "Pike attended; Ysoldes and Varnhamite are other words.",
           { POLICY_KIND_REGISTER_NAME, "Pike" });
    EXPECT_CLEAN(reg, "Varnhamshire and ysoldey are not register words.");
    EXPECT_CLEAN(NULL, "Met ysolde varnham.");
    policy_register_destroy(&reg);
    cr_assert_null(reg);
    policy_register_destroy(NULL);
}

Test(policy, register_names_with_apostrophes_match_joined_or_alone)
{
    policy_register_t *reg = policy_register_new();
    cr_assert_eq(policy_register_add(reg, "Siobhan O'Neill"), 0);
    EXPECT(reg, "Met o'neill; Neill's bag.", { POLICY_KIND_REGISTER_NAME, "o'neill" },
           { POLICY_KIND_REGISTER_NAME, "Neill" });
    EXPECT(reg, "Typed O\xe2\x80\x99Neill today.",
           { POLICY_KIND_REGISTER_NAME, "O\xe2\x80\x99Neill" });
    policy_register_destroy(&reg);
}

Test(policy, register_ignores_initials_and_rejects_empty_names)
{
    policy_register_t *reg = policy_register_new();
    cr_assert_eq(policy_register_add(reg, "J"), TACNET_EINVAL);
    cr_assert_eq(policy_register_add(reg, "--"), TACNET_EINVAL);
    cr_assert_eq(policy_register_add(NULL, "Ysolde"), TACNET_EINVAL);
    cr_assert_eq(policy_register_add(reg, "K Thornbury"), 0);
    EXPECT(reg, "K was seen; Thornbury too.", { POLICY_KIND_REGISTER_NAME, "Thornbury" });
    policy_register_destroy(&reg);
}

/* ---------------------------------------------------------------- likely names */

Test(policy, given_name_followed_by_capitalised_word_is_a_name)
{
    EXPECT(NULL, "Talia Quillfeather attended with her aunt.",
           { POLICY_KIND_NAME, "Talia Quillfeather" });
    EXPECT(NULL, "Seen with Talia Zorvath-Brennick today.",
           { POLICY_KIND_NAME, "Talia Zorvath-Brennick" });
    /* A hyphen before a lower-case word is not part of a name. */
    EXPECT(NULL, "Talia Quillfeather-led group met.", { POLICY_KIND_NAME, "Talia Quillfeather" });
}

Test(policy, capitalised_given_name_alone_is_a_name)
{
    EXPECT(NULL, "The session with Oren went well.", { POLICY_KIND_NAME, "Oren" });
    EXPECT(NULL, "Rosalind said she sleeps badly.", { POLICY_KIND_NAME, "Rosalind" });
}

Test(policy, title_and_capitalised_word_is_a_name)
{
    EXPECT(NULL, "Spoke to Mrs Zephyrine about sleep.", { POLICY_KIND_NAME, "Mrs Zephyrine" });
    EXPECT(NULL, "Letter from Dr. Quillfeather Okafor.",
           { POLICY_KIND_NAME, "Dr. Quillfeather Okafor" });
    EXPECT_CLEAN(NULL, "Miss School was mentioned; Dr appointment booked.");
}

Test(policy, allowlisted_given_name_needs_a_surname)
{
    EXPECT(NULL, "Grace Okafor phoned the team.", { POLICY_KIND_NAME, "Grace Okafor" });
    EXPECT_CLEAN(NULL, "Will Young people attend? Mark Day on the calendar. May Monday work?");
    EXPECT_CLEAN(NULL, "Grace period ends in June; we will mark progress.");
}

Test(policy, cues_possessives_lists_and_register_order_find_names)
{
    EXPECT(NULL, "Mum (Grace) said so.", { POLICY_KIND_NAME, "Grace" });
    EXPECT(NULL, "Met with Oren Brennick today.", { POLICY_KIND_NAME, "Oren Brennick" });
    EXPECT(NULL, "Checked Oren's bedroom.", { POLICY_KIND_NAME, "Oren" });
    EXPECT(NULL, "BRENNICK, Oren - seen.", { POLICY_KIND_NAME, "BRENNICK, Oren" });
    EXPECT(NULL, "Form says TALIA BRENNICK; CAMHS SDQ done.",
           { POLICY_KIND_NAME, "TALIA BRENNICK" });
    EXPECT(NULL, "Seen: Oren O'Brennick and Anne-Talia.", { POLICY_KIND_NAME, "Oren O'Brennick" },
           { POLICY_KIND_NAME, "Anne-Talia" });
    /* Cue words without a name after them are ordinary text. */
    EXPECT_CLEAN(NULL, "Mum and Dad attended; seen by School; spoke to Mum.");
}

Test(policy, diacritics_match_in_either_normal_form)
{
    /* "Orén" precomposed (NFC) and decomposed (NFD) both meet "oren" in the gazetteer. */
    EXPECT(NULL, "Or\xc3\xa9n came.", { POLICY_KIND_NAME, "Or\xc3\xa9n" });
    EXPECT(NULL, "Ore\xcc\x81n came.", { POLICY_KIND_NAME, "Ore\xcc\x81n" });
    EXPECT(NULL, "\xc5\x81ukasz Brennick came.", { POLICY_KIND_NAME, "\xc5\x81ukasz Brennick" });
}

Test(policy, saints_in_place_names_are_not_names)
{
    EXPECT_CLEAN(NULL, "Attends St Oren's Primary; seen at St. Talia's and Saint Marisol's.");
    EXPECT(NULL, "Last Oren's visit.", { POLICY_KIND_NAME, "Oren" });
}

Test(policy, acronyms_are_not_names_and_lowercase_needs_a_surname_or_a_cue)
{
    EXPECT_CLEAN(NULL, "talia is lowercase; TALIA and CAMHS are capitals.");
    EXPECT(NULL, "talia quillfeather is lowercase.", { POLICY_KIND_NAME, "talia quillfeather" });
    EXPECT(NULL, "spoke to mum talia about it.", { POLICY_KIND_NAME, "talia" });
}

/* ---------------------------------------------------------------- NHS numbers */

Test(policy, nhs_number_with_valid_check_digit_is_found)
{
    EXPECT(NULL, "NHS no 9434765919 noted.", { POLICY_KIND_NHS_NUMBER, "9434765919" });
    EXPECT(NULL, "NHS: 401 023 2137.", { POLICY_KIND_NHS_NUMBER, "401 023 2137" });
    EXPECT(NULL, "NHS 654-123-8790", { POLICY_KIND_NHS_NUMBER, "654-123-8790" });
}

Test(policy, nhs_number_with_invalid_check_digit_is_not_flagged)
{
    EXPECT_CLEAN(NULL, "Reference 9434765918 and 485 777 3456 only.");
    /* A longer number is not an NHS number either. */
    EXPECT_CLEAN(NULL, "Batch 94347659190, lot 943.476.5918.");
}

Test(policy, nhs_number_with_any_separators_is_found)
{
    EXPECT(NULL, "NHS 943.476.5919 on file", { POLICY_KIND_NHS_NUMBER, "943.476.5919" });
    EXPECT(NULL, "NHS 943 4765 919.", { POLICY_KIND_NHS_NUMBER, "943 4765 919" });
    EXPECT(NULL, "no. 9 4 3 4 7 6 5 9 1 9", { POLICY_KIND_NHS_NUMBER, "9 4 3 4 7 6 5 9 1 9" });
    EXPECT(NULL, "lot 943 476-5919 22 May", { POLICY_KIND_NHS_NUMBER, "943 476-5919" });
    /* A run starting 0 that reads as a UK phone number is a phone number. */
    EXPECT(NULL, "Call 0300 123 1237", { POLICY_KIND_PHONE, "0300 123 1237" });
}

/* ---------------------------------------------------------------- dates of birth */

Test(policy, dates_near_a_birth_cue_are_found)
{
    EXPECT(NULL, "DOB: 12/03/2015, lives with mother.",
           { POLICY_KIND_DATE_OF_BIRTH, "12/03/2015" });
    EXPECT(NULL, "She was born on 12 March 2015 at home.",
           { POLICY_KIND_DATE_OF_BIRTH, "12 March 2015" });
    EXPECT(NULL, "Date of birth 2015-03-12.", { POLICY_KIND_DATE_OF_BIRTH, "2015-03-12" });
    EXPECT(NULL, "d.o.b 1.3.15", { POLICY_KIND_DATE_OF_BIRTH, "1.3.15" });
    EXPECT(NULL, "b. March 4, 2016", { POLICY_KIND_DATE_OF_BIRTH, "March 4, 2016" });
    EXPECT(NULL, "Seen 3rd of Feb 2016 (DOB).", { POLICY_KIND_DATE_OF_BIRTH, "3rd of Feb 2016" });
    EXPECT(NULL, "Her birthday: 7 Sept 2014", { POLICY_KIND_DATE_OF_BIRTH, "7 Sept 2014" });
}

Test(policy, meeting_dates_without_a_birth_cue_are_not_flagged)
{
    EXPECT_CLEAN(NULL, "Review on 12/03/2026, next 2026-04-09, then 9 May 2026.");
    /* A cue too far away does not make a date a date of birth. */
    EXPECT_CLEAN(NULL, "Newborn checks discussed at length with family; review 12/03/2026.");
    EXPECT_CLEAN(NULL, "Born in the spring. Birthday in March.");
}

/* ---------------------------------------------------------------- postcodes */

Test(policy, uk_postcodes_are_found_with_or_without_space)
{
    EXPECT(NULL, "Lives near SW1A 1AA now.", { POLICY_KIND_POSTCODE, "SW1A 1AA" });
    EXPECT(NULL, "moved to m1 1ae.", { POLICY_KIND_POSTCODE, "m1 1ae" });
    EXPECT(NULL, "Address LS61AE (flat).", { POLICY_KIND_POSTCODE, "LS61AE" });
    EXPECT(NULL, "B33 8TH", { POLICY_KIND_POSTCODE, "B33 8TH" });
}

Test(policy, girobank_postcode_is_found)
{
    EXPECT(NULL, "Sent to GIR 0AA and gir0aa.", { POLICY_KIND_POSTCODE, "GIR 0AA" },
           { POLICY_KIND_POSTCODE, "gir0aa" });
}

Test(policy, postcode_lookalikes_are_not_flagged)
{
    EXPECT_CLEAN(NULL, "Y11 2nd term; SDQ 12; PHQ9 score 14; Year 7 QA1 1CI.");
}

/* ---------------------------------------------------------------- phones */

Test(policy, uk_phone_numbers_are_found)
{
    EXPECT(NULL, "Call 07700 900123 after 4.", { POLICY_KIND_PHONE, "07700 900123" });
    EXPECT(NULL, "Office 0161 496 0000.", { POLICY_KIND_PHONE, "0161 496 0000" });
    EXPECT(NULL, "Tel (01632) 960001", { POLICY_KIND_PHONE, "(01632) 960001" });
    EXPECT(NULL, "mobile +44 7700 900123", { POLICY_KIND_PHONE, "+44 7700 900123" });
    EXPECT(NULL, "or +44 (0)161 496 0000;", { POLICY_KIND_PHONE, "+44 (0)161 496 0000" });
    EXPECT(NULL, "fax 020-7946-0000", { POLICY_KIND_PHONE, "020-7946-0000" });
    EXPECT(NULL, "or 07700.900.123.", { POLICY_KIND_PHONE, "07700.900.123" });
}

Test(policy, short_or_foreign_numbers_are_not_phones)
{
    EXPECT_CLEAN(NULL, "Score 0 of 10; ref 0770 090; +33 1 23 45 67 89; 0800 123.");
}

/* ---------------------------------------------------------------- email */

Test(policy, email_addresses_are_found)
{
    EXPECT(NULL, "Write to t.brennick+camhs@example.org.uk.",
           { POLICY_KIND_EMAIL, "t.brennick+camhs@example.org.uk" });
    EXPECT_CLEAN(NULL, "Not emails: @handle, a@b, name@host, x@y.1");
}

Test(policy, obfuscated_email_addresses_are_found)
{
    EXPECT(NULL, "Email oren at gmail dot com now", { POLICY_KIND_EMAIL, "oren at gmail dot com" });
    EXPECT(NULL, "x: t.b [at] mail [dot] org", { POLICY_KIND_EMAIL, "t.b [at] mail [dot] org" });
    EXPECT(NULL, "x: tb(at)mail(dot)co(dot)uk.", { POLICY_KIND_EMAIL, "tb(at)mail(dot)co(dot)uk" });
    EXPECT(NULL, "x: tb AT mail DOT com", { POLICY_KIND_EMAIL, "tb AT mail DOT com" });
    EXPECT(NULL, "x: tb at mail.org.uk", { POLICY_KIND_EMAIL, "tb at mail.org.uk" });
    EXPECT(NULL, "x: tb @ mail.org.uk", { POLICY_KIND_EMAIL, "tb @ mail.org.uk" });
    /* Prose with "at" and "dot" is not an address: the last label must be a known domain. */
    EXPECT_CLEAN(NULL, "Arrived at school dot on time; met at 10.30 and at home.Then left.");
}

/* ---------------------------------------------------------------- addresses */

Test(policy, house_number_and_street_word_is_an_address)
{
    EXPECT(NULL, "Lives at 12 Acacia Road now.", { POLICY_KIND_ADDRESS, "12 Acacia Road" });
    EXPECT(NULL, "Moved to 14b Old Mill Lane.", { POLICY_KIND_ADDRESS, "14b Old Mill Lane" });
    EXPECT(NULL, "At 27, station close.", { POLICY_KIND_ADDRESS, "27, station close" });
    EXPECT(NULL, "Now in Flat 3 and then Apartment 12b.", { POLICY_KIND_ADDRESS, "Flat 3" },
           { POLICY_KIND_ADDRESS, "Apartment 12b" });
}

Test(policy, house_number_and_name_before_a_postcode_is_an_address)
{
    EXPECT(NULL, "At 14 Linden, M1 1AE.", { POLICY_KIND_ADDRESS, "14 Linden" },
           { POLICY_KIND_POSTCODE, "M1 1AE" });
    EXPECT(NULL, "3 Old Forge LS6 1AE", { POLICY_KIND_ADDRESS, "3 Old Forge" },
           { POLICY_KIND_POSTCODE, "LS6 1AE" });
    EXPECT(NULL, "Lives near SW1A 1AA now.", { POLICY_KIND_POSTCODE, "SW1A 1AA" });
}

Test(policy, numbers_before_ordinary_words_are_not_addresses)
{
    EXPECT_CLEAN(NULL, "Has 2 close friends; a 20 minute drive; walked 3 miles up the hill; "
                       "Room 12; Year 7 Way forward; Road safety for 30 pupils.");
}

/* ---------------------------------------------------------------- whole texts */

Test(policy, clean_clinical_text_is_left_alone)
{
    EXPECT_CLEAN(NULL, "Child presents with low mood; CAMHS to offer CAPA choice appointment "
                       "on 12/03/2026; Down syndrome screening normal.");
}

Test(policy, clean_clinical_text_passes_the_shipped_gazetteer)
{
    const char *src = getenv("TACNET_SRC");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/deploy/gazetteer", src ? src : ".");
    int err = 0;
    policy_t *real = policy_new(dir, &err);
    cr_assert_not_null(real, "loading %s: %s", dir, tacnet_strerror(err));
    static const char *const clean[] = {
        "Child presents with low mood; CAMHS to offer CAPA choice appointment on 12/03/2026; "
        "Down syndrome screening normal.",
        "In school, May and June were difficult. Will attend the review on Monday.",
        "Mother reports improved sleep. Plan: Early Help assessment, GP to review in August.",
        "Query Asperger traits; Tourette and Crohn ruled out. Next meeting 9 May 2026.",
        "So far so good. Hope to close the case at the Team Around the Family meeting.",
        "Amber rating agreed. Jack the car wheel up first. Ruby Street clinic on Monday.",
        "Great Ormond Street referral accepted; Mum's shifts change to days.",
    };
    policy_finding_t f[8];
    size_t n;
    for (size_t i = 0; i < sizeof(clean) / sizeof(clean[0]); i++) {
        int rc = policy_text_check(real, NULL, clean[i], strlen(clean[i]), f, 8, &n);
        cr_assert_eq(rc, 0, "text %zu: %zu findings, first %s at %u", i, n,
                     n ? policy_kind_name(f[0].kind) : "-", n ? f[0].start : 0);
    }
    const char *named = "Seen with Talia Brennick; Oliver attended too.";
    cr_assert_eq(policy_text_check(real, NULL, named, strlen(named), f, 8, &n), TACNET_ETEXT);
    cr_assert_eq(n, 2);
    cr_assert_eq(f[0].start, 10);
    cr_assert_eq(f[0].end, 24);
    cr_assert_eq(f[1].start, 26);
    cr_assert_eq(f[1].end, 32);
    /* The last part of a double-barrelled surname is in the span even when the lists know it
     * as an everyday word ("brisk"), so the dashboard highlights the whole name. */
    static const struct {
        const char *text;
        uint32_t start, end;
    } barrelled[] = {
        { "Zorvath Quellan-Brisk attended.", 0, 21 },
        { "Spoke to Mrs Quellan-Brisk today.", 9, 26 },
        { "Seen with Talia Zorvath-Brennick today.", 10, 32 },
    };
    for (size_t i = 0; i < sizeof(barrelled) / sizeof(barrelled[0]); i++) {
        const char *t = barrelled[i].text;
        cr_assert_eq(policy_text_check(real, NULL, t, strlen(t), f, 8, &n), TACNET_ETEXT, "%s", t);
        cr_assert_eq(n, 1, "%s: %zu findings", t, n);
        cr_assert_eq(f[0].start, barrelled[i].start, "%s: start %u", t, f[0].start);
        cr_assert_eq(f[0].end, barrelled[i].end, "%s: end %u", t, f[0].end);
    }
    policy_destroy(&real);
}

Test(policy, every_finding_is_reported_in_order_even_past_capacity)
{
    policy_register_t *reg = policy_register_new();
    cr_assert_eq(policy_register_add(reg, "Ysolde Varnham"), 0);
    const char *text = "Ysolde (DOB 01/02/2016) at M1 1AE, 07700 900123, NHS 9434765919, "
                       "ysolde@example.org; Mrs Zephyrine.";
    policy_finding_t f[3];
    size_t n = 0;
    int rc = policy_text_check(s_pol, reg, text, strlen(text), f, 3, &n);
    cr_assert_eq(rc, TACNET_ETEXT);
    cr_assert_eq(n, 8);
    cr_assert_eq(f[0].kind, POLICY_KIND_REGISTER_NAME);
    cr_assert_eq(f[1].kind, POLICY_KIND_DATE_OF_BIRTH);
    cr_assert_eq(f[2].kind, POLICY_KIND_POSTCODE);
    EXPECT(reg, text, { POLICY_KIND_REGISTER_NAME, "Ysolde" },
           { POLICY_KIND_DATE_OF_BIRTH, "01/02/2016" }, { POLICY_KIND_POSTCODE, "M1 1AE" },
           { POLICY_KIND_PHONE, "07700 900123" }, { POLICY_KIND_NHS_NUMBER, "9434765919" },
           { POLICY_KIND_REGISTER_NAME, "ysolde" }, { POLICY_KIND_EMAIL, "ysolde@example.org" },
           { POLICY_KIND_NAME, "Mrs Zephyrine" });
    policy_register_destroy(&reg);
}

Test(policy, bad_arguments_are_rejected)
{
    size_t n;
    policy_finding_t f[1];
    cr_assert_eq(policy_text_check(NULL, NULL, "x", 1, f, 1, &n), TACNET_EINVAL);
    cr_assert_eq(policy_text_check(s_pol, NULL, NULL, 1, f, 1, &n), TACNET_EINVAL);
    cr_assert_eq(policy_text_check(s_pol, NULL, "x", 1, NULL, 1, &n), TACNET_EINVAL);
    cr_assert_eq(policy_text_check(s_pol, NULL, "x", 1, f, 1, NULL), TACNET_EINVAL);
    cr_assert_eq(policy_text_check(s_pol, NULL, NULL, 0, NULL, 0, &n), 0);
    cr_assert_eq(n, 0);
}

/* ---------------------------------------------------------------- tacnet policy check */

static char *s_run_stream(const char *input, const policy_register_t *reg)
{
    FILE *in = fmemopen((void *)input, strlen(input), "r");
    cr_assert_not_null(in);
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buf, &size);
    cr_assert_not_null(out);
    cr_assert_eq(cli_policy_check_stream(in, out, s_pol, reg), 0);
    fclose(in);
    fclose(out);
    return buf;
}

Test(policy, check_stream_answers_each_line_with_json)
{
    char *got = s_run_stream("Low mood, CAMHS review.\nCall Oren on 07700 900123\r\n\n", NULL);
    cr_assert_str_eq(got, "{\"ok\": true, \"findings\": []}\n"
                          "{\"ok\": false, \"findings\": [{\"kind\": \"name\", \"start\": 5, "
                          "\"end\": 9}, {\"kind\": \"phone\", \"start\": 13, \"end\": 25}]}\n"
                          "{\"ok\": true, \"findings\": []}\n");
    free(got);
}

Test(policy, check_stream_reports_more_findings_than_its_first_buffer)
{
    char line[2048] = "";
    for (int i = 0; i < 40; i++)
        strcat(line, "Oren, ");
    strcat(line, "\n");
    char *got = s_run_stream(line, NULL);
    size_t count = 0;
    for (const char *p = got; (p = strstr(p, "\"kind\": \"name\"")) != NULL; p++)
        count++;
    cr_assert_eq(count, 40);
    cr_assert(strstr(got, "\"start\": 234, \"end\": 238}]}\n") != NULL, "got %s", got);
    free(got);
}

Test(policy, register_file_is_loaded_and_used_by_the_check)
{
    s_write("register.txt", "# case LA7-2026-000123\nYsolde Varnham\n\n  Corvin Alstrade\n");
    char path[128];
    snprintf(path, sizeof(path), "%s/register.txt", s_dir);
    policy_register_t *reg = NULL;
    cr_assert_eq(cli_policy_register_load(path, &reg), 0);
    cr_assert_not_null(reg);
    char *got = s_run_stream("Corvin phoned about varnham.\n", reg);
    cr_assert_str_eq(got, "{\"ok\": false, \"findings\": [{\"kind\": \"register_name\", "
                          "\"start\": 0, \"end\": 6}, {\"kind\": \"register_name\", "
                          "\"start\": 20, \"end\": 27}]}\n");
    free(got);
    policy_register_destroy(&reg);
}

Test(policy, bad_register_files_are_refused)
{
    policy_register_t *reg = (policy_register_t *)1;
    char path[128];
    snprintf(path, sizeof(path), "%s/register.txt", s_dir);
    cr_assert_eq(cli_policy_register_load(path, &reg), TACNET_ENOTFOUND);
    cr_assert_null(reg);
    s_write("register.txt", "Ysolde Varnham\nJ\n");
    cr_assert_eq(cli_policy_register_load(path, &reg), TACNET_ECONFIG);
    cr_assert_null(reg);
    cr_assert_eq(cli_policy_register_load(NULL, &reg), TACNET_EINVAL);
}
