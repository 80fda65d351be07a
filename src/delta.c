/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Element-level difference between a live and a wanted ruleset: a merge of
 * two sorted element lists per set. */
#include "ntpwall/delta.h"
#include "ntpwall/util.h"

#include <string.h>

static bool due(const struct ir_elem *live, const struct ir_elem *want, uint64_t renew_ms)
{
	if (!want->timeout_ms || !renew_ms)
		return false;
	return renew_ms == DELTA_RENEW_ALL || live->expires_ms < renew_ms;
}

/* Walk both sorted lists of one set. */
static void set_diff(const struct ir_set *live, const struct ir_set *want, uint64_t renew_ms,
		     struct set_delta *sd, struct ruleset_delta *d)
{
	size_t i = 0, j = 0;

	/* At most every live element goes and every wanted one comes. */
	sd->del = xcalloc(live->n_elems + 1, sizeof(*sd->del));
	sd->add = xcalloc(want->n_elems + 1, sizeof(*sd->add));
	while (i < live->n_elems || j < want->n_elems) {
		const struct ir_elem *l = i < live->n_elems ? &live->elems[i] : NULL;
		const struct ir_elem *w = j < want->n_elems ? &want->elems[j] : NULL;
		int c = !l ? 1 : !w ? -1 : ir_elem_cmp(l, w);

		if (c < 0) {
			sd->del[sd->n_del++] = l;
			d->deleted++;
			i++;
		} else if (c > 0) {
			sd->add[sd->n_add++] = w;
			d->added++;
			j++;
		} else {
			/* Same key: a changed timeout or comment is a replacement. */
			if (!ir_elem_equal(l, w) || due(l, w, renew_ms)) {
				sd->del[sd->n_del++] = l;
				sd->add[sd->n_add++] = w;
				d->renewed++;
			}
			i++;
			j++;
		}
	}
}

bool ruleset_delta(const struct ir_ruleset *live, const struct ir_ruleset *wanted,
		   uint64_t renew_ms, struct ruleset_delta *d)
{
	memset(d, 0, sizeof(*d));
	d->table = wanted->table;
	if (!ir_ruleset_same_shape(live, wanted))
		return false;
	for (size_t i = 0; i < wanted->n_sets; i++) {
		struct set_delta sd = { .set = &wanted->sets[i] };

		/* Filled from the packet path (rate-limit meters): not ours. */
		if (wanted->sets[i].flags & IR_SET_DYNAMIC)
			continue;
		set_diff(&live->sets[i], &wanted->sets[i], renew_ms, &sd, d);
		if (!sd.n_del && !sd.n_add) {
			free(sd.del);
			free(sd.add);
			continue;
		}
		d->sets = xreallocarray(d->sets, d->n_sets + 1, sizeof(*d->sets));
		d->sets[d->n_sets++] = sd;
	}
	return true;
}

bool ruleset_delta_empty(const struct ruleset_delta *d)
{
	return d->n_sets == 0;
}

void ruleset_delta_free(struct ruleset_delta *d)
{
	for (size_t i = 0; i < d->n_sets; i++) {
		free(d->sets[i].del);
		free(d->sets[i].add);
	}
	free(d->sets);
	memset(d, 0, sizeof(*d));
}
