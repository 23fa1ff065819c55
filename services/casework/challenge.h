/* challenge: a request that someone not directly involved reviews a decision, a disagreement or
 * an escalation stage.
 *
 * Practice asks that a team's judgement can be challenged from outside it: a line manager, a
 * designated safeguarding lead or the safeguarding partnership, none of them working with the
 * family, looks again. Decisions, disagreements and escalation responses may carry such a
 * request (ChallengeRequest, field 44 or 40 of their bodies); this module checks one when it is
 * published and words it for the case page and `tacnet case`. Pure logic.
 */
#ifndef TACNET_CASEWORK_CHALLENGE_H
#define TACNET_CASEWORK_CHALLENGE_H

#include <stddef.h>
#include <stdint.h>

#include "api.pb-c.h"

/* The request carried by body B of an event of KIND, or NULL (none, or a kind that has none). */
const Tacnet__ChallengeRequest *challenge_of(uint32_t kind, const Tacnet__Body *b);

/* Check the request in body B of an event of KIND (0 when there is none). Refused with
 * TACNET_EFIELD and one line in WHY naming the field: the reviewer's role must be a senior or
 * partnership role (line_manager, dsl, partnership_lead), a named reviewer needs agency and
 * initials and the same role, and review_by_date must be a real date. */
int challenge_check(uint32_t kind, const Tacnet__Body *b, char *why, size_t cap);

/* "a review by a partnership lead not directly involved", for people; NULL for a role that
 * cannot be asked. */
const char *challenge_words(uint32_t reviewer_role);

#endif
