/* pbjson_fixture: test events and requests written as JSON (common/pbjson), so a test reads like
 * the case history it models. In the test support library.
 */
#ifndef TACNET_TESTS_PBJSON_FIXTURE_H
#define TACNET_TESTS_PBJSON_FIXTURE_H

#include <protobuf-c/protobuf-c.h>

/* The message of type D that JSON describes; the test fails (check.h), naming the problem, if it
 * does not parse or fit D. The caller frees it with protobuf_c_message_free_unpacked(m, NULL). */
ProtobufCMessage *pbjson_fixture_message(const ProtobufCMessageDescriptor *d, const char *json);

#endif
