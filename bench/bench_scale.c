/* bench_scale: throughput, latency and CPU per event with 10^4, 10^5 and 10^6 events already
 * in the broker's journal and in the three receiving daemons' views.
 *
 * Preloading a million events through the live pipeline would take several minutes at its
 * durable rate, so the bulk loader stops the processes and writes the same records through the
 * product's own storage APIs, thousands of events per transaction: for the broker the checks
 * and writes of its commit path (journal_case_get, route_check, route_apply, journal_case_put,
 * journal_append, journal_audit, then every recipient's delivery cursor), and for each daemon
 * agency_view_apply (encrypted at rest, indexed, folded into the case state) and its
 * last_applied. Events are real: signed and sealed like any other. Broker notices are not
 * generated (concerns cause none).
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agency/config.h"
#include "agency/internal.h"
#include "broker/journal.h"
#include "clock.h"
#include "err.h"
#include "names.h"
#include "route.h"
#include "store.h"

extern const agency_profile_t school_profile, health_visiting_profile, social_care_profile;

enum { CAMHS = TACNET__AGENCY__CAMHS, SCHOOL = TACNET__AGENCY__SCHOOL };
enum { HV = TACNET__AGENCY__HEALTH_VISITING, SOCIAL = TACNET__AGENCY__SOCIAL_CARE };
static const uint32_t s_all[] = { CAMHS, SCHOOL, HV, SOCIAL };
static const uint32_t s_receivers[] = { SCHOOL, HV, SOCIAL };

#define S_SLICE 5000 /* events per preload transaction */

typedef struct slice {
    journal_t *j;
    const roster_t *roster;
    agency_t *ag;
    b_event_t *evs;
    Tacnet__Header **h;
    uint8_t **body;
    size_t *blen;
    uint64_t *seq;
    size_t n;
} slice_t;

static int s_journal_slice(MDB_txn *txn, void *arg)
{
    slice_t *s = arg;
    uint64_t seq = journal_head(s->j), now = clock_now_ms();
    for (size_t i = 0; i < s->n; i++) {
        Tacnet__Header *h = s->h[i];
        route_case_t c;
        int found, rc;
        if ((rc = journal_case_get(s->j, txn, h->case_ref.data, h->case_ref.len, &c, &found)))
            return rc;
        route_verdict_t v;
        if ((rc = route_check(found ? &c : NULL, h, s->roster, &v)) != 0)
            return rc;
        route_apply(&c, h);
        if ((rc = journal_case_put(s->j, txn, h->case_ref.data, h->case_ref.len, &c)))
            return rc;
        s->seq[i] = ++seq;
        rc = journal_append(s->j, txn, seq, h, s->evs[i].header, s->evs[i].hlen, s->evs[i].sealed,
                            s->evs[i].slen, s->evs[i].sig, s->evs[i].sig_len,
                            route_recipient_mask(h), now);
        if (rc != 0)
            return rc;
        char hex[33];
        wire_msgid_hex(h->msg_id.data, 16, hex);
        if ((rc = journal_audit(s->j, txn, "camhs", "publish", hex, "accepted", 0)) != 0)
            return rc;
    }
    for (size_t a = 0; a < 3; a++) {
        int rc = journal_cursor_put(s->j, txn, s_receivers[a], seq);
        if (rc != 0)
            return rc;
    }
    journal_head_set(s->j, seq);
    return 0;
}

static int s_view_slice(MDB_txn *txn, void *arg)
{
    slice_t *s = arg;
    for (size_t i = 0; i < s->n; i++) {
        int rc = agency_view_apply(s->ag, txn, s->seq[i], s->h[i], s->evs[i].header, s->evs[i].hlen,
                                   s->body[i], s->blen[i]);
        if (rc != 0)
            return rc;
    }
    return agency_meta_put(s->ag, txn, "last_applied", s->seq[s->n - 1]);
}

static agency_t *s_agency_open(h_env_t *e, h_agency_t *a, const agency_profile_t *profile)
{
    char roster[700], root[700], key[700], gaz[1024], ep[700];
    snprintf(roster, sizeof(roster), "%s/roster.bin", e->pdir);
    snprintf(root, sizeof(root), "%s/root.pub", e->pdir);
    snprintf(key, sizeof(key), "%s/keys/%s.key", e->pdir, profile->name);
    const char *src = getenv("TACNET_SRC");
    snprintf(gaz, sizeof(gaz), "%s/deploy/gazetteer", src && *src ? src : ".");
    snprintf(ep, sizeof(ep), "%s/endpoint", e->data);
    agency_config_t cfg;
    agency_config_defaults(&cfg, profile);
    cfg.data_dir = a->data;
    cfg.broker_file = ep;
    cfg.roster_path = roster;
    cfg.root_pub_path = root;
    cfg.key_path = key;
    cfg.gazetteer_dir = gaz;
    cfg.map_size = (size_t)8192 << 20;
    int err = 0;
    char why[512] = "";
    agency_t *ag = agency_new(&cfg, &err, why, sizeof(why));
    if (!ag)
        fprintf(stderr, "bench: preload: %s: %s\n", profile->name, why);
    CHECK(ag != NULL);
    return ag;
}

