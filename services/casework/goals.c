/* goals: co-produced goals, ranked in a hierarchy of need (goals.h). */
#include "casework/goals.h"
#include "casework/why.h"

#include "err.h"
#include "names.h"

#include <stdarg.h>
#include <stdio.h>

const char *goals_words(Tacnet__GoalWords words)
{
    switch (words) {
    case TACNET__GOAL_WORDS__CHILD_WORDS:
        return "in the child's words";
    case TACNET__GOAL_WORDS__PARENT_WORDS:
        return "in a parent's words";
    case TACNET__GOAL_WORDS__PROFESSIONAL_WORDS:
        return "in a professional's words";
    default:
        return NULL;
    }
}

const char *goals_need_name(Tacnet__NeedTier need)
{
    switch (need) {
    case TACNET__NEED_TIER__NEED_SAFETY:
        return "safety";
    case TACNET__NEED_TIER__NEED_BASIC:
        return "basic needs";
    case TACNET__NEED_TIER__NEED_HEALTH:
        return "health";
    case TACNET__NEED_TIER__NEED_RELATIONSHIPS:
        return "relationships";
    case TACNET__NEED_TIER__NEED_LEARNING:
        return "learning";
    default:
        return NULL;
    }
}

static int s_goal(const Tacnet__Goal *g, size_t i, char *why, size_t cap)
{
    int words = g->has_words && g->words != TACNET__GOAL_WORDS__WORDS_UNKNOWN;
    size_t agreed = g->n_agreed_by_family + g->n_agreed_by;
    if (g->has_words && !words)
        return casework_refuse(
            TACNET_EFIELD, why, cap,
            "care_plan.goals[%zu].words: say whose words (child_words, parent_words, "
            "professional_words)",
            i);
    if (words && !agreed)
        return casework_refuse(
            TACNET_EFIELD, why, cap,
            "care_plan.goals[%zu].agreed_by_family or agreed_by: who agreed the goal "
            "is required with its words",
            i);
    if (agreed && !words)
        return casework_refuse(
            TACNET_EFIELD, why, cap,
            "care_plan.goals[%zu].words: whose words the goal is in is required with "
            "who agreed it",
            i);
    for (size_t k = 0; k < g->n_agreed_by_family; k++)
        if (g->agreed_by_family[k] == TACNET__FAMILY_ROLE__FAMILY_UNKNOWN)
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "care_plan.goals[%zu].agreed_by_family[%zu]: who?", i, k);
    return 0;
}

int goals_check(const Tacnet__CarePlan *p, char *why, size_t cap)
{
    if (!p)
        return 0;
    size_t engagement = 0, ranked_at = 0;
    uint32_t ranked = 0; /* the highest tier so far: a later goal may not need less */
    for (size_t i = 0; i < p->n_goals; i++) {
        const Tacnet__Goal *g = p->goals[i];
        int rc = s_goal(g, i, why, cap);
        if (rc != 0)
            return rc;
        if (g->has_engagement_aim && g->engagement_aim && ++engagement > 1)
            return casework_refuse(
                TACNET_EFIELD, why, cap,
                "care_plan.goals[%zu].engagement_aim: the plan has one engagement aim "
                "already",
                i);
        if (!g->has_need || g->need == TACNET__NEED_TIER__TIER_UNKNOWN)
            continue;
        if (g->need < ranked)
            return casework_refuse(
                TACNET_EFIELD, why, cap,
                "care_plan.goals[%zu].need: %s comes before %s (goals[%zu]); list goals "
                "safety first",
                i, goals_need_name(g->need), goals_need_name(ranked), ranked_at);
        ranked = g->need;
        ranked_at = i;
    }
    return 0;
}
