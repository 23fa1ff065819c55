/* pbjson_schema: the generated schemas accept what pbjson writes and refuse what it would not
 * (checked with the tests' validator, tests/support/jschema.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "api.pb-c.h"
#include "apijson.h"
#include "err.h"
#include "jschema.h"
#include "pbjson.h"
#include "pbjson_schema.h"

static json_t *s_doc(json_t **ref)
{
    json_t *defs = json_object();
    *ref = pbjson_schema_add(defs, &tacnet__timeline_entry__descriptor, "#/defs/");
    return json_pack("{s:o}", "defs", defs);
}

static json_t *s_entry(void)
{
    static uint8_t id[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    Tacnet__TimelineEntry e = TACNET__TIMELINE_ENTRY__INIT;
    Tacnet__Header h = TACNET__HEADER__INIT;
    Tacnet__Body b = TACNET__BODY__INIT;
    Tacnet__Decision d = TACNET__DECISION__INIT;
    h.msg_id.data = id;
    h.msg_id.len = 16;
    h.sender = TACNET__AGENCY__SCHOOL;
    h.kind = TACNET__EVENT_KIND__DECISION;
    h.case_ref.data = (uint8_t *)"LA7-2026-000123";
    h.case_ref.len = 15;
    h.initials.data = (uint8_t *)"TB";
    h.initials.len = 2;
    h.created_at_ms = 1795000000000ull;
    h.sensitivity = TACNET__SENSITIVITY__ROUTINE;
    d.topic = "Level of need";
    d.has_decided_date = 1;
    d.decided_date = 20261103;
    b.event_case = TACNET__BODY__EVENT_DECISION;
    b.decision = &d;
    e.local_seq = 7;
    e.header = &h;
    e.body = &b;
    return pbjson_from_message(&e.base);
}

Test(pbjson_schema, what_pbjson_writes_fits_its_schema)
{
    json_t *ref, *doc = s_doc(&ref), *v = s_entry();
    char why[256] = "";
    cr_assert_eq(jschema_validate(doc, ref, v, why, sizeof(why)), 0, "%s", why);
    json_t *defs = json_object_get(doc, "defs");
    cr_assert_not_null(json_object_get(defs, "tacnet.Decision"), "nested messages are defined");
    cr_assert_not_null(
        json_object_get(json_object_get(json_object_get(defs, "tacnet.Header"), "properties"),
                        "escalation_event"),
        "every field is in the schema");
    json_decref(v);
    json_decref(ref);
    json_decref(doc);
}

Test(pbjson_schema, what_pbjson_would_not_write_is_refused)
{
    json_t *ref, *doc = s_doc(&ref);
    struct {
        const char *where, *key;
        json_t *value;
        const char *why;
    } bad[] = {
        { "header", "sender", json_string("school2"), "an enum value" },
        { "header", "msg_id", json_string("xyz"), "hex" },
        { "header", "colour", json_string("red"), "an unknown key" },
        { "decision", "decided_date", json_string("2026-13-45"), "a date" },
        { "header", "created_at", json_real(1.5), "a time" },
        { "header", "created_at", json_string("2026-12-02 09:30"), "an ISO 8601 time" },
        { "header", "created_at_ms", json_integer(1796203800000), "the old key" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *v = s_entry();
        json_t *at = strcmp(bad[i].where, "header") == 0
                         ? json_object_get(v, "header")
                         : json_object_get(json_object_get(v, "body"), "decision");
        json_object_set_new(at, bad[i].key, bad[i].value);
        char why[256] = "";
        cr_expect_neq(jschema_validate(doc, ref, v, why, sizeof(why)), 0, "%s passed", bad[i].why);
        json_decref(v);
    }
    json_t *v = s_entry();
    json_object_del(json_object_get(v, "header"), "case_ref");
    char why[256] = "";
    cr_expect_neq(jschema_validate(doc, ref, v, why, sizeof(why)), 0, "a required field missing");
    cr_expect(strstr(why, "case_ref"), "%s", why);
    json_decref(v);
    json_decref(ref);
    json_decref(doc);
}

/* An API reply's JSON (apijson.h): a list's fields at the top level, levels of need by agency,
 * times as ISO 8601, and the reply schema describing exactly that. */
