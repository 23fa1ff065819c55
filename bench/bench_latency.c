/* bench_latency: publish -> last recipient's commit, observed through the follow API.
 *
 * How the commit time is observed: each agency daemon's data.mdb is watched with inotify; every
 * write to it (LMDB writes its pages, syncs, then writes the meta page, all inside the commit)
 * makes the benchmark ask that daemon's local API `follow` for the events after the last one it
 * has seen. The daemon is one thread, so the reply is sent only after the commit it is in has
 * returned: the time the reply arrives is the commit time plus at most one turn of the daemon's
 * loop and one ipc round trip (the idle follow round trip is reported as the observation floor).
 * A 20 ms periodic follow covers a missed notification.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <zmq.h>

#include "api.pb-c.h"
#include "err.h"

#define B_MAX_FOLLOW 8

typedef struct follower {
    void *req;
    int ino;
    int outstanding, dirty;
    uint64_t cursor, last_ask_us;
} follower_t;

static void s_follow_send(follower_t *f, uint64_t after, uint32_t max)
{
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    Tacnet__FollowRequest fr = TACNET__FOLLOW_REQUEST__INIT;
    fr.after_local_seq = after;
    fr.has_max = 1;
    fr.max = max;
    req.id = 1;
    req.op_case = TACNET__API_REQUEST__OP_FOLLOW;
    req.follow = &fr;
    uint8_t buf[64];
    size_t n = tacnet__api_request__pack(&req, buf);
    zmq_send(f->req, buf, n, 0);
    f->outstanding = 1;
    f->last_ask_us = b_now_us();
}

/* Receive a follow reply (blocking). Returns it (caller frees) or NULL. */
static Tacnet__FollowReply *s_follow_recv(follower_t *f, Tacnet__ApiReply **reply)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    f->outstanding = 0;
    if (zmq_msg_recv(&m, f->req, 0) < 0) {
        zmq_msg_close(&m);
        return NULL;
    }
    *reply = tacnet__api_reply__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
    zmq_msg_close(&m);
    if (!*reply || (*reply)->result_case != TACNET__API_REPLY__RESULT_FOLLOW) {
        if (*reply)
            tacnet__api_reply__free_unpacked(*reply, NULL);
        *reply = NULL;
        return NULL;
    }
    return (*reply)->follow;
}

/* Whether the view holds an event after local seq K. */
static int s_has_after(follower_t *f, uint64_t k)
{
    s_follow_send(f, k, 1);
    Tacnet__ApiReply *r = NULL;
    Tacnet__FollowReply *fr = s_follow_recv(f, &r);
    int has = fr && fr->n_entries > 0;
    if (r)
        tacnet__api_reply__free_unpacked(r, NULL);
    return has;
}

/* The last local seq in the view: gallop, then bisect (a view may hold a million events). */
static uint64_t s_view_last(follower_t *f)
{
    uint64_t lo = 0, hi = 1;
    while (s_has_after(f, hi))
        lo = hi, hi *= 2;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (s_has_after(f, mid))
            lo = mid;
        else
            hi = mid;
    }
    return s_has_after(f, lo) ? lo + 1 : lo;
}

static void s_inotify_drain(int fd)
{
    char buf[4096];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
}

/* BENCH_LATENCY_DUMP=DIR: every event's send time (ms after T0), its latency at each of the
 * N_AG recipients and its PUBACK time, one line each in DIR/SCENARIO-PREFIX-RUN.tsv (-1 where
 * none was seen), to tell a periodic tail from a uniformly slow disk. */
static void s_dump(const char *scenario, const char *prefix, int run, uint64_t t0,
                   const uint64_t *sent, const uint64_t *puback, size_t acked, const uint64_t *seen,
                   size_t n, size_t n_ag)
{
    const char *dir = getenv("BENCH_LATENCY_DUMP");
    if (!dir || !*dir)
        return;
    char path[700];
    snprintf(path, sizeof(path), "%s/%s-%s-%d.tsv", dir, scenario, prefix, run);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bench: cannot write %s\n", path);
        return;
    }
    for (size_t k = 0; k < n; k++) {
        fprintf(f, "%.3f", sent[k] ? (double)(sent[k] - t0) / 1000.0 : -1.0);
        for (size_t i = 0; i < n_ag; i++) {
            uint64_t s = seen[k * n_ag + i];
            fprintf(f, "\t%.3f", s && sent[k] ? (double)(s - sent[k]) / 1000.0 : -1.0);
        }
        fprintf(f, "\t%.3f\n",
                k < acked && puback[k] ? (double)(puback[k] - sent[k]) / 1000.0 : -1.0);
    }
    fclose(f);
}

