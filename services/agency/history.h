/* history: history on joining at the agency daemon (docs/ARCHITECTURE.md, "History on joining").
 *
 * As a granter: every event's content key is kept (encrypted under its case key) when it is
 * applied. When a join of another agency is applied, the daemon queues a grant, durably in the
 * same transaction, for each earlier event of the case that it sent (or, as the lead, holds)
 * and that the sharing policy lets the newcomer see under the consent in force, then one "done"
 * grant for the join. The queue is sent to the broker until a GRANTACK settles each entry, so
 * grants survive a crash of either side and are journalled once whatever is resent.
 *
 * As the newcomer: its own join records which members' grants are due ("history pending from
 * X" in show and on the dashboard) until each member's done grant arrives; a granted event is
 * verified (the sender's original signature, then the granter's over the grant) and applied
 * once, in case order, marked as history.
 *
 * Nothing here logs a key, a body or free text.
 */
#ifndef TACNET_AGENCY_HISTORY_H
#define TACNET_AGENCY_HISTORY_H

#include <lmdb.h>
#include <stdint.h>

#include "internal.h"
#include "wire.h"

/* A by_case entry's kept value: the event's content key, then its sealed body's digest. */
#define GRANT_KEPT_BYTES (SEAL_KEY_BYTES + SEAL_DIGEST_LEN)

/* What event H's by_case entry keeps for granting it later (agency_view_apply's KEPT): its
 * content key K and the DIGEST of its sealed body, into KEPT with *LEN its length; *LEN 0 when
 * there is nothing to keep (a broker notice, or K or DIGEST NULL). The caller wipes KEPT. */
void agency_history_kept(const Tacnet__Header *h, const uint8_t *k, const uint8_t *digest,
                         uint8_t kept[GRANT_KEPT_BYTES], size_t *len);

/* After event H was applied inside TXN (at journal seq SEQ, its sealed body's DIGEST), unless it
 * came as HISTORY, act on a join: queue the grants for another agency's join, or record whose
 * grants are due on our own. Returns 0 or a code that aborts the transaction. */
int agency_history_after_apply(agency_t *self, MDB_txn *txn, const Tacnet__Header *h, uint64_t seq,
                               const uint8_t *digest, int history);

/* GRANTER's done grant for the join H arrived: nothing more is due from it on that case. */
int agency_history_done(agency_t *self, MDB_txn *txn, const Tacnet__Header *h, uint32_t granter);

/* The agencies whose grants on case BLIND are still due (bit mask of agency values). */
uint32_t agency_history_pending(agency_t *self, MDB_txn *txn, const uint8_t blind[16]);

/* Forget case BLIND's kept content keys and pending grants (retention's erase). */
int agency_history_case_erase(agency_t *self, MDB_txn *txn, const uint8_t blind[16]);

/* Check a granted DELIVER's grant G against the original frames (HEADER H, SEALED) and open the
 * body with it: *BODY malloc'd, K_OUT (32 bytes) the content key. A done grant (*DONE set)
 * opens nothing. Returns 0, TACNET_EKEYID (granter unknown), TACNET_EBADMSG (a grant for another
 * event or agency), TACNET_ESIGNATURE, or seal_open_granted's codes. */
int agency_history_open(agency_t *self, const Tacnet__Grant *g, const Tacnet__Header *h,
                        const uint8_t *hbytes, size_t hlen, const uint8_t *sealed, size_t slen,
                        uint8_t **body, size_t *blen, uint8_t k_out[SEAL_KEY_BYTES], int *done);

/* The granter's seal public key for G (for warming the pairwise-key cache), or NULL. */
const uint8_t *agency_history_granter_pk(agency_t *self, const Tacnet__Grant *g);

/* Send the queued grants to the broker (a done grant only once no key grant to its grantee is
 * queued, so it is journalled after them). */
void agency_history_pump(agency_t *self);

/* GRANTACK: drop the grant from the queue (accepted, a duplicate, or refused: audited), or keep
 * it for a resend when the broker's storage refused it. */
void agency_history_on_ack(agency_t *self, const wire_msg_t *m);

#endif
