/* tacnet-bench: throughput, latency, catch-up, scale and resources of the real broker and agency
 * daemons, beside same-run baselines (bench/README.md).
 *
 *   tacnet-bench SCENARIO [--runs N] [--quick] [--seconds S]
 *   SCENARIO: baseline | ingest | e2e | replicated | mosquitto | catchup | scale | textcheck
 */
#include "bench.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "bytes.h"
#include "err.h"
#include "ha.h"

enum { CAMHS = TACNET__AGENCY__CAMHS, SCHOOL = TACNET__AGENCY__SCHOOL };
enum { HV = TACNET__AGENCY__HEALTH_VISITING, SOCIAL = TACNET__AGENCY__SOCIAL_CARE };
static const uint32_t s_all[] = { CAMHS, SCHOOL, HV, SOCIAL };
static const uint32_t s_receivers[] = { SCHOOL, HV, SOCIAL };

/* ------------------------------------------------------------------ ingest */

typedef struct child_result {
    uint64_t n, t_end;
} child_result_t;

/* Fork N children running FN(i, arg) after writing a ready byte and waiting for the go byte.
 * Returns the go time; each child's result is read into RES. */
static uint64_t s_fork_run(size_t n, void (*fn)(size_t, void *, int, int), void *arg,
                           child_result_t *res, pid_t *pids)
{
    int ready[16][2], go[16][2];
    for (size_t i = 0; i < n; i++) {
        CHECK(pipe(ready[i]) == 0);
        CHECK(pipe(go[i]) == 0);
        pids[i] = fork();
        CHECK(pids[i] >= 0);
        if (pids[i] == 0) {
            close(ready[i][0]);
            close(go[i][1]);
            fn(i, arg, ready[i][1], go[i][0]);
            _exit(0);
        }
        close(ready[i][1]);
        close(go[i][0]);
    }
    char c;
    for (size_t i = 0; i < n; i++)
        CHECK(read(ready[i][0], &c, 1) == 1);
    uint64_t t0 = b_now_us();
    for (size_t i = 0; i < n; i++)
        CHECK(write(go[i][1], "g", 1) == 1);
    for (size_t i = 0; i < n; i++) {
        CHECK(read(ready[i][0], &res[i], sizeof(res[i])) == (ssize_t)sizeof(res[i]));
        close(ready[i][0]);
        close(go[i][1]);
        waitpid(pids[i], NULL, 0);
    }
    return t0;
}

typedef struct ingest_arg {
    h_env_t *env;
    size_t per;
    size_t hlen, slen; /* baseline: the header's and sealed body's sizes */
    char endpoint[256];
    char server_pk[41];
} ingest_arg_t;

static void s_ingest_child(size_t i, void *argp, int ready, int go)
{
    ingest_arg_t *a = argp;
    h_env_t *e = a->env;
    e->ctx = zmq_ctx_new();
    uint32_t me = s_all[i];
    char ref[32];
    snprintf(ref, sizeof(ref), "LA7-2026-%06zu", 900 + i);
    b_event_t *evs = calloc(a->per, sizeof(*evs));
    for (size_t k = 0; k < a->per; k++)
        b_event_make(e, &evs[k], me, TACNET__EVENT_KIND__CONCERN, ref, k + 1, 1, &me, 0);
    b_events_turns(e, evs, a->per, me);
    h_client_t *c = h_connect(e, me);
    char ch;
    CHECK(write(ready, "r", 1) == 1);
    CHECK(read(go, &ch, 1) == 1);
    child_result_t r;
    r.n = b_publish_stream(c->sock, evs, a->per, B_WINDOW, 10000, NULL);
    r.t_end = b_now_us();
    CHECK(write(ready, &r, sizeof(r)) == (ssize_t)sizeof(r));
}

/* Baseline: the same message (one frame of the same size), DEALER -> ROUTER over CURVE, no
 * broker logic, no replies. */
