#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "casework/capa.h"
#include "casework/intake.h"
#include "casework/kin.h"
#include "casework/profile.h"
#include "err.h"
#include "wire.h"

/* ---- helpers ---- */

static char *s_src_path(const char *rel)
{
    const char *src = getenv("TACNET_SRC");
    if (!src)
        src = ".";
    size_t n = strlen(src) + strlen(rel) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", src, rel);
    return p;
}

/* Import an example or test file with PROFILE; returns the intake's return code. */
static int s_import(const agency_profile_t *profile, const char *rel, intake_result_t *out)
{
    char *path = s_src_path(rel);
    int rc = profile->intake(path, out);
    free(path);
    return rc;
}

/* Write TEXT to a file in a fresh temp dir, import it with PROFILE, remove both. */
static int s_import_text(const agency_profile_t *profile, const char *text, intake_result_t *out)
{
    char dir[] = "/tmp/tacnet-intake-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/in.csv", dir);
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp);
    fputs(text, fp);
    fclose(fp);
    int rc = profile->intake(path, out);
    unlink(path);
    rmdir(dir);
    return rc;
}

static void s_assert_case(const Tacnet__PublishRequest *req, const char *case_ref,
                          const char *initials)
{
    cr_assert_eq(req->case_ref.len, strlen(case_ref));
    cr_assert(memcmp(req->case_ref.data, case_ref, req->case_ref.len) == 0);
    cr_assert_eq(req->initials.len, strlen(initials));
    cr_assert(memcmp(req->initials.data, initials, req->initials.len) == 0);
}

/* The error lines must be exactly LINES, in order. */
static void s_assert_error_lines(const intake_result_t *r, const unsigned *lines, size_t n)
{
    for (size_t i = 0; i < r->n_errors && i < n; i++)
        cr_expect_eq(r->errors[i].line, lines[i], "error %zu: line %u (%s), expected line %u", i,
                     r->errors[i].line, r->errors[i].message, lines[i]);
    cr_assert_eq(r->n_errors, n, "%zu errors, expected %zu (first: line %u %s)", r->n_errors, n,
                 r->n_errors ? r->errors[0].line : 0, r->n_errors ? r->errors[0].message : "");
}

static bool s_has_error(const intake_result_t *r, unsigned line, const char *needle)
{
    for (size_t i = 0; i < r->n_errors; i++)
        if (r->errors[i].line == line && strstr(r->errors[i].message, needle))
            return true;
    return false;
}

/* A packed-and-unpacked copy must equal the original: the tree is well formed. */
static void s_assert_packs(const Tacnet__PublishRequest *req)
{
    size_t len = tacnet__publish_request__get_packed_size(req);
    uint8_t *buf = malloc(len);
    cr_assert_eq(tacnet__publish_request__pack(req, buf), len);
    Tacnet__PublishRequest *back = tacnet__publish_request__unpack(NULL, len, buf);
    cr_assert_not_null(back);
    cr_assert_eq(back->kind, req->kind);
    cr_assert_eq(back->body->event_case, req->body->event_case);
    tacnet__publish_request__free_unpacked(back, NULL);
    free(buf);
}

/* ---- pure checks ---- */

Test(intake, case_ref_pattern)
{
    cr_assert(intake_case_ref_valid("LA7-2026-000123"));
    cr_assert(intake_case_ref_valid("AB-2000-000001"));
    cr_assert(intake_case_ref_valid("ABCDE-2099-999999"));
    cr_assert_not(intake_case_ref_valid("A-2026-000123"));      /* area too short */
    cr_assert_not(intake_case_ref_valid("ABCDEF-2026-000123")); /* area too long */
    cr_assert_not(intake_case_ref_valid("7LA-2026-000123"));    /* starts with a digit */
    cr_assert_not(intake_case_ref_valid("la7-2026-000123"));
    cr_assert_not(intake_case_ref_valid("LA7-1999-000123"));
    cr_assert_not(intake_case_ref_valid("LA7-2026-00012"));
    cr_assert_not(intake_case_ref_valid("LA7-2026-0001234"));
    cr_assert_not(intake_case_ref_valid("LA7-2026-000123 "));
    cr_assert_not(intake_case_ref_valid(""));
}

Test(intake, initials_pattern)
{
    cr_assert(intake_initials_valid("JS"));
    cr_assert(intake_initials_valid("ABCD"));
    cr_assert_not(intake_initials_valid("J"));
    cr_assert_not(intake_initials_valid("ABCDE"));
    cr_assert_not(intake_initials_valid("Js"));
    cr_assert_not(intake_initials_valid("J.S"));
    cr_assert_not(intake_initials_valid(""));
}

Test(intake, dates_are_real_calendar_dates)
{
    uint32_t d = 0;
    cr_assert_eq(intake_date_parse("2026-11-22", &d), 0);
    cr_assert_eq(d, 20261122u);
    cr_assert_eq(intake_date_parse("2028-02-29", &d), 0); /* leap year */
    cr_assert_eq(d, 20280229u);
    cr_assert_eq(intake_date_parse("2000-02-29", &d), 0); /* divisible by 400 */
    cr_assert_eq(intake_date_parse("2026-02-29", &d), TACNET_EINVAL);
    cr_assert_eq(intake_date_parse("2026-04-31", &d), TACNET_EINVAL);
    cr_assert_eq(intake_date_parse("2026-13-01", &d), TACNET_EINVAL);
    cr_assert_eq(intake_date_parse("2026-00-10", &d), TACNET_EINVAL);
    cr_assert_eq(intake_date_parse("2026-01-00", &d), TACNET_EINVAL);
    cr_assert_eq(intake_date_parse("1999-12-31", &d), TACNET_EINVAL);
    cr_assert_eq(intake_date_parse("22/11/2026", &d), TACNET_EINVAL);
    cr_assert_eq(intake_date_parse("2026-1-22", &d), TACNET_EINVAL);
    cr_assert_eq(d, 20000229u, "a refused date leaves the output alone");
}

