/* openapi: the API's OpenAPI 3.1 document (see openapi.h). */
#include "openapi.h"
#include "api.pb-c.h"
#include "apijson.h"
#include "pbjson_schema.h"
#include "version.h"

#include <string.h>

#define SCHEMAS "#/components/schemas/"

/* Every answer is an ApiReply as apijson.h shapes it (a list's fields at the top level, a
 * refusal's name as "error"); a list adds the next page's cursor ("next"). */
static void s_reply_extras(json_t *schemas)
{
    json_t *props = json_object_get(json_object_get(schemas, "tacnet.ApiReply"), "properties");
    json_object_set_new(props, "next",
                        json_pack("{s:s, s:s}", "type", "string", "description",
                                  "lists: the cursor of the next page (?after=), absent on the "
                                  "last page of cases; always given for events (poll from it)"));
}

static json_t *s_reply(const char *description)
{
    return json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", description, "content",
                     "application/json", "schema", "$ref", SCHEMAS "tacnet.ApiReply");
}

/* The replies every authenticated path may give, besides its own. */
static json_t *s_responses(const char *ok_status, const char *ok)
{
    json_t *r = json_object();
    json_object_set_new(r, ok_status, s_reply(ok));
    json_object_set_new(r, "401", s_reply("no valid API token (error E_AUTH)"));
    json_object_set_new(r, "404", s_reply("no such resource, or not this agency's (E_NOTFOUND)"));
    json_object_set_new(r, "403",
                        s_reply("a POST from another site's page (Origin), refused (E_FORBIDDEN)"));
    json_object_set_new(r, "421",
                        s_reply("a Host this dashboard does not answer for (see [http] "
                                "hosts), refused (E_FORBIDDEN)"));
    json_object_set_new(r, "422", s_reply("refused: error and reason say why"));
    json_object_set_new(r, "429",
                        s_reply("too many failed tokens or log-ins from this address "
                                "(E_LOCKED): Retry-After says when to try again"));
    json_object_set_new(r, "503", s_reply("the daemon's storage failed; try again"));
    return r;
}

static json_t *s_param(const char *name, const char *in, const char *description, json_t *schema)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", name, "in", in, "description",
                     description, "required", strcmp(in, "path") == 0, "schema", schema);
}

static json_t *s_page_params(void)
{
    return json_pack(
        "[o, o]",
        s_param("after", "query", "the cursor a previous page gave as \"next\"",
                json_pack("{s:s}", "type", "string")),
        s_param("limit", "query", "rows per page, 1-500 (default 50)",
                json_pack("{s:s, s:i, s:i}", "type", "integer", "minimum", 1, "maximum", 500)));
}

static json_t *s_id_param(void)
{
    return s_param("id", "path", "an event's msg_id (32 hex digits) or a unique prefix of it",
                   json_pack("{s:s, s:s}", "type", "string", "pattern", "^[0-9a-f]{1,32}$"));
}

static json_t *s_op(const char *summary, json_t *params, json_t *responses, int public)
{
    json_t *op = json_pack("{s:s, s:o, s:o}", "summary", summary, "parameters",
                           params ? params : json_array(), "responses", responses);
    if (public)
        json_object_set_new(op, "security", json_array());
    return op;
}

