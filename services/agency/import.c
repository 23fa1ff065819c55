/* import: an intake import as a job in the daemon's loop (import.h). */
#include "agency/import.h"
#include "internal.h"
#include "agency/outcome.h"
#include "agency/vault.h"
#include "bytes.h"
#include "casework/intake.h"
#include "err.h"
#include "names.h"
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Work per turn of the loop: heartbeats and the dashboard are served between slices. */
#define IMPORT_SLICE_US 10000u
/* A file this small is parsed, checked and queued within the request (a few ms). */
#define IMPORT_INLINE_BYTES (256u * 1024)
/* Events whose outcome is looked up per count, and how often the count runs. */
#define IMPORT_COUNT_SLICE    2048
#define IMPORT_COUNT_EVERY_MS 200
/* While the parse thread runs, the loop looks for its end this often. */
#define IMPORT_READ_POLL_MS 20
/* Refused events listed in a status, with why; the rest are counted. */
#define IMPORT_REFUSALS_MAX 100

struct agency_import {
    uint64_t id;
    Tacnet__ImportPhase phase;
    char *path;
    int (*intake)(const char *path, intake_result_t *out);
    /* reading: a large file is parsed on a thread of its own */
    pthread_t thread;
    bool threaded;
    atomic_int parsed;
    int parse_rc;
    intake_result_t res;
    /* checking, then queueing: the next row */
    size_t next;
    agency_publish_cases_t *cases;
    uint32_t rows, checked, queued, duplicates;
    agency_publish_queued_t *ids; /* one per row taken by a batch, in file order */
    size_t n_ids;
    /* the broker's answers: per event 0 (none yet), ACCEPTED or REFUSED; all before LO have one */
    uint8_t *state;
    size_t lo;
    uint32_t accepted, refused;
    uint64_t next_count_ms;
    /* failed */
    int code;
    char *reason;
    char **errors;
    size_t n_errors;
    uint64_t started_ms, t0_us, elapsed_us;
    bool dirty; /* the phase changed: record it (s_save) at the end of the step */
};

/* "reading", "checking", "queueing", "done" or "failed": the phase's name in the proto without
 * its IMPORT_ prefix, so the daemon and the command line say the same. */
static const char *s_phase_name(Tacnet__ImportPhase phase)
{
    const char *n = names_enum(&tacnet__import_phase__descriptor, (int)phase);
    return n && strncmp(n, "import_", 7) == 0 ? n + 7 : "failed";
}

static bool s_running(const struct agency_import *job)
{
    return job && job->phase != TACNET__IMPORT_PHASE__IMPORT_DONE &&
           job->phase != TACNET__IMPORT_PHASE__IMPORT_FAILED;
}

static void s_job_free(struct agency_import *job)
{
    if (!job)
        return;
    if (job->threaded)
        pthread_join(job->thread, NULL);
    intake_result_clear(&job->res);
    agency_publish_cases_destroy(&job->cases);
    for (size_t i = 0; i < job->n_errors; i++)
        free(job->errors[i]);
    free(job->errors);
    free(job->reason);
    free(job->ids);
    free(job->state);
    free(job->path);
    free(job);
}

