/* verifier: a batch's signature checks on helper threads, results in order. See verifier.h. */
#include "verifier.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"

#define VERIFIER_MAX_THREADS 7

struct verifier {
    pthread_mutex_t lock;
    pthread_cond_t work; /* a batch was posted, or stop */
    pthread_cond_t done; /* the last job of the batch finished */
    void (*fn)(void *arg, size_t i);
    void *arg;
    size_t n, next, finished; /* all under LOCK: claims are rare next to a 43 µs check */
    int stop;
    unsigned n_threads;
    pthread_t threads[VERIFIER_MAX_THREADS];
    merkle_cache_t *roots;
};

/* Claim and run items until none is left unclaimed. Called and returns with LOCK held. */
static void s_drain(verifier_t *self)
{
    while (self->next < self->n) {
        size_t i = self->next++;
        pthread_mutex_unlock(&self->lock);
        self->fn(self->arg, i);
        pthread_mutex_lock(&self->lock);
        if (++self->finished == self->n)
            pthread_cond_signal(&self->done);
    }
}

static void *s_thread(void *arg)
{
    verifier_t *self = arg;
    pthread_mutex_lock(&self->lock);
    while (!self->stop) {
        if (self->next < self->n)
            s_drain(self);
        else
            pthread_cond_wait(&self->work, &self->lock);
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

verifier_t *verifier_new(unsigned threads)
{
    if (threads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus > 1 ? (unsigned)(cpus - 1) : 0;
    }
    if (threads > VERIFIER_MAX_THREADS)
        threads = VERIFIER_MAX_THREADS;
    verifier_t *self = xcalloc(1, sizeof(*self));
    self->roots = merkle_cache_new();
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->work, NULL);
    pthread_cond_init(&self->done, NULL);
    /* Helpers take no signals: SIGTERM and SIGHUP must interrupt the poll loop's thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&self->threads[i], NULL, s_thread, self) != 0)
            break;
        self->n_threads++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (self->n_threads != threads)
        verifier_destroy(&self);
    return self;
}

void verifier_destroy(verifier_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    verifier_t *self = *self_p;
    pthread_mutex_lock(&self->lock);
    self->stop = 1;
    pthread_cond_broadcast(&self->work);
    pthread_mutex_unlock(&self->lock);
    for (unsigned i = 0; i < self->n_threads; i++)
        pthread_join(self->threads[i], NULL);
    pthread_cond_destroy(&self->done);
    pthread_cond_destroy(&self->work);
    pthread_mutex_destroy(&self->lock);
    merkle_cache_destroy(&self->roots);
    free(self);
    *self_p = NULL;
}

merkle_cache_t *verifier_cache(verifier_t *self)
{
    return self ? self->roots : NULL;
}

void verifier_for(verifier_t *self, size_t n, void (*fn)(void *arg, size_t i), void *arg)
{
    if (!self || self->n_threads == 0 || n < VERIFIER_MIN_SHARED) {
        for (size_t i = 0; i < n; i++)
            fn(arg, i);
        return;
    }
    pthread_mutex_lock(&self->lock);
    self->fn = fn;
    self->arg = arg;
    self->n = n;
    self->next = 0;
    self->finished = 0;
    pthread_cond_broadcast(&self->work);
    s_drain(self);
    while (self->finished < self->n)
        pthread_cond_wait(&self->done, &self->lock);
    /* Every claimed item has finished, so no helper still uses FN or ARG once this returns. */
    self->fn = NULL;
    self->arg = NULL;
    self->n = self->next = self->finished = 0;
    pthread_mutex_unlock(&self->lock);
}

typedef struct {
    verifier_t *self;
    verifier_job_t *jobs;
    const size_t *which; /* indexes into JOBS */
} run_arg_t;

static void s_verify_one(void *arg, size_t i)
{
    run_arg_t *a = arg;
    verifier_job_t *j = &a->jobs[a->which ? a->which[i] : i];
    /* merkle_verify, with the digest it computes kept in the job. */
    memset(j->digest, 0, sizeof(j->digest));
    if (!j->sign_pk || !j->sig || (!j->header && j->header_len) || (!j->sealed && j->sealed_len)) {
        j->result = TACNET_EINVAL;
        return;
    }
    seal_digest(j->sealed, j->sealed_len, j->digest);
    j->result = merkle_verify_digest(verifier_cache(a->self), j->sign_pk, j->header, j->header_len,
                                     j->digest, j->sig, j->sig_len);
}

/* Is job I the first of its batch not yet known to the cache? Compared with the leaders found so
 * far (LEADS[0..N_LEAD), job indexes), not with every earlier job: an earlier job of the same
 * batch either led it or found its root cached, and then so does job I. Most recent first, as a
 * batch's events arrive together. The root follows the signature in a batched F5; same key,
 * root and signature is the same batch. (Against every earlier job this was quadratic: a
 * 512-publish commit of 64-event batches made about 115,000 comparisons, 2.5 % of the broker's
 * CPU at saturation.) */
static int s_leads(verifier_t *self, const verifier_job_t *jobs, size_t i, const size_t *leads,
                   size_t n_lead)
{
    const verifier_job_t *j = &jobs[i];
    if (!j->sig || !j->sign_pk || j->sig_len < MERKLE_FIXED_BYTES ||
        merkle_cached(self->roots, j->sign_pk, j->sig, j->sig_len))
        return 0;
    for (size_t l = n_lead; l-- > 0;) {
        const verifier_job_t *k = &jobs[leads[l]];
        if (memcmp(k->sig, j->sig, SEAL_SIG_BYTES + MERKLE_HASH_BYTES) == 0 &&
            memcmp(k->sign_pk, j->sign_pk, SEAL_KEY_BYTES) == 0)
            return 0;
    }
    return 1;
}

void verifier_run(verifier_t *self, verifier_job_t *jobs, size_t n)
{
    if (!self || n < 2) {
        run_arg_t a = { self, jobs, NULL };
        verifier_for(self, n, s_verify_one, &a);
        return;
    }
    /* Two passes: each batch's first event (its root's Ed25519 check, in parallel with the other
     * batches'), then everything else, which finds those roots in the cache. A first event
     * whose own path is wrong caches nothing, and the others then check the signature
     * themselves: never less verified, only slower for a forged batch. */
    size_t *order = xmalloc(n * sizeof(*order)), n_lead = 0, n_rest = 0;
    uint8_t *lead = xcalloc(n, 1);
    for (size_t i = 0; i < n; i++)
        if ((lead[i] = (uint8_t)s_leads(self, jobs, i, order, n_lead)) != 0)
            order[n_lead++] = i;
    run_arg_t a = { self, jobs, order };
    verifier_for(self, n_lead, s_verify_one, &a);
    for (size_t i = 0; i < n; i++)
        if (!lead[i])
            order[n_rest++] = i;
    verifier_for(self, n_rest, s_verify_one, &a);
    free(lead);
    free(order);
}

verifier_job_t verifier_job_of(const uint8_t *sign_pk, const wire_msg_t *m)
{
    return (verifier_job_t){ .sign_pk = sign_pk,
                             .header = m->header,
                             .header_len = m->header_len,
                             .sealed = m->sealed,
                             .sealed_len = m->sealed_len,
                             .sig = m->sig,
                             .sig_len = m->sig_len };
}
