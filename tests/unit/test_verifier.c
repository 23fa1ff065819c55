/* Unit tests for common/verifier.c: a batch's signature checks on helper threads come back in
 * the batch's order, each item runs exactly once, and a batch too small to share or a NULL
 * verifier is checked on the calling thread with the same results. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "err.h"
#include "seal.h"
#include "verifier.h"

#define N_EVENTS 64

typedef struct signed_event {
    uint8_t header[40];
    uint8_t sealed[120];
    uint8_t sig[SEAL_SIG_BYTES];
} signed_event_t;

static seal_keys_t *s_keys;
static signed_event_t s_events[N_EVENTS];

/* Events signed like seal_event's: "TACNET-SIG/1" || header || BLAKE2b-256(sealed). */
static void s_sign(signed_event_t *e, unsigned i)
{
    memset(e, 0, sizeof(*e));
    memset(e->header, (int)i, sizeof(e->header));
    memset(e->sealed, (int)(i * 7 + 1), sizeof(e->sealed));
    uint8_t digest[32], msg[12 + sizeof(e->header) + 32];
    crypto_generichash(digest, sizeof(digest), e->sealed, sizeof(e->sealed), NULL, 0);
    memcpy(msg, "TACNET-SIG/1", 12);
    memcpy(msg + 12, e->header, sizeof(e->header));
    memcpy(msg + 12 + sizeof(e->header), digest, sizeof(digest));
    crypto_sign_detached(e->sig, NULL, msg, sizeof(msg), s_keys->sign_sk);
}

static void s_setup(void)
{
    cr_assert_eq(seal_init(), 0);
    s_keys = seal_keys_generate(TACNET__AGENCY__SCHOOL, 1);
    cr_assert_not_null(s_keys);
    for (unsigned i = 0; i < N_EVENTS; i++)
        s_sign(&s_events[i], i);
}

static void s_teardown(void)
{
    seal_keys_destroy(&s_keys);
}

TestSuite(verifier, .init = s_setup, .fini = s_teardown, .timeout = 60);

/* Every third event tampered (a header byte, a body byte or the signature in turn). */
static void s_jobs(verifier_job_t *jobs, signed_event_t *copy, size_t n)
{
    memcpy(copy, s_events, n * sizeof(*copy));
    for (size_t i = 0; i < n; i++) {
        if (i % 3 == 1) {
            if (i % 9 == 1)
                copy[i].header[5] ^= 1;
            else if (i % 9 == 4)
                copy[i].sealed[77] ^= 0x80;
            else
                copy[i].sig[10] ^= 4;
        }
        jobs[i] = (verifier_job_t){ s_keys->sign_pk,
                                    copy[i].header,
                                    sizeof(copy[i].header),
                                    copy[i].sealed,
                                    sizeof(copy[i].sealed),
                                    copy[i].sig,
                                    SEAL_SIG_BYTES,
                                    -12345,
                                    { 0 } };
    }
}

/* Each result in order, and each job's digest that of the body it was given (a tampered body's
 * too), which a daemon keeps instead of hashing the body again. */
static void s_expect(const verifier_job_t *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cr_expect_eq(jobs[i].result, i % 3 == 1 ? TACNET_ESIGNATURE : 0,
                     "job %zu: %d (tampered: %d)", i, jobs[i].result, i % 3 == 1);
        uint8_t d[SEAL_DIGEST_LEN];
        seal_digest(jobs[i].sealed, jobs[i].sealed_len, d);
        cr_expect_eq(memcmp(jobs[i].digest, d, SEAL_DIGEST_LEN), 0, "job %zu: digest", i);
    }
}

Test(verifier, batch_results_come_back_in_order_with_forgeries_found)
{
    verifier_t *v = verifier_new(3);
    cr_assert_not_null(v);
    verifier_job_t jobs[N_EVENTS];
    signed_event_t copy[N_EVENTS];
    for (int round = 0; round < 5; round++) {
        s_jobs(jobs, copy, N_EVENTS);
        verifier_run(v, jobs, N_EVENTS);
        s_expect(jobs, N_EVENTS);
    }
    verifier_destroy(&v);
    cr_assert_null(v);
    verifier_destroy(&v); /* null-safe */
}

Test(verifier, small_batches_and_no_verifier_check_on_the_calling_thread)
{
    verifier_t *v = verifier_new(0);
    cr_assert_not_null(v);
    verifier_job_t jobs[N_EVENTS];
    signed_event_t copy[N_EVENTS];
    for (size_t n = 0; n < VERIFIER_MIN_SHARED + 2; n++) {
        s_jobs(jobs, copy, n);
        verifier_run(v, jobs, n);
        s_expect(jobs, n);
    }
    s_jobs(jobs, copy, N_EVENTS);
    verifier_run(NULL, jobs, N_EVENTS);
    s_expect(jobs, N_EVENTS);
    verifier_destroy(&v);
}

typedef struct {
    int hits[1000];
} count_arg_t;

static void s_count(void *arg, size_t i)
{
    count_arg_t *c = arg;
    c->hits[i]++; /* one writer per index: the verifier hands each index out once */
}

Test(verifier, every_item_runs_exactly_once)
{
    verifier_t *v = verifier_new(2);
    cr_assert_not_null(v);
    static count_arg_t c;
    for (int round = 0; round < 50; round++) {
        memset(&c, 0, sizeof(c));
        size_t n = (size_t)(round * 19 % 1000);
        verifier_for(v, n, s_count, &c);
        for (size_t i = 0; i < 1000; i++)
            cr_assert_eq(c.hits[i], i < n ? 1 : 0, "round %d: item %zu ran %d times", round, i,
                         c.hits[i]);
    }
    verifier_destroy(&v);
}
