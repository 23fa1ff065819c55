/* Reliability T25: retention, legal hold and crypto-shredding. A real broker and school daemon on
 * loopback; two closed cases whose bodies carry a canary, one under a legal hold; the daemon's
 * sweep clock moved past the configured retention period (TACNET_CLOCK_OFFSET_S, test builds
 * only); the sweep run through `tacnet retention run`. The unheld case must be gone from the
 * view with its per-case key, a tombstone and an audit record left, and neither the canary nor
 * the key (raw or wrapped) nor the case's event ciphertext anywhere in data.mdb, free pages
 * included; the held case stays readable; the audit chain verifies. A crash between the
 * compacted copy and its rename is recovered by the next sweep. */
#include "bytes.h"
#include "harness.h"
#include "rel.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <lmdb.h>
#include <sodium.h>

#include "audit.h"
#include "clock.h"
#include "route.h"
#include "store.h"

#define CLOSED_DAYS 365
#define CASE_A      "LA7-2026-000701" /* closed, not held: destroyed */
#define CASE_B      "LA7-2026-000702" /* closed, held: kept */
#define CASE_C      "LA7-2026-000703" /* open: kept */

static h_env_t env;
static h_agency_t *school;
static char canary[40];

static void s_down(void)
{
    h_teardown(&env);
}

TestSuite(rel_retain, .fini = s_down, .timeout = 300);

/* Run `tacnet --agency school ARGS` with stdout+stderr to OUT; returns its exit status. */
static int s_tacnet(char *out, size_t cap, const char *args)
{
    return h_cli(school, args, out, cap);
}

static void s_publish(const char *ref, const char *kind, const char *body)
{
    char args[1200], out[4096];
    snprintf(args, sizeof(args), "publish %s --case %s --initials TQ --body '%s'", kind, ref, body);
    cr_assert_eq(s_tacnet(out, sizeof(out), args), 0, "publish %s on %s: %s", kind, ref, out);
}

/* Wait until `tacnet case REF` shows NEEDLE (the event came back applied). */
static void s_wait_case(const char *ref, const char *needle)
{
    char args[100], out[65536];
    snprintf(args, sizeof(args), "--json case %s", ref);
    for (int i = 0; i < 200; i++) {
        if (s_tacnet(out, sizeof(out), args) == 0 && strstr(out, needle))
            return;
        h_sleep_ms(50);
    }
    cr_assert_fail("%s never showed \"%s\": %s", ref, needle, out);
}

static uint8_t *s_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Occurrences of NEEDLE in the raw bytes of the daemon's data.mdb: live and free pages alike. */
static long s_hits(const void *needle, size_t nl)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/data.mdb", school->data);
    size_t len;
    uint8_t *b = s_file(path, &len);
    long hits = 0;
    for (size_t i = 0; nl <= len && i <= len - nl; i++)
        hits += memcmp(b + i, needle, nl) == 0;
    free(b);
    return hits;
}

/* What the daemon derives from its sealing secret (services/agency/view.c). */
static void s_derived(uint8_t rest[32], uint8_t blind_key[32])
{
    const uint8_t *sk = env.keys[TACNET__AGENCY__SCHOOL]->seal_sk;
    crypto_generichash(rest, 32, (const uint8_t *)"tacnet-at-rest/1", 16, sk, 32);
    crypto_generichash(blind_key, 32, (const uint8_t *)"tacnet-blind/1", 14, sk, 32);
}

static void s_blind(const char *ref, uint8_t out[16])
{
    uint8_t rest[32], bk[32];
    s_derived(rest, bk);
    seal_blind(bk, (const uint8_t *)ref, strlen(ref), out);
    sodium_memzero(rest, 32);
}

typedef struct snapshot {
    int have_key;
    uint8_t key[32];     /* the case's key, unwrapped */
    uint8_t wrapped[96]; /* its stored (wrapped) form */
    size_t wrapped_len;
    uint8_t cipher[64]; /* the first 64 ciphertext bytes of one of its events */
    int have_cipher;
    int canary_in_plaintext; /* the canary found after decrypting with the case key */
    int tombstone;
    uint32_t tomb_date;
    int audit_shred; /* an audit record retention.shred for the case's blind id */
} snapshot_t;

