/* store: one LMDB environment per process, with named databases, composite keys and growth.
 *
 * The process's main loop is the only writer. Writes go through store_write(), which runs a
 * caller-supplied function inside a write transaction and, when LMDB answers MDB_MAP_FULL from
 * a put *or* from the commit, aborts, doubles the map (no transaction is open at that moment),
 * and runs the same function again from its in-memory inputs. Only after store_write() returns
 * 0 has the transaction committed and synced: that is the moment to acknowledge anything.
 *
 * Flags that give up durability (MDB_NOSYNC, MDB_NOMETASYNC, MDB_WRITEMAP, MDB_MAPASYNC) are
 * refused. Values borrowed from LMDB must be copied out before the transaction ends.
 */
#ifndef TACNET_STORE_H
#define TACNET_STORE_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;

#define STORE_MAX_DBS 48
/* Environment flags that give up durability or hygiene; store_open refuses an env with any. */
#define STORE_FLAGS_BANNED \
    (MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP | MDB_MAPASYNC | MDB_NOMEMINIT)

/* Open (creating if needed, mode 0700) the environment in directory DIR with an initial map of
 * MAP_SIZE bytes (0: 64 MiB) and the named databases NAMES[0..N-1] (created if missing).
 * Refuses a directory on a network filesystem (NFS, CIFS/SMB, 9P, FUSE: TACNET_ENETFS), one
 * whose permissions let group or others in, and an environment opened with any of
 * STORE_FLAGS_BANNED (TACNET_ECONFIG). Runs mdb_reader_check() to clear stale readers.
 * Returns an owned store or NULL with *ERR set (TACNET_EPERM, TACNET_ESTORE, TACNET_EINVAL,
 * TACNET_ENETFS, TACNET_ECONFIG, TACNET_ECORRUPT when the file is not a valid LMDB). */
store_t *store_open(const char *dir, size_t map_size, const char *const *names, size_t n, int *err);

/* Close the environment. Null-safe; sets *self_p to NULL. */
void store_destroy(store_t **self_p);

/* The handle of database NAME, given to store_open. Returns 0 or TACNET_ENOTFOUND. */
int store_dbi(const store_t *self, const char *name, MDB_dbi *out);

/* Open (creating if needed) one more named database after store_open, for a module that keeps
 * its own databases in the process's environment (the agency's users and sessions). Call it from
 * the writer's thread with no transaction open. Returns 0 with *OUT (also when NAME is already
 * open), TACNET_EINVAL past STORE_MAX_DBS, or the LMDB error mapped. */
int store_dbi_add(store_t *self, const char *name, MDB_dbi *out);

/* Run FN(txn, ARG) in one write transaction and commit it (synced). FN returns 0 to commit or a
 * negative TACNET_E* code to abort (returned as is). TACNET_EMAPFULL from FN (a store_put or
 * store_del found the map full) or from the commit grows the map and runs FN again, up to a
 * limit (then TACNET_EMAPFULL); ENOSPC gives TACNET_EDISKFULL. FN must therefore be repeatable: it may not consume its inputs. If the
 * bigger map cannot be mapped at all (address space), TACNET_ESTORE, and every later call on
 * this store (reads too) returns TACNET_ESTORE: LMDB has dropped its mapping. */
int store_write(store_t *self, int (*fn)(MDB_txn *txn, void *arg), void *arg)
    __attribute__((warn_unused_result));

/* Begin a read-only transaction. Returns 0 or TACNET_ESTORE. End it with mdb_txn_abort(). */
int store_read_begin(store_t *self, MDB_txn **txn);

/* Helpers for use inside FN or a read transaction. Return 0, TACNET_ENOTFOUND, TACNET_EEXISTS
 * (put with MDB_NOOVERWRITE/MDB_APPEND on an existing or out-of-order key), TACNET_EMAPFULL (the
 * map is full: FN should just return it, and store_write grows the map and runs FN again), or
 * another LMDB error passed through store_lmdb_err(). */
int store_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val, size_t vlen,
              unsigned flags);
int store_get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, MDB_val *val);
int store_del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen);

