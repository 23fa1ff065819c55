/* make test-ha: a replicated partnership loses its active broker, then partitions the next one
 * from NATS, under steady publishing, and nothing acknowledged is lost or applied twice.
 *
 * Three NATS servers with JetStream (clustered on loopback), two brokers with [replication] on
 * (broker a talks to NATS directly, broker b through cuttable proxies), the four agency daemons
 * listing both brokers, four raw producers keeping the reliability suite's fsync'd ledgers
 * (rel.h). The scenario: kill -9 the active broker and delete its data directory; the standby
 * takes over; the killed one comes back empty and follows the stream as the new standby; the
 * proxies are cut, so the active broker loses NATS and its lease, and the standby takes over
 * again; the proxies heal and the fenced broker is restarted. Every producer then has its quota
 * acknowledged and the checker reads every daemon's view. Prints one line
 * `HA: acknowledged N, lost L, applied twice D, failover S s` (S: the slower of the two
 * takeovers, from the fault to the new active broker's `role: active`) and fails on any loss,
 * duplicate, or PUBACK from the fenced broker after the other one took over.
 *
 * Sizes: HA_EVENTS (all producers together, default 2000), HA_LEASE_MS (default 2000).
 */
#include "ha.h"
#include "harness.h"
#include "rel.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct s_broker {
    char name[2];
    char conf[400], data[400], log[400], ep[64];
    pid_t pid;
    int starts;
} s_broker_t;

static rel_world_t world;
static ha_nats_t nats;
static ha_proxy_t *proxy[HA_NATS];
static s_broker_t brokers[2];

static void s_down(void)
{
    for (int i = 0; i < 2; i++)
        ha_kill(&brokers[i].pid, SIGKILL);
    for (int i = 0; i < HA_NATS; i++)
        ha_proxy_destroy(&proxy[i]);
    ha_nats_stop(&nats);
    rel_world_down(&world);
}

TestSuite(ha, .fini = s_down, .timeout = 600);

static void s_broker_conf(s_broker_t *b, const char *nats_urls, long lease_ms)
{
    FILE *f = fopen(b->conf, "w");
    cr_assert_not_null(f, "cannot write %s", b->conf);
    fprintf(f,
            "[broker]\nbind = %s\ndata_dir = %s\nroster = %s/roster.bin\nroot_key = %s/root.pub\n"
            "key = %s/keys/broker.key\ntick_ms = 50\n"
            "[replication]\nnats = %s\nnode = broker-%s\nlease_ttl_ms = %ld\n",
            b->ep, b->data, world.env.pdir, world.env.pdir, world.env.pdir, nats_urls, b->name,
            lease_ms);
    fclose(f);
}

/* Start broker B with a fresh log (b-1.log, b-2.log, ...). */
static void s_broker_start(s_broker_t *b)
{
    mkdir(b->data, 0700);
    snprintf(b->log, sizeof(b->log), "%s/broker-%c-%d.log", world.env.dir, b->name[0], ++b->starts);
    char *argv[] = { "tacnet-broker", "--config", b->conf, NULL };
    b->pid = ha_spawn(ha_bin("tacnet-broker"), argv, b->log);
}

/* Pump the producers until B's log holds NEEDLE; returns the milliseconds it took or -1. */
static long s_pump_until(s_broker_t *b, const char *needle, int ms)
{
    uint64_t t0 = h_now_ms();
    while (h_now_ms() - t0 < (uint64_t)ms) {
        if (h_file_contains(b->log, needle))
            return (long)(h_now_ms() - t0);
        rel_pump(&world, 100);
    }
    return h_file_contains(b->log, needle) ? (long)(h_now_ms() - t0) : -1;
}

static size_t s_acked(void)
{
    size_t n = 0;
    for (size_t i = 0; i < world.n_prod; i++)
        n += world.prod[i].acked;
    return n;
}

/* Point the raw producers at broker B; they resend what is unacknowledged. */
static void s_follow(const s_broker_t *b)
{
    snprintf(world.env.endpoint, sizeof(world.env.endpoint), "%s", b->ep);
    rel_reconnect(&world);
}