static int s_audit_fn(uint64_t seq, const audit_record_t *r, void *arg)
{
    (void)seq;
    const char *object = arg;
    return strcmp(r->action, "retention.shred") == 0 && strcmp(r->object, object) == 0;
}

/* Read the daemon's view read-only (it may be running) for what it holds of case REF. */
static void s_snapshot(const char *ref, snapshot_t *s)
{
    memset(s, 0, sizeof(*s));
    uint8_t rest[32], bk[32], blind[16];
    s_derived(rest, bk);
    s_blind(ref, blind);
    MDB_env *menv;
    cr_assert_eq(mdb_env_create(&menv), 0);
    mdb_env_set_maxdbs(menv, 32);
    cr_assert_eq(mdb_env_open(menv, school->data, MDB_RDONLY, 0600), 0);
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(menv, NULL, MDB_RDONLY, &txn), 0);
    MDB_dbi keys, events, by_case, tomb, audit;
    cr_assert_eq(mdb_dbi_open(txn, "case_keys", 0, &keys), 0);
    cr_assert_eq(mdb_dbi_open(txn, "events", 0, &events), 0);
    cr_assert_eq(mdb_dbi_open(txn, "by_case", 0, &by_case), 0);
    cr_assert_eq(mdb_dbi_open(txn, "tombstones", 0, &tomb), 0);
    cr_assert_eq(mdb_dbi_open(txn, AUDIT_DB, 0, &audit), 0);
    MDB_val k = { 16, blind }, v;
    if (mdb_get(txn, keys, &k, &v) == 0) {
        cr_assert_leq(v.mv_size, sizeof(s->wrapped));
        memcpy(s->wrapped, v.mv_data, v.mv_size);
        s->wrapped_len = v.mv_size;
        uint8_t ad[64], *key = NULL;
        size_t kl = 0;
        memcpy(ad, "case_keys", 9);
        memcpy(ad + 9, blind, 16);
        cr_assert_eq(seal_at_rest_decrypt(rest, ad, 25, v.mv_data, v.mv_size, &key, &kl), 0);
        cr_assert_eq(kl, 32);
        memcpy(s->key, key, 32);
        sodium_memzero(key, kl);
        free(key);
        s->have_key = 1;
    }
    /* Each event of the case: blind || ciphertext under the case key. */
    MDB_cursor *cur;
    cr_assert_eq(mdb_cursor_open(txn, by_case, &cur), 0);
    MDB_val ck = { 16, blind }, cv;
    for (int op = MDB_SET_RANGE; mdb_cursor_get(cur, &ck, &cv, op) == 0; op = MDB_NEXT) {
        if (ck.mv_size != 24 || memcmp(ck.mv_data, blind, 16) != 0)
            break;
        MDB_val ek = { 8, (uint8_t *)ck.mv_data + 16 }, ev;
        cr_assert_eq(mdb_get(txn, events, &ek, &ev), 0);
        cr_assert_gt(ev.mv_size, 16 + 64);
        cr_assert_eq(memcmp(ev.mv_data, blind, 16), 0, "event not prefixed by its case");
        if (!s->have_cipher) {
            memcpy(s->cipher, (uint8_t *)ev.mv_data + 16 + 24, 64); /* past the nonce */
            s->have_cipher = 1;
        }
        if (s->have_key) {
            uint8_t ad[64], *plain = NULL;
            size_t pl = 0;
            memcpy(ad, "events", 6);
            memcpy(ad + 6, ek.mv_data, 8);
            cr_assert_eq(seal_at_rest_decrypt(s->key, ad, 14, (uint8_t *)ev.mv_data + 16,
                                              ev.mv_size - 16, &plain, &pl),
                         0, "an event of %s does not open under its case key", ref);
            for (size_t i = 0; i + strlen(canary) <= pl; i++)
                s->canary_in_plaintext |= memcmp(plain + i, canary, strlen(canary)) == 0;
            free(plain);
        }
    }
    mdb_cursor_close(cur);
    if (mdb_get(txn, tomb, &k, &v) == 0) {
        cr_assert_eq(v.mv_size, 13);
        const uint8_t *t = v.mv_data;
        cr_assert_eq(t[0], 1, "tombstone class closed_case");
        s->tombstone = 1;
        s->tomb_date = bytes_be32_get(t + 1);
    }
    char hex[33], object[72];
    sodium_bin2hex(hex, sizeof(hex), blind, 16);
    snprintf(object, sizeof(object), "case:%s", hex);
    s->audit_shred = audit_iterate(txn, audit, 1, s_audit_fn, object) == 1;
    mdb_txn_abort(txn);
    mdb_env_close(menv);
    sodium_memzero(rest, 32);
}

