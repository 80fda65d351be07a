/* SPDX-License-Identifier: GPL-2.0-or-later */
/* YAML to a node tree with positions, from libyaml events. Aliases and
 * anchors are refused (no alias bombs), depth and node count are bounded. */
#include "policy_parse.h"
#include "ntpwall/util.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <yaml.h>

struct loc policy_node_loc(const struct policy_ctx *c, const struct ynode *n)
{
	return (struct loc){ .file = c->file, .line = n->line, .column = n->column };
}

int policy_err(struct policy_ctx *c, const struct ynode *n, enum diag_code code, const char *fmt, ...)
{
	struct loc l = policy_node_loc(c, n);
	char *msg;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	diag_add(c->d, &l, DIAG_ERROR, code, "%s", msg);
	free(msg);
	return -EINVAL;
}

static struct ynode *node_new(struct policy_ctx *c, enum ynode_type t, const yaml_mark_t *m)
{
	struct ynode *n;

	if (!c->chunks || c->chunks->used == CHUNK_NODES) {
		struct policy_chunk *ch = xmalloc(sizeof(*ch));

		ch->next = c->chunks;
		ch->used = 0;
		c->chunks = ch;
	}
	n = &c->chunks->v[c->chunks->used++];
	memset(n, 0, sizeof(*n));
	n->type = t;
	/* libyaml counts from 0; every loc in ntpwall counts from 1. */
	n->line = m->line + 1;
	n->column = m->column + 1;
	c->n_nodes++;
	return n;
}

void policy_tree_free(struct policy_ctx *c)
{
	while (c->chunks) {
		struct policy_chunk *ch = c->chunks;

		for (size_t i = 0; i < ch->used; i++) {
			free(ch->v[i].value);
			free(ch->v[i].kids);
		}
		c->chunks = ch->next;
		free(ch);
	}
}

static void node_add_kid(struct ynode *parent, struct ynode *kid)
{
	xgrow((void **)&parent->kids, &parent->cap, parent->n, sizeof(*parent->kids));
	parent->kids[parent->n++] = kid;
}

/* Line and column (from 1, in characters) of byte off of buf. Line breaks
 * are LF, CRLF and CR, as libyaml counts them. */
static struct loc offset_loc(const struct policy_ctx *c, const char *buf, size_t off)
{
	struct loc l = { c->file, 1, 1 };

	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n' || (buf[i] == '\r' && (i + 1 >= off || buf[i + 1] != '\n'))) {
			l.line++;
			l.column = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			l.column++;
		}
	}
	return l;
}

/* buf starts after a byte order mark of bom bytes: the byte named counts
 * it, the column does not. */
static int reader_error(struct policy_ctx *c, const yaml_parser_t *yp, const char *buf, size_t len,
			size_t bom)
{
	size_t off = yp->problem_offset < len ? yp->problem_offset : len;
	struct loc l = offset_loc(c, buf, off);

	return diag_add(c->d, &l, DIAG_ERROR, NW102_ENCODING,
			"%s at byte %zu: the policy must be UTF-8 text",
			yp->problem ? yp->problem : "unreadable input", yp->problem_offset + bom);
}

/* Contexts whose mark is where an unclosed quote or bracket opened: the
 * problem is found only at the end of the file or of the collection. */
static const struct {
	const char *context;
	const char *opener;
} openers[] = {
	{ "while scanning a quoted scalar", "the quote opened here is not closed" },
	{ "while parsing a flow sequence", "the '[' opened here has no matching ']'" },
	{ "while parsing a flow mapping", "the '{' opened here has no matching '}'" },
};

static int opener_error(struct policy_ctx *c, const yaml_parser_t *yp)
{
	for (size_t i = 0; i < ARRAY_SIZE(openers); i++) {
		struct loc l = { c->file, yp->context_mark.line + 1, yp->context_mark.column + 1 };

		if (strcmp(yp->context, openers[i].context))
			continue;
		return diag_add(c->d, &l, DIAG_ERROR, NW101_SYNTAX, "YAML: %s: %s at line %zu, column %zu",
				openers[i].opener, yp->problem ? yp->problem : "syntax error",
				yp->problem_mark.line + 1, yp->problem_mark.column + 1);
	}
	return 0;
}

