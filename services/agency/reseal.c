/* reseal: an event refused E_RECIPIENTS sealed again for the set the case requires (reseal.h). */
#include "agency/reseal.h"
#include "agency/outbox.h"
#include "err.h"
#include "log.h"
#include "names.h"
#include "store.h"
#include "wire.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reseal {
    agency_t *self;
    const uint8_t *msg_id;
    uint32_t required;
    char *why;
    size_t whylen;
    int requeued;
    uint64_t old_seq, new_seq;
} reseal_t;

/* Whether this agency's own rules let every recipient added by REQUIRED see H: the consent its
 * view holds, the event's lawful basis and the class policy (an override reaches every member).
 * Otherwise WHY names the first that may not. */
static int s_allowed(reseal_t *r, MDB_txn *txn, const Tacnet__Header *h)
{
    agency_t *self = r->self;
    route_case_t c;
    int found = 0;
    if (agency_view_case_get(self, txn, h->case_ref.data, h->case_ref.len, &c, &found) != 0)
        found = 0;
    int consent = (found && c.consent == TACNET__CONSENT_STATE__GIVEN) ||
                  h->lawful_basis == TACNET__LAWFUL_BASIS__LEGAL_DUTY;
    int override = h->lawful_basis == TACNET__LAWFUL_BASIS__SAFEGUARDING_OVERRIDE;
    uint32_t added = r->required & ~route_recipient_mask(h);
    for (uint32_t a = 1; a < ROUTE_MAX_AGENCY; a++) {
        if (!(added & (1u << a)))
            continue;
        if (a == TACNET__AGENCY__BROKER ||
            (!override && !roster_may_see(self->roster, a, h->sensitivity, consent))) {
            snprintf(r->why, r->whylen,
                     "the broker requires %s as a recipient, which this agency's consent and "
                     "class rules do not allow: not re-sealed",
                     names_agency(a));
            return 0;
        }
    }
    return 1;
}

/* Seal BODY again under header H (its recipients and sender_seq already changed) for the
 * recipients H names. Unsigned, like every queued event: the outbox pump signs what it sends
 * (SIG gets the record's empty signature slot, outbox.h). */
static int s_seal(agency_t *self, Tacnet__Header *h, const uint8_t *body, size_t blen,
                  uint8_t **hbuf, size_t *hlen, uint8_t **sealed, size_t *slen,
                  uint8_t sig[SEAL_SIG_BYTES])
{
    seal_recipient_t sr[SEAL_MAX_RECIPIENTS];
    uint64_t now = clock_now_ms();
    for (size_t i = 0; i < h->n_recipients; i++) {
        const Tacnet__NodeKey *k = roster_key_current(self->roster, h->recipients[i], now);
        if (!k)
            return TACNET_EKEYID;
        sr[i].agency = (uint32_t)h->recipients[i];
        sr[i].key_id = k->key_id;
        memcpy(sr[i].seal_pk, k->seal_pk.data, SEAL_KEY_BYTES);
    }
    *hbuf = wire_pack(&h->base, hlen);
    memset(sig, 0, SEAL_SIG_BYTES);
    return seal_event(self->seal, *hbuf, *hlen, body, blen, sr, h->n_recipients, sealed, slen,
                      NULL);
}

/* Replace the outbox record at R->old_seq (for case BLIND) with the new one at R->new_seq. */
static int s_requeue(reseal_t *r, MDB_txn *txn, const uint8_t blind[16],
                     const agency_outbox_record_t *rec)
{
    agency_t *self = r->self;
    uint8_t okey[8], nkey[8], ids[AGENCY_OUTBOX_IDS_BYTES], ock[AGENCY_OUTBOX_CASE_KEY_BYTES],
        nck[AGENCY_OUTBOX_CASE_KEY_BYTES];
    store_u64_put(okey, r->old_seq);
    store_u64_put(nkey, r->new_seq);
    agency_outbox_case_key(ock, blind, r->old_seq);
    agency_outbox_case_key(nck, blind, r->new_seq);
    agency_outbox_ids_encode(ids, r->new_seq, blind);
    size_t n;
    uint8_t *v = agency_outbox_encode(rec, &n);
    int rc = store_put(txn, self->outbox, nkey, 8, v, n, MDB_NOOVERWRITE);
    free(v);
    if (rc == 0)
        rc = store_del(txn, self->outbox, okey, 8);
    if (rc == 0)
        rc = store_del(txn, self->outbox_case, ock, sizeof(ock));
    if (rc == 0 || rc == TACNET_ENOTFOUND)
        rc = store_put(txn, self->outbox_case, nck, sizeof(nck), "", 0, 0);
    if (rc == 0)
        rc = store_put(txn, self->outbox_ids, r->msg_id, 16, ids, sizeof(ids), 0);
    if (rc == 0)
        rc = agency_meta_put(self, txn, "sender_seq", r->new_seq);
    char hex[33];
    wire_msgid_hex(r->msg_id, 16, hex);
    if (rc == 0)
        rc = agency_audit(self, txn, "broker", "publish.resealed", hex, "queued",
                          TACNET_ERECIPIENTS);
    return rc;
}

