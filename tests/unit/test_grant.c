/* History on joining, the pure parts: a body key granted to a late member (seal.h), the signed
 * grant (grant.h), and who may be granted what (route_grant_check). */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "err.h"
#include "grant.h"
#include "policyfile.h"
#include "agencies.h"
#include "agencyconf.h"
#include "roster.h"
#include "route.h"
#include "seal.h"

#define CAMHS  TACNET__AGENCY__CAMHS
#define SCHOOL TACNET__AGENCY__SCHOOL
#define HV     TACNET__AGENCY__HEALTH_VISITING
#define SC     TACNET__AGENCY__SOCIAL_CARE
#define BIT(a) (1u << (a))

static roster_t *roster;
static seal_keys_t *keys[5];
static seal_ctx_t *ctx[5];

/* deploy/sharing.conf in a signed roster, and a key set per agency. */
static void s_up(void)
{
    cr_assert_eq(seal_init(), 0);
    Tacnet__Roster r = TACNET__ROSTER__INIT;
    char why[256], sharing[512], escalation[512];
    const char *src = getenv("TACNET_SRC") ? getenv("TACNET_SRC") : ".";
    snprintf(sharing, sizeof(sharing), "%s/deploy/sharing.conf", src);
    snprintf(escalation, sizeof(escalation), "%s/deploy/escalation.conf", src);
    char agencies_path[512];
    snprintf(agencies_path, sizeof(agencies_path), "%s/deploy/agencies.conf", src);
    /* The deploy policy names family_support: the partnership's agencies come first. */
    cr_assert_eq(agencyconf_load(agencies_path, &r, why, sizeof(why)), 0, "%s", why);
    agencies_register(r.agencies, r.n_agencies);
    cr_assert_eq(policyfile_load(sharing, escalation, &r, why, sizeof(why)), 0, "%s", why);
    r.version = 1;
    seal_keys_t *root = seal_root_generate();
    uint8_t *signed_roster = NULL;
    size_t len = 0;
    cr_assert_eq(roster_sign(&r, root, &signed_roster, &len), 0);
    int err = 0;
    roster = roster_parse(signed_roster, len, root->sign_pk, &err);
    cr_assert_not_null(roster, "roster_parse: %s", tacnet_errname(err));
    free(signed_roster);
    seal_keys_destroy(&root);
    policyfile_free(&r);
    agencyconf_free(&r);
    for (uint32_t a = 1; a <= 4; a++) {
        keys[a] = seal_keys_generate(a, 1);
        ctx[a] = seal_ctx_new(keys[a]);
        cr_assert_not_null(ctx[a]);
    }
}

static void s_down(void)
{
    for (uint32_t a = 1; a <= 4; a++) {
        seal_ctx_destroy(&ctx[a]);
        seal_keys_destroy(&keys[a]);
    }
    roster_destroy(&roster);
}

TestSuite(grant, .init = s_up, .fini = s_down);

static seal_recipient_t s_rcpt(uint32_t a)
{
    seal_recipient_t r = { .agency = a, .key_id = 1 };
    memcpy(r.seal_pk, keys[a]->seal_pk, SEAL_KEY_BYTES);
    return r;
}

static const uint8_t s_header[] = "a clear header";

/* CAMHS seals BODY for itself and social care. */
static void s_seal(const char *body, uint8_t **sealed, size_t *slen, uint8_t sig[64])
{
    seal_recipient_t r[] = { s_rcpt(CAMHS), s_rcpt(SC) };
    cr_assert_eq(seal_event(ctx[CAMHS], s_header, sizeof(s_header), (const uint8_t *)body,
                            strlen(body), r, 2, sealed, slen, sig),
                 0);
}

Test(grant, opening_with_the_key_kept_gives_the_key_seal_content_key_gives)
{
    uint8_t *sealed = NULL, sig[64], k[32], kept[32];
    size_t slen = 0;
    s_seal("Missed two appointments.", &sealed, &slen, sig);
    cr_assert_eq(seal_content_key(ctx[SC], keys[CAMHS]->seal_pk, sealed, slen, k), 0);
    uint8_t *body = NULL;
    size_t blen = 0;
    memset(kept, 0, sizeof(kept));
    cr_assert_eq(seal_open_keep(ctx[SC], keys[CAMHS]->seal_pk, s_header, sizeof(s_header), sealed,
                                slen, &body, &blen, kept),
                 0);
    cr_assert_eq(blen, strlen("Missed two appointments."));
    cr_assert_eq(memcmp(body, "Missed two appointments.", blen), 0);
    cr_assert_eq(memcmp(k, kept, 32), 0);
    free(body);
    /* Nothing is kept from a body that does not open (bound to another header). */
    memset(kept, 0, sizeof(kept));
    body = NULL;
    cr_assert_eq(seal_open_keep(ctx[SC], keys[CAMHS]->seal_pk, (const uint8_t *)"another", 7,
                                sealed, slen, &body, &blen, kept),
                 TACNET_EOPEN);
    cr_assert_null(body);
    uint8_t zero[32] = { 0 };
    cr_assert_eq(memcmp(kept, zero, 32), 0);
    sodium_memzero(k, sizeof(k));
    free(sealed);
}

