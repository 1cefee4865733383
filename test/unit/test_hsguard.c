/* test/unit/test_hsguard.c: the admission of handshake messages 1. */
#include <stdlib.h>
#include <string.h>

/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "hsguard.h"

#define MS 1000000LL
#define SEC 1000000000LL
#define T0 (1000 * SEC)

static struct hsguard *
guard(int pct, int rate)
{
	struct hsguard *g;

	assert_int_equal(hsguard_new(pct, rate, 12345, T0, &g), 0);
	return g;
}

/* Spend the whole bank at once: the next message waits, and goes when
 * the share of the elapsed time has paid the debt back. */
static void
test_hsguard_budget(void **state)
{
	struct hsguard *g = guard(50, 10);
	int64_t w;

	(void)state;
	assert_false(hsguard_under_load(g, T0));
	assert_int_equal(hsguard_admit(g, 1, T0), HSG_ADMIT);
	hsguard_spent(g, HSGUARD_BURST_NS + 10 * MS); /* 10 ms in debt */
	assert_true(hsguard_under_load(g, T0));
	assert_int_equal(hsguard_admit(g, 1, T0), HSG_BUSY);
	/* a known source once the debt is paid (10 ms at 50 %), another
	 * once a quarter of the bank is back too */
	w = hsguard_wait(g, true, T0);
	assert_true(w > 19 * MS && w <= 21 * MS);
	w = hsguard_wait(g, false, T0);
	assert_true(w > 69 * MS && w <= 71 * MS);
	assert_int_equal(hsguard_admit(g, 1, T0 + 69 * MS), HSG_BUSY);
	assert_int_equal(hsguard_admit(g, 1, T0 + 71 * MS), HSG_ADMIT);
	assert_int_equal(hsguard_stats(g)->busy, 2);
	assert_int_equal(hsguard_stats(g)->admitted, 2);
	assert_int_equal(hsguard_stats(g)->under_load, 1);
	/* a second later the bank is full again and the load mode over */
	assert_false(hsguard_under_load(g, T0 + 2 * SEC));
	assert_int_equal(hsguard_wait(g, false, T0 + 2 * SEC), 0);
	hsguard_free(g);
}

/* Under load, the last quarter of the bank is for known sources. */
static void
test_hsguard_known_first(void **state)
{
	struct hsguard *g = guard(100, 10);

	(void)state;
	hsguard_completed(g, 0x0a000001);
	assert_true(hsguard_known(g, 0x0a000001));
	assert_false(hsguard_known(g, 0x0a000002));
	assert_false(hsguard_known(g, 0)); /* never a source */
	/* leave 20 % of the bank: under load, below the reserve */
	assert_int_equal(hsguard_admit(g, 0x0a000002, T0), HSG_ADMIT);
	hsguard_spent(g, HSGUARD_BURST_NS * 8 / 10);
	assert_int_equal(hsguard_admit(g, 0x0a000002, T0), HSG_BUSY);
	assert_int_equal(hsguard_admit(g, 0x0a000001, T0), HSG_ADMIT);
	assert_int_equal(hsguard_stats(g)->known_first, 1);
	/* the stranger waits until the bank is back above the quarter */
	assert_true(hsguard_wait(g, false, T0) > 4 * MS);
	assert_int_equal(hsguard_wait(g, true, T0), 0);
	hsguard_free(g);
}

/* Per-source buckets apply only under load, and per source. */
static void
test_hsguard_per_source(void **state)
{
	struct hsguard *g = guard(10, 3); /* under load for 1/2 s */
	int i, dropped = 0;

	(void)state;
	for (i = 0; i < 100; i++) /* out of load: no limit */
		assert_false(hsguard_over_rate(g, 7, T0));
	hsguard_spent(g, HSGUARD_BURST_NS); /* into load */
	for (i = 0; i < 10; i++)
		dropped += hsguard_over_rate(g, 7, T0 + 1);
	assert_int_equal(dropped, 7); /* a burst of 3 */
	assert_false(hsguard_over_rate(g, 8, T0 + 1)); /* another source */
	/* a third of a second later, one more */
	assert_false(hsguard_over_rate(g, 7, T0 + 1 + SEC / 3 + MS));
	assert_true(hsguard_over_rate(g, 7, T0 + 1 + SEC / 3 + 2 * MS));
	assert_int_equal(hsguard_stats(g)->source_limited, 8);
	/* new limits apply at once */
	hsguard_set(g, 50, 1000);
	assert_false(hsguard_over_rate(g, 7, T0 + 1 + SEC / 2));
	hsguard_free(g);
}

/* Many sources: the table stays bounded and every source still gets its
 * burst the first time it is seen. */
static void
test_hsguard_many_sources(void **state)
{
	struct hsguard *g = guard(10, 1);
	uint32_t s;
	int over = 0;

	(void)state;
	hsguard_spent(g, HSGUARD_BURST_NS);
	for (s = 1; s <= 100000; s++)
		over += hsguard_over_rate(g, s, T0 + s);
	assert_int_equal(over, 0);
	hsguard_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hsguard_budget),
	    cmocka_unit_test(test_hsguard_known_first),
	    cmocka_unit_test(test_hsguard_per_source),
	    cmocka_unit_test(test_hsguard_many_sources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
