/* publish: the publish path as stages, from a request to a queued, sealed event (publish.h). */
#include "internal.h"
#include "agency/outbox.h"
#include "casework/header_rules.h"
#include "casework/intake.h"
#include "casework/workflow.h"
#include "err.h"
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
typedef struct {
    size_t n;
    struct {
        uint8_t ref[64];
        size_t len;
        route_case_t c;
    } v[64];
} import_cases_t;

/* One publish on its way through the stages: what each stage leaves for the next. */
typedef struct publish {
    agency_t *self;
    Tacnet__PublishRequest *req;
    Tacnet__ApiReply *reply;
    int dry_run;        /* stop after the route stage: nothing sealed, nothing written */
    import_cases_t *ic; /* a dry run's case states (NULL outside an import) */
    uint8_t msg_id[16];
    uint64_t now_ms;
    uint64_t sender_seq; /* the one this event takes */
    route_case_t c;      /* the case as it will be; valid when found */
    int found;
    Tacnet__Header h;
    Tacnet__Agency rcpt[ROUTE_MAX_AGENCY];
    route_verdict_t v;
    seal_recipient_t sr[SEAL_MAX_RECIPIENTS];
    size_t ns;
    uint8_t *hbuf, *sealed; /* packed header, sealed body: owned until the outbox write */
    size_t hlen, slen;
    uint8_t sig[SEAL_SIG_BYTES];
    uint8_t blind[16]; /* the case's blind token */
} publish_t;

/* ------------------------------------------------------------------ identifier text check */

/* Walk every string field of M (recursing into sub-messages), checking each against the
 * identifier policy; the path names the field for the practitioner ("decision.rationale"). */
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
            if (f->label == PROTOBUF_C_LABEL_REPEATED)
                snprintf(sub, sizeof(sub), "%s%s%s[%zu]", path, *path ? "." : "", f->name, k);
            else
                snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", f->name);
            if (f->type == PROTOBUF_C_TYPE_STRING) {
                const char *s = ((const char *const *)elems)[k];
                if (!s || !*s)
                    continue;
                policy_finding_t fs[16];
                size_t n = 0;
                if (policy_text_check(self->policy, reg, s, strlen(s), fs, 16, &n) != 0) {
                    found = 1;
                    for (size_t j = 0; j < n && j < 16; j++)
                        agency_reply_finding(reply, policy_kind_name(fs[j].kind), fs[j].start,
                                             fs[j].end, sub);
                }
            } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                const ProtobufCMessage *c = ((const ProtobufCMessage *const *)elems)[k];
                if (c)
                    found |= s_walk(self, reg, c, sub, reply, depth + 1);
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

/* The msg_id of a keyed publish: BLAKE2b-128 over a context, the agency and the key, so one
 * agency's keys cannot name (and be deduplicated against) another agency's events. */
static void s_request_msg_id(const agency_t *self, const ProtobufCBinaryData *key,
                             uint8_t msg_id[16])
{
    crypto_generichash_state st;
    uint8_t agency = (uint8_t)self->profile->agency;
    crypto_generichash_init(&st, NULL, 0, 16);
    crypto_generichash_update(&st, (const uint8_t *)"tacnet-request/1", 16);
    crypto_generichash_update(&st, &agency, 1);
    crypto_generichash_update(&st, key->data, key->len);
    crypto_generichash_final(&st, msg_id, 16);
}

/* A publish whose msg_id (from a request key) was queued before: 1 with *SENDER_SEQ, 0 if new,
 * or a negative store code. Checked before anything else, so a retry gets the first answer even
 * if the case or the roster has moved on since. */
static int s_keyed_seen(agency_t *self, const uint8_t *msg_id, uint64_t *sender_seq)
{
    MDB_txn *txn;
    MDB_val v;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    rc = store_get(txn, self->api_ids, msg_id, 16, &v);
    if (rc == 0 && v.mv_size == 8)
        *sender_seq = store_u64_get(v.mv_data);
    /* Refused by the broker: nobody received it, so the same request may be sent again once its
     * cause is fixed (the outbox write clears the refusal). */
    if (rc == 0 && store_get(txn, self->dead, msg_id, 16, &v) == 0)
        rc = TACNET_ENOTFOUND;
    mdb_txn_abort(txn);
    if (rc == TACNET_ENOTFOUND)
        return 0;
    return rc == 0 ? 1 : rc;
}

