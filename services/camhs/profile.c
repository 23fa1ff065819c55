/* camhs profile: Choice and Partnership Approach (CAPA) appointments from the CAMHS record.
 *
 * One intake format, one row per appointment (deploy/examples/README.md):
 *   choice       the first (Choice) appointment: an ASSESSMENT (CAPA_CHOICE) and the
 *                partnership CARE_PLAN (CAPA_PARTNERSHIP) with up to three goals; baseline goal
 *                scores, if rated, add a baseline GBO OUTCOME_MEASURE;
 *   partnership  a Partnership appointment: a GBO OUTCOME_MEASURE scoring the goals 0-10.
 * A second layout adds the Choice record's columns and the plan's workers (casework/capa_intake.h) to
 * the same ones: a choice row then carries Assessment.capa_choice and the plan's core and
 * specific workers, and a partnership row leaves them empty.
 */
#include "casework/capa_intake.h"
#include "casework/intake.h"
#include "casework/profile.h"
#include "err.h"

#include <stdlib.h>

/* CAPA reviews are set per plan; six weeks keeps CAMHS in step with the team's review meetings
 * unless a plan says otherwise. */
#define CAMHS_REVIEW_DAYS 42
#define CAMHS_MAX_GOALS   3

static uint32_t s_default_sensitivity(uint32_t kind)
{
    switch (kind) {
    /* Clinical records: shared with health consent, not as routine information. */
    case TACNET__EVENT_KIND__REFERRAL:
    case TACNET__EVENT_KIND__ASSESSMENT:
    case TACNET__EVENT_KIND__DECISION:
    case TACNET__EVENT_KIND__MEETING_OUTCOME:
    case TACNET__EVENT_KIND__CARE_PLAN:
    case TACNET__EVENT_KIND__OUTCOME_MEASURE:
    case TACNET__EVENT_KIND__CONTACT_LOGGED:
        return TACNET__SENSITIVITY__HEALTH;
    case TACNET__EVENT_KIND__CONCERN:
    case TACNET__EVENT_KIND__DISAGREEMENT:
    case TACNET__EVENT_KIND__ESCALATION_RESPONSE:
    case TACNET__EVENT_KIND__ESCALATION_RESOLVED:
        return TACNET__SENSITIVITY__SAFEGUARDING;
    default:
        return TACNET__SENSITIVITY__ROUTINE;
    }
}

enum {
    CAPA_CASE_REF,
    CAPA_INITIALS,
    CAPA_APPOINTMENT,
    CAPA_DATE,
    CAPA_LEVEL_OF_NEED,
    CAPA_SUMMARY,
    CAPA_GOAL_1,
    CAPA_GOAL_2,
    CAPA_GOAL_3,
    CAPA_SCORE_1,
    CAPA_SCORE_2,
    CAPA_SCORE_3,
    CAPA_INFORMANT,
    CAPA_REVIEW_DAYS,
    CAPA_N,
    CAPA_CHOICE_FIRST =
        CAPA_N, /* only in the layout with the Choice record (casework/capa_intake.h) */
    CAPA_N_WITH_CHOICE = CAPA_N + CAPA_INTAKE_N
};
static const char *const s_columns[CAPA_N] = {
    "case_ref", "initials", "appointment", "date",    "level_of_need", "summary",   "goal_1",
    "goal_2",   "goal_3",   "score_1",     "score_2", "score_3",       "informant", "review_days",
};
static const char *const s_columns_choice[CAPA_N_WITH_CHOICE] = {
    "case_ref",
    "initials",
    "appointment",
    "date",
    "level_of_need",
    "summary",
    "goal_1",
    "goal_2",
    "goal_3",
    "score_1",
    "score_2",
    "score_3",
    "informant",
    "review_days",
    "curious",
    "honest_opinion",
    "joint_formulation",
    "alternatives",
    "chosen",
    "engagement",
    "core_worker",
    "specific_workers",
};

enum { CAPA_CHOICE = 1, CAPA_PARTNERSHIP = 2 };
static const intake_name_t s_appointments[] = {
    { "choice", CAPA_CHOICE },
    { "partnership", CAPA_PARTNERSHIP },
};

static const intake_name_t s_informants[] = {
    { "self", TACNET__INFORMANT__SELF_REPORT },
    { "parent", TACNET__INFORMANT__PARENT_REPORT },
    { "teacher", TACNET__INFORMANT__TEACHER_REPORT },
    { "clinician", TACNET__INFORMANT__CLINICIAN },
};

/* The goal scores rated on this row. */
typedef struct s_scores {
    uint32_t values[CAMHS_MAX_GOALS];
    uint32_t goal_ids[CAMHS_MAX_GOALS];
    size_t n;
} s_scores_t;

