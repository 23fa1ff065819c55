/* replicate: the stream, the lease and the capture of each transaction (see replicate.h). */
#include "replicate.h"

#include "bytes.h"
#include "clock.h"
#include "err.h"
#include "log.h"

#include <jansson.h>
#include <nats/nats.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_MAGIC         "TJB1"
#define S_LEASE_KEY     "active"
#define S_SEQ_KEY       "repl_seq"
#define S_START_WAIT_MS 20000
#define S_HASH          32 /* BLAKE2b-256 of a batch, as recorded beside its seq */
#define S_SEQ_LEN       (8 + 2 * S_HASH)
#define S_RETRY_MS      50 /* between appends of an unconfirmed batch while NATS is away */

/* The appender thread's state: a batch is handed over before the LMDB commit and its answer
 * taken after it, so the two waits overlap. */
enum { S_IDLE, S_SENDING, S_ANSWERED };

struct replicate {
    natsConnection *nc;
    jsCtx *js;
    kvStore *kv;
    natsSubscription *sub;
    char stream[64], subject[80], node[128], holder[128];
    unsigned ttl_ms, ack_timeout_ms, replicas;
    uint64_t lease_rev;     /* revision of our lease entry, 0: not ours */
    uint64_t lease_sent_ms; /* monotonic time the last successful renewal was sent */
    uint64_t seq;           /* last stream seq written or applied */
    store_t *store;         /* the captured store (active broker) */
    int capturing, fenced;
    uint8_t *buf; /* the transaction being captured */
    size_t len, cap;
    uint8_t *sent;     /* the last batch handed to the appender, and the seq the stream */
    size_t sent_len;   /* confirmed for it (0 until it did): a commit that failed after */
    uint64_t sent_seq; /* the append runs FN again, and the same batch is not appended twice */
    uint8_t sent_hash[S_HASH];          /* of the batch in sent */
    uint8_t hash[S_HASH], prev[S_HASH]; /* of the batch at self->seq and of the one before */
    /* The appender: one thread, one batch at a time, appended with ExpectLastSeq = expect. */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int thread_on, stop, state, answer_rc;
    uint64_t expect, answer_seq;
};

static void s_appender_stop(replicate_t *self);

static void s_grow(replicate_t *self, size_t more)
{
    if (self->len + more <= self->cap)
        return;
    size_t cap = self->cap ? self->cap : 4096;
    while (cap < self->len + more)
        cap *= 2;
    self->buf = xrealloc(self->buf, cap);
    self->cap = cap;
}

static void s_put32(replicate_t *self, uint32_t v)
{
    s_grow(self, 4);
    bytes_be32_put(self->buf + self->len, v);
    self->len += 4;
}

static void s_put(replicate_t *self, const void *p, size_t n)
{
    s_grow(self, n);
    if (n)
        memcpy(self->buf + self->len, p, n);
    self->len += n;
}

/* ---------------------------------------------------------------- connection */

#define S_MAX_SERVERS 16

