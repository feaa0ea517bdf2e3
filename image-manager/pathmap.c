/* SPDX-License-Identifier: Apache-2.0 */
/* Open addressing with linear probing, FNV-1a hashes, doubled at 70% load
 * (see pathmap.h). Nodes are never removed while an import runs. */
#include "pathmap.h"

#include <stdint.h>
#include <string.h>

#include "util.h"

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

void launch_pathmap_init(struct launch_pathmap *m)
{
	m->cap = 1024;
	m->n = 0;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
}

void launch_pathmap_clear(struct launch_pathmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i]) {
			free(m->slots[i]->path);
			free(m->slots[i]);
		}
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

static size_t find(const struct launch_pathmap *m, const char *path, size_t len)
{
	size_t i = (size_t)hash(path, len) & (m->cap - 1);
	while (m->slots[i] && !(strlen(m->slots[i]->path) == len && !memcmp(m->slots[i]->path, path, len)))
		i = (i + 1) & (m->cap - 1);
	return i;
}

struct launch_pnode *launch_pathmap_get(const struct launch_pathmap *m, const char *path, size_t len)
{
	return m->slots[find(m, path, len)];
}

static void grow(struct launch_pathmap *m)
{
	struct launch_pathmap bigger = { xcalloc(m->cap * 2, sizeof(*m->slots)), m->cap * 2, m->n };
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i]) {
			const char *p = m->slots[i]->path;
			bigger.slots[find(&bigger, p, strlen(p))] = m->slots[i];
		}
	free(m->slots);
	*m = bigger;
}

struct launch_pnode *launch_pathmap_add(struct launch_pathmap *m, const char *path, size_t len)
{
	size_t i = find(m, path, len);
	if (m->slots[i])
		return m->slots[i];
	if ((m->n + 1) * 10 > m->cap * 7) {
		grow(m);
		i = find(m, path, len);
	}
	struct launch_pnode *node = xcalloc(1, sizeof(*node));
	node->path = xstrndup(path, len);
	node->layer = node->deleted_by = node->opaque_at = -1;
	m->slots[i] = node;
	m->n++;
	return node;
}