/* One cursor step (mdb_cursor_get with OP) with its result translated: 0, TACNET_ENOTFOUND (no
 * record there: past the last, or none at or after K for MDB_SET_RANGE), or another LMDB error
 * through store_lmdb_err(). K and V borrow LMDB memory, as with mdb_cursor_get. */
int store_cursor_get(MDB_cursor *cur, MDB_val *k, MDB_val *v, MDB_cursor_op op);

/* Map an LMDB return code to a TACNET_E* code (MDB_MAP_FULL -> TACNET_EMAPFULL, ...). The one
 * place LMDB's codes (and the errno values it returns) become tacnet's: every function in
 * libtacnet returns the mapped code, so callers never compare against MDB_* values. */
int store_lmdb_err(int mdb_rc);

/* How long this store's commits (mdb_txn_commit: page writes and the two syncs) took since it
 * was opened. The sync is the floor of durable latency, so operators read these beside the
 * events per commit: a slow or contended disk shows here first. Resolution 50 us; anything over
 * STORE_HIST_MAX_US counts in the top bucket. */
#define STORE_HIST_STEP_US 50
#define STORE_HIST_MAX_US  100000
typedef struct {
    uint64_t commits;
    uint64_t total_us;
    uint32_t p50_us, p99_us, max_us;
} store_commit_stats_t;
void store_commit_stats(const store_t *self, store_commit_stats_t *out);

/* Current map size and bytes in use (last page used * page size). */
int store_usage(store_t *self, size_t *map_size, size_t *used);

/* A read transaction on DIR's environment from outside the process that owns it (which may be
 * running and writing: readers never block its writer), for tools such as `tacnet audit
 * verify`. Opens the environment read-only with the map size recorded in its file and begins the
 * transaction, adopting a map the owner has grown since. Must not be called in a process that
 * already has that environment open (an LMDB rule). Returns 0 with *ENV and *TXN (end them with
 * store_peek_end), TACNET_ENOTFOUND (no environment in DIR), or a mapped LMDB error; on failure
 * *ENV and *TXN are NULL. */
int store_peek_begin(const char *dir, MDB_env **env, MDB_txn **txn);

/* End what store_peek_begin began: abort *TXN, close *ENV, and set both to NULL. Null-safe. */
void store_peek_end(MDB_env **env, MDB_txn **txn);

/* Write a compacted copy of the environment (no free pages: nothing deleted survives in it) to
 * DIR/data.mdb, mode 0600, synced. DIR must exist and hold no data.mdb. Call with no write
 * transaction open in this thread. Returns 0, TACNET_EEXISTS, TACNET_EDISKFULL, TACNET_EIO
 * or a store code. */
int store_copy_compact(store_t *self, const char *dir);

/* Big-endian u64 keys, so memcmp order is numeric order and mdb_dump is readable: bytes.h's
 * bytes_be64_put/get, named for what they are for here. */
void store_u64_put(uint8_t out[8], uint64_t v);
uint64_t store_u64_get(const uint8_t in[8]);

/* Hard ceiling on map growth: store_write() grows the map up to MAX bytes and no further, so a
 * write that needs more fails with TACNET_EMAPFULL (never acknowledged). 0 removes the ceiling
 * (growth is then bounded only by a number of doublings). A map already larger than MAX is
 * shrunk to MAX, or to the data already written if that is larger. Call with no transaction
 * open. Returns 0 or a mapped LMDB error. */
int store_map_max_set(store_t *self, size_t max);

/* The opened environment's LMDB flags (for tests: none of STORE_FLAGS_BANNED). */
int store_env_flags(store_t *self, unsigned *flags);

/* Filesystem check: the name of a refused filesystem ("NFS", "CIFS", "FUSE", ...) for a statfs
 * f_type MAGIC, or NULL for a local one. Static storage. */
const char *store_fs_refused(unsigned long magic);
/* statfs(DIR) and refuse a network or FUSE filesystem: 0, TACNET_ENETFS with *FS_NAME (may be
 * NULL) set to its name, or TACNET_ESTORE when DIR cannot be examined. Test builds (without
 * TACNET_NO_FAULT) take the magic from $TACNET_FAULT_FS_MAGIC when set. */
