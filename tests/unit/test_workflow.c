/* rules: workflow checks on event bodies at publish. Requests are written as JSON (common/pbjson)
 * in the shape the local API takes; nobody in them is real. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casework/workflow.h"
#include "clock.h"
#include "err.h"
#include "pbjson_fixture.h"

static int s_check(const char *json, char *why, size_t cap)
{
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_fixture_message(
        &tacnet__publish_request__descriptor, json);
    why[0] = 0;
    int rc = workflow_check(req, why, cap);
    tacnet__publish_request__free_unpacked(req, NULL);
    return rc;
}

#define REQ(kind, extra, body)                                                          \
    "{\"kind\":\"" kind "\",\"case_ref\":\"LA9-2026-000777\",\"initials\":\"QZ\"" extra \
    ",\"body\":{" body "}}"

#define ESC_ID ",\"refers_to\":\"03030303030303030303030303030303\""

Test(rules, an_sdq_item_out_of_range_is_refused_naming_the_item)
{
    char why[256];
    int rc = s_check(REQ("outcome_measure", "",
                         "\"outcome_measure\":{\"tool\":\"sdq\",\"informant\":\"parent_report\","
                         "\"values\":[1,1,1,1,1,1,1,1,1,1,1,1,1,3,1,1,1,1,1,1,1,1,1,1,1]}"),
                     why, sizeof(why));
    cr_assert_eq(rc, TACNET_EMEASURE);
    cr_assert(strstr(why, "item 14"), "%s", why);
}

Test(rules, an_incomplete_rcads_is_refused)
{
    char why[256];
    cr_assert_eq(s_check(REQ("outcome_measure", "",
                             "\"outcome_measure\":{\"tool\":\"rcads\",\"informant\":"
                             "\"self_report\",\"values\":[1,2,3]}"),
                         why, sizeof(why)),
                 TACNET_EMEASURE);
    cr_assert(strstr(why, "outcome_measure"), "%s", why);
}

Test(rules, a_valid_gbo_passes)
{
    char why[256];
    cr_assert_eq(s_check(REQ("outcome_measure", "",
                             "\"outcome_measure\":{\"tool\":\"gbo\",\"informant\":\"self_report\","
                             "\"values\":[2,3],\"goal_ids\":[1,2]}"),
                         why, sizeof(why)),
                 0, "%s", why);
}

Test(rules, a_capa_plan_without_a_review_interval_is_refused)
{
    char why[256];
    cr_assert_eq(s_check(REQ("care_plan", "",
                             "\"care_plan\":{\"type\":\"capa_partnership\",\"goals\":[{\"goal_id\""
                             ":1,\"description\":\"Sleep\"}]}"),
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "review_interval_days"), "%s", why);
}

Test(rules, plan_goals_are_numbered_one_to_three_once_each)
{
    char why[256];
    cr_assert_eq(
        s_check(REQ("care_plan", "",
                    "\"care_plan\":{\"type\":\"team_around_family\",\"goals\":[{\"goal_id\""
                    ":1,\"description\":\"A\"},{\"goal_id\":4,\"description\":\"B\"}]}"),
                why, sizeof(why)),
        TACNET_EFIELD);
    cr_assert(strstr(why, "goals[1].goal_id"), "%s", why);
    cr_assert_eq(
        s_check(REQ("care_plan", "",
                    "\"care_plan\":{\"type\":\"team_around_family\",\"goals\":[{\"goal_id\""
                    ":2,\"description\":\"A\"},{\"goal_id\":2,\"description\":\"B\"}]}"),
                why, sizeof(why)),
        TACNET_EFIELD);
    cr_assert(strstr(why, "twice"), "%s", why);
}

Test(rules, a_resolution_needs_the_outcome_and_the_childs_current_safety)
{
    char why[256];
    cr_assert_eq(s_check(REQ("escalation_resolved", ESC_ID,
                             "\"escalation_resolved\":{\"outcome\":\"Agreed level 3\"}"),
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "child_safety"), "%s", why);
    cr_assert_eq(s_check(REQ("escalation_resolved", "",
                             "\"escalation_resolved\":{\"outcome\":\"Agreed\",\"child_safety\":"
                             "\"Safe\"}"),
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "refers_to"), "%s", why);
    cr_assert_eq(s_check(REQ("escalation_resolved", ESC_ID,
                             "\"escalation_resolved\":{\"outcome\":\"Agreed\",\"child_safety\":"
                             "\"Safe at home with a plan\",\"child_view\":\"Wants to stay home\","
                             "\"family_view_absent\":{\"reason\":\"declined\"}}"),
                         why, sizeof(why)),
                 0, "%s", why);
}

Test(rules, a_disagreement_states_whether_the_child_is_safe_now)
{
    char why[256];
    cr_assert_eq(s_check(REQ("disagreement", "", "\"disagreement\":{\"topic\":\"Level\"}"), why,
                         sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "child_safety"), "%s", why);
}

Test(rules, partnership_rungs_run_from_one_to_nine)
{
    char why[256];
    cr_assert_eq(s_check(REQ("partnership_rating", "",
                             "\"partnership_rating\":{\"about\":\"school\",\"rung\":10}"),
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "rung: 10"), "%s", why);
    cr_assert_eq(s_check(REQ("partnership_rating", "",
                             "\"partnership_rating\":{\"about\":\"school\",\"rung\":9}"),
                         why, sizeof(why)),
                 0);
}

Test(rules, meeting_actions_need_owner_due_date_and_status)
{
    char why[256];
    cr_assert_eq(
        s_check(REQ("meeting_outcome", "",
                    "\"meeting_outcome\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
                    "\"held_date\":\"2026-11-20\",\"actions\":[{\"action_id\":"
                    "\"a1a2a3a4a5a6a7a8a9aaabacadaeaf00\",\"description\":\"Breakfast club\","
                    "\"owner_agency\":\"school\",\"status\":\"open\"}]}"),
                why, sizeof(why)),
        TACNET_EFIELD);
    cr_assert(strstr(why, "actions[0].due_date"), "%s", why);
    cr_assert_eq(
        s_check(REQ("meeting_outcome", "",
                    "\"meeting_outcome\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
                    "\"held_date\":\"1969-12-31\"}"), /* before the calendar's epoch */
                why, sizeof(why)),
        TACNET_EFIELD);
    cr_assert(strstr(why, "held_date"), "%s", why);
}