Test(intake, utf8_check_refuses_overlong_and_surrogates)
{
    cr_assert(intake_utf8_valid("caf\xc3\xa9", 5));
    cr_assert(intake_utf8_valid("\xe2\x82\xac", 3));
    cr_assert_not(intake_utf8_valid("\xc0\xaf", 2));     /* overlong '/' */
    cr_assert_not(intake_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    cr_assert_not(intake_utf8_valid("\xe2\x82", 2));     /* truncated */
    cr_assert_not(intake_utf8_valid("\xff", 1));
}

/* ---- CSV reader ---- */

#define ROWS_MAX 16
typedef struct collected {
    size_t n;
    unsigned line[ROWS_MAX];
    char *a[ROWS_MAX], *b[ROWS_MAX], *c[ROWS_MAX];
} collected_t;

static void s_collect(intake_row_t *row, void *arg)
{
    collected_t *col = arg;
    cr_assert_lt(col->n, ROWS_MAX);
    col->line[col->n] = row->line;
    col->a[col->n] = strdup(row->fields[0]);
    col->b[col->n] = strdup(row->fields[1]);
    col->c[col->n] = strdup(row->fields[2]);
    col->n++;
}

static void s_collected_free(collected_t *col)
{
    for (size_t i = 0; i < col->n; i++) {
        free(col->a[i]);
        free(col->b[i]);
        free(col->c[i]);
    }
}

static const char *const s_abc[] = { "a", "b", "c" };
static const intake_format_t s_abc_format = { "test", s_abc, 3, s_collect };

static int s_parse(const char *text, collected_t *col, intake_result_t *out)
{
    memset(col, 0, sizeof(*col));
    return intake_csv_parse(text, strlen(text), &s_abc_format, 1, col, out);
}

Test(intake, csv_quoting_follows_rfc_4180)
{
    collected_t col;
    intake_result_t r;
    const char *text = "a,b,c\r\n"
                       "\"x, y\",\"say \"\"hi\"\"\",plain\r\n"
                       "\"two\r\nlines\",\"\",  padded  \r\n"
                       "\"\"\"\",\"a\"\"\",\" kept \"\n";
    cr_assert_eq(s_parse(text, &col, &r), 0);
    cr_assert_eq(col.n, 3);
    cr_assert_str_eq(col.a[0], "x, y");
    cr_assert_str_eq(col.b[0], "say \"hi\"");
    cr_assert_str_eq(col.c[0], "plain");
    cr_assert_str_eq(col.a[1], "two\nlines", "CRLF inside quotes becomes LF");
    cr_assert_str_eq(col.b[1], "");
    cr_assert_str_eq(col.c[1], "padded", "unquoted fields are trimmed");
    cr_assert_str_eq(col.a[2], "\"");
    cr_assert_str_eq(col.b[2], "a\"");
    cr_assert_str_eq(col.c[2], " kept ", "quoted fields keep their spaces");
    cr_assert_eq(col.line[0], 2);
    cr_assert_eq(col.line[1], 3);
    cr_assert_eq(col.line[2], 5, "a quoted line break counts as a line");
    s_collected_free(&col);
    intake_result_clear(&r);
}

Test(intake, csv_skips_bom_blank_comment_and_empty_rows)
{
    collected_t col;
    intake_result_t r;
    const char *text = "\xEF\xBB\xBF# export of 2026-11-22, \"quoted\" comment\n"
                       "\n"
                       "C,B,A\n" /* header names in any order and case */
                       ",,\n"
                       "# another comment\n"
                       "1,2,3";
    cr_assert_eq(s_parse(text, &col, &r), 0);
    cr_assert_eq(r.n_errors, 0);
    cr_assert_eq(col.n, 1);
    cr_assert_eq(col.line[0], 6);
    cr_assert_str_eq(col.a[0], "3", "fields map to columns by header name");
    cr_assert_str_eq(col.c[0], "1");
    s_collected_free(&col);
    intake_result_clear(&r);
}

Test(intake, csv_header_must_name_every_column_once)
{
    collected_t col;
    intake_result_t r;
    cr_assert_eq(s_parse("# c\na,b,b,d\n1,2,3,4\n", &col, &r), TACNET_EIMPORT);
    cr_assert_eq(col.n, 0, "no row is read under a bad header");
    cr_assert(s_has_error(&r, 2, "column b appears twice"));
    cr_assert(s_has_error(&r, 2, "\"d\" is not a test column"));
    cr_assert(s_has_error(&r, 2, "column c is missing"));
    cr_assert_eq(r.n_errors, 3);
    intake_result_clear(&r);

    cr_assert_eq(s_parse("# only a comment\n", &col, &r), TACNET_EIMPORT);
    cr_assert(s_has_error(&r, 1, "no header row"));
    intake_result_clear(&r);
}

Test(intake, csv_structural_errors_carry_line_numbers)
{
    collected_t col;
    intake_result_t r;
    const char *text = "a,b,c\n"
                       "1,2\n"         /* 2: too few */
                       "1,\"2\"x,3\n"  /* 3: text after closing quote */
                       "1,2\"2,3\n"    /* 4: stray quote */
                       "1,2,3\n"       /* 5: fine */
                       "1,2,3,4\n"     /* 6: too many */
                       "1,\"open,3\n"; /* 7: never closed */
    cr_assert_eq(s_parse(text, &col, &r), TACNET_EIMPORT);
    const unsigned lines[] = { 2, 3, 4, 6, 7 };
    s_assert_error_lines(&r, lines, 5);
    cr_assert(s_has_error(&r, 2, "has 2 fields; the header has 3"));
    cr_assert(s_has_error(&r, 7, "never closed"));
    cr_assert_eq(r.n_requests, 0);
    s_collected_free(&col);
    intake_result_clear(&r);
}

Test(intake, csv_refuses_nul_bytes)
{
    collected_t col;
    intake_result_t r;
    memset(&col, 0, sizeof(col));
    const char text[] = "a,b,c\n1,2,3\n4,\0,6\n";
    cr_assert_eq(intake_csv_parse(text, sizeof(text) - 1, &s_abc_format, 1, &col, &r),
                 TACNET_EIMPORT);
    cr_assert(s_has_error(&r, 3, "NUL"));
    cr_assert_eq(col.n, 0);
    intake_result_clear(&r);
}

Test(intake, missing_file_is_not_found)
{
    intake_result_t r;
    cr_assert_eq(school_profile.intake("/nonexistent/tacnet/intake.csv", &r), TACNET_ENOTFOUND);
    cr_assert_eq(r.n_errors, 0);
    cr_assert_eq(r.n_requests, 0);
    intake_result_clear(&r);
}

/* ---- profiles ---- */

Test(intake, profiles_describe_their_agency)
{
    const agency_profile_t *all[] = { &camhs_profile, &school_profile, &health_visiting_profile,
                                      &social_care_profile };
    const uint32_t agencies[] = { TACNET__AGENCY__CAMHS, TACNET__AGENCY__SCHOOL,
                                  TACNET__AGENCY__HEALTH_VISITING, TACNET__AGENCY__SOCIAL_CARE };
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(all[i]->agency, agencies[i]);
        cr_assert_gt(all[i]->n_kinds, 0);
        cr_assert_gt(all[i]->review_days, 0);
        cr_assert_not_null(all[i]->intake);
        for (size_t k = 0; k < all[i]->n_kinds; k++) {
            cr_assert_lt(all[i]->kinds[k], 40, "%s claims a broker kind", all[i]->name);
            uint32_t s = all[i]->default_sensitivity(all[i]->kinds[k]);
            cr_assert(s >= TACNET__SENSITIVITY__ROUTINE && s <= TACNET__SENSITIVITY__SAFEGUARDING);
        }
    }
    cr_assert_eq(camhs_profile.default_sensitivity(TACNET__EVENT_KIND__ASSESSMENT),
                 TACNET__SENSITIVITY__HEALTH);
    cr_assert_eq(camhs_profile.default_sensitivity(TACNET__EVENT_KIND__CONCERN),
                 TACNET__SENSITIVITY__SAFEGUARDING);
    cr_assert_eq(school_profile.default_sensitivity(TACNET__EVENT_KIND__MEMBER_JOINED),
                 TACNET__SENSITIVITY__ROUTINE);
    cr_assert_eq(social_care_profile.default_sensitivity(TACNET__EVENT_KIND__CARE_PLAN),
                 TACNET__SENSITIVITY__SAFEGUARDING);
    cr_assert_eq(health_visiting_profile.default_sensitivity(TACNET__EVENT_KIND__ASSESSMENT),
                 TACNET__SENSITIVITY__HEALTH);
}

