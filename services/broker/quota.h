/* quota: each agency's publish quota at the broker (docs/RELIABILITY.md threat 14, T24).
 *
 * A token bucket per agency: QUOTA_PER_S tokens a second, up to BURST saved. A publish that
 * finds the bucket empty is refused with TACNET_EQUOTA (an explicit NACK, never a silent drop),
 * and the agency is then *held*: every later sender_seq of that agency is refused too, until
 * the refused one comes back and gets a token. So a sender that resends in order after a pause
 * (the agency daemon's outbox does) never has a later event accepted ahead of an earlier one,
 * which the replay check would then refuse for ever. Pure logic: no I/O, no clock of its own.
 */
#ifndef TACNET_BROKER_QUOTA_H
#define TACNET_BROKER_QUOTA_H

#include <stdint.h>

typedef struct quota quota_t;

/* A quota of PER_S publishes a second per agency with BURST saved (BURST below PER_S is raised
 * to PER_S). PER_S 0: unlimited. Returns an owned quota (never NULL: OOM aborts). */
quota_t *quota_new(uint32_t per_s, uint32_t burst);

/* Null-safe; sets *SELF_P to NULL. */
void quota_destroy(quota_t **self_p);

/* Whether AGENCY (< 64) may publish SENDER_SEQ at NOW_MS (a monotonic clock): takes one token.
 * Returns 0, or TACNET_EQUOTA when the bucket is empty or SENDER_SEQ is beyond a refused one
 * not yet resent. TACNET_EINVAL for an agency out of range. */
int quota_take(quota_t *self, uint32_t agency, uint64_t sender_seq, uint64_t now_ms);

/* Publishes refused so far for AGENCY (0 for an agency out of range). */
uint64_t quota_refused(const quota_t *self, uint32_t agency);

#endif
