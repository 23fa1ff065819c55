/* provision: keys, policies and the signed roster for a partnership. */
#include "provision.h"
#include "err.h"
#include "clock.h"
#include "names.h"
#include "roster.h"
#include "seal.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    Tacnet__Agency agency;
    const char *name;
} s_nodes[] = {
    { TACNET__AGENCY__BROKER, "broker" },
    { TACNET__AGENCY__CAMHS, "camhs" },
    { TACNET__AGENCY__SCHOOL, "school" },
    { TACNET__AGENCY__HEALTH_VISITING, "health_visiting" },
    { TACNET__AGENCY__SOCIAL_CARE, "social_care" },
    /* The safeguarding partnership's contact: told at the last escalation stage. Optional
     * (--partnership), since not every partnership runs a node for it. */
    { TACNET__AGENCY__PARTNERSHIP, "partnership" },
};
#define N_NODES (sizeof(s_nodes) / sizeof(s_nodes[0]))

typedef struct {
    Tacnet__Roster *r;
    const char *file;
    char *why;
    size_t whylen;
    int failed;
} parse_ctx_t;

/* Debian's inih passes no line number to handlers, so reasons name the section and key. */
static int s_fail(parse_ctx_t *p, const char *section, const char *key, const char *what)
{
    snprintf(p->why, p->whylen, "%s: [%s] %s: %s", p->file, section, key, what);
    p->failed = 1;
    return 0; /* stop inih */
}

static Tacnet__SharingRule *s_rule(Tacnet__Roster *r, Tacnet__Agency a)
{
    Tacnet__SharingPolicy *sp = r->sharing;
    for (size_t i = 0; i < sp->n_rules; i++)
        if (sp->rules[i]->agency == a)
            return sp->rules[i];
    sp->rules = xrealloc(sp->rules, (sp->n_rules + 1) * sizeof(*sp->rules));
    Tacnet__SharingRule *rule = xcalloc(1, sizeof(*rule));
    tacnet__sharing_rule__init(rule);
    rule->agency = a;
    sp->rules[sp->n_rules++] = rule;
    return rule;
}

/* "routine, health" -> enum list. Returns 0 or -1 naming the bad word in BAD. */
static int s_classes(const char *value, Tacnet__Sensitivity **out, size_t *n, char *bad,
                     size_t badlen)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", value);
    *n = 0;
    *out = xcalloc(4, sizeof(**out));
    for (char *save = NULL, *w = strtok_r(buf, ", \t", &save); w;
         w = strtok_r(NULL, ", \t", &save)) {
        int v;
        if (names_enum_parse(&tacnet__sensitivity__descriptor, w, &v) != 0 || v == 0 || *n >= 4) {
            snprintf(bad, badlen, "%s", w);
            return -1;
        }
        (*out)[(*n)++] = (Tacnet__Sensitivity)v;
    }
    return 0;
}

static int s_on_sharing(void *user, const char *section, const char *key, const char *value)
{
    parse_ctx_t *p = user;
    Tacnet__Roster *r = p->r;
    if (strcmp(section, "policy") == 0) {
        char *end;
        long v = strtol(value, &end, 10);
        if (*value == 0 || *end || v < 0 || v > 1000000)
            return s_fail(p, section, key, "not a whole number");
        if (strcmp(key, "version") == 0) {
            r->policy_version = (uint32_t)v;
            r->has_policy_version = 1;
        } else if (strcmp(key, "expiry_hours") == 0) {
            r->sharing->expiry_hours = (uint32_t)v;
            r->sharing->has_expiry_hours = 1;
        } else if (strcmp(key, "expiry_seconds") == 0) {
            r->sharing->expiry_seconds = (uint32_t)v;
            r->sharing->has_expiry_seconds = 1;
        } else {
            return s_fail(p, section, key, "unknown key");
        }
        return 1;
    }
    int a;
    if (names_enum_parse(&tacnet__agency__descriptor, section, &a) != 0 || a == 0 ||
        a == TACNET__AGENCY__BROKER)
        return s_fail(p, section, key, "unknown agency section");
    Tacnet__SharingRule *rule = s_rule(r, (Tacnet__Agency)a);
    char bad[64];
    int rc;
    if (strcmp(key, "with_consent") == 0) {
        free(rule->with_consent);
        rc = s_classes(value, &rule->with_consent, &rule->n_with_consent, bad, sizeof(bad));
    } else if (strcmp(key, "without_consent") == 0) {
        free(rule->without_consent);
        rc = s_classes(value, &rule->without_consent, &rule->n_without_consent, bad, sizeof(bad));
    } else {
        return s_fail(p, section, key, "unknown key");
    }
    if (rc != 0)
        return s_fail(p, section, key, "classes are routine, health, safeguarding");
    return 1;
}

