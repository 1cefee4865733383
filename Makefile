# One non-recursive Makefile.  `make` builds bin/; `make check` installs
# missing Debian packages, builds, and runs every test.  V=1 shows commands.

VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man
# Programs the daemons run, not people (cairn-sshd).  It is compiled in:
# build with the PREFIX you install with.
LIBEXECDIR = $(PREFIX)/libexec/cairn
# systemd reads units from /usr/local/lib/systemd/system too.
UNITDIR ?= $(PREFIX)/lib/systemd/system
# COMPAT=1: make install also links Nebula's names, nebula and
# nebula-cert, to ours, for tooling written for Nebula (README).
COMPAT ?= 0

CC ?= cc
CLANG ?= clang
PKG_LIBS = libcrypto
WARN = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wmissing-declarations -Wwrite-strings \
	-Wpointer-arith -Wundef -Wvla -Wswitch-enum -Wimplicit-fallthrough \
	-Wnull-dereference
ifeq ($(WERROR),1)
WARN += -Werror
endif
# gcc-only warnings; the sanitizer and fuzz builds use clang without them.
GCC_WARN =
ifeq ($(shell $(CC) -v 2>&1 | grep -c 'gcc version'),1)
GCC_WARN = -Wduplicated-cond -Wlogical-op
endif
HARDEN = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
	-fcf-protection -fPIE
# One section per function, so that lld can lay out the hot ones together.
SECTIONS = -ffunction-sections
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DVPN_VERSION='"$(VERSION)"' $(WARN) \
	$(CFLAGS) -Ilib -Icert-tool -Inode -isystem /usr/include/libnl3 -MMD -MP
LDFLAGS ?=
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now,-z,noexecstack $(LDFLAGS)
LIBS = -lcrypto -lyaml -lnl-3
# evhttp (the stats endpoint) is in libevent_extra.
EV_LIBS = -levent_extra -levent_core
# The daemons are static PIEs linked by lld: libcrypto, libyaml, libevent
# and glibc bring only the objects they use, nothing is relocated at start
# but one small RELR table, and the functions listed in node/hot.syms (what
# a node runs up to an idle tunnel, then its data path; scripts/hotsyms.sh)
# are laid out first.  The kernel maps a file's cached pages 64 KiB around
# each fault, so scattered code costs whole windows: idle RSS is ~2.5 MiB
# instead of ~6.3 MiB dynamically linked.  STATIC=0 links them dynamically.
STATIC ?= 1
ifeq ($(STATIC),1)
DAEMON_LDFLAGS = -static-pie -fuse-ld=lld -Wl,--pack-dyn-relocs=relr \
	-Wl,--symbol-ordering-file=node/hot.syms -Wl,--no-warn-symbol-ordering
DAEMON_DEPS = node/hot.syms
endif
# cert-tool's -out-qr: libqrencode encodes, we write the PNG ourselves.
CT_LIBS = -lqrencode

ifneq ($(V),1)
Q = @
quiet = @printf '  %-7s %s\n' $(1) $(2);
endif

