/* bench_util: events, the raw publisher, process and machine counters, figures. */
#include "bench.h"

#include <errno.h>
#include <jansson.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "err.h"
#include "store.h"
#include "events.pb-c.h"
#include "names.h"

uint64_t b_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Body = msg_id (2 + 16) + sender (2) + concern (1 + 2 + summary (1 + 2 + text)). */
#define B_SUMMARY_LEN (B_BODY_BYTES - 26)

const char *b_summary(void)
{
    static char text[B_SUMMARY_LEN + 1];
    if (!text[0]) {
        static const char phrase[] = "attendance fell this half term and the team agreed weekly "
                                     "check ins with the learning mentor and a review meeting; ";
        for (size_t i = 0; i < B_SUMMARY_LEN; i++)
            text[i] = phrase[i % (sizeof(phrase) - 1)];
        text[B_SUMMARY_LEN] = 0;
    }
    return text;
}

void b_event_make(h_env_t *e, b_event_t *ev, uint32_t sender, Tacnet__EventKind kind,
                  const char *case_ref, uint64_t sender_seq, size_t n, const uint32_t *rcpt,
                  uint32_t subject)
{
    h_pub_t p;
    memset(&p, 0, sizeof(p));
    h_pub_init(&p, sender, kind, case_ref, sender_seq);
    h_pub_rcpt(&p, n, rcpt);
    if (subject) {
        p.h.has_subject_agency = 1;
        p.h.subject_agency = (Tacnet__Agency)subject;
    }
    h_pub_seal(e, &p, sender, b_summary(), NULL, 0);
    memset(ev, 0, sizeof(*ev));
    ev->sender_seq = sender_seq;
    memcpy(ev->msg_id, p.msg_id, 16);
    ev->header = p.header;
    ev->hlen = p.hlen;
    ev->sealed = p.sealed;
    ev->slen = p.slen;
    memcpy(ev->sig, p.sig, SEAL_SIG_BYTES);
    ev->sig_len = SEAL_SIG_BYTES;
    p.header = p.sealed = NULL;
}

size_t b_turn(void)
{
    const char *s = getenv("BENCH_TURN");
    long v = s && *s ? strtol(s, NULL, 10) : B_TURN;
    return v >= 1 && v <= 4096 ? (size_t)v : B_TURN;
}

void b_events_turns(h_env_t *e, b_event_t *evs, size_t n, uint32_t signer)
{
    size_t turn = b_turn();
    if (turn < 2)
        return;
    const uint8_t **headers = calloc(turn, sizeof(*headers));
    size_t *hlens = calloc(turn, sizeof(*hlens)), *lens = calloc(turn, sizeof(*lens));
    uint8_t *digests = calloc(turn, SEAL_DIGEST_LEN), *frames = calloc(turn, MERKLE_FRAME_MAX);
    CHECK(headers && hlens && lens && digests && frames);
    for (size_t at = 0; at < n; at += turn) {
        size_t k = n - at < turn ? n - at : turn;
        if (k < 2)
            break;
        for (size_t i = 0; i < k; i++) {
            headers[i] = evs[at + i].header;
            hlens[i] = evs[at + i].hlen;
            seal_digest(evs[at + i].sealed, evs[at + i].slen, digests + i * SEAL_DIGEST_LEN);
        }
        CHECK(merkle_sign(e->seal[signer], headers, hlens, digests, k, frames, lens) == 0);
        for (size_t i = 0; i < k; i++) {
            memcpy(evs[at + i].sig, frames + i * MERKLE_FRAME_MAX, lens[i]);
            evs[at + i].sig_len = lens[i];
        }
    }
    free(headers);
    free(hlens);
    free(lens);
    free(digests);
    free(frames);
}

