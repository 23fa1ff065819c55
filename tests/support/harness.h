/* harness: a raw-protocol test client and broker process control for the integration tests.
 *
 * Part of the test support library (tests/support, linked as libsupport.a by the tests, the
 * reliability suite and the benchmark). A test provisions a fresh partnership into its own mkdtemp dir (provision_run with the
 * deploy/ policies), starts the real tacnet-broker from $TACNET_BIN on tcp://127.0.0.1:*, and
 * talks to it as an agency over CURVE, frame by frame, so it can send both well-formed and
 * deliberately broken messages. Teardown always kills the broker it started and fails the test
 * if the broker's log holds a sanitizer report.
 *
 * What the harness cannot do (a file it cannot write, a process that does not start, a reply
 * that does not decode) fails the test through check.h's hook: "Asserts" below means that.
 */
#ifndef TACNET_TEST_HARNESS_H
#define TACNET_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "check.h"
#include "merkle.h"
#include "roster.h"
#include "seal.h"
#include "wire.h"

#define H_MAX_AGENCY 16
/* deploy/agencies.conf's family_support (a roster-defined id; its daemon is tacnet-agency). */
#define H_FAMILY_SUPPORT 6

/* One test's world: temp dir, partnership, broker process. */
typedef struct h_env {
    char dir[256];      /* mkdtemp root, removed at teardown */
    char pdir[512];     /* provisioned partnership (keys/, root/, roster.bin, root.pub) */
    char data[512];     /* broker data_dir */
    char conf[512];     /* broker config */
    char log[512];      /* broker stderr */
    char endpoint[256]; /* resolved ROUTER endpoint */
    pid_t pid;          /* running broker, 0 when none */
    roster_t *roster;
    seal_keys_t *keys[H_MAX_AGENCY]; /* by agency value; [15] the broker's */
    seal_ctx_t *seal[H_MAX_AGENCY];
    void *ctx;
    struct h_client *clients[32]; /* open clients, closed at teardown */
    struct h_agency *agencies[8]; /* agency daemons, stopped and checked at teardown */
    char agencies_conf[512];      /* h_agencies_path's copy (for tacnet by h_cli), or empty */
} h_env_t;

/* One agency daemon process ($TACNET_BIN/tacnet-<agency>, or tacnet-agency for an agency the
 * roster declares beyond the enum) of a test's world. */
typedef struct h_agency {
    h_env_t *env;
    uint32_t agency;
    char data[512]; /* its data_dir (api.sock lives here) */
    char conf[512];
    char log[512]; /* its stderr, appended across restarts */
    pid_t pid;     /* running daemon, 0 when none */
} h_agency_t;

/* A client connection as one agency. */
typedef struct h_client {
    h_env_t *env;
    void *sock;
    uint32_t agency;
} h_client_t;

/* One event to publish: a header being built and, once sealed, its three frames. */
typedef struct h_pub {
    Tacnet__Header h;
    uint8_t msg_id[16];
    char case_ref[32];
    char initials[8];
    Tacnet__Agency rcpt[8];
    uint8_t *header;
    size_t hlen;
    uint8_t *sealed;
    size_t slen;
    uint8_t sig[MERKLE_FRAME_MAX]; /* F5: the event's own signature, or a batch's (h_pub_batch) */
    size_t sig_len;                /* SEAL_SIG_BYTES once sealed (0 is taken as that) */
} h_pub_t;

/* A sharing policy file to provision with instead of deploy/sharing.conf (NULL: the default). */
extern const char *h_sharing_path;
/* An agencies file to provision with instead of deploy/agencies.conf (NULL: the default). Every
 * agency it declares gets its key set loaded and, beyond the four named ones, is served by
 * tacnet-agency. */
extern const char *h_agencies_path;
/* An escalation policy file to provision with instead of deploy/escalation.conf (NULL: the
 * default). */
extern const char *h_escalation_path;
/* The broker's bind endpoint instead of tcp://127.0.0.1:* (NULL: that default). */
extern const char *h_bind;
/* Non-zero: provision a key set for the partnership contact too (loaded into keys[5]). */
extern int h_with_partnership;

/* mkdtemp, provision, load keys and roster, write the broker config (EXTRA appended to the
 * [broker] section, may be NULL). Asserts on failure. */
