/*
 * node/counters.h: the node's one table of counters.  Every figure the
 * node reports (the SIGUSR1 / shutdown stats line today; a control socket
 * and a metrics endpoint later) is a row here: its name, help text, kind
 * and where its value comes from.  Nothing else formats them.
 *
 * Owns: the table (static, read-only).  Reads each subsystem's counters
 * through its header (the worker's data-path shard, the handshakes', the
 * lighthouse roles', punching's), the UDP side's (udp_stats), and a few
 * gauges (tables' sizes).  Writes nothing.
 */
#ifndef NODE_COUNTERS_H
#define NODE_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

struct node;
struct sbuf;

enum counter_kind {
	COUNTER_TOTAL, /* only ever grows (a Prometheus counter) */
	COUNTER_GAUGE, /* a level now: tunnels, table sizes */
};

struct counter_def {
	const char *name; /* as in the stats line and cairn(8) */
	const char *help; /* one line */
	enum counter_kind kind;
	uint64_t (*get)(const struct node *n);
};

/* The table, in the order of the stats line; *count rows. */
const struct counter_def *node_counters(size_t *count);

/* "name=value name=value ...", every row in order. */
void node_counters_format(const struct node *n, struct sbuf *out);

/* One row's value by name: 0, or -1 when there is no such row. */
int node_counter(const struct node *n, const char *name, uint64_t *out);

#endif
