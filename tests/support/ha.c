/* ha: a NATS cluster, a cuttable TCP proxy and log-ready processes for the HA test. */
/* nftw() for ha_rmtree. */
#define _XOPEN_SOURCE 700
#include "ha.h"
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int ha_nats_available(void)
{
    return system("command -v nats-server >/dev/null 2>&1") == 0;
}

static int ha_listen(int port, int *bound)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "bind: %s", strerror(errno));
    CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    *bound = ntohs(a.sin_port);
    return fd;
}

const char *ha_bin(const char *name)
{
    static char path[1024];
    const char *dir = getenv("TACNET_BIN");
    snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "build/default/bin", name);
    return path;
}

int ha_free_port(void)
{
    int port;
    close(ha_listen(0, &port));
    return port;
}

/* ---------------------------------------------------------------- processes */

pid_t ha_spawn(const char *bin, char *const argv[], const char *log)
{
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(fd, STDOUT_FILENO);
            close(fd);
        }
        execvp(bin, argv);
        _exit(127);
    }
    return pid;
}

int ha_wait_log(const char *log, const char *needle, int ms, pid_t pid, int *status)
{
    uint64_t deadline = h_now_ms() + (uint64_t)ms;
    for (;;) {
        if (h_file_contains(log, needle))
            return 1;
        int st;
        if (pid > 0 && waitpid(pid, &st, WNOHANG) == pid) {
            if (status)
                *status = st;
            return h_file_contains(log, needle) ? 1 : -1;
        }
        if (h_now_ms() >= deadline)
            return 0;
        h_sleep_ms(20);
    }
}

int ha_kill(pid_t *pid_p, int sig)
{
    int st = 0;
    if (*pid_p <= 0)
        return 0;
    kill(*pid_p, sig);
    while (waitpid(*pid_p, &st, 0) < 0 && errno == EINTR)
        ;
    *pid_p = 0;
    return st;
}

