/* health visiting profile: the Healthy Child Programme's mandated contacts.
 *
 * One intake format, one row per contact (deploy/examples/README.md). Each contact becomes an
 * ASSESSMENT with the family's level of need: the antenatal, new-birth and 6-8 week contacts are
 * promotional interviews (antenatal and postnatal), the 1 year and 2-2.5 year contacts are
 * developmental reviews.
 */
#include "casework/intake.h"
#include "casework/profile.h"
#include "err.h"

/* Health-visiting plans for families on a targeted offer are reviewed about every three
 * months, between the mandated contacts. */
#define HEALTH_VISITING_REVIEW_DAYS 90
#define HEALTH_VISITING_MAX_ITEMS   10

/* Health visiting records no outcome measures (GBO, SDQ, RCADS and ORS are CAMHS tools), so
 * its list is its own rather than agency_kinds_all. */
static const uint32_t s_kinds[] = {
    TACNET__EVENT_KIND__REFERRAL,
    TACNET__EVENT_KIND__CONCERN,
    TACNET__EVENT_KIND__ASSESSMENT,
    TACNET__EVENT_KIND__DECISION,
    TACNET__EVENT_KIND__DISAGREEMENT,
    TACNET__EVENT_KIND__MEETING_REQUESTED,
    TACNET__EVENT_KIND__MEETING_SCHEDULED,
    TACNET__EVENT_KIND__MEETING_OUTCOME,
    TACNET__EVENT_KIND__CARE_PLAN,
    TACNET__EVENT_KIND__COMMUNICATION_PLAN,
    TACNET__EVENT_KIND__CONTACT_LOGGED,
    TACNET__EVENT_KIND__CONSENT_RECORDED,
    TACNET__EVENT_KIND__PARTNERSHIP_RATING,
    TACNET__EVENT_KIND__CASE_CLOSED,
    TACNET__EVENT_KIND__MEMBER_JOINED,
    TACNET__EVENT_KIND__MEMBER_LEFT,
    TACNET__EVENT_KIND__LEAD_HANDOVER,
    TACNET__EVENT_KIND__LEAD_ACCEPTED,
    TACNET__EVENT_KIND__ESCALATION_RESPONSE,
    TACNET__EVENT_KIND__ESCALATION_RESOLVED,
    TACNET__EVENT_KIND__ESCALATION_ACK,
    TACNET__EVENT_KIND__ACTION_UPDATE,
    TACNET__EVENT_KIND__INVOLVEMENT_PREFERENCES,
};