uint8_t *b_event_body(const b_event_t *ev, uint32_t sender, size_t *len)
{
    Tacnet__Body body = TACNET__BODY__INIT;
    Tacnet__Concern concern = TACNET__CONCERN__INIT;
    body.msg_id = (ProtobufCBinaryData){ 16, (uint8_t *)ev->msg_id };
    body.has_msg_id = 1;
    body.sender = (Tacnet__Agency)sender;
    body.has_sender = 1;
    concern.summary = (char *)b_summary();
    body.event_case = TACNET__BODY__EVENT_CONCERN;
    body.concern = &concern;
    *len = protobuf_c_message_get_packed_size(&body.base);
    uint8_t *b = malloc(*len);
    protobuf_c_message_pack(&body.base, b);
    return b;
}

void b_event_free(b_event_t *ev)
{
    free(ev->header);
    free(ev->sealed);
    ev->header = ev->sealed = NULL;
}

/* As a daemon sends: asking for its PUBACKs batched. */
static int s_send(void *sock, const b_event_t *ev)
{
    Tacnet__Publish pub = TACNET__PUBLISH__INIT;
    pub.has_ack_batches = pub.ack_batches = 1;
    return wire_send_sig(sock, NULL, 0, WIRE_PUBLISH, &pub.base, ev->header, ev->hlen, ev->sealed,
                         ev->slen, ev->sig, ev->sig_len);
}

/* Read every reply waiting on SOCK; count PUBACKs and NACKs. */
static void s_drain(void *sock, size_t *acked, size_t *nacked)
{
    for (;;) {
        wire_msg_t m;
        memset(&m, 0, sizeof(m));
        if (wire_recv(sock, 0, ZMQ_DONTWAIT, &m) != 0) {
            wire_msg_clear(&m);
            return;
        }
        if (m.cmd == WIRE_PUBACK) {
            (*acked)++;
        } else if (m.cmd == WIRE_PUBACKS) {
            wire_msg_t sub;
            size_t off = 0;
            memset(&sub, 0, sizeof(sub));
            while (wire_batch_next(&m, &off, &sub))
                (*acked)++;
        } else if (m.cmd == WIRE_NACK || m.cmd == WIRE_ERROR)
            (*nacked)++;
        wire_msg_clear(&m);
    }
}

size_t b_publish_stream(void *sock, const b_event_t *evs, size_t n, size_t window, int timeout_ms,
                        size_t *nacked)
{
    size_t sent = 0, acked = 0, nack = 0;
    uint64_t last_progress = b_now_us();
    while (acked + nack < n) {
        while (sent < n && sent - acked - nack < window && s_send(sock, &evs[sent]) == 0)
            sent++;
        zmq_pollitem_t it = { sock, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&it, 1, 100) > 0) {
            size_t before = acked + nack;
            s_drain(sock, &acked, &nack);
            if (acked + nack != before)
                last_progress = b_now_us();
        }
        if (b_now_us() - last_progress > (uint64_t)timeout_ms * 1000u)
            break;
    }
    if (nacked)
        *nacked = nack;
    return acked;
}

int b_publish_one(void *sock, const b_event_t *ev)
{
    size_t nack = 0;
    if (b_publish_stream(sock, ev, 1, 1, 5000, &nack) == 1)
        return 0;
    return nack ? TACNET_EINVAL : TACNET_ETIMEOUT;
}

void b_case_open_all(h_env_t *e, void *sock, const char *ref, uint64_t *sseq)
{
    enum { C = TACNET__AGENCY__CAMHS, S = TACNET__AGENCY__SCHOOL };
    enum { H = TACNET__AGENCY__HEALTH_VISITING, SC = TACNET__AGENCY__SOCIAL_CARE };
    const uint32_t all[] = { C, S, H, SC };
    b_event_t ev;
    b_event_make(e, &ev, C, TACNET__EVENT_KIND__CONCERN, ref, (*sseq)++, 1, all, 0);
    CHECK(b_publish_one(sock, &ev) == 0);
    b_event_free(&ev);
    for (size_t i = 1; i < 4; i++) {
        b_event_make(e, &ev, C, TACNET__EVENT_KIND__REFERRAL, ref, (*sseq)++, i + 1, all, all[i]);
        CHECK(b_publish_one(sock, &ev) == 0);
        b_event_free(&ev);
    }
}

/* /proc/PID/stat read into BUF: the text after the command name (which may hold spaces), from
 * the state field (field 3) on, or NULL. */
