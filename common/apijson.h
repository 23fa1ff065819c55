/* apijson: the JSON of an API reply, one shape for the HTTP API (/api/v1) and `tacnet --json`.
 *
 * It is pbjson's form of the ApiReply (pbjson.h: names for enums, ISO 8601 times, levels of need
 * by agency) with two additions an integrator should not have to work around:
 *   - a refusal carries "error", the code's name (E_FIELD, E_AUTH, ...), beside the number;
 *   - a list is not wrapped twice: when the reply's result is a list (cases, follow, outbox,
 *     holds, tokens, users) the list message's fields stand at the top level, so a page of
 *     cases is {"code": 0, "cases": [...], "next": "..."} rather than {"cases": {"cases": [...]}}.
 * The other results (show_case, status, draft, published, ...) keep their member object.
 * apijson_reply_schema describes exactly that shape, from the same table.
 */
#ifndef TACNET_APIJSON_H
#define TACNET_APIJSON_H

#include "api.pb-c.h"

#include <jansson.h>

/* The JSON of REPLY (a new reference, the caller's). */
json_t *apijson_reply(const Tacnet__ApiReply *reply);

/* Add the schema of apijson_reply's JSON to DEFS as "tacnet.ApiReply", with every message it
 * uses (pbjson_schema.h), "error", and the hoisted lists' fields. Returns a new reference to its
 * {"$ref": PREFIX "tacnet.ApiReply"}. */
json_t *apijson_reply_schema(json_t *defs, const char *prefix);

#endif
