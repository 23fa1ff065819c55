/* internal: the agency daemon's state, shared by its files (agency.c the loop and sync, view.c
 * the encrypted store and queries, vault.c the keys at rest, api.c the local API, publish.c the
 * publish path, reply.c the replies, accounts.c the credential store, sweep.c retention). Not for
 * use outside services/agency: front ends use agency.h.
 */
#ifndef TACNET_AGENCY_INTERNAL_H
#define TACNET_AGENCY_INTERNAL_H

#include <lmdb.h>
#include <stdint.h>

#include "agency.h"
#include "agency/publish.h"
#include "agency/reply.h"
#include "api.pb-c.h"
#include "clock.h"
#include "events.pb-c.h"
#include "casework/retention.h"
#include "policy.h"
#include "roster.h"
#include "route.h"
#include "seal.h"
#include "store.h"
#include "wire.pb-c.h"

#define AGENCY_RESEALED_MAX 64

struct agency {
    agency_config_t cfg;
    const agency_profile_t *profile;
    char data_dir[4096];
    char broker_ep[256];
    size_t broker_ix; /* which of the listed brokers broker_ep is (endpoints.h), unreduced */
    void *ctx, *dealer, *api;
    store_t *store;
    MDB_dbi meta, outbox, outbox_ids, outbox_case, dead, events, applied, by_case, cases, identity,
        quarantine, audit, api_ids;
    MDB_dbi users, sessions, logins, tokens; /* accounts.c */
    struct throttle *auth;                   /* auth.c: failed authentication, in memory */
    MDB_dbi case_keys, holds, tombstones;    /* per-case keys; sweep.c */
    MDB_dbi settled, delivered; /* settled publishes, recipients that applied them; outcome.c */
    MDB_dbi dead_body, withdrawn, unapplied; /* refused bodies, withdrawals, late appliers */
    MDB_dbi accepted;                        /* accepted, not yet back in the view (outbox.h) */
    MDB_dbi import_jobs, import_ids; /* the latest import job, kept across restarts (import.c) */
    MDB_dbi event_keys, grants, history, history_wait; /* history on joining; history.c */
    uint8_t *batch_keys; /* sodium_malloc: the content keys of a DELIVER batch, wiped after */
    /* agency.c: a DELIVER batch's events as they are verified, opened and applied (AGENCY_BATCH
     * of them), allocated once; each is cleared when its batch is done */
    struct agency_prepared *deliver_items;
    /* view.c: case keys unwrapped while a DELIVER batch is applied (agency_view_case_keys_keep):
     * sodium_malloc'd, wiped when the batch's transaction function returns */
    struct agency_kept_case_key *kept_keys;
    size_t n_kept_keys;
    int keeping_keys;
    /* view.c: while a DELIVER batch is applied in transaction batch_txn (agency_view_batch_begin
     * to _end), the case records it changes and the view's local_seq, written once when the
     * batch ends instead of once per event. batch_cases is sodium_malloc'd (a record holds the
     * case's reference and initials) and wiped when the batch ends. */
    MDB_txn *batch_txn;
    struct agency_batch_case *batch_cases;
    size_t n_batch_cases;
    uint64_t batch_local; /* the view's local_seq as the batch left it, when batch_local_set */
    int batch_local_set, batch_local_dirty;
    /* reseal.c: the events re-sealed after E_RECIPIENTS since start (each is re-sealed once) */
    uint8_t resealed[AGENCY_RESEALED_MAX][16];
    size_t n_resealed;
    char reseal_why[200]; /* why the latest E_RECIPIENTS was not re-sealed */
    agency_poll_source_t poll[AGENCY_POLL_SOURCES]; /* agency_poll_add: the dashboard's */
    size_t n_poll;
    roster_t *roster;
    uint8_t root_pk[SEAL_KEY_BYTES];
    seal_keys_t *keys;
    seal_ctx_t *seal;
    struct verifier *verifier;  /* signature checks of a DELIVER batch on helper threads */
    struct agency_vault *vault; /* the at-rest and blind index keys (vault.c) */
    uint64_t next_sweep_ms;     /* monotonic; 0: sweep at the first tick */
    policy_t *policy;
    holidays_t *holidays;
    /* sync state */
    int welcomed;
    /* The view was put in place by `tacnet restore` (STORE_RESTORED_MARK in the data
     * directory): at the next WELCOME its events are numbered on from the broker's last. */
    int restored;
    uint64_t epoch;
    uint64_t last_applied; /* mirror of meta "last_applied" after each commit */
    uint64_t send_cursor;  /* outbox sender_seq last sent since the WELCOME */
    unsigned in_flight;
    unsigned send_window;    /* PUBLISHes in flight at most: cfg.window, halved by E_QUOTA */
    uint64_t quota_until_ms; /* after an E_QUOTA NACK: no PUBLISH before this (monotonic) */
    int pump_retry;          /* the last send turn could not be signed: pump again each tick */
    uint64_t last_pong_ms, next_ping_ms, hello_sent_ms;
    struct agency_waiter *waiters; /* outcome.c: callers waiting for the broker's answer */
    size_t n_waiters;
    struct agency_import *import;            /* import.c: the running or latest import job */
    struct agency_follow_wait *follow_waits; /* api.c: follow requests held for new events */
    size_t n_follow_waits;
};

