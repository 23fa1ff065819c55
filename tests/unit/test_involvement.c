/* involvement: how the child and each parent or carer want to be involved. Synthetic data. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "casework/involvement.h"
#include "casework/workflow.h"
#include "err.h"
#include "pbjson_fixture.h"

static int s_check(const char *people, char *why, size_t cap)
{
    char json[800];
    snprintf(json, sizeof(json),
             "{\"kind\":\"involvement_preferences\",\"case_ref\":\"LA9-2026-000777\","
             "\"initials\":\"QZ\",\"body\":{\"involvement_preferences\":{%s}}}",
             people);
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_fixture_message(
        &tacnet__publish_request__descriptor, json);
    why[0] = 0;
    int rc = workflow_check(req, why, cap);
    tacnet__publish_request__free_unpacked(req, NULL);
    return rc;
}

Test(involvement, a_family_records_each_persons_part_once)
{
    char why[256];
    cr_assert_eq(s_check("\"people\":[{\"who\":\"child\",\"decisions\":\"consulted\","
                         "\"meetings\":\"keep_informed\"},{\"who\":\"mother\",\"decisions\":"
                         "\"decide_together\",\"minutes\":true,\"preferred_contact\":"
                         "\"text_message\",\"language\":\"Polish\",\"interpreter\":true,"
                         "\"accessibility\":\"Ground floor rooms\"}],\"agreed_date\":"
                         "\"2026-11-20\",\"revisit_by_date\":\"2027-01-05\"",
                         why, sizeof(why)),
                 0, "%s", why);
    cr_assert_eq(s_check("", why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "involvement_preferences.people: at least one"), "%s", why);
    cr_assert_eq(s_check("\"people\":[{\"who\":\"mother\",\"decisions\":\"consulted\"},"
                         "{\"who\":\"mother\",\"decisions\":\"not_now\"}]",
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "people[1].who: mother twice"), "%s", why);
}

Test(involvement, each_person_says_how_they_take_part_in_decisions)
{
    char why[256];
    cr_assert_eq(s_check("\"people\":[{\"who\":\"father\"}]", why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "people[0].decisions is required"), "%s", why);
    cr_assert_eq(s_check("\"people\":[{\"decisions\":\"consulted\"}]", why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "people[0].who is required"), "%s", why);
}

Test(involvement, an_interpreter_needs_the_language_and_dates_are_real)
{
    char why[256];
    cr_assert_eq(s_check("\"people\":[{\"who\":\"carer\",\"decisions\":\"consulted\","
                         "\"interpreter\":true}]",
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "people[0].language is required with an interpreter"), "%s", why);
    cr_assert_eq(s_check("\"people\":[{\"who\":\"carer\",\"decisions\":\"consulted\"}],"
                         "\"agreed_date\":\"2026-11-20\",\"revisit_by_date\":\"2026-11-01\"",
                         why, sizeof(why)),
                 TACNET_EFIELD);
    cr_assert(strstr(why, "revisit_by_date is before"), "%s", why);
}

Test(involvement, each_part_has_words_for_people)
{
    cr_assert_str_eq(involvement_words(TACNET__INVOLVEMENT__DECIDE_TOGETHER), "decide together");
    cr_assert_str_eq(involvement_words(TACNET__INVOLVEMENT__INVOLVEMENT_UNKNOWN), "not asked");
}
