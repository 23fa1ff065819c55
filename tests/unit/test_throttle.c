#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "throttle.h"

static throttle_source_t s_v4(const char *a)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    cr_assert_eq(inet_pton(AF_INET, a, &sa.sin_addr), 1);
    throttle_source_t s;
    cr_assert_eq(throttle_source_from((struct sockaddr *)&sa, &s), 0);
    return s;
}

static throttle_source_t s_v6(const char *a)
{
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    cr_assert_eq(inet_pton(AF_INET6, a, &sa.sin6_addr), 1);
    throttle_source_t s;
    cr_assert_eq(throttle_source_from((struct sockaddr *)&sa, &s), 0);
    return s;
}

static throttle_t *s_new(void)
{
    throttle_config_t c;
    throttle_config_default(&c);
    throttle_t *t = throttle_new(&c);
    cr_assert_not_null(t);
    return t;
}

typedef struct {
    throttle_report_t r[128];
    size_t n;
} reports_t;

static void s_collect(void *arg, const throttle_report_t *r)
{
    reports_t *rs = arg;
    cr_assert_lt(rs->n, 128);
    rs->r[rs->n++] = *r;
}

Test(throttle, sources_are_ipv4_addresses_and_ipv6_slash_64s)
{
    char s[THROTTLE_ADDR];
    throttle_source_t a = s_v4("192.0.2.7"), m = s_v6("::ffff:192.0.2.7");
    cr_assert_eq(memcmp(&a, &m, sizeof(a)), 0, "a mapped address is its IPv4 source");
    throttle_source_str(&a, s);
    cr_assert_str_eq(s, "192.0.2.7");
    throttle_source_t b = s_v6("2001:db8:1:2:aaaa::1"), c = s_v6("2001:db8:1:2:bbbb::9"),
                      d = s_v6("2001:db8:1:3::1");
    cr_assert_eq(memcmp(&b, &c, sizeof(b)), 0, "one /64 is one source");
    cr_assert_neq(memcmp(&b, &d, sizeof(b)), 0);
    throttle_source_str(&b, s);
    cr_assert_str_eq(s, "2001:db8:1:2::/64");
    struct sockaddr other = { .sa_family = AF_UNIX };
    cr_assert_eq(throttle_source_from(&other, &a), TACNET_EINVAL);
}

Test(throttle, a_burst_then_blocks_that_double_and_nothing_refills_while_blocked)
{
    throttle_t *t = s_new();
    throttle_source_t s = s_v4("198.51.100.1");
    uint64_t now = 1000000, retry = 0;
    for (int i = 0; i < 9; i++) {
        cr_assert_eq(throttle_admit(t, &s, NULL, now, &retry), 0, "failure %d", i);
        throttle_fail(t, &s, NULL, 0, now);
    }
    cr_assert_eq(throttle_admit(t, &s, NULL, now, NULL), 0);
    throttle_fail(t, &s, NULL, 0, now); /* the tenth empties the bucket */
    cr_assert_eq(throttle_admit(t, &s, NULL, now, &retry), TACNET_ELOCKED);
    cr_assert_eq(retry, 5000);
    now += 5000;
    cr_assert_eq(throttle_admit(t, &s, NULL, now, NULL), 0);
    throttle_fail(t, &s, NULL, 0, now);
    cr_assert_eq(throttle_admit(t, &s, NULL, now, &retry), TACNET_ELOCKED);
    cr_assert_eq(retry, 10000, "the second block doubles");
    now += 10000;
    throttle_fail(t, &s, NULL, 0, now);
    cr_assert_eq(throttle_admit(t, &s, NULL, now, &retry), TACNET_ELOCKED);
    cr_assert_eq(retry, 20000);
    /* Blocks stop at five minutes. */
    for (int i = 0; i < 10; i++) {
        now += retry;
        throttle_fail(t, &s, NULL, 0, now);
        cr_assert_eq(throttle_admit(t, &s, NULL, now, &retry), TACNET_ELOCKED);
    }
    cr_assert_eq(retry, 300000);
    /* Another source is not slowed at all. */
    throttle_source_t o = s_v4("198.51.100.2");
    cr_assert_eq(throttle_admit(t, &o, NULL, now, NULL), 0);
    /* Quiet for long enough: a full bucket and no backoff again. */
    now += 300000 + 300000;
    throttle_sweep(t, now, s_collect, &(reports_t){ 0 });
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(throttle_admit(t, &s, NULL, now, NULL), 0, "after quiet, failure %d", i);
        throttle_fail(t, &s, NULL, 0, now);
    }
    cr_assert_eq(throttle_admit(t, &s, NULL, now, &retry), TACNET_ELOCKED);
    cr_assert_eq(retry, 5000);
    throttle_destroy(&t);
    cr_assert_null(t);
}

