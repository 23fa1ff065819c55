/* pbjson_schema: JSON Schemas of pbjson's JSON, from the descriptors (see pbjson_schema.h). */
#include "pbjson_schema.h"
#include "agencies.h"
#include "names.h"
#include "pbjson.h"

#include <stdio.h>
#include <string.h>

static int s_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The same tests as pbjson.c's: what an identifier and a date are. */
static int s_is_hex(const ProtobufCFieldDescriptor *f)
{
    return strcmp(f->name, "msg_id") == 0 || strcmp(f->name, "refers_to") == 0 ||
           s_ends_with(f->name, "_id") || s_ends_with(f->name, "_ids");
}

static json_t *s_ref(const ProtobufCMessageDescriptor *d, const char *prefix)
{
    char ref[256];
    snprintf(ref, sizeof(ref), "%s%s", prefix, d->name);
    return json_pack("{s:s}", "$ref", ref);
}

static json_t *s_enum(const ProtobufCEnumDescriptor *e)
{
    json_t *names = json_array();
    for (unsigned i = 0; i < e->n_values; i++)
        json_array_append_new(names, json_string(names_enum(e, e->values[i].value)));
    if (e == &tacnet__agency__descriptor) {
        /* The roster's agencies beyond the enum are agency names too (agencies.h). */
        uint32_t ids[AGENCIES_MAX];
        size_t n = agencies_list(ids, AGENCIES_MAX);
        for (size_t i = 0; i < n; i++)
            if (!protobuf_c_enum_descriptor_get_value(e, (int)ids[i]))
                json_array_append_new(names, json_string(agencies_name(ids[i])));
    }
    return json_pack("{s:[{s:s, s:o}, {s:s}], s:s}", "anyOf", "type", "string", "enum", names,
                     "type", "integer", "description", e->short_name);
}

/* The schema of one value of field F. */
static json_t *s_value(json_t *defs, const ProtobufCFieldDescriptor *f, const char *prefix)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return json_pack("{s:s}", "type", "integer");
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (s_ends_with(f->name, "_date"))
            return json_pack("{s:[{s:s, s:s}, {s:s, s:i}]}", "anyOf", "type", "string", "format",
                             "date", "type", "integer", "minimum", 0);
        return json_pack("{s:s, s:i, s:I}", "type", "integer", "minimum", 0, "maximum",
                         (json_int_t)UINT32_MAX);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (pbjson_field_time(f)) /* from the year 10000 on, the milliseconds themselves */
            return json_pack("{s:[{s:s, s:s}, {s:s, s:I}]}", "anyOf", "type", "string", "format",
                             "date-time", "type", "integer", "minimum",
                             (json_int_t)253402300800000ll);
        return json_pack("{s:[{s:s, s:i}, {s:s, s:s}]}", "anyOf", "type", "integer", "minimum", 0,
                         "type", "string", "pattern", "^[0-9]+$");
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return json_pack("{s:s}", "type", "number");
    case PROTOBUF_C_TYPE_BOOL:
        return json_pack("{s:s}", "type", "boolean");
    case PROTOBUF_C_TYPE_ENUM:
        return s_enum(f->descriptor);
    case PROTOBUF_C_TYPE_STRING:
        return json_pack("{s:s}", "type", "string");
    case PROTOBUF_C_TYPE_BYTES:
        if (s_is_hex(f))
            return json_pack("{s:s, s:s}", "type", "string", "pattern", "^([0-9a-fA-F]{2})*$");
        return json_pack("{s:s}", "type", "string");
    case PROTOBUF_C_TYPE_MESSAGE:
        return pbjson_schema_add(defs, f->descriptor, prefix);
    default:
        return json_object();
    }
}

json_t *pbjson_schema_add(json_t *defs, const ProtobufCMessageDescriptor *d, const char *prefix)
{
    if (json_object_get(defs, d->name))
        return s_ref(d, prefix);
    json_t *props = json_object(), *required = json_array();
    json_t *schema = json_pack("{s:s, s:s, s:o, s:b}", "type", "object", "title", d->short_name,
                               "properties", props, "additionalProperties", 0);
    /* In DEFS before its fields: a message that contains itself refers to it. */
    json_object_set_new(defs, d->name, schema);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        json_t *v = s_value(defs, f, prefix);
        char key[64];
        if (pbjson_field_by_agency(f)) {
            json_decref(v);
            v = json_pack("{s:s, s:s, s:{s:s, s:i, s:I}}", "type", "object", "description",
                          "keyed by agency name", "additionalProperties", "type", "integer",
                          "minimum", 1, "maximum", (json_int_t)UINT32_MAX);
        } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            v = json_pack("{s:s, s:o}", "type", "array", "items", v);
        }
        json_object_set_new(props, pbjson_field_key(f, key, sizeof(key)), v);
        if (f->label == PROTOBUF_C_LABEL_REQUIRED)
            json_array_append_new(required, json_string(pbjson_field_key(f, key, sizeof(key))));
    }
    if (json_array_size(required))
        json_object_set_new(schema, "required", required);
    else
        json_decref(required);
    return s_ref(d, prefix);
}
