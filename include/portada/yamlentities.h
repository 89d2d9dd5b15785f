/*
 * yamlentities: the entities of a YAML entity file (`.yaml`/`.yml`), held
 * whole in memory, handed out one at a time.  Pure code: no I/O.
 *
 * The file has the two shapes of a JSON entity file:
 *
 *     Barcelona: [Barna, Barcelona]        names:
 *     Castellón:                             Barcelona: [Barna, Barcelona]
 *       - Castellon                          La Habana: [Habana]
 *
 * The rules, chosen to agree with the JSON path (jsonscan.c + records.c):
 *
 * - One document whose top level is a mapping of canonical name -> voices.
 *   If its first key is `names` and that value is a mapping, the entities
 *   are that mapping's members and no other key may follow (the JSON
 *   "names" wrapper rule).  A `names` that is not first, or whose value is
 *   not a mapping, is an ordinary entity.  An empty mapping is 0 entities.
 * - Voices are a sequence of scalars; an empty sequence is fine.  A value
 *   that is not a sequence (`name:`, `name: ~`, `name: Barna`, a mapping)
 *   is refused, as JSON refuses anything but an array of strings.
 * - Every scalar is text, exactly as written: plain `yes`, `NO`, `1.0`,
 *   `0x10`, `2001-01-01` are the strings "yes", "NO", "1.0", "0x10",
 *   "2001-01-01" (PyYAML's safe_load would make them a bool, a float, an
 *   int, a date: for names and voices read from a newspaper that is never
 *   what was meant, e.g. NO is Norway).  The one exception is null: a plain
 *   empty, `~`, `null`, `Null` or `NULL` (or anything tagged !!null) as a
 *   name or a voice is refused, as JSON refuses null there; quote it to
 *   mean the text.  A plain `<<` name is refused too (a YAML 1.1 merge key
 *   to PyYAML).  Names must be non-empty without NUL (as in JSON); voices
 *   may be empty or hold NUL (`"a\0b"`), as JSON voices may.
 * - Tags: none, the non-specific `!`, or the core ones that fit the node:
 *   !!str !!int !!float !!bool !!null !!timestamp on scalars, !!seq on
 *   sequences, !!map on mappings.  Any other tag is refused.
 * - Anchors are ignored; every alias is refused (aliases let a small file
 *   expand into a huge one: "billion laughs").  A second document is
 *   refused; `---`, `...`, %YAML and %TAG directives are fine.
 * - Duplicate names are passed on as they come, as the JSON path does (it
 *   does not detect them either); the caller sees both.
 * - Input is UTF-8 (with or without a BOM) or UTF-16 with a BOM, as libyaml
 *   reads it; strings handed out are always valid UTF-8.
 *
 * Memory: libyaml's event API, never a document tree.  At any time the
 * module holds libyaml's fixed buffers and token queue, the current scalar,
 * and the current entity (at most PW_YAML_MAX_VOICES voices and
 * PW_YAML_MAX_ENTITY_BYTES bytes of name plus voices).  Nesting deeper than
 * name -> voice is refused at its first event, so depth stays bounded too.
 *
 * Lines and columns are 1-based; columns count characters; a line ends at
 * LF, CR, CRLF, U+0085, U+2028 or U+2029 (libyaml's YAML 1.1 breaks).
 */
#ifndef PORTADA_YAMLENTITIES_H
#define PORTADA_YAMLENTITIES_H

#include <stddef.h>

#include "portada/error.h"

/* The same bound as the JSON path's default max_record_bytes. */
#define PW_YAML_MAX_ENTITY_BYTES	((size_t)16 * 1024 * 1024)
#define PW_YAML_MAX_VOICES		100000

/* A string handed out: valid UTF-8, data[len] == '\0'. */
struct pw_yaml_str {
	const char *data;
	size_t len;
};

/*
 * Called once per entity, in document order.  name (NUL-terminated,
 * name_len bytes) and voices are valid only during the call; line/column
 * are where the entity's key starts.  Return 0 to go on, or -1 with err
 * set to stop parsing with that error.
 */
typedef int (*pw_yaml_entity_fn)(void *ctx, const char *name, size_t name_len,
    const struct pw_yaml_str *voices, size_t nvoices, size_t line,
    size_t column, struct pw_error *err);

/*
 * Parse buf[0..len) and call fn for each entity.  Returns 0 when the whole
 * file was read and every call succeeded, else -1 with err set; entities
 * before the error have been handed out.  Errors read like
 *   "invalid YAML at line 3, column 5: could not find expected ':'
 *    (while scanning a simple key at line 2, column 1)"
 *   "entity \"Vigo\" at line 9, column 1: voices must be a sequence of
 *    strings, found a mapping at element 3 (line 11, column 5)"
 *   "alias *a at line 4, column 9: aliases are not allowed in entity files"
 * Encoding errors (invalid UTF-8 or UTF-16, a control character YAML
 * does not allow) are found before parsing, so no entity precedes them.
 */
int pw_yaml_entities(const char *buf, size_t len, pw_yaml_entity_fn fn,
    void *ctx, struct pw_error *err) PW_MUST_CHECK;

#endif