static void s_zmq_sender(size_t i, void *argp, int ready, int go)
{
    ingest_arg_t *a = argp;
    (void)i;
    void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
    char pk[41], sk[41];
    zmq_curve_keypair(pk, sk);
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, a->server_pk, 40);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pk, 40);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sk, 40);
    CHECK(zmq_connect(s, a->endpoint) == 0);
    /* A PUBLISH's one frame (common/wire.h) of the same size, built in place for each send as
     * wire_send_sig does. */
    size_t size = WIRE_FIXED_BYTES + 2 * WIRE_LEN_BYTES + a->hlen + a->slen + SEAL_SIG_BYTES;
    char ch;
    CHECK(write(ready, "r", 1) == 1);
    CHECK(read(go, &ch, 1) == 1);
    for (size_t k = 0; k < a->per; k++) {
        zmq_msg_t m;
        CHECK(zmq_msg_init_size(&m, size) == 0);
        uint8_t *p = zmq_msg_data(&m);
        memset(p, 0, size);
        memcpy(p, WIRE_PROTOCOL, WIRE_PROTOCOL_LEN);
        p[WIRE_PROTOCOL_LEN] = WIRE_PUBLISH;
        bytes_le32_put(p + WIRE_FIXED_BYTES, (uint32_t)a->hlen);
        bytes_le32_put(p + WIRE_FIXED_BYTES + WIRE_LEN_BYTES + a->hlen, (uint32_t)a->slen);
        CHECK(zmq_msg_send(&m, s, 0) >= 0);
    }
    child_result_t r = { a->per, b_now_us() };
    CHECK(write(ready, &r, sizeof(r)) == (ssize_t)sizeof(r));
    int linger = -1;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_close(s);
    zmq_ctx_term(ctx);
}

/* The receiving ROUTER of the baseline: counts whole messages until TOTAL have arrived. */
static void s_zmq_receiver(size_t i, void *argp, int ready, int go)
{
    ingest_arg_t *a = argp;
    (void)i;
    (void)go;
    size_t total = a->per * 4;
    void *ctx = zmq_ctx_new(), *r = zmq_socket(ctx, ZMQ_ROUTER);
    int one = 1;
    zmq_setsockopt(r, ZMQ_CURVE_SERVER, &one, sizeof(one));
    char sk[41];
    zmq_curve_keypair(a->server_pk, sk);
    zmq_setsockopt(r, ZMQ_CURVE_SECRETKEY, sk, 40);
    CHECK(zmq_bind(r, "tcp://127.0.0.1:*") == 0);
    size_t len = sizeof(a->endpoint);
    zmq_getsockopt(r, ZMQ_LAST_ENDPOINT, a->endpoint, &len);
    /* Tell the parent where, then count. */
    CHECK(write(ready, a->endpoint, sizeof(a->endpoint)) == (ssize_t)sizeof(a->endpoint));
    CHECK(write(ready, a->server_pk, sizeof(a->server_pk)) == (ssize_t)sizeof(a->server_pk));
    size_t got = 0;
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (got < total) {
        if (zmq_msg_recv(&m, r, 0) < 0)
            break;
        if (!zmq_msg_more(&m))
            got++;
    }
    zmq_msg_close(&m);
    child_result_t res = { got, b_now_us() };
    CHECK(write(ready, &res, sizeof(res)) == (ssize_t)sizeof(res));
    zmq_close(r);
    zmq_ctx_term(ctx);
}

static double s_zmq_baseline(ingest_arg_t *a)
{
    int rp[2];
    CHECK(pipe(rp) == 0);
    pid_t rpid = fork();
    CHECK(rpid >= 0);
    if (rpid == 0) {
        close(rp[0]);
        s_zmq_receiver(0, a, rp[1], -1);
        _exit(0);
    }
    close(rp[1]);
    CHECK(read(rp[0], a->endpoint, sizeof(a->endpoint)) == (ssize_t)sizeof(a->endpoint));
    CHECK(read(rp[0], a->server_pk, sizeof(a->server_pk)) == (ssize_t)sizeof(a->server_pk));
    child_result_t res[4], rres;
    pid_t pids[4];
    uint64_t t0 = s_fork_run(4, s_zmq_sender, a, res, pids);
    CHECK(read(rp[0], &rres, sizeof(rres)) == (ssize_t)sizeof(rres));
    close(rp[0]);
    waitpid(rpid, NULL, 0);
    return (double)rres.n * 1e6 / (double)(rres.t_end - t0);
}

