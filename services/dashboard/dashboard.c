/* dashboard: libmicrohttpd as a poll source of the daemon's loop, routing, authentication, the
 * JSON API and the live event streams (see dashboard.h). */
#include "dashboard.h"
#include "conns.h"
#include "guard.h"
#include "zone.h"
#include "api.h"
#include "case_index.h"
#include "openapi.h"
#include "fhir.h"
#include "web.h"
#include "agency/auth.h"
#include "web_family.h"
#include "apijson.h"
#include "clock.h"
#include "err.h"
#include "labels.h"
#include "log.h"
#include "names.h"
#include "pbjson.h"
#include "throttle.h"
#include "wire.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTP_MAX_BODY    (256 * 1024)
#define HTTP_BEAT_MS     15000
#define HTTP_CONNECTIONS 512
/* One source holds at most this many connections (plenty for a browser's six and a few tabs'
 * live streams), so it cannot take the room others need. Not applied behind a TLS proxy, where
 * every connection comes from the proxy. */
#define HTTP_PER_SOURCE 32
/* Idle seconds before libmicrohttpd closes a connection, and the whole time a request may take
 * to arrive (headers and body), which a trickle cannot stretch (conns.h). */
#define HTTP_IDLE_S           20
#define HTTP_READ_DEADLINE_MS 30000
/* A new connection's request line and headers (a browser sends them at once) must arrive
 * within this; a trickle of them is cut sooner than a slow upload. */
#define HTTP_HEADERS_DEADLINE_MS 10000
/* Beyond this many open connections each new one makes room by shedding the reading
 * connection that has sent the least for the longest (conns.h): slow connections from many
 * sources, each within HTTP_PER_SOURCE, cannot fill the table. */
#define HTTP_ROOM_MARK (HTTP_CONNECTIONS - 64)
/* How often the loop shuts down overdue connections and writes the failure summaries. */
#define HTTP_SWEEP_MS  1000
#define HTTP_SETTLE_MS 25 /* per sweep: 2.5% of the loop while the index has cases to read */

static const char s_csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                            "img-src 'self'; connect-src 'self'; form-action 'self'; "
                            "frame-ancestors 'none'; base-uri 'none'";

typedef struct sse {
    dashboard_t *h;
    struct MHD_Connection *con;
    char ref[32]; /* only this case's events; empty: every case */
    uint64_t cursor;
    uint64_t next_beat_ms;
    int started, suspended;
    struct sse *next;
} sse_t;

struct dashboard {
    agency_t *agency; /* borrowed: outlives the dashboard */
    const agency_profile_t *profile;
    struct MHD_Daemon *d;
    int fd;
    uint64_t seen_applied;
    uint64_t next_beat_ms;
    int stopping;
    sse_t *streams;
    struct req *held;
    struct req *follows; /* GET /api/v1/events?wait=S with nothing to answer yet */
    size_t n_follows;
    dashboard_guard_t *guard;
    dashboard_conns_t *conns;
    int behind_proxy;
    uint64_t next_sweep_ms;
    dashboard_index_t *index;
};

/* How long a publish waits for the broker's answer unless the request says (?wait=S). */
#define HTTP_WAIT_MS 10000u
/* GET /api/v1/events?wait=S: at most this long, and at most this many held at once (more are
 * answered at once, empty, as without a wait). As the local API's follow (agency.h). */
#define HTTP_FOLLOW_MAX_WAIT_S 60u
#define HTTP_FOLLOW_MAX_WAITS  256u

/* One request: the body as it arrives, and, for a publish held until the broker answers, what
 * to answer then (the connection is suspended meanwhile; the loop goes on serving others). */
typedef struct req {
    dashboard_buf_t body;
    int too_big;
    int refused; /* answered by s_gate before its body */
    dashboard_t *h;
    struct MHD_Connection *con;
    int held, suspended, answered;
    /* GET events?wait=S: held until an event is applied or FOLLOW_DEADLINE_MS (FOLLOWING),
     * then asked again (FOLLOW_READY) */
    int following, follow_ready;
    uint64_t follow_deadline_ms;
    int api;                /* answer as the JSON API; else send the browser to LOCATION */
    Tacnet__ApiReply reply; /* API: the queued publish's reply, completed with its outcome */
    char location[512];
    struct req *next; /* the dashboard's held requests */
} req_t;

/* ------------------------------------------------------------------ responses */

/* Queue R (NULL: none could be made) with STATUS; RETRY_MS > 0 adds Retry-After. */
static enum MHD_Result s_queue(struct MHD_Connection *con, int status, struct MHD_Response *r,
                               uint64_t retry_ms)
{
    if (!r)
        return MHD_NO;
    if (retry_ms) {
        char secs[24];
        snprintf(secs, sizeof(secs), "%llu", (unsigned long long)((retry_ms + 999) / 1000));
        MHD_add_response_header(r, "Retry-After", secs);
    }
    enum MHD_Result ok = MHD_queue_response(con, (unsigned)status, r);
    MHD_destroy_response(r);
    return ok;
}

static struct MHD_Response *s_response(const char *type, const char *data, size_t len,
                                       const char *cookie, const char *location)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return NULL;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Content-Security-Policy", s_csp);
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    /* No referrer to other sites; our own pages keep their origin, so that a form's POST
     * carries Origin: http(s)://host rather than "null" (the Origin check, guard.h). */
    MHD_add_response_header(r, "Referrer-Policy", "same-origin");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (cookie)
        MHD_add_response_header(r, "Set-Cookie", cookie);
    if (location)
        MHD_add_response_header(r, "Location", location);
    return r;
}

static enum MHD_Result s_send(struct MHD_Connection *con, int status, const char *type,
                              const char *data, size_t len, const char *cookie,
                              const char *location)
{
    return s_queue(con, status, s_response(type, data, len, cookie, location), 0);
}

static int s_status_for(int code)
{
    switch (code) {
    case 0:
        return 200;
    case TACNET_EAUTH:
        return 401;
    case TACNET_EFORBIDDEN:
    case TACNET_ECSRF:
        return 403;
    case TACNET_ENOTFOUND:
        return 404;
    case TACNET_EEXISTS: /* in the way: a request key used for another event, a withdrawal done */
        return 409;
    case TACNET_ELOCKED:
        return 429;
    case TACNET_ENOMEM:
    case TACNET_EIO:
    case TACNET_ESTORE:
    case TACNET_EMAPFULL:
    case TACNET_EDISKFULL:
    case TACNET_ECORRUPT:
    case TACNET_ETIMEOUT:
        return 503;
    default:
        return 422;
    }
}

/* The JSON API's answer: the local API's ApiReply as apijson.h shapes it;
 * RETRY_MS > 0 adds Retry-After. */
static enum MHD_Result s_send_reply_retry(struct MHD_Connection *con, int status,
                                          const Tacnet__ApiReply *reply, uint64_t retry_ms)
{
    json_t *j = apijson_reply(reply);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    enum MHD_Result ok =
        s_queue(con, status, s_response("application/json", s, strlen(s), NULL, NULL), retry_ms);
    free(s);
    return ok;
}

