/* openapi: the OpenAPI 3.1 document of the HTTP/JSON API, served public at
 * /api/v1/openapi.json so an integrator can generate a client. Every /api/v1 path with its
 * parameters, request and replies; the bodies' JSON Schemas come from the protobuf descriptors
 * (common/pbjson_schema.h), so a new field or event kind appears without an edit here. */
#ifndef TACNET_DASHBOARD_OPENAPI_H
#define TACNET_DASHBOARD_OPENAPI_H

#include <jansson.h>

/* The document (a new reference). */
json_t *dashboard_openapi(void);

#endif
