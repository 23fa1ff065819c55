/* roster: verify the root's signature, then answer key and sharing questions from the roster. */
#include "roster.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agencies.h"
#include "err.h"
#include "wire.h"

#define ROSTER_CONTEXT     "TACNET-ROSTER/1"
#define ROSTER_CONTEXT_LEN (sizeof ROSTER_CONTEXT - 1)
#define ROSTER_FILE_MAX    (4 * 1024 * 1024)

struct roster {
    Tacnet__Roster *msg;
};

/* "TACNET-ROSTER/1" || roster: the context string keeps a roster signature from being valid
 * as any other signature the root might ever make. Caller frees. */
static uint8_t *s_signed_bytes(const uint8_t *roster, size_t len, size_t *outlen)
{
    uint8_t *buf = xmalloc(ROSTER_CONTEXT_LEN + len);
    memcpy(buf, ROSTER_CONTEXT, ROSTER_CONTEXT_LEN);
    if (len)
        memcpy(buf + ROSTER_CONTEXT_LEN, roster, len);
    *outlen = ROSTER_CONTEXT_LEN + len;
    return buf;
}

static int s_enum_known(const ProtobufCEnumDescriptor *desc, int value)
{
    return protobuf_c_enum_descriptor_get_value(desc, value) != NULL;
}

/* An agency the protocol names, or one this roster declares (agencies.h). */
static int s_agency_ok(const Tacnet__Roster *r, uint32_t agency)
{
    if (s_enum_known(&tacnet__agency__descriptor, (int)agency))
        return 1;
    for (size_t i = 0; i < r->n_agencies; i++)
        if (r->agencies[i]->id == agency)
            return 1;
    return 0;
}

static int s_key_ok(const Tacnet__Roster *r, const Tacnet__NodeKey *key)
{
    return s_agency_ok(r, key->agency) && key->agency != TACNET__AGENCY__AGENCY_UNKNOWN &&
           key->curve_pk.len == SEAL_KEY_BYTES && key->sign_pk.len == SEAL_KEY_BYTES &&
           key->seal_pk.len == SEAL_KEY_BYTES;
}

/* A signed roster is trusted, but an ambiguous one (two entries for the same agency and key id,
 * one CURVE key for two agencies, two sharing rules for one agency) is a provisioning mistake
 * that lookups would resolve by accident of order, so it is refused whole. */
static int s_keys_check(const Tacnet__Roster *r)
{
    for (size_t i = 0; i < r->n_keys; i++) {
        const Tacnet__NodeKey *a = r->keys[i];
        if (!s_key_ok(r, a))
            return TACNET_EBADMSG;
        for (size_t j = i + 1; j < r->n_keys; j++) {
            const Tacnet__NodeKey *b = r->keys[j];
            if (a->agency == b->agency && a->key_id == b->key_id)
                return TACNET_EBADMSG;
            if (a->agency != b->agency &&
                memcmp(a->curve_pk.data, b->curve_pk.data, SEAL_KEY_BYTES) == 0)
                return TACNET_EBADMSG;
        }
    }
    return 0;
}

static int s_sensitivities_ok(const Tacnet__Sensitivity *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!s_enum_known(&tacnet__sensitivity__descriptor, list[i]))
            return 0;
    return 1;
}

static int s_sharing_check(const Tacnet__Roster *r)
{
    if (!r->sharing)
        return 0;
    for (size_t i = 0; i < r->sharing->n_rules; i++) {
        const Tacnet__SharingRule *rule = r->sharing->rules[i];
        if (!s_agency_ok(r, rule->agency) ||
            !s_sensitivities_ok(rule->with_consent, rule->n_with_consent) ||
            !s_sensitivities_ok(rule->without_consent, rule->n_without_consent) ||
            !s_sensitivities_ok(rule->legal_duty, rule->n_legal_duty) ||
            !s_sensitivities_ok(rule->direct_care, rule->n_direct_care))
            return TACNET_EBADMSG;
        for (size_t j = i + 1; j < r->sharing->n_rules; j++)
            if (r->sharing->rules[j]->agency == rule->agency)
                return TACNET_EBADMSG;
    }
    return 0;
}

