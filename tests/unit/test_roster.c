/* roster: signature, validity windows, revocation, rotation and sharing rules. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "roster.h"
#include "wire.h"

/* Synthetic keys: public halves only, except the root which really signs. */
enum { K_CAMHS_1, K_CAMHS_2, K_SCHOOL_1, K_SCHOOL_2, K_HV_1, N_KEYS };

typedef struct {
    seal_keys_t root;
    uint8_t curve[N_KEYS][SEAL_KEY_BYTES];
    uint8_t sign[N_KEYS][SEAL_KEY_BYTES];
    uint8_t seal[N_KEYS][SEAL_KEY_BYTES];
    Tacnet__NodeKey keys[N_KEYS];
    Tacnet__NodeKey *key_ptrs[N_KEYS];
    Tacnet__SharingRule rules[3];
    Tacnet__SharingRule *rule_ptrs[3];
    Tacnet__Sensitivity lists[6][3];
    Tacnet__SharingPolicy sharing;
    Tacnet__Roster roster;
} fixture_t;

static fixture_t F;

static void s_root_keys(seal_keys_t *root)
{
    memset(root, 0, sizeof *root);
    root->sign_sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    cr_assert_not_null(root->sign_sk);
    crypto_sign_keypair(root->sign_pk, root->sign_sk);
}

static void s_root_free(seal_keys_t *root)
{
    sodium_free(root->sign_sk); /* wipes before freeing */
    root->sign_sk = NULL;
}

static void s_key(size_t i, Tacnet__Agency agency, uint32_t key_id, uint64_t from, uint64_t until,
                  int revoked)
{
    Tacnet__NodeKey *k = &F.keys[i];
    tacnet__node_key__init(k);
    randombytes_buf(F.curve[i], SEAL_KEY_BYTES);
    randombytes_buf(F.sign[i], SEAL_KEY_BYTES);
    randombytes_buf(F.seal[i], SEAL_KEY_BYTES);
    k->agency = agency;
    k->key_id = key_id;
    k->curve_pk = (ProtobufCBinaryData){ SEAL_KEY_BYTES, F.curve[i] };
    k->sign_pk = (ProtobufCBinaryData){ SEAL_KEY_BYTES, F.sign[i] };
    k->seal_pk = (ProtobufCBinaryData){ SEAL_KEY_BYTES, F.seal[i] };
    k->valid_from_ms = from;
    k->valid_until_ms = until;
    k->has_revoked = revoked;
    k->revoked = revoked;
    F.key_ptrs[i] = k;
}

static void s_rule(size_t i, Tacnet__Agency agency, size_t n_with, size_t n_without)
{
    Tacnet__SharingRule *r = &F.rules[i];
    tacnet__sharing_rule__init(r);
    r->agency = agency;
    r->with_consent = F.lists[2 * i];
    r->n_with_consent = n_with;
    r->without_consent = F.lists[2 * i + 1];
    r->n_without_consent = n_without;
    F.rule_ptrs[i] = r;
}

static void setup(void)
{
    cr_assert_geq(sodium_init(), 0);
    memset(&F, 0, sizeof F);
    s_root_keys(&F.root);
    /* CAMHS rotates: key 1 until 10000, key 2 from 5000. */
    s_key(K_CAMHS_1, TACNET__AGENCY__CAMHS, 1, 1000, 10000, 0);
    s_key(K_CAMHS_2, TACNET__AGENCY__CAMHS, 2, 5000, 20000, 0);
    s_key(K_SCHOOL_1, TACNET__AGENCY__SCHOOL, 1, 1000, 20000, 1);
    s_key(K_SCHOOL_2, TACNET__AGENCY__SCHOOL, 2, 1000, 20000, 0);
    s_key(K_HV_1, TACNET__AGENCY__HEALTH_VISITING, 1, 50000, 60000, 0);

    /* CAMHS: routine and health always, safeguarding with consent. School: routine always,
     * health with consent, never safeguarding. Social care: everything. HV: no rule. */
    F.lists[0][0] = TACNET__SENSITIVITY__SAFEGUARDING;
    F.lists[1][0] = TACNET__SENSITIVITY__ROUTINE;
    F.lists[1][1] = TACNET__SENSITIVITY__HEALTH;
    s_rule(0, TACNET__AGENCY__CAMHS, 1, 2);
    F.lists[2][0] = TACNET__SENSITIVITY__HEALTH;
    F.lists[3][0] = TACNET__SENSITIVITY__ROUTINE;
    s_rule(1, TACNET__AGENCY__SCHOOL, 1, 1);
    F.lists[5][0] = TACNET__SENSITIVITY__ROUTINE;
    F.lists[5][1] = TACNET__SENSITIVITY__HEALTH;
    F.lists[5][2] = TACNET__SENSITIVITY__SAFEGUARDING;
    s_rule(2, TACNET__AGENCY__SOCIAL_CARE, 0, 3);

    tacnet__sharing_policy__init(&F.sharing);
    F.sharing.rules = F.rule_ptrs;
    F.sharing.n_rules = 3;
    tacnet__roster__init(&F.roster);
    F.roster.version = 7;
    F.roster.issued_at_ms = 900;
    F.roster.keys = F.key_ptrs;
    F.roster.n_keys = N_KEYS;
    F.roster.sharing = &F.sharing;
}

