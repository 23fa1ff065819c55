/* casestate: the materialised state of one case, folded from the events this agency applied.
 *
 * The view keeps events, not state: a case's state is the fold of its timeline in delivery
 * order, so two agencies holding the same events derive the same team, plan, meetings and
 * escalations, and a new rule applies to old cases without a migration. What is due and overdue
 * is computed against a clock passed in (services/casework/cadence.h holds the timescales):
 * care-plan reviews, meeting actions, planned contacts with the parents, an unaccepted lead
 * hand-over, a requested meeting not yet held, and each open escalation's stage deadline.
 *
 * Pure logic: no I/O and no LMDB; the caller decrypts the timeline (view.c) and owns it.
 */
#ifndef TACNET_CASEWORK_CASESTATE_H
#define TACNET_CASEWORK_CASESTATE_H

#include <stddef.h>
#include <stdint.h>

#include "api.pb-c.h"
#include "clock.h"

/* Working days a new lead professional has to accept a hand-over before it is flagged. */
#define CASESTATE_HANDOVER_WORKING_DAYS 5u

typedef struct casestate_opts {
    const holidays_t *holidays; /* may be NULL: weekends only */
    uint64_t now_ms;
    /* The view lacks some classes (CaseState.withheld): a meeting asked for may have been minuted
     * at a class it does not receive, so one past its wanted-by date is not called overdue; nor
     * is another agency's planned contact with the parents, whose last contact may be one this
     * view does not receive. */
    int partial;
    uint32_t agency; /* the view's own agency (0: not known): its own items are always judged */
} casestate_opts_t;

/* The result of a fold. STATE and every DUE item are heap-allocated protobuf messages whose
 * fields are all owned (nothing points into the timeline); free with casestate_result_clear. */
typedef struct casestate_result {
    Tacnet__CaseState *state;
    Tacnet__DueItem **due; /* sorted by due_ms, overdue or not */
    size_t n_due;
    unsigned open_escalations;
    unsigned overdue_items;
} casestate_result_t;

/* Fold the N timeline entries of one case (oldest first; entries without a body — events this
 * agency could not open — contribute their header facts only) into OUT. Returns 0, or
 * TACNET_EINVAL for NULL arguments. Never fails on odd data: an event that does not fit (an
 * action update for an unknown action, a notice for an unknown escalation) is folded as far as
 * it goes, since the timeline is history and must always render. */
int casestate_fold(Tacnet__TimelineEntry *const *timeline, size_t n, const casestate_opts_t *opts,
                   casestate_result_t *out);

void casestate_result_clear(casestate_result_t *r);

/* The action whose id is ID in ST, or NULL. */
const Tacnet__ActionView *casestate_action_find(const Tacnet__CaseState *st,
                                                ProtobufCBinaryData id);

/* Whether AGENCY may change action V's status on case state ST while LEAD (0: none) leads: the
 * agency that owns it, the lead professional's agency, or the agency that minuted the meeting
 * that set it. One rule for the sender (publish path), the case page's "Update" and receipt.
 * *MINUTED (may be NULL): that minuting agency, 0 when none is known. */
int casestate_action_may_update(const Tacnet__CaseState *st, const Tacnet__ActionView *v,
                                uint32_t agency, uint32_t lead, uint32_t *minuted);

/* Whether minutes dated HELD_DATE (yyyymmdd) may be recorded for meeting M: not dated before the
 * day it was scheduled for (minutes dated earlier are a mistyped date, or a meeting brought
 * forward without being scheduled again). The day scheduled is the date of its start in the
 * partnership's zone, whose offset from UTC at that moment is OFFSET_S seconds (the caller reads
 * it from the zone: +3600 for 10:00 BST): an evening meeting west of UTC or a morning one east of
 * it is on its own day, not the UTC one. Returns 0 (also for a NULL meeting, one not scheduled, or
 * a HELD_DATE of 0), or TACNET_EFIELD with one line in WHY naming meeting_outcome.held_date and
 * both dates. */
int casestate_minutes_date_check(const Tacnet__MeetingView *m, uint32_t held_date, long offset_s,
                                 char *why, size_t cap);

/* The procedure's last stage: every partnership's escalation.conf has exactly four
 * (common/policyfile.c refuses one without each), as the broker's engine does. */
#define CASESTATE_ESCALATION_LAST_STAGE 4u

/* 1 if escalation E is breached at NOW_MS: still open with no resolution proposed, at the last
 * stage, and past that stage's deadline, so it stays with the partnership past its last
 * deadline. The broker marks it so without a notice (casework/escalation_engine.h), so a
 * recipient works it out from the notices it holds, by the same rule. Else 0 (NULL too). */
int casestate_escalation_breached(const Tacnet__EscalationView *e, uint64_t now_ms);

#endif
