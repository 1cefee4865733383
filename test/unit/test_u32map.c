/* test/unit/test_u32map.c: the hash table against a reference array. */
#include <stdlib.h>

/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "err.h"
#include "u32map.h"

#define N 4096

/* Random puts and deletes, checked after every step against a model. */
static void
test_u32map_matches_model(void **state)
{
	static uintptr_t model[N];
	struct u32map m;
	uint32_t key, k;
	size_t i, live = 0, step, it;
	void *v;

	(void)state;
	u32map_init(&m);
	srand(7);
	for (step = 0; step < 200000; step++) {
		key = (uint32_t)rand() % N;
		/* Keys cluster in a few slots so probing runs are long. */
		k = key * 65536u;
		if (rand() % 3 != 0) {
			live += model[key] == 0;
			model[key] = step + 1;
			assert_int_equal(u32map_put(&m, k, (void *)model[key]),
			    0);
		} else {
			v = u32map_del(&m, k);
			assert_ptr_equal(v, (void *)model[key]);
			live -= model[key] != 0;
			model[key] = 0;
		}
		if (step % 997 == 0)
			for (i = 0; i < N; i++)
				assert_ptr_equal(u32map_get(&m, (uint32_t)i *
				                                    65536u),
				    (void *)model[i]);
	}
	assert_int_equal(m.len, live);
	for (it = 0, i = 0; u32map_next(&m, &it, &k, &v); i++)
		assert_ptr_equal(v, (void *)model[k / 65536u]);
	assert_int_equal(i, live);
	u32map_free(&m);
}

static void
test_u32map_edge_cases(void **state)
{
	struct u32map m;
	int x;

	(void)state;
	u32map_init(&m);
	assert_null(u32map_get(&m, 0));
	assert_null(u32map_del(&m, 0));
	assert_int_equal(u32map_put(&m, 1, NULL), VPN_ERR_INVAL);
	assert_int_equal(u32map_put(&m, 0, &x), 0);
	assert_int_equal(u32map_put(&m, 0xffffffffu, &x), 0);
	assert_ptr_equal(u32map_get(&m, 0), &x);
	assert_ptr_equal(u32map_get(&m, 0xffffffffu), &x);
	assert_int_equal(m.len, 2);
	u32map_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_u32map_matches_model),
	    cmocka_unit_test(test_u32map_edge_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
