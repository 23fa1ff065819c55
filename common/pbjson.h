/* pbjson: tacnet's one mapping between protobuf-c messages and JSON.
 *
 * The `tacnet` command prints API replies with it, reads event bodies given as JSON with it, and
 * the daemon's HTTP/JSON API reuses it, so an integrator sees one JSON shape everywhere. The
 * mapping is driven by the generated descriptors, so a new field or event kind needs no edit here.
 *
 * Conventions:
 *   - keys are the field names of the .proto; absent optional fields and empty repeated fields
 *     are omitted; repeated fields are arrays; null counts as absent on input;
 *   - enums are lowercase value names ("social_care", "meeting_outcome"); any case is accepted
 *     on input ('-' counts as '_'); a value with no name prints as its number;
 *   - a oneof member is a nested object under the member's name (`{"decision": {...}}`);
 *   - bytes fields named msg_id, refers_to, *_id or *_ids are lowercase hex; every other bytes
 *     field (case_ref, initials, owner_initials) is a plain string (NULs survive as \u0000);
 *   - uint32 fields ending in _date print as "YYYY-MM-DD" and accept that or an integer
 *     yyyymmdd; 64-bit integers (seqs, durations) are JSON integers, except unsigned values
 *     above 2^63-1, which print as decimal strings (and are accepted as such);
 *   - times: a uint64 field ending in _ms is milliseconds since 1970 UTC unless it is one of
 *     the durations pbjson_field_time lists; its key is the field's name without "_ms"
 *     (`last_activity_ms` -> "last_activity", `created_at_ms` -> "created_at") and its value
 *     ISO 8601 UTC, "2026-11-02T09:30:00Z" (".123" before the Z when the milliseconds are not
 *     0). Input accepts that, or, under the old key (`deadline_ms`), the integer;
 *   - a repeated uint32 indexed by agency (level_of_need) is an object keyed by agency name,
 *     zeros left out: {"school": 4, "social_care": 2}; input also takes the positional array.
 */
#ifndef TACNET_PBJSON_H
#define TACNET_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* The JSON form of M. Returns a new reference (the caller's, json_decref) or NULL if M is NULL.
 * M is not modified or retained. */
json_t *pbjson_from_message(const ProtobufCMessage *m);

/* Whether F is an epoch time in milliseconds (shown as ISO 8601 under pbjson_field_key). */
int pbjson_field_time(const ProtobufCFieldDescriptor *f);

/* Whether F is a repeated uint32 indexed by agency value (shown as an object by agency name). */
int pbjson_field_by_agency(const ProtobufCFieldDescriptor *f);

/* F's key in the JSON: its .proto name, without "_ms" for a time. BUF holds at least 64 bytes;
 * the result is BUF or F's own name. */
const char *pbjson_field_key(const ProtobufCFieldDescriptor *f, char *buf, size_t cap);

/* The JSON key of agency A (names.h's name, or its number for an agency with no name yet) and
 * back. Returns 0 with *A, or TACNET_EENUM. */
const char *pbjson_agency_key(uint32_t a, char *buf, size_t cap);
int pbjson_agency_parse(const char *key, uint32_t *a);

/* Build a message of type D from the JSON object J (J is only read). Returns a message allocated
 * with plain malloc, so protobuf_c_message_free_unpacked(m, NULL) frees all of it; the caller
 * owns it. Returns NULL if J does not fit D: an unknown key, a wrong JSON type, an unknown enum
 * name, an integer out of range, malformed hex or date, two members of one oneof, or a missing
 * required field; WHY (if not NULL) then holds one line naming the JSON path, e.g.
 * `decision.participants[1].who.agency: "camhs2" is not an agency`. */
ProtobufCMessage *pbjson_to_message(const ProtobufCMessageDescriptor *d, json_t *j, char *why,
                                    size_t whylen);

#endif
