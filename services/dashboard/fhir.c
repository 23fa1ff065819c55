/* fhir: a read-only FHIR R4 view of one case (see fhir.h). */
#include "fhir.h"
#include "labels.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define FHIR_ACT_CODE "http://terminology.hl7.org/CodeSystem/v3-ActCode"

/* What every resource of one bundle shares. */
typedef struct {
    json_t *entries;
    const Tacnet__CaseSummary *sum;
    int closed;
    char subject[96];
} fhir_t;

/* A stable urn:uuid for what a resource stands for: the case, the resource type and its own
 * identifier (a msg_id, plus a number for what one message holds several of). ID gets the bare
 * uuid (a valid FHIR id), URN the fullUrl. */
static void s_uuid(const fhir_t *f, const char *type, const uint8_t *key, size_t keylen, uint32_t n,
                   char id[37], char urn[46])
{
    uint8_t h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, f->sum->case_ref.data, f->sum->case_ref.len);
    crypto_generichash_update(&st, (const uint8_t *)type, strlen(type) + 1);
    if (keylen)
        crypto_generichash_update(&st, key, keylen);
    uint8_t nb[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
    crypto_generichash_update(&st, nb, sizeof(nb));
    crypto_generichash_final(&st, h, sizeof(h));
    h[6] = (uint8_t)((h[6] & 0x0f) | 0x50); /* name-based, as RFC 4122 version 5 */
    h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            id[o++] = '-';
        o += (size_t)snprintf(id + o, 3, "%02x", h[i]);
    }
    id[o] = 0;
    snprintf(urn, 46, "urn:uuid:%s", id);
}

/* yyyymmdd as a FHIR date; 0 when unset. */
static int s_date(uint32_t d, char out[11])
{
    if (d < 10000101 || d > 99991231)
        return 0;
    snprintf(out, 11, "%04u-%02u-%02u", (d / 10000) % 10000, (d / 100) % 100, d % 100);
    return 1;
}

static int s_instant(uint64_t ms, char out[32])
{
    if (!ms)
        return 0;
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return 1;
}

static json_t *s_subject(const fhir_t *f)
{
    return json_pack("{s:s}", "display", f->subject);
}

static json_t *s_display(const char *text)
{
    return json_pack("{s:s}", "display", text);
}

static json_t *s_text(const char *text)
{
    return json_pack("{s:s}", "text", text);
}

/* A professional as people read them: "RK (Practitioner), CAMHS"; the agency alone without
 * one. Initials only, never a name. */
static void s_professional(const Tacnet__Professional *p, uint32_t agency, char *out, size_t cap)
{
    if (p && p->initials.len)
        snprintf(out, cap, "%.*s (%s), %s", (int)p->initials.len, (const char *)p->initials.data,
                 labels_role(p->role), labels_agency(p->has_agency ? p->agency : agency));
    else
        snprintf(out, cap, "%s", labels_agency(agency));
}

/* The enum value's name in lower case, as the JSON API spells it ("health"). */
static void s_code(const ProtobufCEnumDescriptor *d, int v, char *out, size_t cap)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
    snprintf(out, cap, "%s", ev ? ev->name : "unknown");
    for (char *c = out; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
}

/* A new resource of TYPE under URN in the bundle; returns it (borrowed) for the caller to fill. */
static json_t *s_add(fhir_t *f, const char *type, const char *id, const char *urn)
{
    json_t *r = json_pack("{s:s, s:s}", "resourceType", type, "id", id);
    json_array_append_new(f->entries, json_pack("{s:s, s:o}", "fullUrl", urn, "resource", r));
    return r;
}

static void s_care_team(fhir_t *f, const Tacnet__CaseState *st)
{
    char id[37], urn[46], who[160];
    s_uuid(f, "CareTeam", NULL, 0, 0, id, urn);
    json_t *r = s_add(f, "CareTeam", id, urn);
    json_t *parts = json_array();
    size_t n = st ? st->n_team : 0;
    for (size_t i = 0; i < (n ? n : f->sum->n_members); i++) {
        uint32_t agency = n ? (uint32_t)st->team[i]->agency : (uint32_t)f->sum->members[i];
        const Tacnet__Professional *p = n ? st->team[i]->named_contact : NULL;
        s_professional(p, agency, who, sizeof(who));
        json_t *roles = json_array();
        json_array_append_new(roles, s_text(p ? labels_role(p->role) : "Member agency"));
        if (f->sum->has_lead && (uint32_t)f->sum->lead == agency)
            json_array_append_new(roles, json_pack("{s:[{s:s, s:s, s:s}], s:s}", "coding", "system",
                                                   "urn:tacnet:role", "code", "lead_professional",
                                                   "display", "Lead professional", "text",
                                                   "Lead professional"));
        json_array_append_new(parts,
                              json_pack("{s:o, s:o}", "role", roles, "member", s_display(who)));
    }
    json_object_set_new(r, "status", json_string(f->closed ? "inactive" : "active"));
    json_object_set_new(r, "name", json_string("Team around the child"));
    json_object_set_new(r, "subject", s_subject(f));
    json_object_set_new(r, "participant", parts);
}

