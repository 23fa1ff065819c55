/* nftw() is XSI. */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "store.h"

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
    snprintf(s_dir, sizeof(s_dir), "/tmp/tacnet-store-XXXXXX");
    cr_assert_not_null(mkdtemp(s_dir));
}

static void s_teardown(void)
{
    nftw(s_dir, s_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static store_t *s_open(size_t map_size)
{
    static const char *const names[] = { "alpha", "beta" };
    int err = -1;
    store_t *st = store_open(s_dir, map_size, names, 2, &err);
    cr_assert_not_null(st, "store_open: %s", tacnet_errname(err));
    cr_assert_eq(err, 0);
    return st;
}

static MDB_dbi s_dbi(store_t *st, const char *name)
{
    MDB_dbi dbi;
    cr_assert_eq(store_dbi(st, name, &dbi), 0);
    return dbi;
}

/* Writes N values of SIZE bytes under BE keys FIRST.., each filled with its key's low byte. */
struct batch {
    MDB_dbi dbi;
    uint64_t first;
    uint64_t n;
    size_t size;
    unsigned flags;
    int calls;
    int fail_with; /* returned after the puts, to abort */
};

static int s_put_batch(MDB_txn *txn, void *arg)
{
    struct batch *b = arg;
    b->calls++;
    uint8_t *val = malloc(b->size ? b->size : 1);
    int rc = 0;
    for (uint64_t i = 0; i < b->n && rc == 0; i++) {
        uint8_t key[8];
        store_u64_put(key, b->first + i);
        memset(val, (int)((b->first + i) & 0xFF), b->size);
        rc = store_put(txn, b->dbi, key, 8, val, b->size, b->flags);
    }
    free(val);
    return rc ? rc : b->fail_with;
}

static int s_get_u64(store_t *st, MDB_dbi dbi, uint64_t k, MDB_val *out, uint8_t *copy, size_t cap)
{
    MDB_txn *txn;
    cr_assert_eq(store_read_begin(st, &txn), 0);
    uint8_t key[8];
    store_u64_put(key, k);
    MDB_val v;
    int rc = store_get(txn, dbi, key, 8, &v);
    if (rc == 0) {
        out->mv_size = v.mv_size;
        memcpy(copy, v.mv_data, v.mv_size < cap ? v.mv_size : cap);
    }
    mdb_txn_abort(txn);
    return rc;
}

TestSuite(store, .init = s_setup, .fini = s_teardown, .timeout = 60);

Test(store, put_then_get_round_trips_after_reopen)
{
    store_t *st = s_open(0);
    struct batch b = { .dbi = s_dbi(st, "alpha"), .first = 7, .n = 1, .size = 40 };
    cr_assert_eq(store_write(st, s_put_batch, &b), 0);
    store_destroy(&st);
    cr_assert_null(st);

    st = s_open(0);
    MDB_val v;
    uint8_t buf[64];
    cr_assert_eq(s_get_u64(st, s_dbi(st, "alpha"), 7, &v, buf, sizeof(buf)), 0);
    cr_assert_eq(v.mv_size, 40);
    for (size_t i = 0; i < 40; i++)
        cr_assert_eq(buf[i], 7);
    cr_assert_eq(s_get_u64(st, s_dbi(st, "alpha"), 8, &v, buf, sizeof(buf)), TACNET_ENOTFOUND);
    store_destroy(&st);
    store_destroy(&st); /* null-safe */
}

Test(store, be_u64_keys_round_trip_and_sort_numerically)
{
    uint64_t vals[] = { 0, 1, 255, 256, 0x0102030405060708ULL, UINT64_MAX };
    uint8_t prev[8] = { 0 };
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        uint8_t k[8];
        store_u64_put(k, vals[i]);
        cr_assert_eq(store_u64_get(k), vals[i]);
        if (i > 0)
            cr_assert_gt(memcmp(k, prev, 8), 0);
        memcpy(prev, k, 8);
    }
    uint8_t k[8];
    store_u64_put(k, 0x0102030405060708ULL);
    cr_assert_eq(k[0], 1);
    cr_assert_eq(k[7], 8);
}

Test(store, named_databases_keep_the_same_key_apart)
{
    store_t *st = s_open(0);
    struct batch a = { .dbi = s_dbi(st, "alpha"), .first = 1, .n = 1, .size = 3 };
    struct batch b = { .dbi = s_dbi(st, "beta"), .first = 1, .n = 1, .size = 9 };
    cr_assert_eq(store_write(st, s_put_batch, &a), 0);
    cr_assert_eq(store_write(st, s_put_batch, &b), 0);
    MDB_val v;
    uint8_t buf[16];
    cr_assert_eq(s_get_u64(st, a.dbi, 1, &v, buf, sizeof(buf)), 0);
    cr_assert_eq(v.mv_size, 3);
    cr_assert_eq(s_get_u64(st, b.dbi, 1, &v, buf, sizeof(buf)), 0);
    cr_assert_eq(v.mv_size, 9);
    MDB_dbi none;
    cr_assert_eq(store_dbi(st, "gamma", &none), TACNET_ENOTFOUND);
    store_destroy(&st);
}

Test(store, append_keeps_numeric_order_and_refuses_an_out_of_order_key)
{
    store_t *st = s_open(0);
    struct batch b = { .dbi = s_dbi(st, "alpha"), .first = 1, .n = 600, .size = 8 };
    b.flags = MDB_APPEND;
    cr_assert_eq(store_write(st, s_put_batch, &b), 0);

    MDB_txn *txn;
    MDB_cursor *cur;
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(mdb_cursor_open(txn, b.dbi, &cur), 0);
    MDB_val k, v;
    uint64_t expect = 1;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        cr_assert_eq(k.mv_size, 8);
        cr_assert_eq(store_u64_get(k.mv_data), expect);
        expect++;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    cr_assert_eq(expect, 601);

    /* 300 sorts below the last key: refused, and the whole batch with it. */
    struct batch late = { .dbi = b.dbi, .first = 601, .n = 1, .size = 8, .flags = MDB_APPEND };
    struct batch bad = { .dbi = b.dbi, .first = 300, .n = 1, .size = 8, .flags = MDB_APPEND };
    cr_assert_eq(store_write(st, s_put_batch, &late), 0);
    cr_assert_eq(store_write(st, s_put_batch, &bad), TACNET_EEXISTS);
    struct batch dup = { .dbi = b.dbi, .first = 5, .n = 1, .size = 8, .flags = MDB_NOOVERWRITE };
    cr_assert_eq(store_write(st, s_put_batch, &dup), TACNET_EEXISTS);
    store_destroy(&st);
}

Test(store, a_batch_larger_than_the_map_grows_it_and_commits_everything)
{
    const size_t small = 64 * 1024;
    store_t *st = s_open(small);
    size_t map0 = 0, used0 = 0;
    cr_assert_eq(store_usage(st, &map0, &used0), 0);
    cr_assert_eq(map0, small);

    /* ~3 MiB in one transaction: about 48 times the initial map. */
    struct batch b = { .dbi = s_dbi(st, "alpha"), .first = 1, .n = 1500, .size = 2000 };
    b.flags = MDB_APPEND;
    cr_assert_eq(store_write(st, s_put_batch, &b), 0);
    cr_assert_gt(b.calls, 1, "the batch should have hit TACNET_EMAPFULL and been re-run");

    size_t map1 = 0, used1 = 0;
    cr_assert_eq(store_usage(st, &map1, &used1), 0);
    cr_assert_geq(map1, small * 32);
    cr_assert_gt(used1, 1500 * 2000);
    cr_assert_leq(used1, map1);

    uint8_t *buf = malloc(2000);
    for (uint64_t i = 1; i <= 1500; i++) {
        MDB_val v;
        cr_assert_eq(s_get_u64(st, b.dbi, i, &v, buf, 2000), 0, "key %lu", (unsigned long)i);
        cr_assert_eq(v.mv_size, 2000);
        cr_assert_eq(buf[0], (uint8_t)(i & 0xFF));
        cr_assert_eq(buf[1999], (uint8_t)(i & 0xFF));
    }
    free(buf);
    store_destroy(&st);
}

static int s_bump_counter(MDB_txn *txn, void *arg)
{
    struct batch *b = arg;
    b->calls++;
    uint8_t key[8];
    store_u64_put(key, 1);
    uint64_t n = 0;
    MDB_val v;
    int rc = store_get(txn, b->dbi, key, 8, &v);
    if (rc == 0)
        n = store_u64_get(v.mv_data);
    else if (rc != TACNET_ENOTFOUND)
        return rc;
    uint8_t out[8];
    store_u64_put(out, n + 1);
    return store_put(txn, b->dbi, key, 8, out, 8, 0);
}

Test(store, map_full_at_commit_is_retried_and_the_write_lands_once)
{
    store_t *st = s_open(128 * 1024);
    struct batch b = { .dbi = s_dbi(st, "beta") };
    store_test_fail_commits(st, 2);
    cr_assert_eq(store_write(st, s_bump_counter, &b), 0);
    cr_assert_eq(b.calls, 3);

    MDB_val v;
    uint8_t buf[8];
    cr_assert_eq(s_get_u64(st, b.dbi, 1, &v, buf, sizeof(buf)), 0);
    cr_assert_eq(store_u64_get(buf), 1);

    size_t map = 0;
    cr_assert_eq(store_usage(st, &map, NULL), 0);
    cr_assert_eq(map, 4 * 128 * 1024);

    /* The hook is spent: the next write commits first time. */
    b.calls = 0;
    cr_assert_eq(store_write(st, s_bump_counter, &b), 0);
    cr_assert_eq(b.calls, 1);
    cr_assert_eq(s_get_u64(st, b.dbi, 1, &v, buf, sizeof(buf)), 0);
    cr_assert_eq(store_u64_get(buf), 2);
    store_destroy(&st);
}

/* Records what store_put answered when the map was full. */
struct full_probe {
    MDB_dbi dbi;
    int calls;
    int first_rc; /* store_put's answer on the first run */
};

static int s_fill_once(MDB_txn *txn, void *arg)
{
    struct full_probe *f = arg;
    f->calls++;
    static uint8_t val[4000];
    int rc = 0;
    for (uint64_t i = 1; i <= 200 && rc == 0; i++) {
        uint8_t key[8];
        store_u64_put(key, i);
        rc = store_put(txn, f->dbi, key, 8, val, sizeof(val), MDB_APPEND);
    }
    if (f->calls == 1)
        f->first_rc = rc;
    return rc;
}

Test(store, a_full_map_is_emapfull_from_put_and_store_write_grows_on_it)
{
    store_t *st = s_open(64 * 1024);
    struct full_probe f = { .dbi = s_dbi(st, "alpha") };
    cr_assert_eq(store_write(st, s_fill_once, &f), 0);
    cr_assert_eq(f.first_rc, TACNET_EMAPFULL, "store_put answered %d (%s)", f.first_rc,
                 tacnet_errname(f.first_rc));
    cr_assert_gt(f.calls, 1, "TACNET_EMAPFULL must make store_write grow and run FN again");
    store_destroy(&st);
}

Test(store, cursor_steps_answer_in_tacnet_codes)
{
    store_t *st = s_open(0);
    struct batch b = { .dbi = s_dbi(st, "alpha"), .first = 1, .n = 3, .size = 8 };
    cr_assert_eq(store_write(st, s_put_batch, &b), 0);
    MDB_txn *txn;
    MDB_cursor *cur;
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(mdb_cursor_open(txn, b.dbi, &cur), 0);
    uint8_t key[8];
    store_u64_put(key, 3);
    MDB_val k = { 8, key }, v;
    cr_assert_eq(store_cursor_get(cur, &k, &v, MDB_SET_RANGE), 0);
    cr_assert_eq(store_u64_get(k.mv_data), 3);
    cr_assert_eq(store_cursor_get(cur, &k, &v, MDB_NEXT), TACNET_ENOTFOUND);
    store_u64_put(key, 4);
    k = (MDB_val){ 8, key };
    cr_assert_eq(store_cursor_get(cur, &k, &v, MDB_SET_RANGE), TACNET_ENOTFOUND);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    store_destroy(&st);
}

Test(store, a_peek_reads_another_environment_and_names_a_missing_one)
{
    store_t *st = s_open(0);
    struct batch b = { .dbi = s_dbi(st, "beta"), .first = 9, .n = 1, .size = 5 };
    cr_assert_eq(store_write(st, s_put_batch, &b), 0);
    store_destroy(&st);

    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    cr_assert_eq(store_peek_begin(s_dir, &env, &txn), 0);
    MDB_dbi dbi;
    cr_assert_eq(store_lmdb_err(mdb_dbi_open(txn, "beta", 0, &dbi)), 0);
    uint8_t key[8];
    store_u64_put(key, 9);
    MDB_val v;
    cr_assert_eq(store_get(txn, dbi, key, 8, &v), 0);
    cr_assert_eq(v.mv_size, 5);
    cr_assert_eq(store_lmdb_err(mdb_dbi_open(txn, "gamma", 0, &dbi)), TACNET_ENOTFOUND);
    store_peek_end(&env, &txn);
    cr_assert_null(env);
    cr_assert_null(txn);
    store_peek_end(&env, &txn); /* null-safe */

    char none[96];
    snprintf(none, sizeof(none), "%s/none", s_dir);
    cr_assert_eq(store_peek_begin(none, &env, &txn), TACNET_ENOTFOUND);
    cr_assert_null(env);
    cr_assert_null(txn);
}

Test(store, map_full_that_never_clears_gives_emapfull_and_writes_nothing)
{
    store_t *st = s_open(64 * 1024);
    struct batch b = { .dbi = s_dbi(st, "beta") };
    store_test_fail_commits(st, 1000);
    cr_assert_eq(store_write(st, s_bump_counter, &b), TACNET_EMAPFULL);
    cr_assert_gt(b.calls, 2);
    cr_assert_lt(b.calls, 1000, "growth must be bounded");
    MDB_val v;
    uint8_t buf[8];
    cr_assert_eq(s_get_u64(st, b.dbi, 1, &v, buf, sizeof(buf)), TACNET_ENOTFOUND);
    store_destroy(&st);
}

Test(store, an_error_from_fn_aborts_and_nothing_is_written)
{
    store_t *st = s_open(0);
    struct batch b = { .dbi = s_dbi(st, "alpha"), .first = 1, .n = 10, .size = 16 };
    b.fail_with = TACNET_EFIELD;
    cr_assert_eq(store_write(st, s_put_batch, &b), TACNET_EFIELD);
    cr_assert_eq(b.calls, 1);
    MDB_val v;
    uint8_t buf[16];
    for (uint64_t i = 1; i <= 10; i++)
        cr_assert_eq(s_get_u64(st, b.dbi, i, &v, buf, sizeof(buf)), TACNET_ENOTFOUND);
    store_destroy(&st);
}

Test(store, a_directory_open_to_group_or_others_is_refused)
{
    static const mode_t modes[] = { 0755, 0750, 0701 };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        char sub[128];
        snprintf(sub, sizeof(sub), "%s/wide%zu", s_dir, i);
        cr_assert_eq(mkdir(sub, 0700), 0);
        cr_assert_eq(chmod(sub, modes[i]), 0);
        int err = 0;
        store_t *st = store_open(sub, 0, NULL, 0, &err);
        cr_assert_null(st);
        cr_assert_eq(err, TACNET_EPERM, "mode %o gave %s", (unsigned)modes[i], tacnet_errname(err));
        cr_assert_eq(access(sub, F_OK), 0);
        char data[160];
        snprintf(data, sizeof(data), "%s/data.mdb", sub);
        cr_assert_neq(access(data, F_OK), 0, "nothing may be created in a refused directory");
    }
}