/* ---- school ---- */

Test(intake, school_attendance_example_raises_concerns_below_90_percent)
{
    intake_result_t r;
    cr_assert_eq(s_import(&school_profile, "deploy/examples/school-attendance.csv", &r), 0);
    cr_assert_eq(r.n_errors, 0);
    /* 120/150 = 80.0%, 134/150 = 89.3%, 60/150 = 40.0%; 135/150 is exactly 90%. */
    cr_assert_eq(r.n_requests, 3);
    const char *refs[] = { "LA7-2026-000102", "LA7-2026-000104", "LA7-2026-000105" };
    const char *initials[] = { "AB", "TR", "LW" };
    const uint32_t permille[] = { 800, 893, 400 };
    for (size_t i = 0; i < 3; i++) {
        Tacnet__PublishRequest *req = r.requests[i];
        s_assert_case(req, refs[i], initials[i]);
        cr_assert_eq(req->kind, TACNET__EVENT_KIND__CONCERN);
        cr_assert(req->has_sensitivity);
        cr_assert_eq(req->sensitivity, TACNET__SENSITIVITY__ROUTINE);
        cr_assert_eq(req->body->event_case, TACNET__BODY__EVENT_CONCERN);
        Tacnet__Concern *c = req->body->concern;
        cr_assert_eq(c->category, TACNET__CONCERN_CATEGORY__ATTENDANCE);
        cr_assert(c->has_attendance_permille);
        cr_assert_eq(c->attendance_permille, permille[i]);
        cr_assert_eq(c->observed_date, 20261127u);
        cr_assert_not_null(c->summary);
        s_assert_packs(req);
    }
    cr_assert_not_null(strstr(r.requests[2]->body->concern->summary, "Severe"));
    cr_assert_not_null(strstr(r.requests[0]->body->concern->summary, "80.0%"));
    intake_result_clear(&r);
    cr_assert_eq(r.n_requests, 0);
    cr_assert_null(r.requests);
}

static int s_attendance(uint32_t possible, uint32_t attended, intake_result_t *r)
{
    char text[256];
    snprintf(text, sizeof(text),
             "case_ref,initials,period_start,period_end,sessions_possible,sessions_attended\n"
             "LA7-2026-000150,QX,2026-01-05,2026-03-27,%u,%u\n",
             possible, attended);
    return s_import_text(&school_profile, text, r);
}

Test(intake, attendance_of_exactly_90_percent_is_not_a_concern)
{
    intake_result_t r;
    cr_assert_eq(s_attendance(1000, 900, &r), 0);
    cr_assert_eq(r.n_requests, 0);
    intake_result_clear(&r);
    cr_assert_eq(s_attendance(190, 171, &r), 0);
    cr_assert_eq(r.n_requests, 0);
    intake_result_clear(&r);
}

Test(intake, attendance_of_89_9_percent_is_a_concern)
{
    intake_result_t r;
    cr_assert_eq(s_attendance(1000, 899, &r), 0);
    cr_assert_eq(r.n_requests, 1);
    cr_assert_eq(r.requests[0]->body->concern->attendance_permille, 899);
    cr_assert_not_null(strstr(r.requests[0]->body->concern->summary, "89.9%"));
    intake_result_clear(&r);
    /* 170/190 = 89.47%: rounded down, never shown as 90. */
    cr_assert_eq(s_attendance(190, 170, &r), 0);
    cr_assert_eq(r.n_requests, 1);
    cr_assert_eq(r.requests[0]->body->concern->attendance_permille, 894);
    intake_result_clear(&r);
}

