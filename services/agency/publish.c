/* publish: the publish path as stages, from a request to a queued, sealed event (publish.h). */
#include "internal.h"
#include "agency/outcome.h"
#include "agency/outbox.h"
#include "casework/assessment_types.h"
#include "casework/cadence.h"
#include "casework/casestate.h"
#include "casework/chair_rule.h"
#include "casework/escalation_rights.h"
#include "casework/goals.h"
#include "casework/header_rules.h"
#include "casework/initials.h"
#include "casework/ladder.h"
#include "casework/workflow.h"
#include "clock.h"
#include "err.h"
#include "labels.h"
#include "fault.h"
#include "log.h"
#include "names.h"
#include "wire.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUBLISH_REQUEST_KEY_MAX 64
/* A stage answered the request itself (a keyed retry): stop, and succeed. */
#define PUBLISH_ANSWERED 1

/* Case states an import's dry run has reached so far, so a row is checked as it will be once
 * the rows before it are queued (a file may open a case and then write to it). */
struct agency_publish_cases {
    size_t n;
    struct {
        uint8_t ref[64];
        size_t len;
        route_case_t c;
    } v[64];
};
typedef struct agency_publish_cases import_cases_t;

/* One publish on its way through the stages: what each stage leaves for the next. */
typedef struct publish {
    agency_t *self;
    Tacnet__PublishRequest *req;
    Tacnet__ApiReply *reply;
    int dry_run;        /* stop after the route stage: nothing sealed, nothing written */
    import_cases_t *ic; /* a dry run's case states (NULL outside an import) */
    uint64_t batch_seq; /* in a batch: the sender_seq this row takes (0: the next in meta) */
    uint8_t msg_id[16];
    uint8_t key_id[16];     /* a keyed request's id in api_ids (s_request_key_id) */
    uint8_t key_print[16];  /* and what it asked for (agency_request_print) */
    int refused_before;     /* the key's earlier publish was refused by the broker: */
    uint8_t refused_id[16]; /* its msg_id, whose refusal this one clears */
    uint64_t now_ms;
    uint64_t sender_seq; /* the one this event takes */
    route_case_t c;      /* the case as it will be; valid when found */
    int found;
    char initials[8]; /* the initials the case's events carry ("" when not known here) */
    Tacnet__Header h;
    header_rules_cover_t cover; /* the consent cover a referral or join header borrows */
    Tacnet__Agency rcpt[ROUTE_MAX_AGENCY];
    route_verdict_t v;
    seal_recipient_t sr[SEAL_MAX_RECIPIENTS];
    size_t ns;
    uint8_t *hbuf, *sealed; /* packed header, sealed body: owned until the outbox write */
    size_t hlen, slen;
    uint8_t sig[SEAL_SIG_BYTES];
    uint8_t blind[16]; /* the case's blind token */
    int has_replaces;  /* this event corrects the refused event REPLACES */
    uint8_t replaces[16];
} publish_t;

/* ------------------------------------------------------------------ identifier text check */

/* Walk every string field of M (recursing into sub-messages), checking each against the
 * identifier policy; the path names the field for the practitioner ("decision.rationale"),
 * made only for a finding or a sub-message (most fields have neither). */
static int s_walk(agency_t *self, const policy_register_t *reg, const ProtobufCMessage *m,
                  const char *path, Tacnet__ApiReply *reply, int depth)
{
    int found = 0;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (depth > 8)
        return 0;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)m;
        char sub[160];
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);
            if (which != f->id)
                continue;
        }
        size_t count = 1;
        const void *elems = base + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            count = *(const size_t *)(base + f->quantifier_offset);
            elems = *(void *const *)(base + f->offset);
        }
        for (size_t k = 0; k < count; k++) {
            if (f->type == PROTOBUF_C_TYPE_STRING) {
                const char *s = ((const char *const *)elems)[k];
                if (!s || !*s)
                    continue;
                policy_finding_t fs[16];
                size_t n = 0;
                if (policy_text_check(self->policy, reg, s, strlen(s), fs, 16, &n) != 0) {
                    found = 1;
                    initials_field_path(sub, sizeof(sub), path, f, k);
                    for (size_t j = 0; j < n && j < 16; j++)
                        agency_reply_finding(reply, policy_kind_name(fs[j].kind), fs[j].start,
                                             fs[j].end, sub);
                }
            } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                const ProtobufCMessage *c = ((const ProtobufCMessage *const *)elems)[k];
                if (c) {
                    initials_field_path(sub, sizeof(sub), path, f, k);
                    found |= s_walk(self, reg, c, sub, reply, depth + 1);
                }
            }
        }
    }
    return found;
}

int agency_publish_text_check(agency_t *self, const policy_register_t *reg,
                              const ProtobufCMessage *body, Tacnet__ApiReply *reply)
{
    return s_walk(self, reg, body, "", reply, 0) ? TACNET_ETEXT : 0;
}

/* ------------------------------------------------------------------ helpers */

static route_case_t *s_import_case(import_cases_t *ic, const ProtobufCBinaryData *ref, int add)
{
    for (size_t i = 0; ic && i < ic->n; i++)
        if (ic->v[i].len == ref->len && memcmp(ic->v[i].ref, ref->data, ref->len) == 0)
            return &ic->v[i].c;
    if (!ic || !add || ic->n == sizeof(ic->v) / sizeof(ic->v[0]) || ref->len > sizeof(ic->v[0].ref))
        return NULL;
    memcpy(ic->v[ic->n].ref, ref->data, ref->len);
    ic->v[ic->n].len = ref->len;
    return &ic->v[ic->n++].c;
}

static void s_reply_published(Tacnet__ApiReply *reply, const uint8_t *msg_id, uint64_t sender_seq,
                              int duplicate)
{
    reply->result_case = TACNET__API_REPLY__RESULT_PUBLISHED;
    reply->published = xcalloc(1, sizeof(*reply->published));
    tacnet__publish_reply__init(reply->published);
    reply->published->msg_id.data = xmalloc(16);
    memcpy(reply->published->msg_id.data, msg_id, 16);
    reply->published->msg_id.len = 16;
    reply->published->local_seq = sender_seq;
    reply->published->has_duplicate = duplicate;
    reply->published->duplicate = duplicate;
}

/* The id a request key is remembered by (database api_ids): BLAKE2b-128 over a context, the
 * agency and the key, so one agency's keys cannot name another agency's events. Before msg_ids
 * carried their creation time this was the event's msg_id itself; now the event gets a fresh
 * one (the broker refuses a msg_id whose time is not now) and api_ids maps the key to it. */
static void s_request_key_id(const agency_t *self, const ProtobufCBinaryData *key,
                             uint8_t key_id[16])
{
    crypto_generichash_state st;
    uint8_t agency = (uint8_t)self->profile->agency;
    crypto_generichash_init(&st, NULL, 0, 16);
    crypto_generichash_update(&st, (const uint8_t *)"tacnet-request/1", 16);
    crypto_generichash_update(&st, &agency, 1);
    crypto_generichash_update(&st, key->data, key->len);
    crypto_generichash_final(&st, key_id, 16);
}

/* What a keyed request asks for: BLAKE2b-128 of the request as packed without its key and its
 * wait (how long to wait is not part of the event), so a retry of the same request matches and
 * the same key on a different event does not. */
void agency_request_print(Tacnet__PublishRequest *req, uint8_t out[16])
{
    protobuf_c_boolean had_key = req->has_request_key, had_wait = req->has_wait_ms;
    req->has_request_key = 0;
    req->has_wait_ms = 0;
    size_t len;
    uint8_t *packed = wire_pack(&req->base, &len);
    req->has_request_key = had_key;
    req->has_wait_ms = had_wait;
    crypto_generichash(out, 16, packed, len, (const uint8_t *)"tacnet-request-print/1", 22);
    free(packed);
}

