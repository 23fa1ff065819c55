/* cadence: when the next care-plan review, parent contact or lead hand-over answer is due, and
 * whether it is overdue.
 *
 * The agency daemon materialises each case's due and overdue items for the dashboard from these
 * rules (docs/DOMAIN.md, "Plans, reviews and other due items"):
 * - TEAM_AROUND_FAMILY: a review every 6 weeks (Lewisham); a plan may agree a shorter interval.
 * - CHILD_PROTECTION: the first core group within 10 working days of the plan start (the ICPC),
 *   then at most 6 weeks apart (Wales: "monthly, but no more than 6-weekly").
 * - CHILD_IN_NEED and HEALTH_VISITING_PLAN: the plan's interval; cadence is local, so 6 weeks
 *   when the plan leaves it at 0 (Hull runs CIN reviews as core groups).
 * - CAPA_PARTNERSHIP: the interval agreed in the plan; a plan without one is refused.
 * A review is due on a date and overdue from the next day (a review held late on its due date
 * is on time). Dates are calendar days (callers turn yyyymmdd into ms with clock_date_to_ms); a
 * date-based item is due by the end of its day in the partnership's zone (the process's TZ,
 * common/zone.h), so its countdown runs to local midnight after the due date. Pure logic apart
 * from reading that zone: the time is always a parameter.
 */
#ifndef TACNET_CASEWORK_CADENCE_H
#define TACNET_CASEWORK_CADENCE_H

#include <stdint.h>

#include "api.pb-c.h"
#include "clock.h"

#define CADENCE_DEFAULT_REVIEW_DAYS   42u /* 6 weeks */
#define CADENCE_CP_FIRST_WORKING_DAYS 10u
#define CADENCE_CP_MAX_DAYS           42u

/* One due item: the instant it falls overdue (DUE_MS; for a date-based item the end of its
 * DUE_DATE, yyyymmdd, in the partnership's zone; DUE_DATE is 0 for an item due at an instant),
 * and, against NOW, whether it is overdue and by how many calendar days. */
typedef struct cadence_due {
    uint64_t due_ms;
    uint32_t due_date;
    int overdue;
    unsigned days_overdue;
} cadence_due_t;

/* Review due for a plan of PLAN_TYPE (Tacnet__PlanType) with REVIEW_INTERVAL_DAYS (0 = the
 * type's default) that started at START_MS, whose last review was held at LAST_REVIEW_MS (0 =
 * none yet). HOLIDAYS may be NULL (weekends only). Returns 0 and fills OUT, TACNET_EINVAL for a
 * NULL OUT or a zero START_MS, TACNET_EFIELD for a CAPA plan without an interval, or
 * TACNET_EENUM for an unknown plan type. */
int cadence_review_due(const holidays_t *holidays, uint32_t plan_type,
                       uint32_t review_interval_days, uint64_t start_ms, uint64_t last_review_ms,
                       uint64_t now_ms, cadence_due_t *out);

/* A meeting action (Tacnet__ActionStatus STATUS, due DUE_DATE as yyyymmdd). Overdue when still
 * OPEN after its due date; DONE and CANCELLED actions never are. Returns 0, or TACNET_EINVAL for
 * a NULL OUT or an impossible date. */
int cadence_action_due(uint32_t status, uint32_t due_date, uint64_t now_ms, cadence_due_t *out);

/* The next planned contact with the parents under a communication plan agreeing one contact
 * every EVERY_DAYS from START_MS; LAST_CONTACT_MS is the last planned contact that took place
 * (0 = none yet; see cadence_contact_counts). A missed contact is overdue. Returns 0, or
 * TACNET_EINVAL for EVERY_DAYS == 0, a zero START_MS or a NULL OUT. */
int cadence_contact_due(uint32_t every_days, uint64_t start_ms, uint64_t last_contact_ms,
                        uint64_t now_ms, cadence_due_t *out);

/* An item due on the day starting at DUE_MS (00:00 UTC of that date), judged against NOW like
 * every date-based item (overdue from the next day). Returns 0, or TACNET_EINVAL for a zero
 * DUE_MS or a NULL OUT. */
int cadence_date_due(uint64_t due_ms, uint64_t now_ms, cadence_due_t *out);

/* The day (ms at 00:00 UTC of that date) on which the instant MS falls in the partnership's
 * zone: what cadence_date_due takes for an item due on the day of an instant. */
uint64_t cadence_local_day(uint64_t ms);

/* 1 when a logged contact keeps the communication plan starting on START_DATE (yyyymmdd; 0 = no
 * plan or no start): planned, successful and on CONTACT_DATE (yyyymmdd) on or after the start.
 * An attempt nobody answered does not reset the timetable, or a run of failed calls would hide
 * that the family has not been reached; a visit before the plan began was kept under no plan,
 * and shown as the plan's last contact it would say the plan was being kept from before it was
 * agreed. */
int cadence_contact_counts(int planned, int successful, uint32_t contact_date, uint32_t start_date);

/* Lead professional hand-over offered at OFFERED_MS and not accepted (ACCEPTED 0) within
 * LIMIT_WORKING_DAYS: due at the same time of day on the LIMIT-th working day, overdue (flag the
 * old lead's manager) after that. An accepted hand-over is never overdue. Returns 0, or
 * TACNET_EINVAL for a zero OFFERED_MS, a zero limit or a NULL OUT. Unlike the date-based items,
 * DUE_MS here is an instant and DAYS_OVERDUE counts working days. */
int cadence_handover_due(const holidays_t *holidays, uint64_t offered_ms, int accepted,
                         unsigned limit_working_days, uint64_t now_ms, cadence_due_t *out);

/* 1 for the plan types a case has one of, whoever holds it (TAF, CIN, CP): a new one replaces
 * the case's lead plan before it. */
int cadence_plan_is_lead(uint32_t plan_type);

/* The day (yyyymmdd) the case's plans are next due for review once one event is applied, for
 * the clear header's review_due_date: the earliest review due over PLANS (the case as the
 * sender's view holds it: start_date and last_review_date filled), where
 * - PLAN (a care plan SENDER publishes, starting START_MS) replaces the plan it revises (the
 *   sender's own of its type, or the lead plan for a lead type) and has had no review yet;
 * - HELD_DATE (a meeting outcome's, yyyymmdd) is the last review of every plan started by then.
 * Either may be 0/NULL. Returns 0 when no plan has a review due (none, or a CAPA plan without
 * an interval). */
uint32_t cadence_case_review_date(const holidays_t *holidays, Tacnet__PlanView *const *plans,
                                  size_t n, uint32_t sender, const Tacnet__CarePlan *plan,
                                  uint64_t start_ms, uint32_t held_date);

#endif
