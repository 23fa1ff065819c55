/* nftw() is XSI. */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "cli/audit_cmd.h"
#include "clock.h"
#include "err.h"
#include "store.h"

/* Offsets from the layout documented in audit.h. */
#define OFF_OBJECT 101
#define OFF_HASH   253

static char s_dir[64];

static int s_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void s_setup(void)
{
    snprintf(s_dir, sizeof(s_dir), "/tmp/tacnet-audit-XXXXXX");
    cr_assert_not_null(mkdtemp(s_dir));
}

static void s_teardown(void)
{
    nftw(s_dir, s_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(audit, .init = s_setup, .fini = s_teardown, .timeout = 60);

static store_t *s_open(void)
{
    static const char *const names[] = { AUDIT_DB, "events" };
    int err = -1;
    store_t *st = store_open(s_dir, 0, names, 2, &err);
    cr_assert_not_null(st, "store_open: %s", tacnet_errname(err));
    return st;
}

static MDB_dbi s_dbi(store_t *st, const char *name)
{
    MDB_dbi dbi;
    cr_assert_eq(store_dbi(st, name, &dbi), 0);
    return dbi;
}

/* Synthetic record number I: an invented user, a made-up msg_id. */
static void s_record(uint64_t i, audit_record_t *rec)
{
    memset(rec, 0, sizeof(*rec));
    rec->at_ms = 1767225600000ULL + i * 1000;
    snprintf(rec->actor, sizeof(rec->actor), "school/u-%03u", (unsigned)(i % 7));
    snprintf(rec->action, sizeof(rec->action), "%s", i % 3 ? "accept" : "deliver");
    snprintf(rec->object, sizeof(rec->object), "%016llx%016llx", 0xfeedULL + i,
             (unsigned long long)i * 0x9e3779b97f4a7c15ULL);
    snprintf(rec->outcome, sizeof(rec->outcome), "%s", i % 5 ? "ok" : "refused");
    snprintf(rec->reason, sizeof(rec->reason), "%s", i % 5 ? "" : "no_consent");
    rec->code = i % 5 ? 0 : TACNET_ECONSENT;
}

struct appends {
    MDB_dbi dbi;
    MDB_dbi events;
    uint64_t from, n;
    int calls;
    int fail_with;
};

static int s_append_fn(MDB_txn *txn, void *arg)
{
    struct appends *a = arg;
    a->calls++;
    for (uint64_t i = a->from; i < a->from + a->n; i++) {
        audit_record_t rec;
        s_record(i, &rec);
        uint64_t seq = 0;
        int rc = audit_append(txn, a->dbi, &rec, &seq);
        if (rc != 0)
            return rc;
        if (seq != i)
            return TACNET_EINVAL;
        if (a->events) {
            uint8_t key[8];
            store_u64_put(key, i);
            rc = store_put(txn, a->events, key, 8, "e", 1, MDB_APPEND);
            if (rc != 0)
                return rc;
        }
    }
    return a->fail_with;
}

static store_t *s_chain(uint64_t n)
{
    store_t *st = s_open();
    struct appends a = { .dbi = s_dbi(st, AUDIT_DB), .from = 1, .n = n };
    cr_assert_eq(store_write(st, s_append_fn, &a), 0);
    return st;
}

static int s_verify(store_t *st, uint64_t *count, uint64_t *bad)
{
    MDB_txn *txn;
    cr_assert_eq(store_read_begin(st, &txn), 0);
    int rc = audit_verify(txn, s_dbi(st, AUDIT_DB), count, bad);
    mdb_txn_abort(txn);
    return rc;
}

/* Raw tampering, as someone with write access to the file would do it. */
enum tamper_op { T_FLIP, T_DELETE, T_SWAP, T_PUT };

struct tamper {
    MDB_dbi dbi;
    enum tamper_op op;
    uint64_t a, b; /* seqs; 0 is the head key (s_key) */
    size_t off;
    uint8_t val[AUDIT_RECORD_BYTES];
    size_t vlen;
};

/* The key of record SEQ, or of the head for SEQ 0: nine 0xff bytes, after every record (an
 * older chain kept it under eight zero bytes; see legacy_head below). Returns its length. */
static size_t s_key(uint64_t seq, uint8_t k[9])
{
    if (seq == 0) {
        memset(k, 0xff, 9);
        return 9;
    }
    store_u64_put(k, seq);
    return 8;
}

static int s_copy(MDB_txn *txn, MDB_dbi dbi, uint64_t seq, uint8_t *buf, size_t *len)
{
    uint8_t k[9];
    size_t kl = s_key(seq, k);
    MDB_val v;
    int rc = store_get(txn, dbi, k, kl, &v);
    if (rc == 0) {
        memcpy(buf, v.mv_data, v.mv_size);
        *len = v.mv_size;
    }
    return rc;
}

static int s_put_raw(MDB_txn *txn, MDB_dbi dbi, uint64_t seq, const uint8_t *buf, size_t len)
{
    uint8_t k[9];
    size_t kl = s_key(seq, k);
    return store_put(txn, dbi, k, kl, buf, len, 0);
}

static int s_tamper_fn(MDB_txn *txn, void *arg)
{
    struct tamper *t = arg;
    uint8_t x[AUDIT_RECORD_BYTES], y[AUDIT_RECORD_BYTES];
    size_t xl = 0, yl = 0;
    uint8_t k[9];
    int rc;
    switch (t->op) {
    case T_FLIP:
        if ((rc = s_copy(txn, t->dbi, t->a, x, &xl)) != 0)
            return rc;
        x[t->off] ^= 0x01;
        return s_put_raw(txn, t->dbi, t->a, x, xl);
    case T_DELETE:
        for (uint64_t s = t->a; s <= t->b; s++) {
            size_t kl = s_key(s, k);
            if ((rc = store_del(txn, t->dbi, k, kl)) != 0)
                return rc;
        }
        return 0;
    case T_SWAP:
        if ((rc = s_copy(txn, t->dbi, t->a, x, &xl)) != 0 ||
            (rc = s_copy(txn, t->dbi, t->b, y, &yl)) != 0)
            return rc;
        if ((rc = s_put_raw(txn, t->dbi, t->a, y, yl)) != 0)
            return rc;
        return s_put_raw(txn, t->dbi, t->b, x, xl);
    case T_PUT:
        return s_put_raw(txn, t->dbi, t->a, t->val, t->vlen);
    }
    return TACNET_EINVAL;
}

static void s_tamper(store_t *st, struct tamper *t)
{
    t->dbi = s_dbi(st, AUDIT_DB);
    cr_assert_eq(store_write(st, s_tamper_fn, t), 0);
}

static void s_read_raw(store_t *st, uint64_t seq, uint8_t *buf, size_t *len)
{
    MDB_txn *txn;
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(s_copy(txn, s_dbi(st, AUDIT_DB), seq, buf, len), 0);
    mdb_txn_abort(txn);
}

static void s_assert_broken_at(store_t *st, uint64_t want_bad)
{
    uint64_t count = 0, bad = 0;
    cr_assert_eq(s_verify(st, &count, &bad), TACNET_EAUDIT);
    cr_assert_eq(bad, want_bad, "first bad %llu, expected %llu", (unsigned long long)bad,
                 (unsigned long long)want_bad);
    cr_assert_eq(count, want_bad - 1);
}

Test(audit, a_chain_of_records_verifies_in_process_and_from_the_directory)
{
    store_t *st = s_chain(50);
    uint64_t count = 0, bad = 99;
    cr_assert_eq(s_verify(st, &count, &bad), 0);
    cr_assert_eq(count, 50);
    cr_assert_eq(bad, 0);
    store_destroy(&st);

    count = 0;
    cr_assert_eq(audit_verify_dir(s_dir, &count, &bad), 0);
    cr_assert_eq(count, 50);

    /* Appends continue the chain after a reopen. */
    st = s_open();
    struct appends a = { .dbi = s_dbi(st, AUDIT_DB), .from = 51, .n = 5 };
    cr_assert_eq(store_write(st, s_append_fn, &a), 0);
    cr_assert_eq(s_verify(st, &count, &bad), 0);
    cr_assert_eq(count, 55);
    store_destroy(&st);
}

Test(audit, an_empty_chain_verifies)
{
    store_t *st = s_open();
    uint64_t count = 7, bad = 7;
    cr_assert_eq(s_verify(st, &count, &bad), 0);
    cr_assert_eq(count, 0);
    cr_assert_eq(bad, 0);
    store_destroy(&st);
    cr_assert_eq(audit_verify_dir(s_dir, &count, &bad), 0);
    cr_assert_eq(count, 0);
}

Test(audit, an_edited_byte_is_detected_at_its_record)
{
    static const size_t offsets[] = { 9, 17, 21, OFF_OBJECT + 3, 200, 230, OFF_HASH + 31 };
    store_t *st = s_chain(30);
    for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        struct tamper t = { .op = T_FLIP, .a = 17, .off = offsets[i] };
        s_tamper(st, &t);
        s_assert_broken_at(st, 17);
        /* Put it back: the chain verifies again, so it was that byte. */
        s_tamper(st, &t);
        cr_assert_eq(s_verify(st, NULL, NULL), 0);
    }
    store_destroy(&st);
}

Test(audit, a_deleted_middle_record_is_detected)
{
    store_t *st = s_chain(30);
    struct tamper t = { .op = T_DELETE, .a = 12, .b = 12 };
    s_tamper(st, &t);
    s_assert_broken_at(st, 12);
    store_destroy(&st);
}

Test(audit, swapped_records_are_detected)
{
    store_t *st = s_chain(30);
    struct tamper t = { .op = T_SWAP, .a = 9, .b = 21 };
    s_tamper(st, &t);
    s_assert_broken_at(st, 9);
    store_destroy(&st);
}

Test(audit, a_truncated_tail_is_detected)
{
    store_t *st = s_chain(30);
    struct tamper t = { .op = T_DELETE, .a = 28, .b = 30 };
    s_tamper(st, &t);
    uint64_t count = 0, bad = 0;
    cr_assert_eq(s_verify(st, &count, &bad), TACNET_EAUDIT);
    cr_assert_eq(bad, 28);
    cr_assert_eq(count, 27);
    store_destroy(&st);
}

Test(audit, a_replaced_head_entry_is_detected)
{
    store_t *st = s_chain(30);
    uint8_t head[64];
    size_t len = 0;
    s_read_raw(st, 0, head, &len);
    cr_assert_eq(len, 40);

    struct tamper t = { .op = T_PUT, .a = 0, .vlen = 40 };
    memcpy(t.val, head, 40);
    t.val[8 + 5] ^= 0x80; /* the last hash */
    s_tamper(st, &t);
    s_assert_broken_at(st, 30);

    memcpy(t.val, head, 40);
    store_u64_put(t.val, 26); /* count says the chain is shorter */
    s_tamper(st, &t);
    s_assert_broken_at(st, 27);

    t.vlen = 12; /* not a head at all */
    s_tamper(st, &t);
    s_assert_broken_at(st, 30);
    store_destroy(&st);
}

Test(audit, a_re_hashed_forgery_of_the_last_record_is_caught_by_the_head)
{
    store_t *st = s_chain(30);
    uint8_t rec[AUDIT_RECORD_BYTES];
    size_t len = 0;
    s_read_raw(st, 30, rec, &len);
    cr_assert_eq(len, AUDIT_RECORD_BYTES);
    rec[OFF_OBJECT] = rec[OFF_OBJECT] == 'a' ? 'b' : 'a';
    crypto_generichash(rec + OFF_HASH, 32, rec, OFF_HASH, NULL, 0);
    struct tamper t = { .op = T_PUT, .a = 30, .vlen = AUDIT_RECORD_BYTES };
    memcpy(t.val, rec, sizeof(rec));
    s_tamper(st, &t);
    s_assert_broken_at(st, 30);
    store_destroy(&st);
}

Test(audit, a_re_hashed_forgery_in_the_middle_breaks_the_next_link)
{
    store_t *st = s_chain(30);
    uint8_t rec[AUDIT_RECORD_BYTES];
    size_t len = 0;
    s_read_raw(st, 14, rec, &len);
    rec[OFF_OBJECT] = rec[OFF_OBJECT] == 'a' ? 'b' : 'a';
    crypto_generichash(rec + OFF_HASH, 32, rec, OFF_HASH, NULL, 0);
    struct tamper t = { .op = T_PUT, .a = 14, .vlen = AUDIT_RECORD_BYTES };
    memcpy(t.val, rec, sizeof(rec));
    s_tamper(st, &t);
    /* Record 14 is self-consistent; record 15's prev_hash no longer matches it. */
    s_assert_broken_at(st, 15);
    store_destroy(&st);
}

Test(audit, appends_commit_with_the_audited_change_or_not_at_all)
{
    store_t *st = s_open();
    struct appends a = {
        .dbi = s_dbi(st, AUDIT_DB), .events = s_dbi(st, "events"), .from = 1, .n = 4
    };
    cr_assert_eq(store_write(st, s_append_fn, &a), 0);

    struct appends bad = a;
    bad.from = 5;
    bad.fail_with = TACNET_EFIELD;
    cr_assert_eq(store_write(st, s_append_fn, &bad), TACNET_EFIELD);

    /* Map full at commit twice: the batch is re-run and lands once. */
    store_test_fail_commits(st, 2);
    struct appends retry = a;
    retry.from = 5;
    retry.calls = 0;
    cr_assert_eq(store_write(st, s_append_fn, &retry), 0);
    cr_assert_eq(retry.calls, 3);

    uint64_t count = 0;
    cr_assert_eq(s_verify(st, &count, NULL), 0);
    cr_assert_eq(count, 8);
    MDB_txn *txn;
    MDB_stat ms;
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(mdb_stat(txn, a.events, &ms), 0);
    mdb_txn_abort(txn);
    cr_assert_eq(ms.ms_entries, 8);
    store_destroy(&st);
}

struct one {
    MDB_dbi dbi;
    audit_record_t rec;
};

static int s_append_one(MDB_txn *txn, void *arg)
{
    struct one *o = arg;
    return audit_append(txn, o->dbi, &o->rec, NULL);
}

Test(audit, fields_that_are_not_short_printable_codes_are_refused)
{
    store_t *st = s_open();
    struct one o = { .dbi = s_dbi(st, AUDIT_DB) };

    s_record(1, &o.rec);
    snprintf(o.rec.reason, sizeof(o.rec.reason), "line\nbreak");
    cr_assert_eq(store_write(st, s_append_one, &o), TACNET_EINVAL);

    s_record(1, &o.rec);
    memset(o.rec.object, 'a', sizeof(o.rec.object)); /* no NUL */
    cr_assert_eq(store_write(st, s_append_one, &o), TACNET_EINVAL);

    s_record(1, &o.rec);
    o.rec.actor[0] = '\0';
    cr_assert_eq(store_write(st, s_append_one, &o), TACNET_EINVAL);

    uint64_t count = 9;
    cr_assert_eq(s_verify(st, &count, NULL), 0);
    cr_assert_eq(count, 0);

    s_record(1, &o.rec);
    cr_assert_eq(store_write(st, s_append_one, &o), 0);
    cr_assert_eq(s_verify(st, &count, NULL), 0);
    cr_assert_eq(count, 1);
    store_destroy(&st);
}

struct listing {
    uint64_t seen[64];
    size_t n;
    size_t stop_after;
};

static int s_list_fn(uint64_t seq, const audit_record_t *rec, void *arg)
{
    struct listing *l = arg;
    audit_record_t want;
    s_record(seq, &want);
    if (memcmp(rec->actor, want.actor, sizeof(want.actor)) != 0 ||
        memcmp(rec->object, want.object, sizeof(want.object)) != 0 ||
        strcmp(rec->action, want.action) != 0 || strcmp(rec->outcome, want.outcome) != 0 ||
        strcmp(rec->reason, want.reason) != 0 || rec->code != want.code || rec->at_ms != want.at_ms)
        return -77;
    l->seen[l->n++] = seq;
    return l->n == l->stop_after ? 5 : 0;
}

Test(audit, iterate_lists_decoded_records_in_order_from_a_seq)
{
    store_t *st = s_chain(20);
    MDB_dbi dbi = s_dbi(st, AUDIT_DB);
    MDB_txn *txn;
    cr_assert_eq(store_read_begin(st, &txn), 0);

    struct listing all = { .stop_after = 0 };
    cr_assert_eq(audit_iterate(txn, dbi, 0, s_list_fn, &all), 0);
    cr_assert_eq(all.n, 20);
    for (size_t i = 0; i < all.n; i++)
        cr_assert_eq(all.seen[i], i + 1);

    struct listing tail = { .stop_after = 3 };
    cr_assert_eq(audit_iterate(txn, dbi, 15, s_list_fn, &tail), 5);
    cr_assert_eq(tail.n, 3);
    cr_assert_eq(tail.seen[0], 15);
    cr_assert_eq(tail.seen[2], 17);
    mdb_txn_abort(txn);
    store_destroy(&st);
}

Test(audit, verify_dir_works_while_the_owner_has_the_store_open)
{
    store_t *st = s_chain(5);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        uint64_t count = 0, bad = 0;
        int rc = audit_verify_dir(s_dir, &count, &bad);
        _exit(rc == 0 && count == 5 ? 0 : 1);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "read-only verify failed");

    /* The owner carries on writing after the reader left. */
    struct appends a = { .dbi = s_dbi(st, AUDIT_DB), .from = 6, .n = 2 };
    cr_assert_eq(store_write(st, s_append_fn, &a), 0);
    uint64_t count = 0;
    cr_assert_eq(s_verify(st, &count, NULL), 0);
    cr_assert_eq(count, 7);
    store_destroy(&st);
}

