/* agency_print: how `tacnet --agency NAME ...` shows daemon replies to people — case lists, a
 * case's summary, timeline, due items and open escalations, one line per followed event, and
 * refusals with their findings. Pure formatting: no sockets, so tests can call it directly.
 *
 * A followed event is one line of structured fields for scripts, with only the short labels
 * practitioners wrote to name a thing (topic, purpose); longer free text (rationale, views,
 * summaries) is left to --json. A case's timeline is told for people: one sentence per event,
 * dated by when it happened (labels.h). Agencies keep the names people type (`social_care`).
 * Times are shown as the dashboard shows them, "2026-12-04 14:05 GMT": in the agency's zone
 * (its daemon's [http] time_zone, named in each reply), with the zone's abbreviation.
 */
#ifndef TACNET_CLI_AGENCY_PRINT_H
#define TACNET_CLI_AGENCY_PRINT_H

#include <stdint.h>
#include <stdio.h>

#include "api.pb-c.h"

/* "E_TEXT (free text contains identifying details): REASON" and one line per finding,
 * "  field [start,end) kind". */
void cli_agency_print_refusal(FILE *out, const Tacnet__ApiReply *reply);

/* The short id people see and type: 8 hex digits of a msg_id's random part (bytes 6-9; the
 * first six are its creation time, the same for events sent together). */
void cli_agency_print_short_id(FILE *out, const ProtobufCBinaryData *id);

/* Write ID (LEN bytes, at most 16) as lowercase hex into OUT (33 bytes). */
void cli_agency_msgid_hex(char out[33], const uint8_t *id, size_t len);

/* The part of every command's answer that does not depend on the command: REPLY as JSON on OUT
 * when JSON is set, and its refusal, if any, on stderr. Returns 0 when the daemon accepted the
 * request, 1 when it refused it (the command's exit status). */
int cli_agency_print_reply(FILE *out, int json, const Tacnet__ApiReply *reply);

/* One line per case: ref, initials, lead, members, levels of need, escalations, overdue. */
void cli_agency_print_cases(FILE *out, const Tacnet__ListCasesReply *cases);

/* Summary, timeline, due and overdue items, open escalations with the time left at NOW_MS, as
 * agency VIEWER's daemon answered it (0: not known): a case VIEWER is no longer a member of
 * (it left or was taken out; the dashboard does not show it) says so under its header. */
void cli_agency_print_case(FILE *out, const Tacnet__ShowCaseReply *sc, uint32_t viewer,
                           uint64_t now_ms);

/* One timeline line: local time, seq, sender agency, kind, (case if WITH_CASE), key fields. */
void cli_agency_print_entry(FILE *out, const Tacnet__TimelineEntry *e, int with_case);

/* Show times in ZONE from now on (a reply's time_zone, a tz database name). NULL or "" keeps
 * the zone times are shown in (the process's, TZ, until a daemon names one); a name the tz
 * database installed here lacks shows them in UTC. Either way each time names its zone. */
void cli_agency_time_zone(const char *zone);

/* "3d 4h", "5h 12m", "overdue by 2d 1h": a duration from NOW_MS to DUE_MS for people. */
void cli_agency_time_left(char *buf, size_t len, uint64_t due_ms, uint64_t now_ms);

#endif