/* A keyed publish queued before (KEY_ID from s_request_key_id): 1 with *SENDER_SEQ and its
 * MSG_ID, 0 if new, or a negative store code. TACNET_EEXISTS when the key was used for a
 * different request (PRINT, agency_request_print; records from before prints were kept are not
 * compared). One the broker refused counts as new, so the
 * same request may be sent again once its cause is fixed: then *REFUSED is set and MSG_ID names
 * the refused event (its refusal is cleared by the new one's outbox write). Checked before
 * anything else, so a retry gets the first answer even if the case or the roster has moved on
 * since. */
static int s_keyed_seen(agency_t *self, const uint8_t key_id[16], const uint8_t print[16],
                        uint64_t *sender_seq, uint8_t msg_id[16], int *refused)
{
    MDB_txn *txn;
    MDB_val v;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    rc = store_get(txn, self->api_ids, key_id, 16, &v);
    if (rc == 0 && v.mv_size != 8 && v.mv_size != 24 && v.mv_size != 40)
        rc = TACNET_ECORRUPT;
    if (rc == 0) {
        *sender_seq = store_u64_get(v.mv_data);
        /* An 8-byte record is from before msg_ids carried their time: the key id was the id. */
        memcpy(msg_id, v.mv_size >= 24 ? (const uint8_t *)v.mv_data + 8 : key_id, 16);
    }
    int other = rc == 0 && v.mv_size == 40 &&
                sodium_memcmp((const uint8_t *)v.mv_data + 24, print, 16) != 0;
    if (rc == 0 && store_get(txn, self->dead, msg_id, 16, &v) == 0) {
        *refused = 1;
        rc = TACNET_ENOTFOUND;
    }
    mdb_txn_abort(txn);
    if (rc == TACNET_ENOTFOUND)
        return 0; /* new, or refused: sent again (corrected or not) under the same key */
    if (rc == 0 && other)
        return TACNET_EEXISTS;
    return rc == 0 ? 1 : rc;
}

/* Apply the packed HEADER (HLEN bytes) of one of our own events to C (zeroed first if the case
 * was not *FOUND until now); an undecodable header is skipped. */
static void s_overlay_one(const uint8_t *header, size_t hlen, route_case_t *c, int *found,
                          char initials[8])
{
    int err = 0;
    Tacnet__Header *h = wire_header_unpack(header, hlen, &err);
    if (!h)
        return;
    if (!*found)
        memset(c, 0, sizeof(*c));
    *found = 1;
    route_apply(c, h);
    if (!initials[0] && h->initials.len < 8)
        snprintf(initials, 8, "%.*s", (int)h->initials.len, (const char *)h->initials.data);
    wire_free(&h->base);
}

/* Our own events still in the outbox are not in the view until the broker delivers them back;
 * apply their headers to C so that publishing twice in a row on a case (open it, then write to
 * it) is checked against the case as it will be, not as the view last saw it. */
static int s_outbox_overlay(agency_t *self, MDB_txn *txn, const uint8_t blind[16], route_case_t *c,
                            int *found, char initials[8])
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->outbox_case, &cur);
    if (rc != 0)
        return store_lmdb_err(rc);
    MDB_val k = { 16, (void *)blind }, d;
    uint64_t seq;
    for (int op = MDB_SET_RANGE; mdb_cursor_get(cur, &k, &d, op) == 0; op = MDB_NEXT) {
        if (!agency_outbox_case_key_match(k.mv_data, k.mv_size, blind, &seq))
            break;
        uint8_t key[8];
        MDB_val v;
        agency_outbox_record_t rec;
        store_u64_put(key, seq);
        if (store_get(txn, self->outbox, key, 8, &v) != 0 ||
            agency_outbox_decode(v.mv_data, v.mv_size, &rec) != 0)
            continue;
        s_overlay_one(rec.header, rec.hlen, c, found, initials);
    }
    mdb_cursor_close(cur);
    return 0;
}

/* The case's events the broker has accepted from this agency whose copies the view has not
 * applied yet (outbox.h, "accepted"), laid over the view in the broker's order. */
static int s_accepted_overlay(agency_t *self, MDB_txn *txn, const uint8_t blind[16],
                              route_case_t *c, int *found, char initials[8])
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->accepted, &cur);
    if (rc != 0)
        return store_lmdb_err(rc);
    MDB_val k, v;
    for (int op = MDB_FIRST; mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT)
        if (k.mv_size == 8 && store_u64_get(k.mv_data) > self->last_applied && v.mv_size > 16 &&
            memcmp(v.mv_data, blind, 16) == 0)
            s_overlay_one((const uint8_t *)v.mv_data + 16, v.mv_size - 16, c, found, initials);
    mdb_cursor_close(cur);
    return 0;
}

/* ------------------------------------------------------------------ stages */

/* validate: a kind this agency originates; a request key of a sane size. */
static int s_validate(publish_t *p)
{
    char why[256];
    int rc = header_rules_kind_check(p->self->profile, p->req->kind, why, sizeof(why));
    if (rc != 0) {
        agency_reply_error(p->reply, rc, "%s", why);
        return rc;
    }
    if (p->req->has_request_key &&
        (p->req->request_key.len == 0 || p->req->request_key.len > PUBLISH_REQUEST_KEY_MAX)) {
        agency_reply_error(p->reply, TACNET_EFIELD, "request_key must be 1-%d bytes, not %zu",
                           PUBLISH_REQUEST_KEY_MAX, p->req->request_key.len);
        return TACNET_EFIELD;
    }
    return 0;
}

/* replaces: the refused event this one corrects, among this agency's refusals not yet
 * withdrawn or corrected (after the msg_id, so that a keyed retry is answered as before). */
static int s_replaces(publish_t *p)
{
    if (!p->req->replaces || p->dry_run)
        return 0;
    char why[160];
    int rc = agency_outcome_refused_find(p->self, p->req->replaces, p->replaces, why, sizeof(why));
    if (rc != 0) {
        agency_reply_error(p->reply, rc, "replaces: %s", why);
        return rc;
    }
    p->has_replaces = 1;
    return 0;
}

/* The event's msg_id: fresh (its creation time, then random bytes), unless the request key names
 * a publish already queued, when the retry is answered with the first one (PUBLISH_ANSWERED). */
static int s_msg_id(publish_t *p)
{
    wire_msgid_new(p->msg_id);
    if (!p->req->has_request_key)
        return 0;
    s_request_key_id(p->self, &p->req->request_key, p->key_id);
    agency_request_print(p->req, p->key_print);
    if (p->dry_run)
        return 0;
    uint64_t seen_seq = 0;
    uint8_t seen_id[16];
    int rc = s_keyed_seen(p->self, p->key_id, p->key_print, &seen_seq, seen_id, &p->refused_before);
    if (rc == TACNET_EEXISTS) {
        char hex[33];
        wire_msgid_hex(seen_id, 16, hex);
        agency_reply_error(p->reply, rc,
                           "request_key was used for a different event (%s): a retry carries the "
                           "same content, and a new event needs a new key; nothing was queued",
                           hex);
        return rc;
    }
    if (rc < 0) {
        agency_reply_error(p->reply, rc, "could not check the request key: %s",
                           tacnet_strerror(rc));
        return rc;
    }
    if (rc == 1) {
        memcpy(p->msg_id, seen_id, 16);
        s_reply_published(p->reply, p->msg_id, seen_seq, 1);
        return PUBLISH_ANSWERED;
    }
    if (p->refused_before)
        memcpy(p->refused_id, seen_id, 16);
    return 0;
}

/* header rules: the body in the member its kind needs. */
static int s_header_rules(publish_t *p)
{
    char why[256];
    int rc = header_rules_body_check(p->req, why, sizeof(why));
    if (rc == 0)
        rc = header_rules_refers_to_check(p->req, why, sizeof(why));
    if (rc != 0)
        agency_reply_error(p->reply, rc, "%s", why);
    return rc;
}

