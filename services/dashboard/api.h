/* api: the HTTP/JSON API's lists — /api/v1/cases and /api/v1/events — in pages
 * (`?after=CURSOR&limit=N`, page.h), each answer an ApiReply in pbjson form with "next" (the
 * cursor of the following page, absent on the last) beside it. dashboard.c authenticates,
 * routes and sends; these build the answer, so a long list costs the page asked for, not the
 * whole view. */
#ifndef TACNET_DASHBOARD_API_H
#define TACNET_DASHBOARD_API_H

#include <jansson.h>

#include "agency/agency.h"
#include "buf.h"

/* The cases this agency is a member of, by reference, each with its counts, from INDEX (the
 * summaries My cases keeps, case_index.h). Returns 0 or the refusal's code; *OUT is the JSON to
 * send either way (a new reference). */
struct dashboard_index;
int dashboard_api_cases(agency_t *self, struct dashboard_index *index, const char *actor,
                        const dashboard_kv_t *q, json_t **out);

/* The events of those cases after a cursor (or a local seq, `?after=N`, as before cursors),
 * oldest first. Returns 0 or the refusal's code; *OUT is the JSON to send either way.
 * With EMPTY (a request that may wait, `?wait=S`): when the view holds nothing after the
 * cursor, *EMPTY is 1, *OUT NULL and nothing is audited (the caller waits, then asks again
 * with EMPTY NULL); else *EMPTY is 0 and the page is answered as without it. */
int dashboard_api_events(agency_t *self, const char *actor, const dashboard_kv_t *q, json_t **out,
                         int *empty);

#endif