/* An area code as policy_case_ref_check reads a prefix: a capital, then 1 to 4 capitals or
 * digits. Anything else could never match a case reference, so it is a provisioning mistake. */
static int s_area_codes_check(const Tacnet__Roster *r)
{
    for (size_t i = 0; i < r->n_area_codes; i++) {
        const char *w = r->area_codes[i];
        size_t n = strlen(w);
        if (n < 2 || n > 5 || w[0] < 'A' || w[0] > 'Z')
            return TACNET_EBADMSG;
        for (size_t k = 1; k < n; k++)
            if (!((w[k] >= 'A' && w[k] <= 'Z') || (w[k] >= '0' && w[k] <= '9')))
                return TACNET_EBADMSG;
    }
    return 0;
}

roster_t *roster_parse(const uint8_t *data, size_t len, const uint8_t root_pk[SEAL_KEY_BYTES],
                       int *err)
{
    int rc = 0;
    roster_t *self = NULL;
    uint8_t *msg = NULL;
    size_t msg_len = 0;
    Tacnet__SignedRoster *signed_roster = NULL;
    if (!root_pk || sodium_init() < 0) {
        rc = TACNET_EINVAL;
        goto fail;
    }
    /* Anything that is not a well-formed SignedRoster with a signature of the right size is
     * "unsigned" as far as the operator is concerned. */
    signed_roster = (Tacnet__SignedRoster *)wire_unpack(&tacnet__signed_roster__descriptor, data,
                                                        len, 0, 1, &rc);
    if (!signed_roster || signed_roster->signature.len != crypto_sign_BYTES) {
        rc = TACNET_EROSTER;
        goto fail;
    }
    msg = s_signed_bytes(signed_roster->roster.data, signed_roster->roster.len, &msg_len);
    if (crypto_sign_verify_detached(signed_roster->signature.data, msg, msg_len, root_pk) != 0) {
        rc = TACNET_EROSTER;
        goto fail;
    }
    self = xcalloc(1, sizeof *self);
    self->msg =
        (Tacnet__Roster *)wire_unpack(&tacnet__roster__descriptor, signed_roster->roster.data,
                                      signed_roster->roster.len, 0, 1, &rc);
    if (!self->msg) {
        rc = TACNET_EBADMSG;
        goto fail;
    }
    if ((rc = s_keys_check(self->msg)) != 0 || (rc = s_sharing_check(self->msg)) != 0 ||
        (rc = s_area_codes_check(self->msg)) != 0)
        goto fail;
    char why[256];
    if (agencies_check(self->msg->agencies, self->msg->n_agencies, why, sizeof(why)) != 0) {
        rc = TACNET_EBADMSG;
        goto fail;
    }
    /* Accepted: its agencies are the ones every name and label of this process is for. */
    agencies_register(self->msg->agencies, self->msg->n_agencies);
    free(msg);
    wire_free(&signed_roster->base);
    return self;
fail:
    free(msg);
    wire_free(signed_roster ? &signed_roster->base : NULL);
    roster_destroy(&self);
    if (err)
        *err = rc;
    return NULL;
}

/* Read a whole small file. Returns 0, TACNET_ENOTFOUND, TACNET_EIO or TACNET_ETOOBIG. */
static int s_read_file(const char *path, size_t cap, uint8_t **out, size_t *outlen)
{
    int rc = 0;
    size_t len = 0;
    uint8_t *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? TACNET_ENOTFOUND : TACNET_EIO;
    buf = xmalloc(cap + 1);
    len = fread(buf, 1, cap + 1, f);
    if (ferror(f))
        rc = TACNET_EIO;
    else if (len > cap)
        rc = TACNET_ETOOBIG;
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *outlen = len;
    return 0;
}

