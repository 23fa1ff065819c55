/* replicate: the broker's journal replicated on a three-server NATS JetStream cluster.
 *
 * Three nats-server processes clustered on loopback, two brokers on one partnership: the first
 * takes the lease and serves, the second follows the stream as a standby. Publishes are
 * acknowledged, the standby's journal reaches the same head, and when the active broker is
 * stopped (SIGSTOP past its lease) the standby takes over with the same head and epoch and
 * serves; the old active, resumed, acknowledges nothing and exits as fenced. Skipped when
 * nats-server is not installed.
 */
#include "ha.h"
#include "harness.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "store.h"

#define CAMHS  TACNET__AGENCY__CAMHS
#define SCHOOL TACNET__AGENCY__SCHOOL

static h_env_t env;
static ha_nats_t s_nats;

/* A second broker of the same partnership: its own data directory, config and log. */
typedef struct {
    char data[480], conf[480], log[480];
    pid_t pid;
} s_broker_t;

static s_broker_t s_a, s_b;

static pid_t s_spawn(const char *log, const char *bin, const char *flag, const char *conf)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(fd, STDOUT_FILENO);
            close(fd);
        }
        unsetenv("TACNET_FAULT");
        execl(bin, bin, flag, conf, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Three servers, one JetStream cluster (ha.c starts them one by one and waits until each
 * sees a metadata leader); URLS gets their client URLs, comma-separated. */
static void s_nats_start(char *urls, size_t len)
{
    ha_nats_start(&s_nats, env.dir);
    ha_nats_urls(s_nats.port, HA_NATS, urls, len);
}

static void s_broker_conf(s_broker_t *b, const char *name, const char *urls)
{
    snprintf(b->data, sizeof(b->data), "%s/data-%s", env.dir, name);
    snprintf(b->conf, sizeof(b->conf), "%s/broker-%s.conf", env.dir, name);
    snprintf(b->log, sizeof(b->log), "%s/broker-%s.log", env.dir, name);
    cr_assert_eq(mkdir(b->data, 0700), 0);
    FILE *f = fopen(b->conf, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "[broker]\nbind = tcp://127.0.0.1:*\ndata_dir = %s\nroster = %s/roster.bin\n"
            "root_key = %s/root.pub\nkey = %s/keys/broker.key\ntick_ms = 50\n"
            "[replication]\nnats = %s\nnode = %s\nlease_ttl_ms = 1500\n",
            b->data, env.pdir, env.pdir, env.pdir, urls, name);
    fclose(f);
}

static void s_broker_start(s_broker_t *b)
{
    char bin[600];
    snprintf(bin, sizeof(bin), "%s/tacnet-broker",
             getenv("TACNET_BIN") ? getenv("TACNET_BIN") : "build/default/bin");
    b->pid = s_spawn(b->log, bin, "--config", b->conf);
}

/* Wait up to MS for B's log to hold NEEDLE. */
static int s_wait_log(const s_broker_t *b, const char *needle, int ms)
{
    for (int waited = 0; waited < ms; waited += 50) {
        if (h_file_contains(b->log, needle))
            return 1;
        h_sleep_ms(50);
    }
    return 0;
}

/* B's status JSON (through the admin socket of its data dir), or NULL. */
static json_t *s_status(const s_broker_t *b)
{
    h_env_t v = env;
    snprintf(v.data, sizeof(v.data), "%s", b->data);
    char *s = h_admin_status(&v);
    json_t *j = s ? json_loads(s, 0, NULL) : NULL;
    free(s);
    return j;
}

static long long s_repl_int(json_t *st, const char *key)
{
    return (long long)json_integer_value(json_object_get(json_object_get(st, "replication"), key));
}

/* Point the harness's clients at B's resolved endpoint. */
static void s_use(const s_broker_t *b)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/endpoint", b->data);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s has no endpoint file", b->data);
    cr_assert_not_null(fgets(env.endpoint, sizeof(env.endpoint), f));
    fclose(f);
    env.endpoint[strcspn(env.endpoint, "\n")] = '\0';
}

static void s_stop(pid_t *pid, int sig)
{
    if (*pid > 0) {
        kill(*pid, SIGCONT);
        kill(*pid, sig);
        waitpid(*pid, NULL, 0);
    }
    *pid = 0;
}

static void s_up(void)
{
    h_setup(&env, NULL);
}

