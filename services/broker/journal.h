/* journal: the broker's durable store (docs/ARCHITECTURE.md, Storage), over one LMDB environment.
 *
 * Databases (all in one environment, updated in one write transaction per batch):
 *   journal    seq (u64 BE)                -> received_ms(8) hlen(4) header slen(4) sealed sig
 *                                             (sig: F5 as received, 64 bytes or a batched
 *                                             signature with its proof, common/merkle.h)
 *   by_msgid   msg_id (16)                 -> seq (8): dedup, a retry gets its original seq
 *   rcpt       seq (u64 BE)                -> recipient mask (u32 BE): delivery and catch-up.
 *                                             One append per event, so a commit touches one
 *                                             leaf for all recipients; a reader scans from its
 *                                             cursor and skips the events not for it
 *   by_rcpt    agency(1) seq(8)            -> empty: the older per-recipient index, folded into
 *                                             rcpt when an older journal is opened
 *   by_case    case_ref 0x00 seq(8)        -> empty: no longer written (see cases); read only
 *                                             for a case with no event since it was retired
 *   senders    agency(1)                   -> last accepted sender_seq (8): replay guard
 *   cases      case_ref                    -> route_case_t (route_case_encode) || seq of the
 *                                             case's latest event (8; absent in older records)
 *   cursors    agency(1)                   -> acknowledged up to seq (8)
 *   escalations id(16)                     -> escalate record
 *   granted    msg_id(16) grantee(1) [granter(1) for a done grant]
 *                                          -> seq (8) of the grant record: a grant once
 * A journal record is an event, or a grant (history on joining): received_ms(8) 0xffffffff
 * orig_seq(8) packed Grant, delivered to its grantee with the original event's frames. An
 * event whose body was removed (retention) keeps header and signature with the body's digest in
 * its place: received_ms(8) hlen(4) header 0xffffffff digest(32) sig. A grant whose sender
 * sealed the body again (the original was removed): received_ms(8) 0xfffffffe orig_seq(8)
 * glen(4) Grant slen(4) sealed sig(64).
 *   meta       "epoch"                     -> random u64 chosen when the directory is created
 *   reported   agency(1) seq(8)            -> empty: a non-delivery report was sent
 *   audit      (see common/audit.h)
 * Composite keys with empty values rather than DUPSORT (Debian's LMDB 0.9.24 has dupsort bugs
 * fixed later). The journal itself is append-only (MDB_APPEND).
 *
 * Functions taking an MDB_txn run inside the caller's transaction (store_write's function for
 * writes); nothing here commits except journal_open.
 */
#ifndef TACNET_BROKER_JOURNAL_H
#define TACNET_BROKER_JOURNAL_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "roster.h"
#include "route.h"
#include "store.h"
#include "wire.pb-c.h"

typedef struct journal journal_t;

/* An entry read back; pointers borrow LMDB memory valid until the transaction ends. */
typedef struct journal_entry {
    uint64_t seq;
    uint64_t received_ms;
    const uint8_t *header;
    size_t header_len;
    const uint8_t *sealed; /* NULL once the body was removed (retention): DIGEST is left */
    size_t sealed_len;
    const uint8_t *sig;
    size_t sig_len;        /* F5 as the sender made it: SEAL_SIG_BYTES or batched */
    const uint8_t *digest; /* BLAKE2b-256 of the removed body, else NULL */
    uint64_t case_seq;     /* the event's own seq: SEQ, or for a grant the original's */
    const uint8_t *grant;  /* a grant record: the packed Grant (the rest is the original's) */
    size_t grant_len;
} journal_entry_t;

/* Open or create the journal in DIR. Returns an owned journal or NULL with *ERR. */
journal_t *journal_open(const char *dir, size_t map_size, int *err);
void journal_destroy(journal_t **self_p);