Test(throttle, a_lockout_is_per_source_and_account_and_reported_once)
{
    throttle_t *t = s_new();
    throttle_source_t x = s_v4("203.0.113.9"), owner = s_v4("192.0.2.20");
    uint64_t now = 5000000, retry = 0;
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(throttle_admit(t, &x, "AB", now, NULL), 0);
        throttle_fail(t, &x, "AB", 1, now);
        now += 1;
    }
    cr_assert_eq(throttle_admit(t, &x, "AB", now, &retry), TACNET_ELOCKED);
    cr_assert_eq(retry, 15 * 60 * 1000 - 1);
    cr_assert_eq(throttle_admit(t, &x, "CD", now, NULL), 0, "another account from there");
    cr_assert_eq(throttle_admit(t, &owner, "AB", now, NULL), 0, "the owner from elsewhere");
    throttle_success(t, &owner, "AB", 0);
    reports_t rs = { 0 };
    throttle_sweep(t, now, s_collect, &rs);
    cr_assert_eq(rs.n, 1, "the lock, once (no summary before the window)");
    cr_assert_eq(rs.r[0].what, THROTTLE_LOCKED);
    cr_assert_str_eq(rs.r[0].account, "AB");
    cr_assert_eq(rs.r[0].known, 1);
    cr_assert_eq(memcmp(&rs.r[0].source, &x, sizeof(x)), 0);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(throttle_admit(t, &x, "AB", now + (uint64_t)i, NULL), TACNET_ELOCKED);
    rs.n = 0;
    throttle_sweep(t, now + 1000, s_collect, &rs);
    cr_assert_eq(rs.n, 0, "a lock is reported once");
    /* The summary after the window: 5 failures, 102 refused. */
    throttle_sweep(t, now + 60000, s_collect, &rs);
    cr_assert_eq(rs.n, 1);
    cr_assert_eq(rs.r[0].what, THROTTLE_SUMMARY);
    cr_assert_eq(rs.r[0].failures, 5);
    cr_assert_eq(rs.r[0].refused, 101);
    /* An administrator's unlock lifts it; so does the time. */
    cr_assert_eq(throttle_unlock(t, "AB"), 1);
    cr_assert_eq(throttle_admit(t, &x, "AB", now, NULL), 0);
    throttle_destroy(&t);
}

Test(throttle, a_success_forgets_that_sources_failures_at_the_account)
{
    throttle_t *t = s_new();
    throttle_source_t s = s_v4("192.0.2.30");
    uint64_t now = 1000;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 3; i++)
            throttle_fail(t, &s, "EF", 1, now++);
        throttle_success(t, &s, "EF", 0);
    }
    cr_assert_eq(throttle_admit(t, &s, "EF", now, NULL), 0, "3 + 3 + 3 never makes 5");
    /* The lock ends after its time, and failures before it no longer count. */
    for (int i = 0; i < 5; i++)
        throttle_fail(t, &s, "GH", 0, now);
    cr_assert_eq(throttle_admit(t, &s, "GH", now + 15 * 60 * 1000 - 1, NULL), TACNET_ELOCKED);
    cr_assert_eq(throttle_admit(t, &s, "GH", now + 15 * 60 * 1000, NULL), 0);
    throttle_destroy(&t);
}

