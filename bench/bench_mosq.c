/* bench_mosq: the peer — Mosquitto QoS 1, one publisher and three subscribers, same payload
 * size, started by the benchmark on loopback (persistence off, set_tcp_nodelay true).
 *
 * Every payload starts with its index, and each subscriber (its own process) stamps when it
 * received it into shared memory, so delivered rate and publish -> last subscriber latency
 * are measured the same way as for tacnet (one clock, CLOCK_MONOTONIC).
 */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define M_SUBS   3
#define M_WINDOW 1000
#define M_TOPIC  "tacnet/bench"

typedef struct m_shared {
    uint64_t *recv_us; /* [M_SUBS][n] */
    size_t n;
} m_shared_t;

typedef struct m_sub {
    m_shared_t *sh;
    int idx;
    size_t count;
    int ready_fd;
} m_sub_t;

static int s_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

static int s_port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

static void s_tune(struct mosquitto *m)
{
    mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, M_WINDOW);
    mosquitto_int_option(m, MOSQ_OPT_RECEIVE_MAXIMUM, M_WINDOW);
}

static void s_on_connect_sub(struct mosquitto *m, void *arg, int rc)
{
    (void)arg;
    if (rc == 0)
        mosquitto_subscribe(m, NULL, M_TOPIC, 1);
}

static void s_on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *granted)
{
    m_sub_t *s = arg;
    (void)m, (void)mid, (void)n, (void)granted;
    if (s->ready_fd >= 0) {
        CHECK(write(s->ready_fd, "r", 1) == 1);
    }
}

static void s_on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
    m_sub_t *s = arg;
    uint64_t idx;
    if (msg->payloadlen < (int)sizeof(idx))
        return;
    memcpy(&idx, msg->payload, sizeof(idx));
    if (idx < s->sh->n && !s->sh->recv_us[(size_t)s->idx * s->sh->n + idx]) {
        s->sh->recv_us[(size_t)s->idx * s->sh->n + idx] = b_now_us();
        if (++s->count == s->sh->n)
            mosquitto_disconnect(m);
    }
}

static void s_subscriber(m_shared_t *sh, int idx, int port, int ready_fd)
{
    mosquitto_lib_init();
    m_sub_t s = { sh, idx, 0, ready_fd };
    char id[32];
    snprintf(id, sizeof(id), "bench-sub-%d-%d", idx, (int)getpid());
    struct mosquitto *m = mosquitto_new(id, true, &s);
    s_tune(m);
    mosquitto_connect_callback_set(m, s_on_connect_sub);
    mosquitto_subscribe_callback_set(m, s_on_subscribe);
    mosquitto_message_callback_set(m, s_on_message);
    CHECK(mosquitto_connect(m, "127.0.0.1", port, 60) == MOSQ_ERR_SUCCESS);
    mosquitto_loop_forever(m, 1000, 1);
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
}

static volatile size_t s_acked;

static void s_on_publish(struct mosquitto *m, void *arg, int mid)
{
    (void)m, (void)arg, (void)mid;
    __atomic_add_fetch(&s_acked, 1, __ATOMIC_RELEASE);
}

