/* broker_internal: the broker object's state, shared by its files and by nothing else.
 *
 * tacnet-broker is one object around one poll loop, split by concern:
 *   broker.c    lifecycle, the sockets, the poll loop and its ticks, routing each ROUTER message
 *               to its command, refusals (NACK) counted for status;
 *   publish.c   the publish pipeline: stateless checks, quota, batch, signatures, the journal
 *               commit, then PUBACK or NACK;
 *   delivery.c  sessions: HELLO/WELCOME, the credit window, DELIVER/ACK, delivery cursors,
 *               liveness, and cutting connections whose key was revoked;
 *   timers.c    non-delivery reports and escalation ticks, each journalled in one transaction;
 *   admin.c     the roster (load, reload on change or SIGHUP), status JSON, the admin socket.
 * Only services/broker includes this header; the rest of the world uses broker.h. Functions
 * shared between the files are listed under the file that defines them.
 */
#ifndef TACNET_BROKER_INTERNAL_H
#define TACNET_BROKER_INTERNAL_H

#include "broker.h"
#include "escalation_journal.h"
#include "journal.h"
#include "notice.h"
#include "quota.h"
#include "zap.h"

#include "clock.h"
#include "roster.h"
#include "route.h"
#include "seal.h"
#include "verifier.h"
#include "wire.h"

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define BROKER_MAX_AGENCY  ROUTE_MAX_AGENCY
#define BROKER_MAX_CREDIT  4096 /* ceiling on an agency's window: the in-flight ring's size */
#define BROKER_MAX_REJECTS 64
#define BROKER_MAX_CUTS    16

/* One connected agency. Identity is the ZAP User-Id; the routing id is only where to send. */
typedef struct broker_session {
    int connected;
    uint8_t rid[WIRE_MAX_RID];
    size_t rid_len;
    uint32_t key_id;    /* CURVE key the connection authenticated with */
    uint64_t cursor;    /* last seq sent (or the HELLO's last applied) */
    uint64_t acked;     /* cumulative ACK */
    uint64_t scanned;   /* nothing for this agency after cursor up to here (rcpt is append-only) */
    uint64_t persisted; /* acked value last written to LMDB */
    uint32_t credit;
    int batches;        /* its HELLO asked for DELIVERS (several DELIVERs per message) */
    uint64_t *inflight; /* ring of sent, unacknowledged seqs */
    size_t n_inflight, head;
    uint64_t last_seen_ms;
    /* The TCP connection under the session, to cut it when its key is revoked (libzmq has no
     * call to drop one ROUTER peer): the fd and its peer address, checked before cutting so a
     * reused descriptor is never touched. */
    int fd;
    struct sockaddr_storage peer;
    socklen_t peer_len;
} broker_session_t;

/* What a delivery report needs of an event this broker journalled since it started, kept so the
 * once-a-second report scan need not read each acknowledged event's header back from the journal
 * and decode it once per recipient (timers.c). Slot SEQ % BROKER_RECENT holds the latest seq
 * noted there; any other seq, and an event whose case reference (14 to 17 characters by the
 * policy) or initials do not fit, is read from the journal as before. The journal is
 * append-only, so a noted entry never goes stale. 64 bytes a slot, 2 MiB in all, written
 * through when the broker starts so its memory does not grow as the slots fill. */
#define BROKER_RECENT 32768
typedef struct broker_recent {
    uint64_t seq; /* 0: empty */
    uint32_t sender;
    uint8_t ref_len, initials_len;
    uint8_t msg_id[16];
    uint8_t ref[24], initials[8];
} broker_recent_t;
_Static_assert(sizeof(broker_recent_t) == 64, "a recent-event slot is 64 bytes");

/* A connection to cut at the next tick. */
typedef struct broker_cut {
    int fd;
    struct sockaddr_storage peer;
    socklen_t peer_len;
} broker_cut_t;

