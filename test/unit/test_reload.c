/*
 * test/unit/test_reload.c: what a reload keeps (node/reload.c): every
 * restart-only setting that changed is kept at its running value and
 * counted (and logged by key); nothing else is touched.  And prepare:
 * what it refuses changes nothing; the live changes are counted.  And
 * cairn.yml(5)'s table under Reloading says the same of every key.
 */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "node.h"
#include "reload.h"

static void
base(struct node_cfg *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen_host, sizeof(c->listen_host), "0.0.0.0");
	c->listen_port = 4242;
	c->read_buffer = c->write_buffer = 1 << 20;
	c->listen_offload = c->tun_offload = true;
	c->cipher = CRYPTO_AES256GCM;
	snprintf(c->tun_dev, sizeof(c->tun_dev), "nebula1");
	c->tun_mtu = 1300;
	c->tx_queue = 500;
	c->punch = true;
	snprintf(c->dns_host, sizeof(c->dns_host), "127.0.0.1");
	c->dns_port = 53;
	c->max_pending = 2048;
	c->lh_interval = 10;
}

static struct tun_route *
routes(size_t n, int mtu)
{
	struct tun_route *r = calloc(n, sizeof(*r));
	size_t i;

	assert_non_null(r);
	for (i = 0; i < n; i++) {
		r[i].addr = 0x0a000000u + (uint32_t)(i << 8);
		r[i].mask = 0xffffff00u;
		r[i].mtu = mtu;
	}
	return r;
}

static void
test_reload_nothing_to_keep(void **state)
{
	struct node_cfg old, neu;

	(void)state;
	base(&old);
	base(&neu);
	neu.max_pending = 10; /* reloadable: applies */
	neu.lh_interval = 60; /* reloadable: applies */
	assert_int_equal(reload_keep_restart_only(&old, &neu), 0);
	assert_int_equal(neu.max_pending, 10);
	assert_int_equal(neu.lh_interval, 60);
}

static void
collect(const char *key, void *arg)
{
	char *out = arg;

	strcat(out, key);
	strcat(out, "\n");
}

/* reload_restart_keys names what keep_restart_only keeps, what prepare
 * refuses, and nothing live; it changes neither configuration. */
static void
test_reload_restart_keys(void **state)
{
	struct node_cfg old, neu;
	char out[512] = "";

	(void)state;
	base(&old);
	base(&neu);
	neu.max_pending = 10; /* live */
	neu.lh_interval = 60; /* live */
	assert_int_equal(reload_restart_keys(&old, &neu, collect, out), 0);
	assert_string_equal(out, "");
	neu.listen_port = 4343;
	neu.tun_mtu = 1400;
	neu.vpn_ip = old.vpn_ip + 1;
	neu.am_lighthouse = !old.am_lighthouse;
	assert_int_equal(reload_restart_keys(&old, &neu, collect, out), 4);
	assert_string_equal(out, "pki.cert\nlighthouse.am_lighthouse\n"
	                         "listen.port\ntun.mtu\n");
	assert_int_equal(neu.listen_port, 4343);
	assert_int_equal(old.listen_port, 4242);
}

static void
test_reload_keeps_each_restart_key(void **state)
{
	struct node_cfg old, neu;

	(void)state;
	base(&old);
	base(&neu);
	snprintf(neu.listen_host, sizeof(neu.listen_host), "10.0.0.1");
	neu.listen_port = 4343;
	neu.listen_offload = false;
	neu.cipher = CRYPTO_CHACHAPOLY;
	neu.tun_disabled = true;
	snprintf(neu.tun_dev, sizeof(neu.tun_dev), "cairn9");
	neu.tun_mtu = 1400;
	neu.tun_offload = false;
	neu.max_pending = 99;
	assert_int_equal(reload_keep_restart_only(&old, &neu), 8);
	assert_string_equal(neu.listen_host, "0.0.0.0");
	assert_int_equal(neu.listen_port, 4242);
	assert_true(neu.listen_offload);
	assert_int_equal(neu.cipher, CRYPTO_AES256GCM);
	assert_false(neu.tun_disabled);
	assert_string_equal(neu.tun_dev, "nebula1");
	assert_int_equal(neu.tun_mtu, 1300);
	assert_true(neu.tun_offload);
	assert_int_equal(neu.max_pending, 99); /* reloadable */
}

/* The keys that apply live since "Run for years": the socket's buffers,
 * the device's queue, the DNS responder and punchy.punch.  Each is
 * reported changed on its own, none kept, and the new value stays. */
