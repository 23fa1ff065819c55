/* initials: the initials fields of an event body (see initials.h). */
#include "casework/initials.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "policy.h"

/* Deeper than any event body nests; a crafted message cannot recurse past it. */
#define INITIALS_MAX_DEPTH 8

static int s_is_initials_field(const ProtobufCFieldDescriptor *f)
{
    size_t n = strlen(f->name);
    static const char suffix[] = "_initials";
    if (f->type != PROTOBUF_C_TYPE_BYTES)
        return 0;
    return strcmp(f->name, "initials") == 0 ||
           (n > sizeof(suffix) - 1 && strcmp(f->name + n - (sizeof(suffix) - 1), suffix) == 0);
}

/* Is field F of M present (a oneof member only when it is the chosen one)? *COUNT gets its
 * number of elements and *ELEMS where they start. */
static int s_field(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t *count,
                   const void **elems)
{
    const char *base = (const char *)m;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
            return 0;
    }
    *count = 1;
    *elems = base + f->offset;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        *count = *(const size_t *)(base + f->quantifier_offset);
        *elems = *(const void *const *)(base + f->offset);
    }
    return *count > 0;
}

void initials_field_path(char *out, size_t cap, const char *path, const ProtobufCFieldDescriptor *f,
                         size_t k)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        snprintf(out, cap, "%s%s%s[%zu]", path, *path ? "." : "", f->name, k);
    else
        snprintf(out, cap, "%s%s%s", path, *path ? "." : "", f->name);
}

static int s_walk(const ProtobufCMessage *m, const char *path, char *why, size_t cap, int depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (depth > INITIALS_MAX_DEPTH)
        return 0;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        size_t count;
        const void *elems;
        int initials = s_is_initials_field(f);
        if ((!initials && f->type != PROTOBUF_C_TYPE_MESSAGE) || !s_field(m, f, &count, &elems))
            continue;
        for (size_t k = 0; k < count; k++) {
            char sub[192];
            initials_field_path(sub, sizeof(sub), path, f, k);
            if (initials) {
                const ProtobufCBinaryData *b = &((const ProtobufCBinaryData *)elems)[k];
                /* An optional field not sent reads as empty: the professional was not named. */
                if (b->len == 0 || policy_initials_check(b->data, b->len) == 0)
                    continue;
                snprintf(why, cap, "%s", sub);
                return TACNET_EINITIALS;
            }
            const ProtobufCMessage *c = ((const ProtobufCMessage *const *)elems)[k];
            int rc = c ? s_walk(c, sub, why, cap, depth + 1) : 0;
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

int initials_body_check(const ProtobufCMessage *msg, char *path, size_t cap)
{
    if (cap)
        path[0] = '\0';
    return msg ? s_walk(msg, "", path, cap, 0) : 0;
}
