/* pbjson_schema: the JSON Schemas (draft 2020-12, the dialect OpenAPI 3.1 embeds) of the JSON
 * that pbjson.h writes and reads, generated from the protobuf-c descriptors with pbjson's own
 * rules, so a new field or message needs no edit here and the schema cannot drift from the
 * mapping:
 *   - a message is an object of its fields by .proto name, no other keys, its proto2 required
 *     fields required; a repeated field is an array; a oneof member is one more property;
 *   - an enum is its lowercase value name (or, for a value with no name, its number);
 *   - identifier bytes (msg_id, refers_to, *_id, *_ids) are lowercase hex, other bytes strings;
 *   - a uint32 *_date is "YYYY-MM-DD" (or, when not a valid date, its integer); a uint64 above
 *     2^63-1 is a decimal string;
 *   - a time (pbjson_field_time) is an ISO 8601 "date-time" under its key without "_ms"; a
 *     level_of_need an object of levels keyed by agency name.
 * Each message is one schema under DEFS, named by its full proto name ("tacnet.Header"), and
 * referred to as PREFIX + name ("#/components/schemas/tacnet.Header").
 */
#ifndef TACNET_PBJSON_SCHEMA_H
#define TACNET_PBJSON_SCHEMA_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* Add the schema of D, and of every message its fields use, to the object DEFS (those already
 * there are kept). Returns a new reference to {"$ref": PREFIX + D's full name}. */
json_t *pbjson_schema_add(json_t *defs, const ProtobufCMessageDescriptor *d, const char *prefix);

#endif
