/*
 * lib/version.h: what -version prints.  Under Nebula's names (the
 * program run as "nebula" or "nebula-cert", the links of make install
 * COMPAT=1) it is Nebula's own line for the Nebula release we are
 * compatible with, so that tooling that pins a Nebula version finds it;
 * our version then goes to the error stream, out of the way of scripts
 * that read the output.  Under our names it is our version, then a line
 * naming the Nebula release.
 */
#ifndef VPN_VERSION_H
#define VPN_VERSION_H

#include <stdbool.h>
#include <stdio.h>

/* The Nebula release whose certificates, wire protocol, configuration and
 * command lines ours match. */
#define NEBULA_COMPAT_VERSION "1.6.1"

/* Whether the program was run under one of Nebula's names: the last
 * component of argv0 begins with "nebula". */
bool version_as_nebula(const char *argv0);

/* Print the version for a program run as argv0 to out (and, under
 * Nebula's names, our own to err). */
void version_print(const char *argv0, FILE *out, FILE *err);

#endif
