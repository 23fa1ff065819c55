/* store: the process's one LMDB environment, with map growth on MDB_MAP_FULL. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "err.h"

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
};

/* Filesystems whose locking or write ordering LMDB cannot rely on (lmdb.h caveats). */
static int s_is_network_fs(const char *dir)
{
    static const unsigned long magic[] = {
        0x6969UL,     /* NFS */
        0x517BUL,     /* SMB */
        0xFF534D42UL, /* CIFS */
        0xFE534D42UL, /* SMB2 */
        0x01021997UL, /* 9P */
        0x65735546UL, /* FUSE: sshfs and friends */
    };
    struct statfs sfs;
    if (statfs(dir, &sfs) != 0)
        return -1;
    unsigned long type = (unsigned long)sfs.f_type & 0xFFFFFFFFUL;
    for (size_t i = 0; i < sizeof(magic) / sizeof(magic[0]); i++)
        if (type == magic[i])
            return 1;
    return 0;
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
    int net = s_is_network_fs(dir);
    if (net != 0)
        return TACNET_ESTORE;
    return 0;
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
    int mrc = mdb_env_create(&self->env);
    if (mrc == 0)
        mrc = mdb_env_set_maxdbs(self->env, STORE_MAX_DBS);
    if (mrc == 0)
        mrc = mdb_env_set_mapsize(self->env, map_size ? map_size : STORE_MAP_DEFAULT);
    /* Flags stay 0: every commit is synced before store_write() returns (tech.md §5.1). */
    if (mrc == 0)
        mrc = mdb_env_open(self->env, dir, 0, 0600);
    if (mrc != 0) {
        rc = store_lmdb_err(mrc);
        goto fail;
    }
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
    rc = mdb_env_set_mapsize(self->env, info.me_mapsize * 2);
    return rc == 0 ? 0 : TACNET_EMAPFULL;
}

static int s_is_map_full(int rc)
{
    return rc == MDB_MAP_FULL || rc == TACNET_EMAPFULL;
}

int store_write(store_t *self, int (*fn)(MDB_txn *txn, void *arg), void *arg)
{
    if (!self || !fn)
        return TACNET_EINVAL;
    int grown = 0, resized = 0;
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

        rc = fn(txn, arg);
        if (rc == 0 && self->fail_commits > 0) {
            self->fail_commits--;
            rc = MDB_MAP_FULL;
        }
        if (rc != 0) {
            mdb_txn_abort(txn);
        } else {
            /* A failed commit has already freed the transaction: never abort it. */
            rc = mdb_txn_commit(txn);
            if (rc == 0)
                return 0;
        }
        if (!s_is_map_full(rc))
            return (rc >= -1999 && rc <= -1000) ? rc : store_lmdb_err(rc);
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
    int rc = mdb_txn_begin(self->env, NULL, MDB_RDONLY, txn);
    if (rc == MDB_MAP_RESIZED) {
        /* Another process grew the file; adopt its size (no txn of ours is open). */
        if (mdb_env_set_mapsize(self->env, 0) == 0)
            rc = mdb_txn_begin(self->env, NULL, MDB_RDONLY, txn);
    }
    return rc == 0 ? 0 : TACNET_ESTORE;
}

/* MDB_MAP_FULL goes back unmapped so that FN can hand it to store_write, which grows. */
static int s_put_err(int rc)
{
    return rc == MDB_MAP_FULL ? MDB_MAP_FULL : store_lmdb_err(rc);
}

int store_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val, size_t vlen,
              unsigned flags)
{
    if (!txn || (!key && klen) || (!val && vlen))
        return TACNET_EINVAL;
    MDB_val k = { .mv_size = klen, .mv_data = (void *)key };
    MDB_val v = { .mv_size = vlen, .mv_data = (void *)val };
    return s_put_err(mdb_put(txn, dbi, &k, &v, flags));
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
    return s_put_err(mdb_del(txn, dbi, &k, NULL));
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
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xFF);
        v >>= 8;
    }
}

uint64_t store_u64_get(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | in[i];
    return v;
}

void store_test_fail_commits(store_t *self, int n)
{
    if (self)
        self->fail_commits = n > 0 ? n : 0;
}

int store_copy_compact(store_t *self, const char *dir)
{
    char path[4200];
    if (snprintf(path, sizeof(path), "%s/data.mdb", dir) >= (int)sizeof(path))
        return TACNET_EINVAL;
    if (access(path, F_OK) == 0)
        return TACNET_EEXISTS;
    int rc = mdb_env_copy2(self->env, dir, MDB_CP_COMPACT);
    if (rc != 0) {
        unlink(path);
        return rc == ENOSPC ? TACNET_EDISKFULL : TACNET_ESTORE;
    }
    /* LMDB creates the copy with 0666 less the umask and does not sync it: the copy is about
     * to replace the original, so it must be owner-only and on disk first. */
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return TACNET_ESTORE;
    rc = fchmod(fd, 0600) == 0 && fsync(fd) == 0 ? 0 : TACNET_ESTORE;
    close(fd);
    if (rc != 0)
        unlink(path);
    return rc;
}
