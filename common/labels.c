/* labels: plain-language labels and event sentences (see labels.h). */
#include "labels.h"
#include "agencies.h"
#include "api.pb-c.h"
#include "names.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

typedef struct {
    const ProtobufCEnumDescriptor *d;
    int v;
    const char *label;
} label_t;

/* Labels read in a sentence after "is" or in a table cell, so they start in capitals only where
 * English would (names of agencies, tools and roles). */
static const label_t s_labels[] = {
    { &tacnet__agency__descriptor, TACNET__AGENCY__AGENCY_UNKNOWN, "Unknown agency" },
    { &tacnet__agency__descriptor, TACNET__AGENCY__CAMHS, "CAMHS" },
    { &tacnet__agency__descriptor, TACNET__AGENCY__SCHOOL, "School" },
    { &tacnet__agency__descriptor, TACNET__AGENCY__HEALTH_VISITING, "Health visiting" },
    { &tacnet__agency__descriptor, TACNET__AGENCY__SOCIAL_CARE, "Social care" },
    { &tacnet__agency__descriptor, TACNET__AGENCY__PARTNERSHIP, "Partnership" },
    { &tacnet__agency__descriptor, TACNET__AGENCY__BROKER, "Broker" },

    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__KIND_UNKNOWN, "event" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__REFERRAL, "referral" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__CONCERN, "concern" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__ASSESSMENT, "assessment" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__DECISION, "decision" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__DISAGREEMENT, "disagreement" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__MEETING_REQUESTED, "meeting request" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__MEETING_SCHEDULED, "meeting scheduled" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__MEETING_OUTCOME, "meeting outcome" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__CARE_PLAN, "care plan" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__OUTCOME_MEASURE, "outcome measure" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__COMMUNICATION_PLAN,
      "communication plan" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__CONTACT_LOGGED,
      "contact with the family" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__CONSENT_RECORDED, "consent" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__PARTNERSHIP_RATING,
      "partnership rating" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__CASE_CLOSED, "case closure" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__MEMBER_JOINED, "new team member" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__MEMBER_LEFT, "team member leaving" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__LEAD_HANDOVER, "lead hand-over" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__LEAD_ACCEPTED, "lead accepted" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__ESCALATION_RESPONSE,
      "escalation response" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__ESCALATION_RESOLVED,
      "proposed resolution" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__ESCALATION_ACK,
      "acknowledgement of a resolution" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__ACTION_UPDATE, "action update" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__ESCALATION_NOTICE, "escalation notice" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__SAFEGUARDING_ALERT,
      "safeguarding alert" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__NON_DELIVERY, "delivery failure" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__NON_RESPONSE, "missing response" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__DELIVERY_REPORT, "delivery report" },

    { &tacnet__sensitivity__descriptor, TACNET__SENSITIVITY__SENSITIVITY_UNKNOWN, "unclassified" },
    { &tacnet__sensitivity__descriptor, TACNET__SENSITIVITY__ROUTINE, "routine" },
    { &tacnet__sensitivity__descriptor, TACNET__SENSITIVITY__HEALTH, "health" },
    { &tacnet__sensitivity__descriptor, TACNET__SENSITIVITY__SAFEGUARDING, "safeguarding" },

    { &tacnet__lawful_basis__descriptor, TACNET__LAWFUL_BASIS__BASIS_UNKNOWN, "unknown basis" },
    { &tacnet__lawful_basis__descriptor, TACNET__LAWFUL_BASIS__CONSENT, "consent" },
    { &tacnet__lawful_basis__descriptor, TACNET__LAWFUL_BASIS__SAFEGUARDING_OVERRIDE,
      "safeguarding override" },
    { &tacnet__lawful_basis__descriptor, TACNET__LAWFUL_BASIS__LEGAL_DUTY, "legal duty" },

    { &tacnet__role__descriptor, TACNET__ROLE__ROLE_UNKNOWN, "Unknown role" },
    { &tacnet__role__descriptor, TACNET__ROLE__PRACTITIONER, "Practitioner" },
    { &tacnet__role__descriptor, TACNET__ROLE__LINE_MANAGER, "Line manager" },
    { &tacnet__role__descriptor, TACNET__ROLE__DSL, "Designated safeguarding lead" },
    { &tacnet__role__descriptor, TACNET__ROLE__PARTNERSHIP_LEAD, "Safeguarding partnership lead" },
    { &tacnet__role__descriptor, TACNET__ROLE__LEAD_PROFESSIONAL, "Lead professional" },

    { &tacnet__override_reason__descriptor, TACNET__OVERRIDE_REASON__OVERRIDE_NONE, "none" },
    { &tacnet__override_reason__descriptor, TACNET__OVERRIDE_REASON__RISK_OF_SIGNIFICANT_HARM,
      "risk of significant harm" },
    { &tacnet__override_reason__descriptor, TACNET__OVERRIDE_REASON__CONSENT_WOULD_INCREASE_RISK,
      "asking for consent would increase the risk" },
    { &tacnet__override_reason__descriptor, TACNET__OVERRIDE_REASON__CRIME_PREVENTION,
      "preventing a crime" },
    { &tacnet__override_reason__descriptor, TACNET__OVERRIDE_REASON__URGENT_MEDICAL,
      "urgent medical need" },

    { &tacnet__consent_state__descriptor, TACNET__CONSENT_STATE__CONSENT_UNKNOWN, "not known" },
    { &tacnet__consent_state__descriptor, TACNET__CONSENT_STATE__GIVEN, "given" },
    { &tacnet__consent_state__descriptor, TACNET__CONSENT_STATE__REFUSED, "refused" },
    { &tacnet__consent_state__descriptor, TACNET__CONSENT_STATE__WITHDRAWN, "withdrawn" },

    { &tacnet__escalation_event__descriptor, TACNET__ESCALATION_EVENT__ESC_UNKNOWN, "raised" },
    { &tacnet__escalation_event__descriptor, TACNET__ESCALATION_EVENT__ESC_OPENED, "opened" },
    { &tacnet__escalation_event__descriptor, TACNET__ESCALATION_EVENT__ESC_ADVANCED,
      "moved to the next stage" },
    { &tacnet__escalation_event__descriptor, TACNET__ESCALATION_EVENT__ESC_RESOLVED,
      "resolution proposed" },
    { &tacnet__escalation_event__descriptor, TACNET__ESCALATION_EVENT__ESC_CLOSED, "closed" },

    { &tacnet__family_role__descriptor, TACNET__FAMILY_ROLE__FAMILY_UNKNOWN, "family member" },
    { &tacnet__family_role__descriptor, TACNET__FAMILY_ROLE__CHILD, "child" },
    { &tacnet__family_role__descriptor, TACNET__FAMILY_ROLE__MOTHER, "mother" },
    { &tacnet__family_role__descriptor, TACNET__FAMILY_ROLE__FATHER, "father" },
    { &tacnet__family_role__descriptor, TACNET__FAMILY_ROLE__PARENT, "parent" },
    { &tacnet__family_role__descriptor, TACNET__FAMILY_ROLE__CARER, "carer" },
    { &tacnet__family_role__descriptor, TACNET__FAMILY_ROLE__SIBLING, "sibling" },
    { &tacnet__family_role__descriptor, TACNET__FAMILY_ROLE__GRANDPARENT, "grandparent" },
    { &tacnet__family_role__descriptor, TACNET__FAMILY_ROLE__ADVOCATE, "advocate" },

    { &tacnet__concern_category__descriptor, TACNET__CONCERN_CATEGORY__CONCERN_UNKNOWN,
      "unspecified" },
    { &tacnet__concern_category__descriptor, TACNET__CONCERN_CATEGORY__ATTENDANCE, "attendance" },
    { &tacnet__concern_category__descriptor, TACNET__CONCERN_CATEGORY__NEGLECT, "neglect" },
    { &tacnet__concern_category__descriptor, TACNET__CONCERN_CATEGORY__EMOTIONAL_WELLBEING,
      "emotional wellbeing" },
    { &tacnet__concern_category__descriptor, TACNET__CONCERN_CATEGORY__PHYSICAL_HARM,
      "physical harm" },
    { &tacnet__concern_category__descriptor, TACNET__CONCERN_CATEGORY__SELF_HARM, "self-harm" },
    { &tacnet__concern_category__descriptor, TACNET__CONCERN_CATEGORY__DOMESTIC_ABUSE,
      "domestic abuse" },
    { &tacnet__concern_category__descriptor, TACNET__CONCERN_CATEGORY__DEVELOPMENT, "development" },
    { &tacnet__concern_category__descriptor, TACNET__CONCERN_CATEGORY__SEXUAL_HARM, "sexual harm" },
    { &tacnet__concern_category__descriptor, TACNET__CONCERN_CATEGORY__OTHER_CONCERN, "other" },

    { &tacnet__assessment_type__descriptor, TACNET__ASSESSMENT_TYPE__ASSESSMENT_UNKNOWN,
      "unspecified" },
    { &tacnet__assessment_type__descriptor, TACNET__ASSESSMENT_TYPE__EARLY_HELP, "early help" },
    { &tacnet__assessment_type__descriptor, TACNET__ASSESSMENT_TYPE__CHILD_AND_FAMILY,
      "child and family (section 17)" },
    { &tacnet__assessment_type__descriptor, TACNET__ASSESSMENT_TYPE__SECTION_47,
      "child protection enquiry (section 47)" },
    { &tacnet__assessment_type__descriptor, TACNET__ASSESSMENT_TYPE__CAPA_CHOICE, "CAPA choice" },
    { &tacnet__assessment_type__descriptor, TACNET__ASSESSMENT_TYPE__DEVELOPMENTAL_REVIEW,
      "developmental review" },
    { &tacnet__assessment_type__descriptor, TACNET__ASSESSMENT_TYPE__PROMOTIONAL_INTERVIEW,
      "promotional interview" },
    { &tacnet__assessment_type__descriptor, TACNET__ASSESSMENT_TYPE__SCHOOL_SEN,
      "special educational needs" },

    { &tacnet__meeting_mode__descriptor, TACNET__MEETING_MODE__MODE_UNKNOWN, "mode not given" },
    { &tacnet__meeting_mode__descriptor, TACNET__MEETING_MODE__IN_PERSON, "in person" },
    { &tacnet__meeting_mode__descriptor, TACNET__MEETING_MODE__VIDEO, "by video" },
    { &tacnet__meeting_mode__descriptor, TACNET__MEETING_MODE__HYBRID, "in person and by video" },

    { &tacnet__action_status__descriptor, TACNET__ACTION_STATUS__ACTION_UNKNOWN, "open" },
    { &tacnet__action_status__descriptor, TACNET__ACTION_STATUS__OPEN, "open" },
    { &tacnet__action_status__descriptor, TACNET__ACTION_STATUS__DONE, "done" },
    { &tacnet__action_status__descriptor, TACNET__ACTION_STATUS__CANCELLED, "cancelled" },

    { &tacnet__plan_type__descriptor, TACNET__PLAN_TYPE__PLAN_UNKNOWN, "plan" },
    { &tacnet__plan_type__descriptor, TACNET__PLAN_TYPE__TEAM_AROUND_FAMILY,
      "team around the family plan" },
    { &tacnet__plan_type__descriptor, TACNET__PLAN_TYPE__CHILD_IN_NEED, "child in need plan" },
    { &tacnet__plan_type__descriptor, TACNET__PLAN_TYPE__CHILD_PROTECTION,
      "child protection plan" },
    { &tacnet__plan_type__descriptor, TACNET__PLAN_TYPE__CAPA_PARTNERSHIP,
      "CAPA partnership plan" },
    { &tacnet__plan_type__descriptor, TACNET__PLAN_TYPE__HEALTH_VISITING_PLAN,
      "health visiting plan" },

    { &tacnet__measure_tool__descriptor, TACNET__MEASURE_TOOL__TOOL_UNKNOWN, "outcome" },
    { &tacnet__measure_tool__descriptor, TACNET__MEASURE_TOOL__GBO, "goal-based outcome" },
    { &tacnet__measure_tool__descriptor, TACNET__MEASURE_TOOL__SDQ,
      "Strengths and Difficulties Questionnaire" },
    { &tacnet__measure_tool__descriptor, TACNET__MEASURE_TOOL__RCADS,
      "Revised Child Anxiety and Depression Scale" },
    { &tacnet__measure_tool__descriptor, TACNET__MEASURE_TOOL__ORS, "Outcome Rating Scale" },
    { &tacnet__measure_tool__descriptor, TACNET__MEASURE_TOOL__CORS, "Child Outcome Rating Scale" },

    { &tacnet__informant__descriptor, TACNET__INFORMANT__INFORMANT_UNKNOWN, "not given" },
    { &tacnet__informant__descriptor, TACNET__INFORMANT__SELF_REPORT, "the young person" },
    { &tacnet__informant__descriptor, TACNET__INFORMANT__PARENT_REPORT, "a parent" },
    { &tacnet__informant__descriptor, TACNET__INFORMANT__TEACHER_REPORT, "a teacher" },
    { &tacnet__informant__descriptor, TACNET__INFORMANT__CLINICIAN, "a clinician" },

    { &tacnet__contact_method__descriptor, TACNET__CONTACT_METHOD__METHOD_UNKNOWN, "contact" },
    { &tacnet__contact_method__descriptor, TACNET__CONTACT_METHOD__PHONE_CALL, "phone call" },
    { &tacnet__contact_method__descriptor, TACNET__CONTACT_METHOD__HOME_VISIT, "home visit" },
    { &tacnet__contact_method__descriptor, TACNET__CONTACT_METHOD__OFFICE_VISIT, "office visit" },
    { &tacnet__contact_method__descriptor, TACNET__CONTACT_METHOD__VIDEO_CALL, "video call" },
    { &tacnet__contact_method__descriptor, TACNET__CONTACT_METHOD__LETTER, "letter" },
    { &tacnet__contact_method__descriptor, TACNET__CONTACT_METHOD__SECURE_EMAIL, "secure email" },
    { &tacnet__contact_method__descriptor, TACNET__CONTACT_METHOD__TEXT_MESSAGE, "text message" },

    { &tacnet__closure_reason__descriptor, TACNET__CLOSURE_REASON__CLOSURE_UNKNOWN,
      "no reason given" },
    { &tacnet__closure_reason__descriptor, TACNET__CLOSURE_REASON__NEEDS_MET,
      "the child's needs are met" },
    { &tacnet__closure_reason__descriptor, TACNET__CLOSURE_REASON__STEPPED_DOWN,
      "stepped down to less support" },
    { &tacnet__closure_reason__descriptor, TACNET__CLOSURE_REASON__STEPPED_UP,
      "stepped up to statutory services" },
    { &tacnet__closure_reason__descriptor, TACNET__CLOSURE_REASON__MOVED_AWAY,
      "the family moved away" },
    { &tacnet__closure_reason__descriptor, TACNET__CLOSURE_REASON__FAMILY_DECLINED,
      "the family declined support" },
    { &tacnet__closure_reason__descriptor, TACNET__CLOSURE_REASON__OPENED_IN_ERROR,
      "opened in error (wrong case reference or initials)" },

    { &tacnet__stage_position__descriptor, TACNET__STAGE_POSITION__POSITION_UNKNOWN,
      "no position" },
    { &tacnet__stage_position__descriptor, TACNET__STAGE_POSITION__UPHOLD,
      "keep the original decision" },
    { &tacnet__stage_position__descriptor, TACNET__STAGE_POSITION__CONCEDE,
      "accept the challenge" },
    { &tacnet__stage_position__descriptor, TACNET__STAGE_POSITION__COMPROMISE, "compromise" },
    { &tacnet__stage_position__descriptor, TACNET__STAGE_POSITION__NEED_MORE_TIME,
      "more time needed" },

    { &tacnet__publish_state__descriptor, TACNET__PUBLISH_STATE__PUBLISH_QUEUED,
      "waiting to be sent" },
    { &tacnet__publish_state__descriptor, TACNET__PUBLISH_STATE__PUBLISH_SENT,
      "sent, not answered yet" },
    { &tacnet__publish_state__descriptor, TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED, "accepted" },
    { &tacnet__publish_state__descriptor, TACNET__PUBLISH_STATE__PUBLISH_REFUSED, "refused" },

    { &tacnet__import_phase__descriptor, TACNET__IMPORT_PHASE__IMPORT_READING, "reading the file" },
    { &tacnet__import_phase__descriptor, TACNET__IMPORT_PHASE__IMPORT_CHECKING,
      "checking every row" },
    { &tacnet__import_phase__descriptor, TACNET__IMPORT_PHASE__IMPORT_QUEUEING,
      "queueing rows to send" },
    { &tacnet__import_phase__descriptor, TACNET__IMPORT_PHASE__IMPORT_DONE, "done" },
    { &tacnet__import_phase__descriptor, TACNET__IMPORT_PHASE__IMPORT_FAILED, "failed" },

    { &tacnet__hold_reason__descriptor, TACNET__HOLD_REASON__HOLD_UNKNOWN, "no reason given" },
    { &tacnet__hold_reason__descriptor, TACNET__HOLD_REASON__PUBLIC_INQUIRY, "public inquiry" },
    { &tacnet__hold_reason__descriptor, TACNET__HOLD_REASON__LITIGATION, "legal proceedings" },
    { &tacnet__hold_reason__descriptor, TACNET__HOLD_REASON__SAFEGUARDING_PRACTICE_REVIEW,
      "child safeguarding practice review" },
    { &tacnet__hold_reason__descriptor, TACNET__HOLD_REASON__POLICE_INVESTIGATION,
      "police investigation" },
    { &tacnet__hold_reason__descriptor, TACNET__HOLD_REASON__COMPLAINT, "complaint" },
    { &tacnet__hold_reason__descriptor, TACNET__HOLD_REASON__SUBJECT_ACCESS_REQUEST,
      "subject access request" },

    { &tacnet__hold_action__descriptor, TACNET__HOLD_ACTION__HOLD_ACTION_UNKNOWN, "none" },
    { &tacnet__hold_action__descriptor, TACNET__HOLD_ACTION__HOLD_ADD, "hold" },
    { &tacnet__hold_action__descriptor, TACNET__HOLD_ACTION__HOLD_REMOVE, "release" },
    { &tacnet__hold_action__descriptor, TACNET__HOLD_ACTION__HOLD_LIST, "list" },
    { &tacnet__event_kind__descriptor, TACNET__EVENT_KIND__INVOLVEMENT_PREFERENCES,
      "involvement preferences" },
    { &tacnet__lawful_basis__descriptor, TACNET__LAWFUL_BASIS__DIRECT_CARE, "direct care" },
    { &tacnet__view_absence__descriptor, TACNET__VIEW_ABSENCE__ABSENCE_UNKNOWN, "no reason given" },
    { &tacnet__view_absence__descriptor, TACNET__VIEW_ABSENCE__TOO_YOUNG, "too young" },
    { &tacnet__view_absence__descriptor, TACNET__VIEW_ABSENCE__DECLINED, "declined" },
    { &tacnet__view_absence__descriptor, TACNET__VIEW_ABSENCE__NOT_REACHABLE, "not reachable" },
    { &tacnet__view_absence__descriptor, TACNET__VIEW_ABSENCE__NOT_YET_ASKED, "not yet asked" },
    { &tacnet__goal_words__descriptor, TACNET__GOAL_WORDS__WORDS_UNKNOWN, "not said whose words" },
    { &tacnet__goal_words__descriptor, TACNET__GOAL_WORDS__CHILD_WORDS, "the child's words" },
    { &tacnet__goal_words__descriptor, TACNET__GOAL_WORDS__PARENT_WORDS, "a parent's words" },
    { &tacnet__goal_words__descriptor, TACNET__GOAL_WORDS__PROFESSIONAL_WORDS,
      "a professional's words" },
    { &tacnet__need_tier__descriptor, TACNET__NEED_TIER__TIER_UNKNOWN, "no tier given" },
    { &tacnet__need_tier__descriptor, TACNET__NEED_TIER__NEED_SAFETY, "safety" },
    { &tacnet__need_tier__descriptor, TACNET__NEED_TIER__NEED_BASIC, "basic" },
    { &tacnet__need_tier__descriptor, TACNET__NEED_TIER__NEED_HEALTH, "health" },
    { &tacnet__need_tier__descriptor, TACNET__NEED_TIER__NEED_RELATIONSHIPS, "relationships" },
    { &tacnet__need_tier__descriptor, TACNET__NEED_TIER__NEED_LEARNING, "learning" },
    { &tacnet__involvement__descriptor, TACNET__INVOLVEMENT__INVOLVEMENT_UNKNOWN, "not given" },
    { &tacnet__involvement__descriptor, TACNET__INVOLVEMENT__KEEP_INFORMED, "keep informed" },
    { &tacnet__involvement__descriptor, TACNET__INVOLVEMENT__CONSULTED, "consulted" },
    { &tacnet__involvement__descriptor, TACNET__INVOLVEMENT__DECIDE_TOGETHER, "decide together" },
    { &tacnet__involvement__descriptor, TACNET__INVOLVEMENT__NOT_NOW, "not now" },
    { &tacnet__hv_contact__descriptor, TACNET__HV_CONTACT__HV_CONTACT_UNKNOWN,
      "not a universal contact" },
    { &tacnet__hv_contact__descriptor, TACNET__HV_CONTACT__HV_ANTENATAL,
      "antenatal promotional interview" },
    { &tacnet__hv_contact__descriptor, TACNET__HV_CONTACT__HV_NEW_BIRTH, "new birth visit" },
    { &tacnet__hv_contact__descriptor, TACNET__HV_CONTACT__HV_SIX_TO_EIGHT_WEEK,
      "6-8 week review" },
    { &tacnet__hv_contact__descriptor, TACNET__HV_CONTACT__HV_ONE_YEAR, "1 year review" },
    { &tacnet__hv_contact__descriptor, TACNET__HV_CONTACT__HV_TWO_YEAR, "2-2½ year review" },
    { &tacnet__chair_rule__descriptor, TACNET__CHAIR_RULE__CHAIR_UNJUDGED, "not judged" },
    { &tacnet__chair_rule__descriptor, TACNET__CHAIR_RULE__CHAIR_INDEPENDENT,
      "not directly involved" },
    { &tacnet__chair_rule__descriptor, TACNET__CHAIR_RULE__CHAIR_LEAD, "the lead professional" },
    { &tacnet__chair_rule__descriptor, TACNET__CHAIR_RULE__CHAIR_DIRECTLY_INVOLVED,
      "directly involved" },
    { &tacnet__chair_rule__descriptor, TACNET__CHAIR_RULE__CHAIR_NOT_NAMED, "no chair named" },
    { &tacnet__capa_chosen__descriptor, TACNET__CAPA_CHOSEN__CHOSEN_UNKNOWN, "not yet chosen" },
    { &tacnet__capa_chosen__descriptor, TACNET__CAPA_CHOSEN__CHOSEN_PARTNERSHIP,
      "partnership with CAMHS" },
    { &tacnet__capa_chosen__descriptor, TACNET__CAPA_CHOSEN__CHOSEN_OTHER_SERVICE,
      "another service" },
    { &tacnet__capa_chosen__descriptor, TACNET__CAPA_CHOSEN__CHOSEN_SELF_HELP, "self-help first" },
    { &tacnet__capa_chosen__descriptor, TACNET__CAPA_CHOSEN__CHOSEN_NOTHING_NOW,
      "nothing for now" },
};

