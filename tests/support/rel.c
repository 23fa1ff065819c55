/* rel: producers with an acknowledgement ledger, and the checker (see rel.h). */
#include "rel.h"

#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bytes.h"
#include "err.h"
#include "pbjson.h"
#include "wire.h"

uint64_t rel_seed;
static uint64_t rel_state;
static char rel_test[128];

long rel_env(const char *name, long def)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : def;
}

void rel_seed_init(const char *test)
{
    const char *v = getenv("REL_SEED");
    rel_seed = v && *v ? strtoull(v, NULL, 10) : ((uint64_t)time(NULL) ^ (uint64_t)getpid());
    if (rel_seed == 0)
        rel_seed = 1;
    rel_state = rel_seed;
    snprintf(rel_test, sizeof(rel_test), "%s", test);
    fprintf(stderr, "[rel] %s seed=%llu (rerun with REL_SEED=%llu)\n", test,
            (unsigned long long)rel_seed, (unsigned long long)rel_seed);
}

uint64_t rel_rand(void)
{
    rel_state ^= rel_state >> 12;
    rel_state ^= rel_state << 25;
    rel_state ^= rel_state >> 27;
    return rel_state * 2685821657736338717ull;
}

uint64_t rel_between(uint64_t lo, uint64_t hi)
{
    return lo + rel_rand() % (hi - lo + 1);
}

void rel_stat(const char *key, long value)
{
    const char *path = getenv("TACNET_REL_STATS");
    if (!path || !*path)
        return;
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    fprintf(f, "%s %ld\n", key, value);
    fclose(f);
}

void rel_skip(const char *test, const char *reason)
{
    printf("SKIPPED: %s: %s\n", test, reason);
    fflush(stdout);
    fprintf(stderr, "SKIPPED: %s: %s\n", test, reason);
    const char *path = getenv("TACNET_REL_STATS");
    if (path && *path) {
        FILE *f = fopen(path, "a");
        if (f) {
            fprintf(f, "skipped %s: %s\n", test, reason);
            fclose(f);
        }
    }
}

/* ---------------------------------------------------------------- world */

const uint32_t rel_agencies[4] = { TACNET__AGENCY__CAMHS, TACNET__AGENCY__SCHOOL,
                                   TACNET__AGENCY__HEALTH_VISITING, TACNET__AGENCY__SOCIAL_CARE };

void rel_world_up(rel_world_t *w)
{
    rel_world_up_armed(w, NULL);
}

void rel_world_up_armed(rel_world_t *w, const char *broker_fault)
{
    memset(w, 0, sizeof(*w));
    w->window = 32;
    h_setup(&w->env, "tick_ms = 50");
    CHECK(h_broker_start(&w->env, broker_fault) == 0, "broker did not start (seed %llu)",
          (unsigned long long)rel_seed);
    for (size_t i = 0; i < 4; i++) {
        uint32_t a = rel_agencies[i];
        w->daemon[a] = h_agency_add(&w->env, a);
        CHECK(h_agency_start(w->daemon[a], NULL) == 0, "agency %u did not start", a);
    }
}

void rel_world_down(rel_world_t *w)
{
    for (size_t i = 0; i < w->n_prod; i++) {
        rel_prod_t *p = &w->prod[i];
        for (size_t k = 0; k < p->n; k++)
            h_pub_free(&p->ev[k].pub);
        free(p->ev);
        if (p->ledger)
            fclose(p->ledger);
        tn_client_destroy(&p->api);
    }
    h_teardown(&w->env);
}

tn_client_t *rel_api(const h_agency_t *a)
{
    int err = 0;
    tn_client_t *c = tn_client_new(a->data, &err);
    CHECK(c != NULL, "tn_client_new %s: %s", a->data, tacnet_errname(err));
    return c;
}