static Tacnet__EscalationStage *s_stage(Tacnet__EscalationPolicy *e, uint32_t n)
{
    for (size_t i = 0; i < e->n_stages; i++)
        if (e->stages[i]->stage == n)
            return e->stages[i];
    e->stages = xrealloc(e->stages, (e->n_stages + 1) * sizeof(*e->stages));
    Tacnet__EscalationStage *s = xcalloc(1, sizeof(*s));
    tacnet__escalation_stage__init(s);
    s->stage = n;
    e->stages[e->n_stages++] = s;
    return s;
}

static int s_on_escalation(void *user, const char *section, const char *key, const char *value)
{
    parse_ctx_t *p = user;
    Tacnet__EscalationPolicy *e = p->r->escalation;
    if (strncmp(section, "stage", 5) == 0 && section[5] >= '1' && section[5] <= '4' &&
        section[6] == 0) {
        Tacnet__EscalationStage *s = s_stage(e, (uint32_t)(section[5] - '0'));
        if (strcmp(key, "audience") == 0) {
            int v;
            if (names_enum_parse(&tacnet__role__descriptor, value, &v) != 0 || v == 0)
                return s_fail(p, section, key,
                              "not a role (practitioner, line_manager, dsl, partnership_lead)");
            s->audience = (Tacnet__Role)v;
            return 1;
        }
        char *end;
        long v = strtol(value, &end, 10);
        if (*value == 0 || *end || v < 0 || v > 100000)
            return s_fail(p, section, key, "not a whole number");
        if (strcmp(key, "working_days") == 0) {
            s->working_days = (uint32_t)v;
            s->has_working_days = 1;
        } else if (strcmp(key, "urgent_hours") == 0) {
            s->urgent_hours = (uint32_t)v;
            s->has_urgent_hours = 1;
        } else if (strcmp(key, "seconds") == 0) {
            s->seconds = (uint32_t)v;
            s->has_seconds = 1;
        } else {
            return s_fail(p, section, key, "unknown key");
        }
        return 1;
    }
    if (strcmp(section, "escalation") != 0)
        return s_fail(p, section, key, "unknown section");
    char *end;
    long v = strtol(value, &end, 10);
    if (*value == 0 || *end || v < 0 || v > 1000000)
        return s_fail(p, section, key, "not a whole number");
    if (strcmp(key, "level_gap") == 0) {
        e->level_gap = (uint32_t)v;
        e->has_level_gap = 1;
    } else if (strcmp(key, "non_response_hours") == 0) {
        e->non_response_hours = (uint32_t)v;
        e->has_non_response_hours = 1;
    } else if (strcmp(key, "non_response_seconds") == 0) {
        e->non_response_seconds = (uint32_t)v;
        e->has_non_response_seconds = 1;
    } else {
        return s_fail(p, section, key, "unknown key");
    }
    return 1;
}

static int s_parse(const char *path, ini_handler fn, parse_ctx_t *p)
{
    p->file = path;
    int rc = ini_parse(path, fn, p);
    if (rc == -1) {
        snprintf(p->why, p->whylen, "%s: cannot open: %s", path, strerror(errno));
        return TACNET_ENOTFOUND;
    }
    if (p->failed)
        return TACNET_ECONFIG;
    if (rc > 0) {
        snprintf(p->why, p->whylen, "%s:%d: not a key = value line", path, rc);
        return TACNET_ECONFIG;
    }
    return 0;
}