static bool s_scores_read(intake_row_t *row, s_scores_t *out)
{
    bool ok = true;
    out->n = 0;
    for (uint32_t g = 0; g < CAMHS_MAX_GOALS; g++) {
        uint32_t v;
        bool present;
        ok &= intake_row_uint(row, CAPA_SCORE_1 + g, false, 0, 10, &v, &present);
        if (!present)
            continue;
        out->values[out->n] = v;
        out->goal_ids[out->n] = g + 1;
        out->n++;
    }
    return ok;
}

static Tacnet__PublishRequest *s_gbo_new(const char *case_ref, const char *initials, uint32_t date,
                                         uint32_t informant, bool baseline,
                                         const s_scores_t *scores)
{
    Tacnet__PublishRequest *req =
        intake_request_new(TACNET__EVENT_KIND__OUTCOME_MEASURE, case_ref, initials,
                           s_default_sensitivity(TACNET__EVENT_KIND__OUTCOME_MEASURE));
    Tacnet__OutcomeMeasure *m = req->body->outcome_measure;
    m->has_tool = true;
    m->tool = TACNET__MEASURE_TOOL__GBO;
    m->has_informant = true;
    m->informant = (Tacnet__Informant)informant;
    m->has_measured_date = true;
    m->measured_date = date;
    m->has_baseline = true;
    m->baseline = baseline;
    m->values = xmalloc(scores->n * sizeof(*m->values));
    m->goal_ids = xmalloc(scores->n * sizeof(*m->goal_ids));
    for (size_t i = 0; i < scores->n; i++) {
        m->values[i] = scores->values[i];
        m->goal_ids[i] = scores->goal_ids[i];
    }
    m->n_values = m->n_goal_ids = scores->n;
    return req;
}

static bool s_any_score(const intake_row_t *row)
{
    for (size_t g = 0; g < CAMHS_MAX_GOALS; g++)
        if (intake_row_has(row, CAPA_SCORE_1 + g))
            return true;
    return false;
}

/* Free the workers capa_intake_workers put on scratch plan P (the plan itself is a local). */
static void s_workers_free(Tacnet__CarePlan *p)
{
    if (p->core_worker)
        protobuf_c_message_free_unpacked(&p->core_worker->base, NULL);
    for (size_t i = 0; i < p->n_specific_workers; i++)
        protobuf_c_message_free_unpacked(&p->specific_workers[i]->base, NULL);
    free(p->specific_workers);
}

static void s_choice(intake_row_t *row, const char *case_ref, const char *initials, uint32_t date)
{
    const char *summary = NULL, *goals[CAMHS_MAX_GOALS];
    uint32_t level, review_days, informant;
    bool has_level, has_review;
    bool ok = intake_row_uint(row, CAPA_LEVEL_OF_NEED, false, 1, 4, &level, &has_level);
    ok &= intake_row_text(row, CAPA_SUMMARY, false, &summary);
    ok &= intake_row_uint(row, CAPA_REVIEW_DAYS, false, 1, 365, &review_days, &has_review);
    size_t n_goals = 0;
    for (size_t g = 0; g < CAMHS_MAX_GOALS; g++) {
        ok &= intake_row_text(row, CAPA_GOAL_1 + g, false, &goals[g]);
        if (goals[g])
            n_goals++;
        if (!intake_row_has(row, CAPA_GOAL_1 + g) && intake_row_has(row, CAPA_SCORE_1 + g)) {
            intake_row_error(row, TACNET_EFIELD, "%s scores a goal that goal_%zu does not set",
                             row->columns[CAPA_SCORE_1 + g], g + 1);
            ok = false;
        }
    }
    /* A goal that is present but invalid has its own error already. */
    if (n_goals == 0 && !intake_row_has(row, CAPA_GOAL_1) && !intake_row_has(row, CAPA_GOAL_2) &&
        !intake_row_has(row, CAPA_GOAL_3)) {
        intake_row_error(row, TACNET_EFIELD,
                         "goal_1 is empty (a choice appointment agrees at least one goal)");
        ok = false;
    }
    s_scores_t scores;
    ok &= s_scores_read(row, &scores);
    bool rated = s_any_score(row);
    if (rated)
        ok &= intake_row_enum(row, CAPA_INFORMANT, true, s_informants,
                              sizeof(s_informants) / sizeof(s_informants[0]), &informant);
    else
        ok &= intake_row_unused(row, CAPA_INFORMANT, "rows without scores");
    /* The Choice record and the workers, when the file has their columns; the workers are
     * put on a scratch plan first, so a row that fails allocates nothing that stays. */
    Tacnet__CapaChoice *record = NULL;
    Tacnet__CarePlan workers = TACNET__CARE_PLAN__INIT;
    if (row->n_columns > CAPA_CHOICE_FIRST) {
        ok &= capa_intake_read(row, CAPA_CHOICE_FIRST, &record);
        ok &= capa_intake_workers(row, CAPA_CHOICE_FIRST, &workers);
    }
    if (!ok) {
        if (record)
            protobuf_c_message_free_unpacked(&record->base, NULL);
        s_workers_free(&workers);
        return;
    }

    Tacnet__PublishRequest *req =
        intake_request_new(TACNET__EVENT_KIND__ASSESSMENT, case_ref, initials,
                           s_default_sensitivity(TACNET__EVENT_KIND__ASSESSMENT));
    Tacnet__Assessment *a = req->body->assessment;
    a->has_type = true;
    a->type = TACNET__ASSESSMENT_TYPE__CAPA_CHOICE;
    a->has_completed_date = true;
    a->completed_date = date;
    if (summary)
        a->summary = xstrdup(summary);
    if (has_level) {
        a->has_level_of_need = req->has_level_of_need = true;
        a->level_of_need = req->level_of_need = level;
    }
    a->capa_choice = record;
    intake_result_add(row->result, req);

    req = intake_request_new(TACNET__EVENT_KIND__CARE_PLAN, case_ref, initials,
                             s_default_sensitivity(TACNET__EVENT_KIND__CARE_PLAN));
    Tacnet__CarePlan *plan = req->body->care_plan;
    plan->has_type = true;
    plan->type = TACNET__PLAN_TYPE__CAPA_PARTNERSHIP;
    plan->has_start_date = true;
    plan->start_date = date;
    plan->has_review_interval_days = true;
    plan->review_interval_days = has_review ? review_days : CAMHS_REVIEW_DAYS;
    for (uint32_t g = 0; g < CAMHS_MAX_GOALS; g++)
        if (goals[g])
            intake_plan_add_goal(plan, g + 1, goals[g], 0);
    intake_plan_views_to_seek(plan, date);
    plan->core_worker = workers.core_worker;
    plan->specific_workers = workers.specific_workers;
    plan->n_specific_workers = workers.n_specific_workers;
    intake_result_add(row->result, req);

    if (rated)
        intake_result_add(row->result,
                          s_gbo_new(case_ref, initials, date, informant, true, &scores));
}

