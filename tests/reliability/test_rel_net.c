/* Reliability T08, T09, T10, T15, T16: the network between agencies and the broker, and keys
 * changing under load (docs/RELIABILITY.md).
 *
 * - T08: netem is tried in a network namespace (this kernel may lack sch_netem: then SKIPPED,
 *   never a pass). What always runs is a userspace fault proxy (a TCP relay in a thread of
 *   this test) between every agency and the broker that adds delay and jitter, stalls
 *   connections and cuts them mid-stream: connection-level faults, not packet loss.
 * - T09: agency C (health visiting) reaches the broker only through the proxy, which black-holes
 *   it (stops relaying, like a DROP rule) several times, then once for longer than the sharing
 *   policy's delivery expiry.
 * - T10: PUBACKs discarded by the producer (an indefinite outcome) and retried with the same
 *   msg_id 1-5 times, once after a newer event; and the local API's request_key retried.
 * - T15: the school's key revoked mid-stream (`tacnet provision --revoke`, SIGHUP).
 * - T16: the school's CURVE and signing keys rotated under load (`tacnet provision --rotate`).
 *
 * Sizes (CI defaults, REL_SIZE=large in brackets): REL_NET_EVENTS 400 [10000],
 * REL_NET_FAULT_SECONDS 15 [120], REL_PARTITIONS 2 [5], REL_PARTITION_SECONDS 3 [30].
 */
#include "harness.h"
#include "rel.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>

#include "err.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include "audit.h"
#include "clock.h"
#include "store.h"

static rel_world_t world;

/* ---------------------------------------------------------------- the fault proxy */

#define PX_MAX_CONN 64
#define PX_CHUNK    16384

typedef struct px_chunk {
    struct px_chunk *next;
    uint64_t due;
    size_t len, off;
    uint8_t data[];
} px_chunk_t;

typedef struct px_conn {
    int fd[2];           /* 0: the agency's side, 1: the broker's */
    px_chunk_t *head[2]; /* data read from fd[i], waiting to be written to fd[!i] */
    px_chunk_t *tail[2];
    uint64_t last_due[2]; /* keeps each direction in order under jitter */
    uint64_t stall_until;
} px_conn_t;

typedef struct proxy {
    int lfd, port, up_port;
    pthread_t thread;
    volatile int stop;
    /* Faults, set by the test thread at any time. */
    volatile int delay_ms, jitter_ms;
    volatile int cut_every_ms;   /* mean time between cuts of a random connection; 0: none */
    volatile int stall_every_ms; /* mean time between stalls; 0: none */
    volatile int stall_max_ms;
    volatile int partition; /* relay nothing, accept nothing (like a DROP rule) */
    /* Counters, read after stop. */
    long cuts, stalls, conns, bytes;
    uint64_t rng;
    px_conn_t c[PX_MAX_CONN];
} proxy_t;

static uint64_t s_px_rand(proxy_t *px)
{
    px->rng ^= px->rng >> 12;
    px->rng ^= px->rng << 25;
    px->rng ^= px->rng >> 27;
    return px->rng * 2685821657736338717ULL;
}

static void s_px_close(px_conn_t *c)
{
    for (int i = 0; i < 2; i++) {
        if (c->fd[i] >= 0)
            close(c->fd[i]);
        c->fd[i] = -1;
        while (c->head[i]) {
            px_chunk_t *n = c->head[i]->next;
            free(c->head[i]);
            c->head[i] = n;
        }
        c->tail[i] = NULL;
    }
}

static void s_px_accept(proxy_t *px)
{
    int a = accept(px->lfd, NULL, NULL);
    if (a < 0)
        return;
    int b = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in up = { .sin_family = AF_INET, .sin_port = htons((uint16_t)px->up_port) };
    up.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    px_conn_t *slot = NULL;
    for (int i = 0; i < PX_MAX_CONN && !slot; i++)
        if (px->c[i].fd[0] < 0)
            slot = &px->c[i];
    if (b < 0 || !slot || connect(b, (struct sockaddr *)&up, sizeof(up)) != 0) {
        close(a);
        if (b >= 0)
            close(b);
        return;
    }
    int one = 1;
    setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(a, F_SETFL, O_NONBLOCK);
    fcntl(b, F_SETFL, O_NONBLOCK);
    memset(slot, 0, sizeof(*slot));
    slot->fd[0] = a;
    slot->fd[1] = b;
    px->conns++;
}

/* Read what FD[I] has and queue it with its delay. Returns 0, or -1 when the side closed. */
static int s_px_read(proxy_t *px, px_conn_t *c, int i, uint64_t now)
{
    px_chunk_t *ch = malloc(sizeof(*ch) + PX_CHUNK);
    ssize_t n = read(c->fd[i], ch->data, PX_CHUNK);
    if (n <= 0) {
        free(ch);
        return n < 0 && errno == EAGAIN ? 0 : -1;
    }
    uint64_t due = now + (uint64_t)px->delay_ms +
                   (px->jitter_ms ? s_px_rand(px) % (uint64_t)px->jitter_ms : 0);
    if (due < c->last_due[i])
        due = c->last_due[i];
    c->last_due[i] = due;
    ch->due = due, ch->len = (size_t)n, ch->off = 0, ch->next = NULL;
    if (c->tail[i])
        c->tail[i]->next = ch;
    else
        c->head[i] = ch;
    c->tail[i] = ch;
    px->bytes += n;
    return 0;
}

