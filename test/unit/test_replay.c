/*
 * test/unit/test_replay.c: the 1024-counter receive window (wire.md 5.2),
 * rule by rule from tables, against a literal model of the rules on a
 * long pseudo-random sequence, and on the counters of the captured
 * tunnels.
 */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdbool.h>
#include <string.h>

#include "replay.h"

#include "../fixtures/capture/vectors.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum op { END, CHECK, UPDATE, SEQ /* update every counter in [c, c2] */ };

struct step {
	enum op op;
	uint64_t c, c2;
	bool want;
};

struct scenario {
	const char *name;
	struct step steps[24];
};

#define BIG (1ull << 40)

static const struct scenario scenarios[] = {
    {"fresh window: 0 seen, anything above accepted",
        {{CHECK, 0, 0, false}, {UPDATE, 0, 0, false}, {CHECK, 1, 0, true},
            {CHECK, 1023, 0, true}, {CHECK, 1024, 0, true},
            {CHECK, UINT64_MAX, 0, true}}},
    {"after the handshake 1 and 2 are seen; transport starts at 3",
        {{UPDATE, 1, 0, true}, {UPDATE, 2, 0, true}, {CHECK, 1, 0, false},
            {CHECK, 2, 0, false}, {UPDATE, 1, 0, false}, {UPDATE, 2, 0, false},
            {CHECK, 3, 0, true}, {UPDATE, 3, 0, true}, {UPDATE, 3, 0, false},
            {CHECK, 3, 0, false}}},
    {"next counter (c == cur + 1) moves cur",
        {{SEQ, 1, 100, true}, {CHECK, 100, 0, false}, {CHECK, 101, 0, true},
            {UPDATE, 101, 0, true}, {UPDATE, 100, 0, false}}},
    {"c == cur is a duplicate",
        {{UPDATE, 5, 0, true}, {CHECK, 5, 0, false}, {UPDATE, 5, 0, false}}},
    {"jump inside the window: skipped counters stay acceptable, once",
        {{UPDATE, 1, 0, true}, {UPDATE, 10, 0, true}, {CHECK, 5, 0, true},
            {UPDATE, 5, 0, true}, {CHECK, 5, 0, false}, {UPDATE, 5, 0, false},
            {UPDATE, 9, 0, true}, {UPDATE, 2, 0, true}, {CHECK, 1, 0, false},
            {CHECK, 10, 0, false}, {CHECK, 11, 0, true}}},
    {"first window: everything down to 1 is still in it",
        {{UPDATE, 1000, 0, true}, {CHECK, 0, 0, false}, {CHECK, 1, 0, true},
            {CHECK, 999, 0, true}, {UPDATE, 1, 0, true},
            {UPDATE, 1023, 0, true}, {CHECK, 0, 0, false}, {CHECK, 1, 0, false},
            {CHECK, 2, 0, true}}},
    {"wrap at 1024: bottom edge is cur - 1023",
        {{SEQ, 1, 1030, true}, {CHECK, 6, 0, false}, {CHECK, 7, 0, false},
            {UPDATE, 6, 0, false}, {UPDATE, 7, 0, false},
            {CHECK, 1031, 0, true}}},
    {"wrap at 1024 with a hole: edge counters",
        {{UPDATE, 1, 0, true}, {UPDATE, 1030, 0, true}, {CHECK, 6, 0, false},
            {UPDATE, 6, 0, false}, {CHECK, 7, 0, true}, {UPDATE, 7, 0, true},
            {UPDATE, 7, 0, false}, {CHECK, 1029, 0, true},
            {UPDATE, 1029, 0, true}, {CHECK, 1029, 0, false},
            {CHECK, 1030, 0, false}}},
    {"counter 1024 reuses bit 0, 1025 bit 1",
        {{SEQ, 1, 1023, true}, {CHECK, 1024, 0, true}, {UPDATE, 1024, 0, true},
            {CHECK, 0, 0, false}, {CHECK, 1024, 0, false},
            {UPDATE, 1025, 0, true}, {CHECK, 1, 0, false}, {CHECK, 2, 0, false},
            {UPDATE, 2, 0, false}}},
    {"a jump under 1024 clears the slots of the skipped counters",
        {{SEQ, 1, 10, true}, {UPDATE, 1030, 0, true}, {CHECK, 1025, 0, true},
            {CHECK, 1029, 0, true}, {CHECK, 10, 0, false}, {CHECK, 7, 0, false},
            {CHECK, 6, 0, false}, {UPDATE, 1025, 0, true},
            {UPDATE, 1025, 0, false}}},
    {"a jump of exactly 1024 forgets everything",
        {{SEQ, 1, 10, true}, {UPDATE, 1034, 0, true}, {CHECK, 10, 0, false},
            {CHECK, 11, 0, true}, {CHECK, 1033, 0, true},
            {CHECK, 1034, 0, false}}},
    {"big jump: window follows; older is out",
        {{UPDATE, 3, 0, true}, {UPDATE, BIG, 0, true}, {CHECK, 3, 0, false},
            {UPDATE, 4, 0, false}, {CHECK, BIG - 1024, 0, false},
            {UPDATE, BIG - 1024, 0, false}, {CHECK, BIG - 1023, 0, true},
            {UPDATE, BIG - 1023, 0, true}, {CHECK, BIG - 1023, 0, false},
            {CHECK, BIG - 1, 0, true}, {CHECK, BIG, 0, false},
            {CHECK, BIG + 1, 0, true}}},
    {"far below the window is rejected without moving cur",
        {{SEQ, 2000, 2005, true}, {UPDATE, 100, 0, false},
            {CHECK, 100, 0, false}, {CHECK, 2006, 0, true},
            {UPDATE, 2006, 0, true}}},
    {"the top of the counter space",
        {{UPDATE, UINT64_MAX - 1, 0, true}, {UPDATE, UINT64_MAX, 0, true},
            {CHECK, UINT64_MAX, 0, false}, {CHECK, UINT64_MAX - 1, 0, false},
            {CHECK, UINT64_MAX - 2, 0, true},
            {CHECK, UINT64_MAX - 1023, 0, true},
            {CHECK, UINT64_MAX - 1024, 0, false}}},
};