static enum MHD_Result s_send_reply(struct MHD_Connection *con, int status,
                                    const Tacnet__ApiReply *reply)
{
    return s_send_reply_retry(con, status, reply, 0);
}

static enum MHD_Result s_send_error_retry(struct MHD_Connection *con, int code, const char *reason,
                                          uint64_t retry_ms)
{
    Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
    reply.code = code;
    reply.reason = (char *)reason;
    return s_send_reply_retry(con, s_status_for(code), &reply, retry_ms);
}

static enum MHD_Result s_send_error(struct MHD_Connection *con, int code, const char *reason)
{
    return s_send_error_retry(con, code, reason, 0);
}

static enum MHD_Result s_send_page_retry(struct MHD_Connection *con, dashboard_web_t *w,
                                         const char *cookie, uint64_t retry_ms)
{
    enum MHD_Result ok;
    if (w->status == 303)
        ok = s_send(con, 303, "text/html; charset=utf-8", "", 0, cookie, w->location);
    else
        ok =
            s_queue(con, w->status ? w->status : 200,
                    s_response("text/html; charset=utf-8", w->body.data, w->body.len, cookie, NULL),
                    retry_ms);
    dashboard_buf_free(&w->body);
    return ok;
}

static enum MHD_Result s_send_page(struct MHD_Connection *con, dashboard_web_t *w,
                                   const char *cookie)
{
    return s_send_page_retry(con, w, cookie, 0);
}

/* ------------------------------------------------------------------ sources */

/* The network source of CON for the failure throttle: the peer's address, or behind a TLS proxy
 * the address the proxy appended last to X-Forwarded-For (the one a client cannot forge). */
static void s_source(const dashboard_t *self, struct MHD_Connection *con, throttle_source_t *src)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    memset(src, 0, sizeof(*src));
    const char *xff = self->behind_proxy
                          ? MHD_lookup_connection_value(con, MHD_HEADER_KIND, "X-Forwarded-For")
                          : NULL;
    if (xff) {
        const char *last = strrchr(xff, ',');
        char a[64];
        last = last ? last + 1 : xff;
        last += strspn(last, " \t");
        snprintf(a, sizeof(a), "%.*s", (int)strcspn(last, " \t"), last);
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, a, &a4->sin_addr) == 1)
            a4->sin_family = AF_INET;
        else if (inet_pton(AF_INET6, a, &a6->sin6_addr) == 1)
            a6->sin6_family = AF_INET6;
        if (throttle_source_from((struct sockaddr *)&ss, src) == 0)
            return;
    }
    const union MHD_ConnectionInfo *i =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (i && i->client_addr)
        throttle_source_from(i->client_addr, src);
}

/* ------------------------------------------------------------------ held publishes */

static void s_held_unlink(dashboard_t *h, req_t *rq)
{
    for (req_t **p = &h->held; *p; p = &(*p)->next)
        if (*p == rq) {
            *p = rq->next;
            break;
        }
    rq->next = NULL;
    rq->held = 0;
}

/* The broker has answered (or the wait is over, or the daemon stops: ST NULL): complete the
 * API's reply and let the connection go on. */
static void s_held_answered(agency_t *agency, void *arg, const Tacnet__EventStatus *st)
{
    (void)agency;
    req_t *rq = arg;
    Tacnet__PublishReply *pr = rq->reply.published;
    if (st && pr) {
        pr->has_state = 1;
        pr->state = st->state;
        pr->has_seq = st->state == TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED;
        pr->seq = st->seq;
        if (st->state == TACNET__PUBLISH_STATE__PUBLISH_REFUSED) {
            rq->reply.code = st->code;
            free(rq->reply.reason);
            rq->reply.reason = xstrdup(st->reason ? st->reason : tacnet_strerror(st->code));
        }
    }
    rq->answered = 1;
    s_held_unlink(rq->h, rq);
    if (rq->suspended) {
        rq->suspended = 0;
        MHD_resume_connection(rq->con);
    }
}

/* Send what a held request has to say now that it is answered: the API's reply (201 accepted,
 * 422 refused, 202 still queued) or the browser's redirect. */
static enum MHD_Result s_held_send(struct MHD_Connection *con, req_t *rq)
{
    rq->answered = 0;
    if (!rq->api)
        return s_send(con, 303, "text/html; charset=utf-8", "", 0, NULL, rq->location);
    const Tacnet__PublishReply *pr = rq->reply.published;
    int status = rq->reply.code != 0 ? s_status_for(rq->reply.code)
                 : pr && pr->has_state && pr->state == TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED
                     ? 201
                     : 202;
    enum MHD_Result ok = s_send_reply(con, status, &rq->reply);
    agency_reply_free(&rq->reply);
    return ok;
}

/* Hold RQ until the broker settles MSG_ID or WAIT_MS pass: the connection is suspended, and
 * s_handler answers it once resumed. Answers at once when the outcome is known already, or
 * when too many are waiting (then as still queued). */
static enum MHD_Result s_hold(dashboard_t *h, struct MHD_Connection *con, req_t *rq,
                              const uint8_t msg_id[16], uint32_t wait_ms)
{
    rq->h = h;
    rq->con = con;
    rq->held = 1;
    rq->next = h->held;
    h->held = rq;
    if (agency_outcome_wait(h->agency, msg_id, wait_ms, s_held_answered, rq) != 0)
        s_held_answered(h->agency, rq, NULL);
    if (rq->answered)
        return s_held_send(con, rq);
    rq->suspended = 1;
    MHD_suspend_connection(con);
    return MHD_YES;
}

/* ?wait=S (whole seconds, 0 to MAX_S; absent: DEFAULT_MS). Returns 0 with *MS, or -1. */
static int s_wait_arg(const dashboard_kv_t *q, uint32_t default_ms, unsigned long max_s,
                      uint32_t *ms)
{
    const char *v = dashboard_kv_get(q, "wait");
    *ms = default_ms;
    if (!v)
        return 0;
    char *end;
    unsigned long secs = strtoul(v, &end, 10);
    if (!*v || *v == '-' || *end || secs > max_s)
        return -1;
    *ms = (uint32_t)secs * 1000;
    return 0;
}

/* ------------------------------------------------------------------ held follows */

/* A held follow's wait is over, or an event was applied: s_handler asks the view again. */
static void s_follow_ready(req_t *rq)
{
    rq->following = 0;
    rq->follow_ready = 1;
    if (rq->suspended) {
        rq->suspended = 0;
        MHD_resume_connection(rq->con);
    }
}

static void s_follow_unlink(dashboard_t *h, req_t *rq)
{
    for (req_t **p = &h->follows; *p; p = &(*p)->next)
        if (*p == rq) {
            *p = rq->next;
            h->n_follows--;
            break;
        }
    rq->next = NULL;
    rq->following = 0;
}