void h_setup(h_env_t *e, const char *extra);
/* Kill anything started, check the broker log for sanitizer reports, remove the temp dir. */
void h_teardown(h_env_t *e);
/* Rewrite the config (keeps paths, appends EXTRA to [broker]). */
void h_config_write(h_env_t *e, const char *extra);

/* Start the broker with TACNET_FAULT=FAULT (NULL: unarmed); waits for the endpoint file.
 * Returns 0, or the broker's exit status + 1000 if it exited first. */
int h_broker_start(h_env_t *e, const char *fault);
/* Start the broker and wait for it to exit (startup refusals). Returns its exit status, or -1
 * if it was still running after TIMEOUT_MS (it is then killed). */
int h_broker_run_expect_exit(h_env_t *e, int timeout_ms);
/* Send SIG and reap. Returns the wait status. */
int h_broker_signal_wait(h_env_t *e, int sig);
/* Whether the broker log contains NEEDLE. */
int h_log_contains(const h_env_t *e, const char *needle);
/* Whether FILE contains the bytes NEEDLE. */
int h_file_contains(const char *path, const char *needle);

/* Connect as AGENCY with its provisioned CURVE keys, pinning the roster's broker key. */
h_client_t *h_connect(h_env_t *e, uint32_t agency);
/* Connect with raw socket options: SECURITY 0 NULL, 1 PLAIN, 2 CURVE with CLIENT_KEYS (NULL:
 * fresh random keys) and SERVER_PK (NULL: the roster's broker key). */
h_client_t *h_connect_raw(h_env_t *e, int security, const seal_keys_t *client_keys,
                          const uint8_t *server_pk);
/* Close and forget *C_P (NULL-safe); sets *C_P to NULL. */
void h_close(h_client_t **c_p);

/* HELLO and wait for WELCOME. Returns 0 with *HEAD (may be NULL), or TACNET_ETIMEOUT. */
int h_hello(h_client_t *c, uint64_t last_applied, uint32_t credit, uint64_t *head);
/* Receive one message within TIMEOUT_MS into M (cleared by the caller). Returns 0, or
 * TACNET_ETIMEOUT. */
int h_recv(h_client_t *c, int timeout_ms, wire_msg_t *m);

/* Start an event (P zeroed, or used before: its frames are freed) with defaults: schema 1, fresh msg_id, KIND on CASE_REF,
 * initials "JS", SENDER_SEQ, key id 1, policy 1, ROUTINE, LEGAL_DUTY, recipients = sender. */
void h_pub_init(h_pub_t *p, uint32_t sender, Tacnet__EventKind kind, const char *case_ref,
                uint64_t sender_seq);
/* Set the header's recipients (N agencies). */
/* The header's initials (h_pub_init gives "JS"): a case's events must all carry its first's. */
void h_pub_initials(h_pub_t *p, const char *initials);
void h_pub_rcpt(h_pub_t *p, size_t n, const uint32_t *agencies);
/* Pack the header, build a body repeating msg_id and sender with SUMMARY in a concern (any other
 * header kind: an empty event of that kind's own), and seal it as SIGNER for WRAP (N agencies;
 * NULL: the header's recipients). Asserts on failure. */
void h_pub_seal(h_env_t *e, h_pub_t *p, uint32_t signer, const char *summary, const uint32_t *wrap,
                size_t n_wrap);
/* Sign the N sealed events PS together as SIGNER, as a daemon signs one send turn: each
 * event's F5 becomes the batch's signature with its Merkle proof (common/merkle.h). */
void h_pub_batch(h_env_t *e, h_pub_t *const *ps, size_t n, uint32_t signer);
/* Free the packed frames of P. */
void h_pub_free(h_pub_t *p);

/* Send the PUBLISH frames of P. */
void h_send_pub(h_client_t *c, const h_pub_t *p);
/* The one frame of a message of N parts laid out as common/wire.h does, whatever they hold
 * (for malformed messages): parts 0 (protocol id) and 1 (command byte) as they are, parts 2 to
 * 4 (command header, Header, sealed body) each after its length (u32, little-endian), part 5
 * (the signature) and any after it as they are. Malloc'd; *OUT_LEN gets its length. Written
 * apart from wire.c, so the tests check the layout and not the code against itself. */
