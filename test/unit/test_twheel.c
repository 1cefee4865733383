/* test/unit/test_twheel.c: the timing wheel, by hand and against a model. */
#include <stdlib.h>
#include <string.h>

/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "err.h"
#include "twheel.h"

#define TICK 1000

struct item {
	int id;
	struct twheel_entry te;
};

static struct item *
item_of(struct twheel_entry *e)
{
	return (struct item *)(void *)((char *)e - offsetof(struct item, te));
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/* White box: every ring is well formed, every entry in it is armed and in
 * its home slot, and the rings hold count entries. */
static void
check_wheel(const struct twheel *w)
{
	struct twheel_entry *h, *e;
	size_t s, n = 0;
	int64_t t;

	for (s = 0; s < w->nslots; s++) {
		if ((h = w->slot[s]) == NULL)
			continue;
		e = h;
		do {
			assert_true(e->armed);
			assert_ptr_equal(e->next->prev, e);
			assert_ptr_equal(e->prev->next, e);
			t = floor_div(e->at, w->tick);
			if (t <= w->cursor)
				t = w->cursor + 1;
			assert_int_equal((uint64_t)t & (w->nslots - 1), s);
			n++;
			assert_true(n <= w->count);
		} while ((e = e->next) != h);
	}
	assert_int_equal(n, w->count);
}

/* Drain the wheel at now: every entry returned must be due and armed
 * (per `armed'); afterwards nothing in `it' may be armed and due. */
static size_t
drain(struct twheel *w, int64_t now, struct item *it, size_t n)
{
	struct twheel_entry *e;
	size_t i, got = 0;

	while ((e = twheel_expire(w, now)) != NULL) {
		assert_false(e->armed);
		assert_null(e->next);
		assert_true(e->at <= now);
		got++;
	}
	for (i = 0; i < n; i++)
		assert_false(it[i].te.armed && it[i].te.at <= now);
	check_wheel(w);
	return got;
}

static void
test_twheel_init_rounding(void **state)
{
	static const size_t in[] = {0, 1, 2, 3, 4, 5, 1000, 1024, 1025};
	static const size_t out[] = {2, 2, 2, 4, 4, 8, 1024, 1024, 2048};
	struct twheel w;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_int_equal(twheel_init(&w, TICK, in[i], 5500), 0);
		assert_int_equal(w.nslots, out[i]);
		assert_int_equal(w.tick, TICK);
		assert_int_equal(w.cursor, 4);
		assert_int_equal(w.count, 0);
		assert_int_equal(twheel_next(&w), INT64_MAX);
		assert_null(twheel_expire(&w, 5500));
		twheel_free(&w);
		assert_null(w.slot);
		twheel_free(&w);
	}
	assert_int_equal(twheel_init(&w, 0, 8, 0), VPN_ERR_INVAL);
	twheel_free(&w);
	assert_int_equal(twheel_init(&w, 1, SIZE_MAX, 0), VPN_ERR_NOMEM);
	twheel_free(&w);
}

static void
test_twheel_fires_at_deadline(void **state)
{
	struct twheel w;
	struct item a;
	int64_t now, at = 10000 + 3 * TICK + 517;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(twheel_init(&w, TICK, 8, 10000), 0);
	twheel_add(&w, &a.te, at);
	assert_true(a.te.armed);
	assert_int_equal(w.count, 1);
	for (now = 10000; now < at; now += 7) {
		assert_null(twheel_expire(&w, now));
		assert_true(a.te.armed);
	}
	assert_null(twheel_expire(&w, at - 1));
	assert_ptr_equal(twheel_expire(&w, at), &a.te);
	assert_false(a.te.armed);
	assert_int_equal(w.count, 0);
	assert_null(twheel_expire(&w, at));
	assert_null(twheel_expire(&w, at + 100 * TICK));
	twheel_free(&w);
}

static void
test_twheel_past_deadline(void **state)
{
	struct twheel w;
	struct item a, b, c;
	int64_t now = 50 * TICK + 300;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	assert_int_equal(twheel_init(&w, TICK, 4, 0), 0);
	/* Sweep up to now first, so that these land behind the cursor. */
	assert_null(twheel_expire(&w, now));
	twheel_add(&w, &a.te, now - 7 * TICK); /* behind the cursor */
	twheel_add(&w, &b.te, now - 200);      /* in the current tick */
	twheel_add(&w, &c.te, -123456789);     /* long ago */
	check_wheel(&w);
	assert_true(twheel_next(&w) <= -123456789);
	assert_int_equal(drain(&w, now, NULL, 0), 3);
	assert_false(a.te.armed || b.te.armed || c.te.armed);
	/* Now equal to the deadline counts as due. */
	twheel_add(&w, &a.te, now);
	assert_ptr_equal(twheel_expire(&w, now), &a.te);
	twheel_free(&w);
}

