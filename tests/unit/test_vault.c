/* Unit tests for services/agency/vault.c: the keys at rest derive as the on-disk format says (so
 * existing views open), records and case keys round trip and are bound to their database and
 * record key, and the keys are unreadable between uses. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agency/vault.h"
#include "err.h"
#include "events.pb-c.h"
#include "seal.h"

static seal_keys_t *s_keys;
static agency_vault_t *s_vault;

static void s_setup(void)
{
    cr_assert_eq(seal_init(), 0);
    s_keys = seal_keys_generate(TACNET__AGENCY__SCHOOL, 1);
    cr_assert_not_null(s_keys);
    cr_assert_eq(seal_keys_protect(s_keys), 0);
    cr_assert_eq(agency_vault_new(s_keys, &s_vault), 0);
}

static void s_teardown(void)
{
    agency_vault_destroy(&s_vault);
    seal_keys_destroy(&s_keys);
}

TestSuite(vault, .init = s_setup, .fini = s_teardown);

/* What a view written before the vault used: BLAKE2b keyed with the sealing secret. */
static void s_derived(uint8_t rest[32], uint8_t blind[32])
{
    cr_assert_eq(seal_keys_unlock(s_keys), 0);
    crypto_generichash(rest, 32, (const uint8_t *)"tacnet-at-rest/1", 16, s_keys->seal_sk, 32);
    crypto_generichash(blind, 32, (const uint8_t *)"tacnet-blind/1", 14, s_keys->seal_sk, 32);
    seal_keys_lock(s_keys);
}

Test(vault, keys_and_records_match_the_on_disk_format)
{
    uint8_t rest[32], bkey[32];
    s_derived(rest, bkey);
    const char *ref = "LA7-2026-000123";
    uint8_t blind[16], expect[16];
    agency_vault_blind(s_vault, (const uint8_t *)ref, strlen(ref), blind);
    seal_blind(bkey, (const uint8_t *)ref, strlen(ref), expect);
    cr_expect_arr_eq(blind, expect, 16);

    /* A hold record under the rest key, AD "holds" || blind, opens with the old derivation. */
    const uint8_t val[] = "synthetic hold record";
    uint8_t *enc = NULL, *plain = NULL;
    size_t elen = 0, plen = 0;
    cr_assert_eq(
        agency_vault_seal(s_vault, NULL, "holds", blind, 16, NULL, 0, val, sizeof val, &enc, &elen),
        0);
    uint8_t ad[5 + 16];
    memcpy(ad, "holds", 5);
    memcpy(ad + 5, blind, 16);
    cr_assert_eq(seal_at_rest_decrypt(rest, ad, sizeof ad, enc, elen, &plain, &plen), 0);
    cr_expect_eq(plen, sizeof val);
    cr_expect_arr_eq(plain, val, sizeof val);
    free(plain);
    free(enc);

    /* And the other way: a record the old code wrote opens in the vault. */
    cr_assert_eq(seal_at_rest_encrypt(rest, ad, sizeof ad, val, sizeof val, &enc, &elen), 0);
    cr_assert_eq(agency_vault_open(s_vault, NULL, "holds", blind, 16, enc, elen, &plain, &plen), 0);
    cr_expect_arr_eq(plain, val, sizeof val);
    free(plain);
    free(enc);
}

Test(vault, case_keys_wrap_and_case_records_carry_their_prefix)
{
    uint8_t rest[32], bkey[32];
    s_derived(rest, bkey);
    uint8_t blind[16];
    agency_vault_blind(s_vault, (const uint8_t *)"LA7-2026-000124", 15, blind);
    agency_vault_case_key_t ck, again;
    uint8_t *wrapped = NULL;
    size_t wlen = 0;
    cr_assert_eq(agency_vault_case_key_new(s_vault, blind, &ck, &wrapped, &wlen), 0);
    cr_assert_eq(agency_vault_case_key_open(s_vault, blind, wrapped, wlen, &again), 0);
    cr_expect_arr_eq(again.k, ck.k, sizeof ck.k);
    /* The wrap is the old "case_keys" record: the case key under the rest key. */
    uint8_t ad[9 + 16], *plain = NULL;
    size_t plen = 0;
    memcpy(ad, "case_keys", 9);
    memcpy(ad + 9, blind, 16);
    cr_assert_eq(seal_at_rest_decrypt(rest, ad, sizeof ad, wrapped, wlen, &plain, &plen), 0);
    cr_expect_arr_eq(plain, ck.k, 32);
    free(plain);
    /* Under another case's blind id it does not open. */
    uint8_t other[16];
    memcpy(other, blind, 16);
    other[0] ^= 1;
    cr_expect_eq(agency_vault_case_key_open(s_vault, other, wrapped, wlen, &again),
                 TACNET_ECORRUPT);
    free(wrapped);

    /* An event record: blind prefix in clear, then the ciphertext under the case key. */
    const uint8_t lk[8] = { 0, 0, 0, 0, 0, 0, 0, 7 };
    const uint8_t body[] = "synthetic event record";
    uint8_t *enc = NULL;
    size_t elen = 0;
    cr_assert_eq(
        agency_vault_seal(s_vault, &ck, "events", lk, 8, blind, 16, body, sizeof body, &enc, &elen),
        0);
    cr_assert_eq(elen, 16 + 24 + sizeof body + 16);
    cr_expect_arr_eq(enc, blind, 16);
    cr_assert_eq(
        agency_vault_open(s_vault, &ck, "events", lk, 8, enc + 16, elen - 16, &plain, &plen), 0);
    cr_expect_arr_eq(plain, body, sizeof body);
    sodium_memzero(plain, plen);
    free(plain);
    /* Moved to another record key, it does not authenticate. */
    const uint8_t lk2[8] = { 0, 0, 0, 0, 0, 0, 0, 8 };
    cr_expect_eq(
        agency_vault_open(s_vault, &ck, "events", lk2, 8, enc + 16, elen - 16, &plain, &plen),
        TACNET_ECORRUPT);
    cr_expect_null(plain);
    free(enc);
    agency_vault_case_key_wipe(&ck);
    agency_vault_case_key_wipe(&again);
    uint8_t zero[32] = { 0 };
    cr_expect_arr_eq(ck.k, zero, 32);
}

Test(vault, holds_nest_and_names_too_long_are_refused)
{
    cr_assert_eq(agency_vault_hold(s_vault), 0);
    cr_assert_eq(agency_vault_hold(s_vault), 0);
    uint8_t blind[16];
    agency_vault_blind(s_vault, (const uint8_t *)"LA7-2026-000125", 15, blind);
    agency_vault_release(s_vault);
    agency_vault_release(s_vault);
    agency_vault_release(s_vault); /* unmatched: changes nothing */
    uint8_t key[60] = { 0 }, *enc = NULL;
    size_t elen = 0;
    cr_expect_eq(
        agency_vault_seal(s_vault, NULL, "identity", key, sizeof key, NULL, 0, key, 1, &enc, &elen),
        TACNET_EINVAL);
    cr_expect_null(enc);
    /* Nothing derives from a root key set (no sealing secret). */
    seal_keys_t *root = seal_root_generate();
    agency_vault_t *v = NULL;
    cr_expect_eq(agency_vault_new(root, &v), TACNET_EINVAL);
    cr_expect_null(v);
    seal_keys_destroy(&root);
}