Test(grant, a_granted_key_opens_the_original_body_and_only_for_the_grantee)
{
    uint8_t *sealed = NULL, sig[64], k[32], k2[32], nonce[24], wrap[48];
    size_t slen = 0;
    s_seal("Missed two appointments.", &sealed, &slen, sig);
    /* Social care, a recipient, keeps the key and grants it to the school. */
    cr_assert_eq(seal_content_key(ctx[SC], keys[CAMHS]->seal_pk, sealed, slen, k), 0);
    cr_assert_eq(seal_grant_wrap(ctx[SC], k, keys[SCHOOL]->seal_pk, nonce, wrap), 0);
    uint8_t *body = NULL;
    size_t blen = 0;
    cr_assert_eq(seal_open_granted(ctx[SCHOOL], keys[SC]->seal_pk, nonce, wrap, s_header,
                                   sizeof(s_header), sealed, slen, &body, &blen, k2),
                 0);
    cr_assert_eq(blen, strlen("Missed two appointments."));
    cr_assert_eq(memcmp(body, "Missed two appointments.", blen), 0);
    cr_assert_eq(memcmp(k, k2, 32), 0, "the grantee learns the key to grant it in turn");
    free(body);
    /* The original signature still verifies: the sealed body was not touched. */
    cr_assert_eq(seal_verify(keys[CAMHS]->sign_pk, s_header, sizeof(s_header), sealed, slen, sig),
                 0);
    /* Health visiting cannot open the school's grant, nor the school one from another granter,
     * nor a body bound to another header. */
    cr_assert_eq(seal_open_granted(ctx[HV], keys[SC]->seal_pk, nonce, wrap, s_header,
                                   sizeof(s_header), sealed, slen, &body, &blen, NULL),
                 TACNET_EOPEN);
    cr_assert_eq(seal_open_granted(ctx[SCHOOL], keys[CAMHS]->seal_pk, nonce, wrap, s_header,
                                   sizeof(s_header), sealed, slen, &body, &blen, NULL),
                 TACNET_EOPEN);
    cr_assert_eq(seal_open_granted(ctx[SCHOOL], keys[SC]->seal_pk, nonce, wrap,
                                   (const uint8_t *)"another", 7, sealed, slen, &body, &blen, NULL),
                 TACNET_EOPEN);
    /* The school holds no wrapped entry of its own. */
    cr_assert_eq(seal_content_key(ctx[SCHOOL], keys[CAMHS]->seal_pk, sealed, slen, k2),
                 TACNET_ENOTFOUND);
    sodium_memzero(k, sizeof(k));
    free(sealed);
}

Test(grant, a_removed_body_s_digest_still_verifies_its_signature)
{
    uint8_t *sealed = NULL, sig[64], digest[SEAL_DIGEST_LEN];
    size_t slen = 0;
    s_seal("Late on three Mondays.", &sealed, &slen, sig);
    seal_digest(sealed, slen, digest);
    cr_assert_eq(seal_verify_digest(keys[CAMHS]->sign_pk, s_header, sizeof(s_header), digest, sig),
                 0);
    digest[0] ^= 1;
    cr_assert_eq(seal_verify_digest(keys[CAMHS]->sign_pk, s_header, sizeof(s_header), digest, sig),
                 TACNET_ESIGNATURE);
    free(sealed);
}

static void s_grant(Tacnet__Grant *g, uint8_t *id, uint8_t *nonce, uint8_t *wrap, uint8_t *sig)
{
    tacnet__grant__init(g);
    g->msg_id = (ProtobufCBinaryData){ 16, id };
    g->grantee = SCHOOL;
    g->grantee_key_id = 1;
    g->granter = CAMHS;
    g->granter_key_id = 1;
    g->has_wrap_nonce = g->has_wrap = 1;
    g->wrap_nonce = (ProtobufCBinaryData){ 24, nonce };
    g->wrap = (ProtobufCBinaryData){ 48, wrap };
    g->sig = (ProtobufCBinaryData){ 64, sig };
}