rel_prod_t *rel_prod_add(rel_world_t *w, uint32_t agency, rel_kind_t kind, size_t quota)
{
    CHECK(w->n_prod < REL_MAX_PROD);
    rel_prod_t *p = &w->prod[w->n_prod];
    memset(p, 0, sizeof(*p));
    p->env = &w->env;
    p->kind = kind;
    p->agency = agency;
    p->quota = quota;
    snprintf(p->case_ref, sizeof(p->case_ref), "LA7-2026-%06u", 100u + (unsigned)w->n_prod);
    p->n = quota + (kind == REL_RAW ? REL_SETUP_RAW : REL_SETUP_API);
    p->ev = calloc(p->n, sizeof(*p->ev));
    char path[700];
    snprintf(path, sizeof(path), "%s/ledger-%zu.txt", w->env.dir, w->n_prod);
    p->ledger = fopen(path, "w");
    CHECK(p->ledger != NULL);
    uint32_t members = 1u << agency;
    for (size_t k = 0; k < p->n; k++) {
        rel_event_t *e = &p->ev[k];
        if (kind == REL_RAW) {
            if (k < REL_SETUP_RAW) {
                size_t other = 0;
                for (size_t i = 0, seen = 0; i < 4; i++)
                    if (rel_agencies[i] != agency && seen++ == k)
                        other = i;
                members |= 1u << rel_agencies[other];
            }
            e->rcpt = members;
            e->sseq = k + 1;
        } else {
            /* The daemon decides: school and social care once social care is referred. */
            e->rcpt = k < 2 ? (1u << agency) : (1u << agency) | (1u << TACNET__AGENCY__SOCIAL_CARE);
        }
    }
    if (kind == REL_RAW) {
        p->c = h_connect(&w->env, agency);
    } else {
        p->daemon = w->daemon[agency];
        p->api = rel_api(p->daemon);
    }
    p->last_progress_ms = h_now_ms();
    w->n_prod++;
    return p;
}

int rel_done(const rel_world_t *w)
{
    for (size_t i = 0; i < w->n_prod; i++)
        if (w->prod[i].acked < w->prod[i].n)
            return 0;
    return 1;
}

void rel_ledger_add(rel_prod_t *p, size_t k)
{
    rel_event_t *e = &p->ev[k];
    if (e->acked)
        return;
    e->acked = 1;
    p->acked++;
    char hex[33];
    wire_msgid_hex(e->msg_id, 16, hex);
    fprintf(p->ledger, "%s %u %llu %u\n", hex, p->agency, (unsigned long long)e->sseq, e->rcpt);
    p->ledger_pending++;
    p->last_progress_ms = h_now_ms();
}

void rel_ledger_sync(rel_prod_t *p)
{
    if (!p->ledger_pending)
        return;
    fflush(p->ledger);
    fdatasync(fileno(p->ledger));
    p->ledger_pending = 0;
}

/* Build raw event K of P: the set-up referrals, then concerns to every member. */
static void rel_raw_build(rel_prod_t *p, size_t k)
{
    rel_event_t *e = &p->ev[k];
    Tacnet__EventKind kind =
        k < REL_SETUP_RAW ? TACNET__EVENT_KIND__REFERRAL : TACNET__EVENT_KIND__CONCERN;
    h_pub_init(&e->pub, p->agency, kind, p->case_ref, e->sseq);
    /* The msg_id names its producer and index after its time, so a PUBACK finds its event. */
    e->pub.msg_id[REL_ID_TAG] = 0xA0;
    bytes_be32_put(e->pub.msg_id + REL_ID_INDEX, (uint32_t)k);
    e->pub.msg_id[REL_ID_AGENCY] = (uint8_t)p->agency;
    uint32_t rc[4];
    size_t n = 0;
    for (size_t i = 0; i < 4; i++)
        if (e->rcpt & (1u << rel_agencies[i]))
            rc[n++] = rel_agencies[i];
    if (k < REL_SETUP_RAW) {
        uint32_t prev = k ? p->ev[k - 1].rcpt : (1u << p->agency);
        e->pub.h.has_subject_agency = 1;
        for (size_t i = 0; i < 4; i++)
            if ((e->rcpt & ~prev) & (1u << rel_agencies[i]))
                e->pub.h.subject_agency = (Tacnet__Agency)rel_agencies[i];
    }
    h_pub_rcpt(&e->pub, n, rc);
    h_pub_seal(p->env, &e->pub, p->agency, NULL, NULL, 0);
    memcpy(e->msg_id, e->pub.msg_id, 16);
}

