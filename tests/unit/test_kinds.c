#include <criterion/criterion.h>
#include <string.h>

#include "err.h"
#include "kinds.h"
#include "names.h"

static const uint32_t s_agency[] = { KINDS_AGENCY(KINDS_VALUE) };
static const uint32_t s_broker[] = { KINDS_BROKER(KINDS_VALUE) };

static int s_listed(const uint32_t *list, size_t n, uint32_t kind)
{
    int found = 0;
    for (size_t i = 0; i < n; i++)
        found += list[i] == kind;
    return found;
}

Test(kinds, every_kind_in_the_proto_is_listed_once)
{
    const ProtobufCEnumDescriptor *d = &tacnet__event_kind__descriptor;
    size_t listed = 0;
    for (unsigned i = 0; i < d->n_values; i++) {
        uint32_t kind = (uint32_t)d->values[i].value;
        if (kind == TACNET__EVENT_KIND__KIND_UNKNOWN)
            continue;
        int in_agency = s_listed(s_agency, KINDS_AGENCY_N, kind);
        int in_broker = s_listed(s_broker, KINDS_BROKER_N, kind);
        cr_assert_eq(in_agency + in_broker, 1, "%s is listed %d times in kinds.h",
                     d->values[i].name, in_agency + in_broker);
        if (in_agency)
            cr_assert_lt(kind, 40, "%s: agency kinds are 1..39", d->values[i].name);
        else
            cr_assert_geq(kind, 40, "%s: broker notices are 40..63", d->values[i].name);
        listed++;
    }
    cr_assert_eq(listed, KINDS_AGENCY_N + KINDS_BROKER_N, "kinds.h lists a kind twice");
}

Test(kinds, each_kind_maps_to_the_body_member_of_its_name)
{
    const ProtobufCMessageDescriptor *body = &tacnet__body__descriptor;
    size_t members = 0;
    for (unsigned f = 0; f < body->n_fields; f++)
        members += (body->fields[f].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
    cr_assert_eq(members, KINDS_AGENCY_N + KINDS_BROKER_N, "a Body member with no kind");

    const uint32_t *lists[] = { s_agency, s_broker };
    const size_t ns[] = { KINDS_AGENCY_N, KINDS_BROKER_N };
    for (size_t l = 0; l < 2; l++) {
        for (size_t i = 0; i < ns[l]; i++) {
            Tacnet__Body__EventCase member = TACNET__BODY__EVENT__NOT_SET;
            cr_assert_eq(kinds_body_member(lists[l][i], &member), 0);
            const ProtobufCFieldDescriptor *field =
                protobuf_c_message_descriptor_get_field(body, (unsigned)member);
            cr_assert_not_null(field, "no Body member %d", member);
            cr_assert_str_eq(field->name, names_kind(lists[l][i]));
        }
    }
}

Test(kinds, an_unknown_kind_has_no_body_member)
{
    Tacnet__Body__EventCase member = TACNET__BODY__EVENT__NOT_SET;
    cr_assert_eq(kinds_body_member(TACNET__EVENT_KIND__KIND_UNKNOWN, &member), TACNET_EKIND);
    cr_assert_eq(kinds_body_member(39, &member), TACNET_EKIND);
    cr_assert_eq(kinds_body_member(1000, &member), TACNET_EKIND);
    cr_assert_eq(member, TACNET__BODY__EVENT__NOT_SET);
}

Test(kinds, a_body_of_another_kind_does_not_match_its_header)
{
    Tacnet__Body b = TACNET__BODY__INIT;
    Tacnet__Concern concern = TACNET__CONCERN__INIT;
    Tacnet__Assessment assessment = TACNET__ASSESSMENT__INIT;
    b.event_case = TACNET__BODY__EVENT_CONCERN;
    b.concern = &concern;
    cr_assert_eq(kinds_body_matches(TACNET__EVENT_KIND__CONCERN, &b), 0);
    cr_assert_eq(kinds_body_matches(TACNET__EVENT_KIND__ASSESSMENT, &b), TACNET_EBODYMISMATCH);
    cr_assert_eq(kinds_body_matches(TACNET__EVENT_KIND__KIND_UNKNOWN, &b), TACNET_EBODYMISMATCH);
    cr_assert_eq(kinds_body_matches(1000, &b), TACNET_EBODYMISMATCH);
    b.event_case = TACNET__BODY__EVENT_ASSESSMENT;
    b.concern = NULL;
    b.assessment = &assessment;
    cr_assert_eq(kinds_body_matches(TACNET__EVENT_KIND__CONCERN, &b), TACNET_EBODYMISMATCH);
    cr_assert_eq(kinds_body_matches(TACNET__EVENT_KIND__ASSESSMENT, &b), 0);
    /* A body with no event at all. */
    b.event_case = TACNET__BODY__EVENT__NOT_SET;
    b.assessment = NULL;
    cr_assert_eq(kinds_body_matches(TACNET__EVENT_KIND__CONCERN, &b), TACNET_EBODYMISMATCH);
    cr_assert_eq(kinds_body_matches(TACNET__EVENT_KIND__CONCERN, NULL), TACNET_EINVAL);
}
