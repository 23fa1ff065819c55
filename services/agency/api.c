/* api: the local API (ipc socket, protobuf) and the publish path shared by every front end. */
#include "internal.h"
#include "agency/sweep.h"
#include "casework/workflow.h"
#include "casework/intake.h"
#include "agency/accounts.h"
#include "err.h"
#include "fault.h"
#include "log.h"
#include "names.h"
#include "wire.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define API_MAX_REQUEST (256 * 1024)

/* Which Body member each event kind must carry. */
static const struct {
    Tacnet__EventKind kind;
    Tacnet__Body__EventCase member;
} s_kind_member[] = {
    { TACNET__EVENT_KIND__REFERRAL, TACNET__BODY__EVENT_REFERRAL },
    { TACNET__EVENT_KIND__CONCERN, TACNET__BODY__EVENT_CONCERN },
    { TACNET__EVENT_KIND__ASSESSMENT, TACNET__BODY__EVENT_ASSESSMENT },
    { TACNET__EVENT_KIND__DECISION, TACNET__BODY__EVENT_DECISION },
    { TACNET__EVENT_KIND__DISAGREEMENT, TACNET__BODY__EVENT_DISAGREEMENT },
    { TACNET__EVENT_KIND__MEETING_REQUESTED, TACNET__BODY__EVENT_MEETING_REQUESTED },
    { TACNET__EVENT_KIND__MEETING_SCHEDULED, TACNET__BODY__EVENT_MEETING_SCHEDULED },
    { TACNET__EVENT_KIND__MEETING_OUTCOME, TACNET__BODY__EVENT_MEETING_OUTCOME },
    { TACNET__EVENT_KIND__CARE_PLAN, TACNET__BODY__EVENT_CARE_PLAN },
    { TACNET__EVENT_KIND__OUTCOME_MEASURE, TACNET__BODY__EVENT_OUTCOME_MEASURE },
    { TACNET__EVENT_KIND__COMMUNICATION_PLAN, TACNET__BODY__EVENT_COMMUNICATION_PLAN },
    { TACNET__EVENT_KIND__CONTACT_LOGGED, TACNET__BODY__EVENT_CONTACT_LOGGED },
    { TACNET__EVENT_KIND__CONSENT_RECORDED, TACNET__BODY__EVENT_CONSENT_RECORDED },
    { TACNET__EVENT_KIND__PARTNERSHIP_RATING, TACNET__BODY__EVENT_PARTNERSHIP_RATING },
    { TACNET__EVENT_KIND__CASE_CLOSED, TACNET__BODY__EVENT_CASE_CLOSED },
    { TACNET__EVENT_KIND__MEMBER_JOINED, TACNET__BODY__EVENT_MEMBER_JOINED },
    { TACNET__EVENT_KIND__MEMBER_LEFT, TACNET__BODY__EVENT_MEMBER_LEFT },
    { TACNET__EVENT_KIND__LEAD_HANDOVER, TACNET__BODY__EVENT_LEAD_HANDOVER },
    { TACNET__EVENT_KIND__LEAD_ACCEPTED, TACNET__BODY__EVENT_LEAD_ACCEPTED },
    { TACNET__EVENT_KIND__ESCALATION_RESPONSE, TACNET__BODY__EVENT_ESCALATION_RESPONSE },
    { TACNET__EVENT_KIND__ESCALATION_RESOLVED, TACNET__BODY__EVENT_ESCALATION_RESOLVED },
    { TACNET__EVENT_KIND__ESCALATION_ACK, TACNET__BODY__EVENT_ESCALATION_ACK },
    { TACNET__EVENT_KIND__ACTION_UPDATE, TACNET__BODY__EVENT_ACTION_UPDATE },
};

static int s_member_for(Tacnet__EventKind kind, Tacnet__Body__EventCase *member)
{
    for (size_t i = 0; i < sizeof(s_kind_member) / sizeof(s_kind_member[0]); i++) {
        if (s_kind_member[i].kind == kind) {
            *member = s_kind_member[i].member;
            return 0;
        }
    }
    return TACNET_EKIND;
}

