/* Unit tests of the lists' cursors and limits (services/dashboard/page.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "dashboard/page.h"
#include "err.h"

static int s_read(const char *limit, const char *after, uint32_t *l, dashboard_page_pos_t *pos,
                  int *has)
{
    dashboard_kv_t q = { 0 };
    char why[128] = "";
    if (limit)
        dashboard_kv_add(&q, "limit", limit);
    if (after)
        dashboard_kv_add(&q, "after", after);
    int rc = dashboard_page_read(&q, l, pos, has, why, sizeof(why));
    if (rc)
        cr_assert(strstr(why, limit && !strstr(why, "cursor") ? "limit" : "after"), "%s", why);
    dashboard_kv_clear(&q);
    return rc;
}

Test(dashboard_page, a_cursor_comes_back_as_the_position_it_was_made_from)
{
    dashboard_page_pos_t pos = { .key = 18446744073709551615ull }, back;
    strcpy(pos.id, "LA7-2026-000123");
    char cursor[DASHBOARD_PAGE_CURSOR];
    dashboard_page_cursor(&pos, cursor);
    cr_assert_null(strstr(cursor, "LA7"), "the cursor is opaque: %s", cursor);
    uint32_t limit;
    int has;
    cr_assert_eq(s_read(NULL, cursor, &limit, &back, &has), 0);
    cr_assert(has);
    cr_assert_eq(limit, DASHBOARD_PAGE_DEFAULT);
    cr_assert_eq(back.key, pos.key);
    cr_assert_str_eq(back.id, pos.id);
    cr_assert_eq(dashboard_page_cmp(pos.key, "LA7-2026-000123", 15, &back), 0);
    cr_assert_lt(dashboard_page_cmp(pos.key, "LA7-2026-000122", 15, &back), 0);
    cr_assert_gt(dashboard_page_cmp(pos.key, "LA7-2026-0001230", 16, &back), 0);
    cr_assert_lt(dashboard_page_cmp(3, "LA7-2026-999999", 15, &back), 0);
}

Test(dashboard_page, limits_and_cursors_that_are_not_ours_are_refused)
{
    uint32_t limit;
    dashboard_page_pos_t pos;
    int has;
    cr_assert_eq(s_read("10", NULL, &limit, &pos, &has), 0);
    cr_assert_eq(limit, 10);
    cr_assert_eq(has, 0);
    cr_assert_eq(s_read("0", NULL, &limit, &pos, &has), TACNET_EFIELD);
    cr_assert_eq(s_read("501", NULL, &limit, &pos, &has), TACNET_EFIELD);
    cr_assert_eq(s_read("5x", NULL, &limit, &pos, &has), TACNET_EFIELD);
    cr_assert_eq(s_read(NULL, "zz", &limit, &pos, &has), TACNET_EFIELD);
    cr_assert_eq(s_read(NULL, "3132", &limit, &pos, &has), TACNET_EFIELD);     /* "12": no colon */
    cr_assert_eq(s_read(NULL, "3a41", &limit, &pos, &has), TACNET_EFIELD);     /* ":A": no key */
    cr_assert_eq(s_read(NULL, "313a4100", &limit, &pos, &has), TACNET_EFIELD); /* a NUL */
}