/* Write every due chunk read from FD[I] to the other side. Returns 0 or -1 on a dead side. */
static int s_px_write(px_conn_t *c, int i, uint64_t now)
{
    while (c->head[i] && c->head[i]->due <= now) {
        px_chunk_t *ch = c->head[i];
        /* MSG_NOSIGNAL: a side that has gone is a cut connection, not a SIGPIPE for the test. */
        ssize_t n = send(c->fd[!i], ch->data + ch->off, ch->len - ch->off, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        ch->off += (size_t)n;
        if (ch->off < ch->len)
            return 0;
        c->head[i] = ch->next;
        if (!c->head[i])
            c->tail[i] = NULL;
        free(ch);
    }
    return 0;
}

static void s_px_faults(proxy_t *px, uint64_t now, uint64_t *next_cut, uint64_t *next_stall)
{
    int live[PX_MAX_CONN], n = 0;
    for (int i = 0; i < PX_MAX_CONN; i++)
        if (px->c[i].fd[0] >= 0)
            live[n++] = i;
    if (px->cut_every_ms && now >= *next_cut) {
        if (n) {
            s_px_close(&px->c[live[s_px_rand(px) % (uint64_t)n]]);
            px->cuts++;
        }
        *next_cut = now + 1 + s_px_rand(px) % (uint64_t)(2 * px->cut_every_ms);
    }
    if (px->stall_every_ms && now >= *next_stall) {
        if (n) {
            px_conn_t *c = &px->c[live[s_px_rand(px) % (uint64_t)n]];
            c->stall_until = now + 1 + s_px_rand(px) % (uint64_t)(px->stall_max_ms + 1);
            px->stalls++;
        }
        *next_stall = now + 1 + s_px_rand(px) % (uint64_t)(2 * px->stall_every_ms);
    }
}

static void *s_px_run(void *arg)
{
    proxy_t *px = arg;
    uint64_t next_cut = h_now_ms() + 500, next_stall = h_now_ms() + 300;
    while (!px->stop) {
        struct pollfd pf[1 + 2 * PX_MAX_CONN];
        int map[1 + 2 * PX_MAX_CONN], n = 0, pending = 0;
        uint64_t now = h_now_ms();
        int partition = px->partition;
        if (!partition) {
            pf[n] = (struct pollfd){ px->lfd, POLLIN, 0 };
            map[n++] = -1;
        }
        for (int i = 0; i < PX_MAX_CONN; i++) {
            px_conn_t *c = &px->c[i];
            if (c->fd[0] < 0 || partition || c->stall_until > now)
                continue;
            for (int s = 0; s < 2; s++) {
                pending |= c->head[s] != NULL;
                pf[n] = (struct pollfd){ c->fd[s], POLLIN, 0 };
                map[n++] = i * 2 + s;
            }
        }
        poll(pf, (nfds_t)n, pending ? 1 : 5);
        now = h_now_ms();
        for (int k = 0; k < n; k++) {
            if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (map[k] < 0) {
                s_px_accept(px);
                continue;
            }
            px_conn_t *c = &px->c[map[k] / 2];
            if (c->fd[0] >= 0 && s_px_read(px, c, map[k] % 2, now) != 0)
                s_px_close(c);
        }
        for (int i = 0; i < PX_MAX_CONN && !partition; i++) {
            px_conn_t *c = &px->c[i];
            if (c->fd[0] < 0 || c->stall_until > now)
                continue;
            if (s_px_write(c, 0, now) != 0 || s_px_write(c, 1, now) != 0)
                s_px_close(c);
        }
        if (!partition)
            s_px_faults(px, now, &next_cut, &next_stall);
    }
    return NULL;
}

/* Start a proxy in front of the broker at ENDPOINT ("tcp://127.0.0.1:PORT"). */
static void s_px_start(proxy_t *px, const char *endpoint)
{
    memset(px, 0, sizeof(*px));
    for (int i = 0; i < PX_MAX_CONN; i++)
        px->c[i].fd[0] = px->c[i].fd[1] = -1;
    const char *colon = strrchr(endpoint, ':');
    cr_assert_not_null(colon, "endpoint %s", endpoint);
    px->up_port = atoi(colon + 1);
    px->rng = rel_seed ^ 0x9E3779B97F4A7C15ULL;
    px->lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(px->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof(a);
    cr_assert_eq(bind(px->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(px->lfd, 64), 0);
    getsockname(px->lfd, (struct sockaddr *)&a, &al);
    px->port = ntohs(a.sin_port);
    fcntl(px->lfd, F_SETFL, O_NONBLOCK);
    cr_assert_eq(pthread_create(&px->thread, NULL, s_px_run, px), 0);
}

static void s_px_stop(proxy_t *px)
{
    if (!px->lfd)
        return;
    px->stop = 1;
    pthread_join(px->thread, NULL);
    for (int i = 0; i < PX_MAX_CONN; i++)
        if (px->c[i].fd[0] >= 0)
            s_px_close(&px->c[i]);
    close(px->lfd);
    px->lfd = 0;
}

static void s_px_calm(proxy_t *px)
{
    px->cut_every_ms = 0;
    px->stall_every_ms = 0;
    px->delay_ms = 0;
    px->jitter_ms = 0;
    for (int i = 0; i < PX_MAX_CONN; i++)
        px->c[i].stall_until = 0;
}

static proxy_t proxy;

static void s_down(void)
{
    s_px_stop(&proxy);
    rel_world_down(&world);
}

TestSuite(rel_net, .fini = s_down, .timeout = 900);

/* ---------------------------------------------------------------- world helpers */

/* Point daemon A at the proxy: its config names an endpoint file of the proxy's instead of the
 * broker's. */
static void s_via_proxy(h_agency_t *a, const proxy_t *px)
{
    char path[700], buf[8192], line[1024];
    snprintf(path, sizeof(path), "%s/proxy-endpoint", a->env->dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "tcp://127.0.0.1:%d\n", px->port);
    fclose(f);
    f = fopen(a->conf, "r");
    cr_assert_not_null(f);
    size_t n = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "broker_endpoint_file", 20) == 0)
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "broker_endpoint_file = %s\n", path);
        else
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", line);
    }
    fclose(f);
    f = fopen(a->conf, "w");
    cr_assert_not_null(f);
    fputs(buf, f);
    fclose(f);
}

