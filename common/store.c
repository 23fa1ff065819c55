/* store: the process's one LMDB environment, with map growth on MDB_MAP_FULL. */
#define _GNU_SOURCE /* O_DIRECT */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <fcntl.h>
#include <unistd.h>

#include "bytes.h"
#include "clock.h"
#include "err.h"
#include "log.h"

/* Each store_write() may double the map this many times before giving up: 64 KiB grows to
 * 4 GiB, 64 MiB to 4 TiB of (sparse, address-space-only) map. A batch that needs more than
 * that is a bug in the caller, not a reason to eat the address space. */
#define STORE_GROW_MAX 16
/* Another process growing the map under us is rare; more than a few in a row means a fight. */
#define STORE_RESIZED_MAX 8
#define STORE_MAP_DEFAULT ((size_t)64 << 20)

struct store {
    MDB_env *env;
    size_t n;
    char *names[STORE_MAX_DBS];
    MDB_dbi dbis[STORE_MAX_DBS];
    int fail_commits;
    size_t map_max; /* 0: no ceiling beyond STORE_GROW_MAX doublings */
    char *dir;
    int unmapped; /* a map growth failed and LMDB dropped the mapping: refuse everything */
    uint64_t extend_retry_us; /* after a failed extension (a full disk), not before this */
    off_t file_end;           /* the data file's size when last looked at: never more than now */
    off_t extend_step;        /* the last extension's step (s_extend_ahead) */
    uint64_t extend_last_us;  /* and when it was made (0: none yet) */
    uint64_t commits, commit_total_us;
    uint32_t commit_max_us;
    uint32_t hist[STORE_HIST_MAX_US / STORE_HIST_STEP_US + 1];
    const store_hooks_t *hooks; /* a replicator watching this store's writes, or NULL */
    void *hooks_arg;
};

static void s_commit_timed(store_t *self, uint64_t us)
{
    size_t top = sizeof(self->hist) / sizeof(self->hist[0]) - 1;
    size_t b = us / STORE_HIST_STEP_US;
    self->hist[b < top ? b : top]++;
    self->commits++;
    self->commit_total_us += us;
    if (us > self->commit_max_us)
        self->commit_max_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* The upper edge of the bucket holding the Q-th quantile (per mille). */
static uint32_t s_quantile_us(const store_t *self, unsigned q_permille)
{
    size_t top = sizeof(self->hist) / sizeof(self->hist[0]) - 1;
    uint64_t want = (self->commits * q_permille + 999) / 1000, seen = 0;
    for (size_t b = 0; b <= top; b++) {
        seen += self->hist[b];
        if (seen >= want && want > 0)
            return b == top ? self->commit_max_us : (uint32_t)((b + 1) * STORE_HIST_STEP_US);
    }
    return 0;
}

void store_commit_stats(const store_t *self, store_commit_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!self)
        return;
    out->commits = self->commits;
    out->total_us = self->commit_total_us;
    out->max_us = self->commit_max_us;
    out->p50_us = s_quantile_us(self, 500);
    out->p99_us = s_quantile_us(self, 990);
    if (out->p50_us > out->max_us)
        out->p50_us = out->max_us;
    if (out->p99_us > out->max_us)
        out->p99_us = out->max_us;
}

/* Filesystems whose locking or write ordering LMDB cannot rely on (lmdb.h caveats). */
static const struct {
    unsigned long magic;
    const char *name;
} s_refused_fs[] = {
    { 0x6969UL, "NFS" },      { 0x517BUL, "SMB" },    { 0xFF534D42UL, "CIFS" },
    { 0xFE534D42UL, "SMB2" }, { 0x01021997UL, "9P" }, { 0x65735546UL, "FUSE" },
};

const char *store_fs_refused(unsigned long magic)
{
    magic &= 0xFFFFFFFFUL;
    for (size_t i = 0; i < sizeof(s_refused_fs) / sizeof(s_refused_fs[0]); i++)
        if (magic == s_refused_fs[i].magic)
            return s_refused_fs[i].name;
    return NULL;
}

