/* agency: the agency daemon core shared by tacnet-camhs, -school, -hv and -social-care.
 *
 * One thread around one zmq_poll loop (docs/ARCHITECTURE.md):
 *   - a DEALER to the broker (CURVE client, the broker's key pinned from the roster): HELLO with
 *     the last applied seq, DELIVERs verified, opened, checked against the text policy and
 *     applied in one LMDB transaction with the new seq, cumulative ACKs, gap -> re-HELLO; the
 *     durable outbox resent in order after every WELCOME until PUBACK (NACK -> dead letters);
 *   - a ROUTER on ipc://<data_dir>/api.sock (owner-only) for agency systems and `tacnet`;
 *   - the poll sources the composition root hands in (services/agencyd/daemon.c: the dashboard and HTTP/JSON API
 *     when [http] port is set), polled by the same loop without the core knowing what they are.
 * The view (view.c) keeps the events this agency may see, encrypted at rest under a key derived
 * from the agency's secret key, indexed by keyed-hash (blind) case tokens.
 *
 * This header is the whole of the core that a front end (services/dashboard) may use: the object
 * is opaque, and a front end reads cases and events, publishes, records audit entries and checks
 * credentials (agency/accounts.h) through the functions below, all on the loop's thread. Nothing
 * here calls back into a front end except a poll source's own functions.
 */
#ifndef TACNET_AGENCY_H
#define TACNET_AGENCY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "agency/accounts.h"
#include "agency/tokens.h"
#include "api.pb-c.h"
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
    retention_policy_t retention; /* [retention]: periods per record class */
    uint64_t sweep_interval_ms;   /* [retention] sweep_interval */
    uint64_t unapplied_after_ms;  /* [outbox] unapplied_after */
    const char *time_zone; /* [http] time_zone: what the dashboard and the CLI show times in */
} agency_config_t;

extern volatile sig_atomic_t agency_stop_flag;
extern volatile sig_atomic_t agency_reload_flag;

/* Create the daemon: keys (refusing wide permissions), roster, view, the broker connection.
 * Returns an owned object or NULL with *ERR and WHY naming the problem. */
agency_t *agency_new(const agency_config_t *cfg, int *err, char *why, size_t whylen);

/* Bind the local API socket (DATA_DIR/api.sock, owner-only) and log that the daemon is up: the
 * last step of a start, after every front end (the dashboard) is listening, so that the socket's
 * existence means the whole daemon serves. Returns 0 or a code with WHY. */
int agency_api_listen(agency_t *self, char *why, size_t whylen);

/* Run until agency_stop_flag is set (agency_api_listen first). Returns 0 or a negative code on a
 * fatal storage error. */
int agency_run(agency_t *self);

/* Destroy the daemon. Null-safe; sets *SELF_P to NULL. Destroy every front end that holds the
 * agency (and whose poll source it holds) first. */
void agency_destroy(agency_t **self_p);

/* ------------------------------------------------------------------ poll sources */

/* Something else the loop waits on, described by the composition root: the core calls these
 * three and nothing more. On every turn of the loop FD (when >= 0) joins the poll set for
 * input, TIMEOUT (may be NULL) may shorten the wait below MAX_MS, and RUN is called once whether
 * or not FD was readable (a source keeps its own timers and checks its own work). ARG is passed
 * to both functions and stays the caller's. */
typedef struct agency_poll_source {
    int fd;
    long (*timeout)(void *arg, long max_ms);
    void (*run)(void *arg);
    void *arg;
} agency_poll_source_t;

#define AGENCY_POLL_SOURCES 4


/* Add SRC (copied) to the loop; it is polled until removed or the agency is destroyed, so ARG
 * must stay valid until then (remove it before destroying what ARG points to). Returns 0,
 * TACNET_EINVAL (no run function) or TACNET_ETOOBIG (AGENCY_POLL_SOURCES already added). */
int agency_poll_add(agency_t *self, const agency_poll_source_t *src);

/* Remove every source whose arg is ARG. Null-safe; removing what was never added does nothing. */
void agency_poll_remove(agency_t *self, const void *arg);

/* ------------------------------------------------------------------ what a front end reads */

/* The profile this daemon runs (the agency's value, name and title). Static storage; never
 * NULL. */
const agency_profile_t *agency_profile(const agency_t *self);

/* The broker seq of the last event applied to the view (0 before the first). It changes exactly
 * when the view has taken new events, so a live stream that saw another value has something new
 * to send. */
uint64_t agency_last_applied(const agency_t *self);