static int ha_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void ha_rmtree(const char *path)
{
    nftw(path, ha_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---------------------------------------------------------------- NATS */

static void ha_nats_spawn(ha_nats_t *n, int i)
{
    char *argv[] = { "nats-server", "-c", n->conf[i], NULL };
    n->pid[i] = ha_spawn("nats-server", argv, n->log[i]);
}

/* Fresh ports for the three servers and their configs, each with a fresh store and log. */
static void ha_nats_configure(ha_nats_t *n, const char *dir, int attempt)
{
    for (int i = 0; i < HA_NATS; i++) {
        n->port[i] = ha_free_port();
        n->cport[i] = ha_free_port();
    }
    for (int i = 0; i < HA_NATS; i++) {
        char store[600];
        snprintf(store, sizeof(store), "%s/nats-%d.%d", dir, i + 1, attempt);
        CHECK(mkdir(store, 0700) == 0, "mkdir %s", store);
        snprintf(n->conf[i], sizeof(n->conf[i]), "%s/nats-%d.%d.conf", dir, i + 1, attempt);
        snprintf(n->log[i], sizeof(n->log[i]), "%s/nats-%d.%d.log", dir, i + 1, attempt);
        FILE *f = fopen(n->conf[i], "w");
        CHECK(f != NULL, "cannot write %s", n->conf[i]);
        /* Loopback only; every server lists the other two's routes. A broker appends one
         * stream message per committed batch, which can exceed the default 1 MB. */
        fprintf(f,
                "server_name: n%d\nlisten: 127.0.0.1:%d\nmax_payload: 8MB\n"
                "jetstream { store_dir: \"%s\" }\n"
                "cluster {\n  name: tacnet\n  listen: 127.0.0.1:%d\n  routes: [",
                i + 1, n->port[i], store, n->cport[i]);
        for (int j = 0, k = 0; j < HA_NATS; j++)
            if (j != i)
                fprintf(f, "%snats-route://127.0.0.1:%d", k++ ? ", " : "", n->cport[j]);
        fprintf(f, "]\n}\n");
        fclose(f);
    }
}

/* Start the three servers together, then wait for each to listen for routes. Started one at a
 * time, each once the one before listens, nats-server 2.9 left the last one out of the
 * JetStream metadata group for good (it logs "Waiting for routing to be established..." and
 * never a leader) in 10 of 30 starts here; started together, in none of 26. Returns the number
 * of the server that could not listen (its log says why), or 0. */
static int ha_nats_listen_all(ha_nats_t *n)
{
    for (int i = 0; i < HA_NATS; i++)
        ha_nats_spawn(n, i);
    for (int i = 0; i < HA_NATS; i++) {
        int r = ha_wait_log(n->log[i], "Listening for route connections", 10000, n->pid[i], NULL);
        if (r == -1)
            n->pid[i] = 0;
        if (r != 1)
            return i + 1;
    }
    return 0;
}

void ha_nats_start(ha_nats_t *n, const char *dir)
{
    memset(n, 0, sizeof(*n));
    /* A port chosen free can be taken by another process before its server binds it (two
     * benchmarks or test runs on one machine): then the whole cluster starts again on new
     * ports, since every server's config lists every route. */
    int failed = 0;
    for (int attempt = 1; attempt <= 3; attempt++) {
        ha_nats_configure(n, dir, attempt);
        if (!(failed = ha_nats_listen_all(n)))
            break;
        fprintf(stderr, "[ha] nats-server %d did not start (log %s)%s\n", failed,
                n->log[failed - 1], attempt < 3 ? ": starting the cluster again on new ports" : "");
        ha_nats_stop(n);
    }
    CHECK(failed == 0, "nats-server %d did not start (log %s)", failed, n->log[failed - 1]);
    /* A server left out of the metadata group joins when it is restarted, so one that has not
     * seen a leader in 15 s is restarted (twice at most) before the test gives up. */
    for (int i = 0; i < HA_NATS; i++) {
        int r = 0;
        for (int attempt = 0; attempt < 3 && r == 0; attempt++) {
            if (attempt > 0) {
                fprintf(stderr,
                        "[ha] nats-server %d saw no metadata leader in 15 s: restarting it\n",
                        i + 1);
                ha_kill(&n->pid[i], SIGTERM);
                ha_nats_spawn(n, i);
            }
            r = ha_wait_log(n->log[i], "metadata leader", 15000, n->pid[i], NULL);
        }
        if (r == -1)
            n->pid[i] = 0;
        CHECK(r == 1, "nats-server %d did not join a JetStream cluster (log %s)", i + 1, n->log[i]);
    }
}

void ha_nats_restart(ha_nats_t *n, int i)
{
    CHECK(n->pid[i] == 0, "nats-server %d is still running", i + 1);
    ha_nats_spawn(n, i);
}

void ha_nats_signal(ha_nats_t *n, int i, int sig)
{
    if (sig == SIGSTOP || sig == SIGCONT) {
        if (n->pid[i])
            kill(n->pid[i], sig);
        return;
    }
    ha_kill(&n->pid[i], sig);
}

void ha_nats_stop(ha_nats_t *n)
{
    for (int i = 0; i < HA_NATS; i++)
        if (n->pid[i]) {
            kill(n->pid[i], SIGCONT);
            kill(n->pid[i], SIGTERM);
        }
    uint64_t deadline = h_now_ms() + 5000;
    for (int i = 0; i < HA_NATS; i++) {
        while (n->pid[i] && h_now_ms() < deadline) {
            if (waitpid(n->pid[i], NULL, WNOHANG) == n->pid[i])
                n->pid[i] = 0;
            else
                h_sleep_ms(20);
        }
        ha_kill(&n->pid[i], SIGKILL);
    }
}

void ha_nats_urls(const int *ports, size_t n, char *out, size_t cap)
{
    size_t off = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && off < cap; i++) {
        int w = snprintf(out + off, cap - off, "%snats://127.0.0.1:%d", i ? "," : "", ports[i]);
        CHECK(w > 0 && (size_t)w < cap - off, "NATS URL list too long");
        off += (size_t)w;
    }
}

/* ---------------------------------------------------------------- proxy */

#define HA_PROXY_PAIRS 64

struct ha_proxy {
    int lfd, port, target;
    int fd[HA_PROXY_PAIRS][2]; /* client side, server side; -1 unused */
    atomic_int cut, stop;
    pthread_t thread;
};

static void ha_pair_close(ha_proxy_t *p, int k)
{
    for (int s = 0; s < 2; s++) {
        if (p->fd[k][s] >= 0)
            close(p->fd[k][s]);
        p->fd[k][s] = -1;
    }
}

static void ha_proxy_accept(ha_proxy_t *p)
{
    int c = accept(p->lfd, NULL, NULL);
    if (c < 0)
        return;
    if (atomic_load(&p->cut)) {
        close(c);
        return;
    }
    int k = 0;
    while (k < HA_PROXY_PAIRS && p->fd[k][0] >= 0)
        k++;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t)p->target),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (k == HA_PROXY_PAIRS || s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(c);
        if (s >= 0)
            close(s);
        return;
    }
    p->fd[k][0] = c;
    p->fd[k][1] = s;
}

