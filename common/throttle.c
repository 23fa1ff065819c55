/* throttle: failed authentication counted in memory per source and per source and account (see
 * throttle.h). */
#include "throttle.h"
#include "err.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define S_WAYS 8

/* A source's bucket holds CREDIT milliseconds of refill (full: burst * refill_ms); a failure
 * costs refill_ms of it. Counting in milliseconds keeps the refill exact however often it is
 * read. */
typedef struct s_src {
    throttle_source_t key;
    uint8_t used;
    uint32_t strikes;       /* blocks in a row: the next one lasts refill_ms << strikes */
    uint64_t seen_ms;       /* last failure or refusal, for eviction */
    uint64_t credit_ms;     /* at credit_at_ms */
    uint64_t credit_at_ms;  /* refill counts from here (the end of a block: none during it) */
    uint64_t blocked_until; /* refused unchecked before this */
    uint64_t window_start;  /* of the pending counts */
    uint64_t failures, refused;
} s_src_t;

typedef struct s_acct {
    throttle_source_t src;
    char account[THROTTLE_ACCOUNT];
    uint8_t used, known, report;
    uint32_t fails;
    uint64_t first_ms, locked_until, seen_ms;
} s_acct_t;

/* A source someone logged in from (throttle_success), and when last. */
typedef struct s_known {
    throttle_source_t src;
    uint8_t used;
    uint64_t at_ms;
} s_known_t;

/* Checking time that may be spent: CREDIT_US at AT (below zero after a check overdrew it). */
typedef struct s_budget {
    int64_t credit_us;
    uint64_t at;
    int set;
} s_budget_t;

struct throttle {
    throttle_config_t cfg;
    size_t sets;
    s_src_t *srcs;    /* sets * S_WAYS */
    s_acct_t *accts;  /* sets * S_WAYS */
    s_known_t *known; /* sets * S_WAYS */
    /* What the next round sums as "further sources": evicted sources' counts not yet reported,
     * lock-outs beyond the window's share, and the sources of a round beyond its first few. */
    uint64_t ev_sources, ev_failures, ev_refused, ev_locks, ev_start;
    uint64_t locks_start, locks_n; /* lock-outs reported on their own in this window */
    /* The budgets of password checks: every source's, and the reserve of sources someone
     * logged in from lately; log-ins refused for want of both since BUSY_AT, its last report. */
    s_budget_t all, reserve;
    uint64_t busy_refused, busy_at;
    int busy_said;
};

void throttle_config_default(throttle_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->burst = 10;
    cfg->refill_ms = 5000;
    cfg->backoff_max_ms = 5 * 60 * 1000;
    cfg->lock_fails = 5;
    cfg->lock_ms = 15 * 60 * 1000;
    cfg->window_ms = 60 * 1000;
    cfg->sources = 4096;
    cfg->report_sources = 8;
    cfg->verify_share = 33;
    cfg->verify_burst_ms = 1000;
    cfg->known_share = 10;
    cfg->known_ms = 14u * 24 * 60 * 60 * 1000;
}

throttle_t *throttle_new(const throttle_config_t *cfg)
{
    if (!cfg || cfg->burst < 1 || cfg->refill_ms < 1 || cfg->lock_fails < 1 || cfg->sources < 1 ||
        cfg->sources > (1u << 24) || cfg->report_sources < 1 || cfg->verify_share > 100 ||
        (cfg->verify_share && cfg->verify_burst_ms < 1) ||
        cfg->verify_share + cfg->known_share > 100)
        return NULL;
    throttle_t *self = xcalloc(1, sizeof(*self));
    self->cfg = *cfg;
    self->sets = (cfg->sources + S_WAYS - 1) / S_WAYS;
    self->srcs = xcalloc(self->sets * S_WAYS, sizeof(*self->srcs));
    self->accts = xcalloc(self->sets * S_WAYS, sizeof(*self->accts));
    self->known = xcalloc(self->sets * S_WAYS, sizeof(*self->known));
    return self;
}

