/* capa: a CAPA Choice appointment's record and a partnership plan's workers (see capa.h). */
#include "casework/capa.h"
#include "casework/why.h"

#include "err.h"

#include <stdarg.h>
#include <stdio.h>

static int s_choice(const Tacnet__Assessment *a, char *why, size_t cap)
{
    const Tacnet__CapaChoice *c = a->capa_choice;
    if (!c)
        return 0;
    if (!a->has_type || a->type != TACNET__ASSESSMENT_TYPE__CAPA_CHOICE)
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "assessment.capa_choice: only on an assessment of type capa_choice");
    if (!casework_has_text(c->joint_formulation))
        return casework_refuse(
            TACNET_EFIELD, why, cap,
            "assessment.capa_choice.joint_formulation is required: the understanding "
            "reached with the family");
    if (!c->has_chosen || !capa_chosen_words(c->chosen))
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "assessment.capa_choice.chosen is required: what the family chose "
                               "(partnership, other_service, self_help, nothing_now)");
    for (size_t i = 0; i < c->n_alternatives; i++)
        if (!casework_has_text(c->alternatives[i]))
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "assessment.capa_choice.alternatives[%zu] is empty", i);
    if (c->chosen == TACNET__CAPA_CHOSEN__CHOSEN_OTHER_SERVICE && !c->n_alternatives)
        return casework_refuse(
            TACNET_EFIELD, why, cap,
            "assessment.capa_choice.alternatives: the family chose another service; "
            "name the alternatives offered");
    return 0;
}

static int s_worker(const Tacnet__CapaWorker *w, const char *field, int specific, char *why,
                    size_t cap)
{
    /* The initials' form (2-4 capitals) is the body initials check's; here only presence. */
    if (!w->has_initials || !w->initials.len)
        return casework_refuse(TACNET_EFIELD, why, cap, "%s.initials is required", field);
    if (!casework_has_text(w->role))
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "%s.role is required, e.g. \"family therapist\"", field);
    if (specific && !casework_has_text(w->brings))
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "%s.brings is required: what they bring to the plan", field);
    return 0;
}

static int s_workers(const Tacnet__CarePlan *p, char *why, size_t cap)
{
    if (!p->core_worker && !p->n_specific_workers)
        return 0;
    if (!p->has_type || p->type != TACNET__PLAN_TYPE__CAPA_PARTNERSHIP)
        return casework_refuse(
            TACNET_EFIELD, why, cap,
            "care_plan.%s: core and specific workers are for capa_partnership plans",
            p->core_worker ? "core_worker" : "specific_workers");
    if (!p->core_worker)
        return casework_refuse(
            TACNET_EFIELD, why, cap,
            "care_plan.core_worker is required with specific workers: one worker "
            "holds the plan");
    int rc = s_worker(p->core_worker, "care_plan.core_worker", 0, why, cap);
    if (rc)
        return rc;
    if (p->n_specific_workers > CAPA_MAX_SPECIFIC_WORKERS)
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "care_plan.specific_workers: %zu workers; at most %u",
                               p->n_specific_workers, CAPA_MAX_SPECIFIC_WORKERS);
    for (size_t i = 0; i < p->n_specific_workers; i++) {
        char field[64];
        snprintf(field, sizeof(field), "care_plan.specific_workers[%zu]", i);
        rc = s_worker(p->specific_workers[i], field, 1, why, cap);
        if (rc)
            return rc;
    }
    return 0;
}

int capa_check(uint32_t kind, const Tacnet__Body *b, char *why, size_t cap)
{
    if (!b)
        return TACNET_EINVAL;
    if (kind == TACNET__EVENT_KIND__ASSESSMENT && b->assessment)
        return s_choice(b->assessment, why, cap);
    if (kind == TACNET__EVENT_KIND__CARE_PLAN && b->care_plan)
        return s_workers(b->care_plan, why, cap);
    return 0;
}

const char *capa_chosen_words(Tacnet__CapaChosen chosen)
{
    switch (chosen) {
    case TACNET__CAPA_CHOSEN__CHOSEN_PARTNERSHIP:
        return "partnership work with CAMHS";
    case TACNET__CAPA_CHOSEN__CHOSEN_OTHER_SERVICE:
        return "another service from the alternatives offered";
    case TACNET__CAPA_CHOSEN__CHOSEN_SELF_HELP:
        return "to try things themselves first, with the door left open";
    case TACNET__CAPA_CHOSEN__CHOSEN_NOTHING_NOW:
        return "no help for now";
    default:
        return NULL;
    }
}
