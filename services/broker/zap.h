/* zap: the broker's ZeroMQ authentication handler (RFC 27), answering from the signed roster.
 *
 * libzmq asks over inproc://zeromq.zap.01 whether a CURVE client key may connect; we answer
 * 200 with User-Id "<agency>:<key_id>" (e.g. "1:3") when the key belongs to a valid, unrevoked
 * roster entry, and 400 otherwise. The socket must be bound before the broker's ROUTER binds,
 * and the ROUTER must set ZMQ_ZAP_DOMAIN and ZMQ_ZAP_ENFORCE_DOMAIN, or libzmq lets every key in
 * when the handler is missing (libzmq 4.3's CURVE server fails open without enforcement).
 */
#ifndef TACNET_BROKER_ZAP_H
#define TACNET_BROKER_ZAP_H

#include <stddef.h>
#include <stdint.h>

#include "roster.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN   "tacnet"

/* Answer one pending ZAP request on SOCK (a bound REP socket) from ROSTER at NOW_MS. Returns 1
 * when the key was accepted, 0 when refused (either way an answer was sent), or a negative code
 * when the request was malformed or could not be read. */
int zap_handle(void *sock, const roster_t *roster, uint64_t now_ms);

/* Parse a User-Id "<agency>:<key_id>". Returns 0 or TACNET_EINVAL. */
int zap_user_parse(const char *user_id, uint32_t *agency, uint32_t *key_id);

#endif
