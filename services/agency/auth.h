/* auth: what failed authentication at the agency's web front costs — nothing durable. Log-ins
 * and API tokens are checked here, through a throttle (common/throttle.h) kept in memory for the
 * daemon's life: each network source has a bucket of failures that refills slowly and blocks it
 * for longer each time it runs dry, and each source and account pair its own lock-out, so an
 * outsider's failures slow the outsider and never lock the owner out from elsewhere. Attempts
 * refused that way are answered before any password is checked or anything is read.
 *
 * Password checks (Argon2id, on the daemon's one loop) also have a budget over every source
 * together: a third of the time, at most a second of checking at once, charged with what each
 * check was measured to take. Beyond it a log-in is refused at once without a check, whatever
 * the password, so that many sources cannot stall the loop (the local API, publishing, other
 * pages) by failing in turn; except that an address someone logged in from in the last 14 days
 * draws on a reserve of its own (a tenth more of the time), so the staff at their usual desks
 * can still log in while an attack from elsewhere spends the budget.
 *
 * A failure writes nothing: no record per attempt (so an unknown user costs the view nothing),
 * but a round of summary audit records at most once a minute ("auth.failures": how many failed
 * and how many were refused, for the 8 sources with the most on their own and for all other
 * sources in one record, "N further sources"), one per lock-out of an account that exists
 * ("login.locked", 8 a minute at most, the rest counted in the further sources' record), and
 * one at most a minute while the budget refuses log-ins ("login.busy", also logged), written
 * by agency_auth_sweep from the daemon's loop: bounded whatever the number of sources. A successful log-in is audited as "login" by
 * agency_login. Restarting the daemon forgets the counts (an administrator's way out, with
 * agency_auth_unlock).
 */
#ifndef TACNET_AGENCY_AUTH_H
#define TACNET_AGENCY_AUTH_H

#include <stdint.h>

#include "agency/accounts.h"
#include "throttle.h"

/* A log-in from SRC: throttled, then agency_login. Returns what agency_login returns, or
 * TACNET_ELOCKED with *RETRY_MS (how long until SRC may try INITIALS again) when SRC is slowed
 * down or the account is locked for SRC, or TACNET_EAGAIN with *RETRY_MS when password checks
 * are over their budget for every source (nothing is checked then). */
int agency_auth_login(agency_t *self, const throttle_source_t *src, const char *initials,
                      const char *password, char sid[AGENCY_SECRET_HEX], agency_session_t *out,
                      uint64_t *retry_ms);

/* A bearer token from SRC: throttled, then agency_token_check. Returns 0 with SYSTEM,
 * TACNET_EAUTH, or TACNET_ELOCKED with *RETRY_MS. */
int agency_auth_token(agency_t *self, const throttle_source_t *src, const char *token,
                      char system[AGENCY_SYSTEM_CHARS], uint64_t *retry_ms);

/* Write the audit records that are due (summaries, lock-outs) in one transaction. Call it
 * from the loop now and then (the dashboard does, once a second). Returns 0 or a storage
 * error (the reports are then lost: they are a summary, not a record of each attempt). */
int agency_auth_sweep(agency_t *self);

/* Lift every source's lock-out of INITIALS (an administrator unlocking a user). Returns how
 * many sources had it locked. */
size_t agency_auth_unlock(agency_t *self, const char *initials);

/* How the account INITIALS stands now, over every source: recent failures and the latest end
 * of a running lock-out (wall clock, ms; 0: none), for `tacnet user list`. */
void agency_auth_account(agency_t *self, const char *initials, uint32_t *fails,
                         uint64_t *locked_until_ms);

/* Free the throttle (agency_destroy). */
void agency_auth_destroy(agency_t *self);

#endif
