/* cadence: review, contact, action and hand-over due dates. See cadence.h. */
#include "casework/cadence.h"

#include <string.h>

#include "err.h"
#include "events.pb-c.h"

static uint64_t s_day(uint64_t ms)
{
    return ms - ms % CLOCK_DAY_MS;
}

uint64_t cadence_local_day(uint64_t ms)
{
    return clock_date_to_ms(clock_local_date(ms));
}

/* The instant the local day DAY (ms at 00:00 UTC of that date) ends: local midnight starting the
 * next day. The offset is read at that midnight, so a day the clocks change on ends when the
 * wall clock says so. */
static uint64_t s_local_day_end(uint64_t day)
{
    uint64_t wall = day + CLOCK_DAY_MS;
    uint64_t guess = wall - (uint64_t)(int64_t)clock_local_offset_s(wall) * 1000;
    return wall - (uint64_t)(int64_t)clock_local_offset_s(guess) * 1000;
}

/* Date-based items are due by the end of their day where the partnership works and are late
 * from the next day: the countdown runs to that instant, not to 00:00 UTC of the due day. */
static void s_judge_date(uint64_t day, uint64_t now_ms, cadence_due_t *out)
{
    out->due_date = clock_ms_to_date(day);
    out->due_ms = s_local_day_end(day);
    out->overdue = now_ms >= out->due_ms;
    uint64_t today = cadence_local_day(now_ms);
    out->days_overdue = out->overdue && today > day ? (unsigned)((today - day) / CLOCK_DAY_MS) : 0;
}

int cadence_review_due(const holidays_t *holidays, uint32_t plan_type,
                       uint32_t review_interval_days, uint64_t start_ms, uint64_t last_review_ms,
                       uint64_t now_ms, cadence_due_t *out)
{
    if (!out || !start_ms)
        return TACNET_EINVAL;
    memset(out, 0, sizeof(*out));
    uint32_t interval = review_interval_days;
    switch (plan_type) {
    case TACNET__PLAN_TYPE__CHILD_PROTECTION:
        /* The first core group runs on working days from the conference; later ones are
         * "no more than 6-weekly", so a longer agreed interval cannot stretch them. */
        if (!last_review_ms) {
            uint64_t first =
                clock_add_working_days(holidays, start_ms, CADENCE_CP_FIRST_WORKING_DAYS);
            s_judge_date(s_day(first), now_ms, out);
            return 0;
        }
        if (!interval || interval > CADENCE_CP_MAX_DAYS)
            interval = CADENCE_CP_MAX_DAYS;
        break;
    case TACNET__PLAN_TYPE__TEAM_AROUND_FAMILY:
        if (!interval || interval > CADENCE_DEFAULT_REVIEW_DAYS)
            interval = CADENCE_DEFAULT_REVIEW_DAYS;
        break;
    case TACNET__PLAN_TYPE__CHILD_IN_NEED:
    case TACNET__PLAN_TYPE__HEALTH_VISITING_PLAN:
        if (!interval)
            interval = CADENCE_DEFAULT_REVIEW_DAYS;
        break;
    case TACNET__PLAN_TYPE__CAPA_PARTNERSHIP:
        if (!interval)
            return TACNET_EFIELD;
        break;
    default:
        return TACNET_EENUM;
    }
    uint64_t from = last_review_ms ? last_review_ms : start_ms;
    s_judge_date(s_day(from) + (uint64_t)interval * CLOCK_DAY_MS, now_ms, out);
    return 0;
}

int cadence_action_due(uint32_t status, uint32_t due_date, uint64_t now_ms, cadence_due_t *out)
{
    if (!out)
        return TACNET_EINVAL;
    memset(out, 0, sizeof(*out));
    uint64_t due_ms = clock_date_to_ms(due_date);
    if (!due_ms)
        return TACNET_EINVAL;
    s_judge_date(due_ms, now_ms, out);
    if (status != TACNET__ACTION_STATUS__OPEN) {
        out->overdue = 0;
        out->days_overdue = 0;
    }
    return 0;
}

