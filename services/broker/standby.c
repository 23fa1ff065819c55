/* standby: follow the stream into the local journal, watch the lease (see standby.h). */
#include "standby.h"

#include "journal.h"

#include "clock.h"
#include "err.h"
#include "log.h"
#include "store.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define S_WAIT_MS  100  /* longest wait for the next batch before looking at the lease */
#define S_STALL_MS 3000 /* catching up, no batch for this long: start the consumer again */

typedef struct {
    const broker_config_t *cfg;
    replicate_t *repl;
    journal_t *journal;
    void *ctx, *admin;
    uint64_t next_try_ms;
} s_standby_t;

/* The admin socket: a standby answers status with its role, journal and lag. */
static int s_admin_bind(s_standby_t *s, char *why, size_t whylen)
{
    char path[4200];
    int linger = 0;
    snprintf(path, sizeof(path), "ipc://%s/admin.sock", s->cfg->data_dir);
    s->ctx = zmq_ctx_new();
    s->admin = zmq_socket(s->ctx, ZMQ_REP);
    zmq_setsockopt(s->admin, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_bind(s->admin, path) != 0) {
        snprintf(why, whylen, "cannot bind admin socket %s: %s", path, zmq_strerror(zmq_errno()));
        return TACNET_EIO;
    }
    snprintf(path, sizeof(path), "%s/admin.sock", s->cfg->data_dir);
    if (chmod(path, 0600) != 0) {
        snprintf(why, whylen, "cannot make %s owner-only: %s", path, strerror(errno));
        return TACNET_EPERM;
    }
    return 0;
}

