/* ladder: the partnership ladder's named rungs, who may rate what, and trends. Synthetic. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casework/ladder.h"
#include "casework/workflow.h"
#include "err.h"
#include "pbjson_fixture.h"

static int s_check(const char *rating, char *why, size_t cap)
{
    char json[512];
    snprintf(json, sizeof(json),
             "{\"kind\":\"partnership_rating\",\"case_ref\":\"LA9-2026-000777\",\"initials\":"
             "\"QZ\",\"body\":{\"partnership_rating\":{%s}}}",
             rating);
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_fixture_message(
        &tacnet__publish_request__descriptor, json);
    why[0] = 0;
    int rc = workflow_check(req, why, cap);
    tacnet__publish_request__free_unpacked(req, NULL);
    return rc;
}

Test(ladder, the_nine_rungs_have_their_names_bottom_to_top)
{
    cr_assert_str_eq(ladder_rung_name(1), "Conflict");
    cr_assert_str_eq(ladder_rung_name(5), "Co-operation");
    cr_assert_str_eq(ladder_rung_name(9), "Full partnership");
    cr_assert_null(ladder_rung_name(0));
    cr_assert_null(ladder_rung_name(10));
}

Test(ladder, agencies_rate_agencies_and_only_the_family_rates_the_whole_team)
{
    char why[256];
    cr_assert_eq(s_check("\"about\":\"social_care\",\"rung\":5", why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(s_check("\"about\":\"partnership\",\"rung\":5", why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "rated by the family"), "%s", why);
    cr_assert_eq(s_check("\"about\":\"partnership\",\"by_family\":\"mother\",\"rung\":7,"
                         "\"rated_date\":\"2026-11-21\"",
                         why, sizeof(why)),
                 0, "%s", why);
    cr_assert_eq(
        s_check("\"about\":\"school\",\"by_family\":\"child\",\"rung\":3", why, sizeof(why)), 0,
        "%s", why);
    cr_assert_eq(s_check("\"about\":\"school\",\"by_family\":\"family_unknown\",\"rung\":3", why,
                         sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "by_family"), "%s", why);
    cr_assert_eq(s_check("\"about\":\"school\",\"rung\":0", why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "rung: 0 is outside"), "%s", why);
    cr_assert_eq(s_check("\"rung\":4", why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "about is required"), "%s", why);
}

/* An agency does not rate its own place in the team; the family's rating of it, which that
 * agency records, is the family's and passes. */
Test(ladder, an_agency_does_not_rate_itself)
{
    Tacnet__PartnershipRating r = TACNET__PARTNERSHIP_RATING__INIT;
    r.has_about = 1;
    r.about = TACNET__AGENCY__SCHOOL;
    r.rung = 5;
    char why[256] = "";
    cr_assert_eq(ladder_rater_check(&r, TACNET__AGENCY__SCHOOL, why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "partnership_rating.about: an agency rates the other agencies"), "%s",
              why);
    cr_assert_eq(ladder_rater_check(&r, TACNET__AGENCY__CAMHS, why, sizeof(why)), 0);
    r.has_by_family = 1;
    r.by_family = TACNET__FAMILY_ROLE__MOTHER;
    cr_assert_eq(ladder_rater_check(&r, TACNET__AGENCY__SCHOOL, why, sizeof(why)), 0);
    cr_assert_eq(ladder_rater_check(NULL, TACNET__AGENCY__SCHOOL, why, sizeof(why)), 0);
}

static Tacnet__RatingView *s_view(uint32_t by, uint32_t about, uint32_t family, uint32_t rung)
{
    Tacnet__RatingView *v = calloc(1, sizeof(*v));
    tacnet__rating_view__init(v);
    v->by = (Tacnet__Agency)by;
    v->rating = calloc(1, sizeof(*v->rating));
    tacnet__partnership_rating__init(v->rating);
    v->rating->has_about = 1;
    v->rating->about = (Tacnet__Agency)about;
    v->rating->rung = rung;
    if (family) {
        v->rating->has_by_family = 1;
        v->rating->by_family = (Tacnet__FamilyRole)family;
    }
    return v;
}

Test(ladder, a_trend_is_the_change_from_the_same_raters_last_rating_of_the_same_subject)
{
    const uint32_t SCH = TACNET__AGENCY__SCHOOL, SC = TACNET__AGENCY__SOCIAL_CARE,
                   TEAM = TACNET__AGENCY__PARTNERSHIP, MUM = TACNET__FAMILY_ROLE__MOTHER;
    Tacnet__RatingView *r[5] = {
        s_view(SCH, SC, 0, 4),    s_view(SC, TEAM, MUM, 3), s_view(SCH, SC, 0, 7),
        s_view(SC, TEAM, MUM, 2), s_view(SC, SCH, 0, 6),
    };
    int d = 0;
    cr_assert_eq(ladder_trend(r, 5, 0, &d), 0, "the first rating has no trend");
    cr_assert_eq(ladder_trend(r, 5, 2, &d), 1);
    cr_assert_eq(d, 3, "school about social care: 4 then 7");
    cr_assert_eq(ladder_trend(r, 5, 3, &d), 1);
    cr_assert_eq(d, -1, "the mother's rating of the team went down");
    cr_assert_eq(ladder_trend(r, 5, 4, &d), 0, "social care about school is another pair");
    cr_assert_eq(ladder_is_latest(r, 5, 0), 0);
    cr_assert_eq(ladder_is_latest(r, 5, 2), 1);
    cr_assert_eq(ladder_is_latest(r, 5, 1), 0);
    cr_assert_eq(ladder_is_latest(r, 5, 3), 1);
    for (size_t i = 0; i < 5; i++)
        tacnet__rating_view__free_unpacked(r[i], NULL);
}