/* Copy what FROM has to TO; returns 0, or -1 when either side is gone. */
static int ha_pump(int from, int to)
{
    char buf[65536];
    ssize_t n = read(from, buf, sizeof(buf));
    if (n <= 0)
        return -1;
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(to, buf + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += w;
    }
    return 0;
}

static void *ha_proxy_main(void *arg)
{
    ha_proxy_t *p = arg;
    while (!atomic_load(&p->stop)) {
        if (atomic_load(&p->cut))
            for (int k = 0; k < HA_PROXY_PAIRS; k++)
                ha_pair_close(p, k);
        struct pollfd pfd[1 + 2 * HA_PROXY_PAIRS];
        int map[1 + 2 * HA_PROXY_PAIRS], n = 0;
        pfd[n] = (struct pollfd){ p->lfd, POLLIN, 0 };
        map[n++] = -1;
        for (int k = 0; k < HA_PROXY_PAIRS; k++)
            for (int s = 0; s < 2; s++)
                if (p->fd[k][s] >= 0) {
                    pfd[n] = (struct pollfd){ p->fd[k][s], POLLIN, 0 };
                    map[n++] = k * 2 + s;
                }
        if (poll(pfd, (nfds_t)n, 50) <= 0)
            continue;
        for (int i = 0; i < n; i++) {
            if (!pfd[i].revents)
                continue;
            if (map[i] < 0) {
                ha_proxy_accept(p);
                continue;
            }
            int k = map[i] / 2, s = map[i] % 2;
            if (p->fd[k][s] >= 0 && ha_pump(p->fd[k][s], p->fd[k][1 - s]) != 0)
                ha_pair_close(p, k);
        }
    }
    return NULL;
}

ha_proxy_t *ha_proxy_new(int target_port)
{
    ha_proxy_t *p = calloc(1, sizeof(*p));
    CHECK(p != NULL);
    memset(p->fd, -1, sizeof(p->fd));
    p->target = target_port;
    p->lfd = ha_listen(0, &p->port);
    CHECK(listen(p->lfd, 16) == 0, "listen: %s", strerror(errno));
    atomic_init(&p->cut, 0);
    atomic_init(&p->stop, 0);
    CHECK(pthread_create(&p->thread, NULL, ha_proxy_main, p) == 0);
    return p;
}

int ha_proxy_port(const ha_proxy_t *p)
{
    return p->port;
}

void ha_proxy_cut(ha_proxy_t *p, int cut)
{
    atomic_store(&p->cut, cut);
    /* Give the thread a poll round, so what follows sees the connections closed. */
    h_sleep_ms(120);
}

void ha_proxy_destroy(ha_proxy_t **p_p)
{
    ha_proxy_t *p = *p_p;
    if (!p)
        return;
    atomic_store(&p->stop, 1);
    pthread_join(p->thread, NULL);
    for (int k = 0; k < HA_PROXY_PAIRS; k++)
        ha_pair_close(p, k);
    close(p->lfd);
    free(p);
    *p_p = NULL;
}