int b_ingest(const b_opts_t *o)
{
    const char *S = "ingest";
    for (int run = 1; run <= o->runs; run++) {
        h_env_t env;
        h_setup(&env, NULL);
        CHECK(h_broker_start(&env, NULL) == 0);
        ingest_arg_t a = { .env = &env, .per = o->quick ? 500 : (size_t)(o->secs * 4000) };
        uint64_t busy0, total0, bcpu0, bcpu1, c0 = 0, c1 = 0, acc0 = 0, acc1 = 0;
        b_machine(&busy0, &total0);
        b_proc(env.pid, &bcpu0, NULL);
        b_status(&env, CAMHS, NULL, NULL, &c0, &acc0);
        child_result_t res[4];
        pid_t pids[4];
        uint64_t t0 = s_fork_run(4, s_ingest_child, &a, res, pids), t1 = 0;
        size_t n = 0;
        for (int i = 0; i < 4; i++) {
            n += res[i].n;
            t1 = res[i].t_end > t1 ? res[i].t_end : t1;
        }
        long rss = 0;
        b_proc(env.pid, &bcpu1, &rss);
        b_status(&env, CAMHS, NULL, NULL, &c1, &acc1);
        b_emit_load(S, run, busy0, total0);
        b_emit(S, "accepted_per_s", run, (double)n * 1e6 / (double)(t1 - t0), "ev/s");
        b_emit(S, "broker_cpu_us_per_event", run, (double)(bcpu1 - bcpu0) / (double)n, "us");
        b_emit(S, "broker_rss", run, (double)rss / 1024.0, "MiB");
        b_emit(S, "commits_per_s", run, (double)(c1 - c0) * 1e6 / (double)(t1 - t0), "/s");
        b_emit(S, "events_per_commit", run, c1 > c0 ? (double)(acc1 - acc0) / (double)(c1 - c0) : 0,
               "");
        /* Same frame sizes as a real PUBLISH. */
        b_event_t ev;
        b_event_make(&env, &ev, CAMHS, TACNET__EVENT_KIND__CONCERN, "LA7-2026-000999", 1, 1, s_all,
                     0);
        a.hlen = ev.hlen;
        a.slen = ev.slen;
        b_event_free(&ev);
        h_teardown(&env);
        b_machine(&busy0, &total0);
        /* Enough messages for a few seconds of the raw hop, whatever the broker managed. */
        a.per = o->quick ? 2000 : (size_t)(o->secs * 20000);
        b_emit(S, "baseline_zmq_curve_per_s", run, s_zmq_baseline(&a), "msg/s");
        b_emit_load("ingest_baseline", run, busy0, total0);
    }
    return 0;
}

/* ------------------------------------------------------------------ end to end */

/* Broker and the three receiving daemons running, a CAMHS publisher with a four-member case. */
typedef struct e2e_world {
    h_env_t env;
    h_agency_t *ag[3];
    h_client_t *pub;
    uint64_t sseq;
    char ref[32];
} e2e_world_t;

static void s_world_agencies(e2e_world_t *w, int open_case);

static void s_world_up(e2e_world_t *w, const char *extra, int open_case)
{
    h_setup(&w->env, extra);
    CHECK(h_broker_start(&w->env, NULL) == 0);
    s_world_agencies(w, open_case);
}

