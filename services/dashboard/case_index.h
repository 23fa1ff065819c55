/* case_index: the dashboard's copy of the agency's case summaries, kept up to date from the
 * events the view applies, so My cases costs the page it shows rather than a read of every case.
 *
 * Reading every case record (each decrypted under its own key) took most of a My cases answer
 * with tens of thousands of cases. The index reads them all once, then, when the view has moved
 * on, reads only the cases of the events applied since; a case removed without an event (shredded
 * under retention) leaves it at the next full read, at most DASHBOARD_INDEX_FULL_MS later, and
 * its row is skipped until then (the case read refuses it). Single-threaded, like the daemon's
 * loop that owns it.
 */
#ifndef TACNET_DASHBOARD_CASE_INDEX_H
#define TACNET_DASHBOARD_CASE_INDEX_H

#include "agency/agency.h"

#define DASHBOARD_INDEX_FULL_MS (10 * 60 * 1000)

typedef struct dashboard_index dashboard_index_t;

dashboard_index_t *dashboard_index_new(void);
void dashboard_index_destroy(dashboard_index_t **self_p);

/* Bring SELF up to date with AGENCY's view and return every case it holds, sorted by reference
 * (valid until the next call). Returns 0 or a store code (then *LIST is what it held before). */
int dashboard_index_cases(dashboard_index_t *self, agency_t *agency,
                          const Tacnet__ListCasesReply **list);

/* What the escalation filter, the deadline sort and the inbox need of a case, kept beside its
 * summary: how many of its escalations are open (opened by the broker, not closed) and the
 * nearest deadline among them (0: none). They change only with the case's events, so they are
 * read when an event of the case is applied (the case is read again then anyway), carried over
 * a full read while the case's last activity is unchanged, and otherwise read once: the daemon's
 * loop reads the missing ones a slice at a time while idle (dashboard_index_settle), and a page
 * that needs them before that reads the rest itself; from then on a filtered page costs what an
 * unfiltered one does. */
typedef struct dashboard_index_esc {
    uint32_t open;
    uint64_t next_deadline;
    int known;
} dashboard_index_esc_t;

/* After dashboard_index_cases: the facts of every case of its list, in the same order (valid
 * until the next call to either). Cases whose facts are not known yet are read now. */
const dashboard_index_esc_t *dashboard_index_escalations(dashboard_index_t *self, agency_t *agency);

/* Read the escalation facts SELF does not know yet for at most about BUDGET_MS (one case may
 * overrun it), without bringing the list up to date. Returns how many are still unknown. */
size_t dashboard_index_settle(dashboard_index_t *self, agency_t *agency, uint64_t budget_ms);

#endif
