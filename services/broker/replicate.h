/* replicate: the broker's client of its replicated journal on a NATS JetStream cluster.
 *
 * With [replication] nats set, the journal's LMDB is no longer the only copy: every committed
 * write transaction of the active broker is also one message of a JetStream stream (file
 * storage, `replicas` copies), and standby brokers follow that stream into their own LMDB
 * journals. This module owns the NATS connection and three jobs:
 *   - the capture: store hooks that record every put and delete of a write transaction and,
 *     before LMDB commits it, hand the batch to an appender thread that publishes it with
 *     ExpectLastSeq = the last stream seq this broker knows, so the stream's round trip and
 *     the LMDB fsync overlap. store_write returns only once the stream has confirmed the batch
 *     (the postcommit hook waits; an unconfirmed batch is appended again while the lease is
 *     ours), so no PUBACK, delivery or timer acts on a batch the stream does not hold. The
 *     seq the stream gives the batch and its BLAKE2b hash (with the previous batch's) are
 *     written into the transaction (meta "repl_seq"), so a broker knows where it stands after
 *     any crash. A wrong-last-sequence answer means another broker appended: TACNET_EFENCED,
 *     and from then on every write is refused. A broker fenced or killed between its commit
 *     and the stream's answer holds one batch the stream lacks; at its restart
 *     replicate_journal_check finds it by the hashes and the journal is rebuilt from the
 *     stream (standby.c);
 *   - the lease: a key in a JetStream key-value bucket whose TTL is lease_ttl_ms, taken with
 *     create-if-absent and renewed with a revision check. A broker serves only while its last
 *     renewal is younger than 5/6 of the TTL (measured from when the renewal was sent, so the
 *     server's expiry is never earlier than ours);
 *   - following: an ordered consumer from a given stream seq, each message applied by the
 *     caller (standby.c) with replicate_apply, in the same transaction as its "repl_seq".
 * The batch format: "TJB1", then per write: op (1: 'P' put, 'D' delete), LMDB flags (u32 BE),
 * database name length (1) and name, key length (u32 BE) and key, value length (u32 BE) and
 * value (none for a delete).
 */
#ifndef TACNET_BROKER_REPLICATE_H
#define TACNET_BROKER_REPLICATE_H

#include "broker.h"
#include "store.h"

#include <jansson.h>
#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

typedef struct replicate replicate_t;

/* Connect to CFG's NATS servers and make sure the stream and the lease bucket exist (created
 * with the configured replicas when absent; a cluster still electing its leader is given 20 s). Returns an owned client or NULL with *ERR
 * (TACNET_EUNAVAILABLE, TACNET_ECONFIG) and WHY. */
replicate_t *replicate_new(const broker_config_t *cfg, int *err, char *why, size_t whylen);
/* Close the connection (the lease is left to expire unless released first). Null-safe. */
void replicate_destroy(replicate_t **self_p);

/* The lease. replicate_lease_try takes it if nobody holds it: 0 with *HELD 1 (ours now) or 0
 * (HOLDER, may be NULL, gets the holder's node name), or TACNET_EUNAVAILABLE. */
int replicate_lease_try(replicate_t *self, int *held, char *holder, size_t holderlen);
/* Renew the lease (revision checked) when a third of its TTL has passed since the last renewal
 * (call often). Returns 0, or TACNET_EFENCED when another broker holds it or a renewal kept
 * failing until the lease lapsed: stop serving. */
int replicate_lease_keep(replicate_t *self);
/* Whether the lease is still ours by our own clock (no network). */
int replicate_lease_valid(const replicate_t *self);
/* Give the lease up (a clean stop): a standby may take over at once. */
void replicate_lease_release(replicate_t *self);

/* The stream's last seq as the server has it now: 0 with *LAST, or TACNET_EUNAVAILABLE. */
int replicate_stream_last(replicate_t *self, uint64_t *last);
/* The last stream seq this broker wrote or applied. */
uint64_t replicate_seq(const replicate_t *self);

/* The stream seq recorded in STORE (meta "repl_seq"; 0 when none): 0 or a store code. */
int replicate_store_seq(store_t *store, uint64_t *seq);

/* Where STORE's journal stands against the stream, before following it: sets this broker's
 * seq from the journal's "repl_seq" and compares the hashes recorded there with the stream's
 * messages. Returns 0 (the journal is a prefix of the stream, or records no hashes to compare),
 * 0 with *UNCONFIRMED 1 (its last batch is one this broker committed and the stream never
 * confirmed, the one before matches: the journal must be rebuilt from the stream),
 * TACNET_ECORRUPT (it differs earlier: not this stream's journal) or TACNET_EUNAVAILABLE. */
int replicate_journal_check(replicate_t *self, store_t *store, int *unconfirmed);
/* Capture STORE's writes and publish each transaction before it commits (the active broker).
 * The store's "repl_seq" says where the stream stands for this broker. Then append the
 * takeover: the journal's EPOCH (so the first batch of a stream names the epoch every standby
 * will serve with) and this node's name, which fences a broker that held the lease before.
 * Returns 0, TACNET_EFENCED (another broker appended since the catch-up) or another code. */
int replicate_attach(replicate_t *self, store_t *store, uint64_t epoch);
/* Stop capturing (before the store is closed). Null-safe. */
void replicate_detach(replicate_t *self);
/* Whether this broker was fenced (an append met another broker's, or the lease lapsed). */
int replicate_fenced(const replicate_t *self);

/* Following: start an ordered consumer at stream seq FROM (>= 1). Returns 0 or
 * TACNET_EUNAVAILABLE. replicate_follow_next waits up to TIMEOUT_MS for the next message:
 * 0 after applying it to STORE in one transaction with its seq, TACNET_ETIMEOUT when none
 * came, TACNET_ECORRUPT for a message that is not a batch or does not apply (the journals
 * differ: stop), or another code. */
int replicate_follow_start(replicate_t *self, uint64_t from);
int replicate_follow_next(replicate_t *self, store_t *store, int timeout_ms);
void replicate_follow_stop(replicate_t *self);

/* For status: the lease holder's node name as last seen ("" when none), and ours. */
const char *replicate_holder(const replicate_t *self);
const char *replicate_node(const replicate_t *self);

/* The "replication" object of `tacnet broker status`: ROLE, node, lease holder, the stream seq
 * this broker is at, the stream's last seq and the lag between them. New reference. */
json_t *replicate_status_json(replicate_t *self, const char *role);

#endif