static void s_start(const char *offset_s, const char *fault)
{
    if (offset_s)
        setenv("TACNET_CLOCK_OFFSET_S", offset_s, 1);
    else
        unsetenv("TACNET_CLOCK_OFFSET_S");
    int rc = h_agency_start(school, fault);
    unsetenv("TACNET_CLOCK_OFFSET_S");
    if (rc != 0) {
        size_t n;
        uint8_t *log = s_file(school->log, &n);
        cr_assert_fail("school did not start (%d): %.*s", rc, (int)n, (const char *)log);
    }
}

static void s_stop(void)
{
    int st = h_agency_signal_wait(school, SIGTERM);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "school did not stop cleanly");
}

Test(rel_retain, t25_unheld_closed_case_is_shredded_and_the_held_one_kept)
{
    rel_seed_init("T25");
    uint64_t t0 = h_now_ms();
    snprintf(canary, sizeof(canary), "Zebra canary %016llx", (unsigned long long)rel_rand());
    h_setup(&env, NULL);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    school = h_agency_add(&env, TACNET__AGENCY__SCHOOL);
    FILE *f = fopen(school->conf, "a");
    cr_assert_not_null(f);
    fprintf(f, "[retention]\nclosed_case_days = %d\naudit_days = %d\n", CLOSED_DAYS, CLOSED_DAYS);
    fclose(f);
    s_start(NULL, NULL);

    /* Three cases: A and B closed today, C open; every body carries the canary. */
    uint32_t today = clock_ms_to_date(clock_now_ms());
    char body[512], date[16];
    snprintf(date, sizeof(date), "%04u-%02u-%02u", today / 10000 % 10000, today / 100 % 100,
             today % 100);
    const char *refs[] = { CASE_A, CASE_B, CASE_C };
    for (size_t i = 0; i < 3; i++) {
        snprintf(body, sizeof(body),
                 "{\"category\":\"attendance\",\"summary\":\"%s late on Mondays.\","
                 "\"observed_date\":\"%s\"}",
                 canary, date);
        s_publish(refs[i], "concern", body);
        if (i < 2) {
            snprintf(body, sizeof(body),
                     "{\"reason\":\"needs_met\",\"summary\":\"%s closed.\",\"closed_date\":\"%s\"}",
                     canary, date);
            s_publish(refs[i], "case_closed", body);
        }
    }
    for (size_t i = 0; i < 3; i++)
        s_wait_case(refs[i], canary);
    char out[65536];
    cr_assert_eq(s_tacnet(out, sizeof(out), "hold add --case " CASE_B " --reason public_inquiry"),
                 0, "%s", out);
    cr_assert_eq(s_tacnet(out, sizeof(out), "hold add --case " CASE_B " --reason gossip"), 2,
                 "an unknown reason code is a usage error: %s", out);
    /* A mistyped reference holds nothing, and says so. */
    cr_assert_eq(s_tacnet(out, sizeof(out), "hold add --case LA7-2026-999999 --reason litigation"),
                 1, "%s", out);
    cr_assert(strstr(out, "E_NOTFOUND") && strstr(out, "holds no case"), "%s", out);

    /* Inside the period nothing goes. */
    cr_assert_eq(s_tacnet(out, sizeof(out), "retention run"), 0, "%s", out);
    cr_assert(strstr(out, "0 destroyed"), "%s", out);
    fprintf(stderr, "[rel] T25 first sweep:\n%s", out);
    snapshot_t a0, b0;
    s_snapshot(CASE_A, &a0);
    s_snapshot(CASE_B, &b0);
    cr_assert(a0.have_key && b0.have_key && a0.have_cipher, "per-case keys and events present");
    cr_assert(sodium_memcmp(a0.key, b0.key, 32) != 0, "two cases share a key");
    cr_assert(a0.canary_in_plaintext, "the case key opens the case's events (canary inside)");
    cr_assert_eq(s_hits(canary, strlen(canary)), 0, "canary in data.mdb before the sweep");
    cr_assert_eq(s_hits(a0.key, 32), 0, "a raw case key is stored in data.mdb");
    /* The wrapped key is in the live page and, LMDB being copy-on-write, in stale copies on free
     * pages: deleting the record alone would leave those. */
    long wrapped_before = s_hits(a0.wrapped, a0.wrapped_len);
    cr_assert_geq(wrapped_before, 1, "the wrapped key is not where expected");
    fprintf(stderr, "[rel] T25: wrapped key of %s found %ld times in data.mdb before the sweep\n",
            CASE_A, wrapped_before);

    /* Past the period: A goes, B is held. The first attempt is killed between the compacted
     * copy and its rename; the next sweep must finish the job. */
    char offset[32];
    snprintf(offset, sizeof(offset), "%d", (CLOSED_DAYS + 30) * 86400);
    s_stop();
    s_start(offset, "agency.compact_before_rename");
    int st = s_tacnet(out, sizeof(out), "--timeout 5000 retention run");
    cr_assert_eq(st, 2, "the daemon should die at the fault point (%d): %s", st, out);
    cr_assert_neq(h_agency_wait_exit(school, 5000), -1);
    rel_stat("fault_point_crash", 1);
    school->pid = 0;
    snapshot_t a1;
    s_snapshot(CASE_A, &a1);
    cr_assert(!a1.have_key && a1.tombstone, "the shredding committed before the crash");
    /* Checked here: with the clock moved past audit_days too, later sweeps may prune it. */
    cr_assert(a1.audit_shred, "audit record for the shredding");
    s_start(offset, NULL);
    cr_assert_eq(s_tacnet(out, sizeof(out), "retention run"), 0, "%s", out);
    cr_assert(strstr(out, "file compacted"), "the interrupted compaction is redone: %s", out);
    cr_assert(strstr(out, CASE_B) && strstr(out, "held") && strstr(out, "public_inquiry"), "%s",
              out);
    fprintf(stderr, "[rel] T25 sweep after the crash:\n%s", out);

    snapshot_t a2, b2;
    s_snapshot(CASE_A, &a2);
    s_snapshot(CASE_B, &b2);
    cr_assert(!a2.have_key, "the per-case key of the shredded case is gone");
    cr_assert(!a2.have_cipher, "the shredded case's events are gone");
    cr_assert(a2.tombstone && a2.tomb_date == today, "tombstone with the closure date");
    cr_assert(b2.have_key && b2.canary_in_plaintext && !b2.tombstone, "held case kept");
    long canary_hits = s_hits(canary, strlen(canary));
    long key_hits = s_hits(a0.key, 32) + s_hits(a0.wrapped, a0.wrapped_len);
    long cipher_hits = s_hits(a0.cipher, sizeof(a0.cipher));
    cr_assert_eq(canary_hits, 0, "canary in data.mdb after the sweep");
    cr_assert_eq(key_hits, 0, "the shredded case's key (raw or wrapped) is still in data.mdb");
    cr_assert_eq(cipher_hits, 0, "the shredded case's ciphertext is still in data.mdb");
    sodium_memzero(a0.key, 32);

    /* The view refuses the destroyed case by a stable code, and still serves the held one. */
    cr_assert_eq(s_tacnet(out, sizeof(out), "case " CASE_A), 1, "%s", out);
    cr_assert(strstr(out, "E_SHREDDED"), "%s", out);
    cr_assert_eq(s_tacnet(out, sizeof(out), "cases"), 0, "%s", out);
    cr_assert(!strstr(out, CASE_A) && strstr(out, CASE_B) && strstr(out, CASE_C), "%s", out);
    cr_assert_eq(s_tacnet(out, sizeof(out), "--json case " CASE_B), 0, "%s", out);
    cr_assert(strstr(out, canary), "the held case is readable: %s", out);
    cr_assert_eq(s_tacnet(out, sizeof(out), "hold add --case " CASE_A " --reason litigation"), 1,
                 "%s", out);
    cr_assert(strstr(out, "E_SHREDDED"), "%s", out);

    /* Lifting the hold lets the next sweep take B too; C, open, stays. */
    cr_assert_eq(s_tacnet(out, sizeof(out), "hold remove --case " CASE_B), 0, "%s", out);
    cr_assert_eq(s_tacnet(out, sizeof(out), "hold remove --case " CASE_B), 1, "%s", out);
    cr_assert(strstr(out, "E_NOTFOUND"), "%s", out);
    cr_assert_eq(s_tacnet(out, sizeof(out), "retention run"), 0, "%s", out);
    cr_assert(strstr(out, "1 destroyed"), "%s", out);
    /* The audit's own period ([retention] audit_days) passed for the records written before the
     * clock moved: pruned from the front, the chain anchored (verified below). */
    cr_assert(strstr(out, "audit records pruned"), "%s", out);
    cr_assert_eq(s_tacnet(out, sizeof(out), "case " CASE_B), 1, "%s", out);
    cr_assert_eq(s_tacnet(out, sizeof(out), "--json case " CASE_C), 0, "%s", out);
    cr_assert(strstr(out, canary), "the open case is untouched: %s", out);
    s_stop();

    /* The audit chain verifies, shredding records included. */
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), "%s/tacnet audit verify %s >/dev/null 2>&1", getenv("TACNET_BIN"),
             school->data);
    int audit_ok = system(cmd) == 0;
    cr_assert(audit_ok, "tacnet audit verify failed after the sweep");
    /* The broker only ever held sealed bodies. */
    cr_assert(!h_file_contains(env.data, canary));
    char bpath[700];
    snprintf(bpath, sizeof(bpath), "%s/data.mdb", env.data);
    cr_assert(!h_file_contains(bpath, canary), "canary in the broker's journal");

    rel_stat("retention_cases_shredded", 2);
    rel_stat("retention_held_kept", 1);
    rel_stat("retention_residue_hits", canary_hits + key_hits + cipher_hits);
    rel_stat("audit_chains_broken", !audit_ok);
    fprintf(stderr, "[rel] T25: 2 cases shredded, 1 held and kept, residue hits 0, %llu ms\n",
            (unsigned long long)(h_now_ms() - t0));
}