/* The goals of PLAN as Goal resources; returns the CarePlan's references to them. */
static json_t *s_goals(fhir_t *f, const Tacnet__PlanView *pv, const ProtobufCBinaryData *pid)
{
    json_t *refs = json_array();
    char id[37], urn[46], date[11];
    for (size_t i = 0; i < pv->plan->n_goals; i++) {
        const Tacnet__Goal *g = pv->plan->goals[i];
        s_uuid(f, "Goal", pid->data, pid->len, g->goal_id, id, urn);
        json_t *r = s_add(f, "Goal", id, urn);
        json_object_set_new(r, "lifecycleStatus", json_string(f->closed ? "completed" : "active"));
        json_object_set_new(
            r, "description",
            s_text(g->description && *g->description ? g->description : "Goal of the plan"));
        json_object_set_new(r, "subject", s_subject(f));
        if (s_date(g->target_date, date))
            json_object_set_new(r, "target", json_pack("[{s:s}]", "dueDate", date));
        json_array_append_new(refs, json_pack("{s:s}", "reference", urn));
    }
    return refs;
}

static void s_care_plans(fhir_t *f, const Tacnet__CaseState *st)
{
    size_t n = st ? st->n_plans : 0;
    const Tacnet__PlanView *const *plans = n ? (const Tacnet__PlanView *const *)st->plans : NULL;
    if (!n && st && st->plan) {
        plans = (const Tacnet__PlanView *const *)&st->plan;
        n = 1;
    }
    char id[37], urn[46], date[11];
    for (size_t i = 0; i < n; i++) {
        const Tacnet__PlanView *pv = plans[i];
        if (!pv->plan)
            continue;
        const ProtobufCBinaryData *pid = pv->has_plan_id ? &pv->plan_id : &pv->msg_id;
        json_t *goals = s_goals(f, pv, pid);
        s_uuid(f, "CarePlan", pid->data, pid->len, 0, id, urn);
        json_t *r = s_add(f, "CarePlan", id, urn);
        json_object_set_new(r, "status", json_string(f->closed ? "completed" : "active"));
        json_object_set_new(r, "intent", json_string("plan"));
        json_object_set_new(
            r, "title", json_string(labels_enum(&tacnet__plan_type__descriptor, pv->plan->type)));
        json_object_set_new(r, "subject", s_subject(f));
        if (s_date(pv->plan->start_date, date))
            json_object_set_new(r, "period", json_pack("{s:s}", "start", date));
        json_object_set_new(r, "author", s_display(labels_agency(pv->by)));
        if (json_array_size(goals))
            json_object_set_new(r, "goal", goals);
        else
            json_decref(goals);
    }
}

static const char *s_consent_status(Tacnet__ConsentState s)
{
    switch (s) {
    case TACNET__CONSENT_STATE__GIVEN:
        return "active";
    case TACNET__CONSENT_STATE__WITHDRAWN:
        return "inactive";
    case TACNET__CONSENT_STATE__REFUSED:
        return "rejected";
    default:
        return "proposed";
    }
}

/* What consent record C covers: its classes and agencies (all members when it names none). */
static json_t *s_provision(const fhir_t *f, const Tacnet__ConsentRecorded *c)
{
    json_t *classes = json_array(), *actors = json_array();
    char code[48];
    for (size_t i = 0; i < c->n_scope; i++) {
        s_code(&tacnet__sensitivity__descriptor, c->scope[i], code, sizeof(code));
        json_array_append_new(
            classes,
            json_pack("{s:s, s:s, s:s}", "system", "urn:tacnet:sensitivity", "code", code,
                      "display", labels_enum(&tacnet__sensitivity__descriptor, c->scope[i])));
    }
    size_t n = c->n_agencies ? c->n_agencies : f->sum->n_members;
    for (size_t i = 0; i < n; i++) {
        uint32_t a = c->n_agencies ? (uint32_t)c->agencies[i] : (uint32_t)f->sum->members[i];
        json_array_append_new(
            actors, json_pack("{s:{s:[{s:s, s:s}]}, s:o}", "role", "coding", "system",
                              "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code",
                              "IRCP", "reference", s_display(labels_agency(a))));
    }
    json_t *p =
        json_pack("{s:s}", "type", c->state == TACNET__CONSENT_STATE__GIVEN ? "permit" : "deny");
    if (json_array_size(classes))
        json_object_set(p, "class", classes);
    if (json_array_size(actors))
        json_object_set(p, "actor", actors);
    json_decref(classes);
    json_decref(actors);
    return p;
}

