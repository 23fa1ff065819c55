/* api: the local API: one ApiRequest from the ipc socket, dispatched to its handler (the publish
 * path is publish.c), and its ApiReply sent back and freed. */
#include "internal.h"
#include "agency/import.h"
#include "agency/outcome.h"
#include "agency/sweep.h"
#include "agency/vault.h"
#include "clock.h"
#include "err.h"
#include "wire.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* The largest request read. Above the broker's cap on a sealed event (WIRE_MAX_SEALED), so a
 * publish whose event is just over that cap is read and refused by name when it is sealed
 * ("shorten its free text"), not as an unreadable request. */
#define API_MAX_REQUEST (WIRE_MAX_SEALED + 16 * 1024)
/* The longest a caller may ask a publish to wait for the broker's answer. */
#define API_MAX_WAIT_MS 600000u

/* ------------------------------------------------------------------ dispatch */

static void s_dispatch(agency_t *self, Tacnet__ApiRequest *req, Tacnet__ApiReply *reply)
{
    int rc = 0;
    switch (req->op_case) {
    case TACNET__API_REQUEST__OP_PUBLISH:
        agency_publish(self, req->publish, reply);
        return;
    case TACNET__API_REQUEST__OP_IMPORT:
        agency_import_start(self, req->import, reply);
        return;
    case TACNET__API_REQUEST__OP_IMPORT_STATUS:
        agency_import_status_request(self, req->import_status, reply);
        return;
    case TACNET__API_REQUEST__OP_LIST_CASES:
        reply->cases = xcalloc(1, sizeof(*reply->cases));
        tacnet__list_cases_reply__init(reply->cases);
        reply->result_case = TACNET__API_REPLY__RESULT_CASES;
        /* As My cases lists them: a case the agency has left is not one of its cases. */
        rc = agency_view_list(self, reply->cases, AGENCY_VIEW_COUNTS | AGENCY_VIEW_MEMBER);
        break;
    case TACNET__API_REQUEST__OP_SHOW_CASE:
        reply->show_case = xcalloc(1, sizeof(*reply->show_case));
        tacnet__show_case_reply__init(reply->show_case);
        reply->result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
        rc = agency_view_show(self, req->show_case->case_ref.data, req->show_case->case_ref.len,
                              reply->show_case);
        if (rc != 0) {
            /* No partial result: ShowCaseReply.summary is required, so a reply carrying an
             * empty show_case cannot be parsed and the client would wait until it times out. */
            Tacnet__ApiReply partial = TACNET__API_REPLY__INIT;
            partial.result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
            partial.show_case = reply->show_case;
            agency_reply_free(&partial);
            reply->show_case = NULL;
            reply->result_case = TACNET__API_REPLY__RESULT__NOT_SET;
        }
        if (rc == TACNET_ENOTFOUND) {
            agency_reply_error(reply, rc, "this agency holds no case with that reference");
            return;
        }
        break;
    case TACNET__API_REQUEST__OP_WHOAMI: /* the answer is the reply's agency (s_send) */
        break;
    case TACNET__API_REQUEST__OP_REGISTER_IDENTITY: {
        Tacnet__RegisterIdentityRequest *ri = req->register_identity;
        if ((rc = policy_case_ref_check(ri->case_ref.data, ri->case_ref.len)) == 0)
            rc = agency_identity_add(self, ri->case_ref.data, ri->case_ref.len, ri->names,
                                     ri->n_names);
        if (rc == TACNET_EFIELD) {
            agency_reply_error(reply, rc,
                               "a name's relationship is not child, mother, father, carer, "
                               "grandparent, sibling or other; nothing was registered");
            return;
        }
        break;
    }
    case TACNET__API_REQUEST__OP_FOLLOW:
        reply->follow = xcalloc(1, sizeof(*reply->follow));
        tacnet__follow_reply__init(reply->follow);
        reply->result_case = TACNET__API_REPLY__RESULT_FOLLOW;
        rc = agency_view_follow(self, req->follow->after_local_seq,
                                req->follow->has_max ? req->follow->max : 0, reply->follow);
        break;
    case TACNET__API_REQUEST__OP_ADD_USER:
    case TACNET__API_REQUEST__OP_ADD_TOKEN:
    case TACNET__API_REQUEST__OP_LIST_TOKENS:
    case TACNET__API_REQUEST__OP_REVOKE_TOKEN:
    case TACNET__API_REQUEST__OP_LIST_USERS:
    case TACNET__API_REQUEST__OP_REMOVE_USER:
    case TACNET__API_REQUEST__OP_UNLOCK_USER:
        agency_accounts_request(self, req, reply);
        return;
    case TACNET__API_REQUEST__OP_HOLD:
        agency_hold_handle(self, req->hold, reply);
        return;
    case TACNET__API_REQUEST__OP_STATUS:
        agency_outcome_status_request(self, req->status, reply);
        return;
    case TACNET__API_REQUEST__OP_OUTBOX:
        agency_outcome_outbox_request(self, req->outbox, reply);
        return;
    case TACNET__API_REQUEST__OP_WITHDRAW:
        agency_outcome_withdraw_request(self, req->withdraw, reply);
        return;
    case TACNET__API_REQUEST__OP_DRAFT:
        agency_outcome_draft_request(self, req->draft, reply);
        return;
    case TACNET__API_REQUEST__OP_RETENTION_RUN: {
        char why[160] = "";
        reply->retention = xcalloc(1, sizeof(*reply->retention));
        tacnet__retention_run_reply__init(reply->retention);
        reply->result_case = TACNET__API_REPLY__RESULT_RETENTION;
        if ((rc = agency_retention_run(self, reply->retention, why, sizeof(why))) != 0) {
            agency_reply_error(reply, rc, "%s", why);
            return;
        }
        break;
    }
    default:
        rc = TACNET_EINVAL;
        break;
    }
    if (rc != 0)
        agency_reply_error(reply, rc, "%s", tacnet_strerror(rc));
}