/* One phase: fresh subscribers, N messages at RATE (0: as fast as the window allows). */
static void s_phase(int port, size_t n, double rate, const char *prefix, int run)
{
    m_shared_t sh = { NULL, n };
    size_t bytes = sizeof(uint64_t) * n * M_SUBS;
    sh.recv_us = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(sh.recv_us != MAP_FAILED);
    int ready[2];
    CHECK(pipe(ready) == 0);
    pid_t pids[M_SUBS];
    for (int i = 0; i < M_SUBS; i++) {
        pids[i] = fork();
        CHECK(pids[i] >= 0);
        if (pids[i] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            close(ready[0]);
            s_subscriber(&sh, i, port, ready[1]);
            _exit(0);
        }
    }
    close(ready[1]);
    char c;
    for (int i = 0; i < M_SUBS; i++)
        CHECK(read(ready[0], &c, 1) == 1);
    close(ready[0]);

    struct mosquitto *m = mosquitto_new(NULL, true, NULL);
    s_tune(m);
    mosquitto_publish_callback_set(m, s_on_publish);
    CHECK(mosquitto_connect(m, "127.0.0.1", port, 60) == MOSQ_ERR_SUCCESS);
    CHECK(mosquitto_loop_start(m) == MOSQ_ERR_SUCCESS);
    s_acked = 0;
    uint64_t *sent = calloc(n, sizeof(*sent));
    uint8_t payload[B_BODY_BYTES];
    memset(payload, 'x', sizeof(payload));
    uint64_t t0 = b_now_us();
    for (size_t i = 0; i < n; i++) {
        if (rate > 0) {
            uint64_t due = t0 + (uint64_t)((double)i * 1e6 / rate);
            while (b_now_us() < due)
                usleep(50);
        }
        while (i - __atomic_load_n(&s_acked, __ATOMIC_ACQUIRE) >= M_WINDOW)
            usleep(20);
        uint64_t idx = i;
        memcpy(payload, &idx, sizeof(idx));
        sent[i] = b_now_us();
        CHECK(mosquitto_publish(m, NULL, M_TOPIC, sizeof(payload), payload, 1, false) ==
              MOSQ_ERR_SUCCESS);
    }
    int status = 0;
    for (int i = 0; i < M_SUBS; i++) {
        /* Give up on a subscriber after 30 s: its missing messages are reported. */
        for (int k = 0; k < 3000 && waitpid(pids[i], &status, WNOHANG) == 0; k++)
            h_sleep_ms(10);
        kill(pids[i], SIGKILL);
        waitpid(pids[i], &status, 0);
    }
    mosquitto_disconnect(m);
    mosquitto_loop_stop(m, false);
    mosquitto_destroy(m);

    double *lat = malloc(n * sizeof(*lat));
    size_t got = 0;
    uint64_t last_all = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t last = 0;
        int all = 1;
        for (int s = 0; s < M_SUBS; s++) {
            uint64_t r = sh.recv_us[(size_t)s * n + i];
            all &= r != 0;
            last = r > last ? r : last;
        }
        if (all) {
            lat[got++] = (double)(last - sent[i]) / 1000.0;
            last_all = last > last_all ? last : last_all;
        }
    }
    char metric[64];
    if (rate <= 0) {
        b_emit("mosquitto", "delivered_per_s", run, (double)got * 1e6 / (double)(last_all - t0),
               "ev/s");
    } else {
        snprintf(metric, sizeof(metric), "%s_offered", prefix);
        b_emit("mosquitto", metric, run, (double)(n - 1) * 1e6 / (double)(sent[n - 1] - sent[0]),
               "ev/s");
        snprintf(metric, sizeof(metric), "%s_p50", prefix);
        b_emit("mosquitto", metric, run, b_pct(lat, got, 50), "ms");
        snprintf(metric, sizeof(metric), "%s_p99", prefix);
        b_emit("mosquitto", metric, run, b_pct(lat, got, 99), "ms");
        snprintf(metric, sizeof(metric), "%s_p999", prefix);
        b_emit("mosquitto", metric, run, b_pct(lat, got, 99.9), "ms");
    }
    snprintf(metric, sizeof(metric), "%s_missing", prefix);
    b_emit("mosquitto", metric, run, (double)(n - got), "events");
    free(lat);
    free(sent);
    munmap(sh.recv_us, bytes);
}

int b_mosquitto(const b_opts_t *o)
{
    const char *bin = "/usr/sbin/mosquitto";
    if (access(bin, X_OK) != 0) {
        printf("SKIPPED: %s not installed (scripts/deps.sh installs mosquitto)\n", bin);
        return 0;
    }
    char dir[] = "/tmp/tacnet-mosq-XXXXXX", conf[600], log[600];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(conf, sizeof(conf), "%s/mosquitto.conf", dir);
    snprintf(log, sizeof(log), "%s/mosquitto.log", dir);
    mosquitto_lib_init();
    for (int run = 1; run <= o->runs; run++) {
        int port = s_free_port();
        FILE *f = fopen(conf, "w");
        CHECK(f != NULL);
        fprintf(f,
                "# written by tacnet-bench: loopback only, no persistence\n"
                "listener %d 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n"
                "persistence false\nmax_inflight_messages %d\nmax_queued_messages 1000000\n"
                "log_dest stderr\nlog_type error\n",
                port, M_WINDOW);
        fclose(f);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (fd >= 0) {
                dup2(fd, STDERR_FILENO);
                dup2(fd, STDOUT_FILENO);
                close(fd);
            }
            execl(bin, "mosquitto", "-c", conf, (char *)NULL);
            _exit(127);
        }
        for (int k = 0; k < 500 && !s_port_open(port); k++)
            h_sleep_ms(10);
        CHECK(s_port_open(port));
        uint64_t busy0, total0, cpu0 = 0, cpu1 = 0;
        b_machine(&busy0, &total0);
        b_proc(pid, &cpu0, NULL);
        size_t n = o->quick ? 2000 : (size_t)(o->secs * 8000);
        s_phase(port, n, 0, "sat", run);
        long rss = 0;
        b_proc(pid, &cpu1, &rss);
        b_emit("mosquitto", "broker_cpu_us_per_event", run, (double)(cpu1 - cpu0) / (double)n,
               "us");
        b_emit("mosquitto", "broker_rss", run, (double)rss / 1024.0, "MiB");
        b_emit_load("mosquitto", run, busy0, total0);
        static const double rates[] = { 100, 500, 2000 };
        for (int r = 0; r < 3; r++) {
            double secs = o->quick ? 0.5 : (rates[r] < 500 ? 2 * o->secs : o->secs);
            char prefix[32];
            snprintf(prefix, sizeof(prefix), "lat%.0f", rates[r]);
            s_phase(port, (size_t)(rates[r] * secs), rates[r], prefix, run);
        }
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    mosquitto_lib_cleanup();
    unlink(conf);
    unlink(log);
    rmdir(dir);
    return 0;
}
