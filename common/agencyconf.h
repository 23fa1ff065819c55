/* agencyconf: the partnership's agencies file (deploy/agencies.conf) read into the roster's
 * agency entries, for `tacnet provision` to sign and for `tacnet` to name agencies by.
 *
 * One section per agency, the section's name being the agency's name:
 *   id       1..4 for camhs, school, health_visiting, social_care (their protocol ids); 6 to
 *            14 for any other agency (agencies.h)
 *   title    what people read ("Family support")
 *   classes  the sensitivity classes it may ever receive (routine, health, safeguarding); the
 *            sharing policy must not give it more
 *   profile  camhs, school, health_visiting, social_care (the named daemons) or generic
 *            (`tacnet-agency --config FILE`)
 * Every reason names the file and line (a section's own line for what it lacks).
 */
#ifndef TACNET_AGENCYCONF_H
#define TACNET_AGENCYCONF_H

#include <stddef.h>

#include "roster.pb-c.h"

/* Parse PATH into R->agencies (allocated here even on failure: the caller always calls
 * agencyconf_free(R)). Returns 0, TACNET_ENOTFOUND (cannot open) or TACNET_ECONFIG with WHY
 * naming `file:line` and what was wrong. */
int agencyconf_load(const char *path, Tacnet__Roster *r, char *why, size_t whylen);

/* The same from TEXT; NAME stands for the file in WHY. */
int agencyconf_parse(const char *text, const char *name, Tacnet__Roster *r, char *why,
                     size_t whylen);

/* Is every class SHARING gives each agency among the classes R->agencies lets it receive? 0,
 * or TACNET_ECONFIG with WHY naming the agency and the class. */
int agencyconf_sharing_check(const Tacnet__Roster *r, char *why, size_t whylen);

/* Free R->agencies and set it empty. */
void agencyconf_free(Tacnet__Roster *r);

#endif