void throttle_destroy(throttle_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    throttle_t *self = *self_p;
    free(self->srcs);
    free(self->accts);
    free(self->known);
    free(self);
    *self_p = NULL;
}

/* ------------------------------------------------------------------ sources */

int throttle_source_from(const struct sockaddr *sa, throttle_source_t *out)
{
    memset(out, 0, sizeof(*out));
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        out->b[10] = out->b[11] = 0xff;
        memcpy(out->b + 12, &a->sin_addr, 4);
        return 0;
    }
    if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        /* ::ffff:a.b.c.d is already the IPv4 form; anything else is cut to its /64. */
        memcpy(out->b, &a->sin6_addr, IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) ? 16 : 8);
        return 0;
    }
    return TACNET_EINVAL;
}

static int s_is_v4(const throttle_source_t *s)
{
    static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    return memcmp(s->b, prefix, 12) == 0;
}

void throttle_source_str(const throttle_source_t *src, char out[THROTTLE_ADDR])
{
    char a[INET6_ADDRSTRLEN] = "?";
    if (s_is_v4(src)) {
        inet_ntop(AF_INET, src->b + 12, a, sizeof(a));
        snprintf(out, THROTTLE_ADDR, "%s", a);
    } else {
        inet_ntop(AF_INET6, src->b, a, sizeof(a));
        snprintf(out, THROTTLE_ADDR, "%s/64", a);
    }
}

/* The set a key falls in: keyed SipHash, so an outsider cannot aim sources at one set. */
static size_t s_set(const throttle_t *self, const void *key, size_t len)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, len, self->cfg.seed);
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++)
        v = v << 8 | h[i];
    return (size_t)(v % self->sets);
}

static int s_ev_pending(const throttle_t *self)
{
    return self->ev_failures + self->ev_refused + self->ev_locks > 0;
}

/* Fold E's counts not yet reported into the further sources' (E keeps its entry). */
static void s_fold(throttle_t *self, s_src_t *e)
{
    if (e->failures + e->refused == 0)
        return;
    if (!s_ev_pending(self) || e->window_start < self->ev_start)
        self->ev_start = e->window_start;
    self->ev_sources++;
    self->ev_failures += e->failures;
    self->ev_refused += e->refused;
    e->failures = e->refused = 0;
}

static void s_evict_src(throttle_t *self, s_src_t *e)
{
    if (e->used)
        s_fold(self, e);
    memset(e, 0, sizeof(*e));
}

/* The entry of SRC; with CREATE a new one (evicting the set's least recently seen) when none. */
static s_src_t *s_src(throttle_t *self, const throttle_source_t *src, int create, uint64_t now)
{
    s_src_t *set = self->srcs + s_set(self, src->b, 16) * S_WAYS, *victim = NULL;
    for (size_t i = 0; i < S_WAYS; i++) {
        if (set[i].used && memcmp(set[i].key.b, src->b, 16) == 0)
            return &set[i];
        if (!set[i].used ? !victim || victim->used
                         : !victim || (victim->used && set[i].seen_ms < victim->seen_ms))
            victim = &set[i];
    }
    if (!create)
        return NULL;
    s_evict_src(self, victim);
    victim->used = 1;
    victim->key = *src;
    victim->credit_ms = (uint64_t)self->cfg.burst * self->cfg.refill_ms;
    victim->credit_at_ms = now;
    victim->seen_ms = now;
    return victim;
}

static void s_refill(const throttle_t *self, s_src_t *e, uint64_t now)
{
    uint64_t cap = (uint64_t)self->cfg.burst * self->cfg.refill_ms;
    if (now > e->credit_at_ms) {
        e->credit_ms += now - e->credit_at_ms;
        e->credit_at_ms = now;
    }
    if (e->credit_ms > cap)
        e->credit_ms = cap;
}