static int s_connect(replicate_t *self, const broker_config_t *cfg, char *why, size_t whylen)
{
    /* natsOptions_SetURL takes one URL: the comma-separated list goes in as a server list. */
    char list[1024], *save = NULL;
    const char *urls[S_MAX_SERVERS];
    int n = 0;
    snprintf(list, sizeof(list), "%s", cfg->repl_nats);
    for (char *t = strtok_r(list, ", ", &save); t && n < S_MAX_SERVERS;
         t = strtok_r(NULL, ", ", &save))
        urls[n++] = t;
    if (n == 0) {
        snprintf(why, whylen, "[replication] nats names no server");
        return TACNET_ECONFIG;
    }
    natsOptions *o = NULL;
    natsStatus s = natsOptions_Create(&o);
    if (s == NATS_OK)
        s = natsOptions_SetServers(o, urls, n);
    if (s == NATS_OK)
        s = natsOptions_SetName(o, self->node);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(o, 2000);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(o, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(o, 250);
    if (s == NATS_OK)
        s = natsConnection_Connect(&self->nc, o);
    natsOptions_Destroy(o);
    if (s != NATS_OK) {
        natsConnection_Destroy(self->nc);
        self->nc = NULL;
        snprintf(why, whylen, "[replication] nats %s: cannot connect: %s", cfg->repl_nats,
                 natsStatus_GetText(s));
        return s == NATS_INVALID_ARG ? TACNET_ECONFIG : TACNET_EUNAVAILABLE;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = self->ack_timeout_ms;
    if (natsConnection_JetStream(&self->js, self->nc, &jo) != NATS_OK) {
        snprintf(why, whylen, "[replication] cannot open a JetStream context");
        return TACNET_EUNAVAILABLE;
    }
    return 0;
}

/* The stream: file storage, REPLICAS copies, nothing ever discarded by age or size (the
 * journal's own retention removes bodies; the stream keeps every batch). */
static int s_stream_ensure(replicate_t *self, char *why, size_t whylen)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, self->js, self->stream, NULL, &jerr);
    if (s == NATS_OK) {
        jsStreamInfo_Destroy(si);
        return 0;
    }
    const char *subjects[] = { self->subject };
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = self->stream;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.Replicas = self->replicas;
    sc.Discard = js_DiscardNew;
    sc.DenyDelete = true;
    sc.DenyPurge = true;
    s = js_AddStream(&si, self->js, &sc, NULL, &jerr);
    if (s == NATS_OK || jerr == JSStreamNameExistErr) {
        jsStreamInfo_Destroy(si);
        return 0;
    }
    snprintf(why, whylen, "[replication] cannot create stream %s (replicas %u): %s (%d)",
             self->stream, self->replicas, natsStatus_GetText(s), (int)jerr);
    return TACNET_EUNAVAILABLE;
}

static int s_bucket_ensure(replicate_t *self, const char *bucket, char *why, size_t whylen)
{
    if (js_KeyValue(&self->kv, self->js, bucket) == NATS_OK)
        return 0;
    kvConfig kc;
    kvConfig_Init(&kc);
    kc.Bucket = bucket;
    kc.History = 1;
    kc.TTL = (int64_t)self->ttl_ms * 1000000; /* nanoseconds */
    kc.StorageType = js_FileStorage;
    kc.Replicas = (int)self->replicas;
    natsStatus s = js_CreateKeyValue(&self->kv, self->js, &kc);
    if (s != NATS_OK && js_KeyValue(&self->kv, self->js, bucket) != NATS_OK) {
        snprintf(why, whylen, "[replication] cannot create lease bucket %s: %s", bucket,
                 natsStatus_GetText(s));
        return TACNET_EUNAVAILABLE;
    }
    return 0;
}

replicate_t *replicate_new(const broker_config_t *cfg, int *err, char *why, size_t whylen)
{
    replicate_t *self = xcalloc(1, sizeof(*self));
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->cv, NULL);
    snprintf(self->stream, sizeof(self->stream), "%s", cfg->repl_stream);
    snprintf(self->subject, sizeof(self->subject), "%s.batch", cfg->repl_stream);
    if (cfg->repl_node && *cfg->repl_node) {
        snprintf(self->node, sizeof(self->node), "%s", cfg->repl_node);
    } else {
        char host[64] = "broker";
        gethostname(host, sizeof(host) - 1);
        snprintf(self->node, sizeof(self->node), "%s-%ld", host, (long)getpid());
    }
    self->ttl_ms = cfg->repl_lease_ttl_ms;
    self->ack_timeout_ms = cfg->repl_ack_timeout_ms;
    self->replicas = cfg->repl_replicas;
    /* Servers still starting, or a cluster still electing its JetStream leader: wait a while
     * (a broker started beside its NATS servers need not be started again). */
    uint64_t until = clock_mono_ms() + S_START_WAIT_MS;
    while ((!self->nc && (*err = s_connect(self, cfg, why, whylen)) != 0) ||
           (*err = s_stream_ensure(self, why, whylen)) != 0 ||
           (*err = s_bucket_ensure(self, cfg->repl_lease_bucket, why, whylen)) != 0) {
        if (*err == TACNET_ECONFIG || clock_mono_ms() >= until || broker_stop_flag)
            goto fail;
        usleep(250 * 1000);
    }
    return self;
fail:
    replicate_destroy(&self);
    return NULL;
}

