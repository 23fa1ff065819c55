/* client: libtacnet-client, the small C library an agency's own systems link to talk to their
 * tacnet agency daemon over its local API.
 *
 * The daemon listens on ipc://<data_dir>/api.sock (a ZeroMQ ROUTER). A client opens one DEALER
 * socket, sends one Tacnet__ApiRequest per call and waits for the Tacnet__ApiReply carrying the
 * same id; replies to earlier calls that timed out are recognised by their id and dropped. Use:
 *
 *     int err;
 *     tn_client_t *c = tn_client_new("/var/lib/tacnet/camhs", &err);  // or "ipc://..."/"tcp://..."
 *     Tacnet__ApiReply *reply = NULL;
 *     int rc = tn_client_cases(c, &reply, 5000);
 *     if (reply) { ... reply->code, reply->reason, reply->findings, reply->cases ... }
 *     tn_client_reply_free(&reply);
 *     tn_client_destroy(&c);
 *
 * Every call returns the daemon's answer code (0 or a TACNET_E* from err.h) with *reply set, or,
 * when no answer came, a transport error (TACNET_ETIMEOUT, TACNET_EIO) with *reply NULL: so
 * "*reply != NULL" tells a refusal by the daemon from an unreachable daemon. A client is not
 * thread-safe; use one per thread. Requests are sent as [empty frame][packed request], the
 * envelope a REQ socket uses, so the daemon answers REQ and DEALER clients alike.
 */
#ifndef TACNET_CLIENT_H
#define TACNET_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "api.pb-c.h"
#include "err.h"

typedef struct tn_client tn_client_t;

/* Replies larger than this are dropped (and the call times out). */
#define TN_CLIENT_MAX_REPLY (64u * 1024 * 1024)

/* Connect to a daemon. TARGET is the daemon's data directory (the client connects to
 * ipc://TARGET/api.sock, which must exist) or an ipc:// or tcp:// endpoint used as is (nothing
 * is checked until the first call). Returns an owned client, or NULL with *ERR set:
 * TACNET_ENOTFOUND (no api.sock in the directory), TACNET_EINVAL (empty or too long target),
 * TACNET_EIO (ZeroMQ refused the endpoint). ERR may be NULL. */
tn_client_t *tn_client_new(const char *target, int *err);

/* Close the socket and free the client. Null-safe; sets *SELF_P to NULL. */
void tn_client_destroy(tn_client_t **self_p);

/* The endpoint the client is connected to. Owned by the client. */
const char *tn_client_endpoint(const tn_client_t *self);

/* Send REQ (its id is overwritten with the next id of this client) and wait up to TIMEOUT_MS
 * (negative: forever) for the reply with that id. Returns the reply's code with *REPLY set (the
 * caller's; free with tn_client_reply_free), or TACNET_ETIMEOUT / TACNET_EIO with *REPLY NULL.
 * REQ stays the caller's and is not modified beyond its id. */
int tn_client_call(tn_client_t *self, Tacnet__ApiRequest *req, Tacnet__ApiReply **reply,
                   int timeout_ms);

/* Free a reply from this library. Null-safe; sets *REPLY_P to NULL. */
void tn_client_reply_free(Tacnet__ApiReply **reply_p);

/* Convenience wrappers around tn_client_call; same returns and ownership. */

/* Publish one event. PUB stays the caller's. On success reply->published has msg_id and the
 * daemon's local seq; a refusal names the code, the reason and the offending text spans. */
int tn_client_publish(tn_client_t *self, Tacnet__PublishRequest *pub, Tacnet__ApiReply **reply,
                      int timeout_ms);

/* List the cases this agency's view holds (reply->cases). */
int tn_client_cases(tn_client_t *self, Tacnet__ApiReply **reply, int timeout_ms);

/* One case: summary, timeline, due items (reply->show_case). CASE_REF is a C string. */
int tn_client_case(tn_client_t *self, const char *case_ref, Tacnet__ApiReply **reply,
                   int timeout_ms);

/* Record real names for CASE_REF in the daemon's identity register, so its text checks refuse
 * them. The names stay in the daemon; they are never published. */
int tn_client_register_identity(tn_client_t *self, const char *case_ref, const char *const *names,
                                size_t n_names, Tacnet__ApiReply **reply, int timeout_ms);

/* Events applied after local seq AFTER, at most MAX (0: the daemon's default)
 * (reply->follow: entries and next_local_seq to pass next time). */
int tn_client_follow(tn_client_t *self, uint64_t after, uint32_t max, Tacnet__ApiReply **reply,
                     int timeout_ms);

/* The same, but when nothing has been applied after AFTER yet the daemon holds the reply until
 * an event is (the reply then carries it) or WAIT_MS pass (the reply then has no entries; the
 * daemon caps WAIT_MS at 60000). TIMEOUT_MS must leave room for WAIT_MS. */
int tn_client_follow_wait(tn_client_t *self, uint64_t after, uint32_t max, uint32_t wait_ms,
                          Tacnet__ApiReply **reply, int timeout_ms);

/* Ask the daemon to run its profile's intake adapter on PATH (a path the daemon can read) and
 * publish every row, or nothing if any row is malformed (reply->imported). */
int tn_client_import(tn_client_t *self, const char *path, Tacnet__ApiReply **reply, int timeout_ms);

#endif
