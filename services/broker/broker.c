/* broker: the object's lifecycle, its sockets and the one poll loop.
 *
 * The loop reads the ZAP handler, the ROUTER and the admin socket, and ticks every tick_ms for
 * the work on the clock. Each ROUTER message is routed here to its command: PUBLISH to the
 * pipeline (publish.c), HELLO and ACK to the sessions (delivery.c), PING answered with PONG.
 * broker_internal.h lists which file holds what.
 */
#include "broker_internal.h"
#include "replicate.h"
#include "zap.h"

#include "err.h"
#include "log.h"
#include "names.h"
#include "store.h"

#include <errno.h>
#include <lmdb.h>
#include <protobuf-c/protobuf-c.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93 /* handled by libzmq 4.3.4, hidden behind the draft API */
#endif

#define BROKER_CURSOR_FLUSH 1000 /* ms between persisting delivery cursors */

volatile sig_atomic_t broker_stop_flag = 0;
volatile sig_atomic_t broker_reload_flag = 0;

/* ---------------------------------------------------------------- refusals */

void broker_reject_count(broker_t *self, int code)
{
    for (int i = 0; i < BROKER_MAX_REJECTS; i++) {
        if (self->rejects[i].code == code || self->rejects[i].code == 0) {
            self->rejects[i].code = code;
            self->rejects[i].n++;
            return;
        }
    }
}

void broker_nack(broker_t *self, const wire_msg_t *m, const uint8_t *msg_id, int code,
                 const char *detail)
{
    char hex[33] = "-";
    if (msg_id)
        wire_msgid_hex(msg_id, 16, hex);
    log_info("reject %s from %s: %s", hex, m->user_id[0] ? m->user_id : "?", tacnet_errname(code));
    broker_reject_count(self, code);
    uint32_t agency, key_id;
    if ((code == TACNET_EREPLAY || code == TACNET_ECLOCK) &&
        zap_user_parse(m->user_id, &agency, &key_id) == 0 && agency < BROKER_MAX_AGENCY) {
        self->sequence_alerts[agency].n++;
        snprintf(self->sequence_alerts[agency].latest, sizeof(self->sequence_alerts[agency].latest),
                 "%s: %s", tacnet_errname(code), detail ? detail : tacnet_strerror(code));
    }
    if (detail)
        log_info("reject %s: %s", hex, detail);
    wire_send_nack(self->router, m->rid, m->rid_len, WIRE_NACK, msg_id, msg_id ? 16 : 0, code,
                   detail);
}

/* ---------------------------------------------------------------- ROUTER messages */

/* Whether M came over session S's connection. */
static int s_from_session(const broker_session_t *s, const wire_msg_t *m)
{
    return s->connected && s->rid_len == m->rid_len && memcmp(s->rid, m->rid, m->rid_len) == 0;
}

/* ACK and PING belong to a session: from any other connection they get E_UNKNOWNPEER. */
static void s_on_session_cmd(broker_t *self, wire_msg_t *m, uint32_t agency)
{
    if (!s_from_session(&self->sessions[agency], m)) {
        wire_send_nack(self->router, m->rid, m->rid_len, WIRE_ERROR, NULL, 0, TACNET_EUNKNOWNPEER,
                       NULL);
        return;
    }
    if (m->cmd == WIRE_ACK) {
        broker_on_ack(self, m, agency);
        return;
    }
    Tacnet__Pong pong = TACNET__PONG__INIT;
    pong.epoch = journal_epoch(self->journal);
    wire_send(self->router, m->rid, m->rid_len, WIRE_PONG, &pong.base, NULL, 0, NULL, 0, NULL);
}