/* Release every held follow when the view has applied something (APPLIED), else those whose
 * deadline has come by NOW. */
static void s_follows_wake(dashboard_t *h, int applied, uint64_t now)
{
    req_t **p = &h->follows;
    while (*p) {
        req_t *rq = *p;
        if (applied || now >= rq->follow_deadline_ms) {
            *p = rq->next;
            rq->next = NULL;
            h->n_follows--;
            s_follow_ready(rq);
        } else {
            p = &rq->next;
        }
    }
}

/* Hold RQ (a GET events that found nothing after its cursor) until its deadline at the most:
 * the connection is suspended until s_follows_wake releases it. Returns 0, or -1 when too many
 * are held already (then it is answered at once, as without a wait). */
static int s_follow_hold(dashboard_t *h, struct MHD_Connection *con, req_t *rq)
{
    if (h->n_follows >= HTTP_FOLLOW_MAX_WAITS)
        return -1;
    rq->h = h;
    rq->con = con;
    rq->following = 1;
    rq->next = h->follows;
    h->follows = rq;
    h->n_follows++;
    rq->suspended = 1;
    MHD_suspend_connection(con);
    return 0;
}

/* ------------------------------------------------------------------ live streams */

static void s_sse_line(dashboard_buf_t *b, const Tacnet__TimelineEntry *e)
{
    json_t *j = json_object();
    char hex[33] = "";
    if (e->header->msg_id.len == 16)
        wire_msgid_hex(e->header->msg_id.data, 16, hex);
    json_object_set_new(j, "local_seq", json_integer((json_int_t)e->local_seq));
    json_object_set_new(j, "msg_id", json_string(hex));
    json_object_set_new(j, "kind", json_string(names_kind(e->header->kind)));
    json_object_set_new(j, "sender", json_string(names_agency(e->header->sender)));
    /* Granted on joining: shown in the case's history, not announced as new. */
    if (e->has_history && e->history)
        json_object_set_new(j, "history", json_true());
    json_object_set_new(
        j, "case_ref",
        json_stringn((const char *)e->header->case_ref.data, e->header->case_ref.len));
    char sentence[320];
    json_object_set_new(
        j, "summary",
        json_string(labels_event_sentence(e->header, e->body, sentence, sizeof(sentence))));
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    dashboard_buf_printf(b, "id: %llu\nevent: tacnet\ndata: %s\n\n",
                         (unsigned long long)e->local_seq, s);
    free(s);
}

/* Whether this agency is (still) a member of the case of E, as the events API decides
 * (dashboard_api_events): a case it has left stays in its view but is not streamed. REFS and
 * MEMBER remember the answers of this read's cases (N of them, room for CAP), so each is read
 * once. */
static int s_sse_member(agency_t *agency, const Tacnet__TimelineEntry *e, char refs[][48],
                        int *member, size_t *n, size_t cap)
{
    ProtobufCBinaryData ref = e->header->case_ref;
    if (ref.len >= 48)
        return 0;
    for (size_t i = 0; i < *n; i++)
        if (strlen(refs[i]) == ref.len && memcmp(refs[i], ref.data, ref.len) == 0)
            return member[i];
    int yes = dashboard_web_case_member(agency, ref);
    if (*n < cap) {
        memcpy(refs[*n], ref.data, ref.len);
        refs[*n][ref.len] = 0;
        member[(*n)++] = yes;
    }
    return yes;
}

static ssize_t s_sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sse_t *s = cls;
    agency_t *agency = s->h->agency;
    if (s->h->stopping)
        return MHD_CONTENT_READER_END_OF_STREAM;
    dashboard_buf_t b = { 0 };
    if (!s->started) {
        s->started = 1;
        dashboard_buf_puts(&b, "retry: 2000\n: live\n\n");
    }
    Tacnet__FollowReply fr = TACNET__FOLLOW_REPLY__INIT;
    uint32_t room = (uint32_t)(max / 256);
    if (room > 0 && agency_view_follow(agency, s->cursor, room < 32 ? room : 32, &fr) == 0) {
        char refs[32][48];
        int member[32];
        size_t n_refs = 0;
        for (size_t i = 0; i < fr.n_entries; i++) {
            const Tacnet__TimelineEntry *e = fr.entries[i];
            if (s->ref[0] && (e->header->case_ref.len != strlen(s->ref) ||
                              memcmp(e->header->case_ref.data, s->ref, strlen(s->ref)) != 0))
                continue;
            if (!s_sse_member(agency, e, refs, member, &n_refs, 32))
                continue;
            s_sse_line(&b, e);
        }
        if (fr.next_local_seq > s->cursor)
            s->cursor = fr.next_local_seq;
    }
    Tacnet__ApiReply wrap = TACNET__API_REPLY__INIT;
    wrap.result_case = TACNET__API_REPLY__RESULT_FOLLOW;
    wrap.follow = xcalloc(1, sizeof(*wrap.follow));
    *wrap.follow = fr;
    agency_reply_free(&wrap);
    uint64_t now = clock_mono_ms();
    if (b.len == 0 && now >= s->next_beat_ms)
        dashboard_buf_puts(&b, ": beat\n\n");
    if (b.len > max) /* 32 short lines never exceed MHD's block; stay safe anyway */
        b.len = 0;
    if (b.len == 0) {
        /* Nothing new: park the connection until the view moves on (s_poll_run). */
        s->suspended = 1;
        MHD_suspend_connection(s->con);
        dashboard_buf_free(&b);
        return 0;
    }
    s->next_beat_ms = now + HTTP_BEAT_MS;
    memcpy(buf, b.data, b.len);
    size_t n = b.len;
    dashboard_buf_free(&b);
    return (ssize_t)n;
}

static void s_sse_free(void *cls)
{
    sse_t *s = cls;
    for (sse_t **p = &s->h->streams; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            break;
        }
    }
    free(s);
}

static void s_resume_all(dashboard_t *h)
{
    for (sse_t *s = h->streams; s; s = s->next) {
        if (s->suspended) {
            s->suspended = 0;
            MHD_resume_connection(s->con);
        }
    }
}

static enum MHD_Result s_events(dashboard_t *h, struct MHD_Connection *con, const dashboard_kv_t *q,
                                const char *actor)
{
    sse_t *s = xcalloc(1, sizeof(*s));
    s->h = h;
    s->con = con;
    const char *ref = dashboard_kv_get(q, "case");
    if (ref && *ref) {
        Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
        int rc = dashboard_web_case_read(h->agency, actor, ref, &reply);
        agency_reply_free(&reply);
        if (rc != 0) {
            free(s);
            return s_send_error(con, rc, "this agency holds no case with that reference");
        }
        snprintf(s->ref, sizeof(s->ref), "%s", ref);
    }
    /* Resume after what the browser saw last, else after what the page showed, else from now:
     * opening a page replays no history. */
    const char *last = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Last-Event-ID");
    const char *after = last ? last : dashboard_kv_get(q, "after");
    if (after)
        s->cursor = strtoull(after, NULL, 10);
    else if (agency_view_head(h->agency, &s->cursor) != 0)
        s->cursor = 0;
    s->next_beat_ms = clock_mono_ms() + HTTP_BEAT_MS;
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, s_sse_read, s, s_sse_free);
    if (!r) {
        free(s);
        return MHD_NO;
    }
    s->next = h->streams;
    h->streams = s;
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ok = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ok;
}

