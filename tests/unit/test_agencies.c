/* agencies and agencyconf: the roster's agencies beyond the Agency enum, deploy/agencies.conf,
 * and what depends on protobuf-c keeping an enum value it does not know. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agencies.h"
#include "agencyconf.h"
#include "err.h"
#include "labels.h"
#include "names.h"
#include "policyfile.h"
#include "route.h"
#include "wire.h"

#define FIVE                                                                                \
    "[camhs]\nid = 1\ntitle = CAMHS\nclasses = routine, health, safeguarding\n"             \
    "profile = camhs\n"                                                                     \
    "[school]\nid = 2\ntitle = School\nclasses = routine, safeguarding\nprofile = school\n" \
    "[family_support]\nid = 6\ntitle = Family support\nclasses = routine\n"                 \
    "profile = generic\n"

/* Parse TEXT as "agencies.conf"; the code, the reason in WHY. R is freed unless KEEP. */
static int s_parse(const char *text, char *why, size_t whylen, Tacnet__Roster *keep)
{
    Tacnet__Roster r = TACNET__ROSTER__INIT;
    why[0] = 0;
    int rc = agencyconf_parse(text, "agencies.conf", &r, why, whylen);
    if (keep)
        *keep = r;
    else
        agencyconf_free(&r);
    return rc;
}

/* The table as FIVE makes it. */
static void s_register_five(void)
{
    Tacnet__Roster r = TACNET__ROSTER__INIT;
    char why[256];
    cr_assert_eq(s_parse(FIVE, why, sizeof(why), &r), 0, "%s", why);
    agencies_register(r.agencies, r.n_agencies);
    agencyconf_free(&r);
}

Test(agencies, parses_every_key_of_every_section)
{
    Tacnet__Roster r = TACNET__ROSTER__INIT;
    char why[256];
    cr_assert_eq(s_parse(FIVE, why, sizeof(why), &r), 0, "%s", why);
    cr_assert_eq(r.n_agencies, 3);
    const Tacnet__AgencyEntry *fs = r.agencies[2];
    cr_assert_str_eq(fs->name, "family_support");
    cr_assert_eq(fs->id, 6);
    cr_assert_str_eq(fs->title, "Family support");
    cr_assert_eq(fs->n_classes, 1);
    cr_assert_eq(fs->classes[0], TACNET__SENSITIVITY__ROUTINE);
    cr_assert_str_eq(fs->profile, "generic");
    cr_assert_eq(r.agencies[1]->n_classes, 2);
    agencyconf_free(&r);
    cr_assert_eq(r.n_agencies, 0);
}

Test(agencies, a_bad_id_is_refused_naming_its_line)
{
    char why[256];
    /* Line 4: an agency the enum does not name, outside 6..14. */
    cr_assert_eq(s_parse("[camhs]\nid = 1\ntitle = C\n[youth]\nid = 16\ntitle = Youth team\n", why,
                         sizeof(why), NULL),
                 TACNET_ECONFIG);
    cr_assert(strstr(why, "agencies.conf:4:") && strstr(why, "[youth]") && strstr(why, "id 16") &&
                  strstr(why, "6 to 14"),
              "%s", why);
    /* Not a number: the id line itself. */
    cr_assert_eq(s_parse("[camhs]\nid = 1\ntitle = CAMHS\n[youth]\ntitle = Y\nid = six\n", why,
                         sizeof(why), NULL),
                 TACNET_ECONFIG);
    cr_assert(strstr(why, "agencies.conf:6:") && strstr(why, "id"), "%s", why);
    /* The broker's and the partnership's ids are nobody else's. */
    cr_assert_eq(s_parse("[youth]\nid = 15\ntitle = Y\n", why, sizeof(why), NULL), TACNET_ECONFIG);
    cr_assert(strstr(why, "agencies.conf:1:") && strstr(why, "15"), "%s", why);
    /* A name the protocol reserves keeps its id. */
    cr_assert_eq(s_parse("[school]\nid = 6\ntitle = School\n", why, sizeof(why), NULL),
                 TACNET_ECONFIG);
    cr_assert(strstr(why, "[school]") && strstr(why, "own id"), "%s", why);
    /* No id at all. */
    cr_assert_eq(
        s_parse("[camhs]\nid = 1\ntitle = C\n\n[youth]\ntitle = Y\n", why, sizeof(why), NULL),
        TACNET_ECONFIG);
    cr_assert(strstr(why, "agencies.conf:5:") && strstr(why, "id is required"), "%s", why);
}

