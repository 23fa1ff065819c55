/* verifier: Ed25519 checks of a batch of events spread over helper threads.
 *
 * A signature check (~43 µs) is most of what the broker and a daemon spend per event, and each
 * process is one thread around one poll loop, so a burst (broker ingest, a daemon catching up)
 * used one core. The loop collects a batch as before, fills one job per event and calls
 * verifier_run, which checks the jobs on the helper threads and on the calling thread together
 * and returns when every job has its result: the loop stays the only thread that touches
 * sockets, LMDB and state, and the results come back in the batch's order.
 *
 * The check is a pure function of the job's inputs and the verifier's cache of verified batch
 * roots (merkle.h, locked inside), which is what makes this safe: the jobs point at bytes the
 * caller owns and does not change until verifier_run returns. Events signed in one batch cost
 * one Ed25519 check per verifier: the first of each batch is checked before the others, which
 * then find its root in the cache and only hash their paths.
 */
#ifndef TACNET_VERIFIER_H
#define TACNET_VERIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "merkle.h"
#include "seal.h"
#include "wire.h"

/* One signature to check. RESULT is written by verifier_run: 0 or TACNET_ESIGNATURE
 * (TACNET_EINVAL for NULL inputs, as merkle_verify). DIGEST is written too, whatever the result:
 * the sealed body's digest (seal_digest), which every check computes, for a caller that needs
 * it after the check (a daemon keeps it with the event's content key). */
typedef struct verifier_job {
    const uint8_t *sign_pk; /* SEAL_KEY_BYTES */
    const uint8_t *header;
    size_t header_len;
    const uint8_t *sealed;
    size_t sealed_len;
    const uint8_t *sig; /* F5: SEAL_SIG_BYTES or a batched signature */
    size_t sig_len;
    int result;
    uint8_t digest[SEAL_DIGEST_LEN];
} verifier_job_t;

typedef struct verifier verifier_t;

/* The job checking message M (its F3 header, F4 sealed body and F5 signature) against the
 * sender's signing key SIGN_PK. M must outlive the job. */
verifier_job_t verifier_job_of(const uint8_t *sign_pk, const wire_msg_t *m);

/* A verifier with THREADS helper threads; 0 means one per online CPU beyond the caller's
 * (none on a one-CPU machine, when every batch is checked on the calling thread). Capped at
 * 7. Returns an owned verifier (free with verifier_destroy), or NULL if a thread could not be
 * started. */
verifier_t *verifier_new(unsigned threads);

/* The cache of verified batch roots the verifier's checks use (for checks made outside
 * verifier_run on the same events). NULL for a NULL SELF. */
merkle_cache_t *verifier_cache(verifier_t *self);

/* Stops and joins the helper threads. Null-safe; sets *SELF_P to NULL. */
void verifier_destroy(verifier_t **self_p);

/* Check JOBS[0..N) and set each job's result. Batches too small to be worth waking a helper
 * (under VERIFIER_MIN_SHARED jobs), or a NULL SELF, are checked on the calling thread. Not
 * re-entrant: one caller thread per verifier. */
#define VERIFIER_MIN_SHARED 4
void verifier_run(verifier_t *self, verifier_job_t *jobs, size_t n);

/* The same for any per-item work: FN(ARG, i) for every i in [0, N), each exactly once, on the
 * helpers and the calling thread; returns when all have returned. FN must be safe to run
 * concurrently for different i (it may only read state shared between items). */
void verifier_for(verifier_t *self, size_t n, void (*fn)(void *arg, size_t i), void *arg);

#endif
