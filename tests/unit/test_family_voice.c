/* family_voice: the child's and the family's views, or a coded reason each is absent, on the
 * events where the team decides. Requests are JSON in the local API's shape; nobody is real. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "casework/family_voice.h"
#include "casework/workflow.h"
#include "err.h"
#include "pbjson_fixture.h"

static Tacnet__PublishRequest *s_req(const char *json)
{
    return (Tacnet__PublishRequest *)pbjson_fixture_message(&tacnet__publish_request__descriptor,
                                                            json);
}

static int s_check(const char *json, char *why, size_t cap)
{
    Tacnet__PublishRequest *req = s_req(json);
    why[0] = 0;
    int rc = workflow_check(req, why, cap);
    tacnet__publish_request__free_unpacked(req, NULL);
    return rc;
}

#define DECISION(views)                                                                      \
    "{\"kind\":\"decision\",\"case_ref\":\"LA9-2026-000777\",\"initials\":\"QZ\",\"body\":{" \
    "\"decision\":{\"topic\":\"Level of need\",\"chosen\":\"Early help\"" views "}}}"

Test(family_voice, a_decision_without_either_view_is_refused_naming_the_field)
{
    char why[256];
    cr_assert_eq(s_check(DECISION(""), why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "decision.child_view is required, or child_view_absent"), "%s", why);
    cr_assert_eq(s_check(DECISION(",\"child_view\":\"I like breakfast club\""), why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "decision.family_view is required"), "%s", why);
    cr_assert_eq(
        s_check(DECISION(",\"child_view\":\"  \",\"family_view\":\"Agree\""), why, sizeof(why)),
        TACNET_EFIELD, "blank words are not a view");
}

Test(family_voice, views_in_words_or_final_reasons_pass)
{
    char why[256];
    cr_assert_eq(s_check(DECISION(",\"child_view\":\"Wants the club\",\"family_view\":\"Agree\""),
                         why, sizeof(why)),
                 0, "%s", why);
    cr_assert_eq(s_check(DECISION(",\"child_view_absent\":{\"reason\":\"too_young\"},"
                                  "\"family_view_absent\":{\"reason\":\"not_reachable\"}"),
                         why, sizeof(why)),
                 0, "%s", why);
    cr_assert_eq(s_check(DECISION(",\"child_view_absent\":{\"reason\":\"declined\"},"
                                  "\"family_view_absent\":{\"reason\":\"not_yet_asked\","
                                  "\"ask_by_date\":\"2026-12-10\"}"),
                         why, sizeof(why)),
                 0, "%s", why);
}

Test(family_voice, reasons_are_coded_and_checked)
{
    char why[256];
    cr_assert_eq(s_check(DECISION(",\"child_view\":\"Fine\",\"family_view_absent\":{\"reason\":"
                                  "\"too_young\"}"),
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "family_view_absent.reason: too_young is for the child"), "%s", why);
    cr_assert_eq(s_check(DECISION(",\"child_view\":\"Fine\",\"family_view_absent\":{\"reason\":"
                                  "\"not_yet_asked\"}"),
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "family_view_absent.ask_by_date is required"), "%s", why);
    cr_assert_eq(s_check(DECISION(",\"child_view\":\"Fine\",\"family_view_absent\":{\"reason\":"
                                  "\"declined\",\"ask_by_date\":\"2026-12-10\"}"),
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "ask_by_date goes with not_yet_asked only"), "%s", why);
    cr_assert_eq(
        s_check(DECISION(",\"child_view\":\"Fine\",\"family_view_absent\":{}"), why, sizeof(why)),
        TACNET_EFIELD, "an absence with no reason is no reason");
    cr_assert_eq(s_check(DECISION(",\"child_view\":\"Fine\",\"child_view_absent\":{\"reason\":"
                                  "\"declined\"},\"family_view\":\"Agree\""),
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "not both"), "%s", why);
}

Test(family_voice, plans_disagreements_resolutions_and_meetings_carry_views_too)
{
    char why[256];
    cr_assert_eq(s_check("{\"kind\":\"care_plan\",\"case_ref\":\"LA9-2026-000777\",\"initials\":"
                         "\"QZ\",\"body\":{\"care_plan\":{\"type\":\"team_around_family\"}}}",
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "care_plan.child_view"), "%s", why);
    cr_assert_eq(s_check("{\"kind\":\"disagreement\",\"case_ref\":\"LA9-2026-000777\","
                         "\"initials\":\"QZ\",\"body\":{\"disagreement\":{\"topic\":\"Level\","
                         "\"child_safety\":\"Safe\",\"child_view\":\"Fine\"}}}",
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "disagreement.family_view"), "%s", why);
    /* A meeting minutes each family member's view: the child's counts as the child's view. */
#define MEETING(more)                                                                     \
    "{\"kind\":\"meeting_outcome\",\"case_ref\":\"LA9-2026-000777\",\"initials\":\"QZ\"," \
    "\"body\":{\"meeting_outcome\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\"," \
    "\"held_date\":\"2026-11-20\",\"family\":[{\"role\":\"child\",\"attended\":true,"     \
    "\"view\":\"I want to see my friends\"}]" more "}}}"
    cr_assert_eq(s_check(MEETING(""), why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "meeting_outcome.family_view"), "%s", why);
    cr_assert_eq(
        s_check(MEETING(",\"family_view_absent\":{\"reason\":\"declined\"}"), why, sizeof(why)), 0,
        "%s", why);
}

Test(family_voice, a_view_not_yet_asked_has_an_ask_by_date_until_it_is_heard)
{
    Tacnet__PublishRequest *later = s_req(DECISION(
        ",\"child_view_absent\":{\"reason\":\"not_yet_asked\",\"ask_by_date\":\"2026-12-10\"},"
        "\"family_view\":\"Agree\""));
    uint32_t by = 0;
    cr_assert_eq(
        family_voice_ask_by(TACNET__EVENT_KIND__DECISION, later->body, FAMILY_VOICE_CHILD, &by), 1);
    cr_assert_eq(by, 20261210);
    cr_assert_eq(
        family_voice_ask_by(TACNET__EVENT_KIND__DECISION, later->body, FAMILY_VOICE_FAMILY, &by),
        0);
    cr_assert_eq(family_voice_heard(TACNET__EVENT_KIND__DECISION, later->body, FAMILY_VOICE_CHILD),
                 0);
    cr_assert_eq(family_voice_heard(TACNET__EVENT_KIND__DECISION, later->body, FAMILY_VOICE_FAMILY),
                 1);
    cr_assert_eq(family_voice_heard(TACNET__EVENT_KIND__CONCERN, later->body, FAMILY_VOICE_FAMILY),
                 0, "a concern carries no views");
    tacnet__publish_request__free_unpacked(later, NULL);
}
