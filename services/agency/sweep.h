/* sweep: legal holds and the retention sweep of the agency daemon (see sweep.c). Not for use
 * outside services/agency and its tests.
 */
#ifndef TACNET_AGENCY_SWEEP_H
#define TACNET_AGENCY_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "agency.h"
#include "api.pb-c.h"

/* Read the test-only clock offset (TACNET_CLOCK_OFFSET_S, seconds; ignored in builds with
 * TACNET_NO_FAULT). Returns 0 or TACNET_ECONFIG with WHY. */
int agency_retention_clock_init(char *why, size_t whylen);

/* The sweep's clock: clock_now_ms() plus the test offset. */
uint64_t agency_retention_now_ms(void);

/* Answer a HoldRequest: add (replacing the reason), remove or list; each change audited. Fills
 * reply->holds (freed with the reply by agency_reply_free) and, on refusal, the code and reason:
 * TACNET_ECASEREF, TACNET_EFIELD (no or unknown reason), TACNET_EENUM (action),
 * TACNET_ENOTFOUND (remove: not held), TACNET_ESHREDDED (add: the case is already destroyed). */
void agency_hold_handle(agency_t *self, const Tacnet__HoldRequest *req, Tacnet__ApiReply *reply);

/* Run the retention sweep now: every case with its verdict in OUT (the caller's; its contents
 * freed with the reply by agency_reply_free, or by agency_reply_retention_clear for one on the
 * stack, or by running it again). Returns
 * 0, or a code with WHY; when cases were destroyed but compaction failed, the destruction stands
 * (the key is gone) and the next sweep compacts. */
int agency_retention_run(agency_t *self, Tacnet__RetentionRunReply *out, char *why, size_t whylen);

/* From the loop: run the sweep when its interval has passed. Returns 0, or a fatal code when the
 * view could not be reopened after compaction. */
int agency_retention_tick(agency_t *self);

#endif
