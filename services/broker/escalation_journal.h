/* escalation_journal: the pure escalation engine (casework/escalation_engine.h) run live in the
 * broker, journalled with its causes.
 *
 * The pure engine decides; this module feeds it clear headers and timer ticks, turns what it
 * decides into broker notices (notice.h) and keeps its records in the journal's `escalations`
 * database, every change in the SAME write transaction as the event or tick that caused it.
 *
 * LMDB may run a write function again (store_write retries after growing a full map), and a
 * failed commit must leave no trace, so the committed engine is never touched inside a
 * transaction: the first change of a transaction works on a copy, which replaces the committed
 * engine only after the commit. The protocol, inside one store_write function:
 *
 *     escalation_journal_begin(e);                      (forgets any earlier attempt)
 *     for each event: escalation_journal_check(...)     (refuse it, storing nothing, or stage effects)
 *                     ...journal the event...
 *                     escalation_journal_apply(...)     (its notices, level-of-need trigger, lead change)
 *     escalation_journal_tick(...)                      (due advances, non-response alerts)
 *     escalation_journal_persist(e, txn);               (changed records, last)
 * and after store_write: escalation_journal_commit(e) on success, escalation_journal_abort(e) on failure.
 *
 * Header facts enforced (bodies are sealed: the agency daemon checks that a resolution carries
 * its outcome and the child's safety statement):
 *   DISAGREEMENT         refers_to names an accepted event of the same case; the challenged
 *                        party is that event's sender (or subject_agency when the raiser
 *                        challenges its own event). A repeat about the same decision or between
 *                        the same two agencies joins the open escalation.
 *   ESCALATION_RESPONSE  refers_to names an escalation of this case; sender is a party.
 *   ESCALATION_RESOLVED  ... sender is a party or the lead professional's agency.
 *   ESCALATION_ACK       ... sender is a party; only once a resolution was proposed.
 *   ASSESSMENT           member agencies' latest levels of need differing by the policy's gap
 *                        open one automatic escalation per pair.
 */
#ifndef TACNET_BROKER_ESCALATION_JOURNAL_H
#define TACNET_BROKER_ESCALATION_JOURNAL_H

#include <jansson.h>
#include <lmdb.h>
#include <stdint.h>

#include "casework/escalation_engine.h"
#include "clock.h"
#include "journal.h"
#include "notice.h"
#include "roster.h"
#include "route.h"
#include "wire.pb-c.h"

typedef struct escalation_journal escalation_journal_t;

/* Load the policy from ROSTER (the default profile when the roster has none) and every stored
 * record from JOURNAL. JOURNAL, NOTICE and HOLIDAYS are borrowed and must outlive the object.
 * Returns an owned object, or NULL with *ERR (TACNET_ECONFIG for an invalid policy,
 * TACNET_ECORRUPT or a storage code for unreadable records) and WHY. */
escalation_journal_t *escalation_journal_new(journal_t *journal, notice_t *notice,
                                             const roster_t *roster, const holidays_t *holidays,
                                             int *err, char *why, size_t whylen);
void escalation_journal_destroy(escalation_journal_t **self_p);

/* A reloaded roster: adopt its escalation policy for later stages (records keep the deadlines
 * already set). Returns 0, or TACNET_ECONFIG (the old policy stays) for an invalid policy or
 * one with fewer stages than an escalation has reached. */
int escalation_journal_roster_set(escalation_journal_t *self, const roster_t *roster);

/* Start (or restart) a write transaction's work. */
void escalation_journal_begin(escalation_journal_t *self);

/* Before event H (from an agency, already passed route_check against case C as it was) is
 * journalled: returns 0, or a refusal code (TACNET_EFIELD, TACNET_EREFERSTO, TACNET_ENOTMEMBER,
 * TACNET_EKIND; TACNET_EFORBIDDEN for closing a case with an escalation open; TACNET_ECONSENT for
 * an answer whose recipients leave out a party still on the team) with *DETAIL naming
 * what was wrong (static text); a refusal changes nothing. On 0 the event's
 * escalation effects are staged for escalation_apply. Storage errors pass through. */
int escalation_journal_check(escalation_journal_t *self, MDB_txn *txn, const Tacnet__Header *h,
                             const route_case_t *c, uint64_t now_ms, const char **detail);

/* After H was journalled and case state BEFORE became AFTER: journal the notices staged by
 * escalation_check, then run the level-of-need trigger and follow a change of lead. Appends at
 * *SEQ + 1 ... Returns 0 or a storage code. */
int escalation_journal_apply(escalation_journal_t *self, MDB_txn *txn, const Tacnet__Header *h,
                             const route_case_t *before, const route_case_t *after, uint64_t now_ms,
                             uint64_t *seq);

/* Whether anything is due at NOW_MS (cheap; no transaction needed). */
int escalation_journal_due(const escalation_journal_t *self, uint64_t now_ms);

/* Fire every due stage advance (several stages when the broker was down over several
 * deadlines: each once, late ones at once) and non-response alert, journalling their notices.
 * Returns the number of notices, or a negative storage code. */
int escalation_journal_tick(escalation_journal_t *self, MDB_txn *txn, uint64_t now_ms,
                            uint64_t *seq);

/* Write every record changed in this transaction. Returns 0 or a storage code. */
int escalation_journal_persist(escalation_journal_t *self, MDB_txn *txn);

/* The transaction committed: its work becomes the engine. */
void escalation_journal_commit(escalation_journal_t *self);
/* The transaction failed: forget its work. */
void escalation_journal_abort(escalation_journal_t *self);

/* For `tacnet broker status`: counts by state, the next deadline, and the escalations not yet
 * closed (at most LIMIT, soonest deadline first). Returns a new JSON object. */
json_t *escalation_journal_status_json(const escalation_journal_t *self, size_t limit);

#endif