store_t *journal_store(journal_t *self);
uint64_t journal_epoch(const journal_t *self);
/* Highest committed seq (0 when empty). journal_head_set is called after a commit. */
uint64_t journal_head(const journal_t *self);
void journal_head_set(journal_t *self, uint64_t seq);
MDB_dbi journal_dbi(const journal_t *self, const char *name);

/* Look up MSG_ID. Returns 0 with *SEQ, or TACNET_ENOTFOUND. */
int journal_msgid_find(journal_t *self, MDB_txn *txn, const uint8_t *msg_id, uint64_t *seq);

/* The last accepted sender_seq of AGENCY (0 when none). */
int journal_sender_last(journal_t *self, MDB_txn *txn, uint32_t agency, uint64_t *last);

/* Case state for CASE_REF: 0 with *C (and *FOUND = 1), or 0 with *FOUND = 0. */
int journal_case_get(journal_t *self, MDB_txn *txn, const uint8_t *ref, size_t len, route_case_t *c,
                     int *found);
int journal_case_put(journal_t *self, MDB_txn *txn, const uint8_t *ref, size_t len,
                     const route_case_t *c);

/* Append an accepted event at SEQ (must be head+1 within the transaction) with its indexes:
 * by_msgid, rcpt (RCPT_MASK), the case's latest initials (in its cases record, written only
 * when they change), and the sender's last seq. */
int journal_append(journal_t *self, MDB_txn *txn, uint64_t seq, const Tacnet__Header *h,
                   const uint8_t *header, size_t hlen, const uint8_t *sealed, size_t slen,
                   const uint8_t *sig, size_t sig_len, uint32_t rcpt_mask, uint64_t now_ms);

/* Read the entry at SEQ (a grant record: the original event's frames with GRANT set). Returns 0,
 * TACNET_ENOTFOUND or TACNET_ECORRUPT. */
int journal_get(journal_t *self, MDB_txn *txn, uint64_t seq, journal_entry_t *out);

/* Append the grant GRANT (GLEN packed bytes) of the event at ORIG_SEQ to GRANTEE at SEQ (head+1
 * within the transaction), indexed under DEDUP (granted's key) so it is journalled once. */
int journal_grant_append(journal_t *self, MDB_txn *txn, uint64_t seq, uint64_t orig_seq,
                         uint32_t grantee, const uint8_t *grant, size_t glen, const uint8_t *dedup,
                         size_t dlen, uint64_t now_ms);

/* journal_grant_append for a grant whose sender sealed the event again for the grantee alone
 * (its body was past the history window): SEALED (SLEN bytes) and SIG are delivered with the
 * original header instead of the original body. */
int journal_grant_append_sealed(journal_t *self, MDB_txn *txn, uint64_t seq, uint64_t orig_seq,
                                uint32_t grantee, const uint8_t *grant, size_t glen,
                                const uint8_t *sealed, size_t slen, const uint8_t *sig,
                                const uint8_t *dedup, size_t dlen, uint64_t now_ms);

/* The seq of the grant journalled under DEDUP: 0 with *SEQ, or TACNET_ENOTFOUND. */
int journal_grant_find(journal_t *self, MDB_txn *txn, const uint8_t *dedup, size_t dlen,
                       uint64_t *seq);

/* Call FN for each grant journalled for the event MSG_ID (done grants included) until it returns
 * non-zero, which is returned. */
int journal_grants_each(journal_t *self, MDB_txn *txn, const uint8_t msg_id[16],
                        int (*fn)(uint32_t grantee, uint64_t seq, void *arg), void *arg);

/* Remove the sealed body of the event at SEQ, keeping its header, signature and the body's
 * digest (and drop the walk's digest checkpoint, which covered the old bytes). A grant or an
 * already removed body is left alone. Returns 0 or a code. */
int journal_body_remove(journal_t *self, MDB_txn *txn, uint64_t seq);