/* workflow rules: what the body must hold for the case's workflow. */
static int s_workflow(publish_t *p)
{
    char why[256];
    int rc = workflow_check(p->req, why, sizeof(why));
    /* The rules that need the sender: an agency does not rate its own place in the team. */
    if (rc == 0 && p->req->kind == TACNET__EVENT_KIND__PARTNERSHIP_RATING && p->req->body)
        rc = ladder_rater_check(p->req->body->partnership_rating, p->self->profile->agency, why,
                                sizeof(why));
    /* An assessment of a type only another agency carries out (a section 47 enquiry is social
     * care's): refused here, before anything is sent. */
    if (rc == 0 && p->req->kind == TACNET__EVENT_KIND__ASSESSMENT && p->req->body)
        rc = assessment_type_check(p->req->body->assessment, p->self->profile->agency, why,
                                   sizeof(why));
    if (rc != 0)
        agency_reply_error(p->reply, rc, "%s", why);
    return rc;
}

/* identifiers: the case reference and initials formats, the body's initials fields, then free
 * text (findings). */
static int s_identifiers(publish_t *p)
{
    Tacnet__PublishRequest *req = p->req;
    char field[192];
    int rc;
    if ((rc = policy_case_ref_check(req->case_ref.data, req->case_ref.len)) != 0 ||
        (rc = policy_initials_check(req->initials.data, req->initials.len)) != 0) {
        agency_reply_error(p->reply, rc, "%s", tacnet_strerror(rc));
        return rc;
    }
    if ((rc = roster_case_prefix_check(p->self->roster, req->case_ref.data, req->case_ref.len)) !=
        0) {
        /* Not quoted back: an unknown prefix may be a postcode or a name. */
        agency_reply_error(p->reply, rc, "%s (the roster's area_codes); nothing was sent",
                           tacnet_strerror(rc));
        return rc;
    }
    if ((rc = initials_body_check(&req->body->base, field, sizeof(field))) != 0) {
        agency_reply_finding(p->reply, "initials", 0, 0, field);
        agency_reply_error(p->reply, rc, "%s: %s; nothing was sent", field, tacnet_strerror(rc));
        return rc;
    }
    policy_register_t *reg =
        agency_identity_register(p->self, req->case_ref.data, req->case_ref.len);
    rc = agency_publish_text_check(p->self, reg, &req->body->base, p->reply);
    policy_register_destroy(&reg);
    if (rc != 0)
        agency_reply_error(p->reply, rc, "%s; nothing was sent (see findings)",
                           tacnet_strerror(rc));
    return rc;
}

/* The case as it will be (the view, then our events accepted but not yet back, then our queued
 * events, then an import's earlier rows)
 * and the next sender_seq. */
static int s_case(publish_t *p)
{
    agency_t *self = p->self;
    const ProtobufCBinaryData *ref = &p->req->case_ref;
    MDB_txn *txn;
    p->now_ms = clock_now_ms();
    agency_view_blind(self, ref->data, ref->len, p->blind);
    int rc = store_read_begin(self->store, &txn);
    if (rc == 0) {
        rc = agency_meta_get(self, txn, "sender_seq", &p->sender_seq);
        if (rc == 0)
            rc = agency_view_case_initials(self, txn, ref->data, ref->len, &p->c, &p->found,
                                           p->initials);
        if (rc == 0)
            rc = s_accepted_overlay(self, txn, p->blind, &p->c, &p->found, p->initials);
        if (rc == 0)
            rc = s_outbox_overlay(self, txn, p->blind, &p->c, &p->found, p->initials);
        mdb_txn_abort(txn);
    }
    route_case_t *prior = s_import_case(p->ic, ref, 0);
    if (prior) {
        p->c = *prior;
        p->found = 1;
    }
    if (rc != 0) {
        agency_reply_error(p->reply, rc, "could not queue the event: %s", tacnet_strerror(rc));
        return rc;
    }
    p->sender_seq++;
    /* The rows of a batch before this one are not committed yet: the batch counts for them. */
    if (p->batch_seq)
        p->sender_seq = p->batch_seq;
    return 0;
}

/* initials: the case's events carry one set of initials, kept from its first. Other initials
 * on an event for it mean the wrong case reference or the wrong child (information about one
 * child about to reach another child's team), so the publish is refused here, naming the
 * initials this agency already holds for the case. The broker refuses the same without naming
 * them (the sender may not be a member). */
static int s_case_initials(publish_t *p)
{
    const ProtobufCBinaryData *in = &p->req->initials;
    if (!p->initials[0] ||
        (strlen(p->initials) == in->len && memcmp(p->initials, in->data, in->len) == 0))
        return 0;
    agency_reply_error(p->reply, TACNET_ECASEINITIALS,
                       "case %.*s is the child with initials %s, not %.*s: check the case "
                       "reference (a case opened with the wrong initials is closed as opened in "
                       "error and opened again under a new reference); nothing was sent",
                       (int)p->req->case_ref.len, (const char *)p->req->case_ref.data, p->initials,
                       (int)in->len, (const char *)in->data);
    return TACNET_ECASEINITIALS;
}

/* membership: a join adds an agency to the team, or is an agency changing how it is itself
 * reached. Another agency's join of a member would replace that member's named contact with
 * someone it did not name (casestate keeps the latest join's), so it is refused. */
static int s_membership(publish_t *p)
{
    if (p->req->kind != TACNET__EVENT_KIND__MEMBER_JOINED || !p->found ||
        !p->req->has_subject_agency)
        return 0;
    uint32_t a = (uint32_t)p->req->subject_agency;
    if (a == p->self->profile->agency || a >= 32 || !(p->c.members & (1u << a)))
        return 0;
    agency_reply_error(p->reply, TACNET_EEXISTS,
                       "%s is already a member of this case: only %s changes its own named "
                       "contact; nothing was sent",
                       labels_agency(a), labels_agency(a));
    return TACNET_EEXISTS;
}

/* The escalation of P's case named by REFERS_TO in SC, or NULL. */
static const Tacnet__EscalationView *s_escalation_find(const Tacnet__ShowCaseReply *sc,
                                                       const ProtobufCBinaryData *refers_to)
{
    for (size_t i = 0; sc->state && i < sc->state->n_escalations; i++) {
        const Tacnet__EscalationView *e = sc->state->escalations[i];
        if (e->escalation_id.len == refers_to->len &&
            memcmp(e->escalation_id.data, refers_to->data, refers_to->len) == 0)
            return e;
    }
    return NULL;
}

/* Why AGENCY may not answer E with KIND (the broker's reasons), or NULL when it may: only a
 * party responds or acknowledges; a party or the lead professional's agency resolves. */
/* escalation: an answer to an escalation (response, resolution, acknowledgement) is checked
 * against the escalation as this agency's view holds it, so what the broker would refuse is
 * refused here, before anything is sent. */
/* P's case as this agency's view shows it, into WRAP (agency_reply_free frees it). Returns
 * agency_view_show's code. */
static int s_view_show(publish_t *p, Tacnet__ApiReply *wrap)
{
    wrap->result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
    wrap->show_case = xcalloc(1, sizeof(*wrap->show_case));
    tacnet__show_case_reply__init(wrap->show_case);
    const ProtobufCBinaryData *ref = &p->req->case_ref;
    return agency_view_show(p->self, ref->data, ref->len, wrap->show_case);
}

static int s_escalation(publish_t *p)
{
    uint32_t kind = p->req->kind;
    if (!escalation_rights_is_answer(kind))
        return 0;
    Tacnet__ApiReply wrap = TACNET__API_REPLY__INIT;
    int rc = s_view_show(p, &wrap);
    const Tacnet__EscalationView *e =
        rc == 0 ? s_escalation_find(wrap.show_case, &p->req->refers_to) : NULL;
    uint32_t me = p->self->profile->agency;
    if (rc == 0 || rc == TACNET_ENOTFOUND) {
        const Tacnet__CaseSummary *sum = wrap.show_case->summary;
        uint32_t lead = sum && sum->has_lead ? (uint32_t)sum->lead : 0;
        const char *why = "refers_to names no escalation of this case";
        rc = !e ? TACNET_EREFERSTO : escalation_rights_check(kind, e, me, lead, &why);
        if (rc != 0)
            agency_reply_error(p->reply, rc, "%s; nothing was sent", why);
        /* A response is at the escalation's current stage: filled in when not given. */
        Tacnet__EscalationResponse *r =
            kind == TACNET__EVENT_KIND__ESCALATION_RESPONSE && p->req->body
                ? p->req->body->escalation_response
                : NULL;
        if (rc == 0 && r && e->has_stage && e->stage) {
            if (!r->has_stage || r->stage == 0) {
                r->has_stage = 1;
                r->stage = e->stage;
            } else if (r->stage != e->stage) {
                rc = TACNET_EFIELD;
                agency_reply_error(p->reply, rc,
                                   "escalation_response.stage is %u, but this escalation is at "
                                   "stage %u; nothing was sent",
                                   r->stage, e->stage);
            }
        }
    } else {
        agency_reply_error(p->reply, rc, "could not read the case: %s", tacnet_strerror(rc));
    }
    agency_reply_free(&wrap);
    return rc;
}

