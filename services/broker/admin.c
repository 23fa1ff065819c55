/* admin: the broker's roster and what operators ask of it.
 *
 * The signed roster is loaded at start and reloaded on SIGHUP or when its file changes (a
 * revocation reaches live connections at the next tick). The admin REP socket, owner-only in
 * the data directory, answers `status` with the JSON `tacnet broker status` prints: journal
 * head and epoch, counters, commit times, each agency's session and backlog, refusals by code,
 * open escalations.
 */
#include "broker_internal.h"
#include "replicate.h"

#include "err.h"
#include "log.h"
#include "names.h"
#include "store.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

/* Status counts an agency's backlog by walking its delivery index inside the loop, so the walk
 * is capped: uncapped, a status request against an agency a million events behind held the
 * loop (and all delivery) for a tenth of a second (make bench, scale and catch-up). */
#define BROKER_STATUS_BACKLOG_MAX 10000

/* ---------------------------------------------------------------- roster */

int broker_roster_load(broker_t *self, char *why, size_t whylen)
{
    int err = 0;
    /* Stat before reading: a file replaced in between is then reloaded on the next tick. */
    struct stat st;
    memset(&st, 0, sizeof(st));
    stat(self->cfg.roster_path, &st);
    roster_t *r = roster_load(self->cfg.roster_path, self->root_pk, &err);
    if (!r) {
        snprintf(why, whylen, "%s: %s", self->cfg.roster_path, tacnet_strerror(err));
        return err;
    }
    if (self->roster && roster_version(r) < roster_version(self->roster)) {
        snprintf(why, whylen, "%s: version %u is older than %u in use", self->cfg.roster_path,
                 roster_version(r), roster_version(self->roster));
        roster_destroy(&r);
        return TACNET_EROSTEROLD;
    }
    self->roster_st = st;
    roster_destroy(&self->roster);
    self->roster = r;
    if (self->notice)
        notice_roster_set(self->notice, r);
    if (self->escalation && escalation_journal_roster_set(self->escalation, r) != 0)
        log_warn("roster version %u: escalation policy not adopted (invalid, or fewer stages "
                 "than an open escalation has reached); the previous policy stays",
                 roster_version(r));
    return 0;
}

/* A replaced roster is noticed by inode, size and nanosecond mtime: a whole-second mtime misses
 * a revocation written within the second of the previous roster. */