/* Put VAL under the rest key as the view did before per-case keys (AD = db || key). */
static void s_put_v1(MDB_txn *txn, MDB_dbi dbi, const uint8_t rest[32], const char *db,
                     const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    uint8_t ad[64], *enc = NULL;
    size_t dl = strlen(db), elen = 0;
    memcpy(ad, db, dl);
    memcpy(ad + dl, key, klen);
    cr_assert_eq(seal_at_rest_encrypt(rest, ad, dl + klen, val, vlen, &enc, &elen), 0);
    cr_assert_eq(store_put(txn, dbi, key, klen, enc, elen, 0), 0);
    free(enc);
}

typedef struct v1_view {
    const char *ref;
    uint8_t rest[32];
} v1_view_t;

/* One case with one concern (carrying the canary) and an identity register, in the layout of
 * a view written before per-case keys: everything under the rest key, no view_format. */
static int s_write_v1(MDB_txn *txn, void *arg)
{
    v1_view_t *v = arg;
    const char *names[] = { "meta", "events", "applied", "by_case", "cases", "identity" };
    MDB_dbi dbi[6];
    for (size_t i = 0; i < 6; i++)
        cr_assert_eq(mdb_dbi_open(txn, names[i], MDB_CREATE, &dbi[i]), 0);
    h_pub_t p;
    memset(&p, 0, sizeof(p));
    h_pub_init(&p, TACNET__AGENCY__SCHOOL, TACNET__EVENT_KIND__CONCERN, v->ref, 1);
    p.h.created_at_ms = clock_now_ms();
    size_t hlen;
    uint8_t *hdr = wire_pack(&p.h.base, &hlen);
    cr_assert_not_null(hdr);
    Tacnet__Body body = TACNET__BODY__INIT;
    Tacnet__Concern concern = TACNET__CONCERN__INIT;
    body.msg_id = (ProtobufCBinaryData){ 16, p.msg_id };
    body.has_msg_id = 1;
    body.sender = TACNET__AGENCY__SCHOOL;
    body.has_sender = 1;
    concern.summary = canary;
    body.event_case = TACNET__BODY__EVENT_CONCERN;
    body.concern = &concern;
    size_t blen = protobuf_c_message_get_packed_size(&body.base);
    size_t n = 12 + hlen + blen;
    uint8_t *rec = malloc(n), lk[8], blind[24];
    store_u64_put(rec, 1);
    bytes_be32_put(rec + 8, (uint32_t)hlen);
    memcpy(rec + 12, hdr, hlen);
    protobuf_c_message_pack(&body.base, rec + 12 + hlen);
    store_u64_put(lk, 1);
    s_blind(v->ref, blind);
    memcpy(blind + 16, lk, 8);
    s_put_v1(txn, dbi[1], v->rest, "events", lk, 8, rec, n);
    cr_assert_eq(store_put(txn, dbi[2], p.msg_id, 16, lk, 8, 0), 0);
    cr_assert_eq(store_put(txn, dbi[3], blind, 24, "", 0, 0), 0);
    route_case_t c;
    memset(&c, 0, sizeof(c));
    route_apply(&c, &p.h);
    /* Its routing state as such a view held it: version 1 (32 bytes, route.h), the school a
     * member and lead, no consent (the cover bytes present and zero). */
    uint8_t cr[ROUTE_CASE_BYTES_V1 + 9 + 32] = { 0 };
    size_t rl = strlen(v->ref);
    cr_assert_eq(c.members, 1u << TACNET__AGENCY__SCHOOL);
    cr[0] = 1;
    bytes_be32_put(cr + 1, c.members);
    cr[5] = c.lead;
    cr[31] = 1;
    store_u64_put(cr + ROUTE_CASE_BYTES_V1, p.h.created_at_ms);
    cr[ROUTE_CASE_BYTES_V1 + 8] = (uint8_t)rl;
    memcpy(cr + ROUTE_CASE_BYTES_V1 + 9, v->ref, rl);
    memcpy(cr + ROUTE_CASE_BYTES_V1 + 9 + rl, "JS", 2);
    s_put_v1(txn, dbi[4], v->rest, "cases", blind, 16, cr, ROUTE_CASE_BYTES_V1 + 9 + rl + 2);
    s_put_v1(txn, dbi[5], v->rest, "identity", blind, 16, (const uint8_t *)"Quillon\0", 8);
    uint8_t one[8];
    store_u64_put(one, 1);
    cr_assert_eq(store_put(txn, dbi[0], "local_seq", 9, one, 8, 0), 0);
    free(rec);
    free(hdr);
    h_pub_free(&p);
    return 0;
}

