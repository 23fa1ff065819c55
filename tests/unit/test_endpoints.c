/* endpoints: the broker list an agency daemon walks round robin when its broker falls silent
 * (services/agency/endpoints.h). The endpoints are made up. */
#include <criterion/criterion.h>
#include <string.h>

#include "agency/endpoints.h"
#include "err.h"

Test(endpoints, one_endpoint_is_always_picked)
{
    char out[256];
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(agency_endpoints_pick("tcp://10.0.0.1:7450", i, out, sizeof(out)), 1);
        cr_assert_str_eq(out, "tcp://10.0.0.1:7450");
    }
}

Test(endpoints, a_comma_list_is_walked_round_robin)
{
    const char *list = "tcp://10.0.0.1:7450, tcp://10.0.0.2:7450 ,tcp://10.0.0.3:7450";
    const char *want[] = { "tcp://10.0.0.1:7450", "tcp://10.0.0.2:7450", "tcp://10.0.0.3:7450" };
    char out[256];
    for (size_t i = 0; i < 7; i++) {
        cr_assert_eq(agency_endpoints_pick(list, i, out, sizeof(out)), 3);
        cr_assert_str_eq(out, want[i % 3], "index %zu", i);
    }
}

Test(endpoints, a_file_lists_one_per_line_and_blank_lines_are_skipped)
{
    const char *file = "tcp://127.0.0.1:7450\r\n\n  \ntcp://127.0.0.1:7451\n";
    char out[256];
    cr_assert_eq(agency_endpoints_pick(file, 0, out, sizeof(out)), 2);
    cr_assert_str_eq(out, "tcp://127.0.0.1:7450");
    cr_assert_eq(agency_endpoints_pick(file, 1, out, sizeof(out)), 2);
    cr_assert_str_eq(out, "tcp://127.0.0.1:7451");
    cr_assert_eq(agency_endpoints_pick(file, 2, out, sizeof(out)), 2);
    cr_assert_str_eq(out, "tcp://127.0.0.1:7450");
}

Test(endpoints, an_empty_list_is_refused)
{
    char out[256] = "stale";
    cr_assert_eq(agency_endpoints_pick("", 0, out, sizeof(out)), TACNET_ECONFIG);
    cr_assert_str_eq(out, "");
    cr_assert_eq(agency_endpoints_pick(" , \n ,", 1, out, sizeof(out)), TACNET_ECONFIG);
    cr_assert_eq(agency_endpoints_pick(NULL, 0, out, sizeof(out)), TACNET_ECONFIG);
}

Test(endpoints, an_endpoint_too_long_refuses_the_whole_list)
{
    char list[600], out[256];
    memset(list, 'a', sizeof(list));
    memcpy(list, "tcp://ok:1,", 11);
    list[sizeof(list) - 1] = 0;
    cr_assert_eq(agency_endpoints_pick(list, 0, out, sizeof(out)), TACNET_ECONFIG);
    cr_assert_str_eq(out, "");
    char small[8];
    cr_assert_eq(agency_endpoints_pick("tcp://10.0.0.1:7450", 0, small, sizeof(small)),
                 TACNET_ECONFIG);
}