/* Our own events still in the outbox are not in the view until the broker delivers them back;
 * apply their headers to C so that publishing twice in a row on a case (open it, then write to
 * it) is checked against the case as it will be, not as the view last saw it. */
static int s_outbox_overlay(agency_t *self, MDB_txn *txn, const uint8_t blind[16], route_case_t *c,
                            int *found)
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
        int err = 0;
        Tacnet__Header *h = wire_header_unpack(rec.header, rec.hlen, &err);
        if (!h)
            continue;
        if (!*found)
            memset(c, 0, sizeof(*c));
        *found = 1;
        route_apply(c, h);
        wire_free(&h->base);
    }
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

/* The event's msg_id: fresh, or derived from the request key, when a retry of a publish already
 * queued is answered with the first one (PUBLISH_ANSWERED). */
static int s_msg_id(publish_t *p)
{
    if (!p->req->has_request_key) {
        wire_msgid_new(p->msg_id);
        return 0;
    }
    s_request_msg_id(p->self, &p->req->request_key, p->msg_id);
    if (p->dry_run)
        return 0;
    uint64_t seen_seq = 0;
    int rc = s_keyed_seen(p->self, p->msg_id, &seen_seq);
    if (rc < 0) {
        agency_reply_error(p->reply, rc, "could not check the request key: %s",
                           tacnet_strerror(rc));
        return rc;
    }
    if (rc == 1) {
        s_reply_published(p->reply, p->msg_id, seen_seq, 1);
        return PUBLISH_ANSWERED;
    }
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
    if (rc != 0)
        agency_reply_error(p->reply, rc, "%s", why);
    return rc;
}

