/* names: the printable names of tacnet's enums (agencies, event kinds, classes, roles), for
 * logs, the command line and JSON. Names are lowercase forms of the proto enum value names
 * ("camhs", "social_care", "meeting_outcome"), so one table (the generated descriptors) serves
 * both directions and a new enum value needs no edit here.
 */
#ifndef TACNET_NAMES_H
#define TACNET_NAMES_H

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

/* The lowercase name of VALUE in DESC, or NULL if VALUE is not a member. Static storage. For
 * the Agency enum an id the roster declares (agencies.h) is a member too, both ways. */
const char *names_enum(const ProtobufCEnumDescriptor *desc, int value);

/* Parse NAME (any case; '-' counts as '_') as a member of DESC. Returns 0 with *VALUE, or
 * TACNET_EENUM. */
int names_enum_parse(const ProtobufCEnumDescriptor *desc, const char *name, int *value);

/* Shorthands for the common enums; "?" for an unknown value. */
const char *names_agency(uint32_t agency);
const char *names_kind(uint32_t kind);
const char *names_sensitivity(uint32_t s);

#endif
