/* agency: the agency daemon core shared by tacnet-camhs, -school, -hv and -social-care.
 *
 * One thread around one zmq_poll loop (docs/ARCHITECTURE.md):
 *   - a DEALER to the broker (CURVE client, the broker's key pinned from the roster): HELLO with
 *     the last applied seq, DELIVERs verified, opened, checked against the text policy and
 *     applied in one LMDB transaction with the new seq, cumulative ACKs, gap -> re-HELLO; the
 *     durable outbox resent in order after every WELCOME until PUBACK (NACK -> dead letters);
 *   - a ROUTER on ipc://<data_dir>/api.sock (owner-only) for agency systems and `tacnet`;
 *   - when configured, the dashboard and HTTP/JSON API (http.c), libmicrohttpd driven from the
 *     same poll loop.
 * The view (view.c) keeps the events this agency may see, encrypted at rest under a key derived
 * from the agency's secret key, indexed by keyed-hash (blind) case tokens.
 */
#ifndef TACNET_AGENCY_H
#define TACNET_AGENCY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "casework/profile.h"
#include "casework/retention.h"

typedef struct agency agency_t;

typedef struct agency_config {
    const agency_profile_t *profile;
    const char *data_dir;    /* LMDB view, api.sock (0700) */
    const char *broker;      /* broker endpoint, or NULL to read broker_file */
    const char *broker_file; /* file holding the endpoint (written by the broker) */
    const char *roster_path;
    const char *root_pub_path;
    const char *key_path;
    const char *gazetteer_dir; /* identifier policy word lists */
    const char *holidays_path; /* may be NULL */
    size_t map_size;
    size_t map_max;  /* ceiling on map growth in bytes, 0: none */
    unsigned credit; /* delivery window requested in HELLO */
    unsigned window; /* publishes in flight before waiting for PUBACKs */
    unsigned heartbeat_ms;
    const char *http_listen;      /* dashboard and HTTP/JSON API address (NULL: 127.0.0.1) */
    unsigned http_port;           /* 0: no HTTP server */
    retention_policy_t retention; /* [retention]: periods per record class */
    uint64_t sweep_interval_ms;   /* [retention] sweep_interval */
} agency_config_t;

extern volatile sig_atomic_t agency_stop_flag;
extern volatile sig_atomic_t agency_reload_flag;

/* Create the daemon: keys (refusing wide permissions), roster, view, sockets. Returns an owned
 * object or NULL with *ERR and WHY naming the problem. */
agency_t *agency_new(const agency_config_t *cfg, int *err, char *why, size_t whylen);

/* Run until agency_stop_flag is set. Returns 0 or a negative code on a fatal storage error. */
int agency_run(agency_t *self);

void agency_destroy(agency_t **self_p);

#endif