int store_fs_check(const char *dir, const char **fs_name)
{
    struct statfs sfs;
    if (fs_name)
        *fs_name = NULL;
    if (!dir || statfs(dir, &sfs) != 0)
        return TACNET_ESTORE;
    unsigned long magic = (unsigned long)sfs.f_type;
#ifndef TACNET_NO_FAULT
    /* Test builds only: pretend the directory is on the filesystem with this magic, so the
     * refusal of a network filesystem can be tested without one (reliability T04). */
    const char *fake = getenv("TACNET_FAULT_FS_MAGIC");
    if (fake && *fake)
        magic = strtoul(fake, NULL, 0);
#endif
    const char *name = store_fs_refused(magic);
    if (fs_name)
        *fs_name = name;
    return name ? TACNET_ENETFS : 0;
}

void store_open_why(const char *dir, const char *what, int err, char *why, size_t whylen)
{
    const char *fs = NULL;
    if (err == TACNET_ENETFS)
        store_fs_check(dir, &fs);
    snprintf(why, whylen, "%s: cannot open the %s: %s%s%s%s", dir, what, tacnet_strerror(err),
             fs ? " (statfs: " : "", fs ? fs : "", fs ? ")" : "");
}

static int s_check_dir(const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return TACNET_ESTORE;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return TACNET_ESTORE;
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        return TACNET_EPERM;
    return store_fs_check(dir, NULL);
}

int store_lmdb_err(int mdb_rc)
{
    switch (mdb_rc) {
    case MDB_SUCCESS:
        return 0;
    case MDB_NOTFOUND:
        return TACNET_ENOTFOUND;
    case MDB_KEYEXIST:
        return TACNET_EEXISTS;
    case MDB_MAP_FULL:
        return TACNET_EMAPFULL;
    case MDB_INVALID:
    case MDB_CORRUPTED:
    case MDB_VERSION_MISMATCH:
    case MDB_PAGE_NOTFOUND:
        return TACNET_ECORRUPT;
    case MDB_BAD_VALSIZE:
    case EINVAL:
        return TACNET_EINVAL;
    case ENOSPC:
    case EDQUOT:
        return TACNET_EDISKFULL;
    case ENOMEM:
        return TACNET_ENOMEM;
    case EIO:
        return TACNET_EIO;
    default:
        return TACNET_ESTORE;
    }
}

static int s_check_length(MDB_env *env, const char *dir)
{
    MDB_envinfo info;
    MDB_stat st;
    char path[4096];
    struct stat sb;
    if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &st) != 0)
        return TACNET_ESTORE;
    if (snprintf(path, sizeof(path), "%s/data.mdb", dir) >= (int)sizeof(path) ||
        stat(path, &sb) != 0)
        return TACNET_ESTORE;
    if ((uint64_t)sb.st_size < ((uint64_t)info.me_last_pgno + 1) * st.ms_psize)
        return TACNET_ECORRUPT;
    return 0;
}

static int s_open_dbis(store_t *self, const char *const *names, size_t n)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(self->env, NULL, 0, &txn);
    if (rc != 0)
        return store_lmdb_err(rc);
    for (size_t i = 0; i < n; i++) {
        rc = mdb_dbi_open(txn, names[i], MDB_CREATE, &self->dbis[i]);
        if (rc != 0) {
            mdb_txn_abort(txn);
            return store_lmdb_err(rc);
        }
        self->names[i] = xstrdup(names[i]);
        self->n = i + 1;
    }
    rc = mdb_txn_commit(txn);
    return store_lmdb_err(rc);
}