void replicate_destroy(replicate_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    replicate_t *self = *self_p;
    s_appender_stop(self);
    pthread_mutex_destroy(&self->mu);
    pthread_cond_destroy(&self->cv);
    replicate_follow_stop(self);
    kvStore_Destroy(self->kv);
    jsCtx_Destroy(self->js);
    natsConnection_Destroy(self->nc);
    free(self->buf);
    free(self->sent);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- the lease */

int replicate_lease_try(replicate_t *self, int *held, char *holder, size_t holderlen)
{
    *held = 0;
    uint64_t t0 = clock_mono_ms(), rev = 0;
    natsStatus s = kvStore_Create(&rev, self->kv, S_LEASE_KEY, self->node, (int)strlen(self->node));
    if (s == NATS_OK) {
        self->lease_rev = rev;
        self->lease_sent_ms = t0;
        snprintf(self->holder, sizeof(self->holder), "%s", self->node);
        *held = 1;
        return 0;
    }
    kvEntry *e = NULL;
    s = kvStore_Get(&e, self->kv, S_LEASE_KEY);
    if (s == NATS_OK) {
        int n = kvEntry_ValueLen(e);
        snprintf(self->holder, sizeof(self->holder), "%.*s", n < 127 ? n : 127,
                 (const char *)kvEntry_Value(e));
        kvEntry_Destroy(e);
    } else if (s == NATS_NOT_FOUND) {
        self->holder[0] = '\0'; /* expired between the two calls: the next try takes it */
    } else {
        return TACNET_EUNAVAILABLE;
    }
    if (holder)
        snprintf(holder, holderlen, "%s", self->holder);
    return 0;
}

int replicate_lease_valid(const replicate_t *self)
{
    return self->lease_rev && !self->fenced &&
           clock_mono_ms() < self->lease_sent_ms + (uint64_t)self->ttl_ms * 5 / 6;
}

/* Renew now: 0, or TACNET_EFENCED once the lease is lost (and the broker with it). */
static int s_renew(replicate_t *self, uint64_t now)
{
    uint64_t rev = 0;
    natsStatus s = kvStore_Update(&rev, self->kv, S_LEASE_KEY, self->node, (int)strlen(self->node),
                                  self->lease_rev);
    if (s == NATS_OK) {
        self->lease_rev = rev;
        self->lease_sent_ms = now;
        return 0;
    }
    /* A revision mismatch is another broker's lease (or ours expired on the server); a
     * timeout may still be renewed before the lease lapses. */
    if ((s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || s == NATS_CONNECTION_DISCONNECTED) &&
        replicate_lease_valid(self)) {
        log_warn("replication: lease renewal failed: %s; retrying", natsStatus_GetText(s));
        return 0;
    }
    log_error("replication: lease of %s lost (%s): not serving", self->node, natsStatus_GetText(s));
    self->fenced = 1;
    return TACNET_EFENCED;
}

int replicate_lease_keep(replicate_t *self)
{
    if (self->fenced || !self->lease_rev)
        return TACNET_EFENCED;
    uint64_t now = clock_mono_ms();
    if (now < self->lease_sent_ms + self->ttl_ms / 3)
        return 0;
    return s_renew(self, now);
}

void replicate_lease_release(replicate_t *self)
{
    if (!self || !self->lease_rev || self->fenced)
        return;
    /* Only while the lease is still ours by our clock: a lapsed one may be someone else's. */
    if (replicate_lease_valid(self))
        kvStore_Delete(self->kv, S_LEASE_KEY);
    self->lease_rev = 0;
}

/* ---------------------------------------------------------------- the stream */

int replicate_stream_last(replicate_t *self, uint64_t *last)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    if (js_GetStreamInfo(&si, self->js, self->stream, NULL, &jerr) != NATS_OK)
        return TACNET_EUNAVAILABLE;
    *last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    return 0;
}

uint64_t replicate_seq(const replicate_t *self)
{
    return self->seq;
}

/* STORE's "repl_seq": the seq, and (*HAVE 1) the hashes of the batch at it and of the one
 * before (a journal written before the hashes were recorded has 8 bytes: *HAVE 0). */
