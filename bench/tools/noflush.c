/* noflush: an LD_PRELOAD library that turns a process's flushes to the disk into no-ops, for
 * one diagnostic of the benchmark and nothing else.
 *
 * `tacnet-bench e2e` starts a second, throwaway world with this library preloaded into the
 * broker and the three receiving daemons and measures the 500 ev/s latency again
 * (`e2e_noflush`). Every write still happens and every commit still runs, in the same order and
 * on the same CPUs; only fdatasync and fsync return at once and LMDB's meta page descriptor is
 * opened without O_DSYNC. What that world measures is the path's latency without the disk's
 * flushes: what is left of the p99 when the flushes are gone is CPU, wake-ups and scheduling on
 * this machine, which no change to what is stored per commit can remove.
 *
 * A process running with it keeps nothing durably: it must never be preloaded into anything
 * but a benchmark's throwaway world. The Makefile builds it as build/bench/bench/libnoflush.so
 * beside tacnet-bench, which looks for it there.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

typedef int (*open_fn)(const char *, int, ...);

int fdatasync(int fd)
{
    (void)fd;
    return 0;
}

int fsync(int fd)
{
    (void)fd;
    return 0;
}

int open(const char *path, int flags, ...)
{
    open_fn real = (open_fn)dlsym(RTLD_NEXT, "open"); /* opens are rare: no cache to race on */
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, unsigned);
        va_end(ap);
    }
    /* O_SYNC includes O_DSYNC's bit: clearing both leaves a plain descriptor. */
    return real(path, flags & ~(O_SYNC | O_DSYNC), mode);
}

/* The same function on x86-64 glibc, where the offsets are 64-bit either way. */
int open64(const char *path, int flags, ...) __attribute__((alias("open")));
