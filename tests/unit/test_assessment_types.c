/* assessment_types: which agency carries out which type of assessment (a section 47 enquiry is
 * social care's, a developmental review health visiting's, ...; early help is anyone's).
 * Synthetic. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "casework/assessment_types.h"
#include "err.h"

#define CAMHS TACNET__AGENCY__CAMHS
#define SCH   TACNET__AGENCY__SCHOOL
#define HV    TACNET__AGENCY__HEALTH_VISITING
#define SC    TACNET__AGENCY__SOCIAL_CARE
/* An agency the roster defines beyond the enum, served by the generic daemon. */
#define FS 6u

#define T(name) TACNET__ASSESSMENT_TYPE__##name

static int s_check(uint32_t type, uint32_t agency, char *why, size_t cap)
{
    Tacnet__Assessment a = TACNET__ASSESSMENT__INIT;
    a.has_type = 1;
    a.type = (Tacnet__AssessmentType)type;
    a.has_level_of_need = 1;
    a.level_of_need = 4;
    why[0] = 0;
    return assessment_type_check(&a, agency, why, cap);
}

Test(assessment_types, a_section_47_enquiry_is_social_care_s_alone)
{
    char why[256];
    cr_assert_eq(s_check(T(SECTION_47), SC, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(s_check(T(SECTION_47), FS, why, sizeof(why)), TACNET_EFIELD);
    cr_assert_eq(s_check(T(SECTION_47), SCH, why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "assessment.type is child protection enquiry (section 47), which "
                          "Social care carries out, not School"),
              "%s", why);
    cr_assert(strstr(why, "refer the child to Social care"), "%s", why);
    cr_assert_eq(s_check(T(SECTION_47), CAMHS, why, sizeof(why)), TACNET_EFIELD);
    cr_assert_eq(s_check(T(SECTION_47), HV, why, sizeof(why)), TACNET_EFIELD);
    cr_assert_eq(s_check(T(CHILD_AND_FAMILY), SC, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(s_check(T(CHILD_AND_FAMILY), HV, why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "which Social care carries out, not Health visiting"), "%s", why);
}

Test(assessment_types, each_service_s_own_assessments_are_its_own)
{
    char why[256];
    cr_assert_eq(s_check(T(DEVELOPMENTAL_REVIEW), HV, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(s_check(T(PROMOTIONAL_INTERVIEW), HV, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(s_check(T(CAPA_CHOICE), CAMHS, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(s_check(T(SCHOOL_SEN), SCH, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(s_check(T(DEVELOPMENTAL_REVIEW), SCH, why, sizeof(why)), TACNET_EFIELD);
    cr_assert_eq(s_check(T(PROMOTIONAL_INTERVIEW), SC, why, sizeof(why)), TACNET_EFIELD);
    cr_assert_eq(s_check(T(CAPA_CHOICE), SC, why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "which CAMHS carries out, not Social care"), "%s", why);
    cr_assert_eq(s_check(T(SCHOOL_SEN), CAMHS, why, sizeof(why)), TACNET_EFIELD);
    cr_assert_eq(s_check(T(SCHOOL_SEN), FS, why, sizeof(why)), TACNET_EFIELD);
    cr_assert_eq(assessment_type_owner(T(SCHOOL_SEN)), SCH);
    cr_assert_eq(assessment_type_owner(T(DEVELOPMENTAL_REVIEW)), HV);
}

Test(assessment_types, early_help_or_no_type_is_any_agency_s_and_a_roster_agency_s_only_ones)
{
    char why[256];
    const uint32_t everyone[] = { CAMHS, SCH, HV, SC, FS };
    for (size_t i = 0; i < sizeof(everyone) / sizeof(everyone[0]); i++) {
        cr_assert_eq(s_check(T(EARLY_HELP), everyone[i], why, sizeof(why)), 0, "%s", why);
        cr_assert(assessment_type_carried_out(everyone[i], T(ASSESSMENT_UNKNOWN)));
    }
    Tacnet__Assessment untyped = TACNET__ASSESSMENT__INIT;
    cr_assert_eq(assessment_type_check(&untyped, FS, why, sizeof(why)), 0);
    cr_assert_eq(assessment_type_check(NULL, FS, why, sizeof(why)), 0);
    cr_assert_eq(assessment_type_owner(T(EARLY_HELP)), 0);
    /* The roster's agency carries out early help and nothing else. */
    const ProtobufCEnumDescriptor *d = &tacnet__assessment_type__descriptor;
    for (unsigned i = 0; i < d->n_values; i++) {
        uint32_t t = (uint32_t)d->values[i].value;
        int generic = t == T(EARLY_HELP) || t == T(ASSESSMENT_UNKNOWN);
        cr_assert_eq(assessment_type_carried_out(FS, t), generic, "%s", d->values[i].name);
    }
}

Test(assessment_types, every_type_of_the_proto_is_carried_out_by_someone_and_no_other_value_is)
{
    const ProtobufCEnumDescriptor *d = &tacnet__assessment_type__descriptor;
    const uint32_t named[] = { CAMHS, SCH, HV, SC };
    for (unsigned i = 0; i < d->n_values; i++) {
        uint32_t t = (uint32_t)d->values[i].value, owner = assessment_type_owner(t);
        int by = 0;
        for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++)
            by += assessment_type_carried_out(named[k], t);
        /* Placed in the table: a service's own, or everyone's. */
        cr_assert(owner ? by == 1 && assessment_type_carried_out(owner, t) : by == 4,
                  "%s is not placed in assessment_types.c", d->values[i].name);
    }
    char why[256];
    cr_assert_eq(s_check(99, SC, why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "assessment.type: 99 is not an assessment type"), "%s", why);
    cr_assert_not(assessment_type_carried_out(SC, 99));
}

/* A universal contact is health visiting's record and a Choice appointment CAMHS's: another
 * agency's early help assessment carrying one is refused, naming the field, not kept unused. */
Test(assessment_types, another_service_s_record_on_an_assessment_is_refused)
{
    char why[256];
    Tacnet__Assessment a = TACNET__ASSESSMENT__INIT;
    a.has_type = 1;
    a.type = TACNET__ASSESSMENT_TYPE__EARLY_HELP;
    a.has_hv_contact = 1;
    a.hv_contact = TACNET__HV_CONTACT__HV_NEW_BIRTH;
    cr_assert_eq(assessment_type_check(&a, FS, why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "assessment.hv_contact: health visiting's universal contacts"), "%s",
              why);
    cr_assert_eq(assessment_type_check(&a, HV, why, sizeof(why)), 0, "%s", why);
    a.has_hv_contact = 0;
    Tacnet__CapaChoice c = TACNET__CAPA_CHOICE__INIT;
    a.capa_choice = &c;
    cr_assert_eq(assessment_type_check(&a, SC, why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "assessment.capa_choice: a CAPA Choice appointment is recorded by"), "%s",
              why);
    cr_assert_eq(assessment_type_check(&a, CAMHS, why, sizeof(why)), 0, "%s", why);
}
