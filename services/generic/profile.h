/* generic profile: what the generic daemon `tacnet-agency` originates for an agency the roster
 * declares without a daemon of its own (a voluntary-sector family support service, a youth
 * team): the team's common kinds, routine by default, no intake adapter. Its id, name and title
 * are the roster's, so the profile is built at start-up rather than compiled in.
 */
#ifndef TACNET_GENERIC_PROFILE_H
#define TACNET_GENERIC_PROFILE_H

#include "casework/profile.h"
#include "cfg.h"

/* Fill OUT as the generic profile of agency ID called NAME and TITLE (kept by pointer: they
 * must outlive OUT). */
void generic_profile_init(agency_profile_t *out, uint32_t id, const char *name, const char *title);

/* The agency the generic daemon's config at PATH serves: its `[agency] name`, looked up in the
 * signed roster the same file names (which also becomes this process's table of agencies).
 * Refuses a name the roster lacks, one of the four named agencies (each has its own daemon) and
 * an entry whose profile is not generic. Returns 0 with OUT filled (NAME and TITLE in static
 * storage), or TACNET_ECONFIG / the roster's code with WHY. */
int generic_profile_resolve(const char *path, agency_profile_t *out, char *why, size_t whylen);

#endif