static void s_down(void)
{
    s_stop(&s_a.pid, SIGKILL);
    s_stop(&s_b.pid, SIGKILL);
    ha_nats_stop(&s_nats);
    cr_expect(!h_file_contains(s_a.log, "Sanitizer") && !h_file_contains(s_b.log, "Sanitizer"),
              "a broker log holds a sanitizer report");
    h_teardown(&env);
}

TestSuite(replicate, .init = s_up, .fini = s_down, .timeout = 90);

static void s_event(h_pub_t *p, uint64_t sseq)
{
    h_pub_init(p, CAMHS, TACNET__EVENT_KIND__CONCERN, "LA7-2026-000001", sseq);
    h_pub_seal(&env, p, CAMHS, NULL, NULL, 0);
}

/* The journal's last seq in DIR, read from its LMDB directly (the broker may be gone). */
static uint64_t s_head_on_disk(const char *dir)
{
    MDB_env *e = NULL;
    MDB_txn *txn = NULL;
    cr_assert_eq(store_peek_begin(dir, &e, &txn), 0);
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t head = 0;
    cr_assert_eq(mdb_dbi_open(txn, "journal", 0, &dbi), 0);
    cr_assert_eq(mdb_cursor_open(txn, dbi, &cur), 0);
    if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
        head = store_u64_get(k.mv_data);
    mdb_cursor_close(cur);
    store_peek_end(&e, &txn);
    return head;
}

