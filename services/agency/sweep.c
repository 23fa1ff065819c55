/* sweep: legal holds and the retention sweep — crypto-shredding of closed cases past their
 * retention period (docs/RELIABILITY.md T25).
 *
 * For each case the view holds, retention.c decides from its latest closure date, the
 * configured period ([retention] closed_case_days) and any legal hold. A case due for destruction
 * loses, in one transaction: its key (case_keys), its events and by_case index, its state
 * record, its identity register and any quarantined headers; a tombstone (blind id, class,
 * closure date, time) and an audit record take their place. A case with publishes still in the
 * outbox waits for the next sweep, so nothing is sent for a case that no longer exists.
 *
 * LMDB leaves freed pages in the file until they are reused, so after a sweep that destroyed
 * anything the environment is rewritten as a compacted copy (no free pages) that replaces
 * data.mdb: the wrapped case key and the old ciphertext leave the file too. "compact_pending" in
 * meta, set in the shredding transaction and cleared only in the new file, makes a daemon
 * killed in between compact again at its next sweep.
 */
#include "internal.h"
#include "agency/outcome.h"
#include "agency/outbox.h"
#include "agency/sweep.h"
#include "agency/vault.h"
#include "audit.h"
#include "bytes.h"
#include "err.h"
#include "fault.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOLD_MIN_BYTES 12 /* reason(4) set_ms(8) ref */

static int64_t s_offset_ms;

int agency_retention_clock_init(char *why, size_t whylen)
{
    s_offset_ms = 0;
#ifndef TACNET_NO_FAULT
    /* Test builds only (like FAULT_POINT): lets a test move the sweep's clock past a retention
     * period without waiting years. Builds with -DTACNET_NO_FAULT ignore it. */
    const char *env = getenv("TACNET_CLOCK_OFFSET_S");
    if (env && *env) {
        char *end = NULL;
        errno = 0;
        long long s = strtoll(env, &end, 10);
        if (errno || *end || s < -3153600000LL || s > 3153600000LL) {
            snprintf(why, whylen, "TACNET_CLOCK_OFFSET_S must be whole seconds within 100 years");
            return TACNET_ECONFIG;
        }
        s_offset_ms = (int64_t)s * 1000;
        log_warn("TACNET_CLOCK_OFFSET_S: the retention sweep's clock is moved by %lld s "
                 "(test builds only)",
                 s);
    }
#else
    (void)why;
    (void)whylen;
#endif
    return 0;
}

uint64_t agency_retention_now_ms(void)
{
    int64_t now = (int64_t)clock_now_ms() + s_offset_ms;
    return now > 0 ? (uint64_t)now : 0;
}

static void s_blind_object(char out[72], const uint8_t blind[16])
{
    char hex[33];
    sodium_bin2hex(hex, sizeof(hex), blind, 16);
    snprintf(out, 72, "case:%s", hex);
}

/* A decrypted record (a hold names its case): wiped before it is freed. */
static void s_free_plain(uint8_t *p, size_t n)
{
    if (p) {
        sodium_memzero(p, n);
        free(p);
    }
}

/* ------------------------------------------------------------------ holds */

typedef struct hold_op {
    agency_t *self;
    Tacnet__HoldAction action;
    uint8_t blind[16];
    const ProtobufCBinaryData *ref;
    Tacnet__HoldReason reason;
    uint64_t now_ms;
} hold_op_t;

static int s_hold_write(MDB_txn *txn, void *arg)
{
    hold_op_t *h = arg;
    agency_t *self = h->self;
    char object[72];
    s_blind_object(object, h->blind);
    MDB_val v;
    if (h->action == TACNET__HOLD_ACTION__HOLD_REMOVE) {
        int rc = store_del(txn, self->holds, h->blind, 16);
        if (rc != 0)
            return rc;
        return agency_audit(self, txn, "api", "hold.remove", object, "ok", 0);
    }
    if (store_get(txn, self->tombstones, h->blind, 16, &v) == 0)
        return TACNET_ESHREDDED;
    /* A hold on a reference this agency does not hold (a typo) would protect nothing. */
    route_case_t c;
    int found = 0, rc0 = agency_view_case_get(self, txn, h->ref->data, h->ref->len, &c, &found);
    if (rc0 != 0)
        return rc0;
    if (!found)
        return TACNET_ENOTFOUND;
    size_t n = HOLD_MIN_BYTES + h->ref->len;
    uint8_t *rec = xmalloc(n);
    bytes_be32_put(rec, (uint32_t)h->reason);
    store_u64_put(rec + 4, h->now_ms);
    memcpy(rec + HOLD_MIN_BYTES, h->ref->data, h->ref->len);
    int rc = agency_view_put_rest(self, txn, self->holds, "holds", h->blind, 16, rec, n);
    s_free_plain(rec, n);
    if (rc == 0)
        rc = agency_audit(self, txn, "api", "hold.add", object, "ok", 0);
    return rc;
}