/* ------------------------------------------------------------------ JSON API */

/* A list of the JSON API (api.c): its answer J (taken), with the status its code RC calls for. */
static enum MHD_Result s_send_list(struct MHD_Connection *con, int rc, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    enum MHD_Result ok =
        s_send(con, s_status_for(rc), "application/json", text, strlen(text), NULL, NULL);
    free(text);
    return ok;
}

static enum MHD_Result s_api_case(agency_t *agency, struct MHD_Connection *con, const char *actor,
                                  const char *ref)
{
    Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
    int rc = dashboard_web_case_read(agency, actor, ref, &reply);
    if (rc != 0) {
        agency_reply_free(&reply);
        return s_send_error(con, rc,
                            rc == TACNET_ENOTFOUND ? "this agency holds no case with that reference"
                                                   : tacnet_strerror(rc));
    }
    enum MHD_Result ok = s_send_reply(con, 200, &reply);
    agency_reply_free(&reply);
    return ok;
}

/* The case REF as a FHIR R4 Bundle (fhir.h): read, refused and audited as a case read is. */
static enum MHD_Result s_api_fhir(agency_t *agency, struct MHD_Connection *con, const char *actor,
                                  const char *ref)
{
    Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
    int rc = dashboard_web_case_read(agency, actor, ref, &reply);
    json_t *j = rc == 0 ? dashboard_fhir_bundle(reply.show_case) : NULL;
    agency_reply_free(&reply);
    if (!j)
        return s_send_error(con, rc ? rc : TACNET_ENOTFOUND,
                            rc == TACNET_ENOTFOUND || !rc
                                ? "this agency holds no case with that reference"
                                : tacnet_strerror(rc));
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    enum MHD_Result ok = s_send(con, 200, "application/fhir+json", text, strlen(text), NULL, NULL);
    free(text);
    return ok;
}

static enum MHD_Result s_api_publish(dashboard_t *h, struct MHD_Connection *con, const char *actor,
                                     const dashboard_kv_t *q, req_t *rq)
{
    uint32_t wait_ms;
    if (s_wait_arg(q, HTTP_WAIT_MS, 600, &wait_ms) != 0)
        return s_send_error(con, TACNET_EFIELD, "wait must be 0 to 600 seconds");
    /* The body is JSON, and says so (the OpenAPI document's only request type): curl's -d
     * without -H sends application/x-www-form-urlencoded. */
    const char *type = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Type");
    size_t tlen = type ? strcspn(type, "; ") : 0;
    if (!type || tlen != 16 || strncasecmp(type, "application/json", 16) != 0) {
        Tacnet__ApiReply bad = TACNET__API_REPLY__INIT;
        bad.code = TACNET_EFIELD;
        char reason[160];
        snprintf(reason, sizeof(reason),
                 "Content-Type must be application/json, not %.60s; nothing was done",
                 type ? type : "(none)");
        bad.reason = reason;
        return s_send_reply(con, 415, &bad);
    }
    json_error_t jerr;
    json_t *j = json_loadb(rq->body.data ? rq->body.data : "", rq->body.len, 0, &jerr);
    char why[256] = "";
    if (!j) {
        snprintf(why, sizeof(why), "the body is not JSON: %s at line %d, column %d", jerr.text,
                 jerr.line, jerr.column);
        return s_send_error(con, TACNET_EBADMSG, why);
    }
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_to_message(
        &tacnet__publish_request__descriptor, j, why, sizeof(why));
    json_decref(j);
    if (!req)
        return s_send_error(con, TACNET_EFIELD, why);
    Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
    int rc = agency_publish(h->agency, req, &reply);
    reply.code = rc;
    char object[40] = "";
    if (rc == 0)
        wire_msgid_hex(reply.published->msg_id.data, 16, object);
    else
        snprintf(object, sizeof(object), "%.*s", (int)req->case_ref.len,
                 (const char *)req->case_ref.data);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    dashboard_web_audit(h->agency, actor, "publish", object, rc);
    if (rc == 0 && wait_ms) {
        /* The reply is the held request's now, answered with the broker's outcome. */
        rq->api = 1;
        rq->reply = reply;
        uint8_t msg_id[16];
        memcpy(msg_id, reply.published->msg_id.data, 16);
        return s_hold(h, con, rq, msg_id, wait_ms);
    }
    enum MHD_Result ok = s_send_reply(con, rc == 0 ? 202 : s_status_for(rc), &reply);
    agency_reply_free(&reply);
    return ok;
}

/* The outbox and the outcome of one of this agency's events: GET outbox, GET events/ID (its
 * status), GET outbox/ID/draft (a refused event as the request that sends it again), POST
 * outbox/ID/withdraw. ID is a msg_id or a unique prefix of its hex. Returns MHD_NO when PATH
 * is none of these (the caller answers 404). */
static enum MHD_Result s_api_outcome(agency_t *agency, struct MHD_Connection *con,
                                     const char *actor, int get, const char *path, int *handled)
{
    char id[33] = "";
    const char *slash = strchr(path, '/');
    const char *rest = slash ? strchr(slash + 1, '/') : NULL;
    size_t idlen = slash ? (rest ? (size_t)(rest - slash - 1) : strlen(slash + 1)) : 0;
    if (idlen && idlen < sizeof(id))
        snprintf(id, sizeof(id), "%.*s", (int)idlen, slash + 1);
    Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
    const char *action = NULL;
    *handled = 1;
    if (get && strcmp(path, "outbox") == 0) {
        Tacnet__OutboxRequest req = TACNET__OUTBOX_REQUEST__INIT;
        agency_outcome_outbox_request(agency, &req, &reply);
        action = "outbox.read";
    } else if (get && strncmp(path, "events/", 7) == 0 && id[0] && !rest) {
        Tacnet__StatusRequest req = TACNET__STATUS_REQUEST__INIT;
        req.msg_id = id;
        agency_outcome_status_request(agency, &req, &reply);
        action = "status.read";
    } else if (get && strncmp(path, "outbox/", 7) == 0 && id[0] && rest &&
               strcmp(rest, "/draft") == 0) {
        Tacnet__DraftRequest req = TACNET__DRAFT_REQUEST__INIT;
        req.msg_id = id;
        agency_outcome_draft_request(agency, &req, &reply);
        action = "publish.draft";
    } else if (!get && strncmp(path, "outbox/", 7) == 0 && id[0] && rest &&
               strcmp(rest, "/withdraw") == 0) {
        Tacnet__WithdrawRequest req = TACNET__WITHDRAW_REQUEST__INIT;
        req.msg_id = id;
        agency_outcome_withdraw_request(agency, &req, &reply);
        action = "publish.withdraw";
    } else {
        *handled = 0;
        return MHD_NO;
    }
    dashboard_web_audit(agency, actor, action, id, reply.code);
    enum MHD_Result ok = s_send_reply(con, s_status_for(reply.code), &reply);
    agency_reply_free(&reply);
    return ok;
}

