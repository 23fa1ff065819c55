/* rel: the shared harness of the reliability suite (docs/RELIABILITY.md, "The shared
 * harness"): a seeded RNG, producers that keep a synced ledger of what the broker
 * acknowledged, a checker that reads every agency daemon's view afterwards, and the counters the
 * summary table is built from.
 *
 * Built on the integration harness (harness.h), in the test support library. Producers are either raw
 * (frame by frame as the agency, seeing PUBACK directly; they resend every unacknowledged event
 * with the same msg_id after a timeout or a broker restart) or the agency daemon itself through
 * its local API (an event counts as acknowledged once the daemon answered "queued": it is then in
 * the daemon's durable outbox). One agency is one kind of producer: the broker keeps one sender
 * sequence per agency.
 *
 * Sizes come from the environment (REL_EVENTS, REL_KILLS, REL_SEEDS, REL_SECONDS, REL_SEED);
 * `make test-reliability REL_SIZE=large` sets them. Counters are appended to $TACNET_REL_STATS as
 * "key value" lines; scripts/reliability.sh turns them into the table.
 */
#ifndef TACNET_REL_H
#define TACNET_REL_H

#include <stdint.h>
#include <stdio.h>

#include "client/client.h"
#include "harness.h"

#define REL_MAX_PROD 4
/* A raw producer's msg_id: its creation time (the broker refuses any other), then a tag byte,
 * the event's index (4 bytes, big-endian) and the producer's agency at these offsets, so a
 * PUBACK finds its event at once. */
#define REL_ID_TAG    6
#define REL_ID_INDEX  7
#define REL_ID_AGENCY 11
/* Events every producer sends before its quota. */
#define REL_SETUP_RAW 3 /* referrals bringing in the other three agencies */
#define REL_SETUP_API 3 /* concern, consent, referral to social care */

/* Seeded xorshift64*; the seed is printed at the start of every test and in every failure. */
extern uint64_t rel_seed;
void rel_seed_init(const char *test);
uint64_t rel_rand(void);
/* Uniform in [lo, hi]. */
uint64_t rel_between(uint64_t lo, uint64_t hi);
/* An integer from the environment, or DEF. */
long rel_env(const char *name, long def);

/* The four agencies with a daemon, in agency order. */
extern const uint32_t rel_agencies[4];
/* Refusals (NACK or ERROR codes, and API errors) the producers saw, by code: index -code - 1000
 * (anything out of range counts at 0). Printed by rel_check. */
#define REL_NACK_CODES 1024
extern long rel_nacks[REL_NACK_CODES];

/* Append "KEY VALUE" to $TACNET_REL_STATS (ignored when unset). */
void rel_stat(const char *key, long value);
/* Print and record that TEST could not run: never a pass. */
void rel_skip(const char *test, const char *reason);

/* One event a producer publishes. */
typedef struct rel_event {
    uint8_t msg_id[16];
    uint64_t sseq;
    uint32_t rcpt; /* bitmask of intended recipients */
    int sent;
    int acked;
    h_pub_t pub; /* raw producers: the sealed frames, kept for resends */
} rel_event_t;

typedef enum { REL_RAW, REL_API } rel_kind_t;

typedef struct rel_prod {
    h_env_t *env;
    rel_kind_t kind;
    uint32_t agency;
    h_agency_t *daemon; /* REL_API: the publishing daemon */
    h_client_t *c;      /* REL_RAW */
    tn_client_t *api;   /* REL_API */
    char case_ref[32];
    rel_event_t *ev;
    size_t n, quota;
    size_t acked;
    uint64_t last_progress_ms;
    FILE *ledger; /* "hex sender sseq rcpt" per acknowledged event, fsync'd */
    size_t ledger_pending;
} rel_prod_t;

/* The world of one workload test: broker, four daemons, producers. */
typedef struct rel_world {
    h_env_t env;
    h_agency_t *daemon[H_MAX_AGENCY]; /* by agency value */
    rel_prod_t prod[REL_MAX_PROD];
    size_t n_prod;
    int window;
} rel_world_t;

/* Set up a partnership, start the broker and the four daemons. */
void rel_world_up(rel_world_t *w);
/* The same with the broker armed with BROKER_FAULT ("name[:N]"). */
void rel_world_up_armed(rel_world_t *w, const char *broker_fault);
void rel_world_down(rel_world_t *w);
/* Add a producer for AGENCY publishing QUOTA events (after its set-up events) on its own case. */
rel_prod_t *rel_prod_add(rel_world_t *w, uint32_t agency, rel_kind_t kind, size_t quota);
/* Drive every producer for at most MS: send within the window, read results, resend after a
 * silence. Returns when every quota is acknowledged or the time is up. */
void rel_pump(rel_world_t *w, int ms);
/* Record event K of P as acknowledged (once): appended to P's ledger, synced by rel_ledger_sync. */
void rel_ledger_add(rel_prod_t *p, size_t k);
/* fdatasync P's ledger if anything was added since the last sync. */
void rel_ledger_sync(rel_prod_t *p);
/* Send raw event K of P (built and sealed on first use), marking it sent. */
void rel_raw_send(rel_prod_t *p, size_t k);
/* Read whatever the broker sent raw producer P without waiting: PUBACKs go to the ledger, NACKs
 * are counted in rel_nacks. */
void rel_raw_read(rel_prod_t *p);
/* The number of P's sent, unacknowledged events; *NEXT gets the index of the first unsent one. */
size_t rel_inflight(const rel_prod_t *p, size_t *next);
/* The local API request for event K of API producer P (the set-up events, then "Burst event K.");
 * the caller frees it with protobuf_c_message_free_unpacked. */
Tacnet__PublishRequest *rel_api_request(const rel_prod_t *p, size_t k);
/* A local API client of daemon A; asserts it connects. The caller destroys it. */
tn_client_t *rel_api(const h_agency_t *a);
/* Whether every producer has its whole quota acknowledged. */
int rel_done(const rel_world_t *w);
/* Reconnect the raw producers to the broker's (new) endpoint; unacknowledged events are resent. */
void rel_reconnect(rel_world_t *w);
/* Processes found killed by SIGKILL (a fault point firing) by rel_revive. */
extern int rel_killed_by_fault;
/* Restart any daemon that died (a fault fired); returns how many were restarted. */
int rel_revive(rel_world_t *w, int *max_ready_ms);

/* What the checker found. */
typedef struct rel_check {
    long acked, lost, dup, phantom, order, misdelivered, audit_bad;
} rel_check_t;

/* Wait (up to MS) until every acknowledged event reached every intended recipient, then check
 * every daemon's view: acknowledged subset of applied, once each, per-(sender, case) order,
 * nothing nobody sent, nothing delivered outside its recipients. Then stop the daemons and the
 * broker and verify every audit chain with `tacnet audit verify`. Records the counters. */
rel_check_t rel_check(rel_world_t *w, int ms);
/* Assert the check is clean (the seed is in the message). */
void rel_check_assert(const rel_check_t *c, const char *test);

#endif