static int s_store_read(store_t *store, uint64_t *seq, uint8_t hash[S_HASH], uint8_t prev[S_HASH],
                        int *have)
{
    MDB_dbi meta;
    MDB_txn *txn;
    MDB_val v;
    *seq = 0;
    *have = 0;
    memset(hash, 0, S_HASH);
    memset(prev, 0, S_HASH);
    int rc = store_dbi(store, "meta", &meta);
    if (rc == 0 && (rc = store_read_begin(store, &txn)) == 0) {
        rc = store_get(txn, meta, S_SEQ_KEY, strlen(S_SEQ_KEY), &v);
        if (rc == 0 && (v.mv_size == 8 || v.mv_size == S_SEQ_LEN)) {
            *seq = store_u64_get(v.mv_data);
            if (v.mv_size == S_SEQ_LEN) {
                memcpy(hash, (const uint8_t *)v.mv_data + 8, S_HASH);
                memcpy(prev, (const uint8_t *)v.mv_data + 8 + S_HASH, S_HASH);
                *have = 1;
            }
        } else if (rc == 0) {
            rc = TACNET_ECORRUPT;
        }
        mdb_txn_abort(txn);
    }
    return rc == TACNET_ENOTFOUND ? 0 : rc;
}

int replicate_store_seq(store_t *store, uint64_t *seq)
{
    uint8_t hash[S_HASH], prev[S_HASH];
    int have;
    return s_store_read(store, seq, hash, prev, &have);
}

/* Record SEQ with the hashes of its batch and of the one before in TXN, without capturing the
 * write (it differs per broker only in when). */
static int s_seq_put(replicate_t *self, store_t *store, MDB_txn *txn, uint64_t seq,
                     const uint8_t hash[S_HASH], const uint8_t prev[S_HASH])
{
    MDB_dbi meta;
    uint8_t b[S_SEQ_LEN];
    int rc = store_dbi(store, "meta", &meta);
    if (rc != 0)
        return rc;
    store_u64_put(b, seq);
    memcpy(b + 8, hash, S_HASH);
    memcpy(b + 8 + S_HASH, prev, S_HASH);
    int was = self->capturing;
    self->capturing = 0;
    rc = store_put(txn, meta, S_SEQ_KEY, strlen(S_SEQ_KEY), b, sizeof b, 0);
    self->capturing = was;
    return rc;
}

/* Whether the stream's message at SEQ hashes to HASH: 1, 0 (it differs or is not there), or
 * TACNET_EUNAVAILABLE. */
static int s_stream_has(replicate_t *self, uint64_t seq, const uint8_t hash[S_HASH])
{
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetMsg(&m, self->js, self->stream, seq, NULL, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr)
        return 0;
    if (s != NATS_OK)
        return TACNET_EUNAVAILABLE;
    uint8_t h[S_HASH];
    crypto_generichash(h, S_HASH, (const uint8_t *)natsMsg_GetData(m),
                       (size_t)natsMsg_GetDataLength(m), NULL, 0);
    natsMsg_Destroy(m);
    return sodium_memcmp(h, hash, S_HASH) == 0;
}

int replicate_journal_check(replicate_t *self, store_t *store, int *unconfirmed)
{
    uint64_t seq = 0;
    int have = 0;
    *unconfirmed = 0;
    int rc = s_store_read(store, &seq, self->hash, self->prev, &have);
    if (rc != 0)
        return rc;
    self->seq = seq;
    if (seq == 0 || !have)
        return 0; /* nothing recorded to compare (an empty or an older journal) */
    int cur = s_stream_has(self, seq, self->hash);
    if (cur != 0)
        return cur == 1 ? 0 : cur;
    /* Its last batch is not the stream's. If the one before is, the last is an append this
     * broker committed while the stream never confirmed it (cut off, fenced or killed in
     * between): nothing in it was acknowledged or delivered. Otherwise the histories differ. */
    int before = seq == 1                             ? 1
                 : sodium_is_zero(self->prev, S_HASH) ? 0
                                                      : s_stream_has(self, seq - 1, self->prev);
    if (before < 0)
        return before;
    if (before == 0)
        return TACNET_ECORRUPT;
    *unconfirmed = 1;
    return 0;
}

/* ---------------------------------------------------------------- the capture */

static void s_begin(void *arg)
{
    replicate_t *self = arg;
    self->len = 0;
    s_put(self, S_MAGIC, 4);
    self->capturing = 1;
}