int cadence_contact_due(uint32_t every_days, uint64_t start_ms, uint64_t last_contact_ms,
                        uint64_t now_ms, cadence_due_t *out)
{
    if (!out || !every_days || !start_ms)
        return TACNET_EINVAL;
    memset(out, 0, sizeof(*out));
    uint64_t from = last_contact_ms > start_ms ? last_contact_ms : start_ms;
    s_judge_date(s_day(from) + (uint64_t)every_days * CLOCK_DAY_MS, now_ms, out);
    return 0;
}

int cadence_date_due(uint64_t due_ms, uint64_t now_ms, cadence_due_t *out)
{
    if (!out || !due_ms)
        return TACNET_EINVAL;
    memset(out, 0, sizeof(*out));
    s_judge_date(s_day(due_ms), now_ms, out);
    return 0;
}

int cadence_contact_counts(int planned, int successful, uint32_t contact_date, uint32_t start_date)
{
    return planned && successful && contact_date && contact_date >= start_date;
}

int cadence_handover_due(const holidays_t *holidays, uint64_t offered_ms, int accepted,
                         unsigned limit_working_days, uint64_t now_ms, cadence_due_t *out)
{
    if (!out || !offered_ms || !limit_working_days)
        return TACNET_EINVAL;
    memset(out, 0, sizeof(*out));
    out->due_ms = clock_add_working_days(holidays, offered_ms, limit_working_days);
    if (!accepted && now_ms > out->due_ms) {
        out->overdue = 1;
        out->days_overdue = clock_working_days_between(holidays, out->due_ms, now_ms);
    }
    return 0;
}

int cadence_plan_is_lead(uint32_t plan_type)
{
    return plan_type == TACNET__PLAN_TYPE__TEAM_AROUND_FAMILY ||
           plan_type == TACNET__PLAN_TYPE__CHILD_IN_NEED ||
           plan_type == TACNET__PLAN_TYPE__CHILD_PROTECTION;
}

/* The earlier of *BEST and the review due for one plan (0 when it has none). */
static void s_earliest(const holidays_t *holidays, const Tacnet__CarePlan *p, uint64_t start_ms,
                       uint64_t last_ms, uint64_t *best)
{
    cadence_due_t d;
    uint32_t type = p->has_type ? p->type : TACNET__PLAN_TYPE__PLAN_UNKNOWN;
    if (!start_ms || cadence_review_due(holidays, type, p->review_interval_days, start_ms, last_ms,
                                        start_ms, &d) != 0)
        return;
    uint64_t day = clock_date_to_ms(d.due_date);
    if (!*best || day < *best)
        *best = day;
}

uint32_t cadence_case_review_date(const holidays_t *holidays, Tacnet__PlanView *const *plans,
                                  size_t n, uint32_t sender, const Tacnet__CarePlan *plan,
                                  uint64_t start_ms, uint32_t held_date)
{
    uint64_t best = 0, held_ms = held_date ? clock_date_to_ms(held_date) : 0;
    uint32_t type = plan && plan->has_type ? plan->type : TACNET__PLAN_TYPE__PLAN_UNKNOWN;
    for (size_t i = 0; i < n; i++) {
        const Tacnet__PlanView *v = plans[i];
        if (!v || !v->plan)
            continue;
        uint32_t vt = v->plan->has_type ? v->plan->type : TACNET__PLAN_TYPE__PLAN_UNKNOWN;
        if (plan && ((v->by == sender && vt == type) ||
                     (cadence_plan_is_lead(type) && cadence_plan_is_lead(vt))))
            continue; /* the plan this one replaces */
        uint64_t start = v->has_start_date ? clock_date_to_ms(v->start_date) : 0;
        uint64_t last = v->has_last_review_date ? clock_date_to_ms(v->last_review_date) : 0;
        if (held_ms && start && held_ms >= start && held_ms > last)
            last = held_ms;
        s_earliest(holidays, v->plan, start, last, &best);
    }
    if (plan)
        s_earliest(holidays, plan, start_ms, 0, &best);
    return best ? clock_ms_to_date(best) : 0;
}
