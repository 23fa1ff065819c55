/* pbjson_schema: the generated schemas accept what pbjson writes and refuse what it would not
 * (checked with the tests' validator, tests/support/jschema.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "api.pb-c.h"
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
        { "header", "created_at_ms", json_real(1.5), "an integer" },
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