int provision_policy_load(const char *sharing_path, const char *escalation_path, Tacnet__Roster *r,
                          char *why, size_t whylen)
{
    r->sharing = xcalloc(1, sizeof(*r->sharing));
    tacnet__sharing_policy__init(r->sharing);
    r->escalation = xcalloc(1, sizeof(*r->escalation));
    tacnet__escalation_policy__init(r->escalation);
    parse_ctx_t p = { .r = r, .why = why, .whylen = whylen };
    int rc = s_parse(sharing_path, s_on_sharing, &p);
    if (rc == 0)
        rc = s_parse(escalation_path, s_on_escalation, &p);
    if (rc != 0)
        return rc;
    Tacnet__EscalationPolicy *e = r->escalation;
    for (uint32_t n = 1; n <= 4; n++) {
        size_t i = 0;
        while (i < e->n_stages && e->stages[i]->stage != n)
            i++;
        if (i == e->n_stages || !e->stages[i]->audience) {
            snprintf(why, whylen, "%s: [stage%u] with an audience is required", escalation_path, n);
            return TACNET_ECONFIG;
        }
    }
    return 0;
}

void provision_policy_free(Tacnet__Roster *r)
{
    if (r->sharing) {
        for (size_t i = 0; i < r->sharing->n_rules; i++) {
            free(r->sharing->rules[i]->with_consent);
            free(r->sharing->rules[i]->without_consent);
            free(r->sharing->rules[i]);
        }
        free(r->sharing->rules);
        free(r->sharing);
        r->sharing = NULL;
    }
    if (r->escalation) {
        for (size_t i = 0; i < r->escalation->n_stages; i++)
            free(r->escalation->stages[i]);
        free(r->escalation->stages);
        free(r->escalation);
        r->escalation = NULL;
    }
}

/* mkdir -p; the last component is made (or narrowed to) 0700. */
static int s_mkdir(const char *path)
{
    char buf[4200];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return TACNET_EIO;
        *p = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return TACNET_EIO;
    return chmod(buf, 0700) == 0 ? 0 : TACNET_EIO;
}

static int s_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return TACNET_EIO;
    int ok = write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return TACNET_EIO;
    }
    return 0;
}