size_t rel_inflight(const rel_prod_t *p, size_t *next)
{
    size_t in = 0, k = 0;
    for (; k < p->n && p->ev[k].sent; k++)
        in += !p->ev[k].acked;
    *next = k;
    return in;
}

void rel_raw_send(rel_prod_t *p, size_t k)
{
    if (!p->ev[k].pub.header)
        rel_raw_build(p, k);
    h_send_pub(p->c, &p->ev[k].pub);
    p->ev[k].sent = 1;
}

/* Resend every sent, unacknowledged event of P in order, with its original msg_id. */
static void rel_raw_resend(rel_prod_t *p)
{
    for (size_t k = 0; k < p->n && p->ev[k].sent; k++)
        if (!p->ev[k].acked)
            rel_raw_send(p, k);
    p->last_progress_ms = h_now_ms();
}

/* NACKs by code (index -code - 1000). */
long rel_nacks[REL_NACK_CODES];

static void rel_nack_count(int code)
{
    int i = -code - 1000;
    rel_nacks[i >= 0 && i < REL_NACK_CODES ? i : 0]++;
}

void rel_raw_read(rel_prod_t *p)
{
    for (;;) {
        wire_msg_t m;
        if (h_recv(p->c, 0, &m) != 0)
            return;
        int err = 0;
        if (m.cmd == WIRE_PUBACK) {
            Tacnet__Puback *a = (Tacnet__Puback *)wire_ctl_unpack(m.cmd, m.ctl, m.ctl_len, &err);
            if (a && a->msg_id.len == 16) {
                const uint8_t *id = a->msg_id.data;
                size_t k = bytes_be32_get(id + REL_ID_INDEX);
                CHECK(k < p->n && memcmp(p->ev[k].msg_id, id, 16) == 0,
                      "PUBACK for an event this producer never sent (seed %llu)",
                      (unsigned long long)rel_seed);
                rel_ledger_add(p, k);
            }
            if (a)
                wire_free(&a->base);
        } else if (m.cmd == WIRE_NACK || m.cmd == WIRE_ERROR) {
            Tacnet__Nack *n = (Tacnet__Nack *)wire_ctl_unpack(m.cmd, m.ctl, m.ctl_len, &err);
            if (n) {
                rel_nack_count(n->code);
                wire_free(&n->base);
            }
        }
        wire_msg_clear(&m);
    }
}

Tacnet__PublishRequest *rel_api_request(const rel_prod_t *p, size_t k)
{
    char buf[1024];
    const char *cr = p->case_ref;
    if (k == 0)
        snprintf(buf, sizeof(buf),
                 "{\"kind\":\"concern\",\"case_ref\":\"%s\",\"initials\":\"TB\",\"body\":"
                 "{\"concern\":{\"category\":\"attendance\",\"summary\":\"Tired in class.\"}}}",
                 cr);
    else if (k == 1)
        snprintf(buf, sizeof(buf),
                 "{\"kind\":\"consent_recorded\",\"case_ref\":\"%s\",\"initials\":\"TB\","
                 "\"body\":{\"consent_recorded\":{\"state\":\"given\",\"scope\":[\"routine\","
                 "\"health\",\"safeguarding\"],\"given_by\":\"mother\",\"recorded_date\":"
                 "\"2026-11-03\"}}}",
                 cr);
    else if (k == 2)
        snprintf(buf, sizeof(buf),
                 "{\"kind\":\"referral\",\"case_ref\":\"%s\",\"initials\":\"TB\","
                 "\"subject_agency\":\"social_care\",\"body\":{\"referral\":{\"to_agency\":"
                 "\"social_care\",\"category\":\"neglect\",\"summary\":\"Persistent absence.\","
                 "\"family_aware\":true,\"consent_obtained\":true,\"referred_date\":"
                 "\"2026-11-05\"}}}",
                 cr);
    else
        snprintf(buf, sizeof(buf),
                 "{\"kind\":\"concern\",\"case_ref\":\"%s\",\"initials\":\"TB\",\"body\":"
                 "{\"concern\":{\"category\":\"attendance\",\"summary\":\"Burst event %zu.\"}}}",
                 cr, k);
    json_t *j = json_loads(buf, 0, NULL);
    CHECK(j != NULL);
    char why[256] = "";
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_to_message(
        &tacnet__publish_request__descriptor, j, why, sizeof(why));
    json_decref(j);
    CHECK(req != NULL, "pbjson: %s", why);
    return req;
}