store_t *store_open(const char *dir, size_t map_size, const char *const *names, size_t n, int *err)
{
    store_t *self = NULL;
    int rc = 0;
    if (!dir || !*dir || n > STORE_MAX_DBS || (n > 0 && !names)) {
        rc = TACNET_EINVAL;
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        if (!names[i] || !*names[i]) {
            rc = TACNET_EINVAL;
            goto fail;
        }
    }
    rc = s_check_dir(dir);
    if (rc != 0)
        goto fail;

    self = xcalloc(1, sizeof(*self));
    self->dir = xstrdup(dir);
    int mrc = mdb_env_create(&self->env);
    if (mrc == 0) /* store_put and store_del find the hooks from their transaction */
        mrc = mdb_env_set_userctx(self->env, self);
    if (mrc == 0)
        mrc = mdb_env_set_maxdbs(self->env, STORE_MAX_DBS);
    if (mrc == 0)
        mrc = mdb_env_set_mapsize(self->env, map_size ? map_size : STORE_MAP_DEFAULT);
    /* Flags stay 0: with LMDB's defaults a commit has flushed its pages and meta page on return. */
    if (mrc == 0)
        mrc = mdb_env_open(self->env, dir, 0, 0600);
    if (mrc != 0) {
        rc = store_lmdb_err(mrc);
        goto fail;
    }
    /* Nothing asks for a flag that gives up durability, but LMDB could still be handed one by
     * a future change: refuse to run rather than ack what a crash could lose (T04). */
    unsigned flags = 0;
    if (mdb_env_get_flags(self->env, &flags) != 0 || (flags & STORE_FLAGS_BANNED)) {
        rc = TACNET_ECONFIG;
        goto fail;
    }
    /* A data file shorter than its last page (truncated) would fault on first access. */
    rc = s_check_length(self->env, dir);
    if (rc != 0)
        goto fail;
    /* Slots left by a crashed process would pin old pages and make the file grow. */
    int dead = 0;
    mrc = mdb_reader_check(self->env, &dead);
    if (mrc != 0) {
        rc = store_lmdb_err(mrc);
        goto fail;
    }
    rc = s_open_dbis(self, names, n);
    if (rc != 0)
        goto fail;
    if (err)
        *err = 0;
    return self;
fail:
    store_destroy(&self);
    if (err)
        *err = rc;
    return NULL;
}

