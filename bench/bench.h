/* bench: the pieces shared by the benchmark's scenarios (bench/README.md says what each
 * measures and how).
 *
 * The benchmark reuses the integration tests' harness (tests/support/harness.h, from the test
 * support library; its failed checks stop the benchmark) to provision a partnership and start the real broker and
 * agency daemons; it speaks the wire protocol itself as the publishing agency, like the tests
 * do. Every figure is printed as one JSON object per line on stdout:
 *   {"scenario": "...", "metric": "...", "run": N, "value": X, "unit": "..."}
 * and bench/report.py turns the lines of a whole `make bench` into the results table.
 */
#ifndef TACNET_BENCH_H
#define TACNET_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "check.h"
#include "harness.h"
#include "merkle.h"

#define B_BODY_BYTES 512  /* plaintext body size of every benchmark event */
#define B_WINDOW     1000 /* publishes in flight per raw publisher */

/* One signed, sealed event ready to send (frames owned). */
typedef struct b_event {
    uint64_t sender_seq;
    uint8_t msg_id[16];
    uint8_t *header;
    size_t hlen;
    uint8_t *sealed;
    size_t slen;
    uint8_t sig[MERKLE_FRAME_MAX]; /* F5: one signature, or the batch's with the proof */
    size_t sig_len;
} b_event_t;

/* Options shared by every scenario. */
typedef struct b_opts {
    int runs;    /* repetitions */
    int quick;   /* BENCH_QUICK: tiny sizes */
    double secs; /* nominal length of a timed phase */
} b_opts_t;

uint64_t b_now_us(void);

/* The synthetic summary text (lowercase, no identifiers) that makes a concern body exactly
 * B_BODY_BYTES long once packed with its msg_id and sender. */
const char *b_summary(void);

/* Make one event as SENDER: KIND on CASE_REF with SENDER_SEQ, recipients RCPT (N of them) and,
 * for a referral, SUBJECT as the agency referred to (0: none). */
void b_event_make(h_env_t *e, b_event_t *ev, uint32_t sender, Tacnet__EventKind kind,
                  const char *case_ref, uint64_t sender_seq, size_t n, const uint32_t *rcpt,
                  uint32_t subject);
/* Sign EVS[0..N) (made by b_event_make as SIGNER) in send turns of b_turn() events, as a
 * daemon's outbox pump signs the events it sends together: one signature per turn, each event
 * with its Merkle proof (common/merkle.h). A turn of 1 leaves the events' own signatures. */
void b_events_turns(h_env_t *e, b_event_t *evs, size_t n, uint32_t signer);
/* Events per send turn when publishing at saturation: $BENCH_TURN, default B_TURN (1: every
 * event signed alone, as before issue 22). A daemon's turn is what its window lets out at once
 * (256 by default), so 64 is conservative. */
#define B_TURN 64
size_t b_turn(void);
/* The packed plaintext body of EV (as b_event_make sealed it), malloc'd. */
uint8_t *b_event_body(const b_event_t *ev, uint32_t sender, size_t *len);
void b_event_free(b_event_t *ev);

/* Publish EVS[0..N) on SOCK with at most WINDOW in flight; returns the number acknowledged
 * (PUBACK), counting NACKs into *NACKED (may be NULL). Gives up after TIMEOUT_MS of silence. */
size_t b_publish_stream(void *sock, const b_event_t *evs, size_t n, size_t window, int timeout_ms,
                        size_t *nacked);
/* Publish one event and wait for its PUBACK. Returns 0 or the NACK code / TACNET_ETIMEOUT. */
int b_publish_one(void *sock, const b_event_t *ev);

/* Open a case REF from CAMHS with all four agencies as members (a concern and three
 * referrals). *SSEQ is CAMHS's next sender_seq, advanced. */
void b_case_open_all(h_env_t *e, void *sock, const char *ref, uint64_t *sseq);

/* CPU time (user + system, µs) and resident set (kB) of PID. Returns 0 or -1. */
int b_proc(pid_t pid, uint64_t *cpu_us, long *rss_kb);
/* CPU time of PID's main thread (its poll loop) alone, excluding helper threads. */
int b_proc_loop(pid_t pid, uint64_t *cpu_us);
/* Major page faults of PID so far (reads its memory maps made from the disk). */
int b_proc_majflt(pid_t pid, uint64_t *majflt);
/* Whole-machine CPU time busy and total (jiffies) from /proc/stat. */
void b_machine(uint64_t *busy, uint64_t *total);

/* Sort V and return its P-th percentile (0..100). */
double b_pct(double *v, size_t n, double p);

/* Print one figure (see the file comment). */
void b_emit(const char *scenario, const char *metric, int run, double value, const char *unit);
/* Print the machine's state: load averages and the share of CPU busy over the last phase. */
void b_emit_load(const char *scenario, int run, uint64_t busy0, uint64_t total0);

/* The broker's last acknowledged seq for AGENCY and its head, from the admin status. Returns 0
 * or -1 when the status did not answer. */
/* The broker's commit-time quantiles since it started (`tacnet broker status`). */
int b_commit_times(h_env_t *e, double *p50_ms, double *p99_ms);
int b_status(h_env_t *e, uint32_t agency, uint64_t *last_ack, uint64_t *head, uint64_t *commits,
             uint64_t *accepted);
/* The last local seq in A's view (its local API `follow`, a gallop and bisect). */
uint64_t b_view_last(h_env_t *e, const h_agency_t *a);
/* Wait until each of AGENCIES (N daemons) holds local seq TARGET[i] in its view, asking each
 * one cheap `follow` every POLL_MS. Returns when that was seen (b_now_us), or 0 after
 * TIMEOUT_MS. The broker is not asked: its status walks delivery indexes. */
uint64_t b_wait_applied(h_env_t *e, h_agency_t **agencies, size_t n, const uint64_t *target,
                        int timeout_ms, int poll_ms);

/* Scenarios. Each returns 0 or exits on a setup failure. */
int b_ingest(const b_opts_t *o);
int b_e2e(const b_opts_t *o);
int b_replicated(const b_opts_t *o);
int b_catchup(const b_opts_t *o);
int b_scale(const b_opts_t *o);
int b_mosquitto(const b_opts_t *o);
int b_baseline(const b_opts_t *o);
int b_textcheck(const b_opts_t *o);

/* Measure publish -> every follower's commit for EVS[0..N) sent at RATE per second on SOCK,
 * observing AGENCIES (N_AG daemons) through their follow API; emits p50/p99/p99.9 under
 * SCENARIO with metric prefix PREFIX. */
void b_latency(h_env_t *e, void *sock, h_agency_t **agencies, size_t n_ag, const b_event_t *evs,
               size_t n, double rate, const char *scenario, const char *prefix, int run);

#endif
