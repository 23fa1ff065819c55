/* The case page's plans (services/dashboard/web_share.c): a goal's scores as they exist, never an
 * unset score drawn as 0. Nobody is real. */
#include <criterion/criterion.h>
#include <string.h>

#include "clock.h"
#include "dashboard/web_family.h"
#include "dashboard/web_internal.h"

/* One plan by social care with two goals: goal 1 never scored, goal 2 scored once (latest only,
 * no baseline), so no change exists for either. */
Test(web_share, goals_never_scored_say_so_and_a_change_needs_both_scores)
{
    Tacnet__Goal g1 = TACNET__GOAL__INIT, g2 = TACNET__GOAL__INIT;
    g1.has_goal_id = g2.has_goal_id = 1;
    g1.goal_id = 1;
    g2.goal_id = 2;
    g1.description = "Safe at home";
    g2.description = "At school every day";
    Tacnet__Goal *goals[] = { &g1, &g2 };
    Tacnet__CarePlan cp = TACNET__CARE_PLAN__INIT;
    cp.has_type = 1;
    cp.type = TACNET__PLAN_TYPE__CHILD_IN_NEED;
    cp.n_goals = 2;
    cp.goals = goals;
    Tacnet__GoalProgress p1 = TACNET__GOAL_PROGRESS__INIT, p2 = TACNET__GOAL_PROGRESS__INIT;
    p1.goal_id = 1;
    p1.description = "Safe at home";
    p2.goal_id = 2;
    p2.description = "At school every day";
    p2.has_latest_score = 1;
    p2.latest_score = 3;
    Tacnet__GoalProgress *progress[] = { &p1, &p2 };
    Tacnet__PlanView pv = TACNET__PLAN_VIEW__INIT;
    pv.by = TACNET__AGENCY__SOCIAL_CARE;
    pv.plan = &cp;
    pv.n_progress = 2;
    pv.progress = progress;
    Tacnet__PlanView *plans[] = { &pv };
    Tacnet__CaseState st = TACNET__CASE_STATE__INIT;
    st.n_plans = 1;
    st.plans = plans;

    dashboard_buf_t b = { 0 };
    dashboard_web_plans(&b, &st, TACNET__AGENCY__SOCIAL_CARE);
    dashboard_buf_add(&b, "", 1);
    cr_assert_not_null(strstr(b.data, "1. Safe at home</td><td>not measured yet</td><td>not "
                                      "measured yet</td><td>—</td>"),
                       "%s", b.data);
    cr_assert_not_null(
        strstr(b.data, "2. At school every day</td><td>not measured yet</td><td>3</td><td>—</td>"),
        "%s", b.data);
    cr_assert_null(strstr(b.data, "+0"), "a change shown without a baseline: %s", b.data);
    dashboard_buf_free(&b);
}

/* The plan on the case page carries the family's voice (a view in their words, escaped, or the
 * coded reason it is absent, with the date a view not yet asked is owed by) and when each goal
 * is hoped to be achieved. */