static void s_pending(s_src_t *e, uint64_t now, int failed)
{
    if (e->failures + e->refused == 0)
        e->window_start = now;
    if (failed)
        e->failures++;
    else
        e->refused++;
    e->seen_ms = now;
}

/* ------------------------------------------------------------------ accounts */

typedef struct {
    throttle_source_t src;
    char account[THROTTLE_ACCOUNT];
} s_acct_key_t;

static s_acct_key_t s_acct_key(const throttle_source_t *src, const char *account)
{
    s_acct_key_t k;
    memset(&k, 0, sizeof(k));
    k.src = *src;
    snprintf(k.account, sizeof(k.account), "%s", account);
    return k;
}

static int s_rank(const s_acct_t *a, uint64_t now)
{
    return !a->used ? 0 : a->locked_until <= now ? 1 : 2;
}

static s_acct_t *s_acct(throttle_t *self, const throttle_source_t *src, const char *account,
                        int create, uint64_t now)
{
    s_acct_key_t k = s_acct_key(src, account);
    s_acct_t *set = self->accts + s_set(self, &k, sizeof(k)) * S_WAYS, *victim = NULL;
    for (size_t i = 0; i < S_WAYS; i++) {
        s_acct_t *a = &set[i];
        if (a->used && memcmp(a->src.b, k.src.b, 16) == 0 && strcmp(a->account, k.account) == 0)
            return a;
        /* A free slot first, else the least recently seen that is not locked, else the least
         * recently seen: an outsider filling the table does not lift a lock-out first. */
        if (!victim || s_rank(a, now) < s_rank(victim, now) ||
            (s_rank(a, now) == s_rank(victim, now) && a->seen_ms < victim->seen_ms))
            victim = a;
    }
    if (!create)
        return NULL;
    memset(victim, 0, sizeof(*victim));
    victim->used = 1;
    victim->src = k.src;
    memcpy(victim->account, k.account, sizeof(k.account));
    victim->first_ms = now;
    victim->seen_ms = now;
    return victim;
}

/* ------------------------------------------------------------------ the checks */

int throttle_admit(throttle_t *self, const throttle_source_t *src, const char *account,
                   uint64_t now_ms, uint64_t *retry_ms)
{
    s_src_t *e = s_src(self, src, 0, now_ms);
    uint64_t until = e && now_ms < e->blocked_until ? e->blocked_until : 0;
    if (account) {
        s_acct_t *a = s_acct(self, src, account, 0, now_ms);
        if (a && now_ms < a->locked_until && a->locked_until > until)
            until = a->locked_until;
    }
    if (!until)
        return 0;
    if (!e)
        e = s_src(self, src, 1, now_ms);
    s_pending(e, now_ms, 0);
    if (retry_ms)
        *retry_ms = until - now_ms;
    return TACNET_ELOCKED;
}

void throttle_fail(throttle_t *self, const throttle_source_t *src, const char *account, int known,
                   uint64_t now_ms)
{
    const throttle_config_t *c = &self->cfg;
    s_src_t *e = s_src(self, src, 1, now_ms);
    s_refill(self, e, now_ms);
    if (e->strikes && now_ms >= e->blocked_until + c->backoff_max_ms)
        e->strikes = 0; /* quiet long enough after its last block: the backoff starts over */
    s_pending(e, now_ms, 1);
    e->credit_ms = e->credit_ms >= c->refill_ms ? e->credit_ms - c->refill_ms : 0;
    if (e->credit_ms < c->refill_ms) {
        uint64_t block = (uint64_t)c->refill_ms << (e->strikes < 20 ? e->strikes : 20);
        if (c->backoff_max_ms && block > c->backoff_max_ms)
            block = c->backoff_max_ms;
        e->strikes++;
        e->blocked_until = now_ms + block;
        e->credit_at_ms = e->blocked_until; /* nothing refills while blocked */
    }
    if (!account)
        return;
    s_acct_t *a = s_acct(self, src, account, 1, now_ms);
    if (now_ms - a->first_ms > c->lock_ms) {
        a->fails = 0;
        a->first_ms = now_ms;
    }
    a->seen_ms = now_ms;
    a->known = known != 0;
    if (++a->fails >= c->lock_fails && a->locked_until <= now_ms) {
        a->locked_until = now_ms + c->lock_ms;
        a->report = 1;
    }
}

