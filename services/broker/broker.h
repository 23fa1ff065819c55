/* broker: tacnet-broker's object — sockets, the poll loop, the publish pipeline and delivery.
 *
 * One thread around one zmq_poll loop (docs/ARCHITECTURE.md):
 *   - a ROUTER, CURVE server, bound after the ZAP handler, ZMQ_ZAP_ENFORCE_DOMAIN set;
 *   - the ZAP REP socket (keys answered from the signed roster);
 *   - an admin REP socket on ipc:// in the data directory (`tacnet broker status`).
 * PUBLISH runs the pipeline cheapest check first (frames and sizes, header unpack within a
 * budget, schema version, identifiers, sender binding, key id, signature, then replay and the
 * sharing policy inside the journal transaction) and is acknowledged only after the batch's
 * LMDB commit has synced. Delivery is one path for live and catch-up: a per-recipient index scan
 * within each agency's credit window, cumulatively acknowledged.
 */
#ifndef TACNET_BROKER_H
#define TACNET_BROKER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

typedef struct broker broker_t;

typedef struct broker_config {
    const char *bind;          /* e.g. tcp://127.0.0.1:7750 (port * = ephemeral) */
    const char *data_dir;      /* LMDB journal, admin socket, endpoint file */
    const char *roster_path;   /* signed roster */
    const char *root_pub_path; /* pinned root public key */
    const char *key_path;      /* the broker's own key set (0600) */
    const char *holidays_path; /* bank holidays for escalation deadlines (may be NULL) */
    size_t map_size;           /* initial LMDB map in bytes */
    size_t map_max;            /* ceiling on map growth in bytes, 0: none */
    unsigned batch_max;        /* most publishes per write transaction */
    unsigned credit_max;       /* cap on an agency's delivery window */
    unsigned heartbeat_ms;     /* ZMTP heartbeat interval */
    unsigned tick_ms;          /* timer resolution (escalations, expiry, cursor flush) */

    /* created_at_ms may be at most max_clock_skew_s ahead of the broker's clock and
     * max_event_age_days behind it; else TACNET_ECLOCK. */
    unsigned max_clock_skew_s;
    unsigned max_event_age_days;
    /* Publishes a second per agency (0: unlimited) and how many it may save up: see quota.h. */
    unsigned quota_per_s;
    unsigned quota_burst;
    /* Seconds a sealed body stays in the journal after every recipient (and grantee) has
     * acknowledged it, so a late member can still be granted it; then only its header,
     * signature and digest stay. */
    unsigned history_window_s;

    /* [replication]: the journal replicated on a NATS JetStream cluster (replicate.h). An
     * empty repl_nats (the default) turns it off. */
    const char *repl_nats;         /* comma-separated NATS URLs */
    const char *repl_stream;       /* the stream holding every committed batch */
    unsigned repl_replicas;        /* copies of the stream and the lease bucket */
    const char *repl_lease_bucket; /* key-value bucket of the lease */
    unsigned repl_lease_ttl_ms;    /* the lease lapses this long after its last renewal */
    const char *repl_node;         /* this broker's name in the lease ("": hostname-pid) */
    unsigned repl_ack_timeout_ms;  /* wait for the stream's acknowledgement of a batch */
    /* Set by main when replication is on: the client holding the lease (borrowed). */
    struct replicate *repl;
} broker_config_t;

/* Set by signal handlers in main; the loop acts on them (a handler only sets a flag). */
extern volatile sig_atomic_t broker_stop_flag;
extern volatile sig_atomic_t broker_reload_flag;

/* Create the broker: load keys, roster and journal, bind sockets. Returns an owned broker or
 * NULL with *ERR and a message in WHY naming what was wrong (missing or unsigned roster, key
 * file permissions, network filesystem, old libraries, bind failure). */
broker_t *broker_new(const broker_config_t *cfg, int *err, char *why, size_t whylen);

/* Run until broker_stop_flag is set. Returns 0, TACNET_EFENCED when replication is on and
 * this broker lost its lease or met another broker's append (it stopped acknowledging at
 * once), or a negative code on a fatal storage error. */
int broker_run(broker_t *self);

/* Stop, flushing delivery cursors. Null-safe; sets *self_p to NULL. */
void broker_destroy(broker_t **self_p);

/* The endpoint actually bound (the port resolved when the config asked for *). Borrowed. */
const char *broker_endpoint(const broker_t *self);

/* Refuse libraries older than Debian 12's (libzmq 4.3.4, libsodium 1.0.18, protobuf-c 1.4.1,
 * LMDB 0.9.24). Returns 0 or TACNET_ECONFIG with WHY naming the library. */
int broker_check_libraries(char *why, size_t whylen);

#endif