static void
test_replay_rules_table(void **state)
{
	struct replay w;
	size_t i, j;
	uint64_t c;
	bool got;

	(void)state;
	for (i = 0; i < NELEM(scenarios); i++) {
		replay_init(&w);
		for (j = 0; j < NELEM(scenarios[i].steps); j++) {
			const struct step *s = &scenarios[i].steps[j];

			if (s->op == END)
				break;
			if (s->op == SEQ) {
				for (c = s->c; c <= s->c2; c++)
					if (replay_check(&w, c) != s->want ||
					    replay_update(&w, c) != s->want)
						fail_msg("%s: step %zu: %llu",
						    scenarios[i].name, j,
						    (unsigned long long)c);
				continue;
			}
			got = s->op == CHECK ? replay_check(&w, s->c)
			                     : replay_update(&w, s->c);
			if (got != s->want)
				fail_msg("%s: step %zu (%s %llu) gave %d",
				    scenarios[i].name, j,
				    s->op == CHECK ? "check" : "update",
				    (unsigned long long)s->c, got);
		}
	}
}

/* check() changes nothing. */
static void
test_replay_check_is_pure(void **state)
{
	struct replay w, before;
	uint64_t c;

	(void)state;
	replay_init(&w);
	replay_update(&w, 1);
	replay_update(&w, 500);
	replay_update(&w, 40);
	memcpy(&before, &w, sizeof(w));
	for (c = 0; c < 3000; c++)
		(void)replay_check(&w, c);
	(void)replay_check(&w, UINT64_MAX);
	assert_memory_equal(&w, &before, sizeof(w));
}

/*
 * The rules of wire.md 5.2 written out literally over a bool array, run
 * beside struct replay on a long pseudo-random walk of in-order, slightly
 * late, very late, duplicate and far-ahead counters.  Also: check(c) and
 * update(c) always agree, so nothing that passes check can be refused by
 * update except a packet that raced it.
 */
struct model {
	uint64_t cur;
	bool bits[1024];
};

static bool
model_check(const struct model *m, uint64_t c)
{
	if (c > m->cur)
		return true;
	if (m->cur >= 1024)
		return c > m->cur - 1024 && !m->bits[c % 1024];
	return !m->bits[c % 1024];
}