/* Event SSEQ of a preload, the same in every writer: msg_id and creation time are derived from
 * the sender_seq, so the journal writer (which signs and seals) and the view writers (which
 * need only the header bytes and the plaintext body) agree without talking to each other. */
static void s_preload_event(h_env_t *e, b_event_t *ev, Tacnet__Header **h, const char *ref,
                            uint64_t sseq, uint64_t created_ms, int sealed)
{
    h_pub_t p;
    memset(&p, 0, sizeof(p));
    h_pub_init(&p, CAMHS, TACNET__EVENT_KIND__CONCERN, ref, sseq);
    h_pub_rcpt(&p, 4, s_all);
    memcpy(p.msg_id, "tacnetbn", 8);
    store_u64_put(p.msg_id + 8, sseq); /* unique per event; bytes 0..7 mark it synthetic */
    p.h.created_at_ms = created_ms;
    memset(ev, 0, sizeof(*ev));
    ev->sig_len = SEAL_SIG_BYTES;
    if (sealed) {
        h_pub_seal(e, &p, CAMHS, b_summary(), NULL, 0);
        ev->sealed = p.sealed;
        ev->slen = p.slen;
        memcpy(ev->sig, p.sig, SEAL_SIG_BYTES);
        ev->header = p.header;
        ev->hlen = p.hlen;
    } else {
        ev->header = wire_pack(&p.h.base, &ev->hlen);
    }
    ev->sender_seq = sseq;
    memcpy(ev->msg_id, p.msg_id, 16);
    int err = 0;
    *h = wire_header_unpack(ev->header, ev->hlen, &err);
    CHECK(*h != NULL);
}

/* One preload writer: WHO 0 is the broker's journal, 1..3 a daemon's view. Appends ADD events
 * with sender_seq FIRST_SSEQ.. at journal seq HEAD0 + 1.. */
static void s_preload_writer(h_env_t *e, h_agency_t **agencies, int who, const char *ref,
                             uint64_t first_sseq, uint64_t head0, size_t add, uint64_t created_ms)
{
    static const agency_profile_t *profiles[3] = { &school_profile, &health_visiting_profile,
                                                   &social_care_profile };
    int err = 0;
    slice_t s = { .roster = e->roster };
    if (who == 0) {
        s.j = journal_open(e->data, (size_t)8192 << 20, &err);
        CHECK(s.j != NULL);
        CHECK(journal_head(s.j) == head0);
    } else {
        s.ag = s_agency_open(e, agencies[who - 1], profiles[who - 1]);
    }
    s.evs = calloc(S_SLICE, sizeof(*s.evs));
    s.h = calloc(S_SLICE, sizeof(*s.h));
    s.body = calloc(S_SLICE, sizeof(*s.body));
    s.blen = calloc(S_SLICE, sizeof(*s.blen));
    s.seq = calloc(S_SLICE, sizeof(*s.seq));
    for (size_t done = 0; done < add; done += s.n) {
        s.n = add - done < S_SLICE ? add - done : S_SLICE;
        for (size_t i = 0; i < s.n; i++) {
            s_preload_event(e, &s.evs[i], &s.h[i], ref, first_sseq + done + i, created_ms,
                            who == 0);
            s.seq[i] = head0 + done + i + 1;
            if (who != 0)
                s.body[i] = b_event_body(&s.evs[i], CAMHS, &s.blen[i]);
        }
        int rc = who == 0 ? store_write(journal_store(s.j), s_journal_slice, &s)
                          : store_write(s.ag->store, s_view_slice, &s);
        if (rc != 0)
            fprintf(stderr, "bench: preload writer %d: %s\n", who, tacnet_errname(rc));
        CHECK(rc == 0);
        for (size_t i = 0; i < s.n; i++) {
            b_event_free(&s.evs[i]);
            wire_free(&s.h[i]->base);
            free(s.body[i]);
            s.body[i] = NULL;
        }
    }
    free(s.evs);
    free(s.h);
    free(s.body);
    free(s.blen);
    free(s.seq);
    agency_destroy(&s.ag);
    journal_destroy(&s.j);
}