Test(web_share, a_plan_shows_the_family_s_views_and_when_each_goal_is_to_be_achieved)
{
    Tacnet__Goal g1 = TACNET__GOAL__INIT, g2 = TACNET__GOAL__INIT;
    g1.has_goal_id = g2.has_goal_id = 1;
    g1.goal_id = 1;
    g2.goal_id = 2;
    g1.description = "On time";
    g2.description = "Sleep";
    g1.has_target_date = 1;
    g1.target_date = 20270201;
    Tacnet__Goal *goals[] = { &g1, &g2 };
    Tacnet__ViewAbsent later = TACNET__VIEW_ABSENT__INIT;
    later.has_reason = 1;
    later.reason = TACNET__VIEW_ABSENCE__NOT_YET_ASKED;
    later.has_ask_by_date = 1;
    later.ask_by_date = 20261201;
    Tacnet__CarePlan cp = TACNET__CARE_PLAN__INIT;
    cp.has_type = 1;
    cp.type = TACNET__PLAN_TYPE__TEAM_AROUND_FAMILY;
    cp.n_goals = 2;
    cp.goals = goals;
    cp.child_view = "Wants <b>friends</b> & football";
    cp.family_view_absent = &later;
    Tacnet__GoalProgress p1 = TACNET__GOAL_PROGRESS__INIT, p2 = TACNET__GOAL_PROGRESS__INIT;
    p1.goal_id = 1;
    p1.description = "On time";
    p2.goal_id = 2;
    p2.description = "Sleep";
    Tacnet__GoalProgress *progress[] = { &p1, &p2 };
    Tacnet__PlanView pv = TACNET__PLAN_VIEW__INIT;
    pv.by = TACNET__AGENCY__SOCIAL_CARE;
    pv.plan = &cp;
    pv.n_progress = 2;
    pv.progress = progress;
    Tacnet__PlanView *plans[] = { &pv };
    Tacnet__CaseState st = TACNET__CASE_STATE__INIT;
    st.n_plans = 1;
    st.plans = plans;

    dashboard_buf_t b = { 0 };
    dashboard_web_plans(&b, &st, TACNET__AGENCY__SOCIAL_CARE);
    dashboard_buf_add(&b, "", 1);
    cr_assert_not_null(strstr(b.data,
                              "<dt>The child's view</dt><dd>Wants &lt;b&gt;friends&lt;/b&gt; "
                              "&amp; football</dd>"),
                       "%s", b.data);
    cr_assert_not_null(strstr(b.data, "<dt>The family's view</dt><dd>not given: not yet asked, to "
                                      "be asked by 2026-12-01</dd>"),
                       "%s", b.data);
    cr_assert_not_null(strstr(b.data, "<th scope=\"col\">Achieved by</th>"), "%s", b.data);
    cr_assert_not_null(strstr(b.data, "<td>—</td><td>2027-02-01</td></tr>"), "%s", b.data);
    cr_assert_not_null(strstr(b.data, "2. Sleep</td><td>not measured yet</td><td>not measured "
                                      "yet</td><td>—</td><td>no date set</td>"),
                       "%s", b.data);
    cr_assert_null(strstr(b.data, "<b>friends"), "unescaped: %s", b.data);
    dashboard_buf_free(&b);
}

/* The school cannot see health information on this case: a CAMHS plan's goal with no score in
 * the school's view may have been scored at health, which never reaches it, so it reads as not
 * shared (with the classes withheld), never "not measured yet"; a score the view holds shows. */
Test(web_share, a_goal_another_agency_may_have_scored_at_a_withheld_class_is_not_called_unmeasured)
{
    Tacnet__Goal g1 = TACNET__GOAL__INIT;
    g1.has_goal_id = 1;
    g1.goal_id = 1;
    g1.description = "Sleeps through";
    Tacnet__Goal *goals[] = { &g1 };
    Tacnet__CarePlan cp = TACNET__CARE_PLAN__INIT;
    cp.has_type = 1;
    cp.type = TACNET__PLAN_TYPE__CAPA_PARTNERSHIP;
    cp.n_goals = 1;
    cp.goals = goals;
    Tacnet__GoalProgress p1 = TACNET__GOAL_PROGRESS__INIT;
    p1.goal_id = 1;
    p1.description = "Sleeps through";
    p1.has_latest_score = 1;
    p1.latest_score = 6;
    Tacnet__GoalProgress *progress[] = { &p1 };
    Tacnet__PlanView pv = TACNET__PLAN_VIEW__INIT;
    pv.by = TACNET__AGENCY__CAMHS;
    pv.plan = &cp;
    pv.n_progress = 1;
    pv.progress = progress;
    Tacnet__PlanView *plans[] = { &pv };
    Tacnet__Sensitivity withheld[] = { TACNET__SENSITIVITY__HEALTH };
    Tacnet__CaseState st = TACNET__CASE_STATE__INIT;
    st.n_plans = 1;
    st.plans = plans;
    st.n_withheld = 1;
    st.withheld = withheld;

    dashboard_buf_t b = { 0 };
    dashboard_web_plans(&b, &st, TACNET__AGENCY__SCHOOL);
    dashboard_buf_add(&b, "", 1);
    cr_assert_not_null(strstr(b.data, "1. Sleeps through</td><td>no score shared with this agency "
                                      "(health detail withheld)</td><td>6</td><td>—</td>"),
                       "%s", b.data);
    cr_assert_null(strstr(b.data, "not measured yet"), "%s", b.data);
    dashboard_buf_free(&b);

    /* CAMHS's own view of its plan holds every score there is: unmeasured is the truth. */
    dashboard_buf_t own = { 0 };
    dashboard_web_plans(&own, &st, TACNET__AGENCY__CAMHS);
    dashboard_buf_add(&own, "", 1);
    cr_assert_not_null(strstr(own.data, "1. Sleeps through</td><td>not measured yet</td><td>6"),
                       "%s", own.data);
    dashboard_buf_free(&own);
}