/* A PUBLISH that passed the stateless checks, waiting for the batch commit. */
typedef struct broker_pending {
    wire_msg_t msg;
    Tacnet__Header *h;
    uint32_t agency;
    uint8_t sign_pk[SEAL_KEY_BYTES]; /* the sender's key named by the header */
    int refused; /* result of the signature and wrapped-key checks, before the commit */
    const char *refused_detail;
    int code;             /* result of the stateful checks */
    const char *detail;   /* static reason for a refusal (or detail_buf), or NULL */
    char detail_buf[112]; /* a refusal's reason with numbers in it (E_REPLAY names the gap) */
    uint64_t seq;         /* assigned or original */
    int duplicate;        /* retry of an accepted msg_id */
    uint32_t required;    /* E_RECIPIENTS: the recipients the policy requires (the NACK says) */
    int ack_batch;        /* its PUBLISH asked for PUBACKS */
} broker_pending_t;

struct broker {
    broker_config_t cfg;
    char endpoint[256];
    char data_dir[4096];
    void *ctx, *router, *admin;
    zap_t *zap;
    journal_t *journal;
    roster_t *roster;
    struct stat roster_st; /* the roster file as last loaded (or last refused) */
    uint8_t root_pk[SEAL_KEY_BYTES];
    seal_keys_t *keys;
    seal_ctx_t *seal;
    verifier_t *verifier; /* a batch's signature checks on helper threads */
    holidays_t *holidays;
    notice_t *notice;
    escalation_journal_t *escalation;
    quota_t *quota;
    broker_session_t sessions[BROKER_MAX_AGENCY];
    wire_batch_t deliver_batch; /* the DELIVERS being filled by the pump (buffer reused) */
    wire_batch_t ack_batch;     /* the PUBACKS being filled after a commit, to ack_rid */
    uint8_t ack_rid[WIRE_MAX_RID];
    size_t ack_rid_len;
    /* After a failed commit (a full map or disk), the lowest sender_seq refused per agency: its
     * later events are refused too until that one is accepted, so a smaller batch that still
     * fits can never accept an event past a refused one (whose resend would then be a replay). */
    uint64_t storage_refused_from[BROKER_MAX_AGENCY];
    int storage_refused_code[BROKER_MAX_AGENCY]; /* the failed commit's code, repeated */
    broker_pending_t *batch;
    size_t n_batch;
    uint64_t next_flush_ms;
    /* The journal head when the current store_write began: its function starts from here on
     * every run (it runs again after the map grows, and the head it set is then void). */
    uint64_t write_head;
    /* Per agency, the seq up to which every overdue event addressed to it has been reported
     * (or nothing was addressed to it): the once-a-second non-delivery scan starts there rather
     * than at its acknowledged cursor, which for a long-offline agency is far behind. Kept in
     * memory (from 0 after a restart: `reported` makes the rescan harmless); expiry_next holds
     * the scan's result until its transaction has committed. */
    uint64_t expiry_done[BROKER_MAX_AGENCY], expiry_next[BROKER_MAX_AGENCY];
    /* What each agency's latest HELLO said about delivery reports, until the next report scan
     * journals it: 0 nothing new, 1 wants them, 2 does not. */
    uint8_t hello_reports[BROKER_MAX_AGENCY];
    broker_recent_t *recent; /* BROKER_RECENT slots */
    /* counters for `tacnet broker status` */
    uint64_t accepted, duplicates, delivered, commits, batched_events;
    uint64_t grants; /* grant records journalled (history on joining) */
    broker_cut_t cuts[BROKER_MAX_CUTS];
    size_t n_cuts;
    struct {
        int code;
        uint64_t n;
    } rejects[BROKER_MAX_REJECTS];
    /* Refusals of an agency's events as out of sequence (E_REPLAY, E_CLOCK) since the broker
     * started: a sign that someone else holds its key or its clock is off. */
    struct {
        uint64_t n;
        char latest[112]; /* the latest refusal's reason (names the gap) */
    } sequence_alerts[BROKER_MAX_AGENCY];
};

/* broker.c ---------------------------------------------------------------------------------- */

/* Count a refusal by CODE for status. */
void broker_reject_count(broker_t *self, int code);

/* Log, count and answer a refusal of M (a NACK with CODE and DETAIL, which may be NULL).
 * MSG_ID (16 bytes) may be NULL when the message named none. */
void broker_nack(broker_t *self, const wire_msg_t *m, const uint8_t *msg_id, int code,
                 const char *detail);

/* publish.c --------------------------------------------------------------------------------- */

