/* standby: a broker that follows the replicated journal until it holds the lease.
 *
 * With replication on, every broker starts here. It opens its LMDB journal, follows the
 * stream from the seq its journal records (the same writes, applied in the same order, so the
 * same records, seqs and integrity walk as the active broker's), answers `tacnet broker status`
 * on its admin socket, and tries the lease every third of its TTL. Once the lease is its own it
 * applies everything up to the stream's last seq and returns: the caller then opens the broker
 * on that journal, which binds the ROUTER and serves. It never binds the ROUTER itself.
 */
#ifndef TACNET_BROKER_STANDBY_H
#define TACNET_BROKER_STANDBY_H

#include "broker.h"
#include "replicate.h"

#include <stddef.h>

/* Follow until the lease is taken and the journal caught up (0), broker_stop_flag is set
 * (TACNET_EINTR), or the journal cannot follow this stream (TACNET_ECORRUPT: it holds events
 * the stream does not, or a batch does not apply) or cannot be opened, with WHY. */
int standby_run(const broker_config_t *cfg, replicate_t *repl, char *why, size_t whylen);

#endif