int provision_run(const provision_opts_t *o, FILE *err)
{
    char path[4200], why[512] = "";
    int rc = 0;
    seal_keys_t *root = NULL, *keys[N_NODES] = { 0 };
    Tacnet__NodeKey nk[N_NODES];
    Tacnet__NodeKey *nkp[N_NODES];
    Tacnet__Roster r = TACNET__ROSTER__INIT;
    uint8_t *signed_roster = NULL;
    size_t signed_len = 0;

    if ((rc = seal_init()) != 0)
        goto fail;
    snprintf(path, sizeof(path), "%s/roster.bin", o->out_dir);
    if (access(path, F_OK) == 0) {
        fprintf(err, "tacnet provision: %s exists; refusing to replace a partnership's keys\n",
                path);
        return TACNET_EEXISTS;
    }
    if ((rc = provision_policy_load(o->sharing_path, o->escalation_path, &r, why, sizeof(why))) !=
        0) {
        fprintf(err, "tacnet provision: %s (%s)\n", why, tacnet_errname(rc));
        goto fail;
    }
    snprintf(path, sizeof(path), "%s", o->out_dir);
    if ((rc = s_mkdir(path)) != 0)
        goto fail_io;
    snprintf(path, sizeof(path), "%s/keys", o->out_dir);
    if ((rc = s_mkdir(path)) != 0)
        goto fail_io;
    snprintf(path, sizeof(path), "%s/root", o->out_dir);
    if ((rc = s_mkdir(path)) != 0)
        goto fail_io;

    root = seal_root_generate();
    snprintf(path, sizeof(path), "%s/root/root.key", o->out_dir);
    if ((rc = seal_keys_save(root, path)) != 0)
        goto fail_io;
    char hex[SEAL_KEY_BYTES * 2 + 2];
    sodium_bin2hex(hex, sizeof(hex), root->sign_pk, SEAL_KEY_BYTES);
    strcat(hex, "\n");
    snprintf(path, sizeof(path), "%s/root.pub", o->out_dir);
    if ((rc = s_write_file(path, hex, strlen(hex), 0644)) != 0)
        goto fail_io;

    uint64_t now = clock_now_ms();
    unsigned days = o->validity_days ? o->validity_days : 730;
    size_t n_nodes = 0;
    for (size_t i = 0; i < N_NODES; i++) {
        if (s_nodes[i].agency == TACNET__AGENCY__PARTNERSHIP && !o->partnership)
            continue;
        n_nodes++;
        keys[i] = seal_keys_generate(s_nodes[i].agency, 1);
        snprintf(path, sizeof(path), "%s/keys/%s.key", o->out_dir, s_nodes[i].name);
        if ((rc = seal_keys_save(keys[i], path)) != 0)
            goto fail_io;
        tacnet__node_key__init(&nk[i]);
        nk[i].agency = s_nodes[i].agency;
        nk[i].key_id = 1;
        nk[i].curve_pk = (ProtobufCBinaryData){ SEAL_KEY_BYTES, keys[i]->curve_pk };
        nk[i].sign_pk = (ProtobufCBinaryData){ SEAL_KEY_BYTES, keys[i]->sign_pk };
        nk[i].seal_pk = (ProtobufCBinaryData){ SEAL_KEY_BYTES, keys[i]->seal_pk };
        nk[i].valid_from_ms = now - CLOCK_DAY_MS;
        nk[i].valid_until_ms = now + (uint64_t)days * CLOCK_DAY_MS;
        nkp[n_nodes - 1] = &nk[i];
    }
    r.version = 1;
    r.issued_at_ms = now;
    r.n_keys = n_nodes;
    r.keys = nkp;
    if ((rc = roster_sign(&r, root, &signed_roster, &signed_len)) != 0)
        goto fail;
    snprintf(path, sizeof(path), "%s/roster.bin", o->out_dir);
    if ((rc = s_write_file(path, signed_roster, signed_len, 0644)) != 0)
        goto fail_io;
    fprintf(err,
            "tacnet provision: wrote %s/roster.bin (version 1, %zu nodes), keys in %s/keys, "
            "root.pub; move %s/root/root.key offline\n",
            o->out_dir, n_nodes, o->out_dir, o->out_dir);
    goto done;
fail_io:
    fprintf(err, "tacnet provision: cannot write %s: %s\n", path, strerror(errno));
    if (rc == 0)
        rc = TACNET_EIO;
fail:
done:
    free(signed_roster);
    provision_policy_free(&r);
    for (size_t i = 0; i < N_NODES; i++)
        seal_keys_destroy(&keys[i]);
    seal_keys_destroy(&root);
    return rc;
}

/* ---------------------------------------------------------------- rotate and revoke */

static int s_node_find(const char *name, Tacnet__Agency *agency)
{
    for (size_t i = 0; i < N_NODES; i++) {
        if (strcmp(s_nodes[i].name, name) == 0) {
            *agency = s_nodes[i].agency;
            return 0;
        }
    }
    return TACNET_EINVAL;
}

typedef int (*roster_edit_fn)(Tacnet__Roster *r, void *arg, FILE *err);

/* Load DIR/roster.bin (verified against DIR/root.pub), let FN change it, then bump the version
 * and write it back signed by DIR/root/root.key (temp file, fsync, rename). */
