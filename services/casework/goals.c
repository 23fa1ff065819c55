/* goals: co-produced goals, ranked in a hierarchy of need (goals.h). */
#include "casework/goals.h"
#include "casework/why.h"

#include "err.h"
#include "labels.h"
#include "names.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

static int s_plan_has_goal(const Tacnet__CarePlan *p, uint32_t goal)
{
    for (size_t i = 0; i < p->n_goals; i++)
        if (p->goals[i]->has_goal_id && p->goals[i]->goal_id == goal)
            return 1;
    return 0;
}

/* SENDER's plans and their numbered goals, for a refusal: "team around the family plan: goals 1,
 * 2". Returns how many of its plans have numbered goals. */
static size_t s_sender_goals(uint32_t sender, Tacnet__PlanView *const *plans, size_t n_plans,
                             char *out, size_t cap)
{
    size_t used = 0, n = 0;
    out[0] = 0;
    for (size_t i = 0; i < n_plans; i++) {
        const Tacnet__PlanView *v = plans[i];
        if (!v || !v->plan || (uint32_t)v->by != sender)
            continue;
        size_t numbered = 0, k = 0;
        for (size_t g = 0; g < v->plan->n_goals; g++)
            numbered += v->plan->goals[g]->has_goal_id != 0;
        char name[96];
        for (size_t g = 0; g < v->plan->n_goals; g++) {
            if (!v->plan->goals[g]->has_goal_id)
                continue;
            int w = k++ ? snprintf(out + used, cap - used, ", %u", v->plan->goals[g]->goal_id)
                        : snprintf(out + used, cap - used, "%s%s: goal%s %u", n ? "; " : "",
                                   labels_plan(v->plan->type, name, sizeof(name)),
                                   numbered > 1 ? "s" : "", v->plan->goals[g]->goal_id);
            if (w > 0 && (size_t)w < cap - used)
                used += (size_t)w;
        }
        n += numbered > 0;
    }
    return n;
}

static int s_plan_has_goals(const Tacnet__PlanView *v, uint32_t sender,
                            const Tacnet__OutcomeMeasure *m)
{
    if (!v || !v->plan || (uint32_t)v->by != sender)
        return 0;
    for (size_t k = 0; k < m->n_goal_ids; k++)
        if (!s_plan_has_goal(v->plan, m->goal_ids[k]))
            return 0;
    return 1;
}

int goals_gbo_check(const Tacnet__OutcomeMeasure *m, uint32_t sender,
                    Tacnet__PlanView *const *plans, size_t n_plans, long *plan, char *why,
                    size_t cap)
{
    if (plan)
        *plan = -1;
    if (!m || !m->has_tool || m->tool != TACNET__MEASURE_TOOL__GBO || !m->n_goal_ids)
        return 0;
    char have[256];
    size_t n = s_sender_goals(sender, plans, n_plans, have, sizeof(have));
    if (!n)
        return 0;
    if (m->has_plan_id) {
        for (size_t i = 0; i < n_plans; i++) {
            const Tacnet__PlanView *v = plans[i];
            if (!v || !v->plan || (uint32_t)v->by != sender || !v->has_plan_id ||
                v->plan_id.len != m->plan_id.len ||
                memcmp(v->plan_id.data, m->plan_id.data, m->plan_id.len) != 0)
                continue;
            for (size_t k = 0; k < m->n_goal_ids; k++)
                if (!s_plan_has_goal(v->plan, m->goal_ids[k])) {
                    char name[96];
                    return casework_refuse(
                        TACNET_EFIELD, why, cap,
                        "outcome_measure.goal_ids: goal %u is not a goal of the plan named by "
                        "outcome_measure.plan_id (%s); this agency's plans: %s",
                        m->goal_ids[k], labels_plan(v->plan->type, name, sizeof(name)), have);
                }
            if (plan)
                *plan = (long)i;
            return 0;
        }
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "outcome_measure.plan_id: not one of this agency's plans in the "
                               "case (%s); each plan's plan_id is in the case's view",
                               have);
    }
    long found = -1;
    size_t matches = 0;
    for (size_t i = 0; i < n_plans; i++)
        if (s_plan_has_goals(plans[i], sender, m) && matches++ == 0)
            found = (long)i;
    if (matches > 1)
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "outcome_measure.plan_id: more than one of this agency's plans has "
                               "the goals scored (%s); say which plan the scores are for",
                               have);
    if (matches == 1) {
        if (plan)
            *plan = found;
        return 0;
    }
    for (size_t k = 0; k < m->n_goal_ids; k++) {
        int any = 0;
        for (size_t i = 0; i < n_plans && !any; i++)
            any = plans[i] && plans[i]->plan && (uint32_t)plans[i]->by == sender &&
                  s_plan_has_goal(plans[i]->plan, m->goal_ids[k]);
        if (!any)
            return casework_refuse(
                TACNET_EFIELD, why, cap,
                "outcome_measure.goal_ids: goal %u is not a goal of this agency's plan%s (%s); "
                "score the plan's own goals by their numbers, or add the goal to the plan first",
                m->goal_ids[k], n > 1 ? "s" : "", have);
    }
    return casework_refuse(TACNET_EFIELD, why, cap,
                           "outcome_measure.goal_ids: no one plan of this agency's has every goal "
                           "scored (%s); score each plan's goals in a measure of their own",
                           have);
}