LIB_SRCS = $(wildcard lib/*.c)
CT_SRCS = $(filter-out cert-tool/main.c,$(wildcard cert-tool/*.c))
NODE_SRCS = $(filter-out node/main.c,$(wildcard node/*.c))
UNIT_SRCS = $(wildcard test/unit/test_*.c)
TESTHELP_SRCS = $(filter-out $(UNIT_SRCS),$(wildcard test/unit/*.c))
FUZZ_SRCS = $(wildcard test/fuzz/fuzz_*.c)
UNIT_NAMES = $(patsubst test/unit/%.c,%,$(UNIT_SRCS))
FUZZ_NAMES = $(patsubst test/fuzz/%.c,%,$(FUZZ_SRCS))

B = build/rel
A = build/asan
F = build/fuzz

PROGS = bin/cairn-cert bin/cairn bin/cairn-lighthouse bin/cairnctl
HELPERS = bin/cairn-sshd
SSHD_SRCS = $(wildcard sshd/*.c)
MANS = $(wildcard man/*.[1-8])

.PHONY: all check unit asan fuzz fuzz-replay fuzz-run e2e man-lint deps fw-micro \
	dp-micro install uninstall clean demo format format-check soak deb
all: $(PROGS) $(HELPERS)

# --- release objects -------------------------------------------------
$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)$(CC) $(ALL_CFLAGS) $(GCC_WARN) $(HARDEN) $(SECTIONS) -c -o $@ $<

$(B)/libvpn.a: $(patsubst %.c,$(B)/%.o,$(LIB_SRCS))
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

# cert-tool's modes are a library too, so that tests and fuzzers reach them.
$(B)/libct.a: $(patsubst %.c,$(B)/%.o,$(CT_SRCS))
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

bin/cairn-cert: $(B)/cert-tool/main.o $(B)/libct.a $(B)/libvpn.a
	@mkdir -p bin
	$(call quiet,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(CT_LIBS)

# The control socket's client (cairnctl(8)): libvpn.a and libc alone.
bin/cairnctl: $(B)/ctl/main.o $(B)/libvpn.a
	@mkdir -p bin
	$(call quiet,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^

$(B)/libnode.a: $(patsubst %.c,$(B)/%.o,$(NODE_SRCS))
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

bin/cairn: $(B)/node/main.o $(B)/libnode.a $(B)/libvpn.a $(DAEMON_DEPS)
	@mkdir -p bin
	$(call quiet,LD,$@)$(CC) $(ALL_LDFLAGS) $(DAEMON_LDFLAGS) -o $@ \
	    $(filter %.o %.a,$^) $(LIBS) $(EV_LIBS)

# The sshd section's SSH server (node/sshd.h), its own process and linked
# dynamically: Debian's libssh.a needs GSSAPI libraries that have no
# static form.  The daemons look for it next to themselves, then in
# LIBEXECDIR.
bin/cairn-sshd: $(patsubst %.c,$(B)/%.o,$(SSHD_SRCS)) $(B)/libvpn.a
	@mkdir -p bin
	$(call quiet,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lssh -lcrypto

$(B)/node/sshd.o $(A)/node/sshd.o: ALL_CFLAGS += -DSSHD_HELPER_DIR='"$(LIBEXECDIR)"'

bin/cairn-lighthouse: $(B)/lighthouse/main.o $(B)/libnode.a $(B)/libvpn.a $(DAEMON_DEPS)
	@mkdir -p bin
	$(call quiet,LD,$@)$(CC) $(ALL_LDFLAGS) $(DAEMON_LDFLAGS) -o $@ \
	    $(filter %.o %.a,$^) $(LIBS) $(EV_LIBS)

# What the unit tests share that is not a test (test/unit/simnet.c).
$(B)/libtesthelp.a: $(patsubst %.c,$(B)/%.o,$(TESTHELP_SRCS))
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

$(B)/test/%: $(B)/test/unit/%.o $(B)/libtesthelp.a $(B)/libnode.a $(B)/libct.a $(B)/libvpn.a
	$(call quiet,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(CT_LIBS) $(EV_LIBS) -lcmocka

# --- sanitizer objects (clang, ASan + UBSan) --------------------------
SAN = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
$(A)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call quiet,CC-SAN,$<)$(CLANG) $(ALL_CFLAGS) $(SAN) -c -o $@ $<

$(A)/libvpn.a: $(patsubst %.c,$(A)/%.o,$(LIB_SRCS))
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

$(A)/libct.a: $(patsubst %.c,$(A)/%.o,$(CT_SRCS))
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

$(A)/libnode.a: $(patsubst %.c,$(A)/%.o,$(NODE_SRCS))
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

# The node daemon under ASan and UBSan, for the e2e tests of hostile input.
$(A)/bin/cairn: $(A)/node/main.o $(A)/libnode.a $(A)/libvpn.a $(A)/bin/cairn-sshd
	@mkdir -p $(dir $@)
	$(call quiet,LD-SAN,$@)$(CLANG) $(SAN) -o $@ $(filter %.o %.a,$^) $(LIBS) $(EV_LIBS)

# The lighthouse daemon likewise, for the e2e suites run under sanitizers.
$(A)/bin/cairn-lighthouse: $(A)/lighthouse/main.o $(A)/libnode.a $(A)/libvpn.a $(A)/bin/cairn-sshd
	@mkdir -p $(dir $@)
	$(call quiet,LD-SAN,$@)$(CLANG) $(SAN) -o $@ $(filter %.o %.a,$^) $(LIBS) $(EV_LIBS)

# Its sshd helper, under the same sanitizers, next to it.
$(A)/bin/cairn-sshd: $(patsubst %.c,$(A)/%.o,$(SSHD_SRCS)) $(A)/libvpn.a
	@mkdir -p $(dir $@)
	$(call quiet,LD-SAN,$@)$(CLANG) $(SAN) -o $@ $^ -lssh -lcrypto

$(A)/libtesthelp.a: $(patsubst %.c,$(A)/%.o,$(TESTHELP_SRCS))
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

$(A)/test/%: $(A)/test/unit/%.o $(A)/libtesthelp.a $(A)/libnode.a $(A)/libct.a $(A)/libvpn.a
	$(call quiet,LD-SAN,$@)$(CLANG) $(SAN) -o $@ $^ $(LIBS) $(CT_LIBS) $(EV_LIBS) -lcmocka

# --- fuzz targets (clang libFuzzer) -----------------------------------
# One target per parser of untrusted or operator bytes, test/fuzz/fuzz_*.c,
# each with its seed corpus in test/corpus/<target>/:
#   fuzz_cert          certificates (protobuf and PEM)
#   fuzz_pem           PEM blocks and the key readers
#   fuzz_pb            the protobuf field reader
#   fuzz_pki           a CA bundle (pki.ca, cert-tool -ca): the CA pool,
#                      verification against it, the blocklist, printing
#   fuzz_keyfile       the CA private key file, plain or encrypted
#   fuzz_ledger        cert-tool's issuance ledger
#   fuzz_goflag        cert-tool's command line: Go flags, durations,
#                      -ip/-subnets/-groups lists
#   fuzz_addr          IPv4 addresses and networks, underlay addresses
#   fuzz_header        the outer header, then the handshake payload
#   fuzz_handshake     Noise IX messages 1 and 2 and their payloads
#   fuzz_lh_msg        lighthouse messages and the registry they update
#   fuzz_nebctl        relay control messages (NebulaControl)
#   fuzz_ippkt         the firewall's view of a packet, REJECT replies
#   fuzz_offload       TSO segmentation and GRO coalescing
#   fuzz_dns           the lighthouse's DNS responder and TXT zone text
#   fuzz_config        YAML, the firewall rules and the allow lists
#   fuzz_nodecfg       the whole node configuration (node_cfg_load)
#   fuzz_gotime_layout logging.timestamp_format
#   fuzz_ctlproto      the control socket's framing
#   fuzz_ctlcmd        the control socket's commands, on a running node
#   fuzz_sshkey        sshd.authorized_users keys
#   fuzz_sshterm       the SSH console's line editor and argument split
# CAIRN_FUZZING caps what would make an input slow (keyfile.c's scrypt
# cost); it is set here only.
FZ = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
$(F)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call quiet,CC-FZ,$<)$(CLANG) $(ALL_CFLAGS) -DCAIRN_FUZZING \
	    -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

$(F)/libvpn.a: $(patsubst %.c,$(F)/%.o,$(LIB_SRCS))
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

$(F)/libct.a: $(patsubst %.c,$(F)/%.o,$(CT_SRCS))
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

$(F)/libnode.a: $(patsubst %.c,$(F)/%.o,$(NODE_SRCS))
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

$(F)/libtesthelp.a: $(patsubst %.c,$(F)/%.o,$(TESTHELP_SRCS))
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

$(F)/bin/%: $(F)/test/fuzz/%.o $(F)/libtesthelp.a $(F)/libnode.a \
    $(F)/libct.a $(F)/libvpn.a
	@mkdir -p $(dir $@)
	$(call quiet,LD-FZ,$@)$(CLANG) $(FZ) $(FZ_LDFLAGS) -o $@ \
	    $(filter %.o,$^) $(filter %.a,$^) $(LIBS) $(CT_LIBS) $(EV_LIBS)

# The console's line editor is the sshd helper's (no libssh needed).
$(F)/bin/fuzz_sshterm: $(F)/sshd/term.o
$(F)/test/fuzz/fuzz_sshterm.o: ALL_CFLAGS += -Isshd
# Two nodes on the unit tests' simulated network (test/unit/simnet.c).
$(F)/test/fuzz/fuzz_ctlcmd.o: ALL_CFLAGS += -Itest/unit
# The configuration names files and hosts: the fuzzer answers for them
# (test/fuzz/fuzz_nodecfg.c), no file outside the fixtures is read and
# no name is looked up.
$(F)/bin/fuzz_nodecfg: FZ_LDFLAGS = -Wl,--wrap=fileio_read \
	-Wl,--wrap=getaddrinfo -Wl,--wrap=freeaddrinfo
# The host key file is the input.
$(F)/bin/fuzz_sshkey: FZ_LDFLAGS = -Wl,--wrap=fileio_read

unit: $(addprefix $(B)/test/,$(UNIT_NAMES))
asan: $(addprefix $(A)/test/,$(UNIT_NAMES))
fuzz: $(addprefix $(F)/bin/,$(FUZZ_NAMES))

deps:
	@scripts/deps.sh

# $(call run_tests,SUITES): the Debian packages built first (without
# their own unit test run), then the suites (none: all), whose
# test/e2e/deb.sh and test/e2e/ansible.sh install them from DEB_DIR.
define run_tests
	@DEB_BUILD_OPTIONS=nocheck $(MAKE) --no-print-directory deb
	@DEB_DIR=$(CURDIR)/$(DEBDIR) scripts/run-tests.sh $(1)
endef

check: deps
	@$(MAKE) --no-print-directory all unit asan fuzz $(B)/lhload \
	    $(A)/bin/cairn $(A)/bin/cairn-lighthouse $(B)/evilpeer $(B)/hsflood
	$(call run_tests)

# Replay only the fuzz corpora (also part of check).
fuzz-replay: fuzz
	@scripts/run-tests.sh fuzz

# Fuzz for real: make fuzz-run FUZZ_TIME=60 [FUZZ_TARGETS="fuzz_a ..."]
# [FUZZ_FLAGS=...].  Each target runs FUZZ_TIME seconds from its seeds;
# what it finds new goes to build/corpus/<target>, a crash to
# build/fuzz-crashes/<target>/, its output to build/fuzz-logs/; then a
# table of executions, coverage and crashes per target
# (scripts/fuzz-report.sh), failing if any target crashed.
FUZZ_TIME ?= 30
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_FLAGS ?=
fuzz-run: fuzz
	@rm -rf build/fuzz-logs && mkdir -p build/fuzz-logs; \
	for t in $(FUZZ_TARGETS); do \
		rm -rf build/fuzz-crashes/$$t; \
		mkdir -p build/corpus/$$t build/fuzz-crashes/$$t; \
		printf '  %-7s %s, %s s\n' FUZZ $$t $(FUZZ_TIME); \
		$(F)/bin/$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
		    -artifact_prefix=build/fuzz-crashes/$$t/ $(FUZZ_FLAGS) \
		    build/corpus/$$t test/corpus/$$t \
		    >build/fuzz-logs/$$t.log 2>&1; \
		echo $$? >build/fuzz-logs/$$t.rc; \
	done; \
	scripts/fuzz-report.sh build/fuzz-logs build/fuzz-crashes

e2e: all $(A)/bin/cairn $(A)/bin/cairn-lighthouse $(B)/evilpeer $(B)/hsflood
	$(call run_tests,e2e e2e-san)

man-lint:
	@scripts/run-tests.sh man

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

# The firewall decision in instructions per packet (callgrind, exact and
# repeatable): compared with test/bench/fw_micro.baseline.
$(B)/fw_micro: test/bench/fw_micro.c $(B)/libvpn.a
	$(call quiet,LD,$@)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

# The data path per packet (header, replay, AEAD, ippkt, firewall) in
# instructions per packet: compared with test/bench/dp_micro.baseline.
$(B)/dp_micro: test/bench/dp_micro.c $(B)/libvpn.a
	$(call quiet,LD,$@)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

# The lighthouse load generator (test/load), also used by the e2e tests.
$(B)/lhload: test/load/lhload.c $(B)/libvpn.a
	$(call quiet,LD,$@)$(CC) $(ALL_CFLAGS) -pthread -o $@ $^ $(LIBS)

# Floods of handshake messages 1 for the e2e tests (test/e2e/hsflood.c).
$(B)/hsflood: test/e2e/hsflood.c $(B)/libvpn.a
	$(call quiet,LD,$@)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

# A hostile but authenticated peer for the e2e tests (test/e2e/evilpeer.c).
$(B)/evilpeer: test/e2e/evilpeer.c $(B)/libvpn.a
	$(call quiet,LD,$@)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

fw-micro: $(B)/fw_micro
	@test/bench/fw_micro.sh $(B)/fw_micro

dp-micro: $(B)/dp_micro
	@test/bench/dp_micro.sh $(B)/dp_micro

bench: deps
	@$(MAKE) --no-print-directory all
	@test/bench/bench.sh $(BENCH_ARGS)

# A long run of a mixed mesh under traffic, reloads, restarts and roaming
# (test/soak/soak.sh): make soak SOAK_TIME=10m.  Not part of check.
SOAK_TIME ?= 600
soak: deps
	@$(MAKE) --no-print-directory all
	@test/soak/soak.sh $(SOAK_TIME)

# The programs are installed under the names users run (cairn, cairn-cert,
# cairn-lighthouse, cairnctl), the same as in bin/; the units with
# ExecStart naming BINDIR.
UNITS = $(wildcard config-examples/systemd/*.service)
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 $(PROGS) $(DESTDIR)$(BINDIR)/
	install -m 0755 $(HELPERS) $(DESTDIR)$(LIBEXECDIR)/
	for m in $(MANS); do \
		s=$${m##*.}; install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; \
	done
	for u in $(UNITS); do \
		sed 's|/usr/local/bin/|$(BINDIR)/|g' $$u \
		    >$(DESTDIR)$(UNITDIR)/$${u##*/} && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; \
	done