static const ProtobufCEnumDescriptor *const s_enums[] = {
    &tacnet__capa_chosen__descriptor, /* one a line, so each enum added is a line of its own */
    &tacnet__hv_contact__descriptor,
    &tacnet__chair_rule__descriptor,
    &tacnet__involvement__descriptor,
    &tacnet__need_tier__descriptor,
    &tacnet__goal_words__descriptor,
    &tacnet__view_absence__descriptor,
    &tacnet__agency__descriptor,
    &tacnet__event_kind__descriptor,
    &tacnet__sensitivity__descriptor,
    &tacnet__lawful_basis__descriptor,
    &tacnet__role__descriptor,
    &tacnet__override_reason__descriptor,
    &tacnet__consent_state__descriptor,
    &tacnet__escalation_event__descriptor,
    &tacnet__family_role__descriptor,
    &tacnet__concern_category__descriptor,
    &tacnet__assessment_type__descriptor,
    &tacnet__meeting_mode__descriptor,
    &tacnet__action_status__descriptor,
    &tacnet__plan_type__descriptor,
    &tacnet__measure_tool__descriptor,
    &tacnet__informant__descriptor,
    &tacnet__contact_method__descriptor,
    &tacnet__closure_reason__descriptor,
    &tacnet__stage_position__descriptor,
    &tacnet__publish_state__descriptor,
    &tacnet__import_phase__descriptor,
    &tacnet__hold_reason__descriptor,
    &tacnet__hold_action__descriptor,
};

