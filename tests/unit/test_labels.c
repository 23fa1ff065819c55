/* labels: a label for every enum value of proto/, one sentence per event kind, and the date an
 * event says it happened. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labels.h"

/* Every `enum Name {` in the .proto files, by its proto name. */
static size_t s_proto_enums(char names[][64], size_t cap)
{
    const char *src = getenv("TACNET_SRC") ? getenv("TACNET_SRC") : ".";
    static const char *const files[] = { "wire", "events", "api", "roster" };
    size_t n = 0;
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        char path[512], line[512];
        snprintf(path, sizeof(path), "%s/proto/%s.proto", src, files[f]);
        FILE *in = fopen(path, "r");
        cr_assert_not_null(in, "cannot read %s", path);
        while (fgets(line, sizeof(line), in) && n < cap) {
            const char *p = line;
            while (*p == ' ')
                p++;
            if (strncmp(p, "enum ", 5) == 0 && sscanf(p + 5, "%63[A-Za-z0-9_]", names[n]) == 1)
                n++;
        }
        fclose(in);
    }
    return n;
}

Test(labels, every_enum_of_the_protos_has_a_label_for_every_value)
{
    char names[64][64];
    size_t n = s_proto_enums(names, 64);
    cr_assert_gt(n, 20, "found only %zu enums in proto/", n);
    size_t ne;
    const ProtobufCEnumDescriptor *const *enums = labels_enums(&ne);
    for (size_t i = 0; i < n; i++) {
        const ProtobufCEnumDescriptor *d = NULL;
        for (size_t k = 0; k < ne && !d; k++)
            if (strcmp(enums[k]->short_name, names[i]) == 0)
                d = enums[k];
        cr_assert_not_null(d, "enum %s has no labels (common/labels.c)", names[i]);
        for (unsigned v = 0; v < d->n_values; v++) {
            cr_assert(labels_enum_has(d, d->values[v].value), "%s.%s has no label", names[i],
                      d->values[v].name);
            const char *l = labels_enum(d, d->values[v].value);
            cr_assert(l[0] && !strchr(l, '_'), "%s.%s: label \"%s\"", names[i], d->values[v].name,
                      l);
        }
    }
}

Test(labels, a_value_without_a_label_reads_as_words)
{
    cr_assert_str_eq(labels_role(TACNET__ROLE__LEAD_PROFESSIONAL), "Lead professional");
    cr_assert_str_eq(
        labels_enum(&tacnet__escalation_event__descriptor, TACNET__ESCALATION_EVENT__ESC_OPENED),
        "opened");
    cr_assert_str_eq(labels_enum(&tacnet__role__descriptor, 99), "unknown");
    cr_assert_str_eq(labels_need(3), "3 child in need");
}

Test(labels, every_kind_reads_as_a_sentence_with_or_without_its_body)
{
    const ProtobufCEnumDescriptor *d = &tacnet__event_kind__descriptor;
    for (unsigned i = 0; i < d->n_values; i++) {
        Tacnet__Header h = TACNET__HEADER__INIT;
        h.sender = TACNET__AGENCY__CAMHS;
        h.kind = (Tacnet__EventKind)d->values[i].value;
        char s[256];
        labels_event_sentence(&h, NULL, s, sizeof(s));
        cr_assert(strlen(s) > 10, "%s: \"%s\"", d->values[i].name, s);
        cr_assert(isupper((unsigned char)s[0]), "%s: \"%s\"", d->values[i].name, s);
        cr_assert_null(strchr(s, '_'), "%s: \"%s\"", d->values[i].name, s);
        cr_assert_null(strstr(s, " a a")   ? s
                       : strstr(s, " a i") ? s
                                           : strstr(s, " a e"),
                       "%s: \"%s\" (a before a vowel)", d->values[i].name, s);
    }
    Tacnet__Header h = TACNET__HEADER__INIT;
    h.sender = TACNET__AGENCY__SCHOOL;
    h.kind = TACNET__EVENT_KIND__INVOLVEMENT_PREFERENCES;
    char s[256];
    cr_assert_str_eq(labels_event_sentence(&h, NULL, s, sizeof(s)),
                     "School recorded how the family want to be involved");
}