static int s_record(void *arg, const char *db, int del, const MDB_val *k, const MDB_val *v,
                    unsigned flags)
{
    replicate_t *self = arg;
    if (!self->capturing)
        return 0;
    size_t dl = strlen(db);
    if (dl > 255)
        return TACNET_EINVAL;
    uint8_t op = del ? 'D' : 'P', d = (uint8_t)dl;
    s_put(self, &op, 1);
    s_put32(self, flags);
    s_put(self, &d, 1);
    s_put(self, db, dl);
    s_put32(self, (uint32_t)k->mv_size);
    s_put(self, k->mv_data, k->mv_size);
    if (!del) {
        s_put32(self, (uint32_t)v->mv_size);
        s_put(self, v->mv_data, v->mv_size);
    }
    return 0;
}

/* After a publish whose answer did not come: the batch is in the stream if the stream's last
 * message is it. Returns 0 with *SEQ (it is), TACNET_EUNAVAILABLE (it is not: send again
 * later) or TACNET_EFENCED (someone else's message is there). */
static int s_resolve(replicate_t *self, uint64_t expect, uint64_t *seq)
{
    uint64_t last = 0;
    if (replicate_stream_last(self, &last) != 0)
        return TACNET_EUNAVAILABLE;
    if (last == expect)
        return TACNET_EUNAVAILABLE;
    if (last != expect + 1)
        return TACNET_EFENCED;
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    if (js_GetMsg(&m, self->js, self->stream, last, NULL, &jerr) != NATS_OK)
        return TACNET_EUNAVAILABLE;
    int same = natsMsg_GetDataLength(m) == (int)self->sent_len &&
               memcmp(natsMsg_GetData(m), self->sent, self->sent_len) == 0;
    natsMsg_Destroy(m);
    if (!same)
        return TACNET_EFENCED;
    *seq = last;
    return 0;
}

/* Append the batch in self->sent after stream seq EXPECT (runs on the appender thread). */
static int s_publish(replicate_t *self, uint64_t expect, uint64_t *seq)
{
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = self->ack_timeout_ms;
    if (expect)
        po.ExpectLastSeq = expect;
    else
        po.ExpectNoMessage = true; /* the first batch of an empty stream */
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    natsStatus s =
        js_Publish(&pa, self->js, self->subject, self->sent, (int)self->sent_len, &po, &jerr);
    if (s == NATS_OK) {
        *seq = pa->Sequence;
        jsPubAck_Destroy(pa);
        return 0;
    }
    if (jerr == JSStreamWrongLastSequenceErr || jerr == JSStreamWrongLastMsgIDErr)
        return TACNET_EFENCED;
    log_warn("replication: append to %s not confirmed: %s (%d)", self->stream,
             natsStatus_GetText(s), (int)jerr);
    return s == NATS_TIMEOUT ? s_resolve(self, expect, seq) : TACNET_EUNAVAILABLE;
}

