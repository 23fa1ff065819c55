/* backup_cmd: `tacnet backup` and `tacnet restore`, the continuity drill (reliability T07).
 *
 * A backup is one compacted, consistent LMDB file taken from a running daemon's data directory
 * without stopping it (store_backup: a read-only transaction, which never blocks the writer).
 * It holds an agency view's events as they are at rest — encrypted under a key derived from the
 * agency's key file — so the file is useless without that key; it is still written 0600. A
 * restore puts it in a new directory as data.mdb; the daemon started there checks it with its
 * integrity walk and then catches up from the broker from the cursor the backup recorded.
 */
#include "cli.h"
#include "err.h"
#include "store.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static uint64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Parse "--data-dir D" and FILE_FLAG ("--out" or "--from") into *DIR and *FILE. */
static int s_args(int argc, char **argv, const char *file_flag, const char **dir, const char **file)
{
    *dir = *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
            *dir = argv[++i];
        else if (strcmp(argv[i], file_flag) == 0 && i + 1 < argc)
            *file = argv[++i];
        else
            return -1;
    }
    return *dir && *file ? 0 : -1;
}

int cli_backup_main(int argc, char **argv)
{
    const char *dir, *out;
    if (s_args(argc, argv, "--out", &dir, &out) != 0) {
        fprintf(stderr, "usage: tacnet backup --data-dir DIR --out FILE\n");
        return 2;
    }
    uint64_t t0 = s_now_ms();
    int rc = store_backup(dir, out);
    if (rc != 0) {
        fprintf(stderr, "tacnet backup: %s -> %s: %s (%s)\n", dir, out, tacnet_strerror(rc),
                tacnet_errname(rc));
        return rc == TACNET_EINVAL ? 2 : 1;
    }
    struct stat st;
    long long size = stat(out, &st) == 0 ? (long long)st.st_size : -1;
    printf("backup written: %s (%lld bytes, mode 0600, %llu ms)\n", out, size,
           (unsigned long long)(s_now_ms() - t0));
    return 0;
}

int cli_restore_main(int argc, char **argv)
{
    const char *dir, *from;
    if (s_args(argc, argv, "--from", &dir, &from) != 0) {
        fprintf(stderr, "usage: tacnet restore --from FILE --data-dir DIR\n");
        return 2;
    }
    uint64_t t0 = s_now_ms();
    int rc = store_restore(from, dir);
    if (rc != 0) {
        fprintf(stderr, "tacnet restore: %s -> %s: %s (%s)\n", from, dir, tacnet_strerror(rc),
                tacnet_errname(rc));
        return rc == TACNET_EINVAL ? 2 : 1;
    }
    printf("restored: %s/data.mdb (%llu ms); start the daemon on it to catch up from the broker\n",
           dir, (unsigned long long)(s_now_ms() - t0));
    return 0;
}