Test(intake, school_attendance_malformed_rows_are_refused_by_line)
{
    intake_result_t r;
    cr_assert_eq(s_import(&school_profile, "tests/data/intake/school-attendance-bad.csv", &r),
                 TACNET_EIMPORT);
    const unsigned lines[] = { 4, 5, 6, 6, 7, 8, 8 };
    s_assert_error_lines(&r, lines, 7);
    cr_assert_eq(r.n_requests, 0, "nothing half-imported");
    cr_assert_null(r.requests);
    cr_assert(s_has_error(&r, 4, "sessions_attended \"31x\" is not a number"));
    cr_assert(s_has_error(&r, 5, "case_ref does not match"));
    cr_assert(s_has_error(&r, 6, "initials must be 2 to 4 capital letters"));
    cr_assert(s_has_error(&r, 6, "period_start \"2026-02-30\" is not a date"));
    cr_assert(s_has_error(&r, 7, "has 5 fields; the header has 6"));
    cr_assert(s_has_error(&r, 8, "period_end is before period_start"));
    cr_assert(s_has_error(&r, 8, "sessions_attended is more than sessions_possible"));
    cr_assert_eq(r.errors[1].code, TACNET_ECASEREF);
    cr_assert_eq(r.errors[2].code, TACNET_EINITIALS);
    for (size_t i = 0; i < r.n_errors; i++)
        cr_assert_null(strstr(r.errors[i].message, "LA7-"), "case refs are not echoed");
    intake_result_clear(&r);
}

Test(intake, school_concern_form_example_imports)
{
    intake_result_t r;
    cr_assert_eq(s_import(&school_profile, "deploy/examples/school-concerns.csv", &r), 0);
    cr_assert_eq(r.n_requests, 3);
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(r.requests[i]->kind, TACNET__EVENT_KIND__CONCERN);
        cr_assert_eq(r.requests[i]->sensitivity, TACNET__SENSITIVITY__SAFEGUARDING);
        cr_assert_not(r.requests[i]->body->concern->has_attendance_permille);
        s_assert_packs(r.requests[i]);
    }
    Tacnet__Concern *c = r.requests[1]->body->concern;
    s_assert_case(r.requests[1], "LA7-2026-000107", "RK");
    cr_assert_eq(c->category, TACNET__CONCERN_CATEGORY__SELF_HARM);
    cr_assert(c->immediate_risk);
    cr_assert(r.requests[1]->has_urgent && r.requests[1]->urgent);
    cr_assert_eq(c->observed_date, 20261110u);
    cr_assert_not_null(strstr(c->summary, "night, \"because nothing else helps\". Seen"),
                       "quoted comma and doubled quotes survive: %s", c->summary);
    cr_assert_eq(r.requests[0]->body->concern->category, TACNET__CONCERN_CATEGORY__NEGLECT);
    cr_assert_not(r.requests[0]->body->concern->immediate_risk);
    cr_assert_not(r.requests[0]->has_urgent);
    cr_assert_eq(r.requests[2]->body->concern->category,
                 TACNET__CONCERN_CATEGORY__EMOTIONAL_WELLBEING);
    intake_result_clear(&r);
}

Test(intake, school_concern_form_malformed_rows_are_refused_by_line)
{
    intake_result_t r;
    cr_assert_eq(s_import(&school_profile, "tests/data/intake/school-concerns-bad.csv", &r),
                 TACNET_EIMPORT);
    const unsigned lines[] = { 3, 4, 5, 6 };
    s_assert_error_lines(&r, lines, 4);
    cr_assert(s_has_error(&r, 3, "category \"negelct\" is not one of: attendance, neglect"));
    cr_assert_eq(r.errors[0].code, TACNET_EENUM);
    cr_assert(s_has_error(&r, 4, "immediate_risk \"maybe\" is not one of: no, yes"));
    cr_assert(s_has_error(&r, 5, "summary is empty"));
    cr_assert(s_has_error(&r, 6, "never closed"));
    cr_assert_eq(r.n_requests, 0);
    intake_result_clear(&r);
}

Test(intake, school_file_matching_no_format_is_refused)
{
    intake_result_t r;
    cr_assert_eq(s_import_text(&school_profile,
                               "case_ref,initials,period_start,period_end,sessions_possible\n"
                               "LA7-2026-000150,QX,2026-01-05,2026-03-27,100\n",
                               &r),
                 TACNET_EIMPORT);
    cr_assert_eq(r.n_errors, 1);
    cr_assert(s_has_error(&r, 1, "column sessions_attended is missing"));
    intake_result_clear(&r);
}

/* ---- CAMHS ---- */

