/* pbjson_fixture: test events and requests written as JSON (common/pbjson), so a test reads like
 * the case history it models. Header-only: each Criterion binary includes it where needed. */
#ifndef TACNET_TESTS_PBJSON_FIXTURE_H
#define TACNET_TESTS_PBJSON_FIXTURE_H

#include <criterion/criterion.h>
#include <jansson.h>

#include "pbjson.h"

/* The message of type D that JSON describes; the test fails, naming the problem, if it does not
 * parse or fit D. The caller frees it with protobuf_c_message_free_unpacked(m, NULL). */
static inline ProtobufCMessage *t_message_from_json(const ProtobufCMessageDescriptor *d,
                                                    const char *json)
{
    json_error_t jerr;
    json_t *j = json_loads(json, 0, &jerr);
    cr_assert_not_null(j, "test JSON: %s", jerr.text);
    char why[256] = "";
    ProtobufCMessage *m = pbjson_to_message(d, j, why, sizeof(why));
    json_decref(j);
    cr_assert_not_null(m, "test %s: %s", d->short_name, why);
    return m;
}

#endif
