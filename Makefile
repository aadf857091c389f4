# nbdroot: root filesystems on a Network Block Device for diskless machines.
#
#   make               build client/nbd-client (static klibc) and server/nbd-server
#   make initrd        build/initrd.img for the newest kernel (KVER=, OUT=)
#   make check         deps (when root), build, unit and QEMU tests
#   make check-host    every test that needs neither a VM nor root (those
#                      that need root skip): unit, unit-asan, tests/unit/*.sh
#   make demo          boot a diskless VM from our server, console on this tty
#   make unit          the C unit tests only (no root, no VM); one case:
#                      build/unit/test-wire test_request (-l lists them)
#   make qemu-tests    QEMU tests only
#   make bench-server  our nbd-server against nbd-server, nbdkit, qemu-nbd
#                      on 127.0.0.1 (ROUNDS=, RUNTIME=); prints, asserts nothing
#   make bench-storm   N clients replaying a recorded boot against each
#                      server and the page-cache floor (NS=, ROUNDS=)
#   make bench-initrd, bench-boot  our initrd's size and boot time against
#                      initramfs-tools' and dracut's, and the kernel's own
#                      floor (KINDS=, ROUNDS=; bench-vm: fio in a VM)
#   make bench-vm-tls  fio in a VM on one export of ours over kTLS and in
#                      plaintext: the TLS/plain ratio (ROUNDS=, RUNTIME=)
#   make check-slow    the slow VM tests: Debian root, PXE, shared root, dracut
#   make check-ceph    the several-server VM tests: rooms on Ceph clones
#                      behind two gateways, a stateless room on two servers
#   make soak          the reliability suite's long runs (make check runs
#                      its short ones)
#   make install       client, server, initrd and PXE builders, man pages,
#                      systemd units, the dracut module (DESTDIR=, PREFIX=,
#                      DRACUTMODDIR=, SYSTEMDUNITDIR=, SYSCONFDIR=)
#   make deb           Debian packages in build/deb (dpkg-buildpackage)
#   make check-kernel  build a kernel from linux-source with kernel-config/
#                      (no modules) and boot it diskless (slow, not in CI)

CC	?= gcc
KLCC	?= klcc
WARN	:= -Wall -Wextra -Werror
# CFLAGS from the command line (make CFLAGS=-O0, a package's build flags)
# replaces -O2 -g only: what the sources need is appended whatever it says.
CFLAGS	?= -O2 -g
# client/tls/ is built on BearSSL's primitives (static archive for klcc)
BEARSSL_INC := -I/usr/include/bearssl
override CFLAGS += $(WARN) -std=gnu11 -D_GNU_SOURCE -Icommon $(BEARSSL_INC)
KLCFLAGS := -Os $(WARN) -Icommon $(BEARSSL_INC)
BEARSSL_A   := $(shell $(CC) -print-file-name=libbearssl.a)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
# every object gets a .d file next to it naming the headers it read
DEPFLAGS := -MMD -MP

BUILD	:= build
# Objects, one tree per flavour: host (server, unit tests), host with
# sanitizers (unit-asan), klcc (the static client).
OBJ	 := $(BUILD)/obj
ASAN_OBJ := $(BUILD)/obj-asan
KLCC_OBJ := $(BUILD)/obj-klcc
objs	  = $(patsubst %.c,$(1)/%.o,$(2))
# build/flags holds the host flags the objects were built with, rewritten
# only when they change: a plain make after make CFLAGS=-O0 rebuilds.
HOST_FLAGS := $(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS)
ifneq ($(file < $(BUILD)/flags),$(HOST_FLAGS))
$(shell mkdir -p $(BUILD))
$(file > $(BUILD)/flags,$(HOST_FLAGS))
endif
KVER	?= $(shell ls -1 /lib/modules 2>/dev/null | sort -V | tail -n 1)
OUT	?= $(BUILD)/initrd.img

