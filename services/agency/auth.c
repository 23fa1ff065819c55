/* auth: log-ins and tokens through an in-memory throttle; summaries instead of a record per
 * failure (see auth.h). */
#include "auth.h"
#include "internal.h"
#include "err.h"
#include "log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static throttle_t *s_throttle(agency_t *self)
{
    if (!self->auth) {
        throttle_config_t c;
        throttle_config_default(&c);
        c.lock_fails = AGENCY_LOCK_FAILS; /* what the log-in page tells users */
        c.lock_ms = (uint32_t)AGENCY_LOCK_MS;
        randombytes_buf(c.seed, sizeof(c.seed));
        self->auth = throttle_new(&c);
    }
    return self->auth;
}

int agency_auth_login(agency_t *self, const throttle_source_t *src, const char *initials,
                      const char *password, char sid[AGENCY_SECRET_HEX], agency_session_t *out,
                      uint64_t *retry_ms)
{
    throttle_t *t = s_throttle(self);
    uint64_t now = clock_mono_ms();
    memset(out, 0, sizeof(*out));
    /* Malformed initials name no account: they count against the source alone. */
    const char *account =
        initials && policy_initials_check((const uint8_t *)initials, strlen(initials)) == 0
            ? initials
            : NULL;
    int rc = throttle_admit(t, src, account, now, retry_ms);
    if (rc != 0)
        return rc;
    /* The budget of checking time over every source, on a clock tests do not fake: what a
     * check takes is measured on it. */
    uint64_t t0 = clock_elapsed_us();
    int pool = THROTTLE_POOL_ALL;
    if (throttle_verify_admit(t, src, t0 / 1000, &pool, retry_ms) != 0)
        return TACNET_EAGAIN;
    int known = 0;
    rc = agency_login(self, initials, password, sid, out, &known);
    uint64_t t1 = clock_elapsed_us();
    throttle_verify_spent(t, pool, t1 - t0, t1 / 1000);
    if (rc == TACNET_EAUTH || rc == TACNET_EINITIALS)
        throttle_fail(t, src, account, known, clock_mono_ms());
    else if (rc == 0)
        throttle_success(t, src, account, t1 / 1000);
    return rc;
}

int agency_auth_token(agency_t *self, const throttle_source_t *src, const char *token,
                      char system[AGENCY_SYSTEM_CHARS], uint64_t *retry_ms)
{
    throttle_t *t = s_throttle(self);
    int rc = throttle_admit(t, src, NULL, clock_mono_ms(), retry_ms);
    if (rc != 0)
        return rc;
    rc = agency_token_check(self, token, system);
    if (rc == TACNET_EAUTH)
        throttle_fail(t, src, NULL, 0, clock_mono_ms());
    return rc;
}

/* ------------------------------------------------------------------ reports */

typedef struct {
    agency_t *self;
    throttle_report_t *r;
    size_t n, cap;
} reports_t;

static void s_collect(void *arg, const throttle_report_t *r)
{
    reports_t *rs = arg;
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 16;
        rs->r = xrealloc(rs->r, rs->cap * sizeof(*rs->r));
    }
    rs->r[rs->n++] = *r;
}

static int s_reports_write(MDB_txn *txn, void *arg)
{
    const reports_t *rs = arg;
    agency_t *self = rs->self;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < rs->n; i++) {
        const throttle_report_t *r = &rs->r[i];
        char src[THROTTLE_ADDR], object[THROTTLE_ADDR + 48];
        throttle_source_t zero;
        memset(&zero, 0, sizeof(zero));
        if (memcmp(&r->source, &zero, sizeof(zero)) == 0)
            snprintf(src, sizeof(src), "%llu further sources", (unsigned long long)r->sources);
        else
            throttle_source_str(&r->source, src);
        if (r->what == THROTTLE_SUMMARY) {
            int n = snprintf(object, sizeof(object), "%s failed=%llu refused=%llu", src,
                             (unsigned long long)r->failures, (unsigned long long)r->refused);
            if (r->locks && n > 0 && (size_t)n < sizeof(object))
                snprintf(object + n, sizeof(object) - (size_t)n, " locked=%llu",
                         (unsigned long long)r->locks);
            rc = agency_audit(self, txn, "auth", "auth.failures", object, "refused", TACNET_EAUTH);
        } else if (r->what == THROTTLE_BUSY) {
            snprintf(object, sizeof(object), "refused=%llu", (unsigned long long)r->refused);
            rc = agency_audit(self, txn, "auth", "login.busy", object, "refused", TACNET_ELOCKED);
        } else if (r->known) { /* an unknown account's lock-out is in the summary only */
            snprintf(object, sizeof(object), "%s@%s", r->account, src);
            rc = agency_audit(self, txn, "auth", "login.locked", object, "locked", TACNET_ELOCKED);
        }
    }
    return rc;
}

int agency_auth_sweep(agency_t *self)
{
    if (!self->auth)
        return 0;
    reports_t rs = { .self = self };
    throttle_sweep(self->auth, clock_mono_ms(), s_collect, &rs);
    for (size_t i = 0; i < rs.n; i++)
        if (rs.r[i].what == THROTTLE_BUSY)
            log_warn("password checks over their budget (a third of the daemon's time): %llu "
                     "log-ins refused unchecked since the last report",
                     (unsigned long long)rs.r[i].refused);
    int rc = rs.n ? store_write(self->store, s_reports_write, &rs) : 0;
    free(rs.r);
    return rc;
}

size_t agency_auth_unlock(agency_t *self, const char *initials)
{
    return self->auth ? throttle_unlock(self->auth, initials) : 0;
}

void agency_auth_account(agency_t *self, const char *initials, uint32_t *fails,
                         uint64_t *locked_until_ms)
{
    *fails = 0;
    *locked_until_ms = 0;
    if (!self->auth)
        return;
    /* The throttle counts on the monotonic clock; a person reads the wall clock. */
    uint64_t mono = clock_mono_ms(), until = 0;
    throttle_account(self->auth, initials, mono, fails, &until);
    if (until > mono)
        *locked_until_ms = clock_now_ms() + (until - mono);
}

void agency_auth_destroy(agency_t *self)
{
    throttle_destroy(&self->auth);
}