/* The roster may declare every id from 6 to 14 (a case record keeps consent for each); the
 * first beyond, after the broker's 15, is refused with its line and the range. */
Test(agencies, ids_6_to_12_parse_and_16_is_refused)
{
    char text[2048] = "[camhs]\nid = 1\ntitle = CAMHS\n";
    size_t n = strlen(text);
    for (unsigned id = 6; id <= 12; id++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "[team_%u]\nid = %u\ntitle = Team %u\nclasses = routine\n", id, id,
                              id);
    Tacnet__Roster r = TACNET__ROSTER__INIT;
    char why[256];
    cr_assert_eq(s_parse(text, why, sizeof(why), &r), 0, "%s", why);
    cr_assert_eq(r.n_agencies, 8);
    for (unsigned id = 6; id <= 12; id++)
        cr_assert_eq(r.agencies[id - 5]->id, id);
    agencies_register(r.agencies, r.n_agencies);
    agencyconf_free(&r);
    cr_assert(agencies_known(12));
    cr_assert_str_eq(names_agency(12), "team_12");
    cr_assert_str_eq(labels_agency(12), "Team 12");
    int v = 0;
    cr_assert_eq(names_enum_parse(&tacnet__agency__descriptor, "team-12", &v), 0);
    cr_assert_eq(v, 12);
    agencies_register(NULL, 0);

    /* 14 is the last; 16 (line 23 here) is refused naming its section's line. */
    n += (size_t)snprintf(text + n, sizeof(text) - n, "[team_14]\nid = 14\ntitle = T\n");
    cr_assert_eq(s_parse(text, why, sizeof(why), NULL), 0, "%s", why);
    snprintf(text + n, sizeof(text) - n, "[team_16]\nid = 16\ntitle = T\n");
    cr_assert_eq(s_parse(text, why, sizeof(why), NULL), TACNET_ECONFIG);
    cr_assert_str_eq(tacnet_errname(TACNET_ECONFIG), "E_CONFIG");
    cr_assert(strstr(why, "agencies.conf:35:") && strstr(why, "[team_16]") &&
                  strstr(why, "6 to 14"),
              "%s", why);
}

Test(agencies, a_duplicate_name_or_id_is_refused_naming_its_line)
{
    char why[256];
    cr_assert_eq(s_parse("[camhs]\nid = 1\ntitle = C\n[school]\nid = 2\ntitle = S\n"
                         "[camhs]\nid = 1\n",
                         why, sizeof(why), NULL),
                 TACNET_ECONFIG);
    cr_assert(strstr(why, "agencies.conf:7:") && strstr(why, "twice"), "%s", why);
    cr_assert_eq(s_parse("[youth]\nid = 6\ntitle = Y\n[family_support]\nid = 6\ntitle = F\n", why,
                         sizeof(why), NULL),
                 TACNET_ECONFIG);
    cr_assert(strstr(why, "agencies.conf:4:") && strstr(why, "another agency"), "%s", why);
}