/* The first seq after AFTER addressed to AGENCY. Returns 0 with *SEQ, or TACNET_ENOTFOUND.
 * *SCANNED (if not NULL) gets the last seq known to hold nothing for AGENCY: the caller may
 * start its next search there, as events are only ever appended (an agency in few cases then
 * never scans the same events twice). TACNET_ECORRUPT for a malformed index entry. */
int journal_next_for(journal_t *self, MDB_txn *txn, MDB_cursor **cur, uint32_t agency,
                     uint64_t after, uint64_t *seq, uint64_t *scanned);

/* Number of entries addressed to AGENCY after AFTER (for status; bounded by LIMIT). */
uint64_t journal_backlog(journal_t *self, MDB_txn *txn, uint32_t agency, uint64_t after,
                         uint64_t limit);

/* Acknowledged-up-to cursor of AGENCY (retention and status only). */
int journal_cursor_put(journal_t *self, MDB_txn *txn, uint32_t agency, uint64_t upto);
int journal_cursor_get(journal_t *self, MDB_txn *txn, uint32_t agency, uint64_t *upto);

/* Append an audit record (who, what, outcome; never content) inside TXN. */
int journal_audit(journal_t *self, MDB_txn *txn, const char *actor, const char *action,
                  const char *object, const char *outcome, int code);

/* Delivery reports: how far AGENCY's acknowledged events have been reported to their senders
 * (*UPTO; *FOUND 0 when never set), and whether AGENCY wants reports on its own events (from its
 * latest HELLO; *WANTS 0 when never said). Both in the cursors database. Return 0 or a code. */
int journal_reported_upto_get(journal_t *self, MDB_txn *txn, uint32_t agency, uint64_t *upto,
                              int *found);
int journal_reported_upto_put(journal_t *self, MDB_txn *txn, uint32_t agency, uint64_t upto);
int journal_wants_reports_get(journal_t *self, MDB_txn *txn, uint32_t agency, int *wants);
int journal_wants_reports_put(journal_t *self, MDB_txn *txn, uint32_t agency, int wants);

/* Non-delivery bookkeeping: MARK=1 records that (AGENCY, SEQ) was reported; MARK=0 asks,
 * returning 1 (reported), 0 (not yet) or a negative code. */
int journal_reported(journal_t *self, MDB_txn *txn, uint32_t agency, uint64_t seq, int mark);

/* The initials of the latest event journalled on case REF (LEN bytes), cut to 8 bytes, into
 * OUT (*OLEN bytes). Returns 0, TACNET_ENOTFOUND (no such case), TACNET_ECORRUPT or a store
 * code. */
int journal_case_initials(journal_t *self, MDB_txn *txn, const uint8_t *ref, size_t len,
                          uint8_t out[8], size_t *olen);

/* Store the serialised escalation record REC (LEN bytes) under its 16-byte ID. */
int journal_escalation_put(journal_t *self, MDB_txn *txn, const uint8_t *id, const uint8_t *rec,
                           size_t len);

/* Call FN for every stored escalation record (value bytes borrowed for the call only); stops at
 * the first non-zero return, which it returns. */
int journal_escalations_each(journal_t *self, MDB_txn *txn,
                             int (*fn)(const uint8_t *rec, size_t len, void *arg), void *arg);

/* The startup integrity walk: read every record of every database (LMDB checks each page it
 * visits; keys must ascend), check the index records' sizes, hash every journal record and
 * compare with the digest checkpoint the last clean walk stored, and re-verify the Ed25519
 * signature (sender's key from ROSTER by key id, valid or not today) of each journal record
 * after the checkpoint — the newest 20,000 of them at most. Returns 0 with *RECORDS (may be
 * NULL) after storing a new checkpoint (a failed store is ignored: the next walk re-verifies),
 * or TACNET_ECORRUPT / TACNET_ESIGNATURE / TACNET_EKEYID with WHY naming the database or
 * journal seq. It never repairs anything. */
int journal_verify(journal_t *self, const roster_t *roster, size_t *records, char *why,
                   size_t whylen);

#endif