/* A care plan's or meeting outcome's review_due_date: when the case's plans are next due for
 * review once this event is applied to the case as this agency's view holds it (an import's
 * earlier rows are not in the view yet: their plans are not counted). */
static void s_review_due(publish_t *p, Tacnet__Header *h)
{
    const Tacnet__Body *b = p->req->body;
    const Tacnet__CarePlan *plan = NULL;
    uint32_t held = 0;
    if (p->req->kind == TACNET__EVENT_KIND__CARE_PLAN && b && b->care_plan)
        plan = b->care_plan;
    else if (p->req->kind == TACNET__EVENT_KIND__MEETING_OUTCOME && b && b->meeting_outcome &&
             b->meeting_outcome->has_held_date)
        held = b->meeting_outcome->held_date;
    else
        return;
    Tacnet__ApiReply wrap = TACNET__API_REPLY__INIT;
    wrap.result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
    wrap.show_case = xcalloc(1, sizeof(*wrap.show_case));
    tacnet__show_case_reply__init(wrap.show_case);
    const ProtobufCBinaryData *ref = &p->req->case_ref;
    int rc = p->found ? agency_view_show(p->self, ref->data, ref->len, wrap.show_case)
                      : TACNET_ENOTFOUND;
    const Tacnet__CaseState *st = rc == 0 ? wrap.show_case->state : NULL;
    uint64_t start = plan && plan->has_start_date ? clock_date_to_ms(plan->start_date) : p->now_ms;
    uint32_t due =
        cadence_case_review_date(p->self->holidays, st ? st->plans : NULL, st ? st->n_plans : 0,
                                 p->self->profile->agency, plan, start, held);
    if (due) {
        h->has_review_due_date = 1;
        h->review_due_date = due;
    }
    agency_reply_free(&wrap);
}

/* The clear header: who, when, which sequence and keys; the rest by the header rules. */
static int s_header(publish_t *p)
{
    agency_t *self = p->self;
    Tacnet__Header *h = &p->h;
    tacnet__header__init(h);
    h->schema_version = WIRE_SCHEMA_VERSION;
    h->msg_id.data = p->msg_id;
    h->msg_id.len = 16;
    h->sender = (Tacnet__Agency)self->profile->agency;
    h->sender_seq = p->sender_seq;
    h->created_at_ms = p->now_ms;
    h->sender_key_id = self->keys->key_id;
    const Tacnet__Roster *r = roster_msg(self->roster);
    h->policy_version = r->has_policy_version ? r->policy_version : 1;
    header_rules_fill(h, p->req, self->profile->default_sensitivity(p->req->kind),
                      p->found ? &p->c : NULL);
    header_rules_cover_fill(h, p->found ? &p->c : NULL, &p->cover);
    s_review_due(p, h);
    /* What the broker checks of a msg_id, checked before anything is sealed (a clock stepped
     * far between the id and the header would show here). */
    char why[128];
    int rc = header_rules_msgid_check(p->msg_id, 16, p->now_ms, h->created_at_ms,
                                      HEADER_RULES_MSGID_AHEAD_MS, HEADER_RULES_MSGID_BEHIND_MS,
                                      why, sizeof(why));
    if (rc != 0)
        agency_reply_error(p->reply, rc, "%s; nothing was sent", why);
    return rc;
}

/* basis: the lawful basis the request names, else the narrowest one that reaches the agencies
 * it names (every member the policy allows when it names none): consent, then direct care.
 * A named agency no basis reaches is refused here, as the broker would (E_CONSENT). */
static int s_basis(publish_t *p)
{
    uint32_t want = 0;
    for (size_t i = 0; i < p->req->n_recipients; i++)
        if ((unsigned)p->req->recipients[i] < ROUTE_MAX_AGENCY)
            want |= 1u << p->req->recipients[i];
    want &= ~(1u << p->h.sender);
    const route_case_t *c = p->found ? &p->c : NULL;
    if (!p->req->has_lawful_basis) {
        int b = route_basis_choose(c, &p->h, want, 0, p->self->roster);
        if (b < 0) {
            /* Name who the consent in force does not reach, of those the event must reach. */
            uint32_t members = c ? c->members : 0, need = want;
            if (p->h.has_subject_agency && (unsigned)p->h.subject_agency < ROUTE_MAX_AGENCY) {
                members |= 1u << p->h.subject_agency;
                if (p->h.kind == TACNET__EVENT_KIND__REFERRAL ||
                    p->h.kind == TACNET__EVENT_KIND__MEMBER_JOINED)
                    need |= 1u << p->h.subject_agency;
            }
            uint32_t reach = route_reach(c, members, p->h.sender, p->h.sensitivity,
                                         TACNET__LAWFUL_BASIS__CONSENT, p->self->roster);
            char who[200];
            labels_agency_list(need & ~reach, who, sizeof(who));
            agency_reply_error(p->reply, b,
                               "no consent in force or lawful basis lets %s reach every agency "
                               "named%s%s; nothing was sent",
                               names_enum(&tacnet__sensitivity__descriptor, p->h.sensitivity),
                               who[0] ? ": not " : "", who);
            return b;
        }
        p->h.lawful_basis = (Tacnet__LawfulBasis)b;
        return 0;
    }
    uint32_t members = c ? c->members : 0;
    if (p->h.has_subject_agency && (unsigned)p->h.subject_agency < ROUTE_MAX_AGENCY)
        members |= 1u << p->h.subject_agency; /* a referral's or a join's newcomer */
    uint32_t reach =
        route_reach(c, members, p->h.sender, p->h.sensitivity, p->h.lawful_basis, p->self->roster);
    if (p->h.lawful_basis != TACNET__LAWFUL_BASIS__SAFEGUARDING_OVERRIDE && (want & ~reach)) {
        char who[200];
        labels_agency_list(want & ~reach, who, sizeof(who));
        agency_reply_error(p->reply, TACNET_ECONSENT,
                           "%s on lawful basis %s does not reach %s; nothing was sent",
                           names_enum(&tacnet__sensitivity__descriptor, p->h.sensitivity),
                           names_enum(&tacnet__lawful_basis__descriptor, p->h.lawful_basis), who);
        return TACNET_ECONSENT;
    }
    return 0;
}

/* route: the same rule the broker applies decides the recipients, so a refusal is explained
 * here before anything is queued. */
static int s_route(publish_t *p)
{
    p->h.recipients = p->rcpt;
    p->h.n_recipients = 0;
    int rc = route_check(p->found ? &p->c : NULL, &p->h, p->self->roster, &p->v);
    if (rc == TACNET_ENOTMEMBER && p->v.why) { /* about the agency named, not the sender */
        agency_reply_error(p->reply, rc, "%s; nothing was sent", p->v.why);
        return rc;
    }
    if (rc != 0 && rc != TACNET_ERECIPIENTS) {
        agency_reply_error(p->reply, rc, "%s%s%s", tacnet_strerror(rc), p->v.why ? ": " : "",
                           p->v.why ? p->v.why : "");
        return rc;
    }
    return 0;
}

/* The agency whose event a disagreement challenges, as this agency's view holds it: the
 * subject_agency the header names, else the sender of the event refers_to names; 0 when the
 * view does not hold that event. */