void b_latency(h_env_t *e, void *sock, h_agency_t **agencies, size_t n_ag, const b_event_t *evs,
               size_t n, double rate, const char *scenario, const char *prefix, int run)
{
    (void)e;
    follower_t fol[B_MAX_FOLLOW];
    CHECK(n_ag <= B_MAX_FOLLOW);
    memset(fol, 0, sizeof(fol));
    uint64_t *sent = calloc(n, sizeof(*sent));
    uint64_t *puback = calloc(n, sizeof(*puback)); /* PUBACKs come back in publish order */
    uint64_t *seen = calloc(n * n_ag, sizeof(*seen));
    double floor_rtt[64];
    for (size_t i = 0; i < n_ag; i++) {
        char ep[700], path[700];
        fol[i].req = zmq_socket(e->ctx, ZMQ_REQ);
        int zero = 0;
        zmq_setsockopt(fol[i].req, ZMQ_LINGER, &zero, sizeof(zero));
        snprintf(ep, sizeof(ep), "ipc://%s/api.sock", agencies[i]->data);
        CHECK(zmq_connect(fol[i].req, ep) == 0);
        fol[i].ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        snprintf(path, sizeof(path), "%s/data.mdb", agencies[i]->data);
        CHECK(inotify_add_watch(fol[i].ino, path, IN_MODIFY) >= 0);
        fol[i].cursor = s_view_last(&fol[i]);
    }
    /* Observation floor: the idle round trip of a follow that finds nothing. */
    for (int k = 0; k < 64; k++) {
        uint64_t t = b_now_us();
        s_has_after(&fol[k % n_ag], fol[k % n_ag].cursor);
        floor_rtt[k] = (double)(b_now_us() - t) / 1000.0;
    }
    uint64_t first = evs[0].sender_seq;
    size_t next = 0, acked = 0, nack = 0, remaining = n * n_ag;
    uint64_t t0 = b_now_us(), last_send = t0;
    /* How late each publish left against its schedule: the benchmark's loop wakes at least
     * every millisecond, so a publish more than a few ms late means nothing of the benchmark
     * ran meanwhile, a stall of the whole machine (on a VM, the host taking its CPUs away),
     * which every event in flight then also waits out. */
    double *late = calloc(n, sizeof(*late));
    size_t n_late3 = 0;
    while (remaining > 0) {
        uint64_t now = b_now_us();
        uint64_t due;
        while (next < n && now >= (due = t0 + (uint64_t)((double)next * 1e6 / rate))) {
            sent[next] = b_now_us();
            late[next] = (double)(sent[next] - due) / 1000.0;
            n_late3 += late[next] > 3.0;
            if (wire_send_sig(sock, NULL, 0, WIRE_PUBLISH, NULL, evs[next].header, evs[next].hlen,
                              evs[next].sealed, evs[next].slen, evs[next].sig,
                              evs[next].sig_len) != 0)
                break; /* pipe full: retried on the next turn */
            last_send = sent[next];
            next++;
        }
        if (next == n && b_now_us() > last_send + 10000000u)
            break; /* 10 s after the last publish: whatever is missing is reported missing */
        zmq_pollitem_t it[1 + 2 * B_MAX_FOLLOW];
        it[0] = (zmq_pollitem_t){ sock, 0, ZMQ_POLLIN, 0 };
        for (size_t i = 0; i < n_ag; i++) {
            it[1 + 2 * i] = (zmq_pollitem_t){ fol[i].req, 0, ZMQ_POLLIN, 0 };
            it[2 + 2 * i] = (zmq_pollitem_t){ NULL, fol[i].ino, ZMQ_POLLIN, 0 };
        }
        long wait_ms = 1;
        if (next == n)
            wait_ms = 20;
        zmq_poll(it, (int)(1 + 2 * n_ag), wait_ms);
        if (it[0].revents & ZMQ_POLLIN) {
            for (;;) {
                wire_msg_t m;
                memset(&m, 0, sizeof(m));
                if (wire_recv(sock, 0, ZMQ_DONTWAIT, &m) != 0) {
                    wire_msg_clear(&m);
                    break;
                }
                if (m.cmd == WIRE_PUBACK && acked < n)
                    puback[acked] = b_now_us();
                acked += m.cmd == WIRE_PUBACK;
                nack += m.cmd == WIRE_NACK || m.cmd == WIRE_ERROR;
                wire_msg_clear(&m);
            }
        }
        now = b_now_us();
        for (size_t i = 0; i < n_ag; i++) {
            follower_t *f = &fol[i];
            if (it[2 + 2 * i].revents & ZMQ_POLLIN) {
                s_inotify_drain(f->ino);
                f->dirty = 1;
            }
            if (it[1 + 2 * i].revents & ZMQ_POLLIN) {
                Tacnet__ApiReply *r = NULL;
                Tacnet__FollowReply *fr = s_follow_recv(f, &r);
                uint64_t at = b_now_us();
                if (fr) {
                    for (size_t k = 0; k < fr->n_entries; k++) {
                        const Tacnet__Header *h = fr->entries[k]->header;
                        if (h->sender != TACNET__AGENCY__CAMHS || h->sender_seq < first ||
                            h->sender_seq - first >= n)
                            continue;
                        uint64_t *s = &seen[(h->sender_seq - first) * n_ag + i];
                        if (!*s) {
                            *s = at;
                            remaining--;
                        }
                    }
                    if (fr->n_entries > 0)
                        f->dirty = 1; /* there may be more than one reply's worth */
                    f->cursor = fr->next_local_seq;
                }
                if (r)
                    tacnet__api_reply__free_unpacked(r, NULL);
            }
            if (!f->outstanding && (f->dirty || now - f->last_ask_us > 20000)) {
                f->dirty = 0;
                s_follow_send(f, f->cursor, 1000);
            }
        }
    }
    double *lat = malloc(n * sizeof(*lat));
    size_t got = 0, missing = 0;
    s_dump(scenario, prefix, run, t0, sent, puback, acked, seen, n, n_ag);
    for (size_t k = 0; k < n; k++) {
        uint64_t last = 0;
        int all = 1;
        for (size_t i = 0; i < n_ag; i++) {
            uint64_t s = seen[k * n_ag + i];
            all &= s != 0;
            last = s > last ? s : last;
        }
        if (all && sent[k])
            lat[got++] = (double)(last - sent[k]) / 1000.0;
        else
            missing++;
    }
    double *acklat = malloc(n * sizeof(*acklat));
    size_t n_ack = 0;
    for (size_t k = 0; k < n && k < acked; k++)
        if (puback[k] && sent[k])
            acklat[n_ack++] = (double)(puback[k] - sent[k]) / 1000.0;
    char metric[128];
    /* Publish -> PUBACK: the broker's share (its synced commit) of the end-to-end figure. */
    snprintf(metric, sizeof(metric), "%s_puback_p50", prefix);
    b_emit(scenario, metric, run, b_pct(acklat, n_ack, 50), "ms");
    snprintf(metric, sizeof(metric), "%s_puback_p99", prefix);
    b_emit(scenario, metric, run, b_pct(acklat, n_ack, 99), "ms");
    free(acklat);
    double offered = n > 1 ? (double)(n - 1) * 1e6 / (double)(sent[n - 1] - sent[0]) : 0;
    snprintf(metric, sizeof(metric), "%s_offered", prefix);
    b_emit(scenario, metric, run, offered, "ev/s");
    snprintf(metric, sizeof(metric), "%s_p50", prefix);
    b_emit(scenario, metric, run, b_pct(lat, got, 50), "ms");
    snprintf(metric, sizeof(metric), "%s_p99", prefix);
    b_emit(scenario, metric, run, b_pct(lat, got, 99), "ms");
    snprintf(metric, sizeof(metric), "%s_p999", prefix);
    b_emit(scenario, metric, run, b_pct(lat, got, 99.9), "ms");
    snprintf(metric, sizeof(metric), "%s_missing", prefix);
    b_emit(scenario, metric, run, (double)missing, "events");
    snprintf(metric, sizeof(metric), "%s_follow_floor", prefix);
    b_emit(scenario, metric, run, b_pct(floor_rtt, 64, 50), "ms");
    snprintf(metric, sizeof(metric), "%s_send_late_p99", prefix);
    b_emit(scenario, metric, run, b_pct(late, next, 99), "ms");
    snprintf(metric, sizeof(metric), "%s_sends_late_3ms", prefix);
    b_emit(scenario, metric, run, next ? 100.0 * (double)n_late3 / (double)next : 0, "%");
    free(late);
    if (nack)
        fprintf(stderr, "bench: %s: %zu publishes refused\n", prefix, nack);
    /* Let the publisher's last PUBACKs arrive so the next phase starts clean. */
    for (int k = 0; k < 100 && acked + nack < n; k++) {
        zmq_pollitem_t it = { sock, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&it, 1, 50) <= 0)
            continue;
        wire_msg_t m;
        memset(&m, 0, sizeof(m));
        while (wire_recv(sock, 0, ZMQ_DONTWAIT, &m) == 0) {
            acked += m.cmd == WIRE_PUBACK;
            nack += m.cmd == WIRE_NACK || m.cmd == WIRE_ERROR;
            wire_msg_clear(&m);
        }
        wire_msg_clear(&m);
    }
    free(lat);
    for (size_t i = 0; i < n_ag; i++) {
        if (fol[i].outstanding) {
            Tacnet__ApiReply *r = NULL;
            zmq_pollitem_t it = { fol[i].req, 0, ZMQ_POLLIN, 0 };
            if (zmq_poll(&it, 1, 2000) > 0 && s_follow_recv(&fol[i], &r) && r)
                tacnet__api_reply__free_unpacked(r, NULL);
        }
        zmq_close(fol[i].req);
        close(fol[i].ino);
    }
    free(sent);
    free(puback);
    free(seen);
}

