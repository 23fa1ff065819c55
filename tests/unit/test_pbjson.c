/* pbjson: JSON <-> protobuf-c round trips on real event and API messages, and each refusal with
 * the JSON path it names. All case data is invented. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.pb-c.h"
#include "err.h"
#include "events.pb-c.h"
#include "pbjson.h"
#include "wire.pb-c.h"

static json_t *s_parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    cr_assert_not_null(j, "test JSON does not parse: %s", e.text);
    return j;
}

/* JSON -> message -> wire bytes -> message -> JSON must give back the input. */
static ProtobufCMessage *s_round_trip(const ProtobufCMessageDescriptor *d, const char *text)
{
    json_t *in = s_parse(text);
    char why[256];
    ProtobufCMessage *m = pbjson_to_message(d, in, why, sizeof(why));
    cr_assert_not_null(m, "refused: %s", why);

    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    protobuf_c_message_pack(m, buf);
    ProtobufCMessage *back = protobuf_c_message_unpack(d, NULL, n, buf);
    cr_assert_not_null(back);
    json_t *out = pbjson_from_message(back);
    char *a = json_dumps(in, JSON_SORT_KEYS), *b = json_dumps(out, JSON_SORT_KEYS);
    cr_expect(json_equal(in, out), "in:  %s\nout: %s", a, b);
    free(a);
    free(b);
    json_decref(out);
    json_decref(in);
    protobuf_c_message_free_unpacked(back, NULL);
    free(buf);
    return m;
}

static const char *s_refusal(const ProtobufCMessageDescriptor *d, const char *text, char *why,
                             size_t len)
{
    json_t *in = s_parse(text);
    ProtobufCMessage *m = pbjson_to_message(d, in, why, len);
    json_decref(in);
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
    cr_assert_null(m, "accepted: %s", text);
    return why;
}

Test(pbjson, body_with_decision_round_trips)
{
    const char *text =
        "{\"msg_id\": \"00112233445566778899aabbccddeeff\", \"sender\": \"social_care\","
        " \"decision\": {\"topic\": \"Step down to early help\","
        "  \"options_considered\": [\"stay on CIN plan\", \"step down\"],"
        "  \"chosen\": \"step down\", \"rationale\": \"attendance back above 95%\","
        "  \"participants\": ["
        "   {\"who\": {\"agency\": \"school\", \"initials\": \"AB\", \"role\": \"dsl\"},"
        "    \"view\": \"agrees\", \"agreed\": true},"
        "   {\"who\": {\"agency\": \"camhs\", \"initials\": \"CD\","
        "     \"job_title\": \"Clinical psychologist\"}, \"agreed\": false}],"
        "  \"child_view\": \"wants fewer meetings\", \"family_view\": \"relieved\","
        "  \"decided_date\": \"2026-03-02\"}}";
    Tacnet__Body *b = (Tacnet__Body *)s_round_trip(&tacnet__body__descriptor, text);
    cr_assert_eq(b->event_case, TACNET__BODY__EVENT_DECISION);
    cr_assert_eq(b->msg_id.len, 16);
    cr_assert_eq(b->msg_id.data[15], 0xff);
    cr_assert_eq(b->sender, TACNET__AGENCY__SOCIAL_CARE);
    Tacnet__Decision *d = b->decision;
    cr_assert_eq(d->n_options_considered, 2);
    cr_assert_str_eq(d->options_considered[1], "step down");
    cr_assert_eq(d->n_participants, 2);
    cr_assert_eq(d->participants[0]->who->role, TACNET__ROLE__DSL);
    cr_assert_eq(d->participants[1]->who->agency, TACNET__AGENCY__CAMHS);
    cr_assert(d->participants[1]->has_agreed && !d->participants[1]->agreed);
    cr_assert_null(d->participants[1]->view);
    cr_assert_eq(d->decided_date, 20260302);
    protobuf_c_message_free_unpacked(&b->base, NULL);
}