static void s_consents(fhir_t *f, const Tacnet__CaseState *st)
{
    size_t n = st ? st->n_consents : 0;
    Tacnet__ConsentRecorded *const *cs = n ? st->consents : NULL;
    if (!n && st && st->consent) {
        cs = &st->consent;
        n = 1;
    }
    char id[37], urn[46], date[11];
    for (size_t i = 0; i < n; i++) {
        const Tacnet__ConsentRecorded *c = cs[i];
        s_uuid(f, "Consent", NULL, 0, (uint32_t)i, id, urn);
        json_t *r = s_add(f, "Consent", id, urn);
        json_object_set_new(r, "status", json_string(s_consent_status(c->state)));
        json_object_set_new(r, "scope",
                            json_pack("{s:[{s:s, s:s}]}", "coding", "system",
                                      "http://terminology.hl7.org/CodeSystem/consentscope", "code",
                                      "patient-privacy"));
        json_object_set_new(r, "category",
                            json_pack("[{s:[{s:s, s:s}], s:s}]", "coding", "system",
                                      "http://loinc.org", "code", "59284-0", "text",
                                      "Consent to share information"));
        json_object_set_new(r, "patient", s_subject(f));
        if (s_date(c->recorded_date, date))
            json_object_set_new(r, "dateTime", json_string(date));
        json_object_set_new(
            r, "policyRule",
            json_pack("{s:[{s:s, s:s}]}", "coding", "system", FHIR_ACT_CODE, "code",
                      c->state == TACNET__CONSENT_STATE__GIVEN ? "OPTIN" : "OPTOUT"));
        json_object_set_new(r, "provision", s_provision(f, c));
    }
}

static void s_encounters(fhir_t *f, const Tacnet__CaseState *st)
{
    char id[37], urn[46], when[32];
    for (size_t i = 0; st && i < st->n_meetings; i++) {
        const Tacnet__MeetingView *m = st->meetings[i];
        s_uuid(f, "Encounter", m->meeting_id.data, m->meeting_id.len, 0, id, urn);
        json_t *r = s_add(f, "Encounter", id, urn);
        int virt = m->scheduled && (m->scheduled->mode == TACNET__MEETING_MODE__VIDEO ||
                                    m->scheduled->mode == TACNET__MEETING_MODE__HYBRID);
        json_object_set_new(r, "status", json_string(m->outcome ? "finished" : "planned"));
        json_object_set_new(r, "class",
                            json_pack("{s:s, s:s, s:s}", "system", FHIR_ACT_CODE, "code",
                                      virt ? "VR" : "AMB", "display",
                                      virt ? "virtual" : "ambulatory"));
        json_object_set_new(r, "type", json_pack("[o]", s_text("Team around the child meeting")));
        json_object_set_new(r, "subject", s_subject(f));
        if (m->outcome && s_date(m->outcome->held_date, when))
            json_object_set_new(r, "period", json_pack("{s:s}", "start", when));
        else if (m->scheduled && s_instant(m->scheduled->starts_at_ms, when))
            json_object_set_new(r, "period", json_pack("{s:s}", "start", when));
    }
}

static void s_observation(fhir_t *f, const Tacnet__MeasureView *m, uint32_t n, const char *code,
                          uint32_t value, const char *focus)
{
    char id[37], urn[46], date[11];
    s_uuid(f, "Observation", m->msg_id.data, m->msg_id.len, n, id, urn);
    json_t *r = s_add(f, "Observation", id, urn);
    json_object_set_new(r, "status", json_string("final"));
    json_object_set_new(r, "code", s_text(code));
    json_object_set_new(r, "subject", s_subject(f));
    if (s_date(m->measured_date, date))
        json_object_set_new(r, "effectiveDateTime", json_string(date));
    json_object_set_new(r, "performer", json_pack("[o]", s_display(labels_agency(m->by))));
    json_object_set_new(r, "valueInteger", json_integer(value));
    if (focus)
        json_object_set_new(r, "focus", json_pack("[{s:s}]", "reference", focus));
}