/* One whole, well-framed message M: identity, revocation, then its command. */
static void s_on_message(broker_t *self, wire_msg_t *m)
{
    uint32_t agency, key_id;
    if (zap_user_parse(m->user_id, &agency, &key_id) != 0) {
        /* Unreachable with ZAP enforced; refuse rather than trust a routing id. */
        broker_nack(self, m, NULL, TACNET_ESENDER, "connection has no roster identity");
        return;
    }
    broker_session_t *s = &self->sessions[agency];
    int own = s_from_session(s, m);
    if (own)
        s->last_seen_ms = clock_mono_ms();
    /* Revocation reaches live connections: a connection whose key is no longer valid gets a
     * refusal for whatever it sends (a PUBLISH names its msg_id) and is cut. */
    int err = 0;
    if (!roster_key_find(self->roster, agency, key_id, clock_now_ms(), &err)) {
        broker_cut_later(self, m); /* before broker_on_publish takes the message */
        if (m->cmd == WIRE_PUBLISH)
            broker_on_publish(self, m);
        else
            broker_nack(self, m, NULL, TACNET_EKEYID, "connection key revoked or expired");
        if (own)
            s->connected = 0;
        return;
    }
    switch (m->cmd) {
    case WIRE_PUBLISH:
        broker_on_publish(self, m);
        break;
    case WIRE_HELLO:
        broker_on_hello(self, m, agency, key_id);
        break;
    case WIRE_ACK:
    case WIRE_PING:
        s_on_session_cmd(self, m, agency);
        break;
    case WIRE_GRANT:
    case WIRE_REGRANT:
        broker_on_grant(self, m, agency);
        break;
    default:
        broker_nack(self, m, NULL, TACNET_EFRAMES, "command not accepted by the broker");
        break;
    }
}

/* Up to batch_max messages from the ROUTER, then the batch they filled is committed. */
static void s_on_router(broker_t *self)
{
    for (unsigned n = 0; n < self->cfg.batch_max; n++) {
        wire_msg_t m;
        memset(&m, 0, sizeof(m));
        int rc = wire_recv(self->router, 1, ZMQ_DONTWAIT, &m);
        if (rc == TACNET_EAGAIN || rc == TACNET_EINTR || rc == TACNET_EIO) {
            wire_msg_clear(&m); /* nothing was taken from the socket */
            break;
        }
        if (rc != 0) {
            if (m.rid_len)
                broker_nack(self, &m, NULL, rc, NULL);
        } else {
            s_on_message(self, &m);
        }
        wire_msg_clear(&m);
    }
    broker_publish_flush(self);
}

/* ---------------------------------------------------------------- lifecycle */

int broker_check_libraries(char *why, size_t whylen)
{
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    if (major * 10000 + minor * 100 + patch < 40304) {
        snprintf(why, whylen, "libzmq %d.%d.%d is older than 4.3.4", major, minor, patch);
        return TACNET_ECONFIG;
    }
    if (sodium_library_version_major() < 10 ||
        (sodium_library_version_major() == 10 && sodium_library_version_minor() < 3)) {
        snprintf(why, whylen, "libsodium %s is older than 1.0.18", sodium_version_string());
        return TACNET_ECONFIG;
    }
    if (protobuf_c_version_number() < 1004001) {
        snprintf(why, whylen, "protobuf-c %s is older than 1.4.1", protobuf_c_version());
        return TACNET_ECONFIG;
    }
    mdb_version(&major, &minor, &patch);
    if (major * 10000 + minor * 100 + patch < 924) {
        snprintf(why, whylen, "LMDB %d.%d.%d is older than 0.9.24", major, minor, patch);
        return TACNET_ECONFIG;
    }
    return 0;
}