/* Entries whole rotations ahead come out exactly when due, not when the
 * sweep passes their slot in an earlier round. */
static void
test_twheel_many_rotations(void **state)
{
	enum { NSLOTS = 8, N = 40 };
	struct item it[N];
	struct twheel w;
	struct twheel_entry *e;
	int64_t start = 3 * TICK, now, prev, rot = NSLOTS * TICK;
	size_t i, got = 0;

	(void)state;
	memset(it, 0, sizeof(it));
	assert_int_equal(twheel_init(&w, TICK, NSLOTS, start), 0);
	for (i = 0; i < N; i++) {
		it[i].id = (int)i;
		/* Same slot, k rotations ahead, for k up to 10. */
		twheel_add(&w, &it[i].te,
		    start + (int64_t)(i % 11) * rot + (int64_t)(i / 11) * 97);
	}
	twheel_add(&w, &it[0].te, start + 10 * rot); /* exactly 10 rounds */
	check_wheel(&w);
	prev = start - 1;
	for (now = start; now <= start + 11 * rot; now += 13) {
		while ((e = twheel_expire(&w, now)) != NULL) {
			/* Due, and not due at the previous call. */
			assert_true(e->at <= now);
			assert_true(e->at > prev);
			got++;
		}
		prev = now;
	}
	assert_int_equal(got, N);
	assert_int_equal(w.count, 0);
	twheel_free(&w);
}

static void
test_twheel_del(void **state)
{
	struct twheel w;
	struct item a, b, never;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&never, 0, sizeof(never));
	assert_int_equal(twheel_init(&w, TICK, 8, 0), 0);
	twheel_add(&w, &a.te, 5 * TICK);
	twheel_add(&w, &b.te, 5 * TICK + 1);
	twheel_del(&w, &a.te);
	assert_false(a.te.armed);
	assert_int_equal(w.count, 1);
	twheel_del(&w, &a.te); /* not armed: no-op */
	twheel_del(&w, &never.te);
	assert_int_equal(w.count, 1);
	check_wheel(&w);
	assert_ptr_equal(twheel_expire(&w, 100 * TICK), &b.te);
	assert_null(twheel_expire(&w, 100 * TICK));
	twheel_del(&w, &b.te); /* fired: no-op */
	assert_int_equal(w.count, 0);
	twheel_free(&w);
}

static void
test_twheel_readd_moves(void **state)
{
	struct twheel w;
	struct item a;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(twheel_init(&w, TICK, 8, 0), 0);
	twheel_add(&w, &a.te, 2 * TICK);
	twheel_add(&w, &a.te, 30 * TICK + 5); /* later, other slot and round */
	assert_int_equal(w.count, 1);
	check_wheel(&w);
	assert_null(twheel_expire(&w, 2 * TICK));
	assert_null(twheel_expire(&w, 30 * TICK + 4));
	assert_ptr_equal(twheel_expire(&w, 30 * TICK + 5), &a.te);
	/* And earlier. */
	twheel_add(&w, &a.te, 90 * TICK);
	twheel_add(&w, &a.te, 31 * TICK);
	assert_int_equal(w.count, 1);
	assert_ptr_equal(twheel_expire(&w, 31 * TICK), &a.te);
	assert_null(twheel_expire(&w, 200 * TICK));
	twheel_free(&w);
}

/* The retry pattern: each timer that fires is re-armed for later from
 * inside the expire loop. */
