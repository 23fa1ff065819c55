/* agencies: the partnership's agencies as its signed roster lists them (deploy/agencies.conf,
 * signed in by `tacnet provision`), for every process that loaded that roster.
 *
 * The Agency enum of proto/wire.proto names the four agencies with a daemon of their own, the
 * partnership contact and the broker. Any other agency (a voluntary-sector family support
 * service, a youth offending team) is a roster entry with a free id, a name and a title, served
 * by the generic daemon `tacnet-agency`. Every id the roster declares, enum-named or not, fits
 * the per-case member mask and level table (ids below ROUTE_MAX_AGENCY).
 *
 * The table is process-wide: roster_parse fills it from each roster it accepts, and names_*,
 * labels_* and the header checks consult it for the ids the enum does not name. The daemons
 * are single-threaded; a roster reload replaces the table between two turns of the loop.
 */
#ifndef TACNET_AGENCIES_H
#define TACNET_AGENCIES_H

#include <stddef.h>
#include <stdint.h>

#include "roster.pb-c.h"

/* Ids a roster may give an agency the enum does not name: every id below the broker's (15)
 * above the partnership contact's (5). The stored case record (route.h, version 2) keeps the
 * consent in force for each; a record from before it (version 1) held ids 6 and 7 only. */
#define AGENCIES_EXTRA_FIRST 6
#define AGENCIES_EXTRA_LAST  14
/* The most entries a roster may list (the four named agencies and the extra ids). */
#define AGENCIES_MAX 16

/* Replace the table with the N ENTRIES (copied; a roster's agencies, already checked by
 * agencies_check). N 0 empties it. */
void agencies_register(Tacnet__AgencyEntry *const *entries, size_t n);

/* Check a roster's agency list: ids in range (an enum-named agency under its own id, any other
 * in AGENCIES_EXTRA_FIRST..LAST, never 0, the partnership or the broker), names lowercase
 * letters, digits and '_' (2 to 31), no name or id twice, a title, classes that exist, a known
 * profile ("generic" for every extra id). Returns 0 or TACNET_ECONFIG with WHY naming the
 * entry and what was wrong. */
int agencies_check(Tacnet__AgencyEntry *const *entries, size_t n, char *why, size_t whylen);

/* 1 when ID is an agency: a value of the Agency enum other than 0, or an id the roster
 * declares. */
int agencies_known(uint32_t id);

/* The name and title the roster gives ID, or NULL when it declares none. Valid until the next
 * agencies_register. */
const char *agencies_name(uint32_t id);
const char *agencies_title(uint32_t id);

/* The id the roster gives NAME (any case; '-' counts as '_'). Returns 0 with *ID, or
 * TACNET_ENOTFOUND. */
int agencies_find(const char *name, uint32_t *id);

/* The declared ids in table order, for lists that offer every agency (a form's choices).
 * Returns how many were written to IDS (at most CAP). */
size_t agencies_list(uint32_t *ids, size_t cap);

#endif