Test(pbjson_schema, an_api_list_is_flat_and_fits_the_reply_schema)
{
    Tacnet__CaseSummary c = TACNET__CASE_SUMMARY__INIT;
    c.case_ref.data = (uint8_t *)"LA7-2026-000123";
    c.case_ref.len = 15;
    c.initials.data = (uint8_t *)"TB";
    c.initials.len = 2;
    c.has_last_activity_ms = 1;
    c.last_activity_ms = 1796203800000ull;
    uint32_t need[] = { 0, 0, 4, 0, 2 };
    c.level_of_need = need;
    c.n_level_of_need = 5;
    Tacnet__CaseSummary *list[] = { &c };
    Tacnet__ListCasesReply l = TACNET__LIST_CASES_REPLY__INIT;
    l.cases = list;
    l.n_cases = 1;
    Tacnet__ApiReply r = TACNET__API_REPLY__INIT;
    r.result_case = TACNET__API_REPLY__RESULT_CASES;
    r.cases = &l;
    json_t *j = apijson_reply(&r);
    json_t *cases = json_object_get(j, "cases");
    cr_assert(json_is_array(cases), "the list itself, not {\"cases\": {\"cases\": ...}}");
    json_t *c0 = json_array_get(cases, 0);
    cr_expect_str_eq(json_string_value(json_object_get(c0, "last_activity")),
                     "2026-12-02T09:30:00Z");
    json_t *lv = json_object_get(c0, "level_of_need");
    cr_expect_eq(json_integer_value(json_object_get(lv, "school")), 4);
    cr_expect_eq(json_integer_value(json_object_get(lv, "social_care")), 2);
    cr_expect_eq(json_object_size(lv), 2, "zeros are left out");

    json_t *defs = json_object();
    json_t *ref = apijson_reply_schema(defs, "#/defs/");
    json_t *doc = json_pack("{s:o}", "defs", defs);
    char why[256] = "";
    cr_expect_eq(jschema_validate(doc, ref, j, why, sizeof(why)), 0, "%s", why);
    json_object_set_new(json_object_get(j, "cases"), "x", json_null());
    json_object_set_new(j, "cases", json_pack("{s:[]}", "cases"));
    cr_expect_neq(jschema_validate(doc, ref, j, why, sizeof(why)), 0, "the wrapped shape passed");
    json_decref(j);

    /* An empty page is an empty list; a refusal names its code; a follow is flat too. */
    l.n_cases = 0;
    r.code = TACNET_EFIELD;
    j = apijson_reply(&r);
    cr_expect(json_is_array(json_object_get(j, "cases")) &&
                  json_array_size(json_object_get(j, "cases")) == 0,
              "an empty page has \"cases\": []");
    cr_expect_str_eq(json_string_value(json_object_get(j, "error")), "E_FIELD");
    cr_expect_eq(jschema_validate(doc, ref, j, why, sizeof(why)), 0, "%s", why);
    json_decref(j);
    Tacnet__FollowReply f = TACNET__FOLLOW_REPLY__INIT;
    f.next_local_seq = 9;
    Tacnet__ApiReply fr = TACNET__API_REPLY__INIT;
    fr.result_case = TACNET__API_REPLY__RESULT_FOLLOW;
    fr.follow = &f;
    j = apijson_reply(&fr);
    cr_expect_eq(json_integer_value(json_object_get(j, "next_local_seq")), 9);
    cr_expect_null(json_object_get(j, "follow"));
    cr_expect_eq(jschema_validate(doc, ref, j, why, sizeof(why)), 0, "%s", why);
    json_decref(j);
    json_decref(ref);
    json_decref(doc);
}

/* The lists apijson lifts to the top level have no field named like one of the reply's own. */
Test(pbjson_schema, a_lifted_list_shadows_no_field_of_the_reply)
{
    const char *lists[] = { "cases", "follow", "outbox", "holds", "tokens", "users" };
    const ProtobufCMessageDescriptor *r = &tacnet__api_reply__descriptor;
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        const ProtobufCFieldDescriptor *m =
            protobuf_c_message_descriptor_get_field_by_name(r, lists[i]);
        cr_assert_not_null(m, "ApiReply has no %s", lists[i]);
        const ProtobufCMessageDescriptor *d = m->descriptor;
        for (unsigned k = 0; k < d->n_fields; k++) {
            const char *name = d->fields[k].name;
            const ProtobufCFieldDescriptor *own =
                protobuf_c_message_descriptor_get_field_by_name(r, name);
            cr_expect(!own || own == m, /* the list named as its own member is replaced */
                      "%s.%s shadows ApiReply.%s", lists[i], name, name);
            cr_expect(strcmp(name, "error") && strcmp(name, "next"), "%s.%s", lists[i], name);
        }
    }
}
