/* cfg: table-driven INI configuration files, refused loudly when wrong.
 *
 * Each program describes every setting it understands in one static table of cfg_option_t
 * (section, key, type, default, range, required, help), in the manner of Redis's config.c. The
 * file is parsed with inih and checked against that table: unknown sections and keys, values that
 * do not parse or are out of range, keys given twice, sections opened twice and missing required
 * keys are all refused, with a reason naming `file:line` and the key, so a typo such as
 * `bind_adress` cannot silently fall back to a default.
 *
 * Each row is also bound to the field of the program's config struct it fills (CFG_FIELD, as
 * Redis's `createIntConfig(name, ..., &server.field, default, ...)`): cfg_fill copies a loaded
 * file into the struct and cfg_defaults_fill gives a struct built without a file (tests,
 * benches) the same defaults, so each default is written once, in its row, and constructors do
 * not default again.
 *
 * File syntax: `[section]` headers, `key = value` lines, whole-line comments starting with '#' or
 * ';'. Values are taken verbatim (no quotes, no escapes); a comment after a value or a section
 * header is refused rather than read as part of it (or silently dropped); indented
 * (continuation) lines are refused; lines are at most CFG_MAX_LINE - 1 bytes.
 *
 * Types:
 *   CFG_STRING    any text, may be empty.
 *   CFG_INT       decimal integer (optional sign), within [min, max].
 *   CFG_BOOL      yes/no, true/false, on/off, 1/0 (any case).
 *   CFG_PATH      non-empty; a relative path is resolved against the directory of the config
 *                 file (defaults too), so a daemon finds its files whatever its working directory.
 *                 "credential:NAME" is $CREDENTIALS_DIRECTORY/NAME, the file systemd's
 *                 LoadCredential= provides (refused when that variable is unset).
 *   CFG_DURATION  a number with a unit: ms, s, m, h or d ("250ms", "30s", "5m", "2h", "10d");
 *                 stored in milliseconds, and [min, max] are milliseconds.
 * For CFG_INT and CFG_DURATION, min == max == 0 means no range limit.
 */
#ifndef TACNET_CFG_H
#define TACNET_CFG_H

#include <stddef.h>

#define CFG_MAX_LINE          200
#define CFG_CREDENTIAL_PREFIX "credential:"

enum cfg_type { CFG_STRING, CFG_INT, CFG_BOOL, CFG_PATH, CFG_DURATION };

typedef struct cfg_option {
    const char *section;       /* "" for keys before any [section] header */
    const char *key;           /* case-sensitive, as written in the file */
    enum cfg_type type;        /* how the value is parsed and checked */
    const char *default_value; /* used when the key is absent; NULL: no value */
    long min;                  /* range for CFG_INT and CFG_DURATION (ms) */
    long max;                  /* min == max == 0: unbounded */
    int required;              /* 1: the file must set this key */
    const char *help;          /* one line for people; not used by the parser */
    /* The binding: every row ends with CFG_FIELD(type, member), CFG_FIELD_SCALED(type, member,
     * scale) or CFG_NO_FIELD (read with the getters only). CFG_STRING and CFG_PATH fill a
     * `const char *`, CFG_BOOL an int; CFG_INT and CFG_DURATION fill an integer field of 1, 2,
     * 4 or 8 bytes (signed or unsigned) with value * scale. */
    size_t offset; /* offsetof the field in the struct cfg_fill is given */
    size_t size;   /* sizeof the field; 0: not bound */
    long scale;    /* CFG_INT, CFG_DURATION: the field holds value * scale (0 counts as 1) */
} cfg_option_t;

/* Bind a row to MEMBER of struct TYPE; MEMBER may be nested (`retention.audit_days`). */
#define CFG_FIELD(type, member) CFG_FIELD_SCALED(type, member, 1)
/* The same, the field holding the value times SCALE: CFG_MIB for a `_mb` key whose field is in
 * bytes. */
#define CFG_FIELD_SCALED(type, member, scale) \
    offsetof(type, member), sizeof(((type *)0)->member), (scale)
#define CFG_NO_FIELD 0, 0, 0
#define CFG_MIB      (1L << 20)

typedef struct cfg cfg_t;

/* Load PATH and check it against TABLE (N entries). TABLE must outlive the returned object.
 * Returns an owned cfg_t (free with cfg_destroy) or NULL with *ERR set to TACNET_ENOTFOUND (no
 * such file), TACNET_EIO (unreadable) or TACNET_ECONFIG (content refused), and a one-line
 * reason in WHY (e.g. `broker.conf:12: unknown key "bind_adress" in [broker]`). ERR and WHY may
 * be NULL. The defaults in TABLE must be valid: an invalid default, a table listing a key
 * twice, or a binding whose field cannot hold the row's values (a string row not bound to a
 * pointer, an integer range that does not fit the field's size once scaled) is a programmer
 * error (assert). */
cfg_t *cfg_load(const char *path, const cfg_option_t *table, size_t n, int *err, char *why,
                size_t whylen);

/* The same from TEXT in memory. NAME stands for the file name in reasons and its directory is
 * the base for relative PATH values (NULL: "<string>", relative paths left as written). */
cfg_t *cfg_load_string(const char *text, const char *name, const cfg_option_t *table, size_t n,
                       int *err, char *why, size_t whylen);

void cfg_destroy(cfg_t **self_p);

/* Getters return the value from the file, else the table's default. Asking for a key that is not
 * in the table, or with the wrong getter for its type, is a programmer error (assert).
 * cfg_str serves CFG_STRING and CFG_PATH; the string belongs to SELF (NULL when absent with no
 * default). cfg_int gives 0 and cfg_bool 0 when absent with no default. */
const char *cfg_str(const cfg_t *self, const char *section, const char *key);
long cfg_int(const cfg_t *self, const char *section, const char *key);
int cfg_bool(const cfg_t *self, const char *section, const char *key);
/* A CFG_DURATION value in milliseconds. */
long cfg_duration_ms(const cfg_t *self, const char *section, const char *key);

/* The line that set KEY in the file, or 0 when it took its default. */
int cfg_line(const cfg_t *self, const char *section, const char *key);

/* Write every bound row's value (from the file, else its default) into the struct at BASE, the
 * struct the table's CFG_FIELD bindings name. Rows with no binding, and fields with no row, are
 * left as they were. Strings point into SELF: they live until cfg_destroy. A row absent with no
 * default writes NULL or 0. */
void cfg_fill(const cfg_t *self, void *base);

/* Write every bound row's default into the struct at BASE, as cfg_fill would after loading a
 * file that sets nothing, but without a file: for tests and benches that build a config
 * directly (set the required paths yourself). Required keys are not checked. Strings point at
 * the table's own text (a relative CFG_PATH default is left as written: there is no file to
 * resolve it against). The same table checks as cfg_load (assert). */
void cfg_defaults_fill(const cfg_option_t *table, size_t n, void *base);

#endif
