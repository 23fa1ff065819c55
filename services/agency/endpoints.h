/* endpoints: which broker an agency daemon knocks on, out of a list.
 *
 * With a replicated journal a partnership runs an active broker and one or more standbys, only
 * one of them bound at a time; the daemon does not know which, so its config lists them all
 * (`broker = a,b` or one per line in `broker_endpoint_file`) and, each time the broker it talks
 * to falls silent, it tries the next one, round robin. Nothing else changes: the daemon says
 * HELLO with its last applied seq and resends its unacknowledged outbox, which the broker
 * deduplicates by msg_id. Pure string handling, no I/O, so the rotation is testable alone.
 */
#ifndef TACNET_AGENCY_ENDPOINTS_H
#define TACNET_AGENCY_ENDPOINTS_H

#include <stddef.h>

/* The longest endpoint accepted (as the daemon's broker_ep buffer). */
#define AGENCY_ENDPOINT_MAX 255

/* Copy the endpoint at INDEX modulo their count from LIST (endpoints separated by commas or
 * line ends, blanks around each ignored, empty entries skipped) into OUT (OUTLEN bytes). Returns
 * the number of endpoints in LIST (OUT then holds the chosen one), or TACNET_ECONFIG when LIST
 * holds none or an entry longer than AGENCY_ENDPOINT_MAX or OUTLEN allows (OUT is then empty). */
int agency_endpoints_pick(const char *list, size_t index, char *out, size_t outlen);

#endif
