/* reseal: recipients the sender could not know (docs/ARCHITECTURE.md, "History on joining").
 *
 * A daemon names its event's recipients from its own view; a view that has not yet received a
 * membership event (it joined late and its history is still arriving) names too few, and the
 * broker refuses E_RECIPIENTS with the set the case requires. The event is then sealed again
 * for exactly that set, under the next sender_seq with the same msg_id (so whoever waits for
 * its outcome still does), and queued in place of the refused one: once, and only when this
 * agency's own consent and class rules let every added recipient see the event. Otherwise the
 * refusal stands and says why, in the outbox and the event's status.
 */
#ifndef TACNET_AGENCY_RESEAL_H
#define TACNET_AGENCY_RESEAL_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* Re-seal the queued event MSG_ID for the recipients REQUIRED (bit mask of agency values).
 * Returns 1 when it was queued again (the caller leaves it unsettled), 0 when it is not (WHY
 * says why; the caller records the refusal), or a negative store code. */
int agency_reseal(agency_t *self, const uint8_t msg_id[16], uint32_t required, char *why,
                  size_t whylen);

#endif