int store_fs_check(const char *dir, const char **fs_name);
/* "DIR: cannot open the WHAT: <reason of ERR>" into WHY, naming the refused filesystem when ERR
 * is TACNET_ENETFS: the message a daemon exits with when store_open fails. */
void store_open_why(const char *dir, const char *what, int err, char *why, size_t whylen);

/* Called by store_walk for every record of database DB (its name); returns 0 to go on or a
 * negative TACNET_E* code to stop the walk with it. K and V borrow LMDB memory. */
typedef int (*store_walk_fn)(const char *db, const MDB_val *k, const MDB_val *v, void *arg);

/* The startup integrity walk: one read-only transaction over every record of the main database
 * and every named database, so LMDB visits every page in use and reports a damaged one
 * (TACNET_ECORRUPT for MDB_CORRUPTED/MDB_PAGE_NOTFOUND); FN (may be NULL) checks each record's
 * content. *RECORDS (may be NULL) gets the number visited. Returns 0, FN's code, or the LMDB
 * error mapped. */
int store_walk(store_t *self, store_walk_fn fn, void *arg, size_t *records);

/* Hot backup: open DIR's environment read-only (the daemon may be running: readers never block
 * its writer) and write a compacted copy (mdb_env_copyfd2 with MDB_CP_COMPACT) to the new file
 * OUT_PATH, created 0600, never over an existing file, synced. The copy is one consistent
 * transaction. Returns 0, TACNET_EEXISTS, TACNET_ENOTFOUND, TACNET_ENETFS, TACNET_EDISKFULL or
 * another mapped error; on failure OUT_PATH is removed. */
int store_backup(const char *dir, const char *out_path);

/* The mark store_restore leaves beside a restored data.mdb (an empty file): an agency daemon
 * started on it numbers its next events on from the broker's last (services/agency/agency.c),
 * then removes it. */
#define STORE_RESTORED_MARK "restored-from-backup"

/* Restore BACKUP (a file from store_backup) as DIR/data.mdb: DIR is created 0700 if missing and
 * must not hold a data.mdb already (TACNET_EEXISTS). The copy is written 0600 under a temporary
 * name, synced, opened to prove it is a whole LMDB (TACNET_ECORRUPT otherwise) and only then
 * renamed into place, with STORE_RESTORED_MARK beside it. Returns 0 or a TACNET_E* code. */
int store_restore(const char *backup, const char *dir);

/* Write hooks, for a replicator that ships each committed transaction elsewhere (the broker's
 * replicated journal). Within store_write, BEGIN runs before each run of FN (a run after a
 * full map starts the capture again), RECORD after each store_put/store_del that succeeded
 * (DB is the database's name; V is NULL for a delete), PRECOMMIT after FN returned 0 and
 * before the commit: a non-zero return aborts the transaction and store_write returns it, and
 * POSTCOMMIT (may be NULL) after the commit succeeded: what it returns, store_write returns,
 * although the transaction is committed (the replicator's "this batch is not confirmed
 * elsewhere": the caller must act on nothing it wrote). A hook returning non-zero from RECORD
 * fails that put. Writes made outside store_put/store_del are not seen. HOOKS (NULL: none) is
 * borrowed until replaced. */
typedef struct store_hooks {
    void (*begin)(void *arg);
    int (*record)(void *arg, const char *db, int del, const MDB_val *k, const MDB_val *v,
                  unsigned flags);
    int (*precommit)(void *arg, MDB_txn *txn);
    int (*postcommit)(void *arg);
} store_hooks_t;
void store_hooks_set(store_t *self, const store_hooks_t *hooks, void *arg);

/* The name given to store_open (or store_dbi_add) of DBI, or NULL. Borrowed. */
const char *store_dbi_name(const store_t *self, MDB_dbi dbi);

/* For tests: make the next N commits attempted by store_write() behave as if the map were full
 * (the transaction is aborted, the map doubled and FN run again). */
void store_test_fail_commits(store_t *self, int n);

#endif
