/* capa: a CAPA Choice appointment's record and a partnership plan's workers. Synthetic data. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "casework/capa.h"
#include "casework/workflow.h"
#include "err.h"
#include "pbjson_fixture.h"

/* The workflow check (which calls capa_check) on a PublishRequest of KIND with BODY. */
static int s_check(const char *kind, const char *body, char *why, size_t cap)
{
    char json[2000];
    snprintf(json, sizeof(json),
             "{\"kind\":\"%s\",\"case_ref\":\"LA9-2026-000777\",\"initials\":\"QZ\","
             "\"body\":{\"%s\":{%s}}}",
             kind, kind, body);
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_fixture_message(
        &tacnet__publish_request__descriptor, json);
    why[0] = 0;
    int rc = workflow_check(req, why, cap);
    tacnet__publish_request__free_unpacked(req, NULL);
    return rc;
}

#define CHOICE_HEAD "\"type\":\"capa_choice\",\"level_of_need\":2,"
#define PLAN_HEAD                                                                      \
    "\"type\":\"capa_partnership\",\"review_interval_days\":42,\"child_view\":\"Want " \
    "to sleep\",\"family_view\":\"Worried\","

Test(capa, a_choice_record_with_a_formulation_and_a_choice_is_accepted)
{
    char why[256];
    cr_assert_eq(s_check("assessment",
                         CHOICE_HEAD "\"capa_choice\":{\"curious\":\"Worry began after the move\","
                                     "\"honest_opinion\":\"Anxiety we can help with\","
                                     "\"joint_formulation\":\"Worry keeps sleep short\","
                                     "\"alternatives\":[\"Parenting group\",\"School "
                                     "counsellor\"],\"chosen\":\"chosen_partnership\","
                                     "\"engagement\":\"Keep a sleep diary for two weeks\"}",
                         why, sizeof(why)),
                 0, "%s", why);
    /* An assessment without the record is still an assessment: the record is optional. */
    cr_assert_eq(s_check("assessment", CHOICE_HEAD "\"summary\":\"Low mood\"", why, sizeof(why)), 0,
                 "%s", why);
}

Test(capa, a_choice_record_needs_a_joint_formulation_and_the_familys_choice)
{
    char why[256];
    cr_assert_eq(s_check("assessment",
                         CHOICE_HEAD "\"capa_choice\":{\"chosen\":\"chosen_self_help\"}", why,
                         sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "assessment.capa_choice.joint_formulation is required"), "%s", why);
    cr_assert_eq(s_check("assessment",
                         CHOICE_HEAD "\"capa_choice\":{\"joint_formulation\":\"Worry\"}", why,
                         sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "assessment.capa_choice.chosen is required"), "%s", why);
    cr_assert_eq(s_check("assessment",
                         CHOICE_HEAD "\"capa_choice\":{\"joint_formulation\":\"Worry\","
                                     "\"chosen\":\"chosen_other_service\"}",
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "capa_choice.alternatives: the family chose another service"), "%s", why);
    cr_assert_eq(s_check("assessment",
                         CHOICE_HEAD "\"capa_choice\":{\"joint_formulation\":\"Worry\","
                                     "\"chosen\":\"chosen_other_service\",\"alternatives\":"
                                     "[\"Group\",\" \"]}",
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "capa_choice.alternatives[1] is empty"), "%s", why);
}

Test(capa, a_choice_record_belongs_to_a_choice_appointment)
{
    char why[256];
    cr_assert_eq(s_check("assessment",
                         "\"type\":\"early_help\",\"capa_choice\":{\"joint_formulation\":\"W\","
                         "\"chosen\":\"chosen_partnership\"}",
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "only on an assessment of type capa_choice"), "%s", why);
}

Test(capa, a_partnership_plan_names_its_core_and_specific_workers)
{
    char why[256];
    cr_assert_eq(s_check("care_plan",
                         PLAN_HEAD "\"core_worker\":{\"initials\":\"TB\",\"role\":\"Mental "
                                   "health practitioner\"},\"specific_workers\":[{\"initials\":"
                                   "\"RW\",\"role\":\"Family therapist\",\"brings\":\"Family "
                                   "sessions\"}]",
                         why, sizeof(why)),
                 0, "%s", why);
    cr_assert_eq(s_check("care_plan",
                         PLAN_HEAD "\"specific_workers\":[{\"initials\":\"RW\",\"role\":\"Family "
                                   "therapist\",\"brings\":\"Family sessions\"}]",
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "care_plan.core_worker is required with specific workers"), "%s", why);
    cr_assert_eq(s_check("care_plan", PLAN_HEAD "\"core_worker\":{\"role\":\"Practitioner\"}", why,
                         sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "care_plan.core_worker.initials is required"), "%s", why);
    cr_assert_eq(
        s_check("care_plan", PLAN_HEAD "\"core_worker\":{\"initials\":\"TB\"}", why, sizeof(why)),
        TACNET_EFIELD);
    cr_assert(strstr(why, "care_plan.core_worker.role is required"), "%s", why);
    cr_assert_eq(s_check("care_plan",
                         PLAN_HEAD "\"core_worker\":{\"initials\":\"TB\",\"role\":\"P\"},"
                                   "\"specific_workers\":[{\"initials\":\"RW\",\"role\":\"OT\"}]",
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "care_plan.specific_workers[0].brings is required"), "%s", why);
}

Test(capa, workers_are_for_capa_partnership_plans_and_few)
{
    char why[256];
    cr_assert_eq(s_check("care_plan",
                         "\"type\":\"team_around_family\",\"child_view\":\"Ok\",\"family_view\":"
                         "\"Ok\",\"core_worker\":{\"initials\":\"TB\",\"role\":\"P\"}",
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "care_plan.core_worker: core and specific workers are for "
                          "capa_partnership plans"),
              "%s", why);
    char body[1500];
    int off = snprintf(body, sizeof(body),
                       PLAN_HEAD "\"core_worker\":{\"initials\":\"TB\",\"role\":\"P\"},"
                                 "\"specific_workers\":[");
    for (unsigned i = 0; i <= CAPA_MAX_SPECIFIC_WORKERS; i++)
        off += snprintf(body + off, sizeof(body) - (size_t)off,
                        "%s{\"initials\":\"RW\",\"role\":\"OT\",\"brings\":\"Sensory\"}",
                        i ? "," : "");
    snprintf(body + off, sizeof(body) - (size_t)off, "]");
    cr_assert_eq(s_check("care_plan", body, why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "care_plan.specific_workers: 7 workers; at most 6"), "%s", why);
}

Test(capa, the_choice_in_words)
{
    cr_assert_str_eq(capa_chosen_words(TACNET__CAPA_CHOSEN__CHOSEN_PARTNERSHIP),
                     "partnership work with CAMHS");
    cr_assert_null(capa_chosen_words(TACNET__CAPA_CHOSEN__CHOSEN_UNKNOWN));
    cr_assert_null(capa_chosen_words((Tacnet__CapaChosen)99));
    Tacnet__Body b = TACNET__BODY__INIT;
    cr_assert_eq(capa_check(TACNET__EVENT_KIND__DECISION, &b, NULL, 0), 0);
    cr_assert_eq(capa_check(TACNET__EVENT_KIND__ASSESSMENT, NULL, NULL, 0), TACNET_EINVAL);
}
