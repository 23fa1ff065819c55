/* family_voice: the child's and the family's views on what the team decides (family_voice.h). */
#include "casework/family_voice.h"
#include "casework/why.h"

#include "clock.h"
#include "err.h"
#include "names.h"

#include <stdarg.h>
#include <stdio.h>

/* The views one body carries, whatever its kind. */
typedef struct views {
    const char *text[2];
    const Tacnet__ViewAbsent *absent[2];
    int minuted[2]; /* a meeting outcome minutes a family member's view */
} views_t;

static void s_set(views_t *v, const char *child, const char *family, const Tacnet__ViewAbsent *ca,
                  const Tacnet__ViewAbsent *fa)
{
    v->text[FAMILY_VOICE_CHILD] = child;
    v->text[FAMILY_VOICE_FAMILY] = family;
    v->absent[FAMILY_VOICE_CHILD] = ca;
    v->absent[FAMILY_VOICE_FAMILY] = fa;
}

/* The views in B, if events of KIND carry them (0), else TACNET_EKIND. */
static int s_views(uint32_t kind, const Tacnet__Body *b, views_t *v)
{
    *v = (views_t){ { NULL, NULL }, { NULL, NULL }, { 0, 0 } };
    if (!b)
        return TACNET_EINVAL;
    switch (kind) {
    case TACNET__EVENT_KIND__DECISION:
        if (!b->decision)
            return TACNET_EINVAL;
        s_set(v, b->decision->child_view, b->decision->family_view, b->decision->child_view_absent,
              b->decision->family_view_absent);
        return 0;
    case TACNET__EVENT_KIND__CARE_PLAN:
        if (!b->care_plan)
            return TACNET_EINVAL;
        s_set(v, b->care_plan->child_view, b->care_plan->family_view,
              b->care_plan->child_view_absent, b->care_plan->family_view_absent);
        return 0;
    case TACNET__EVENT_KIND__DISAGREEMENT:
        if (!b->disagreement)
            return TACNET_EINVAL;
        s_set(v, b->disagreement->child_view, b->disagreement->family_view,
              b->disagreement->child_view_absent, b->disagreement->family_view_absent);
        return 0;
    case TACNET__EVENT_KIND__ESCALATION_RESOLVED:
        if (!b->escalation_resolved)
            return TACNET_EINVAL;
        s_set(v, b->escalation_resolved->child_view, b->escalation_resolved->family_view,
              b->escalation_resolved->child_view_absent,
              b->escalation_resolved->family_view_absent);
        return 0;
    case TACNET__EVENT_KIND__MEETING_OUTCOME: {
        const Tacnet__MeetingOutcome *o = b->meeting_outcome;
        if (!o)
            return TACNET_EINVAL;
        s_set(v, o->child_view, o->family_view, o->child_view_absent, o->family_view_absent);
        for (size_t i = 0; i < o->n_family; i++)
            if (casework_has_text(o->family[i]->view))
                v->minuted[o->family[i]->role == TACNET__FAMILY_ROLE__CHILD ? FAMILY_VOICE_CHILD
                                                                            : FAMILY_VOICE_FAMILY] =
                    1;
        return 0;
    }
    default:
        return TACNET_EKIND;
    }
}

int family_voice_applies(uint32_t kind)
{
    return kind == TACNET__EVENT_KIND__DECISION || kind == TACNET__EVENT_KIND__CARE_PLAN ||
           kind == TACNET__EVENT_KIND__DISAGREEMENT ||
           kind == TACNET__EVENT_KIND__ESCALATION_RESOLVED ||
           kind == TACNET__EVENT_KIND__MEETING_OUTCOME;
}

const char *family_voice_name(family_voice_who_t who)
{
    return who == FAMILY_VOICE_CHILD ? "the child's view" : "the family's view";
}

static int s_check_one(const char *kind, const views_t *v, family_voice_who_t who, char *why,
                       size_t cap)
{
    const char *field = who == FAMILY_VOICE_CHILD ? "child_view" : "family_view";
    const Tacnet__ViewAbsent *a = v->absent[who];
    int heard = casework_has_text(v->text[who]) || v->minuted[who];
    int reason = a && a->has_reason && a->reason != TACNET__VIEW_ABSENCE__ABSENCE_UNKNOWN;
    /* An empty absence (a form's unset select) says nothing, so it does not clash with a view. */
    if (heard && (reason || (a && a->has_ask_by_date)))
        return casework_refuse(
            TACNET_EFIELD, why, cap,
            "%s.%s_absent: %s is recorded; give the view or a reason it is absent, not "
            "both",
            kind, field, family_voice_name(who));
    if (heard)
        return 0;
    if (!reason)
        return casework_refuse(
            TACNET_EFIELD, why, cap,
            "%s.%s is required, or %s_absent with a reason (%snot_reachable, declined, "
            "not_yet_asked)",
            kind, field, field, who == FAMILY_VOICE_CHILD ? "too_young, " : "");
    if (a->reason == TACNET__VIEW_ABSENCE__TOO_YOUNG && who != FAMILY_VOICE_CHILD)
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "%s.%s_absent.reason: too_young is for the child's view only", kind,
                               field);
    if (a->reason == TACNET__VIEW_ABSENCE__NOT_YET_ASKED &&
        (!a->has_ask_by_date || !clock_date_valid(a->ask_by_date)))
        return casework_refuse(
            TACNET_EFIELD, why, cap,
            "%s.%s_absent.ask_by_date is required with not_yet_asked: the date by which "
            "%s will have been sought",
            kind, field, family_voice_name(who));
    if (a->reason != TACNET__VIEW_ABSENCE__NOT_YET_ASKED && a->has_ask_by_date)
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "%s.%s_absent.ask_by_date goes with not_yet_asked only", kind,
                               field);
    return 0;
}

int family_voice_check(uint32_t kind, const Tacnet__Body *b, char *why, size_t cap)
{
    views_t v;
    int rc = s_views(kind, b, &v);
    if (rc == TACNET_EKIND)
        return 0;
    if (rc != 0)
        return casework_refuse(TACNET_EFIELD, why, cap, "a %s event needs its body",
                               names_kind(kind));
    if ((rc = s_check_one(names_kind(kind), &v, FAMILY_VOICE_CHILD, why, cap)) != 0)
        return rc;
    return s_check_one(names_kind(kind), &v, FAMILY_VOICE_FAMILY, why, cap);
}

int family_voice_ask_by(uint32_t kind, const Tacnet__Body *b, family_voice_who_t who,
                        uint32_t *ask_by)
{
    views_t v;
    if (s_views(kind, b, &v) != 0 || casework_has_text(v.text[who]) || v.minuted[who])
        return 0;
    const Tacnet__ViewAbsent *a = v.absent[who];
    if (!a || !a->has_reason || a->reason != TACNET__VIEW_ABSENCE__NOT_YET_ASKED ||
        !a->has_ask_by_date || !clock_date_valid(a->ask_by_date))
        return 0;
    *ask_by = a->ask_by_date;
    return 1;
}

int family_voice_heard(uint32_t kind, const Tacnet__Body *b, family_voice_who_t who)
{
    views_t v;
    if (s_views(kind, b, &v) != 0)
        return 0;
    if (casework_has_text(v.text[who]) || v.minuted[who])
        return 1;
    const Tacnet__ViewAbsent *a = v.absent[who];
    return a && a->has_reason && a->reason != TACNET__VIEW_ABSENCE__ABSENCE_UNKNOWN &&
           a->reason != TACNET__VIEW_ABSENCE__NOT_YET_ASKED;
}