static long rel_api_index(const rel_prod_t *p, const Tacnet__Body *b);
static int rel_api_find_once(rel_prod_t *p, size_t k);

/* An unanswered publish may still have reached the daemon's outbox, and then it comes back to
 * the daemon's own view once the broker delivers it: look there (for up to 8 s) before
 * publishing again, since the local API has no idempotency key. */
static int rel_api_find(rel_prod_t *p, size_t k)
{
    uint64_t deadline = h_now_ms() + 8000;
    int found;
    while (!(found = rel_api_find_once(p, k)) && p->api && h_now_ms() < deadline)
        h_sleep_ms(200);
    return found || !p->api;
}

static int rel_api_find_once(rel_prod_t *p, size_t k)
{
    Tacnet__ApiReply *r = NULL;
    int found = 0;
    if (tn_client_case(p->api, p->case_ref, &r, 3000) == 0 && r->show_case) {
        for (size_t i = 0; i < r->show_case->n_timeline && !found; i++) {
            const Tacnet__TimelineEntry *t = r->show_case->timeline[i];
            long idx = t->header->kind == TACNET__EVENT_KIND__CONSENT_RECORDED ? 1
                       : t->header->kind == TACNET__EVENT_KIND__REFERRAL
                           ? 2
                           : rel_api_index(p, t->body);
            if (idx == (long)k && t->header->msg_id.len == 16) {
                memcpy(p->ev[k].msg_id, t->header->msg_id.data, 16);
                p->ev[k].sseq = t->header->sender_seq;
                rel_ledger_add(p, k);
                found = 1;
            }
        }
    } else if (!r) {
        tn_client_destroy(&p->api); /* no answer: the caller tries again later */
    }
    tn_client_reply_free(&r);
    return found;
}

/* One API publish of the next event; an unanswered call leaves it "sent" (indefinite). */
static void rel_api_step(rel_prod_t *p)
{
    size_t next;
    rel_inflight(p, &next);
    /* An unanswered event is retried as a new publish only if it never reached the daemon's
     * outbox; the checker matches API events by their summary, so either way is visible. */
    size_t k = 0;
    while (k < p->n && p->ev[k].acked)
        k++;
    if (k >= p->n || !p->daemon->pid)
        return;
    if (!p->api)
        p->api = rel_api(p->daemon);
    if (p->ev[k].sent && rel_api_find(p, k))
        return;
    Tacnet__PublishRequest *req = rel_api_request(p, k);
    Tacnet__ApiReply *r = NULL;
    p->ev[k].sent = 1;
    int rc = tn_client_publish(p->api, req, &r, 3000);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    if (!r) {
        tn_client_destroy(&p->api);
        return;
    }
    if (rc == 0 && r->published && r->published->msg_id.len == 16) {
        memcpy(p->ev[k].msg_id, r->published->msg_id.data, 16);
        p->ev[k].sseq = r->published->local_seq;
        rel_ledger_add(p, k);
    } else {
        rel_nack_count(rc);
    }
    tn_client_reply_free(&r);
}