roster_t *roster_load(const char *path, const uint8_t root_pk[SEAL_KEY_BYTES], int *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = s_read_file(path, ROSTER_FILE_MAX, &data, &len);
    if (rc) {
        if (err)
            *err = rc == TACNET_ETOOBIG ? TACNET_EROSTER : rc;
        return NULL;
    }
    roster_t *self = roster_parse(data, len, root_pk, err);
    free(data);
    return self;
}

int roster_root_load(const char *path, uint8_t root_pk[SEAL_KEY_BYTES])
{
    uint8_t *data = NULL;
    size_t len = 0, bin_len = 0;
    int rc = s_read_file(path, 2 * SEAL_KEY_BYTES + 1, &data, &len);
    if (rc)
        return rc == TACNET_ETOOBIG ? TACNET_ECONFIG : rc;
    if (len == 2 * SEAL_KEY_BYTES + 1 && data[len - 1] == '\n')
        len--;
    if (len != 2 * SEAL_KEY_BYTES ||
        sodium_hex2bin(root_pk, SEAL_KEY_BYTES, (const char *)data, len, NULL, &bin_len, NULL) !=
            0 ||
        bin_len != SEAL_KEY_BYTES)
        rc = TACNET_ECONFIG;
    free(data);
    return rc;
}

void roster_destroy(roster_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    wire_free((*self_p)->msg ? &(*self_p)->msg->base : NULL);
    free(*self_p);
    *self_p = NULL;
}

const Tacnet__Roster *roster_msg(const roster_t *self)
{
    return self->msg;
}

uint32_t roster_version(const roster_t *self)
{
    return self->msg->version;
}

/* valid_until_ms is exclusive, so consecutive windows can share an edge without overlap. A
 * revocation with a time counts from that time; one without counts always. */
static int s_key_live(const Tacnet__NodeKey *key, uint64_t now_ms)
{
    int revoked = key->has_revoked && key->revoked &&
                  (!key->has_revoked_at_ms || now_ms >= key->revoked_at_ms);
    return !revoked && key->valid_from_ms <= now_ms && now_ms < key->valid_until_ms;
}

const Tacnet__NodeKey *roster_key_find(const roster_t *self, uint32_t agency, uint32_t key_id,
                                       uint64_t now_ms, int *err)
{
    for (size_t i = 0; i < self->msg->n_keys; i++) {
        const Tacnet__NodeKey *key = self->msg->keys[i];
        if ((uint32_t)key->agency == agency && key->key_id == key_id && s_key_live(key, now_ms))
            return key;
    }
    if (err)
        *err = TACNET_EKEYID;
    return NULL;
}

const Tacnet__NodeKey *roster_key_current(const roster_t *self, uint32_t agency, uint64_t now_ms)
{
    const Tacnet__NodeKey *best = NULL;
    for (size_t i = 0; i < self->msg->n_keys; i++) {
        const Tacnet__NodeKey *key = self->msg->keys[i];
        if ((uint32_t)key->agency == agency && s_key_live(key, now_ms) &&
            (!best || key->key_id > best->key_id))
            best = key;
    }
    return best;
}

uint32_t roster_lapsed_mask(const roster_t *self, uint64_t now_ms)
{
    uint32_t keyed = 0, live = 0;
    for (size_t i = 0; self && i < self->msg->n_keys; i++) {
        const Tacnet__NodeKey *key = self->msg->keys[i];
        uint32_t a = (uint32_t)key->agency;
        if (a == 0 || a >= 32)
            continue;
        keyed |= 1u << a;
        if (s_key_live(key, now_ms))
            live |= 1u << a;
    }
    return keyed & ~live;
}

uint32_t roster_agency_by_curve(const roster_t *self, const uint8_t curve_pk[SEAL_KEY_BYTES],
                                uint64_t now_ms)
{
    for (size_t i = 0; i < self->msg->n_keys; i++) {
        const Tacnet__NodeKey *key = self->msg->keys[i];
        if (s_key_live(key, now_ms) && memcmp(key->curve_pk.data, curve_pk, SEAL_KEY_BYTES) == 0)
            return (uint32_t)key->agency;
    }
    return 0;
}