Test(rel_retain, t25_view_written_before_per_case_keys_is_migrated_on_open)
{
    rel_seed_init("T25-migrate");
    snprintf(canary, sizeof(canary), "Zebra canary %016llx", (unsigned long long)rel_rand());
    h_setup(&env, NULL);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    school = h_agency_add(&env, TACNET__AGENCY__SCHOOL);
    v1_view_t v = { .ref = CASE_A };
    uint8_t bk[32];
    s_derived(v.rest, bk);
    int err = 0;
    store_t *st = store_open(school->data, 0, NULL, 0, &err);
    cr_assert_not_null(st, "store_open: %d", err);
    cr_assert_eq(store_write(st, s_write_v1, &v), 0);
    store_destroy(&st);
    cr_assert_eq(s_hits(canary, strlen(canary)), 0);

    s_start(NULL, NULL);
    cr_assert(h_file_contains(school->log, "view moved to per-case keys: 1 cases, 1 events, 1 "
                                           "identity registers"),
              "no migration logged");
    s_wait_case(CASE_A, canary);
    snapshot_t a;
    s_snapshot(CASE_A, &a);
    cr_assert(a.have_key && a.canary_in_plaintext, "the migrated event opens under its case key");
    /* The identity register moved too: the daemon still refuses the registered name. */
    char out[8192];
    cr_assert_eq(s_tacnet(out, sizeof(out),
                          "publish concern --case " CASE_A " --initials JS --body "
                          "'{\"category\":\"attendance\",\"summary\":\"Quillon was late.\"}'"),
                 1, "%s", out);
    cr_assert(strstr(out, "E_TEXT") && strstr(out, "register_name"), "%s", out);
    /* Opening again does not migrate twice. */
    s_stop();
    s_start(NULL, NULL);
    s_wait_case(CASE_A, canary);
    s_stop();
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), "%s/tacnet audit verify %s >/dev/null 2>&1", getenv("TACNET_BIN"),
             school->data);
    cr_assert_eq(system(cmd), 0, "audit chain after migration");
    sodium_memzero(v.rest, 32);
}

