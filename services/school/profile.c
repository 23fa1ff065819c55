/* school profile: attendance and safeguarding concerns from the school's management system.
 *
 * Two intake formats, told apart by their header (deploy/examples/README.md):
 *   attendance  one row per pupil per period; below 90% attendance (persistent absence, the DfE
 *               threshold) raises an ATTENDANCE concern, 90% or more raises nothing;
 *   concern     the designated safeguarding lead's concern form, one concern per row.
 */
#include <stdio.h>

#include "casework/intake.h"
#include "casework/profile.h"
#include "err.h"

/* Early help plans led by a school are reviewed at team-around-the-family meetings, which are
 * held every six weeks. */
#define SCHOOL_REVIEW_DAYS 42

static uint32_t s_default_sensitivity(uint32_t kind)
{
    switch (kind) {
    /* A school's concerns and challenges are safeguarding matters (its DSL raises them);
     * attendance concerns are marked routine by the intake itself. */
    case TACNET__EVENT_KIND__CONCERN:
    case TACNET__EVENT_KIND__REFERRAL:
    case TACNET__EVENT_KIND__DISAGREEMENT:
    case TACNET__EVENT_KIND__ESCALATION_RESPONSE:
    case TACNET__EVENT_KIND__ESCALATION_RESOLVED:
        return TACNET__SENSITIVITY__SAFEGUARDING;
    case TACNET__EVENT_KIND__OUTCOME_MEASURE: /* a mental-health screen */
        return TACNET__SENSITIVITY__HEALTH;
    default:
        return TACNET__SENSITIVITY__ROUTINE;
    }
}

/* ---- attendance ---- */

enum {
    ATT_CASE_REF,
    ATT_INITIALS,
    ATT_PERIOD_START,
    ATT_PERIOD_END,
    ATT_POSSIBLE,
    ATT_ATTENDED,
    ATT_N
};
static const char *const s_attendance_columns[ATT_N] = {
    "case_ref", "initials", "period_start", "period_end", "sessions_possible", "sessions_attended",
};

/* A school year has about 380 sessions; the cap only catches a mistyped number. */
#define SCHOOL_MAX_SESSIONS 1000

static void s_attendance_row(intake_row_t *row, void *arg)
{
    (void)arg;
    const char *case_ref = NULL, *initials = NULL;
    uint32_t start, end, possible, attended;
    bool ok = intake_row_case_ref(row, ATT_CASE_REF, &case_ref);
    ok &= intake_row_initials(row, ATT_INITIALS, &initials);
    ok &= intake_row_date(row, ATT_PERIOD_START, true, &start);
    ok &= intake_row_date(row, ATT_PERIOD_END, true, &end);
    ok &= intake_row_uint(row, ATT_POSSIBLE, true, 1, SCHOOL_MAX_SESSIONS, &possible, NULL);
    ok &= intake_row_uint(row, ATT_ATTENDED, true, 0, SCHOOL_MAX_SESSIONS, &attended, NULL);
    if (!ok)
        return;
    if (end < start) {
        intake_row_error(row, TACNET_EFIELD, "period_end is before period_start");
        ok = false;
    }
    if (attended > possible) {
        intake_row_error(row, TACNET_EFIELD, "sessions_attended is more than sessions_possible");
        ok = false;
    }
    /* Exact integer comparison: 171 of 190 is exactly 90% and is not persistent absence. */
    if (!ok || (uint64_t)attended * 10 >= (uint64_t)possible * 9)
        return;

    /* Rounded down, so a concern never shows 90.0%. */
    uint32_t permille = (uint32_t)((uint64_t)attended * 1000 / possible);
    char summary[160];
    snprintf(summary, sizeof(summary), "%s absence: attended %u of %u possible sessions (%u.%u%%)",
             (uint64_t)attended * 2 < possible ? "Severe" : "Persistent", attended, possible,
             permille / 10, permille % 10);

    Tacnet__PublishRequest *req = intake_request_new(TACNET__EVENT_KIND__CONCERN, case_ref,
                                                     initials, TACNET__SENSITIVITY__ROUTINE);
    Tacnet__Concern *c = req->body->concern;
    c->has_category = true;
    c->category = TACNET__CONCERN_CATEGORY__ATTENDANCE;
    c->has_attendance_permille = true;
    c->attendance_permille = permille;
    c->has_observed_date = true;
    c->observed_date = end;
    c->has_immediate_risk = true;
    c->immediate_risk = false;
    c->summary = xstrdup(summary);
    intake_result_add(row->result, req);
}

/* ---- safeguarding concern form ---- */

enum {
    CON_CASE_REF,
    CON_INITIALS,
    CON_OBSERVED_DATE,
    CON_CATEGORY,
    CON_IMMEDIATE_RISK,
    CON_SUMMARY,
    CON_N
};
static const char *const s_concern_columns[CON_N] = {
    "case_ref", "initials", "observed_date", "category", "immediate_risk", "summary",
};

static void s_concern_row(intake_row_t *row, void *arg)
{
    (void)arg;
    const char *case_ref = NULL, *initials = NULL, *summary = NULL;
    uint32_t observed, category;
    bool immediate;
    bool ok = intake_row_case_ref(row, CON_CASE_REF, &case_ref);
    ok &= intake_row_initials(row, CON_INITIALS, &initials);
    ok &= intake_row_date(row, CON_OBSERVED_DATE, true, &observed);
    ok &= intake_row_enum(row, CON_CATEGORY, true, intake_concern_categories,
                          intake_n_concern_categories, &category);
    ok &= intake_row_bool(row, CON_IMMEDIATE_RISK, true, &immediate);
    ok &= intake_row_text(row, CON_SUMMARY, true, &summary);
    if (!ok)
        return;

    Tacnet__PublishRequest *req =
        intake_request_new(TACNET__EVENT_KIND__CONCERN, case_ref, initials,
                           s_default_sensitivity(TACNET__EVENT_KIND__CONCERN));
    if (immediate) {
        req->has_urgent = true;
        req->urgent = true;
    }
    Tacnet__Concern *c = req->body->concern;
    c->has_category = true;
    c->category = (Tacnet__ConcernCategory)category;
    c->has_immediate_risk = true;
    c->immediate_risk = immediate;
    c->has_observed_date = true;
    c->observed_date = observed;
    c->summary = xstrdup(summary);
    intake_result_add(row->result, req);
}

static const intake_format_t s_formats[] = {
    { "attendance", s_attendance_columns, ATT_N, s_attendance_row },
    { "concern form", s_concern_columns, CON_N, s_concern_row },
};

static int s_intake(const char *path, intake_result_t *out)
{
    return intake_csv_read(path, s_formats, sizeof(s_formats) / sizeof(s_formats[0]), NULL, out);
}

const agency_profile_t school_profile = {
    .agency = TACNET__AGENCY__SCHOOL,
    .name = "school",
    .title = "School",
    .kinds = agency_kinds_all,
    .n_kinds = AGENCY_KINDS_ALL_N,
    .review_days = SCHOOL_REVIEW_DAYS,
    .default_sensitivity = s_default_sensitivity,
    .intake = s_intake,
};