static void
test_reload_live_keys(void **state)
{
	struct node_cfg old, neu;
	struct reload_plan plan;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < 8; i++) {
		base(&old);
		base(&neu);
		switch (i) {
		case 0:
			neu.read_buffer = 1 << 22;
			break;
		case 1:
			neu.write_buffer = 0;
			break;
		case 2:
			neu.tx_queue = 1000;
			break;
		case 3:
			neu.punch = false;
			break;
		case 4:
			neu.serve_dns = true;
			break;
		case 5:
			snprintf(neu.dns_host, sizeof(neu.dns_host), "0.0.0.0");
			break;
		case 6:
			neu.dns_port = 5353;
			break;
		default: /* all at once */
			neu.read_buffer = 1 << 22;
			neu.write_buffer = 0;
			neu.tx_queue = 1000;
			neu.punch = false;
			neu.serve_dns = true;
			snprintf(neu.dns_host, sizeof(neu.dns_host), "0.0.0.0");
			neu.dns_port = 5353;
		}
		assert_int_equal(
		    reload_prepare(&old, &neu, &plan, err, sizeof(err)), 0);
		assert_int_equal(plan.kept, 0);
		assert_int_equal(plan.changed, i < 7 ? 1 : 7);
		assert_int_equal(reload_keep_restart_only(&old, &neu), 0);
	}
	assert_int_equal(neu.read_buffer, 1 << 22);
	assert_int_equal(neu.write_buffer, 0);
	assert_int_equal(neu.tx_queue, 1000);
	assert_false(neu.punch);
	assert_true(neu.serve_dns);
	assert_string_equal(neu.dns_host, "0.0.0.0");
	assert_int_equal(neu.dns_port, 5353);
}

/* The row of key in cairn.yml(5)'s table under Reloading: the line
 * ".It Ic a , key Ta word ..." whose first cell names it; its word
 * ("live" or "restart") into word, or false. */
static bool
table_word(const char *tab, const char *key, char *word, size_t len)
{
	const char *p, *eol, *ta, *q;
	size_t kl = strlen(key), n;

	for (p = tab; (p = strstr(p, "\n.It ")) != NULL; p = eol) {
		eol = strchr(p + 1, '\n');
		ta = strstr(p, " Ta ");
		if (eol == NULL || ta == NULL || ta > eol)
			continue;
		for (q = p + 5; q < ta; q += n) { /* the first cell's words */
			while (*q == ' ')
				q++;
			n = strcspn(q, " \n");
			if (n != kl || strncmp(q, key, kl) != 0)
				continue;
			q = ta + 4;
			n = strcspn(q, " \n");
			snprintf(word, len, "%.*s", (int)n, q);
			return true;
		}
	}
	return false;
}

/* Every key of reload.c's table is in cairn.yml(5)'s table, with the
 * word that says what a reload does: "live" or "restart". */
static void
test_reload_keys_documented(void **state)
{
	char *man, *tab, *end;
	const char *name;
	char word[16];
	bool restart;
	size_t i, len;

	(void)state;
	man = tu_slurp("../man/cairn.yml.5", &len);
	tab = strstr(man, "\n.Ss Reloading\n");
	assert_non_null(tab);
	end = strstr(tab + 1, "\n.Ss ");
	assert_non_null(end);
	*end = '\0';
	assert_non_null(strstr(tab, "\n.Bl -column"));
	for (i = 0; (name = reload_key(i, &restart)) != NULL; i++) {
		if (!table_word(tab, name, word, sizeof(word)))
			fail_msg("%s is not in cairn.yml(5)'s table", name);
		if (strcmp(word, restart ? "restart" : "live") != 0)
			fail_msg("%s: cairn.yml(5) says %s, reload.c %s", name,
			    word, restart ? "restart" : "live");
	}
	assert_true(i >= 40);
	free(man);
}

/* tun.routes: the running routes stay (they are in the kernel); the new
 * arrays go to the old configuration, to be freed with it. */
/* tun.routes apply on reload (node/routes.c): nothing kept. */
static void
test_reload_routes_not_kept(void **state)
{
	struct node_cfg old, neu;
	struct tun_route *ro = routes(2, 1300), *rn = routes(3, 1200);

	(void)state;
	base(&old);
	base(&neu);
	old.routes = ro;
	old.nroutes = 2;
	neu.routes = rn;
	neu.nroutes = 3;
	assert_int_equal(reload_keep_restart_only(&old, &neu), 0);
	assert_ptr_equal(neu.routes, rn);
	assert_int_equal(neu.nroutes, 3);
	assert_ptr_equal(old.routes, ro);
	free(ro);
	free(rn);
}