/* GET events (?after, ?limit, ?wait=S): the page after the cursor; with a wait, a request that
 * finds nothing is held until an event is applied or S seconds pass, then answered with what is
 * there (an empty page and the same cursor at the deadline). Released by an apply that added
 * nothing to the view's events (a delivery report), it is held again for the rest of its wait;
 * an event of a case this agency is not a member of answers it, empty, with the cursor past it
 * (dashboard_api_events). */
static enum MHD_Result s_api_events(dashboard_t *h, struct MHD_Connection *con, const char *actor,
                                    const dashboard_kv_t *q, req_t *rq)
{
    uint64_t now = clock_mono_ms();
    if (!rq->follow_ready) {
        uint32_t wait_ms;
        if (s_wait_arg(q, 0, HTTP_FOLLOW_MAX_WAIT_S, &wait_ms) != 0)
            return s_send_error(con, TACNET_EFIELD, "wait must be 0 to 60 seconds");
        rq->follow_deadline_ms = now + wait_ms;
    }
    rq->follow_ready = 0;
    int may_wait = rq->follow_deadline_ms > now && !h->stopping, empty = 0;
    json_t *j = NULL;
    int rc = dashboard_api_events(h->agency, actor, q, &j, may_wait ? &empty : NULL);
    if (rc == 0 && empty) {
        if (s_follow_hold(h, con, rq) == 0)
            return MHD_YES;
        rc = dashboard_api_events(h->agency, actor, q, &j, NULL);
    }
    return s_send_list(con, rc, j);
}

static enum MHD_Result s_api(dashboard_t *h, struct MHD_Connection *con, const char *method,
                             const char *path, const dashboard_kv_t *q, req_t *rq)
{
    agency_t *agency = h->agency;
    if (strcmp(method, "GET") == 0 && strcmp(path, "openapi.json") == 0) {
        json_t *j = dashboard_openapi(); /* public: no token */
        char *doc = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(j);
        enum MHD_Result ok = s_send(con, 200, "application/json", doc, strlen(doc), NULL, NULL);
        free(doc);
        return ok;
    }
    const char *auth = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Authorization");
    char system[AGENCY_SYSTEM_CHARS], actor[48];
    throttle_source_t src;
    uint64_t retry = 0;
    s_source(h, con, &src);
    /* A bad token costs nothing durable: counted in memory, summarised (agency/auth.h). */
    int arc = agency_auth_token(
        agency, &src, auth && strncmp(auth, "Bearer ", 7) == 0 ? auth + 7 : "", system, &retry);
    if (arc == TACNET_ELOCKED)
        return s_send_error_retry(
            con, arc, "too many failed log-ins or tokens from this address: try later", retry);
    if (arc != 0)
        return s_send_error(con, TACNET_EAUTH, "a valid API token is needed (Bearer)");
    snprintf(actor, sizeof(actor), "api/%s", system);
    int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (get && strcmp(path, "cases") == 0) {
        json_t *j = NULL;
        int rc = dashboard_api_cases(agency, h->index, actor, q, &j);
        return s_send_list(con, rc, j);
    }
    if (get && strncmp(path, "cases/", 6) == 0 && path[6])
        return s_api_case(agency, con, actor, path + 6);
    if (get && strncmp(path, "fhir/Bundle/", 12) == 0 && path[12])
        return s_api_fhir(agency, con, actor, path + 12);
    if (get && strcmp(path, "events") == 0)
        return s_api_events(h, con, actor, q, rq);
    if (post && strcmp(path, "events") == 0)
        return s_api_publish(h, con, actor, q, rq);
    int handled = 0;
    enum MHD_Result ok =
        (get || post) ? s_api_outcome(agency, con, actor, get, path, &handled) : MHD_NO;
    if (handled)
        return ok;
    return s_send_error(con, TACNET_ENOTFOUND, "no such API resource");
}

/* ------------------------------------------------------------------ dashboard */

static enum MHD_Result s_get_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    dashboard_kv_add(cls, key, value ? value : "");
    return MHD_YES;
}

/* Cookies are per host, not per port: naming them by agency keeps two dashboards on one host
 * (make run) from logging each other out. */
static const char *s_cookie_name(const dashboard_t *self, const char *what)
{
    static char name[64];
    snprintf(name, sizeof(name), "tn_%s_%s", what, self->profile->name);
    return name;
}

static void s_cookie(const dashboard_t *self, char *out, size_t cap, const char *name,
                     const char *value, const char *path, long max_age)
{
    snprintf(out, cap, "%s=%s; Path=%s; Max-Age=%ld; HttpOnly; SameSite=Strict%s", name, value,
             path, max_age, dashboard_guard_secure(self->guard) ? "; Secure" : "");
}

/* The log-in form, with a fresh CSRF token this daemon made (guard.h) in the form and in a
 * short-lived cookie (double submit). */
static enum MHD_Result s_login_form(dashboard_t *self, struct MHD_Connection *con,
                                    const dashboard_kv_t *q)
{
    dashboard_web_t w = { .agency = self->agency };
    char cookie[256], token[AGENCY_SECRET_HEX];
    dashboard_guard_login_token(self->guard, clock_mono_ms(), token);
    s_cookie(self, cookie, sizeof(cookie), s_cookie_name(self, "login"), token, "/login",
             (long)(DASHBOARD_LOGIN_TOKEN_MS / 1000));
    dashboard_web_login(&w, token, 0, dashboard_kv_get(q, "next"), dashboard_kv_get(q, "why"));
    enum MHD_Result ok = s_send_page(con, &w, cookie);
    sodium_memzero(token, sizeof(token));
    sodium_memzero(cookie, sizeof(cookie));
    return ok;
}

/* The log-in page W says, under its heading, that log-ins are refused for everyone for RETRY_MS
 * (agency/auth.h: password checks over their budget). */
static void s_login_busy(dashboard_web_t *w, uint64_t retry_ms)
{
    const char *h1 = w->body.data ? strstr(w->body.data, "</h1>") : NULL;
    if (!h1)
        return;
    size_t at = (size_t)(h1 + 5 - w->body.data);
    unsigned long long secs = (retry_ms + 999) / 1000;
    dashboard_buf_t b = { 0 };
    dashboard_buf_add(&b, w->body.data, at);
    dashboard_buf_printf(&b,
                         "<div class=\"refusal\" role=\"alert\"><p>Too many log-in attempts on "
                         "this service right now; try again in %llu second%s. Your password was "
                         "not checked.</p></div>",
                         secs, secs == 1 ? "" : "s");
    dashboard_buf_add(&b, w->body.data + at, w->body.len - at);
    dashboard_buf_free(&w->body);
    w->body = b;
}

