/*
 * lighthouse: the node daemon with the lighthouse role on: it keeps the
 * registry of where nodes are, answers their queries and helps them
 * punch through NAT.  It may run without a TUN device (tun.disabled).
 * See cairn-lighthouse(8).
 */
#include "node.h"

int
main(int argc, char **argv)
{
	return daemon_main(argc, argv, true);
}