static Tacnet__HoldEntry *s_hold_entry(const uint8_t *rec, size_t n)
{
    if (n < HOLD_MIN_BYTES || n > HOLD_MIN_BYTES + 63)
        return NULL;
    Tacnet__HoldEntry *e = xcalloc(1, sizeof(*e));
    tacnet__hold_entry__init(e);
    e->reason = (Tacnet__HoldReason)bytes_be32_get(rec);
    e->set_ms = store_u64_get(rec + 4);
    e->case_ref.len = n - HOLD_MIN_BYTES;
    e->case_ref.data = xmalloc(e->case_ref.len + 1);
    memcpy(e->case_ref.data, rec + HOLD_MIN_BYTES, e->case_ref.len);
    return e;
}

static void s_holds_add(Tacnet__HoldReply *out, Tacnet__HoldEntry *e)
{
    if (!e)
        return;
    out->holds = xrealloc(out->holds, (out->n_holds + 1) * sizeof(*out->holds));
    out->holds[out->n_holds++] = e;
}

static int s_hold_list(agency_t *self, Tacnet__HoldReply *out)
{
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, self->holds, &cur) != 0) {
        mdb_txn_abort(txn);
        return TACNET_ESTORE;
    }
    MDB_val k, v;
    for (int op = MDB_FIRST; mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT) {
        uint8_t *rec = NULL;
        size_t n = 0;
        if (k.mv_size == 16 &&
            agency_view_get_rest(self, txn, self->holds, "holds", k.mv_data, 16, &rec, &n) == 0)
            s_holds_add(out, s_hold_entry(rec, n));
        s_free_plain(rec, n);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return 0;
}

void agency_hold_handle(agency_t *self, const Tacnet__HoldRequest *req, Tacnet__ApiReply *reply)
{
    Tacnet__HoldReply *out = xcalloc(1, sizeof(*out));
    tacnet__hold_reply__init(out);
    reply->holds = out;
    reply->result_case = TACNET__API_REPLY__RESULT_HOLDS;
    if (req->action == TACNET__HOLD_ACTION__HOLD_LIST) {
        int rc = s_hold_list(self, out);
        if (rc != 0)
            agency_reply_error(reply, rc, "cannot read the holds");
        return;
    }
    if (req->action != TACNET__HOLD_ACTION__HOLD_ADD &&
        req->action != TACNET__HOLD_ACTION__HOLD_REMOVE) {
        agency_reply_error(reply, TACNET_EENUM, "action must be add, remove or list");
        return;
    }
    if (!req->has_case_ref || policy_case_ref_check(req->case_ref.data, req->case_ref.len) != 0) {
        agency_reply_error(reply, TACNET_ECASEREF, "case_ref must match AAA-YYYY-NNNNNN");
        return;
    }
    if (req->action == TACNET__HOLD_ACTION__HOLD_ADD &&
        (!req->has_reason || req->reason <= TACNET__HOLD_REASON__HOLD_UNKNOWN ||
         !protobuf_c_enum_descriptor_get_value(&tacnet__hold_reason__descriptor, req->reason))) {
        agency_reply_error(reply, TACNET_EFIELD,
                           "reason must be a hold reason code (public_inquiry, litigation, "
                           "safeguarding_practice_review, police_investigation, complaint, "
                           "subject_access_request)");
        return;
    }
    hold_op_t h = { .self = self,
                    .action = req->action,
                    .ref = &req->case_ref,
                    .reason = req->reason,
                    .now_ms = clock_now_ms() };
    agency_view_blind(self, req->case_ref.data, req->case_ref.len, h.blind);
    int rc = store_write(self->store, s_hold_write, &h);
    if (rc == TACNET_ENOTFOUND) {
        agency_reply_error(reply, rc,
                           req->action == TACNET__HOLD_ACTION__HOLD_ADD
                               ? "this agency holds no case with that reference: nothing was held"
                               : "no legal hold on that case");
        return;
    }
    if (rc == TACNET_ESHREDDED) {
        agency_reply_error(reply, rc, "that case was destroyed under its retention schedule");
        return;
    }
    if (rc != 0) {
        agency_reply_error(reply, rc, "cannot record the hold");
        return;
    }
    log_info("legal hold %s", req->action == TACNET__HOLD_ACTION__HOLD_ADD ? "added" : "removed");
    if (req->action == TACNET__HOLD_ACTION__HOLD_ADD) {
        Tacnet__HoldEntry *e = xcalloc(1, sizeof(*e));
        tacnet__hold_entry__init(e);
        e->case_ref.len = req->case_ref.len;
        e->case_ref.data = xmalloc(req->case_ref.len + 1);
        memcpy(e->case_ref.data, req->case_ref.data, req->case_ref.len);
        e->reason = req->reason;
        e->set_ms = h.now_ms;
        s_holds_add(out, e);
    }
}

