/* initials: every initials field of an event body, found by name wherever it sits (a named
 * contact, a meeting's chair and attendees, a decision's participants, an action's owner, a new
 * lead), is 2 to 4 capital letters or empty, and a refusal names the field, never the value. */
#include <criterion/criterion.h>
#include <string.h>

#include "casework/initials.h"
#include "err.h"
#include "events.pb-c.h"
#include "pbjson_fixture.h"

static int s_check(const char *json, char *path, size_t cap)
{
    Tacnet__Body *b = (Tacnet__Body *)pbjson_fixture_message(&tacnet__body__descriptor, json);
    int rc = initials_body_check(&b->base, path, cap);
    tacnet__body__free_unpacked(b, NULL);
    return rc;
}

static void s_refused(const char *json, const char *want)
{
    char path[192];
    cr_expect_eq(s_check(json, path, sizeof(path)), TACNET_EINITIALS, "%s accepted", json);
    cr_expect_str_eq(path, want);
}

static void s_accepted(const char *json)
{
    char path[192];
    int rc = s_check(json, path, sizeof(path));
    cr_expect_eq(rc, 0, "%s refused at %s", json, path);
    cr_expect_str_eq(path, "");
}

Test(initials, initials_pass_wherever_they_are)
{
    s_accepted("{\"communication_plan\":{\"named_contact\":{\"initials\":\"SJ\"}}}");
    s_accepted("{\"meeting_outcome\":{\"chair\":{\"initials\":\"ABCD\"},\"attendees\":"
               "[{\"initials\":\"TB\"},{\"initials\":\"QZ\"}],\"actions\":[{\"owner_initials\":"
               "\"MK\"}]}}");
    s_accepted("{\"decision\":{\"participants\":[{\"who\":{\"initials\":\"AB\"},\"view\":"
               "\"Agreed.\"}]}}");
    /* Not named at all: an empty or absent field is no name. */
    s_accepted("{\"member_joined\":{\"named_contact\":{\"agency\":\"school\"},\"team\":\"Hub\"}}");
    s_accepted("{\"concern\":{\"summary\":\"Late.\"}}");
}

Test(initials, a_name_in_any_initials_field_is_refused_by_its_path)
{
    s_refused("{\"communication_plan\":{\"named_contact\":{\"initials\":\"Sarah\"}}}",
              "communication_plan.named_contact.initials");
    s_refused("{\"member_joined\":{\"named_contact\":{\"initials\":\"Jo\"}}}",
              "member_joined.named_contact.initials");
    s_refused("{\"decision\":{\"participants\":[{\"who\":{\"initials\":\"AB\"}},{\"who\":"
              "{\"initials\":\"Alice\"}}]}}",
              "decision.participants[1].who.initials");
    s_refused("{\"meeting_outcome\":{\"attendees\":[{\"initials\":\"TB\"}],\"actions\":[{"
              "\"owner_initials\":\"TB\"},{\"owner_initials\":\"T B\"}]}}",
              "meeting_outcome.actions[1].owner_initials");
    s_refused("{\"meeting_scheduled\":{\"chair\":{\"initials\":\"ABCDE\"}}}",
              "meeting_scheduled.chair.initials");
    s_refused("{\"meeting_requested\":{\"suggested_chair\":{\"initials\":\"A\"}}}",
              "meeting_requested.suggested_chair.initials");
    s_refused("{\"lead_handover\":{\"new_lead\":{\"initials\":\"ab\"}}}",
              "lead_handover.new_lead.initials");
    s_refused("{\"lead_accepted\":{\"lead\":{\"initials\":\"\\u00c9L\"}}}",
              "lead_accepted.lead.initials");
}

/* A field added to the protocol later is covered by its name: every bytes field called
 * initials or *_initials in events.proto is one this walk finds. */
Test(initials, every_initials_field_of_the_protocol_is_checked)
{
    size_t found = 0;
    const ProtobufCMessageDescriptor *msgs[] = { &tacnet__professional__descriptor,
                                                 &tacnet__action__descriptor };
    for (size_t m = 0; m < sizeof(msgs) / sizeof(msgs[0]); m++)
        for (unsigned i = 0; i < msgs[m]->n_fields; i++) {
            const char *n = msgs[m]->fields[i].name;
            size_t l = strlen(n);
            if (strcmp(n, "initials") == 0 || (l > 9 && strcmp(n + l - 9, "_initials") == 0)) {
                cr_expect_eq(msgs[m]->fields[i].type, PROTOBUF_C_TYPE_BYTES, "%s", n);
                found++;
            }
        }
    cr_expect_eq(found, 2, "Professional.initials and Action.owner_initials");
}

Test(initials, the_path_is_cut_to_the_buffer_and_a_null_body_passes)
{
    char path[8];
    cr_assert_eq(s_check("{\"communication_plan\":{\"named_contact\":{\"initials\":\"Sarah\"}}}",
                         path, sizeof(path)),
                 TACNET_EINITIALS);
    cr_assert_str_eq(path, "communi");
    cr_assert_eq(initials_body_check(NULL, path, sizeof(path)), 0);
}