Test(pbjson, meeting_outcome_keeps_action_owner_and_due_date)
{
    const char *text =
        "{\"meeting_outcome\": {\"meeting_id\": \"0f0e0d0c0b0a09080706050403020100\","
        "  \"held_date\": \"2026-04-01\", \"chair\": {\"agency\": \"social_care\", \"initials\":"
        "  \"EF\"}, \"family\": [{\"role\": \"mother\", \"attended\": true}],"
        "  \"decisions\": [\"keep plan\"],"
        "  \"actions\": [{\"action_id\": \"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1\","
        "    \"description\": \"refer to CAMHS\", \"owner_agency\": \"health_visiting\","
        "    \"owner_initials\": \"GH\", \"due_date\": \"2026-04-15\", \"status\": \"open\"}]}}";
    Tacnet__Body *b = (Tacnet__Body *)s_round_trip(&tacnet__body__descriptor, text);
    Tacnet__MeetingOutcome *mo = b->meeting_outcome;
    cr_assert_not_null(mo);
    cr_assert_eq(mo->n_actions, 1);
    cr_assert_eq(mo->actions[0]->owner_agency, TACNET__AGENCY__HEALTH_VISITING);
    cr_assert_eq(mo->actions[0]->owner_initials.len, 2);
    cr_assert_eq(memcmp(mo->actions[0]->owner_initials.data, "GH", 2), 0);
    cr_assert_eq(mo->actions[0]->due_date, 20260415);
    cr_assert_eq(mo->actions[0]->action_id.len, 16);
    cr_assert_eq(mo->family[0]->role, TACNET__FAMILY_ROLE__MOTHER);
    protobuf_c_message_free_unpacked(&b->base, NULL);
}

Test(pbjson, integer_dates_and_any_case_enums_are_accepted)
{
    json_t *in = s_parse("{\"action_id\": \"ABCD\", \"due_date\": 20260415,"
                         " \"owner_agency\": \"Health-Visiting\", \"status\": \"DONE\"}");
    char why[256];
    Tacnet__Action *a =
        (Tacnet__Action *)pbjson_to_message(&tacnet__action__descriptor, in, why, sizeof(why));
    cr_assert_not_null(a, "%s", why);
    cr_assert_eq(a->due_date, 20260415);
    cr_assert_eq(a->owner_agency, TACNET__AGENCY__HEALTH_VISITING);
    cr_assert_eq(a->status, TACNET__ACTION_STATUS__DONE);
    cr_assert_eq(a->action_id.data[0], 0xab);
    json_t *out = pbjson_from_message(&a->base);
    cr_assert_str_eq(json_string_value(json_object_get(out, "due_date")), "2026-04-15");
    cr_assert_str_eq(json_string_value(json_object_get(out, "owner_agency")), "health_visiting");
    cr_assert_str_eq(json_string_value(json_object_get(out, "action_id")), "abcd");
    json_decref(out);
    json_decref(in);
    protobuf_c_message_free_unpacked(&a->base, NULL);
}

Test(pbjson, api_reply_with_findings_round_trips)
{
    Tacnet__ApiReply r = TACNET__API_REPLY__INIT;
    Tacnet__Finding f1 = TACNET__FINDING__INIT, f2 = TACNET__FINDING__INIT;
    Tacnet__Finding *fs[] = { &f1, &f2 };
    r.id = 41;
    r.code = TACNET_ETEXT;
    r.reason = "free text contains identifying details";
    f1.kind = "nhs_number";
    f1.start = 12;
    f1.end = 22;
    f1.field = "decision.rationale";
    f2.kind = "postcode";
    f2.start = 0;
    f2.end = 7;
    r.n_findings = 2;
    r.findings = fs;

    json_t *j = pbjson_from_message(&r.base);
    cr_assert_eq(json_integer_value(json_object_get(j, "code")), TACNET_ETEXT);
    json_t *second = json_array_get(json_object_get(j, "findings"), 1);
    cr_assert_str_eq(json_string_value(json_object_get(second, "kind")), "postcode");
    cr_assert_null(json_object_get(second, "field"));
    cr_assert_null(json_object_get(j, "published"));

    char *text = json_dumps(j, 0);
    Tacnet__ApiReply *back = (Tacnet__ApiReply *)s_round_trip(&tacnet__api_reply__descriptor, text);
    cr_assert_eq(back->code, TACNET_ETEXT);
    cr_assert_eq(back->n_findings, 2);
    cr_assert_eq(back->findings[0]->end, 22);
    cr_assert_str_eq(back->findings[0]->field, "decision.rationale");
    uint8_t a[256], b[256];
    size_t na = tacnet__api_reply__pack(&r, a), nb = tacnet__api_reply__pack(back, b);
    cr_assert_eq(na, nb);
    cr_assert_eq(memcmp(a, b, na), 0);
    free(text);
    json_decref(j);
    protobuf_c_message_free_unpacked(&back->base, NULL);
}

