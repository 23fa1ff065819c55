/* web_internal: what the dashboard's page files (web.c: shared pieces, the case list and the
 * inbox; web_case.c: the case page) share. Every writer escapes what it writes. */
#ifndef TACNET_DASHBOARD_WEB_INTERNAL_H
#define TACNET_DASHBOARD_WEB_INTERNAL_H

#include "web.h"

/* web_share.c: every plan side by side (the lead plan first); the consent as recorded, or that
 * it is recorded but withheld, with the consent in force; and "health detail withheld" for the
 * classes this view cannot see (nothing when it sees every class). A goal of another agency's
 * plan with no score in this view, while this agency ME cannot see some classes, reads "no score
 * shared with this agency (health detail withheld)": it may have been scored at such a class,
 * which this view never receives, so "not measured yet" would be a guess. */
void dashboard_web_plans(dashboard_buf_t *b, const Tacnet__CaseState *st, uint32_t me);
void dashboard_web_consent_record(dashboard_buf_t *b, const Tacnet__CaseState *st);
void dashboard_web_withheld(dashboard_buf_t *b, const Tacnet__CaseState *st);
/* web_share.c: why a child's or family's view is absent, "not given: not yet asked, to be asked
 * by 2026-12-12" (the same words for plans and minutes). */
void dashboard_web_view_absent(dashboard_buf_t *b, const Tacnet__ViewAbsent *a);
/* web_capa.c: the case's latest CAPA Choice appointment (nothing when there is none), and the
 * core and specific workers of a CAPA partnership plan (nothing when it names none). */
void dashboard_web_capa_choice(dashboard_buf_t *b, const Tacnet__CaseState *st);
void dashboard_web_capa_workers(dashboard_buf_t *b, const Tacnet__CarePlan *p);
/* The display name of an Agency value. */
const char *dashboard_web_agency_title(uint32_t a);
/* Append the fields an event body sets as a definition list, labelled for people
 * (web_fields.c). */
void dashboard_web_body_fields(dashboard_buf_t *b, const Tacnet__Body *body);
/* Append LABEL (labels.h) escaped, with a capital first letter, for a table cell or heading. */
void dashboard_web_cap(dashboard_buf_t *b, const char *label);
/* Append a bytes field, escaped. */
void dashboard_web_bytes(dashboard_buf_t *b, ProtobufCBinaryData d);
/* Append a yyyymmdd date as 2026-06-03 ("—" for none). */
void dashboard_web_date(dashboard_buf_t *b, uint32_t d);
/* The label of value V of enum D (labels.h), for display. */
const char *dashboard_web_enum(const ProtobufCEnumDescriptor *d, int v);
/* Whether an escalation still needs an answer (neither resolved nor closed). */
int dashboard_web_escalation_open(const Tacnet__EscalationView *e);
/* End a page. */
void dashboard_web_foot(dashboard_web_t *w);
/* Start a page: title, navigation and, when LIVE is set, the server-sent events URL. */
void dashboard_web_head(dashboard_web_t *w, const char *title, const char *live);
/* Append a bytes field as lower-case hex. */
void dashboard_web_hex(dashboard_buf_t *b, ProtobufCBinaryData d);
/* Append "2 days 3 h left" or "overdue by 5 h" for DEADLINE_MS as seen at NOW. */
void dashboard_web_left(dashboard_buf_t *b, uint64_t deadline_ms, uint64_t now);
/* The name of a level of need (1-4), "—" for none. */
const char *dashboard_web_need_name(uint32_t level);
/* Append a professional: initials, role and job title ("—" for none). */
void dashboard_web_prof(dashboard_buf_t *b, const Tacnet__Professional *p);
/* The display name of a Role value. */
const char *dashboard_web_role(uint32_t r);
/* Append a NUL-terminated free-text field, escaped (nothing for NULL). */
void dashboard_web_text(dashboard_buf_t *b, const char *s);
/* Append a time in ms since the epoch as a <time> element in UTC ("—" for none). */
void dashboard_web_time(dashboard_buf_t *b, uint64_t ms);

#endif
