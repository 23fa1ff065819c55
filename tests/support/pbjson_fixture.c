/* pbjson_fixture: messages from JSON for tests (see pbjson_fixture.h). */
#include "pbjson_fixture.h"

#include <jansson.h>

#include "check.h"
#include "pbjson.h"

ProtobufCMessage *pbjson_fixture_message(const ProtobufCMessageDescriptor *d, const char *json)
{
    json_error_t jerr;
    json_t *j = json_loads(json, 0, &jerr);
    CHECK(j != NULL, "test JSON: %s", jerr.text);
    char why[256] = "";
    ProtobufCMessage *m = pbjson_to_message(d, j, why, sizeof(why));
    json_decref(j);
    CHECK(m != NULL, "test %s: %s", d->short_name, why);
    return m;
}