/* ------------------------------------------------------------------ the sweep */

typedef struct sweep {
    agency_t *self;
    uint64_t now_ms;
    Tacnet__RetentionRunReply *out;
} sweep_t;

static int s_has_outbox(agency_t *self, MDB_txn *txn, const uint8_t blind[16])
{
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, self->outbox_case, &cur) != 0)
        return 1; /* cannot tell: keep the case */
    MDB_val k = { 16, (void *)blind }, v;
    int pending = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) == 0 &&
                  agency_outbox_case_key_match(k.mv_data, k.mv_size, blind, NULL);
    mdb_cursor_close(cur);
    return pending;
}

static int s_hold_reason(agency_t *self, MDB_txn *txn, const uint8_t blind[16], int *reason)
{
    uint8_t *rec = NULL;
    size_t n = 0;
    *reason = 0;
    int rc = agency_view_get_rest(self, txn, self->holds, "holds", blind, 16, &rec, &n);
    if (rc == 0 && n >= 4)
        *reason = (int)bytes_be32_get(rec);
    s_free_plain(rec, n);
    if (rc == 0 && *reason == 0)
        *reason = -1; /* held, reason unreadable: still held */
    return rc == TACNET_ENOTFOUND ? 0 : rc;
}

static int s_shred(agency_t *self, MDB_txn *txn, const uint8_t blind[16], uint32_t closed_date,
                   uint64_t now_ms, uint64_t *events)
{
    int rc = agency_view_case_erase(self, txn, blind, events);
    if (rc == 0)
        rc = agency_outcome_case_erase(self, txn, blind);
    if (rc != 0)
        return rc;
    uint8_t t[13];
    t[0] = RETENTION_CLASS_CLOSED_CASE;
    bytes_be32_put(t + 1, closed_date);
    store_u64_put(t + 5, now_ms);
    if ((rc = store_put(txn, self->tombstones, blind, 16, t, sizeof(t), 0)) != 0)
        return rc;
    char object[72];
    s_blind_object(object, blind);
    if ((rc = agency_audit(self, txn, "retention", "retention.shred", object, "shredded", 0)) != 0)
        return rc;
    return agency_meta_put(self, txn, "compact_pending", 1);
}

static int s_audit_prune(agency_t *self, MDB_txn *txn, sweep_t *s)
{
    uint64_t cutoff = retention_audit_cutoff_ms(&self->cfg.retention, s->now_ms), pruned = 0;
    s->out->has_audit_pruned = 0;
    s->out->audit_pruned = 0;
    if (!cutoff)
        return 0;
    int rc = audit_prune(txn, self->audit, cutoff, &pruned);
    if (rc != 0 || pruned == 0)
        return rc;
    s->out->has_audit_pruned = 1;
    s->out->audit_pruned = pruned;
    char object[72];
    snprintf(object, sizeof(object), "audit:%llu", (unsigned long long)pruned);
    return agency_audit(self, txn, "retention", "retention.audit_prune", object, "pruned", 0);
}

static int s_sweep_write(MDB_txn *txn, void *arg)
{
    sweep_t *s = arg;
    agency_t *self = s->self;
    agency_reply_retention_clear(s->out);
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, self->cases, &cur) != 0)
        return TACNET_ESTORE;
    uint8_t *blinds = NULL;
    size_t n = 0, cap = 0;
    MDB_val k, v;
    for (int op = MDB_FIRST; mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT) {
        if (k.mv_size != 16)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            blinds = xrealloc(blinds, cap * 16);
        }
        memcpy(blinds + n++ * 16, k.mv_data, 16);
    }
    mdb_cursor_close(cur);
    /* The audit's own period first, so the records this sweep writes start the kept part. */
    int rc = s_audit_prune(self, txn, s);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const uint8_t *blind = blinds + i * 16;
        uint32_t closed = 0, due = 0;
        char ref[64];
        int hold = 0;
        if ((rc = agency_view_case_closure(self, txn, blind, &closed, ref)) != 0) {
            /* A case record this daemon cannot open is not one it can judge: leave it. */
            if (rc == TACNET_ENOTFOUND || rc == TACNET_ECORRUPT)
                rc = 0;
            continue;
        }
        if ((rc = s_hold_reason(self, txn, blind, &hold)) != 0)
            break;
        retention_verdict_t verdict =
            retention_case_decide(&self->cfg.retention, closed, hold != 0, s->now_ms, &due);
        Tacnet__RetentionCase *c = xcalloc(1, sizeof(*c));
        tacnet__retention_case__init(c);
        c->case_ref.len = strlen(ref);
        c->case_ref.data = (uint8_t *)xstrdup(ref);
        c->has_closed_date = closed != 0;
        c->closed_date = closed;
        c->has_due_date = due != 0;
        c->due_date = due;
        if (verdict == RETENTION_KEEP_HELD) {
            c->has_hold = hold > 0;
            c->hold = (Tacnet__HoldReason)(hold > 0 ? hold : 0);
            s->out->held++;
        }
        if (verdict == RETENTION_SHRED && s_has_outbox(self, txn, blind)) {
            c->kept_because = xstrdup("outbox");
        } else if (verdict == RETENTION_SHRED) {
            c->has_events = 1;
            rc = s_shred(self, txn, blind, closed, s->now_ms, &c->events);
            s->out->shredded++;
        }
        c->verdict = xstrdup(retention_verdict_name(verdict));
        s->out->cases = xrealloc(s->out->cases, (s->out->n_cases + 1) * sizeof(*s->out->cases));
        s->out->cases[s->out->n_cases++] = c;
    }
    free(blinds);
    return rc;
}

