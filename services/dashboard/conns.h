/* conns: a deadline for every HTTP request still being read, so a client that trickles its
 * headers or its body a byte at a time cannot hold a connection for long (libmicrohttpd's own
 * timeout counts only idleness, which a trickle resets). A connection is "reading" from when it
 * opens, and again from the end of each response on a kept-alive connection, until its request
 * is whole; once the dashboard answers it (a page, a held publish, a live stream) the deadline no
 * longer applies. A new connection's headers have a shorter deadline of their own (a browser
 * sends them at once); the whole request, body included, the longer one. A connection past its
 * deadline is shut down (shutdown(2): libmicrohttpd sees the end of the stream and closes it as
 * usual, so no descriptor is closed under it).
 *
 * And when the table is nearly full (more than HIGH connections open), each new connection
 * makes room: the reading connection that has sent the least, for the longest, is shut down —
 * one whose headers are not yet whole before one sending a body, the oldest first — so that
 * slow connections from many sources, each within its source's limit, cannot fill the table
 * and keep others out; a connection being answered is never shed.
 *
 * Together with the per-source connection limit (dashboard.c) this keeps room for new sources:
 * one source can hold at most its limit, each of those for at most the deadline, and the slowest
 * of all go first when room runs short.
 */
#ifndef TACNET_DASHBOARD_CONNS_H
#define TACNET_DASHBOARD_CONNS_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dashboard_conns dashboard_conns_t;

/* Connections still reading a first request's headers after HEADERS_MS, or any request after
 * DEADLINE_MS, are shut down by the sweep; beyond HIGH open connections, new ones make room. */
dashboard_conns_t *dashboard_conns_new(uint32_t headers_ms, uint32_t deadline_ms, size_t high);
/* Free (call after the server has stopped). Null-safe; sets *SELF_P to NULL. */
void dashboard_conns_destroy(dashboard_conns_t **self_p);

/* The MHD_OPTION_NOTIFY_CONNECTION callback, with the conns as CLS. */
void dashboard_conns_notify(void *cls, struct MHD_Connection *con, void **socket_context,
                            enum MHD_ConnectionNotificationCode toe);
/* CON's request line and headers are whole (the handler's first call). */
void dashboard_conns_headers(struct MHD_Connection *con);
/* CON's request body brought N more bytes. */
void dashboard_conns_received(struct MHD_Connection *con, size_t n);
/* CON's request is whole and being answered: no deadline until its response is done. */
void dashboard_conns_answering(struct MHD_Connection *con);
/* CON's response is done; a kept-alive connection reads its next request against a new
 * deadline. */
void dashboard_conns_reading(struct MHD_Connection *con);

/* Shut down every connection reading past its deadline at NOW_MS (monotonic). Returns how many. */
size_t dashboard_conns_sweep(dashboard_conns_t *self, uint64_t now_ms);

/* Connections open now. */
size_t dashboard_conns_open(const dashboard_conns_t *self);
/* Connections shut down so far to make room for new ones. */
size_t dashboard_conns_shed(const dashboard_conns_t *self);

#endif