/* A posted log-in: the form's CSRF token against its cookie and this daemon's MAC, then the
 * credentials, throttled per source (agency/auth.h). FORM holds the password; the caller wipes
 * it. */
static enum MHD_Result s_login_post(dashboard_t *self, struct MHD_Connection *con,
                                    const dashboard_kv_t *form)
{
    dashboard_web_t w = { .agency = self->agency, .form = form };
    const char *c = MHD_lookup_connection_value(con, MHD_COOKIE_KIND, s_cookie_name(self, "login"));
    const char *t = dashboard_kv_get(form, "csrf");
    if (!c || !t || strlen(c) != 64 || strlen(t) != 64 || sodium_memcmp(c, t, 64) != 0 ||
        dashboard_guard_login_check(self->guard, t, clock_mono_ms()) != 0) {
        dashboard_web_error(&w, 403, TACNET_ECSRF, "the log-in form expired; open it again");
        return s_send_page(con, &w, NULL);
    }
    agency_session_t s;
    char sid[AGENCY_SECRET_HEX] = "", cookie[256] = "";
    const char *initials = dashboard_kv_get(form, "initials");
    throttle_source_t src;
    uint64_t retry = 0;
    s_source(self, con, &src);
    int rc = agency_auth_login(self->agency, &src, initials ? initials : "",
                               dashboard_kv_get(form, "password"), sid, &s, &retry);
    enum MHD_Result ok;
    if (rc == 0) {
        s_cookie(self, cookie, sizeof(cookie), s_cookie_name(self, "session"), sid, "/",
                 (long)(AGENCY_SESSION_MS / 1000));
        /* Back where the user was when their session ended (a local page only). */
        const char *next = dashboard_kv_get(form, "next");
        w.status = 303;
        snprintf(w.location, sizeof(w.location), "%s", dashboard_web_next_ok(next) ? next : "/");
        ok = s_send_page(con, &w, cookie);
    } else {
        /* A fresh token: the one posted may be near its end. */
        char token[AGENCY_SECRET_HEX];
        dashboard_guard_login_token(self->guard, clock_mono_ms(), token);
        s_cookie(self, cookie, sizeof(cookie), s_cookie_name(self, "login"), token, "/login",
                 (long)(DASHBOARD_LOGIN_TOKEN_MS / 1000));
        int busy = rc == TACNET_EAGAIN;
        dashboard_web_login(&w, token, busy ? 0 : rc, dashboard_kv_get(form, "next"), NULL);
        if (busy)
            s_login_busy(&w, retry);
        w.status = rc == TACNET_ELOCKED || busy ? 429 : 401;
        ok = s_send_page_retry(con, &w, cookie, rc == TACNET_ELOCKED || busy ? retry : 0);
        sodium_memzero(token, sizeof(token));
    }
    sodium_memzero(sid, sizeof(sid));
    sodium_memzero(&s, sizeof(s));
    sodium_memzero(cookie, sizeof(cookie));
    return ok;
}

/* A page of a logged-in user S (session id SID), the CSRF token of a POST already checked. */
static enum MHD_Result s_route(dashboard_t *self, struct MHD_Connection *con, req_t *rq,
                               const char *url, const dashboard_kv_t *q, const dashboard_kv_t *form,
                               const agency_session_t *s, const char *sid)
{
    dashboard_web_t w = {
        .agency = self->agency, .index = self->index, .user = s, .query = q, .form = form
    };
    int post = form != NULL;
    char cookie[256];
    const char *set_cookie = NULL;
    if (strcmp(url, "/") == 0 && !post) {
        dashboard_web_cases(&w);
    } else if (strcmp(url, "/inbox") == 0 && !post) {
        dashboard_web_inbox(&w);
    } else if (strcmp(url, "/outbox") == 0 && !post) {
        dashboard_web_outbox(&w);
    } else if (strncmp(url, "/outbox/", 8) == 0 && strlen(url) > 40 && url[40] == '/') {
        char hex[33];
        snprintf(hex, sizeof(hex), "%.32s", url + 8);
        if (strcmp(url + 40, "/correct") == 0)
            dashboard_web_correct(&w, hex);
        else if (strcmp(url + 40, "/withdraw") == 0 && post)
            dashboard_web_withdraw(&w, hex);
        else
            dashboard_web_error(&w, 404, TACNET_ENOTFOUND, "no such page");
    } else if (strcmp(url, "/events") == 0 && !post) {
        char actor[48];
        dashboard_web_actor(s, actor, sizeof(actor));
        return s_events(self, con, q, actor);
    } else if (strcmp(url, "/logout") == 0 && post) {
        agency_session_end(self->agency, sid);
        s_cookie(self, cookie, sizeof(cookie), s_cookie_name(self, "session"), "", "/", 0);
        set_cookie = cookie;
        w.status = 303;
        snprintf(w.location, sizeof(w.location), "/login");
    } else if (strncmp(url, "/cases/", 7) == 0) {
        char ref[40];
        const char *rest = url + 7, *slash = strchr(rest, '/');
        size_t rl = slash ? (size_t)(slash - rest) : strlen(rest);
        snprintf(ref, sizeof(ref), "%.*s", (int)(rl < sizeof(ref) ? rl : 0), rest);
        if (!slash && !post)
            dashboard_web_case(&w, ref);
        else if (slash && strncmp(slash, "/forms/", 7) == 0)
            dashboard_web_form(&w, ref, slash + 7);
        else if (slash && strcmp(slash, "/identity") == 0 && post)
            dashboard_web_identity_post(&w, ref);
        else if (slash && strcmp(slash, "/family-summary") == 0 && !post)
            dashboard_web_family_summary(&w, ref);
        else
            dashboard_web_error(&w, 404, TACNET_ENOTFOUND, "no such page");
    } else {
        dashboard_web_error(&w, 404, TACNET_ENOTFOUND, "no such page");
    }
    if (w.hold && w.status == 303) {
        dashboard_buf_free(&w.body);
        snprintf(rq->location, sizeof(rq->location), "%s", w.location);
        return s_hold(self, con, rq, w.hold_msg_id, HTTP_WAIT_MS);
    }
    return s_send_page(con, &w, set_cookie);
}

/* Every page but the log-in form needs a live session, and every POST its CSRF token. FORM is
 * NULL for a GET. */
