/* initials: every field of an event body that names a professional holds initials, nothing else.
 *
 * The clear header's initials are checked by the broker; a body's own initials fields (a named
 * contact, a meeting's chair and attendees, a decision's participants, an action's owner, a new
 * lead, ...) are sealed, so the sending daemon checks them before sealing and every receiving
 * daemon checks them again, quarantining a violator. A field is an initials field by its name in
 * proto/events.proto: `initials` or ending in `_initials`, a bytes field; the walk follows every
 * sub-message and repeated field, so a new message carrying one is covered without a change
 * here. An empty field counts as absent (the professional was not named); a present one must be
 * 2 to 4 capital letters, as the header's are (policy_initials_check).
 *
 * Pure logic: no I/O. Used by the publish path and by receipt (services/agency).
 */
#ifndef TACNET_CASEWORK_INITIALS_H
#define TACNET_CASEWORK_INITIALS_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* Check every initials field of MSG (an event Body or any message inside one). Returns 0, or
 * TACNET_EINITIALS with the first offending field's path in PATH (NUL-terminated, cut to CAP),
 * e.g. "communication_plan.named_contact.initials" or "meeting_outcome.attendees[1].initials".
 * The value itself is never copied out: it may be a name. */
int initials_body_check(const ProtobufCMessage *msg, char *path, size_t cap);

/* OUT: the dotted path of field F (element K when repeated) of the message at PATH, as a
 * practitioner reads it ("decision.rationale", "goals[2].title"). Also the agency's text check's. */
void initials_field_path(char *out, size_t cap, const char *path, const ProtobufCFieldDescriptor *f,
                         size_t k);

#endif