Test(replicate, the_standby_follows_takes_over_with_the_same_head_and_the_old_active_is_fenced)
{
    if (!ha_nats_available())
        cr_skip_test("nats-server is not installed: the replicated journal is not tested");
    char urls[256];
    s_nats_start(urls, sizeof(urls));
    s_broker_conf(&s_a, "a", urls);
    s_broker_conf(&s_b, "b", urls);

    s_broker_start(&s_a);
    cr_assert(s_wait_log(&s_a, "role: active", 30000), "broker a never became active");
    s_broker_start(&s_b);
    cr_assert(s_wait_log(&s_b, "role: standby", 15000), "broker b never became a standby");
    cr_assert(!h_file_contains(s_b.log, "listening on"), "a standby must not bind its ROUTER");

    /* Publishes on the active broker are acknowledged (stream and LMDB both hold them). */
    s_use(&s_a);
    h_client_t *camhs = h_connect(&env, CAMHS);
    h_pub_t p = { 0 };
    uint64_t seq = 0, sseq = 1;
    for (; sseq <= 20; sseq++) {
        s_event(&p, sseq);
        cr_assert_eq(h_publish(camhs, &p, &seq), 0, "publish %llu", (unsigned long long)sseq);
    }
    uint64_t head = seq;
    json_t *st = s_status(&s_a);
    cr_assert_not_null(st);
    cr_assert_str_eq(json_string_value(json_object_get(st, "role")), "active");
    cr_assert_eq(json_integer_value(json_object_get(st, "head_seq")), (json_int_t)head);
    char epoch[32];
    snprintf(epoch, sizeof(epoch), "%s", json_string_value(json_object_get(st, "epoch")));
    long long stream_seq = s_repl_int(st, "stream_seq");
    cr_assert_gt(stream_seq, 0);
    cr_assert_eq(s_repl_int(st, "lag"), 0);
    json_decref(st);

    /* The standby reaches the same stream seq and the same journal head. */
    json_t *sb = NULL;
    for (int i = 0; i < 100; i++) {
        json_decref(sb);
        sb = s_status(&s_b);
        if (sb && s_repl_int(sb, "stream_seq") >= stream_seq)
            break;
        h_sleep_ms(100);
    }
    cr_assert_not_null(sb);
    cr_assert_str_eq(json_string_value(json_object_get(sb, "role")), "standby");
    cr_assert_geq(s_repl_int(sb, "stream_seq"), stream_seq);
    cr_assert_eq(json_integer_value(json_object_get(sb, "head_seq")), (json_int_t)head);
    json_decref(sb);

    /* The active broker stops answering (paused past its lease): the standby takes over,
     * walks its journal and serves the same head under the same epoch. */
    h_client_t *old = camhs;
    kill(s_a.pid, SIGSTOP);
    uint64_t t0 = h_now_ms();
    cr_assert(s_wait_log(&s_b, "role: active", 20000), "broker b never took over");
    uint64_t failover = h_now_ms() - t0;
    cr_assert(h_file_contains(s_b.log, "integrity walk"), "the new active did not walk");
    st = s_status(&s_b);
    cr_assert_not_null(st);
    cr_assert_eq(json_integer_value(json_object_get(st, "head_seq")), (json_int_t)head);
    cr_assert_str_eq(json_string_value(json_object_get(st, "epoch")), epoch,
                     "the epoch is the journal's, not the process's");
    json_decref(st);
    s_use(&s_b);
    h_client_t *camhs_b = h_connect(&env, CAMHS);
    uint64_t hh = 0;
    cr_assert_eq(h_hello(camhs_b, 0, 16, &hh), 0);
    cr_assert_eq(hh, head);
    /* A retry of the last event the old active acknowledged is a duplicate: its original seq. */
    int dup = 0;
    uint64_t dseq = 0;
    h_send_pub(camhs_b, &p);
    cr_assert_eq(h_result(camhs_b, p.msg_id, 5000, &dseq, &dup), 0);
    cr_assert(dup && dseq == head, "retry: dup %d seq %llu", dup, (unsigned long long)dseq);
    s_event(&p, sseq++);
    cr_assert_eq(h_publish(camhs_b, &p, &seq), 0);
    cr_assert_eq(seq, head + 1, "the new active continues the same journal");
    head = seq;

    /* The old active resumes: it acknowledges nothing more and exits as fenced. */
    uint64_t old_head = s_head_on_disk(s_a.data);
    cr_assert_eq(old_head, head - 1);
    kill(s_a.pid, SIGCONT);
    s_event(&p, sseq++);
    h_send_pub(old, &p);
    int rc = h_result(old, NULL, 3000, NULL, NULL);
    cr_assert_neq(rc, 0, "a fenced broker acknowledged a publish");
    int status = 0;
    for (int i = 0; i < 100 && waitpid(s_a.pid, &status, WNOHANG) == 0; i++)
        h_sleep_ms(100);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3,
              "the fenced broker should exit with status 3 (status %d)", status);
    s_a.pid = 0;
    cr_assert(h_file_contains(s_a.log, "fenced"));
    cr_assert_eq(s_head_on_disk(s_a.data), old_head, "the fenced broker journalled nothing more");

    /* Restarted, the fenced broker is a standby again and follows from where its journal
     * stopped; a clean stop of the active broker gives the lease up, and it takes over at once
     * with everything the other one journalled. */
    char path[600];
    snprintf(path, sizeof(path), "%s/endpoint", s_a.data);
    unlink(path); /* the old run's: written again only when a serves */
    snprintf(s_a.log, sizeof(s_a.log), "%s/broker-a-again.log", env.dir);
    s_broker_start(&s_a);
    cr_assert(s_wait_log(&s_a, "role: standby (node a, journal at stream seq", 15000),
              "the fenced broker did not come back as a standby");
    int stopped = 0;
    kill(s_b.pid, SIGTERM);
    waitpid(s_b.pid, &stopped, 0);
    s_b.pid = 0;
    cr_assert(WIFEXITED(stopped) && WEXITSTATUS(stopped) == 0, "clean stop: %d", stopped);
    t0 = h_now_ms();
    cr_assert(s_wait_log(&s_a, "role: active (node a", 10000), "broker a did not take over again");
    uint64_t handover = h_now_ms() - t0;
    cr_assert_lt(handover, 1500, "a released lease is taken without waiting for its TTL");
    s_use(&s_a);
    h_client_t *camhs_a = h_connect(&env, CAMHS);
    s_event(&p, sseq++);
    cr_assert_eq(h_publish(camhs_a, &p, &seq), 0);
    cr_assert_eq(seq, head + 1, "the journal b extended is the one a serves");
    h_pub_free(&p);
    fprintf(stderr, "replicate: head %llu, stream seq %lld, failover %llu ms, handover %llu ms\n",
            (unsigned long long)seq, stream_seq, (unsigned long long)failover,
            (unsigned long long)handover);
}

/* Give DIR's journal (no broker running) a last batch the stream never confirmed: "repl_seq"
 * moves one on, with a hash no stream message has; with FOREIGN the hash of the batch before is
 * wrong too, as in a journal of another stream. The record is the seq (8 bytes, big-endian)
 * and the BLAKE2b-256 of the batch at it and of the one before (replicate.c). */