Test(throttle, the_tables_stay_bounded_and_evicted_counts_are_still_summarised)
{
    throttle_config_t c;
    throttle_config_default(&c);
    c.sources = 64;
    c.burst = 1000;
    throttle_t *t = throttle_new(&c);
    uint64_t now = 10000;
    for (unsigned i = 0; i < 5000; i++) {
        char a[32];
        snprintf(a, sizeof(a), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        throttle_source_t s = s_v4(a);
        throttle_fail(t, &s, "XY", 0, now);
    }
    size_t ns = 0, na = 0;
    throttle_counts(t, &ns, &na);
    cr_assert_leq(ns, 64);
    cr_assert_leq(na, 64);
    reports_t rs = { 0 };
    throttle_sweep(t, now + 60000, s_collect, &rs);
    uint64_t total = 0, others = 0;
    for (size_t i = 0; i < rs.n; i++) {
        total += rs.r[i].what == THROTTLE_SUMMARY ? rs.r[i].failures : 0;
        throttle_source_t zero = { { 0 } };
        if (memcmp(&rs.r[i].source, &zero, sizeof(zero)) == 0)
            others++;
    }
    cr_assert_eq(total, 5000, "every failure is in some summary");
    cr_assert_eq(others, 1, "one summary for the evicted sources");
    throttle_destroy(&t);
}

Test(throttle, bad_configs_are_refused)
{
    throttle_config_t c;
    throttle_config_default(&c);
    c.burst = 0;
    cr_assert_null(throttle_new(&c));
    throttle_config_default(&c);
    c.refill_ms = 0;
    cr_assert_null(throttle_new(&c));
    cr_assert_null(throttle_new(NULL));
}

Test(throttle, a_round_of_summaries_is_bounded_whatever_the_number_of_sources)
{
    throttle_config_t c;
    throttle_config_default(&c);
    c.burst = 1000;
    throttle_t *t = throttle_new(&c);
    uint64_t now = 10000;
    throttle_source_t loud = s_v4("198.51.100.1");
    for (int i = 0; i < 100; i++)
        throttle_fail(t, &loud, NULL, 0, now);
    for (unsigned i = 0; i < 3000; i++) {
        char a[32];
        snprintf(a, sizeof(a), "10.0.%u.%u", (i >> 8) & 255, i & 255);
        throttle_source_t s = s_v4(a);
        throttle_fail(t, &s, NULL, 0, now + i % 50);
    }
    reports_t rs = { 0 };
    cr_assert_eq(throttle_sweep(t, now + 59999, s_collect, &rs), 0, "nothing before a window");
    size_t n = throttle_sweep(t, now + 60000, s_collect, &rs);
    cr_assert_eq(n, 9, "%zu reports: 8 sources on their own and one for the rest", n);
    cr_assert_eq(memcmp(&rs.r[0].source, &loud, sizeof(loud)), 0, "the loudest comes first");
    cr_assert_eq(rs.r[0].failures, 100);
    throttle_source_t zero = { { 0 } };
    uint64_t failures = 0, sources = 0;
    for (size_t i = 0; i < rs.n; i++) {
        cr_assert_eq(rs.r[i].what, THROTTLE_SUMMARY);
        failures += rs.r[i].failures;
        sources += rs.r[i].sources;
        int further = memcmp(&rs.r[i].source, &zero, sizeof(zero)) == 0;
        cr_assert_eq(further, i == 8, "report %zu", i);
    }
    cr_assert_eq(failures, 3100, "every failure is in some summary");
    cr_assert_eq(sources, 3001, "every source is in some summary");
    cr_assert_eq(rs.r[8].sources, 2993);
    /* The next round is a window later, however the failures go on. */
    rs.n = 0;
    for (unsigned i = 0; i < 100; i++) {
        char a[32];
        snprintf(a, sizeof(a), "10.1.0.%u", i);
        throttle_source_t s = s_v4(a);
        throttle_fail(t, &s, NULL, 0, now + 60001);
    }
    cr_assert_eq(throttle_sweep(t, now + 120000, s_collect, &rs), 0);
    cr_assert_eq(throttle_sweep(t, now + 120001, s_collect, &rs), 9);
    throttle_destroy(&t);
}

Test(throttle, lock_outs_of_known_accounts_are_reported_a_few_a_window)
{
    throttle_config_t c;
    throttle_config_default(&c);
    throttle_t *t = throttle_new(&c);
    uint64_t now = 10000;
    for (unsigned i = 0; i < 20; i++) {
        char a[32];
        snprintf(a, sizeof(a), "10.2.0.%u", i);
        throttle_source_t s = s_v4(a);
        for (int k = 0; k < 5; k++)
            throttle_fail(t, &s, "AB", 1, now);
    }
    throttle_source_t u = s_v4("10.3.0.1");
    for (int k = 0; k < 5; k++)
        throttle_fail(t, &u, "ZZ", 0, now);
    reports_t rs = { 0 };
    throttle_sweep(t, now, s_collect, &rs);
    size_t known = 0, unknown = 0;
    for (size_t i = 0; i < rs.n; i++)
        if (rs.r[i].what == THROTTLE_LOCKED)
            rs.r[i].known ? known++ : unknown++;
    cr_assert_eq(known, 8, "%zu lock-outs of a known account on their own", known);
    cr_assert_eq(unknown, 1, "an unknown account's lock-out is told (and not recorded)");
    rs.n = 0;
    throttle_sweep(t, now + 60000, s_collect, &rs);
    cr_assert_eq(rs.n, 9);
    cr_assert_eq(rs.r[8].locks, 12, "the other lock-outs are counted with the further sources");
    cr_assert_eq(rs.r[8].sources, 13);
    throttle_destroy(&t);
}

Test(throttle, password_checks_take_at_most_their_share_of_the_time)
{
    throttle_config_t c;
    throttle_config_default(&c); /* a third of the time, at most 1 s at once */
    throttle_t *t = throttle_new(&c);
    uint64_t now = 5000, spent = 0, retry = 0;
    long admitted = 0, refused = 0;
    reports_t rs = { 0 };
    /* Attempts every 10 ms for a minute, each check 150 ms (the loop is busy meanwhile). */
    while (now < 65000) {
        int pool = -1;
        if (throttle_verify_admit(t, NULL, now, &pool, &retry) == 0) {
            cr_assert_eq(pool, THROTTLE_POOL_ALL);
            now += 150;
            throttle_verify_spent(t, pool, 150000, now);
            spent += 150;
            admitted++;
        } else {
            cr_assert(retry >= 1 && retry <= 3001, "retry %llu ms", (unsigned long long)retry);
            refused++;
            now += 10;
        }
        if (now % 1000 < 10)
            throttle_sweep(t, now, s_collect, &rs);
    }
    cr_assert_leq(spent, 60000 / 3 + 1000 + 150, "%llu ms of checks in a minute",
                  (unsigned long long)spent);
    cr_assert_geq(spent, 60000 / 3 - 1000, "%llu ms of checks in a minute",
                  (unsigned long long)spent);
    cr_assert_gt(refused, 0);
    size_t busy = 0;
    for (size_t i = 0; i < rs.n; i++)
        busy += rs.r[i].what == THROTTLE_BUSY;
    cr_assert_leq(busy, 2, "%zu reports of the budget's refusals in a minute", busy);
    cr_assert_geq(busy, 1);
    /* A quiet second refills a third of a second's checking. */
    int pool;
    cr_assert_eq(throttle_verify_admit(t, NULL, now + 1000, &pool, NULL), 0);
    /* No share: no budget. */
    c.verify_share = 0;
    throttle_t *free_for_all = throttle_new(&c);
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(throttle_verify_admit(free_for_all, NULL, 1, &pool, NULL), 0);
        throttle_verify_spent(free_for_all, pool, 1000000, 1);
    }
    throttle_destroy(&free_for_all);
    throttle_destroy(&t);
    throttle_config_default(&c);
    c.verify_share = 101;
    cr_assert_null(throttle_new(&c));
    throttle_config_default(&c);
    c.verify_share = 95; /* with the reserve's 10, more than all of the time */
    cr_assert_null(throttle_new(&c));
}

