/* broker timers: the sharing policy's expiry, after which an event a recipient has not
 * acknowledged is reported to its sender as not delivered. */
#include <criterion/criterion.h>

#include "broker/broker_internal.h"
#include "clock.h"
#include "policyfile.h"

#define STAGES                                              \
    "[stage1]\naudience = practitioner\nworking_days = 5\n" \
    "[stage2]\naudience = line_manager\nworking_days = 7\n" \
    "[stage3]\naudience = dsl\nworking_days = 5\n"          \
    "[stage4]\naudience = partnership_lead\nworking_days = 14\n"

/* The expiry of a sharing.conf whose [policy] section holds POLICY. */
static uint64_t s_expiry_of(const char *policy)
{
    char sharing[256], why[256] = "";
    snprintf(sharing, sizeof(sharing),
             "[policy]\nversion = 1\n%s[school]\nwith_consent = routine\n", policy);
    Tacnet__Roster r = TACNET__ROSTER__INIT;
    cr_assert_eq(
        policyfile_parse(sharing, "sharing.conf", STAGES, "escalation.conf", &r, why, sizeof(why)),
        0, "%s", why);
    uint64_t ms = broker_expiry_ms(r.sharing);
    policyfile_free(&r);
    return ms;
}

Test(broker_timers, the_expiry_is_five_days_when_the_policy_sets_none)
{
    cr_assert_eq(s_expiry_of(""), 120 * CLOCK_HOUR_MS);
    cr_assert_eq(broker_expiry_ms(NULL), 120 * CLOCK_HOUR_MS);
}

Test(broker_timers, expiry_seconds_overrides_expiry_hours)
{
    cr_assert_eq(s_expiry_of("expiry_hours = 48\n"), 48 * CLOCK_HOUR_MS);
    cr_assert_eq(s_expiry_of("expiry_seconds = 9\n"), 9000);
    cr_assert_eq(s_expiry_of("expiry_hours = 48\nexpiry_seconds = 9\n"), 9000);
    /* expiry_seconds = 0 is as if it were not given. */
    cr_assert_eq(s_expiry_of("expiry_hours = 48\nexpiry_seconds = 0\n"), 48 * CLOCK_HOUR_MS);
}

Test(broker_timers, expiry_hours_0_turns_the_reports_off)
{
    cr_assert_eq(s_expiry_of("expiry_hours = 0\n"), 0);
}
