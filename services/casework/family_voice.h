/* family_voice: the child's and the family's views on what the team decides.
 *
 * A decision, a care plan, a meeting's outcome, a disagreement and an escalation's resolution
 * each carry the child's view and the family's view, in their words, or a coded reason the
 * view is absent: the child is too young, they declined, they could not be reached, or they
 * have not been asked yet. "Not yet asked" names the date by which the view will have been
 * sought, and that date is a due item on the case until a later one of these events records
 * the same person's view (or a final reason: too young, declined, not reachable). A view and a
 * reason together are refused, as is neither: an absent view must be a fact the team can act
 * on, not an empty field (docs/DOMAIN.md, the family in the team).
 *
 * In a meeting outcome, a family member minuted with a view counts: the child's (role CHILD) as
 * the child's view, anyone else's as the family's.
 *
 * Pure logic: no I/O. Used by the publish path's workflow stage (services/casework/workflow.c)
 * and by the case fold (services/casework/casestate.c).
 */
#ifndef TACNET_CASEWORK_FAMILY_VOICE_H
#define TACNET_CASEWORK_FAMILY_VOICE_H

#include <stddef.h>
#include <stdint.h>

#include "events.pb-c.h"

/* Whose view. */
typedef enum { FAMILY_VOICE_CHILD = 0, FAMILY_VOICE_FAMILY = 1 } family_voice_who_t;

/* 1 if events of KIND carry the child's and the family's views, else 0. */
int family_voice_applies(uint32_t kind);

/* Check the views in body B of an event of KIND. Returns 0 (also for kinds without views), or
 * TACNET_EFIELD with one line in WHY naming the field, e.g. `decision.child_view is required,
 * or child_view_absent with a reason (too_young, declined, not_reachable, not_yet_asked)`. */
int family_voice_check(uint32_t kind, const Tacnet__Body *b, char *why, size_t cap);

/* The date by which WHO's view is still to be sought, from a NOT_YET_ASKED reason in B.
 * Returns 1 and sets *ASK_BY, or 0 when B does not defer WHO's view. */
int family_voice_ask_by(uint32_t kind, const Tacnet__Body *b, family_voice_who_t who,
                        uint32_t *ask_by);

/* 1 if B records WHO's view: in words, or a reason other than "not yet asked". */
int family_voice_heard(uint32_t kind, const Tacnet__Body *b, family_voice_who_t who);

/* "the child's view" or "the family's view", for labels. */
const char *family_voice_name(family_voice_who_t who);

#endif