/* Broker, proxy and four daemons; the daemons in VIA (bitmask by agency) reach the broker
 * through the proxy. EXTRA is appended to the broker's config. */
static void s_world_up_proxied(rel_world_t *w, proxy_t *px, uint32_t via, const char *extra)
{
    memset(w, 0, sizeof(*w));
    w->window = 32;
    h_setup(&w->env, extra);
    cr_assert_eq(h_broker_start(&w->env, NULL), 0, "broker did not start (seed %llu)",
                 (unsigned long long)rel_seed);
    s_px_start(px, w->env.endpoint);
    for (size_t i = 0; i < 4; i++) {
        uint32_t a = rel_agencies[i];
        w->daemon[a] = h_agency_add(&w->env, a);
        if (via & (1u << a))
            s_via_proxy(w->daemon[a], px);
        cr_assert_eq(h_agency_start(w->daemon[a], NULL), 0, "agency %u did not start", a);
    }
}

/* Run `tacnet ARGS` (printf-style); returns its exit status. */
static int s_tacnet(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int s_tacnet(const char *fmt, ...)
{
    char args[2048], cmd[2600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    const char *bin = getenv("TACNET_BIN") ? getenv("TACNET_BIN") : "build/default/bin";
    snprintf(cmd, sizeof(cmd), "'%s/tacnet' %s >>'%s/tacnet-cli.log' 2>&1", bin, args,
             world.env.dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Whether the broker's status shows AGENCY connected (-1: no answer). */
static int s_connected(const char *agency)
{
    char *js = h_admin_status(&world.env);
    if (!js)
        return -1;
    json_t *root = json_loads(js, 0, NULL);
    free(js);
    int connected = -1;
    json_t *list = root ? json_object_get(root, "agencies") : NULL;
    for (size_t i = 0; list && i < json_array_size(list); i++) {
        json_t *a = json_array_get(list, i);
        if (strcmp(json_string_value(json_object_get(a, "agency")), agency) == 0)
            connected = json_is_true(json_object_get(a, "connected"));
    }
    json_decref(root);
    return connected;
}

/* The broker's count of refusals with CODE_NAME ("E_KEYID"). */
static long s_rejected(const char *code_name)
{
    char *js = h_admin_status(&world.env);
    if (!js)
        return -1;
    json_t *root = json_loads(js, 0, NULL);
    free(js);
    json_t *n = root ? json_object_get(json_object_get(root, "rejected"), code_name) : NULL;
    long v = n ? (long)json_integer_value(n) : 0;
    json_decref(root);
    return v;
}

/* Send SIGHUP to the broker and every running daemon (a new roster). */
static void s_reload_all(rel_world_t *w)
{
    kill(w->env.pid, SIGHUP);
    for (size_t i = 0; i < 4; i++)
        if (w->daemon[rel_agencies[i]]->pid)
            kill(w->daemon[rel_agencies[i]]->pid, SIGHUP);
}

/* Restart daemon A (it reads its key file again). */
static void s_restart(h_agency_t *a)
{
    h_agency_signal_wait(a, SIGTERM);
    cr_assert_eq(h_agency_start(a, NULL), 0, "agency %u did not restart (seed %llu)", a->agency,
                 (unsigned long long)rel_seed);
}

/* Pump until every producer is done or MS passed; returns the time it took. */
static long s_drain(rel_world_t *w, int ms)
{
    uint64_t t0 = h_now_ms();
    while (!rel_done(w) && h_now_ms() - t0 < (uint64_t)ms)
        rel_pump(w, 500);
    return (long)(h_now_ms() - t0);
}

/* Whether every producer but SKIP has its quota acknowledged. */
static int s_done_except(const rel_world_t *w, const rel_prod_t *skip)
{
    for (size_t i = 0; i < w->n_prod; i++)
        if (&w->prod[i] != skip && w->prod[i].acked < w->prod[i].n)
            return 0;
    return 1;
}

static long s_size(const char *name, long ci, long large)
{
    const char *size = getenv("REL_SIZE");
    return rel_env(name, size && strcmp(size, "large") == 0 ? large : ci);
}

/* ---------------------------------------------------------------- T10 */

static Tacnet__PublishRequest *s_keyed_request(rel_prod_t *p, size_t k)
{
    Tacnet__PublishRequest *req = rel_api_request(p, k);
    char key[64];
    int n = snprintf(key, sizeof(key), "t10-%llu-%zu", (unsigned long long)rel_seed, k);
    req->has_request_key = 1;
    req->request_key.data = malloc((size_t)n);
    memcpy(req->request_key.data, key, (size_t)n);
    req->request_key.len = (size_t)n;
    return req;
}

/* Publish event K of the API producer P with its request key; returns the reply's duplicate
 * flag and checks msg_id and local_seq against the first answer (stored in P's event). */
static int s_keyed_publish(rel_prod_t *p, size_t k, int first)
{
    Tacnet__PublishRequest *req = s_keyed_request(p, k);
    Tacnet__ApiReply *r = NULL;
    int rc = tn_client_publish(p->api, req, &r, 5000);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    cr_assert_eq(rc, 0, "keyed publish %zu: %s (seed %llu)", k, tacnet_errname(rc),
                 (unsigned long long)rel_seed);
    cr_assert(r && r->published && r->published->msg_id.len == 16);
    int dup = r->published->has_duplicate && r->published->duplicate;
    if (first) {
        memcpy(p->ev[k].msg_id, r->published->msg_id.data, 16);
        p->ev[k].sseq = r->published->local_seq;
        p->ev[k].sent = 1;
    } else {
        cr_assert(memcmp(p->ev[k].msg_id, r->published->msg_id.data, 16) == 0 &&
                      p->ev[k].sseq == r->published->local_seq,
                  "a retried request key got another event (seed %llu)",
                  (unsigned long long)rel_seed);
    }
    tn_client_reply_free(&r);
    return dup;
}

Test(rel_net, t10_indefinite_outcome_retries_apply_once)
{
    rel_seed_init("T10");
    long events = s_size("REL_NET_EVENTS", 400, 10000);
    rel_world_up(&world);
    rel_prod_t *p = rel_prod_add(&world, TACNET__AGENCY__CAMHS, REL_RAW, (size_t)events / 2);
    rel_prod_t *api = rel_prod_add(&world, TACNET__AGENCY__SCHOOL, REL_API, (size_t)events / 10);
    uint64_t *seqs = calloc(p->n, sizeof(uint64_t));
    long retries = 0, late = 0, dropped = 0;
    for (size_t k = 0; k < p->n; k++) {
        uint64_t seq = 0;
        int dup = 0;
        rel_raw_send(p, k);
        cr_assert_eq(h_result(p->c, p->ev[k].msg_id, 10000, &seq, &dup), 0,
                     "event %zu not acknowledged (seed %llu)", k, (unsigned long long)rel_seed);
        cr_assert_eq(dup, 0);
        seqs[k] = seq;
        /* The PUBACK "never arrived": the producer cannot tell whether the broker has the
         * event, so it sends the same msg_id again, 1-5 times. */
        if (k >= REL_SETUP_RAW && rel_rand() % 2) {
            dropped++;
            long times = (long)rel_between(1, 5);
            for (long t = 0; t < times; t++, retries++) {
                rel_raw_send(p, k);
                cr_assert_eq(h_result(p->c, p->ev[k].msg_id, 10000, &seq, &dup), 0);
                cr_assert(dup == 1 && seq == seqs[k],
                          "retry of event %zu: dup %d seq %llu, first seq %llu (seed %llu)", k, dup,
                          (unsigned long long)seq, (unsigned long long)seqs[k],
                          (unsigned long long)rel_seed);
            }
        }
        rel_ledger_add(p, k);
        /* A late retry, after newer events from the same sender were accepted. */
        if (k > REL_SETUP_RAW + 5 && rel_rand() % 4 == 0) {
            size_t j = k - 1 - (size_t)(rel_rand() % 5);
            rel_raw_send(p, j);
            cr_assert_eq(h_result(p->c, p->ev[j].msg_id, 10000, &seq, &dup), 0);
            cr_assert(dup == 1 && seq == seqs[j] && seq < seqs[k],
                      "late retry of %zu after %zu: dup %d seq %llu (seed %llu)", j, k, dup,
                      (unsigned long long)seq, (unsigned long long)rel_seed);
            late++;
        }
    }
    rel_ledger_sync(p);
    free(seqs);

    /* The local API: a publish whose answer was "lost" is sent again with its request key. */
    long api_retries = 0;
    for (size_t k = 0; k < api->n; k++) {
        cr_assert_eq(s_keyed_publish(api, k, 1), 0, "first publish %zu was a duplicate", k);
        rel_ledger_add(api, k);
        long times = k >= REL_SETUP_API ? (long)rel_between(1, 5) : 0;
        for (long t = 0; t < times; t++, api_retries++)
            cr_assert_eq(s_keyed_publish(api, k, 0), 1, "retry of %zu not marked duplicate", k);
        if (k > REL_SETUP_API + 2 && rel_rand() % 3 == 0) {
            cr_assert_eq(s_keyed_publish(api, k - 2, 0), 1);
            api_retries++;
        }
    }
    rel_ledger_sync(api);
    /* A bad request key is refused with its own code and queues nothing. */
    Tacnet__PublishRequest *bad = s_keyed_request(api, api->n - 1);
    bad->request_key.len = 0;
    Tacnet__ApiReply *r = NULL;
    cr_assert_eq(tn_client_publish(api->api, bad, &r, 5000), TACNET_EFIELD);
    tn_client_reply_free(&r);
    protobuf_c_message_free_unpacked(&bad->base, NULL);

    rel_check_t c = rel_check(&world, 120000);
    rel_stat("t10_retries", retries + api_retries);
    rel_stat("t10_late_retries", late);
    fprintf(stderr,
            "[rel] T10: %ld PUBACKs discarded, %ld raw retries (%ld late), %ld API retries\n",
            dropped, retries + late, late, api_retries);
    rel_check_assert(&c, "T10");
}

/* ---------------------------------------------------------------- T15 */

/* Pump for MS with producer B held to a stream of one new event per EVERY ms (out of B_N). */
static void s_pump_every(rel_world_t *w, rel_prod_t *b, size_t b_n, int ms, int every)
{
    uint64_t end = h_now_ms() + (uint64_t)ms;
    do {
        uint64_t t = h_now_ms();
        size_t next;
        rel_inflight(b, &next);
        b->n = next + 1 < b_n ? next + 1 : b_n;
        rel_pump(w, every);
        if (h_now_ms() - t < (uint64_t)every)
            h_sleep_ms((int)((uint64_t)every - (h_now_ms() - t)));
    } while (h_now_ms() < end);
}

static void s_pump_paced(rel_world_t *w, rel_prod_t *b, size_t b_n, int ms)
{
    s_pump_every(w, b, b_n, ms, 20);
}

/* Pump for MS with every producer held to one new event per EVERY ms (FULL: their quotas). */
static void s_pump_all_every(rel_world_t *w, const size_t *full, int ms, int every)
{
    uint64_t end = h_now_ms() + (uint64_t)ms;
    do {
        uint64_t t = h_now_ms();
        for (size_t i = 0; i < w->n_prod; i++) {
            size_t next;
            rel_inflight(&w->prod[i], &next);
            w->prod[i].n = next + 1 < full[i] ? next + 1 : full[i];
        }
        rel_pump(w, every);
        if (h_now_ms() - t < (uint64_t)every)
            h_sleep_ms((int)((uint64_t)every - (h_now_ms() - t)));
    } while (h_now_ms() < end);
}

Test(rel_net, t15_revocation_mid_session_cuts_the_agency_and_loses_nothing)
{
    rel_seed_init("T15");
    long events = s_size("REL_NET_EVENTS", 400, 10000);
    rel_world_up(&world);
    rel_prod_t *b = NULL;
    for (size_t i = 0; i < 4; i++) {
        int school = rel_agencies[i] == TACNET__AGENCY__SCHOOL;
        rel_prod_t *p = rel_prod_add(&world, rel_agencies[i], REL_RAW,
                                     school ? (size_t)events : (size_t)events / 4);
        if (school)
            b = p;
    }
    size_t b_n = b->n;
    s_pump_paced(&world, b, b_n, 1500);
    /* A precondition, not the property under test: on a loaded machine the session (or the
     * admin socket's answer) may take longer than the pump to show; wait for it. */
    uint64_t up_by = h_now_ms() + 10000;
    while (s_connected("school") != 1 && h_now_ms() < up_by)
        s_pump_paced(&world, b, b_n, 100);
    cr_assert_eq(s_connected("school"), 1, "the school never showed as connected (seed %llu)",
                 (unsigned long long)rel_seed);
    /* Revoked from 400 ms from now: the broker has the roster before it takes effect, so it
     * never accepts (and acknowledges) an event that recipients would then refuse. */
    uint64_t at = clock_now_ms() + 400;
    cr_assert_eq(s_tacnet("provision --out '%s' --revoke school --at-ms %llu", world.env.pdir,
                          (unsigned long long)at),
                 0);
    s_reload_all(&world);
    long before = s_rejected("E_KEYID");
    uint64_t refused_at = 0, down_at = 0;
    while (clock_now_ms() < at + 3000 && (!refused_at || !down_at)) {
        s_pump_paced(&world, b, b_n, 20);
        if (!refused_at && s_rejected("E_KEYID") > before)
            refused_at = clock_now_ms();
        if (!down_at && clock_now_ms() >= at && s_connected("school") == 0)
            down_at = clock_now_ms();
    }
    cr_assert(refused_at, "the revoked school was never refused (seed %llu)",
              (unsigned long long)rel_seed);
    cr_assert(down_at, "the revoked school's session stayed up (seed %llu)",
              (unsigned long long)rel_seed);
    long refuse_ms = (long)(refused_at - at), down_ms = (long)(down_at - at);
    fprintf(stderr, "[rel] T15: refused %ld ms, session down %ld ms after the revocation\n",
            refuse_ms, down_ms);
    cr_assert_lt(refuse_ms, 1000, "refused %ld ms after revocation", refuse_ms);
    cr_assert_lt(down_ms, 1000, "session down %ld ms after revocation", down_ms);
    /* B stops at its first refused event: nothing after it may have been acknowledged, and
     * none of it may turn up anywhere (the checker counts it as sent by nobody). */
    size_t first = 0;
    while (first < b_n && b->ev[first].acked)
        first++;
    for (size_t k = first; k < b_n; k++) {
        cr_assert(!b->ev[k].acked, "event %zu acknowledged after a refused one", k);
        h_pub_free(&b->ev[k].pub);
    }
    b->n = first;
    /* Its connection is gone and a reconnect with the revoked key fails at ZAP. */
    h_client_t *again = h_connect(&world.env, TACNET__AGENCY__SCHOOL);
    cr_assert_eq(h_hello(again, 0, 8, NULL), TACNET_ETIMEOUT,
                 "a revoked key got a WELCOME (seed %llu)", (unsigned long long)rel_seed);
    h_close(&again);
    cr_assert(h_log_contains(&world.env, "connection with a revoked or expired key cut"),
              "the revoked connection was not cut (seed %llu)", (unsigned long long)rel_seed);
    /* A, C and D carry on; then the school is re-keyed (a new key id, the revoked one stays
     * revoked) so its daemon can catch up, and the checker wants every acknowledged event,
     * the school's from before the revocation included, at every recipient. */
    rel_pump(&world, 2000);
    cr_assert_eq(
        s_tacnet("provision --out '%s' --rotate school --overlap-seconds 0", world.env.pdir), 0);
    s_reload_all(&world);
    s_restart(world.daemon[TACNET__AGENCY__SCHOOL]);
    uint64_t t0 = h_now_ms();
    while (!s_done_except(&world, b) && h_now_ms() - t0 < 60000)
        rel_pump(&world, 200);
    cr_assert(s_done_except(&world, b), "A, C or D did not finish (seed %llu)",
              (unsigned long long)rel_seed);
    rel_stat("t15_refused_after_ms", refuse_ms);
    rel_check_t c = rel_check(&world, 120000);
    rel_check_assert(&c, "T15");
}

/* ---------------------------------------------------------------- T16 */

typedef struct {
    long key1, key2;
} key_count_t;

static int s_count_keys(uint64_t seq, const audit_record_t *rec, void *arg)
{
    (void)seq;
    key_count_t *k = arg;
    if (strcmp(rec->action, "publish") == 0 && strcmp(rec->actor, "school/key1") == 0)
        k->key1++;
    if (strcmp(rec->action, "publish") == 0 && strcmp(rec->actor, "school/key2") == 0)
        k->key2++;
    return 0;
}

/* Publishes the broker accepted from the school under key ids 1 and 2, from its audit. */
static key_count_t s_audit_keys(const char *dir)
{
    key_count_t k = { 0, 0 };
    const char *names[] = { AUDIT_DB };
    int err = 0;
    store_t *st = store_open(dir, 64u << 20, names, 1, &err);
    cr_assert_not_null(st, "%s: %s", dir, tacnet_errname(err));
    MDB_dbi dbi;
    MDB_txn *txn;
    cr_assert_eq(store_dbi(st, AUDIT_DB, &dbi), 0);
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(audit_iterate(txn, dbi, 0, s_count_keys, &k), 0);
    mdb_txn_abort(txn);
    store_destroy(&st);
    return k;
}

Test(rel_net, t16_key_rotation_under_load_keeps_both_keys_for_the_overlap)
{
    rel_seed_init("T16");
    long events = s_size("REL_NET_EVENTS", 400, 10000);
    long overlap = rel_env("REL_ROTATION_OVERLAP_SECONDS", 5);
    rel_world_up(&world);
    /* The school streams through its daemon, which signs with its key; A, C, D raw. */
    rel_prod_t *b = NULL;
    for (size_t i = 0; i < 4; i++) {
        uint32_t a = rel_agencies[i];
        rel_prod_t *p = rel_prod_add(&world, a, a == TACNET__AGENCY__SCHOOL ? REL_API : REL_RAW,
                                     (size_t)events / 4);
        if (a == TACNET__AGENCY__SCHOOL)
            b = p;
    }
    size_t b_n = b->n;
    s_pump_paced(&world, b, b_n, 1500);
    uint64_t rotated = h_now_ms();
    cr_assert_eq(s_tacnet("provision --out '%s' --rotate school --overlap-seconds %ld",
                          world.env.pdir, overlap),
                 0);
    s_reload_all(&world);
    /* Inside the window: the daemon still on key 1 publishes, then restarts on key 2, and a
     * client with the old CURVE key still gets in. */
    s_pump_paced(&world, b, b_n, 500);
    s_restart(world.daemon[TACNET__AGENCY__SCHOOL]);
    h_client_t *old = h_connect(&world.env, TACNET__AGENCY__SCHOOL);
    cr_assert_eq(h_hello(old, 0, 8, NULL), 0, "the old key was refused inside the overlap");
    h_close(&old);
    s_pump_paced(&world, b, b_n, 1000);
    b->n = b_n;
    uint64_t t0 = h_now_ms();
    while (!rel_done(&world) && h_now_ms() - t0 < 60000)
        rel_pump(&world, 200);
    cr_assert(rel_done(&world), "producers did not finish (seed %llu)",
              (unsigned long long)rel_seed);
    long refused = s_rejected("E_KEYID");
    cr_assert_eq(refused, 0, "%ld legitimate publishes refused with E_KEYID", refused);
    /* After the window: only the new key. */
    while (h_now_ms() < rotated + (uint64_t)overlap * 1000 + 500)
        rel_pump(&world, 200);
    old = h_connect(&world.env, TACNET__AGENCY__SCHOOL);
    cr_assert_eq(h_hello(old, 0, 8, NULL), TACNET_ETIMEOUT,
                 "the old key still connects after the overlap (seed %llu)",
                 (unsigned long long)rel_seed);
    h_close(&old);
    cr_assert_eq(s_connected("school"), 1, "the daemon on the new key is not connected");
    rel_check_t c = rel_check(&world, 120000);
    key_count_t k = s_audit_keys(world.env.data);
    fprintf(stderr, "[rel] T16: broker audit: %ld school events under key 1, %ld under key 2\n",
            k.key1, k.key2);
    cr_assert(k.key1 > 0 && k.key2 > 0, "audit shows key1 %ld key2 %ld", k.key1, k.key2);
    rel_stat("t16_rotations", 1);
    rel_stat("t16_refused_in_overlap", refused);
    rel_check_assert(&c, "T16");
}

/* ---------------------------------------------------------------- T08 */

/* Whether tc netem works in a fresh network namespace; WHY says why not. */
static int s_netem_works(char *why, size_t whylen)
{
    char cmd[512], out[512] = "";
    snprintf(cmd, sizeof(cmd),
             "ns=tacnet-probe-%d; ip netns add $ns 2>&1 && "
             "{ ip netns exec $ns ip link set lo up 2>&1; "
             "ip netns exec $ns tc qdisc add dev lo root netem delay 10ms loss 10%% 2>&1; "
             "rc=$?; ip netns del $ns; exit $rc; }",
             (int)getpid());
    FILE *p = popen(cmd, "r");
    if (!p) {
        snprintf(why, whylen, "cannot run ip/tc");
        return 0;
    }
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = 0;
    int st = pclose(p);
    out[strcspn(out, "\n")] = 0;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 1;
    snprintf(why, whylen, "tc qdisc netem in a network namespace failed: %s",
             *out ? out : "no output");
    return 0;
}

Test(rel_net, t08_connection_faults_through_a_proxy_lose_and_repeat_nothing)
{
    rel_seed_init("T08");
    char why[600];
    if (!s_netem_works(why, sizeof(why)))
        rel_skip("T08 netem (packet loss, duplication, reordering)", why);
    else
        rel_skip("T08 netem (packet loss, duplication, reordering)",
                 "sch_netem works here but the namespace run is not built yet; the proxy run "
                 "below covers connection-level faults only");
    long events = s_size("REL_NET_EVENTS", 800, 10000);
    long fault_s = s_size("REL_NET_FAULT_SECONDS", 15, 120);
    uint32_t all = 0;
    for (size_t i = 0; i < 4; i++)
        all |= 1u << rel_agencies[i];
    s_world_up_proxied(&world, &proxy, all, "tick_ms = 50");
    /* The producers are the daemons (through their local API), so what crosses the proxy is
     * the product's own outbox and resend logic; social care only receives. A raw test client
     * that lets libzmq reconnect under it can reorder its own events (and have the later one
     * refused as a replay): the daemons do not. */
    for (size_t i = 0; i < 3; i++)
        rel_prod_add(&world, rel_agencies[i], REL_API, (size_t)events / 3);
    proxy.delay_ms = 20;
    proxy.jitter_ms = 40;
    proxy.stall_max_ms = 1500;
    proxy.stall_every_ms = 1000;
    proxy.cut_every_ms = 1500;
    /* The producers spread their events over the whole fault period, so faults meet
     * publishing as well as delivery. */
    size_t full[REL_MAX_PROD];
    for (size_t i = 0; i < world.n_prod; i++)
        full[i] = world.prod[i].n;
    uint64_t t0 = h_now_ms(), span = (uint64_t)fault_s * 1000;
    while (h_now_ms() - t0 < span) {
        uint64_t el = h_now_ms() - t0;
        for (size_t i = 0; i < world.n_prod; i++) {
            size_t allow = REL_SETUP_API + (size_t)((full[i] - REL_SETUP_API) * el / span) + 1;
            world.prod[i].n = allow < full[i] ? allow : full[i];
        }
        rel_pump(&world, 100);
        if (rel_done(&world))
            h_sleep_ms(20);
    }
    for (size_t i = 0; i < world.n_prod; i++)
        world.prod[i].n = full[i];
    s_px_calm(&proxy);
    long drain_ms = s_drain(&world, 60000);
    for (size_t i = 0; i < world.n_prod && !rel_done(&world); i++)
        for (size_t k = 0; k < world.prod[i].n; k++)
            if (!world.prod[i].ev[k].acked)
                fprintf(stderr,
                        "[rel] T08: producer %zu (agency %u): event %zu sent %d not acked\n", i,
                        world.prod[i].agency, k, world.prod[i].ev[k].sent);
    for (int k = 0; k < 1024 && !rel_done(&world); k++)
        if (rel_nacks[k])
            fprintf(stderr, "[rel] T08: refusals %s: %ld\n", tacnet_errname(-k - 1000),
                    rel_nacks[k]);
    cr_assert(rel_done(&world),
              "not every event acknowledged 60 s after the faults stopped "
              "(seed %llu)",
              (unsigned long long)rel_seed);
    fprintf(stderr,
            "[rel] T08: %ld s of faults: %ld connections, %ld cut, %ld stalled; all acknowledged "
            "%ld ms after\n",
            fault_s, proxy.conns, proxy.cuts, proxy.stalls, drain_ms);
    cr_assert_gt(proxy.cuts, 0, "the proxy cut nothing");
    rel_stat("t08_proxy_cuts", proxy.cuts);
    rel_stat("t08_proxy_stalls", proxy.stalls);
    rel_stat("t08_acked_after_faults_ms", drain_ms);
    /* Every event at every recipient within 60 s of the faults stopping. */
    rel_check_t c = rel_check(&world, 60000);
    rel_check_assert(&c, "T08");
}

/* ---------------------------------------------------------------- T09 */

/* Broker non-delivery notices in A's view. */
static long s_non_delivery(h_agency_t *a)
{
    tn_client_t *c = rel_api(a);
    long n = 0;
    uint64_t after = 0;
    for (;;) {
        Tacnet__ApiReply *r = NULL;
        cr_assert_eq(tn_client_follow(c, after, 1000, &r, 5000), 0);
        size_t got = r->follow->n_entries;
        for (size_t i = 0; i < got; i++)
            n += r->follow->entries[i]->header->kind == TACNET__EVENT_KIND__NON_DELIVERY;
        after = r->follow->next_local_seq;
        tn_client_reply_free(&r);
        if (!got)
            break;
    }
    tn_client_destroy(&c);
    return n;
}

/* A sharing policy with delivery expiry EXPIRY_S seconds, written into DIR. */
static const char *s_sharing_with_expiry(long expiry_s)
{
    static char path[256];
    const char *src = getenv("TACNET_SRC") ? getenv("TACNET_SRC") : ".";
    char in[700], line[1024];
    snprintf(in, sizeof(in), "%s/deploy/sharing.conf", src);
    snprintf(path, sizeof(path), "/tmp/tacnet-t09-sharing-%d.conf", (int)getpid());
    FILE *f = fopen(in, "r"), *o = fopen(path, "w");
    cr_assert(f && o);
    while (fgets(line, sizeof(line), f)) {
        fputs(line, o);
        if (strncmp(line, "expiry_hours", 12) == 0)
            fprintf(o, "expiry_seconds = %ld\n", expiry_s);
    }
    fclose(f);
    fclose(o);
    return path;
}

Test(rel_net, t09_partition_and_heal_waits_reports_and_delivers)
{
    rel_seed_init("T09");
    long events = s_size("REL_NET_EVENTS", 400, 10000);
    long parts = s_size("REL_PARTITIONS", 2, 5), secs = s_size("REL_PARTITION_SECONDS", 3, 30);
    long expiry = secs + 6, long_secs = expiry + 5, hb = 500;
    h_sharing_path = s_sharing_with_expiry(expiry);
    char extra[128];
    snprintf(extra, sizeof(extra), "tick_ms = 50\nheartbeat_ms = %ld", hb);
    /* C = health visiting, behind the proxy; its events go through its daemon's outbox. */
    s_world_up_proxied(&world, &proxy, 1u << TACNET__AGENCY__HEALTH_VISITING, extra);
    unlink(h_sharing_path);
    h_sharing_path = NULL;
    rel_prod_add(&world, TACNET__AGENCY__CAMHS, REL_RAW, (size_t)events / 2);
    rel_prod_t *c_prod =
        rel_prod_add(&world, TACNET__AGENCY__HEALTH_VISITING, REL_API, (size_t)events / 2);
    /* A and C stream one event each per 100 ms throughout, partitions included. */
    size_t full[REL_MAX_PROD];
    for (size_t i = 0; i < world.n_prod; i++)
        full[i] = world.prod[i].n;
    s_pump_all_every(&world, full, 1500, 100);
    cr_assert_eq(s_connected("health_visiting"), 1);
    long detect_max = 0;
    for (long i = 0; i < parts; i++) {
        proxy.partition = 1;
        uint64_t t0 = h_now_ms(), down = 0;
        size_t queued = c_prod->acked;
        while (h_now_ms() - t0 < (uint64_t)secs * 1000) {
            s_pump_all_every(&world, full, 100, 100);
            if (!down && s_connected("health_visiting") == 0)
                down = h_now_ms();
        }
        cr_assert(down, "partition %ld: C never marked down (seed %llu)", i,
                  (unsigned long long)rel_seed);
        long detect = (long)(down - t0);
        detect_max = detect > detect_max ? detect : detect_max;
        cr_assert_leq(detect, 3 * hb + 1000, "C marked down after %ld ms", detect);
        /* C's daemon went on queuing in its outbox while cut off. */
        cr_assert_gt(c_prod->acked, queued, "C queued nothing during partition %ld", i);
        proxy.partition = 0;
        s_pump_all_every(&world, full, 2000, 100);
    }
    cr_assert_eq(s_non_delivery(world.daemon[TACNET__AGENCY__CAMHS]), 0,
                 "non-delivery reported for a partition shorter than the expiry");
    /* Longer than the expiry: the sender is told, explicitly. */
    proxy.partition = 1;
    uint64_t t0 = h_now_ms();
    while (h_now_ms() - t0 < (uint64_t)long_secs * 1000)
        s_pump_all_every(&world, full, 100, 100);
    proxy.partition = 0;
    for (size_t i = 0; i < world.n_prod; i++)
        world.prod[i].n = full[i];
    long reports = 0;
    for (t0 = h_now_ms(); h_now_ms() - t0 < 15000 && reports == 0; h_sleep_ms(200))
        reports = s_non_delivery(world.daemon[TACNET__AGENCY__CAMHS]);
    cr_assert_gt(reports, 0, "a partition past the expiry left the sender in silence (seed %llu)",
                 (unsigned long long)rel_seed);
    long drain_ms = s_drain(&world, 60000);
    cr_assert(rel_done(&world), "producers did not finish after heal (seed %llu)",
              (unsigned long long)rel_seed);
    fprintf(stderr,
            "[rel] T09: %ld partitions of %ld s, C down after at most %ld ms; %ld s partition "
            "(expiry %ld s): %ld non-delivery reports; drained %ld ms after heal\n",
            parts, secs, detect_max, long_secs, expiry, reports, drain_ms);
    rel_stat("t09_partitions", parts + 1);
    rel_stat("t09_down_detect_max_ms", detect_max);
    rel_stat("t09_non_delivery_reports", reports);
    rel_check_t c = rel_check(&world, 120000);
    rel_check_assert(&c, "T09");
}