/* Take a PUBLISH through the stateless checks and the quota into the batch (flushed when
 * full), or refuse it. Takes M's frames either way (M is left cleared). */
void broker_on_publish(broker_t *self, wire_msg_t *m);

/* Commit the batch and answer each publish in it, then deliver what it added. */
void broker_publish_flush(broker_t *self);

/* grant.c ----------------------------------------------------------------------------------- */

/* GRANT (or REGRANT, with the body sealed again) from AGENCY: check it as a publish is checked,
 * journal it once for its grantee (the original event delivered with the granted key, or with
 * the body sealed again) and answer GRANTACK. */
void broker_on_grant(broker_t *self, wire_msg_t *m, uint32_t agency);

/* bodies.c ---------------------------------------------------------------------------------- */

/* Remove the sealed bodies that every recipient (and every grantee) has acknowledged and that
 * are older than history_window_s, a bounded slice per call; headers, signatures and audit
 * stay. */
void broker_bodies_prune(broker_t *self);

/* delivery.c -------------------------------------------------------------------------------- */

/* HELLO from AGENCY over the connection authenticated with KEY_ID: (re)start its session, send
 * WELCOME and what its window allows. */
void broker_on_hello(broker_t *self, wire_msg_t *m, uint32_t agency, uint32_t key_id);

/* ACK from AGENCY's session: move its acknowledged cursor and window, and send on. */
void broker_on_ack(broker_t *self, wire_msg_t *m, uint32_t agency);

/* Send DELIVERs to every connected agency, within each window, in one read transaction. */
void broker_pump_all(broker_t *self);

/* Persist acknowledged cursors that moved since the last flush. */
void broker_cursors_flush(broker_t *self);

/* Close sessions whose key the roster no longer accepts (cutting their connection) and those
 * silent for three heartbeats. */
void broker_sessions_check(broker_t *self);

/* Cut the connection M came in on (its key was just found revoked) at the next tick, so the
 * refusal just queued for it has left first. */
void broker_cut_later(broker_t *self, const wire_msg_t *m);

/* Cut the connections broker_cut_later queued. */
void broker_cuts_run(broker_t *self);

/* timers.c ---------------------------------------------------------------------------------- */

/* The sharing policy's expiry (MESH's five days when it sets none). */
#define BROKER_EXPIRY_HOURS_DEFAULT 120

/* How long after the broker accepted an event a recipient that has not acknowledged it gets it
 * reported as not delivered, under sharing policy SP (may be NULL): expiry_seconds when set and
 * not 0, else expiry_hours when set (0: no reports), else BROKER_EXPIRY_HOURS_DEFAULT hours. */
uint64_t broker_expiry_ms(const Tacnet__SharingPolicy *sp);

/* Journal a non-delivery report for each event an agency left unacknowledged past the sharing
 * policy's expiry (none when it is 0, broker_expiry_ms). */
void broker_expiry_check(broker_t *self);

/* Journal due escalation stage advances and non-response alerts. */
void broker_escalations_check(broker_t *self);

/* Journal delivery reports: for each event a recipient has acknowledged since the last scan, one
 * entry to its sender (if the sender asked for them in its HELLO), grouped per sender and case. */
void broker_delivery_reports(broker_t *self);

/* Note event SEQ (header H), just committed, for the report scan (broker_recent_t). */
void broker_recent_note(broker_t *self, uint64_t seq, const Tacnet__Header *h);

/* admin.c ----------------------------------------------------------------------------------- */

/* Load the roster from cfg.roster_path against the pinned root key and adopt it (refusing one
 * older than the roster in use). Returns 0 or a TACNET_E* code with WHY. */
int broker_roster_load(broker_t *self, char *why, size_t whylen);

/* Reload the roster when SIGHUP asked for it or its file changed; a bad file is logged and the
 * roster in use stays. */
void broker_roster_reload_check(broker_t *self);

/* Bind the admin REP socket at ipc://DATA_DIR/admin.sock, owner-only. Returns 0 or TACNET_EIO
 * with WHY. */
int broker_admin_bind(broker_t *self, char *why, size_t whylen);

/* Answer one request on the admin socket (`status`: the status JSON). */
void broker_on_admin(broker_t *self);

#endif
