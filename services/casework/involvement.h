/* involvement: how the child and each parent or carer want to be involved in the team's work.
 *
 * Shared decision-making starts by asking the family how they would like to take part, and
 * their preferred share may change, so the preferences are an event of their own
 * (involvement_preferences), revisited at each review: for each person (by family role, never
 * by name) their part in decisions and in meetings, whether they want the minutes, how to
 * contact them, their language and whether they need an interpreter, and their accessibility
 * needs. The latest record is shown at the top of the case; its revisit-by date is a due item.
 *
 * Pure logic: no I/O. The publish path's workflow stage checks a record here
 * (services/casework/workflow.c).
 */
#ifndef TACNET_CASEWORK_INVOLVEMENT_H
#define TACNET_CASEWORK_INVOLVEMENT_H

#include <stddef.h>

#include "events.pb-c.h"

/* Check a record P. Returns 0, or TACNET_EFIELD with one line in WHY naming the field, e.g.
 * `involvement_preferences.people[1].who: mother twice`. */
int involvement_check(const Tacnet__InvolvementPreferences *p, char *why, size_t cap);

/* A person's part, in words: "decide together", "be consulted", "be kept informed", "not for
 * now", or "not asked" for INVOLVEMENT_UNKNOWN. */
const char *involvement_words(Tacnet__Involvement level);

#endif