Test(grant, a_grant_is_bound_to_its_event_body_grantee_and_key)
{
    uint8_t id[16] = { 7 }, nonce[24] = { 1 }, wrap[48] = { 2 }, sig[64], digest[32] = { 3 };
    Tacnet__Grant g;
    s_grant(&g, id, nonce, wrap, sig);
    cr_assert_eq(grant_sign(ctx[CAMHS], &g, digest), 0);
    cr_assert_eq(grant_verify(keys[CAMHS]->sign_pk, &g, digest), 0);
    cr_assert_eq(grant_verify(keys[SC]->sign_pk, &g, digest), TACNET_ESIGNATURE, "another signer");
    digest[5] ^= 1;
    cr_assert_eq(grant_verify(keys[CAMHS]->sign_pk, &g, digest), TACNET_ESIGNATURE, "body");
    digest[5] ^= 1;
    g.grantee = HV;
    cr_assert_eq(grant_verify(keys[CAMHS]->sign_pk, &g, digest), TACNET_ESIGNATURE, "grantee");
    g.grantee = SCHOOL;
    wrap[10] ^= 1;
    cr_assert_eq(grant_verify(keys[CAMHS]->sign_pk, &g, digest), TACNET_ESIGNATURE, "wrap");
    wrap[10] ^= 1;
    id[3] ^= 1;
    cr_assert_eq(grant_verify(keys[CAMHS]->sign_pk, &g, digest), TACNET_ESIGNATURE, "event");
    id[3] ^= 1;
    /* Shapes: a done grant carries no key; a key grant carries a whole one; no self-grant. */
    g.has_done = g.done = 1;
    cr_assert_eq(grant_check_shape(&g), TACNET_EBADMSG);
    g.has_wrap = g.has_wrap_nonce = 0;
    cr_assert_eq(grant_check_shape(&g), 0);
    g.has_done = g.done = 0;
    cr_assert_eq(grant_check_shape(&g), TACNET_EBADMSG);
    s_grant(&g, id, nonce, wrap, sig);
    g.wrap.len = 47;
    cr_assert_eq(grant_check_shape(&g), TACNET_EBADMSG);
    g.wrap.len = 48;
    g.granter = SCHOOL;
    cr_assert_eq(grant_check_shape(&g), TACNET_EBADMSG);
}

static Tacnet__Agency s_recipients[8];

static void s_header_init(Tacnet__Header *h, Tacnet__Agency sender, Tacnet__Sensitivity s,
                          Tacnet__LawfulBasis basis, uint32_t rcpt_mask)
{
    tacnet__header__init(h);
    h->sender = sender;
    h->kind = TACNET__EVENT_KIND__CONCERN;
    h->sensitivity = s;
    h->lawful_basis = basis;
    h->recipients = s_recipients;
    h->n_recipients = 0;
    for (unsigned a = 1; a < 8; a++)
        if (rcpt_mask & BIT(a))
            s_recipients[h->n_recipients++] = (Tacnet__Agency)a;
}

Test(grant, the_sharing_policy_decides_a_grant_as_it_decides_a_publish)
{
    route_case_t c;
    memset(&c, 0, sizeof(c));
    c.members = BIT(CAMHS) | BIT(SCHOOL) | BIT(SC);
    c.lead = CAMHS;
    c.consent = TACNET__CONSENT_STATE__GIVEN;
    /* The consent in force covers every class with every agency (as a consent with no scope). */
    for (unsigned a = 1; a < ROUTE_COVER_AGENCIES; a++)
        c.cover[a] = ROUTE_CLASSES_ALL;
    Tacnet__Header h;
    s_header_init(&h, CAMHS, TACNET__SENSITIVITY__ROUTINE, TACNET__LAWFUL_BASIS__CONSENT,
                  BIT(CAMHS) | BIT(SC));
    cr_assert_eq(route_grant_check(&c, &h, SCHOOL, roster), 0);
    cr_assert_eq(route_grant_check(&c, &h, SC, roster), TACNET_EEXISTS, "already a recipient");
    cr_assert_eq(route_grant_check(&c, &h, HV, roster), TACNET_ENOTMEMBER);
    /* The school never sees HEALTH, consent or not; with the consent withdrawn it sees nothing
     * routine either, unless a legal duty was the basis. */
    s_header_init(&h, CAMHS, TACNET__SENSITIVITY__HEALTH, TACNET__LAWFUL_BASIS__CONSENT,
                  BIT(CAMHS) | BIT(SC));
    cr_assert_eq(route_grant_check(&c, &h, SCHOOL, roster), TACNET_ECONSENT);
    c.consent = TACNET__CONSENT_STATE__WITHDRAWN;
    memset(c.cover, 0, sizeof(c.cover)); /* a withdrawal narrows the consent in force to nothing */
    s_header_init(&h, CAMHS, TACNET__SENSITIVITY__ROUTINE, TACNET__LAWFUL_BASIS__CONSENT,
                  BIT(CAMHS) | BIT(SC));
    cr_assert_eq(route_grant_check(&c, &h, SCHOOL, roster), TACNET_ECONSENT);
    h.lawful_basis = TACNET__LAWFUL_BASIS__LEGAL_DUTY;
    cr_assert_eq(route_grant_check(&c, &h, SCHOOL, roster), 0);
    /* A safeguarding override reached every member of the day, and reaches a late one. */
    s_header_init(&h, SC, TACNET__SENSITIVITY__HEALTH, TACNET__LAWFUL_BASIS__SAFEGUARDING_OVERRIDE,
                  BIT(CAMHS) | BIT(SC));
    cr_assert_eq(route_grant_check(&c, &h, SCHOOL, roster), 0);
    /* Broker notices are never granted. */
    h.kind = TACNET__EVENT_KIND__ESCALATION_NOTICE;
    cr_assert_eq(route_grant_check(&c, &h, SCHOOL, roster), TACNET_EKIND);
}