static void teardown(void)
{
    s_root_free(&F.root);
}

TestSuite(roster, .init = setup, .fini = teardown);

static uint8_t *s_signed(size_t *len)
{
    uint8_t *out = NULL;
    cr_assert_eq(roster_sign(&F.roster, &F.root, &out, len), 0);
    return out;
}

static roster_t *s_parsed(void)
{
    size_t len = 0;
    int err = 0;
    uint8_t *data = s_signed(&len);
    roster_t *r = roster_parse(data, len, F.root.sign_pk, &err);
    free(data);
    cr_assert_not_null(r, "roster refused: %s", tacnet_errname(err));
    return r;
}

static void s_expect_refused(const uint8_t *data, size_t len, const uint8_t *pk, int expect,
                             const char *what)
{
    int err = 0;
    roster_t *r = roster_parse(data, len, pk, &err);
    cr_expect_null(r, "%s was accepted", what);
    cr_expect_eq(err, expect, "%s: got %s", what, tacnet_errname(err));
    roster_destroy(&r);
}

Test(roster, roster_signed_by_root_verifies)
{
    roster_t *r = s_parsed();
    cr_assert_eq(roster_version(r), 7);
    cr_assert_eq(roster_msg(r)->n_keys, N_KEYS);
    cr_assert_eq(roster_msg(r)->keys[K_SCHOOL_2]->key_id, 2);
    roster_destroy(&r);
    cr_assert_null(r);
    roster_destroy(&r);
}

Test(roster, every_flipped_bit_is_rejected)
{
    size_t len = 0;
    uint8_t *data = s_signed(&len);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            char what[64];
            data[i] ^= (uint8_t)(1u << bit);
            snprintf(what, sizeof what, "bit %d of byte %zu flipped", bit, i);
            s_expect_refused(data, len, F.root.sign_pk, TACNET_EROSTER, what);
            data[i] ^= (uint8_t)(1u << bit);
        }
    }
    free(data);
}

Test(roster, tampered_signature_is_rejected)
{
    size_t len = 0;
    uint8_t *data = s_signed(&len);
    data[len - 1] ^= 0x01; /* the signature is the last field */
    s_expect_refused(data, len, F.root.sign_pk, TACNET_EROSTER, "tampered signature");
    free(data);
}

Test(roster, roster_signed_by_another_root_is_rejected)
{
    size_t len = 0;
    uint8_t *data = s_signed(&len);
    seal_keys_t other;
    s_root_keys(&other);
    s_expect_refused(data, len, other.sign_pk, TACNET_EROSTER, "other root");
    s_root_free(&other);
    free(data);
}

Test(roster, unsigned_or_garbage_roster_is_rejected)
{
    size_t len = 0;
    uint8_t *plain = wire_pack(&F.roster.base, &len);
    s_expect_refused(plain, len, F.root.sign_pk, TACNET_EROSTER, "unsigned roster");
    free(plain);

    uint8_t garbage[300];
    randombytes_buf(garbage, sizeof garbage);
    s_expect_refused(garbage, sizeof garbage, F.root.sign_pk, TACNET_EROSTER, "random bytes");
    s_expect_refused(garbage, 0, F.root.sign_pk, TACNET_EROSTER, "empty input");

    /* well-formed wrapper, but no signature / a signature one byte short */
    uint8_t *inner = wire_pack(&F.roster.base, &len);
    uint8_t sig[crypto_sign_BYTES] = { 0 };
    Tacnet__SignedRoster sr = TACNET__SIGNED_ROSTER__INIT;
    sr.roster = (ProtobufCBinaryData){ len, inner };
    sr.signature = (ProtobufCBinaryData){ 0, sig };
    size_t outlen = 0;
    uint8_t *out = wire_pack(&sr.base, &outlen);
    s_expect_refused(out, outlen, F.root.sign_pk, TACNET_EROSTER, "empty signature");
    free(out);
    sr.signature.len = crypto_sign_BYTES - 1;
    out = wire_pack(&sr.base, &outlen);
    s_expect_refused(out, outlen, F.root.sign_pk, TACNET_EROSTER, "short signature");
    free(out);
    free(inner);
}