static uint32_t s_challenged(const publish_t *p, const Tacnet__ShowCaseReply *sc)
{
    if (p->h.has_subject_agency && p->h.subject_agency)
        return (uint32_t)p->h.subject_agency;
    const ProtobufCBinaryData *about = &p->req->refers_to;
    for (size_t i = 0; about->len == 16 && i < sc->n_timeline; i++) {
        const Tacnet__Header *h = sc->timeline[i]->header;
        if (h && h->msg_id.len == 16 && memcmp(h->msg_id.data, about->data, 16) == 0)
            return (uint32_t)h->sender;
    }
    return 0;
}

/* reach: an answer on an escalation (a response, a resolution, an acknowledgement) reaches every
 * party of it, and a disagreement the agency whose event it challenges (the route just decided
 * who receives it). A party that never holds the resolution cannot see what it is asked to
 * accept, and the views of one escalation would contradict each other, so such an answer is
 * refused before anything is sent, naming the party, as minutes that an action's owner would not
 * receive are (s_minutes). A party no longer a member of the team is not waited for. */
static int s_escalation_reach(publish_t *p)
{
    uint32_t kind = p->req->kind;
    int answer = escalation_rights_is_answer(kind);
    if ((!answer && kind != TACNET__EVENT_KIND__DISAGREEMENT) || !p->found)
        return 0;
    Tacnet__ApiReply wrap = TACNET__API_REPLY__INIT;
    int rc = s_view_show(p, &wrap);
    uint32_t need = 0, me = p->self->profile->agency;
    if (rc == 0 && answer) {
        const Tacnet__EscalationView *e = s_escalation_find(wrap.show_case, &p->req->refers_to);
        for (size_t i = 0; e && i < e->n_parties; i++)
            if ((uint32_t)e->parties[i] < 32)
                need |= 1u << e->parties[i];
    } else if (rc == 0) {
        uint32_t challenged = s_challenged(p, wrap.show_case);
        if (challenged < 32)
            need |= 1u << challenged;
    }
    agency_reply_free(&wrap);
    uint32_t missing = escalation_rights_unreached(need, me, p->c.members, p->v.required);
    if (!missing)
        return 0;
    char who[200];
    labels_agency_list(missing, who, sizeof(who));
    int several = (missing & (missing - 1)) != 0;
    const char *cls = names_enum(&tacnet__sensitivity__descriptor, p->h.sensitivity);
    if (answer)
        agency_reply_error(
            p->reply, TACNET_ECONSENT,
            "%s %s a part%s to this escalation but would not receive this %s (the sharing policy "
            "and the consent in force do not let %s see %s information): an answer on an "
            "escalation must reach every party, or the escalation cannot close. Send it at a "
            "class every party receives (the form's class of information, or sensitivity "
            "through the API and `tacnet publish`) if it holds nothing more sensitive, or with "
            "a safeguarding override; nothing was sent",
            who, several ? "are" : "is", several ? "ies" : "y",
            kind == TACNET__EVENT_KIND__ESCALATION_RESOLVED ? "resolution"
            : kind == TACNET__EVENT_KIND__ESCALATION_ACK    ? "acknowledgement"
                                                            : "response",
            several ? "them" : "it", cls ? cls : "this class of");
    else
        agency_reply_error(
            p->reply, TACNET_ECONSENT,
            "this disagreement challenges %s's event, but %s would not receive it (the sharing "
            "policy and the consent in force do not let it see %s information): the agency "
            "challenged is a party to the escalation it opens and must hear of it. Send it at a "
            "class %s receives (the form's class of information, or sensitivity through the API "
            "and `tacnet publish`) if it holds nothing more sensitive, or with a safeguarding "
            "override; nothing was sent",
            who, who, cls ? cls : "this class of", who);
    return TACNET_ECONSENT;
}

/* The meeting MEETING_ID of the case in SC, or NULL. */
static const Tacnet__MeetingView *s_meeting_find(const Tacnet__ShowCaseReply *sc,
                                                 const ProtobufCBinaryData *meeting_id)
{
    for (size_t i = 0; sc->state && i < sc->state->n_meetings; i++) {
        const Tacnet__MeetingView *m = sc->state->meetings[i];
        if (m->meeting_id.len == meeting_id->len && meeting_id->len &&
            memcmp(m->meeting_id.data, meeting_id->data, meeting_id->len) == 0)
            return m;
    }
    return NULL;
}

/* minutes: a meeting's outcome is recorded by the agency that convened it (scheduled it, or
 * asked for it when nobody scheduled it) or by the lead professional's agency, once: another
 * agency's second record would stand beside the first as a different account of one meeting.
 * And every action's owner must receive the minutes that give it the action (the route just
 * decided who receives them): an action its owner never hears of is not an action. Minutes are
 * not dated before the day the meeting was scheduled for (casestate_minutes_date_check), that
 * day read in the partnership's zone ([http] time_zone, the process's TZ): the body is sealed, so
 * the broker cannot tell. */
static int s_minutes(publish_t *p)
{
    const Tacnet__MeetingOutcome *o =
        p->req->kind == TACNET__EVENT_KIND__MEETING_OUTCOME && p->req->body
            ? p->req->body->meeting_outcome
            : NULL;
    if (!o)
        return 0;
    uint32_t me = p->self->profile->agency;
    for (size_t i = 0; i < o->n_actions; i++) {
        const Tacnet__Action *a = o->actions[i];
        uint32_t owner = a->has_owner_agency ? (uint32_t)a->owner_agency : 0;
        if (!owner || owner == me || owner >= 32 || (p->v.required & (1u << owner)))
            continue;
        int member = p->found && (p->c.members & (1u << owner));
        agency_reply_error(
            p->reply, member ? TACNET_ECONSENT : TACNET_ENOTMEMBER,
            "action %zu is %s's, but %s %s: give the action to a member that receives these "
            "minutes (or tell %s of it another way); the minutes may go at a class it sees "
            "(the form's class of information, or sensitivity through the API and `tacnet "
            "publish`) if they hold nothing more sensitive, or with a safeguarding override; "
            "nothing was sent",
            i + 1, labels_agency(owner), labels_agency(owner),
            member ? "would not receive these minutes (the sharing policy and the consent in "
                     "force do not let it see this class of information)"
                   : "is not a member of the team",
            labels_agency(owner));
        return member ? TACNET_ECONSENT : TACNET_ENOTMEMBER;
    }
    if (!o->meeting_id.len || !p->found)
        return 0;
    Tacnet__ApiReply wrap = TACNET__API_REPLY__INIT;
    int rc = s_view_show(p, &wrap);
    const Tacnet__MeetingView *m = rc == 0 ? s_meeting_find(wrap.show_case, &o->meeting_id) : NULL;
    const Tacnet__CaseSummary *sum = wrap.show_case->summary;
    uint32_t lead = sum && sum->has_lead ? (uint32_t)sum->lead : 0;
    uint32_t convener = chair_rule_minutes_by(m, me, lead, p->c.members);
    rc = 0;
    if (m && m->has_minuted_by && (uint32_t)m->minuted_by != me) {
        rc = TACNET_EEXISTS;
        agency_reply_error(p->reply, rc,
                           "%s has recorded this meeting's outcome, and its minutes stand: send "
                           "your account as a contact or a decision; nothing was sent",
                           labels_agency((uint32_t)m->minuted_by));
    } else if (m && (m->has_minuted_by || m->outcome)) {
        /* A second outcome would replace the first minutes' attendees, views, decisions and
         * actions on some views and not others: the first stand everywhere (casestate). */
        rc = TACNET_EEXISTS;
        agency_reply_error(p->reply, rc,
                           "your agency has recorded this meeting's outcome, and its minutes "
                           "stand: add what changed or was missed as a decision, a contact or "
                           "an action update; nothing was sent");
    } else if (!m && lead && lead != me) {
        /* A meeting this view never saw (a wrong id, or one held without being asked for or
         * scheduled here): its account is the lead's to record. */
        rc = TACNET_ENOTFOUND;
        agency_reply_error(p->reply, rc,
                           "this case has no meeting with that id on record here: check the id, "
                           "or ask %s (the lead professional's agency) to record the outcome of "
                           "a meeting that was not asked for or scheduled through tacnet; "
                           "nothing was sent",
                           labels_agency(lead));
    } else if (convener) {
        rc = TACNET_EFORBIDDEN;
        agency_reply_error(p->reply, rc,
                           "%s convened this meeting: its outcome is recorded by %s or by the "
                           "lead professional's agency; nothing was sent",
                           labels_agency(convener), labels_agency(convener));
    } else {
        char why[320];
        long offset = m && m->scheduled && m->scheduled->has_starts_at_ms
                          ? clock_local_offset_s(m->scheduled->starts_at_ms)
                          : 0;
        rc = casestate_minutes_date_check(m, o->has_held_date ? o->held_date : 0, offset, why,
                                          sizeof(why));
        if (rc != 0)
            agency_reply_error(p->reply, rc, "%s; nothing was sent", why);
    }
    agency_reply_free(&wrap);
    return rc;
}