static void s_reply_error(Tacnet__ApiReply *reply, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_reply_error(Tacnet__ApiReply *reply, int code, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    reply->code = code;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    free(reply->reason);
    reply->reason = xstrdup(buf);
}

static void s_add_finding(Tacnet__ApiReply *reply, const char *kind, uint32_t start, uint32_t end,
                          const char *field)
{
    if (reply->n_findings >= AGENCY_MAX_FINDINGS)
        return;
    if (!reply->findings)
        reply->findings = xcalloc(AGENCY_MAX_FINDINGS, sizeof(*reply->findings));
    Tacnet__Finding *f = xcalloc(1, sizeof(*f));
    tacnet__finding__init(f);
    f->kind = xstrdup(kind);
    f->start = start;
    f->end = end;
    f->field = xstrdup(field);
    reply->findings[reply->n_findings++] = f;
}

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
                        s_add_finding(reply, policy_kind_name(fs[j].kind), fs[j].start, fs[j].end,
                                      sub);
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

int agency_text_check(agency_t *self, const policy_register_t *reg, const ProtobufCMessage *body,
                      Tacnet__ApiReply *reply)
{
    return s_walk(self, reg, body, "", reply, 0) ? TACNET_ETEXT : 0;
}

/* ------------------------------------------------------------------ publish */

typedef struct {
    agency_t *self;
    uint64_t sender_seq;
    const uint8_t *msg_id;
    const uint8_t *header;
    size_t hlen;
    const uint8_t *sealed;
    size_t slen;
    const uint8_t *sig;
    const char *kind;
    uint8_t blind[16]; /* the case's blind token */
    int keyed;         /* msg_id comes from a request key: remember it for retries */
} outbox_put_t;

static int s_outbox_put(MDB_txn *txn, void *arg)
{
    outbox_put_t *o = arg;
    agency_t *self = o->self;
    uint8_t key[8];
    store_u64_put(key, o->sender_seq);
    size_t n = 4 + o->hlen + 4 + o->slen + SEAL_SIG_BYTES;
    uint8_t *v = xmalloc(n), *p = v;
    p[0] = (uint8_t)(o->hlen >> 24), p[1] = (uint8_t)(o->hlen >> 16);
    p[2] = (uint8_t)(o->hlen >> 8), p[3] = (uint8_t)o->hlen;
    memcpy(p + 4, o->header, o->hlen);
    p += 4 + o->hlen;
    p[0] = (uint8_t)(o->slen >> 24), p[1] = (uint8_t)(o->slen >> 16);
    p[2] = (uint8_t)(o->slen >> 8), p[3] = (uint8_t)o->slen;
    memcpy(p + 4, o->sealed, o->slen);
    p += 4 + o->slen;
    memcpy(p, o->sig, SEAL_SIG_BYTES);
    int rc = store_put(txn, self->outbox, key, 8, v, n, MDB_NOOVERWRITE);
    free(v);
    /* The pending-per-case index lets the publish path see this case's own queued events
     * without reading the whole outbox; outbox_ids carries the case token so settling can
     * remove the index entry. */
    uint8_t ids[24], ck[24];
    memcpy(ids, key, 8);
    memcpy(ids + 8, o->blind, 16);
    memcpy(ck, o->blind, 16);
    memcpy(ck + 16, key, 8);
    if (rc == 0)
        rc = store_put(txn, self->outbox_ids, o->msg_id, 16, ids, 24, 0);
    if (rc == 0)
        rc = store_put(txn, self->outbox_case, ck, 24, "", 0, 0);
    if (rc == 0)
        rc = agency_meta_put(self, txn, "sender_seq", o->sender_seq);
    if (rc == 0 && o->keyed)
        rc = store_put(txn, self->api_ids, o->msg_id, 16, key, 8, MDB_NOOVERWRITE);
    char hex[33];
    wire_msgid_hex(o->msg_id, 16, hex);
    if (rc == 0)
        rc = agency_audit(self, txn, "api", "publish", hex, "queued", 0);
    return rc;
}

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

/* Our own events still in the outbox are not in the view until the broker delivers them back;
 * apply their headers to C so that publishing twice in a row on a case (open it, then write to
 * it) is checked against the case as it will be, not as the view last saw it. */
static int s_outbox_overlay(agency_t *self, MDB_txn *txn, const ProtobufCBinaryData *ref,
                            route_case_t *c, int *found)
{
    uint8_t blind[16];
    agency_view_blind(self, ref->data, ref->len, blind);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->outbox_case, &cur);
    if (rc != 0)
        return store_lmdb_err(rc);
    MDB_val k = { 16, blind }, d;
    for (int op = MDB_SET_RANGE; mdb_cursor_get(cur, &k, &d, op) == 0; op = MDB_NEXT) {
        if (k.mv_size != 24 || memcmp(k.mv_data, blind, 16) != 0)
            break;
        MDB_val v;
        if (store_get(txn, self->outbox, (uint8_t *)k.mv_data + 16, 8, &v) != 0 || v.mv_size < 4)
            continue;
        const uint8_t *p = v.mv_data;
        size_t hlen = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        if (4 + hlen > v.mv_size)
            continue;
        int err = 0;
        Tacnet__Header *h = wire_header_unpack(p + 4, hlen, &err);
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

/* Validate REQ and, unless DRY_RUN, seal it and queue it in the outbox. A dry run stops before
 * anything is written, so an import can check every row before queueing any; IC (may be NULL)
 * carries the case states of the rows checked before this one. */
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

#define API_REQUEST_KEY_MAX 64

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

/* A publish whose msg_id (from a request key) was queued before: 1 with *SENDER_SEQ, 0 if new, or a
 * negative store code. Checked before anything else, so a retry gets the first answer even
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
    mdb_txn_abort(txn);
    if (rc == TACNET_ENOTFOUND)
        return 0;
    return rc == 0 ? 1 : rc;
}

static int s_publish(agency_t *self, Tacnet__PublishRequest *req, Tacnet__ApiReply *reply,
                     int dry_run, import_cases_t *ic)
{
    Tacnet__Body__EventCase member;
    Tacnet__Body *body = req->body;
    int rc;
    if (s_member_for(req->kind, &member) != 0) {
        s_reply_error(reply, TACNET_EKIND, "agencies cannot publish %s events",
                      names_kind(req->kind));
        return TACNET_EKIND;
    }
    if (!agency_profile_originates(self->profile, req->kind)) {
        s_reply_error(reply, TACNET_EKIND, "%s does not originate %s events", self->profile->name,
                      names_kind(req->kind));
        return TACNET_EKIND;
    }
    uint8_t msg_id[16];
    if (req->has_request_key &&
        (req->request_key.len == 0 || req->request_key.len > API_REQUEST_KEY_MAX)) {
        s_reply_error(reply, TACNET_EFIELD, "request_key must be 1-%d bytes, not %zu",
                      API_REQUEST_KEY_MAX, req->request_key.len);
        return TACNET_EFIELD;
    }
    if (req->has_request_key) {
        s_request_msg_id(self, &req->request_key, msg_id);
        uint64_t seen_seq = 0;
        rc = dry_run ? 0 : s_keyed_seen(self, msg_id, &seen_seq);
        if (rc < 0) {
            s_reply_error(reply, rc, "could not check the request key: %s", tacnet_strerror(rc));
            return rc;
        }
        if (rc == 1) {
            s_reply_published(reply, msg_id, seen_seq, 1);
            return 0;
        }
    } else {
        wire_msgid_new(msg_id);
    }
    if (body->event_case != member) {
        s_reply_error(reply, TACNET_EFIELD, "a %s event needs its body in the \"%s\" field",
                      names_kind(req->kind), names_kind(req->kind));
        return TACNET_EFIELD;
    }
    char rwhy[256];
    if ((rc = workflow_check(req, rwhy, sizeof(rwhy))) != 0) {
        s_reply_error(reply, rc, "%s", rwhy);
        return rc;
    }
    if ((rc = policy_case_ref_check(req->case_ref.data, req->case_ref.len)) != 0) {
        s_reply_error(reply, rc, "%s", tacnet_strerror(rc));
        return rc;
    }
    if ((rc = policy_initials_check(req->initials.data, req->initials.len)) != 0) {
        s_reply_error(reply, rc, "%s", tacnet_strerror(rc));
        return rc;
    }
    policy_register_t *reg = agency_identity_register(self, req->case_ref.data, req->case_ref.len);
    rc = agency_text_check(self, reg, &body->base, reply);
    policy_register_destroy(&reg);
    if (rc != 0) {
        s_reply_error(reply, rc, "%s; nothing was sent (see findings)", tacnet_strerror(rc));
        return rc;
    }

    uint64_t now = clock_now_ms(), sender_seq = 0;
    MDB_txn *txn;
    route_case_t c;
    int found = 0;
    if ((rc = store_read_begin(self->store, &txn)) != 0)
        goto store_fail;
    rc = agency_meta_get(self, txn, "sender_seq", &sender_seq);
    if (rc == 0)
        rc = agency_view_case_get(self, txn, req->case_ref.data, req->case_ref.len, &c, &found);
    if (rc == 0)
        rc = s_outbox_overlay(self, txn, &req->case_ref, &c, &found);
    mdb_txn_abort(txn);
    route_case_t *prior = s_import_case(ic, &req->case_ref, 0);
    if (prior) {
        c = *prior;
        found = 1;
    }
    if (rc != 0)
        goto store_fail;
    sender_seq++;

    Tacnet__Header h = TACNET__HEADER__INIT;
    h.schema_version = WIRE_SCHEMA_VERSION;
    h.msg_id.data = msg_id;
    h.msg_id.len = 16;
    h.sender = (Tacnet__Agency)self->profile->agency;
    h.kind = req->kind;
    h.case_ref = req->case_ref;
    h.initials = req->initials;
    h.sender_seq = sender_seq;
    h.created_at_ms = now;
    h.sender_key_id = self->keys->key_id;
    const Tacnet__Roster *r = roster_msg(self->roster);
    h.policy_version = r->has_policy_version ? r->policy_version : 1;
    h.sensitivity = req->has_sensitivity
                        ? req->sensitivity
                        : (Tacnet__Sensitivity)self->profile->default_sensitivity(req->kind);
    h.lawful_basis = req->has_lawful_basis ? req->lawful_basis : TACNET__LAWFUL_BASIS__CONSENT;
    h.has_refers_to = req->has_refers_to;
    h.refers_to = req->refers_to;
    h.has_subject_agency = req->has_subject_agency;
    h.subject_agency = req->subject_agency;
    h.has_level_of_need = req->has_level_of_need;
    h.level_of_need = req->level_of_need;
    h.has_urgent = req->has_urgent;
    h.urgent = req->urgent;
    h.has_override_reason = req->has_override_reason;
    h.override_reason = req->override_reason;
    if (req->kind == TACNET__EVENT_KIND__CONSENT_RECORDED && body->consent_recorded &&
        body->consent_recorded->has_state) {
        h.has_consent = 1;
        h.consent = (Tacnet__ConsentState)body->consent_recorded->state;
    }
    /* A referral names the agency it goes to in its body; the header must say so too, since
     * that is what makes the referred-to agency a member. */
    if (req->kind == TACNET__EVENT_KIND__REFERRAL && !h.has_subject_agency && body->referral &&
        body->referral->has_to_agency) {
        h.has_subject_agency = 1;
        h.subject_agency = body->referral->to_agency;
    }
    if ((req->kind == TACNET__EVENT_KIND__REFERRAL ||
         req->kind == TACNET__EVENT_KIND__MEMBER_JOINED) &&
        found && c.consent != TACNET__CONSENT_STATE__CONSENT_UNKNOWN) {
        h.has_consent = 1;
        h.consent = (Tacnet__ConsentState)c.consent;
    }
    if (req->kind == TACNET__EVENT_KIND__REFERRAL && !h.has_consent && body->referral &&
        body->referral->has_consent_obtained && body->referral->consent_obtained &&
        (!found || c.consent == TACNET__CONSENT_STATE__CONSENT_UNKNOWN)) {
        h.has_consent = 1;
        h.consent = TACNET__CONSENT_STATE__GIVEN;
    }
    if (req->kind == TACNET__EVENT_KIND__ASSESSMENT && !h.has_level_of_need && body->assessment &&
        body->assessment->has_level_of_need) {
        h.has_level_of_need = 1;
        h.level_of_need = body->assessment->level_of_need;
    }

    /* The same rule the broker applies decides the recipients, so a refusal is explained
     * here before anything is queued. */
    Tacnet__Agency rcpt[ROUTE_MAX_AGENCY];
    route_verdict_t v;
    h.recipients = rcpt;
    h.n_recipients = 0;
    rc = route_check(found ? &c : NULL, &h, self->roster, &v);
    if (rc != 0 && rc != TACNET_ERECIPIENTS) {
        s_reply_error(reply, rc, "%s", tacnet_strerror(rc));
        return rc;
    }
    if (dry_run) {
        route_case_t *next = s_import_case(ic, &req->case_ref, 1);
        if (next) {
            if (!found)
                memset(&c, 0, sizeof(c));
            route_apply(&c, &h);
            *next = c;
        }
        return 0;
    }
    seal_recipient_t sr[SEAL_MAX_RECIPIENTS];
    size_t ns = 0;
    for (unsigned a = 1; a < ROUTE_MAX_AGENCY && ns < SEAL_MAX_RECIPIENTS; a++) {
        if (!(v.required & (1u << a)))
            continue;
        const Tacnet__NodeKey *k = roster_key_current(self->roster, a, now);
        if (!k) {
            s_reply_error(reply, TACNET_EKEYID, "no valid key for recipient %s in the roster",
                          names_agency(a));
            return TACNET_EKEYID;
        }
        sr[ns].agency = a;
        sr[ns].key_id = k->key_id;
        memcpy(sr[ns].seal_pk, k->seal_pk.data, SEAL_KEY_BYTES);
        rcpt[ns++] = (Tacnet__Agency)a;
    }
    h.n_recipients = ns;

    body->has_msg_id = 1;
    body->msg_id.data = msg_id;
    body->msg_id.len = 16;
    body->has_sender = 1;
    body->sender = h.sender;
    size_t hlen, blen, slen;
    uint8_t *hbuf = wire_pack(&h.base, &hlen), *bbuf = wire_pack(&body->base, &blen);
    uint8_t *sealed = NULL, sig[SEAL_SIG_BYTES];
    /* The request's body buffer is freed with the request; detach our stack msg_id first. */
    body->msg_id.data = NULL;
    body->msg_id.len = 0;
    body->has_msg_id = 0;
    rc = seal_event(self->seal, hbuf, hlen, bbuf, blen, sr, ns, &sealed, &slen, sig);
    sodium_memzero(bbuf, blen);
    free(bbuf);
    if (rc == 0) {
        outbox_put_t o = { .self = self,
                           .sender_seq = sender_seq,
                           .msg_id = msg_id,
                           .header = hbuf,
                           .hlen = hlen,
                           .sealed = sealed,
                           .slen = slen,
                           .sig = sig,
                           .kind = names_kind(req->kind),
                           .keyed = req->has_request_key };
        agency_view_blind(self, req->case_ref.data, req->case_ref.len, o.blind);
        rc = store_write(self->store, s_outbox_put, &o);
    }
    free(hbuf);
    free(sealed);
    if (rc != 0)
        goto store_fail;
    FAULT_POINT("agency.after_outbox_commit");
    char hex[33];
    wire_msgid_hex(msg_id, 16, hex);
    log_info("queued %s %s seq %llu for %zu recipients", names_kind(req->kind), hex,
             (unsigned long long)sender_seq, ns);
    s_reply_published(reply, msg_id, sender_seq, 0);
    agency_outbox_pump(self);
    return 0;
store_fail:
    s_reply_error(reply, rc, "could not queue the event: %s", tacnet_strerror(rc));
    return rc;
}

int agency_publish(agency_t *self, Tacnet__PublishRequest *req, Tacnet__ApiReply *reply)
{
    return s_publish(self, req, reply, 0, NULL);
}

/* Run the profile's intake adapter on a file and publish every row, or none: malformed rows
 * are reported with their line numbers, and a row the publish path would refuse (text policy,
 * membership) stops the import before anything is queued. */
static void s_import(agency_t *self, Tacnet__ImportRequest *ir, Tacnet__ApiReply *reply)
{
    intake_result_t res;
    memset(&res, 0, sizeof(res));
    reply->imported = xcalloc(1, sizeof(*reply->imported));
    tacnet__import_reply__init(reply->imported);
    reply->result_case = TACNET__API_REPLY__RESULT_IMPORTED;
    int rc = self->profile->intake(ir->path, &res);
    if (rc != 0) {
        Tacnet__ImportReply *out = reply->imported;
        out->errors = xcalloc(res.n_errors ? res.n_errors : 1, sizeof(char *));
        for (size_t i = 0; i < res.n_errors; i++) {
            char line[200];
            snprintf(line, sizeof(line), "line %u: %s", res.errors[i].line, res.errors[i].message);
            out->errors[out->n_errors++] = xstrdup(line);
        }
        s_reply_error(reply, rc, "%s: %s; nothing was imported", ir->path, tacnet_strerror(rc));
        intake_result_clear(&res);
        return;
    }
    import_cases_t *ic = xcalloc(1, sizeof(*ic));
    for (size_t i = 0; i < res.n_requests; i++) {
        if ((rc = s_publish(self, res.requests[i], reply, 1, ic)) != 0) {
            char why[256];
            snprintf(why, sizeof(why), "row %zu of %s refused (%s); nothing was imported", i + 1,
                     ir->path, reply->reason ? reply->reason : tacnet_strerror(rc));
            s_reply_error(reply, rc, "%s", why);
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
            s_reply_error(reply, rc, "storage failed after %zu of %zu rows were queued", i,
                          res.n_requests);
            agency_view_reply_free(&one);
            break;
        }
        out->msg_ids[out->n_msg_ids].data = one.published->msg_id.data;
        out->msg_ids[out->n_msg_ids++].len = 16;
        one.published->msg_id.data = NULL;
        agency_view_reply_free(&one);
    }
    log_info("imported %zu rows from an intake file", out->n_msg_ids);
    intake_result_clear(&res);
}

/* ------------------------------------------------------------------ dispatch */

static void s_dispatch(agency_t *self, Tacnet__ApiRequest *req, Tacnet__ApiReply *reply)
{
    int rc = 0;
    switch (req->op_case) {
    case TACNET__API_REQUEST__OP_PUBLISH:
        s_publish(self, req->publish, reply, 0, NULL);
        return;
    case TACNET__API_REQUEST__OP_IMPORT:
        s_import(self, req->import, reply);
        return;
    case TACNET__API_REQUEST__OP_LIST_CASES:
        reply->cases = xcalloc(1, sizeof(*reply->cases));
        tacnet__list_cases_reply__init(reply->cases);
        reply->result_case = TACNET__API_REPLY__RESULT_CASES;
        rc = agency_view_list(self, reply->cases, 1);
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
            agency_view_reply_free(&partial);
            reply->show_case = NULL;
            reply->result_case = TACNET__API_REPLY__RESULT__NOT_SET;
        }
        if (rc == TACNET_ENOTFOUND) {
            s_reply_error(reply, rc, "this agency holds no case with that reference");
            return;
        }
        break;
    case TACNET__API_REQUEST__OP_REGISTER_IDENTITY: {
        Tacnet__RegisterIdentityRequest *ri = req->register_identity;
        if ((rc = policy_case_ref_check(ri->case_ref.data, ri->case_ref.len)) == 0)
            rc = agency_identity_add(self, ri->case_ref.data, ri->case_ref.len, ri->names,
                                     ri->n_names);
        break;
    }
    case TACNET__API_REQUEST__OP_FOLLOW:
        reply->follow = xcalloc(1, sizeof(*reply->follow));
        tacnet__follow_reply__init(reply->follow);
        reply->result_case = TACNET__API_REPLY__RESULT_FOLLOW;
        rc = agency_view_follow(self, req->follow->after_local_seq,
                                req->follow->has_max ? req->follow->max : 0, reply->follow);
        break;
    case TACNET__API_REQUEST__OP_ADD_USER: {
        Tacnet__AddUserRequest *au = req->add_user;
        rc =
            agency_user_add(self, au->initials.data, au->initials.len, au->role, au->password_hash);
        if (rc == TACNET_EENUM) {
            s_reply_error(reply, rc, "role must be practitioner, manager, dsl or lead");
            return;
        }
        if (rc == TACNET_EFIELD) {
            s_reply_error(reply, rc, "password_hash must be an Argon2id string");
            return;
        }
        break;
    }
    case TACNET__API_REQUEST__OP_ADD_TOKEN: {
        char token[AGENCY_SECRET_HEX];
        if ((rc = agency_token_add(self, req->add_token->system, token)) == TACNET_EFIELD) {
            s_reply_error(reply, rc, "system must be 1 to 32 of a-z, 0-9, '_' and '-'");
            return;
        }
        if (rc == 0) {
            reply->token = xcalloc(1, sizeof(*reply->token));
            tacnet__add_token_reply__init(reply->token);
            reply->token->token = xstrdup(token);
            reply->token->system = xstrdup(req->add_token->system);
            reply->result_case = TACNET__API_REPLY__RESULT_TOKEN;
            sodium_memzero(token, sizeof(token));
        }
        break;
    }
    case TACNET__API_REQUEST__OP_HOLD:
        agency_hold_handle(self, req->hold, reply);
        return;
    case TACNET__API_REQUEST__OP_RETENTION_RUN: {
        char why[160] = "";
        reply->retention = xcalloc(1, sizeof(*reply->retention));
        tacnet__retention_run_reply__init(reply->retention);
        reply->result_case = TACNET__API_REPLY__RESULT_RETENTION;
        if ((rc = agency_retention_run(self, reply->retention, why, sizeof(why))) != 0) {
            s_reply_error(reply, rc, "%s", why);
            return;
        }
        break;
    }
    default:
        rc = TACNET_EINVAL;
        break;
    }
    if (rc != 0)
        s_reply_error(reply, rc, "%s", tacnet_strerror(rc));
}