Test(store, a_missing_directory_is_created_private)
{
    char sub[128];
    snprintf(sub, sizeof(sub), "%s/new", s_dir);
    int err = -1;
    store_t *st = store_open(sub, 0, NULL, 0, &err);
    cr_assert_not_null(st, "%s", tacnet_errname(err));
    struct stat sb;
    cr_assert_eq(stat(sub, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0700);
    store_destroy(&st);
}

Test(store, a_garbage_data_file_is_reported_corrupt)
{
    char data[128];
    snprintf(data, sizeof(data), "%s/data.mdb", s_dir);
    int fd = open(data, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(fd, 0);
    uint8_t junk[16384];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 131 + 7);
    cr_assert_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    close(fd);
    int err = 0;
    store_t *st = store_open(s_dir, 0, NULL, 0, &err);
    cr_assert_null(st);
    cr_assert_eq(err, TACNET_ECORRUPT, "got %s", tacnet_errname(err));
}

static int s_put_oversized_key(MDB_txn *txn, void *arg)
{
    struct batch *b = arg;
    static const uint8_t big[4096];
    return store_put(txn, b->dbi, big, sizeof(big), "v", 1, 0);
}

Test(store, bad_arguments_are_rejected)
{
    const char *names[STORE_MAX_DBS + 1];
    for (size_t i = 0; i <= STORE_MAX_DBS; i++)
        names[i] = "x";
    int err = 0;
    cr_assert_null(store_open(s_dir, 0, names, STORE_MAX_DBS + 1, &err));
    cr_assert_eq(err, TACNET_EINVAL);
    cr_assert_null(store_open(s_dir, 0, NULL, 1, &err));
    cr_assert_eq(err, TACNET_EINVAL);
    cr_assert_null(store_open(NULL, 0, NULL, 0, &err));
    cr_assert_eq(err, TACNET_EINVAL);
    store_t *st = s_open(0);
    cr_assert_eq(store_write(st, NULL, NULL), TACNET_EINVAL);
    struct batch b = { .dbi = s_dbi(st, "alpha") };
    cr_assert_eq(store_write(st, s_put_oversized_key, &b), TACNET_EINVAL);
    store_destroy(&st);
}

Test(store, usage_reports_the_map_and_grows_with_data)
{
    store_t *st = s_open(1024 * 1024);
    size_t map = 0, used0 = 0, used1 = 0;
    cr_assert_eq(store_usage(st, &map, &used0), 0);
    cr_assert_eq(map, 1024 * 1024);
    cr_assert_gt(used0, 0);
    cr_assert_leq(used0, map);
    struct batch b = { .dbi = s_dbi(st, "alpha"), .first = 1, .n = 100, .size = 1000 };
    cr_assert_eq(store_write(st, s_put_batch, &b), 0);
    cr_assert_eq(store_usage(st, NULL, &used1), 0);
    cr_assert_gt(used1, used0 + 100 * 1000 / 2);
    cr_assert_leq(used1, map);
    store_destroy(&st);
}

Test(store, lmdb_codes_map_to_tacnet_codes)
{
    cr_assert_eq(store_lmdb_err(0), 0);
    cr_assert_eq(store_lmdb_err(MDB_NOTFOUND), TACNET_ENOTFOUND);
    cr_assert_eq(store_lmdb_err(MDB_KEYEXIST), TACNET_EEXISTS);
    cr_assert_eq(store_lmdb_err(MDB_MAP_FULL), TACNET_EMAPFULL);
    cr_assert_eq(store_lmdb_err(MDB_CORRUPTED), TACNET_ECORRUPT);
    cr_assert_eq(store_lmdb_err(MDB_INVALID), TACNET_ECORRUPT);
    cr_assert_eq(store_lmdb_err(MDB_VERSION_MISMATCH), TACNET_ECORRUPT);
    cr_assert_eq(store_lmdb_err(ENOSPC), TACNET_EDISKFULL);
    cr_assert_eq(store_lmdb_err(MDB_TXN_FULL), TACNET_ESTORE);
}

Test(store, the_opened_environment_has_no_durability_weakening_flag)
{
    store_t *st = s_open(0);
    unsigned flags = ~0u;
    cr_assert_eq(store_env_flags(st, &flags), 0);
    cr_assert_eq(flags & STORE_FLAGS_BANNED, 0, "flags 0x%x", flags);
    cr_assert_eq(flags & (MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP | MDB_MAPASYNC), 0);
    store_destroy(&st);
}

Test(store, network_and_fuse_filesystems_are_named_and_local_ones_pass)
{
    cr_assert_str_eq(store_fs_refused(0x6969UL), "NFS");
    cr_assert_str_eq(store_fs_refused(0xFF534D42UL), "CIFS");
    cr_assert_str_eq(store_fs_refused(0xFE534D42UL), "SMB2");
    cr_assert_str_eq(store_fs_refused(0x65735546UL), "FUSE");
    cr_assert_null(store_fs_refused(0xEF53UL));     /* ext4 */
    cr_assert_null(store_fs_refused(0x01021994UL)); /* tmpfs */
    cr_assert_null(store_fs_refused(0x58465342UL)); /* xfs */
    const char *name = "x";
    cr_assert_eq(store_fs_check(s_dir, &name), 0);
    cr_assert_null(name);
}

Test(store, a_data_dir_that_reports_nfs_is_refused_with_enetfs)
{
    setenv("TACNET_FAULT_FS_MAGIC", "0x6969", 1);
    const char *name = NULL;
    cr_assert_eq(store_fs_check(s_dir, &name), TACNET_ENETFS);
    cr_assert_str_eq(name, "NFS");
    static const char *const names[] = { "alpha" };
    int err = 0;
    store_t *st = store_open(s_dir, 0, names, 1, &err);
    unsetenv("TACNET_FAULT_FS_MAGIC");
    cr_assert_null(st);
    cr_assert_eq(err, TACNET_ENETFS);
    struct stat sb;
    char path[128];
    snprintf(path, sizeof(path), "%s/data.mdb", s_dir);
    cr_assert_neq(stat(path, &sb), 0, "nothing may be created on a refused filesystem");
}

Test(store, growth_stops_at_the_ceiling_with_emapfull_and_nothing_partial)
{
    store_t *st = s_open(64 * 1024);
    cr_assert_eq(store_map_max_set(st, 1u << 20), 0);
    MDB_dbi a = s_dbi(st, "alpha");
    struct batch small = { .dbi = a, .first = 1, .n = 100, .size = 1000, .flags = MDB_APPEND };
    cr_assert_eq(store_write(st, s_put_batch, &small), 0);
    /* 2 MB in one transaction cannot fit under a 1 MiB ceiling. */
    struct batch big = { .dbi = a, .first = 1000, .n = 1000, .size = 2000, .flags = MDB_APPEND };
    cr_assert_eq(store_write(st, s_put_batch, &big), TACNET_EMAPFULL);
    size_t map = 0;
    cr_assert_eq(store_usage(st, &map, NULL), 0);
    cr_assert_leq(map, 1u << 20);
    MDB_val v;
    uint8_t buf[2000];
    cr_assert_eq(s_get_u64(st, a, 1000, &v, buf, sizeof(buf)), TACNET_ENOTFOUND);
    cr_assert_eq(s_get_u64(st, a, 100, &v, buf, sizeof(buf)), 0);
    /* A bigger ceiling lets the same write through. */
    cr_assert_eq(store_map_max_set(st, 8u << 20), 0);
    cr_assert_eq(store_write(st, s_put_batch, &big), 0);
    cr_assert_eq(s_get_u64(st, a, 1999, &v, buf, sizeof(buf)), 0);
    store_destroy(&st);
}

static int s_count_alpha(const char *db, const MDB_val *k, const MDB_val *v, void *arg)
{
    (void)k;
    (void)v;
    if (strcmp(db, "alpha") == 0)
        (*(int *)arg)++;
    return strcmp(db, "beta") == 0 ? TACNET_ECORRUPT : 0;
}

Test(store, the_walk_visits_every_record_and_stops_at_a_refused_one)
{
    store_t *st = s_open(0);
    struct batch b = { .dbi = s_dbi(st, "alpha"), .first = 1, .n = 50, .size = 100 };
    cr_assert_eq(store_write(st, s_put_batch, &b), 0);
    int alpha = 0;
    size_t n = 0;
    cr_assert_eq(store_walk(st, s_count_alpha, &alpha, &n), 0);
    cr_assert_eq(alpha, 50);
    cr_assert_geq(n, 50 + 2, "the main database's two records are walked too");
    struct batch c = { .dbi = s_dbi(st, "beta"), .first = 1, .n = 1, .size = 10 };
    cr_assert_eq(store_write(st, s_put_batch, &c), 0);
    cr_assert_eq(store_walk(st, s_count_alpha, &alpha, NULL), TACNET_ECORRUPT);
    store_destroy(&st);
}

Test(store, backup_is_0600_compact_and_restores_into_a_new_directory)
{
    store_t *st = s_open(0);
    MDB_dbi a = s_dbi(st, "alpha");
    struct batch b = { .dbi = a, .first = 1, .n = 300, .size = 500 };
    cr_assert_eq(store_write(st, s_put_batch, &b), 0);
    char out[128], dir2[128];
    snprintf(out, sizeof(out), "%s/backup.mdb", s_dir);
    snprintf(dir2, sizeof(dir2), "%s/restored", s_dir);
    /* Taken while the store is open, as from a running daemon. */
    cr_assert_eq(store_backup(s_dir, out), 0);
    struct stat sb;
    cr_assert_eq(stat(out, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600);
    cr_assert_eq(store_backup(s_dir, out), TACNET_EEXISTS, "never over an existing file");
    store_destroy(&st);

    cr_assert_eq(store_restore(out, dir2), 0);
    cr_assert_eq(store_restore(out, dir2), TACNET_EEXISTS, "never over a restored store");
    static const char *const names[] = { "alpha", "beta" };
    int err = 0;
    store_t *r = store_open(dir2, 0, names, 2, &err);
    cr_assert_not_null(r, "%s", tacnet_errname(err));
    MDB_val v;
    uint8_t buf[500];
    cr_assert_eq(s_get_u64(r, s_dbi(r, "alpha"), 300, &v, buf, sizeof(buf)), 0);
    cr_assert_eq(v.mv_size, 500);
    cr_assert_eq(buf[0], 300 & 0xFF);
    store_destroy(&r);
}

Test(store, restoring_a_file_that_is_not_lmdb_is_refused_and_leaves_nothing)
{
    char junk[128], dir2[128], path[160];
    snprintf(junk, sizeof(junk), "%s/junk", s_dir);
    snprintf(dir2, sizeof(dir2), "%s/r2", s_dir);
    FILE *f = fopen(junk, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 10000; i++)
        fputc(i & 0xFF, f);
    fclose(f);
    cr_assert_eq(store_restore(junk, dir2), TACNET_ECORRUPT);
    snprintf(path, sizeof(path), "%s/data.mdb", dir2);
    struct stat sb;
    cr_assert_neq(stat(path, &sb), 0);
    cr_assert_eq(store_backup("/nonexistent-tacnet-dir", junk), TACNET_ENOTFOUND);
}

Test(store, commit_times_are_counted_only_for_commits_that_landed)
{
    store_t *st = s_open(0);
    store_commit_stats_t cs;
    store_commit_stats(st, &cs);
    cr_assert_eq(cs.commits, 0);
    cr_assert_eq(cs.p50_us, 0);
    cr_assert_eq(cs.max_us, 0);
    struct batch b = { .dbi = s_dbi(st, "alpha"), .first = 1, .n = 4, .size = 16 };
    for (int i = 0; i < 20; i++) {
        b.first = 1 + (uint64_t)i * 4;
        cr_assert_eq(store_write(st, s_put_batch, &b), 0);
    }
    b.fail_with = TACNET_EFIELD; /* aborted: no commit, nothing timed */
    cr_assert_eq(store_write(st, s_put_batch, &b), TACNET_EFIELD);
    store_commit_stats(st, &cs);
    cr_assert_eq(cs.commits, 20);
    /* Every commit synced, so each took some time; the quantiles are ordered and bounded by
     * the slowest, and the total is at least the slowest. */
    cr_assert_gt(cs.max_us, 0);
    cr_assert_gt(cs.p50_us, 0);
    cr_assert_leq(cs.p50_us, cs.p99_us);
    cr_assert_leq(cs.p99_us, cs.max_us);
    cr_assert_geq(cs.total_us, cs.max_us);
    store_destroy(&st);
}

Test(store, the_data_file_keeps_written_zeros_ahead_of_the_last_page)
{
    store_t *st = s_open(0);
    struct batch b = { .dbi = s_dbi(st, "alpha"), .first = 1, .n = 100, .size = 1000 };
    cr_assert_eq(store_write(st, s_put_batch, &b), 0);
    b.first = 101;
    cr_assert_eq(store_write(st, s_put_batch, &b), 0); /* the first write extended ahead */
    size_t map = 0, used = 0;
    cr_assert_eq(store_usage(st, &map, &used), 0);
    char path[300];
    snprintf(path, sizeof(path), "%s/data.mdb", s_dir);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_geq((size_t)sb.st_size, used + (2u << 20), "file %lld, used %zu",
                  (long long)sb.st_size, used);
    cr_assert_leq((size_t)sb.st_size, map);
    /* The tail is zeros, really written (not a hole): its blocks are allocated. */
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, (long)used, SEEK_SET), 0);
    int c, nonzero = 0;
    while ((c = fgetc(f)) != EOF)
        nonzero |= c;
    fclose(f);
    cr_assert_eq(nonzero, 0);
    cr_assert_geq((long long)sb.st_blocks * 512, (long long)sb.st_size - 4096);
    store_destroy(&st);
    /* Reopened, LMDB goes by its meta page, not the file's size: everything reads back. */
    st = s_open(0);
    MDB_val v;
    uint8_t buf[1000];
    for (uint64_t i = 1; i <= 200; i += 37)
        cr_assert_eq(s_get_u64(st, s_dbi(st, "alpha"), i, &v, buf, sizeof(buf)), 0);
    store_destroy(&st);
}

