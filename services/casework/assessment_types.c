/* assessment_types: which agency carries out which type of assessment. See assessment_types.h. */
#include "casework/assessment_types.h"
#include "casework/why.h"

#include "err.h"
#include "labels.h"

/* Each assessment type and the agency whose work it is (0: any agency's). A type added to the
 * proto is placed here too (tests/unit/test_assessment_types.c checks every one is). */
static const struct {
    uint32_t type;
    uint32_t agency;
} s_rule[] = {
    { TACNET__ASSESSMENT_TYPE__ASSESSMENT_UNKNOWN, 0 },
    { TACNET__ASSESSMENT_TYPE__EARLY_HELP, 0 },
    { TACNET__ASSESSMENT_TYPE__CHILD_AND_FAMILY, TACNET__AGENCY__SOCIAL_CARE },
    { TACNET__ASSESSMENT_TYPE__SECTION_47, TACNET__AGENCY__SOCIAL_CARE },
    { TACNET__ASSESSMENT_TYPE__CAPA_CHOICE, TACNET__AGENCY__CAMHS },
    { TACNET__ASSESSMENT_TYPE__DEVELOPMENTAL_REVIEW, TACNET__AGENCY__HEALTH_VISITING },
    { TACNET__ASSESSMENT_TYPE__PROMOTIONAL_INTERVIEW, TACNET__AGENCY__HEALTH_VISITING },
    { TACNET__ASSESSMENT_TYPE__SCHOOL_SEN, TACNET__AGENCY__SCHOOL },
};

#define S_N (sizeof(s_rule) / sizeof(s_rule[0]))

/* The row for TYPE, or -1 when it is no assessment type. */
static int s_row(uint32_t type)
{
    for (size_t i = 0; i < S_N; i++)
        if (s_rule[i].type == type)
            return (int)i;
    return -1;
}

uint32_t assessment_type_owner(uint32_t type)
{
    int i = s_row(type);
    return i < 0 ? 0 : s_rule[i].agency;
}

int assessment_type_carried_out(uint32_t agency, uint32_t type)
{
    int i = s_row(type);
    return i >= 0 && (s_rule[i].agency == 0 || s_rule[i].agency == agency);
}

int assessment_type_check(const Tacnet__Assessment *a, uint32_t agency, char *why, size_t cap)
{
    /* A universal contact is health visiting's record, a Choice appointment CAMHS's: another
     * agency's would be kept and never used (the views count them from their own agency only). */
    if (a && (a->has_hv_contact || a->has_birth_date) && agency != TACNET__AGENCY__HEALTH_VISITING)
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "assessment.%s: health visiting's universal contacts are recorded "
                               "by %s, not %s",
                               a->has_hv_contact ? "hv_contact" : "birth_date",
                               labels_agency(TACNET__AGENCY__HEALTH_VISITING),
                               labels_agency(agency));
    if (a && a->capa_choice && agency != TACNET__AGENCY__CAMHS)
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "assessment.capa_choice: a CAPA Choice appointment is recorded by "
                               "%s, not %s",
                               labels_agency(TACNET__AGENCY__CAMHS), labels_agency(agency));
    if (!a || !a->has_type || assessment_type_carried_out(agency, (uint32_t)a->type))
        return 0;
    uint32_t type = (uint32_t)a->type, owner = assessment_type_owner(type);
    if (s_row(type) < 0)
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "assessment.type: %u is not an assessment "
                               "type",
                               type);
    return casework_refuse(TACNET_EFIELD, why, cap,
                           "assessment.type is %s, which %s carries out, not %s: refer the "
                           "child to %s, or record an early help assessment",
                           labels_enum(&tacnet__assessment_type__descriptor, (int)type),
                           labels_agency(owner), labels_agency(agency), labels_agency(owner));
}