/* Whether goal GOAL of the plan the GBO measure M names is a Goal resource here (the plan is
 * one of ST's and has that goal). */
static int s_goal_held(const Tacnet__CaseState *st, const Tacnet__MeasureView *m, uint32_t goal)
{
    for (size_t i = 0; m->has_plan_id && i < st->n_plans; i++) {
        const Tacnet__PlanView *pv = st->plans[i];
        if (!pv->plan || !pv->has_plan_id || pv->plan_id.len != m->plan_id.len ||
            memcmp(pv->plan_id.data, m->plan_id.data, m->plan_id.len) != 0)
            continue;
        for (size_t g = 0; g < pv->plan->n_goals; g++)
            if (pv->plan->goals[g]->goal_id == goal)
                return 1;
    }
    return 0;
}

/* One Observation per score: each GBO goal's (its focus the Goal it scores, when the plan it
 * names is one of the case's and has that goal), else the measure's total. */
static void s_observations(fhir_t *f, const Tacnet__CaseState *st)
{
    char code[96], gid[37], goal[46];
    for (size_t i = 0; st && i < st->n_measures; i++) {
        const Tacnet__MeasureView *m = st->measures[i];
        const char *tool = labels_enum(&tacnet__measure_tool__descriptor, m->tool);
        for (size_t g = 0; g < m->n_goal_scores; g++) {
            uint32_t goal_id = g < m->n_goal_ids ? m->goal_ids[g] : (unsigned)g + 1;
            int held = s_goal_held(st, m, goal_id);
            snprintf(code, sizeof(code), "%s, goal %u", tool, goal_id);
            if (held)
                s_uuid(f, "Goal", m->plan_id.data, m->plan_id.len, goal_id, gid, goal);
            s_observation(f, m, (uint32_t)g + 1, code, m->goal_scores[g], held ? goal : NULL);
        }
        if (!m->n_goal_scores && m->has_total)
            s_observation(f, m, 0, tool, m->total, NULL);
    }
}

/* Contacts logged with the family, from the timeline (the folded state keeps only the last). */
static void s_communications(fhir_t *f, const Tacnet__ShowCaseReply *sc)
{
    char id[37], urn[46], date[11];
    for (size_t i = 0; i < sc->n_timeline; i++) {
        const Tacnet__TimelineEntry *e = sc->timeline[i];
        if (!e->body || e->body->event_case != TACNET__BODY__EVENT_CONTACT_LOGGED)
            continue;
        const Tacnet__ContactLogged *c = e->body->contact_logged;
        s_uuid(f, "Communication", e->header->msg_id.data, e->header->msg_id.len, 0, id, urn);
        json_t *r = s_add(f, "Communication", id, urn);
        json_object_set_new(
            r, "status",
            json_string(c->has_successful && !c->successful ? "not-done" : "completed"));
        json_object_set_new(r, "subject", s_subject(f));
        if (s_date(c->contact_date, date))
            json_object_set_new(r, "sent", json_string(date));
        json_object_set_new(
            r, "medium",
            json_pack("[o]", s_text(labels_enum(&tacnet__contact_method__descriptor, c->method))));
        json_object_set_new(
            r, "recipient",
            json_pack("[o]", s_display(labels_enum(&tacnet__family_role__descriptor, c->with))));
        json_object_set_new(r, "sender", s_display(labels_agency(e->header->sender)));
    }
}

json_t *dashboard_fhir_bundle(const Tacnet__ShowCaseReply *sc)
{
    if (!sc || !sc->summary)
        return NULL;
    fhir_t f = { .entries = json_array(), .sum = sc->summary };
    const Tacnet__CaseState *st = sc->state;
    f.closed = st && st->closed;
    snprintf(f.subject, sizeof(f.subject), "%.*s (%.*s)", (int)f.sum->case_ref.len,
             (const char *)f.sum->case_ref.data, (int)f.sum->initials.len,
             (const char *)f.sum->initials.data);
    s_care_team(&f, st);
    s_care_plans(&f, st);
    s_consents(&f, st);
    s_encounters(&f, st);
    s_observations(&f, st);
    s_communications(&f, sc);
    char id[37], urn[46], now[32];
    s_uuid(&f, "Bundle", NULL, 0, 0, id, urn);
    s_instant((uint64_t)time(NULL) * 1000, now);
    return json_pack("{s:s, s:s, s:s, s:s, s:o}", "resourceType", "Bundle", "id", id, "type",
                     "collection", "timestamp", now, "entry", f.entries);
}