/* Queries of the view, each in its own read transaction. OUT is the caller's message (zeroed by
 * its _INIT); what a query puts in it is owned by the caller and freed by wrapping OUT in a
 * Tacnet__ApiReply of the matching result_case and calling agency_reply_free.
 *   list:   every case this agency holds (a case it has left included: members say so), or
 *           with AGENCY_VIEW_MEMBER in FLAGS only those it is a member of (My cases, `tacnet
 *           cases`). AGENCY_VIEW_COUNTS folds each case's timeline for its open escalations and
 *           overdue items (they depend on the clock) and its closed_date; callers that only
 *           need the cases, or show each one anyway, leave it out. Returns 0 or a store code.
 *   show:   the case REF (LEN bytes): summary, timeline, folded state and what is due. Returns 0,
 *           TACNET_ENOTFOUND, TACNET_ESHREDDED (destroyed under retention) or a store code.
 *   follow: up to MAX (0 or over 1000: 1000) events applied after local seq AFTER, and the local
 *           seq to ask from next time. Returns 0 or a store code.
 * None of them writes an audit record: a front end records the read it shows to someone
 * (agency_audit_record). */
#define AGENCY_VIEW_COUNTS 1 /* agency_view_list: fold each case for its counts */
#define AGENCY_VIEW_MEMBER 2 /* agency_view_list: only the cases this agency is a member of */
int agency_view_list(agency_t *self, Tacnet__ListCasesReply *out, int flags);
int agency_view_show(agency_t *self, const uint8_t *ref, size_t len, Tacnet__ShowCaseReply *out);
int agency_view_follow(agency_t *self, uint64_t after, uint32_t max, Tacnet__FollowReply *out);
/* The local API holds a follow with wait_ms that finds nothing (api.c): at most this many at
 * once (more are answered at once, empty), each for at most this long. */
#define AGENCY_FOLLOW_MAX_WAITS   256
#define AGENCY_FOLLOW_MAX_WAIT_MS 60000u
/* The local seq of the newest event in the view (0: none yet), so a live page can follow from
 * now on rather than from the beginning. Returns 0 or a store code. */
int agency_view_head(agency_t *self, uint64_t *local_seq);
/* Free what the queries and agency_publish allocated inside R (R itself stays the caller's). */
void agency_reply_free(Tacnet__ApiReply *r);

/* The case's identity register: the family's real names, kept encrypted under the case's key in
 * this daemon, never sent, shown or logged; the text check refuses an event naming one in any
 * form. add: register NAMES (N of them, each "NAME" or "ROLE:NAME", ROLE being who the person
 * is to the child: child, mother, father, carer, grandparent, sibling or other; casework/kin.h)
 * for case REF (LEN bytes); a name registered already is kept once, taking a role given now.
 * Returns 0, TACNET_EFIELD (nothing registered) when a role is not one of those, or a store
 * code. count: how many names case REF has registered (0 when
 * none, or no such case), for a prompt to register some. Returns 0 or a store code. */
int agency_identity_add(agency_t *self, const uint8_t *ref, size_t len, char **names, size_t n);
int agency_identity_count(agency_t *self, const uint8_t *ref, size_t len, size_t *count);
/* Call EACH(name, role, ARG) for every name registered for case REF, in the order registered,
 * for a page printed for the family in this agency (the family's summary); ROLE is the
 * relationship's word, "unknown" for a name registered without one. The names are wiped after
 * the last call, so EACH copies what it keeps. Returns 0 (also for none) or a store code. */
int agency_identity_each(agency_t *self, const uint8_t *ref, size_t len,
                         void (*each)(const char *name, const char *role, void *arg), void *arg);

/* The publish path every front end shares (local API, dashboard forms, HTTP/JSON API): validate
 * REQ, check its text, seal it, queue it in the durable outbox and start sending it. REQ stays
 * the caller's. Returns 0 with reply->published, or the code with the reason and findings in
 * REPLY (the caller frees REPLY with agency_reply_free either way). */
int agency_publish(agency_t *self, Tacnet__PublishRequest *req, Tacnet__ApiReply *reply);
/* What REQ asks for: BLAKE2b-128 of it packed without its request key and its wait, so that the
 * same request sent again matches whatever key or wait it carries. REQ is left as it was. */
void agency_request_print(Tacnet__PublishRequest *req, uint8_t out[16]);

