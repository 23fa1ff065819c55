/* import_cmd: intake imports as jobs, from the command line (import_cmd.h). */
#include "import_cmd.h"
#include "agency_print.h"
#include "err.h"
#include "names.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How often the job is asked where it stands, and how often that is printed. */
#define IMPORT_POLL_MS  250
#define IMPORT_PRINT_MS 1000
/* Exit statuses (import_cmd.h). */
#define IMPORT_EXIT_REFUSED   1
#define IMPORT_EXIT_NO_ANSWER 2
#define IMPORT_EXIT_QUEUED    3

static uint64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void s_sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Print REPLY's error (if any) and free it. Returns the exit status for it. */
static int s_done(const cli_import_opts_t *o, int rc, Tacnet__ApiReply **reply)
{
    if (!*reply) {
        fprintf(stderr, "tacnet: no answer from %s: %s (is the agency daemon running?)\n",
                tn_client_endpoint(o->client), tacnet_strerror(rc));
        return IMPORT_EXIT_NO_ANSWER;
    }
    int status = cli_agency_print_reply(stdout, o->json, *reply);
    tn_client_reply_free(reply);
    return status;
}

/* Ask for job JOB's status (0: the running or latest). Returns 0 with *REPLY, or a code (then
 * *REPLY may hold the daemon's refusal). */
static int s_status(const cli_import_opts_t *o, uint64_t job, Tacnet__ApiReply **reply)
{
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    Tacnet__ImportStatusRequest st = TACNET__IMPORT_STATUS_REQUEST__INIT;
    st.has_job = job != 0;
    st.job = job;
    req.op_case = TACNET__API_REQUEST__OP_IMPORT_STATUS;
    req.import_status = &st;
    int rc = tn_client_call(o->client, &req, reply, o->timeout_ms);
    if (rc == 0 && (!*reply || !(*reply)->import_status))
        rc = *reply && (*reply)->code ? (*reply)->code : TACNET_EBADMSG;
    return rc;
}

/* "reading", "checking", "queueing", "done" or "failed": the phase's name in the proto without
 * its IMPORT_ prefix, so the daemon and the command line say the same. */
static const char *s_phase(Tacnet__ImportPhase p)
{
    const char *n = names_enum(&tacnet__import_phase__descriptor, (int)p);
    return n && strncmp(n, "import_", 7) == 0 ? n + 7 : "failed";
}

/* One progress line: what the job is doing now. */
static void s_progress(const Tacnet__ImportStatus *st)
{
    switch (st->phase) {
    case TACNET__IMPORT_PHASE__IMPORT_READING:
        printf("reading the file\n");
        break;
    case TACNET__IMPORT_PHASE__IMPORT_CHECKING:
        printf("checked %u of %u rows\n", st->checked, st->rows);
        break;
    case TACNET__IMPORT_PHASE__IMPORT_QUEUEING:
        printf("queued %u of %u rows (%u imported before) / accepted %u\n",
               st->queued + st->duplicates, st->rows, st->duplicates, st->accepted);
        break;
    default:
        printf("accepted %u, refused %u, not answered yet %u of %u events\n", st->accepted,
               st->refused, st->unanswered, st->queued + st->duplicates);
        break;
    }
    fflush(stdout);
}

/* A failed job: why, and every malformed line. */
static void s_failed(const Tacnet__ImportStatus *st)
{
    fprintf(stderr, "tacnet: %s: %s\n", tacnet_errname(st->code),
            st->reason ? st->reason : tacnet_strerror(st->code));
    for (size_t i = 0; i < st->n_errors; i++)
        fprintf(stderr, "  %s\n", st->errors[i]);
}

/* The final summary, as an import has always ended: each refusal, then the counts. Returns the
 * exit status. */
static int s_summary(const Tacnet__ImportStatus *st)
{
    unsigned n = st->queued + st->duplicates;
    for (size_t i = 0; i < st->n_refusals; i++) {
        const Tacnet__EventStatus *e = st->refusals[i]->status;
        printf("  event %u of %u (", st->refusals[i]->event, n);
        cli_agency_print_short_id(stdout, &e->msg_id);
        printf(") refused by the broker: %s: %s\n", tacnet_errname(e->code),
               e->reason && *e->reason ? e->reason : tacnet_strerror(e->code));
    }
    if (st->refused > st->n_refusals)
        printf("  (and %zu more refused: `tacnet --agency NAME outbox` lists them)\n",
               (size_t)(st->refused - st->n_refusals));
    printf("imported %u events: %u accepted by the broker, %u refused (nobody received them), "
           "%u not answered yet%s\n",
           n, st->accepted, st->refused, st->unanswered,
           st->unanswered ? " (they stay queued: `tacnet --agency NAME outbox` shows them)" : "");
    if (st->duplicates)
        printf("%u of them were imported before: the same rows, not sent again\n", st->duplicates);
    return st->refused ? IMPORT_EXIT_REFUSED : st->unanswered ? IMPORT_EXIT_QUEUED : 0;
}

