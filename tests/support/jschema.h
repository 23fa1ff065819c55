/* jschema: a small JSON Schema validator for the subset the server's OpenAPI document uses
 * (common/pbjson_schema.h and services/dashboard/openapi.c): $ref within the document, type
 * (one or a list), properties, additionalProperties (false, or the schema of a map's values),
 * required, items, enum, anyOf, minimum, maximum, pattern (POSIX extended) and format date and
 * date-time (UTC, as pbjson writes it). A keyword outside the subset is
 * an error, so a schema the tests cannot check does not pass unchecked. */
#ifndef TACNET_TEST_JSCHEMA_H
#define TACNET_TEST_JSCHEMA_H

#include <jansson.h>
#include <stddef.h>

/* Whether VALUE fits SCHEMA, $refs resolved in DOC. Returns 0, or -1 with WHY naming the JSON
 * path and the rule it broke. */
int jschema_validate(json_t *doc, json_t *schema, json_t *value, char *why, size_t whylen);

#endif