COMMON_SRC := $(wildcard common/*.c)
SERVER_SRC := $(wildcard server/*.c)
CLIENT_SRC := $(wildcard client/*.c client/tls/*.c)
HEADERS    := $(wildcard common/*.h server/*.h client/*.h client/tls/*.h)

# Everything but main.c is a library the unit tests link against;
# nbdroot-modload's alias matching too ("// unit: modload").
MODLOAD_LIB := initramfs/modload/select.c
SERVER_LIB := $(filter-out server/main.c,$(SERVER_SRC)) $(COMMON_SRC)
CLIENT_LIB := $(filter-out client/main.c,$(CLIENT_SRC)) $(COMMON_SRC)

UNIT_SRC   := $(wildcard tests/unit/test-*.c)
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
UNIT_ASAN  := $(patsubst tests/unit/%.c,$(BUILD)/unit-asan/%,$(UNIT_SRC))
# the TLS core's tests again as the client is built: static klibc
UNIT_BIN   += $(BUILD)/unit/test-client-tls13-klibc

.PHONY: all initrd check unit unit-asan qemu-tests demo deps clean shellcheck fuzz fuzz-tls fuzz-client

all: client/nbd-client server/nbd-server initramfs/dhcp6/nbdroot-dhcp6 \
	initramfs/dhcp-event/nbdroot-dhcp-event initramfs/dhcp4/nbdroot-dhcp4 \
	initramfs/modload/nbdroot-modload initramfs/mounts/nbdroot-early initramfs/mounts/nbdroot-switch

# the server's STARTTLS (server/tls.c) is GnuTLS
SERVER_LDLIBS := -lgnutls
# Symbols bound once, in the master: lazily bound, every forked child
# looked each one up again on first use (and wrote its own copy of the
# table); read-only after that, as hardening wants.
SERVER_LDFLAGS := -Wl,-z,relro,-z,now
server/nbd-server: $(call objs,$(OBJ),$(SERVER_SRC) $(COMMON_SRC))
	$(CC) $(CFLAGS) $(LDFLAGS) $(SERVER_LDFLAGS) -o $@ $^ $(SERVER_LDLIBS)

# The client runs in the initrd before any library exists: static klibc.
client/nbd-client: $(call objs,$(KLCC_OBJ),$(CLIENT_SRC) $(COMMON_SRC))
	$(KLCC) -static $(KLCFLAGS) -o $@ $^ $(BEARSSL_A)
	strip $@

# DHCPv6 and router advertisements for the init (ip=dhcp6, auto6):
# static klibc, as the client.
initramfs/dhcp6/nbdroot-dhcp6: initramfs/dhcp6/dhcp6.c initramfs/dhcp6/parse.c initramfs/dhcp6/parse.h common/byteorder.h \
		initramfs/rng/rng.h
	$(KLCC) -static $(KLCFLAGS) -Iinitramfs/rng -o $@ $(filter %.c,$^)
	strip $@

# udhcpc's event program (the initrd's /lib/nbdroot/dhcp-event): the
# lease configured over rtnetlink in one exec, static klibc.
DHCP_APPLY_SRC := initramfs/dhcp-event/apply.c initramfs/dhcp-event/conf.c \
	initramfs/dhcp-event/rtnl.c
DHCP_APPLY_H := initramfs/dhcp-event/apply.h initramfs/dhcp-event/conf.h \
	initramfs/dhcp-event/rtnl.h
initramfs/dhcp-event/nbdroot-dhcp-event: initramfs/dhcp-event/event.c \
		$(DHCP_APPLY_SRC) $(DHCP_APPLY_H)
	$(KLCC) -static $(KLCFLAGS) -o $@ $(filter %.c,$^)
	strip $@

# The init's DHCPv4 client, in place of udhcpc and its event program:
# static klibc, the lease set by the event program's apply.c.
initramfs/dhcp4/nbdroot-dhcp4: initramfs/dhcp4/dhcp4.c initramfs/dhcp4/packet.c \
		initramfs/dhcp4/packet.h $(DHCP_APPLY_SRC) $(DHCP_APPLY_H) \
		common/byteorder.h initramfs/rng/rng.h
	$(KLCC) -static $(KLCFLAGS) -Iinitramfs/dhcp-event -Iinitramfs/rng -o $@ $(filter %.c,$^)
	strip $@

# The init's modules in one exec, not one insmod each, with the matching
# of devices to drivers: static klibc.
initramfs/modload/nbdroot-modload: initramfs/modload/modload.c \
		initramfs/modload/select.c initramfs/modload/select.h
	$(KLCC) -static $(KLCFLAGS) -o $@ $(filter %.c,$^)
	strip $@

# The mounts the shell init would exec busybox for, static klibc: the
# initrd's /init (before /proc exists, then the shell init) and the moves
# into the real root before run-init.
initramfs/mounts/nbdroot-early: initramfs/mounts/early.c initramfs/mounts/say.h
	$(KLCC) -static $(KLCFLAGS) -o $@ $<
	strip $@

initramfs/mounts/nbdroot-switch: initramfs/mounts/switch.c initramfs/mounts/say.h
	$(KLCC) -static $(KLCFLAGS) -o $@ $<
	strip $@

# Test sources see every component's headers; the components only their own.
$(OBJ)/tests/%.o $(ASAN_OBJ)/tests/%.o: UNIT_INC := -Iserver -Iclient -Itests/unit
# build/flags again when make clean removed it in this same run
$(BUILD)/flags:
	@mkdir -p $(@D)
	@printf '%s\n' '$(subst ','\'',$(HOST_FLAGS))' >$@
$(OBJ)/%.o: %.c $(BUILD)/flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(UNIT_INC) $(DEPFLAGS) -c -o $@ $<
$(ASAN_OBJ)/%.o: %.c $(BUILD)/flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) $(UNIT_INC) $(DEPFLAGS) -c -o $@ $<
$(KLCC_OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(KLCC) $(KLCFLAGS) $(DEPFLAGS) -c -o $@ $<

-include $(shell find $(OBJ) $(ASAN_OBJ) $(KLCC_OBJ) -name '*.d' 2>/dev/null)

# Unit tests link the component libraries with the host compiler; a test
# names what it needs in its first line: "// unit: server" or "client".
# Debian's BearSSL objects need client/tls/klibc.c's shims under klibc.
$(BUILD)/unit/test-client-tls13-klibc: tests/unit/test-client-tls13.c $(wildcard client/tls/*.c) $(HEADERS) tests/unit/*.h
	@mkdir -p $(@D)
	$(KLCC) -static $(KLCFLAGS) -Iclient -Itests/unit -o $@ $< \
		$(wildcard client/tls/*.c) $(BEARSSL_A)

unit_libs = $(if $(shell grep -l '^// unit:.*server' $(1)),$(filter-out $(COMMON_SRC),$(SERVER_LIB))) \
	    $(if $(shell grep -l '^// unit:.*client' $(1)),$(filter-out $(COMMON_SRC),$(CLIENT_LIB))) \
	    $(if $(shell grep -l '^// unit:.*modload' $(1)),$(MODLOAD_LIB)) \
	    $(COMMON_SRC)
# the client's TLS core links BearSSL
unit_ldlibs = $(if $(shell grep -l '^// unit:.*client' $(1)),-lbearssl) \
	      $(if $(shell grep -l '^// unit:.*server' $(1)),$(SERVER_LDLIBS))
unit_objs = $(call objs,$(1),$(2) $(call unit_libs,$(2)))
# found through the pattern rules below, yet kept for the next build
UNIT_DEPS := $(COMMON_SRC) $(SERVER_SRC) $(CLIENT_SRC) $(MODLOAD_LIB) $(UNIT_SRC)
.SECONDARY: $(call objs,$(OBJ),$(UNIT_DEPS)) $(call objs,$(ASAN_OBJ),$(UNIT_DEPS))

.SECONDEXPANSION:
$(BUILD)/unit/%: $$(call unit_objs,$(OBJ),tests/unit/$$*.c)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(call unit_ldlibs,tests/unit/$*.c)
$(BUILD)/unit-asan/%: $$(call unit_objs,$(ASAN_OBJ),tests/unit/$$*.c)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(call unit_ldlibs,tests/unit/$*.c)

unit: $(UNIT_BIN) all
	@tests/run unit $(UNIT_BIN)

unit-asan: $(UNIT_ASAN) all
	@tests/run unit-asan $(UNIT_ASAN)

# libFuzzer over nbd-server's negotiation and transmission (the -s path);
# new inputs collect in build/fuzz/corpus, seeds in tests/fuzz/corpus-server.
FUZZ_SECONDS ?= 60
FUZZ_CC    ?= clang
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	      -fno-omit-frame-pointer -g -O1
$(BUILD)/fuzz/fuzz-server: tests/fuzz/fuzz-server.c $(SERVER_SRC) $(COMMON_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Icommon -Iserver \
		-o $@ $< $(SERVER_LIB) $(SERVER_LDLIBS)

fuzz: $(BUILD)/fuzz/fuzz-server
	@mkdir -p $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/fuzz-server -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
		-max_len=300000 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
		$(BUILD)/fuzz/corpus tests/fuzz/corpus-server

# The same with force_tls and tlspsk: the plaintext path before STARTTLS.
$(BUILD)/fuzz/fuzz-server-tls: tests/fuzz/fuzz-server.c $(SERVER_SRC) $(COMMON_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -DFUZZ_TLS -Icommon -Iserver \
		-o $@ $< $(SERVER_LIB) $(SERVER_LDLIBS)

fuzz-tls: $(BUILD)/fuzz/fuzz-server-tls
	@mkdir -p $(BUILD)/fuzz/corpus-tls
	$(BUILD)/fuzz/fuzz-server-tls -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
		-max_len=65536 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
		$(BUILD)/fuzz/corpus-tls tests/fuzz/corpus-server-tls

# libFuzzer over nbd-client's negotiation parser (what servers send).
$(BUILD)/fuzz/fuzz-client: tests/fuzz/fuzz-client.c $(CLIENT_SRC) $(COMMON_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Icommon -Iclient \
		$(BEARSSL_INC) -o $@ $< $(CLIENT_LIB) -lbearssl

fuzz-client: $(BUILD)/fuzz/fuzz-client
	@mkdir -p $(BUILD)/fuzz/corpus-client
	$(BUILD)/fuzz/fuzz-client -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
		-max_len=65536 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
		$(BUILD)/fuzz/corpus-client tests/fuzz/corpus-client

# libFuzzer over nbdroot-dhcp6's parsers (DHCPv6 replies, router
# advertisements: what the boot link sends the initrd).
.PHONY: fuzz-dhcp6
$(BUILD)/fuzz/fuzz-dhcp6: tests/fuzz/fuzz-dhcp6.c initramfs/dhcp6/parse.c initramfs/dhcp6/parse.h common/byteorder.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(WARN) -std=gnu11 -Icommon -Iinitramfs/dhcp6 \
		-o $@ $< initramfs/dhcp6/parse.c

fuzz-dhcp6: $(BUILD)/fuzz/fuzz-dhcp6
	@mkdir -p $(BUILD)/fuzz/corpus-dhcp6
	$(BUILD)/fuzz/fuzz-dhcp6 -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
		-max_len=1501 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
		$(BUILD)/fuzz/corpus-dhcp6 tests/fuzz/corpus-dhcp6

# libFuzzer over nbdroot-dhcp4's packet code (what the boot link sends
# the initrd before it has an address; the client's own messages framed).
.PHONY: fuzz-dhcp4
$(BUILD)/fuzz/fuzz-dhcp4: tests/fuzz/fuzz-dhcp4.c initramfs/dhcp4/packet.c initramfs/dhcp4/packet.h common/byteorder.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(WARN) -std=gnu11 -Icommon -Iinitramfs/dhcp4 \
		-o $@ $< initramfs/dhcp4/packet.c

fuzz-dhcp4: $(BUILD)/fuzz/fuzz-dhcp4
	@mkdir -p $(BUILD)/fuzz/corpus-dhcp4
	$(BUILD)/fuzz/fuzz-dhcp4 -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
		-max_len=1600 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
		$(BUILD)/fuzz/corpus-dhcp4 tests/fuzz/corpus-dhcp4

# libFuzzer over what nbdroot-dhcp-event writes from a DHCP server's
# values (net-LINK.conf quoting, resolv.conf lines).
.PHONY: fuzz-dhcp-event
$(BUILD)/fuzz/fuzz-dhcp-event: tests/fuzz/fuzz-dhcp-event.c initramfs/dhcp-event/conf.c initramfs/dhcp-event/conf.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinitramfs/dhcp-event \
		-o $@ $< initramfs/dhcp-event/conf.c

fuzz-dhcp-event: $(BUILD)/fuzz/fuzz-dhcp-event
	@mkdir -p $(BUILD)/fuzz/corpus-dhcp-event
	$(BUILD)/fuzz/fuzz-dhcp-event -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
		-max_len=4096 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
		$(BUILD)/fuzz/corpus-dhcp-event tests/fuzz/corpus-dhcp-event

# libFuzzer over what a TLS 1.3 server sends client/tls (the harness
# seals its input with the client's keys to reach past the encryption).
.PHONY: fuzz-client-tls
$(BUILD)/fuzz/fuzz-client-tls: tests/fuzz/fuzz-client-tls.c $(CLIENT_SRC) $(COMMON_SRC) $(HEADERS) tests/unit/tls13-test-server.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Icommon -Iclient \
		-Itests/unit $(BEARSSL_INC) -o $@ $< $(wildcard client/tls/*.c) -lbearssl

fuzz-client-tls: $(BUILD)/fuzz/fuzz-client-tls
	@mkdir -p $(BUILD)/fuzz/corpus-client-tls
	$(BUILD)/fuzz/fuzz-client-tls -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
		-max_len=70000 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
		$(BUILD)/fuzz/corpus-client-tls tests/fuzz/corpus-client-tls

# MODULES=default|host|none or a list (default,-xfs,mlx5_core),
# EXTRA=DIR (files over the initrd's root), HOOKS=DIR (STAGE/NAME
# executables), TLS_PSK=FILE (the key, and kTLS's modules); see
# initramfs/mkinitrd --help.
initrd: client/nbd-client initramfs/dhcp6/nbdroot-dhcp6 initramfs/modload/nbdroot-modload \
	initramfs/dhcp-event/nbdroot-dhcp-event initramfs/dhcp4/nbdroot-dhcp4 \
	initramfs/mounts/nbdroot-early initramfs/mounts/nbdroot-switch
	initramfs/mkinitrd --kver "$(KVER)" --out "$(OUT)" \
		$(if $(MODULES),--modules "$(MODULES)") \
		$(if $(EXTRA),--extra "$(EXTRA)") $(if $(HOOKS),--hooks "$(HOOKS)") \
		$(if $(TLS_PSK),--tls-psk "$(TLS_PSK)")

# Our initrd against Debian's mkinitramfs and dracut for the same kernel.
.PHONY: bench-initrd
bench-initrd: client/nbd-client
	scripts/bench-initrd --kver "$(KVER)"

# Boot time under TCG with our initrd and with those two generators' ones.
.PHONY: bench-boot
bench-boot: all
	KVER="$(KVER)" scripts/bench-boot $(ROUNDS)

# Our server against Debian's nbd-server, nbdkit and qemu-nbd on loopback;
# bench-vm: fio on /dev/nbd1 inside one TCG VM, bench-vm-tls the same over
# kTLS and in plaintext (none is in make check).
.PHONY: bench-server bench-vm bench-vm-tls
bench-server: server/nbd-server
	scripts/bench-server $(ROUNDS)

bench-vm: all initrd
	scripts/bench-vm

bench-vm-tls: all initrd
	scripts/bench-vm --tls

# The boot-storm driver (scripts/storm/README) and its benchmark: N
# clients replaying a recorded boot against each server (NS=, ROUNDS=).
STORM_SRC := $(wildcard scripts/storm/*.c)
.PHONY: storm bench-storm
storm: $(BUILD)/storm
$(BUILD)/storm: $(call objs,$(OBJ),$(STORM_SRC))
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lnbd

bench-storm: server/nbd-server $(BUILD)/storm
	scripts/bench-storm

qemu-tests: all initrd $(BUILD)/storm
	@tests/run qemu tests/qemu/[0-9]*.sh

deps:
	scripts/deps

# CI and fresh machines: install what is missing, build, then every test.
check:
	@if [ "$$(id -u)" = 0 ]; then scripts/deps; else scripts/deps --check; fi
	@$(MAKE) --no-print-directory all initrd $(UNIT_BIN) $(UNIT_ASAN) $(BUILD)/storm
	@tests/run check $(UNIT_BIN) $(UNIT_ASAN) tests/unit/*.sh tests/qemu/[0-9]*.sh

# The contributor's quick answer: no VM, no root, fuzzers 10 s each
# (FUZZ_SECONDS=). Tests that need root skip when not run as root.
.PHONY: check-host
check-host:
	@$(MAKE) --no-print-directory all $(UNIT_BIN) $(UNIT_ASAN) $(BUILD)/storm
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-10} \
		tests/run check-host $(UNIT_BIN) $(UNIT_ASAN) tests/unit/*.sh

demo: all initrd
	scripts/demo

# The slow tier: a Debian 12 systemd root (its packages cached in
# build/cache), PXE through iPXE and pxelinux, three clients on one
# read-only root, and a dracut-built initrd with our module.
.PHONY: check-slow install
check-slow:
	@if [ "$$(id -u)" = 0 ]; then scripts/deps; else scripts/deps --check; fi
	@$(MAKE) --no-print-directory all initrd
	@tests/run check-slow $(filter-out $(CEPH_VM),$(wildcard tests/qemu/slow/[0-9]*.sh))

# Issue 16's VM tests (slow tier, several VMs at once, a Ceph cluster):
# 8.5 minutes, which would bring CI (check, check-slow, ~47) near its 60.
CEPH_VM := tests/qemu/slow/37-ceph-room.sh tests/qemu/slow/38-ceph-gateway-kill.sh \
	tests/qemu/slow/39-stateless-room.sh
.PHONY: check-ceph
check-ceph:
	@if [ "$$(id -u)" = 0 ]; then scripts/deps; else scripts/deps --check; fi
	@$(MAKE) --no-print-directory all initrd $(BUILD)/storm
	@tests/run check-ceph $(CEPH_VM)

# The reliability suite (issue 13) at full length: 60 s of fio load, 1000
# slow clients, 20000 fuzzed boot lines, 10 server kills under a writing
# guest, 5 dropped proxies. make check runs the same tests, short.
SOAK_HOST := flush-contract load slow-clients cmdline-fuzz
SOAK_VM   := 50-crash-durability 51-faults
.PHONY: soak
soak: all initrd
	@LOAD_SECONDS=60 SLOW_CLIENTS=1000 CMDLINE_LINES=20000 SEED=random KILLS=10 DROPS=5 \
		TEST_TIMEOUT=3600 tests/run soak $(SOAK_HOST:%=tests/unit/%.sh) \
		$(SOAK_VM:%=tests/qemu/%.sh)

# dracut reads its modules from DRACUTMODDIR only, whatever PREFIX says.
# The module gets installed copies of initramfs/lib (the one boot-line
# parser, the network and attach steps) and the path of the client
# installed here.
PREFIX	?= /usr/local
DRACUTMODDIR ?= /usr/lib/dracut/modules.d
DRACUTMOD := $(DESTDIR)$(DRACUTMODDIR)/95nbdroot
# The initrd and PXE builders find their files relative to themselves:
# they live under lib/nbdroot as in this tree, linked from sbin.
NBDROOTLIB := $(DESTDIR)$(PREFIX)/lib/nbdroot
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man7 $(DRACUTMOD)/lib
	install -m 755 client/nbd-client server/nbd-server $(DESTDIR)$(PREFIX)/sbin/
	install -m 644 initramfs/nbdroot.7 $(DESTDIR)$(PREFIX)/share/man/man7/
	install -m 755 initramfs/dracut/95nbdroot/*.sh $(DRACUTMOD)/
	install -m 644 initramfs/dracut/95nbdroot/nbdroot.service $(DRACUTMOD)/
	install -m 644 initramfs/lib/*.sh $(DRACUTMOD)/lib/
	printf "nbdroot_client='%s'\nnbdroot_dhcp6='%s'\nnbdroot_dhcp_event='%s'\nnbdroot_dhcp4='%s'\n" \
		"$(PREFIX)/sbin/nbd-client" \
		"$(PREFIX)/lib/nbdroot/initramfs/dhcp6/nbdroot-dhcp6" \
		"$(PREFIX)/lib/nbdroot/initramfs/dhcp-event/nbdroot-dhcp-event" \
		"$(PREFIX)/lib/nbdroot/initramfs/dhcp4/nbdroot-dhcp4" \
		>$(DRACUTMOD)/nbdroot.paths
	install -d $(NBDROOTLIB)/client $(NBDROOTLIB)/initramfs/lib \
		$(NBDROOTLIB)/scripts $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/nbdroot
	install -m 755 initramfs/init initramfs/mkinitrd $(NBDROOTLIB)/initramfs/
	install -m 644 initramfs/lib/*.sh $(NBDROOTLIB)/initramfs/lib/
	install -m 755 scripts/mkpxe scripts/mkrootfs scripts/kconfig-check $(NBDROOTLIB)/scripts/
	ln -sf ../../../sbin/nbd-client $(NBDROOTLIB)/client/nbd-client
	# only the initrd runs it (ip=dhcp6): not a command of its own
	install -d $(NBDROOTLIB)/initramfs/dhcp6
	install -m 755 initramfs/dhcp6/nbdroot-dhcp6 $(NBDROOTLIB)/initramfs/dhcp6/
	install -d $(NBDROOTLIB)/initramfs/dhcp-event
	install -m 755 initramfs/dhcp-event/nbdroot-dhcp-event $(NBDROOTLIB)/initramfs/dhcp-event/
	install -d $(NBDROOTLIB)/initramfs/dhcp4
	install -m 755 initramfs/dhcp4/nbdroot-dhcp4 $(NBDROOTLIB)/initramfs/dhcp4/
	install -d $(NBDROOTLIB)/initramfs/modload
	install -m 755 initramfs/modload/nbdroot-modload $(NBDROOTLIB)/initramfs/modload/
	install -d $(NBDROOTLIB)/initramfs/mounts
	install -m 755 initramfs/mounts/nbdroot-early initramfs/mounts/nbdroot-switch $(NBDROOTLIB)/initramfs/mounts/
	ln -sf ../lib/nbdroot/initramfs/mkinitrd $(DESTDIR)$(PREFIX)/sbin/nbdroot-mkinitrd
	ln -sf ../lib/nbdroot/scripts/mkpxe $(DESTDIR)$(PREFIX)/sbin/nbdroot-mkpxe
	ln -sf ../lib/nbdroot/scripts/mkrootfs $(DESTDIR)$(PREFIX)/sbin/nbdroot-mkrootfs
	ln -sf ../lib/nbdroot/scripts/kconfig-check $(DESTDIR)$(PREFIX)/sbin/nbdroot-kconfig-check
	install -m 644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	for u in server/systemd/*; do \
		sed 's|@SBINDIR@|$(PREFIX)/sbin|' $$u >$(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/}; \
	done
	[ -e $(DESTDIR)$(SYSCONFDIR)/nbdroot/nbd-server.conf ] || \
		install -m 644 server/nbd-server.conf $(DESTDIR)$(SYSCONFDIR)/nbdroot/
	install -d $(DESTDIR)$(SYSCONFDIR)/kernel/postinst.d \
		$(DESTDIR)$(SYSCONFDIR)/kernel/postrm.d
	install -m 755 initramfs/kernel-hook $(DESTDIR)$(SYSCONFDIR)/kernel/postinst.d/nbdroot
	install -m 755 initramfs/kernel-hook $(DESTDIR)$(SYSCONFDIR)/kernel/postrm.d/nbdroot
	[ -e $(DESTDIR)$(SYSCONFDIR)/nbdroot/kernel-hook.conf ] || \
		install -m 644 initramfs/kernel-hook.conf $(DESTDIR)$(SYSCONFDIR)/nbdroot/

# The kernel-config fragment proven: a kernel built from linux-source
# with it (no modules) boots diskless. Not in CI: the build takes long.
.PHONY: check-kernel
check-kernel: all
	@TEST_TIMEOUT=$${TEST_TIMEOUT:-5400} tests/run check-kernel tests/qemu/kernel/fragment-boot.sh

# Debian packages (debian/) in build/deb, built from a copy of the tree
# so that dpkg-buildpackage's output stays inside build/.
.PHONY: deb
deb:
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/src
	git ls-files -co --exclude-standard -z | tar --null -cf - -T - | \
		tar -xf - -C $(BUILD)/deb/src
	cd $(BUILD)/deb/src && dpkg-buildpackage -us -uc -b
	ls -l $(BUILD)/deb/*.deb

# Warnings and errors fail; shellcheck's "info" notes do not.
SHELL_SCRIPTS := $(filter-out scripts/demo-root scripts/storm scripts/%.c scripts/%.md,$(wildcard scripts/*)) \
	initramfs/mkinitrd tests/run tests/qemu/*.sh tests/qemu/slow/*.sh tests/qemu/kernel/*.sh \
	tests/unit/*.sh
shellcheck:
	shellcheck -x -S warning -s sh initramfs/init initramfs/lib/*.sh \
		initramfs/kernel-hook \
		$(filter-out %/module-setup.sh,$(wildcard initramfs/dracut/*/*.sh)) \
		scripts/demo-root/sbin/init tests/qemu/guest/sbin/init \
		tests/qemu/guest/tests/* tests/qemu/hooks/*/*
	shellcheck -x -S warning $(SHELL_SCRIPTS)
	shellcheck -x -S warning -s bash initramfs/dracut/*/module-setup.sh

clean:
	rm -rf $(BUILD) client/nbd-client server/nbd-server initramfs/dhcp6/nbdroot-dhcp6 \
		initramfs/dhcp-event/nbdroot-dhcp-event initramfs/dhcp4/nbdroot-dhcp4 \
		initramfs/modload/nbdroot-modload initramfs/mounts/nbdroot-early initramfs/mounts/nbdroot-switch