Test(rules, a_communication_plan_agrees_a_timetable_and_a_named_contact)
{
    char why[256];
    cr_assert_eq(s_check(REQ("communication_plan", "",
                             "\"communication_plan\":{\"every_days\":0,\"start_date\":"
                             "\"2026-11-02\"}"),
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "every_days"), "%s", why);
    cr_assert_eq(s_check(REQ("communication_plan", "",
                             "\"communication_plan\":{\"every_days\":14,\"start_date\":"
                             "\"2026-11-02\"}"),
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "named_contact"), "%s", why);
}

Test(rules, kinds_without_workflow_rules_pass)
{
    char why[256];
    cr_assert_eq(
        s_check(REQ("concern", "", "\"concern\":{\"category\":\"attendance\"}"), why, sizeof(why)),
        0);
}

/* Today (UTC) plus DAYS, as "YYYY-MM-DD", into OUT. */
static void s_day(int days, char out[16])
{
    uint32_t d = clock_ms_to_date(clock_now_ms() + (uint64_t)((int64_t)days * 86400000LL));
    snprintf(out, 16, "%04u-%02u-%02u", d / 10000 % 10000, d / 100 % 100, d % 100);
}

Test(rules, a_date_something_happened_on_is_not_in_the_future)
{
    char why[256], json[512], day[16];
    s_day(3, day);
    snprintf(json, sizeof(json),
             REQ("contact_logged", "",
                 "\"contact_logged\":{\"with\":\"mother\",\"method\":\"letter\","
                 "\"contact_date\":\"%s\"}"),
             day);
    cr_assert_eq(s_check(json, why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "contact_logged.contact_date") && strstr(why, day) &&
                  strstr(why, "in the future"),
              "%s", why);
    /* Today and yesterday are dates things happened on. */
    for (int back = 0; back <= 1; back++) {
        s_day(-back, day);
        snprintf(json, sizeof(json),
                 REQ("contact_logged", "",
                     "\"contact_logged\":{\"with\":\"mother\",\"method\":\"letter\","
                     "\"contact_date\":\"%s\"}"),
                 day);
        cr_assert_eq(s_check(json, why, sizeof(why)), 0, "%s: %s", day, why);
    }
    /* A meeting held next week, in a row of a larger message, is refused too. */
    s_day(7, day);
    snprintf(json, sizeof(json),
             REQ("meeting_outcome", "",
                 "\"meeting_outcome\":{\"meeting_id\":\"04040404040404040404040404040404\","
                 "\"held_date\":\"%s\"}"),
             day);
    cr_assert_eq(s_check(json, why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "meeting_outcome.held_date"), "%s", why);
    /* An expected birth is not a date something happened on. */
    s_day(60, day);
    snprintf(json, sizeof(json),
             REQ("assessment", "",
                 "\"assessment\":{\"type\":\"promotional_interview\",\"level_of_need\":1,"
                 "\"birth_date\":\"%s\"}"),
             day);
    cr_assert_eq(s_check(json, why, sizeof(why)), 0, "%s", why);
}