ifeq ($(COMPAT),1)
	@for l in nebula:cairn nebula-cert:cairn-cert; do \
		f=$(DESTDIR)$(BINDIR)/$${l%%:*}; \
		if [ -e "$$f" ] && [ "$$(readlink "$$f")" != "$${l#*:}" ]; then \
			echo "install: $$f exists and is not our link;" \
			    "remove it (Nebula's own?) first" >&2; exit 1; \
		fi; \
		echo "ln -sfn $${l#*:} $$f"; ln -sfn "$${l#*:}" "$$f" || exit 1; \
	done
endif

uninstall:
	for l in nebula:cairn nebula-cert:cairn-cert; do \
		f=$(DESTDIR)$(BINDIR)/$${l%%:*}; \
		[ "$$(readlink "$$f")" != "$${l#*:}" ] || rm -f "$$f"; \
	done
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(PROGS))) \
	    $(addprefix $(DESTDIR)$(LIBEXECDIR)/,$(notdir $(HELPERS))) \
	    $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(UNITS))) \
	    $(foreach m,$(MANS),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	-rmdir $(DESTDIR)$(LIBEXECDIR)

# --- Debian packages ---------------------------------------------------
# make deb: the packages of debian/ (cairn, cairn-nebula-compat and their
# -dbgsym), built by dpkg-buildpackage in a copy of the tree under
# $(DEBDIR)/src: it writes beside the source, and its clean step runs
# make clean, so this tree is left as it was.  The .deb, .ddeb, .changes,
# .buildinfo and build.log land in $(DEBDIR), then lintian checks them:
# an error fails; what else it says is shown (debian/README.source says
# why each tag stays).  DEBDIR: under build/ or outside the tree.  The
# package build sees none of this make's flags or variables: debian/rules
# sets its own.
DEBDIR ?= build/deb
DEB_VERSION = $(shell dpkg-parsechangelog -l debian/changelog -S Version)
deb:
	@for c in dpkg-buildpackage dh lintian; do command -v $$c >/dev/null || \
	    { echo "deb: $$c is missing: apt-get install dpkg-dev debhelper" \
	    "lintian (or make deps)" >&2; exit 1; }; done
	@case "$(DEB_VERSION)" in $(VERSION)-*) ;; *) echo "deb: debian/changelog" \
	    "says $(DEB_VERSION), the Makefile $(VERSION)" >&2; exit 1 ;; esac
	@rm -rf $(DEBDIR)/src && mkdir -p $(DEBDIR)/src/cairn-$(VERSION) && \
	    rm -f $(DEBDIR)/*.deb $(DEBDIR)/*.ddeb $(DEBDIR)/*.changes \
	    $(DEBDIR)/*.buildinfo $(DEBDIR)/build.log
	@tar -cf - --exclude=./.git --exclude=./build --exclude=./bin . | \
	    tar -xf - -C $(DEBDIR)/src/cairn-$(VERSION)
	$(call quiet,DEB,$(DEBDIR))cd $(DEBDIR)/src/cairn-$(VERSION) && \
	    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    dpkg-buildpackage -b -us -uc -Jauto >../build.log 2>&1 || \
	    { tail -40 ../build.log; exit 1; }
	@find $(DEBDIR)/src -maxdepth 1 -type f -exec mv -t $(DEBDIR) {} + && \
	    rm -rf $(DEBDIR)/src && ls -1 $(DEBDIR)
	$(call quiet,LINTIAN,$(DEBDIR)/cairn_$(DEB_VERSION)_*.changes)lintian \
	    --display-info --fail-on error $(DEBDIR)/cairn_$(DEB_VERSION)_*.changes

format:
	clang-format -i $(LIB_SRCS) lib/*.h cert-tool/*.[ch] node/*.[ch] \
	    lighthouse/*.c sshd/*.[ch] ctl/*.c $(UNIT_SRCS) \
	    $(FUZZ_SRCS)

format-check:
	clang-format --dry-run --Werror $(LIB_SRCS) lib/*.h cert-tool/*.[ch]

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