/* The ZAP handler, then the ROUTER: a CURVE server whose every connection must pass ZAP. */
static int s_bind_router(broker_t *self, char *why, size_t whylen)
{
    int one = 1, hb = (int)self->cfg.heartbeat_ms, hbt = (int)self->cfg.heartbeat_ms * 3;
    int64_t maxmsg = WIRE_MAX_MSG;
    int linger = 1000, hwm = 100000;
    int err = 0;
    if (!(self->zap = zap_new(self->ctx, &err))) {
        snprintf(why, whylen, "cannot bind the ZAP handler: %s", zmq_strerror(zmq_errno()));
        return TACNET_EIO;
    }
    self->router = zmq_socket(self->ctx, ZMQ_ROUTER);
    char z85[SEAL_Z85_BYTES];
    if (seal_keys_curve_z85(self->keys, z85) != 0) {
        snprintf(why, whylen, "cannot read the broker's CURVE secret key");
        return TACNET_ECONFIG;
    }
    int enforce = 1, readback = 0;
    size_t rl = sizeof(readback);
    int rc = zmq_setsockopt(self->router, ZMQ_CURVE_SERVER, &one, sizeof(one));
    rc |= zmq_setsockopt(self->router, ZMQ_CURVE_SECRETKEY, z85, 40);
    rc |= zmq_setsockopt(self->router, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN));
    rc |= zmq_setsockopt(self->router, ZMQ_ZAP_ENFORCE_DOMAIN, &enforce, sizeof(enforce));
    rc |= zmq_getsockopt(self->router, ZMQ_ZAP_ENFORCE_DOMAIN, &readback, &rl);
    sodium_memzero(z85, sizeof(z85));
    rc |= zmq_setsockopt(self->router, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
    rc |= zmq_setsockopt(self->router, ZMQ_ROUTER_HANDOVER, &one, sizeof(one));
    rc |= zmq_setsockopt(self->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
    rc |= zmq_setsockopt(self->router, ZMQ_HEARTBEAT_IVL, &hb, sizeof(hb));
    rc |= zmq_setsockopt(self->router, ZMQ_HEARTBEAT_TIMEOUT, &hbt, sizeof(hbt));
    rc |= zmq_setsockopt(self->router, ZMQ_HEARTBEAT_TTL, &hbt, sizeof(hbt));
    rc |= zmq_setsockopt(self->router, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    rc |= zmq_setsockopt(self->router, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    rc |= zmq_setsockopt(self->router, ZMQ_LINGER, &linger, sizeof(linger));
    if (rc != 0 || readback != 1) {
        snprintf(why, whylen, "cannot enforce CURVE authentication (ZAP_ENFORCE_DOMAIN): %s",
                 zmq_strerror(zmq_errno()));
        return TACNET_ECONFIG;
    }
    if (zmq_bind(self->router, self->cfg.bind) != 0) {
        snprintf(why, whylen, "cannot bind %s: %s", self->cfg.bind, zmq_strerror(zmq_errno()));
        return TACNET_EIO;
    }
    size_t el = sizeof(self->endpoint);
    zmq_getsockopt(self->router, ZMQ_LAST_ENDPOINT, self->endpoint, &el);
    return 0;
}

static int s_bind(broker_t *self, char *why, size_t whylen)
{
    int rc = s_bind_router(self, why, whylen);
    if (rc == 0)
        rc = broker_admin_bind(self, why, whylen);
    if (rc != 0)
        return rc;
    /* Tests and `make run` read the resolved endpoint (port * picks a free one). */
    char path[4200];
    snprintf(path, sizeof(path), "%s/endpoint", self->data_dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%s\n", self->endpoint);
        fclose(f);
    }
    return 0;
}

static void s_flush(broker_t *self, uint64_t now);

broker_t *broker_new(const broker_config_t *cfg, int *err, char *why, size_t whylen)
{
    /* Every value comes from the config table (broker_config_load, or broker_config_defaults
     * for a config built in code): defaults live there, not here. A zero is a caller that
     * skipped the table; the credit cap also sizes the in-flight ring. */
    if (!cfg->batch_max || !cfg->credit_max || cfg->credit_max > BROKER_MAX_CREDIT ||
        !cfg->heartbeat_ms || !cfg->tick_ms || !cfg->max_clock_skew_s || !cfg->max_event_age_days ||
        !cfg->history_window_s) {
        snprintf(why, whylen, "broker config incomplete: start from broker_config_defaults");
        *err = TACNET_ECONFIG;
        return NULL;
    }
    broker_t *self = xcalloc(1, sizeof(*self));
    self->cfg = *cfg;
    self->quota = quota_new(self->cfg.quota_per_s, self->cfg.quota_burst);
    snprintf(self->data_dir, sizeof(self->data_dir), "%s", cfg->data_dir);
    self->batch = xcalloc(self->cfg.batch_max, sizeof(broker_pending_t));
    /* Not calloc: its zero pages would become resident one by one as slots are noted. */
    self->recent = xmalloc(BROKER_RECENT * sizeof(broker_recent_t));
    memset(self->recent, 0, BROKER_RECENT * sizeof(broker_recent_t));
    for (int a = 0; a < BROKER_MAX_AGENCY; a++)
        self->sessions[a].inflight = xcalloc(BROKER_MAX_CREDIT, sizeof(uint64_t));

    if ((*err = broker_check_libraries(why, whylen)) != 0)
        goto fail;
    if ((*err = seal_init()) != 0) {
        snprintf(why, whylen, "libsodium failed to initialise");
        goto fail;
    }
    if ((*err = roster_root_load(cfg->root_pub_path, self->root_pk)) != 0) {
        snprintf(why, whylen, "%s: cannot read the pinned root key: %s", cfg->root_pub_path,
                 tacnet_strerror(*err));
        goto fail;
    }
    if ((*err = broker_roster_load(self, why, whylen)) != 0)
        goto fail;
    if ((*err = seal_keys_load(cfg->key_path, &self->keys, why, whylen)) != 0)
        goto fail;
    if (self->keys->agency != TACNET__AGENCY__BROKER) {
        snprintf(why, whylen, "%s: not a broker key set", cfg->key_path);
        *err = TACNET_ECONFIG;
        goto fail;
    }
    if ((*err = seal_keys_protect(self->keys)) != 0) {
        snprintf(why, whylen, "%s: cannot lock the secret keys in memory (mprotect)",
                 cfg->key_path);
        goto fail;
    }
    if (!(self->seal = seal_ctx_new(self->keys))) {
        snprintf(why, whylen, "%s: cannot set up sealing with this key set", cfg->key_path);
        *err = TACNET_ENOMEM;
        goto fail;
    }
    if (!(self->verifier = verifier_new(0))) {
        snprintf(why, whylen, "cannot start the signature-check threads");
        *err = TACNET_ENOMEM;
        goto fail;
    }
    if (cfg->holidays_path && *cfg->holidays_path) {
        int line = 0;
        self->holidays = holidays_load(cfg->holidays_path, err, &line);
        if (!self->holidays) {
            snprintf(why, whylen, "%s:%d: %s", cfg->holidays_path, line, tacnet_strerror(*err));
            goto fail;
        }
    } else {
        self->holidays = holidays_new();
    }
    self->journal = journal_open(cfg->data_dir, cfg->map_size, err);
    if (!self->journal) {
        store_open_why(cfg->data_dir, "journal", *err, why, whylen);
        goto fail;
    }
    if ((*err = store_map_max_set(journal_store(self->journal), cfg->map_max)) != 0) {
        snprintf(why, whylen, "%s: map_max_mb: %s", cfg->data_dir, tacnet_strerror(*err));
        goto fail;
    }
    /* Fail closed on bit rot before serving or acknowledging anything (T06). */
    uint64_t walk_t0 = clock_mono_ms();
    size_t walked = 0;
    if ((*err = journal_verify(self->journal, self->roster, &walked, why, whylen)) != 0)
        goto fail;
    log_info("integrity walk: %zu records in %llu ms", walked,
             (unsigned long long)(clock_mono_ms() - walk_t0));
    /* After the walk: its checkpoint is this copy's own. From here every commit is appended
     * to the replicated journal first (replicate.h). */
    if (cfg->repl && (*err = replicate_attach(cfg->repl, journal_store(self->journal),
                                              journal_epoch(self->journal))) != 0) {
        snprintf(why, whylen, "stream %s: cannot append the takeover: %s", cfg->repl_stream,
                 tacnet_errname(*err));
        goto fail;
    }
    self->notice = notice_new(self->journal, self->roster, self->keys, self->seal, self->holidays);
    if (!self->notice) {
        *err = TACNET_ESTORE;
        snprintf(why, whylen, "cannot load escalation state");
        goto fail;
    }
    self->escalation = escalation_journal_new(self->journal, self->notice, self->roster,
                                              self->holidays, err, why, whylen);
    if (!self->escalation)
        goto fail;
    s_flush(self, clock_mono_ms());
    self->ctx = zmq_ctx_new();
    if ((*err = s_bind(self, why, whylen)) != 0)
        goto fail;
    log_info("listening on %s, journal head %llu, epoch %016llx, roster version %u", self->endpoint,
             (unsigned long long)journal_head(self->journal),
             (unsigned long long)journal_epoch(self->journal), roster_version(self->roster));
    if (cfg->repl)
        log_warn("role: active (node %s, stream seq %llu)", replicate_node(cfg->repl),
                 (unsigned long long)replicate_seq(cfg->repl));
    return self;
fail:
    broker_destroy(&self);
    return NULL;
}

const char *broker_endpoint(const broker_t *self)
{
    return self->endpoint;
}

/* Cursors, non-delivery, delivery reports and old bodies: once a second, and once before the
 * endpoint file says the broker is ready (a fresh journal's first report scan writes its
 * baseline, and nothing should change the store unasked after "ready"). */
static void s_flush(broker_t *self, uint64_t now)
{
    broker_cursors_flush(self);
    broker_expiry_check(self);
    broker_delivery_reports(self);
    broker_bodies_prune(self);
    self->next_flush_ms = now + BROKER_CURSOR_FLUSH;
}

/* The work on the clock, every tick_ms. */
static void s_tick(broker_t *self, uint64_t now)
{
    if (self->cfg.repl && replicate_lease_keep(self->cfg.repl) != 0)
        return; /* fenced: the loop stops before anything else is acknowledged */
    broker_cuts_run(self);
    broker_roster_reload_check(self);
    broker_sessions_check(self);
    broker_escalations_check(self);
    if (now >= self->next_flush_ms)
        s_flush(self, now);
}

int broker_run(broker_t *self)
{
    uint64_t next_tick = clock_mono_ms();
    while (!broker_stop_flag) {
        if (self->cfg.repl && replicate_fenced(self->cfg.repl)) {
            log_error("role: fenced (the journal's lease or stream moved on): stopping");
            return TACNET_EFENCED;
        }
        zmq_pollitem_t items[] = {
            { zap_socket(self->zap), 0, ZMQ_POLLIN, 0 },
            { self->router, 0, ZMQ_POLLIN, 0 },
            { self->admin, 0, ZMQ_POLLIN, 0 },
        };
        uint64_t now = clock_mono_ms();
        long timeout = next_tick > now ? (long)(next_tick - now) : 0;
        int rc = zmq_poll(items, 3, timeout);
        if (rc < 0) {
            if (zmq_errno() == EINTR)
                continue;
            log_error("poll failed: %s", zmq_strerror(zmq_errno()));
            return TACNET_EIO;
        }
        if (items[0].revents & ZMQ_POLLIN)
            zap_handle(self->zap, self->roster, clock_now_ms());
        if (items[1].revents & ZMQ_POLLIN)
            s_on_router(self);

        if (items[2].revents & ZMQ_POLLIN)
            broker_on_admin(self);
        now = clock_mono_ms();
        if (now >= next_tick) {
            next_tick = now + self->cfg.tick_ms;
            s_tick(self, now);
        }
    }
    broker_publish_flush(self);
    broker_cursors_flush(self);
    if (self->cfg.repl)
        replicate_lease_release(self->cfg.repl); /* a standby need not wait for the TTL */
    store_commit_stats_t cs;
    store_commit_stats(journal_store(self->journal), &cs);
    log_info("stopped cleanly at journal head %llu; %llu commits, p50 %.2f ms, p99 %.2f ms",
             (unsigned long long)journal_head(self->journal), (unsigned long long)cs.commits,
             cs.p50_us / 1000.0, cs.p99_us / 1000.0);
    uint64_t roots = 0, hits = 0;
    merkle_cache_stats(verifier_cache(self->verifier), &roots, &hits);
    log_info("batched signatures: %llu roots verified, %llu events found their root verified",
             (unsigned long long)roots, (unsigned long long)hits);
    return 0;
}

void broker_destroy(broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_t *self = *self_p;
    if (self->router)
        zmq_close(self->router);
    zap_destroy(&self->zap);
    if (self->admin)
        zmq_close(self->admin);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    quota_destroy(&self->quota);
    escalation_journal_destroy(&self->escalation);
    notice_destroy(&self->notice);
    replicate_detach(self->cfg.repl);
    journal_destroy(&self->journal);
    holidays_destroy(&self->holidays);
    verifier_destroy(&self->verifier);
    wire_batch_free(&self->deliver_batch);
    wire_batch_free(&self->ack_batch);
    seal_ctx_destroy(&self->seal);
    seal_keys_destroy(&self->keys);
    roster_destroy(&self->roster);
    for (int a = 0; a < BROKER_MAX_AGENCY; a++)
        free(self->sessions[a].inflight);
    free(self->batch);
    free(self->recent);
    free(self);
    *self_p = NULL;
}