static enum MHD_Result s_session_page(dashboard_t *self, struct MHD_Connection *con, req_t *rq,
                                      const char *url, const dashboard_kv_t *q,
                                      const dashboard_kv_t *form)
{
    agency_session_t s;
    const char *sid =
        MHD_lookup_connection_value(con, MHD_COOKIE_KIND, s_cookie_name(self, "session"));
    if (!sid || agency_session_get(self->agency, sid, &s) != 0) {
        sodium_memzero(&s, sizeof(s));
        if (strcmp(url, "/events") == 0)
            return s_send_error(con, TACNET_EAUTH, "log in first");
        /* To the log-in page, which says why when a session ended (a cookie that is no longer
         * a session) and comes back here once logged in; a form sent then was not sent. */
        dashboard_web_t w = { .agency = self->agency, .status = 303 };
        const char *why = form ? "sent" : sid ? "expired" : NULL;
        char next[200] = "";
        if (dashboard_web_next_ok(url) && (!form || strstr(url, "/forms/")))
            snprintf(next, sizeof(next), "%s", url); /* a form opens again to be sent */
        else if (form && strncmp(url, "/cases/", 7) == 0 && strstr(url + 7, "/identity"))
            snprintf(next, sizeof(next), "%.*s", (int)(strstr(url + 7, "/identity") - url), url);
        int back = dashboard_web_next_ok(next);
        snprintf(w.location, sizeof(w.location), "/login%s%s%s%s", back ? "?next=" : "",
                 back ? next : "", why ? (back ? "&why=" : "?why=") : "", why ? why : "");
        return s_send_page(con, &w, NULL);
    }
    enum MHD_Result ok;
    const char *t = form ? dashboard_kv_get(form, "csrf") : NULL;
    if (form && (!t || strlen(t) != 64 || sodium_memcmp(t, s.csrf, 64) != 0)) {
        dashboard_web_t w = { .agency = self->agency, .user = &s, .query = q, .form = form };
        char actor[48];
        dashboard_web_actor(&s, actor, sizeof(actor));
        dashboard_web_audit(self->agency, actor, "form.csrf", url, TACNET_ECSRF);
        dashboard_web_error(&w, 403, TACNET_ECSRF,
                            "this form's security token is missing or not this session's; "
                            "nothing was sent. Reload the page and try again.");
        ok = s_send_page(con, &w, NULL);
    } else {
        ok = s_route(self, con, rq, url, q, form, &s, sid);
    }
    sodium_memzero(&s, sizeof(s));
    return ok;
}

static enum MHD_Result s_dashboard(dashboard_t *self, struct MHD_Connection *con,
                                   const char *method, const char *url, const dashboard_kv_t *q,
                                   req_t *rq)
{
    int post = strcmp(method, "POST") == 0;
    if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return s_send(con, 405, "text/plain", "method not allowed\n", 19, NULL, NULL);
    dashboard_kv_t form = { 0 };
    enum MHD_Result ok;
    if (post && (rq->too_big ||
                 dashboard_kv_parse(&form, rq->body.data ? rq->body.data : "", rq->body.len) != 0))
        ok = s_send(con, 413, "text/plain", "form too large or malformed\n", 28, NULL, NULL);
    else if (strcmp(url, "/login") == 0)
        ok = post ? s_login_post(self, con, &form) : s_login_form(self, con, q);
    else
        ok = s_session_page(self, con, rq, url, q, post ? &form : NULL);
    dashboard_kv_clear(&form); /* wipes the fields: a log-in form holds a password */
    return ok;
}

/* ------------------------------------------------------------------ MHD glue */

static enum MHD_Result s_asset(struct MHD_Connection *con, const char *data, size_t len,
                               const char *type)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Cache-Control", "max-age=300");
    enum MHD_Result ok = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ok;
}

/* Before anything is read of a request: a Host in the allowlist (421 otherwise, against DNS
 * rebinding) and, for a POST, an Origin of this dashboard (403). Returns 0 to go on, else the
 * refusal is queued (its body, if any, is never read) and *OK says how that went. */
static int s_gate(dashboard_t *self, struct MHD_Connection *con, const char *url,
                  const char *method, enum MHD_Result *ok)
{
    const char *host = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Host");
    int api = strncmp(url, "/api/", 5) == 0; /* every /api/ path answers JSON */
    char why[256], text[300];
    int status = 0;
    if (dashboard_guard_host(self->guard, host) != 0) {
        snprintf(why, sizeof(why),
                 "this dashboard does not answer for host %.80s (see [http] hosts)",
                 host ? host : "(none)");
        status = 421;
    } else if (strcmp(method, "POST") != 0) {
        return 0;
    } else {
        const char *origin = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Origin");
        const char *site = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Sec-Fetch-Site");
        if (dashboard_guard_origin(self->guard, origin, host, site, why, sizeof(why)) == 0)
            return 0;
        status = 403;
    }
    snprintf(text, sizeof(text), "%s: refused, nothing was done", why);
    if (api) {
        Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
        reply.code = TACNET_EFORBIDDEN;
        reply.reason = text;
        *ok = s_send_reply(con, status, &reply);
    } else {
        char plain[320];
        snprintf(plain, sizeof(plain), "E_FORBIDDEN: %s\n", text);
        *ok = s_send(con, status, "text/plain; charset=utf-8", plain, strlen(plain), NULL, NULL);
    }
    return -1;
}

static enum MHD_Result s_handler(void *cls, struct MHD_Connection *con, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    (void)version;
    dashboard_t *self = cls;
    req_t *rq = *con_cls;
    if (!rq) {
        enum MHD_Result refused;
        dashboard_conns_headers(con);
        *con_cls = xcalloc(1, sizeof(req_t));
        if (s_gate(self, con, url, method, &refused) != 0) {
            ((req_t *)*con_cls)->refused = 1;
            dashboard_conns_answering(con);
            return refused;
        }
        return MHD_YES;
    }
    if (rq->answered) /* a held publish, resumed */
        return s_held_send(con, rq);
    if (rq->refused) { /* answered at the gate: what still comes is dropped unread */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        dashboard_conns_received(con, *upload_size);
        if (rq->body.len + *upload_size > HTTP_MAX_BODY)
            rq->too_big = 1;
        else
            dashboard_buf_add(&rq->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    dashboard_conns_answering(con); /* the request is whole: no read deadline now */
    const char *data, *type;
    size_t len;
    if (strcmp(method, "GET") == 0 && dashboard_web_asset(url, &data, &len, &type) == 0)
        return s_asset(con, data, len, type);
    dashboard_kv_t q = { 0 };
    MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, s_get_arg, &q);
    enum MHD_Result ok;
    if (strncmp(url, "/api/", 5) == 0) { /* JSON answers, 401 included, on every /api/ path */
        if (rq->too_big)
            ok = s_send_error(con, TACNET_ETOOBIG, "request body larger than 256 KiB");
        else
            ok = s_api(self, con, method, strncmp(url, "/api/v1/", 8) == 0 ? url + 8 : "", &q, rq);
    } else {
        ok = s_dashboard(self, con, method, url, &q, rq);
    }
    dashboard_kv_clear(&q);
    return ok;
}

static void s_completed(void *cls, struct MHD_Connection *con, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)toe;
    req_t *rq = *con_cls;
    dashboard_conns_reading(con); /* a kept-alive connection reads its next request */
    if (rq) {
        if (rq->held) {
            agency_outcome_cancel(rq->h->agency, rq);
            s_held_unlink(rq->h, rq);
        }
        if (rq->following)
            s_follow_unlink(rq->h, rq);
        agency_reply_free(&rq->reply);
        dashboard_buf_free(&rq->body); /* wiped: it may hold a password */
        free(rq);
        *con_cls = NULL;
    }
}