const ProtobufCEnumDescriptor *const *labels_enums(size_t *n)
{
    *n = N_OF(s_enums);
    return s_enums;
}

static const label_t *s_find(const ProtobufCEnumDescriptor *desc, int value)
{
    for (size_t i = 0; i < N_OF(s_labels); i++)
        if (s_labels[i].d == desc && s_labels[i].v == value)
            return &s_labels[i];
    return NULL;
}

int labels_enum_has(const ProtobufCEnumDescriptor *desc, int value)
{
    return s_find(desc, value) != NULL;
}

const char *labels_enum(const ProtobufCEnumDescriptor *desc, int value)
{
    /* The roster's title when it has one: a partnership names its own agencies. */
    const char *title =
        desc == &tacnet__agency__descriptor && value > 0 ? agencies_title((uint32_t)value) : NULL;
    if (title)
        return title;
    const label_t *l = s_find(desc, value);
    if (l)
        return l->label;
    /* A value added to the proto before its label: its name, readable, until the test fails. */
    static char spaced[8][48];
    static unsigned next;
    const char *n = names_enum(desc, value);
    if (!n)
        return "unknown";
    char *out = spaced[next++ % N_OF(spaced)];
    snprintf(out, sizeof(spaced[0]), "%s", n);
    for (char *p = out; *p; p++)
        if (*p == '_')
            *p = ' ';
    return out;
}