/* ------------------------------------------------------------------ applied counts */

static void s_follower_open(h_env_t *e, follower_t *f, const h_agency_t *a)
{
    char ep[700];
    memset(f, 0, sizeof(*f));
    f->ino = -1;
    f->req = zmq_socket(e->ctx, ZMQ_REQ);
    int zero = 0;
    zmq_setsockopt(f->req, ZMQ_LINGER, &zero, sizeof(zero));
    snprintf(ep, sizeof(ep), "ipc://%s/api.sock", a->data);
    CHECK(zmq_connect(f->req, ep) == 0);
}

uint64_t b_view_last(h_env_t *e, const h_agency_t *a)
{
    follower_t f;
    s_follower_open(e, &f, a);
    uint64_t last = s_view_last(&f);
    zmq_close(f.req);
    return last;
}

uint64_t b_wait_applied(h_env_t *e, h_agency_t **agencies, size_t n, const uint64_t *target,
                        int timeout_ms, int poll_ms)
{
    follower_t f[B_MAX_FOLLOW];
    CHECK(n <= B_MAX_FOLLOW);
    for (size_t i = 0; i < n; i++)
        s_follower_open(e, &f[i], agencies[i]);
    uint64_t deadline = b_now_us() + (uint64_t)timeout_ms * 1000u, done_at = 0;
    size_t done = 0;
    int *ok = calloc(n, sizeof(*ok));
    while (!done_at && b_now_us() < deadline) {
        /* One cheap request per daemon: is there an event at local seq TARGET? */
        for (size_t i = 0; i < n; i++)
            if (!ok[i] && target[i] > 0 && s_has_after(&f[i], target[i] - 1))
                ok[i] = 1, done++;
        if (done == n)
            done_at = b_now_us();
        else
            h_sleep_ms(poll_ms);
    }
    free(ok);
    for (size_t i = 0; i < n; i++)
        zmq_close(f[i].req);
    return done_at;
}