/* A meeting already minuted is not scheduled again: a new date for it would stand beside the
 * minutes as if it had not been held. To meet again the team asks for a new meeting. A view that
 * lacks the minutes cannot tell; the views that hold them show such a schedule as a further
 * meeting (casestate). */
static int s_schedule(publish_t *p)
{
    const Tacnet__MeetingScheduled *sch =
        p->req->kind == TACNET__EVENT_KIND__MEETING_SCHEDULED && p->req->body
            ? p->req->body->meeting_scheduled
            : NULL;
    if (!sch || !sch->meeting_id.len || !p->found)
        return 0;
    Tacnet__ApiReply wrap = TACNET__API_REPLY__INIT;
    int rc = s_view_show(p, &wrap);
    const Tacnet__MeetingView *m =
        rc == 0 ? s_meeting_find(wrap.show_case, &sch->meeting_id) : NULL;
    rc = 0;
    if (m && m->outcome) {
        rc = TACNET_EEXISTS;
        uint32_t d = m->outcome->has_held_date ? m->outcome->held_date : 0;
        agency_reply_error(p->reply, rc,
                           "this meeting was held on %04u-%02u-%02u and its minutes are "
                           "recorded: to meet again, ask for a new meeting (Request a meeting) "
                           "and schedule that one; nothing was sent",
                           d / 10000, d / 100 % 100, d % 100);
    }
    agency_reply_free(&wrap);
    return rc;
}

/* An action's status is moved by its owner, by the lead professional's agency or by the agency
 * that minuted the meeting it came from: another member marking it done would tell the team
 * (and the family's summary) that work was finished which its owner has not done. An action the
 * view has no record of is refused too (a mistyped id would be shared as an update of nothing). */
static int s_action_update(publish_t *p)
{
    const Tacnet__ActionUpdate *u =
        p->req->kind == TACNET__EVENT_KIND__ACTION_UPDATE && p->req->body
            ? p->req->body->action_update
            : NULL;
    if (!u || !p->found)
        return 0;
    Tacnet__ApiReply wrap = TACNET__API_REPLY__INIT;
    int rc = s_view_show(p, &wrap);
    const Tacnet__ShowCaseReply *sc = wrap.show_case;
    const Tacnet__ActionView *v = rc == 0 ? casestate_action_find(sc->state, u->action_id) : NULL;
    uint32_t me = p->self->profile->agency;
    uint32_t lead = sc->summary && sc->summary->has_lead ? (uint32_t)sc->summary->lead : 0;
    uint32_t owner = v && v->action->has_owner_agency ? (uint32_t)v->action->owner_agency : 0;
    uint32_t minuted = 0;
    int may = v && casestate_action_may_update(sc->state, v, me, lead, &minuted);
    rc = 0;
    if (!v) {
        rc = TACNET_ENOTFOUND;
        agency_reply_error(p->reply, rc,
                           "this case has no action with that id on record here: choose one of "
                           "the case's actions; nothing was sent");
    } else if (!may) {
        rc = TACNET_EFORBIDDEN;
        agency_reply_error(p->reply, rc,
                           "this action is %s's: it is marked by %s, by the lead professional's "
                           "agency%s%s%s or by the agency that recorded the meeting%s%s%s; "
                           "nothing was sent",
                           owner ? labels_agency(owner) : "another agency",
                           owner ? labels_agency(owner) : "its owner", lead ? " (" : "",
                           lead ? labels_agency(lead) : "", lead ? ")" : "", minuted ? " (" : "",
                           minuted ? labels_agency(minuted) : "", minuted ? ")" : "");
    }
    agency_reply_free(&wrap);
    return rc;
}

/* GBO scores: each for a goal of this agency's plan as its view holds it (goals_gbo_check), so a
 * score of goal 3 on a one-goal plan is refused here rather than kept as progress on no goal.
 * The plan they score is written into the event (outcome_measure.plan_id) when the sender did not
 * name it, so every view counts them for that plan only, not for a later plan's goal 1. */
static int s_gbo_goals(publish_t *p)
{
    Tacnet__OutcomeMeasure *m = p->req->kind == TACNET__EVENT_KIND__OUTCOME_MEASURE && p->req->body
                                    ? p->req->body->outcome_measure
                                    : NULL;
    if (!m || !m->n_goal_ids || !p->found)
        return 0;
    Tacnet__ApiReply wrap = TACNET__API_REPLY__INIT;
    int rc = s_view_show(p, &wrap);
    const Tacnet__CaseState *st = rc == 0 ? wrap.show_case->state : NULL;
    char why[384];
    long plan = -1;
    rc = st ? goals_gbo_check(m, p->self->profile->agency, st->plans, st->n_plans, &plan, why,
                              sizeof(why))
            : 0;
    if (rc != 0) {
        agency_reply_error(p->reply, rc, "%s; nothing was sent", why);
    } else if (plan >= 0 && !m->has_plan_id && st->plans[plan]->has_plan_id) {
        const ProtobufCBinaryData *id = &st->plans[plan]->plan_id;
        m->plan_id.data = xmalloc(id->len);
        memcpy(m->plan_id.data, id->data, id->len);
        m->plan_id.len = id->len;
        m->has_plan_id = 1;
    }
    agency_reply_free(&wrap);
    return rc;
}

/* Closing: not while an escalation of the case is open with no resolution proposed (the broker
 * refuses it too, without naming it): its timers would run on a case nobody can answer on. */
static int s_closing(publish_t *p)
{
    if (p->req->kind != TACNET__EVENT_KIND__CASE_CLOSED || !p->found)
        return 0;
    Tacnet__ApiReply wrap = TACNET__API_REPLY__INIT;
    int rc = s_view_show(p, &wrap);
    const Tacnet__CaseState *st = rc == 0 ? wrap.show_case->state : NULL;
    size_t open = 0;
    char list[320] = "";
    size_t used = 0;
    for (size_t i = 0; st && i < st->n_escalations; i++) {
        const Tacnet__EscalationView *e = st->escalations[i];
        if (e->has_state && e->state != TACNET__ESCALATION_EVENT__ESC_OPENED &&
            e->state != TACNET__ESCALATION_EVENT__ESC_ADVANCED)
            continue;
        const char *about = labels_escalation_about(e);
        int n = snprintf(list + used, sizeof(list) - used, "%sstage %u%s%s", open ? "; " : "",
                         e->has_stage ? e->stage : 1, about ? ", " : "", about ? about : "");
        if (n > 0 && (size_t)n < sizeof(list) - used)
            used += (size_t)n;
        open++;
    }
    rc = 0;
    if (open) {
        rc = TACNET_EFORBIDDEN;
        agency_reply_error(p->reply, rc,
                           "%zu escalation%s of this case %s open with no resolution proposed "
                           "(%s): propose a resolution for %s first (a party or the lead may), "
                           "then close the case; nothing was sent",
                           open, open == 1 ? "" : "s", open == 1 ? "is" : "are", list,
                           open == 1 ? "it" : "each");
    }
    agency_reply_free(&wrap);
    return rc;
}