/* Remember SRC as a source someone logged in from, at NOW (the set's least recently used goes:
 * only successful log-ins ever take a place here, so failures cannot push the owners out). */
static void s_known_mark(throttle_t *self, const throttle_source_t *src, uint64_t now)
{
    s_known_t *set = self->known + s_set(self, src->b, 16) * S_WAYS, *victim = NULL;
    for (size_t i = 0; i < S_WAYS; i++) {
        if (set[i].used && memcmp(set[i].src.b, src->b, 16) == 0) {
            victim = &set[i];
            break;
        }
        if (!victim || (victim->used && (!set[i].used || set[i].at_ms < victim->at_ms)))
            victim = &set[i];
    }
    victim->used = 1;
    victim->src = *src;
    victim->at_ms = now;
}

static int s_known_is(const throttle_t *self, const throttle_source_t *src, uint64_t now)
{
    const s_known_t *set = self->known + s_set(self, src->b, 16) * S_WAYS;
    for (size_t i = 0; i < S_WAYS; i++)
        if (set[i].used && memcmp(set[i].src.b, src->b, 16) == 0)
            return now - set[i].at_ms <= self->cfg.known_ms;
    return 0;
}

void throttle_success(throttle_t *self, const throttle_source_t *src, const char *account,
                      uint64_t now_ms)
{
    s_acct_t *a = account ? s_acct(self, src, account, 0, 0) : NULL;
    if (a && !a->report)
        memset(a, 0, sizeof(*a));
    else if (a)
        a->fails = 0, a->locked_until = 0;
    if (account)
        s_known_mark(self, src, now_ms);
}

size_t throttle_unlock(throttle_t *self, const char *account)
{
    size_t n = 0;
    for (size_t i = 0; account && i < self->sets * S_WAYS; i++) {
        s_acct_t *a = &self->accts[i];
        if (a->used && strncmp(a->account, account, THROTTLE_ACCOUNT) == 0) {
            n += a->locked_until != 0;
            a->fails = 0;
            a->locked_until = 0;
        }
    }
    return n;
}

/* ------------------------------------------------------------------ the budget of checks */

/* B refilled to NOW at SHARE percent of the time, up to CAP_US. */
static void s_budget_refill(s_budget_t *b, uint32_t share, int64_t cap_us, uint64_t now)
{
    if (!b->set) {
        b->set = 1;
        b->credit_us = cap_us;
        b->at = now;
    }
    if (now > b->at) { /* SHARE percent of a millisecond is 10 * SHARE us */
        uint64_t add = (now - b->at) * 10u * share;
        b->credit_us = add >= (uint64_t)(2 * cap_us) ? cap_us : b->credit_us + (int64_t)add;
        b->at = now;
    }
    if (b->credit_us > cap_us)
        b->credit_us = cap_us;
}

/* The reserve may spend at once what its share of the burst is (at least a millisecond). */
static int64_t s_cap_us(const throttle_t *self, int pool)
{
    const throttle_config_t *c = &self->cfg;
    int64_t cap = (int64_t)c->verify_burst_ms * 1000;
    if (pool == THROTTLE_POOL_RESERVE) {
        cap = cap * c->known_share / c->verify_share;
        cap = cap < 1000 ? 1000 : cap;
    }
    return cap;
}

