/* import: an intake import as a job inside the daemon's loop.
 *
 * A file from the agency's own systems may hold a hundred thousand rows. Run in one local API
 * request, such an import would hold the daemon's single loop for minutes: the dashboard would
 * stop answering and the heartbeats to the broker would stop. So the request only starts a job
 * and answers with its id; the loop then advances the job a bounded slice per turn
 * (agency_import_step), through these phases:
 *
 *   reading    the profile's intake adapter parses the file (on a thread of its own for a large
 *              file; the parse is pure); a malformed row fails the job with every line's error
 *   checking   every row dry-run through the publish stages (agency_publish_check); all or
 *              nothing stays the rule: a refused row fails the job, with its line and reason,
 *              before anything is queued
 *   queueing   rows sealed and queued many per write transaction (agency_publish_batch); a row
 *              imported before (its request key is a hash of its content) is a duplicate
 *   done       sending goes on as for any publish (the outbox pump, window-limited)
 *
 * While and after it runs, the job counts the broker's answers on its events (accepted,
 * refused, not yet answered) from the settled and dead records (agency/outcome.h), a bounded
 * number per turn, so that a status request never reads a hundred thousand records.
 *
 * One job at a time: a second import while one runs is refused (TACNET_EEXISTS). The running or
 * latest job is also recorded in the view (at each change of phase, and its events once queued),
 * so a restarted daemon still shows it and counts the broker's answers on its events; a job the
 * stop interrupted is shown failed (TACNET_EINTR) with what became of its rows. Not for use
 * outside services/agency: front ends read agency_import_progress (agency.h).
 */
#ifndef TACNET_AGENCY_IMPORT_H
#define TACNET_AGENCY_IMPORT_H

#include "agency.h"
#include "api.pb-c.h"

/* The local API's ImportRequest: start a job on IR's file, or refuse (a job running). A small
 * file is read, checked and queued before this returns, and REPLY then carries the whole
 * result (msg_ids, or the errors and the code) as well as the job id; a large one answers with
 * the job id and its phase. The caller frees REPLY with agency_reply_free. */
void agency_import_start(agency_t *self, const Tacnet__ImportRequest *ir, Tacnet__ApiReply *reply);

/* The local API's ImportStatusRequest: where the job stands, in reply->import_status, or
 * TACNET_ENOTFOUND when no such job is kept. */
void agency_import_status_request(agency_t *self, const Tacnet__ImportStatusRequest *req,
                                  Tacnet__ApiReply *reply);

/* Advance the job one slice (about 10 ms of work). Called by the loop on every turn. Returns
 * how long the loop may wait before the next call, in ms: 0 when the job has work ready, more
 * while it waits for its parse or for the broker, or MAX_MS when there is nothing to do. */
long agency_import_step(agency_t *self, long max_ms);

/* Whether a job is reading, checking or queueing (the retention sweep waits for it). */
int agency_import_running(const agency_t *self);

/* At start: the job recorded before the daemon last stopped, if any, becomes the latest job.
 * Returns 0 or a store code. */
int agency_import_restore(agency_t *self);

/* Drop the job (joining its parse thread), at shutdown. */
void agency_import_destroy(agency_t *self);

#endif