void rel_pump(rel_world_t *w, int ms)
{
    uint64_t deadline = h_now_ms() + (uint64_t)ms;
    while (!rel_done(w) && h_now_ms() < deadline) {
        zmq_pollitem_t items[REL_MAX_PROD];
        size_t ni = 0;
        for (size_t i = 0; i < w->n_prod; i++) {
            rel_prod_t *p = &w->prod[i];
            if (p->kind == REL_API) {
                rel_api_step(p);
                continue;
            }
            size_t next;
            size_t in = rel_inflight(p, &next);
            /* Set-up events change membership: send them one at a time. */
            size_t win = next < REL_SETUP_RAW ? 1 : (size_t)w->window;
            while (next < p->n && in < win) {
                rel_raw_send(p, next++);
                in++;
            }
            if (in && h_now_ms() - p->last_progress_ms > 1500)
                rel_raw_resend(p);
            items[ni++] = (zmq_pollitem_t){ p->c->sock, 0, ZMQ_POLLIN, 0 };
        }
        if (ni)
            zmq_poll(items, (int)ni, 20);
        for (size_t i = 0; i < w->n_prod; i++) {
            if (w->prod[i].kind == REL_RAW)
                rel_raw_read(&w->prod[i]);
            rel_ledger_sync(&w->prod[i]);
        }
    }
}

void rel_reconnect(rel_world_t *w)
{
    for (size_t i = 0; i < w->n_prod; i++) {
        rel_prod_t *p = &w->prod[i];
        if (p->kind != REL_RAW)
            continue;
        h_close(&p->c);
        p->c = h_connect(&w->env, p->agency);
        rel_raw_resend(p);
    }
}

int rel_killed_by_fault;

int rel_revive(rel_world_t *w, int *max_ready_ms)
{
    int n = 0, st;
    if (w->env.pid && waitpid(w->env.pid, &st, WNOHANG) == w->env.pid) {
        w->env.pid = 0;
        rel_killed_by_fault += WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
        uint64_t t0 = h_now_ms();
        CHECK(h_broker_start(&w->env, NULL) == 0, "broker did not restart (seed %llu)",
              (unsigned long long)rel_seed);
        int ready = (int)(h_now_ms() - t0);
        if (max_ready_ms && ready > *max_ready_ms)
            *max_ready_ms = ready;
        rel_reconnect(w);
        n++;
    }
    for (size_t i = 0; i < 4; i++) {
        h_agency_t *a = w->daemon[rel_agencies[i]];
        if (a && a->pid && waitpid(a->pid, &st, WNOHANG) == a->pid) {
            a->pid = 0;
            rel_killed_by_fault += WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
            uint64_t t0 = h_now_ms();
            CHECK(h_agency_start(a, NULL) == 0, "agency %u did not restart (seed %llu)", a->agency,
                  (unsigned long long)rel_seed);
            int ready = (int)(h_now_ms() - t0);
            if (max_ready_ms && ready > *max_ready_ms)
                *max_ready_ms = ready;
            n++;
        }
    }
    return n;
}

/* ---------------------------------------------------------------- checker */

typedef struct rel_id {
    uint8_t msg_id[16];
    uint32_t prod, idx;
} rel_id_t;

static int rel_id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

/* The index of P's API event named by SUMMARY ("Burst event N."), or -1. */
static long rel_api_index(const rel_prod_t *p, const Tacnet__Body *b)
{
    if (!b)
        return -1;
    const char *s = NULL;
    if (b->event_case == TACNET__BODY__EVENT_CONCERN && b->concern)
        s = b->concern->summary;
    if (!s)
        return -1;
    if (strcmp(s, "Tired in class.") == 0)
        return 0;
    size_t k;
    if (sscanf(s, "Burst event %zu.", &k) == 1 && k < p->n)
        return (long)k;
    return -1;
}