void store_destroy(store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    store_t *self = *self_p;
    if (self->env)
        mdb_env_close(self->env);
    for (size_t i = 0; i < self->n; i++)
        free(self->names[i]);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

int store_dbi(const store_t *self, const char *name, MDB_dbi *out)
{
    if (!self || !name || !out)
        return TACNET_EINVAL;
    for (size_t i = 0; i < self->n; i++) {
        if (strcmp(self->names[i], name) == 0) {
            *out = self->dbis[i];
            return 0;
        }
    }
    return TACNET_ENOTFOUND;
}

int store_dbi_add(store_t *self, const char *name, MDB_dbi *out)
{
    if (!self || !name || !*name || !out)
        return TACNET_EINVAL;
    if (store_dbi(self, name, out) == 0)
        return 0;
    if (self->n >= STORE_MAX_DBS)
        return TACNET_EINVAL;
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(self->env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_dbi_open(txn, name, MDB_CREATE, &self->dbis[self->n]);
    if (rc != 0) {
        if (txn)
            mdb_txn_abort(txn);
        return store_lmdb_err(rc);
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        return store_lmdb_err(rc);
    self->names[self->n] = xstrdup(name);
    *out = self->dbis[self->n++];
    return 0;
}

/* Only called with no transaction open in this process, as mdb_env_set_mapsize requires. */
static int s_grow(store_t *self)
{
    MDB_envinfo info;
    int rc = mdb_env_info(self->env, &info);
    if (rc != 0)
        return store_lmdb_err(rc);
    if (info.me_mapsize > SIZE_MAX / 2)
        return TACNET_EMAPFULL;
    size_t next = info.me_mapsize * 2;
    if (self->map_max) {
        if (info.me_mapsize >= self->map_max)
            return TACNET_EMAPFULL;
        if (next > self->map_max)
            next = self->map_max;
    }
    rc = mdb_env_set_mapsize(self->env, next);
    if (rc != 0) {
        /* mmap refused the new size (address space, RLIMIT_AS, valgrind): LMDB has unmapped
         * the old map too and will not map it again, so the next transaction would read
         * through no map at all (T23 found the crash). Refuse from now on instead. */
        self->unmapped = 1;
        return TACNET_ESTORE;
    }
    return 0;
}

/* Keep written zeros ahead of LMDB's last page. LMDB appends pages past the end of the file, so
 * without this nearly every commit changes the file's size, and its fdatasync then also commits
 * the filesystem's journal: with four writers on one disk that is about a quarter of each synced
 * commit (bench: p50 1.8 -> 1.4 ms for an appending writer among four). Zeros that are already
 * written and synced make the commit's flush cover its pages only. Nothing in the tail is read:
 * LMDB knows its size from the meta page, the startup check compares the file with the last used
 * page, and copies take the used pages only. Called between transactions, from the writer.
 *
 * When less than half the room wanted ahead is left (a quarter of the used size, within 4 and
 * 64 MiB), one write extends by a step: 1 MiB, doubled (up to 16 MiB) when the last extension was
 * less than a second ago. A step's zeros and flush hold the writer, and every other writer's
 * flush on the same disk, for as long as they take: about 5 ms for 1 MiB in bench e2e at
 * 500 ev/s, where the whole quarter at once (15 MiB of a 60 MiB view) took 20-24 ms and made a
 * burst of late events. Fast growth (catch-up, saturation) gets the larger steps, so it pays
 * few extra flushes, and at least half the room is still ahead while they catch up. */
#define STORE_SLACK_MIN       ((off_t)4 << 20)  /* room wanted ahead, at least */
#define STORE_SLACK_MAX       ((off_t)64 << 20) /* and at most */
#define STORE_STEP_MIN        ((off_t)1 << 20)  /* written (and synced) by one write */
#define STORE_STEP_MAX        ((off_t)16 << 20) /* when extending again and again */
#define STORE_STEP_AGAIN_US   1000000u          /* "again": within this of the last one */
#define STORE_EXTEND_RETRY_US (10u * 1000000u)

/* Zeros for s_zeros_direct: aligned for O_DIRECT, made once per process. */
#define STORE_ZEROS_BYTES ((size_t)256 << 10)
static uint8_t *s_zeros;
static pthread_once_t s_zeros_once = PTHREAD_ONCE_INIT;

static void s_zeros_make(void)
{
    void *p = NULL;
    if (posix_memalign(&p, 4096, STORE_ZEROS_BYTES) == 0) {
        memset(p, 0, STORE_ZEROS_BYTES);
        s_zeros = p;
    }
}

/* Write zeros over [FROM, TO) of the data file through a descriptor of its own opened with
 * O_DIRECT, so they go from one buffer to the disk without being copied into the page cache
 * first (and written back later). With buffered zeros, that copy and writeback cost as much as
 * the commits' own pages: copy_folio_from_iter_atomic was 9 % of all CPU samples at saturation,
 * 1 % with this (bench e2e, 60,000 events: 28,470 against 27,340 delivered/s, 4 pairs). LMDB never
 * touches pages past its last one, so nothing of the range is in its map or the page cache.
 * Returns 1 when every byte was written, 0 to fall back to buffered writes (a filesystem without
 * O_DIRECT such as tmpfs, an unaligned range, or a failed write). */
static int s_zeros_direct(const store_t *self, off_t from, off_t to)
{
    pthread_once(&s_zeros_once, s_zeros_make);
    if (!s_zeros || from % 4096 != 0 || to % 4096 != 0)
        return 0;
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/data.mdb", self->dir) >= (int)sizeof(path))
        return 0;
    int dfd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
    if (dfd < 0)
        return 0;
    int ok = 1;
    for (off_t at = from; ok && at < to; at += (off_t)STORE_ZEROS_BYTES) {
        size_t n = to - at < (off_t)STORE_ZEROS_BYTES ? (size_t)(to - at) : STORE_ZEROS_BYTES;
        ok = pwrite(dfd, s_zeros, n, at) == (ssize_t)n;
    }
    close(dfd);
    return ok;
}

static void s_extend_ahead(store_t *self)
{
    MDB_envinfo info;
    MDB_stat st;
    mdb_filehandle_t fd;
    struct stat sb;
    if (mdb_env_info(self->env, &info) != 0 || mdb_env_stat(self->env, &st) != 0 ||
        mdb_env_get_fd(self->env, &fd) != 0)
        return;
    off_t used = (off_t)(info.me_last_pgno + 1) * (off_t)st.ms_psize;
    off_t room = used / 4 < STORE_SLACK_MIN   ? STORE_SLACK_MIN
                 : used / 4 > STORE_SLACK_MAX ? STORE_SLACK_MAX
                                              : used / 4;
    /* The file only grows while open, so the size last seen is a floor: no fstat per commit
     * while it leaves enough room. */
    if (self->file_end - used >= room / 2)
        return;
    /* Always from the real end of file, never below it: LMDB may have grown it itself. */
    if (fstat(fd, &sb) != 0 || sb.st_size < used)
        return;
    self->file_end = sb.st_size;
    if (sb.st_size - used >= room / 2)
        return;
    uint64_t now = clock_elapsed_us();
    if (now < self->extend_retry_us)
        return;
    off_t step = STORE_STEP_MIN;
    if (self->extend_last_us && now - self->extend_last_us < STORE_STEP_AGAIN_US)
        step = self->extend_step * 2 < STORE_STEP_MAX ? self->extend_step * 2 : STORE_STEP_MAX;
    off_t from = sb.st_size, to = from + step;
    if ((off_t)info.me_mapsize < to)
        to = (off_t)info.me_mapsize;
    int ok = s_zeros_direct(self, from, to);
    if (!ok) { /* the same zeros through the page cache */
        static const uint8_t zeros[1 << 16];
        ok = 1;
        for (off_t at = from; ok && at < to; at += (off_t)sizeof(zeros)) {
            size_t n = to - at < (off_t)sizeof(zeros) ? (size_t)(to - at) : sizeof(zeros);
            ok = pwrite(fd, zeros, n, at) == (ssize_t)n;
        }
    }
    if (ok && from < to)
        ok = fdatasync(fd) == 0;
    if (ok) {
        self->file_end = to > from ? to : from;
        self->extend_step = step;
        self->extend_last_us = now;
    } else {
        /* A full disk (or an I/O error): give the space back, and leave it to LMDB's own
         * writes, which report it (TACNET_EDISKFULL) if it is still short when they need it. */
        if (ftruncate(fd, sb.st_size) != 0)
            log_warn("could not give back a partial extension of %s/data.mdb", self->dir);
        self->extend_retry_us = now + STORE_EXTEND_RETRY_US;
    }
}

/* A code from FN or from a walk callback: TACNET_E* codes as they are; anything else (an LMDB
 * code a caller let through) translated. */
static int s_tacnet_code(int rc)
{
    return (rc >= -1999 && rc <= -1000) ? rc : store_lmdb_err(rc);
}

/* LMDB reports a short write as EIO: on a filesystem with less than one commit's worth of pages
 * free (a multi-page write that stopped part way), that is a full disk. */
static int s_commit_err(store_t *self, int mdb_rc)
{
    struct statvfs sv;
    if (mdb_rc == EIO && statvfs(self->dir, &sv) == 0 &&
        (uint64_t)sv.f_bavail * sv.f_frsize < (uint64_t)256 * 4096)
        return TACNET_EDISKFULL;
    return store_lmdb_err(mdb_rc);
}

int store_write(store_t *self, int (*fn)(MDB_txn *txn, void *arg), void *arg)
{
    if (!self || !fn)
        return TACNET_EINVAL;
    int grown = 0, resized = 0;
    if (self->unmapped)
        return TACNET_ESTORE;
    s_extend_ahead(self);
    for (;;) {
        MDB_txn *txn = NULL;
        int rc = mdb_txn_begin(self->env, NULL, 0, &txn);
        if (rc == MDB_MAP_RESIZED && resized++ < STORE_RESIZED_MAX) {
            rc = mdb_env_set_mapsize(self->env, 0);
            if (rc != 0)
                return store_lmdb_err(rc);
            continue;
        }
        if (rc != 0)
            return store_lmdb_err(rc);

        if (self->hooks && self->hooks->begin)
            self->hooks->begin(self->hooks_arg);
        rc = s_tacnet_code(fn(txn, arg));
        if (rc == 0 && self->hooks && self->hooks->precommit)
            rc = s_tacnet_code(self->hooks->precommit(self->hooks_arg, txn));
        if (rc == 0 && self->fail_commits > 0) {
            self->fail_commits--;
            rc = TACNET_EMAPFULL; /* as if the commit had found the map full */
        }
        if (rc != 0) {
            mdb_txn_abort(txn);
        } else {
            /* A failed commit has already freed the transaction: never abort it. */
            uint64_t t0 = clock_elapsed_us();
            int mrc = mdb_txn_commit(txn);
            if (mrc == 0) {
                s_commit_timed(self, clock_elapsed_us() - t0);
                if (self->hooks && self->hooks->postcommit)
                    return s_tacnet_code(self->hooks->postcommit(self->hooks_arg));
                return 0;
            }
            rc = s_commit_err(self, mrc);
        }
        /* A put or the commit found the map full: grow it and run FN again. */
        if (rc != TACNET_EMAPFULL)
            return rc;
        if (grown++ >= STORE_GROW_MAX)
            return TACNET_EMAPFULL;
        rc = s_grow(self);
        if (rc != 0)
            return rc;
    }
}

int store_read_begin(store_t *self, MDB_txn **txn)
{
    if (!self || !txn)
        return TACNET_EINVAL;
    if (self->unmapped)
        return TACNET_ESTORE;
    int rc = mdb_txn_begin(self->env, NULL, MDB_RDONLY, txn);
    if (rc == MDB_MAP_RESIZED) {
        /* Another process grew the file; adopt its size (no txn of ours is open). */
        if (mdb_env_set_mapsize(self->env, 0) == 0)
            rc = mdb_txn_begin(self->env, NULL, MDB_RDONLY, txn);
    }
    return rc == 0 ? 0 : TACNET_ESTORE;
}

void store_hooks_set(store_t *self, const store_hooks_t *hooks, void *arg)
{
    if (!self)
        return;
    self->hooks = hooks;
    self->hooks_arg = arg;
}

const char *store_dbi_name(const store_t *self, MDB_dbi dbi)
{
    for (size_t i = 0; self && i < self->n; i++)
        if (self->dbis[i] == dbi)
            return self->names[i];
    return NULL;
}

/* Tell the hooks of TXN's store about a write that succeeded (a failed one aborts FN anyway). */
static int s_hook_record(MDB_txn *txn, MDB_dbi dbi, int del, const MDB_val *k, const MDB_val *v,
                         unsigned flags)
{
    store_t *self = mdb_env_get_userctx(mdb_txn_env(txn));
    if (!self || !self->hooks || !self->hooks->record)
        return 0;
    const char *db = store_dbi_name(self, dbi);
    if (!db)
        return TACNET_EINVAL; /* a write the replicator could not name: never let it pass */
    return s_tacnet_code(self->hooks->record(self->hooks_arg, db, del, k, v, flags));
}

int store_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val, size_t vlen,
              unsigned flags)
{
    if (!txn || (!key && klen) || (!val && vlen))
        return TACNET_EINVAL;
    MDB_val k = { .mv_size = klen, .mv_data = (void *)key };
    MDB_val v = { .mv_size = vlen, .mv_data = (void *)val };
    int rc = store_lmdb_err(mdb_put(txn, dbi, &k, &v, flags));
    return rc == 0 ? s_hook_record(txn, dbi, 0, &k, &v, flags) : rc;
}

int store_get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, MDB_val *val)
{
    if (!txn || !val || (!key && klen))
        return TACNET_EINVAL;
    MDB_val k = { .mv_size = klen, .mv_data = (void *)key };
    return store_lmdb_err(mdb_get(txn, dbi, &k, val));
}

int store_del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen)
{
    if (!txn || (!key && klen))
        return TACNET_EINVAL;
    MDB_val k = { .mv_size = klen, .mv_data = (void *)key };
    int rc = store_lmdb_err(mdb_del(txn, dbi, &k, NULL));
    return rc == 0 ? s_hook_record(txn, dbi, 1, &k, NULL, 0) : rc;
}

