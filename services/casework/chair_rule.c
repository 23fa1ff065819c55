/* chair_rule: the network meeting chair rule. See chair_rule.h. */
#include "casework/chair_rule.h"

#include <string.h>

static int s_named(const Tacnet__Professional *p)
{
    return p && p->has_agency && p->agency && p->has_initials && p->initials.len;
}

static int s_same(const Tacnet__Professional *a, const Tacnet__Professional *b)
{
    return s_named(a) && s_named(b) && a->agency == b->agency &&
           a->initials.len == b->initials.len &&
           memcmp(a->initials.data, b->initials.data, a->initials.len) == 0;
}

uint32_t chair_rule_judge(const Tacnet__Professional *chair, const Tacnet__Professional *lead,
                          const Tacnet__Professional *const *involved, size_t n_involved)
{
    if (!s_named(chair))
        return TACNET__CHAIR_RULE__CHAIR_NOT_NAMED;
    if (s_same(chair, lead))
        return TACNET__CHAIR_RULE__CHAIR_LEAD;
    for (size_t i = 0; involved && i < n_involved; i++)
        if (s_same(chair, involved[i]))
            return TACNET__CHAIR_RULE__CHAIR_DIRECTLY_INVOLVED;
    return TACNET__CHAIR_RULE__CHAIR_INDEPENDENT;
}

int chair_rule_meets(uint32_t verdict)
{
    return verdict == TACNET__CHAIR_RULE__CHAIR_INDEPENDENT ||
           verdict == TACNET__CHAIR_RULE__CHAIR_LEAD;
}

const char *chair_rule_words(uint32_t verdict)
{
    switch (verdict) {
    case TACNET__CHAIR_RULE__CHAIR_INDEPENDENT:
        return "meets the chair rule: not directly involved";
    case TACNET__CHAIR_RULE__CHAIR_LEAD:
        return "meets the chair rule: the lead professional, as no one senior and not directly "
               "involved chairs";
    case TACNET__CHAIR_RULE__CHAIR_DIRECTLY_INVOLVED:
        return "does not meet the chair rule: directly involved with the family; the lead should "
               "confirm or find a senior who is not";
    case TACNET__CHAIR_RULE__CHAIR_NOT_NAMED:
        return "does not meet the chair rule: no chair named; the lead should confirm who chairs";
    default:
        return NULL;
    }
}

uint32_t chair_rule_minutes_by(const Tacnet__MeetingView *m, uint32_t agency, uint32_t lead,
                               uint32_t members)
{
    uint32_t convener = !m                    ? 0
                        : m->has_scheduled_by ? (uint32_t)m->scheduled_by
                        : m->has_requested_by ? (uint32_t)m->requested_by
                                              : 0;
    if (!convener || convener == agency || !lead || lead == agency || convener >= 32 ||
        !(members & (1u << convener)))
        return 0;
    return convener;
}