Test(roster, ambiguous_roster_is_refused_even_when_signed)
{
    size_t len = 0;
    uint8_t *data;

    F.keys[K_CAMHS_2].key_id = 1;
    data = s_signed(&len);
    s_expect_refused(data, len, F.root.sign_pk, TACNET_EBADMSG, "key id listed twice");
    free(data);
    F.keys[K_CAMHS_2].key_id = 2;

    memcpy(F.curve[K_SCHOOL_2], F.curve[K_CAMHS_1], SEAL_KEY_BYTES);
    data = s_signed(&len);
    s_expect_refused(data, len, F.root.sign_pk, TACNET_EBADMSG, "curve key of two agencies");
    free(data);
    randombytes_buf(F.curve[K_SCHOOL_2], SEAL_KEY_BYTES);

    F.keys[K_HV_1].sign_pk.len = SEAL_KEY_BYTES - 1;
    data = s_signed(&len);
    s_expect_refused(data, len, F.root.sign_pk, TACNET_EBADMSG, "31-byte signing key");
    free(data);
    F.keys[K_HV_1].sign_pk.len = SEAL_KEY_BYTES;

    F.rules[1].agency = TACNET__AGENCY__CAMHS;
    data = s_signed(&len);
    s_expect_refused(data, len, F.root.sign_pk, TACNET_EBADMSG, "two rules for CAMHS");
    free(data);
    F.rules[1].agency = TACNET__AGENCY__SCHOOL;

    F.lists[1][0] = 9;
    data = s_signed(&len);
    s_expect_refused(data, len, F.root.sign_pk, TACNET_EBADMSG, "unknown sensitivity");
    free(data);
}

Test(roster, key_is_found_only_within_its_validity)
{
    roster_t *r = s_parsed();
    int err = 0;
    const Tacnet__NodeKey *k = roster_key_find(r, TACNET__AGENCY__CAMHS, 1, 3000, &err);
    cr_assert_not_null(k);
    cr_assert_eq(memcmp(k->sign_pk.data, F.sign[K_CAMHS_1], SEAL_KEY_BYTES), 0);
    cr_assert_not_null(roster_key_find(r, TACNET__AGENCY__CAMHS, 1, 1000, &err), "from is in");
    cr_assert_not_null(roster_key_find(r, TACNET__AGENCY__CAMHS, 1, 9999, &err));

    err = 0;
    cr_assert_null(roster_key_find(r, TACNET__AGENCY__CAMHS, 1, 10000, &err), "until is out");
    cr_assert_eq(err, TACNET_EKEYID);
    err = 0;
    cr_assert_null(roster_key_find(r, TACNET__AGENCY__CAMHS, 1, 999, &err), "not yet valid");
    cr_assert_eq(err, TACNET_EKEYID);
    err = 0;
    cr_assert_null(roster_key_find(r, TACNET__AGENCY__HEALTH_VISITING, 1, 3000, &err));
    cr_assert_eq(err, TACNET_EKEYID);
    err = 0;
    cr_assert_null(roster_key_find(r, TACNET__AGENCY__CAMHS, 3, 6000, &err), "unknown id");
    cr_assert_eq(err, TACNET_EKEYID);
    err = 0;
    cr_assert_null(roster_key_find(r, TACNET__AGENCY__SOCIAL_CARE, 1, 6000, &err));
    cr_assert_eq(err, TACNET_EKEYID);
    roster_destroy(&r);
}