static off_t s_file_size(void)
{
    char path[300];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/data.mdb", s_dir);
    cr_assert_eq(stat(path, &sb), 0);
    return sb.st_size;
}

/* Writes of about 100 KiB each until the file grows; returns by how much (0: not within 200). */
static off_t s_write_until_extended(store_t *st, struct batch *b)
{
    off_t before = s_file_size();
    for (int i = 0; i < 200; i++) {
        cr_assert_eq(store_write(st, s_put_batch, b), 0);
        b->first += b->n;
        if (s_file_size() != before)
            return s_file_size() - before;
    }
    return 0;
}

/* The zeros ahead grow by small steps, so no single write holds the disk for long: 1 MiB after a
 * quiet second, doubled while extensions follow each other (fast growth). */
Test(store, the_data_file_is_extended_by_small_steps_that_grow_only_with_fast_growth)
{
    store_t *st = s_open(0);
    struct batch b = { .dbi = s_dbi(st, "alpha"), .first = 1, .n = 100, .size = 1000 };
    off_t step = s_write_until_extended(st, &b);
    cr_assert_eq(step, (off_t)1 << 20, "first step %lld", (long long)step);
    off_t last = step;
    for (int k = 0; k < 2; k++) { /* back to back: each step twice the last */
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        step = s_write_until_extended(st, &b);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        /* A machine so slow that the writes took over a second starts again from 1 MiB. */
        off_t want = t1.tv_sec - t0.tv_sec >= 1 ? (off_t)1 << 20 : last * 2;
        if (step != want)
            cr_assert(t1.tv_sec - t0.tv_sec >= 1 && step == last * 2, "step %lld after %lld",
                      (long long)step, (long long)last);
        last = step;
    }
    usleep(1100 * 1000);
    step = s_write_until_extended(st, &b);
    cr_assert_eq(step, (off_t)1 << 20, "step after a quiet second %lld", (long long)step);
    store_destroy(&st);
}

