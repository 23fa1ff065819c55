/* policyfile: sharing.conf and escalation.conf into the roster's policy messages. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "policyfile.h"
#include "agencies.h"
#include "agencyconf.h"

#define SHARING                                                           \
    "[policy]\nversion = 3\nexpiry_hours = 120\n"                         \
    "[school]\nwith_consent = routine, safeguarding\nwithout_consent =\n" \
    "[social_care]\nwith_consent = routine, health, safeguarding\n"       \
    "without_consent = safeguarding\n"
#define STAGES                                                                 \
    "[stage1]\naudience = practitioner\nworking_days = 5\nurgent_hours = 24\n" \
    "[stage2]\naudience = line_manager\nworking_days = 7\n"                    \
    "[stage3]\naudience = dsl\nseconds = 30\n"                                 \
    "[stage4]\naudience = partnership_lead\nworking_days = 14\n"
#define ESCALATION "[escalation]\nlevel_gap = 2\nnon_response_hours = 48\n" STAGES

static const Tacnet__SharingRule *s_rule(const Tacnet__Roster *r, Tacnet__Agency a)
{
    for (size_t i = 0; i < r->sharing->n_rules; i++)
        if (r->sharing->rules[i]->agency == a)
            return r->sharing->rules[i];
    return NULL;
}

/* Parse the two texts; returns the code, the reason in WHY. */
static int s_parse(const char *sharing, const char *escalation, Tacnet__Roster *r, char *why,
                   size_t whylen)
{
    why[0] = 0;
    return policyfile_parse(sharing, "sharing.conf", escalation, "escalation.conf", r, why, whylen);
}

Test(policyfile, parses_sharing_and_escalation)
{
    Tacnet__Roster r = TACNET__ROSTER__INIT;
    char why[256];
    cr_assert_eq(s_parse(SHARING, ESCALATION, &r, why, sizeof(why)), 0, "%s", why);
    cr_assert(r.has_policy_version);
    cr_assert_eq(r.policy_version, 3);
    cr_assert_eq(r.sharing->expiry_hours, 120);
    cr_assert_eq(r.sharing->n_rules, 2);
    const Tacnet__SharingRule *school = s_rule(&r, TACNET__AGENCY__SCHOOL);
    cr_assert_not_null(school);
    cr_assert_eq(school->n_with_consent, 2);
    cr_assert_eq(school->with_consent[0], TACNET__SENSITIVITY__ROUTINE);
    cr_assert_eq(school->with_consent[1], TACNET__SENSITIVITY__SAFEGUARDING);
    cr_assert_eq(school->n_without_consent, 0);
    const Tacnet__SharingRule *sc = s_rule(&r, TACNET__AGENCY__SOCIAL_CARE);
    cr_assert_not_null(sc);
    cr_assert_eq(sc->n_with_consent, 3);
    cr_assert_eq(sc->n_without_consent, 1);
    cr_assert_eq(sc->without_consent[0], TACNET__SENSITIVITY__SAFEGUARDING);
    cr_assert_null(s_rule(&r, TACNET__AGENCY__CAMHS));

    const Tacnet__EscalationPolicy *e = r.escalation;
    cr_assert_eq(e->level_gap, 2);
    cr_assert_eq(e->non_response_hours, 48);
    cr_assert_eq(e->n_stages, 4);
    cr_assert_eq(e->stages[0]->stage, 1);
    cr_assert_eq(e->stages[0]->audience, TACNET__ROLE__PRACTITIONER);
    cr_assert_eq(e->stages[0]->working_days, 5);
    cr_assert_eq(e->stages[0]->urgent_hours, 24);
    cr_assert_eq(e->stages[2]->audience, TACNET__ROLE__DSL);
    cr_assert(e->stages[2]->has_seconds);
    cr_assert_eq(e->stages[2]->seconds, 30);
    cr_assert_eq(e->stages[3]->audience, TACNET__ROLE__PARTNERSHIP_LEAD);
    policyfile_free(&r);
    cr_assert_null(r.sharing);
    cr_assert_null(r.escalation);
}