Test(rules, a_level_of_need_runs_from_one_to_four)
{
    char why[256];
    cr_assert_eq(s_check(REQ("assessment", "",
                             "\"assessment\":{\"type\":\"early_help\",\"level_of_need\":7}"),
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "assessment.level_of_need: 7 is not a level of need"), "%s", why);
    cr_assert_eq(s_check(REQ("assessment", ",\"level_of_need\":0",
                             "\"assessment\":{\"type\":\"early_help\",\"level_of_need\":2}"),
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "level_of_need: 0"), "%s", why);
    cr_assert_eq(s_check(REQ("escalation_resolved", ESC_ID,
                             "\"escalation_resolved\":{\"outcome\":\"Agreed\",\"child_safety\":"
                             "\"Safe\",\"agreed_level_of_need\":5,\"child_view_absent\":{"
                             "\"reason\":\"too_young\"},\"family_view\":\"Agree\"}"),
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "escalation_resolved.agreed_level_of_need: 5"), "%s", why);
    cr_assert_eq(s_check(REQ("assessment", "",
                             "\"assessment\":{\"type\":\"early_help\",\"level_of_need\":4}"),
                         why, sizeof(why)),
                 0, "%s", why);
}

Test(rules, a_contact_says_with_whom_and_how)
{
    char why[256];
    cr_assert_eq(s_check(REQ("contact_logged", "", "\"contact_logged\":{}"), why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "contact_logged.with is required"), "%s", why);
    cr_assert_eq(s_check(REQ("contact_logged", "", "\"contact_logged\":{\"with\":\"mother\"}"), why,
                         sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "contact_logged.method is required"), "%s", why);
    cr_assert_eq(s_check(REQ("contact_logged", "",
                             "\"contact_logged\":{\"with\":\"mother\",\"method\":\"letter\"}"),
                         why, sizeof(why)),
                 0, "%s", why);
}

/* A free-text field holds a note, not a document: over 10,000 characters (counted as characters,
 * not bytes) it is refused naming the field and its length; 10,000 pass. */
Test(rules, a_free_text_field_over_ten_thousand_characters_is_refused)
{
    char why[512];
    size_t n = 10000;
    char *text = malloc(2 * n + 16);
    for (size_t i = 0; i < n; i++)
        memcpy(text + 2 * i, "\xc3\xa9", 2); /* 10,000 e-acutes: 20,000 bytes */
    text[2 * n] = 0;
    char *json = malloc(2 * n + 512);
    snprintf(json, 2 * n + 512,
             REQ("contact_logged", "",
                 "\"contact_logged\":{\"with\":\"mother\",\"method\":\"office_visit\",\"summary\":"
                 "\"%s\"}"),
             text);
    cr_assert_eq(s_check(json, why, sizeof(why)), 0, "%s", why);
    memcpy(text + 2 * n, "x", 2);
    snprintf(json, 2 * n + 512,
             REQ("contact_logged", "",
                 "\"contact_logged\":{\"with\":\"mother\",\"method\":\"office_visit\",\"summary\":"
                 "\"%s\"}"),
             text);
    cr_assert_eq(s_check(json, why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "contact_logged.summary is 10001 characters long"), "%s", why);
    /* In a list too. */
    snprintf(json, 2 * n + 512,
             REQ("decision", "",
                 "\"decision\":{\"topic\":\"Sleep\",\"options_considered\":[\"a\",\"%s\"]}"),
             text);
    cr_assert_eq(s_check(json, why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "decision.options_considered is 10001"), "%s", why);
    free(json);
    free(text);
}