Test(audit, verify_dir_reports_missing_and_garbage_environments)
{
    char path[128];
    uint64_t count, bad;
    snprintf(path, sizeof(path), "%s/none", s_dir);
    cr_assert_eq(audit_verify_dir(path, &count, &bad), TACNET_ENOTFOUND);

    /* An environment without an audit database. */
    static const char *const names[] = { "events" };
    int err = 0;
    store_t *st = store_open(s_dir, 0, names, 1, &err);
    cr_assert_not_null(st);
    store_destroy(&st);
    cr_assert_eq(audit_verify_dir(s_dir, &count, &bad), TACNET_ENOTFOUND);

    snprintf(path, sizeof(path), "%s/junk", s_dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    char data[160];
    snprintf(data, sizeof(data), "%s/data.mdb", path);
    int fd = open(data, O_WRONLY | O_CREAT, 0600);
    cr_assert_geq(fd, 0);
    uint8_t junk[8192];
    memset(junk, 0x5a, sizeof(junk));
    cr_assert_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    close(fd);
    cr_assert_eq(audit_verify_dir(path, &count, &bad), TACNET_ECORRUPT);
}

static int s_run_cli(const char *path, int json, char **text)
{
    size_t len = 0;
    FILE *out = open_memstream(text, &len);
    cr_assert_not_null(out);
    int status = cli_audit_verify(path, out, json);
    fclose(out);
    return status;
}

Test(audit, cli_verify_prints_ok_broken_or_unreadable_with_exit_status)
{
    store_t *st = s_chain(12);
    store_destroy(&st);
    char *text = NULL;
    cr_assert_eq(s_run_cli(s_dir, 0, &text), CLI_AUDIT_OK);
    cr_assert_str_eq(text, "audit chain OK: 12 records\n");
    free(text);
    cr_assert_eq(s_run_cli(s_dir, 1, &text), 0);
    cr_assert_str_eq(text, "{\"ok\":true,\"records\":12}\n");
    free(text);

    st = s_open();
    struct tamper t = { .op = T_FLIP, .a = 5, .off = OFF_OBJECT };
    s_tamper(st, &t);
    store_destroy(&st);
    cr_assert_eq(s_run_cli(s_dir, 0, &text), CLI_AUDIT_BROKEN);
    cr_assert_str_eq(text, "audit chain BROKEN at record 5 (E_AUDIT)\n");
    free(text);
    cr_assert_eq(s_run_cli(s_dir, 1, &text), 1);
    cr_assert_str_eq(text, "{\"ok\":false,\"records\":4,\"first_bad\":5,\"error\":\"E_AUDIT\"}\n");
    free(text);

    char path[128];
    snprintf(path, sizeof(path), "%s/absent", s_dir);
    cr_assert_eq(s_run_cli(path, 0, &text), CLI_AUDIT_UNREADABLE);
    cr_assert_str_eq(text, "audit chain could not be read: E_NOTFOUND (not found)\n");
    free(text);
    cr_assert_eq(s_run_cli(path, 1, &text), 2);
    cr_assert_str_eq(text, "{\"ok\":false,\"error\":\"E_NOTFOUND\"}\n");
    free(text);
}

struct prune {
    MDB_dbi dbi;
    uint64_t before_ms, pruned;
};

static int s_prune_fn(MDB_txn *txn, void *arg)
{
    struct prune *p = arg;
    return audit_prune(txn, p->dbi, p->before_ms, &p->pruned);
}

/* Record i is at 1767225600000 + i s (s_record). */
#define AT(i) (1767225600000ULL + (uint64_t)(i)*1000)

Test(audit, pruned_front_leaves_a_chain_that_verifies_and_grows)
{
    store_t *st = s_chain(10);
    struct prune p = { .dbi = s_dbi(st, AUDIT_DB), .before_ms = AT(6) };
    cr_assert_eq(store_write(st, s_prune_fn, &p), 0);
    cr_assert_eq(p.pruned, 5);
    uint64_t count = 0, bad = 0;
    cr_assert_eq(s_verify(st, &count, &bad), 0, "first bad %llu", (unsigned long long)bad);
    cr_assert_eq(count, 10);
    struct appends a = { .dbi = s_dbi(st, AUDIT_DB), .from = 11, .n = 3 };
    cr_assert_eq(store_write(st, s_append_fn, &a), 0);
    cr_assert_eq(s_verify(st, &count, NULL), 0);
    cr_assert_eq(count, 13);
    /* A second prune goes on from the anchor. */
    p.before_ms = AT(9);
    cr_assert_eq(store_write(st, s_prune_fn, &p), 0);
    cr_assert_eq(p.pruned, 3);
    cr_assert_eq(s_verify(st, &count, NULL), 0);
    store_destroy(&st);
}

Test(audit, prune_keeps_the_newest_record)
{
    store_t *st = s_chain(4);
    struct prune p = { .dbi = s_dbi(st, AUDIT_DB), .before_ms = UINT64_MAX };
    cr_assert_eq(store_write(st, s_prune_fn, &p), 0);
    cr_assert_eq(p.pruned, 3);
    uint64_t count = 0;
    cr_assert_eq(s_verify(st, &count, NULL), 0);
    cr_assert_eq(count, 4);
    store_destroy(&st);
}

Test(audit, nothing_old_enough_prunes_nothing_and_writes_no_anchor)
{
    store_t *st = s_chain(4);
    struct prune p = { .dbi = s_dbi(st, AUDIT_DB), .before_ms = AT(1) };
    cr_assert_eq(store_write(st, s_prune_fn, &p), 0);
    cr_assert_eq(p.pruned, 0);
    /* No anchor: deleting record 1 by hand is still caught. */
    struct tamper t = { .dbi = s_dbi(st, AUDIT_DB), .op = T_DELETE, .a = 1, .b = 1 };
    cr_assert_eq(store_write(st, s_tamper_fn, &t), 0);
    uint64_t bad = 0;
    cr_assert_eq(s_verify(st, NULL, &bad), TACNET_EAUDIT);
    cr_assert_eq(bad, 1);
    store_destroy(&st);
}

Test(audit, record_deleted_after_the_anchor_is_detected)
{
    store_t *st = s_chain(8);
    struct prune p = { .dbi = s_dbi(st, AUDIT_DB), .before_ms = AT(4) };
    cr_assert_eq(store_write(st, s_prune_fn, &p), 0);
    cr_assert_eq(p.pruned, 3);
    struct tamper t = { .dbi = s_dbi(st, AUDIT_DB), .op = T_DELETE, .a = 4, .b = 4 };
    cr_assert_eq(store_write(st, s_tamper_fn, &t), 0);
    uint64_t bad = 0;
    cr_assert_eq(s_verify(st, NULL, &bad), TACNET_EAUDIT);
    cr_assert_eq(bad, 4);
    store_destroy(&st);
}

/* A chain written before the head moved to the end keeps it under eight zero bytes. */
static int s_to_legacy_fn(MDB_txn *txn, void *arg)
{
    MDB_dbi dbi = *(MDB_dbi *)arg;
    uint8_t head[64], k[9];
    size_t len = 0;
    int rc = s_copy(txn, dbi, 0, head, &len);
    if (rc == 0)
        rc = store_del(txn, dbi, k, s_key(0, k));
    static const uint8_t zero[8] = { 0 };
    return rc ? rc : store_put(txn, dbi, zero, 8, head, len, 0);
}

Test(audit, a_chain_with_its_head_in_front_verifies_and_its_next_append_moves_it)
{
    store_t *st = s_chain(20);
    MDB_dbi dbi = s_dbi(st, AUDIT_DB);
    cr_assert_eq(store_write(st, s_to_legacy_fn, &dbi), 0);
    uint64_t count = 0, bad = 0;
    cr_assert_eq(s_verify(st, &count, &bad), 0);
    cr_assert_eq(count, 20);
    struct appends a = { .dbi = dbi, .from = 21, .n = 3 };
    cr_assert_eq(store_write(st, s_append_fn, &a), 0);
    cr_assert_eq(s_verify(st, &count, &bad), 0);
    cr_assert_eq(count, 23);
    MDB_txn *txn;
    MDB_val v;
    static const uint8_t zero[8] = { 0 };
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(store_get(txn, dbi, zero, 8, &v), TACNET_ENOTFOUND, "the front head is gone");
    uint8_t head[64];
    size_t len = 0;
    cr_assert_eq(s_copy(txn, dbi, 0, head, &len), 0);
    cr_assert_eq(store_u64_get(head), 23);
    mdb_txn_abort(txn);
    /* A head in both places (a copy put back at the end of an old-layout chain) is tampering,
     * not an old file: the chain no longer verifies. */
    cr_assert_eq(store_write(st, s_to_legacy_fn, &dbi), 0);
    struct tamper t2 = { .op = T_PUT, .a = 0, .vlen = len };
    memcpy(t2.val, head, len);
    t2.dbi = dbi;
    cr_assert_eq(store_write(st, s_tamper_fn, &t2), 0);
    cr_assert_eq(s_verify(st, &count, &bad), TACNET_EAUDIT, "two heads");
    store_destroy(&st);
}

Test(audit, an_append_refuses_when_a_record_sits_above_the_head)
{
    store_t *st = s_chain(10);
    MDB_dbi dbi = s_dbi(st, AUDIT_DB);
    /* Record 12 planted past the head (which says 10): the next append (11) must not go on
     * as if the chain were whole. */
    struct tamper t = { .op = T_PUT, .a = 12, .vlen = AUDIT_RECORD_BYTES };
    MDB_txn *txn;
    size_t len = 0;
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(s_copy(txn, dbi, 10, t.val, &len), 0);
    mdb_txn_abort(txn);
    t.dbi = dbi;
    cr_assert_eq(store_write(st, s_tamper_fn, &t), 0);
    struct appends a = { .dbi = dbi, .from = 11, .n = 1 };
    cr_assert_eq(store_write(st, s_append_fn, &a), TACNET_EEXISTS);
    store_destroy(&st);
}

struct append_now {
    MDB_dbi dbi, twin;
    const char *object;
    int code;
};

/* The same action twice: through audit_append_now into DBI, and as the record callers used to
 * build by hand into TWIN (a second chain in the "events" database). */
static int s_append_now_fn(MDB_txn *txn, void *arg)
{
    struct append_now *a = arg;
    int rc = audit_append_now(txn, a->dbi, "camhs/u-1042", "publish.refused", a->object, "refused",
                              a->code);
    if (rc != 0)
        return rc;
    audit_record_t rec;
    memset(&rec, 0, sizeof(rec));
    rec.at_ms = clock_now_ms();
    snprintf(rec.actor, sizeof(rec.actor), "%s", "camhs/u-1042");
    snprintf(rec.action, sizeof(rec.action), "%s", "publish.refused");
    snprintf(rec.object, sizeof(rec.object), "%s", a->object);
    snprintf(rec.outcome, sizeof(rec.outcome), "%s", "refused");
    snprintf(rec.reason, sizeof(rec.reason), "%s", a->code ? tacnet_errname(a->code) : "");
    rec.code = a->code;
    return audit_append(txn, a->twin, &rec, NULL);
}

static int s_first_fn(uint64_t seq, const audit_record_t *rec, void *arg)
{
    (void)seq;
    memcpy(arg, rec, sizeof(*rec));
    return 1;
}

Test(audit, append_now_stamps_the_time_names_the_code_and_writes_the_usual_record)
{
    clock_fake_set(1767225600123ULL);
    store_t *st = s_open();
    char object[100];
    memset(object, 'f', sizeof(object) - 1);
    object[sizeof(object) - 1] = '\0';
    struct append_now a = { .dbi = s_dbi(st, AUDIT_DB),
                            .twin = s_dbi(st, "events"),
                            .object = object,
                            .code = TACNET_ECONSENT };
    cr_assert_eq(store_write(st, s_append_now_fn, &a), 0);

    MDB_txn *txn;
    cr_assert_eq(store_read_begin(st, &txn), 0);
    audit_record_t rec;
    cr_assert_eq(audit_iterate(txn, a.dbi, 1, s_first_fn, &rec), 1);
    cr_assert_eq(rec.at_ms, 1767225600123ULL);
    cr_assert_str_eq(rec.actor, "camhs/u-1042");
    cr_assert_str_eq(rec.action, "publish.refused");
    cr_assert_eq(strlen(rec.object), sizeof(rec.object) - 1, "a long object is cut to fit");
    cr_assert_str_eq(rec.outcome, "refused");
    cr_assert_str_eq(rec.reason, "E_CONSENT");
    cr_assert_eq(rec.code, TACNET_ECONSENT);

    uint8_t mine[AUDIT_RECORD_BYTES], twin[AUDIT_RECORD_BYTES];
    size_t ml = 0, tl = 0;
    cr_assert_eq(s_copy(txn, a.dbi, 1, mine, &ml), 0);
    cr_assert_eq(s_copy(txn, a.twin, 1, twin, &tl), 0);
    cr_assert_eq(ml, AUDIT_RECORD_BYTES);
    cr_assert_eq(tl, ml);
    cr_assert_eq(memcmp(mine, twin, ml), 0, "the on-disk record is the one built by hand");
    uint64_t count = 0;
    cr_assert_eq(audit_verify(txn, a.dbi, &count, NULL), 0);
    cr_assert_eq(count, 1);
    mdb_txn_abort(txn);
    store_destroy(&st);
    clock_fake_set(0);
}

Test(audit, append_now_leaves_the_reason_empty_on_success)
{
    store_t *st = s_open();
    struct append_now a = { .dbi = s_dbi(st, AUDIT_DB),
                            .twin = s_dbi(st, "events"),
                            .object = "LA7-2026-000123",
                            .code = 0 };
    cr_assert_eq(store_write(st, s_append_now_fn, &a), 0);
    MDB_txn *txn;
    cr_assert_eq(store_read_begin(st, &txn), 0);
    audit_record_t rec;
    cr_assert_eq(audit_iterate(txn, a.dbi, 1, s_first_fn, &rec), 1);
    cr_assert_str_eq(rec.reason, "");
    cr_assert_eq(rec.code, 0);
    cr_assert_str_eq(rec.object, "LA7-2026-000123");
    mdb_txn_abort(txn);
    store_destroy(&st);
}