Test(roster, revoked_key_is_not_found)
{
    roster_t *r = s_parsed();
    int err = 0;
    cr_assert_null(roster_key_find(r, TACNET__AGENCY__SCHOOL, 1, 3000, &err));
    cr_assert_eq(err, TACNET_EKEYID);
    cr_assert_not_null(roster_key_find(r, TACNET__AGENCY__SCHOOL, 2, 3000, &err));
    const Tacnet__NodeKey *cur = roster_key_current(r, TACNET__AGENCY__SCHOOL, 3000);
    cr_assert_not_null(cur);
    cr_assert_eq(cur->key_id, 2);
    roster_destroy(&r);
}

Test(roster, revocation_with_a_time_counts_from_that_time)
{
    /* School key 1 revoked at 4000: events made before still verify, from 4000 on none. */
    F.keys[K_SCHOOL_1].has_revoked_at_ms = 1;
    F.keys[K_SCHOOL_1].revoked_at_ms = 4000;
    roster_t *r = s_parsed();
    int err = 0;
    cr_assert_not_null(roster_key_find(r, TACNET__AGENCY__SCHOOL, 1, 3999, &err));
    cr_assert_null(roster_key_find(r, TACNET__AGENCY__SCHOOL, 1, 4000, &err));
    cr_assert_eq(err, TACNET_EKEYID);
    cr_assert_null(roster_key_find(r, TACNET__AGENCY__SCHOOL, 1, 15000, &err));
    uint8_t curve[SEAL_KEY_BYTES];
    memcpy(curve, F.curve[K_SCHOOL_1], SEAL_KEY_BYTES);
    cr_assert_eq(roster_agency_by_curve(r, curve, 3999), TACNET__AGENCY__SCHOOL);
    cr_assert_eq(roster_agency_by_curve(r, curve, 4000), 0);
    roster_destroy(&r);
}

Test(roster, rotation_overlap_keeps_both_and_current_is_the_newer)
{
    roster_t *r = s_parsed();
    int err = 0;
    cr_assert_eq(roster_key_current(r, TACNET__AGENCY__CAMHS, 3000)->key_id, 1);
    cr_assert_not_null(roster_key_find(r, TACNET__AGENCY__CAMHS, 1, 6000, &err));
    cr_assert_not_null(roster_key_find(r, TACNET__AGENCY__CAMHS, 2, 6000, &err));
    cr_assert_eq(roster_key_current(r, TACNET__AGENCY__CAMHS, 6000)->key_id, 2);
    cr_assert_eq(roster_key_current(r, TACNET__AGENCY__CAMHS, 15000)->key_id, 2);
    cr_assert_null(roster_key_current(r, TACNET__AGENCY__CAMHS, 20000));
    cr_assert_null(roster_key_current(r, TACNET__AGENCY__HEALTH_VISITING, 3000));
    roster_destroy(&r);
}

Test(roster, curve_lookup_ignores_revoked_and_invalid_keys)
{
    roster_t *r = s_parsed();
    uint8_t stranger[SEAL_KEY_BYTES];
    randombytes_buf(stranger, sizeof stranger);
    cr_assert_eq(roster_agency_by_curve(r, F.curve[K_CAMHS_1], 3000), TACNET__AGENCY__CAMHS);
    cr_assert_eq(roster_agency_by_curve(r, F.curve[K_CAMHS_1], 12000), 0, "expired");
    cr_assert_eq(roster_agency_by_curve(r, F.curve[K_CAMHS_2], 12000), TACNET__AGENCY__CAMHS);
    cr_assert_eq(roster_agency_by_curve(r, F.curve[K_SCHOOL_1], 3000), 0, "revoked");
    cr_assert_eq(roster_agency_by_curve(r, F.curve[K_SCHOOL_2], 3000), TACNET__AGENCY__SCHOOL);
    cr_assert_eq(roster_agency_by_curve(r, F.curve[K_HV_1], 3000), 0, "not yet valid");
    cr_assert_eq(roster_agency_by_curve(r, F.curve[K_HV_1], 55000),
                 TACNET__AGENCY__HEALTH_VISITING);
    cr_assert_eq(roster_agency_by_curve(r, stranger, 3000), 0);
    roster_destroy(&r);
}

