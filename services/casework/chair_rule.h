/* chair_rule: whether the chair of a network meeting meets the partnership's rule.
 *
 * A network meeting should be chaired by someone senior who is not directly involved with the
 * family, so that the chair can weigh the agencies' views without defending their own; failing
 * that, by the lead professional. Directly involved here means a member agency's named contact
 * for the case. A chair is one person: the same agency and initials. Pure logic.
 */
#ifndef TACNET_CASEWORK_CHAIR_RULE_H
#define TACNET_CASEWORK_CHAIR_RULE_H

#include <stddef.h>
#include <stdint.h>

#include "api.pb-c.h"

/* Judge CHAIR against the LEAD professional (may be NULL) and the named contacts of the team
 * (INVOLVED, N_INVOLVED; NULL entries are skipped). Returns a Tacnet__ChairRule:
 * CHAIR_NOT_NAMED for a NULL chair or one without agency or initials, CHAIR_LEAD when the chair
 * is the lead (even if also a named contact), CHAIR_DIRECTLY_INVOLVED when a named contact,
 * CHAIR_INDEPENDENT otherwise. */
uint32_t chair_rule_judge(const Tacnet__Professional *chair, const Tacnet__Professional *lead,
                          const Tacnet__Professional *const *involved, size_t n_involved);

/* 1 when VERDICT meets the rule (independent, or the lead as the fallback). */
int chair_rule_meets(uint32_t verdict);

/* For people: "meets the chair rule: not directly involved", "meets the chair rule: the lead
 * professional", "does not meet the chair rule: directly involved with the family (the lead
 * should confirm or find a senior who is not)", ... NULL for CHAIR_UNJUDGED or an unknown value. */
const char *chair_rule_words(uint32_t verdict);

/* Who records the outcome of meeting M (NULL: a meeting not known) instead of AGENCY: the
 * meeting's convener (the agency that first scheduled it, else the one that asked for it) when
 * AGENCY is neither it nor the LEAD professional's agency. Returns that convener, or 0 when
 * AGENCY may record it: as convener or lead, for a meeting with no convener known, and by anyone
 * in the team while the case has no lead or the convener has left it (MEMBERS: bit per agency). */
uint32_t chair_rule_minutes_by(const Tacnet__MeetingView *m, uint32_t agency, uint32_t lead,
                               uint32_t members);

#endif