Test(labels, a_disagreement_names_who_how_urgent_and_what_about)
{
    Tacnet__Header h = TACNET__HEADER__INIT;
    h.sender = TACNET__AGENCY__SCHOOL;
    h.kind = TACNET__EVENT_KIND__DISAGREEMENT;
    h.has_urgent = 1;
    h.urgent = 1;
    Tacnet__Disagreement dis = TACNET__DISAGREEMENT__INIT;
    dis.topic = "Level of need";
    Tacnet__Body b = TACNET__BODY__INIT;
    b.event_case = TACNET__BODY__EVENT_DISAGREEMENT;
    b.disagreement = &dis;
    char s[256];
    cr_assert_str_eq(labels_event_sentence(&h, &b, s, sizeof(s)),
                     "School raised an urgent disagreement about Level of need");
    h.urgent = 0;
    cr_assert_str_eq(labels_event_sentence(&h, NULL, s, sizeof(s)), "School raised a disagreement");
    char tiny[12];
    labels_event_sentence(&h, &b, tiny, sizeof(tiny));
    cr_assert_str_eq(tiny, "School rais");
}

Test(labels, notices_and_membership_name_the_agency_concerned)
{
    Tacnet__Header h = TACNET__HEADER__INIT;
    h.sender = TACNET__AGENCY__BROKER;
    h.kind = TACNET__EVENT_KIND__ESCALATION_NOTICE;
    h.has_escalation_event = 1;
    h.escalation_event = TACNET__ESCALATION_EVENT__ESC_ADVANCED;
    h.has_escalation_stage = 1;
    h.escalation_stage = 2;
    h.has_audience = 1;
    h.audience = TACNET__ROLE__LINE_MANAGER;
    char s[256];
    cr_assert_str_eq(labels_event_sentence(&h, NULL, s, sizeof(s)),
                     "Escalation moved to the next stage: stage 2, Line manager to answer");
    /* A notice telling the parties that another agency's disagreement joined it says so. */
    Tacnet__EscalationNotice en = TACNET__ESCALATION_NOTICE__INIT;
    Tacnet__Body nb = TACNET__BODY__INIT;
    nb.event_case = TACNET__BODY__EVENT_ESCALATION_NOTICE;
    nb.escalation_notice = &en;
    en.has_joined = 1;
    en.has_joined_by = 1;
    en.joined_by = TACNET__AGENCY__CAMHS;
    cr_assert_str_eq(labels_event_sentence(&h, &nb, s, sizeof(s)),
                     "Escalation joined by CAMHS's disagreement, now a party: stage 2, Line "
                     "manager to answer");
    Tacnet__Header j = TACNET__HEADER__INIT;
    j.sender = TACNET__AGENCY__SOCIAL_CARE;
    j.kind = TACNET__EVENT_KIND__MEMBER_JOINED;
    j.has_subject_agency = 1;
    j.subject_agency = TACNET__AGENCY__CAMHS;
    cr_assert_str_eq(labels_event_sentence(&j, NULL, s, sizeof(s)),
                     "CAMHS joined the team around the child");
    j.kind = TACNET__EVENT_KIND__LEAD_HANDOVER;
    cr_assert_str_eq(labels_event_sentence(&j, NULL, s, sizeof(s)),
                     "Social care offered the lead professional role to CAMHS");
}