uint8_t *h_frame_of(size_t n, const void *const *data, const size_t *lens, size_t *out_len);
/* Send the message of N parts as h_frame_of lays them out, in one ZeroMQ frame. */
void h_send_frames(h_client_t *c, size_t n, const void *const *data, const size_t *lens);
/* Send N ZeroMQ frames as they are (a message of the wrong shape). */
void h_send_zmq_frames(h_client_t *c, size_t n, const void *const *data, const size_t *lens);
/* Send the first N-1 parts laid out as one frame, then part N-1 in a second ZeroMQ frame (a
 * signature sent apart: refused E_FRAMES). */
void h_send_split_last(h_client_t *c, size_t n, const void *const *data, const size_t *lens);
/* Wait for the PUBACK or NACK answering MSG_ID (NULL: the first one), skipping DELIVERs.
 * Returns 0 with *SEQ and *DUP for a PUBACK, the NACK's code, or TACNET_ETIMEOUT. */
int h_result(h_client_t *c, const uint8_t *msg_id, int timeout_ms, uint64_t *seq, int *dup);
/* Send P and wait for its result. */
int h_publish(h_client_t *c, const h_pub_t *p, uint64_t *seq);

/* Verify and open a DELIVER as recipient C: signature with the sender's roster key, open with
 * C's keys, body repeats msg_id and sender. Returns 0 or a TACNET_E* code; *SEQ gets the
 * Deliver's seq and *PREV its prev_seq, *H the header (caller frees with wire_free; may be
 * NULL). */
int h_open_deliver(h_client_t *c, const wire_msg_t *m, uint64_t *seq, uint64_t *prev,
                   Tacnet__Header **h);
/* Send a cumulative ACK. */
void h_ack(h_client_t *c, uint64_t upto);

/* Collect DELIVERs for TIMEOUT_MS (stopping early when WANT have arrived), ACKing them,
 * storing each seq in SEQS and its header's sender_seq in SSEQS (either may be NULL; capacity
 * CAP). Asserts each one verifies and opens and that prev_seq chains. Returns the number
 * received. */
size_t h_collect(h_client_t *c, size_t want, int timeout_ms, uint64_t *seqs, uint64_t *sseqs,
                 size_t cap);

/* Bytes of the broker's data.mdb (malloc'd; caller frees). */
uint8_t *h_data_mdb(const h_env_t *e, size_t *len);
/* The admin "status" JSON (malloc'd) or NULL on timeout. */
char *h_admin_status(const h_env_t *e);
/* Run `$TACNET_BIN/tacnet --agency <A's agency> --data-dir <A's data> ARGS` (ARGS goes through
 * the shell); its output (stdout and stderr) into OUT. Returns its exit code (128 if none). */
int h_cli(const h_agency_t *a, const char *args, char *out, size_t cap);

/* Write roster version VERSION with AGENCY's key REVOKED, signed by the root key. */
void h_roster_revoke(h_env_t *e, uint32_t agency, uint32_t version);

/* Write AGENCY's daemon config (broker_endpoint_file = the broker's, deploy/ gazetteer) and
 * register it for teardown. Returns the daemon (owned by E). */
h_agency_t *h_agency_add(h_env_t *e, uint32_t agency);
/* Start the daemon with TACNET_FAULT=FAULT (NULL: unarmed) and wait for its api.sock. Returns 0,
 * or its exit status + 1000 if it exited first. */
int h_agency_start(h_agency_t *a, const char *fault);
/* h_agency_add + h_agency_start unarmed; a failed start fails the test. Returns the daemon. */
h_agency_t *h_agency_up(h_env_t *e, uint32_t agency);
/* Send SIG and reap. Returns the wait status. */
int h_agency_signal_wait(h_agency_t *a, int sig);
/* Wait up to TIMEOUT_MS for the daemon to exit by itself. Returns the wait status, or -1. */
int h_agency_wait_exit(h_agency_t *a, int timeout_ms);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t h_now_ms(void);
/* Sleep MS milliseconds, resuming after signals. */
void h_sleep_ms(int ms);
/* The source tree the tests read deploy/ from: $TACNET_SRC, else ".". */
const char *h_src(void);

#endif