Test(policyfile, loads_the_deploy_files)
{
    const char *src = getenv("TACNET_SRC") ? getenv("TACNET_SRC") : ".";
    char sharing[512], escalation[512], why[256] = "";
    snprintf(sharing, sizeof(sharing), "%s/deploy/sharing.conf", src);
    snprintf(escalation, sizeof(escalation), "%s/deploy/escalation.conf", src);
    Tacnet__Roster r = TACNET__ROSTER__INIT;
    char agencies_path[512];
    snprintf(agencies_path, sizeof(agencies_path), "%s/deploy/agencies.conf", src);
    /* The deploy policy names family_support: the partnership's agencies come first. */
    cr_assert_eq(agencyconf_load(agencies_path, &r, why, sizeof(why)), 0, "%s", why);
    agencies_register(r.agencies, r.n_agencies);
    cr_assert_eq(policyfile_load(sharing, escalation, &r, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(r.sharing->n_rules, 5, "the four named agencies and family_support");
    cr_assert_eq(r.escalation->n_stages, 4);
    cr_assert_geq(r.n_area_codes, 1, "the deploy roster names its area codes");
    cr_assert_eq(agencyconf_sharing_check(&r, why, sizeof(why)), 0, "%s", why);
    policyfile_free(&r);
    agencyconf_free(&r);
    agencies_register(NULL, 0);
    cr_assert_null(r.area_codes);
}

Test(policyfile, a_missing_file_is_not_found)
{
    Tacnet__Roster r = TACNET__ROSTER__INIT;
    char why[256] = "";
    cr_assert_eq(policyfile_load("/nonexistent/sharing.conf", "/nonexistent/escalation.conf", &r,
                                 why, sizeof(why)),
                 TACNET_ENOTFOUND);
    cr_assert(strstr(why, "/nonexistent/sharing.conf: cannot open") != NULL, "%s", why);
    policyfile_free(&r);
}

/* Each wrong file is refused with a reason naming the file, line, section and key. */
static void s_refused(const char *sharing, const char *escalation, const char *reason)
{
    Tacnet__Roster r = TACNET__ROSTER__INIT;
    char why[256];
    cr_assert_eq(s_parse(sharing, escalation, &r, why, sizeof(why)), TACNET_ECONFIG,
                 "accepted, expected \"%s\"", reason);
    cr_assert(strstr(why, reason) != NULL, "got \"%s\", expected \"%s\"", why, reason);
    policyfile_free(&r);
    cr_assert_null(r.sharing);
    cr_assert_null(r.escalation);
}

Test(policyfile, refuses_wrong_files)
{
    s_refused("[policy]\nversion = x\n", ESCALATION,
              "sharing.conf:2: [policy] version: not a whole number");
    s_refused("[policy]\ncolour = 1\n", ESCALATION, "sharing.conf:2: [policy] colour: unknown key");
    s_refused("[library]\nwith_consent = routine\n", ESCALATION,
              "sharing.conf:2: [library] with_consent: unknown agency section");
    s_refused("[broker]\nwith_consent = routine\n", ESCALATION, "unknown agency section");
    s_refused("[school]\nwith_consent = routine, gossip\n", ESCALATION,
              "sharing.conf:2: [school] with_consent: classes are routine, health, safeguarding");
    s_refused("[school]\nsometimes = routine\n", ESCALATION,
              "sharing.conf:2: [school] sometimes: unknown key");
    s_refused("[school]\nno equals sign\n", ESCALATION, "sharing.conf:2: not a key = value line");
    s_refused(SHARING, "[escalation]\nlevel_gap = -1\n" STAGES,
              "escalation.conf:2: [escalation] level_gap: not a whole number");
    s_refused(SHARING, "[stage1]\naudience = head_teacher\n",
              "escalation.conf:2: [stage1] audience: not a role");
    s_refused(SHARING, "[stage5]\naudience = dsl\n",
              "escalation.conf:2: [stage5] audience: unknown "
              "section");
    s_refused(SHARING, "[stage1]\naudience = dsl\n",
              "escalation.conf: [stage2] with an audience is required");
    s_refused(SHARING, "[escalation]\nlevel_gap = 2\n[stage1]\nworking_days = 5\n",
              "escalation.conf: [stage1] with an audience is required");
}

/* The line is the refused key's own, counted past comments, blank lines and earlier sections,
 * in text and in a file alike. */
Test(policyfile, a_refused_key_is_named_by_its_line)
{
    const char *sharing = "# comment\n\n[policy]\nversion = 1\n"
                          "[school]\nwith_consent = routine\n; another comment\nbogus = 1\n";
    s_refused(sharing, ESCALATION, "sharing.conf:8: [school] bogus: unknown key");
    s_refused(SHARING, "[escalation]\nlevel_gap = 2\n\n" STAGES "[stage4]\ncolour = red\n",
              "escalation.conf:18: [stage4] colour: not a whole number");
    char dir[] = "/tmp/test_policyfile_XXXXXX", sh[64], esc[64], why[256] = "";
    cr_assert_not_null(mkdtemp(dir));
    snprintf(sh, sizeof(sh), "%s/sh2.conf", dir);
    snprintf(esc, sizeof(esc), "%s/esc.conf", dir);
    FILE *f = fopen(sh, "w");
    cr_assert_not_null(f);
    fputs(sharing, f);
    fclose(f);
    f = fopen(esc, "w");
    cr_assert_not_null(f);
    fputs(ESCALATION, f);
    fclose(f);
    Tacnet__Roster r = TACNET__ROSTER__INIT;
    cr_assert_eq(policyfile_load(sh, esc, &r, why, sizeof(why)), TACNET_ECONFIG);
    char want[128];
    snprintf(want, sizeof(want), "%s:8: [school] bogus: unknown key", sh);
    cr_assert(strstr(why, want) != NULL, "got \"%s\", expected \"%s\"", why, want);
    policyfile_free(&r);
    unlink(sh);
    unlink(esc);
    rmdir(dir);
}

Test(policyfile, lawful_bases_other_than_consent_are_named_per_agency)
{
    Tacnet__Roster r = TACNET__ROSTER__INIT;
    char why[256];
    const char *sharing = "[policy]\nversion = 1\n"
                          "[camhs]\nwith_consent = routine, health\ndirect_care = health\n"
                          "legal_duty = safeguarding\n"
                          "[school]\nwith_consent = routine, safeguarding\n";
    cr_assert_eq(s_parse(sharing, ESCALATION, &r, why, sizeof(why)), 0, "%s", why);
    const Tacnet__SharingRule *camhs = s_rule(&r, TACNET__AGENCY__CAMHS);
    cr_assert_eq(camhs->n_direct_care, 1);
    cr_assert_eq(camhs->direct_care[0], TACNET__SENSITIVITY__HEALTH);
    cr_assert_eq(camhs->n_legal_duty, 1);
    cr_assert_eq(camhs->legal_duty[0], TACNET__SENSITIVITY__SAFEGUARDING);
    const Tacnet__SharingRule *school = s_rule(&r, TACNET__AGENCY__SCHOOL);
    cr_assert_eq(school->n_direct_care, 0, "no direct_care key: gives no direct care");
    cr_assert_eq(school->n_legal_duty, 2, "no legal_duty key: as with_consent");
    cr_assert_eq(school->legal_duty[1], TACNET__SENSITIVITY__SAFEGUARDING);
    policyfile_free(&r);
    const char *bad = "[policy]\nversion = 1\n[camhs]\ndirect_care = clinical\n";
    cr_assert_eq(s_parse(bad, ESCALATION, &r, why, sizeof(why)), TACNET_ECONFIG);
    cr_assert(strstr(why, "direct_care") != NULL, "%s", why);
    policyfile_free(&r);
}

Test(policyfile, area_codes_are_listed_and_checked)
{
    Tacnet__Roster r = TACNET__ROSTER__INIT;
    char why[256];
    cr_assert_eq(
        s_parse("[policy]\narea_codes = LA7, LA9 X1\n" SHARING, ESCALATION, &r, why, sizeof(why)),
        0, "%s", why);
    cr_assert_eq(r.n_area_codes, 3);
    cr_assert_str_eq(r.area_codes[0], "LA7");
    cr_assert_str_eq(r.area_codes[2], "X1");
    policyfile_free(&r);
    cr_assert_eq(r.n_area_codes, 0);
    s_refused("[policy]\narea_codes = LA7, sw1a\n", ESCALATION,
              "sharing.conf:2: [policy] area_codes: area codes are 2-5 capitals or digits");
    s_refused("[policy]\narea_codes = LA7, 9LA\n", ESCALATION, "area codes are 2-5");
    s_refused("[policy]\narea_codes = ABCDEF\n", ESCALATION, "area codes are 2-5");
}
