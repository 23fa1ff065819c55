/* web_fields: an event's recorded fields for people, walked from the generated descriptors so a
 * new field shows without an edit here: field names as words ("Decided date"), enums by their
 * labels, dates as dates, times as times, yes/no for flags and short ids for identifiers. */
#include "web_internal.h"
#include "labels.h"

#include <ctype.h>
#include <string.h>

/* "decided_date" as "Decided date"; a trailing "_ms" or "_id" is not a word people read. */
static void s_field_name(dashboard_buf_t *b, const char *name)
{
    size_t n = strlen(name);
    if (n > 3 && strcmp(name + n - 3, "_ms") == 0)
        n -= 3;
    char out[64];
    size_t k = 0;
    for (size_t i = 0; i < n && k < sizeof(out) - 1; i++)
        out[k++] = name[i] == '_' ? ' ' : i == 0 ? (char)toupper((unsigned char)name[i]) : name[i];
    out[k] = 0;
    dashboard_buf_html(b, out, k);
}

static int s_ends(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

static void s_message(dashboard_buf_t *b, const ProtobufCMessage *m, int depth);

/* One value of field F at P (a pointer into the message, or into a repeated field's array). */
static void s_value(dashboard_buf_t *b, const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_ENUM: {
        const char *l = labels_enum(f->descriptor, *(const int *)p);
        dashboard_buf_printf(b, "%c", toupper((unsigned char)l[0]));
        dashboard_web_text(b, l + 1);
        break;
    }
    case PROTOBUF_C_TYPE_BOOL:
        dashboard_buf_puts(b, *(const protobuf_c_boolean *)p ? "yes" : "no");
        break;
    case PROTOBUF_C_TYPE_UINT32:
        if (s_ends(f->name, "_date"))
            dashboard_web_date(b, *(const uint32_t *)p);
        else
            dashboard_buf_printf(b, "%u", *(const uint32_t *)p);
        break;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
        dashboard_buf_printf(b, "%d", *(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (s_ends(f->name, "_ms"))
            dashboard_web_time(b, *(const uint64_t *)p);
        else
            dashboard_buf_printf(b, "%llu", (unsigned long long)*(const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        dashboard_buf_printf(b, "%lld", (long long)*(const int64_t *)p);
        break;
    case PROTOBUF_C_TYPE_STRING:
        dashboard_web_text(b, *(const char *const *)p);
        break;
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *d = p;
        if (d->len == 16) { /* an identifier: the short form the outbox and CLI show */
            ProtobufCBinaryData part = { 4, d->data + 6 };
            dashboard_buf_puts(b, "<code>");
            dashboard_web_hex(b, part);
            dashboard_buf_puts(b, "</code>");
        } else {
            dashboard_web_bytes(b, *d);
        }
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        s_message(b, *(const ProtobufCMessage *const *)p, depth + 1);
        break;
    default:
        dashboard_buf_puts(b, "—");
    }
}

static size_t s_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(uint64_t);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    default:
        return sizeof(uint32_t);
    }
}

/* Every field M has set, as a definition list. */
static void s_message(dashboard_buf_t *b, const ProtobufCMessage *m, int depth)
{
    if (!m || depth > 4)
        return;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    dashboard_buf_puts(b, "<dl class=\"fields\">");
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const void *p = base + f->offset;
        size_t n = 1;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)(base + f->quantifier_offset);
            p = *(const void *const *)p;
        } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
                   f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE) {
            n = *(const protobuf_c_boolean *)(base + f->quantifier_offset) ? 1 : 0;
        } else if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
            n = *(const void *const *)p ? 1 : 0;
        }
        if (!n || !p)
            continue;
        dashboard_buf_puts(b, "<dt>");
        s_field_name(b, f->name);
        dashboard_buf_puts(b, "</dt><dd>");
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            dashboard_buf_puts(b, "<ul class=\"inline\">");
            for (size_t k = 0; k < n; k++) {
                dashboard_buf_puts(b, "<li>");
                s_value(b, f, (const char *)p + k * s_size(f), depth);
                dashboard_buf_puts(b, "</li>");
            }
            dashboard_buf_puts(b, "</ul>");
        } else {
            s_value(b, f, p, depth);
        }
        dashboard_buf_puts(b, "</dd>");
    }
    dashboard_buf_puts(b, "</dl>");
}

void dashboard_web_body_fields(dashboard_buf_t *b, const Tacnet__Body *body)
{
    if (!body || body->event_case == TACNET__BODY__EVENT__NOT_SET)
        return;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
        &tacnet__body__descriptor, (unsigned)body->event_case);
    if (f && f->type == PROTOBUF_C_TYPE_MESSAGE)
        s_message(b, *(const ProtobufCMessage *const *)((const char *)body + f->offset), 0);
}
