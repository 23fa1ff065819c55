/* quota: the broker's per-agency publish quota (services/broker/quota.h). */
#include <criterion/criterion.h>

#include "broker/quota.h"
#include "err.h"

Test(quota, zero_rate_is_unlimited)
{
    quota_t *q = quota_new(0, 0);
    for (uint64_t s = 1; s <= 100000; s++)
        cr_assert_eq(quota_take(q, 2, s, 0), 0);
    cr_assert_eq(quota_refused(q, 2), 0);
    quota_destroy(&q);
    cr_assert_null(q);
    quota_destroy(&q);
}

Test(quota, burst_is_spent_then_refused_with_e_quota)
{
    quota_t *q = quota_new(10, 50);
    uint64_t s = 1;
    for (; s <= 50; s++)
        cr_assert_eq(quota_take(q, 2, s, 1000), 0, "seq %llu", (unsigned long long)s);
    cr_assert_eq(quota_take(q, 2, s, 1000), TACNET_EQUOTA);
    cr_assert_eq(quota_refused(q, 2), 1);
    /* Another agency has its own bucket. */
    cr_assert_eq(quota_take(q, 3, 1, 1000), 0);
    quota_destroy(&q);
}

Test(quota, refill_follows_the_rate)
{
    quota_t *q = quota_new(100, 100);
    uint64_t s = 1;
    while (quota_take(q, 4, s, 0) == 0)
        s++;
    cr_assert_eq(s, 101);
    /* 250 ms at 100/s is 25 tokens: the held seq comes back first. */
    size_t ok = 0;
    for (uint64_t t = s; t < s + 40; t++)
        ok += quota_take(q, 4, t, 250) == 0;
    cr_assert_eq(ok, 25);
    quota_destroy(&q);
}

Test(quota, later_seqs_stay_refused_until_the_refused_one_returns)
{
    quota_t *q = quota_new(1000, 1000);
    for (uint64_t s = 1; s <= 1000; s++)
        cr_assert_eq(quota_take(q, 1, s, 0), 0);
    cr_assert_eq(quota_take(q, 1, 1001, 0), TACNET_EQUOTA);
    /* Time passes and tokens return, but 1002 may not overtake the refused 1001. */
    cr_assert_eq(quota_take(q, 1, 1002, 500), TACNET_EQUOTA);
    /* A retry of an earlier (accepted) seq is not held back and does not release the hold. */
    cr_assert_eq(quota_take(q, 1, 999, 500), 0);
    cr_assert_eq(quota_take(q, 1, 1002, 500), TACNET_EQUOTA);
    /* The refused seq comes back: accepted, and the ones after it flow again. */
    cr_assert_eq(quota_take(q, 1, 1001, 500), 0);
    cr_assert_eq(quota_take(q, 1, 1002, 500), 0);
    cr_assert_eq(quota_refused(q, 1), 3);
    quota_destroy(&q);
}

Test(quota, agency_out_of_range_is_invalid)
{
    quota_t *q = quota_new(1, 1);
    cr_assert_eq(quota_take(q, 64, 1, 0), TACNET_EINVAL);
    cr_assert_eq(quota_take(NULL, 1, 1, 0), TACNET_EINVAL);
    cr_assert_eq(quota_refused(q, 64), 0);
    quota_destroy(&q);
}