const char *labels_agency(uint32_t agency)
{
    return labels_enum(&tacnet__agency__descriptor, (int)agency);
}

char *labels_agency_list(uint32_t mask, char *out, size_t cap)
{
    int n = 0, at = 0;
    for (uint32_t a = 1; a < 32; a++)
        n += (mask >> a) & 1u;
    size_t used = 0;
    if (cap)
        out[0] = 0;
    for (uint32_t a = 1; a < 32 && used < cap; a++)
        if (mask & (1u << a)) {
            int w = snprintf(out + used, cap - used, "%s%s",
                             at == 0       ? ""
                             : at + 1 == n ? " and "
                                           : ", ",
                             labels_agency(a));
            used += w > 0 ? (size_t)w : 0;
            at++;
        }
    return out;
}

char *labels_plan(int type, char *out, size_t cap)
{
    const char *t = labels_enum(&tacnet__plan_type__descriptor, type);
    size_t n = strlen(t);
    snprintf(out, cap, "%s%s", t, n >= 4 && strcmp(t + n - 4, "plan") == 0 ? "" : " plan");
    return out;
}

const char *labels_escalation_about(const Tacnet__EscalationView *e)
{
    if (e && e->disagreement && e->disagreement->topic && *e->disagreement->topic)
        return e->disagreement->topic;
    return e && e->has_automatic && e->automatic ? "automatic: levels of need differ" : NULL;
}

