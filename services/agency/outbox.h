/* outbox: the records of the agency daemon's durable outbox, laid out in one place.
 *
 * A publish is queued (publish.c) before anything is sent and stays queued until the broker
 * settles it (agency.c): a PUBACK deletes it, a NACK turns it into a dead letter. Whatever
 * happens in between (a crash, a restarted broker, an E_QUOTA pause) the outbox is resent in
 * sender_seq order, header and sealed body byte for byte as queued (each send turn signed
 * afresh), so every reader and writer of these records goes through the encoders and decoders
 * below. Six databases of the view hold them; every
 * integer is big-endian:
 *
 *   outbox      sender_seq(8) -> hlen(4) header slen(4) sealed sig(64)
 *                                the clear Header and the sealed body: the frames of a PUBLISH
 *                                but its signature, which the pump makes when it sends a turn
 *                                (one Ed25519 signature for the turn, merkle.h, or the event's
 *                                own in a turn of one). The 64-byte slot is zeros since then;
 *                                a record queued before holds the signature made at queueing,
 *                                which nothing reads any more
 *   outbox_ids  msg_id(16) -> sender_seq(8) blind(16)
 *                                finds the record (and its case index entry) when settled
 *   outbox_case blind(16) sender_seq(8) -> empty
 *                                the case's events still queued, for the publish path (the case
 *                                as it will be) and the retention sweep (nothing is destroyed
 *                                while it has some)
 *   dead        msg_id(16) -> code(4) reason NUL sender_seq(8)
 *                                a publish the broker refused, with its NACK code and reason
 *   settled     msg_id(16) -> state(1) seq(8) settled_ms(8) recipients(4) kind(4)
 *                                a publish the broker settled: accepted (state 3, its journal
 *                                seq) or refused (state 4, seq 0; the dead letter has why),
 *                                when it was recorded (wall clock), the recipients as a bitmask
 *                                of agency values, and its event kind (no case reference: the
 *                                view keeps those blinded)
 *   delivered   msg_id(16) -> recipients(4)
 *                                which recipients have applied it, as a bitmask of agency
 *                                values, from the broker's delivery reports
 *   dead_body   msg_id(16) -> the refused event's outbox record (layout of `outbox` values),
 *                                kept so that it can be corrected and sent again; its body is
 *                                sealed (this agency is always among its recipients). Removed
 *                                when it is withdrawn or corrected, or its case destroyed
 *   withdrawn   msg_id(16) -> withdrawn_ms(8) corrected_by(16)
 *                                a refused event a user withdrew (corrected_by all zero) or
 *                                replaced by the event corrected_by; it leaves the outbox
 *   unapplied   settled_ms(8) msg_id(16) -> empty
 *                                accepted events some recipient other than this agency has not
 *                                applied yet, oldest first; removed by the delivery report
 *                                that completes them
 *
 * Pure: no I/O. The callers read and write LMDB; decoders only point into the bytes given.
 */
#ifndef TACNET_AGENCY_OUTBOX_H
#define TACNET_AGENCY_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#define AGENCY_OUTBOX_IDS_BYTES           24 /* an outbox_ids value */
#define AGENCY_OUTBOX_CASE_KEY_BYTES      24 /* an outbox_case key */
#define AGENCY_OUTBOX_SETTLED_BYTES       25 /* a settled value */
#define AGENCY_OUTBOX_WITHDRAWN_BYTES     24 /* a withdrawn value */
#define AGENCY_OUTBOX_UNAPPLIED_KEY_BYTES 24 /* an unapplied key */

/* One outbox record: the parts of a PUBLISH (SIG is the record's slot, see above). */
typedef struct agency_outbox_record {
    const uint8_t *header; /* packed Header */
    size_t hlen;
    const uint8_t *sealed; /* sealed body */
    size_t slen;
    const uint8_t *sig; /* SEAL_SIG_BYTES */
} agency_outbox_record_t;

/* Encode REC. Returns a malloc'd buffer of *LEN bytes (the caller frees it). HLEN and SLEN
 * must fit in 32 bits (the wire caps both far below). */
uint8_t *agency_outbox_encode(const agency_outbox_record_t *rec, size_t *len);

/* Decode the LEN bytes at BUF into OUT, whose pointers then point into BUF. Returns 0, or
 * TACNET_ECORRUPT when the record is truncated, overlong, or its lengths do not add up. */
int agency_outbox_decode(const uint8_t *buf, size_t len, agency_outbox_record_t *out);

/* The outbox_ids value of the event queued at SENDER_SEQ for case BLIND. */
void agency_outbox_ids_encode(uint8_t out[AGENCY_OUTBOX_IDS_BYTES], uint64_t sender_seq,
                              const uint8_t blind[16]);

/* Decode an outbox_ids value. Returns 0 with *SENDER_SEQ and BLIND, or TACNET_ECORRUPT when
 * LEN is not AGENCY_OUTBOX_IDS_BYTES. */
int agency_outbox_ids_decode(const uint8_t *buf, size_t len, uint64_t *sender_seq,
                             uint8_t blind[16]);

/* The outbox_case key of the event queued at SENDER_SEQ for case BLIND. Keys sort by case,
 * then by sender_seq, so a cursor from BLIND walks one case's queue in order. */
void agency_outbox_case_key(uint8_t out[AGENCY_OUTBOX_CASE_KEY_BYTES], const uint8_t blind[16],
                            uint64_t sender_seq);