typedef struct rel_applied {
    uint32_t prod, idx;
    uint64_t sseq;
    int history; /* granted on joining: an earlier event this agency was not a recipient of */
} rel_applied_t;

/* Every entry of A's view as (producer, index), in local order. Unknown entries get prod = ~0. */
static size_t rel_follow(rel_world_t *w, h_agency_t *a, const rel_id_t *ids, size_t nids,
                         rel_applied_t **out)
{
    tn_client_t *c = rel_api(a);
    size_t n = 0, cap = 1024;
    rel_applied_t *v = malloc(cap * sizeof(*v));
    uint64_t after = 0;
    for (;;) {
        Tacnet__ApiReply *r = NULL;
        int rc = tn_client_follow(c, after, 1000, &r, 5000);
        for (int tries = 0; !r && tries < 5; tries++) {
            /* The daemon may have just died at an armed fault point: restart it and ask again. */
            tn_client_destroy(&c);
            rel_revive(w, NULL);
            c = rel_api(a);
            rc = tn_client_follow(c, after, 1000, &r, 5000);
        }
        CHECK(rc == 0, "follow on agency %u: %s (seed %llu)", a->agency, tacnet_errname(rc),
              (unsigned long long)rel_seed);
        Tacnet__FollowReply *f = r->follow;
        for (size_t i = 0; i < f->n_entries; i++) {
            const Tacnet__Header *h = f->entries[i]->header;
            if (n == cap)
                v = realloc(v, (cap *= 2) * sizeof(*v));
            rel_applied_t *e = &v[n++];
            e->prod = UINT32_MAX;
            e->sseq = h->sender_seq;
            e->history = f->entries[i]->has_history && f->entries[i]->history;
            const rel_id_t *hit = h->msg_id.len == 16
                                      ? bsearch(h->msg_id.data, ids, nids, sizeof(*ids), rel_id_cmp)
                                      : NULL;
            if (hit) {
                e->prod = hit->prod, e->idx = hit->idx;
                continue;
            }
            for (size_t p = 0; p < w->n_prod; p++) {
                rel_prod_t *pr = &w->prod[p];
                if (pr->kind != REL_API || (uint32_t)h->sender != pr->agency ||
                    h->case_ref.len != strlen(pr->case_ref) ||
                    memcmp(h->case_ref.data, pr->case_ref, h->case_ref.len) != 0)
                    continue;
                long k = h->kind == TACNET__EVENT_KIND__CONSENT_RECORDED ? 1
                         : h->kind == TACNET__EVENT_KIND__REFERRAL
                             ? 2
                             : rel_api_index(pr, f->entries[i]->body);
                if (k >= 0)
                    e->prod = (uint32_t)p, e->idx = (uint32_t)k;
            }
            if (e->prod == UINT32_MAX && h->sender == TACNET__AGENCY__BROKER)
                e->prod = UINT32_MAX - 1; /* a broker notice: sent by the broker */
        }
        size_t got = f->n_entries;
        after = f->next_local_seq;
        tn_client_reply_free(&r);
        if (!got)
            break;
    }
    tn_client_destroy(&c);
    *out = v;
    return n;
}

/* Read the acknowledged events back from the ledger files (what was synced, not memory). */
static size_t rel_ledger_read(rel_world_t *w, rel_id_t *ids, size_t nids, uint8_t **acked)
{
    size_t total = 0;
    for (size_t p = 0; p < w->n_prod; p++) {
        acked[p] = calloc(w->prod[p].n, 1);
        char path[700], hex[64];
        snprintf(path, sizeof(path), "%s/ledger-%zu.txt", w->env.dir, p);
        FILE *f = fopen(path, "r");
        CHECK(f != NULL);
        unsigned agency, rcpt;
        unsigned long long sseq;
        while (fscanf(f, "%63s %u %llu %u", hex, &agency, &sseq, &rcpt) == 4) {
            uint8_t id[16];
            size_t bl = 0;
            CHECK(sodium_hex2bin(id, 16, hex, strlen(hex), NULL, &bl, NULL) == 0);
            const rel_id_t *hit = bsearch(id, ids, nids, sizeof(*ids), rel_id_cmp);
            CHECK(hit != NULL, "ledger names an event nobody sent");
            acked[hit->prod][hit->idx] = 1;
            total++;
        }
        fclose(f);
    }
    return total;
}