/* ---------------------------------------------------------------- view format 2 -> 3 */

typedef struct v2_view {
    uint8_t rest[32], blind[16];
    uint8_t kept[64]; /* the last kept key moved back, as the daemon wrote it */
    uint8_t lk[8];    /* its event's local seq */
    int n;
} v2_view_t;

static void s_case_key(MDB_txn *txn, MDB_dbi keys, const v2_view_t *v, uint8_t ck[32])
{
    MDB_val k = { 16, (void *)v->blind }, w;
    cr_assert_eq(mdb_get(txn, keys, &k, &w), 0, "the case has a key");
    uint8_t ad[25], *key = NULL;
    size_t kl = 0;
    memcpy(ad, "case_keys", 9);
    memcpy(ad + 9, v->blind, 16);
    cr_assert_eq(seal_at_rest_decrypt(v->rest, ad, 25, w.mv_data, w.mv_size, &key, &kl), 0);
    cr_assert_eq(kl, 32);
    memcpy(ck, key, 32);
    sodium_memzero(key, kl);
    free(key);
}

/* Turn the daemon's view back into format 2: every kept content key of the case moves from its
 * by_case value (blind || local seq) into event_keys (blind || msg_id), under the case key with
 * that database's associated data, and view_format says 2. */
static int s_write_v2(MDB_txn *txn, void *arg)
{
    v2_view_t *v = arg;
    MDB_dbi meta, keys, applied, by_case, ek;
    cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    cr_assert_eq(mdb_dbi_open(txn, "case_keys", 0, &keys), 0);
    cr_assert_eq(mdb_dbi_open(txn, "applied", 0, &applied), 0);
    cr_assert_eq(mdb_dbi_open(txn, "by_case", 0, &by_case), 0);
    cr_assert_eq(mdb_dbi_open(txn, "event_keys", MDB_CREATE, &ek), 0);
    uint8_t ck[32];
    s_case_key(txn, keys, v, ck);
    MDB_cursor *cur;
    cr_assert_eq(mdb_cursor_open(txn, applied, &cur), 0);
    MDB_val k, d;
    for (int op = MDB_FIRST; mdb_cursor_get(cur, &k, &d, op) == 0; op = MDB_NEXT) {
        cr_assert_eq(k.mv_size, 16);
        cr_assert_eq(d.mv_size, 8);
        uint8_t key24[24], msg_id[16];
        memcpy(msg_id, k.mv_data, 16);
        memcpy(key24, v->blind, 16);
        memcpy(key24 + 16, d.mv_data, 8);
        MDB_val bk = { 24, key24 }, bv;
        if (mdb_get(txn, by_case, &bk, &bv) != 0 || bv.mv_size == 0)
            continue;
        uint8_t ad[48], *kept = NULL, *enc = NULL;
        size_t kl = 0, el = 0;
        memcpy(ad, "by_case", 7);
        memcpy(ad + 7, key24, 24);
        cr_assert_eq(seal_at_rest_decrypt(ck, ad, 31, bv.mv_data, bv.mv_size, &kept, &kl), 0,
                     "a by_case value opens under its case key");
        cr_assert_eq(kl, 64);
        memcpy(v->kept, kept, 64);
        memcpy(v->lk, key24 + 16, 8);
        memcpy(ad, "event_keys", 10);
        memcpy(ad + 10, v->blind, 16);
        memcpy(ad + 26, msg_id, 16);
        cr_assert_eq(seal_at_rest_encrypt(ck, ad, 42, kept, kl, &enc, &el), 0);
        uint8_t ekk[32];
        memcpy(ekk, v->blind, 16);
        memcpy(ekk + 16, msg_id, 16);
        cr_assert_eq(store_put(txn, ek, ekk, 32, enc, el, 0), 0);
        cr_assert_eq(store_put(txn, by_case, key24, 24, "", 0, 0), 0);
        sodium_memzero(kept, kl);
        free(kept);
        free(enc);
        v->n++;
    }
    mdb_cursor_close(cur);
    uint8_t two[8];
    store_u64_put(two, 2);
    cr_assert_eq(store_put(txn, meta, "view_format", 11, two, 8, 0), 0);
    sodium_memzero(ck, sizeof(ck));
    return 0;
}