static void s_admin_answer(s_standby_t *s)
{
    char req[64];
    int n = zmq_recv(s->admin, req, sizeof(req) - 1, ZMQ_DONTWAIT);
    if (n < 0)
        return;
    uint64_t head = 0;
    MDB_txn *txn;
    if (store_read_begin(journal_store(s->journal), &txn) == 0) {
        MDB_cursor *cur;
        MDB_val k, v;
        if (mdb_cursor_open(txn, journal_dbi(s->journal, "journal"), &cur) == 0) {
            if (store_cursor_get(cur, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
                head = store_u64_get(k.mv_data);
            mdb_cursor_close(cur);
        }
        mdb_txn_abort(txn);
    }
    json_t *root = json_pack("{s:s, s:I}", "role", "standby", "head_seq", (json_int_t)head);
    if (root)
        json_object_set_new(root, "replication", replicate_status_json(s->repl, "standby"));
    char *out = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    const char *e = "{\"error\":\"E_NOMEM\"}";
    zmq_send(s->admin, out ? out : e, out ? strlen(out) : strlen(e), 0);
    free(out);
}

/* Apply whatever the stream has up to its last seq (the lease is ours: nobody appends). A
 * consumer that stops delivering short of it is started again from the next seq. */
static int s_catch_up(s_standby_t *s)
{
    uint64_t last = 0, moved = clock_mono_ms(), seq = replicate_seq(s->repl);
    int rc = replicate_stream_last(s->repl, &last);
    while (rc == 0 && replicate_seq(s->repl) < last && !broker_stop_flag) {
        if ((rc = replicate_lease_keep(s->repl)) != 0)
            return rc;
        rc = replicate_follow_next(s->repl, journal_store(s->journal), 1000);
        if (rc == TACNET_ETIMEOUT || rc == TACNET_EUNAVAILABLE)
            rc = 0;
        if (replicate_seq(s->repl) != seq) {
            seq = replicate_seq(s->repl);
            moved = clock_mono_ms();
        } else if (rc == 0 && clock_mono_ms() > moved + S_STALL_MS) {
            log_warn("replication: no batch after stream seq %llu for %d ms; following again",
                     (unsigned long long)seq, S_STALL_MS);
            rc = replicate_follow_start(s->repl, seq + 1);
            moved = clock_mono_ms();
        }
    }
    if (rc == 0 && broker_stop_flag)
        rc = TACNET_EINTR;
    return rc;
}

/* The journal's place in the stream, refused when it cannot be a prefix of it. *UNCONFIRMED
 * becomes 1 when its last batch is one the stream never confirmed (the journal is rebuilt). */
static int s_start(s_standby_t *s, int *unconfirmed, char *why, size_t whylen)
{
    uint64_t seq = 0, last = 0;
    int rc = replicate_store_seq(journal_store(s->journal), &seq);
    if (rc != 0) {
        snprintf(why, whylen, "%s: cannot read the journal's stream seq", s->cfg->data_dir);
        return rc;
    }
    rc = replicate_journal_check(s->repl, journal_store(s->journal), unconfirmed);
    if (rc == TACNET_ECORRUPT) {
        snprintf(why, whylen,
                 "%s: journal's batches at stream seq %llu and before differ from stream %s's: "
                 "not this stream's journal (start a standby with an empty data directory)",
                 s->cfg->data_dir, (unsigned long long)seq, s->cfg->repl_stream);
        return rc;
    }
    if (rc != 0) {
        snprintf(why, whylen, "stream %s: no answer", s->cfg->repl_stream);
        return rc;
    }
    if (*unconfirmed)
        return 0;
    if (seq == 0 && journal_head(s->journal) != 0) {
        snprintf(why, whylen,
                 "%s: journal holds events that never went through stream %s: a standby "
                 "starts with an empty data directory",
                 s->cfg->data_dir, s->cfg->repl_stream);
        return TACNET_ECORRUPT;
    }
    if ((rc = replicate_stream_last(s->repl, &last)) != 0) {
        snprintf(why, whylen, "stream %s: no answer", s->cfg->repl_stream);
        return rc;
    }
    if (last < seq) {
        snprintf(why, whylen, "%s: journal is at stream seq %llu but stream %s ends at %llu",
                 s->cfg->data_dir, (unsigned long long)seq, s->cfg->repl_stream,
                 (unsigned long long)last);
        return TACNET_ECORRUPT;
    }
    if ((rc = replicate_follow_start(s->repl, seq + 1)) != 0)
        snprintf(why, whylen, "stream %s: cannot follow from seq %llu", s->cfg->repl_stream,
                 (unsigned long long)seq + 1);
    else
        log_warn("role: standby (node %s, journal at stream seq %llu of %llu)",
                 replicate_node(s->repl), (unsigned long long)seq, (unsigned long long)last);
    return rc;
}

/* One turn: a batch (or a wait), the admin socket, the lease when it is time. Returns 0 to go
 * on, 1 when the lease is ours, or a code. */
static int s_turn(s_standby_t *s, char *why, size_t whylen)
{
    int rc = replicate_follow_next(s->repl, journal_store(s->journal), S_WAIT_MS);
    if (rc == TACNET_ECORRUPT) {
        snprintf(why, whylen, "stream %s: batch after seq %llu does not apply to %s",
                 s->cfg->repl_stream, (unsigned long long)replicate_seq(s->repl), s->cfg->data_dir);
        return rc;
    }
    int wait = 0;
    if (rc != 0 && rc != TACNET_ETIMEOUT) {
        log_warn("replication: following %s: %s", s->cfg->repl_stream, tacnet_errname(rc));
        wait = S_WAIT_MS; /* NATS is reconnecting: do not spin */
    }
    zmq_pollitem_t it = { s->admin, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll(&it, 1, wait) > 0)
        s_admin_answer(s);
    uint64_t now = clock_mono_ms();
    if (now < s->next_try_ms)
        return 0;
    s->next_try_ms = now + s->cfg->repl_lease_ttl_ms / 3;
    int held = 0;
    if (replicate_lease_try(s->repl, &held, NULL, 0) != 0) {
        log_warn("replication: the lease bucket does not answer; still following");
        return 0;
    }
    return held;
}

/* The journal in CFG's data directory holds, as its last batch, one this broker committed and
 * the stream never confirmed (it was cut off, fenced or killed between its commit and the
 * stream's answer). Nothing in that batch was acknowledged, delivered or fired, and everything
 * before it is in the stream: remove the journal and follow the stream from its start. */
static int s_rebuild(s_standby_t *s, char *why, size_t whylen)
{
    char path[4200];
    int err = 0;
    log_warn("replication: %s: the journal's last batch (stream seq %llu) was never confirmed "
             "by stream %s; nothing in it was acknowledged. Rebuilding the journal from the "
             "stream",
             s->cfg->data_dir, (unsigned long long)replicate_seq(s->repl), s->cfg->repl_stream);
    journal_destroy(&s->journal);
    const char *files[] = { "data.mdb", "lock.mdb" };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", s->cfg->data_dir, files[i]);
        if (unlink(path) != 0 && errno != ENOENT) {
            snprintf(why, whylen, "cannot remove %s: %s", path, strerror(errno));
            return TACNET_EIO;
        }
    }
    s->journal = journal_open(s->cfg->data_dir, s->cfg->map_size, &err);
    if (!s->journal) {
        store_open_why(s->cfg->data_dir, "journal", err, why, whylen);
        return err;
    }
    return 0;
}

int standby_run(const broker_config_t *cfg, replicate_t *repl, char *why, size_t whylen)
{
    int err = 0, rc, unconfirmed = 0;
    s_standby_t s = { .cfg = cfg, .repl = repl };
    s.journal = journal_open(cfg->data_dir, cfg->map_size, &err);
    if (!s.journal) {
        store_open_why(cfg->data_dir, "journal", err, why, whylen);
        return err;
    }
    if ((rc = s_admin_bind(&s, why, whylen)) != 0 ||
        (rc = s_start(&s, &unconfirmed, why, whylen)) != 0)
        goto done;
    if (unconfirmed && ((rc = s_rebuild(&s, why, whylen)) != 0 ||
                        (rc = s_start(&s, &unconfirmed, why, whylen)) != 0))
        goto done;
    while (!broker_stop_flag && (rc = s_turn(&s, why, whylen)) == 0)
        ;
    if (broker_stop_flag) {
        rc = TACNET_EINTR;
    } else if (rc == 1) {
        log_info("replication: lease taken by %s; catching up", replicate_node(repl));
        if ((rc = s_catch_up(&s)) != 0)
            snprintf(why, whylen, "catching up with stream %s: %s", cfg->repl_stream,
                     tacnet_errname(rc));
    }
done:
    replicate_follow_stop(repl);
    if (s.admin)
        zmq_close(s.admin);
    if (s.ctx)
        zmq_ctx_term(s.ctx);
    journal_destroy(&s.journal);
    return rc;
}
