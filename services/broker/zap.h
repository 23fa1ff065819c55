/* zap: the broker's ZeroMQ authentication handler (RFC 27), answering from the signed roster.
 *
 * libzmq asks over inproc://zeromq.zap.01 whether a CURVE client key may connect; we answer
 * 200 with User-Id "<agency>:<key_id>" (e.g. "1:3") when the key belongs to a valid, unrevoked
 * roster entry of an agency, and 400 otherwise. The broker's own key is in the roster too (its
 * notices are signed with it) but is no client: a connection made with it is refused
 * (E_NOTAGENCY), so whoever holds the broker's key cannot publish as "agency 15". The socket must
 * be bound before the broker's ROUTER binds, and the ROUTER must set ZMQ_ZAP_DOMAIN and
 * ZMQ_ZAP_ENFORCE_DOMAIN, or libzmq lets every key in when the handler is missing (libzmq 4.3's
 * CURVE server fails open without enforcement).
 *
 * Every refusal is logged with its code, but a client retrying a refused key (libzmq reconnects
 * every 100 ms) is logged once a minute per key with a count, so nobody can fill the log.
 */
#ifndef TACNET_BROKER_ZAP_H
#define TACNET_BROKER_ZAP_H

#include <stddef.h>
#include <stdint.h>

#include "roster.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN   "tacnet"

typedef struct zap zap_t;

/* Bind the handler's REP socket in CTX. Returns NULL with *ERR (TACNET_EIO). */
zap_t *zap_new(void *ctx, int *err);
void zap_destroy(zap_t **self_p);

/* The socket to poll for requests. */
void *zap_socket(zap_t *self);

/* Answer one pending ZAP request from ROSTER at NOW_MS. Returns 1 when the key was accepted; or,
 * an answer sent all the same, TACNET_EKEYID (not a valid, unrevoked roster key),
 * TACNET_ENOTAGENCY (a roster key of no agency: the broker's own), TACNET_EINVAL (not CURVE) or
 * TACNET_EBADMSG (a malformed request); TACNET_EIO when it could not be read. */
int zap_handle(zap_t *self, const roster_t *roster, uint64_t now_ms);

/* Parse a User-Id "<agency>:<key_id>" naming an agency (not the broker). Returns 0 or
 * TACNET_EINVAL. */
int zap_user_parse(const char *user_id, uint32_t *agency, uint32_t *key_id);

#endif