static const char *s_stat_fields(pid_t pid, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p + 2 : NULL;
}

/* CPU time in nanoseconds, read from the kernel's scheduler accounting rather than /proc's
 * utime and stime, which count whole 10 ms ticks: a scenario that runs a second measures a
 * process's few hundred milliseconds to within a tick each side, a few per cent, which is the
 * size of the effects the scale figures look for. The process clock (clock_getcpuclockid)
 * covers every thread, those that have exited too. The resident set is field 24 of stat. */
int b_proc(pid_t pid, uint64_t *cpu_us, long *rss_kb)
{
    clockid_t clk;
    struct timespec ts;
    if (clock_getcpuclockid(pid, &clk) != 0 || clock_gettime(clk, &ts) != 0)
        return -1;
    *cpu_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    if (!rss_kb)
        return 0;
    char buf[4096];
    const char *p = s_stat_fields(pid, buf, sizeof(buf));
    long rss = 0;
    if (!p || sscanf(p,
                     "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d "
                     "%*d %*u %*u %ld",
                     &rss) != 1)
        return -1;
    *rss_kb = rss * (sysconf(_SC_PAGESIZE) / 1024);
    return 0;
}

/* The loop thread's: the first field of its schedstat is its time on a CPU in nanoseconds. */
int b_proc_loop(pid_t pid, uint64_t *cpu_us)
{
    char path[80];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    unsigned long long ns = 0;
    int ok = fscanf(f, "%llu", &ns) == 1;
    fclose(f);
    if (!ok)
        return -1;
    *cpu_us = ns / 1000u;
    return 0;
}

/* Major page faults (field 12 of stat): pages the process's maps had to read back from the
 * disk, which a machine that reclaims cold page cache makes the B-trees' pages do. */
int b_proc_majflt(pid_t pid, uint64_t *majflt)
{
    char buf[4096];
    const char *p = s_stat_fields(pid, buf, sizeof(buf));
    unsigned long long v = 0;
    if (!p || sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %llu", &v) != 1)
        return -1;
    *majflt = v;
    return 0;
}

void b_machine(uint64_t *busy, uint64_t *total)
{
    unsigned long long v[10] = { 0 };
    FILE *f = fopen("/proc/stat", "r");
    *busy = *total = 0;
    if (!f)
        return;
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
               &v[5], &v[6], &v[7]) == 8) {
        for (int i = 0; i < 8; i++)
            *total += v[i];
        *busy = *total - v[3] - v[4]; /* minus idle and iowait */
    }
    fclose(f);
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double b_pct(double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), s_cmp);
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

void b_emit(const char *scenario, const char *metric, int run, double value, const char *unit)
{
    printf("{\"scenario\": \"%s\", \"metric\": \"%s\", \"run\": %d, \"value\": %.6g, "
           "\"unit\": \"%s\"}\n",
           scenario, metric, run, value, unit);
    fflush(stdout);
}

void b_emit_load(const char *scenario, int run, uint64_t busy0, uint64_t total0)
{
    uint64_t busy, total;
    b_machine(&busy, &total);
    double la = 0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &la) != 1)
            la = 0;
        fclose(f);
    }
    b_emit(scenario, "load_1min", run, la, "");
    if (total > total0)
        b_emit(scenario, "machine_busy", run,
               100.0 * (double)(busy - busy0) / (double)(total - total0), "%");
}

/* The broker's `status --json` answer, parsed (caller decrefs), or NULL. */
static json_t *s_status_json(h_env_t *e)
{
    char *s = h_admin_status(e);
    if (!s)
        return NULL;
    json_error_t jerr;
    json_t *root = json_loads(s, 0, &jerr);
    free(s);
    return root;
}

int b_commit_times(h_env_t *e, double *p50_ms, double *p99_ms)
{
    json_t *root = s_status_json(e);
    json_t *cm = root ? json_object_get(root, "commit_ms") : NULL;
    if (cm) {
        *p50_ms = json_real_value(json_object_get(cm, "p50"));
        *p99_ms = json_real_value(json_object_get(cm, "p99"));
    }
    json_decref(root);
    return cm ? 0 : -1;
}