/* Free what agency_view_reply_free does not know: the results of the operations in users.c. */
static void s_reply_free(Tacnet__ApiReply *r)
{
    if (r->result_case == TACNET__API_REPLY__RESULT_TOKEN && r->token) {
        sodium_memzero(r->token->token, strlen(r->token->token));
        free(r->token->token);
        free(r->token->system);
        free(r->token);
        r->token = NULL;
        r->result_case = TACNET__API_REPLY__RESULT__NOT_SET;
    }
    if (r->result_case == TACNET__API_REPLY__RESULT_HOLDS) {
        agency_hold_reply_free(r->holds);
        r->holds = NULL;
        r->result_case = TACNET__API_REPLY__RESULT__NOT_SET;
    }
    if (r->result_case == TACNET__API_REPLY__RESULT_RETENTION) {
        agency_retention_reply_free(r->retention);
        r->retention = NULL;
        r->result_case = TACNET__API_REPLY__RESULT__NOT_SET;
    }
    agency_view_reply_free(r);
}

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
        size_t len = zmq_msg_size(&frames[2]);
        Tacnet__ApiRequest *req =
            len <= API_MAX_REQUEST
                ? (Tacnet__ApiRequest *)wire_unpack(&tacnet__api_request__descriptor,
                                                    zmq_msg_data(&frames[2]), len, 0, 0, &err)
                : NULL;
        if (!req) {
            s_reply_error(&reply, err ? err : TACNET_ETOOBIG, "%s",
                          "request is not a valid ApiRequest");
        } else {
            reply.id = req->id;
            s_dispatch(self, req, &reply);
            wire_free(&req->base);
        }
        size_t rlen;
        uint8_t *buf = wire_pack(&reply.base, &rlen);
        zmq_send(self->api, zmq_msg_data(&frames[0]), zmq_msg_size(&frames[0]), ZMQ_SNDMORE);
        zmq_send(self->api, "", 0, ZMQ_SNDMORE);
        zmq_send(self->api, buf, rlen, ZMQ_DONTWAIT);
        sodium_memzero(buf, rlen);
        free(buf);
        s_reply_free(&reply);
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close(&frames[i]);
}