/* Replace data.mdb by a compacted copy and open it again. */
static int s_compact(agency_t *self)
{
    char dir[4200], from[4300], to[4300], lock[4300];
    snprintf(dir, sizeof(dir), "%s/compact.tmp", self->data_dir);
    snprintf(from, sizeof(from), "%s/data.mdb", dir);
    snprintf(to, sizeof(to), "%s/data.mdb", self->data_dir);
    snprintf(lock, sizeof(lock), "%s/lock.mdb", self->data_dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return TACNET_ESTORE;
    unlink(from); /* a copy left by a daemon killed mid-copy */
    int rc = store_copy_compact(self->store, dir);
    if (rc != 0) {
        rmdir(dir);
        return rc;
    }
    FAULT_POINT("agency.compact_before_rename");
    store_destroy(&self->store);
    rc = rename(from, to) == 0 ? 0 : TACNET_ESTORE;
    rmdir(dir);
    if (rc == 0) {
        int dfd = open(self->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) != 0)
            rc = TACNET_ESTORE;
        if (dfd >= 0)
            close(dfd);
        /* The lock file describes the old file's transactions; readers still holding the old
         * file keep their own copy of it. */
        unlink(lock);
    }
    int rc2 = agency_view_reopen(self);
    if (rc2 == 0)
        rc2 = agency_users_open(self);
    return rc ? rc : rc2;
}

static int s_compact_done(MDB_txn *txn, void *arg)
{
    agency_t *self = arg;
    return agency_meta_put(self, txn, "compact_pending", 0);
}

int agency_retention_run(agency_t *self, Tacnet__RetentionRunReply *out, char *why, size_t whylen)
{
    sweep_t s = { .self = self, .now_ms = agency_retention_now_ms(), .out = out };
    out->now_ms = s.now_ms;
    /* Every case's key and records are read: one unlock of the keys at rest for the sweep. */
    bool held = agency_vault_hold(self->vault) == 0;
    int rc = store_write(self->store, s_sweep_write, &s);
    if (held)
        agency_vault_release(self->vault);
    if (rc != 0) {
        agency_reply_retention_clear(out);
        snprintf(why, whylen, "retention sweep failed: %s", tacnet_strerror(rc));
        return rc;
    }
    out->has_shredded = out->has_held = 1;
    uint64_t pending = 0;
    MDB_txn *txn;
    if (store_read_begin(self->store, &txn) == 0) {
        agency_meta_get(self, txn, "compact_pending", &pending);
        mdb_txn_abort(txn);
    }
    if (pending) {
        if ((rc = s_compact(self)) != 0 || (rc = store_write(self->store, s_compact_done, self))) {
            snprintf(why, whylen, "cases destroyed, but the file could not be compacted: %s",
                     tacnet_strerror(rc));
            return rc;
        }
        out->has_compacted = 1;
        out->compacted = 1;
    }
    if (out->shredded || out->held)
        log_info("retention sweep: %u destroyed, %u held past their period%s", out->shredded,
                 out->held, out->compacted ? ", file compacted" : "");
    if (out->audit_pruned)
        log_info("retention sweep: %llu audit records past their period pruned",
                 (unsigned long long)out->audit_pruned);
    return 0;
}

int agency_retention_tick(agency_t *self)
{
    uint64_t now = clock_mono_ms();
    if (now < self->next_sweep_ms)
        return 0;
    self->next_sweep_ms = now + self->cfg.sweep_interval_ms;
    Tacnet__RetentionRunReply out = TACNET__RETENTION_RUN_REPLY__INIT;
    char why[160] = "";
    int rc = agency_retention_run(self, &out, why, sizeof(why));
    agency_reply_retention_clear(&out);
    if (rc != 0)
        log_error("%s", why);
    /* A view that could not be reopened after compaction cannot go on. */
    return self->store ? 0 : rc;
}
