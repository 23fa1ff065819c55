/* verifier: a batch's signature checks on helper threads, results in order. See verifier.h. */
#include "verifier.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
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
    free(self);
    *self_p = NULL;
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

static void s_verify_one(void *arg, size_t i)
{
    verifier_job_t *j = (verifier_job_t *)arg + i;
    j->result = seal_verify(j->sign_pk, j->header, j->header_len, j->sealed, j->sealed_len, j->sig);
}

void verifier_run(verifier_t *self, verifier_job_t *jobs, size_t n)
{
    verifier_for(self, n, s_verify_one, jobs);
}