/* A dry run ends here: remember the case as this row leaves it for the rows after it. */
static void s_dry_run_note(publish_t *p)
{
    route_case_t *next = s_import_case(p->ic, &p->req->case_ref, 1);
    if (!next)
        return;
    if (!p->found)
        memset(&p->c, 0, sizeof(p->c));
    route_apply(&p->c, &p->h);
    *next = p->c;
}

/* The recipients the route requires, each with its current key in the roster. */
static int s_recipients(publish_t *p)
{
    p->ns = 0;
    for (unsigned a = 1; a < ROUTE_MAX_AGENCY && p->ns < SEAL_MAX_RECIPIENTS; a++) {
        if (!(p->v.required & (1u << a)))
            continue;
        const Tacnet__NodeKey *k = roster_key_current(p->self->roster, a, p->now_ms);
        if (!k) {
            agency_reply_error(p->reply, TACNET_EKEYID,
                               "no valid key for recipient %s in the roster", names_agency(a));
            return TACNET_EKEYID;
        }
        p->sr[p->ns].agency = a;
        p->sr[p->ns].key_id = k->key_id;
        memcpy(p->sr[p->ns].seal_pk, k->seal_pk.data, SEAL_KEY_BYTES);
        p->rcpt[p->ns++] = (Tacnet__Agency)a;
    }
    p->h.n_recipients = p->ns;
    return 0;
}

/* seal: the body (with its msg_id and sender) sealed for the recipients. Not signed here: the
 * outbox pump signs each send turn once when it sends it (agency.c), so an event queued and sent
 * in a turn of many costs no Ed25519 signature of its own; the record's signature slot stays
 * empty (outbox.h). */
static int s_seal(publish_t *p)
{
    Tacnet__Body *body = p->req->body;
    int rc = s_recipients(p);
    if (rc != 0)
        return rc;
    body->has_msg_id = 1;
    body->msg_id.data = p->msg_id;
    body->msg_id.len = 16;
    body->has_sender = 1;
    body->sender = p->h.sender;
    size_t blen;
    uint8_t *bbuf = wire_pack(&body->base, &blen);
    p->hbuf = wire_pack(&p->h.base, &p->hlen);
    /* The request's body buffer is freed with the request; detach our msg_id first. */
    body->msg_id.data = NULL;
    body->msg_id.len = 0;
    body->has_msg_id = 0;
    memset(p->sig, 0, sizeof(p->sig));
    rc = seal_event(p->self->seal, p->hbuf, p->hlen, bbuf, blen, p->sr, p->ns, &p->sealed, &p->slen,
                    NULL);
    sodium_memzero(bbuf, blen);
    free(bbuf);
    if (rc != 0) {
        free(p->hbuf);
        free(p->sealed);
        p->hbuf = p->sealed = NULL;
        agency_reply_error(p->reply, rc, "could not queue the event: %s", tacnet_strerror(rc));
        return rc;
    }
    /* An event larger than the broker takes could never be sent: refused here, before it is
     * queued (queued, it would wait at the head of the outbox for good). The test hook queues
     * one anyway, for the outbox pump's own check (agency.c). */
    if ((p->slen > WIRE_MAX_SEALED || p->hlen > WIRE_MAX_HEADER) &&
        !FAULT_SKIP("agency.queue_too_big")) {
        agency_reply_error(p->reply, TACNET_ETOOBIG,
                           "the event sealed for its %zu recipients is %zu bytes, and the broker "
                           "takes at most %u: shorten its free text; nothing was queued",
                           p->ns, p->slen + p->hlen, (unsigned)WIRE_MAX_SEALED);
        free(p->hbuf);
        free(p->sealed);
        p->hbuf = p->sealed = NULL;
        return TACNET_ETOOBIG;
    }
    return 0;
}

/* A keyed request sent again after the broker refused it: forget the refusal (its dead letter,
 * its settled record and the key's first answer), since this send replaces it. */
static int s_refusal_clear(agency_t *self, MDB_txn *txn, const uint8_t *refused_id,
                           const uint8_t *key_id)
{
    MDB_dbi dbs[] = { self->dead, self->settled, self->api_ids, self->dead_body, self->withdrawn };
    for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
        int rc = store_del(txn, dbs[i], i == 2 ? key_id : refused_id, 16);
        if (rc != 0 && rc != TACNET_ENOTFOUND)
            return rc;
    }
    return 0;
}

/* In the outbox write's transaction: the record, its msg_id and per-case index entries (so the
 * publish path sees this case's queued events and settling can remove them), the sender_seq,
 * a request key's msg_id for retries, and the audit entry. */
static int s_outbox_put(MDB_txn *txn, void *arg)
{
    publish_t *p = arg;
    agency_t *self = p->self;
    uint8_t key[8], ids[AGENCY_OUTBOX_IDS_BYTES], ck[AGENCY_OUTBOX_CASE_KEY_BYTES];
    agency_outbox_record_t rec = {
        .header = p->hbuf, .hlen = p->hlen, .sealed = p->sealed, .slen = p->slen, .sig = p->sig
    };
    size_t n;
    uint8_t *v = agency_outbox_encode(&rec, &n);
    store_u64_put(key, p->sender_seq);
    int rc = store_put(txn, self->outbox, key, 8, v, n, MDB_NOOVERWRITE);
    free(v);
    agency_outbox_ids_encode(ids, p->sender_seq, p->blind);
    agency_outbox_case_key(ck, p->blind, p->sender_seq);
    if (rc == 0)
        rc = store_put(txn, self->outbox_ids, p->msg_id, 16, ids, sizeof(ids), 0);
    if (rc == 0)
        rc = store_put(txn, self->outbox_case, ck, sizeof(ck), "", 0, 0);
    if (rc == 0)
        rc = agency_meta_put(self, txn, "sender_seq", p->sender_seq);
    if (rc == 0 && p->req->has_request_key && p->refused_before)
        rc = s_refusal_clear(self, txn, p->refused_id, p->key_id);
    if (rc == 0 && p->req->has_request_key) {
        uint8_t seen[40];
        memcpy(seen, key, 8);
        memcpy(seen + 8, p->msg_id, 16);
        memcpy(seen + 24, p->key_print, 16);
        rc = store_put(txn, self->api_ids, p->key_id, 16, seen, sizeof(seen), MDB_NOOVERWRITE);
    }
    char hex[33];
    wire_msgid_hex(p->msg_id, 16, hex);
    if (rc == 0)
        rc = agency_audit(self, txn, "api", "publish", hex, "queued", 0);
    if (rc == 0 && p->has_replaces)
        rc = agency_outcome_withdraw(self, txn, p->replaces, p->msg_id);
    return rc;
}

/* outbox write: queued durably, then answered and sent. */
static int s_outbox_write(publish_t *p)
{
    int rc = store_write(p->self->store, s_outbox_put, p);
    free(p->hbuf);
    free(p->sealed);
    p->hbuf = p->sealed = NULL;
    if (rc != 0) {
        agency_reply_error(p->reply, rc, "could not queue the event: %s", tacnet_strerror(rc));
        return rc;
    }
    FAULT_POINT("agency.after_outbox_commit");
    char hex[33];
    wire_msgid_hex(p->msg_id, 16, hex);
    log_debug("queued %s %s seq %llu for %zu recipients", names_kind(p->req->kind), hex,
              (unsigned long long)p->sender_seq, p->ns);
    s_reply_published(p->reply, p->msg_id, p->sender_seq, 0);
    /* Who will receive it, so that an event only its sender keeps says so before it is sent. */
    Tacnet__PublishReply *pr = p->reply->published;
    pr->recipients = xcalloc(p->ns ? p->ns : 1, sizeof(*pr->recipients));
    for (size_t i = 0; i < p->ns; i++)
        if (p->rcpt[i] != p->h.sender)
            pr->recipients[pr->n_recipients++] = p->rcpt[i];
    agency_outbox_pump(p->self);
    return 0;
}

/* Run the stages on P up to the outbox write: a dry run stops after the route, before anything
 * is sealed or written, so an import can check every row before queueing any (P->ic carries
 * the case states of the rows checked before this one). Returns 0, PUBLISH_ANSWERED (a keyed
 * retry already queued) or the code with the reason in P->reply. */
