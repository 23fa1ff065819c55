/* provision: keys and the signed roster for a partnership (its policies come from policyfile). */
#include "provision.h"
#include "agencies.h"
#include "agencyconf.h"
#include "err.h"
#include "clock.h"
#include "policyfile.h"
#include "roster.h"
#include "seal.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
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
/* The broker, every agency agencies.conf may list, and the partnership contact. */
#define MAX_NODES (AGENCIES_MAX + 2)

/* One node to provision: its id and the name its key file takes. */
typedef struct {
    uint32_t agency;
    const char *name;
} node_t;

/* The nodes of R: the broker, then R's agencies (agencies.conf) or, with none, the four named
 * agencies, then the partnership contact when PARTNERSHIP. Returns how many. */
static size_t s_nodes_of(const Tacnet__Roster *r, int partnership, node_t out[MAX_NODES])
{
    size_t n = 0;
    out[n++] = (node_t){ TACNET__AGENCY__BROKER, "broker" };
    for (size_t i = 0; i < r->n_agencies && n < MAX_NODES - 1; i++)
        out[n++] = (node_t){ r->agencies[i]->id, r->agencies[i]->name };
    for (size_t i = 0; r->n_agencies == 0 && i < N_NODES; i++)
        if (s_nodes[i].agency != TACNET__AGENCY__BROKER &&
            s_nodes[i].agency != TACNET__AGENCY__PARTNERSHIP)
            out[n++] = (node_t){ s_nodes[i].agency, s_nodes[i].name };
    if (partnership)
        out[n++] = (node_t){ TACNET__AGENCY__PARTNERSHIP, "partnership" };
    return n;
}

/* agencies.conf into R (made the process's table, so the sharing policy may name its
 * agencies): O's path, else the one beside the sharing policy (the partnership's policy files
 * sit together). Absent where not required: none, and the four named agencies are
 * provisioned. */
static int s_agencies_load(const provision_opts_t *o, Tacnet__Roster *r, FILE *err)
{
    char why[512] = "", beside[4200];
    const char *path = o->agencies_path;
    if (!path && o->sharing_path) {
        const char *slash = strrchr(o->sharing_path, '/');
        int dir = slash ? (int)(slash - o->sharing_path) : 1;
        snprintf(beside, sizeof(beside), "%.*s/agencies.conf", dir, slash ? o->sharing_path : ".");
        path = beside;
    }
    if (!path || (!o->agencies_required && access(path, F_OK) != 0))
        return 0;
    int rc = agencyconf_load(path, r, why, sizeof(why));
    if (rc != 0) {
        fprintf(err, "tacnet provision: %s (%s)\n", why, tacnet_errname(rc));
        return rc;
    }
    agencies_register(r->agencies, r->n_agencies);
    return 0;
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
        if (mkdir(buf, 0750) != 0 && errno != EEXIST)
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
    seal_keys_t *root = NULL, *keys[MAX_NODES] = { 0 };
    Tacnet__NodeKey nk[MAX_NODES];
    Tacnet__NodeKey *nkp[MAX_NODES];
    node_t nodes[MAX_NODES];
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
    if ((rc = s_agencies_load(o, &r, err)) != 0)
        goto fail;
    if ((rc = policyfile_load(o->sharing_path, o->escalation_path, &r, why, sizeof(why))) != 0 ||
        (rc = agencyconf_sharing_check(&r, why, sizeof(why))) != 0) {
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
    if ((rc = s_write_file(path, hex, strlen(hex), 0640)) != 0)
        goto fail_io;

    uint64_t now = clock_now_ms();
    unsigned days = o->validity_days ? o->validity_days : 730;
    size_t n_nodes = s_nodes_of(&r, o->partnership, nodes);
    for (size_t i = 0; i < n_nodes; i++) {
        keys[i] = seal_keys_generate(nodes[i].agency, 1);
        snprintf(path, sizeof(path), "%s/keys/%s.key", o->out_dir, nodes[i].name);
        if ((rc = seal_keys_save(keys[i], path)) != 0)
            goto fail_io;
        tacnet__node_key__init(&nk[i]);
        nk[i].agency = (Tacnet__Agency)nodes[i].agency;
        nk[i].key_id = 1;
        nk[i].curve_pk = (ProtobufCBinaryData){ SEAL_KEY_BYTES, keys[i]->curve_pk };
        nk[i].sign_pk = (ProtobufCBinaryData){ SEAL_KEY_BYTES, keys[i]->sign_pk };
        nk[i].seal_pk = (ProtobufCBinaryData){ SEAL_KEY_BYTES, keys[i]->seal_pk };
        nk[i].valid_from_ms = now - CLOCK_DAY_MS;
        nk[i].valid_until_ms = now + (uint64_t)days * CLOCK_DAY_MS;
        nkp[i] = &nk[i];
    }
    r.version = 1;
    r.issued_at_ms = now;
    r.n_keys = n_nodes;
    r.keys = nkp;
    if ((rc = roster_sign(&r, root, &signed_roster, &signed_len)) != 0)
        goto fail;
    snprintf(path, sizeof(path), "%s/roster.bin", o->out_dir);
    if ((rc = s_write_file(path, signed_roster, signed_len, 0640)) != 0)
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
    policyfile_free(&r);
    agencyconf_free(&r);
    for (size_t i = 0; i < MAX_NODES; i++)
        seal_keys_destroy(&keys[i]);
    seal_keys_destroy(&root);
    return rc;
}

/* ---------------------------------------------------------------- rotate and revoke */

/* NAME's id: a named node, or an agency the partnership's roster at DIR declares (loading it
 * fills the table agencies_find reads). */
static int s_node_find(const char *dir, const char *name, Tacnet__Agency *agency)
{
    for (size_t i = 0; i < N_NODES; i++) {
        if (strcmp(s_nodes[i].name, name) == 0) {
            *agency = s_nodes[i].agency;
            return 0;
        }
    }
    char path[4200];
    uint8_t root_pk[SEAL_KEY_BYTES];
    uint32_t id = 0;
    int rc = 0;
    snprintf(path, sizeof(path), "%s/root.pub", dir);
    if (roster_root_load(path, root_pk) != 0)
        return TACNET_EINVAL;
    snprintf(path, sizeof(path), "%s/roster.bin", dir);
    roster_t *r = roster_load(path, root_pk, &rc);
    rc = r && agencies_find(name, &id) == 0 ? 0 : TACNET_EINVAL;
    roster_destroy(&r);
    *agency = (Tacnet__Agency)id;
    return rc;
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
    if ((rc = s_write_file(path, signed_roster, signed_len, 0640)) != 0) {
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
    if (seal_init() != 0 || s_node_find(dir, name, &k.agency) != 0) {
        fprintf(err, "tacnet provision: unknown node %s\n", name);
        return TACNET_EINVAL;
    }
    return s_roster_edit(dir, s_rotate, &k, err);
}

int provision_revoke(const char *dir, const char *name, uint32_t key_id, uint64_t at_ms, FILE *err)
{
    key_edit_t k = { .dir = dir, .name = name, .key_id = key_id };
    k.at_ms = at_ms ? at_ms : clock_now_ms();
    if (seal_init() != 0 || s_node_find(dir, name, &k.agency) != 0) {
        fprintf(err, "tacnet provision: unknown node %s\n", name);
        return TACNET_EINVAL;
    }
    return s_roster_edit(dir, s_revoke, &k, err);
}