static s_budget_t *s_pool(throttle_t *self, int pool, uint64_t now)
{
    s_budget_t *b = pool == THROTTLE_POOL_RESERVE ? &self->reserve : &self->all;
    s_budget_refill(b,
                    pool == THROTTLE_POOL_RESERVE ? self->cfg.known_share : self->cfg.verify_share,
                    s_cap_us(self, pool), now);
    return b;
}

int throttle_verify_admit(throttle_t *self, const throttle_source_t *src, uint64_t now_ms,
                          int *pool, uint64_t *retry_ms)
{
    *pool = THROTTLE_POOL_ALL;
    if (!self->cfg.verify_share)
        return 0;
    s_budget_t *all = s_pool(self, THROTTLE_POOL_ALL, now_ms);
    if (all->credit_us > 0)
        return 0;
    if (self->cfg.known_share && src && s_known_is(self, src, now_ms) &&
        s_pool(self, THROTTLE_POOL_RESERVE, now_ms)->credit_us > 0) {
        *pool = THROTTLE_POOL_RESERVE;
        return 0;
    }
    self->busy_refused++;
    if (retry_ms) /* until every source's credit is above zero again */
        *retry_ms = (uint64_t)-all->credit_us / (10u * self->cfg.verify_share) + 1;
    return TACNET_ELOCKED;
}

void throttle_verify_spent(throttle_t *self, int pool, uint64_t spent_us, uint64_t now_ms)
{
    if (!self->cfg.verify_share)
        return;
    s_budget_t *b = s_pool(self, pool, now_ms);
    /* Overdrawn by one burst at the most: a check the machine stalled in (a suspend) does not
     * refuse log-ins for long after. */
    int64_t cap = s_cap_us(self, pool);
    b->credit_us -= spent_us > (uint64_t)(2 * cap) ? 2 * cap : (int64_t)spent_us;
    if (b->credit_us < -cap)
        b->credit_us = -cap;
}

void throttle_account(const throttle_t *self, const char *account, uint64_t now_ms, uint32_t *fails,
                      uint64_t *locked_until_ms)
{
    *fails = 0;
    *locked_until_ms = 0;
    for (size_t i = 0; account && i < self->sets * S_WAYS; i++) {
        const s_acct_t *a = &self->accts[i];
        if (!a->used || strncmp(a->account, account, THROTTLE_ACCOUNT) != 0)
            continue;
        *fails += a->fails;
        if (a->locked_until > now_ms && a->locked_until > *locked_until_ms)
            *locked_until_ms = a->locked_until;
    }
}

/* ------------------------------------------------------------------ reports */

static uint64_t s_count(const s_src_t *e)
{
    return e->failures + e->refused;
}

/* The round of summaries, when the oldest count not yet reported is a window old: the
 * report_sources sources with the most on their own, the most first, every other one (and what
 * was folded since the last round) in one summary of further sources. */
static size_t s_round(throttle_t *self, uint64_t now, throttle_report_fn fn, void *arg)
{
    const throttle_config_t *c = &self->cfg;
    size_t all = self->sets * S_WAYS, nt = 0, n = 0;
    uint64_t oldest = s_ev_pending(self) ? self->ev_start : UINT64_MAX;
    for (size_t i = 0; i < all; i++)
        if (self->srcs[i].used && s_count(&self->srcs[i]) && self->srcs[i].window_start < oldest)
            oldest = self->srcs[i].window_start;
    if (oldest == UINT64_MAX || now < oldest + c->window_ms)
        return 0;
    s_src_t **top = xcalloc(c->report_sources, sizeof(*top));
    for (size_t i = 0; i < all; i++) {
        s_src_t *e = &self->srcs[i];
        if (!e->used || !s_count(e))
            continue;
        if (nt == c->report_sources && s_count(e) <= s_count(top[nt - 1]))
            continue;
        size_t k = nt < c->report_sources ? nt++ : nt - 1; /* the last one drops out */
        for (; k > 0 && s_count(top[k - 1]) < s_count(e); k--)
            top[k] = top[k - 1];
        top[k] = e;
    }
    for (size_t k = 0; k < nt; k++) {
        throttle_report_t r = { .what = THROTTLE_SUMMARY, .source = top[k]->key, .sources = 1 };
        r.failures = top[k]->failures;
        r.refused = top[k]->refused;
        top[k]->failures = top[k]->refused = 0;
        fn(arg, &r);
        n++;
    }
    free(top);
    for (size_t i = 0; i < all; i++)
        if (self->srcs[i].used)
            s_fold(self, &self->srcs[i]);
    if (s_ev_pending(self)) {
        throttle_report_t r = { .what = THROTTLE_SUMMARY, .sources = self->ev_sources };
        r.failures = self->ev_failures;
        r.refused = self->ev_refused;
        r.locks = self->ev_locks;
        self->ev_sources = self->ev_failures = self->ev_refused = self->ev_locks = 0;
        fn(arg, &r);
        n++;
    }
    return n;
}