Test(agencies, an_unknown_class_key_or_profile_is_refused_naming_its_line)
{
    char why[256];
    cr_assert_eq(
        s_parse("[youth]\nid = 6\ntitle = Y\nclasses = routine, secret\n", why, sizeof(why), NULL),
        TACNET_ECONFIG);
    cr_assert(strstr(why, "agencies.conf:4:") && strstr(why, "\"secret\""), "%s", why);
    cr_assert_eq(s_parse("[youth]\nid = 6\ncolour = blue\n", why, sizeof(why), NULL),
                 TACNET_ECONFIG);
    cr_assert(strstr(why, "agencies.conf:3:") && strstr(why, "colour"), "%s", why);
    /* An extra agency has no compiled daemon: it is served by the generic one. */
    cr_assert_eq(s_parse("[youth]\nid = 6\ntitle = Y\nprofile = camhs\n", why, sizeof(why), NULL),
                 TACNET_ECONFIG);
    cr_assert(strstr(why, "agencies.conf:1:") && strstr(why, "generic"), "%s", why);
    cr_assert_eq(s_parse("[Youth Team]\nid = 6\ntitle = Y\n", why, sizeof(why), NULL),
                 TACNET_ECONFIG);
    cr_assert(strstr(why, "lowercase"), "%s", why);
    cr_assert_eq(s_parse("# nothing\n", why, sizeof(why), NULL), TACNET_ECONFIG);
}

Test(agencies, names_and_labels_come_from_the_roster)
{
    agencies_register(NULL, 0);
    cr_assert_str_eq(names_agency(6), "?");
    int v = 0;
    cr_assert_eq(names_enum_parse(&tacnet__agency__descriptor, "family_support", &v), TACNET_EENUM);
    cr_assert_not(agencies_known(6));
    cr_assert(agencies_known(TACNET__AGENCY__SCHOOL));

    s_register_five();
    cr_assert(agencies_known(6));
    cr_assert_not(agencies_known(7));
    cr_assert_str_eq(names_agency(6), "family_support");
    cr_assert_str_eq(labels_agency(6), "Family support");
    cr_assert_str_eq(labels_agency(TACNET__AGENCY__SCHOOL), "School");
    cr_assert_eq(names_enum_parse(&tacnet__agency__descriptor, "Family-Support", &v), 0);
    cr_assert_eq(v, 6);
    cr_assert_eq(names_enum_parse(&tacnet__agency__descriptor, "camhs", &v), 0);
    cr_assert_eq(v, TACNET__AGENCY__CAMHS);
    uint32_t ids[AGENCIES_MAX];
    cr_assert_eq(agencies_list(ids, AGENCIES_MAX), 3);
    cr_assert_eq(ids[2], 6);
    agencies_register(NULL, 0);
}

/* protobuf-c does not check an enum field's value against the enum when unpacking (nor when
 * packing): an id only the roster names arrives as sent. Everything here rests on that. */
Test(agencies, protobuf_c_keeps_an_enum_value_the_enum_does_not_name)
{
    cr_assert_null(protobuf_c_enum_descriptor_get_value(&tacnet__agency__descriptor, 6));
    Tacnet__SharingRule rule = TACNET__SHARING_RULE__INIT;
    rule.agency = (Tacnet__Agency)6;
    size_t len = 0;
    uint8_t *packed = wire_pack(&rule.base, &len);
    Tacnet__SharingRule *got = tacnet__sharing_rule__unpack(NULL, len, packed);
    cr_assert_not_null(got);
    cr_assert_eq(got->agency, 6);
    tacnet__sharing_rule__free_unpacked(got, NULL);
    free(packed);
}

/* A clear header from agency 6 passes the header checks only once the roster declares it. */
Test(agencies, a_header_from_a_roster_agency_is_known_once_declared)
{
    Tacnet__Header h = TACNET__HEADER__INIT;
    Tacnet__Agency rcpt[2] = { TACNET__AGENCY__SOCIAL_CARE, (Tacnet__Agency)6 };
    uint8_t id[16] = { 9 };
    h.schema_version = 1;
    h.msg_id.data = id;
    h.msg_id.len = sizeof id;
    h.sender = (Tacnet__Agency)6;
    h.n_recipients = 2;
    h.recipients = rcpt;
    h.kind = TACNET__EVENT_KIND__CONTACT_LOGGED;
    h.case_ref.data = (uint8_t *)"LA7-2026-000123";
    h.case_ref.len = 15;
    h.initials.data = (uint8_t *)"TB";
    h.initials.len = 2;
    h.sensitivity = TACNET__SENSITIVITY__ROUTINE;
    h.lawful_basis = TACNET__LAWFUL_BASIS__CONSENT;
    size_t len = 0;
    int err = 0;
    uint8_t *packed = wire_pack(&h.base, &len);

    agencies_register(NULL, 0);
    cr_assert_null(wire_header_unpack(packed, len, &err));
    cr_assert_eq(err, TACNET_EENUM);

    s_register_five();
    Tacnet__Header *got = wire_header_unpack(packed, len, &err);
    cr_assert_not_null(got, "refused: %s", tacnet_errname(err));
    cr_assert_eq(got->sender, 6);
    cr_assert_eq(got->recipients[1], 6);
    wire_free(&got->base);
    free(packed);
    agencies_register(NULL, 0);
}