int store_cursor_get(MDB_cursor *cur, MDB_val *k, MDB_val *v, MDB_cursor_op op)
{
    if (!cur)
        return TACNET_EINVAL;
    return store_lmdb_err(mdb_cursor_get(cur, k, v, op));
}

int store_peek_begin(const char *dir, MDB_env **env_out, MDB_txn **txn_out)
{
    if (!env_out || !txn_out)
        return TACNET_EINVAL;
    *env_out = NULL;
    *txn_out = NULL;
    if (!dir)
        return TACNET_EINVAL;
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    int rc = mdb_env_create(&env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(env, STORE_MAX_DBS);
    /* 0: adopt the map size recorded in the file rather than LMDB's 10 MiB default. */
    if (rc == 0)
        rc = mdb_env_set_mapsize(env, 0);
    if (rc == 0)
        rc = mdb_env_open(env, dir, MDB_RDONLY, 0600);
    if (rc == 0) {
        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
        /* The owner grew the map since our open. */
        if (rc == MDB_MAP_RESIZED && mdb_env_set_mapsize(env, 0) == 0)
            rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    }
    if (rc != 0) {
        if (env)
            mdb_env_close(env);
        return rc == ENOENT ? TACNET_ENOTFOUND : store_lmdb_err(rc);
    }
    *env_out = env;
    *txn_out = txn;
    return 0;
}

void store_peek_end(MDB_env **env, MDB_txn **txn)
{
    if (txn && *txn) {
        mdb_txn_abort(*txn);
        *txn = NULL;
    }
    if (env && *env) {
        mdb_env_close(*env);
        *env = NULL;
    }
}

int store_usage(store_t *self, size_t *map_size, size_t *used)
{
    if (!self)
        return TACNET_EINVAL;
    MDB_envinfo info;
    MDB_stat st;
    int rc = mdb_env_info(self->env, &info);
    if (rc == 0)
        rc = mdb_env_stat(self->env, &st);
    if (rc != 0)
        return store_lmdb_err(rc);
    if (map_size)
        *map_size = info.me_mapsize;
    if (used)
        *used = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
    return 0;
}

void store_u64_put(uint8_t out[8], uint64_t v)
{
    bytes_be64_put(out, v);
}

uint64_t store_u64_get(const uint8_t in[8])
{
    return bytes_be64_get(in);
}

void store_test_fail_commits(store_t *self, int n)
{
    if (self)
        self->fail_commits = n > 0 ? n : 0;
}

/* A compacted copy of ENV written to PATH: 0600 from the start and never over an existing file
 * (a copy holds the whole store), synced before it is used (it may replace the original or be
 * the only backup). Nothing is left at PATH on failure. */
static int s_copy_compact_to(MDB_env *env, const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? TACNET_EEXISTS : errno == ENOSPC ? TACNET_EDISKFULL : TACNET_EIO;
    int mrc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT);
    int rc = mrc == ENOSPC ? TACNET_EDISKFULL : store_lmdb_err(mrc);
    if (rc == 0 && fsync(fd) != 0)
        rc = errno == ENOSPC ? TACNET_EDISKFULL : TACNET_EIO;
    if (close(fd) != 0 && rc == 0)
        rc = TACNET_EIO;
    if (rc != 0)
        unlink(path);
    return rc;
}