/* Send REPLY to the client whose routing id is RID. */
static void s_send(agency_t *self, const void *rid, size_t rid_len, Tacnet__ApiReply *reply)
{
    reply->has_agency = 1;
    reply->agency = (Tacnet__Agency)self->profile->agency;
    /* The zone a command shows its times in, as the dashboard does (the config's string, not
     * freed with the reply). */
    reply->time_zone =
        (char *)(self->cfg.time_zone && *self->cfg.time_zone ? self->cfg.time_zone : "UTC");
    size_t rlen;
    uint8_t *buf = wire_pack(&reply->base, &rlen);
    zmq_send(self->api, rid, rid_len, ZMQ_SNDMORE);
    zmq_send(self->api, "", 0, ZMQ_SNDMORE);
    zmq_send(self->api, buf, rlen, ZMQ_DONTWAIT);
    sodium_memzero(buf, rlen);
    free(buf);
}

/* A publish whose caller waits for the broker's answer: where and what to answer. */
typedef struct {
    void *rid;
    size_t rid_len;
    uint64_t req_id;
    Tacnet__PublishReply *published; /* the queued reply, completed with the outcome */
} api_wait_t;

static void s_publish_answered(agency_t *self, void *arg, const Tacnet__EventStatus *st)
{
    api_wait_t *w = arg;
    Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
    reply.id = w->req_id;
    reply.result_case = TACNET__API_REPLY__RESULT_PUBLISHED;
    reply.published = w->published;
    if (st) {
        w->published->has_state = 1;
        w->published->state = st->state;
        if (st->state == TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED) {
            w->published->has_seq = 1;
            w->published->seq = st->seq;
        } else if (st->state == TACNET__PUBLISH_STATE__PUBLISH_REFUSED) {
            /* The broker's reason repeats the code's text first: keep only its detail. */
            const char *why = st->reason && *st->reason ? st->reason : "";
            size_t n = strlen(tacnet_strerror(st->code));
            if (strncmp(why, tacnet_strerror(st->code), n) == 0 && strncmp(why + n, ": ", 2) == 0)
                why += n + 2;
            agency_reply_error(&reply, st->code, "refused by the broker: %s",
                               *why ? why : tacnet_strerror(st->code));
        }
        s_send(self, w->rid, w->rid_len, &reply);
    }
    agency_reply_free(&reply);
    free(w->rid);
    free(w);
}

/* Hold REPLY (a queued publish) until the broker answers or WAIT_MS pass. Returns 1 when the
 * reply is now the waiter's to send, 0 when it must be sent now as it is. */
