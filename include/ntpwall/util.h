/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers shared by every module: allocation that aborts on OOM,
 * string helpers and scope-bound cleanup macros. */
#ifndef NTPWALL_UTIL_H
#define NTPWALL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocators: never return NULL, abort on exhaustion or size overflow. */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grows *arr (of *cap elements of size elem) so index n fits. */
void xgrow(void **arr, size_t *cap, size_t n, size_t elem);

/* qsort() that takes an empty array as NULL (C says qsort(NULL, 0) is
 * undefined; UBSan reports it). */
void xsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

/* true when a and b are equal ignoring ASCII case. */
bool streq_nocase(const char *a, const char *b);
/* Levenshtein distance, capped at 255; for "did you mean" hints. */
unsigned str_edit_distance(const char *a, const char *b);

/* Reads a whole file (at most max bytes) into a NUL-terminated buffer the
 * caller frees. Returns 0, -errno, or -EFBIG when the file is larger. */
int util_read_file(const char *path, size_t max, char **buf, size_t *len);

/* FNV-1a 64-bit hash, fed piece by piece: start from UTIL_HASH_INIT and
 * pass each result to the next call. Not cryptographic. */
#define UTIL_HASH_INIT 0xcbf29ce484222325ULL
uint64_t util_hash(uint64_t h, const void *data, size_t len);
/* FNV-1a based 64-bit hash of a byte string, hex-printed into out[17]. */
void util_hash_hex(const void *data, size_t len, char out[17]);

static inline void freep(void *p)
{
	free(*(void **)p);
}

#define _cleanup_free_ __attribute__((cleanup(freep)))

#endif