/* The job stops here: CODE and the reason (printf-style); nothing more is queued. */
static void s_fail(struct agency_import *job, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_fail(struct agency_import *job, int code, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    job->phase = TACNET__IMPORT_PHASE__IMPORT_FAILED;
    job->dirty = true;
    job->code = code;
    free(job->reason);
    job->reason = xstrdup(why);
    job->elapsed_us = clock_elapsed_us() - job->t0_us;
    log_warn("import job %llu failed: %s", (unsigned long long)job->id, tacnet_strerror(code));
}

/* Rows no longer needed once queued: their requests go as soon as the job is past them. */
static void s_rows_release(struct agency_import *job)
{
    intake_result_clear(&job->res);
    agency_publish_cases_destroy(&job->cases);
}

/* ------------------------------------------------------------------ kept across restarts */

/* The job as import_jobs keeps it (the latest job only, key its id, big-endian):
 *   phase(1) code(4) rows(4) checked(4) queued(4) duplicates(4) started_ms(8) elapsed_ms(8)
 *   n_ids(4) reason NUL path NUL
 * and, once its rows are queued, import_ids job(8) index(4) -> msg_id(16) for each row, so a
 * restarted daemon still shows the job and counts the broker's answers on its events. */
#define IMPORT_REC_FIXED 45

typedef struct {
    agency_t *self;
    const struct agency_import *job;
    int with_ids;
} import_save_t;

/* Empty DBI inside TXN. */
static int s_clear(MDB_txn *txn, MDB_dbi dbi)
{
    MDB_cursor *cur;
    int mrc = mdb_cursor_open(txn, dbi, &cur);
    if (mrc != 0)
        return TACNET_ESTORE;
    MDB_val k, v;
    while ((mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 &&
           (mrc = mdb_cursor_del(cur, 0)) == 0)
        ;
    mdb_cursor_close(cur);
    return mrc == MDB_NOTFOUND ? 0 : TACNET_ESTORE;
}

static int s_save_txn(MDB_txn *txn, void *arg)
{
    import_save_t *sv = arg;
    agency_t *self = sv->self;
    const struct agency_import *job = sv->job;
    uint8_t key[8];
    store_u64_put(key, job->id);
    const char *reason = job->reason ? job->reason : "";
    size_t rl = strlen(reason) + 1, pl = strlen(job->path) + 1;
    uint8_t *rec = xmalloc(IMPORT_REC_FIXED + rl + pl);
    rec[0] = (uint8_t)job->phase;
    bytes_be32_put(rec + 1, (uint32_t)job->code);
    bytes_be32_put(rec + 5, job->rows);
    bytes_be32_put(rec + 9, job->checked);
    bytes_be32_put(rec + 13, job->queued);
    bytes_be32_put(rec + 17, job->duplicates);
    store_u64_put(rec + 21, job->started_ms);
    store_u64_put(rec + 29, job->elapsed_us / 1000);
    bytes_be32_put(rec + 37, sv->with_ids ? (uint32_t)job->n_ids : 0);
    bytes_be32_put(rec + 41, 0);
    memcpy(rec + IMPORT_REC_FIXED, reason, rl);
    memcpy(rec + IMPORT_REC_FIXED + rl, job->path, pl);
    /* Only the latest job is kept: the store holds no history of imports. */
    int rc = s_clear(txn, self->import_jobs);
    if (rc == 0 && (sv->with_ids || job->phase == TACNET__IMPORT_PHASE__IMPORT_READING))
        rc = s_clear(txn, self->import_ids);
    if (rc == 0)
        rc = store_put(txn, self->import_jobs, key, 8, rec, IMPORT_REC_FIXED + rl + pl, 0);
    free(rec);
    for (size_t i = 0; rc == 0 && sv->with_ids && i < job->n_ids; i++) {
        uint8_t k[12];
        store_u64_put(k, job->id);
        bytes_be32_put(k + 8, (uint32_t)i);
        rc = store_put(txn, self->import_ids, k, sizeof(k), job->ids[i].msg_id, 16, 0);
    }
    return rc;
}

/* Record JOB as it stands (WITH_IDS: and its events, once queued). A failure is logged: the
 * job goes on, and only its display after a restart is lost. */
static void s_save(agency_t *self, const struct agency_import *job, int with_ids)
{
    import_save_t sv = { self, job, with_ids };
    int rc = store_write(self->store, s_save_txn, &sv);
    if (rc != 0)
        log_warn("import job %llu: could not record its progress: %s", (unsigned long long)job->id,
                 tacnet_strerror(rc));
}

/* Decode a kept job record (REC, LEN bytes) into a new job; NULL when it is malformed. */
static struct agency_import *s_job_decode(const uint8_t *rec, size_t len, uint64_t id)
{
    if (len < IMPORT_REC_FIXED + 2 || rec[len - 1] != 0)
        return NULL;
    const char *reason = (const char *)rec + IMPORT_REC_FIXED;
    size_t rl = strnlen(reason, len - IMPORT_REC_FIXED);
    if (IMPORT_REC_FIXED + rl + 1 >= len)
        return NULL;
    struct agency_import *job = xcalloc(1, sizeof(*job));
    job->id = id;
    job->phase = (Tacnet__ImportPhase)rec[0];
    job->code = (int)bytes_be32_get(rec + 1);
    job->rows = bytes_be32_get(rec + 5);
    job->checked = bytes_be32_get(rec + 9);
    job->queued = bytes_be32_get(rec + 13);
    job->duplicates = bytes_be32_get(rec + 17);
    job->started_ms = store_u64_get(rec + 21);
    job->elapsed_us = store_u64_get(rec + 29) * 1000;
    job->n_ids = bytes_be32_get(rec + 37);
    job->reason = rl ? xstrdup(reason) : NULL;
    job->path = xstrdup(reason + rl + 1);
    return job;
}

/* The job that was running when the daemon stopped, as it must now be told: failed, and what
 * became of its rows. */
static void s_interrupted(struct agency_import *job)
{
    const char *was = s_phase_name(job->phase);
    Tacnet__ImportPhase phase = job->phase;
    job->phase = TACNET__IMPORT_PHASE__IMPORT_FAILED;
    job->code = TACNET_EINTR;
    free(job->reason);
    char why[512];
    if (phase == TACNET__IMPORT_PHASE__IMPORT_QUEUEING)
        snprintf(why, sizeof(why),
                 "the daemon stopped while this import was queueing: the rows queued before it "
                 "stopped will be sent; import %s again to queue the rest (rows already queued "
                 "are not queued twice)",
                 job->path);
    else
        snprintf(why, sizeof(why),
                 "the daemon stopped while this import was %s: nothing was imported; import %s "
                 "again",
                 was, job->path);
    job->reason = xstrdup(why);
}

int agency_import_restore(agency_t *self)
{
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    struct agency_import *job = NULL;
    if (mdb_cursor_open(txn, self->import_jobs, &cur) == 0 &&
        mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
        job = s_job_decode(v.mv_data, v.mv_size, store_u64_get(k.mv_data));
    if (cur)
        mdb_cursor_close(cur);
    if (job) {
        job->ids = xcalloc(job->n_ids ? job->n_ids : 1, sizeof(*job->ids));
        job->state = xcalloc(job->n_ids ? job->n_ids : 1, 1);
        size_t got = 0;
        for (size_t i = 0; i < job->n_ids; i++) {
            uint8_t key[12];
            store_u64_put(key, job->id);
            bytes_be32_put(key + 8, (uint32_t)i);
            if (store_get(txn, self->import_ids, key, sizeof(key), &v) == 0 && v.mv_size == 16)
                memcpy(job->ids[got++].msg_id, v.mv_data, 16);
        }
        job->n_ids = got;
        if (s_running(job))
            s_interrupted(job);
        self->import = job;
        log_info("import job %llu restored: %s, %zu events", (unsigned long long)job->id,
                 s_phase_name(job->phase), job->n_ids);
    }
    mdb_txn_abort(txn);
    return 0;
}

/* ------------------------------------------------------------------ reading */

static void *s_parse_main(void *arg)
{
    struct agency_import *job = arg;
    /* A profile without an intake adapter (the generic daemon) never starts a job; one restored
     * from an older build is refused here rather than called through NULL. */
    job->parse_rc = job->intake ? job->intake(job->path, &job->res) : TACNET_EKIND;
    atomic_store(&job->parsed, 1);
    return NULL;
}

/* The family's names the file's rows carried go into each case's identity register before any
 * row is checked, so a row that names them is refused like any later publish would be. They
 * stay registered whatever becomes of the import: they protect the case, and are local. */
static int s_register_names(agency_t *self, struct agency_import *job)
{
    for (size_t i = 0; i < job->res.n_names; i++) {
        const intake_names_t *e = &job->res.names[i];
        int rc = agency_identity_add(self, (const uint8_t *)e->case_ref, strlen(e->case_ref),
                                     e->names, e->n);
        if (rc != 0) {
            s_fail(job, rc,
                   "%s: the family's names could not be registered (%s); nothing was "
                   "imported",
                   job->path, tacnet_strerror(rc));
            return rc;
        }
    }
    if (job->res.n_names)
        log_info("import job %llu: the family's names registered for %zu cases",
                 (unsigned long long)job->id, job->res.n_names);
    intake_names_clear(&job->res);
    return 0;
}

/* The parse has ended: on to checking, or failed with every malformed line. */
static void s_parsed(agency_t *self, struct agency_import *job)
{
    if (job->threaded) {
        pthread_join(job->thread, NULL);
        job->threaded = false;
    }
    if (job->parse_rc != 0) {
        job->errors = xcalloc(job->res.n_errors ? job->res.n_errors : 1, sizeof(char *));
        for (size_t i = 0; i < job->res.n_errors; i++) {
            char line[200];
            snprintf(line, sizeof(line), "line %u: %s", job->res.errors[i].line,
                     job->res.errors[i].message);
            job->errors[job->n_errors++] = xstrdup(line);
        }
        s_fail(job, job->parse_rc, "%s: %s; nothing was imported", job->path,
               tacnet_strerror(job->parse_rc));
        intake_result_clear(&job->res);
        return;
    }
    if (s_register_names(self, job) != 0) {
        intake_result_clear(&job->res);
        return;
    }
    size_t n = job->res.n_requests;
    job->rows = (uint32_t)n;
    job->ids = xcalloc(n ? n : 1, sizeof(*job->ids));
    job->state = xcalloc(n ? n : 1, 1);
    job->cases = agency_publish_cases_new();
    job->phase = TACNET__IMPORT_PHASE__IMPORT_CHECKING;
    log_info("import job %llu: %zu rows read", (unsigned long long)job->id, n);
}

/* ------------------------------------------------------------------ checking and queueing */

/* Dry-run rows until the slice is used up; the first refused row fails the job. */
static void s_check_slice(agency_t *self, struct agency_import *job, uint64_t t0)
{
    intake_result_t *res = &job->res;
    while (job->next < res->n_requests && clock_elapsed_us() - t0 < IMPORT_SLICE_US) {
        size_t i = job->next;
        Tacnet__ApiReply one = TACNET__API_REPLY__INIT;
        agency_publish_row_key(res->requests[i]);
        int rc = agency_publish_check(self, res->requests[i], &one, job->cases);
        if (rc != 0) {
            s_fail(job, rc, "row %zu (line %u) of %s refused (%s); nothing was imported", i + 1,
                   res->lines ? res->lines[i] : 0, job->path,
                   one.reason ? one.reason : tacnet_strerror(rc));
            agency_reply_free(&one);
            s_rows_release(job);
            return;
        }
        agency_reply_free(&one);
        job->next++;
        job->checked++;
    }
    if (job->next == res->n_requests) {
        job->next = 0;
        job->phase = TACNET__IMPORT_PHASE__IMPORT_QUEUEING;
        job->dirty = true;
    }
}

/* Queue batches until the slice is used up. */
static void s_queue_slice(agency_t *self, struct agency_import *job, uint64_t t0)
{
    intake_result_t *res = &job->res;
    while (job->next < res->n_requests) {
        uint64_t used = clock_elapsed_us() - t0;
        if (used >= IMPORT_SLICE_US)
            return;
        Tacnet__ApiReply one = TACNET__API_REPLY__INIT;
        size_t at = job->next;
        long n = agency_publish_batch(self, res->requests + at, res->n_requests - at,
                                      IMPORT_SLICE_US - used, job->ids + at, &one);
        if (n < 0) {
            /* Storage failed part-way: what was queued will be sent; say exactly how much. */
            s_fail(job, (int)n, "storage failed after %zu of %zu rows were queued (%s)", at,
                   res->n_requests, one.reason ? one.reason : tacnet_strerror((int)n));
            agency_reply_free(&one);
            s_rows_release(job);
            return;
        }
        agency_reply_free(&one);
        for (size_t i = at; i < at + (size_t)n; i++) {
            job->duplicates += job->ids[i].duplicate != 0;
            job->queued += job->ids[i].duplicate == 0;
            /* The request is sealed and written: free it now, not at the end. */
            protobuf_c_message_free_unpacked(&res->requests[i]->base, NULL);
            res->requests[i] = NULL;
        }
        job->next += (size_t)n;
        job->n_ids = job->next;
    }
    job->phase = TACNET__IMPORT_PHASE__IMPORT_DONE;
    job->dirty = true;
    job->elapsed_us = clock_elapsed_us() - job->t0_us;
    res->n_requests = 0; /* every request was freed as it was queued */
    s_rows_release(job);
    log_info("import job %llu: %u rows queued, %u imported before, in %llu ms",
             (unsigned long long)job->id, job->queued, job->duplicates,
             (unsigned long long)(job->elapsed_us / 1000));
}

/* ------------------------------------------------------------------ the broker's answers */

/* Look up to IMPORT_COUNT_SLICE unanswered events from LO on; LO moves past answered ones.
 * Events settle nearly in order, so this reads few records besides those just answered. */
static void s_count(agency_t *self, struct agency_import *job)
{
    MDB_txn *txn;
    if (job->lo >= job->n_ids || store_read_begin(self->store, &txn) != 0)
        return;
    size_t looked = 0;
    for (size_t i = job->lo; i < job->n_ids && looked < IMPORT_COUNT_SLICE; i++) {
        if (job->state[i])
            continue;
        looked++;
        int st = agency_outcome_settled_state(self, txn, job->ids[i].msg_id);
        if (st == TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED)
            job->accepted++;
        else if (st == TACNET__PUBLISH_STATE__PUBLISH_REFUSED)
            job->refused++;
        else
            continue;
        job->state[i] = (uint8_t)st;
    }
    mdb_txn_abort(txn);
    while (job->lo < job->n_ids && job->state[job->lo])
        job->lo++;
}

long agency_import_step(agency_t *self, long max_ms)
{
    struct agency_import *job = self->import;
    if (!job)
        return max_ms;
    uint64_t t0 = clock_elapsed_us();
    if (job->phase == TACNET__IMPORT_PHASE__IMPORT_READING) {
        if (!atomic_load(&job->parsed))
            return max_ms < IMPORT_READ_POLL_MS ? max_ms : IMPORT_READ_POLL_MS;
        s_parsed(self, job);
    }
    bool held = agency_vault_hold(self->vault) == 0;
    if (job->phase == TACNET__IMPORT_PHASE__IMPORT_CHECKING)
        s_check_slice(self, job, t0);
    else if (job->phase == TACNET__IMPORT_PHASE__IMPORT_QUEUEING)
        s_queue_slice(self, job, t0);
    if (held)
        agency_vault_release(self->vault);
    if (job->dirty) {
        /* A failure part-way through queueing keeps the events it queued too. */
        s_save(self, job, job->phase == TACNET__IMPORT_PHASE__IMPORT_DONE || job->n_ids > 0);
        job->dirty = false;
    }
    uint64_t now = clock_mono_ms();
    if (job->lo < job->n_ids && now >= job->next_count_ms) {
        s_count(self, job);
        job->next_count_ms = now + IMPORT_COUNT_EVERY_MS;
    }
    if (s_running(job))
        return 0;
    if (job->lo >= job->n_ids)
        return max_ms;
    long wait = (long)(job->next_count_ms > now ? job->next_count_ms - now : 0);
    return wait < max_ms ? wait : max_ms;
}

int agency_import_running(const agency_t *self)
{
    return s_running(self->import);
}

void agency_import_destroy(agency_t *self)
{
    s_job_free(self->import);
    self->import = NULL;
}

/* ------------------------------------------------------------------ requests */

/* REPLY for a job the request finished: the whole result, as an import answered before jobs. */
static void s_reply_finished(const struct agency_import *job, Tacnet__ApiReply *reply)
{
    Tacnet__ImportReply *out = reply->imported;
    if (job->phase == TACNET__IMPORT_PHASE__IMPORT_FAILED) {
        out->errors = xcalloc(job->n_errors ? job->n_errors : 1, sizeof(char *));
        for (size_t i = 0; i < job->n_errors; i++)
            out->errors[out->n_errors++] = xstrdup(job->errors[i]);
        agency_reply_error(reply, job->code, "%s", job->reason);
        return;
    }
    out->msg_ids = xcalloc(job->n_ids ? job->n_ids : 1, sizeof(*out->msg_ids));
    for (size_t i = 0; i < job->n_ids; i++) {
        out->msg_ids[i].data = xmalloc(16);
        memcpy(out->msg_ids[i].data, job->ids[i].msg_id, 16);
        out->msg_ids[i].len = 16;
    }
    out->n_msg_ids = job->n_ids;
    out->has_duplicates = job->duplicates > 0;
    out->duplicates = job->duplicates;
}

/* A new job on PATH, parsed at once when the file is small (or missing: the parse says so),
 * else on a thread. */
static struct agency_import *s_job_new(agency_t *self, const char *path, uint64_t id)
{
    struct agency_import *job = xcalloc(1, sizeof(*job));
    job->id = id;
    job->path = xstrdup(path);
    job->intake = self->profile->intake;
    job->phase = TACNET__IMPORT_PHASE__IMPORT_READING;
    job->started_ms = clock_now_ms();
    job->t0_us = clock_elapsed_us();
    atomic_init(&job->parsed, 0);
    struct stat st;
    if (stat(path, &st) != 0 || st.st_size <= (off_t)IMPORT_INLINE_BYTES ||
        pthread_create(&job->thread, NULL, s_parse_main, job) != 0) {
        s_parse_main(job);
        s_parsed(self, job);
        return job;
    }
    job->threaded = true;
    return job;
}

void agency_import_start(agency_t *self, const Tacnet__ImportRequest *ir, Tacnet__ApiReply *reply)
{
    struct agency_import *old = self->import;
    reply->imported = xcalloc(1, sizeof(*reply->imported));
    tacnet__import_reply__init(reply->imported);
    reply->result_case = TACNET__API_REPLY__RESULT_IMPORTED;
    if (s_running(old)) {
        agency_reply_error(reply, TACNET_EEXISTS,
                           "an import is running: job %llu (%s, %u of %u rows checked, %u queued)",
                           (unsigned long long)old->id, s_phase_name(old->phase), old->checked,
                           old->rows, old->queued);
        return;
    }
    if (!self->profile->intake) {
        agency_reply_error(reply, TACNET_EKIND,
                           "%s has no intake adapter: an import file is read by the profile of "
                           "the system that wrote it (camhs, school, health visiting, social "
                           "care); publish this agency's events through the API instead; nothing "
                           "was imported",
                           self->profile->title);
        return;
    }
    uint64_t id = old ? old->id + 1 : 1;
    agency_import_destroy(self);
    struct agency_import *job = self->import = s_job_new(self, ir->path, id);
    /* A small file (parsed at once, not on a thread) is done within the request, as it always
     * was, whatever the machine's load: its work is bounded by its size. */
    while (s_running(job) && !job->threaded)
        agency_import_step(self, 0);
    if (job->dirty || job->phase == TACNET__IMPORT_PHASE__IMPORT_READING) {
        s_save(self, job, job->n_ids > 0);
        job->dirty = false;
    }
    reply->imported->has_job = reply->imported->has_phase = 1;
    reply->imported->job = job->id;
    reply->imported->phase = job->phase;
    if (!s_running(job))
        s_reply_finished(job, reply);
    log_info("import job %llu started: %s", (unsigned long long)job->id, s_phase_name(job->phase));
}

static void s_progress(const struct agency_import *job, agency_import_progress_t *out)
{
    memset(out, 0, sizeof(*out));
    out->job = job->id;
    out->phase = job->phase;
    out->phase_name = s_phase_name(job->phase);
    out->rows = job->rows;
    out->checked = job->checked;
    out->queued = job->queued;
    out->duplicates = job->duplicates;
    out->accepted = job->accepted;
    out->refused = job->refused;
    out->unanswered = (uint32_t)job->n_ids - job->accepted - job->refused;
    out->code = job->code;
    if (job->reason)
        snprintf(out->reason, sizeof(out->reason), "%s", job->reason);
    out->started_ms = job->started_ms;
    uint64_t us = s_running(job) ? clock_elapsed_us() - job->t0_us : job->elapsed_us;
    out->elapsed_ms = us / 1000;
}

int agency_import_progress(agency_t *self, agency_import_progress_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!self->import)
        return TACNET_ENOTFOUND;
    s_progress(self->import, out);
    return 0;
}

/* The first IMPORT_REFUSALS_MAX refused events of JOB, with why, into OUT. */
static void s_refusals(agency_t *self, const struct agency_import *job, Tacnet__ImportStatus *out)
{
    MDB_txn *txn;
    if (!job->refused || store_read_begin(self->store, &txn) != 0)
        return;
    out->refusals = xcalloc(IMPORT_REFUSALS_MAX, sizeof(*out->refusals));
    for (size_t i = 0; i < job->n_ids && out->n_refusals < IMPORT_REFUSALS_MAX; i++) {
        if (job->state[i] != TACNET__PUBLISH_STATE__PUBLISH_REFUSED)
            continue;
        Tacnet__EventStatus *st = xcalloc(1, sizeof(*st));
        tacnet__event_status__init(st);
        if (agency_outcome_status(self, txn, job->ids[i].msg_id, st) != 0) {
            agency_outcome_status_free(st);
            free(st);
            continue;
        }
        Tacnet__ImportRefusal *r = xcalloc(1, sizeof(*r));
        tacnet__import_refusal__init(r);
        r->event = (uint32_t)(i + 1);
        r->status = st;
        out->refusals[out->n_refusals++] = r;
    }
    mdb_txn_abort(txn);
}

void agency_import_status_request(agency_t *self, const Tacnet__ImportStatusRequest *req,
                                  Tacnet__ApiReply *reply)
{
    struct agency_import *job = self->import;
    if (!job || (req->has_job && req->job && req->job != job->id)) {
        if (job)
            agency_reply_error(reply, TACNET_ENOTFOUND,
                               "only the running or latest import is kept (job %llu)",
                               (unsigned long long)job->id);
        else
            agency_reply_error(reply, TACNET_ENOTFOUND, "no import has run on this daemon");
        return;
    }
    /* Fresh counts for whoever asks (a bounded number of lookups). */
    s_count(self, job);
    agency_import_progress_t p;
    s_progress(job, &p);
    Tacnet__ImportStatus *out = xcalloc(1, sizeof(*out));
    tacnet__import_status__init(out);
    reply->import_status = out;
    reply->result_case = TACNET__API_REPLY__RESULT_IMPORT_STATUS;
    out->job = p.job;
    out->phase = job->phase;
    out->has_rows = out->has_checked = out->has_queued = out->has_duplicates = 1;
    out->has_accepted = out->has_refused = out->has_unanswered = 1;
    out->rows = p.rows;
    out->checked = p.checked;
    out->queued = p.queued;
    out->duplicates = p.duplicates;
    out->accepted = p.accepted;
    out->refused = p.refused;
    out->unanswered = p.unanswered;
    out->has_started_ms = out->has_elapsed_ms = 1;
    out->started_ms = p.started_ms;
    out->elapsed_ms = p.elapsed_ms;
    if (job->phase == TACNET__IMPORT_PHASE__IMPORT_FAILED) {
        out->has_code = 1;
        out->code = job->code;
        out->reason = xstrdup(job->reason ? job->reason : "");
        out->errors = xcalloc(job->n_errors ? job->n_errors : 1, sizeof(char *));
        for (size_t i = 0; i < job->n_errors; i++)
            out->errors[out->n_errors++] = xstrdup(job->errors[i]);
    }
    s_refusals(self, job, out);
}
