/* ladder: the partnership ladder's rungs, checks and trends (ladder.h). */
#include "casework/ladder.h"
#include "casework/why.h"

#include "clock.h"
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const s_rungs[LADDER_RUNGS] = {
    "Conflict",      "Competition",   "Co-existence", "Compliance",       "Co-operation",
    "Co-ordination", "Collaboration", "Co-ownership", "Full partnership",
};

const char *ladder_rung_name(uint32_t rung)
{
    return rung >= 1 && rung <= LADDER_RUNGS ? s_rungs[rung - 1] : NULL;
}

int ladder_check(const Tacnet__PartnershipRating *r, char *why, size_t cap)
{
    if (!r)
        return casework_refuse(TACNET_EFIELD, why, cap, "partnership_rating is required");
    int family = r->has_by_family && r->by_family != TACNET__FAMILY_ROLE__FAMILY_UNKNOWN;
    if (r->has_by_family && !family)
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "partnership_rating.by_family: name who in the family rated");
    if (!r->has_about || r->about == TACNET__AGENCY__AGENCY_UNKNOWN ||
        r->about == TACNET__AGENCY__BROKER)
        return casework_refuse(TACNET_EFIELD, why, cap, "partnership_rating.about is required");
    /* Agencies rate each other in pairs; only the family rates the team as a whole. */
    if (r->about == TACNET__AGENCY__PARTNERSHIP && !family)
        return casework_refuse(
            TACNET_EFIELD, why, cap,
            "partnership_rating.about: partnership (the whole team) is rated by the "
            "family (by_family); an agency rates another agency");
    if (r->rung < 1 || r->rung > LADDER_RUNGS)
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "partnership_rating.rung: %u is outside 1 (conflict) to 9 (full "
                               "partnership)",
                               r->rung);
    if (r->has_rated_date && !clock_date_valid(r->rated_date))
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "partnership_rating.rated_date: %u is not a date", r->rated_date);
    return 0;
}

int ladder_rater_check(const Tacnet__PartnershipRating *r, uint32_t rater, char *why, size_t cap)
{
    int family = r && r->has_by_family && r->by_family != TACNET__FAMILY_ROLE__FAMILY_UNKNOWN;
    if (!r || family || !r->has_about || (uint32_t)r->about != rater)
        return 0;
    return casework_refuse(TACNET_EFIELD, why, cap,
                           "partnership_rating.about: an agency rates the other agencies of "
                           "the team, not itself (a rating of it by the family names by_family)");
}

int ladder_same_pair(const Tacnet__RatingView *a, const Tacnet__RatingView *b)
{
    const Tacnet__PartnershipRating *x = a->rating, *y = b->rating;
    uint32_t fx = x->has_by_family ? x->by_family : 0, fy = y->has_by_family ? y->by_family : 0;
    return a->by == b->by && fx == fy && x->about == y->about;
}

int ladder_trend(Tacnet__RatingView *const *ratings, size_t n, size_t i, int *delta)
{
    if (i >= n)
        return 0;
    for (size_t k = i; k > 0; k--)
        if (ladder_same_pair(ratings[k - 1], ratings[i])) {
            *delta = (int)ratings[i]->rating->rung - (int)ratings[k - 1]->rating->rung;
            return 1;
        }
    return 0;
}

int ladder_is_latest(Tacnet__RatingView *const *ratings, size_t n, size_t i)
{
    for (size_t k = i + 1; k < n; k++)
        if (ladder_same_pair(ratings[k], ratings[i]))
            return 0;
    return i < n;
}