Test(rules, a_case_closes_with_its_reason_and_a_closed_date_not_in_the_future)
{
    char why[256], json[512], day[16];
    /* An empty closure closed a case for good. */
    cr_assert_eq(s_check(REQ("case_closed", "", "\"case_closed\":{}"), why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "case_closed.reason is required"), "%s", why);
    cr_assert_eq(s_check(REQ("case_closed", "", "\"case_closed\":{\"reason\":\"needs_met\"}"), why,
                         sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "case_closed.closed_date is required"), "%s", why);
    s_day(0, day);
    snprintf(json, sizeof(json),
             REQ("case_closed", "", "\"case_closed\":{\"summary\":\"x\",\"closed_date\":\"%s\"}"),
             day);
    cr_assert_eq(s_check(json, why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "case_closed.reason is required"), "%s", why);
    /* Today and yesterday pass; a week ahead is refused as any date something happened on. */
    for (int back = 0; back <= 1; back++) {
        s_day(-back, day);
        snprintf(json, sizeof(json),
                 REQ("case_closed", "",
                     "\"case_closed\":{\"reason\":\"stepped_down\",\"closed_date\":\"%s\"}"),
                 day);
        cr_assert_eq(s_check(json, why, sizeof(why)), 0, "%s: %s", day, why);
    }
    s_day(7, day);
    snprintf(json, sizeof(json),
             REQ("case_closed", "",
                 "\"case_closed\":{\"reason\":\"stepped_down\",\"closed_date\":\"%s\"}"),
             day);
    cr_assert_eq(s_check(json, why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "case_closed.closed_date") && strstr(why, "in the future"), "%s", why);
}

/* Dates that contradict themselves or the calendar are refused at the sender, naming the field
 * and the dates: a wish or a schedule for a day gone, an action due before the meeting that set
 * it, a goal to be achieved before its plan starts. What happened may be recorded late. */
Test(rules, a_wish_or_schedule_for_a_day_gone_is_refused_in_plain_words)
{
    char why[400], json[640];
    clock_fake_set(clock_date_to_ms(20261204) + 22 * CLOCK_HOUR_MS);
    cr_assert_eq(s_check(REQ("meeting_requested", "",
                             "\"meeting_requested\":{\"meeting_id\":"
                             "\"0102030405060708090a0b0c0d0e0f10\",\"purpose\":\"Review\","
                             "\"wanted_by_date\":\"2026-01-01\"}"),
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "meeting_requested.wanted_by_date: 2026-01-01 has passed (today is "
                          "2026-12-04)"),
              "%s", why);
    cr_assert_eq(s_check(REQ("meeting_requested", "",
                             "\"meeting_requested\":{\"meeting_id\":"
                             "\"0102030405060708090a0b0c0d0e0f10\",\"purpose\":\"Review\","
                             "\"wanted_by_date\":\"2026-12-04\"}"),
                         why, sizeof(why)),
                 0, "%s", why);
    /* 2025-06-01 10:00 UTC: a day gone. */
    cr_assert_eq(
        s_check(REQ("meeting_scheduled", "",
                    "\"meeting_scheduled\":{\"meeting_id\":"
                    "\"0102030405060708090a0b0c0d0e0f10\",\"starts_at_ms\":1748772000000}"),
                why, sizeof(why)),
        TACNET_EFIELD);
    cr_assert(strstr(why, "meeting_scheduled.starts_at_ms: 2025-06-01 has passed"), "%s", why);
    /* Earlier today (09:00, entered at 22:00) is a clock's or a late entry's grace. */
    snprintf(json, sizeof(json),
             REQ("meeting_scheduled", "",
                 "\"meeting_scheduled\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
                 "\"starts_at_ms\":%llu}"),
             (unsigned long long)(clock_date_to_ms(20261204) + 9 * CLOCK_HOUR_MS));
    cr_assert_eq(s_check(json, why, sizeof(why)), 0, "%s", why);
    clock_fake_set(0);
}

