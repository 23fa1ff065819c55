/* labels: tacnet's enums and events in plain language, for people — the dashboard and the
 * human output of `tacnet`. Names (names.h) are for machines and for what people type
 * ("lead_professional", "esc_opened"); labels are what they read ("Lead professional",
 * "opened"). One table holds a label for every value of every enum in proto/, and a unit test
 * fails when a value is added without one.
 *
 * An event is told as one sentence ("School raised an urgent disagreement about Level of
 * need") built from its header and, where this agency may read it, its body; and it is dated by
 * when it happened (the body's own date) rather than when it was sent.
 */
#ifndef TACNET_LABELS_H
#define TACNET_LABELS_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "events.pb-c.h"
#include "wire.pb-c.h"

/* The label of VALUE in DESC ("Designated safeguarding lead"); for a value the table lacks, its
 * name with spaces for underscores; "unknown" for a value DESC does not have. An agency's label
 * is its title in the roster when the roster gives one (agencies.h). Static storage. */
const char *labels_enum(const ProtobufCEnumDescriptor *desc, int value);

/* 1 when the table has a label of its own for VALUE of DESC, else 0 (for the test). */
int labels_enum_has(const ProtobufCEnumDescriptor *desc, int value);

/* The enums the table covers, for the test that every enum of proto/ is among them. Sets *N. */
const ProtobufCEnumDescriptor *const *labels_enums(size_t *n);

/* Shorthands. */
const char *labels_agency(uint32_t agency);
const char *labels_kind(uint32_t kind);
const char *labels_role(uint32_t role);
/* The agencies of MASK (bit 1 << id, ids 1..31) in words into OUT: "CAMHS", "CAMHS and School",
 * "CAMHS, School and Social care" ("" for none). Returns OUT. */
char *labels_agency_list(uint32_t mask, char *out, size_t cap);
/* A plan type as a plan into OUT: "CAPA partnership plan", "early help plan". Returns OUT. */
char *labels_plan(int type, char *out, size_t cap);
/* What an escalation is about, in words: its disagreement's topic, or why an automatic one
 * opened; NULL when neither is known. */
struct Tacnet__EscalationView;
const char *labels_escalation_about(const struct Tacnet__EscalationView *e);

/* A level of need 1-4 ("3 child in need"); "none" for 0, "?" above 4. */
const char *labels_need(uint32_t level);

/* One sentence, without a final full stop, saying what the event H (body B, NULL when this
 * agency may not read it) records: who did what, about what. Free text from the body (a topic,
 * a purpose) appears as written: escape it for HTML. Writes at most CAP bytes (NUL included)
 * and returns OUT. */
char *labels_event_sentence(const Tacnet__Header *h, const Tacnet__Body *b, char *out, size_t cap);

/* The date the event says it happened, yyyymmdd: the first date field of its body's event that
 * is not about the future (so not wanted_by_date or next_meeting_date), or 0 when it has none
 * (the caller then uses the header's created_at_ms). */
uint32_t labels_event_date(const Tacnet__Body *b);

#endif