/* What the replication hooks saw: begins, records (db name, delete or not, key's first byte),
 * precommits, and what the precommit answers. */
struct seen {
    int begins, records, deletes, precommits;
    char db[16];
    int refuse;      /* precommit's answer */
    int postcommits; /* after commits that succeeded */
    int unconfirmed; /* postcommit's answer */
};

static void s_hook_begin(void *arg)
{
    struct seen *s = arg;
    s->begins++;
    s->records = s->deletes = 0;
}

static int s_hook_record(void *arg, const char *db, int del, const MDB_val *k, const MDB_val *v,
                         unsigned flags)
{
    struct seen *s = arg;
    (void)flags;
    cr_assert_eq(k->mv_size, 8);
    cr_assert(del ? v == NULL : v != NULL);
    snprintf(s->db, sizeof(s->db), "%s", db);
    s->records++;
    s->deletes += del;
    return 0;
}

static int s_hook_precommit(void *arg, MDB_txn *txn)
{
    struct seen *s = arg;
    cr_assert_not_null(txn);
    s->precommits++;
    return s->refuse;
}

static int s_hook_postcommit(void *arg)
{
    struct seen *s = arg;
    s->postcommits++;
    return s->unconfirmed;
}

static int s_del_two(MDB_txn *txn, void *arg)
{
    struct batch *b = arg;
    uint8_t key[8];
    store_u64_put(key, 1);
    int rc = store_del(txn, b->dbi, key, 8);
    store_u64_put(key, 99); /* absent: a failed delete is not a write */
    if (rc == 0 && store_del(txn, b->dbi, key, 8) != TACNET_ENOTFOUND)
        rc = TACNET_ECORRUPT;
    return rc;
}