static int rel_all_arrived(rel_world_t *w, const rel_id_t *ids, size_t nids, uint8_t **acked)
{
    for (size_t i = 0; i < 4; i++) {
        h_agency_t *a = w->daemon[rel_agencies[i]];
        rel_applied_t *v = NULL;
        size_t n = rel_follow(w, a, ids, nids, &v);
        size_t want = 0, have = 0;
        uint8_t *seen[REL_MAX_PROD];
        for (size_t p = 0; p < w->n_prod; p++) {
            seen[p] = calloc(w->prod[p].n, 1);
            for (size_t k = 0; k < w->prod[p].n; k++)
                want += acked[p][k] && (w->prod[p].ev[k].rcpt & (1u << a->agency));
        }
        /* Only what this agency must get counts: history granted on joining also brings it
         * events the test did not address to it, and counting those let the wait end while
         * the last addressed events were still on their way (then counted lost). */
        uint32_t bit = 1u << a->agency;
        for (size_t k = 0; k < n; k++)
            if (v[k].prod < w->n_prod && acked[v[k].prod][v[k].idx] &&
                (w->prod[v[k].prod].ev[v[k].idx].rcpt & bit) && !seen[v[k].prod][v[k].idx])
                seen[v[k].prod][v[k].idx] = 1, have++;
        for (size_t p = 0; p < w->n_prod; p++)
            free(seen[p]);
        free(v);
        if (have < want)
            return 0;
    }
    return 1;
}