static void s_journal_unconfirmed(const char *dir, int foreign)
{
    MDB_env *e = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi meta;
    MDB_val k = { 8, "repl_seq" }, v;
    cr_assert_eq(mdb_env_create(&e), 0);
    cr_assert_eq(mdb_env_set_maxdbs(e, 64), 0);
    cr_assert_eq(mdb_env_set_mapsize(e, (size_t)64 << 20), 0);
    cr_assert_eq(mdb_env_open(e, dir, 0, 0600), 0);
    cr_assert_eq(mdb_txn_begin(e, NULL, 0, &txn), 0);
    cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    cr_assert_eq(mdb_get(txn, meta, &k, &v), 0);
    cr_assert_eq(v.mv_size, 72, "repl_seq records the seq and two hashes");
    uint8_t b[72];
    memcpy(b, v.mv_data, 72);
    store_u64_put(b, store_u64_get(b) + 1);
    memcpy(b + 40, b + 8, 32); /* the confirmed batch is now the one before */
    memset(b + 8, 0x5a, 32);   /* and the last is one the stream does not hold */
    if (foreign)
        memset(b + 40, 0xa5, 32);
    v.mv_data = b;
    v.mv_size = sizeof b;
    cr_assert_eq(mdb_put(txn, meta, &k, &v, 0), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(e);
}

Test(replicate,
     a_batch_the_stream_never_confirmed_is_dropped_by_a_rebuild_and_a_foreign_journal_refused)
{
    if (!ha_nats_available())
        cr_skip_test("nats-server is not installed: the replicated journal is not tested");
    char urls[256];
    s_nats_start(urls, sizeof(urls));
    s_broker_conf(&s_a, "a", urls);
    s_broker_start(&s_a);
    cr_assert(s_wait_log(&s_a, "role: active", 30000), "broker a never became active");
    s_use(&s_a);
    h_client_t *camhs = h_connect(&env, CAMHS);
    h_pub_t p = { 0 };
    uint64_t seq = 0;
    for (uint64_t sseq = 1; sseq <= 5; sseq++) {
        s_event(&p, sseq);
        cr_assert_eq(h_publish(camhs, &p, &seq), 0, "publish %llu", (unsigned long long)sseq);
    }
    h_pub_free(&p);
    json_t *st = s_status(&s_a);
    cr_assert_not_null(st);
    long long stream_seq = s_repl_int(st, "stream_seq");
    json_decref(st);
    int status = 0;
    kill(s_a.pid, SIGTERM);
    waitpid(s_a.pid, &status, 0);
    s_a.pid = 0;
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "clean stop: %d", status);

    /* A journal one batch ahead of the stream, the batch before it the stream's: rebuilt from
     * the stream, it serves the stream's journal (the unconfirmed batch is gone). */
    s_journal_unconfirmed(s_a.data, 0);
    snprintf(s_a.log, sizeof(s_a.log), "%s/broker-a-rebuilt.log", env.dir);
    s_broker_start(&s_a);
    cr_assert(s_wait_log(&s_a, "role: active", 30000), "broker a did not serve after a rebuild");
    cr_assert(h_file_contains(s_a.log, "was never confirmed"), "no rebuild was logged");
    st = s_status(&s_a);
    cr_assert_not_null(st);
    cr_assert_eq(json_integer_value(json_object_get(st, "head_seq")), (json_int_t)seq);
    cr_assert_eq(s_repl_int(st, "stream_seq"), stream_seq + 1, "the takeover follows the stream's");
    json_decref(st);
    kill(s_a.pid, SIGTERM);
    waitpid(s_a.pid, &status, 0);
    s_a.pid = 0;

    /* One whose earlier batch differs too is not this stream's: refused, left as it is. */
    s_journal_unconfirmed(s_a.data, 1);
    snprintf(s_a.log, sizeof(s_a.log), "%s/broker-a-foreign.log", env.dir);
    s_broker_start(&s_a);
    for (int i = 0; i < 150 && waitpid(s_a.pid, &status, WNOHANG) == 0; i++)
        h_sleep_ms(100);
    s_a.pid = 0;
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0, "a foreign journal was served");
    cr_assert(h_file_contains(s_a.log, "not this stream's journal"), "log %s", s_a.log);
    cr_assert_eq(s_head_on_disk(s_a.data), seq, "a refused journal is left as it was");
}
