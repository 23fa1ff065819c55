/* social care profile: contacts, assessments and plans from the children's social care record.
 *
 * One intake format, one row per record (deploy/examples/README.md):
 *   contact     a contact to the front door: a REFERRAL when it is passed to another agency
 *               (refer_to), otherwise a CONCERN;
 *   assessment  an ASSESSMENT (early help, child and family, or section 47) with its level of
 *               need, which the header carries too so the broker can compare agencies' levels;
 *   cin_plan    a Child in Need CARE_PLAN;  cp_plan  a Child Protection CARE_PLAN.
 * Section 47 enquiries and child protection plans are shared under the statutory duty to
 * cooperate (lawful basis LEGAL_DUTY), not under consent.
 */
#include "casework/intake.h"
#include "casework/profile.h"
#include "err.h"

/* Core groups meet at least every six weeks once a plan is in place. */
#define SOCIAL_CARE_REVIEW_DAYS 42
#define SOCIAL_CARE_MAX_ITEMS   10
#define SOCIAL_CARE_MAX_GOALS   3

static uint32_t s_default_sensitivity(uint32_t kind)
{
    switch (kind) {
    /* A social-care record is safeguarding information by default. */
    case TACNET__EVENT_KIND__REFERRAL:
    case TACNET__EVENT_KIND__CONCERN:
    case TACNET__EVENT_KIND__ASSESSMENT:
    case TACNET__EVENT_KIND__DECISION:
    case TACNET__EVENT_KIND__DISAGREEMENT:
    case TACNET__EVENT_KIND__MEETING_OUTCOME:
    case TACNET__EVENT_KIND__CARE_PLAN:
    case TACNET__EVENT_KIND__CONTACT_LOGGED:
    case TACNET__EVENT_KIND__ESCALATION_RESPONSE:
    case TACNET__EVENT_KIND__ESCALATION_RESOLVED:
        return TACNET__SENSITIVITY__SAFEGUARDING;
    case TACNET__EVENT_KIND__OUTCOME_MEASURE:
        return TACNET__SENSITIVITY__HEALTH;
    default:
        return TACNET__SENSITIVITY__ROUTINE;
    }
}

enum {
    SC_CASE_REF,
    SC_INITIALS,
    SC_RECORD,
    SC_DATE,
    SC_CATEGORY,
    SC_REFER_TO,
    SC_IMMEDIATE_RISK,
    SC_FAMILY_AWARE,
    SC_CONSENT_OBTAINED,
    SC_ASSESSMENT,
    SC_LEVEL_OF_NEED,
    SC_NEEDS,
    SC_STRENGTHS,
    SC_GOALS,
    SC_REVIEW_DAYS,
    SC_SUMMARY,
    SC_N
};
static const char *const s_columns[SC_N] = {
    "case_ref",       "initials",     "record",           "date",       "category",      "refer_to",
    "immediate_risk", "family_aware", "consent_obtained", "assessment", "level_of_need", "needs",
    "strengths",      "goals",        "review_days",      "summary",
};

enum { SC_CONTACT = 1, SC_ASSESSMENT_ROW, SC_CIN_PLAN, SC_CP_PLAN };
static const intake_name_t s_records[] = {
    { "contact", SC_CONTACT },
    { "assessment", SC_ASSESSMENT_ROW },
    { "cin_plan", SC_CIN_PLAN },
    { "cp_plan", SC_CP_PLAN },
};

static const intake_name_t s_agencies[] = {
    { "camhs", TACNET__AGENCY__CAMHS },
    { "school", TACNET__AGENCY__SCHOOL },
    { "health_visiting", TACNET__AGENCY__HEALTH_VISITING },
};

static const intake_name_t s_assessments[] = {
    { "early_help", TACNET__ASSESSMENT_TYPE__EARLY_HELP },
    { "child_and_family", TACNET__ASSESSMENT_TYPE__CHILD_AND_FAMILY },
    { "section_47", TACNET__ASSESSMENT_TYPE__SECTION_47 },
};

#define S_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Refuse values in the columns COLS that do not apply to this record type. */
static bool s_unused(intake_row_t *row, const size_t *cols, size_t n, const char *why)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++)
        ok &= intake_row_unused(row, cols[i], why);
    return ok;
}

static void s_legal_duty(Tacnet__PublishRequest *req)
{
    req->has_lawful_basis = true;
    req->lawful_basis = TACNET__LAWFUL_BASIS__LEGAL_DUTY;
}