Test(intake, camhs_capa_example_imports)
{
    intake_result_t r;
    cr_assert_eq(s_import(&camhs_profile, "deploy/examples/camhs-capa.csv", &r), 0);
    const uint32_t kinds[] = {
        TACNET__EVENT_KIND__ASSESSMENT,      TACNET__EVENT_KIND__CARE_PLAN,
        TACNET__EVENT_KIND__OUTCOME_MEASURE, TACNET__EVENT_KIND__OUTCOME_MEASURE,
        TACNET__EVENT_KIND__OUTCOME_MEASURE, TACNET__EVENT_KIND__ASSESSMENT,
        TACNET__EVENT_KIND__CARE_PLAN,       TACNET__EVENT_KIND__OUTCOME_MEASURE,
    };
    cr_assert_eq(r.n_requests, 8);
    for (size_t i = 0; i < 8; i++) {
        cr_assert_eq(r.requests[i]->kind, kinds[i], "request %zu", i);
        cr_assert_eq(r.requests[i]->sensitivity, TACNET__SENSITIVITY__HEALTH);
        s_assert_packs(r.requests[i]);
    }
    /* Choice: assessment, plan with three goals, baseline GBO. */
    Tacnet__Assessment *a = r.requests[0]->body->assessment;
    s_assert_case(r.requests[0], "LA7-2026-000107", "RK");
    cr_assert_eq(a->type, TACNET__ASSESSMENT_TYPE__CAPA_CHOICE);
    cr_assert_eq(a->level_of_need, 3);
    cr_assert_eq(r.requests[0]->level_of_need, 3);
    cr_assert_eq(a->completed_date, 20261120u);
    cr_assert_str_eq(a->summary, "Low mood and self-harm; wants help managing urges.");
    Tacnet__CarePlan *p = r.requests[1]->body->care_plan;
    cr_assert_eq(p->type, TACNET__PLAN_TYPE__CAPA_PARTNERSHIP);
    cr_assert_eq(p->n_goals, 3);
    cr_assert_eq(p->goals[2]->goal_id, 3);
    cr_assert_str_eq(p->goals[0]->description, "Go a week without hurting myself");
    cr_assert_eq(p->review_interval_days, 28);
    cr_assert_eq(p->start_date, 20261120u);
    /* The CAMHS record holds no views: both are to be sought within two weeks. */
    cr_assert_eq(p->child_view_absent->reason, TACNET__VIEW_ABSENCE__NOT_YET_ASKED);
    cr_assert_eq(p->child_view_absent->ask_by_date, 20261204u);
    cr_assert_eq(p->family_view_absent->reason, TACNET__VIEW_ABSENCE__NOT_YET_ASKED);
    Tacnet__OutcomeMeasure *m = r.requests[2]->body->outcome_measure;
    cr_assert_eq(m->tool, TACNET__MEASURE_TOOL__GBO);
    cr_assert(m->baseline);
    cr_assert_eq(m->informant, TACNET__INFORMANT__SELF_REPORT);
    cr_assert_eq(m->n_values, 3);
    cr_assert_eq(m->values[0], 2);
    cr_assert_eq(m->values[2], 1);
    /* Partnership: scores moving up. */
    m = r.requests[4]->body->outcome_measure;
    cr_assert_not(m->baseline);
    cr_assert_eq(m->measured_date, 20261203u);
    cr_assert_eq(m->values[0], 5);
    cr_assert_eq(m->goal_ids[2], 3);
    /* Second young person: two goals, no baseline, the profile's review cadence. */
    p = r.requests[6]->body->care_plan;
    cr_assert_eq(p->n_goals, 2);
    cr_assert_eq(p->review_interval_days, camhs_profile.review_days);
    m = r.requests[7]->body->outcome_measure;
    s_assert_case(r.requests[7], "LA7-2026-000108", "SP");
    cr_assert_eq(m->n_values, 2);
    cr_assert_eq(m->goal_ids[1], 2);
    cr_assert_eq(m->values[1], 2);
    cr_assert_eq(m->informant, TACNET__INFORMANT__PARENT_REPORT);
    intake_result_clear(&r);
}

Test(intake, camhs_capa_malformed_rows_are_refused_by_line)
{
    intake_result_t r;
    cr_assert_eq(s_import(&camhs_profile, "tests/data/intake/camhs-capa-bad.csv", &r),
                 TACNET_EIMPORT);
    const unsigned lines[] = { 3, 4, 5, 6, 6, 7, 8, 8, 8 };
    s_assert_error_lines(&r, lines, 9);
    cr_assert(s_has_error(&r, 3, "score_1 11 is not between 0 and 10"));
    cr_assert(s_has_error(&r, 4, "score_1..score_3 are empty"));
    cr_assert(s_has_error(&r, 5, "goal_1 is empty"));
    cr_assert(s_has_error(&r, 6, "goal_1 does not apply to partnership appointments"));
    cr_assert(s_has_error(&r, 6, "informant is empty"));
    cr_assert(s_has_error(&r, 7, "appointment \"review\" is not one of: choice, partnership"));
    cr_assert(s_has_error(&r, 8, "level_of_need 5 is not between 1 and 4"));
    cr_assert(s_has_error(&r, 8, "score_2 scores a goal that goal_2 does not set"));
    cr_assert_eq(r.n_requests, 0);
    intake_result_clear(&r);
}

Test(intake, camhs_capa_choice_record_and_workers_come_with_the_choice_row)
{
    intake_result_t r;
    cr_assert_eq(s_import(&camhs_profile, "deploy/examples/camhs-capa.csv", &r), 0);
    cr_assert_eq(r.n_requests, 8, "the same events as the layout without the record");
    const Tacnet__CapaChoice *c = r.requests[0]->body->assessment->capa_choice;
    cr_assert_not_null(c);
    cr_assert(c->has_chosen);
    cr_assert_eq(c->chosen, TACNET__CAPA_CHOSEN__CHOSEN_PARTNERSHIP);
    cr_assert_eq(c->n_alternatives, 3);
    cr_assert_str_eq(c->alternatives[1], "School counsellor");
    cr_assert_not_null(c->curious);
    cr_assert_not_null(c->honest_opinion);
    cr_assert_not_null(c->joint_formulation);
    cr_assert_str_eq(c->engagement,
                     "Mood diary each evening until the first partnership appointment");
    const Tacnet__CarePlan *p = r.requests[1]->body->care_plan;
    cr_assert_not_null(p->core_worker);
    cr_assert_eq(p->core_worker->initials.len, 2);
    cr_assert_eq(memcmp(p->core_worker->initials.data, "MN", 2), 0);
    cr_assert_str_eq(p->core_worker->role, "CAMHS practitioner");
    cr_assert_null(p->core_worker->brings);
    cr_assert_eq(p->n_specific_workers, 1);
    cr_assert_eq(memcmp(p->specific_workers[0]->initials.data, "JS", 2), 0);
    cr_assert_str_eq(p->specific_workers[0]->role, "Family therapist");
    cr_assert_str_eq(p->specific_workers[0]->brings, "Family sessions at home on evenings");
    /* What the intake builds passes the rules the daemon applies to any publish. */
    char why[256];
    for (size_t i = 0; i < 2; i++)
        cr_assert_eq(capa_check(r.requests[i]->kind, r.requests[i]->body, why, sizeof(why)), 0,
                     "%s", why);
    /* The record is optional on a row: the second young person's choice has none. */
    cr_assert_null(r.requests[5]->body->assessment->capa_choice);
    cr_assert_null(r.requests[6]->body->care_plan->core_worker);
    cr_assert_eq(r.requests[6]->body->care_plan->n_specific_workers, 0);
    for (size_t i = 0; i < r.n_requests; i++)
        s_assert_packs(r.requests[i]);
    intake_result_clear(&r);
    /* The layout without the new columns still imports, as it did. */
    cr_assert_eq(s_import(&camhs_profile, "tests/data/intake/camhs-capa-plain.csv", &r), 0);
    cr_assert_eq(r.n_requests, 8);
    cr_assert_null(r.requests[0]->body->assessment->capa_choice);
    cr_assert_null(r.requests[1]->body->care_plan->core_worker);
    intake_result_clear(&r);
}

