/*
 * test/unit/test_counters.c: the node's table of counters: every row is
 * well formed and documented in cairn(8), and the stats line shows each
 * value under its name, in the table's order.
 */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "hostmap.h"
#include "io.h"
#include "nodeint.h"
#include "worker.h"
#include "sbuf.h"

static void
test_counters_table_well_formed(void **state)
{
	const struct counter_def *t;
	size_t n, i, j, k;

	(void)state;
	t = node_counters(&n);
	assert_true(n >= 40);
	for (i = 0; i < n; i++) {
		assert_non_null(t[i].name);
		assert_non_null(t[i].get);
		assert_true(strlen(t[i].help) > 5);
		assert_true(t[i].kind == COUNTER_TOTAL ||
		            t[i].kind == COUNTER_GAUGE);
		for (k = 0; t[i].name[k] != '\0'; k++)
			if (!((t[i].name[k] >= 'a' && t[i].name[k] <= 'z') ||
			        (t[i].name[k] >= 'A' && t[i].name[k] <= 'Z')))
				fail_msg("name %s", t[i].name);
		for (j = i + 1; j < n; j++)
			if (strcmp(t[i].name, t[j].name) == 0)
				fail_msg("%s twice", t[i].name);
	}
}

/* Each name is an item of cairn(8)'s list of statistics. */
static void
test_counters_documented(void **state)
{
	const struct counter_def *t;
	size_t n, i, len;
	char *man = tu_slurp("../man/cairn.8", &len), *p, want[64];
	bool found;

	(void)state;
	t = node_counters(&n);
	for (i = 0; i < n; i++) {
		found = false;
		for (p = man; (p = strstr(p, "\n.It ")) != NULL && !found;
		     p++) {
			char *eol = strchr(p + 1, '\n');

			snprintf(want, sizeof(want), " %s", t[i].name);
			for (char *q = p + 4; q != NULL && q < eol && !found;) {
				q = strstr(q, want);
				if (q == NULL || q > eol)
					break;
				found = q[1 + strlen(t[i].name)] == '\n' ||
				        q[1 + strlen(t[i].name)] == ' ';
				q++;
			}
		}
		if (!found)
			fail_msg("%s is not in cairn(8)", t[i].name);
	}
	free(man);
}

static void
test_counters_format(void **state)
{
	struct node n;
	struct io_udp *udp;
	struct sbuf b;
	uint64_t v;
	char err[256];
	const struct counter_def *t;
	size_t cnt, i;
	char *p, want[64];

	(void)state;
	memset(&n, 0, sizeof(n));
	assert_non_null(n.base = event_base_new());
	assert_int_equal(io_udp_kernel("127.0.0.1", 0, 0, 0, false, 0, &udp, err,
	                     sizeof(err)),
	    0);
	assert_int_equal(worker_start(&n, udp, NULL, &n.wk), 0);
	assert_non_null(n.hm = hostmap_new());
	n.wk->st.rx_replay = 7;
	n.wk->st.fw_peer_full = 123456789012345ULL;
	assert_true(hostmap_reserve(n.hm, 42, 100));
	n.wk->gro.joined = 5;
	sbuf_init(&b);
	node_counters_format(&n, &b);
	assert_true(sbuf_ok(&b));
	sbuf_add(&b, "", 1);
	assert_non_null(strstr(b.s, " rxReplay=7 "));
	assert_non_null(strstr(b.s, " queuedBytes=42 "));
	assert_non_null(strstr(b.s, " groJoined=5 "));
	assert_non_null(strstr(b.s, " fwPeerFull=123456789012345"));
	assert_memory_equal(b.s, "tunnels=0 pending=0 udpRx=0 ", 28);
	/* every name once, in the table's order */
	t = node_counters(&cnt);
	for (p = b.s, i = 0; i < cnt; i++) {
		snprintf(want, sizeof(want), "%s%s=", i > 0 ? " " : "",
		    t[i].name);
		p = strstr(p, want);
		if (p == NULL)
			fail_msg("%s missing or out of order", t[i].name);
	}
	sbuf_free(&b);
	/* and by name, as a control socket will ask */
	assert_int_equal(node_counter(&n, "rxReplay", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(node_counter(&n, "hsCompleted", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(node_counter(&n, "noSuchCounter", &v), -1);
	hostmap_release(n.hm, 42);
	hostmap_free(n.hm);
	worker_free(n.wk);
	event_base_free(n.base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counters_table_well_formed),
	    cmocka_unit_test(test_counters_documented),
	    cmocka_unit_test(test_counters_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
