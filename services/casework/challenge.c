/* challenge: requests for a review by someone not directly involved. See challenge.h. */
#include "casework/challenge.h"

#include <stdio.h>

#include "clock.h"
#include "err.h"
#include "names.h"

const Tacnet__ChallengeRequest *challenge_of(uint32_t kind, const Tacnet__Body *b)
{
    if (!b)
        return NULL;
    switch (kind) {
    case TACNET__EVENT_KIND__DECISION:
        return b->decision ? b->decision->challenge_request : NULL;
    case TACNET__EVENT_KIND__DISAGREEMENT:
        return b->disagreement ? b->disagreement->challenge_request : NULL;
    case TACNET__EVENT_KIND__ESCALATION_RESPONSE:
        return b->escalation_response ? b->escalation_response->challenge_request : NULL;
    default:
        return NULL;
    }
}

const char *challenge_words(uint32_t reviewer_role)
{
    switch (reviewer_role) {
    case TACNET__ROLE__LINE_MANAGER:
        return "a review by a line manager not directly involved";
    case TACNET__ROLE__DSL:
        return "a review by a designated safeguarding lead not directly involved";
    case TACNET__ROLE__PARTNERSHIP_LEAD:
        return "a review by the safeguarding partnership";
    default:
        return NULL;
    }
}

static int s_refuse(char *why, size_t cap, uint32_t kind, const char *what)
{
    if (why && cap)
        snprintf(why, cap, "%s.challenge_request.%s", names_kind(kind), what);
    return TACNET_EFIELD;
}

int challenge_check(uint32_t kind, const Tacnet__Body *b, char *why, size_t cap)
{
    const Tacnet__ChallengeRequest *c = challenge_of(kind, b);
    if (!c)
        return 0;
    if (!c->has_reviewer_role || !challenge_words(c->reviewer_role))
        return s_refuse(why, cap, kind,
                        "reviewer_role must be line_manager, dsl or partnership_lead (someone "
                        "senior, not directly involved)");
    const Tacnet__Professional *r = c->reviewer;
    if (r && (!r->has_agency || !r->agency || !r->has_initials || !r->initials.len))
        return s_refuse(why, cap, kind, "reviewer needs agency and initials");
    if (r && r->has_role && r->role != c->reviewer_role)
        return s_refuse(why, cap, kind, "reviewer.role differs from reviewer_role");
    if (!c->has_review_by_date || !clock_date_valid(c->review_by_date))
        return s_refuse(why, cap, kind, "review_by_date is required (a real date)");
    return 0;
}
