/* web_family: the family's place in the team on the dashboard: how they want to be involved
 * (shown first on the case page), the partnership ladder as the agencies and the family rate it,
 * and the plain-language summary the lead prints for the family (/cases/REF/family-summary).
 * Every writer escapes what it writes. */
#ifndef TACNET_DASHBOARD_WEB_FAMILY_H
#define TACNET_DASHBOARD_WEB_FAMILY_H

#include "web.h"

/* The section "How the family want to be involved" of the case page (ST may be NULL). */
void dashboard_web_family_involvement(dashboard_buf_t *b, const Tacnet__CaseState *st);

/* The section "Partnership ladder": each rater's latest rating of each subject, by rung name,
 * with its trend and history (ST may be NULL). */
void dashboard_web_family_ladder(dashboard_buf_t *b, const Tacnet__CaseState *st);

/* The summary's "What we are working on together": the goals of every current plan (the lead
 * plan first, each agency's beside it), under the plan's name and who keeps it, and how each goal
 * is going, as the view of agency ME holds them (ST may be NULL). */
void dashboard_web_family_goals(dashboard_buf_t *b, const Tacnet__CaseState *st, uint32_t me);

/* The summary's "Our next meeting" at NOW: the soonest scheduled and not yet held, else the next
 * date the latest minutes set if it is not past, else "not arranged yet". */
void dashboard_web_family_next_meeting(dashboard_buf_t *b, const Tacnet__CaseState *st,
                                       uint64_t now);

/* The page /cases/REF/family-summary: what was agreed, for the family, printable. */
void dashboard_web_family_summary(dashboard_web_t *w, const char *ref);

#endif