const char *labels_kind(uint32_t kind)
{
    return labels_enum(&tacnet__event_kind__descriptor, (int)kind);
}

const char *labels_role(uint32_t role)
{
    return labels_enum(&tacnet__role__descriptor, (int)role);
}

const char *labels_need(uint32_t level)
{
    static const char *const n[] = { "none", "1 universal", "2 early help", "3 child in need",
                                     "4 child protection" };
    return level < N_OF(n) ? n[level] : "?";
}

/* ------------------------------------------------------------------ sentences */

typedef struct {
    char *p;
    size_t cap, len;
} out_t;

static void s_cat(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_cat(out_t *o, const char *fmt, ...)
{
    if (o->len + 1 >= o->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len = o->len + (size_t)n < o->cap ? o->len + (size_t)n : o->cap - 1;
}

/* " about TEXT" for a short piece of free text that names the thing (a topic, a purpose). */
static void s_about(out_t *o, const char *word, const char *text)
{
    if (text && *text)
        s_cat(o, " %s %s", word, text);
}

static const char *s_lower_agency(uint32_t a)
{
    /* "the school", "social care": agencies read as common nouns inside a sentence. */
    switch (a) {
    case TACNET__AGENCY__SCHOOL:
        return "the school";
    case TACNET__AGENCY__SOCIAL_CARE:
        return "social care";
    case TACNET__AGENCY__HEALTH_VISITING:
        return "health visiting";
    case TACNET__AGENCY__PARTNERSHIP:
        return "the safeguarding partnership";
    default:
        return labels_agency(a);
    }
}

/* The sentences of the events an agency records. Returns 1 when KIND was one of them. */
static int s_agency_event(out_t *o, const char *who, const Tacnet__Header *h, const Tacnet__Body *b)
{
    int urgent = h->has_urgent && h->urgent;
    uint32_t subject = h->has_subject_agency ? (uint32_t)h->subject_agency : h->sender;
    switch (h->kind) {
    case TACNET__EVENT_KIND__REFERRAL:
        s_cat(o, "%s referred the child to %s", who, s_lower_agency(subject));
        if (b && b->referral && b->referral->has_category)
            s_cat(o, " about %s",
                  labels_enum(&tacnet__concern_category__descriptor, b->referral->category));
        return 1;
    case TACNET__EVENT_KIND__CONCERN:
        s_cat(o, "%s raised %s concern", who, urgent ? "an urgent" : "a");
        if (b && b->concern && b->concern->has_category)
            s_cat(o, " about %s",
                  labels_enum(&tacnet__concern_category__descriptor, b->concern->category));
        return 1;
    case TACNET__EVENT_KIND__ASSESSMENT:
        s_cat(o, "%s completed an assessment", who);
        if (b && b->assessment && b->assessment->has_type && b->assessment->type)
            s_cat(o, " (%s)",
                  labels_enum(&tacnet__assessment_type__descriptor, b->assessment->type));
        if (h->has_level_of_need)
            s_cat(o, ": level of need %s", labels_need(h->level_of_need));
        return 1;
    case TACNET__EVENT_KIND__DECISION:
        s_cat(o, "%s recorded a decision", who);
        if (b && b->decision)
            s_about(o, "about", b->decision->topic);
        return 1;
    case TACNET__EVENT_KIND__DISAGREEMENT:
        s_cat(o, "%s raised %s disagreement", who, urgent ? "an urgent" : "a");
        if (b && b->disagreement)
            s_about(o, "about", b->disagreement->topic);
        return 1;
    case TACNET__EVENT_KIND__MEETING_REQUESTED:
        s_cat(o, "%s asked for a meeting", who);
        if (b && b->meeting_requested)
            s_about(o, "about", b->meeting_requested->purpose);
        return 1;
    case TACNET__EVENT_KIND__MEETING_SCHEDULED:
        s_cat(o, "%s scheduled a meeting", who);
        if (b && b->meeting_scheduled && b->meeting_scheduled->has_mode &&
            b->meeting_scheduled->mode)
            s_cat(o, " %s",
                  labels_enum(&tacnet__meeting_mode__descriptor, b->meeting_scheduled->mode));
        return 1;
    case TACNET__EVENT_KIND__MEETING_OUTCOME:
        s_cat(o, "%s recorded what a meeting decided", who);
        if (b && b->meeting_outcome)
            s_cat(o, ": %zu decision%s, %zu action%s", b->meeting_outcome->n_decisions,
                  b->meeting_outcome->n_decisions == 1 ? "" : "s", b->meeting_outcome->n_actions,
                  b->meeting_outcome->n_actions == 1 ? "" : "s");
        return 1;
    case TACNET__EVENT_KIND__CARE_PLAN:
        s_cat(o, "%s set out a %s", who,
              b && b->care_plan && b->care_plan->has_type
                  ? labels_enum(&tacnet__plan_type__descriptor, b->care_plan->type)
                  : "plan");
        if (b && b->care_plan && b->care_plan->n_goals)
            s_cat(o, " with %zu goal%s", b->care_plan->n_goals,
                  b->care_plan->n_goals == 1 ? "" : "s");
        return 1;
    case TACNET__EVENT_KIND__OUTCOME_MEASURE:
        s_cat(o, "%s recorded %s scores", who,
              b && b->outcome_measure && b->outcome_measure->has_tool
                  ? labels_enum(&tacnet__measure_tool__descriptor, b->outcome_measure->tool)
                  : "outcome");
        if (b && b->outcome_measure && b->outcome_measure->has_baseline &&
            b->outcome_measure->baseline)
            s_cat(o, " (baseline)");
        return 1;
    case TACNET__EVENT_KIND__COMMUNICATION_PLAN:
        s_cat(o, "%s agreed how to keep in touch with the family", who);
        if (b && b->communication_plan && b->communication_plan->every_days)
            s_cat(o, ": a %s every %u days",
                  labels_enum(&tacnet__contact_method__descriptor, b->communication_plan->method),
                  b->communication_plan->every_days);
        return 1;
    case TACNET__EVENT_KIND__CONTACT_LOGGED:
        if (b && b->contact_logged) {
            const Tacnet__ContactLogged *c = b->contact_logged;
            const char *how = labels_enum(&tacnet__contact_method__descriptor, c->method);
            s_cat(o, "%s logged %s %s with the %s%s", who,
                  how[0] && strchr("aeiou", how[0]) ? "an" : "a", how,
                  labels_enum(&tacnet__family_role__descriptor, c->with),
                  c->has_successful && !c->successful ? " (no answer)" : "");
        } else {
            s_cat(o, "%s logged a contact with the family", who);
        }
        return 1;
    case TACNET__EVENT_KIND__CONSENT_RECORDED:
        s_cat(o, "%s recorded that consent was %s", who,
              labels_enum(&tacnet__consent_state__descriptor, b && b->consent_recorded
                                                                  ? b->consent_recorded->state
                                                              : h->has_consent ? h->consent
                                                                               : 0));
        if (b && b->consent_recorded && b->consent_recorded->has_given_by)
            s_cat(o, " by the %s",
                  labels_enum(&tacnet__family_role__descriptor, b->consent_recorded->given_by));
        return 1;
    case TACNET__EVENT_KIND__PARTNERSHIP_RATING: {
        const Tacnet__PartnershipRating *r = b ? b->partnership_rating : NULL;
        if (r && r->has_by_family) {
            /* The family's rating, recorded for them by the sender. */
            s_cat(o, "The %s rated %s", labels_enum(&tacnet__family_role__descriptor, r->by_family),
                  !r->has_about || r->about == TACNET__AGENCY__PARTNERSHIP
                      ? "the whole team"
                      : s_lower_agency(r->about));
            if (r->has_rung)
                s_cat(o, ": %u of 9", r->rung);
            s_cat(o, " (recorded by %s)", who);
            return 1;
        }
        s_cat(o, "%s rated its partnership", who);
        if (r && r->has_about)
            s_cat(o, " with %s", s_lower_agency(r->about));
        if (r && r->has_rung)
            s_cat(o, ": %u of 9", r->rung);
        return 1;
    }
    case TACNET__EVENT_KIND__CASE_CLOSED:
        s_cat(o, "%s closed the case", who);
        if (b && b->case_closed && b->case_closed->has_reason)
            s_cat(o, ": %s",
                  labels_enum(&tacnet__closure_reason__descriptor, b->case_closed->reason));
        return 1;
    case TACNET__EVENT_KIND__MEMBER_JOINED:
        s_cat(o, "%s joined the team around the child", labels_agency(subject));
        if (b && b->member_joined && b->member_joined->named_contact &&
            b->member_joined->named_contact->initials.len)
            s_cat(o, " (named contact %.*s)", (int)b->member_joined->named_contact->initials.len,
                  (const char *)b->member_joined->named_contact->initials.data);
        return 1;
    case TACNET__EVENT_KIND__MEMBER_LEFT:
        if (h->sender != subject) /* the lead took it out */
            s_cat(o, "%s took %s out of the team around the child", who, s_lower_agency(subject));
        else
            s_cat(o, "%s left the team around the child", labels_agency(subject));
        return 1;
    case TACNET__EVENT_KIND__LEAD_HANDOVER:
        s_cat(o, "%s offered the lead professional role to %s", who, s_lower_agency(subject));
        return 1;
    case TACNET__EVENT_KIND__LEAD_ACCEPTED:
        s_cat(o, "%s took on the lead professional role", who);
        return 1;
    case TACNET__EVENT_KIND__ESCALATION_RESPONSE:
        s_cat(o, "%s answered an escalation", who);
        if (b && b->escalation_response)
            s_cat(
                o, " at stage %u: %s", b->escalation_response->stage,
                labels_enum(&tacnet__stage_position__descriptor, b->escalation_response->position));
        return 1;
    case TACNET__EVENT_KIND__ESCALATION_RESOLVED:
        s_cat(o, "%s proposed a resolution to an escalation", who);
        return 1;
    case TACNET__EVENT_KIND__ESCALATION_ACK:
        s_cat(o, "%s %s the proposed resolution", who,
              b && b->escalation_ack && b->escalation_ack->has_accepted &&
                      !b->escalation_ack->accepted
                  ? "did not accept"
                  : "accepted");
        return 1;
    case TACNET__EVENT_KIND__INVOLVEMENT_PREFERENCES:
        s_cat(o, "%s recorded how the family want to be involved", who);
        return 1;
    case TACNET__EVENT_KIND__ACTION_UPDATE:
        s_cat(o, "%s marked an action %s", who,
              b && b->action_update
                  ? labels_enum(&tacnet__action_status__descriptor, b->action_update->status)
                  : "updated");
        return 1;
    default:
        return 0;
    }
}

/* The broker's notices: what happened to the case, not who sent it. */
static void s_notice(out_t *o, const Tacnet__Header *h, const Tacnet__Body *b)
{
    switch (h->kind) {
    case TACNET__EVENT_KIND__ESCALATION_NOTICE: {
        uint32_t ev = h->has_escalation_event ? (uint32_t)h->escalation_event : 0;
        if (b && b->escalation_notice && b->escalation_notice->has_event)
            ev = b->escalation_notice->event;
        if (b && b->escalation_notice && b->escalation_notice->has_joined)
            s_cat(o, "Escalation joined by %s's disagreement, now a party",
                  labels_agency(b->escalation_notice->joined_by));
        else
            s_cat(o, "Escalation %s", labels_enum(&tacnet__escalation_event__descriptor, (int)ev));
        if (h->has_escalation_stage && ev != TACNET__ESCALATION_EVENT__ESC_CLOSED)
            s_cat(o, ": stage %u", h->escalation_stage);
        if (h->has_audience && ev != TACNET__ESCALATION_EVENT__ESC_CLOSED)
            s_cat(o, ", %s to answer", labels_role(h->audience));
        return;
    }
    case TACNET__EVENT_KIND__SAFEGUARDING_ALERT:
        if (b && b->safeguarding_alert)
            s_cat(o, "%s shared information without consent: %s",
                  labels_agency(b->safeguarding_alert->by_agency),
                  labels_enum(&tacnet__override_reason__descriptor, b->safeguarding_alert->reason));
        else
            s_cat(o, "Information was shared without consent");
        return;
    case TACNET__EVENT_KIND__NON_DELIVERY:
        if (b && b->non_delivery)
            s_cat(o, "%s has not received an event in time",
                  labels_agency(b->non_delivery->recipient));
        else
            s_cat(o, "An event was not delivered in time");
        return;
    case TACNET__EVENT_KIND__NON_RESPONSE:
        if (b && b->non_response)
            s_cat(o, "%s has not answered stage %u in time", labels_agency(b->non_response->agency),
                  b->non_response->stage);
        else
            s_cat(o, "An agency has not answered in time");
        return;
    case TACNET__EVENT_KIND__DELIVERY_REPORT:
        s_cat(o, "Recipients applied %zu event%s",
              b && b->delivery_report ? b->delivery_report->n_applied : (size_t)0,
              b && b->delivery_report && b->delivery_report->n_applied == 1 ? "" : "s");
        return;
    default: {
        const char *kind = labels_kind(h->kind);
        s_cat(o, "%s sent %s %s", labels_agency(h->sender), strchr("aeiou", kind[0]) ? "an" : "a",
              kind);
        return;
    }
    }
}

char *labels_event_sentence(const Tacnet__Header *h, const Tacnet__Body *b, char *out, size_t cap)
{
    out_t o = { out, cap, 0 };
    if (!cap)
        return out;
    out[0] = 0;
    if (!h)
        return out;
    if (!s_agency_event(&o, labels_agency(h->sender), h, b))
        s_notice(&o, h, b);
    return out;
}

/* Dates about the future (when a meeting is wanted, the next one) do not date the event. */
static int s_future_date(const char *name)
{
    return strncmp(name, "wanted_", 7) == 0 || strncmp(name, "next_", 5) == 0 ||
           strncmp(name, "target_", 7) == 0 || strncmp(name, "due_", 4) == 0;
}

uint32_t labels_event_date(const Tacnet__Body *b)
{
    if (!b || b->event_case == TACNET__BODY__EVENT__NOT_SET)
        return 0;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&tacnet__body__descriptor, (unsigned)b->event_case);
    if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return 0;
    const ProtobufCMessage *ev = *(const ProtobufCMessage *const *)((const char *)b + f->offset);
    if (!ev)
        return 0;
    const ProtobufCMessageDescriptor *d = ev->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *g = &d->fields[i];
        size_t n = strlen(g->name);
        if (g->type != PROTOBUF_C_TYPE_UINT32 || g->label == PROTOBUF_C_LABEL_REPEATED || n < 5 ||
            strcmp(g->name + n - 5, "_date") != 0 || s_future_date(g->name))
            continue;
        if (g->label == PROTOBUF_C_LABEL_OPTIONAL &&
            !*(const protobuf_c_boolean *)((const char *)ev + g->quantifier_offset))
            continue;
        uint32_t v = *(const uint32_t *)((const char *)ev + g->offset);
        if (v)
            return v;
    }
    return 0;
}