Test(rules, an_action_due_before_its_meeting_or_a_goal_before_its_plan_is_refused)
{
    char why[400];
    clock_fake_set(clock_date_to_ms(20261204) + 22 * CLOCK_HOUR_MS);
    cr_assert_eq(
        s_check(REQ("meeting_outcome", "",
                    "\"meeting_outcome\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
                    "\"held_date\":\"2026-12-03\",\"actions\":[{\"action_id\":"
                    "\"a1a2a3a4a5a6a7a8a9aaabacadaeaf00\",\"description\":\"Breakfast club\","
                    "\"owner_agency\":\"school\",\"due_date\":\"2026-11-01\","
                    "\"status\":\"open\"}]}"),
                why, sizeof(why)),
        TACNET_EFIELD);
    cr_assert(strstr(why, "meeting_outcome.actions[0].due_date: 2026-11-01 is before the meeting "
                          "was held (2026-12-03)"),
              "%s", why);
    /* Minutes written up late keep an action's real due date, passed since. */
    cr_assert_eq(
        s_check(REQ("meeting_outcome", "",
                    "\"meeting_outcome\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
                    "\"held_date\":\"2026-11-20\",\"actions\":[{\"action_id\":"
                    "\"a1a2a3a4a5a6a7a8a9aaabacadaeaf00\",\"description\":\"Breakfast club\","
                    "\"owner_agency\":\"school\",\"due_date\":\"2026-11-27\","
                    "\"status\":\"open\"}],\"child_view\":\"Likes the club\","
                    "\"family_view\":\"Agree\"}"),
                why, sizeof(why)),
        0, "%s", why);
    cr_assert_eq(s_check(REQ("care_plan", "",
                             "\"care_plan\":{\"type\":\"team_around_family\","
                             "\"start_date\":\"2026-12-04\",\"goals\":[{\"goal_id\":1,"
                             "\"description\":\"Gets to school on time\","
                             "\"target_date\":\"2020-01-01\"}]}"),
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "care_plan.goals[0].target_date: 2020-01-01 is before the plan starts "
                          "(2026-12-04)"),
              "%s", why);
    /* A plan that names no start date starts the day it is sent. */
    cr_assert_eq(s_check(REQ("care_plan", "",
                             "\"care_plan\":{\"type\":\"team_around_family\",\"goals\":[{"
                             "\"goal_id\":1,\"description\":\"Gets to school on time\","
                             "\"target_date\":\"2026-12-01\"}]}"),
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "care_plan.goals[0].target_date: 2026-12-01 is before the plan starts "
                          "(2026-12-04, today, as it names no start_date)"),
              "%s", why);
    cr_assert_eq(s_check(REQ("care_plan", "",
                             "\"care_plan\":{\"type\":\"team_around_family\",\"goals\":[{"
                             "\"goal_id\":1,\"description\":\"Gets to school on time\","
                             "\"target_date\":\"2026-12-04\"}],\"child_view\":\"Fine\","
                             "\"family_view\":\"Fine\"}"),
                         why, sizeof(why)),
                 0, "%s", why);
    clock_fake_set(0);
}

/* Attendance is in tenths of a per cent: over 1000 is no attendance figure at all. */
Test(rules, attendance_over_a_hundred_per_cent_is_refused)
{
    char why[256];
    cr_assert_eq(s_check(REQ("concern", "",
                             "\"concern\":{\"category\":\"attendance\",\"summary\":\"Late most "
                             "days\",\"attendance_permille\":1500}"),
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "concern.attendance_permille: 1500 is over 1000"), "%s", why);
    cr_assert_eq(s_check(REQ("concern", "",
                             "\"concern\":{\"category\":\"attendance\",\"summary\":\"Late most "
                             "days\",\"attendance_permille\":1000}"),
                         why, sizeof(why)),
                 0, "%s", why);
}