static bool
model_update(struct model *m, uint64_t c)
{
	uint64_t n;

	if (c == m->cur + 1) {
		m->bits[c % 1024] = true;
		m->cur = c;
		return true;
	}
	if (c > m->cur && c < m->cur + 1024) {
		for (n = m->cur + 1; n < c; n++)
			m->bits[n % 1024] = false;
		m->bits[c % 1024] = true;
		m->cur = c;
		return true;
	}
	if (c >= m->cur + 1024) {
		memset(m->bits, 0, sizeof(m->bits));
		m->bits[c % 1024] = true;
		m->cur = c;
		return true;
	}
	if (c > m->cur - 1024 || m->cur < 1024) {
		if (c == m->cur || m->bits[c % 1024])
			return false;
		m->bits[c % 1024] = true;
		return true;
	}
	return false;
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
test_replay_matches_model(void **state)
{
	struct replay w;
	struct model m;
	uint64_t seed = 0x9e3779b97f4a7c15ull, r, c, next = 3;
	size_t i, accepted = 0;
	bool a, b, ca;

	(void)state;
	replay_init(&w);
	memset(&m, 0, sizeof(m));
	m.bits[0] = true;
	for (i = 0; i < 200000; i++) {
		r = xorshift(&seed);
		switch (r % 8) {
		case 0:
		case 1:
		case 2: /* in order */
			c = next++;
			break;
		case 3: /* a little late */
			c = next - 1 - (r >> 8) % 64;
			break;
		case 4: /* around the window edge */
			c = next - 1000 - (r >> 8) % 48;
			break;
		case 5: /* a little ahead */
			c = next + (r >> 8) % 100;
			next = c + 1;
			break;
		case 6: /* a duplicate of something recent */
			c = next - 1 - (r >> 8) % 4;
			break;
		default: /* occasionally far ahead */
			c = (r >> 8) % 512 == 0 ? next + 1024 + (r >> 20) % 5000
			                        : next + (r >> 8) % 3;
			next = c + 1;
			break;
		}
		if (c > next + 100000) /* the subtractions wrapped */
			c = next;
		ca = replay_check(&w, c);
		assert_int_equal(ca, model_check(&m, c));
		a = replay_update(&w, c);
		b = model_update(&m, c);
		if (a != b || ca != a)
			fail_msg("step %zu: counter %llu: update %d model %d "
			         "check %d",
			    i, (unsigned long long)c, a, b, ca);
		assert_int_equal(w.cur, m.cur);
		accepted += a;
	}
	assert_true(accepted > 100000);
}

/* A relay forwards the inner packet verbatim, so the capture holds it
 * twice (A->R and R->B); the end host receives it once. */
static bool
forwarded_copy(size_t i)
{
	size_t j;

	if (!cap_pkts[i].inner)
		return false;
	for (j = 0; j < i; j++)
		if (cap_pkts[j].inner && cap_pkts[j].len == cap_pkts[i].len &&
		    memcmp(cap_pkts[j].data, cap_pkts[i].data,
		        cap_pkts[i].len) == 0)
			return true;
	return false;
}

/*
 * Each direction of each captured tunnel, in capture order, starting from
 * a window that has seen the handshake (0, 1, 2): every packet passes
 * check and update; replaying any of them afterwards fails.
 */
static void
test_replay_accepts_captured_streams(void **state)
{
	struct replay w;
	size_t h, i, n, streams = 0;
	int dir;

	(void)state;
	for (h = 0; h < CAP_NHSS; h++) {
		for (dir = 0; dir < 2; dir++) {
			replay_init(&w);
			assert_true(replay_update(&w, 1));
			assert_true(replay_update(&w, 2));
			for (i = 0, n = 0; i < CAP_NPKTS; i++) {
				const struct cap_pkt *p = &cap_pkts[i];

				if (p->hs != (int)h || p->r2i != (dir == 1) ||
				    forwarded_copy(i))
					continue;
				assert_true(p->counter >= 3);
				assert_true(replay_check(&w, p->counter));
				assert_true(replay_update(&w, p->counter));
				n++;
			}
			for (i = 0; i < CAP_NPKTS; i++) {
				const struct cap_pkt *p = &cap_pkts[i];

				if (p->hs != (int)h || p->r2i != (dir == 1))
					continue;
				assert_false(replay_check(&w, p->counter));
				assert_false(replay_update(&w, p->counter));
			}
			streams += n > 0;
		}
	}
	assert_true(streams >= 20);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_replay_rules_table),
	    cmocka_unit_test(test_replay_check_is_pure),
	    cmocka_unit_test(test_replay_matches_model),
	    cmocka_unit_test(test_replay_accepts_captured_streams),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