/* Attempts every 10 ms from ATTACKER for SECONDS, each check 150 ms; every two seconds the owner
 * at OWNER tries once (an office's log-ins: a check's 150 ms every 2 s is within the reserve's
 * tenth). Returns how many of the owner's tries were checked; *SPENT_MS the time every check
 * took together. */
static int s_siege(throttle_t *t, const throttle_source_t *attacker, const throttle_source_t *owner,
                   uint64_t *now, int seconds, uint64_t *spent_ms)
{
    int owner_checked = 0;
    uint64_t end = *now + (uint64_t)seconds * 1000, next_owner = *now + 2000;
    *spent_ms = 0;
    while (*now < end) {
        const throttle_source_t *who = attacker;
        if (*now >= next_owner) {
            who = owner;
            next_owner += 2000;
        }
        int pool = -1;
        if (throttle_verify_admit(t, who, *now, &pool, NULL) == 0) {
            *now += 150;
            throttle_verify_spent(t, pool, 150000, *now);
            *spent_ms += 150;
            owner_checked += who == owner;
        } else {
            *now += 10;
        }
    }
    return owner_checked;
}

Test(throttle, a_source_someone_logged_in_from_keeps_a_reserve_of_checks)
{
    throttle_config_t c;
    throttle_config_default(&c); /* a third of the time; a tenth more for known sources */
    throttle_t *t = throttle_new(&c);
    throttle_source_t attacker = s_v4("198.51.100.9"), desk = s_v4("192.0.2.20"),
                      stranger = s_v4("192.0.2.21");
    uint64_t now = 5000, spent = 0;
    /* Before anyone logged in from the desk, the attack spends the budget and the desk waits
     * with everyone else: only the tries that happen to find credit are checked. */
    int before = s_siege(t, &attacker, &desk, &now, 60, &spent);
    cr_assert_lt(before, 6, "%d of 30 tries from an unknown desk checked", before);
    /* Someone logs in from the desk; from then on the desk's every try is checked. */
    throttle_success(t, &desk, "AB", now);
    int after = s_siege(t, &attacker, &desk, &now, 60, &spent);
    cr_assert_geq(after, 29, "%d of 30 tries from a known desk checked", after);
    /* The attack still gets no more than its share, and the two together at most 43 %. */
    cr_assert_leq(spent, 60000 * 43 / 100 + 1000 + 300, "%llu ms of checks in a minute",
                  (unsigned long long)spent);
    /* Another address on the same network is not the desk. */
    int other = s_siege(t, &attacker, &stranger, &now, 60, &spent);
    cr_assert_lt(other, 6, "%d of 30 tries from an unknown address checked", other);
    /* A known source attacking spends its reserve and no more. */
    now += 10000;
    int own = s_siege(t, &desk, &desk, &now, 60, &spent);
    cr_assert_geq(own, 1);
    cr_assert_leq(spent, 60000 * 43 / 100 + 1000 + 300, "%llu ms", (unsigned long long)spent);
    /* Fourteen days later the desk is forgotten. */
    now += c.known_ms + 1;
    int stale = s_siege(t, &attacker, &desk, &now, 60, &spent);
    cr_assert_lt(stale, 6, "%d of 30 tries from a desk unused for 14 days checked", stale);
    throttle_destroy(&t);
}

Test(throttle, failures_from_many_sources_do_not_push_the_known_out)
{
    throttle_config_t c;
    throttle_config_default(&c);
    c.sources = 8; /* one set: every source competes for its places */
    throttle_t *t = throttle_new(&c);
    throttle_source_t desk = s_v4("192.0.2.20");
    throttle_success(t, &desk, "AB", 1000);
    uint64_t now = 2000;
    char a[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(a, sizeof(a), "203.0.%d.%d", i / 250, i % 250 + 1);
        throttle_source_t s = s_v4(a);
        throttle_fail(t, &s, "AB", 1, now);
        int pool;
        if (throttle_verify_admit(t, &s, now, &pool, NULL) == 0)
            throttle_verify_spent(t, pool, 150000, now + 150);
        now += 150;
    }
    int pool = -1;
    cr_assert_eq(throttle_verify_admit(t, &desk, now, &pool, NULL), 0);
    cr_assert_eq(pool, THROTTLE_POOL_RESERVE, "the budget is spent; the desk draws on its reserve");
    throttle_destroy(&t);
}
