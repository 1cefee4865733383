/*
 * lib/config.h: Nebula 1.6.1 configuration files (YAML) as an immutable
 * tree, with strict typed getters.
 *
 * Loading follows Nebula's config.C.Load (gopkg.in/yaml.v2 + mergo 0.3.8):
 *
 *  - A file path is loaded whatever its extension.  A directory is walked
 *    recursively (symlinks followed, loops skipped) and every file whose
 *    name ends in ".yml" or ".yaml" is loaded; the files are sorted by
 *    their absolute path (byte order) and merged in that order.  Nothing
 *    found: "no config files found at PATH".
 *  - Each file: the first YAML document only; an empty file or a null
 *    document is an empty map; otherwise the top level must be a map.
 *    Plain scalars are resolved as yaml.v2 does (YAML 1.1: `yes`/`on` are
 *    booleans, `0x10` is the integer 16, `1e3` the float 1000, `~` null)
 *    and are then seen through their Go %v text ("true", "16", "1000").
 *    Quoted scalars are strings.  Aliases and `<<` merge keys work as in
 *    yaml.v2 (pairs are applied in order, so a `<<` after a key overrides
 *    it; in a `<<: [*a, *b]` list the earlier map wins).
 *  - Stricter than Nebula, refused with file, key path and line: YAML
 *    syntax errors, duplicate keys in one map, non-scalar map keys, NUL
 *    characters in strings, !!binary, explicit tags that do not fit
 *    (`!!int abc`), nesting deeper than CONFIG_MAX_DEPTH, and documents
 *    that expand (through aliases) to more than CONFIG_MAX_NODES nodes or
 *    CONFIG_MAX_BYTES bytes of scalar text.
 *  - Merging file B (later) over the merge A of the earlier files, key by
 *    key, exactly as mergo.Merge(&B, A, mergo.WithAppendSlice) does:
 *      . maps merge recursively;
 *      . lists are concatenated, B's elements FIRST, then A's; so with
 *        files 1, 2, 3 a list is file 3's items, then 2's, then 1's;
 *      . a list in A and anything but a list or null in B is an error;
 *      . otherwise B's value wins, unless B's value is absent, null or a
 *        Go zero value (false, 0, 0.0, "", [] or {}): then A's value is
 *        kept.  So a later `false` or `0` does NOT override an earlier
 *        `true` or `5` -- Nebula's behaviour, kept for compatibility.
 *    Merged maps keep B's key order followed by keys only A has.
 *
 * Getters are strict where Nebula silently falls back to the default:
 * absent keys (and YAML null) give the default, but a value that is
 * present and unusable is an error naming FILE, KEY PATH and LINE.  Keys
 * nobody asks for are ignored.  Key paths are dotted ("pki.ca"); sequence
 * items are written "[i]" counting from 0 ("firewall.inbound[2].port").
 *
 * Nodes reached through an alias are shared with the anchored node and
 * report the anchor's file and line.  Everything returned points into the
 * config and lives until config_free().
 */
#ifndef VPN_CONFIG_H
#define VPN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_DEPTH 64         /* nesting levels, aliases expanded */
#define CONFIG_MAX_NODES 1000000    /* nodes per document, expanded */
#define CONFIG_MAX_BYTES (16 << 20) /* scalar bytes per document, expanded */
#define CONFIG_MAX_FILE (32 << 20)  /* bytes per file */
#define CONFIG_MAX_FILES 10000      /* files per directory load */
#define CONFIG_PATH_LEN 256         /* a key path buffer, as in config_err */

struct config;      /* opaque, immutable after load */
struct config_node; /* opaque, owned by the config */

enum config_type { CONFIG_NULL, CONFIG_SCALAR, CONFIG_SEQ, CONFIG_MAP };

/* Empty strings and line 0 mean "unknown". */
struct config_err {
	char file[512];
	char key[CONFIG_PATH_LEN];
	int line;
	char msg[256];
};

/*
 * Load PATH (a file or a directory, see above).  0: *out is the caller's
 * (config_free).  Else a negative VPN_ERR_* with *err filled (err may be
 * NULL): VPN_ERR_INVAL for bad or missing configuration, VPN_ERR_RANGE
 * for the size limits, VPN_ERR_SYS when a file or directory cannot be
 * read, VPN_ERR_NOMEM.
 */
int config_load(const char *path, struct config **out, struct config_err *err);
/* The same for YAML text in memory; NAME (NULL: "<string>") is its file. */
int config_load_string(const char *yaml, size_t len, const char *name,
    struct config **out, struct config_err *err);
void config_free(struct config *cfg); /* NULL-safe */

/* The files loaded, in merge order (absolute paths, or the string name). */
size_t config_nfiles(const struct config *cfg);
const char *config_file(const struct config *cfg, size_t i);

/*
 * Lookup by dotted path, as Nebula's Get: NULL if absent or if a path
 * component is not a map.  "" is the root map.  Only string keys match
 * (a YAML key `1` is the integer 1, as in Nebula).
 */
const struct config_node *config_get(
    const struct config *cfg, const char *path);