static void
test_twheel_readd_in_loop(void **state)
{
	enum { N = 50 };
	struct item it[N];
	struct twheel w;
	struct twheel_entry *e;
	int64_t now = 7 * TICK + 11;
	size_t i, got = 0;
	int id, again = 0;

	(void)state;
	memset(it, 0, sizeof(it));
	assert_int_equal(twheel_init(&w, TICK, 4, 0), 0);
	for (i = 0; i < N; i++) {
		it[i].id = (int)i;
		twheel_add(&w, &it[i].te, now - (int64_t)i);
	}
	while ((e = twheel_expire(&w, now)) != NULL) {
		got++;
		if (item_of(e)->id == 3 && !again) {
			/* Re-armed as still due: it comes back in this loop. */
			again = 1;
			twheel_add(&w, e, now);
			continue;
		}
		/* 1..3 ticks later; some a whole rotation on (same slot). */
		id = item_of(e)->id;
		twheel_add(&w, e, now + (id % 4 == 0 ? 4 : id % 3 + 1) * TICK);
		assert_true(got <= N + 1);
	}
	assert_int_equal(got, N + 1);
	assert_int_equal(w.count, N);
	check_wheel(&w);
	assert_int_equal(drain(&w, now + TICK - 1, it, N), 0);
	assert_int_equal(drain(&w, now + TICK, it, N), 12);
	assert_int_equal(drain(&w, now + 2 * TICK, it, N), 13);
	assert_int_equal(drain(&w, now + 3 * TICK, it, N), 12);
	assert_int_equal(drain(&w, now + 4 * TICK, it, N), 13);
	assert_int_equal(w.count, 0);
	twheel_free(&w);
}

static int64_t
rnd(int64_t lo, int64_t hi) /* in [lo, hi] */
{
	return lo + (int64_t)((uint64_t)rand() % (uint64_t)(hi - lo + 1));
}

/* 1000 rotations pass between two calls: everything due comes out once. */
static void
test_twheel_long_jump(void **state)
{
	enum { NSLOTS = 16, N = 2000 };
	static struct item it[N];
	static int seen[N];
	struct twheel w;
	struct twheel_entry *e;
	int64_t rot = NSLOTS * TICK, start = 1000000, now;
	size_t i, due = 0, got = 0;

	(void)state;
	memset(it, 0, sizeof(it));
	memset(seen, 0, sizeof(seen));
	srand(11);
	assert_int_equal(twheel_init(&w, TICK, NSLOTS, start), 0);
	now = start + 1000 * rot;
	for (i = 0; i < N; i++) {
		it[i].id = (int)i;
		twheel_add(&w, &it[i].te, start + rnd(-rot, 1100 * rot));
		due += it[i].te.at <= now;
	}
	assert_true(due > 0 && due < N);
	while ((e = twheel_expire(&w, now)) != NULL) {
		assert_true(e->at <= now);
		assert_int_equal(seen[item_of(e)->id]++, 0);
		got++;
	}
	assert_int_equal(got, due);
	assert_int_equal(w.count, N - due);
	assert_int_equal(w.cursor, floor_div(now, TICK) - 1);
	check_wheel(&w);
	for (i = 0; i < N; i++)
		assert_int_equal(seen[i], it[i].te.at <= now);
	/* The rest come out on time, too. */
	for (; w.count > 0; now += TICK / 3)
		drain(&w, now, it, N);
	twheel_free(&w);
}

/* Random adds, deletes and advances, with the caller also re-arming and
 * deleting from inside the expire loop, against a brute-force model: the
 * entries' own at and armed fields, which the model sets independently. */