/* Open our own copy of the queued event, seal it for the required set, queue it again. */
static int s_reseal_record(reseal_t *r, MDB_txn *txn, const uint8_t blind[16],
                           const agency_outbox_record_t *old, Tacnet__Header *h)
{
    agency_t *self = r->self;
    uint8_t *body = NULL, *hbuf = NULL, *sealed = NULL, sig[SEAL_SIG_BYTES];
    size_t blen = 0, hlen = 0, slen = 0;
    int rc = seal_open(self->seal, self->keys->seal_pk, old->header, old->hlen, old->sealed,
                       old->slen, &body, &blen);
    if (rc != 0) {
        snprintf(r->why, r->whylen, "its own copy did not open (%s): not re-sealed",
                 tacnet_errname(rc));
        return 0;
    }
    Tacnet__Agency list[ROUTE_MAX_AGENCY];
    size_t n = 0;
    for (uint32_t a = 1; a < ROUTE_MAX_AGENCY && n < SEAL_MAX_RECIPIENTS; a++)
        if (r->required & (1u << a))
            list[n++] = (Tacnet__Agency)a;
    uint64_t last = 0;
    if ((rc = agency_meta_get(self, txn, "sender_seq", &last)) == 0) {
        Tacnet__Agency *was = h->recipients;
        size_t n_was = h->n_recipients;
        r->new_seq = last + 1;
        h->recipients = list;
        h->n_recipients = n;
        h->sender_seq = r->new_seq;
        rc = s_seal(self, h, body, blen, &hbuf, &hlen, &sealed, &slen, sig);
        h->recipients = was; /* the unpacker's, freed with the header */
        h->n_recipients = n_was;
    }
    if (rc == 0) {
        agency_outbox_record_t rec = {
            .header = hbuf, .hlen = hlen, .sealed = sealed, .slen = slen, .sig = sig
        };
        rc = s_requeue(r, txn, blind, &rec);
        r->requeued = rc == 0;
    } else if (rc == TACNET_EKEYID || rc == TACNET_EINVAL) {
        snprintf(r->why, r->whylen, "a required recipient has no usable key: not re-sealed");
        rc = 0;
    }
    sodium_memzero(body, blen);
    free(body);
    free(hbuf);
    free(sealed);
    return rc;
}

static int s_reseal_write(MDB_txn *txn, void *arg)
{
    reseal_t *r = arg;
    agency_t *self = r->self;
    r->requeued = 0;
    MDB_val v, ov;
    uint8_t blind[16], key[8];
    int rc = store_get(txn, self->outbox_ids, r->msg_id, 16, &v);
    if (rc != 0)
        return rc == TACNET_ENOTFOUND ? 0 : rc; /* settled already */
    if ((rc = agency_outbox_ids_decode(v.mv_data, v.mv_size, &r->old_seq, blind)) != 0)
        return rc;
    store_u64_put(key, r->old_seq);
    agency_outbox_record_t old;
    if ((rc = store_get(txn, self->outbox, key, 8, &ov)) != 0 ||
        (rc = agency_outbox_decode(ov.mv_data, ov.mv_size, &old)) != 0)
        return rc;
    int err = 0;
    Tacnet__Header *h = wire_header_unpack(old.header, old.hlen, &err);
    if (!h)
        return err;
    /* The record's bytes live in the map: copy before the transaction writes over them. */
    size_t total = old.hlen + old.slen + SEAL_SIG_BYTES;
    uint8_t *copy = xmalloc(total);
    memcpy(copy, old.header, old.hlen);
    memcpy(copy + old.hlen, old.sealed, old.slen);
    memcpy(copy + old.hlen + old.slen, old.sig, SEAL_SIG_BYTES);
    agency_outbox_record_t mine = { copy, old.hlen, copy + old.hlen, old.slen,
                                    copy + old.hlen + old.slen };
    if (route_recipient_mask(h) == r->required)
        snprintf(r->why, r->whylen, "it already named the required recipients: not re-sealed");
    else if (s_allowed(r, txn, h))
        rc = s_reseal_record(r, txn, blind, &mine, h);
    free(copy);
    wire_free(&h->base);
    return rc;
}

int agency_reseal(agency_t *self, const uint8_t msg_id[16], uint32_t required, char *why,
                  size_t whylen)
{
    /* Once per event: a second E_RECIPIENTS for a re-sealed event is a refusal (membership
     * moved again while it was in flight; the user decides). */
    for (size_t i = 0; i < AGENCY_RESEALED_MAX; i++)
        if (memcmp(self->resealed[i], msg_id, 16) == 0) {
            snprintf(why, whylen, "refused again after being re-sealed once");
            return 0;
        }
    reseal_t r = {
        .self = self, .msg_id = msg_id, .required = required, .why = why, .whylen = whylen
    };
    why[0] = 0;
    int rc = store_write(self->store, s_reseal_write, &r);
    if (rc != 0)
        return rc;
    if (!r.requeued)
        return 0;
    memcpy(self->resealed[self->n_resealed++ % AGENCY_RESEALED_MAX], msg_id, 16);
    char hex[33];
    wire_msgid_hex(msg_id, 16, hex);
    log_info("%s re-sealed for the recipients the broker requires; queued as seq %llu", hex,
             (unsigned long long)r.new_seq);
    return 1;
}
