/* ladder: the partnership ladder, how well the team is working together, rung by rung.
 *
 * Adapted from Arnstein's ladder of participation, the partnership's guidance rates working
 * relationships on nine named rungs, bottom to top: Conflict, Competition, Co-existence,
 * Compliance, Co-operation, Co-ordination, Collaboration, Co-ownership, Full partnership. Each
 * agency rates each other agency it works with (a pair), and the family rates the team as a
 * whole (about PARTNERSHIP) or one agency, through the professional who records it for them
 * (partnership_rating.by_family). Ratings are kept as history; the trend of a rating is its
 * change from the same rater's previous rating of the same subject.
 *
 * Pure logic: no I/O. The workflow stage checks a rating here; the case page and `tacnet case`
 * show the names and trends.
 */
#ifndef TACNET_CASEWORK_LADDER_H
#define TACNET_CASEWORK_LADDER_H

#include <stddef.h>
#include <stdint.h>

#include "api.pb-c.h"

#define LADDER_RUNGS 9u

/* The rung's name ("Co-operation" for 5), or NULL outside 1..9. */
const char *ladder_rung_name(uint32_t rung);

/* Check a rating R. Returns 0, or TACNET_EFIELD with one line in WHY naming the field. */
int ladder_check(const Tacnet__PartnershipRating *r, char *why, size_t cap);

/* Whether agency RATER may send rating R: an agency rates the others, not itself (the family's
 * rating of an agency, recorded by that agency, is the family's). Returns 0 (also for a NULL R:
 * ladder_check refuses that), or TACNET_EFIELD with one line in WHY. */
int ladder_rater_check(const Tacnet__PartnershipRating *r, uint32_t rater, char *why, size_t cap);

/* 1 if ratings A and B come from the same rater (agency, and family member if any) about the
 * same subject. */
int ladder_same_pair(const Tacnet__RatingView *a, const Tacnet__RatingView *b);

/* The change of RATINGS[I] from the latest earlier rating of the same pair (ratings oldest
 * first), into *DELTA. Returns 1, or 0 when it is that pair's first rating. */
int ladder_trend(Tacnet__RatingView *const *ratings, size_t n, size_t i, int *delta);

/* 1 if RATINGS[I] is the latest rating of its pair, else 0. */
int ladder_is_latest(Tacnet__RatingView *const *ratings, size_t n, size_t i);

#endif