Test(labels, an_event_is_dated_by_when_it_happened_not_by_future_dates)
{
    Tacnet__Body b = TACNET__BODY__INIT;
    cr_assert_eq(labels_event_date(&b), 0);
    Tacnet__MeetingOutcome mo = TACNET__MEETING_OUTCOME__INIT;
    mo.has_next_meeting_date = 1;
    mo.next_meeting_date = 20270105;
    b.event_case = TACNET__BODY__EVENT_MEETING_OUTCOME;
    b.meeting_outcome = &mo;
    cr_assert_eq(labels_event_date(&b), 0, "the next meeting's date is not when it was held");
    mo.has_held_date = 1;
    mo.held_date = 20261201;
    cr_assert_eq(labels_event_date(&b), 20261201);
    Tacnet__MeetingRequested mr = TACNET__MEETING_REQUESTED__INIT;
    mr.has_wanted_by_date = 1;
    mr.wanted_by_date = 20261220;
    b.event_case = TACNET__BODY__EVENT_MEETING_REQUESTED;
    b.meeting_requested = &mr;
    cr_assert_eq(labels_event_date(&b), 0);
    Tacnet__Decision dec = TACNET__DECISION__INIT;
    dec.has_decided_date = 1;
    dec.decided_date = 20261103;
    b.event_case = TACNET__BODY__EVENT_DECISION;
    b.decision = &dec;
    cr_assert_eq(labels_event_date(&b), 20261103);
    cr_assert_eq(labels_event_date(NULL), 0);
}

Test(labels, a_family_s_rating_reads_as_the_family_s_not_the_sender_s)
{
    Tacnet__Header h = TACNET__HEADER__INIT;
    h.sender = TACNET__AGENCY__SOCIAL_CARE;
    h.kind = TACNET__EVENT_KIND__PARTNERSHIP_RATING;
    Tacnet__PartnershipRating r = TACNET__PARTNERSHIP_RATING__INIT;
    r.has_about = 1;
    r.about = TACNET__AGENCY__PARTNERSHIP;
    r.has_rung = 1;
    r.rung = 6;
    r.has_by_family = 1;
    r.by_family = TACNET__FAMILY_ROLE__MOTHER;
    Tacnet__Body b = TACNET__BODY__INIT;
    b.event_case = TACNET__BODY__EVENT_PARTNERSHIP_RATING;
    b.partnership_rating = &r;
    char s[256];
    cr_assert_str_eq(labels_event_sentence(&h, &b, s, sizeof(s)),
                     "The mother rated the whole team: 6 of 9 (recorded by Social care)");
    /* An agency's own rating of another agency. */
    r.has_by_family = 0;
    r.about = TACNET__AGENCY__CAMHS;
    cr_assert_str_eq(labels_event_sentence(&h, &b, s, sizeof(s)),
                     "Social care rated its partnership with CAMHS: 6 of 9");
}

Test(labels, a_contact_takes_a_or_an_as_its_method_sounds)
{
    Tacnet__Header h = TACNET__HEADER__INIT;
    h.sender = TACNET__AGENCY__SCHOOL;
    h.kind = TACNET__EVENT_KIND__CONTACT_LOGGED;
    Tacnet__ContactLogged c = TACNET__CONTACT_LOGGED__INIT;
    c.method = TACNET__CONTACT_METHOD__OFFICE_VISIT;
    c.with = TACNET__FAMILY_ROLE__MOTHER;
    c.has_successful = 1;
    c.successful = 0;
    Tacnet__Body b = TACNET__BODY__INIT;
    b.event_case = TACNET__BODY__EVENT_CONTACT_LOGGED;
    b.contact_logged = &c;
    char s[256];
    cr_assert_str_eq(labels_event_sentence(&h, &b, s, sizeof(s)),
                     "School logged an office visit with the mother (no answer)");
    c.method = TACNET__CONTACT_METHOD__PHONE_CALL;
    c.successful = 1;
    cr_assert_str_eq(labels_event_sentence(&h, &b, s, sizeof(s)),
                     "School logged a phone call with the mother");
}

Test(labels, a_member_leaving_says_whether_it_left_or_was_taken_out)
{
    Tacnet__Header h = TACNET__HEADER__INIT;
    char s[256];
    h.kind = TACNET__EVENT_KIND__MEMBER_LEFT;
    h.sender = TACNET__AGENCY__HEALTH_VISITING;
    h.has_subject_agency = 1;
    h.subject_agency = TACNET__AGENCY__HEALTH_VISITING;
    cr_assert_str_eq(labels_event_sentence(&h, NULL, s, sizeof(s)),
                     "Health visiting left the team around the child");
    h.sender = TACNET__AGENCY__SOCIAL_CARE;
    cr_assert_str_eq(labels_event_sentence(&h, NULL, s, sizeof(s)),
                     "Social care took health visiting out of the team around the child");
}
