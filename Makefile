# nbdroot: root filesystems on a Network Block Device for diskless machines.
#
#   make               build client/nbd-client (static klibc) and server/nbd-server
#   make initrd        build/initrd.img for the newest kernel (KVER=, OUT=)
#   make check         deps (when root), build, unit and QEMU tests
#   make demo          boot a diskless VM from our server, console on this tty
#   make unit          host unit tests only (no root, no VM)
#   make qemu-tests    QEMU tests only
#   make bench-server  our nbd-server against nbd-server, nbdkit, qemu-nbd
#                      on 127.0.0.1 (ROUNDS=, RUNTIME=); prints, asserts nothing
#   make bench-initrd, bench-boot  our initrd's size and boot time against
#                      initramfs-tools' and dracut's (bench-vm: fio in a VM)
#   make check-slow    the slow VM tests: Debian root, PXE, shared root, dracut
#   make install       client, server, man page and the dracut module
#                      (DESTDIR=, PREFIX=, DRACUTMODDIR=)

CC	?= gcc
KLCC	?= klcc
WARN	:= -Wall -Wextra -Werror
CFLAGS	?= -O2 -g
CFLAGS	+= $(WARN) -std=gnu11 -D_GNU_SOURCE -Icommon
KLCFLAGS := -Os $(WARN) -Icommon
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer

BUILD	:= build
KVER	?= $(shell ls -1 /lib/modules 2>/dev/null | sort -V | tail -n 1)
OUT	?= $(BUILD)/initrd.img

