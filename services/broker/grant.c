/* grant: history on joining at the broker (docs/ARCHITECTURE.md, "History on joining").
 *
 * A GRANT gives an agency that joined a case late the body key of one earlier event. The broker
 * never sees the key: it checks the grant as it checks a publish (the granter is who the
 * connection says, its signature verifies over the event's body digest, the granter sent the
 * event or leads the case and holds its key, the grantee is a member now and the sharing policy
 * under today's consent lets it see the event's class) and then journals a grant record that
 * delivers the ORIGINAL header, sealed body and signature with the grant beside them. A grant
 * is journalled once per (event, grantee) however often it is resent, and audited; a refusal
 * stores nothing. The GRANTACK tells the granter either way, so it can drop it from its queue.
 */
#include "broker_internal.h"

#include "err.h"
#include "fault.h"
#include "grant.h"
#include "log.h"
#include "names.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct grant_job {
    broker_t *self;
    const Tacnet__Grant *g;
    const uint8_t *packed; /* the grant re-encoded, journalled */
    size_t packed_len;
    const wire_msg_t *m; /* a REGRANT's frames: the original header, the body sealed again */
    uint64_t now;
    /* results */
    int code;
    const char *detail;
    uint64_t seq;
    int duplicate;
} grant_job_t;

/* granted's key: the event and the grantee, and for a done grant the granter too (each member
 * says "done" once per join). */
static size_t s_dedup_key(const Tacnet__Grant *g, uint8_t key[18])
{
    memcpy(key, g->msg_id.data, 16);
    key[16] = (uint8_t)g->grantee;
    if (!(g->has_done && g->done))
        return 17;
    key[17] = (uint8_t)g->granter;
    return 18;
}

/* May the granter pass on this event's key at all: it sent the event, or it leads the case and
 * holds the key (it was a recipient, or was granted it). A done grant instead answers a join of
 * the grantee that the granter received. */
static int s_granter_check(grant_job_t *j, MDB_txn *txn, const Tacnet__Header *h,
                           const route_case_t *c)
{
    const Tacnet__Grant *g = j->g;
    uint32_t granter = (uint32_t)g->granter, bit = 1u << granter;
    if (!(c->members & bit)) {
        j->detail = "the granter is no longer a member of the case";
        return TACNET_ENOTMEMBER;
    }
    if (g->has_done && g->done) {
        int join = (h->kind == TACNET__EVENT_KIND__MEMBER_JOINED ||
                    h->kind == TACNET__EVENT_KIND__REFERRAL) &&
                   h->has_subject_agency && (uint32_t)h->subject_agency == (uint32_t)g->grantee;
        if (!join || !(route_recipient_mask(h) & bit)) {
            j->detail = "a done grant must answer a join of the grantee that the granter received";
            return TACNET_EGRANT;
        }
        return 0;
    }
    if ((uint32_t)h->sender == granter)
        return 0;
    if (c->lead != granter) {
        j->detail = "only the event's sender or the case's lead may grant it";
        return TACNET_EGRANT;
    }
    if (route_recipient_mask(h) & bit)
        return 0;
    uint8_t key[17];
    uint64_t seq;
    memcpy(key, g->msg_id.data, 16);
    key[16] = (uint8_t)granter;
    int rc = journal_grant_find(j->self->journal, txn, key, sizeof(key), &seq);
    if (rc == TACNET_ENOTFOUND) {
        j->detail = "the lead never held this event's key";
        return TACNET_EGRANT;
    }
    return rc;
}

/* A REGRANT: the event's own sender sealed it again, under its original header (byte for byte),
 * for the grantee alone, and signed that as it signs an event. */
static int s_resealed_check(grant_job_t *j, const journal_entry_t *e, const Tacnet__Header *h)
{
    const wire_msg_t *m = j->m;
    if ((uint32_t)h->sender != (uint32_t)j->g->granter) {
        j->detail = "only the event's sender may seal it again";
        return TACNET_EGRANT;
    }
    if (m->header_len != e->header_len || memcmp(m->header, e->header, e->header_len) != 0) {
        j->detail = "the header differs from the journalled event's";
        return TACNET_EGRANT;
    }
    uint32_t wrapped[SEAL_MAX_RECIPIENTS];
    int n = seal_recipients(m->sealed, m->sealed_len, wrapped, SEAL_MAX_RECIPIENTS);
    if (n != 1 || wrapped[0] != (uint32_t)j->g->grantee) {
        j->detail = "a body sealed again must be wrapped for the grantee alone";
        return n < 0 ? TACNET_EBADMSG : TACNET_ERECIPIENTS;
    }
    /* The key that signed the event, valid when it was made (as the integrity walk does). */
    const Tacnet__NodeKey *k = roster_key_find(j->self->roster, (uint32_t)h->sender,
                                               h->sender_key_id, h->created_at_ms, NULL);
    /* A body sealed again is signed alone (it was never part of a batch). */
    if (!k || m->sig_len != SEAL_SIG_BYTES ||
        seal_verify(k->sign_pk.data, m->header, m->header_len, m->sealed, m->sealed_len, m->sig) !=
            0)
        return TACNET_ESIGNATURE;
    return 0;
}

