/* goals: co-produced goals in a hierarchy of need, checked at publish. Synthetic data. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "casework/goals.h"
#include "casework/workflow.h"
#include "err.h"
#include "pbjson_fixture.h"

static int s_check(const char *goals, char *why, size_t cap)
{
    char json[1200];
    snprintf(json, sizeof(json),
             "{\"kind\":\"care_plan\",\"case_ref\":\"LA9-2026-000777\",\"initials\":\"QZ\","
             "\"body\":{\"care_plan\":{\"type\":\"team_around_family\",\"goals\":[%s],"
             "\"child_view\":\"Fine\",\"family_view\":\"Fine\"}}}",
             goals);
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_fixture_message(
        &tacnet__publish_request__descriptor, json);
    why[0] = 0;
    int rc = workflow_check(req, why, cap);
    tacnet__publish_request__free_unpacked(req, NULL);
    return rc;
}

Test(goals, a_co_produced_goal_says_whose_words_and_who_agreed)
{
    char why[256];
    cr_assert_eq(s_check("{\"goal_id\":1,\"description\":\"Feel safe at home\",\"words\":"
                         "\"child_words\",\"agreed_by_family\":[\"child\",\"mother\"],"
                         "\"agreed_by\":[\"social_care\"],\"need\":\"need_safety\"}",
                         why, sizeof(why)),
                 0, "%s", why);
    cr_assert_eq(s_check("{\"goal_id\":1,\"description\":\"Sleep\",\"words\":\"parent_words\"}",
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "goals[0].agreed_by_family or agreed_by"), "%s", why);
    cr_assert_eq(s_check("{\"goal_id\":1,\"description\":\"Sleep\",\"agreed_by\":[\"camhs\"]}", why,
                         sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "goals[0].words: whose words"), "%s", why);
    cr_assert_eq(s_check("{\"goal_id\":1,\"description\":\"Sleep\"}", why, sizeof(why)), 0,
                 "a goal need not claim co-production: %s", why);
}

Test(goals, goals_are_listed_safety_first)
{
    char why[256];
    cr_assert_eq(s_check("{\"goal_id\":1,\"description\":\"School\",\"need\":\"need_learning\"},"
                         "{\"goal_id\":2,\"description\":\"Food at weekends\",\"need\":"
                         "\"need_basic\"}",
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert_str_eq(why, "care_plan.goals[1].need: basic needs comes before learning "
                          "(goals[0]); list goals safety first");
    cr_assert_eq(s_check("{\"goal_id\":1,\"description\":\"Safe\",\"need\":\"need_safety\"},"
                         "{\"goal_id\":2,\"description\":\"Unranked\"},"
                         "{\"goal_id\":3,\"description\":\"School\",\"need\":\"need_learning\"}",
                         why, sizeof(why)),
                 0, "%s", why);
}

Test(goals, quick_wins_are_marked_and_the_plan_has_one_engagement_aim)
{
    char why[256];
    cr_assert_eq(s_check("{\"goal_id\":1,\"description\":\"Breakfast club\",\"quick_win\":true},"
                         "{\"goal_id\":2,\"description\":\"Come to sessions\","
                         "\"engagement_aim\":true}",
                         why, sizeof(why)),
                 0, "%s", why);
    cr_assert_eq(s_check("{\"goal_id\":1,\"description\":\"A\",\"engagement_aim\":true},"
                         "{\"goal_id\":2,\"description\":\"B\",\"engagement_aim\":true}",
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "goals[1].engagement_aim"), "%s", why);
    cr_assert_str_eq(goals_words(TACNET__GOAL_WORDS__CHILD_WORDS), "in the child's words");
    cr_assert_null(goals_words(TACNET__GOAL_WORDS__WORDS_UNKNOWN));
    cr_assert_str_eq(goals_need_name(TACNET__NEED_TIER__NEED_SAFETY), "safety");
}

/* A GBO score is for a goal of the sender's plan: goal 3 of social care's one-goal plan is no
 * goal at all, and another agency's goal 3 does not make it one. With no plan of its own in the
 * view there is nothing to judge by, and only GBO names goals. */
