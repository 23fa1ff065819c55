/* quota: per-agency token buckets that refuse in order (see quota.h). */
#include "quota.h"

#include "err.h"

#include <stdlib.h>

#define QUOTA_MAX_AGENCY 64

typedef struct bucket {
    uint64_t milli_tokens; /* thousandths of a token, so slow rates still refill */
    uint64_t last_ms;
    uint64_t hold_seq; /* refused sender_seq waiting to come back; 0: none */
    uint64_t refused;
    int started;
} bucket_t;

struct quota {
    uint32_t per_s, burst;
    bucket_t b[QUOTA_MAX_AGENCY];
};

quota_t *quota_new(uint32_t per_s, uint32_t burst)
{
    quota_t *self = xcalloc(1, sizeof(*self));
    self->per_s = per_s;
    self->burst = burst < per_s ? per_s : burst;
    return self;
}

void quota_destroy(quota_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

static void s_refill(const quota_t *self, bucket_t *b, uint64_t now_ms)
{
    uint64_t cap = (uint64_t)self->burst * 1000;
    if (!b->started) {
        b->started = 1;
        b->milli_tokens = cap;
        b->last_ms = now_ms;
        return;
    }
    if (now_ms <= b->last_ms)
        return;
    /* per_s tokens a second is per_s milli-tokens a millisecond. */
    uint64_t add = (now_ms - b->last_ms) * self->per_s;
    b->milli_tokens = add >= cap || b->milli_tokens + add >= cap ? cap : b->milli_tokens + add;
    b->last_ms = now_ms;
}

int quota_take(quota_t *self, uint32_t agency, uint64_t sender_seq, uint64_t now_ms)
{
    if (!self || agency >= QUOTA_MAX_AGENCY)
        return TACNET_EINVAL;
    if (self->per_s == 0)
        return 0;
    bucket_t *b = &self->b[agency];
    s_refill(self, b, now_ms);
    if (b->hold_seq && sender_seq > b->hold_seq) {
        b->refused++;
        return TACNET_EQUOTA;
    }
    if (b->milli_tokens < 1000) {
        if (!b->hold_seq || sender_seq < b->hold_seq)
            b->hold_seq = sender_seq;
        b->refused++;
        return TACNET_EQUOTA;
    }
    b->milli_tokens -= 1000;
    if (sender_seq == b->hold_seq)
        b->hold_seq = 0;
    return 0;
}

uint64_t quota_refused(const quota_t *self, uint32_t agency)
{
    return self && agency < QUOTA_MAX_AGENCY ? self->b[agency].refused : 0;
}