static json_t *s_paths(void)
{
    json_t *p = json_object();
    json_object_set_new(
        p, "/api/v1/openapi.json",
        json_pack("{s:o}", "get",
                  s_op("This document (no token needed)", NULL,
                       json_pack("{s:{s:s}}", "200", "description", "the OpenAPI document"), 1)));
    json_object_set_new(p, "/api/v1/cases",
                        json_pack("{s:o}", "get",
                                  s_op("The cases this agency is a member of, by reference, in "
                                       "pages, each with its counts",
                                       s_page_params(), s_responses("200", "a page of cases"), 0)));
    json_object_set_new(
        p, "/api/v1/cases/{ref}",
        json_pack("{s:o}", "get",
                  s_op("One case: summary, timeline, folded state and what is due",
                       json_pack("[o]", s_param("ref", "path", "the case reference",
                                                json_pack("{s:s}", "type", "string"))),
                       s_responses("200", "the case (show_case)"), 0)));
    json_t *fhir = s_responses("200", "");
    json_object_set_new(
        fhir, "200",
        json_pack("{s:s, s:{s:{s:{s:s, s:s, s:[s, s, s], s:{s:{s:[s]}, s:{s:[s]}, s:{s:s, "
                  "s:{s:s, s:[s, s]}}}}}}}",
                  "description",
                  "a FHIR R4 Bundle of type collection (http://hl7.org/fhir/R4/bundle.html): "
                  "CareTeam, CarePlan, Goal, Consent, Encounter, Observation, Communication; "
                  "the subject a Patient by display only (reference and initials)",
                  "content", "application/fhir+json", "schema", "type", "object", "description",
                  "validated in full against the FHIR R4 JSON schema by the browser test",
                  "required", "resourceType", "type", "entry", "properties", "resourceType", "enum",
                  "Bundle", "type", "enum", "collection", "entry", "type", "array", "items", "type",
                  "object", "required", "fullUrl", "resource"));
    json_object_set_new(
        p, "/api/v1/fhir/Bundle/{ref}",
        json_pack("{s:o}", "get",
                  s_op("One case as a read-only FHIR R4 Bundle, for NHS integrators",
                       json_pack("[o]", s_param("ref", "path", "the case reference",
                                                json_pack("{s:s}", "type", "string"))),
                       fhir, 0)));
    json_t *events_get = s_page_params();
    json_array_append_new(events_get,
                          s_param("max", "query", "older name of limit",
                                  json_pack("{s:s, s:i}", "type", "integer", "minimum", 1)));
    json_array_append_new(
        events_get,
        s_param("wait", "query",
                "seconds to wait when nothing is there after the cursor, 0-60 "
                "(default 0): answered as soon as an event is applied, or empty "
                "with the same cursor when the wait is over",
                json_pack("{s:s, s:i, s:i}", "type", "integer", "minimum", 0, "maximum", 60)));
    json_t *post_resp = s_responses("201", "accepted by the broker (published, with its seq)");
    json_object_set_new(post_resp, "202", s_reply("queued: the broker has not answered yet"));
    json_object_set_new(post_resp, "409",
                        s_reply("request_key was used for a different event (E_EXISTS): nothing "
                                "was queued"));
    json_object_set_new(post_resp, "415",
                        s_reply("the body is not sent as application/json (E_FIELD)"));
    json_t *post = s_op("Publish an event: checked, sealed and sent; waits for the broker's "
                        "answer",
                        json_pack("[o]", s_param("wait", "query",
                                                 "seconds to wait for the broker, 0-600 "
                                                 "(default 10)",
                                                 json_pack("{s:s, s:i, s:i}", "type", "integer",
                                                           "minimum", 0, "maximum", 600))),
                        post_resp, 0);
    json_object_set_new(post, "requestBody",
                        json_pack("{s:b, s:{s:{s:{s:s}}}}", "required", 1, "content",
                                  "application/json", "schema", "$ref",
                                  SCHEMAS "tacnet.PublishRequest"));
    json_object_set_new(
        p, "/api/v1/events",
        json_pack("{s:o, s:o}", "get",
                  s_op("Events of this agency's cases after a cursor, oldest first", events_get,
                       s_responses("200", "a page of events (follow) and the next cursor"), 0),
                  "post", post));
    json_object_set_new(
        p, "/api/v1/events/{id}",
        json_pack("{s:o}", "get",
                  s_op("Where one of this agency's events stands: queued, sent, accepted or "
                       "refused (and why)",
                       json_pack("[o]", s_id_param()), s_responses("200", "its status"), 0)));
    json_object_set_new(p, "/api/v1/outbox",
                        json_pack("{s:o}", "get",
                                  s_op("Events the broker has not accepted, and those it refused",
                                       NULL, s_responses("200", "the outbox"), 0)));
    json_object_set_new(
        p, "/api/v1/outbox/{id}/draft",
        json_pack("{s:o}", "get",
                  s_op("A refused event as the request that sends it again (with replaces)",
                       json_pack("[o]", s_id_param()), s_responses("200", "the draft"), 0)));
    json_object_set_new(
        p, "/api/v1/outbox/{id}/withdraw",
        json_pack("{s:o}", "post",
                  s_op("Withdraw a refused event: it leaves the outbox",
                       json_pack("[o]", s_id_param()), s_responses("200", "withdrawn"), 0)));
    return p;
}

json_t *dashboard_openapi(void)
{
    json_t *schemas = json_object();
    json_decref(apijson_reply_schema(schemas, SCHEMAS));
    json_decref(pbjson_schema_add(schemas, &tacnet__publish_request__descriptor, SCHEMAS));
    s_reply_extras(schemas);
    return json_pack(
        "{s:s, s:{s:s, s:s, s:s}, s:o, s:{s:o, s:{s:{s:s, s:s}}}, s:[{s:[]}]}", "openapi", "3.1.0",
        "info", "title", "tacnet agency API", "version", TACNET_VERSION, "description",
        "One agency daemon's HTTP/JSON API: its cases and events, publishing, and the outcome of "
        "what it sent. JSON is the pbjson mapping of the protobuf messages: fields by .proto "
        "name, enums by lowercase name, identifiers as hex, dates as YYYY-MM-DD, times as ISO "
        "8601 UTC (\"2026-11-02T09:30:00Z\") under the field's name without _ms "
        "(last_activity_ms is \"last_activity\"; the durations elapsed_ms, stage_took_ms and "
        "unapplied_after_ms stay milliseconds), levels of need as an object keyed by agency "
        "name ({\"school\": 4}). A list's fields stand at the top of the reply ({\"cases\": "
        "[...], \"next\": cursor}); every refusal names its code in \"error\". Requests "
        "(POST /api/v1/events) take the same shapes.",
        "paths", s_paths(), "components", "schemas", schemas, "securitySchemes", "bearer", "type",
        "http", "scheme", "bearer", "security", "bearer");
}
