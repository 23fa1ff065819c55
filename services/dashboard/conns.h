/* conns: a deadline for every HTTP request still being read, so a client that trickles its
 * headers or its body a byte at a time cannot hold a connection for long (libmicrohttpd's own
 * timeout counts only idleness, which a trickle resets). A connection is "reading" from when it
 * opens, and again from the end of each response on a kept-alive connection, until its request
 * is whole; once the dashboard answers it (a page, a held publish, a live stream) the deadline no
 * longer applies. A connection past its deadline is shut down (shutdown(2): libmicrohttpd sees
 * the end of the stream and closes it as usual, so no descriptor is closed under it).
 *
 * Together with the per-source connection limit (dashboard.c) this keeps room for new sources:
 * one source can hold at most its limit, and each of those for at most the deadline.
 */
#ifndef TACNET_DASHBOARD_CONNS_H
#define TACNET_DASHBOARD_CONNS_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dashboard_conns dashboard_conns_t;

/* Connections reading for longer than DEADLINE_MS are shut down by the sweep. */
dashboard_conns_t *dashboard_conns_new(uint32_t deadline_ms);
/* Free (call after the server has stopped). Null-safe; sets *SELF_P to NULL. */
void dashboard_conns_destroy(dashboard_conns_t **self_p);

/* The MHD_OPTION_NOTIFY_CONNECTION callback, with the conns as CLS. */
void dashboard_conns_notify(void *cls, struct MHD_Connection *con, void **socket_context,
                            enum MHD_ConnectionNotificationCode toe);
/* CON's request is whole and being answered: no deadline until its response is done. */
void dashboard_conns_answering(struct MHD_Connection *con);
/* CON's response is done; a kept-alive connection reads its next request against a new
 * deadline. */
void dashboard_conns_reading(struct MHD_Connection *con);

/* Shut down every connection reading past its deadline at NOW_MS (monotonic). Returns how many. */
size_t dashboard_conns_sweep(dashboard_conns_t *self, uint64_t now_ms);

/* Connections open now. */
size_t dashboard_conns_open(const dashboard_conns_t *self);

#endif
