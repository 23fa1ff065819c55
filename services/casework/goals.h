/* goals: co-produced goals, ranked in a hierarchy of need.
 *
 * A plan's goals are the family's as much as the professionals': each may record whose words it
 * is in (the child's, a parent's, a professional's) and who agreed it (family members and
 * agencies); once either is given both are required, so a goal never claims to be co-produced
 * without saying by whom. Goals and treatment aims sit in a hierarchy of need, safety first
 * (safety, basic needs, health, relationships, learning): a plan lists them in that order, so the
 * goals that must come first are read first. A goal may be marked a quick win (small and soon,
 * to keep hope and momentum) and one goal may be the plan's engagement aim (keeping the family
 * engaged is always an aim).
 *
 * Pure logic: no I/O. The workflow stage checks a plan's goals here, and the sending daemon a
 * GBO measure's goal ids against its plans; `tacnet case` and the family's summary show them.
 */
#ifndef TACNET_CASEWORK_GOALS_H
#define TACNET_CASEWORK_GOALS_H

#include <stddef.h>

#include "api.pb-c.h"
#include "events.pb-c.h"

/* Check the goals of plan P. Returns 0, or TACNET_EFIELD with one line in WHY naming the
 * field, e.g. `care_plan.goals[1].need: safety comes before learning (goals[0]); list goals
 * safety first`. */
int goals_check(const Tacnet__CarePlan *p, char *why, size_t cap);

/* Place GBO measure M on one of SENDER's plans among PLANS (N_PLANS; the case's plans as the
 * sending agency's view holds them). Goal ids are each plan's own numbers (1-3, checked by
 * measure.h), so a score of a goal the plan does not have would be kept as progress on no goal,
 * and an agency's two plans may each have a goal 1. With M's plan_id: it must name one of
 * SENDER's plans, and every scored goal must be one of that plan's. Without: the one plan of
 * SENDER's with every scored goal. *PLAN (may be NULL) gets that plan's index in PLANS, or -1
 * when M is not a GBO or SENDER holds no plan with numbered goals in the view (its plan may not
 * have reached the view yet, e.g. an import's earlier row: nothing to judge by). Returns 0, or
 * TACNET_EFIELD with one line in WHY naming the field, e.g. `outcome_measure.goal_ids: goal 3 is
 * not a goal of this agency's plan (team around the family plan: goal 1); ...`. */
int goals_gbo_check(const Tacnet__OutcomeMeasure *m, uint32_t sender,
                    Tacnet__PlanView *const *plans, size_t n_plans, long *plan, char *why,
                    size_t cap);

/* In words, for people: "in the child's words", "in a parent's words", "in a professional's
 * words", or NULL when not recorded. */
const char *goals_words(Tacnet__GoalWords words);

/* The tier's name for people ("safety", "basic needs", ...), or NULL for TIER_UNKNOWN. */
const char *goals_need_name(Tacnet__NeedTier need);

#endif