Test(intake, camhs_capa_choice_record_and_workers_malformed_are_refused_by_line_and_column)
{
    intake_result_t r;
    cr_assert_eq(s_import(&camhs_profile, "tests/data/intake/camhs-capa-choice-bad.csv", &r),
                 TACNET_EIMPORT);
    const unsigned lines[] = { 3, 3, 4, 5, 6, 7, 8, 9, 10 };
    s_assert_error_lines(&r, lines, 9);
    cr_assert(s_has_error(&r, 3, "joint_formulation is empty (a Choice record says"));
    cr_assert(s_has_error(&r, 3, "chosen is empty (a Choice record says what the family chose"));
    cr_assert(s_has_error(&r, 4, "alternatives is empty (a choice of other_service lists"));
    cr_assert(s_has_error(&r, 5, "chosen \"maybe\" is not one of: partnership, other_service"));
    cr_assert(s_has_error(&r, 6, "core_worker: the initials are not 2-4 capital letters"));
    cr_assert(s_has_error(&r, 7, "specific_workers needs core_worker"));
    cr_assert(s_has_error(&r, 8, "specific_workers item 2 is not INITIALS:role:what they bring"));
    cr_assert(s_has_error(&r, 9, "chosen does not apply to partnership appointments"));
    cr_assert(s_has_error(&r, 10, "core_worker is not INITIALS:role"));
    for (size_t i = 0; i < r.n_errors; i++)
        cr_assert_null(strstr(r.errors[i].message, "apart"), "free text quoted: %s",
                       r.errors[i].message);
    cr_assert_eq(r.n_requests, 0);
    intake_result_clear(&r);
}

/* ---- health visiting ---- */

Test(intake, health_visiting_example_imports)
{
    intake_result_t r;
    cr_assert_eq(s_import(&health_visiting_profile, "deploy/examples/hv-contacts.csv", &r), 0);
    cr_assert_eq(r.n_requests, 5);
    const uint32_t types[] = {
        TACNET__ASSESSMENT_TYPE__PROMOTIONAL_INTERVIEW,
        TACNET__ASSESSMENT_TYPE__PROMOTIONAL_INTERVIEW,
        TACNET__ASSESSMENT_TYPE__PROMOTIONAL_INTERVIEW,
        TACNET__ASSESSMENT_TYPE__DEVELOPMENTAL_REVIEW,
        TACNET__ASSESSMENT_TYPE__DEVELOPMENTAL_REVIEW,
    };
    const uint32_t levels[] = { 2, 2, 1, 3, 4 };
    for (size_t i = 0; i < 5; i++) {
        Tacnet__PublishRequest *req = r.requests[i];
        cr_assert_eq(req->kind, TACNET__EVENT_KIND__ASSESSMENT);
        cr_assert_eq(req->body->assessment->type, types[i], "row %zu", i);
        cr_assert_eq(req->body->assessment->level_of_need, levels[i]);
        cr_assert(req->has_level_of_need);
        cr_assert_eq(req->level_of_need, levels[i]);
        s_assert_packs(req);
    }
    Tacnet__Assessment *a = r.requests[0]->body->assessment;
    s_assert_case(r.requests[0], "LA7-2026-000110", "MO");
    cr_assert_eq(a->completed_date, 20260312u);
    cr_assert_eq(a->n_needs, 2);
    cr_assert_str_eq(a->needs[1], "Housing worries");
    cr_assert_eq(a->n_strengths, 2);
    cr_assert_str_eq(a->strengths[0], "Partner supportive");
    cr_assert_eq(r.requests[2]->body->assessment->n_needs, 0);
    /* The universal contacts say which they are, and carry the birth date when given. */
    cr_assert_eq(a->hv_contact, TACNET__HV_CONTACT__HV_ANTENATAL);
    cr_assert_eq(a->birth_date, 20260514u);
    cr_assert_eq(r.requests[1]->body->assessment->hv_contact, TACNET__HV_CONTACT__HV_NEW_BIRTH);
    cr_assert_eq(r.requests[2]->body->assessment->hv_contact,
                 TACNET__HV_CONTACT__HV_SIX_TO_EIGHT_WEEK);
    cr_assert_eq(r.requests[2]->body->assessment->birth_date, 20260508u);
    /* The reviews are universal contacts too: recorded, they clear their due items. */
    cr_assert_eq(r.requests[3]->body->assessment->hv_contact, TACNET__HV_CONTACT__HV_ONE_YEAR);
    cr_assert_eq(r.requests[4]->body->assessment->hv_contact, TACNET__HV_CONTACT__HV_TWO_YEAR);
    cr_assert_not(r.requests[3]->body->assessment->has_birth_date);
    cr_assert_eq(r.requests[0]->sensitivity, TACNET__SENSITIVITY__HEALTH);
    cr_assert_eq(r.requests[4]->sensitivity, TACNET__SENSITIVITY__SAFEGUARDING,
                 "level 4 is safeguarding information");
    intake_result_clear(&r);
}

Test(intake, health_visiting_malformed_rows_are_refused_by_line)
{
    intake_result_t r;
    cr_assert_eq(s_import(&health_visiting_profile, "tests/data/intake/hv-contacts-bad.csv", &r),
                 TACNET_EIMPORT);
    const unsigned lines[] = { 4, 5, 6, 7, 8 };
    s_assert_error_lines(&r, lines, 5);
    cr_assert(s_has_error(&r, 4, "level_of_need 0 is not between 1 and 4"));
    cr_assert(s_has_error(&r, 5, "contact \"18_month\" is not one of: antenatal"));
    cr_assert(s_has_error(&r, 6, "date \"14/08/2026\" is not a date"));
    cr_assert(s_has_error(&r, 7, "needs has an empty item"));
    cr_assert(s_has_error(&r, 8, "field 2 has text after its closing quote"));
    cr_assert_eq(r.n_requests, 0);
    intake_result_clear(&r);
}

/* ---- social care ---- */