/* ------------------------------------------------------------------ lifecycle, poll source */

/* libmicrohttpd on SA: bounded connections, per source too (unless behind a proxy), idle ones
 * closed, each tracked for its read deadline (conns.h), and TLS when the guard has a key. */
static struct MHD_Daemon *s_start(dashboard_t *self, unsigned flags, const struct sockaddr *sa)
{
    const char *cert = dashboard_guard_cert(self->guard), *key = dashboard_guard_key(self->guard);
    unsigned per_source = self->behind_proxy ? 0 : HTTP_PER_SOURCE;
    struct MHD_OptionItem tls[] = {
        { cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, (void *)cert },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)key },
        { MHD_OPTION_END, 0, NULL },
    };
    return MHD_start_daemon(
        flags | (cert ? MHD_USE_TLS : 0), 0, NULL, NULL, s_handler, self, MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        per_source, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_S,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL, MHD_OPTION_NOTIFY_CONNECTION,
        dashboard_conns_notify, self->conns, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
}

dashboard_t *dashboard_new(agency_t *agency, const dashboard_config_t *cfg, int *err, char *why,
                           size_t whylen)
{
    if (!cfg->port) {
        snprintf(why, whylen, "[http] port = 0: no dashboard to serve");
        *err = TACNET_ECONFIG;
        return NULL;
    }
    /* An IPv4 or an IPv6 address; TLS here or in a proxy in front beyond loopback (guard.h). */
    const char *listen = cfg->listen ? cfg->listen : "";
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sa4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sa6 = (struct sockaddr_in6 *)&ss;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    if (inet_pton(AF_INET, listen, &sa4->sin_addr) == 1) {
        sa4->sin_family = AF_INET;
        sa4->sin_port = htons((uint16_t)cfg->port);
    } else if (inet_pton(AF_INET6, listen, &sa6->sin6_addr) == 1) {
        sa6->sin6_family = AF_INET6;
        sa6->sin6_port = htons((uint16_t)cfg->port);
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(why, whylen, "[http] listen = %s is not an IPv4 or IPv6 address", listen);
        *err = TACNET_ECONFIG;
        return NULL;
    }
    if ((*err = zone_set(cfg->time_zone, why, whylen)) != 0)
        return NULL;
    dashboard_guard_t *guard = dashboard_guard_new(cfg, err, why, whylen);
    if (!guard)
        return NULL;
    dashboard_t *self = xcalloc(1, sizeof(*self));
    self->agency = agency;
    self->profile = agency_profile(agency);
    self->guard = guard;
    self->behind_proxy = cfg->behind_tls_proxy != 0;
    self->conns =
        dashboard_conns_new(HTTP_HEADERS_DEADLINE_MS, HTTP_READ_DEADLINE_MS, HTTP_ROOM_MARK);
    self->d = s_start(self, flags, (struct sockaddr *)&ss);
    const union MHD_DaemonInfo *info =
        self->d ? MHD_get_daemon_info(self->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (!info) {
        if (self->d)
            MHD_stop_daemon(self->d);
        dashboard_conns_destroy(&self->conns);
        dashboard_guard_destroy(&self->guard);
        free(self);
        snprintf(why, whylen, "cannot serve HTTP%s on %s:%u (port in use?%s)",
                 cfg->cert && *cfg->cert ? "S" : "", listen, cfg->port,
                 cfg->cert && *cfg->cert ? " or the certificate and key do not match" : "");
        *err = TACNET_EIO;
        return NULL;
    }
    self->fd = info->epoll_fd;
    self->index = dashboard_index_new();
    self->seen_applied = agency_last_applied(agency);
    const char *scheme = dashboard_guard_cert(guard) ? "https" : "http";
    log_info(sa6->sin6_family == AF_INET6 ? "dashboard on %s://[%s]:%u/"
                                          : "dashboard on %s://%s:%u/",
             scheme, listen, cfg->port);
    return self;
}

void dashboard_destroy(dashboard_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dashboard_t *self = *self_p;
    /* Suspended connections must be resumed before the daemon stops; the streams then end. */
    self->stopping = 1;
    s_resume_all(self);
    s_follows_wake(self, 1, 0); /* answered with what the view holds, as at their deadline */
    while (self->held) {        /* answered as still queued: the event stays in the outbox */
        req_t *rq = self->held;
        agency_outcome_cancel(self->agency, rq);
        s_held_answered(self->agency, rq, NULL);
    }
    MHD_run(self->d);
    MHD_stop_daemon(self->d);
    dashboard_conns_destroy(&self->conns);
    dashboard_guard_destroy(&self->guard);
    agency_auth_sweep(self->agency); /* what is due is written; the rest is a restart's to lose */
    dashboard_index_destroy(&self->index);
    free(self);
    *self_p = NULL;
}

static long s_poll_timeout(void *arg, long max_ms)
{
    dashboard_t *self = arg;
    MHD_UNSIGNED_LONG_LONG t;
    if (max_ms > HTTP_SWEEP_MS) /* the sweep's turn comes at least that often */
        max_ms = HTTP_SWEEP_MS;
    if (MHD_get_timeout(self->d, &t) == MHD_YES && t < (unsigned long)max_ms)
        max_ms = (long)t;
    uint64_t now = clock_mono_ms();
    for (const req_t *rq = self->follows; rq; rq = rq->next) {
        uint64_t left = rq->follow_deadline_ms > now ? rq->follow_deadline_ms - now : 0;
        if (left < (uint64_t)max_ms)
            max_ms = (long)left;
    }
    return max_ms;
}

/* Serve whatever is ready; resume the live streams when the view has moved on. */
static void s_poll_run(void *arg)
{
    dashboard_t *self = arg;
    uint64_t now = clock_mono_ms();
    uint64_t applied = agency_last_applied(self->agency);
    int moved = applied != self->seen_applied;
    if (moved || now >= self->next_beat_ms) {
        self->seen_applied = applied;
        if (now >= self->next_beat_ms)
            self->next_beat_ms = now + HTTP_BEAT_MS;
        s_resume_all(self);
    }
    if (self->follows)
        s_follows_wake(self, moved, now);
    if (now >= self->next_sweep_ms) {
        self->next_sweep_ms = now + HTTP_SWEEP_MS;
        dashboard_conns_sweep(self->conns, now);
        int rc = agency_auth_sweep(self->agency);
        if (rc != 0)
            log_warn("failed log-in summaries not recorded: %s", tacnet_errname(rc));
        /* A slice of the cases My cases' filters know nothing of yet (case_index.h). */
        dashboard_index_settle(self->index, self->agency, HTTP_SETTLE_MS);
    }
    MHD_run(self->d);
}

agency_poll_source_t dashboard_poll_source(dashboard_t *self)
{
    return (agency_poll_source_t){ self->fd, s_poll_timeout, s_poll_run, self };
}