/* If KEY (LEN bytes) is an outbox_case key of case BLIND: 1 with *SENDER_SEQ, else 0 (another
 * case, or not a key of this layout: a cursor walking BLIND's entries stops there). */
int agency_outbox_case_key_match(const uint8_t *key, size_t len, const uint8_t blind[16],
                                 uint64_t *sender_seq);

/* Encode a dead letter: NACK CODE, its REASON (NUL-terminated in the record) and the
 * sender_seq the event was queued at. Returns a malloc'd buffer of *LEN bytes. */
uint8_t *agency_outbox_dead_encode(int code, const char *reason, uint64_t sender_seq, size_t *len);

/* Decode a dead letter: 0 with *CODE, *REASON (pointing into BUF) and *SENDER_SEQ, or
 * TACNET_ECORRUPT when it is truncated or its reason is not NUL-terminated. */
int agency_outbox_dead_decode(const uint8_t *buf, size_t len, int *code, const char **reason,
                              uint64_t *sender_seq);

/* A settled publish, as `settled` keeps it. */
typedef struct agency_outbox_settled {
    uint8_t state;       /* Tacnet__PublishState: ACCEPTED or REFUSED */
    uint64_t seq;        /* the broker's journal seq (accepted), else 0 */
    uint64_t settled_ms; /* wall clock, ms */
    uint32_t recipients; /* bitmask of Tacnet__Agency values */
    uint32_t kind;       /* Tacnet__EventKind */
} agency_outbox_settled_t;

void agency_outbox_settled_encode(uint8_t out[AGENCY_OUTBOX_SETTLED_BYTES],
                                  const agency_outbox_settled_t *s);

/* Decode a settled value: 0 with *OUT, or TACNET_ECORRUPT when LEN is not
 * AGENCY_OUTBOX_SETTLED_BYTES. */
int agency_outbox_settled_decode(const uint8_t *buf, size_t len, agency_outbox_settled_t *out);

/* A withdrawn value: when (wall clock, ms) and by which event (CORRECTED_BY, or NULL for a
 * withdrawal by hand). */
void agency_outbox_withdrawn_encode(uint8_t out[AGENCY_OUTBOX_WITHDRAWN_BYTES],
                                    uint64_t withdrawn_ms, const uint8_t *corrected_by);

/* Decode a withdrawn value: 0 with *WITHDRAWN_MS and CORRECTED_BY (all zero: withdrawn by hand),
 * or TACNET_ECORRUPT when LEN is not AGENCY_OUTBOX_WITHDRAWN_BYTES. */
int agency_outbox_withdrawn_decode(const uint8_t *buf, size_t len, uint64_t *withdrawn_ms,
                                   uint8_t corrected_by[16]);

/* The unapplied key of MSG_ID accepted at SETTLED_MS: keys sort oldest first. */
void agency_outbox_unapplied_key(uint8_t out[AGENCY_OUTBOX_UNAPPLIED_KEY_BYTES],
                                 uint64_t settled_ms, const uint8_t msg_id[16]);

/* Split an unapplied key: 0 with *SETTLED_MS and MSG_ID, or TACNET_ECORRUPT on a wrong length. */
int agency_outbox_unapplied_key_decode(const uint8_t *key, size_t len, uint64_t *settled_ms,
                                       uint8_t msg_id[16]);

/* Accepted, not yet back: the headers of this agency's events the broker has accepted (PUBACK,
 * so they are out of the outbox) whose DELIVER back to this agency its view has not applied yet.
 * The publish path lays them over the view, between the view and the outbox, so that an event
 * published in that window sees the case as the broker will: a concern accepted a moment ago has
 * made this agency a member even if its copy is still on the way. In memory only: after a
 * restart the broker delivers everything past the view's last_applied before anything new is
 * published on it. Entries are kept in the order added (the broker's seq order, since PUBACKs
 * come in it) and dropped once the view has applied their seq. */
#define AGENCY_ACCEPTED_MAX \
    4096 /* past it the oldest is dropped (a view that far behind is
                                  * re-synchronising; its next apply catches up) */

typedef struct agency_accepted_entry {
    uint8_t blind[16]; /* the case, blinded as the outbox_case keys are */
    uint64_t seq;      /* the broker's seq from the PUBACK */
    uint8_t *header;   /* malloc'd copy of the packed Header */
    size_t hlen;
} agency_accepted_entry_t;

typedef struct agency_accepted {
    agency_accepted_entry_t *v;
    size_t n, cap;
} agency_accepted_t;

/* Append a copy of HEADER (HLEN bytes) for case BLIND accepted at SEQ; the oldest entry is
 * dropped when AGENCY_ACCEPTED_MAX are held. */
void agency_accepted_add(agency_accepted_t *self, const uint8_t blind[16], uint64_t seq,
                         const uint8_t *header, size_t hlen);

/* Move every entry of FROM to the end of SELF, in order; FROM is left empty. */
void agency_accepted_take(agency_accepted_t *self, agency_accepted_t *from);

/* Drop the entries the view has applied: those with seq <= APPLIED. */
void agency_accepted_prune(agency_accepted_t *self, uint64_t applied);

/* Free every entry (the list stays usable, empty). */
void agency_accepted_clear(agency_accepted_t *self);

#endif