Test(roster, sharing_rules_with_and_without_consent)
{
    roster_t *r = s_parsed();
    const uint32_t camhs = TACNET__AGENCY__CAMHS, school = TACNET__AGENCY__SCHOOL;
    const uint32_t routine = TACNET__SENSITIVITY__ROUTINE, health = TACNET__SENSITIVITY__HEALTH,
                   safeguarding = TACNET__SENSITIVITY__SAFEGUARDING;
    cr_assert_eq(roster_may_see(r, camhs, routine, 0), 1);
    cr_assert_eq(roster_may_see(r, camhs, health, 0), 1);
    cr_assert_eq(roster_may_see(r, camhs, safeguarding, 0), 0);
    cr_assert_eq(roster_may_see(r, camhs, safeguarding, 1), 1);
    cr_assert_eq(roster_may_see(r, camhs, health, 1), 1, "consent only widens");
    cr_assert_eq(roster_may_see(r, school, health, 0), 0);
    cr_assert_eq(roster_may_see(r, school, health, 1), 1);
    cr_assert_eq(roster_may_see(r, school, safeguarding, 1), 0);
    cr_assert_eq(roster_may_see(r, TACNET__AGENCY__SOCIAL_CARE, safeguarding, 0), 1);
    cr_assert_eq(roster_may_see(r, TACNET__AGENCY__HEALTH_VISITING, routine, 1), 0, "no rule");
    cr_assert_eq(roster_may_see(r, camhs, TACNET__SENSITIVITY__SENSITIVITY_UNKNOWN, 1), 0);
    roster_destroy(&r);
}

Test(roster, roster_without_sharing_policy_shares_nothing)
{
    F.roster.sharing = NULL;
    roster_t *r = s_parsed();
    cr_assert_eq(roster_may_see(r, TACNET__AGENCY__CAMHS, TACNET__SENSITIVITY__ROUTINE, 1), 0);
    roster_destroy(&r);
}

Test(roster, signing_needs_a_secret_key)
{
    seal_keys_t empty = { 0 };
    uint8_t *out = NULL;
    size_t len = 0;
    cr_assert_eq(roster_sign(&F.roster, &empty, &out, &len), TACNET_EINVAL);
    cr_assert_null(out);
}

/* ---------------------------------------------------------------------------------------------
 * Files
 */
static char s_dir[64];

static char *s_path(const char *name)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    return path;
}

