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
 *     yyyymmdd; 64-bit integers (*_ms, seqs) are JSON integers, except unsigned values above
 *     2^63-1, which print as decimal strings (and are accepted as such).
 */
#ifndef TACNET_PBJSON_H
#define TACNET_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* The JSON form of M. Returns a new reference (the caller's, json_decref) or NULL if M is NULL.
 * M is not modified or retained. */
json_t *pbjson_from_message(const ProtobufCMessage *m);

/* Build a message of type D from the JSON object J (J is only read). Returns a message allocated
 * with plain malloc, so protobuf_c_message_free_unpacked(m, NULL) frees all of it; the caller
 * owns it. Returns NULL if J does not fit D: an unknown key, a wrong JSON type, an unknown enum
 * name, an integer out of range, malformed hex or date, two members of one oneof, or a missing
 * required field; WHY (if not NULL) then holds one line naming the JSON path, e.g.
 * `decision.participants[1].who.agency: "camhs2" is not an agency`. */
ProtobufCMessage *pbjson_to_message(const ProtobufCMessageDescriptor *d, json_t *j, char *why,
                                    size_t whylen);

#endif
