/* audit: the hash-chained audit trail (docs/ARCHITECTURE.md, Audit).
 *
 * Every accept, reject, delivery, read and policy decision becomes one record: who (actor),
 * what (action, object), when (at_ms), why (reason code) and the outcome with its TACNET_E* code.
 * Records never carry body content or free text: every field is a short printable-ASCII code or
 * identifier (agency/user id, msg_id hex, case reference).
 *
 * Records live in the process's own LMDB environment, in the named database AUDIT_DB (callers
 * list it among the names given to store_open), so that a record commits in the same
 * transaction as the change it describes. Layout of the database:
 *   key seq (u64 BE, 1..)  record, AUDIT_RECORD_BYTES, version 1:
 *       0 version(1) | 1 seq(8) | 9 at_ms(8) | 17 code(4, two's complement BE)
 *       | 21 actor[48] | 69 action[32] | 101 object[72] | 173 outcome[16] | 189 reason[32]
 *       | 221 prev_hash[32] | 253 hash[32]
 *     strings are NUL-padded to their field; hash = BLAKE2b-256(bytes 0..252), which covers
 *     prev_hash, so each record commits to the whole chain before it. Record 1 has an all-zero
 *     prev_hash.
 *   key 9 x 0xff           head: count (u64 BE) || hash of record `count` (32); after every
 *                          record, so an append rewrites one leaf for both. A chain written
 *                          before keeps it under 8 zero bytes until its next append moves it.
 * The head is rewritten with every append, in the same transaction, so deleting records from
 * the end is detected as well as edits, deletions and reordering within the chain.
 *   key 9 zero bytes       anchor, only after audit_prune: first kept seq (u64 BE) || the hash
 *                          of the last pruned record, which the first kept one must chain to
 * Without an anchor the chain must start at seq 1, so records deleted from the front are
 * detected too; a prune is only as trustworthy as whoever can write the file (as the head is).
 */
#ifndef TACNET_AUDIT_H
#define TACNET_AUDIT_H

#include <lmdb.h>
#include <stdint.h>

#define AUDIT_DB           "audit"
#define AUDIT_HASH_BYTES   32
#define AUDIT_RECORD_BYTES 285

/* String fields: NUL-terminated printable ASCII (0x20-0x7e) that fits the array. */
typedef struct audit_record {
    uint64_t at_ms;   /* wall clock, ms since the Unix epoch */
    char actor[48];   /* who: "camhs" or "camhs/u-1042" */
    char action[32];  /* what was done: "accept", "reject", "deliver", "read", "override" */
    char object[72];  /* what it was done to: msg_id hex or case reference */
    char outcome[16]; /* "ok", "refused", "failed" */
    char reason[32];  /* why: a reason code such as "safeguarding_override"; may be empty */
    int32_t code;     /* TACNET_E* code of the outcome; 0 for success */
} audit_record_t;

/* Append REC to the chain in DBI inside the caller's write transaction TXN; the caller's
 * commit makes it durable together with what it audits. *SEQ_OUT (optional) gets its seq.
 * Returns 0, TACNET_EINVAL (a field not NUL-terminated or not printable ASCII), TACNET_EAUDIT
 * (the head is malformed: the chain is already broken), TACNET_EEXISTS (a record already sits
 * above the head), or TACNET_EMAPFULL for store_write to grow and retry. */
int audit_append(MDB_txn *txn, MDB_dbi dbi, const audit_record_t *rec, uint64_t *seq_out)
    __attribute__((warn_unused_result));

/* The usual way to audit an action: build a record stamped now (clock_now_ms) from ACTOR,
 * ACTION, OBJECT and OUTCOME, each cut to its field, with reason = CODE's stable name (e.g.
 * "E_CONSENT") when CODE is non-zero, else empty, and append it as audit_append does (no
 * seq out). Returns as audit_append. */
int audit_append_now(MDB_txn *txn, MDB_dbi dbi, const char *actor, const char *action,
                     const char *object, const char *outcome, int code)
    __attribute__((warn_unused_result));

/* Check the whole chain in DBI inside TXN (read or write). *COUNT (optional) gets the number
 * of records that verify, i.e. those before the first bad one. Returns 0 when every record and
 * the head agree; TACNET_EAUDIT with *FIRST_BAD (optional) set to the first seq that is edited,
 * missing, out of place, or not vouched for by the head; or a TACNET_E* code when LMDB fails.
 * An empty database is a valid empty chain. A consistent rewrite of records *and* head by
 * someone with write access to the file is not detectable without an external anchor. */
int audit_verify(MDB_txn *txn, MDB_dbi dbi, uint64_t *count, uint64_t *first_bad)
    __attribute__((warn_unused_result));

/* audit_verify on the environment in LMDB_DIR, opened read-only (MDB_RDONLY; the owning daemon
 * may be running and writing). Must not be called in a process that already has that
 * environment open (an LMDB rule). Returns as audit_verify, or TACNET_ENOTFOUND (no
 * environment or no AUDIT_DB in it), TACNET_ECORRUPT, TACNET_ESTORE. */
int audit_verify_dir(const char *lmdb_dir, uint64_t *count, uint64_t *first_bad)
    __attribute__((warn_unused_result));

/* Delete, inside TXN, the oldest records with at_ms < BEFORE_MS (retention of the audit
 * itself), stopping at the first younger one and always keeping the newest record, and write
 * the anchor so that audit_verify goes on verifying what is left. *PRUNED (optional) gets the
 * number deleted. Returns 0, TACNET_EAUDIT (the chain is already broken where it prunes), or a
 * store code (TACNET_EMAPFULL for store_write to retry). */
int audit_prune(MDB_txn *txn, MDB_dbi dbi, uint64_t before_ms, uint64_t *pruned)
    __attribute__((warn_unused_result));

/* Call FN for each record with seq >= FROM_SEQ in order, decoded into a record that is valid
 * only during the call. FN returns 0 to go on or non-zero to stop (returned as is). Returns
 * 0, FN's value, TACNET_ECORRUPT for an undecodable record, or a TACNET_E* code from LMDB.
 * It does not check hashes: use audit_verify for that. */
int audit_iterate(MDB_txn *txn, MDB_dbi dbi, uint64_t from_seq,
                  int (*fn)(uint64_t seq, const audit_record_t *rec, void *arg), void *arg);

#endif