Test(goals, a_gbo_score_for_a_goal_the_sender_s_plan_does_not_have_is_refused)
{
    Tacnet__CarePlan *taf = (Tacnet__CarePlan *)pbjson_fixture_message(
        &tacnet__care_plan__descriptor, "{\"type\":\"team_around_family\",\"goals\":[{\"goal_id\":"
                                        "1,\"description\":\"On time\"}]}");
    Tacnet__CarePlan *capa = (Tacnet__CarePlan *)pbjson_fixture_message(
        &tacnet__care_plan__descriptor,
        "{\"type\":\"capa_partnership\",\"goals\":[{\"goal_id\":1,\"description\":\"Sleep\"},"
        "{\"goal_id\":3,\"description\":\"Sessions\"}]}");
    Tacnet__PlanView sc = TACNET__PLAN_VIEW__INIT, camhs = TACNET__PLAN_VIEW__INIT;
    sc.by = TACNET__AGENCY__SOCIAL_CARE;
    sc.plan = taf;
    camhs.by = TACNET__AGENCY__CAMHS;
    camhs.plan = capa;
    Tacnet__PlanView *plans[] = { &camhs, &sc };
    Tacnet__OutcomeMeasure *three = (Tacnet__OutcomeMeasure *)pbjson_fixture_message(
        &tacnet__outcome_measure__descriptor, "{\"tool\":\"gbo\",\"values\":[9],\"goal_ids\":[3]}");
    Tacnet__OutcomeMeasure *one = (Tacnet__OutcomeMeasure *)pbjson_fixture_message(
        &tacnet__outcome_measure__descriptor, "{\"tool\":\"gbo\",\"values\":[3],\"goal_ids\":[1]}");
    Tacnet__OutcomeMeasure *ors = (Tacnet__OutcomeMeasure *)pbjson_fixture_message(
        &tacnet__outcome_measure__descriptor, "{\"tool\":\"ors\",\"values\":[5,5,5,5]}");
    char why[256] = "";
    cr_assert_eq(
        goals_gbo_check(three, TACNET__AGENCY__SOCIAL_CARE, plans, 2, NULL, why, sizeof(why)),
        TACNET_EFIELD);
    cr_assert_str_eq(why, "outcome_measure.goal_ids: goal 3 is not a goal of this agency's plan "
                          "(team around the family plan: goal 1); score the plan's own goals by "
                          "their numbers, or add the goal to the plan first");
    cr_assert_eq(
        goals_gbo_check(one, TACNET__AGENCY__SOCIAL_CARE, plans, 2, NULL, why, sizeof(why)), 0);
    cr_assert_eq(goals_gbo_check(three, TACNET__AGENCY__CAMHS, plans, 2, NULL, why, sizeof(why)), 0,
                 "CAMHS's own goal 3: %s", why);
    cr_assert_eq(goals_gbo_check(three, TACNET__AGENCY__SCHOOL, plans, 2, NULL, why, sizeof(why)),
                 0, "no plan of the school's in the view: %s", why);
    cr_assert_eq(
        goals_gbo_check(ors, TACNET__AGENCY__SOCIAL_CARE, plans, 2, NULL, why, sizeof(why)), 0);
    tacnet__care_plan__free_unpacked(taf, NULL);
    tacnet__care_plan__free_unpacked(capa, NULL);
    tacnet__outcome_measure__free_unpacked(three, NULL);
    tacnet__outcome_measure__free_unpacked(one, NULL);
    tacnet__outcome_measure__free_unpacked(ors, NULL);
}

/* An agency with two plans that each have a goal 1 says which plan its scores are for; with one
 * plan that has the goals, the scores are placed on it. */