/* Replace the daemon config's broker_endpoint_file line by LINE. */
static void s_conf_broker(const h_agency_t *a, const char *line)
{
    FILE *f = fopen(a->conf, "r");
    cr_assert_not_null(f);
    char buf[4096], out[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *at = strstr(buf, "broker_endpoint_file = ");
    cr_assert_not_null(at);
    char *eol = strchr(at, '\n');
    cr_assert_not_null(eol);
    *at = 0;
    snprintf(out, sizeof(out), "%s%s%s", buf, line, eol);
    f = fopen(a->conf, "w");
    cr_assert_not_null(f);
    fputs(out, f);
    fclose(f);
}

/* Whether the broker refused the [replication] section (a build without replication). */
static int s_no_replication(const s_broker_t *b)
{
    return h_file_contains(b->log, "unknown section [replication]");
}

Test(ha, failover_and_partition_lose_and_repeat_nothing)
{
    if (!ha_nats_available()) {
        rel_skip("HA", "nats-server is not on PATH (scripts/deps.sh test installs it)");
        return;
    }
    rel_seed_init("HA");
    long events = rel_env("HA_EVENTS", 2000), lease = rel_env("HA_LEASE_MS", 2000);
    memset(&world, 0, sizeof(world));
    world.window = 32;
    h_setup(&world.env, NULL);
    ha_nats_start(&nats, world.env.dir);

    char direct[512], proxied[512];
    int pports[HA_NATS];
    for (int i = 0; i < HA_NATS; i++) {
        proxy[i] = ha_proxy_new(nats.port[i]);
        pports[i] = ha_proxy_port(proxy[i]);
    }
    ha_nats_urls(nats.port, HA_NATS, direct, sizeof(direct));
    ha_nats_urls(pports, HA_NATS, proxied, sizeof(proxied));
    s_broker_t *a = &brokers[0], *b = &brokers[1];
    for (int i = 0; i < 2; i++) {
        s_broker_t *x = &brokers[i];
        x->name[0] = (char)('a' + i);
        snprintf(x->conf, sizeof(x->conf), "%s/broker-%c.conf", world.env.dir, x->name[0]);
        snprintf(x->data, sizeof(x->data), "%s/data-%c", world.env.dir, x->name[0]);
        snprintf(x->ep, sizeof(x->ep), "tcp://127.0.0.1:%d", ha_free_port());
        s_broker_conf(x, i == 0 ? direct : proxied, lease);
    }

    /* a first, so it is the active one; b follows. */
    s_broker_start(a);
    int st = 0, r = ha_wait_log(a->log, "role: active", 30000, a->pid, &st);
    if (r == -1 && s_no_replication(a)) {
        a->pid = 0;
        rel_skip("HA", "this tacnet-broker has no [replication] section (issue 21's broker side)");
        return;
    }
    cr_assert_eq(r, 1, "broker a did not become active (log %s)", a->log);
    s_broker_start(b);
    cr_assert_eq(ha_wait_log(b->log, "role: standby", 30000, b->pid, NULL), 1,
                 "broker b did not become standby (log %s)", b->log);

    char line[256];
    snprintf(line, sizeof(line), "broker = %s,%s", a->ep, b->ep);
    for (size_t i = 0; i < 4; i++) {
        uint32_t ag = rel_agencies[i];
        world.daemon[ag] = h_agency_add(&world.env, ag);
        s_conf_broker(world.daemon[ag], line);
        cr_assert_eq(h_agency_start(world.daemon[ag], NULL), 0, "agency %u did not start", ag);
    }
    snprintf(world.env.endpoint, sizeof(world.env.endpoint), "%s", a->ep);
    for (size_t i = 0; i < 4; i++)
        rel_prod_add(&world, rel_agencies[i], REL_RAW, (size_t)events / 4);

    /* 1. kill -9 the active broker and lose its disk; b takes over. */
    rel_pump(&world, 3000);
    uint64_t t_kill = h_now_ms();
    ha_kill(&a->pid, SIGKILL);
    ha_rmtree(a->data);
    long took = s_pump_until(b, "role: active", 60000);
    cr_assert_geq(took, 0, "broker b did not take over (log %s, seed %llu)", b->log,
                  (unsigned long long)rel_seed);
    long failover1 = (long)(h_now_ms() - t_kill);
    s_follow(b);
    /* a comes back with an empty disk and rebuilds its journal from the stream. */
    s_broker_start(a);
    cr_assert_geq(s_pump_until(a, "role: standby", 60000), 0,
                  "broker a did not come back as "
                  "standby (log %s)",
                  a->log);

    /* 2. partition b from NATS: it loses its lease; a takes over; b must not acknowledge
     * anything once a is active. */
    rel_pump(&world, 3000);
    uint64_t t_cut = h_now_ms();
    for (int i = 0; i < HA_NATS; i++)
        ha_proxy_cut(proxy[i], 1);
    took = s_pump_until(a, "role: active", 60000);
    cr_assert_geq(took, 0, "broker a did not take over from the partitioned b (log %s)", a->log);
    long failover2 = (long)(h_now_ms() - t_cut);
    size_t acked_at_takeover = s_acked();
    rel_pump(&world, 2000); /* still talking to b, if it still answers */
    long fenced_acks = (long)(s_acked() - acked_at_takeover);
    s_follow(a);

    /* 3. heal: the proxies forward again and b is restarted (whether it exited when fenced
     * or dropped to standby), so it must rebuild its place from the stream. */
    for (int i = 0; i < HA_NATS; i++)
        ha_proxy_cut(proxy[i], 0);
    ha_kill(&b->pid, SIGKILL);
    s_broker_start(b);
    cr_assert_geq(s_pump_until(b, "role: standby", 60000), 0,
                  "broker b did not rejoin as standby (log %s)", b->log);

    rel_pump(&world, 240000);
    cr_assert(rel_done(&world), "producers did not finish (seed %llu)",
              (unsigned long long)rel_seed);
    /* The checker stops the active broker and verifies its audit chain with the daemons'. */
    world.env.pid = a->pid;
    a->pid = 0;
    snprintf(world.env.data, sizeof(world.env.data), "%s", a->data);
    rel_check_t c = rel_check(&world, 180000);
    long failover = failover1 > failover2 ? failover1 : failover2;
    printf("HA: acknowledged %ld, lost %ld, applied twice %ld, failover %.1f s\n", c.acked, c.lost,
           c.dup, (double)failover / 1000.0);
    fflush(stdout);
    fprintf(stderr, "[ha] failover after kill -9 %ld ms, after partition %ld ms; fenced acks %ld\n",
            failover1, failover2, fenced_acks);
    rel_stat("ha_failover_kill_ms", failover1);
    rel_stat("ha_failover_partition_ms", failover2);
    rel_stat("ha_fenced_acks", fenced_acks);
    cr_assert_eq(fenced_acks, 0, "the fenced broker acknowledged %ld events after a took over",
                 fenced_acks);
    rel_check_assert(&c, "HA");
}

/* The harness's own pieces, which the scenario above relies on to mean anything: the cluster
 * elects a JetStream leader, and a cut proxy really partitions (an open connection is closed,
 * a new one gets nothing) until it heals. */
static int s_info_through(int port, int *fd_out)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    struct timeval tv = { .tv_sec = 2 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[512];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    int ok = n > 5 && memcmp(buf, "INFO ", 5) == 0;
    if (fd_out && ok)
        *fd_out = fd;
    else
        close(fd);
    return ok;
}

Test(ha, the_cluster_elects_a_leader_and_a_cut_proxy_partitions)
{
    if (!ha_nats_available()) {
        rel_skip("HA harness", "nats-server is not on PATH (scripts/deps.sh test installs it)");
        return;
    }
    memset(&world, 0, sizeof(world));
    h_setup(&world.env, NULL);
    ha_nats_start(&nats, world.env.dir);
    for (int i = 0; i < HA_NATS; i++)
        cr_assert(h_file_contains(nats.log[i], "metadata leader"), "log %s", nats.log[i]);
    proxy[0] = ha_proxy_new(nats.port[1]);
    int port = ha_proxy_port(proxy[0]), open_fd = -1;
    cr_assert(s_info_through(port, &open_fd), "no NATS INFO through the proxy");
    ha_proxy_cut(proxy[0], 1);
    char c;
    cr_assert_leq(read(open_fd, &c, 1), 0, "a cut proxy kept a connection open");
    close(open_fd);
    cr_assert_not(s_info_through(port, NULL), "a cut proxy forwarded a new connection");
    ha_proxy_cut(proxy[0], 0);
    cr_assert(s_info_through(port, NULL), "a healed proxy does not forward");
    /* A killed server leaves a cluster of two, which still has a leader to talk to. */
    ha_nats_signal(&nats, 0, SIGKILL);
    cr_assert_eq(nats.pid[0], 0);
    ha_nats_restart(&nats, 0);
    cr_assert_neq(nats.pid[0], 0);
}
