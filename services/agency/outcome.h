/* outcome: where each of this agency's own publishes stands, and who is waiting to hear.
 *
 * A publish is queued first and settled by the broker later (agency.c: a PUBACK accepts it
 * under the broker's seq, a NACK refuses it for good). People and systems must learn which, so
 * nobody believes something was shared that was not:
 *
 *   - settling records the outcome durably, in the settle's own transaction: an accepted event
 *     in `settled` (outbox.h has the layout), a refused one as a dead letter;
 *   - agency_outcome_status answers "where does this event stand" from the outbox (queued,
 *     or sent and not yet answered), `settled` (accepted) and the dead letters (refused);
 *   - a front end that wants to answer only once the broker has (the local API's wait_ms, the
 *     HTTP API, the dashboard's forms) registers a waiter: its callback runs once, with the
 *     outcome as soon as the settle is committed, or with the state at its deadline (still
 *     queued or sent), or with NULL when the daemon stops.
 *
 * Waiters live in memory only: a daemon restart answers nobody, but the outcome stays
 * reachable through agency_outcome_status. Not for use outside services/agency.
 */
#ifndef TACNET_AGENCY_OUTCOME_H
#define TACNET_AGENCY_OUTCOME_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "agency.h"
#include "api.pb-c.h"

/* At most this many waiters at once; agency_outcome_wait refuses more (TACNET_EQUOTA). */
#define AGENCY_OUTCOME_MAX_WAITERS 1024

/* Inside the settle's write transaction: record that the event queued at SENDER_SEQ (its outbox
 * record still present) was accepted under broker SEQ (CODE 0) or refused with CODE (the dead
 * letter keeps the reason). Returns 0 or a store code. */
int agency_outcome_settle(agency_t *self, MDB_txn *txn, const uint8_t msg_id[16],
                          uint64_t sender_seq, uint64_t seq, int code);

/* Inside the settle's transaction: the broker refused this agency's event at SENDER_SEQ as out
 * of sequence (CODE TACNET_EREPLAY: a sequence already used, as when someone else holds this
 * agency's key; TACNET_ECLOCK: this machine's clock is off). Counted in meta so that the
 * dashboard and `tacnet outbox` raise it until someone looks (agency_sequence_alert). */
int agency_outcome_sequence_alert_add(agency_t *self, MDB_txn *txn, uint64_t sender_seq, int code);

/* Inside the apply transaction: a broker DELIVERY_REPORT (its opened body BODY, LEN bytes) says
 * which recipients applied which of this agency's events; merged into `delivered`. Returns 0,
 * TACNET_EBADMSG (a body that does not decode: nothing recorded) or a store code. */
int agency_outcome_delivered(agency_t *self, MDB_txn *txn, const uint8_t *body, size_t len);

/* After a settle of MSG_ID committed: answer its waiters with the outcome. */
void agency_outcome_settled(agency_t *self, const uint8_t msg_id[16]);

/* agency_outcome_wait, agency_outcome_cancel and agency_outcome_read are in agency.h: the
 * dashboard uses them too. */

/* Answer the waiters whose deadline has passed. Called by the loop's tick. */
void agency_outcome_tick(agency_t *self);

/* Drop every waiter (FN with NULL), at shutdown. */
void agency_outcome_drop_all(agency_t *self);

/* Fill OUT (initialised by the caller) with MSG_ID's status, inside TXN. Returns 0,
 * TACNET_ENOTFOUND (not an event this agency published, or its outcome is gone with its case),
 * or a store code. OUT's pieces are freed by agency_outcome_status_free. */
int agency_outcome_status(agency_t *self, MDB_txn *txn, const uint8_t msg_id[16],
                          Tacnet__EventStatus *out);

/* Inside TXN: whether the broker has answered MSG_ID, cheaply (nothing allocated), for counting
 * many events (an import job's). Returns TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED or _REFUSED,
 * 0 when not answered yet (or not an event of this agency's), or a store code. */
int agency_outcome_settled_state(agency_t *self, MDB_txn *txn, const uint8_t msg_id[16]);


/* agency_outcome_status_request, agency_outcome_outbox_request (the local API's OutboxRequest),
 * _withdraw_request and _draft_request are in agency.h. */

/* Resolve PREFIX (hex) to one of this agency's refused events not yet withdrawn or corrected,
 * into OUT. Returns 0, or TACNET_EFIELD (not hex, or ambiguous) / TACNET_ENOTFOUND / a store
 * code, with WHY. */
int agency_outcome_refused_find(agency_t *self, const char *prefix, uint8_t out[16], char *why,
                                size_t whylen);

/* Inside TXN: the refused MSG_ID is withdrawn by hand (CORRECTED_BY NULL) or corrected by the
 * event CORRECTED_BY; its kept body is dropped. Returns 0, TACNET_ENOTFOUND (not refused),
 * TACNET_EEXISTS (already withdrawn or corrected) or a store code. Audited. */
int agency_outcome_withdraw(agency_t *self, MDB_txn *txn, const uint8_t msg_id[16],
                            const uint8_t *corrected_by);

/* Inside the retention sweep's transaction: forget the kept bodies of refused events of the
 * case BLIND, as its events are forgotten (they are sealed under this agency's own key, not the
 * case key, so destroying the case key would not reach them). Returns 0 or a store code. */
int agency_outcome_case_erase(agency_t *self, MDB_txn *txn, const uint8_t blind[16]);

#endif