/* Append ADD events (CAMHS concerns on REF, continuing *SSEQ) to the stopped broker's journal
 * and the stopped daemons' views: four writer processes in parallel, one per LMDB environment. */
static void s_preload(h_env_t *e, h_agency_t **agencies, const char *ref, uint64_t *sseq,
                      size_t add, uint64_t head0)
{
    uint64_t created_ms = clock_now_ms();
    pid_t pids[4];
    for (int who = 0; who < 4; who++) {
        pids[who] = fork();
        CHECK(pids[who] >= 0);
        if (pids[who] == 0) {
            s_preload_writer(e, agencies, who, ref, *sseq, head0, add, created_ms);
            _exit(0);
        }
    }
    for (int who = 0; who < 4; who++) {
        int st = 0;
        waitpid(pids[who], &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    *sseq += add;
}

/* One broker and three receiving daemons on a case all four belong to, with CAMHS publishing. */
typedef struct scale_world {
    h_env_t env;
    h_agency_t *ag[3];
    h_client_t *pub;
    uint64_t sseq;
} scale_world_t;

static const char *const s_case_ref = "LA7-2026-000456";

static void s_world_start(scale_world_t *w)
{
    memset(w, 0, sizeof(*w));
    h_setup(&w->env, "map_size_mb = 8192");
    CHECK(h_broker_start(&w->env, NULL) == 0);
    for (int i = 0; i < 3; i++) {
        w->ag[i] = h_agency_add(&w->env, s_receivers[i]);
        CHECK(h_agency_start(w->ag[i], NULL) == 0);
    }
    w->sseq = 1;
    w->pub = h_connect(&w->env, CAMHS);
    b_case_open_all(&w->env, w->pub->sock, s_case_ref, &w->sseq);
    uint64_t opened[3] = { 3, 2, 1 }; /* school, hv, social care saw 3, 2 and 1 of the 4 */
    CHECK(b_wait_applied(&w->env, w->ag, 3, opened, 10000, 10) != 0);
}

/* Stop the processes, preload up to LEVEL events in the journal (S: the scenario that reports
 * the preload's time, or NULL), start them again. */
static void s_world_fill(scale_world_t *w, size_t level, const char *S)
{
    uint64_t head = 0;
    CHECK(b_status(&w->env, CAMHS, NULL, &head, NULL, NULL) == 0);
    h_close(&w->pub);
    for (int i = 0; i < 3; i++)
        h_agency_signal_wait(w->ag[i], SIGTERM);
    h_broker_signal_wait(&w->env, SIGTERM);
    uint64_t t = b_now_us();
    size_t add = level > head ? level - (size_t)head : 0;
    s_preload(&w->env, w->ag, s_case_ref, &w->sseq, add, head);
    if (S) {
        b_emit(S, "preload_seconds", 1, (double)(b_now_us() - t) / 1e6, "s");
        b_emit(S, "preload_events", 1, (double)add, "events");
    }
    CHECK(h_broker_start(&w->env, NULL) == 0);
    for (int i = 0; i < 3; i++)
        CHECK(h_agency_start(w->ag[i], NULL) == 0);
    w->pub = h_connect(&w->env, CAMHS);
}

/* The saturation phase: N events published as fast as the window allows until all three
 * daemons have applied them; throughput and CPU per event of the four processes, emitted under
 * S with PREFIX before each metric's name. */
static void s_saturate(scale_world_t *w, size_t n, const char *S, const char *prefix, int run)
{
    h_env_t *env = &w->env;
    b_event_t *evs = calloc(n, sizeof(*evs));
    for (size_t k = 0; k < n; k++)
        b_event_make(env, &evs[k], CAMHS, TACNET__EVENT_KIND__CONCERN, s_case_ref, w->sseq++, 4,
                     s_all, 0);
    b_events_turns(env, evs, n, CAMHS);
    uint64_t busy0, total0, cpu0[4], cpu1[4], flt0[4] = { 0 }, flt1[4] = { 0 };
    pid_t pids[4] = { env->pid, w->ag[0]->pid, w->ag[1]->pid, w->ag[2]->pid };
    uint64_t target[3];
    for (int i = 0; i < 3; i++)
        target[i] = b_view_last(env, w->ag[i]);
    uint64_t c0 = 0, c1 = 0, acc0 = 0, acc1 = 0;
    CHECK(b_status(env, CAMHS, NULL, NULL, &c0, &acc0) == 0);
    for (int i = 0; i < 4; i++) {
        b_proc(pids[i], &cpu0[i], NULL);
        b_proc_majflt(pids[i], &flt0[i]);
    }
    b_machine(&busy0, &total0);
    uint64_t t0 = b_now_us();
    size_t acked = b_publish_stream(w->pub->sock, evs, n, B_WINDOW, 10000, NULL);
    for (int i = 0; i < 3; i++)
        target[i] += acked;
    uint64_t t1 = b_wait_applied(env, w->ag, 3, target, 60000, 10);
    double cpu = 0;
    for (int i = 0; i < 4; i++) {
        b_proc(pids[i], &cpu1[i], NULL);
        b_proc_majflt(pids[i], &flt1[i]);
        cpu += (double)(cpu1[i] - cpu0[i]);
    }
    CHECK(t1 != 0);
    CHECK(b_status(env, CAMHS, NULL, NULL, &c1, &acc1) == 0);
    char m[96];
#define S_EMIT(name, value, unit)                     \
    do {                                              \
        snprintf(m, sizeof(m), "%s%s", prefix, name); \
        b_emit(S, m, run, (value), unit);             \
    } while (0)
    if (!*prefix)
        b_emit_load(S, run, busy0, total0);
    S_EMIT("delivered_per_s", (double)acked * 1e6 / (double)(t1 - t0), "ev/s");
    S_EMIT("cpu_us_per_event", cpu / (double)acked, "us");
    /* Which process grows with the journal and the views: the broker, or the daemons (their
     * mean). */
    S_EMIT("cpu_us_per_event_broker", (double)(cpu1[0] - cpu0[0]) / (double)acked, "us");
    S_EMIT("cpu_us_per_event_daemon",
           (double)(cpu1[1] - cpu0[1] + cpu1[2] - cpu0[2] + cpu1[3] - cpu0[3]) / 3.0 /
               (double)acked,
           "us");
    /* Fewer events per commit (a slower disk) means more of every commit's fixed cost per
     * event: read the CPU figures with this one. */
    S_EMIT("broker_events_per_commit", c1 > c0 ? (double)(acc1 - acc0) / (double)(c1 - c0) : 0, "");
    /* Pages read back from the disk by the four processes per 1,000 events: the share of any
     * growth that is the machine's page cache, not the trees' depth. */
    uint64_t flt = 0;
    for (int i = 0; i < 4; i++)
        flt += flt1[i] - flt0[i];
    S_EMIT("majflt_per_1000_events", (double)flt * 1000.0 / (double)acked, "");
#undef S_EMIT
    for (size_t k = 0; k < n; k++)
        b_event_free(&evs[k]);
    free(evs);
}

/* The levels run one after the other in one world, so each is measured minutes after the
 * first, on a shared machine whose speed drifts by more than the growth the figure looks for.
 * From the second level on, a second world is filled to the first level and measured right
 * after each run (ref_* metrics of the same scenario): the growth is then the ratio of two
 * measurements taken side by side. */
int b_scale(const b_opts_t *o)
{
    static const size_t full[] = { 10000, 100000, 1000000 }, quick[] = { 1000, 3000 };
    const size_t *levels = o->quick ? quick : full;
    size_t n_levels = o->quick ? 2 : 3;
    /* About two seconds of delivery: long enough that a once-a-second task or a burst of
     * scheduling noise is a small share of the CPU measured. */
    size_t n = o->quick ? 500 : (size_t)(o->secs * 10000);
    scale_world_t w;
    s_world_start(&w);
    for (size_t l = 0; l < n_levels; l++) {
        char S[32];
        snprintf(S, sizeof(S), "scale_%zu", levels[l]);
        s_world_fill(&w, levels[l], S);
        scale_world_t ref;
        if (l > 0) {
            s_world_start(&ref);
            s_world_fill(&ref, levels[0], NULL);
        }
        for (int run = 1; run <= o->runs; run++) {
            s_saturate(&w, n, S, "", run);
            if (l > 0)
                s_saturate(&ref, n, S, "ref_", run);
            size_t nl = (size_t)(500 * (o->quick ? 0.5 : o->secs));
            b_event_t *evs = calloc(nl, sizeof(*evs));
            for (size_t k = 0; k < nl; k++)
                b_event_make(&w.env, &evs[k], CAMHS, TACNET__EVENT_KIND__CONCERN, s_case_ref,
                             w.sseq++, 4, s_all, 0);
            b_latency(&w.env, w.pub->sock, w.ag, 3, evs, nl, 500, S, "lat500", run);
            for (size_t k = 0; k < nl; k++)
                b_event_free(&evs[k]);
            free(evs);
        }
        if (l > 0) {
            h_close(&ref.pub);
            h_teardown(&ref.env);
        }
    }
    h_close(&w.pub);
    h_teardown(&w.env);
    return 0;
}