/* The three receiving daemons and the CAMHS publisher, once the broker is up. */
static void s_world_agencies(e2e_world_t *w, int open_case)
{
    for (int i = 0; i < 3; i++) {
        w->ag[i] = h_agency_add(&w->env, s_receivers[i]);
        CHECK(h_agency_start(w->ag[i], NULL) == 0);
    }
    w->pub = h_connect(&w->env, CAMHS);
    w->sseq = 1;
    snprintf(w->ref, sizeof(w->ref), "LA7-2026-000123");
    if (open_case)
        b_case_open_all(&w->env, w->pub->sock, w->ref, &w->sseq);
}

static b_event_t *s_concerns(e2e_world_t *w, size_t n)
{
    b_event_t *evs = calloc(n, sizeof(*evs));
    for (size_t k = 0; k < n; k++)
        b_event_make(&w->env, &evs[k], CAMHS, TACNET__EVENT_KIND__CONCERN, w->ref, w->sseq++, 4,
                     s_all, 0);
    return evs;
}

static void s_free_events(b_event_t *evs, size_t n)
{
    for (size_t k = 0; k < n; k++)
        b_event_free(&evs[k]);
    free(evs);
}

/* Saturation: publish N as fast as the window allows; delivered = N / (first publish -> all
 * three daemons acknowledged the last). Also emits the resource figures. */
static void s_saturation(e2e_world_t *w, size_t n, const char *S, int run)
{
    b_event_t *evs = s_concerns(w, n);
    b_events_turns(&w->env, evs, n, CAMHS);
    uint64_t head0 = 0, c0 = 0, c1 = 0, acc0 = 0, acc1 = 0, busy0, total0;
    b_status(&w->env, CAMHS, NULL, &head0, &c0, &acc0);
    pid_t pids[5] = { w->env.pid, w->ag[0]->pid, w->ag[1]->pid, w->ag[2]->pid, getpid() };
    const char *names[5] = { "broker", "school", "health_visiting", "social_care", "publisher" };
    uint64_t cpu0[5], cpu1[5];
    long rss[5];
    uint64_t target[3];
    for (int i = 0; i < 3; i++)
        target[i] = b_view_last(&w->env, w->ag[i]);
    for (int i = 0; i < 5; i++)
        b_proc(pids[i], &cpu0[i], NULL);
    b_machine(&busy0, &total0);
    uint64_t t0 = b_now_us();
    size_t nack = 0, acked = b_publish_stream(w->pub->sock, evs, n, B_WINDOW, 10000, &nack);
    uint64_t t_pub = b_now_us();
    for (int i = 0; i < 3; i++)
        target[i] += acked; /* every daemon applies every event of the case */
    uint64_t t1 = b_wait_applied(&w->env, w->ag, 3, target, 60000, 10);
    for (int i = 0; i < 5; i++)
        b_proc(pids[i], &cpu1[i], &rss[i]);
    b_status(&w->env, CAMHS, NULL, NULL, &c1, &acc1);
    b_emit_load(S, run, busy0, total0);
    if (acked != n || !t1)
        fprintf(stderr, "bench: %s: %zu of %zu accepted (%zu refused), delivered %s\n", S, acked, n,
                nack, t1 ? "all" : "not all within 60 s");
    double secs = (double)((t1 ? t1 : b_now_us()) - t0) / 1e6;
    b_emit(S, "delivered_per_s", run, (double)acked / secs, "ev/s");
    b_emit(S, "accepted_per_s", run, (double)acked * 1e6 / (double)(t_pub - t0), "ev/s");
    double total_cpu = 0;
    char metric[96];
    for (int i = 0; i < 5; i++) {
        double us = (double)(cpu1[i] - cpu0[i]) / (double)(acked ? acked : 1);
        total_cpu += us;
        snprintf(metric, sizeof(metric), "cpu_us_per_event_%s", names[i]);
        b_emit(S, metric, run, us, "us");
        if (i < 4) {
            snprintf(metric, sizeof(metric), "rss_%s", names[i]);
            b_emit(S, metric, run, (double)rss[i] / 1024.0, "MiB");
        }
    }
    b_emit(S, "cpu_us_per_event_total", run, total_cpu, "us");
    b_emit(S, "broker_commits_per_s", run, (double)(c1 - c0) / secs, "/s");
    b_emit(S, "broker_events_per_commit", run,
           c1 > c0 ? (double)(acc1 - acc0) / (double)(c1 - c0) : 0, "");
    s_free_events(evs, n);
}

