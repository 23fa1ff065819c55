/* partnership_report: partnership-level figures without identifiers, from clear headers only.
 *
 * Full partnership includes sharing statistics to plan services, but the partnership may see no
 * child: these figures are built from the broker journal's clear headers (never a sealed body)
 * and hold counts only, no case reference, initials or date of a single case. From the headers
 * come: cases by level of need (a case's level is the highest of its member agencies' latest
 * assessed levels; "not assessed" otherwise), open and closed cases, and escalations of
 * professional disagreements by the highest stage they reached, how many are still open, and
 * how long the closed ones took from opening to every party's acknowledgement; partnership
 * ladder ratings (the rung, who rated and whom, in the clear since the rating says nothing of
 * the child), each rater's latest rating of each subject on each case, in three bands of the
 * nine rungs, agencies' ratings of each other apart from the family's; and open cases past the
 * review date the latest care plan or meeting outcome gave (review_due_date).
 *
 * Small numbers identify people, so every count under PARTNERSHIP_REPORT_MIN is suppressed
 * (shown "<5"), and while a breakdown's suppressed cells add up to less than that (so the total
 * would give their sum away, or a lone cell's value), its smallest shown cell is suppressed too. Times to resolve are given only
 * over at least PARTNERSHIP_REPORT_MIN escalations.
 *
 * Pure logic: no I/O. `tacnet broker report` feeds it the journal in seq order.
 */
#ifndef TACNET_CASEWORK_PARTNERSHIP_REPORT_H
#define TACNET_CASEWORK_PARTNERSHIP_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "wire.pb-c.h"

#define PARTNERSHIP_REPORT_MIN    5u
#define PARTNERSHIP_REPORT_STAGES 4u
#define PARTNERSHIP_REPORT_BANDS  3u /* rungs 1-3, 4-6, 7-9 */

typedef struct partnership_report partnership_report_t;

/* The figures, before suppression. */
typedef struct partnership_report_figures {
    unsigned cases, cases_closed;
    unsigned by_need[5]; /* [0] not assessed, [1..4] level of need */
    unsigned escalations, escalations_open, escalations_automatic;
    unsigned by_stage[PARTNERSHIP_REPORT_STAGES + 1]; /* [s] reached stage s at most */
    unsigned closed_with_time;                        /* closed, with opening seen */
    uint64_t resolve_median_ms, resolve_max_ms;       /* over closed_with_time */
    /* Latest ladder ratings: [0] agencies of each other, [1] families of the team or an agency. */
    unsigned ratings[2];
    unsigned rating_bands[2][PARTNERSHIP_REPORT_BANDS];
    unsigned rating_median[2];                    /* the median rung, 0 when none */
    unsigned cases_review_known, reviews_overdue; /* open cases with a review date; past it */
} partnership_report_figures_t;

partnership_report_t *partnership_report_new(void);
void partnership_report_destroy(partnership_report_t **self_p);

/* Count one journalled header H (in seq order). */
void partnership_report_add(partnership_report_t *self, const Tacnet__Header *h);

/* The figures so far; a review is overdue when NOW_MS falls on a later day than it was due. */
void partnership_report_figures(const partnership_report_t *self, uint64_t now_ms,
                                partnership_report_figures_t *out);

/* The band (0..2) of RUNG 1..9. */
unsigned partnership_report_band(uint32_t rung);

/* Mark in HIDDEN[i] (1/0) which of the N counts to suppress: those under the minimum, then the
 * smallest others until the hidden cells add up to at least the minimum (or all are hidden).
 * Returns how many are hidden. */
size_t partnership_report_suppress(const unsigned *counts, size_t n, int *hidden);

/* COUNT as printed: the number, or "<5" when HIDE (or when COUNT is under the minimum). */
const char *partnership_report_count(unsigned count, int hide, char *buf, size_t cap);

#endif