Test(intake, social_care_example_imports)
{
    intake_result_t r;
    cr_assert_eq(s_import(&social_care_profile, "deploy/examples/social-care-records.csv", &r), 0);
    const uint32_t kinds[] = {
        TACNET__EVENT_KIND__CONCERN,   TACNET__EVENT_KIND__REFERRAL, TACNET__EVENT_KIND__ASSESSMENT,
        TACNET__EVENT_KIND__CARE_PLAN, TACNET__EVENT_KIND__CONCERN,  TACNET__EVENT_KIND__ASSESSMENT,
        TACNET__EVENT_KIND__CARE_PLAN,
    };
    cr_assert_eq(r.n_requests, 7);
    for (size_t i = 0; i < 7; i++) {
        cr_assert_eq(r.requests[i]->kind, kinds[i], "request %zu", i);
        cr_assert_eq(r.requests[i]->sensitivity, TACNET__SENSITIVITY__SAFEGUARDING);
        s_assert_packs(r.requests[i]);
    }
    Tacnet__Referral *ref = r.requests[1]->body->referral;
    cr_assert_eq(ref->to_agency, TACNET__AGENCY__CAMHS);
    cr_assert_eq(ref->category, TACNET__CONCERN_CATEGORY__EMOTIONAL_WELLBEING);
    cr_assert(ref->family_aware && ref->consent_obtained);
    cr_assert_eq(ref->referred_date, 20261106u);

    Tacnet__Assessment *a = r.requests[2]->body->assessment;
    cr_assert_eq(a->type, TACNET__ASSESSMENT_TYPE__CHILD_AND_FAMILY);
    cr_assert_eq(a->level_of_need, 3);
    cr_assert_eq(r.requests[2]->level_of_need, 3);
    cr_assert_eq(a->n_needs, 2);
    cr_assert_not(r.requests[2]->has_lawful_basis);

    Tacnet__CarePlan *p = r.requests[3]->body->care_plan;
    cr_assert_eq(p->type, TACNET__PLAN_TYPE__CHILD_IN_NEED);
    cr_assert_eq(p->review_interval_days, 42);
    cr_assert_eq(p->family_view_absent->reason, TACNET__VIEW_ABSENCE__NOT_YET_ASKED);
    cr_assert_eq(p->family_view_absent->ask_by_date, 20261215u);
    cr_assert_eq(p->n_goals, 2);
    cr_assert_str_eq(p->goals[1]->description, "Warm, clean home");

    cr_assert(r.requests[4]->urgent);
    cr_assert(r.requests[4]->body->concern->immediate_risk);
    cr_assert_eq(r.requests[4]->body->concern->category, TACNET__CONCERN_CATEGORY__PHYSICAL_HARM);

    a = r.requests[5]->body->assessment;
    cr_assert_eq(a->type, TACNET__ASSESSMENT_TYPE__SECTION_47);
    cr_assert_eq(r.requests[5]->level_of_need, 4);
    cr_assert_eq(r.requests[5]->lawful_basis, TACNET__LAWFUL_BASIS__LEGAL_DUTY);

    p = r.requests[6]->body->care_plan;
    s_assert_case(r.requests[6], "LA7-2026-000112", "PH");
    cr_assert_eq(p->type, TACNET__PLAN_TYPE__CHILD_PROTECTION);
    cr_assert_eq(p->review_interval_days, 0, "the plan type's own default");
    cr_assert_eq(p->start_date, 20261023u);
    cr_assert_eq(r.requests[6]->lawful_basis, TACNET__LAWFUL_BASIS__LEGAL_DUTY);
    intake_result_clear(&r);
}

Test(intake, social_care_malformed_rows_are_refused_by_line)
{
    intake_result_t r;
    cr_assert_eq(
        s_import(&social_care_profile, "tests/data/intake/social-care-records-bad.csv", &r),
        TACNET_EIMPORT);
    const unsigned lines[] = { 3, 4, 5, 6, 7, 7, 8, 9, 9 };
    s_assert_error_lines(&r, lines, 9);
    cr_assert(s_has_error(&r, 3, "category is empty"));
    cr_assert(s_has_error(&r, 4, "refer_to \"police\" is not one of"));
    cr_assert(s_has_error(&r, 5, "level_of_need 5 is not between 1 and 4"));
    cr_assert(s_has_error(&r, 6, "assessment is empty"));
    cr_assert(s_has_error(&r, 7, "level_of_need does not apply to cin_plan rows"));
    cr_assert(s_has_error(&r, 7, "goals has more than 3 items"));
    cr_assert(s_has_error(&r, 8, "review_days 400 is not between 1 and 365"));
    cr_assert(s_has_error(&r, 9, "family_aware is empty"));
    cr_assert(s_has_error(&r, 9, "consent_obtained is empty"));
    cr_assert_eq(r.n_requests, 0);
    intake_result_clear(&r);
}

Test(intake, each_profile_originates_only_its_own_kinds)
{
    cr_assert(agency_profile_originates(&camhs_profile, TACNET__EVENT_KIND__OUTCOME_MEASURE));
    cr_assert_not(
        agency_profile_originates(&health_visiting_profile, TACNET__EVENT_KIND__OUTCOME_MEASURE));
    cr_assert(agency_profile_originates(&health_visiting_profile, TACNET__EVENT_KIND__ASSESSMENT));
    cr_assert_not(agency_profile_originates(&school_profile, TACNET__EVENT_KIND__ESCALATION_NOTICE),
                  "broker notices belong to no agency");
    for (size_t i = 0; i < AGENCY_KINDS_ALL_N; i++)
        cr_assert(agency_kinds_all[i] != 0, "agency_kinds_all has an unfilled slot at %zu", i);
}

/* ------------------------------------------------------------------ the family's names */

static const char *const s_case_cols[] = { "case_ref", "note" };
static void s_ignore(intake_row_t *row, void *arg)
{
    (void)row;
    (void)arg;
}
static const intake_format_t s_case_format = { "cased", s_case_cols, 2, s_ignore };

static int s_names_parse(const char *text, intake_result_t *out)
{
    return intake_csv_parse(text, strlen(text), &s_case_format, 1, NULL, out);
}

