/* workflow: the case workflow rules an agency daemon checks in a body before it seals it.
 *
 * The broker sees clear headers only, so what a body must hold for the workflow to work is
 * checked where the body is written: an outcome measure must score (services/casework/measure.h),
 * a CAPA plan must agree its review interval, a resolution must state the outcome and the
 * child's current safety, a partnership rating is a rung from 1 to 9, meeting actions carry an
 * owner, a due date and a status, and so on (docs/DOMAIN.md). Each refusal names the field,
 * e.g. `care_plan.goals[1].goal_id: 4 is outside 1-3`.
 *
 * Pure logic: no I/O. The same checks run on import (intake adapters) and on the dashboard's
 * forms, since all of them publish through one path.
 */
#ifndef TACNET_CASEWORK_WORKFLOW_H
#define TACNET_CASEWORK_WORKFLOW_H

#include <stddef.h>
#include <stdint.h>

#include "api.pb-c.h"

/* Check the body of a publish request REQ (kind, refers_to, body). Returns 0, or TACNET_EFIELD,
 * TACNET_EMEASURE or TACNET_EENUM with one line in WHY (NUL-terminated, truncated to CAP). */
int workflow_check(const Tacnet__PublishRequest *req, char *why, size_t cap);

#endif