/* A new overlay IP or lighthouse role refuses the whole reload, and
 * neither configuration is touched. */
static void
test_reload_prepare_refuses(void **state)
{
	struct node_cfg old, neu, copy;
	struct reload_plan plan;
	char err[256];

	(void)state;
	base(&old);
	base(&neu);
	neu.vpn_ip = 0x0a000002;
	neu.listen_port = 4343; /* would be kept, were the reload taken */
	memcpy(&copy, &neu, sizeof(copy));
	assert_int_equal(
	    reload_prepare(&old, &neu, &plan, err, sizeof(err)), VPN_ERR_INVAL);
	assert_string_equal(err, "IP in new cert was different from old");
	assert_memory_equal(&neu, &copy, sizeof(neu));
	base(&neu);
	neu.am_lighthouse = true;
	neu.listen_port = 4343;
	memcpy(&copy, &neu, sizeof(copy));
	assert_int_equal(
	    reload_prepare(&old, &neu, &plan, err, sizeof(err)), VPN_ERR_INVAL);
	assert_non_null(strstr(err, "lighthouse.am_lighthouse"));
	assert_memory_equal(&neu, &copy, sizeof(neu));
}

/* Prepare counts what it keeps and what applies live, each once. */
static void
test_reload_prepare_counts(void **state)
{
	struct node_cfg old, neu;
	struct reload_plan plan;
	char err[256];

	(void)state;
	base(&old);
	base(&neu);
	assert_int_equal(
	    reload_prepare(&old, &neu, &plan, err, sizeof(err)), 0);
	assert_int_equal(plan.kept, 0);
	assert_int_equal(plan.changed, 0);
	neu.listen_port = 4343;          /* kept */
	neu.cipher = CRYPTO_CHACHAPOLY;  /* kept */
	neu.hs_try_interval = 200000000; /* live */
	neu.max_pending = 10;            /* live */
	neu.busy_poll_ns = 50000;        /* live */
	neu.send_recv_error = SRE_NEVER; /* live */
	assert_int_equal(
	    reload_prepare(&old, &neu, &plan, err, sizeof(err)), 0);
	assert_int_equal(plan.kept, 2);
	assert_int_equal(plan.changed, 4);
	assert_int_equal(neu.listen_port, 4242);
	assert_int_equal(neu.cipher, CRYPTO_AES256GCM);
	assert_int_equal(neu.hs_try_interval, 200000000);
	assert_int_equal(neu.busy_poll_ns, 50000);
}

/* exit.via is set at start (the socket's mark, the rules): a reload
 * that adds it keeps it off, and drops the routes that needed it. */
static void
test_reload_exit_via_kept(void **state)
{
	struct node_cfg old, neu;
	struct reload_plan plan;
	struct ip4net all = {0, 0};
	char err[256];

	(void)state;
	base(&old);
	base(&neu);
	neu.exit_via = 0x0a000009;
	neu.exit_routes = &all;
	neu.nexit_routes = 1;
	assert_int_equal(reload_prepare(&old, &neu, &plan, err, sizeof(err)),
	    0);
	assert_int_equal(plan.kept, 1);
	assert_int_equal(neu.exit_via, 0);
	assert_int_equal(neu.nexit_routes, 0);
}

/* relay.am_relay applies live; relay.use_relays (forced off by it)
 * only at start, as in Nebula. */
static void
test_reload_relay(void **state)
{
	struct node_cfg old, neu;
	struct reload_plan plan;
	char err[256];

	(void)state;
	base(&old);
	base(&neu);
	old.use_relays = true;
	neu.am_relay = true;
	neu.use_relays = false;
	assert_int_equal(reload_prepare(&old, &neu, &plan, err, sizeof(err)),
	    0);
	assert_int_equal(plan.changed, 1);
	assert_int_equal(plan.kept, 1);
	assert_true(neu.am_relay);
	assert_true(neu.use_relays);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reload_nothing_to_keep),
	    cmocka_unit_test(test_reload_keeps_each_restart_key),
	    cmocka_unit_test(test_reload_restart_keys),
	    cmocka_unit_test(test_reload_routes_not_kept),
	    cmocka_unit_test(test_reload_prepare_refuses),
	    cmocka_unit_test(test_reload_prepare_counts),
	    cmocka_unit_test(test_reload_exit_via_kept),
	    cmocka_unit_test(test_reload_relay),
	    cmocka_unit_test(test_reload_live_keys),
	    cmocka_unit_test(test_reload_keys_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