static int s_roster_edit(const char *dir, roster_edit_fn fn, void *arg, FILE *err)
{
    char path[4200], why[512] = "";
    uint8_t root_pk[SEAL_KEY_BYTES];
    int rc = 0;
    roster_t *current = NULL;
    Tacnet__Roster *r = NULL;
    seal_keys_t *root = NULL;
    uint8_t *packed = NULL, *signed_roster = NULL;
    size_t packed_len = 0, signed_len = 0;
    snprintf(path, sizeof(path), "%s/root.pub", dir);
    if ((rc = roster_root_load(path, root_pk)) != 0) {
        fprintf(err, "tacnet provision: %s: %s\n", path, tacnet_strerror(rc));
        return rc;
    }
    snprintf(path, sizeof(path), "%s/roster.bin", dir);
    if (!(current = roster_load(path, root_pk, &rc))) {
        fprintf(err, "tacnet provision: %s: %s\n", path, tacnet_strerror(rc));
        return rc;
    }
    /* A private, mutable copy: the loaded roster is read-only. */
    packed = wire_pack(&roster_msg(current)->base, &packed_len);
    r = tacnet__roster__unpack(NULL, packed_len, packed);
    if (!r) {
        rc = TACNET_EBADMSG;
        goto fail;
    }
    if ((rc = fn(r, arg, err)) != 0)
        goto fail;
    r->version++;
    r->issued_at_ms = clock_now_ms();
    snprintf(path, sizeof(path), "%s/root/root.key", dir);
    if ((rc = seal_keys_load(path, &root, why, sizeof(why))) != 0) {
        fprintf(err, "tacnet provision: %s (the root key signs the new roster)\n", why);
        goto fail;
    }
    if ((rc = roster_sign(r, root, &signed_roster, &signed_len)) != 0)
        goto fail;
    snprintf(path, sizeof(path), "%s/roster.bin", dir);
    if ((rc = s_write_file(path, signed_roster, signed_len, 0644)) != 0) {
        fprintf(err, "tacnet provision: cannot write %s: %s\n", path, strerror(errno));
        goto fail;
    }
    fprintf(err, "tacnet provision: wrote %s (version %u)\n", path, r->version);
fail:
    free(signed_roster);
    free(packed);
    if (r)
        tacnet__roster__free_unpacked(r, NULL);
    seal_keys_destroy(&root);
    roster_destroy(&current);
    return rc;
}

typedef struct {
    const char *dir, *name;
    Tacnet__Agency agency;
    uint64_t overlap_ms;
    uint32_t key_id; /* revoke: 0 = every key of the agency */
    uint64_t at_ms;  /* revoke: when it takes effect */
} key_edit_t;

static uint8_t *s_dup(const uint8_t *p, size_t n)
{
    uint8_t *d = xmalloc(n);
    memcpy(d, p, n);
    return d;
}

/* The new key set keeps the sealing pair: the daemon's view is encrypted at rest under a key
 * derived from it, and senders keep wrapping for the same public key. CURVE (the hop) and
 * Ed25519 (signatures) are what a rotation replaces. */