/* Follow job JOB until it fails, or until the broker has answered every event or WAIT_MS have
 * passed since its last row was queued. Returns the exit status. */
static int s_follow(const cli_import_opts_t *o, uint64_t job)
{
    uint64_t printed = 0, done_at = 0;
    for (;;) {
        Tacnet__ApiReply *r = NULL;
        int rc = s_status(o, job, &r);
        if (rc != 0)
            return s_done(o, rc, &r);
        const Tacnet__ImportStatus *st = r->import_status;
        uint64_t now = s_now_ms();
        int status = -1;
        if (st->phase == TACNET__IMPORT_PHASE__IMPORT_FAILED) {
            s_failed(st);
            status = IMPORT_EXIT_REFUSED;
        } else if (st->phase == TACNET__IMPORT_PHASE__IMPORT_DONE) {
            if (!done_at)
                done_at = now;
            if (!st->unanswered || now - done_at >= (uint64_t)o->wait_ms)
                status = s_summary(st);
        }
        if (status < 0 && now - printed >= IMPORT_PRINT_MS) {
            if (printed)
                s_progress(st);
            printed = now;
        }
        tn_client_reply_free(&r);
        if (status >= 0)
            return status;
        s_sleep_ms(IMPORT_POLL_MS);
    }
}

static int s_import(const cli_import_opts_t *o, const char *file, int no_wait)
{
    char abs[PATH_MAX];
    /* The daemon resolves the path, so hand it one that does not depend on our cwd. */
    const char *path = realpath(file, abs) ? abs : file;
    Tacnet__ApiReply *r = NULL;
    int rc = tn_client_import(o->client, path, &r, o->timeout_ms);
    if (r && r->imported)
        for (size_t i = 0; i < r->imported->n_errors; i++)
            fprintf(stderr, "  %s\n", r->imported->errors[i]);
    if (o->json || !r || r->code != 0 || !r->imported)
        return s_done(o, rc, &r);
    const Tacnet__ImportReply *imp = r->imported;
    uint64_t job = imp->job;
    if (no_wait) {
        if (imp->phase == TACNET__IMPORT_PHASE__IMPORT_DONE)
            printf("imported %zu events (import job %llu)\n", imp->n_msg_ids,
                   (unsigned long long)job);
        else
            printf("import job %llu started (%s): `tacnet --agency NAME import-status %llu` "
                   "follows it\n",
                   (unsigned long long)job, s_phase(imp->phase), (unsigned long long)job);
        tn_client_reply_free(&r);
        return 0;
    }
    if (imp->phase != TACNET__IMPORT_PHASE__IMPORT_DONE)
        printf("import job %llu started\n", (unsigned long long)job);
    tn_client_reply_free(&r);
    return s_follow(o, job);
}

/* `import-status [JOB]`: where the job stands, once. */
static int s_import_status(const cli_import_opts_t *o, uint64_t job)
{
    Tacnet__ApiReply *r = NULL;
    int rc = s_status(o, job, &r);
    if (rc != 0 || o->json)
        return s_done(o, rc, &r);
    const Tacnet__ImportStatus *st = r->import_status;
    printf("import job %llu: %s after %.1f s\n", (unsigned long long)st->job, s_phase(st->phase),
           (double)st->elapsed_ms / 1000.0);
    printf("  rows %u, checked %u, queued %u, imported before %u\n", st->rows, st->checked,
           st->queued, st->duplicates);
    printf("  broker: %u accepted, %u refused, %u not answered yet\n", st->accepted, st->refused,
           st->unanswered);
    for (size_t i = 0; i < st->n_refusals; i++) {
        const Tacnet__EventStatus *e = st->refusals[i]->status;
        printf("  event %u refused: %s: %s\n", st->refusals[i]->event, tacnet_errname(e->code),
               e->reason && *e->reason ? e->reason : tacnet_strerror(e->code));
    }
    int status = 0;
    if (st->phase == TACNET__IMPORT_PHASE__IMPORT_FAILED) {
        s_failed(st);
        status = IMPORT_EXIT_REFUSED;
    }
    tn_client_reply_free(&r);
    return status;
}

int cli_import_command(const cli_import_opts_t *o, int argc, char **argv)
{
    if (strcmp(argv[0], "import") == 0 &&
        (argc == 2 || (argc == 3 && strcmp(argv[2], "--no-wait") == 0)))
        return s_import(o, argv[1], argc == 3);
    if (strcmp(argv[0], "import-status") == 0 && argc <= 2) {
        char *end = NULL;
        unsigned long long job = argc == 2 ? strtoull(argv[1], &end, 10) : 0;
        if (argc == 2 && (!*argv[1] || *end)) {
            fprintf(stderr, "tacnet: import-status takes a job number\n");
            return IMPORT_EXIT_NO_ANSWER;
        }
        return s_import_status(o, job);
    }
    fprintf(stderr, "usage: tacnet --agency NAME import FILE [--no-wait] | import-status [JOB]\n");
    return IMPORT_EXIT_NO_ANSWER;
}
