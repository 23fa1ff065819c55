/* ha: the pieces of a replicated partnership on one machine, for `make test-ha`.
 *
 * Part of the test support library. A three-server NATS cluster with JetStream on loopback
 * (configs, stores and logs in the test's temp dir), a TCP proxy that can be cut to partition
 * one broker from NATS without a firewall, and start/stop of processes whose readiness is a
 * line in their log (a standby broker binds nothing, so the harness cannot wait for its
 * endpoint file as h_broker_start does). What cannot be done (a port, a fork, a server that does
 * not come up) fails the test through check.h's hook.
 */
#ifndef TACNET_TEST_HA_H
#define TACNET_TEST_HA_H

#include <stddef.h>
#include <sys/types.h>

#include "check.h"

#define HA_NATS 3

/* A NATS cluster of HA_NATS servers. */
typedef struct ha_nats {
    pid_t pid[HA_NATS];
    int port[HA_NATS];  /* client port */
    int cport[HA_NATS]; /* cluster (route) port */
    char conf[HA_NATS][600];
    char log[HA_NATS][600];
} ha_nats_t;

typedef struct ha_proxy ha_proxy_t;

/* Whether nats-server is on PATH. */
int ha_nats_available(void);
/* A loopback TCP port free right now. */
int ha_free_port(void);
/* Write the configs under DIR and start the cluster; returns once every server logs a JetStream
 * metadata leader. Asserts on failure. */
void ha_nats_start(ha_nats_t *n, const char *dir);
/* Start server I again with its config and store (after ha_nats_kill). */
void ha_nats_restart(ha_nats_t *n, int i);
/* Send SIG to server I and, for a terminating signal, reap it. */
void ha_nats_signal(ha_nats_t *n, int i, int sig);
/* Stop every server (SIGTERM, then SIGKILL after 5 s). */
void ha_nats_stop(ha_nats_t *n);
/* "nats://127.0.0.1:p1,nats://127.0.0.1:p2,..." for PORTS (N of them) into OUT. */
void ha_nats_urls(const int *ports, size_t n, char *out, size_t cap);

/* A proxy on a fresh loopback port forwarding to 127.0.0.1:TARGET_PORT, in its own thread. */
ha_proxy_t *ha_proxy_new(int target_port);
int ha_proxy_port(const ha_proxy_t *p);
/* CUT non-zero: close every forwarded connection and close new ones at once; zero: forward
 * again. */
void ha_proxy_cut(ha_proxy_t *p, int cut);
void ha_proxy_destroy(ha_proxy_t **p_p);

/* $TACNET_BIN/NAME (default build/default/bin), in a static buffer. */
const char *ha_bin(const char *name);
/* Start BIN (a path, or a name looked up on PATH) with ARGV (NULL-terminated, ARGV[0]
 * included), stdout and stderr appended to LOG. Dies with the test process. */
pid_t ha_spawn(const char *bin, char *const argv[], const char *log);
/* Wait up to MS for the file LOG to contain NEEDLE, or for process PID (0: none) to exit.
 * Returns 1 when found, 0 on timeout, -1 when PID exited first (reaped; *STATUS its wait status,
 * STATUS may be NULL). */
int ha_wait_log(const char *log, const char *needle, int ms, pid_t pid, int *status);
/* Send SIG to *PID_P and reap it; *PID_P becomes 0. Returns the wait status (0 if none). */
int ha_kill(pid_t *pid_p, int sig);
/* rm -rf PATH (a directory the test made). */
void ha_rmtree(const char *path);

#endif