static int s_publish_wait(agency_t *self, const zmq_msg_t *rid, Tacnet__ApiReply *reply,
                          uint32_t wait_ms)
{
    if (reply->code != 0 || !reply->published || reply->published->msg_id.len != 16)
        return 0;
    api_wait_t *w = xcalloc(1, sizeof(*w));
    w->rid_len = zmq_msg_size(rid);
    w->rid = xmalloc(w->rid_len ? w->rid_len : 1);
    memcpy(w->rid, zmq_msg_data((zmq_msg_t *)rid), w->rid_len);
    w->req_id = reply->id;
    w->published = reply->published;
    uint8_t msg_id[16];
    memcpy(msg_id, w->published->msg_id.data, 16);
    reply->published = NULL;
    reply->result_case = TACNET__API_REPLY__RESULT__NOT_SET;
    if (agency_outcome_wait(self, msg_id, wait_ms < API_MAX_WAIT_MS ? wait_ms : API_MAX_WAIT_MS,
                            s_publish_answered, w) == 0)
        return 1;
    /* Too many waiting: answer now, queued, as a caller that did not wait would hear. */
    reply->published = w->published;
    reply->result_case = TACNET__API_REPLY__RESULT_PUBLISHED;
    free(w->rid);
    free(w);
    return 0;
}

/* ------------------------------------------------------------------ follow with a wait */

/* A follow request held until an event is applied after its cursor or its deadline passes. */
struct agency_follow_wait {
    void *rid;
    size_t rid_len;
    uint64_t req_id;
    uint64_t after;       /* the caller's cursor */
    uint64_t seen_head;   /* the view's local_seq when last looked: look again once it grows */
    uint32_t max;         /* as asked (0: the default) */
    uint64_t deadline_ms; /* monotonic */
};

static void s_follow_wait_free(struct agency_follow_wait *w)
{
    free(w->rid);
    w->rid = NULL;
}

/* Send waiter W its follow reply (entries from agency_view_follow, or none at its deadline). */
static void s_follow_answer(agency_t *self, struct agency_follow_wait *w, Tacnet__FollowReply *f)
{
    Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
    Tacnet__FollowReply empty = TACNET__FOLLOW_REPLY__INIT;
    reply.id = w->req_id;
    reply.result_case = TACNET__API_REPLY__RESULT_FOLLOW;
    if (!f) {
        empty.next_local_seq = w->after;
        f = &empty;
    }
    reply.follow = f;
    s_send(self, w->rid, w->rid_len, &reply);
}

/* Hold request REQ_ID, a follow from AFTER for up to MAX events whose reply found nothing, for
 * WAIT_MS. Returns 1 when held, 0 when the reply must be sent now as it is (too many held
 * already: the caller then asks again, as without a wait). */
static int s_follow_hold(agency_t *self, const zmq_msg_t *rid, uint64_t req_id, uint64_t after,
                         uint32_t max, uint32_t wait_ms)
{
    if (self->n_follow_waits == AGENCY_FOLLOW_MAX_WAITS)
        return 0;
    uint64_t head = 0;
    if (agency_view_head(self, &head) != 0)
        return 0;
    if (!self->follow_waits)
        self->follow_waits = xcalloc(AGENCY_FOLLOW_MAX_WAITS, sizeof(*self->follow_waits));
    struct agency_follow_wait *w = &self->follow_waits[self->n_follow_waits++];
    w->rid_len = zmq_msg_size(rid);
    w->rid = xmalloc(w->rid_len ? w->rid_len : 1);
    memcpy(w->rid, zmq_msg_data((zmq_msg_t *)rid), w->rid_len);
    w->req_id = req_id;
    w->after = after;
    w->seen_head = head;
    w->max = max;
    w->deadline_ms = clock_mono_ms() +
                     (wait_ms < AGENCY_FOLLOW_MAX_WAIT_MS ? wait_ms : AGENCY_FOLLOW_MAX_WAIT_MS);
    return 1;
}

