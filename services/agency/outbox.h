/* outbox: the records of the agency daemon's durable outbox, laid out in one place.
 *
 * A publish is queued (publish.c) before anything is sent and stays queued until the broker
 * settles it (agency.c): a PUBACK deletes it, a NACK turns it into a dead letter. Whatever
 * happens in between (a crash, a restarted broker, an E_QUOTA pause) the outbox is resent in
 * sender_seq order, header and sealed body byte for byte as queued (each send turn signed
 * afresh), so every reader and writer of these records goes through the encoders and decoders
 * below. Ten databases of the view hold them; every
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
 *   accepted    seq(8) -> blind(16) header
 *                                accepted, not yet back: this agency's events the broker has
 *                                accepted (written by the PUBACK's settle, which takes them out
 *                                of the outbox) whose DELIVER back the view has not applied yet
 *                                (deleted by the apply that passes their seq). The publish path
 *                                lays them between the view and the outbox, so an event
 *                                published in that window sees the case as the broker will,
 *                                across a restart too
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

#endif