int store_copy_compact(store_t *self, const char *dir)
{
    char path[4200];
    if (snprintf(path, sizeof(path), "%s/data.mdb", dir) >= (int)sizeof(path))
        return TACNET_EINVAL;
    return s_copy_compact_to(self->env, path);
}

int store_map_max_set(store_t *self, size_t max)
{
    if (!self)
        return TACNET_EINVAL;
    self->map_max = max;
    if (!max)
        return 0;
    MDB_envinfo info;
    int rc = mdb_env_info(self->env, &info);
    if (rc != 0)
        return store_lmdb_err(rc);
    /* LMDB keeps the map at least as large as the data already written. */
    if (info.me_mapsize > max && (rc = mdb_env_set_mapsize(self->env, max)) != 0)
        return store_lmdb_err(rc);
    return 0;
}

int store_env_flags(store_t *self, unsigned *flags)
{
    if (!self || !flags)
        return TACNET_EINVAL;
    return store_lmdb_err(mdb_env_get_flags(self->env, flags));
}

/* Every record of one database, so LMDB follows every branch, leaf and overflow page. */
static int s_walk_db(MDB_txn *txn, MDB_dbi dbi, const char *name, store_walk_fn fn, void *arg,
                     size_t *records)
{
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0)
        return store_lmdb_err(rc);
    MDB_val k, v;
    uint8_t prev[512];
    size_t prev_len = 0;
    int first = 1;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        (*records)++;
        /* A damaged key breaks the order every lookup relies on. */
        size_t common = k.mv_size < prev_len ? k.mv_size : prev_len;
        int cmp = first ? 1 : memcmp(k.mv_data, prev, common);
        if (k.mv_size > sizeof(prev) || (cmp < 0 || (cmp == 0 && k.mv_size <= prev_len))) {
            rc = TACNET_ECORRUPT;
            break;
        }
        memcpy(prev, k.mv_data, k.mv_size);
        prev_len = k.mv_size;
        first = 0;
        if (fn && (rc = fn(name, &k, &v, arg)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        return 0;
    return s_tacnet_code(rc);
}

int store_walk(store_t *self, store_walk_fn fn, void *arg, size_t *records)
{
    if (!self)
        return TACNET_EINVAL;
    size_t n = 0;
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return store_lmdb_err(rc);
    MDB_dbi main_dbi;
    /* The main database holds one record per named database. */
    rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);
    rc = rc ? store_lmdb_err(rc) : s_walk_db(txn, main_dbi, "", NULL, NULL, &n);
    for (size_t i = 0; rc == 0 && i < self->n; i++)
        rc = s_walk_db(txn, self->dbis[i], self->names[i], fn, arg, &n);
    mdb_txn_abort(txn);
    if (records)
        *records = n;
    return rc;
}