/* view.c ------------------------------------------------------------------ */

int agency_view_open(agency_t *self, int *err, char *why, size_t whylen);
void agency_view_close(agency_t *self);
/* Close and open the view's environment again (after its file was replaced by a compacted
 * copy); the view's own databases only (the caller reopens accounts.c's). Returns 0 or a code. */
int agency_view_reopen(agency_t *self);
void agency_view_blind(const agency_t *self, const uint8_t *ref, size_t len, uint8_t out[16]);
#define AGENCY_KEPT_CASE_KEYS 8
struct agency_kept_case_key {
    uint8_t blind[16];
    uint8_t k[SEAL_KEY_BYTES];
};

/* Inside one write transaction's function (a DELIVER batch): each case's key is unwrapped once and
 * kept (up to AGENCY_KEPT_CASE_KEYS cases) instead of once per record it seals or opens, four per
 * event applied. Call keep at the start of the function, so a run again after the map grew starts
 * with none (a key created in the aborted run was never stored), and forget before it returns:
 * the keys are wiped. A key is kept as this run of the function reads it from case_keys, so
 * one created in an aborted run is never used again; a case erased meanwhile is forgotten. */
void agency_view_case_keys_keep(agency_t *self);
void agency_view_case_keys_forget(agency_t *self);

/* A case's record in the view: routing state, time of its latest event, reference, initials. */
typedef struct agency_case_rec {
    route_case_t c;
    uint64_t last_ms;
    char ref[64];
    char initials[8];
} agency_case_rec_t;

/* A case record a DELIVER batch read or changed (up to AGENCY_KEPT_CASE_KEYS cases; a batch
 * touching more writes the others through). */
struct agency_batch_case {
    uint8_t blind[16];
    int dirty; /* changed by the batch: written when it ends */
    agency_case_rec_t r;
};

/* Inside a DELIVER batch's transaction function: agency_view_batch_begin at its start (it keeps
 * the case keys too, agency_view_case_keys_keep) and agency_view_batch_end before it returns.
 * In between, reads and writes of case records and of local_seq made in TXN go through the
 * batch's copies, and _end writes the changed ones (when RC is 0), then wipes them and forgets
 * the keys. Returns RC, or the code of a write that failed. A run again after the map grew
 * starts afresh: nothing of an aborted run is kept. */
void agency_view_batch_begin(agency_t *self, MDB_txn *txn);
int agency_view_batch_end(agency_t *self, MDB_txn *txn, int rc);