static void s_latencies(e2e_world_t *w, const b_opts_t *o, const char *S, int run)
{
    static const double rates[] = { 100, 500, 2000 };
    for (size_t r = 0; r < 3; r++) {
        double secs = o->quick ? 0.5 : (rates[r] < 500 ? 2 * o->secs : o->secs);
        size_t n = (size_t)(rates[r] * secs);
        b_event_t *evs = s_concerns(w, n);
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "lat%.0f", rates[r]);
        /* bench/commit_pages.sh waits for this line to attach strace in the 500 ev/s phase. */
        fprintf(stderr, "bench: %s: offering %.0f ev/s\n", prefix, rates[r]);
        b_latency(&w->env, w->pub->sock, w->ag, 3, evs, n, rates[r], S, prefix, run);
        s_free_events(evs, n);
    }
}

/* The 500 ev/s latency phase alone, as scenario S (the latency target's rate). */
static void s_lat500(e2e_world_t *w, const b_opts_t *o, const char *S, int run)
{
    size_t n = (size_t)(500 * (o->quick ? 0.5 : o->secs));
    b_event_t *evs = s_concerns(w, n);
    b_latency(&w->env, w->pub->sock, w->ag, 3, evs, n, 500, S, "lat500", run);
    s_free_events(evs, n);
}

/* The no-flush diagnostic (bench/tools/noflush.c): the 500 ev/s latency again, in a world of its
 * own whose broker and daemons run with every flush to the disk turned into a no-op, as
 * scenario "e2e_noflush". What is left of the p99 there is CPU, wake-ups and scheduling, none of
 * it the disk. Not a target and not a configuration: nothing in that world is durable. */
static void s_noflush_latency(const b_opts_t *o, int run)
{
    char self[512], lib[600];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash = NULL;
    if (len > 0) {
        self[len] = '\0';
        slash = strrchr(self, '/');
    }
    if (slash) {
        *slash = '\0';
        snprintf(lib, sizeof(lib), "%s/libnoflush.so", self);
    }
    if (!slash || access(lib, R_OK) != 0) {
        printf("SKIPPED: e2e_noflush: libnoflush.so is not beside tacnet-bench (make bench)\n");
        return;
    }
    e2e_world_t w;
    memset(&w, 0, sizeof(w));
    /* Only the processes started now inherit it: the broker, the daemons and their tools. */
    CHECK(setenv("LD_PRELOAD", lib, 1) == 0);
    s_world_up(&w, NULL, 1);
    CHECK(unsetenv("LD_PRELOAD") == 0);
    s_lat500(&w, o, "e2e_noflush", run);
    h_teardown(&w.env);
}

int b_e2e(const b_opts_t *o)
{
    for (int run = 1; run <= o->runs; run++) {
        e2e_world_t w;
        memset(&w, 0, sizeof(w));
        s_world_up(&w, NULL, 1);
        s_saturation(&w, o->quick ? 1000 : (size_t)(o->secs * 5000), "e2e", run);
        s_latencies(&w, o, "e2e", run);
        /* Every broker commit of the run (saturation and the three rates): the synced commit
         * is the broker's share of the latency. */
        double c50 = 0, c99 = 0;
        if (b_commit_times(&w.env, &c50, &c99) == 0) {
            b_emit("e2e", "broker_commit_p50", run, c50, "ms");
            b_emit("e2e", "broker_commit_p99", run, c99, "ms");
        }
        h_teardown(&w.env);
        s_noflush_latency(o, run);
    }
    return 0;
}

/* ------------------------------------------------------------------ replicated */

/* One run of the end-to-end saturation and the 500 ev/s latency as scenario S, with EXTRA in
 * the broker's config. Returns 0, or the broker's start failure (h_broker_start's code). */