/* A read-only handle on DIR's environment for the backup tool (no database is created). */
static int s_open_readonly(const char *dir, MDB_env **out)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return errno == ENOENT ? TACNET_ENOTFOUND : TACNET_ESTORE;
    int rc = store_fs_check(dir, NULL);
    if (rc != 0)
        return rc;
    MDB_env *env = NULL;
    int mrc = mdb_env_create(&env);
    if (mrc == 0)
        mrc = mdb_env_set_maxdbs(env, STORE_MAX_DBS);
    if (mrc == 0)
        mrc = mdb_env_open(env, dir, MDB_RDONLY, 0600);
    if (mrc != 0) {
        if (env)
            mdb_env_close(env);
        return mrc == ENOENT ? TACNET_ENOTFOUND : store_lmdb_err(mrc);
    }
    *out = env;
    return 0;
}

int store_backup(const char *dir, const char *out_path)
{
    if (!dir || !*dir || !out_path || !*out_path)
        return TACNET_EINVAL;
    MDB_env *env = NULL;
    int rc = s_open_readonly(dir, &env);
    if (rc != 0)
        return rc;
    rc = s_copy_compact_to(env, out_path);
    mdb_env_close(env);
    return rc;
}

static int s_copy_file(int in, int out)
{
    char buf[1 << 16];
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return TACNET_EIO;
        if (n == 0)
            return 0;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return errno == ENOSPC ? TACNET_EDISKFULL : TACNET_EIO;
            off += w;
        }
    }
}