/* The family's summary, printed by the school: the family plan is social care's and the school
 * does not receive health information on this case, so a goal with no score in its view is not
 * "not scored yet" (it may have been scored at health); the family is told who keeps the scores.
 * Printed by social care, whose own plan it is, unscored is the truth. */
Test(web_family, a_summary_printed_where_scores_may_be_withheld_sends_the_family_to_their_keeper)
{
    Tacnet__Goal g1 = TACNET__GOAL__INIT;
    g1.has_goal_id = 1;
    g1.goal_id = 1;
    g1.description = "Mornings calmer";
    Tacnet__Goal *goals[] = { &g1 };
    Tacnet__CarePlan cp = TACNET__CARE_PLAN__INIT;
    cp.n_goals = 1;
    cp.goals = goals;
    Tacnet__PlanView pv = TACNET__PLAN_VIEW__INIT;
    pv.by = TACNET__AGENCY__SOCIAL_CARE;
    pv.plan = &cp;
    Tacnet__Sensitivity withheld[] = { TACNET__SENSITIVITY__HEALTH };
    Tacnet__PlanView *plans[] = { &pv };
    Tacnet__CaseState st = TACNET__CASE_STATE__INIT;
    st.plan = &pv;
    st.n_plans = 1;
    st.plans = plans;
    st.n_withheld = 1;
    st.withheld = withheld;

    dashboard_buf_t b = { 0 };
    dashboard_web_family_goals(&b, &st, TACNET__AGENCY__SCHOOL);
    dashboard_buf_add(&b, "", 1);
    cr_assert_not_null(
        strstr(b.data, "How it is going: ask Social care, who keep this plan's scores."), "%s",
        b.data);
    cr_assert_null(strstr(b.data, "not scored yet"), "%s", b.data);
    dashboard_buf_free(&b);

    dashboard_buf_t own = { 0 };
    dashboard_web_family_goals(&own, &st, TACNET__AGENCY__SOCIAL_CARE);
    dashboard_buf_add(&own, "", 1);
    cr_assert_not_null(strstr(own.data, "How it is going: not scored yet."), "%s", own.data);
    dashboard_buf_free(&own);
}

/* Social care's team around the family plan (one goal) is the lead plan; CAMHS's CAPA plan sits
 * beside it with goals the family have been scoring. The family's summary lists both, each
 * saying whose it is, rather than only the lead plan's goal. */
