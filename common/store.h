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

#define STORE_MAX_DBS 32

/* Open (creating if needed, mode 0700) the environment in directory DIR with an initial map of
 * MAP_SIZE bytes (0: 64 MiB) and the named databases NAMES[0..N-1] (created if missing).
 * Refuses a directory on a network filesystem (NFS, CIFS/SMB) and one whose permissions let
 * group or others in. Runs mdb_reader_check() to clear stale readers.
 * Returns an owned store or NULL with *ERR set (TACNET_EPERM, TACNET_ESTORE, TACNET_EINVAL,
 * TACNET_ECORRUPT when the file is not a valid LMDB). */
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
 * negative code to abort (returned as is). LMDB's MDB_MAP_FULL from FN or from the commit grows
 * the map and runs FN again, up to a limit (then TACNET_EMAPFULL); ENOSPC gives
 * TACNET_EDISKFULL. FN must therefore be repeatable: it may not consume its inputs. */
int store_write(store_t *self, int (*fn)(MDB_txn *txn, void *arg), void *arg)
    __attribute__((warn_unused_result));

/* Begin a read-only transaction. Returns 0 or TACNET_ESTORE. End it with mdb_txn_abort(). */
int store_read_begin(store_t *self, MDB_txn **txn);

/* Helpers for use inside FN or a read transaction. Return 0, TACNET_ENOTFOUND, TACNET_EEXISTS
 * (put with MDB_NOOVERWRITE/MDB_APPEND on an existing or out-of-order key), or the LMDB error
 * passed through store_lmdb_err(). MDB_MAP_FULL is returned as MDB_MAP_FULL so store_write can
 * grow and retry: FN should just return it. */
int store_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val, size_t vlen,
              unsigned flags);
int store_get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, MDB_val *val);
int store_del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen);

/* Map an LMDB return code to a TACNET_E* code (MDB_MAP_FULL -> TACNET_EMAPFULL, ...). */
int store_lmdb_err(int mdb_rc);

/* Current map size and bytes in use (last page used * page size). */
int store_usage(store_t *self, size_t *map_size, size_t *used);

/* Write a compacted copy of the environment (no free pages: nothing deleted survives in it) to
 * DIR/data.mdb, mode 0600, synced. DIR must exist and hold no data.mdb. Call with no write
 * transaction open in this thread. Returns 0, TACNET_EEXISTS, TACNET_EDISKFULL or
 * TACNET_ESTORE. */
int store_copy_compact(store_t *self, const char *dir);

/* Big-endian u64 keys, so memcmp order is numeric order and mdb_dump is readable. */
void store_u64_put(uint8_t out[8], uint64_t v);
uint64_t store_u64_get(const uint8_t in[8]);

/* For tests: make the next N commits attempted by store_write() behave as if the map were full
 * (the transaction is aborted, the map doubled and FN run again). */
void store_test_fail_commits(store_t *self, int n);

#endif