int store_restore(const char *backup, const char *dir)
{
    if (!backup || !*backup || !dir || !*dir)
        return TACNET_EINVAL;
    char path[4096], tmp[4096];
    if (snprintf(path, sizeof(path), "%s/data.mdb", dir) >= (int)sizeof(path) ||
        snprintf(tmp, sizeof(tmp), "%s/data.mdb.restore", dir) >= (int)sizeof(tmp))
        return TACNET_EINVAL;
    int rc = s_check_dir(dir);
    if (rc != 0)
        return rc;
    struct stat st;
    if (stat(path, &st) == 0)
        return TACNET_EEXISTS; /* never over a live view or journal */
    int in = open(backup, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return errno == ENOENT ? TACNET_ENOTFOUND : TACNET_EIO;
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return TACNET_EIO;
    }
    rc = s_copy_file(in, out);
    if (rc == 0 && fsync(out) != 0)
        rc = errno == ENOSPC ? TACNET_EDISKFULL : TACNET_EIO;
    close(in);
    if (close(out) != 0 && rc == 0)
        rc = TACNET_EIO;
    /* Prove the copy is a whole LMDB before it takes the real name. */
    MDB_env *env = NULL;
    if (rc == 0) {
        int mrc = mdb_env_create(&env);
        if (mrc == 0)
            mrc = mdb_env_set_maxdbs(env, STORE_MAX_DBS);
        if (mrc == 0)
            mrc = mdb_env_open(env, tmp, MDB_RDONLY | MDB_NOSUBDIR | MDB_NOLOCK, 0600);
        if (mrc == 0) {
            MDB_txn *txn = NULL;
            MDB_dbi dbi;
            size_t n = 0;
            mrc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
            if (mrc == 0 && (mrc = mdb_dbi_open(txn, NULL, 0, &dbi)) == 0)
                mrc = s_walk_db(txn, dbi, "", NULL, NULL, &n);
            if (txn)
                mdb_txn_abort(txn);
        }
        rc = s_tacnet_code(mrc);
        if (env)
            mdb_env_close(env);
    }
    if (rc == 0 && rename(tmp, path) != 0)
        rc = TACNET_EIO;
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    char mark[4200];
    snprintf(mark, sizeof(mark), "%s/%s", dir, STORE_RESTORED_MARK);
    int mfd = open(mark, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (mfd < 0)
        rc = TACNET_EIO;
    else
        close(mfd);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) != 0)
            rc = TACNET_EIO;
        close(dfd);
    }
    return rc;
}
