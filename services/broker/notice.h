/* notice: events the broker itself originates, signed with its own key and sealed for their
 * audience with its own X25519 key. Today: safeguarding-override alerts to the lead
 * professional's agency and non-delivery reports to a sender whose event a recipient has not
 * applied within the sharing policy's expiry, and the escalation engine's notices (opened,
 * advanced, resolved, closed; non-response). The broker can open none of the agencies' bodies;
 * it only writes these structured notices (no free text), from what the clear headers say.
 *
 * Notices are appended to the journal inside the same write transaction as the event that
 * caused them (or the timer that fired), so a crash never loses one or sends it twice.
 */
#ifndef TACNET_BROKER_NOTICE_H
#define TACNET_BROKER_NOTICE_H

#include <lmdb.h>
#include <stdint.h>

#include "casework/escalation_engine.h"
#include "clock.h"
#include "journal.h"
#include "roster.h"
#include "route.h"
#include "seal.h"
#include "wire.pb-c.h"

typedef struct notice notice_t;

/* Borrows every argument; they must outlive the notice object. Returns NULL on a storage error. */
notice_t *notice_new(journal_t *journal, const roster_t *roster, const seal_keys_t *keys,
                     seal_ctx_t *seal, const holidays_t *holidays);
void notice_destroy(notice_t **self_p);
void notice_roster_set(notice_t *self, const roster_t *roster);

/* Inside the batch transaction, after accepted event H was appended and case C updated: emit
 * whatever notices it causes (the override alert), appending at *SEQ + 1 ... and advancing
 * *SEQ. Returns 0 or a storage code (TACNET_EMAPFULL passes through, for store_write). */
int notice_on_event(notice_t *self, MDB_txn *txn, const Tacnet__Header *h, const route_case_t *c,
                    int override_used, uint64_t *seq);

/* Inside TXN: tell the sender of H that RECIPIENT has not applied it (seq ABOUT_SEQ, journalled
 * at PUBLISHED_MS) within the sharing policy's expiry. Appends at *SEQ + 1 and advances *SEQ. */
int notice_non_delivery(notice_t *self, MDB_txn *txn, const Tacnet__Header *h, uint32_t recipient,
                        uint64_t about_seq, uint64_t published_ms, uint64_t *seq);

/* Inside TXN: tell SENDER that the recipients in APPLIED (N entries, all about case CAUSE's
 * case_ref and initials) have applied its events. Appends at *SEQ + 1 and advances *SEQ. */
int notice_delivery_report(notice_t *self, MDB_txn *txn, uint32_t sender,
                           const Tacnet__Header *cause, Tacnet__DeliveryReport__Applied **applied,
                           size_t n, uint64_t *seq);

/* Inside TXN: journal escalation notice N for the case it names (INITIALS, ILEN: the child's
 * initials as the case's events carry them). An ESCALATION_NOTICE (or, when N->non_responder is
 * set, a NON_RESPONSE) goes to N's recipients that hold a key in the roster; its clear header
 * names the escalation in refers_to, the stage, audience, deadline and event. Appends at
 * *SEQ + 1 and advances *SEQ. Returns 0 or a storage code. */
int notice_escalation(notice_t *self, MDB_txn *txn, const escalation_engine_notice_t *n,
                      const uint8_t *initials, size_t ilen, uint64_t *seq);

#endif