static void s_contact(intake_row_t *row, const char *case_ref, const char *initials, uint32_t date)
{
    static const size_t not_contact[] = { SC_ASSESSMENT, SC_LEVEL_OF_NEED, SC_NEEDS,
                                          SC_STRENGTHS,  SC_GOALS,         SC_REVIEW_DAYS };
    const char *summary = NULL;
    uint32_t category, to_agency;
    bool immediate, family_aware, consent;
    bool ok = s_unused(row, not_contact, S_COUNT(not_contact), "contact rows");
    ok &= intake_row_enum(row, SC_CATEGORY, true, intake_concern_categories,
                          intake_n_concern_categories, &category);
    ok &= intake_row_enum(row, SC_REFER_TO, false, s_agencies, S_COUNT(s_agencies), &to_agency);
    ok &= intake_row_bool(row, SC_IMMEDIATE_RISK, false, &immediate);
    ok &= intake_row_text(row, SC_SUMMARY, true, &summary);
    bool referral = intake_row_has(row, SC_REFER_TO);
    if (referral) {
        ok &= intake_row_bool(row, SC_FAMILY_AWARE, true, &family_aware);
        ok &= intake_row_bool(row, SC_CONSENT_OBTAINED, true, &consent);
    } else {
        ok &= intake_row_unused(row, SC_FAMILY_AWARE, "contacts not referred on (no refer_to)");
        ok &= intake_row_unused(row, SC_CONSENT_OBTAINED, "contacts not referred on (no refer_to)");
    }
    if (!ok)
        return;

    Tacnet__PublishRequest *req;
    if (referral) {
        req = intake_request_new(TACNET__EVENT_KIND__REFERRAL, case_ref, initials,
                                 s_default_sensitivity(TACNET__EVENT_KIND__REFERRAL));
        Tacnet__Referral *r = req->body->referral;
        r->has_to_agency = true;
        r->to_agency = (Tacnet__Agency)to_agency;
        r->has_category = true;
        r->category = (Tacnet__ConcernCategory)category;
        r->summary = xstrdup(summary);
        r->has_family_aware = true;
        r->family_aware = family_aware;
        r->has_consent_obtained = true;
        r->consent_obtained = consent;
        r->has_referred_date = true;
        r->referred_date = date;
    } else {
        req = intake_request_new(TACNET__EVENT_KIND__CONCERN, case_ref, initials,
                                 s_default_sensitivity(TACNET__EVENT_KIND__CONCERN));
        Tacnet__Concern *c = req->body->concern;
        c->has_category = true;
        c->category = (Tacnet__ConcernCategory)category;
        c->summary = xstrdup(summary);
        c->has_immediate_risk = true;
        c->immediate_risk = immediate;
        c->has_observed_date = true;
        c->observed_date = date;
    }
    if (immediate) {
        req->has_urgent = true;
        req->urgent = true;
    }
    intake_result_add(row->result, req);
}

static void s_assessment(intake_row_t *row, const char *case_ref, const char *initials,
                         uint32_t date)
{
    static const size_t not_assessment[] = { SC_CATEGORY,         SC_REFER_TO,
                                             SC_IMMEDIATE_RISK,   SC_FAMILY_AWARE,
                                             SC_CONSENT_OBTAINED, SC_GOALS,
                                             SC_REVIEW_DAYS };
    const char *summary = NULL;
    uint32_t type, level;
    char **needs = NULL, **strengths = NULL;
    size_t n_needs = 0, n_strengths = 0;
    bool ok = s_unused(row, not_assessment, S_COUNT(not_assessment), "assessment rows");
    ok &= intake_row_enum(row, SC_ASSESSMENT, true, s_assessments, S_COUNT(s_assessments), &type);
    ok &= intake_row_uint(row, SC_LEVEL_OF_NEED, true, 1, 4, &level, NULL);
    ok &= intake_row_text(row, SC_SUMMARY, false, &summary);
    ok &= intake_row_list(row, SC_NEEDS, SOCIAL_CARE_MAX_ITEMS, &needs, &n_needs);
    ok &= intake_row_list(row, SC_STRENGTHS, SOCIAL_CARE_MAX_ITEMS, &strengths, &n_strengths);
    if (!ok) {
        intake_list_free(needs, n_needs);
        intake_list_free(strengths, n_strengths);
        return;
    }

    Tacnet__PublishRequest *req =
        intake_request_new(TACNET__EVENT_KIND__ASSESSMENT, case_ref, initials,
                           s_default_sensitivity(TACNET__EVENT_KIND__ASSESSMENT));
    if (type == TACNET__ASSESSMENT_TYPE__SECTION_47)
        s_legal_duty(req);
    req->has_level_of_need = true;
    req->level_of_need = level;
    Tacnet__Assessment *a = req->body->assessment;
    a->has_type = true;
    a->type = (Tacnet__AssessmentType)type;
    a->has_level_of_need = true;
    a->level_of_need = level;
    a->has_completed_date = true;
    a->completed_date = date;
    if (summary)
        a->summary = xstrdup(summary);
    a->needs = needs;
    a->n_needs = n_needs;
    a->strengths = strengths;
    a->n_strengths = n_strengths;
    intake_result_add(row->result, req);
}