Test(web_family, the_summary_lists_the_goals_of_every_current_plan_with_whose_it_is)
{
    Tacnet__Goal t1 = TACNET__GOAL__INIT, c1 = TACNET__GOAL__INIT;
    t1.has_goal_id = c1.has_goal_id = 1;
    t1.goal_id = c1.goal_id = 1;
    t1.description = "Get to school on time";
    c1.description = "Worry less at bedtime";
    Tacnet__Goal *tg[] = { &t1 }, *cg[] = { &c1 };
    Tacnet__CarePlan taf = TACNET__CARE_PLAN__INIT, capa = TACNET__CARE_PLAN__INIT;
    taf.has_type = capa.has_type = 1;
    taf.type = TACNET__PLAN_TYPE__TEAM_AROUND_FAMILY;
    capa.type = TACNET__PLAN_TYPE__CAPA_PARTNERSHIP;
    taf.n_goals = capa.n_goals = 1;
    taf.goals = tg;
    capa.goals = cg;
    Tacnet__GoalProgress cp1 = TACNET__GOAL_PROGRESS__INIT;
    cp1.goal_id = 1;
    cp1.has_baseline_score = cp1.has_latest_score = cp1.has_change = 1;
    cp1.baseline_score = 2;
    cp1.latest_score = 5;
    cp1.change = 3;
    Tacnet__GoalProgress *cprog[] = { &cp1 };
    Tacnet__PlanView lead = TACNET__PLAN_VIEW__INIT, side = TACNET__PLAN_VIEW__INIT;
    lead.by = TACNET__AGENCY__SOCIAL_CARE;
    lead.plan = &taf;
    lead.has_lead = lead.lead = 1;
    side.by = TACNET__AGENCY__CAMHS;
    side.plan = &capa;
    side.n_progress = 1;
    side.progress = cprog;
    Tacnet__PlanView *plans[] = { &lead, &side };
    Tacnet__CaseState st = TACNET__CASE_STATE__INIT;
    st.plan = &lead;
    st.n_plans = 2;
    st.plans = plans;

    dashboard_buf_t b = { 0 };
    dashboard_web_family_goals(&b, &st, TACNET__AGENCY__CAMHS);
    dashboard_buf_add(&b, "", 1);
    const char *taf_at = strstr(b.data, "Team around the family plan, kept by Social care (the "
                                        "team's main plan)</h3>");
    const char *capa_at = strstr(b.data, "CAPA partnership plan, kept by CAMHS</h3>");
    cr_assert_not_null(taf_at, "%s", b.data);
    cr_assert_not_null(capa_at, "%s", b.data);
    cr_assert_lt(taf_at, capa_at, "the lead plan first: %s", b.data);
    cr_assert_not_null(strstr(taf_at, "Get to school on time"), "%s", b.data);
    cr_assert_not_null(strstr(capa_at, "Worry less at bedtime</p><p>How it is going: it started "
                                       "at 2 out of 10 and is now 5 out of 10."),
                       "%s", b.data);
    dashboard_buf_free(&b);

    Tacnet__CaseState none = TACNET__CASE_STATE__INIT;
    dashboard_buf_t e = { 0 };
    dashboard_web_family_goals(&e, &none, TACNET__AGENCY__CAMHS);
    dashboard_buf_add(&e, "", 1);
    cr_assert_not_null(strstr(e.data, "No goals have been agreed yet."), "%s", e.data);
    dashboard_buf_free(&e);
}

/* "Our next meeting" never names a day already past: minutes that set 1 December for the next
 * meeting, read on the 4th with nothing scheduled, say it is not arranged; read on the 1st they
 * name it; a meeting scheduled and not held comes first. */
Test(web_family, the_next_meeting_is_never_a_day_already_past)
{
    Tacnet__MeetingOutcome o = TACNET__MEETING_OUTCOME__INIT;
    o.next_meeting_date = 20261201;
    Tacnet__MeetingView held = TACNET__MEETING_VIEW__INIT;
    held.outcome = &o;
    Tacnet__MeetingView *meetings[] = { &held, NULL };
    Tacnet__CaseState st = TACNET__CASE_STATE__INIT;
    st.n_meetings = 1;
    st.meetings = meetings;
    const uint64_t dec4 = clock_date_to_ms(20261204) + 9 * 3600000ull;

    dashboard_buf_t b = { 0 };
    dashboard_web_family_next_meeting(&b, &st, dec4);
    dashboard_buf_add(&b, "", 1);
    cr_assert_not_null(strstr(b.data, "Not arranged yet"), "%s", b.data);
    cr_assert_null(strstr(b.data, "2026-12-01"), "%s", b.data);
    dashboard_buf_free(&b);

    dashboard_buf_t on = { 0 };
    dashboard_web_family_next_meeting(&on, &st, clock_date_to_ms(20261201) + 3600000ull);
    dashboard_buf_add(&on, "", 1);
    cr_assert_not_null(strstr(on.data, "<p>2026-12-01</p>"), "%s", on.data);
    dashboard_buf_free(&on);

    Tacnet__MeetingScheduled sch = TACNET__MEETING_SCHEDULED__INIT;
    sch.has_starts_at_ms = 1;
    sch.starts_at_ms = clock_date_to_ms(20261210) + 14 * 3600000ull;
    Tacnet__MeetingView coming = TACNET__MEETING_VIEW__INIT;
    coming.scheduled = &sch;
    meetings[1] = &coming;
    st.n_meetings = 2;
    dashboard_buf_t s2 = { 0 };
    dashboard_web_family_next_meeting(&s2, &st, dec4);
    dashboard_buf_add(&s2, "", 1);
    cr_assert_not_null(strstr(s2.data, "2026-12-10 14:00"), "%s", s2.data);
    dashboard_buf_free(&s2);
}
