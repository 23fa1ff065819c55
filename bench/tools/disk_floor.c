/* disk_floor: what the disk alone costs one event's path at a given rate, with no CPU work.
 *
 * An event on the end-to-end path is committed by the broker, then by the three receiving
 * daemons at once, all on this machine's one disk. Each LMDB commit writes its dirty pages,
 * flushes them (fdatasync) and then writes its meta page through a descriptor opened O_DSYNC:
 * two flushes. This program does exactly that I/O with plain files: one "broker" commit of
 * BROKER_PAGES scattered 4 KiB pages, then three "daemon" commits of DAEMON_PAGES each, in
 * three child processes at once, RATE times a second, and prints the p50 and p99 of the time
 * from the broker commit's start to the last daemon commit's end. It is the floor under the
 * end-to-end latency figure for those page counts: what remains above it is CPU, wake-ups and
 * queueing. `bench/commit_pages.sh` measures the page counts of the real processes.
 *
 * Build and run (it writes four 16 MiB files in a temporary directory and removes them):
 *   cc -O2 -o /tmp/disk_floor bench/tools/disk_floor.c
 *   /tmp/disk_floor 6 11 500
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { PAGE = 4096, FILE_PAGES = 4096, EVENTS = 2000, DAEMONS = 3 };

static double s_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct store {
    int fd, meta_fd;
    uint32_t rng;
} store_t;

/* A written-through file (no holes, so a commit's flush carries no block allocation). */
static int s_open(const char *dir, const char *name, uint32_t seed, store_t *s)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    s->fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (s->fd < 0)
        return -1;
    static const uint8_t zero[PAGE];
    for (off_t i = 0; i < FILE_PAGES; i++)
        if (pwrite(s->fd, zero, PAGE, i * PAGE) != PAGE)
            return -1;
    if (fsync(s->fd) != 0)
        return -1;
    s->meta_fd = open(path, O_RDWR | O_DSYNC);
    s->rng = seed;
    return s->meta_fd < 0 ? -1 : 0;
}

/* LMDB's commit I/O: PAGES scattered pages, fdatasync, then the meta page through O_DSYNC. */
static int s_commit(store_t *s, int pages)
{
    uint8_t buf[PAGE];
    memset(buf, 0xA5, sizeof(buf));
    for (int p = 0; p < pages; p++) {
        s->rng = s->rng * 1103515245u + 12345u;
        off_t at = (off_t)(2 + (s->rng >> 8) % (FILE_PAGES - 2)) * PAGE;
        if (pwrite(s->fd, buf, PAGE, at) != PAGE)
            return -1;
    }
    if (fdatasync(s->fd) != 0)
        return -1;
    return pwrite(s->meta_fd, buf, 120, 0) == 120 ? 0 : -1;
}

/* A daemon: one commit per byte read from IN, one byte written to OUT after each. */
static void s_daemon(const char *dir, int i, int pages, int in, int out)
{
    char name[32];
    snprintf(name, sizeof(name), "daemon%d", i);
    store_t s;
    char c = 'r';
    if (s_open(dir, name, (uint32_t)i + 7u, &s) != 0 || write(out, &c, 1) != 1)
        _exit(1);
    while (read(in, &c, 1) == 1) {
        if (s_commit(&s, pages) != 0)
            _exit(1);
        c = 'd';
        if (write(out, &c, 1) != 1)
            _exit(1);
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: disk_floor BROKER_PAGES DAEMON_PAGES RATE\n");
        return 2;
    }
    int bp = atoi(argv[1]), dp = atoi(argv[2]);
    double rate = atof(argv[3]);
    if (bp < 1 || dp < 1 || rate <= 0) {
        fprintf(stderr, "disk_floor: page counts and rate must be positive\n");
        return 2;
    }
    char dir[] = "/tmp/disk-floor-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    int to[DAEMONS][2], from[DAEMONS][2];
    pid_t pid[DAEMONS];
    for (int i = 0; i < DAEMONS; i++) {
        if (pipe(to[i]) != 0 || pipe(from[i]) != 0)
            return 1;
        if ((pid[i] = fork()) == 0)
            s_daemon(dir, i, dp, to[i][0], from[i][1]);
    }
    store_t broker;
    char c;
    int ok = s_open(dir, "broker", 1, &broker) == 0;
    for (int i = 0; ok && i < DAEMONS; i++)
        ok = read(from[i][0], &c, 1) == 1;
    double *lat = calloc(EVENTS, sizeof(*lat)), t0 = s_now_ms();
    for (int e = 0; ok && e < EVENTS; e++) {
        double due = t0 + (double)e * 1000.0 / rate;
        while (s_now_ms() < due)
            usleep(50);
        double start = s_now_ms();
        ok = s_commit(&broker, bp) == 0;
        c = 'e';
        for (int i = 0; ok && i < DAEMONS; i++)
            ok = write(to[i][1], &c, 1) == 1;
        for (int i = 0; ok && i < DAEMONS; i++)
            ok = read(from[i][0], &c, 1) == 1;
        lat[e] = s_now_ms() - start;
    }
    for (int i = 0; i < DAEMONS; i++) {
        kill(pid[i], SIGKILL);
        waitpid(pid[i], NULL, 0);
    }
    static const char *const names[] = { "broker", "daemon0", "daemon1", "daemon2" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    if (rmdir(dir) != 0)
        fprintf(stderr, "disk_floor: could not remove %s\n", dir);
    if (!ok) {
        fprintf(stderr, "disk_floor: I/O failed\n");
        return 1;
    }
    qsort(lat, EVENTS, sizeof(*lat), s_cmp);
    printf("broker %d pages, then 3 daemons %d pages each at once, %.0f ev/s: p50 %.2f ms, "
           "p99 %.2f ms\n",
           bp, dp, rate, lat[EVENTS / 2], lat[EVENTS * 99 / 100]);
    free(lat);
    return 0;
}