static int s_stages(publish_t *p)
{
    int rc = s_validate(p);
    if (rc == 0)
        rc = s_msg_id(p);
    if (rc == 0)
        rc = s_replaces(p);
    if (rc == 0)
        rc = s_header_rules(p);
    if (rc == 0)
        rc = s_workflow(p);
    if (rc == 0)
        rc = s_identifiers(p);
    if (rc == 0)
        rc = s_case(p);
    if (rc == 0)
        rc = s_case_initials(p);
    if (rc == 0)
        rc = s_membership(p);
    if (rc == 0)
        rc = s_escalation(p);
    if (rc == 0)
        rc = s_header(p);
    if (rc == 0)
        rc = s_basis(p);
    if (rc == 0)
        rc = s_route(p);
    if (rc == 0)
        rc = s_escalation_reach(p);
    if (rc == 0)
        rc = s_minutes(p);
    if (rc == 0)
        rc = s_schedule(p);
    if (rc == 0)
        rc = s_action_update(p);
    if (rc == 0)
        rc = s_closing(p);
    if (rc == 0)
        rc = s_gbo_goals(p);
    if (rc == 0 && p->dry_run)
        s_dry_run_note(p);
    if (rc == 0 && !p->dry_run)
        rc = s_seal(p);
    return rc;
}

int agency_publish(agency_t *self, Tacnet__PublishRequest *req, Tacnet__ApiReply *reply)
{
    if (self->restored) {
        /* Numbered now, an event could reuse a number the broker accepted after the backup
         * (agency.c, s_restored_renumber): it waits for the first WELCOME. */
        agency_reply_error(reply, TACNET_EHOSTUNREACH,
                           "this view was restored from a backup and has not yet heard from the "
                           "broker how far this agency's events were accepted: nothing was sent; "
                           "send it again once the daemon is connected");
        return TACNET_EHOSTUNREACH;
    }
    publish_t p = { .self = self, .req = req, .reply = reply };
    int rc = s_stages(&p);
    if (rc == 0)
        rc = s_outbox_write(&p);
    if (rc == PUBLISH_ANSWERED)
        agency_reply_duplicate_recipients(self, reply);
    return rc == PUBLISH_ANSWERED ? 0 : rc;
}

/* ------------------------------------------------------------------ import */

agency_publish_cases_t *agency_publish_cases_new(void)
{
    return xcalloc(1, sizeof(agency_publish_cases_t));
}

void agency_publish_cases_destroy(agency_publish_cases_t **cases_p)
{
    if (!cases_p || !*cases_p)
        return;
    free(*cases_p);
    *cases_p = NULL;
}

void agency_publish_row_key(Tacnet__PublishRequest *req)
{
    if (req->has_request_key)
        return;
    size_t len;
    uint8_t *packed = wire_pack(&req->base, &len), hash[16];
    crypto_generichash(hash, sizeof(hash), packed, len, NULL, 0);
    free(packed);
    char *key = xmalloc(4 + 32 + 1);
    memcpy(key, "row:", 4);
    sodium_bin2hex(key + 4, 33, hash, sizeof(hash));
    req->has_request_key = 1;
    req->request_key.data = (uint8_t *)key;
    req->request_key.len = 4 + 32;
}

int agency_publish_check(agency_t *self, Tacnet__PublishRequest *req, Tacnet__ApiReply *reply,
                         agency_publish_cases_t *cases)
{
    publish_t p = { .self = self, .req = req, .reply = reply, .dry_run = 1, .ic = cases };
    int rc = s_stages(&p);
    return rc == PUBLISH_ANSWERED ? 0 : rc;
}

/* The rows of one batch, sealed and waiting for their one write transaction. */
typedef struct {
    publish_t *rows;
    size_t n;
} publish_batch_t;

/* In the batch's write transaction: each new row as s_outbox_put writes a single publish (the
 * record, its indexes, the sender_seq, the request key and its audit entry), in sender_seq
 * order. */
static int s_batch_put(MDB_txn *txn, void *arg)
{
    publish_batch_t *b = arg;
    for (size_t i = 0; i < b->n; i++) {
        if (!b->rows[i].hbuf)
            continue; /* a duplicate: nothing to write */
        int rc = s_outbox_put(txn, &b->rows[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The agency's last sender_seq, committed. Returns 0 or a store code. */
static int s_sender_seq(agency_t *self, uint64_t *seq)
{
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    rc = agency_meta_get(self, txn, "sender_seq", seq);
    mdb_txn_abort(txn);
    return rc == TACNET_ENOTFOUND ? 0 : rc;
}

/* Seal rows of REQS into B->rows until N, BUDGET_US or a second row on one case (it must see
 * the first as queued, so it waits for the next batch). Returns the rows taken, or a code with
 * the reason in REPLY. */
static long s_batch_seal(agency_t *self, Tacnet__PublishRequest **reqs, size_t n,
                         uint64_t budget_us, publish_batch_t *b, agency_publish_queued_t *out,
                         Tacnet__ApiReply *reply)
{
    uint64_t seq = 0, t0 = clock_elapsed_us();
    size_t fresh = 0;
    int rc = s_sender_seq(self, &seq);
    uint8_t(*blinds)[16] = xcalloc(n ? n : 1, 16);
    while (rc == 0 && b->n < n && (b->n == 0 || clock_elapsed_us() - t0 < budget_us)) {
        uint8_t blind[16];
        const ProtobufCBinaryData *ref = &reqs[b->n]->case_ref;
        agency_view_blind(self, ref->data, ref->len, blind);
        int again = 0;
        for (size_t i = 0; i < fresh && !again; i++)
            again = memcmp(blinds[i], blind, 16) == 0;
        if (again)
            break;
        Tacnet__ApiReply one = TACNET__API_REPLY__INIT;
        publish_t *p = &b->rows[b->n];
        *p = (publish_t){
            .self = self, .req = reqs[b->n], .reply = &one, .batch_seq = seq + fresh + 1
        };
        rc = s_stages(p);
        p->reply = NULL;
        if (rc == 0 || rc == PUBLISH_ANSWERED) {
            memcpy(out[b->n].msg_id, p->msg_id, 16);
            out[b->n].duplicate = rc == PUBLISH_ANSWERED;
            if (rc == 0)
                memcpy(blinds[fresh++], p->blind, 16);
            b->n++;
            rc = 0;
        } else {
            agency_reply_error(reply, rc, "%s", one.reason ? one.reason : tacnet_strerror(rc));
        }
        agency_reply_free(&one);
    }
    free(blinds);
    return rc != 0 ? rc : (long)b->n;
}

long agency_publish_batch(agency_t *self, Tacnet__PublishRequest **reqs, size_t n,
                          uint64_t budget_us, agency_publish_queued_t *out, Tacnet__ApiReply *reply)
{
    if (n > AGENCY_PUBLISH_BATCH_MAX)
        n = AGENCY_PUBLISH_BATCH_MAX;
    publish_batch_t b = { .rows = xcalloc(n ? n : 1, sizeof(publish_t)) };
    long rc = s_batch_seal(self, reqs, n, budget_us, &b, out, reply);
    size_t fresh = 0;
    for (size_t i = 0; i < b.n; i++)
        fresh += b.rows[i].hbuf != NULL;
    if (rc > 0 && fresh > 0) {
        int wrc = store_write(self->store, s_batch_put, &b);
        if (wrc != 0) {
            agency_reply_error(reply, wrc, "could not queue the events: %s", tacnet_strerror(wrc));
            rc = wrc;
        } else {
            FAULT_POINT("agency.after_outbox_commit");
            log_info("queued %zu imported events, seq %llu to %llu", fresh,
                     (unsigned long long)b.rows[0].sender_seq,
                     (unsigned long long)b.rows[b.n - 1].sender_seq);
        }
    }
    for (size_t i = 0; i < b.n; i++) {
        free(b.rows[i].hbuf);
        free(b.rows[i].sealed);
    }
    free(b.rows);
    if (rc > 0 && fresh > 0)
        agency_outbox_pump(self);
    return rc;
}