rel_check_t rel_check(rel_world_t *w, int ms)
{
    rel_check_t c = { 0 };
    size_t nids = 0;
    for (size_t p = 0; p < w->n_prod; p++)
        nids += w->prod[p].n;
    rel_id_t *ids = calloc(nids ? nids : 1, sizeof(*ids));
    nids = 0;
    for (size_t p = 0; p < w->n_prod; p++)
        for (size_t k = 0; k < w->prod[p].n; k++)
            if (w->prod[p].ev[k].acked || w->prod[p].kind == REL_RAW) {
                rel_event_t *e = &w->prod[p].ev[k];
                if (!e->sent)
                    continue;
                memcpy(ids[nids].msg_id, e->msg_id, 16);
                ids[nids].prod = (uint32_t)p, ids[nids].idx = (uint32_t)k;
                nids++;
            }
    qsort(ids, nids, sizeof(*ids), rel_id_cmp);
    uint8_t *acked[REL_MAX_PROD] = { 0 };
    c.acked = (long)rel_ledger_read(w, ids, nids, acked);

    uint64_t deadline = h_now_ms() + (uint64_t)ms;
    while (!rel_all_arrived(w, ids, nids, acked) && h_now_ms() < deadline) {
        rel_revive(w, NULL);
        h_sleep_ms(500);
    }

    for (size_t i = 0; i < 4; i++) {
        h_agency_t *a = w->daemon[rel_agencies[i]];
        uint32_t bit = 1u << a->agency;
        rel_applied_t *v = NULL;
        size_t n = rel_follow(w, a, ids, nids, &v);
        uint32_t *count[REL_MAX_PROD];
        uint64_t last[REL_MAX_PROD] = { 0 };
        for (size_t p = 0; p < w->n_prod; p++)
            count[p] = calloc(w->prod[p].n, sizeof(uint32_t));
        for (size_t k = 0; k < n; k++) {
            if (v[k].prod == UINT32_MAX - 1)
                continue;
            if (v[k].prod >= w->n_prod) {
                c.phantom++;
                continue;
            }
            rel_prod_t *p = &w->prod[v[k].prod];
            count[v[k].prod][v[k].idx]++;
            /* History granted on joining came after the join, out of its sender's order and to
             * an agency the event did not name: the broker checked each grant against the
             * sharing policy (tests/integration/test_history.c); here it must still be once. */
            if (v[k].history)
                continue;
            if (!(p->ev[v[k].idx].rcpt & bit))
                c.misdelivered++;
            if (v[k].sseq <= last[v[k].prod])
                c.order++;
            last[v[k].prod] = v[k].sseq;
        }
        for (size_t p = 0; p < w->n_prod; p++) {
            for (size_t k = 0; k < w->prod[p].n; k++) {
                if (count[p][k] > 1)
                    c.dup += count[p][k] - 1;
                if (acked[p][k] && (w->prod[p].ev[k].rcpt & bit) && count[p][k] == 0) {
                    if (c.lost < 5)
                        fprintf(stderr, "[rel] lost: producer %zu event %zu at agency %u\n", p, k,
                                a->agency);
                    c.lost++;
                }
            }
            free(count[p]);
        }
        free(v);
    }
    for (size_t p = 0; p < w->n_prod; p++)
        free(acked[p]);
    free(ids);

    /* Audit chains, with every process stopped (a process a fault killed meanwhile is
     * restarted first, so it is counted and stops cleanly). */
    rel_revive(w, NULL);
    const char *bin = getenv("TACNET_BIN");
    for (size_t i = 0; i < 5; i++) {
        const char *dir;
        if (i < 4) {
            h_agency_t *a = w->daemon[rel_agencies[i]];
            if (a->pid)
                h_agency_signal_wait(a, SIGTERM);
            dir = a->data;
        } else {
            if (w->env.pid)
                h_broker_signal_wait(&w->env, SIGTERM);
            dir = w->env.data;
        }
        char cmd[2048], out[700];
        snprintf(out, sizeof(out), "%s/audit-%zu.json", w->env.dir, i);
        snprintf(cmd, sizeof(cmd), "'%s/tacnet' audit verify '%s' --json > '%s' 2>&1",
                 bin ? bin : "build/default/bin", dir, out);
        if (system(cmd) != 0 || !h_file_contains(out, "\"ok\":true"))
            c.audit_bad++;
    }
    for (int k = 0; k < REL_NACK_CODES; k++)
        if (rel_nacks[k])
            fprintf(stderr, "[rel] refusals %s: %ld\n", tacnet_errname(-k - 1000), rel_nacks[k]);
    rel_stat("events_acked", c.acked);
    rel_stat("events_lost", c.lost);
    rel_stat("events_duplicated", c.dup);
    rel_stat("events_phantom", c.phantom);
    rel_stat("order_violations", c.order);
    rel_stat("misdelivered", c.misdelivered);
    rel_stat("audit_chains_broken", c.audit_bad);
    return c;
}

void rel_check_assert(const rel_check_t *c, const char *test)
{
    fprintf(stderr,
            "[rel] %s: acked %ld lost %ld dup %ld phantom %ld order %ld misdelivered %ld "
            "audit_bad %ld (seed %llu)\n",
            test, c->acked, c->lost, c->dup, c->phantom, c->order, c->misdelivered, c->audit_bad,
            (unsigned long long)rel_seed);
    CHECK(c->acked > 0, "%s: nothing was acknowledged (seed %llu)", test,
          (unsigned long long)rel_seed);
    CHECK(c->lost == 0 && c->dup == 0 && c->phantom == 0 && c->order == 0 && c->misdelivered == 0 &&
              c->audit_bad == 0,
          "%s: lost %ld dup %ld phantom %ld order %ld misdelivered %ld audit_bad %ld (seed "
          "%llu)",
          test, c->lost, c->dup, c->phantom, c->order, c->misdelivered, c->audit_bad,
          (unsigned long long)rel_seed);
}