static int s_rotate(Tacnet__Roster *r, void *arg, FILE *err)
{
    key_edit_t *k = arg;
    char path[4200], old_path[4300], why[512] = "";
    seal_keys_t *old = NULL, *fresh = NULL;
    uint64_t now = clock_now_ms(), until = now + 730 * CLOCK_DAY_MS;
    uint32_t max_id = 0;
    snprintf(path, sizeof(path), "%s/keys/%s.key", k->dir, k->name);
    int rc = seal_keys_load(path, &old, why, sizeof(why));
    if (rc != 0) {
        fprintf(err, "tacnet provision: %s\n", why);
        return rc;
    }
    for (size_t i = 0; i < r->n_keys; i++) {
        Tacnet__NodeKey *nk = r->keys[i];
        if (nk->agency != k->agency)
            continue;
        max_id = nk->key_id > max_id ? nk->key_id : max_id;
        if (nk->key_id == old->key_id)
            until = nk->valid_until_ms > now ? nk->valid_until_ms : until;
        /* Every older key stays valid for the overlap only, so in-flight events still verify
         * and daemons not yet restarted still connect. */
        if (nk->valid_until_ms > now + k->overlap_ms)
            nk->valid_until_ms = now + k->overlap_ms;
    }
    if (max_id == 0) {
        fprintf(err, "tacnet provision: %s has no key in the roster\n", k->name);
        seal_keys_destroy(&old);
        return TACNET_ENOTFOUND;
    }
    fresh = seal_keys_generate(k->agency, max_id + 1);
    memcpy(fresh->seal_pk, old->seal_pk, SEAL_KEY_BYTES);
    memcpy(fresh->seal_sk, old->seal_sk, SEAL_KEY_BYTES);
    Tacnet__NodeKey *nk = xmalloc(sizeof(*nk));
    tacnet__node_key__init(nk);
    nk->agency = k->agency;
    nk->key_id = fresh->key_id;
    nk->curve_pk = (ProtobufCBinaryData){ SEAL_KEY_BYTES, s_dup(fresh->curve_pk, SEAL_KEY_BYTES) };
    nk->sign_pk = (ProtobufCBinaryData){ SEAL_KEY_BYTES, s_dup(fresh->sign_pk, SEAL_KEY_BYTES) };
    nk->seal_pk = (ProtobufCBinaryData){ SEAL_KEY_BYTES, s_dup(fresh->seal_pk, SEAL_KEY_BYTES) };
    nk->valid_from_ms = now;
    nk->valid_until_ms = until;
    r->keys = realloc(r->keys, (r->n_keys + 1) * sizeof(*r->keys));
    if (!r->keys)
        abort();
    r->keys[r->n_keys++] = nk;
    /* The old key file is kept beside the new one until the overlap has passed. */
    snprintf(old_path, sizeof(old_path), "%s.%u", path, old->key_id);
    if ((rc = seal_keys_save(old, old_path)) == 0)
        rc = seal_keys_save(fresh, path);
    if (rc != 0)
        fprintf(err, "tacnet provision: cannot write %s: %s\n", path, tacnet_strerror(rc));
    else
        fprintf(err, "tacnet provision: %s key %u -> %u (old key valid %llu s more, kept as %s)\n",
                k->name, old->key_id, fresh->key_id, (unsigned long long)(k->overlap_ms / 1000),
                old_path);
    seal_keys_destroy(&old);
    seal_keys_destroy(&fresh);
    return rc;
}

static int s_revoke(Tacnet__Roster *r, void *arg, FILE *err)
{
    key_edit_t *k = arg;
    int n = 0;
    for (size_t i = 0; i < r->n_keys; i++) {
        Tacnet__NodeKey *nk = r->keys[i];
        if (nk->agency != k->agency || (k->key_id && nk->key_id != k->key_id))
            continue;
        nk->has_revoked = 1;
        nk->revoked = 1;
        nk->has_revoked_at_ms = 1;
        nk->revoked_at_ms = k->at_ms;
        n++;
    }
    if (n == 0) {
        fprintf(err, "tacnet provision: %s has no key %u in the roster\n", k->name, k->key_id);
        return TACNET_ENOTFOUND;
    }
    fprintf(err, "tacnet provision: revoked %d key(s) of %s from %llu\n", n, k->name,
            (unsigned long long)k->at_ms);
    return 0;
}

int provision_rotate(const char *dir, const char *name, unsigned overlap_seconds, FILE *err)
{
    key_edit_t k = { .dir = dir, .name = name, .overlap_ms = (uint64_t)overlap_seconds * 1000 };
    if (seal_init() != 0 || s_node_find(name, &k.agency) != 0) {
        fprintf(err, "tacnet provision: unknown node %s\n", name);
        return TACNET_EINVAL;
    }
    return s_roster_edit(dir, s_rotate, &k, err);
}

int provision_revoke(const char *dir, const char *name, uint32_t key_id, uint64_t at_ms, FILE *err)
{
    key_edit_t k = { .dir = dir, .name = name, .key_id = key_id };
    k.at_ms = at_ms ? at_ms : clock_now_ms();
    if (seal_init() != 0 || s_node_find(name, &k.agency) != 0) {
        fprintf(err, "tacnet provision: unknown node %s\n", name);
        return TACNET_EINVAL;
    }
    return s_roster_edit(dir, s_revoke, &k, err);
}