/* The outcome of a publish (services/agency/outcome.c). The broker settles a queued event later:
 * accepted under its seq, or refused for good. A front end that answers only once it knows
 * waits for it; one that shows it later reads it.
 *
 * agency_outcome_wait calls FN(SELF, ARG, status) once: when the settle of MSG_ID is committed,
 * or after WAIT_MS with the state then (queued or sent), or with NULL when the daemon stops
 * first (FN then only frees ARG). When MSG_ID is settled already FN runs before this returns.
 * The status is borrowed for the call. Returns 0, or TACNET_EQUOTA when too many are waiting
 * (FN is not called). agency_outcome_cancel forgets every waiter registered with ARG, without
 * calling it (a front end going away first).
 *
 * agency_outcome_read fills OUT (initialised by the caller) with MSG_ID's status in its own
 * read transaction: 0, TACNET_ENOTFOUND (not an event this agency published) or a store code.
 * Free OUT's pieces with agency_outcome_status_free. */
typedef void (*agency_outcome_fn)(agency_t *self, void *arg, const Tacnet__EventStatus *st);
int agency_outcome_wait(agency_t *self, const uint8_t msg_id[16], uint32_t wait_ms,
                        agency_outcome_fn fn, void *arg);
void agency_outcome_cancel(agency_t *self, void *arg);
int agency_outcome_read(agency_t *self, const uint8_t msg_id[16], Tacnet__EventStatus *out);
void agency_outcome_status_free(Tacnet__EventStatus *st);

/* Refusals of this agency's own events as out of sequence: E_REPLAY (a sender_seq already used:
 * someone else may hold this agency's key, or a restored backup is behind the broker) or E_CLOCK
 * (this machine's clock is off). REFUSALS counts them (0: none ever), the rest is the latest. */
typedef struct agency_sequence_alert {
    uint64_t refusals;
    uint64_t sender_seq;
    int code;
    uint64_t at_ms; /* wall clock */
} agency_sequence_alert_t;
/* Fill OUT. Returns 0 or a store code. */
int agency_sequence_alert(agency_t *self, agency_sequence_alert_t *out);

/* This agency's events not yet accepted (queued, or sent and unanswered) and, unless REQ
 * excludes them, those the broker refused, oldest first, in reply->outbox (free REPLY with
 * agency_reply_free). At most 1000 are listed. */
void agency_outcome_outbox_request(agency_t *self, const Tacnet__OutboxRequest *req,
                                   Tacnet__ApiReply *reply);

/* The local API's StatusRequest: the msg_id (or a unique prefix of its hex, or of its short id)
 * resolved among this agency's own events, and its status in REPLY (reply->status). */
void agency_outcome_status_request(agency_t *self, const Tacnet__StatusRequest *req,
                                   Tacnet__ApiReply *reply);

/* Withdraw one of this agency's refused events (REQ: its msg_id or a unique prefix), so that it
 * leaves the outbox, or refuse (TACNET_ENOTFOUND: no such refusal, or already withdrawn or
 * corrected; TACNET_EFIELD: ambiguous). The new status is in reply->status. Audited. */
void agency_outcome_withdraw_request(agency_t *self, const Tacnet__WithdrawRequest *req,
                                     Tacnet__ApiReply *reply);

/* One of this agency's refused events as the PublishRequest that sends it again, in
 * reply->draft, for a person or system to correct and send with `replaces` set. */
void agency_outcome_draft_request(agency_t *self, const Tacnet__DraftRequest *req,
                                  Tacnet__ApiReply *reply);

/* Where the running or latest intake import job stands (services/agency/import.c): its phase,
 * rows read, checked and queued, rows imported before, and the broker's answers on its events.
 * Fills OUT and returns 0, or TACNET_ENOTFOUND when no import ran since the daemon started. */
typedef struct agency_import_progress {
    uint64_t job;
    int phase;              /* Tacnet__ImportPhase */
    const char *phase_name; /* "reading", "checking", "queueing", "done", "failed" (static) */
    uint32_t rows, checked, queued, duplicates;
    uint32_t accepted, refused, unanswered;
    int code;         /* failed: why */
    char reason[512]; /* failed: why, never a row's free text */
    uint64_t started_ms, elapsed_ms;
} agency_import_progress_t;
int agency_import_progress(agency_t *self, agency_import_progress_t *out);

/* Record one entry in the agency's audit chain, in a transaction of its own: ACTOR
 * ("web/AB:dsl", "api/crm"), ACTION ("case.read"), OBJECT (a case reference or msg_id, never
 * body content), outcome "ok" when CODE is 0 else "refused" with CODE. Returns 0 or a store
 * code; a front end that cannot record a read must not show it. */
int agency_audit_record(agency_t *self, const char *actor, const char *action, const char *object,
                        int code);

#endif