static void s_partnership(intake_row_t *row, const char *case_ref, const char *initials,
                          uint32_t date)
{
    static const char *const why = "partnership appointments";
    bool ok = intake_row_unused(row, CAPA_LEVEL_OF_NEED, why);
    ok &= intake_row_unused(row, CAPA_SUMMARY, why);
    ok &= intake_row_unused(row, CAPA_REVIEW_DAYS, why);
    for (size_t g = 0; g < CAMHS_MAX_GOALS; g++)
        ok &= intake_row_unused(row, CAPA_GOAL_1 + g, why);
    for (size_t c = CAPA_CHOICE_FIRST; c < row->n_columns; c++)
        ok &= intake_row_unused(row, c, why);
    if (!s_any_score(row)) {
        intake_row_error(row, TACNET_EMEASURE,
                         "score_1..score_3 are empty (a partnership appointment rates the goals)");
        ok = false;
    }
    uint32_t informant;
    s_scores_t scores;
    ok &= s_scores_read(row, &scores);
    ok &= intake_row_enum(row, CAPA_INFORMANT, true, s_informants,
                          sizeof(s_informants) / sizeof(s_informants[0]), &informant);
    if (!ok)
        return;
    intake_result_add(row->result, s_gbo_new(case_ref, initials, date, informant, false, &scores));
}

static void s_row(intake_row_t *row, void *arg)
{
    (void)arg;
    const char *case_ref = NULL, *initials = NULL;
    uint32_t appointment, date;
    bool ok = intake_row_case_ref(row, CAPA_CASE_REF, &case_ref);
    ok &= intake_row_initials(row, CAPA_INITIALS, &initials);
    ok &= intake_row_enum(row, CAPA_APPOINTMENT, true, s_appointments,
                          sizeof(s_appointments) / sizeof(s_appointments[0]), &appointment);
    ok &= intake_row_date(row, CAPA_DATE, true, &date);
    if (!ok)
        return;
    if (appointment == CAPA_CHOICE)
        s_choice(row, case_ref, initials, date);
    else
        s_partnership(row, case_ref, initials, date);
}

static const intake_format_t s_formats[] = {
    { "CAPA appointments", s_columns, CAPA_N, s_row },
    { "CAPA appointments with the Choice record", s_columns_choice, CAPA_N_WITH_CHOICE, s_row },
};

static int s_intake(const char *path, intake_result_t *out)
{
    return intake_csv_read(path, s_formats, sizeof(s_formats) / sizeof(s_formats[0]), NULL, out);
}

const agency_profile_t camhs_profile = {
    .agency = TACNET__AGENCY__CAMHS,
    .name = "camhs",
    .title = "CAMHS",
    .kinds = agency_kinds_all,
    .n_kinds = AGENCY_KINDS_ALL_N,
    .review_days = CAMHS_REVIEW_DAYS,
    .default_sensitivity = s_default_sensitivity,
    .intake = s_intake,
};