static uint32_t s_default_sensitivity(uint32_t kind)
{
    switch (kind) {
    case TACNET__EVENT_KIND__REFERRAL:
    case TACNET__EVENT_KIND__ASSESSMENT:
    case TACNET__EVENT_KIND__DECISION:
    case TACNET__EVENT_KIND__MEETING_OUTCOME:
    case TACNET__EVENT_KIND__CARE_PLAN:
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
    HV_CASE_REF,
    HV_INITIALS,
    HV_CONTACT,
    HV_DATE,
    HV_LEVEL_OF_NEED,
    HV_NEEDS,
    HV_STRENGTHS,
    HV_SUMMARY,
    HV_N,
    HV_BIRTH_DATE = HV_N, /* only in the format with the baby's birth date */
};
static const char *const s_columns[HV_N] = {
    "case_ref", "initials", "contact", "date", "level_of_need", "needs", "strengths", "summary",
};
static const char *const s_columns_born[HV_N + 1] = {
    "case_ref", "initials",  "contact", "date",       "level_of_need",
    "needs",    "strengths", "summary", "birth_date",
};

static const intake_name_t s_contacts[] = {
    { "antenatal", TACNET__ASSESSMENT_TYPE__PROMOTIONAL_INTERVIEW },
    { "new_birth", TACNET__ASSESSMENT_TYPE__PROMOTIONAL_INTERVIEW },
    { "6_8_week", TACNET__ASSESSMENT_TYPE__PROMOTIONAL_INTERVIEW },
    { "1_year", TACNET__ASSESSMENT_TYPE__DEVELOPMENTAL_REVIEW },
    { "2_year", TACNET__ASSESSMENT_TYPE__DEVELOPMENTAL_REVIEW },
};

/* The universal contacts that schedule the next ones (casework/hv_contacts.h). */
static const intake_name_t s_universal[] = {
    { "antenatal", TACNET__HV_CONTACT__HV_ANTENATAL },
    { "new_birth", TACNET__HV_CONTACT__HV_NEW_BIRTH },
    { "6_8_week", TACNET__HV_CONTACT__HV_SIX_TO_EIGHT_WEEK },
    { "1_year", TACNET__HV_CONTACT__HV_ONE_YEAR },
    { "2_year", TACNET__HV_CONTACT__HV_TWO_YEAR },
};

static void s_row(intake_row_t *row, void *arg)
{
    (void)arg;
    const char *case_ref = NULL, *initials = NULL, *summary = NULL;
    uint32_t type, date, level, universal = 0, born = 0;
    char **needs = NULL, **strengths = NULL;
    size_t n_needs = 0, n_strengths = 0;
    bool ok = intake_row_case_ref(row, HV_CASE_REF, &case_ref);
    ok &= intake_row_initials(row, HV_INITIALS, &initials);
    bool known = intake_row_enum(row, HV_CONTACT, true, s_contacts,
                                 sizeof(s_contacts) / sizeof(s_contacts[0]), &type);
    ok &= known;
    /* Same names as s_contacts, so this cannot fail where that one passed (one error only). */
    if (known)
        ok &= intake_row_enum(row, HV_CONTACT, true, s_universal,
                              sizeof(s_universal) / sizeof(s_universal[0]), &universal);
    ok &= intake_row_date(row, HV_DATE, true, &date);
    if (row->n_columns > HV_BIRTH_DATE)
        ok &= intake_row_date(row, HV_BIRTH_DATE, false, &born);
    ok &= intake_row_uint(row, HV_LEVEL_OF_NEED, true, 1, 4, &level, NULL);
    ok &= intake_row_text(row, HV_SUMMARY, false, &summary);
    ok &= intake_row_list(row, HV_NEEDS, HEALTH_VISITING_MAX_ITEMS, &needs, &n_needs);
    ok &= intake_row_list(row, HV_STRENGTHS, HEALTH_VISITING_MAX_ITEMS, &strengths, &n_strengths);
    if (!ok) {
        intake_list_free(needs, n_needs);
        intake_list_free(strengths, n_strengths);
        return;
    }

    /* A health visitor who finds a child at level 4 (child protection) is recording
     * safeguarding information, not only health information. */
    Tacnet__Sensitivity sensitivity =
        level == 4 ? TACNET__SENSITIVITY__SAFEGUARDING
                   : (Tacnet__Sensitivity)s_default_sensitivity(TACNET__EVENT_KIND__ASSESSMENT);
    Tacnet__PublishRequest *req =
        intake_request_new(TACNET__EVENT_KIND__ASSESSMENT, case_ref, initials, sensitivity);
    req->has_level_of_need = true;
    req->level_of_need = level;
    Tacnet__Assessment *a = req->body->assessment;
    a->has_type = true;
    a->type = (Tacnet__AssessmentType)type;
    a->has_level_of_need = true;
    a->level_of_need = level;
    a->has_completed_date = true;
    a->completed_date = date;
    if (universal) {
        a->has_hv_contact = true;
        a->hv_contact = (Tacnet__HvContact)universal;
    }
    if (born) {
        a->has_birth_date = true;
        a->birth_date = born;
    }
    if (summary)
        a->summary = xstrdup(summary);
    /* The lists move into the message, which frees them with the request. */
    a->needs = needs;
    a->n_needs = n_needs;
    a->strengths = strengths;
    a->n_strengths = n_strengths;
    intake_result_add(row->result, req);
}

static const intake_format_t s_formats[] = {
    { "health-visiting contacts", s_columns, HV_N, s_row },
    { "health-visiting contacts with the birth date", s_columns_born, HV_N + 1, s_row },
};

static int s_intake(const char *path, intake_result_t *out)
{
    return intake_csv_read(path, s_formats, sizeof(s_formats) / sizeof(s_formats[0]), NULL, out);
}

const agency_profile_t health_visiting_profile = {
    .agency = TACNET__AGENCY__HEALTH_VISITING,
    .name = "health_visiting",
    .title = "Health visiting",
    .kinds = s_kinds,
    .n_kinds = sizeof(s_kinds) / sizeof(s_kinds[0]),
    .review_days = HEALTH_VISITING_REVIEW_DAYS,
    .default_sensitivity = s_default_sensitivity,
    .intake = s_intake,
};