Test(pbjson, api_reply_with_cases_and_large_unsigned_round_trips)
{
    const char *text = "{\"id\": \"18446744073709551615\", \"code\": 0,"
                       " \"cases\": {\"cases\": [{\"case_ref\": \"LA7-2026-000123\","
                       " \"initials\": \"JS\", \"lead\": \"social_care\","
                       " \"members\": [\"camhs\", \"school\"],"
                       " \"last_activity\": \"2026-02-02T02:40:00.123Z\","
                       " \"level_of_need\": {\"camhs\": 3, \"school\": 2, \"social_care\": 3}}]}}";
    Tacnet__ApiReply *r = (Tacnet__ApiReply *)s_round_trip(&tacnet__api_reply__descriptor, text);
    cr_assert_eq(r->id, UINT64_MAX);
    cr_assert_eq(r->result_case, TACNET__API_REPLY__RESULT_CASES);
    cr_assert_eq(r->cases->cases[0]->last_activity_ms, 1770000000123ULL);
    cr_assert_eq(r->cases->cases[0]->members[1], TACNET__AGENCY__SCHOOL);
    /* Positions by agency value, zeros where an agency gave none. */
    cr_assert_eq(r->cases->cases[0]->n_level_of_need, 5);
    cr_assert_eq(r->cases->cases[0]->level_of_need[TACNET__AGENCY__SCHOOL], 2);
    cr_assert_eq(r->cases->cases[0]->level_of_need[TACNET__AGENCY__HEALTH_VISITING], 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* Times are ISO 8601 UTC under the name without _ms, to the second when that is exact; the
 * old key with epoch milliseconds is still read; durations stay milliseconds. */
Test(pbjson, times_are_iso_8601_and_the_old_shape_is_still_read)
{
    Tacnet__Header h = TACNET__HEADER__INIT;
    h.created_at_ms = 1796203800000ull; /* 2026-12-02T09:30:00Z */
    h.has_deadline_ms = 1;
    h.deadline_ms = 0;
    json_t *j = pbjson_from_message(&h.base);
    cr_expect_str_eq(json_string_value(json_object_get(j, "created_at")), "2026-12-02T09:30:00Z");
    cr_expect_str_eq(json_string_value(json_object_get(j, "deadline")), "1970-01-01T00:00:00Z");
    cr_expect_null(json_object_get(j, "created_at_ms"));
    json_decref(j);

    const struct {
        const char *json;
        uint64_t ms;
    } ok[] = {
        { "{\"deadline\": \"2026-12-02T09:30:00Z\"}", 1796203800000ull },
        { "{\"deadline\": \"2000-02-29T23:59:59.999Z\"}", 951868799999ull },
        { "{\"deadline_ms\": 1796203800000}", 1796203800000ull },
        { "{\"deadline_ms\": \"2026-12-02T09:30:00Z\"}", 1796203800000ull },
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        json_t *in = s_parse(ok[i].json);
        char why[256];
        Tacnet__EscalationNotice *back = (Tacnet__EscalationNotice *)pbjson_to_message(
            &tacnet__escalation_notice__descriptor, in, why, sizeof(why));
        cr_assert_not_null(back, "%s: %s", ok[i].json, why);
        cr_expect_eq(back->deadline_ms, ok[i].ms, "%s", ok[i].json);
        json_t *out = pbjson_from_message(&back->base);
        cr_expect_eq(json_string_length(json_object_get(out, "deadline")), i == 1 ? 24 : 20);
        json_decref(out);
        protobuf_c_message_free_unpacked(&back->base, NULL);
        json_decref(in);
    }

    Tacnet__EscalationNotice n = TACNET__ESCALATION_NOTICE__INIT;
    uint64_t took[] = { 86400000, 3600000 };
    n.stage_took_ms = took;
    n.n_stage_took_ms = 2;
    j = pbjson_from_message(&n.base);
    cr_expect(json_is_array(json_object_get(j, "stage_took_ms")), "a duration keeps its _ms");
    cr_expect_eq(json_integer_value(json_array_get(json_object_get(j, "stage_took_ms"), 0)),
                 86400000);
    json_decref(j);
}

Test(pbjson, bytes_keep_an_embedded_nul)
{
    Tacnet__Professional p = TACNET__PROFESSIONAL__INIT;
    p.has_initials = 1;
    p.initials.data = (uint8_t *)"J\0S";
    p.initials.len = 3;
    json_t *j = pbjson_from_message(&p.base);
    cr_assert_eq(json_string_length(json_object_get(j, "initials")), 3);
    char why[128];
    Tacnet__Professional *back = (Tacnet__Professional *)pbjson_to_message(
        &tacnet__professional__descriptor, j, why, sizeof(why));
    cr_assert_not_null(back, "%s", why);
    cr_assert_eq(back->initials.len, 3);
    cr_assert_eq(memcmp(back->initials.data, "J\0S", 3), 0);
    json_decref(j);
    protobuf_c_message_free_unpacked(&back->base, NULL);
}

typedef struct {
    const ProtobufCMessageDescriptor *d;
    const char *json;
    const char *why;
} refusal_t;

Test(pbjson, each_refusal_names_its_json_path)
{
    const refusal_t cases[] = {
        { &tacnet__body__descriptor,
          "{\"decision\": {\"participants\": [{\"who\": {\"agency\": \"school\"}},"
          " {\"who\": {\"agency\": \"camhs2\"}}]}}",
          "decision.participants[1].who.agency: \"camhs2\" is not an agency" },
        { &tacnet__body__descriptor, "{\"decision\": {\"topic\": \"x\", \"colour\": \"red\"}}",
          "decision.colour: unknown field" },
        { &tacnet__body__descriptor, "{\"decision\": {\"topic\": 3}}",
          "decision.topic: expected a string" },
        { &tacnet__body__descriptor, "{\"decision\": {\"options_considered\": \"one\"}}",
          "decision.options_considered: expected an array" },
        { &tacnet__body__descriptor, "{\"decision\": []}", "decision: expected an object" },
        { &tacnet__body__descriptor, "{\"outcome_measure\": {\"values\": [3, 4294967296]}}",
          "outcome_measure.values[1]: 4294967296 is out of range [0, 4294967295]" },
        { &tacnet__body__descriptor, "{\"assessment\": {\"level_of_need\": -1}}",
          "assessment.level_of_need: -1 is out of range [0, 4294967295]" },
        { &tacnet__body__descriptor, "{\"assessment\": {\"type\": \"section_48\"}}",
          "assessment.type: \"section_48\" is not an assessment type" },
        { &tacnet__body__descriptor, "{\"concern\": {\"immediate_risk\": \"yes\"}}",
          "concern.immediate_risk: expected true or false" },
        { &tacnet__body__descriptor, "{\"concern\": {\"observed_date\": \"2026-13-01\"}}",
          "concern.observed_date: \"2026-13-01\" is not a YYYY-MM-DD date" },
        { &tacnet__body__descriptor, "{\"concern\": {\"observed_date\": \"2026-02-30\"}}",
          "concern.observed_date: \"2026-02-30\" is not a YYYY-MM-DD date" },
        { &tacnet__body__descriptor, "{\"concern\": {\"observed_date\": \"2026-04-31\"}}",
          "concern.observed_date: \"2026-04-31\" is not a YYYY-MM-DD date" },
        { &tacnet__body__descriptor, "{\"concern\": {\"observed_date\": 20260230}}",
          "concern.observed_date: 20260230 is not a date (YYYYMMDD or \"YYYY-MM-DD\")" },
        { &tacnet__body__descriptor, "{\"msg_id\": \"00zz\"}", "msg_id: \"00zz\" is not hex" },
        { &tacnet__body__descriptor, "{\"msg_id\": \"abc\"}",
          "msg_id: \"abc\" is not hex (odd length)" },
        { &tacnet__body__descriptor, "{\"decision\": {}, \"concern\": {}}",
          "concern: only one of \"decision\" and \"concern\" may be set" },
        { &tacnet__body__descriptor, "{\"decision\": {\"participants\": [null]}}",
          "decision.participants[0]: null in an array" },
        { &tacnet__api_reply__descriptor, "{\"id\": 1}", "code: required field missing" },
        { &tacnet__api_reply__descriptor, "{\"id\": 1, \"code\": 2147483648}",
          "code: 2147483648 is out of range [-2147483648, 2147483647]" },
        { &tacnet__api_reply__descriptor, "{\"id\": \"-1\", \"code\": 0}",
          "id: \"-1\" is not an unsigned integer" },
        { &tacnet__api_reply__descriptor, "[1]", "(top level): expected an object" },
        { &tacnet__header__descriptor, "{\"created_at\": 1796203800000}",
          "created_at: expected an ISO 8601 UTC time, \"2026-11-02T09:30:00Z\"" },
        { &tacnet__header__descriptor, "{\"created_at\": \"2026-12-02T09:30:00+01:00\"}",
          "created_at: \"2026-12-02T09:30:00+01:00\" is not an ISO 8601 UTC time "
          "(2026-11-02T09:30:00Z)" },
        { &tacnet__header__descriptor, "{\"created_at\": \"2026-12-02T25:30:00Z\"}",
          "created_at: \"2026-12-02T25:30:00Z\" is not an ISO 8601 UTC time "
          "(2026-11-02T09:30:00Z)" },
        { &tacnet__header__descriptor,
          "{\"created_at_ms\": 1, \"created_at\": \"2026-12-02T09:30:00Z\"}",
          "created_at: given twice (as \"created_at_ms\" and \"created_at\")" },
        { &tacnet__header__descriptor,
          "{\"created_at\": \"2026-12-02T09:30:00Z\", \"created_at_ms\": 1}",
          "created_at_ms: given twice (as \"created_at\" and \"created_at_ms\")" },
        { &tacnet__case_summary__descriptor, "{\"level_of_need\": {\"school2\": 3}}",
          "level_of_need.school2: \"school2\" is not an agency" },
        { &tacnet__case_summary__descriptor, "{\"level_of_need\": {\"school\": -3}}",
          "level_of_need.school: -3 is out of range [0, 4294967295]" },
        { &tacnet__case_summary__descriptor, "{\"level_of_need\": 3}",
          "level_of_need: expected an object keyed by agency, {\"school\": 4}" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char why[256];
        s_refusal(cases[i].d, cases[i].json, why, sizeof(why));
        cr_expect_str_eq(why, cases[i].why, "case %zu: got \"%s\"", i, why);
    }
}

Test(pbjson, null_counts_as_absent)
{
    json_t *in = s_parse("{\"topic\": null, \"chosen\": \"x\"}");
    char why[128];
    Tacnet__Decision *d =
        (Tacnet__Decision *)pbjson_to_message(&tacnet__decision__descriptor, in, why, sizeof(why));
    cr_assert_not_null(d, "%s", why);
    cr_assert_null(d->topic);
    cr_assert_str_eq(d->chosen, "x");
    json_decref(in);
    protobuf_c_message_free_unpacked(&d->base, NULL);
}

Test(pbjson, a_leap_day_is_a_date_and_a_date_in_numbers_too)
{
    const char *ok[] = { "{\"concern\": {\"observed_date\": \"2028-02-29\"}}",
                         "{\"concern\": {\"observed_date\": \"2000-02-29\"}}",
                         "{\"concern\": {\"observed_date\": 20261231}}" };
    const char *bad[] = { "{\"concern\": {\"observed_date\": \"2100-02-29\"}}",
                          "{\"concern\": {\"observed_date\": 0}}" };
    char why[256];
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        json_t *j = json_loads(ok[i], 0, NULL);
        ProtobufCMessage *m = pbjson_to_message(&tacnet__body__descriptor, j, why, sizeof(why));
        cr_expect_not_null(m, "%s: %s", ok[i], why);
        if (m)
            protobuf_c_message_free_unpacked(m, NULL);
        json_decref(j);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_loads(bad[i], 0, NULL);
        ProtobufCMessage *m = pbjson_to_message(&tacnet__body__descriptor, j, why, sizeof(why));
        cr_expect_null(m, "%s was taken", bad[i]);
        if (m)
            protobuf_c_message_free_unpacked(m, NULL);
        json_decref(j);
    }
}