/* The stored case keeps the consent in force for the roster's extra ids across a restart. */
Test(agencies, the_stored_case_keeps_consent_for_extra_ids)
{
    route_case_t c, back;
    memset(&c, 0, sizeof(c));
    c.members = (1u << 4) | (1u << 6) | (1u << 7) | (1u << 14);
    c.cover[4] = ROUTE_CLASSES_ALL;
    c.cover[6] = ROUTE_CLASS_BIT(TACNET__SENSITIVITY__ROUTINE);
    c.cover[7] = ROUTE_OBJECT_BIT(TACNET__SENSITIVITY__HEALTH);
    c.cover[14] = ROUTE_CLASS_BIT(TACNET__SENSITIVITY__SAFEGUARDING);
    c.level[6] = 2;
    uint8_t buf[ROUTE_CASE_BYTES];
    route_case_encode(&c, buf);
    cr_assert_eq(route_case_decode(buf, sizeof(buf), &back), 0);
    cr_assert_eq(back.members, c.members);
    cr_assert(route_consent_covers(&back, 6, TACNET__SENSITIVITY__ROUTINE));
    cr_assert_not(route_consent_covers(&back, 6, TACNET__SENSITIVITY__HEALTH));
    cr_assert(route_consent_objected(&back, 7, TACNET__SENSITIVITY__HEALTH));
    cr_assert_eq(back.level[6], 2);
    cr_assert(route_consent_covers(&back, 14, TACNET__SENSITIVITY__SAFEGUARDING));
    cr_assert_not(route_consent_covers(&back, 14, TACNET__SENSITIVITY__ROUTINE));
    /* The partnership contact never has consent of its own. */
    cr_assert_not(
        route_consent_covers(&back, TACNET__AGENCY__PARTNERSHIP, TACNET__SENSITIVITY__ROUTINE));
}

/* provision refuses a sharing policy that gives an agency more than agencies.conf allows. */
Test(agencies, sharing_may_not_exceed_an_agencys_classes)
{
    Tacnet__Roster r = TACNET__ROSTER__INIT;
    char why[256];
    cr_assert_eq(s_parse(FIVE, why, sizeof(why), &r), 0, "%s", why);
    agencies_register(r.agencies, r.n_agencies);
    const char *esc = "[stage1]\naudience = practitioner\nworking_days = 5\n"
                      "[stage2]\naudience = line_manager\nworking_days = 7\n"
                      "[stage3]\naudience = dsl\nworking_days = 7\n"
                      "[stage4]\naudience = partnership_lead\nworking_days = 14\n";
    cr_assert_eq(policyfile_parse("[family_support]\nwith_consent = routine\n", "sharing.conf", esc,
                                  "escalation.conf", &r, why, sizeof(why)),
                 0, "%s", why);
    cr_assert_eq(agencyconf_sharing_check(&r, why, sizeof(why)), 0, "%s", why);
    policyfile_free(&r);
    cr_assert_eq(policyfile_parse("[family_support]\nwith_consent = routine, health\n",
                                  "sharing.conf", esc, "escalation.conf", &r, why, sizeof(why)),
                 0, "%s", why);
    cr_assert_eq(agencyconf_sharing_check(&r, why, sizeof(why)), TACNET_ECONFIG);
    cr_assert(strstr(why, "family_support") && strstr(why, "health"), "%s", why);
    policyfile_free(&r);
    agencyconf_free(&r);
    agencies_register(NULL, 0);
}