void agency_api_follow_pump(agency_t *self)
{
    if (self->n_follow_waits == 0)
        return;
    uint64_t head = 0, now = clock_mono_ms();
    if (agency_view_head(self, &head) != 0)
        head = 0; /* the view unreadable for now: only deadlines are answered */
    /* Followers mostly wait at the same cursor: one read of the view serves all of them, under
     * one unlock of the keys, taken only when there is something to read. */
    bool held = false, hold_tried = false;
    Tacnet__ApiReply r = TACNET__API_REPLY__INIT;
    uint64_t r_after = 0;
    uint32_t r_max = 0;
    int r_ok = 0;
    size_t keep = 0;
    for (size_t i = 0; i < self->n_follow_waits; i++) {
        struct agency_follow_wait *w = &self->follow_waits[i];
        int answered = 0;
        if (head > w->seen_head && head > w->after) {
            /* Something was applied since: answer if any of it is after the cursor (events of
             * an erased case leave local_seq ahead of what follow finds). */
            if (!r.follow || r_after != w->after || r_max != w->max) {
                if (!hold_tried) {
                    held = agency_vault_hold(self->vault) == 0;
                    hold_tried = true;
                }
                agency_reply_free(&r);
                r.result_case = TACNET__API_REPLY__RESULT_FOLLOW;
                r.follow = xcalloc(1, sizeof(*r.follow));
                tacnet__follow_reply__init(r.follow);
                r_after = w->after;
                r_max = w->max;
                r_ok = agency_view_follow(self, w->after, w->max, r.follow) == 0;
            }
            if (r_ok && r.follow->n_entries > 0) {
                s_follow_answer(self, w, r.follow);
                answered = 1;
            }
        }
        w->seen_head = head > w->seen_head ? head : w->seen_head;
        if (!answered && now >= w->deadline_ms) {
            s_follow_answer(self, w, NULL);
            answered = 1;
        }
        if (answered)
            s_follow_wait_free(w);
        else
            self->follow_waits[keep++] = *w;
    }
    agency_reply_free(&r);
    if (held)
        agency_vault_release(self->vault);
    self->n_follow_waits = keep;
}

long agency_api_follow_timeout(const agency_t *self, long wait_ms)
{
    uint64_t now = clock_mono_ms();
    for (size_t i = 0; i < self->n_follow_waits; i++) {
        uint64_t d = self->follow_waits[i].deadline_ms;
        long left = d > now ? (long)(d - now) : 0;
        if (wait_ms < 0 || left < wait_ms)
            wait_ms = left;
    }
    return wait_ms;
}

void agency_api_follow_drop(agency_t *self)
{
    for (size_t i = 0; i < self->n_follow_waits; i++)
        s_follow_wait_free(&self->follow_waits[i]);
    free(self->follow_waits);
    self->follow_waits = NULL;
    self->n_follow_waits = 0;
}

/* ------------------------------------------------------------------ one request */

void agency_api_handle(agency_t *self)
{
    zmq_msg_t frames[3];
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, self->api, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (n < 3)
            frames[n++] = m;
        else
            zmq_msg_close(&m);
    }
    /* [routing id][empty][request]: a REQ or DEALER client with an empty delimiter. */
    if (n == 3 && zmq_msg_size(&frames[1]) == 0) {
        Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
        int err = 0;
        uint32_t wait_ms = 0, follow_wait_ms = 0, follow_max = 0;
        uint64_t follow_after = 0;
        size_t len = zmq_msg_size(&frames[2]);
        Tacnet__ApiRequest *req =
            len <= API_MAX_REQUEST
                ? (Tacnet__ApiRequest *)wire_unpack(&tacnet__api_request__descriptor,
                                                    zmq_msg_data(&frames[2]), len, 0, 0, &err)
                : NULL;
        if (!req && len > API_MAX_REQUEST) {
            agency_reply_error(&reply, TACNET_ETOOBIG,
                               "the request is %zu bytes, and the local API takes at most %u: "
                               "nothing was done",
                               len, (unsigned)API_MAX_REQUEST);
        } else if (!req) {
            agency_reply_error(&reply, err ? err : TACNET_EINVAL, "%s",
                               "request is not a valid ApiRequest");
        } else {
            reply.id = req->id;
            if (req->op_case == TACNET__API_REQUEST__OP_PUBLISH && req->publish->has_wait_ms)
                wait_ms = req->publish->wait_ms;
            if (req->op_case == TACNET__API_REQUEST__OP_FOLLOW && req->follow->has_wait_ms) {
                follow_wait_ms = req->follow->wait_ms;
                follow_after = req->follow->after_local_seq;
                follow_max = req->follow->has_max ? req->follow->max : 0;
            }
            s_dispatch(self, req, &reply);
            wire_free(&req->base);
        }
        int held = 0;
        if (wait_ms)
            held = s_publish_wait(self, &frames[0], &reply, wait_ms);
        else if (follow_wait_ms && reply.code == 0 && reply.follow && reply.follow->n_entries == 0)
            held =
                s_follow_hold(self, &frames[0], reply.id, follow_after, follow_max, follow_wait_ms);
        if (!held)
            s_send(self, zmq_msg_data(&frames[0]), zmq_msg_size(&frames[0]), &reply);
        agency_reply_free(&reply);
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close(&frames[i]);
}
