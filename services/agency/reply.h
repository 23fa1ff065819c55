/* reply: building and freeing the local API's replies (Tacnet__ApiReply) in the agency core.
 *
 * Every handler (the publish path, the view's queries, holds, the retention sweep, tokens)
 * fills a reply the caller owns, with plain malloc'd pieces rather than protobuf-c's unpacked
 * ones, so they are freed here, in one place that knows every result: whoever answers a
 * request frees its reply with agency_reply_free and nothing else. Not for use outside
 * services/agency and the dashboard.
 */
#ifndef TACNET_AGENCY_REPLY_H
#define TACNET_AGENCY_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "api.pb-c.h"

#define AGENCY_MAX_FINDINGS 64

/* Set REPLY's code to CODE and its reason to the formatted text (at most 255 bytes), replacing
 * any reason it had. */
void agency_reply_error(Tacnet__ApiReply *reply, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Add one identifier finding (policy kind name, byte span START-END in FIELD) to REPLY; the
 * ones past AGENCY_MAX_FINDINGS are dropped. */
void agency_reply_finding(Tacnet__ApiReply *reply, const char *kind, uint32_t start, uint32_t end,
                          const char *field);

/* Free everything any handler allocated in R (its result, findings and reason), wiping a
 * token's secret first, and leave R with no result, findings or reason (its code stays). R
 * itself is the caller's, often on the stack. Null-safe. */
void agency_reply_free(Tacnet__ApiReply *r);

/* Free N timeline entries E and the array (the pieces of a show_case or follow result), for
 * the view's own scratch timelines. */
void agency_reply_timeline_free(Tacnet__TimelineEntry **e, size_t n);

/* Empty a retention result OUT (its cases), leaving OUT itself, for the sweep's results on the
 * stack and a sweep run again into the same result. */
void agency_reply_retention_clear(Tacnet__RetentionRunReply *out);

typedef struct agency agency_t;

/* A publish answered as a duplicate (a request key seen before): complete REPLY's published
 * result with the first publish's recipients, so a retry says who receives the event as the
 * first answer did. Nothing is changed when REPLY has no such result or already names some. */
void agency_reply_duplicate_recipients(agency_t *self, Tacnet__ApiReply *reply);


#endif