int b_status(h_env_t *e, uint32_t agency, uint64_t *last_ack, uint64_t *head, uint64_t *commits,
             uint64_t *accepted)
{
    json_t *root = s_status_json(e);
    if (!root)
        return -1;
    if (head)
        *head = (uint64_t)json_integer_value(json_object_get(root, "head_seq"));
    if (commits)
        *commits = (uint64_t)json_integer_value(json_object_get(root, "commits"));
    if (accepted)
        *accepted = (uint64_t)json_integer_value(json_object_get(root, "accepted"));
    if (last_ack) {
        *last_ack = 0;
        json_t *ag = json_object_get(root, "agencies");
        size_t i;
        json_t *a;
        json_array_foreach(ag, i, a)
        {
            if (strcmp(json_string_value(json_object_get(a, "agency")), names_agency(agency)) == 0)
                *last_ack = (uint64_t)json_integer_value(json_object_get(a, "last_ack"));
        }
    }
    json_decref(root);
    return 0;
}

/* ------------------------------------------------------------------ same-run baselines */


/* The machine's floors right now: one synced LMDB commit of one 512-byte record at a time (the
 * disk's flush, which bounds durable latency) and Ed25519 verifications on one core (the
 * largest CPU cost per event per hop). */
int b_baseline(const b_opts_t *o)
{
    const char *S = "baseline";
    for (int run = 1; run <= o->runs; run++) {
        char dir[] = "/tmp/tacnet-bench-lmdb-XXXXXX", path[600];
        CHECK(mkdtemp(dir) != NULL);
        MDB_env *env;
        MDB_dbi dbi;
        MDB_txn *txn;
        CHECK(mdb_env_create(&env) == 0);
        mdb_env_set_mapsize(env, (size_t)1 << 30);
        CHECK(mdb_env_open(env, dir, 0, 0600) == 0);
        uint8_t val[B_BODY_BYTES] = { 0 }, key[8];
        size_t cap = 200000, n = 0;
        double *lat = malloc(cap * sizeof(*lat));
        uint64_t t0 = b_now_us(), until = t0 + (uint64_t)((o->quick ? 0.3 : 1.5) * 1e6);
        while (b_now_us() < until && n < cap) {
            uint64_t t = b_now_us();
            store_u64_put(key, n + 1);
            MDB_val k = { 8, key }, v = { sizeof(val), val };
            CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
            if (n == 0)
                CHECK(mdb_dbi_open(txn, NULL, 0, &dbi) == 0);
            CHECK(mdb_put(txn, dbi, &k, &v, MDB_APPEND) == 0);
            CHECK(mdb_txn_commit(txn) == 0);
            lat[n++] = (double)(b_now_us() - t) / 1000.0;
        }
        b_emit(S, "lmdb_sync_commits_per_s", run, (double)n * 1e6 / (double)(b_now_us() - t0),
               "/s");
        b_emit(S, "lmdb_sync_commit_p50", run, b_pct(lat, n, 50), "ms");
        b_emit(S, "lmdb_sync_commit_p99", run, b_pct(lat, n, 99), "ms");
        free(lat);
        mdb_env_close(env);
        snprintf(path, sizeof(path), "%s/data.mdb", dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/lock.mdb", dir);
        unlink(path);
        rmdir(dir);

        uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], sig[64];
        crypto_sign_keypair(pk, sk);
        crypto_sign_detached(sig, NULL, val, sizeof(val), sk);
        size_t m = 0;
        t0 = b_now_us();
        until = t0 + (uint64_t)((o->quick ? 0.2 : 1.0) * 1e6);
        while (b_now_us() < until) {
            for (int i = 0; i < 100; i++)
                m += crypto_sign_verify_detached(sig, val, sizeof(val), pk) == 0;
        }
        b_emit(S, "ed25519_verify_per_s", run, (double)m * 1e6 / (double)(b_now_us() - t0), "/s");
        sodium_memzero(sk, sizeof(sk));
    }
    return 0;
}