Test(goals, gbo_scores_are_placed_on_the_one_plan_that_has_their_goals)
{
    Tacnet__CarePlan *taf = (Tacnet__CarePlan *)pbjson_fixture_message(
        &tacnet__care_plan__descriptor, "{\"type\":\"team_around_family\",\"goals\":[{\"goal_id\":"
                                        "1,\"description\":\"On time\"}]}");
    Tacnet__CarePlan *capa = (Tacnet__CarePlan *)pbjson_fixture_message(
        &tacnet__care_plan__descriptor,
        "{\"type\":\"capa_partnership\",\"goals\":[{\"goal_id\":1,\"description\":\"Sleep\"},"
        "{\"goal_id\":2,\"description\":\"Sessions\"}]}");
    uint8_t id_taf[16], id_capa[16];
    memset(id_taf, 0x11, sizeof(id_taf));
    memset(id_capa, 0x22, sizeof(id_capa));
    Tacnet__PlanView a = TACNET__PLAN_VIEW__INIT, b = TACNET__PLAN_VIEW__INIT;
    a.by = b.by = TACNET__AGENCY__CAMHS;
    a.plan = taf;
    b.plan = capa;
    a.has_plan_id = b.has_plan_id = 1;
    a.plan_id = (ProtobufCBinaryData){ 16, id_taf };
    b.plan_id = (ProtobufCBinaryData){ 16, id_capa };
    Tacnet__PlanView *plans[] = { &a, &b };
    Tacnet__OutcomeMeasure *g1 = (Tacnet__OutcomeMeasure *)pbjson_fixture_message(
        &tacnet__outcome_measure__descriptor, "{\"tool\":\"gbo\",\"values\":[3],\"goal_ids\":[1]}");
    Tacnet__OutcomeMeasure *g2 = (Tacnet__OutcomeMeasure *)pbjson_fixture_message(
        &tacnet__outcome_measure__descriptor, "{\"tool\":\"gbo\",\"values\":[3],\"goal_ids\":[2]}");
    char why[256] = "";
    long plan = 7;
    cr_assert_eq(goals_gbo_check(g2, TACNET__AGENCY__CAMHS, plans, 2, &plan, why, sizeof(why)), 0,
                 "%s", why);
    cr_assert_eq(plan, 1, "only the CAPA plan has a goal 2");
    cr_assert_eq(goals_gbo_check(g1, TACNET__AGENCY__CAMHS, plans, 2, &plan, why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "outcome_measure.plan_id: more than one of this agency's plans"), "%s",
              why);
    g1->has_plan_id = 1;
    g1->plan_id = (ProtobufCBinaryData){ 16, id_taf };
    cr_assert_eq(goals_gbo_check(g1, TACNET__AGENCY__CAMHS, plans, 2, &plan, why, sizeof(why)), 0,
                 "%s", why);
    cr_assert_eq(plan, 0);
    g2->has_plan_id = 1;
    g2->plan_id = (ProtobufCBinaryData){ 16, id_taf };
    cr_assert_eq(goals_gbo_check(g2, TACNET__AGENCY__CAMHS, plans, 2, &plan, why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "goal 2 is not a goal of the plan named by outcome_measure.plan_id"),
              "%s", why);
    uint8_t other[16];
    memset(other, 0x33, sizeof(other));
    g2->plan_id = (ProtobufCBinaryData){ 16, other };
    cr_assert_eq(goals_gbo_check(g2, TACNET__AGENCY__CAMHS, plans, 2, &plan, why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "outcome_measure.plan_id: not one of this agency's plans"), "%s", why);
    /* Borrowed ids (not the fixture's allocations): cleared before freeing. */
    g1->has_plan_id = g2->has_plan_id = 0;
    g1->plan_id = g2->plan_id = (ProtobufCBinaryData){ 0, NULL };
    tacnet__care_plan__free_unpacked(taf, NULL);
    tacnet__care_plan__free_unpacked(capa, NULL);
    tacnet__outcome_measure__free_unpacked(g1, NULL);
    tacnet__outcome_measure__free_unpacked(g2, NULL);
}

/* Only a GBO scores a plan's goals, so only a GBO names a plan. */
Test(goals, a_plan_id_on_a_measure_that_is_not_a_gbo_is_refused)
{
    const char *reqs[] = {
        "{\"tool\":\"ors\",\"values\":[5,5,5,5],\"plan_id\":\"11111111111111111111111111111111\"}",
        "{\"tool\":\"gbo\",\"values\":[5],\"goal_ids\":[1],\"plan_id\":\"1111\"}",
        "{\"tool\":\"gbo\",\"values\":[5],\"goal_ids\":[1],"
        "\"plan_id\":\"11111111111111111111111111111111\"}",
    };
    const char *want[] = { "outcome_measure.plan_id: only a GBO measure scores a plan's goals",
                           "outcome_measure.plan_id: a plan id is 32 hex digits", NULL };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        char json[600], why[256] = "";
        snprintf(json, sizeof(json),
                 "{\"kind\":\"outcome_measure\",\"case_ref\":\"LA9-2026-000777\",\"initials\":"
                 "\"QZ\",\"body\":{\"outcome_measure\":%s}}",
                 reqs[i]);
        Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_fixture_message(
            &tacnet__publish_request__descriptor, json);
        int rc = workflow_check(req, why, sizeof(why));
        tacnet__publish_request__free_unpacked(req, NULL);
        if (want[i]) {
            cr_expect_eq(rc, TACNET_EFIELD, "%s", reqs[i]);
            cr_expect_str_eq(why, want[i]);
        } else {
            cr_expect_eq(rc, 0, "%s: %s", reqs[i], why);
        }
    }
}