static size_t s_sweep_sources(throttle_t *self, uint64_t now, throttle_report_fn fn, void *arg)
{
    const throttle_config_t *c = &self->cfg;
    size_t n = s_round(self, now, fn, arg);
    for (size_t i = 0; i < self->sets * S_WAYS; i++) {
        s_src_t *e = &self->srcs[i];
        if (!e->used)
            continue;
        s_refill(self, e, now);
        if (s_count(e) == 0 && now >= e->blocked_until &&
            e->credit_ms >= (uint64_t)c->burst * c->refill_ms &&
            now >= e->blocked_until + c->backoff_max_ms)
            memset(e, 0, sizeof(*e)); /* nothing to remember */
    }
    return n;
}

/* A lock-out of a known account on its own while the window's share lasts; else counted in the
 * next further summary. Returns whether to report it. */
static int s_lock_share(throttle_t *self, uint64_t now)
{
    if (self->locks_n == 0 || now >= self->locks_start + self->cfg.window_ms) {
        self->locks_start = now;
        self->locks_n = 0;
    }
    if (self->locks_n < self->cfg.report_sources) {
        self->locks_n++;
        return 1;
    }
    if (!s_ev_pending(self))
        self->ev_start = now;
    self->ev_locks++;
    return 0;
}

size_t throttle_sweep(throttle_t *self, uint64_t now_ms, throttle_report_fn fn, void *arg)
{
    size_t n = s_sweep_sources(self, now_ms, fn, arg);
    for (size_t i = 0; i < self->sets * S_WAYS; i++) {
        s_acct_t *a = &self->accts[i];
        if (!a->used)
            continue;
        if (a->report && (!a->known || s_lock_share(self, now_ms))) {
            throttle_report_t r = { .what = THROTTLE_LOCKED, .source = a->src, .known = a->known };
            memcpy(r.account, a->account, sizeof(r.account));
            fn(arg, &r);
            n++;
        }
        a->report = 0;
        if (a->locked_until <= now_ms && now_ms - a->first_ms > self->cfg.lock_ms)
            memset(a, 0, sizeof(*a));
    }
    /* The budget's refusals: at once when they start, then at most once per window. */
    if (self->busy_refused && (!self->busy_said || now_ms >= self->busy_at + self->cfg.window_ms)) {
        throttle_report_t r = { .what = THROTTLE_BUSY, .refused = self->busy_refused };
        self->busy_refused = 0;
        self->busy_said = 1;
        self->busy_at = now_ms;
        fn(arg, &r);
        n++;
    }
    return n;
}

void throttle_counts(const throttle_t *self, size_t *sources, size_t *accounts)
{
    size_t s = 0, a = 0;
    for (size_t i = 0; i < self->sets * S_WAYS; i++) {
        s += self->srcs[i].used;
        a += self->accts[i].used;
    }
    if (sources)
        *sources = s;
    if (accounts)
        *accounts = a;
}
