/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to the policy loader (policy*.c): the YAML node tree, the
 * parse context and the scalar parsers shared by the schema tables. */
#ifndef NTPWALL_POLICY_PARSE_H
#define NTPWALL_POLICY_PARSE_H

#include "ntpwall/policy.h"

enum ynode_type { Y_SCALAR, Y_SEQ, Y_MAP };

/* A YAML node. Mapping children alternate key, value. */
struct ynode {
	enum ynode_type type;
	bool plain;		/* unquoted, untagged scalar: may be a number */
	unsigned line, column;
	char *value;		/* scalar text, NUL-terminated */
	struct ynode **kids;
	size_t n, cap;
};

#define CHUNK_NODES 1024

struct policy_chunk {
	struct policy_chunk *next;
	size_t used;
	struct ynode v[CHUNK_NODES];
};

struct policy_ctx {
	struct diags *d;
	const char *file;
	struct policy *p;
	struct policy_chunk *chunks;
	size_t n_nodes;
	const struct ynode *key;	/* of the value being parsed, for section-level findings */
};

struct key_spec;
typedef int (*parse_fn)(struct policy_ctx *c, const struct ynode *v, void *dst,
			const struct key_spec *k);

struct key_spec {
	const char *name;
	parse_fn parse;
	size_t off;		/* of the field in the section's struct */
	unsigned long min, max;	/* numbers; durations in ms */
	const struct key_spec *sub;	/* mappings: their keys, NULL-terminated */
};

struct loc policy_node_loc(const struct policy_ctx *c, const struct ynode *n);
__attribute__((format(printf, 4, 5)))
int policy_err(struct policy_ctx *c, const struct ynode *n, enum diag_code code, const char *fmt, ...);
int policy_tree_build(struct policy_ctx *c, const char *buf, size_t len, struct ynode **root);
void policy_tree_free(struct policy_ctx *c);
const char *policy_type_name(const struct ynode *n);
int policy_want(struct policy_ctx *c, const struct ynode *n, enum ynode_type t, const char *what);
int policy_want_str(struct policy_ctx *c, const struct ynode *n, const char *what);
int policy_parse_map(struct policy_ctx *c, const struct ynode *n, void *base, const struct key_spec *keys);
int policy_p_section(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k);
int policy_p_bool(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k);
int policy_scalar_uint(struct policy_ctx *c, const struct ynode *v, const struct key_spec *k,
		       unsigned long *out);
int policy_p_uint(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k);
int policy_p_duration(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k);
int policy_p_rate(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k);
int policy_p_string(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k);
int policy_p_path(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k);
int policy_p_table(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k);
int policy_p_backend(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k);
int policy_p_otherwise(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k);
int policy_p_families(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k);
int policy_p_versions(struct policy_ctx *c, const struct ynode *v, void *dst, const struct key_spec *k);

#endif