/* The checks against the journal, then the signature: 0 to journal, or the refusal in
 * J->code. Returns a storage code to abort. */
static int s_grant_check(grant_job_t *j, MDB_txn *txn, journal_entry_t *e, uint64_t *orig)
{
    broker_t *self = j->self;
    const Tacnet__Grant *g = j->g;
    int rc = journal_msgid_find(self->journal, txn, g->msg_id.data, orig);
    if (rc == TACNET_ENOTFOUND) {
        j->code = TACNET_ENOTFOUND;
        j->detail = "no such event in the journal";
        return 0;
    }
    if (rc != 0 || (rc = journal_get(self->journal, txn, *orig, e)) != 0)
        return rc;
    int err = 0;
    Tacnet__Header *h = wire_header_unpack(e->header, e->header_len, &err);
    if (!h)
        return TACNET_ECORRUPT;
    route_case_t c;
    int found = 0;
    if ((rc = journal_case_get(self->journal, txn, h->case_ref.data, h->case_ref.len, &c,
                               &found)) != 0 ||
        !found) {
        wire_free(&h->base);
        return rc ? rc : TACNET_ECORRUPT;
    }
    const Tacnet__NodeKey *gk =
        roster_key_find(self->roster, (uint32_t)g->granter, g->granter_key_id, j->now, NULL);
    if (!gk ||
        !roster_key_find(self->roster, (uint32_t)g->grantee, g->grantee_key_id, j->now, NULL)) {
        j->code = TACNET_EKEYID;
        j->detail = "granter or grantee key id unknown, expired or revoked";
    } else if ((j->code = s_granter_check(j, txn, h, &c)) != 0) {
        /* refused: j->detail says why */
    } else if (g->has_done && g->done) {
        j->code = (c.members & (1u << g->grantee)) ? 0 : TACNET_ENOTMEMBER;
    } else if ((j->code = route_grant_check(&c, h, (uint32_t)g->grantee, self->roster)) != 0) {
        j->detail = j->code == TACNET_ECONSENT ? "the sharing policy withholds this class from "
                                                 "the grantee"
                                               : NULL;
    } else if (j->m) {
        j->code = s_resealed_check(j, e, h);
    } else if (!e->sealed) {
        j->code = TACNET_EGONE;
        j->detail = "the body is past the broker's history window: the sender must re-seal it";
    }
    wire_free(&h->base);
    if (j->code == 0) {
        uint8_t digest[SEAL_DIGEST_LEN] = { 0 }; /* a done grant is signed over none */
        if (!(g->has_done && g->done)) {
            if (j->m)
                seal_digest(j->m->sealed, j->m->sealed_len, digest);
            else if (e->sealed)
                seal_digest(e->sealed, e->sealed_len, digest);
            else
                memcpy(digest, e->digest, SEAL_DIGEST_LEN);
        }
        if (grant_verify(gk->sign_pk.data, g, digest) != 0)
            j->code = TACNET_ESIGNATURE;
    }
    return 0;
}