COMMON_SRC := $(wildcard common/*.c)
SERVER_SRC := $(wildcard server/*.c)
CLIENT_SRC := $(wildcard client/*.c)
HEADERS    := $(wildcard common/*.h server/*.h client/*.h)

# Everything but main.c is a library the unit tests link against.
SERVER_LIB := $(filter-out server/main.c,$(SERVER_SRC)) $(COMMON_SRC)
CLIENT_LIB := $(filter-out client/main.c,$(CLIENT_SRC)) $(COMMON_SRC)

UNIT_SRC   := $(wildcard tests/unit/test-*.c)
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
UNIT_ASAN  := $(patsubst tests/unit/%.c,$(BUILD)/unit-asan/%,$(UNIT_SRC))

.PHONY: all initrd check unit unit-asan qemu-tests demo deps clean shellcheck fuzz fuzz-client

all: client/nbd-client server/nbd-server

server/nbd-server: $(SERVER_SRC) $(COMMON_SRC) $(HEADERS)
	$(CC) $(CFLAGS) -o $@ $(SERVER_SRC) $(COMMON_SRC)

# The client runs in the initrd before any library exists: static klibc.
client/nbd-client: $(CLIENT_SRC) $(COMMON_SRC) $(HEADERS)
	$(KLCC) -static $(KLCFLAGS) -o $@ $(CLIENT_SRC) $(COMMON_SRC)
	strip $@

# Unit tests link the component libraries with the host compiler; a test
# names what it needs in its first line: "// unit: server" or "client".
$(BUILD)/unit/%: tests/unit/%.c $(SERVER_SRC) $(CLIENT_SRC) $(COMMON_SRC) $(HEADERS) tests/unit/unit.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iserver -Iclient -Itests/unit -o $@ $< \
		$(call unit_libs,$<)
$(BUILD)/unit-asan/%: tests/unit/%.c $(SERVER_SRC) $(CLIENT_SRC) $(COMMON_SRC) $(HEADERS) tests/unit/unit.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) -Iserver -Iclient -Itests/unit -o $@ $< \
		$(call unit_libs,$<)

unit_libs = $(if $(shell grep -l '^// unit:.*server' $(1)),$(filter-out $(COMMON_SRC),$(SERVER_LIB))) \
	    $(if $(shell grep -l '^// unit:.*client' $(1)),$(filter-out $(COMMON_SRC),$(CLIENT_LIB))) \
	    $(COMMON_SRC)

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
		-o $@ $< $(SERVER_LIB)

fuzz: $(BUILD)/fuzz/fuzz-server
	@mkdir -p $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/fuzz-server -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
		-max_len=300000 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
		$(BUILD)/fuzz/corpus tests/fuzz/corpus-server

# libFuzzer over nbd-client's negotiation parser (what servers send).
$(BUILD)/fuzz/fuzz-client: tests/fuzz/fuzz-client.c $(CLIENT_SRC) $(COMMON_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Icommon -Iclient \
		-o $@ $< $(CLIENT_LIB)

fuzz-client: $(BUILD)/fuzz/fuzz-client
	@mkdir -p $(BUILD)/fuzz/corpus-client
	$(BUILD)/fuzz/fuzz-client -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
		-max_len=65536 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
		$(BUILD)/fuzz/corpus-client tests/fuzz/corpus-client

# MODULES=default|host|none or a list (default,-xfs,mlx5_core),
# EXTRA=DIR (files over the initrd's root), HOOKS=DIR (STAGE/NAME
# executables); see initramfs/mkinitrd --help.
initrd: client/nbd-client
	initramfs/mkinitrd --kver "$(KVER)" --out "$(OUT)" \
		$(if $(MODULES),--modules "$(MODULES)") \
		$(if $(EXTRA),--extra "$(EXTRA)") $(if $(HOOKS),--hooks "$(HOOKS)")

# Our initrd against Debian's mkinitramfs and dracut for the same kernel.
.PHONY: bench-initrd
bench-initrd: client/nbd-client
	scripts/bench-initrd --kver "$(KVER)"

# Boot time under TCG with our initrd and with those two generators' ones.
.PHONY: bench-boot
bench-boot: all
	KVER="$(KVER)" scripts/bench-boot $(ROUNDS)

# Our server against Debian's nbd-server, nbdkit and qemu-nbd on loopback;
# bench-vm: fio on /dev/nbd0 inside one TCG VM (neither is in make check).
.PHONY: bench-server bench-vm
bench-server: server/nbd-server
	scripts/bench-server $(ROUNDS)

bench-vm: all initrd
	scripts/bench-vm

qemu-tests: all initrd
	@tests/run qemu tests/qemu/[0-9]*.sh

deps:
	scripts/deps

# CI and fresh machines: install what is missing, build, then every test.
check:
	@if [ "$$(id -u)" = 0 ]; then scripts/deps; else scripts/deps --check; fi
	@$(MAKE) --no-print-directory all initrd $(UNIT_BIN) $(UNIT_ASAN)
	@tests/run check $(UNIT_BIN) $(UNIT_ASAN) tests/unit/*.sh tests/qemu/[0-9]*.sh

demo: all initrd
	scripts/demo

# The slow tier: a Debian 12 systemd root (its packages cached in
# build/cache), PXE through iPXE and pxelinux, three clients on one
# read-only root, and a dracut-built initrd with our module.
.PHONY: check-slow install
check-slow:
	@if [ "$$(id -u)" = 0 ]; then scripts/deps; else scripts/deps --check; fi
	@$(MAKE) --no-print-directory all initrd
	@tests/run check-slow tests/qemu/slow/[0-9]*.sh

# dracut reads its modules from DRACUTMODDIR only, whatever PREFIX says.
# The module gets installed copies of initramfs/lib (the one boot-line
# parser, the network and attach steps) and the path of the client
# installed here.
PREFIX	?= /usr/local
DRACUTMODDIR ?= /usr/lib/dracut/modules.d
DRACUTMOD := $(DESTDIR)$(DRACUTMODDIR)/95nbdroot
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man7 $(DRACUTMOD)/lib
	install -m 755 client/nbd-client server/nbd-server $(DESTDIR)$(PREFIX)/sbin/
	install -m 644 initramfs/nbdroot.7 $(DESTDIR)$(PREFIX)/share/man/man7/
	install -m 755 initramfs/dracut/95nbdroot/*.sh $(DRACUTMOD)/
	install -m 644 initramfs/dracut/95nbdroot/nbdroot.service $(DRACUTMOD)/
	install -m 644 initramfs/lib/*.sh $(DRACUTMOD)/lib/
	install -m 755 initramfs/lib/dhcp-event $(DRACUTMOD)/lib/
	printf "nbdroot_client='%s'\n" "$(PREFIX)/sbin/nbd-client" >$(DRACUTMOD)/nbdroot.paths

# Warnings and errors fail; shellcheck's "info" notes do not.
SHELL_SCRIPTS := $(filter-out scripts/demo-root,$(wildcard scripts/*)) \
	initramfs/mkinitrd tests/run tests/qemu/*.sh tests/qemu/slow/*.sh \
	tests/unit/*.sh
shellcheck:
	shellcheck -x -S warning -s sh initramfs/init initramfs/lib/*.sh \
		initramfs/lib/dhcp-event \
		$(filter-out %/module-setup.sh,$(wildcard initramfs/dracut/*/*.sh)) \
		scripts/demo-root/sbin/init tests/qemu/guest/sbin/init \
		tests/qemu/guest/tests/* tests/qemu/hooks/*/*
	shellcheck -x -S warning $(SHELL_SCRIPTS)
	shellcheck -x -S warning -s bash initramfs/dracut/*/module-setup.sh

clean:
	rm -rf $(BUILD) client/nbd-client server/nbd-server