int agency_meta_get(agency_t *self, MDB_txn *txn, const char *key, uint64_t *v);
int agency_meta_put(agency_t *self, MDB_txn *txn, const char *key, uint64_t v);

/* Case state as this agency knows it (route_case_t from applied headers), case ref and
 * initials. Returns 0 with *FOUND. */
int agency_view_case_get(agency_t *self, MDB_txn *txn, const uint8_t *ref, size_t len,
                         route_case_t *c, int *found);
/* agency_view_case_get, and the initials the case's events carry into INITIALS (NUL-terminated;
 * "" when the case is not in the view). */
int agency_view_case_initials(agency_t *self, MDB_txn *txn, const uint8_t *ref, size_t len,
                              route_case_t *c, int *found, char initials[8]);

/* Apply a verified, opened event (header bytes H, body bytes B) delivered at SEQ: store it
 * encrypted, index it, fold it into the case state. A msg_id already applied is skipped.
 * Runs inside the caller's write transaction. */
int agency_view_apply(agency_t *self, MDB_txn *txn, uint64_t seq, const Tacnet__Header *h,
                      const uint8_t *hbytes, size_t hlen, const uint8_t *body, size_t blen);
/* agency_view_apply, keeping KEPT (KEPT_LEN bytes, or NULL: nothing to keep): the event's content
 * key and sealed-body digest, encrypted under its case key as the value of its by_case entry
 * (also for an event applied before), so that it can be granted to a member joining later
 * (history.c). */
int agency_view_apply_kept(agency_t *self, MDB_txn *txn, uint64_t seq, const Tacnet__Header *h,
                           const uint8_t *hbytes, size_t hlen, const uint8_t *body, size_t blen,
                           const uint8_t *kept, size_t kept_len);

/* agency_view_apply_kept for an event granted on joining: CASE_SEQ is the original's journal seq
 * (its place in the case's order), GRANTER (non-zero) who granted its key; the event is marked
 * as history and the case's routing state folded again in case order. */
int agency_view_apply_history(agency_t *self, MDB_txn *txn, uint64_t case_seq, uint32_t granter,
                              const Tacnet__Header *h, const uint8_t *hbytes, size_t hlen,
                              const uint8_t *body, size_t blen, const uint8_t *kept,
                              size_t kept_len);

/* The event MSG_ID as the view holds it, decrypted into *REC (malloc'd, *N bytes; the caller
 * wipes and frees): broker seq(8) hlen(4, BE) header body. Returns 0, TACNET_ENOTFOUND (never
 * applied, or its case erased), TACNET_ECORRUPT or a store code. */
int agency_view_event_get(agency_t *self, MDB_txn *txn, const uint8_t msg_id[16], uint8_t **rec,
                          size_t *n);

/* Call FN for the header of every event of case BLIND in the view (in the order applied), with
 * its case seq, local seq and header bytes, until FN returns non-zero (returned). */
typedef int (*agency_view_header_fn)(const Tacnet__Header *h, uint64_t case_seq, uint64_t local,
                                     const uint8_t *hbytes, size_t hlen, void *arg);
int agency_view_case_headers(agency_t *self, MDB_txn *txn, const uint8_t blind[16],
                             agency_view_header_fn fn, void *arg);

/* Records of DB encrypted under the key of case BLIND (created on first put), as the view's own
 * are: put VAL, or get it into *OUT (malloc'd; the caller wipes and frees). */
/* The kept key of the event at LOCAL in case BLIND into *OUT (the caller wipes and frees it):
 * 0, TACNET_ENOTFOUND (none kept, or the case is erased), TACNET_ECORRUPT or a store code. */
int agency_view_kept_get(agency_t *self, MDB_txn *txn, const uint8_t blind[16], uint64_t local,
                         uint8_t **out, size_t *outlen);
int agency_view_put_case(agency_t *self, MDB_txn *txn, MDB_dbi dbi, const char *db,
                         const uint8_t blind[16], const void *key, size_t klen, const uint8_t *val,
                         size_t vlen);