/* The names of case REF in R, joined by "|" into OUT ("" when none). */
static void s_names_of(const intake_result_t *r, const char *ref, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < r->n_names; i++) {
        if (strcmp(r->names[i].case_ref, ref) != 0)
            continue;
        for (size_t k = 0; k < r->names[i].n; k++) {
            strncat(out, k ? "|" : "", cap - strlen(out) - 1);
            strncat(out, r->names[i].names[k], cap - strlen(out) - 1);
        }
    }
}

Test(intake, name_columns_are_optional_and_gather_the_names_per_case)
{
    intake_result_t r;
    char got[256];
    cr_assert_eq(s_names_parse("case_ref,note\nLA7-2026-000001,x\n", &r), 0);
    cr_assert_eq(r.n_names, 0);
    intake_result_clear(&r);
    cr_assert_eq(s_names_parse("case_ref,note,child_names,parent_carer_names,sibling_names\n"
                               "LA7-2026-000001,x,Amara Okafor,Chidi Okafor; Ngozi Okafor,\n"
                               "LA7-2026-000002,y,,,\n"
                               "LA7-2026-000001,z,Amara Okafor,,Tobi\n",
                               &r),
                 0);
    cr_assert_eq(r.n_names, 1, "a row naming nobody adds no case");
    s_names_of(&r, "LA7-2026-000001", got, sizeof(got));
    cr_assert_str_eq(got, "child:Amara Okafor|Chidi Okafor|Ngozi Okafor|sibling:Tobi",
                     "the column says who the child and the siblings are");
    intake_result_clear(&r);
    cr_assert_eq(r.n_names, 0);
    cr_assert_null(r.names);
    /* Any subset, any order, any case of the column names. */
    cr_assert_eq(s_names_parse("SIBLING_NAMES,case_ref,note\nSiobhan,LA9-2026-000003,x\n", &r), 0);
    s_names_of(&r, "LA9-2026-000003", got, sizeof(got));
    cr_assert_str_eq(got, "sibling:Siobhan");
    intake_result_clear(&r);
    /* A parent or carer may be given with who they are. */
    cr_assert_eq(s_names_parse("case_ref,note,parent_carer_names\n"
                               "LA7-2026-000004,x,mother:Ngozi Okafor; Father : Chidi Okafor\n",
                               &r),
                 0);
    s_names_of(&r, "LA7-2026-000004", got, sizeof(got));
    cr_assert_str_eq(got, "mother:Ngozi Okafor|Father : Chidi Okafor");
    intake_result_clear(&r);
}

Test(intake, bad_names_fail_the_file_naming_the_column_only)
{
    intake_result_t r;
    char longname[160];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    char text[512];
    snprintf(text, sizeof(text), "case_ref,note,child_names\nLA7-2026-000001,x,%s\n", longname);
    cr_assert_eq(s_names_parse(text, &r), TACNET_EIMPORT);
    cr_assert(s_has_error(&r, 2, "child_names has a name longer than 100 bytes"));
    cr_assert_eq(r.n_names, 0);
    intake_result_clear(&r);
    /* The limit is the name's: a parent's 100-byte name after "grandparent: " is one, 101 is
     * not. */
    longname[100] = '\0';
    snprintf(text, sizeof(text),
             "case_ref,note,parent_carer_names\nLA7-2026-000001,x,"
             "grandparent: %s\n",
             longname);
    cr_assert_eq(s_names_parse(text, &r), 0);
    cr_assert_eq(r.n_names, 1);
    intake_result_clear(&r);
    longname[100] = 'a';
    longname[101] = '\0';
    snprintf(text, sizeof(text),
             "case_ref,note,parent_carer_names\nLA7-2026-000001,x,"
             "grandparent: %s\n",
             longname);
    cr_assert_eq(s_names_parse(text, &r), TACNET_EIMPORT);
    cr_assert(s_has_error(&r, 2, "parent_carer_names has a name longer than 100 bytes"));
    intake_result_clear(&r);
    cr_assert_eq(s_names_parse("case_ref,note,parent_carer_names\nLA7-2026-000001,x,Ann;;Bo\n", &r),
                 TACNET_EIMPORT);
    cr_assert(s_has_error(&r, 2, "parent_carer_names has an empty item"));
    intake_result_clear(&r);
    cr_assert_eq(s_names_parse("case_ref,note,parent_carer_names\n"
                               "LA7-2026-000001,x,Ann;muther:Ann\n",
                               &r),
                 TACNET_EIMPORT);
    cr_assert(s_has_error(&r, 2, "parent_carer_names item 2: the word before ':' is not"));
    cr_assert_eq(r.n_names, 0, "a failed file keeps no names");
    for (size_t i = 0; i < r.n_errors; i++)
        cr_assert_null(strstr(r.errors[i].message, "Ann"), "%s", r.errors[i].message);
    intake_result_clear(&r);
    /* A format without a case reference has nowhere to put names. */
    collected_t col;
    cr_assert_eq(s_parse("a,b,c,child_names\n1,2,3,Ann\n", &col, &r), TACNET_EIMPORT);
    cr_assert(s_has_error(&r, 1, "\"child_names\" is not a test column"));
    s_collected_free(&col);
    intake_result_clear(&r);
}

static bool s_bytes_hold(const uint8_t *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n && i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return true;
    return false;
}

Test(intake, the_school_example_with_names_registers_them_and_requests_carry_none)
{
    intake_result_t r;
    cr_assert_eq(s_import(&school_profile, "deploy/examples/school-concerns.csv", &r), 0);
    cr_assert_geq(r.n_names, 1, "the example names a family");
    for (size_t i = 0; i < r.n_requests; i++) {
        size_t len = 0;
        uint8_t *packed = wire_pack(&r.requests[i]->base, &len);
        for (size_t k = 0; k < r.n_names; k++)
            for (size_t j = 0; j < r.names[k].n; j++) {
                kin_role_t role;
                const char *name;
                cr_assert_eq(kin_parse(r.names[k].names[j], &role, &name), 0);
                cr_assert_not(s_bytes_hold(packed, len, name),
                              "a registered name is in request %zu", i);
            }
        free(packed);
    }
    intake_result_clear(&r);
}