/* One level, no dots: for keys that contain dots ("192.168.100.1"). */
const struct config_node *config_node_get(
    const struct config_node *map, const char *key);

/* Node accessors; all are NULL-safe (NULL, 0 or CONFIG_NULL). */
enum config_type config_node_type(const struct config_node *n);
const char *config_node_file(const struct config_node *n);
int config_node_line(const struct config_node *n); /* from 1; 0 unknown */
/* A scalar's text as Go's %v prints it ("true" for yes, "16" for 0x10). */
const char *config_node_scalar(const struct config_node *n);
/* A scalar's text as written in the file (without quotes). */
const char *config_node_raw(const struct config_node *n);
size_t config_node_len(const struct config_node *n); /* items or pairs */
const struct config_node *config_node_item(
    const struct config_node *seq, size_t i);
/* Pair i of a map: the key's %v text (raw text for a null key). */
const char *config_node_key(const struct config_node *map, size_t i);
const struct config_node *config_node_keynode(
    const struct config_node *map, size_t i);
const struct config_node *config_node_value(
    const struct config_node *map, size_t i);

/*
 * Strict typed getters by path.  Absent key, YAML null, or a null map on
 * the way: *out = def, return 0.  Present but unusable, or a non-map on
 * the way: VPN_ERR_INVAL (VPN_ERR_RANGE for a number outside min..max or
 * a duration that overflows) with err filled.  On error *out is left
 * untouched.
 *
 * str: any scalar, as its %v text.
 * int: a scalar whose %v text is a decimal integer (Go strconv.Atoi).
 * bool: true/false however YAML spells them (yes, on, ...) or a string
 *   that is, ignoring case, one of 1 t true y yes / 0 f false n no.
 * duration: a Go duration string ("300ms", "1h30m", and "0"); a bare
 *   number such as 1 is refused.  Nanoseconds.
 * str_list: a sequence of scalars; *out is a malloc'd array of pointers
 *   into the tree (free the array only); absent or empty: NULL, 0.
 * map, list: the node itself, if it is of that type; absent: NULL.
 */
int config_str(const struct config *cfg, const char *path, const char *def,
    const char **out, struct config_err *err);
int config_int(const struct config *cfg, const char *path, int64_t def,
    int64_t min, int64_t max, int64_t *out, struct config_err *err);
int config_bool(const struct config *cfg, const char *path, bool def, bool *out,
    struct config_err *err);
int config_duration(const struct config *cfg, const char *path, int64_t def_ns,
    int64_t *out, struct config_err *err);
int config_str_list(const struct config *cfg, const char *path,
    const char ***out, size_t *n, struct config_err *err);
int config_map(const struct config *cfg, const char *path,
    const struct config_node **out, struct config_err *err);
int config_list(const struct config *cfg, const char *path,
    const struct config_node **out, struct config_err *err);

/*
 * The same on a node already in hand (walking lists and maps).  NODE may
 * be NULL (absent); KEYPATH is the node's key path, used in errors.
 */
int config_node_str(const struct config_node *n, const char *keypath,
    const char *def, const char **out, struct config_err *err);
int config_node_int(const struct config_node *n, const char *keypath,
    int64_t def, int64_t min, int64_t max, int64_t *out,
    struct config_err *err);
int config_node_bool(const struct config_node *n, const char *keypath, bool def,
    bool *out, struct config_err *err);
int config_node_duration(const struct config_node *n, const char *keypath,
    int64_t def_ns, int64_t *out, struct config_err *err);
int config_node_str_list(const struct config_node *n, const char *keypath,
    const char ***out, size_t *count, struct config_err *err);
int config_node_map(const struct config_node *n, const char *keypath,
    const struct config_node **out, struct config_err *err);
int config_node_list(const struct config_node *n, const char *keypath,
    const struct config_node **out, struct config_err *err);

/*
 * For callers' own checks: fill *err (if not NULL) with N's file and line
 * (none if N is NULL), KEYPATH and the formatted message; returns CODE.
 */
int config_node_err(struct config_err *err, const struct config_node *n,
    const char *keypath, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * Key paths for errors: "parent.key" (the key in ["..."] when it contains
 * '.', '[', ']', '"' or is empty), and "parent[i]".  A NULL or empty
 * parent gives the bare key.  Truncated to len bytes (NUL included).
 */
void config_path_key(
    char *buf, size_t len, const char *parent, const char *key);
void config_path_index(char *buf, size_t len, const char *parent, size_t i);

/* "FILE:LINE: KEY: MSG", leaving out the parts that are unknown. */
void config_err_format(const struct config_err *err, char *buf, size_t len);

/*
 * The merged configuration (or one node) as YAML, aliases expanded, keys
 * sorted much as yaml.v2 sorts them (numbers first, then strings in a
 * natural order: "k9" before "k10") but totally, so that a dump loads
 * back to the same dump.  malloc'd; NULL when out of memory.
 */
char *config_dump(const struct config *cfg);
char *config_node_dump(const struct config_node *n);

#endif