static int s_listed(const Tacnet__Sensitivity *list, size_t n, uint32_t sensitivity)
{
    for (size_t i = 0; i < n; i++)
        if ((uint32_t)list[i] == sensitivity)
            return 1;
    return 0;
}

/* What an agency may see without consent it may also see with it: consent only widens. */
int roster_may_see(const roster_t *self, uint32_t agency, uint32_t sensitivity, int consent_given)
{
    const Tacnet__SharingPolicy *policy = self->msg->sharing;
    if (!policy || sensitivity == TACNET__SENSITIVITY__SENSITIVITY_UNKNOWN)
        return 0;
    for (size_t i = 0; i < policy->n_rules; i++) {
        const Tacnet__SharingRule *rule = policy->rules[i];
        if ((uint32_t)rule->agency != agency)
            continue;
        if (s_listed(rule->without_consent, rule->n_without_consent, sensitivity))
            return 1;
        return consent_given && s_listed(rule->with_consent, rule->n_with_consent, sensitivity);
    }
    return 0;
}

static const Tacnet__SharingRule *s_rule(const roster_t *self, uint32_t agency)
{
    const Tacnet__SharingPolicy *policy = self->msg->sharing;
    for (size_t i = 0; policy && i < policy->n_rules; i++)
        if ((uint32_t)policy->rules[i]->agency == agency)
            return policy->rules[i];
    return NULL;
}

int roster_may_see_on(const roster_t *self, uint32_t agency, uint32_t sensitivity, uint32_t basis)
{
    const Tacnet__SharingRule *rule = s_rule(self, agency);
    if (!rule || sensitivity == TACNET__SENSITIVITY__SENSITIVITY_UNKNOWN)
        return 0;
    if (basis == TACNET__LAWFUL_BASIS__LEGAL_DUTY)
        return s_listed(rule->legal_duty, rule->n_legal_duty, sensitivity);
    if (basis == TACNET__LAWFUL_BASIS__DIRECT_CARE)
        return s_listed(rule->direct_care, rule->n_direct_care, sensitivity);
    return 0;
}

int roster_gives_direct_care(const roster_t *self, uint32_t agency)
{
    const Tacnet__SharingRule *rule = s_rule(self, agency);
    return rule && rule->n_direct_care > 0;
}

int roster_sign(const Tacnet__Roster *roster, const seal_keys_t *root, uint8_t **out,
                size_t *outlen)
{
    uint8_t sig[crypto_sign_BYTES];
    size_t packed_len = 0, msg_len = 0;
    if (!roster || !root || !root->sign_sk || !out || !outlen || sodium_init() < 0)
        return TACNET_EINVAL;
    uint8_t *packed = wire_pack(&roster->base, &packed_len);
    uint8_t *msg = s_signed_bytes(packed, packed_len, &msg_len);
    crypto_sign_detached(sig, NULL, msg, msg_len, root->sign_sk);
    Tacnet__SignedRoster signed_roster = TACNET__SIGNED_ROSTER__INIT;
    signed_roster.roster.data = packed;
    signed_roster.roster.len = packed_len;
    signed_roster.signature.data = sig;
    signed_roster.signature.len = sizeof sig;
    *out = wire_pack(&signed_roster.base, outlen);
    free(msg);
    free(packed);
    return 0;
}

int roster_case_prefix_check(const roster_t *self, const uint8_t *ref, size_t len)
{
    const Tacnet__Roster *r = self->msg;
    if (r->n_area_codes == 0)
        return 0;
    const uint8_t *dash = ref ? memchr(ref, '-', len) : NULL;
    size_t n = dash ? (size_t)(dash - ref) : 0;
    for (size_t i = 0; n && i < r->n_area_codes; i++)
        if (strlen(r->area_codes[i]) == n && memcmp(r->area_codes[i], ref, n) == 0)
            return 0;
    return TACNET_ECASEPREFIX;
}