static int s_file_changed(const struct stat *a, const struct stat *b)
{
    return a->st_ino != b->st_ino || a->st_dev != b->st_dev || a->st_size != b->st_size ||
           a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

void broker_roster_reload_check(broker_t *self)
{
    struct stat st;
    int changed = stat(self->cfg.roster_path, &st) == 0 && s_file_changed(&st, &self->roster_st);
    if (!broker_reload_flag && !changed)
        return;
    broker_reload_flag = 0;
    char why[512];
    uint32_t old = roster_version(self->roster);
    if (broker_roster_load(self, why, sizeof(why)) != 0) {
        log_warn("roster not reloaded: %s", why);
        self->roster_st = st; /* do not retry a bad file every tick */
        return;
    }
    log_info("roster reloaded: version %u -> %u", old, roster_version(self->roster));
}

/* ---------------------------------------------------------------- status */

/* One agency's line: its session, acknowledged cursor (persisted when it is not connected; TXN
 * may be NULL) and backlog, capped. */
static json_t *s_status_agency(broker_t *self, MDB_txn *txn, uint32_t a)
{
    broker_session_t *s = &self->sessions[a];
    uint64_t acked = s->acked;
    if (!s->connected && txn)
        journal_cursor_get(self->journal, txn, a, &acked);
    uint64_t backlog =
        txn ? journal_backlog(self->journal, txn, a, acked, BROKER_STATUS_BACKLOG_MAX) : 0;
    json_t *j = json_pack(
        "{s:s, s:b, s:I, s:I, s:b, s:I}", "agency", names_agency(a), "connected", s->connected,
        "last_ack", (json_int_t)acked, "backlog", (json_int_t)backlog, "backlog_capped",
        backlog >= BROKER_STATUS_BACKLOG_MAX, "inflight", (json_int_t)s->n_inflight);
    if (self->sequence_alerts[a].n) {
        json_object_set_new(j, "sequence_refusals",
                            json_integer((json_int_t)self->sequence_alerts[a].n));
        json_object_set_new(j, "sequence_alert", json_string(self->sequence_alerts[a].latest));
    }
    return j;
}

static json_t *s_status_agencies(broker_t *self)
{
    json_t *agencies = json_array();
    MDB_txn *txn = NULL;
    if (store_read_begin(journal_store(self->journal), &txn) != 0)
        txn = NULL;
    for (uint32_t a = 1; a < BROKER_MAX_AGENCY; a++) {
        if (a == TACNET__AGENCY__BROKER || a == TACNET__AGENCY__PARTNERSHIP ||
            !names_enum(&tacnet__agency__descriptor, (int)a))
            continue;
        json_array_append_new(agencies, s_status_agency(self, txn, a));
    }
    if (txn)
        mdb_txn_abort(txn);
    return agencies;
}

/* The status JSON, malloc'd (the caller frees). */
static char *s_status_json(broker_t *self)
{
    size_t map = 0, used = 0;
    store_usage(journal_store(self->journal), &map, &used);
    char epoch[17];
    snprintf(epoch, sizeof(epoch), "%016llx", (unsigned long long)journal_epoch(self->journal));
    json_t *root = json_pack(
        "{s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:i}", "epoch", epoch, "head_seq",
        (json_int_t)journal_head(self->journal), "accepted", (json_int_t)self->accepted,
        "duplicates", (json_int_t)self->duplicates, "delivered", (json_int_t)self->delivered,
        "commits", (json_int_t)self->commits, "events_per_commit",
        self->commits ? (double)self->batched_events / (double)self->commits : 0.0, "map_size",
        (json_int_t)map, "map_used", (json_int_t)used, "roster_version",
        (int)roster_version(self->roster));
    /* History on joining: grant records journalled since start (they take seqs too). */
    json_object_set_new(root, "grants", json_integer((json_int_t)self->grants));
    store_commit_stats_t cs;
    store_commit_stats(journal_store(self->journal), &cs);
    json_object_set_new(root, "commit_ms",
                        json_pack("{s:f, s:f, s:f}", "p50", cs.p50_us / 1000.0, "p99",
                                  cs.p99_us / 1000.0, "max", cs.max_us / 1000.0));
    json_object_set_new(root, "agencies", s_status_agencies(self));
    json_t *rejected = json_object();
    for (int i = 0; i < BROKER_MAX_REJECTS && self->rejects[i].code; i++)
        json_object_set_new(rejected, tacnet_errname(self->rejects[i].code),
                            json_integer((json_int_t)self->rejects[i].n));
    json_object_set_new(root, "rejected", rejected);
    json_object_set_new(root, "escalations", escalation_journal_status_json(self->escalation, 100));
    if (self->cfg.repl) {
        json_object_set_new(root, "role", json_string("active"));
        json_object_set_new(root, "replication", replicate_status_json(self->cfg.repl, "active"));
    }
    char *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return out;
}

/* ---------------------------------------------------------------- admin socket */

int broker_admin_bind(broker_t *self, char *why, size_t whylen)
{
    int linger = 1000;
    char path[4200];
    snprintf(path, sizeof(path), "ipc://%s/admin.sock", self->data_dir);
    self->admin = zmq_socket(self->ctx, ZMQ_REP);
    zmq_setsockopt(self->admin, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_bind(self->admin, path) != 0) {
        snprintf(why, whylen, "cannot bind admin socket %s: %s", path, zmq_strerror(zmq_errno()));
        return TACNET_EIO;
    }
    snprintf(path, sizeof(path), "%s/admin.sock", self->data_dir);
    /* Owner-only: the admin socket tells who is connected and what was refused. */
    if (chmod(path, 0600) != 0) {
        snprintf(why, whylen, "cannot make %s owner-only: %s", path, strerror(errno));
        return TACNET_EPERM;
    }
    return 0;
}

void broker_on_admin(broker_t *self)
{
    char req[64];
    int n = zmq_recv(self->admin, req, sizeof(req) - 1, ZMQ_DONTWAIT);
    if (n < 0)
        return;
    int more = 0;
    size_t ml = sizeof(more);
    while (zmq_getsockopt(self->admin, ZMQ_RCVMORE, &more, &ml) == 0 && more)
        zmq_recv(self->admin, req, 0, 0);
    req[n < (int)sizeof(req) ? n : 0] = 0;
    if (strcmp(req, "status") == 0) {
        char *json = s_status_json(self);
        zmq_send(self->admin, json, strlen(json), 0);
        free(json);
    } else {
        const char *e = "{\"error\":\"E_INVAL\",\"reason\":\"unknown admin request\"}";
        zmq_send(self->admin, e, strlen(e), 0);
    }
}
