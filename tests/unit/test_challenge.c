/* challenge: a request for a review by someone not directly involved, checked at publish. */
#include <criterion/criterion.h>
#include <string.h>

#include "casework/challenge.h"
#include "casework/workflow.h"
#include "err.h"

typedef struct fixture {
    Tacnet__Body body;
    Tacnet__EscalationResponse response;
    Tacnet__ChallengeRequest request;
    Tacnet__Professional reviewer;
} fixture_t;

static void s_init(fixture_t *f)
{
    tacnet__body__init(&f->body);
    tacnet__escalation_response__init(&f->response);
    tacnet__challenge_request__init(&f->request);
    tacnet__professional__init(&f->reviewer);
    f->response.has_stage = 1;
    f->response.stage = 2;
    f->body.escalation_response = &f->response;
    f->response.challenge_request = &f->request;
    f->request.has_reviewer_role = 1;
    f->request.reviewer_role = TACNET__ROLE__PARTNERSHIP_LEAD;
    f->request.has_review_by_date = 1;
    f->request.review_by_date = 20261218;
}

#define RESPONSE TACNET__EVENT_KIND__ESCALATION_RESPONSE

Test(challenge, a_senior_role_and_a_date_are_enough)
{
    fixture_t f;
    s_init(&f);
    char why[256] = "";
    cr_assert_eq(challenge_check(RESPONSE, &f.body, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(challenge_of(RESPONSE, &f.body), &f.request);
    f.response.challenge_request = NULL;
    cr_assert_eq(challenge_check(RESPONSE, &f.body, why, sizeof(why)), 0);
    cr_assert_null(challenge_of(RESPONSE, &f.body));
    cr_assert_null(challenge_of(TACNET__EVENT_KIND__CONCERN, &f.body));
}

Test(challenge, refusals_name_the_field)
{
    fixture_t f;
    s_init(&f);
    char why[256] = "";
    f.request.reviewer_role = TACNET__ROLE__PRACTITIONER;
    cr_assert_eq(challenge_check(RESPONSE, &f.body, why, sizeof(why)), TACNET_EFIELD);
    cr_assert_not_null(strstr(why, "challenge_request.reviewer_role"), "%s", why);

    s_init(&f);
    f.request.review_by_date = 20261232;
    cr_assert_eq(challenge_check(RESPONSE, &f.body, why, sizeof(why)), TACNET_EFIELD);
    cr_assert_not_null(strstr(why, "review_by_date"), "%s", why);

    s_init(&f);
    f.request.reviewer = &f.reviewer;
    f.reviewer.has_agency = 1;
    f.reviewer.agency = TACNET__AGENCY__PARTNERSHIP;
    cr_assert_eq(challenge_check(RESPONSE, &f.body, why, sizeof(why)), TACNET_EFIELD);
    cr_assert_not_null(strstr(why, "reviewer needs agency and initials"), "%s", why);
    f.reviewer.has_initials = 1;
    f.reviewer.initials.data = (uint8_t *)"JT";
    f.reviewer.initials.len = 2;
    f.reviewer.has_role = 1;
    f.reviewer.role = TACNET__ROLE__DSL;
    cr_assert_eq(challenge_check(RESPONSE, &f.body, why, sizeof(why)), TACNET_EFIELD);
    cr_assert_not_null(strstr(why, "reviewer.role"), "%s", why);
    f.reviewer.role = TACNET__ROLE__PARTNERSHIP_LEAD;
    cr_assert_eq(challenge_check(RESPONSE, &f.body, why, sizeof(why)), 0, "%s", why);
}

Test(challenge, checked_when_published)
{
    fixture_t f;
    s_init(&f);
    f.request.has_reviewer_role = 0;
    Tacnet__PublishRequest req;
    tacnet__publish_request__init(&req);
    req.kind = RESPONSE;
    req.body = &f.body;
    uint8_t disagreement[16] = { 7 };
    req.has_refers_to = 1;
    req.refers_to.data = disagreement;
    req.refers_to.len = sizeof(disagreement);
    f.response.has_position = 1;
    f.response.position = TACNET__STAGE_POSITION__UPHOLD;
    char why[256] = "";
    cr_assert_eq(workflow_check(&req, why, sizeof(why)), TACNET_EFIELD);
    cr_assert_not_null(strstr(why, "reviewer_role"), "%s", why);
    f.request.has_reviewer_role = 1;
    cr_assert_eq(workflow_check(&req, why, sizeof(why)), 0, "%s", why);
}

Test(challenge, words)
{
    cr_assert_str_eq(challenge_words(TACNET__ROLE__PARTNERSHIP_LEAD),
                     "a review by the safeguarding partnership");
    cr_assert_null(challenge_words(TACNET__ROLE__LEAD_PROFESSIONAL));
}