static int yaml_error(struct policy_ctx *c, const yaml_parser_t *yp, const char *buf, size_t len,
		      size_t bom)
{
	const yaml_mark_t *m = yp->problem ? &yp->problem_mark : &yp->context_mark;
	struct loc l = { c->file, m->line + 1, m->column + 1 };

	if (yp->error == YAML_READER_ERROR)
		return reader_error(c, yp, buf, len, bom);
	if (yp->context && opener_error(c, yp))
		return -EINVAL;
	if (yp->context)
		diag_add(c->d, &l, DIAG_ERROR, NW101_SYNTAX, "YAML: %s %s", yp->context,
			 yp->problem ? yp->problem : "");
	else
		diag_add(c->d, &l, DIAG_ERROR, NW101_SYNTAX, "YAML: %s",
			 yp->problem ? yp->problem : "syntax error");
	if (m->index < len && buf[m->index] == '\t')
		diag_hint(c->d, "YAML does not allow tabs for indentation; use spaces");
	return -EINVAL;
}

/* Handle one event; *stack holds the open collections. */
static int tree_event(struct policy_ctx *c, const yaml_event_t *ev, struct ynode **stack,
		      size_t *depth, struct ynode **root, unsigned *docs)
{
	struct ynode *n = NULL;
	const yaml_char_t *anchor = NULL;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1) {
			struct loc l = { c->file, ev->start_mark.line + 1, ev->start_mark.column + 1 };

			return diag_add(c->d, &l, DIAG_ERROR, NW105_DOCUMENT,
					"a policy is one YAML document; found a second one");
		}
		return 0;
	case YAML_ALIAS_EVENT: {
		struct loc l = { c->file, ev->start_mark.line + 1, ev->start_mark.column + 1 };

		return diag_add(c->d, &l, DIAG_ERROR, NW104_ALIAS,
				"YAML aliases are not allowed in a policy; write the value out");
	}
	case YAML_SCALAR_EVENT:
		n = node_new(c, Y_SCALAR, &ev->start_mark);
		n->value = xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		if (strlen(n->value) != ev->data.scalar.length)
			return policy_err(c, n, NW102_ENCODING, "NUL character in a value");
		n->plain = ev->data.scalar.plain_implicit && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		anchor = ev->data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		n = node_new(c, Y_SEQ, &ev->start_mark);
		anchor = ev->data.sequence_start.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		n = node_new(c, Y_MAP, &ev->start_mark);
		anchor = ev->data.mapping_start.anchor;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		(*depth)--;
		return 0;
	default:
		return 0;
	}
	if (anchor)
		return policy_err(c, n, NW104_ALIAS, "YAML anchors are not allowed in a policy");
	if (c->n_nodes > POLICY_MAX_NODES)
		return policy_err(c, n, NW103_TOO_LARGE, "more than %u YAML nodes", POLICY_MAX_NODES);
	if (*depth == 0)
		*root = n;
	else
		node_add_kid(stack[*depth - 1], n);
	if (n->type != Y_SCALAR) {
		if (*depth >= POLICY_MAX_DEPTH)
			return policy_err(c, n, NW103_TOO_LARGE, "nesting deeper than %d levels",
				   POLICY_MAX_DEPTH);
		stack[(*depth)++] = n;
	}
	return 0;
}

int policy_tree_build(struct policy_ctx *c, const char *buf, size_t len, struct ynode **root)
{
	struct ynode *stack[POLICY_MAX_DEPTH];
	yaml_parser_t yp;
	yaml_event_t ev;
	size_t depth = 0;
	unsigned docs = 0;
	int ret = 0;
	bool done = false;
	/* YAML allows a byte order mark; with the encoding set, libyaml would
	 * read it as text. Positions count from after it, as editors show them. */
	size_t bom = len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3) ? 3 : 0;

	*root = NULL;
	buf += bom;
	len -= bom;
	if (!yaml_parser_initialize(&yp))
		abort();
	yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&yp, YAML_UTF8_ENCODING);
	while (!done && ret == 0) {
		if (!yaml_parser_parse(&yp, &ev)) {
			ret = yaml_error(c, &yp, buf, len, bom);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		ret = tree_event(c, &ev, stack, &depth, root, &docs);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&yp);
	return ret;
}