static void *s_appender(void *arg)
{
    replicate_t *self = arg;
    pthread_mutex_lock(&self->mu);
    for (;;) {
        while (!self->stop && self->state != S_SENDING)
            pthread_cond_wait(&self->cv, &self->mu);
        if (self->stop)
            break;
        uint64_t expect = self->expect, seq = 0;
        pthread_mutex_unlock(&self->mu);
        int rc = s_publish(self, expect, &seq);
        pthread_mutex_lock(&self->mu);
        self->answer_rc = rc;
        self->answer_seq = seq;
        self->state = S_ANSWERED;
        pthread_cond_broadcast(&self->cv);
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

/* Hand self->sent to the appender, to follow stream seq EXPECT. */
static void s_send(replicate_t *self, uint64_t expect)
{
    pthread_mutex_lock(&self->mu);
    self->expect = expect;
    self->state = S_SENDING;
    pthread_cond_broadcast(&self->cv);
    pthread_mutex_unlock(&self->mu);
}

/* Wait for the appender's answer to the batch handed over: 0 with *SEQ, TACNET_EUNAVAILABLE
 * (not in the stream), TACNET_EFENCED (another broker's batch follows EXPECT). */
static int s_answer(replicate_t *self, uint64_t *seq)
{
    pthread_mutex_lock(&self->mu);
    while (self->state == S_SENDING)
        pthread_cond_wait(&self->cv, &self->mu);
    int rc = self->state == S_ANSWERED ? self->answer_rc : TACNET_EINVAL;
    *seq = self->answer_seq;
    self->state = S_IDLE;
    pthread_mutex_unlock(&self->mu);
    if (rc == 0 && *seq != self->expect + 1)
        rc = TACNET_EFENCED; /* ExpectLastSeq makes any other seq impossible */
    return rc;
}

/* The batch hashing to HASH is in this broker's journal and the stream at SEQ. */
static void s_advance(replicate_t *self, uint64_t seq, const uint8_t hash[S_HASH])
{
    self->seq = seq;
    memcpy(self->prev, self->hash, S_HASH);
    memcpy(self->hash, hash, S_HASH);
}

/* The batch in self->sent is in the stream at SEQ: it is where this broker stands. */
static void s_confirmed(replicate_t *self, uint64_t seq)
{
    self->sent_seq = seq;
    s_advance(self, seq, self->sent_hash);
}

static int s_pending(replicate_t *self)
{
    pthread_mutex_lock(&self->mu);
    int pending = self->state != S_IDLE;
    pthread_mutex_unlock(&self->mu);
    return pending;
}

static int s_fence(replicate_t *self, const char *what)
{
    log_error("replication: %s after stream seq %llu: fenced", what, (unsigned long long)self->seq);
    self->fenced = 1;
    return TACNET_EFENCED;
}

/* Before LMDB commits: hand the captured batch to the appender (or find it appended by an
 * earlier run of the same transaction) and record in the transaction the seq the stream will
 * give it, with its hash. The append and the LMDB commit then proceed together;
 * s_postcommit waits for the stream's answer before anything the transaction wrote is acted
 * on. */
static int s_precommit(void *arg, MDB_txn *txn)
{
    replicate_t *self = arg;
    self->capturing = 0;
    if (self->fenced)
        return TACNET_EFENCED;
    if (self->len == 4)
        return 0; /* a transaction that wrote nothing (a timer with nothing due) */
    /* A batch handed over for a transaction whose commit then failed: its answer first. */
    if (s_pending(self)) {
        uint64_t seq = 0;
        int rc = s_answer(self, &seq);
        if (rc == TACNET_EFENCED)
            return s_fence(self, "another broker appended");
        if (rc == 0)
            s_confirmed(self, seq);
    }
    /* A lease that lapsed by our clock (a long pause) is renewed first, with its revision
     * checked: it succeeds only if nobody took the lease meanwhile. */
    if (!replicate_lease_valid(self) && s_renew(self, clock_mono_ms()) != 0)
        return TACNET_EFENCED;
    if (!replicate_lease_valid(self)) {
        self->fenced = 1;
        return TACNET_EFENCED;
    }
    uint64_t stored = 0;
    MDB_dbi meta;
    MDB_val v;
    int rc = store_dbi(self->store, "meta", &meta);
    if (rc == 0 && (rc = store_get(txn, meta, S_SEQ_KEY, strlen(S_SEQ_KEY), &v)) == 0)
        stored = v.mv_size >= 8 ? store_u64_get(v.mv_data) : 0;
    if (rc != 0 && rc != TACNET_ENOTFOUND)
        return rc;
    if (self->sent_seq && stored + 1 == self->sent_seq && self->sent_len == self->len &&
        memcmp(self->sent, self->buf, self->len) == 0)
        return s_seq_put(self, self->store, txn, self->sent_seq, self->hash,
                         self->prev); /* appended before */
    if (stored != self->seq) {
        /* The stream holds a batch this journal lost (its commit failed after the append):
         * the journal is no longer the stream's prefix. Stop; a restart follows the stream. */
        log_error("replication: journal at stream seq %llu, stream at %llu: stopping",
                  (unsigned long long)stored, (unsigned long long)self->seq);
        self->fenced = 1;
        return TACNET_EFENCED;
    }
    self->sent = xrealloc(self->sent, self->len);
    memcpy(self->sent, self->buf, self->len);
    self->sent_len = self->len;
    self->sent_seq = 0;
    crypto_generichash(self->sent_hash, S_HASH, self->sent, self->sent_len, NULL, 0);
    s_send(self, self->seq);
    return s_seq_put(self, self->store, txn, self->seq + 1, self->sent_hash, self->hash);
}

/* After LMDB committed: the stream's answer. A batch the stream did not confirm is appended
 * again (a late first copy is recognised by reading the stream's last message back) for as
 * long as the lease is ours; after that, or when another broker appended, this broker is
 * fenced and its journal holds a batch the stream does not: nothing in it was acknowledged or
 * delivered, and a restart rebuilds the journal from the stream (replicate_journal_check). */
static int s_postcommit(void *arg)
{
    replicate_t *self = arg;
    if (!s_pending(self))
        return 0; /* nothing handed over: appended before, or nothing written */
    for (;;) {
        uint64_t seq = 0;
        int rc = s_answer(self, &seq);
        if (rc == 0) {
            s_confirmed(self, seq);
            return 0;
        }
        if (rc == TACNET_EFENCED)
            return s_fence(self, "another broker appended");
        if (!replicate_lease_valid(self) && s_renew(self, clock_mono_ms()) != 0)
            return TACNET_EFENCED;
        if (!replicate_lease_valid(self))
            return s_fence(self, "the lease lapsed with a batch unconfirmed");
        usleep(S_RETRY_MS * 1000);
        s_send(self, self->seq);
    }
}

static const store_hooks_t s_hooks = {
    .begin = s_begin,
    .record = s_record,
    .precommit = s_precommit,
    .postcommit = s_postcommit,
};

typedef struct {
    replicate_t *self;
    uint64_t epoch;
} s_takeover_t;

static int s_takeover_fn(MDB_txn *txn, void *arg)
{
    s_takeover_t *t = arg;
    MDB_dbi meta;
    uint8_t b[8];
    int rc = store_dbi(t->self->store, "meta", &meta);
    store_u64_put(b, t->epoch);
    if (rc == 0)
        rc = store_put(txn, meta, "epoch", 5, b, 8, 0);
    if (rc == 0)
        rc = store_put(txn, meta, "active", 6, t->self->node, strlen(t->self->node), 0);
    return rc;
}

int replicate_attach(replicate_t *self, store_t *store, uint64_t epoch)
{
    int have = 0;
    int rc = s_store_read(store, &self->seq, self->hash, self->prev, &have);
    if (rc != 0)
        return rc;
    if (!self->thread_on) {
        self->stop = 0;
        if (pthread_create(&self->thread, NULL, s_appender, self) != 0)
            return TACNET_ENOMEM;
        self->thread_on = 1;
    }
    self->store = store;
    store_hooks_set(store, &s_hooks, self);
    s_takeover_t t = { self, epoch };
    return store_write(store, s_takeover_fn, &t);
}

static void s_appender_stop(replicate_t *self)
{
    if (!self->thread_on)
        return;
    pthread_mutex_lock(&self->mu);
    self->stop = 1;
    pthread_cond_broadcast(&self->cv);
    pthread_mutex_unlock(&self->mu);
    pthread_join(self->thread, NULL);
    self->thread_on = 0;
    self->state = S_IDLE;
}

void replicate_detach(replicate_t *self)
{
    if (self)
        s_appender_stop(self);
    if (self && self->store) {
        store_hooks_set(self->store, NULL, NULL);
        self->store = NULL;
    }
}

int replicate_fenced(const replicate_t *self)
{
    return self->fenced;
}

/* ---------------------------------------------------------------- following */

int replicate_follow_start(replicate_t *self, uint64_t from)
{
    replicate_follow_stop(self);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = self->stream;
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = from;
    jsErrCode jerr = 0;
    natsStatus s = js_SubscribeSync(&self->sub, self->js, self->subject, NULL, &so, &jerr);
    if (s != NATS_OK) {
        log_warn("replication: cannot follow %s from %llu: %s (%d)", self->stream,
                 (unsigned long long)from, natsStatus_GetText(s), (int)jerr);
        return TACNET_EUNAVAILABLE;
    }
    self->seq = from - 1;
    return 0;
}

void replicate_follow_stop(replicate_t *self)
{
    if (self->sub) {
        natsSubscription_Unsubscribe(self->sub);
        natsSubscription_Destroy(self->sub);
        self->sub = NULL;
    }
}

typedef struct {
    replicate_t *self;
    const uint8_t *p;
    size_t n;
    uint64_t seq;
    uint8_t hash[S_HASH]; /* of the batch, recorded with its seq */
} s_apply_t;

static int s_take32(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
    if (end - *p < 4)
        return TACNET_ECORRUPT;
    *v = bytes_be32_get(*p);
    *p += 4;
    return 0;
}

/* One write of a batch at *P, applied in TXN. */
static int s_apply_one(store_t *store, MDB_txn *txn, const uint8_t **p, const uint8_t *end)
{
    uint32_t flags, kl, vl = 0;
    if (end - *p < 1)
        return TACNET_ECORRUPT;
    uint8_t op = *(*p)++;
    if ((op != 'P' && op != 'D') || s_take32(p, end, &flags) != 0 || end - *p < 1)
        return TACNET_ECORRUPT;
    size_t dl = *(*p)++;
    char db[256];
    if ((size_t)(end - *p) < dl)
        return TACNET_ECORRUPT;
    memcpy(db, *p, dl);
    db[dl] = '\0';
    *p += dl;
    if (s_take32(p, end, &kl) != 0 || (size_t)(end - *p) < kl)
        return TACNET_ECORRUPT;
    const uint8_t *key = *p;
    *p += kl;
    MDB_dbi dbi;
    if (store_dbi(store, db, &dbi) != 0)
        return TACNET_ECORRUPT;
    if (op == 'D') {
        /* Deleting what is absent leaves the same state (the walk's checkpoint is local). */
        int rc = store_del(txn, dbi, key, kl);
        return rc == TACNET_ENOTFOUND ? 0 : rc;
    }
    if (s_take32(p, end, &vl) != 0 || (size_t)(end - *p) < vl)
        return TACNET_ECORRUPT;
    const uint8_t *val = *p;
    *p += vl;
    return store_put(txn, dbi, key, kl, val, vl, flags);
}

static int s_apply_fn(MDB_txn *txn, void *arg)
{
    s_apply_t *a = arg;
    store_t *store = a->self->store;
    const uint8_t *p = a->p + 4, *end = a->p + a->n;
    while (p < end) {
        int rc = s_apply_one(store, txn, &p, end);
        if (rc == TACNET_EMAPFULL)
            return rc;
        if (rc != 0) {
            log_error("replication: stream seq %llu does not apply to this journal: %s",
                      (unsigned long long)a->seq, tacnet_errname(rc));
            return TACNET_ECORRUPT;
        }
    }
    return s_seq_put(a->self, store, txn, a->seq, a->hash, a->self->hash);
}

int replicate_follow_next(replicate_t *self, store_t *store, int timeout_ms)
{
    if (!self->sub)
        return TACNET_EINVAL;
    natsMsg *m = NULL;
    natsStatus s = natsSubscription_NextMsg(&m, self->sub, timeout_ms);
    if (s == NATS_TIMEOUT)
        return TACNET_ETIMEOUT;
    if (s != NATS_OK)
        return TACNET_EUNAVAILABLE;
    jsMsgMetaData *md = NULL;
    int rc = TACNET_ECORRUPT;
    if (natsMsg_GetMetaData(&md, m) == NATS_OK) {
        uint64_t seq = md->Sequence.Stream;
        jsMsgMetaData_Destroy(md);
        s_apply_t a = { .self = self,
                        .p = (const uint8_t *)natsMsg_GetData(m),
                        .n = (size_t)natsMsg_GetDataLength(m),
                        .seq = seq };
        if (seq <= self->seq) {
            rc = 0; /* already applied (a redelivery) */
        } else if (seq != self->seq + 1 || a.n < 4 || memcmp(a.p, S_MAGIC, 4) != 0) {
            log_error("replication: stream seq %llu after %llu is not the next batch",
                      (unsigned long long)seq, (unsigned long long)self->seq);
        } else {
            self->store = store;
            crypto_generichash(a.hash, S_HASH, a.p, a.n, NULL, 0);
            rc = store_write(store, s_apply_fn, &a);
            self->store = NULL;
            if (rc == 0)
                s_advance(self, seq, a.hash);
        }
    }
    natsMsg_Destroy(m);
    return rc;
}

const char *replicate_holder(const replicate_t *self)
{
    return self->holder;
}

const char *replicate_node(const replicate_t *self)
{
    return self->node;
}

json_t *replicate_status_json(replicate_t *self, const char *role)
{
    uint64_t last = 0;
    int have = replicate_stream_last(self, &last) == 0;
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:b}", "role", role, "node", self->node,
                     "lease_holder", self->holder, "stream_seq", (json_int_t)self->seq,
                     "stream_last", (json_int_t)(have ? last : 0), "lag",
                     (json_int_t)(have && last > self->seq ? last - self->seq : 0),
                     "stream_reachable", have);
}