Test(rel_retain, t25_view_format_2_kept_keys_move_into_by_case_on_open)
{
    rel_seed_init("T25-kept");
    h_setup(&env, NULL);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    school = h_agency_add(&env, TACNET__AGENCY__SCHOOL);
    s_start(NULL, NULL);
    s_publish(CASE_A, "concern", "{\"category\":\"attendance\",\"summary\":\"Late on Monday.\"}");
    s_wait_case(CASE_A, "Late on Monday.");
    s_stop();
    v2_view_t v;
    memset(&v, 0, sizeof(v));
    uint8_t bk[32];
    s_derived(v.rest, bk);
    s_blind(CASE_A, v.blind);
    int err = 0;
    store_t *st = store_open(school->data, 0, NULL, 0, &err);
    cr_assert_not_null(st, "store_open: %d", err);
    cr_assert_eq(store_write(st, s_write_v2, &v), 0);
    store_destroy(&st);
    cr_assert_eq(v.n, 1, "the school kept the content key of its concern");

    s_start(NULL, NULL);
    cr_assert(h_file_contains(school->log, "view format 3: 1 kept event keys moved"),
              "no migration logged");
    s_wait_case(CASE_A, "Late on Monday.");
    s_stop();
    /* event_keys is empty, and the key sits in the event's by_case value, where a grant finds
     * it, sealed under the case key for its new place. */
    MDB_env *menv;
    cr_assert_eq(mdb_env_create(&menv), 0);
    mdb_env_set_maxdbs(menv, 48);
    cr_assert_eq(mdb_env_open(menv, school->data, MDB_RDONLY, 0600), 0);
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(menv, NULL, MDB_RDONLY, &txn), 0);
    MDB_dbi keys, by_case, ek;
    cr_assert_eq(mdb_dbi_open(txn, "case_keys", 0, &keys), 0);
    cr_assert_eq(mdb_dbi_open(txn, "by_case", 0, &by_case), 0);
    cr_assert_eq(mdb_dbi_open(txn, "event_keys", 0, &ek), 0);
    MDB_stat es;
    cr_assert_eq(mdb_stat(txn, ek, &es), 0);
    cr_assert_eq(es.ms_entries, 0, "event_keys is emptied");
    uint8_t ck[32], key24[24], ad[31], *kept = NULL;
    size_t kl = 0;
    s_case_key(txn, keys, &v, ck);
    memcpy(key24, v.blind, 16);
    memcpy(key24 + 16, v.lk, 8);
    MDB_val k = { 24, key24 }, d;
    cr_assert_eq(mdb_get(txn, by_case, &k, &d), 0);
    memcpy(ad, "by_case", 7);
    memcpy(ad + 7, key24, 24);
    cr_assert_eq(seal_at_rest_decrypt(ck, ad, 31, d.mv_data, d.mv_size, &kept, &kl), 0);
    cr_assert(kl == 64 && memcmp(kept, v.kept, 64) == 0, "the same key, moved");
    sodium_memzero(kept, kl);
    free(kept);
    sodium_memzero(ck, sizeof(ck));
    mdb_txn_abort(txn);
    mdb_env_close(menv);
    sodium_memzero(v.rest, 32);
}
