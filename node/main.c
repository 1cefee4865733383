/* node: the daemon on every machine of the mesh.  See cairn(8). */
#include "node.h"

int
main(int argc, char **argv)
{
	return daemon_main(argc, argv, false);
}