/* identifiers: the case reference and initials formats, then free text (findings). */
static int s_identifiers(publish_t *p)
{
    Tacnet__PublishRequest *req = p->req;
    int rc;
    if ((rc = policy_case_ref_check(req->case_ref.data, req->case_ref.len)) != 0 ||
        (rc = policy_initials_check(req->initials.data, req->initials.len)) != 0) {
        agency_reply_error(p->reply, rc, "%s", tacnet_strerror(rc));
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

/* The case as it will be (the view, then our queued events, then an import's earlier rows)
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
            rc = agency_view_case_get(self, txn, ref->data, ref->len, &p->c, &p->found);
        if (rc == 0)
            rc = s_outbox_overlay(self, txn, p->blind, &p->c, &p->found);
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
    return 0;
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
static const char *s_escalation_refusal(uint32_t kind, const Tacnet__EscalationView *e,
                                        uint32_t agency, int lead)
{
    int party = 0;
    for (size_t i = 0; i < e->n_parties; i++)
        party |= (uint32_t)e->parties[i] == agency;
    if (kind == TACNET__EVENT_KIND__ESCALATION_RESPONSE && !party)
        return "only a party to the escalation answers it";
    if (kind == TACNET__EVENT_KIND__ESCALATION_RESOLVED && !party && !lead)
        return "only a party or the lead professional resolves an escalation";
    if (kind == TACNET__EVENT_KIND__ESCALATION_ACK && !party)
        return "only a party acknowledges a resolution";
    return NULL;
}

/* escalation: an answer to an escalation (response, resolution, acknowledgement) is checked
 * against the escalation as this agency's view holds it, so what the broker would refuse is
 * refused here, before anything is sent. */
static int s_escalation(publish_t *p)
{
    uint32_t kind = p->req->kind;
    if (kind != TACNET__EVENT_KIND__ESCALATION_RESPONSE &&
        kind != TACNET__EVENT_KIND__ESCALATION_RESOLVED &&
        kind != TACNET__EVENT_KIND__ESCALATION_ACK)
        return 0;
    Tacnet__ApiReply wrap = TACNET__API_REPLY__INIT;
    wrap.result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
    wrap.show_case = xcalloc(1, sizeof(*wrap.show_case));
    tacnet__show_case_reply__init(wrap.show_case);
    const ProtobufCBinaryData *ref = &p->req->case_ref;
    int rc = agency_view_show(p->self, ref->data, ref->len, wrap.show_case);
    const Tacnet__EscalationView *e =
        rc == 0 ? s_escalation_find(wrap.show_case, &p->req->refers_to) : NULL;
    uint32_t me = p->self->profile->agency;
    if (rc == 0 || rc == TACNET_ENOTFOUND) {
        const Tacnet__CaseSummary *sum = wrap.show_case->summary;
        int lead = sum && sum->has_lead && (uint32_t)sum->lead == me;
        const char *why = !e ? "refers_to names no escalation of this case"
                             : s_escalation_refusal(kind, e, me, lead);
        rc = !why ? 0 : !e ? TACNET_EFIELD : TACNET_ENOTMEMBER;
        if (why)
            agency_reply_error(p->reply, rc, "%s; nothing was sent", why);
    } else {
        agency_reply_error(p->reply, rc, "could not read the case: %s", tacnet_strerror(rc));
    }
    agency_reply_free(&wrap);
    return rc;
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
    return 0;
}

/* route: the same rule the broker applies decides the recipients, so a refusal is explained
 * here before anything is queued. */
static int s_route(publish_t *p)
{
    p->h.recipients = p->rcpt;
    p->h.n_recipients = 0;
    int rc = route_check(p->found ? &p->c : NULL, &p->h, p->self->roster, &p->v);
    if (rc != 0 && rc != TACNET_ERECIPIENTS) {
        agency_reply_error(p->reply, rc, "%s", tacnet_strerror(rc));
        return rc;
    }
    return 0;
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

/* seal: the body (with its msg_id and sender) sealed for the recipients, the header signed. */
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
    rc = seal_event(p->self->seal, p->hbuf, p->hlen, bbuf, blen, p->sr, p->ns, &p->sealed, &p->slen,
                    p->sig);
    sodium_memzero(bbuf, blen);
    free(bbuf);
    if (rc != 0) {
        free(p->hbuf);
        free(p->sealed);
        p->hbuf = p->sealed = NULL;
        agency_reply_error(p->reply, rc, "could not queue the event: %s", tacnet_strerror(rc));
    }
    return rc;
}

/* A keyed request sent again after the broker refused it: forget the refusal (its dead letter,
 * its settled record and the key's first answer), since this send replaces it. */
static int s_refusal_clear(agency_t *self, MDB_txn *txn, const uint8_t *msg_id)
{
    MDB_dbi dbs[] = { self->dead, self->settled, self->api_ids };
    for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
        int rc = store_del(txn, dbs[i], msg_id, 16);
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
    if (rc == 0 && p->req->has_request_key)
        rc = s_refusal_clear(self, txn, p->msg_id);
    if (rc == 0 && p->req->has_request_key)
        rc = store_put(txn, self->api_ids, p->msg_id, 16, key, 8, MDB_NOOVERWRITE);
    char hex[33];
    wire_msgid_hex(p->msg_id, 16, hex);
    if (rc == 0)
        rc = agency_audit(self, txn, "api", "publish", hex, "queued", 0);
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
    log_info("queued %s %s seq %llu for %zu recipients", names_kind(p->req->kind), hex,
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

/* Run the stages on REQ. A DRY_RUN stops after the route, before anything is sealed or
 * written, so an import can check every row before queueing any; IC (may be NULL) carries the
 * case states of the rows checked before this one. */
static int s_publish(agency_t *self, Tacnet__PublishRequest *req, Tacnet__ApiReply *reply,
                     int dry_run, import_cases_t *ic)
{
    publish_t p = { .self = self, .req = req, .reply = reply, .dry_run = dry_run, .ic = ic };
    int rc = s_validate(&p);
    if (rc == 0)
        rc = s_msg_id(&p); /* PUBLISH_ANSWERED: a keyed retry, already queued */
    if (rc == 0)
        rc = s_header_rules(&p);
    if (rc == 0)
        rc = s_workflow(&p);
    if (rc == 0)
        rc = s_identifiers(&p);
    if (rc == 0)
        rc = s_case(&p);
    if (rc == 0)
        rc = s_escalation(&p);
    if (rc == 0)
        rc = s_header(&p);
    if (rc == 0)
        rc = s_route(&p);
    if (rc == 0 && dry_run)
        s_dry_run_note(&p);
    if (rc == 0 && !dry_run)
        rc = s_seal(&p);
    if (rc == 0 && !dry_run)
        rc = s_outbox_write(&p);
    return rc == PUBLISH_ANSWERED ? 0 : rc;
}

int agency_publish(agency_t *self, Tacnet__PublishRequest *req, Tacnet__ApiReply *reply)
{
    return s_publish(self, req, reply, 0, NULL);
}

/* ------------------------------------------------------------------ import */

/* The intake file's malformed rows, line by line; nothing is imported. */
static void s_import_errors(Tacnet__ApiReply *reply, const char *path, int rc,
                            const intake_result_t *res)
{
    Tacnet__ImportReply *out = reply->imported;
    out->errors = xcalloc(res->n_errors ? res->n_errors : 1, sizeof(char *));
    for (size_t i = 0; i < res->n_errors; i++) {
        char line[200];
        snprintf(line, sizeof(line), "line %u: %s", res->errors[i].line, res->errors[i].message);
        out->errors[out->n_errors++] = xstrdup(line);
    }
    agency_reply_error(reply, rc, "%s: %s; nothing was imported", path, tacnet_strerror(rc));
}

/* A row's request key, so that the same row imported twice is queued once: "row:" and the hex
 * of a 16-byte BLAKE2b of the request as the row makes it (before any key is set). */
static void s_row_key(Tacnet__PublishRequest *req)
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

void agency_publish_import(agency_t *self, Tacnet__ImportRequest *ir, Tacnet__ApiReply *reply)
{
    intake_result_t res;
    memset(&res, 0, sizeof(res));
    reply->imported = xcalloc(1, sizeof(*reply->imported));
    tacnet__import_reply__init(reply->imported);
    reply->result_case = TACNET__API_REPLY__RESULT_IMPORTED;
    int rc = self->profile->intake(ir->path, &res);
    if (rc != 0) {
        s_import_errors(reply, ir->path, rc, &res);
        intake_result_clear(&res);
        return;
    }
    import_cases_t *ic = xcalloc(1, sizeof(*ic));
    for (size_t i = 0; i < res.n_requests; i++)
        s_row_key(res.requests[i]);
    for (size_t i = 0; i < res.n_requests; i++) {
        if ((rc = s_publish(self, res.requests[i], reply, 1, ic)) != 0) {
            char why[256];
            snprintf(why, sizeof(why), "row %zu of %s refused (%s); nothing was imported", i + 1,
                     ir->path, reply->reason ? reply->reason : tacnet_strerror(rc));
            agency_reply_error(reply, rc, "%s", why);
            intake_result_clear(&res);
            free(ic);
            return;
        }
    }
    free(ic);
    Tacnet__ImportReply *out = reply->imported;
    out->msg_ids = xcalloc(res.n_requests ? res.n_requests : 1, sizeof(*out->msg_ids));
    for (size_t i = 0; i < res.n_requests; i++) {
        Tacnet__ApiReply one = TACNET__API_REPLY__INIT;
        if ((rc = s_publish(self, res.requests[i], &one, 0, NULL)) != 0) {
            /* Storage failed part-way: what was queued will be sent; say exactly how much. */
            agency_reply_error(reply, rc, "storage failed after %zu of %zu rows were queued", i,
                               res.n_requests);
            agency_reply_free(&one);
            break;
        }
        out->msg_ids[out->n_msg_ids].data = one.published->msg_id.data;
        out->msg_ids[out->n_msg_ids++].len = 16;
        if (one.published->has_duplicate && one.published->duplicate) {
            out->has_duplicates = 1;
            out->duplicates++;
        }
        one.published->msg_id.data = NULL;
        agency_reply_free(&one);
    }
    log_info("imported %zu rows from an intake file", out->n_msg_ids);
    intake_result_clear(&res);
}