int agency_view_get_case(agency_t *self, MDB_txn *txn, MDB_dbi dbi, const char *db,
                         const uint8_t blind[16], const void *key, size_t klen, uint8_t **out,
                         size_t *outlen);

/* The queries (agency_view_list, _show, _follow) are declared in agency.h: front ends use them
 * too. Their replies are freed with agency_reply_free (reply.h). */

/* Identity register: names for a case (kept encrypted, never sent; adding is in agency.h). */
policy_register_t *agency_identity_register(agency_t *self, const uint8_t *ref, size_t len);

/* Records of DB encrypted under the agency's rest key (holds): put VAL, or get it into *OUT
 * (malloc'd; the caller wipes and frees). Return 0, TACNET_ENOTFOUND, TACNET_ECORRUPT or a
 * store code. */
int agency_view_put_rest(agency_t *self, MDB_txn *txn, MDB_dbi dbi, const char *db, const void *key,
                         size_t klen, const uint8_t *val, size_t vlen);
int agency_view_get_rest(agency_t *self, MDB_txn *txn, MDB_dbi dbi, const char *db, const void *key,
                         size_t klen, uint8_t **out, size_t *outlen);

/* The latest closure of case BLIND: *CLOSED_DATE the yyyymmdd of its newest CaseClosed event
 * (its closed_date, else the day it was created), 0 when open; REF (64 bytes) its reference.
 * Returns 0, TACNET_ENOTFOUND (no such case, or its key is gone) or a store code. */
int agency_view_case_closure(agency_t *self, MDB_txn *txn, const uint8_t blind[16],
                             uint32_t *closed_date, char ref[64]);

/* Destroy case BLIND inside TXN: its key, events, by_case index, state record, identity register
 * and quarantined headers. *EVENTS (optional) gets the number of events deleted. Returns 0 or a
 * store code. The msg_ids stay in `applied` so that a redelivery cannot bring the case back. */
int agency_view_case_erase(agency_t *self, MDB_txn *txn, const uint8_t blind[16], uint64_t *events);

/* Record an audit entry inside TXN (never body content). */
int agency_audit(agency_t *self, MDB_txn *txn, const char *actor, const char *action,
                 const char *object, const char *outcome, int code);

/* api.c ------------------------------------------------------------------- */

/* Answer one request frame set on the API socket. */
void agency_api_handle(agency_t *self);

/* Follow requests with wait_ms that found nothing new are held (at most AGENCY_FOLLOW_MAX_WAITS,
 * each at most AGENCY_FOLLOW_MAX_WAIT_MS: agency.h). After each turn of the loop,
 * agency_api_follow_pump answers those that now have events after their cursor, and those whose
 * wait is over with none; agency_api_follow_timeout bounds the loop's next wait by the earliest
 * deadline; agency_api_follow_drop forgets them all at shutdown (their callers time out). */
void agency_api_follow_pump(agency_t *self);
long agency_api_follow_timeout(const agency_t *self, long wait_ms);
void agency_api_follow_drop(agency_t *self);

/* The publish path is publish.h; replies are built and freed by reply.h. */

/* accounts.c -------------------------------------------------------------- */

/* Open the credential store's four databases in the view's environment (at start, and again
 * after a compaction reopened it). Returns 0 or a TACNET_E* code. */
int agency_users_open(agency_t *self);

/* accounts_api.c ---------------------------------------------------------- */

/* Answer REQ when it adds, lists, removes or unlocks users or adds, lists or revokes tokens:
 * fills REPLY (result or refusal) and returns 0; TACNET_ENOTFOUND for any other operation. */
int agency_accounts_request(agency_t *self, const Tacnet__ApiRequest *req, Tacnet__ApiReply *reply);

/* agency.c ---------------------------------------------------------------- */

/* Send whatever the outbox holds beyond the send cursor, within the window. */
void agency_outbox_pump(agency_t *self);

#endif