static void s_plan(intake_row_t *row, const char *case_ref, const char *initials, uint32_t date,
                   Tacnet__PlanType type, const char *what)
{
    static const size_t not_plan[] = {
        SC_CATEGORY,   SC_REFER_TO,      SC_IMMEDIATE_RISK, SC_FAMILY_AWARE, SC_CONSENT_OBTAINED,
        SC_ASSESSMENT, SC_LEVEL_OF_NEED, SC_NEEDS,          SC_STRENGTHS
    };
    const char *summary = NULL;
    uint32_t review_days;
    bool has_review;
    char **goals = NULL;
    size_t n_goals = 0;
    bool ok = s_unused(row, not_plan, S_COUNT(not_plan), what);
    ok &= intake_row_uint(row, SC_REVIEW_DAYS, false, 1, 365, &review_days, &has_review);
    ok &= intake_row_text(row, SC_SUMMARY, false, &summary);
    ok &= intake_row_list(row, SC_GOALS, SOCIAL_CARE_MAX_GOALS, &goals, &n_goals);
    if (!ok) {
        intake_list_free(goals, n_goals);
        return;
    }

    Tacnet__PublishRequest *req =
        intake_request_new(TACNET__EVENT_KIND__CARE_PLAN, case_ref, initials,
                           s_default_sensitivity(TACNET__EVENT_KIND__CARE_PLAN));
    if (type == TACNET__PLAN_TYPE__CHILD_PROTECTION)
        s_legal_duty(req);
    Tacnet__CarePlan *plan = req->body->care_plan;
    plan->has_type = true;
    plan->type = type;
    plan->has_start_date = true;
    plan->start_date = date;
    /* 0 asks for the plan type's own default (core group timing for CP plans). */
    plan->has_review_interval_days = true;
    plan->review_interval_days = has_review ? review_days : 0;
    if (summary)
        plan->summary = xstrdup(summary);
    for (size_t i = 0; i < n_goals; i++)
        intake_plan_add_goal(plan, (uint32_t)i + 1, goals[i], 0);
    intake_plan_views_to_seek(plan, date);
    intake_list_free(goals, n_goals);
    intake_result_add(row->result, req);
}

static void s_row(intake_row_t *row, void *arg)
{
    (void)arg;
    const char *case_ref = NULL, *initials = NULL;
    uint32_t record, date;
    bool ok = intake_row_case_ref(row, SC_CASE_REF, &case_ref);
    ok &= intake_row_initials(row, SC_INITIALS, &initials);
    ok &= intake_row_enum(row, SC_RECORD, true, s_records, S_COUNT(s_records), &record);
    ok &= intake_row_date(row, SC_DATE, true, &date);
    if (!ok)
        return;
    switch (record) {
    case SC_CONTACT:
        s_contact(row, case_ref, initials, date);
        break;
    case SC_ASSESSMENT_ROW:
        s_assessment(row, case_ref, initials, date);
        break;
    case SC_CIN_PLAN:
        s_plan(row, case_ref, initials, date, TACNET__PLAN_TYPE__CHILD_IN_NEED, "cin_plan rows");
        break;
    default:
        s_plan(row, case_ref, initials, date, TACNET__PLAN_TYPE__CHILD_PROTECTION, "cp_plan rows");
        break;
    }
}

static const intake_format_t s_formats[] = {
    { "social-care records", s_columns, SC_N, s_row },
};

static int s_intake(const char *path, intake_result_t *out)
{
    return intake_csv_read(path, s_formats, 1, NULL, out);
}

const agency_profile_t social_care_profile = {
    .agency = TACNET__AGENCY__SOCIAL_CARE,
    .name = "social_care",
    .title = "Social care",
    .kinds = agency_kinds_all,
    .n_kinds = AGENCY_KINDS_ALL_N,
    .review_days = SOCIAL_CARE_REVIEW_DAYS,
    .default_sensitivity = s_default_sensitivity,
    .intake = s_intake,
};
