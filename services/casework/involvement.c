/* involvement: how the child and each parent or carer want to be involved (involvement.h). */
#include "casework/involvement.h"
#include "casework/why.h"

#include "clock.h"
#include "err.h"
#include "names.h"

#include <stdarg.h>
#include <stdio.h>

/* A family has few members in a team; more than this is a mistake, not a family. */
#define INVOLVEMENT_MAX_PEOPLE 12

static int s_person(const Tacnet__FamilyPreferences *p, size_t i, unsigned *seen, char *why,
                    size_t cap)
{
    if (!p->has_who || p->who == TACNET__FAMILY_ROLE__FAMILY_UNKNOWN)
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "involvement_preferences.people[%zu].who is required", i);
    if (p->who < 32 && (*seen & (1u << p->who)))
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "involvement_preferences.people[%zu].who: %s twice", i,
                               names_enum(&tacnet__family_role__descriptor, p->who));
    if (p->who < 32)
        *seen |= 1u << p->who;
    if (!p->has_decisions || p->decisions == TACNET__INVOLVEMENT__INVOLVEMENT_UNKNOWN)
        return casework_refuse(
            TACNET_EFIELD, why, cap,
            "involvement_preferences.people[%zu].decisions is required: how they want "
            "to take part in decisions",
            i);
    if (p->has_interpreter && p->interpreter && !casework_has_text(p->language))
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "involvement_preferences.people[%zu].language is required with an "
                               "interpreter",
                               i);
    return 0;
}

int involvement_check(const Tacnet__InvolvementPreferences *p, char *why, size_t cap)
{
    if (!p)
        return casework_refuse(TACNET_EFIELD, why, cap, "involvement_preferences is required");
    if (p->n_people == 0)
        return casework_refuse(
            TACNET_EFIELD, why, cap,
            "involvement_preferences.people: at least one person (the child, a parent "
            "or carer)");
    if (p->n_people > INVOLVEMENT_MAX_PEOPLE)
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "involvement_preferences.people: %zu people; at most %d",
                               p->n_people, INVOLVEMENT_MAX_PEOPLE);
    unsigned seen = 0;
    for (size_t i = 0; i < p->n_people; i++) {
        int rc = s_person(p->people[i], i, &seen, why, cap);
        if (rc != 0)
            return rc;
    }
    if (p->has_agreed_date && !clock_date_valid(p->agreed_date))
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "involvement_preferences.agreed_date: %u is not a date",
                               p->agreed_date);
    if (p->has_revisit_by_date && !clock_date_valid(p->revisit_by_date))
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "involvement_preferences.revisit_by_date: %u is not a date",
                               p->revisit_by_date);
    if (p->has_revisit_by_date && p->has_agreed_date && p->revisit_by_date < p->agreed_date)
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "involvement_preferences.revisit_by_date is before the agreed_date");
    return 0;
}

const char *involvement_words(Tacnet__Involvement level)
{
    switch (level) {
    case TACNET__INVOLVEMENT__DECIDE_TOGETHER:
        return "decide together";
    case TACNET__INVOLVEMENT__CONSULTED:
        return "be consulted";
    case TACNET__INVOLVEMENT__KEEP_INFORMED:
        return "be kept informed";
    case TACNET__INVOLVEMENT__NOT_NOW:
        return "not for now";
    default:
        return "not asked";
    }
}