static int s_e2e_pair_half(const b_opts_t *o, const char *S, const char *extra, int run)
{
    e2e_world_t w;
    memset(&w, 0, sizeof(w));
    h_setup(&w.env, extra);
    int rc = h_broker_start(&w.env, NULL);
    if (rc != 0) {
        h_teardown(&w.env);
        return rc;
    }
    s_world_agencies(&w, 1);
    s_saturation(&w, o->quick ? 1000 : (size_t)(o->secs * 5000), S, run);
    s_lat500(&w, o, S, run);
    h_teardown(&w.env);
    return 0;
}

/* The e2e figures with the journal replicated to a three-server JetStream cluster, beside the
 * single broker's measured in the same run, back to back ("replicated" and
 * "replicated_single"), so the ratios compare like with like on a noisy machine. */
int b_replicated(const b_opts_t *o)
{
    if (!ha_nats_available()) {
        printf("SKIPPED: replicated: nats-server is not installed\n");
        return 0;
    }
    for (int run = 1; run <= o->runs; run++) {
        CHECK(s_e2e_pair_half(o, "replicated_single", NULL, run) == 0);
        char dir[] = "/tmp/tacnet-bench-nats-XXXXXX", urls[512], extra[700];
        CHECK(mkdtemp(dir) != NULL);
        ha_nats_t nats;
        ha_nats_start(&nats, dir);
        ha_nats_urls(nats.port, HA_NATS, urls, sizeof(urls));
        snprintf(extra, sizeof(extra), "[replication]\nnats = %s\nnode = bench-%d", urls, run);
        int rc = s_e2e_pair_half(o, "replicated", extra, run);
        ha_nats_stop(&nats);
        ha_rmtree(dir);
        if (rc != 0) {
            printf("SKIPPED: replicated: the broker did not start with [replication] (%d)\n", rc);
            return 0;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ catch-up */

static void s_wipe_dir(const char *dir)
{
    static const char *files[] = { "data.mdb", "lock.mdb", "api.sock" };
    char path[700];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
}

int b_catchup(const b_opts_t *o)
{
    const char *S = "catchup";
    size_t n = o->quick ? 3000 : 100000;
    h_env_t env;
    h_setup(&env, NULL);
    CHECK(h_broker_start(&env, NULL) == 0);
    h_agency_t *sc = h_agency_add(&env, SOCIAL);
    h_client_t *pub = h_connect(&env, CAMHS);
    uint64_t sseq = 1;
    b_case_open_all(&env, pub->sock, "LA7-2026-000321", &sseq);
    /* Published while the daemon is offline, in slices to bound memory. */
    uint64_t t0 = b_now_us();
    size_t done = 0;
    while (done < n) {
        size_t k = n - done < 20000 ? n - done : 20000;
        b_event_t *evs = calloc(k, sizeof(*evs));
        for (size_t i = 0; i < k; i++)
            b_event_make(&env, &evs[i], CAMHS, TACNET__EVENT_KIND__CONCERN, "LA7-2026-000321",
                         sseq++, 4, s_all, 0);
        b_events_turns(&env, evs, k, CAMHS);
        CHECK(b_publish_stream(pub->sock, evs, k, B_WINDOW, 10000, NULL) == k);
        s_free_events(evs, k);
        done += k;
    }
    fprintf(stderr, "bench: catch-up: %zu events published with the daemon offline in %.1f s\n", n,
            (double)(b_now_us() - t0) / 1e6);
    uint64_t head = 0;
    CHECK(b_status(&env, SOCIAL, NULL, &head, NULL, NULL) == 0);
    for (int run = 1; run <= o->runs; run++) {
        s_wipe_dir(sc->data);
        uint64_t busy0, total0, cpu0 = 0, cpu1 = 0, bcpu0 = 0, bcpu1 = 0;
        b_machine(&busy0, &total0);
        b_proc(env.pid, &bcpu0, NULL);
        uint64_t t_start = b_now_us();
        CHECK(h_agency_start(sc, NULL) == 0);
        /* Social care receives the referral that brought it in and every concern after. */
        uint64_t target = n + 1;
        uint64_t t_end = b_wait_applied(&env, &sc, 1, &target, 300000, 20);
        long rss = 0;
        uint64_t loop1 = 0;
        b_proc(sc->pid, &cpu1, &rss);
        b_proc_loop(sc->pid, &loop1);
        b_proc(env.pid, &bcpu1, NULL);
        b_emit_load(S, run, busy0, total0);
        CHECK(t_end != 0);
        uint64_t ack = 0;
        b_status(&env, SOCIAL, &ack, NULL, NULL, NULL);
        CHECK_EXPECT(ack >= head - 1, "broker: social care acknowledged %llu of %llu",
                     (unsigned long long)ack, (unsigned long long)head);
        b_emit(S, "events", run, (double)head, "events");
        b_emit(S, "seconds", run, (double)(t_end - t_start) / 1e6, "s");
        b_emit(S, "events_per_s", run, (double)head * 1e6 / (double)(t_end - t_start), "ev/s");
        b_emit(S, "cpu_us_per_event_daemon", run, (double)(cpu1 - cpu0) / (double)head, "us");
        /* The loop thread's share bounds catch-up when the other cores are free: the
         * verifier's helper threads check and open batches beside it. */
        b_emit(S, "cpu_us_per_event_daemon_loop", run, (double)loop1 / (double)head, "us");
        b_emit(S, "cpu_us_per_event_broker", run, (double)(bcpu1 - bcpu0) / (double)head, "us");
        b_emit(S, "rss_daemon", run, (double)rss / 1024.0, "MiB");
        h_agency_signal_wait(sc, SIGTERM);
    }
    h_teardown(&env);
    return 0;
}

/* ------------------------------------------------------------------ main */

static int s_usage(void)
{
    fprintf(stderr,
            "usage: tacnet-bench baseline|ingest|e2e|replicated|mosquitto|catchup|scale|textcheck "
            "[--runs N] "
            "[--quick] "
            "[--seconds S]\n");
    return 2;
}

/* A failed check (the harness's or the bench's) stops the benchmark, which has no test to fail:
 * print where and exit 3; a failed expectation only warns. */
static void s_check_fail(const char *file, int line, int fatal, const char *msg)
{
    if (fatal) {
        fprintf(stderr, "bench: %s:%d: %s failed\n", file, line, msg);
        exit(3);
    }
    fprintf(stderr, "bench: %s:%d: warning: %s\n", file, line, msg);
}

int main(int argc, char **argv)
{
    check_fail_hook = s_check_fail;
    if (argc < 2)
        return s_usage();
    b_opts_t o = { .runs = 3, .quick = 0, .secs = 3 };
    const char *q = getenv("BENCH_QUICK");
    o.quick = q && *q && strcmp(q, "0") != 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            o.runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--quick") == 0)
            o.quick = 1;
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            o.secs = atof(argv[++i]);
        else
            return s_usage();
    }
    if (o.runs < 1 || o.secs <= 0)
        return s_usage();
    signal(SIGPIPE, SIG_IGN);
    CHECK(seal_init() == 0);
    const char *s = argv[1];
    if (strcmp(s, "ingest") == 0)
        return b_ingest(&o);
    if (strcmp(s, "e2e") == 0)
        return b_e2e(&o);
    if (strcmp(s, "replicated") == 0)
        return b_replicated(&o);
    if (strcmp(s, "catchup") == 0)
        return b_catchup(&o);
    if (strcmp(s, "scale") == 0)
        return b_scale(&o);
    if (strcmp(s, "baseline") == 0)
        return b_baseline(&o);
    if (strcmp(s, "mosquitto") == 0)
        return b_mosquitto(&o);
    if (strcmp(s, "textcheck") == 0)
        return b_textcheck(&o);
    return s_usage();
}