static void
test_twheel_matches_model(void **state)
{
	enum { NSLOTS = 16, N = 300 };
	static struct item it[N];
	static bool armed[N];
	static int64_t at[N];
	struct twheel w;
	struct twheel_entry *e;
	int64_t rot = NSLOTS * TICK, now = 123457, min;
	size_t i, step, live, loops;
	bool advanced;
	int r, id;

	(void)state;
	memset(it, 0, sizeof(it));
	memset(armed, 0, sizeof(armed));
	srand(2024);
	assert_int_equal(twheel_init(&w, TICK, NSLOTS, now), 0);
	for (i = 0; i < N; i++)
		it[i].id = (int)i;
	for (step = 0; step < 20000; step++) {
		r = rand() % 100;
		id = rand() % N;
		advanced = r >= 60;
		if (r < 45) {
			switch (rand() % 4) {
			case 0:
				at[id] = now + rnd(-3 * rot, 0);
				break;
			case 1:
				at[id] = now + rnd(0, 2 * TICK);
				break;
			case 2:
				at[id] = now + rnd(0, 2 * rot);
				break;
			default:
				at[id] = now + rnd(0, 30 * rot);
				break;
			}
			armed[id] = true;
			twheel_add(&w, &it[id].te, at[id]);
		} else if (r < 60) {
			armed[id] = false;
			twheel_del(&w, &it[id].te);
		} else {
			if (r < 85)
				now += rnd(0, TICK);
			else if (r < 98)
				now += rnd(0, 3 * rot);
			else
				now += rnd(50 * rot, 1000 * rot);
			loops = 0;
			while ((e = twheel_expire(&w, now)) != NULL) {
				id = item_of(e)->id;
				assert_true(armed[id]);
				assert_true(at[id] <= now);
				assert_int_equal(e->at, at[id]);
				assert_false(e->armed);
				armed[id] = false;
				assert_true(++loops < 10 * N);
				r = rand() % 8;
				if (r == 0) { /* re-arm, perhaps still due */
					at[id] = now + rnd(-TICK, 3 * rot);
					armed[id] = true;
					twheel_add(&w, e, at[id]);
				} else if (r == 1) { /* touch another one */
					e = &it[rand() % N].te;
					id = item_of(e)->id;
					armed[id] = rand() % 2;
					at[id] = now + rnd(-rot, rot);
					if (armed[id])
						twheel_add(&w, e, at[id]);
					else
						twheel_del(&w, e);
				}
			}
		}
		/* Nothing due is left after a drain; count and flags agree. */
		live = 0;
		min = INT64_MAX;
		for (i = 0; i < N; i++) {
			assert_int_equal(it[i].te.armed, armed[i]);
			if (!armed[i])
				continue;
			live++;
			if (at[i] < min)
				min = at[i];
			if (advanced)
				assert_true(at[i] > now);
		}
		assert_int_equal(w.count, live);
		assert_true(twheel_next(&w) <= min);
		if (live == 0)
			assert_int_equal(twheel_next(&w), INT64_MAX);
		if (step % 97 == 0)
			check_wheel(&w);
	}
	twheel_free(&w);
}

static void
test_twheel_next(void **state)
{
	struct twheel w;
	struct item a, b;
	int64_t now = 20 * TICK + 1;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_int_equal(twheel_init(&w, TICK, 8, now), 0);
	assert_int_equal(twheel_next(&w), INT64_MAX);
	/* The start of the deadline's tick. */
	twheel_add(&w, &a.te, now + 3 * TICK + 500);
	assert_int_equal(twheel_next(&w), 23 * TICK);
	/* Many rotations ahead: never later than the deadline. */
	twheel_add(&w, &a.te, now + 10 * 8 * TICK + 500);
	assert_true(twheel_next(&w) <= a.te.at);
	assert_true(twheel_next(&w) >= 20 * TICK);
	/* The earlier of two; a, whose slot comes first in this round,
	 * may make it earlier still. */
	twheel_add(&w, &b.te, now + 2 * TICK);
	assert_true(twheel_next(&w) <= b.te.at);
	twheel_del(&w, &a.te);
	assert_int_equal(twheel_next(&w), 22 * TICK);
	twheel_add(&w, &a.te, now + 5 * TICK);
	assert_int_equal(twheel_next(&w), 22 * TICK);
	/* Overdue: its own deadline. */
	twheel_add(&w, &b.te, now - 5 * TICK);
	assert_int_equal(twheel_next(&w), now - 5 * TICK);
	twheel_del(&w, &b.te);
	twheel_del(&w, &a.te);
	assert_int_equal(twheel_next(&w), INT64_MAX);
	/* Due later in the tick under way: its deadline, not the tick's
	 * start, which has passed (a timer set from it would spin). */
	now = 21 * TICK + 100;
	assert_null(twheel_expire(&w, now));
	twheel_add(&w, &a.te, now + 500);
	assert_null(twheel_expire(&w, now));
	assert_int_equal(twheel_next(&w), now + 500);
	twheel_del(&w, &a.te);
	/* Whole rotations ahead in that slot: the next tick's start. */
	twheel_add(&w, &a.te, now + 8 * TICK);
	assert_null(twheel_expire(&w, now));
	assert_int_equal(twheel_next(&w), 22 * TICK);
	assert_true(twheel_next(&w) > now);
	twheel_del(&w, &a.te);
	twheel_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_twheel_init_rounding),
	    cmocka_unit_test(test_twheel_fires_at_deadline),
	    cmocka_unit_test(test_twheel_past_deadline),
	    cmocka_unit_test(test_twheel_many_rotations),
	    cmocka_unit_test(test_twheel_del),
	    cmocka_unit_test(test_twheel_readd_moves),
	    cmocka_unit_test(test_twheel_readd_in_loop),
	    cmocka_unit_test(test_twheel_long_jump),
	    cmocka_unit_test(test_twheel_matches_model),
	    cmocka_unit_test(test_twheel_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