Test(store, hooks_see_each_write_and_a_refused_precommit_commits_nothing)
{
    store_t *st = s_open(0);
    static const store_hooks_t hooks = { s_hook_begin, s_hook_record, s_hook_precommit,
                                         s_hook_postcommit };
    struct seen seen = { 0 };
    store_hooks_set(st, &hooks, &seen);
    struct batch b = { .dbi = s_dbi(st, "beta"), .first = 1, .n = 3, .size = 4 };
    cr_assert_eq(store_write(st, s_put_batch, &b), 0);
    cr_assert_eq(seen.begins, 1);
    cr_assert_eq(seen.records, 3);
    cr_assert_eq(seen.precommits, 1);
    cr_assert_eq(seen.postcommits, 1);
    cr_assert_str_eq(seen.db, "beta");
    cr_assert_str_eq(store_dbi_name(st, b.dbi), "beta");

    /* A run after a full map starts the capture again: the hooks see one transaction. */
    store_test_fail_commits(st, 1);
    b.first = 10;
    cr_assert_eq(store_write(st, s_put_batch, &b), 0);
    cr_assert_eq(seen.begins, 3);
    cr_assert_eq(seen.records, 3);
    cr_assert_eq(seen.postcommits, 2, "postcommit runs once, after the commit that succeeded");

    cr_assert_eq(store_write(st, s_del_two, &b), 0);
    cr_assert_eq(seen.records, 1);
    cr_assert_eq(seen.deletes, 1);

    seen.refuse = TACNET_EUNAVAILABLE; /* e.g. the stream did not confirm: nothing lands */
    b.first = 20;
    cr_assert_eq(store_write(st, s_put_batch, &b), TACNET_EUNAVAILABLE);
    MDB_txn *txn;
    MDB_val v;
    uint8_t key[8];
    store_u64_put(key, 20);
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(store_get(txn, b.dbi, key, 8, &v), TACNET_ENOTFOUND);
    store_u64_put(key, 10);
    cr_assert_eq(store_get(txn, b.dbi, key, 8, &v), 0);
    mdb_txn_abort(txn);
    cr_assert_eq(seen.postcommits, 3, "a refused precommit commits nothing: no postcommit");

    /* Postcommit's code is store_write's, although the transaction is committed (the
     * replicator's "not confirmed": the caller must not act on it). */
    seen.refuse = 0;
    seen.unconfirmed = TACNET_EFENCED;
    b.first = 30;
    cr_assert_eq(store_write(st, s_put_batch, &b), TACNET_EFENCED);
    cr_assert_eq(seen.postcommits, 4);
    store_u64_put(key, 30);
    cr_assert_eq(store_read_begin(st, &txn), 0);
    cr_assert_eq(store_get(txn, b.dbi, key, 8, &v), 0);
    mdb_txn_abort(txn);

    store_hooks_set(st, NULL, NULL); /* no hooks: writes as before */
    cr_assert_eq(store_write(st, s_put_batch, &b), 0);
    cr_assert_eq(seen.precommits, 6, "two runs of the full-map write, then one each");
    cr_assert_eq(seen.postcommits, 4);
    store_destroy(&st);
}