static int s_grant_write(MDB_txn *txn, void *arg)
{
    grant_job_t *j = arg;
    broker_t *self = j->self;
    j->code = 0;
    j->detail = NULL;
    j->duplicate = 0;
    /* Checked before the duplicate lookup, so only a granter that may grant learns that a
     * grant is already journalled. */
    journal_entry_t e;
    uint64_t orig = 0;
    int rc = s_grant_check(j, txn, &e, &orig);
    if (rc != 0 || j->code != 0)
        return rc;
    uint8_t key[18];
    size_t klen = s_dedup_key(j->g, key);
    if ((rc = journal_grant_find(self->journal, txn, key, klen, &j->seq)) == 0) {
        j->duplicate = 1;
        return 0;
    }
    if (rc != TACNET_ENOTFOUND)
        return rc;
    j->seq = journal_head(self->journal) + 1;
    if (j->m)
        rc = journal_grant_append_sealed(self->journal, txn, j->seq, orig, (uint32_t)j->g->grantee,
                                         j->packed, j->packed_len, j->m->sealed, j->m->sealed_len,
                                         j->m->sig, key, klen, j->now);
    else
        rc = journal_grant_append(self->journal, txn, j->seq, orig, (uint32_t)j->g->grantee,
                                  j->packed, j->packed_len, key, klen, j->now);
    if (rc != 0)
        return rc;
    char hex[33], actor[48], object[64];
    wire_msgid_hex(j->g->msg_id.data, 16, hex);
    snprintf(actor, sizeof(actor), "%s/key%u", names_agency((uint32_t)j->g->granter),
             j->g->granter_key_id);
    snprintf(object, sizeof(object), "%s>%s", hex, names_agency((uint32_t)j->g->grantee));
    return journal_audit(self->journal, txn, actor,
                         j->g->has_done && j->g->done ? "grant.done" : "grant", object, "accepted",
                         0);
}

static void s_grant_answer(broker_t *self, const wire_msg_t *m, const Tacnet__Grant *g,
                           const grant_job_t *j)
{
    char reason[200] = "";
    Tacnet__GrantAck a = TACNET__GRANT_ACK__INIT;
    a.msg_id = g->msg_id;
    a.grantee = g->grantee;
    a.code = j->code;
    a.has_done = a.done = g->has_done && g->done;
    if (j->code == 0) {
        a.has_seq = 1;
        a.seq = j->seq;
        a.has_duplicate = a.duplicate = j->duplicate;
    } else {
        snprintf(reason, sizeof(reason), "%s%s%s", tacnet_strerror(j->code), j->detail ? ": " : "",
                 j->detail ? j->detail : "");
        a.reason = reason;
        broker_reject_count(self, j->code);
        char hex[33];
        wire_msgid_hex(g->msg_id.data, 16, hex);
        log_info("grant of %s to %s refused: %s", hex, names_agency((uint32_t)g->grantee),
                 tacnet_errname(j->code));
    }
    wire_send(self->router, m->rid, m->rid_len, WIRE_GRANTACK, &a.base, NULL, 0, NULL, 0, NULL);
}

void broker_on_grant(broker_t *self, wire_msg_t *m, uint32_t agency)
{
    int err = 0;
    Tacnet__Grant *g = (Tacnet__Grant *)wire_ctl_unpack(m->cmd, m->ctl, m->ctl_len, &err);
    /* A grant carrying a body must say so, and one saying so must carry it. */
    int resealed = g && g->has_resealed && g->resealed;
    if (!g || grant_check_shape(g) != 0 || resealed != (m->cmd == WIRE_REGRANT)) {
        broker_nack(self, m, NULL, g ? TACNET_EBADMSG : err, "bad GRANT");
        if (g)
            wire_free(&g->base);
        return;
    }
    if ((uint32_t)g->granter != agency) {
        broker_nack(self, m, g->msg_id.data, TACNET_ESENDER, "the granter is not this connection");
        wire_free(&g->base);
        return;
    }
    /* Publishes waiting in the batch are committed first, so a grant never overtakes them. */
    broker_publish_flush(self);
    /* Journalled re-encoded, so nothing but the known fields reaches the grantee. */
    size_t plen = 0;
    uint8_t *packed = wire_pack(&g->base, &plen);
    grant_job_t j = { .self = self,
                      .g = g,
                      .packed = packed,
                      .packed_len = plen,
                      .m = resealed ? m : NULL,
                      .now = clock_now_ms() };
    uint64_t head = journal_head(self->journal);
    int rc = store_write(journal_store(self->journal), s_grant_write, &j);
    if (rc != 0) {
        /* Nothing stored: the granter keeps the grant and sends it again. */
        j.code = rc;
        j.detail = "journal commit failed";
    } else if (j.code == 0 && !j.duplicate) {
        journal_head_set(self->journal, j.seq);
        self->grants++;
    }
    if (rc != 0 || j.code != 0 || j.duplicate)
        journal_head_set(self->journal, head);
    FAULT_POINT("broker.after_grant_commit");
    s_grant_answer(self, m, g, &j);
    free(packed);
    wire_free(&g->base);
    if (rc == 0 && j.code == 0 && !j.duplicate)
        broker_pump_all(self);
}