static void s_write(const char *name, const void *data, size_t len)
{
    FILE *f = fopen(s_path(name), "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

static void s_tmpdir(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/tacnet-roster-XXXXXX");
    cr_assert_not_null(mkdtemp(s_dir));
}

static void s_rmdir(void)
{
    static const char *const names[] = { "roster.bin", "garbage.bin", "root.pub", "nl.pub",
                                         "short.pub",  "bad.pub",     "long.pub" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlink(s_path(names[i]));
    cr_assert_eq(rmdir(s_dir), 0, "temp dir left with unexpected files");
}

Test(roster, roster_file_loads_and_missing_or_garbage_files_do_not)
{
    size_t len = 0;
    int err = 0;
    s_tmpdir();
    uint8_t *data = s_signed(&len);
    s_write("roster.bin", data, len);
    free(data);
    roster_t *r = roster_load(s_path("roster.bin"), F.root.sign_pk, &err);
    cr_assert_not_null(r, "%s", tacnet_errname(err));
    cr_assert_eq(roster_version(r), 7);
    roster_destroy(&r);

    s_write("garbage.bin", "not a roster\n", 13);
    cr_assert_null(roster_load(s_path("garbage.bin"), F.root.sign_pk, &err));
    cr_assert_eq(err, TACNET_EROSTER);
    cr_assert_null(roster_load(s_path("absent.bin"), F.root.sign_pk, &err));
    cr_assert_eq(err, TACNET_ENOTFOUND);
    s_rmdir();
}

Test(roster, root_key_file_is_64_hex_chars)
{
    char hex[2 * SEAL_KEY_BYTES + 2];
    uint8_t pk[SEAL_KEY_BYTES];
    s_tmpdir();
    sodium_bin2hex(hex, sizeof hex, F.root.sign_pk, SEAL_KEY_BYTES);
    s_write("root.pub", hex, 64);
    cr_assert_eq(roster_root_load(s_path("root.pub"), pk), 0);
    cr_assert_eq(memcmp(pk, F.root.sign_pk, SEAL_KEY_BYTES), 0);

    hex[64] = '\n';
    s_write("nl.pub", hex, 65);
    memset(pk, 0, sizeof pk);
    cr_assert_eq(roster_root_load(s_path("nl.pub"), pk), 0);
    cr_assert_eq(memcmp(pk, F.root.sign_pk, SEAL_KEY_BYTES), 0);

    s_write("short.pub", hex, 63);
    cr_assert_eq(roster_root_load(s_path("short.pub"), pk), TACNET_ECONFIG);
    hex[64] = 'a';
    hex[65] = '\n';
    s_write("long.pub", hex, 66);
    cr_assert_eq(roster_root_load(s_path("long.pub"), pk), TACNET_ECONFIG);
    hex[10] = 'g';
    s_write("bad.pub", hex, 64);
    cr_assert_eq(roster_root_load(s_path("bad.pub"), pk), TACNET_ECONFIG);
    cr_assert_eq(roster_root_load(s_path("absent.pub"), pk), TACNET_ENOTFOUND);

    /* the key read from the file verifies the roster it signed */
    sodium_bin2hex(hex, sizeof hex, F.root.sign_pk, SEAL_KEY_BYTES);
    s_write("root.pub", hex, 64);
    cr_assert_eq(roster_root_load(s_path("root.pub"), pk), 0);
    size_t len = 0;
    int err = 0;
    uint8_t *data = s_signed(&len);
    roster_t *r = roster_parse(data, len, pk, &err);
    cr_assert_not_null(r);
    roster_destroy(&r);
    free(data);
    s_rmdir();
}

Test(roster, case_reference_prefixes_come_from_the_area_codes)
{
    roster_t *r = s_parsed();
    /* No area codes: a roster from before them refuses no prefix. */
    cr_assert_eq(roster_case_prefix_check(r, (const uint8_t *)"SW1A-2026-000123", 16), 0);
    roster_destroy(&r);
    char *codes[] = { "LA7", "LA9" };
    F.roster.area_codes = codes;
    F.roster.n_area_codes = 2;
    r = s_parsed();
    cr_assert_eq(roster_case_prefix_check(r, (const uint8_t *)"LA7-2026-000123", 15), 0);
    cr_assert_eq(roster_case_prefix_check(r, (const uint8_t *)"LA9-2026-000001", 15), 0);
    cr_assert_eq(roster_case_prefix_check(r, (const uint8_t *)"SW1A-2026-000123", 16),
                 TACNET_ECASEPREFIX);
    cr_assert_eq(roster_case_prefix_check(r, (const uint8_t *)"LA-2026-000123", 14),
                 TACNET_ECASEPREFIX);
    cr_assert_eq(roster_case_prefix_check(r, (const uint8_t *)"LA77-2026-000123", 16),
                 TACNET_ECASEPREFIX);
    cr_assert_eq(roster_case_prefix_check(r, (const uint8_t *)"LA7", 3), TACNET_ECASEPREFIX);
    roster_destroy(&r);
    /* A code no case reference could start with is a provisioning mistake. */
    char *bad[] = { "LA7", "la9" };
    F.roster.area_codes = bad;
    size_t len = 0;
    uint8_t *data = s_signed(&len);
    s_expect_refused(data, len, F.root.sign_pk, TACNET_EBADMSG, "area code in lower case");
    free(data);
    F.roster.area_codes = NULL;
    F.roster.n_area_codes = 0;
}

Test(roster, an_agency_whose_keys_are_all_revoked_or_lapsed_is_named_lapsed)
{
    roster_t *r = s_parsed();
    /* At 15000: CAMHS has key 2 (key 1 expired), the school key 2 (key 1 revoked), health
     * visiting's only key is not valid until 50000, social care has no key at all. */
    uint32_t m = roster_lapsed_mask(r, 15000);
    cr_assert_eq(m, 1u << TACNET__AGENCY__HEALTH_VISITING, "%#x", m);
    /* At 25000 CAMHS's and the school's keys have run out too; at 55000 health visiting's is
     * live. */
    m = roster_lapsed_mask(r, 25000);
    cr_assert_eq(m,
                 (1u << TACNET__AGENCY__CAMHS) | (1u << TACNET__AGENCY__SCHOOL) |
                     (1u << TACNET__AGENCY__HEALTH_VISITING),
                 "%#x", m);
    m = roster_lapsed_mask(r, 55000);
    cr_assert_eq(m, (1u << TACNET__AGENCY__CAMHS) | (1u << TACNET__AGENCY__SCHOOL), "%#x", m);
    cr_assert_eq(roster_lapsed_mask(NULL, 1), 0);
    roster_destroy(&r);
}
