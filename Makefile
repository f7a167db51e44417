# apikeyd — build, run and test. `make run` and `make test` install what they need first.
# SANITIZE=address,undefined builds an instrumented copy under build/san and tests that.

CC ?= cc
PKGS := jansson libsodium libssl libcrypto sqlite3 zlib liboath libqrencode libpq cjose libcurl ldap lber lasso gobject-2.0 libxml-2.0
SANITIZE ?=
ifeq ($(SANITIZE),)
BUILD := build
SANFLAGS :=
else
BUILD := build/san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Werror
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -MMD -MP $(WARNINGS) $(CFLAGS) $(SANFLAGS) \
             $(shell pkg-config --cflags $(PKGS))
LIBS = $(shell pkg-config --libs $(PKGS)) -lhttp_parser -lpthread -lm

LIB_SRC := $(filter-out src/main.c,$(wildcard src/*.c src/*/*.c))
WEB_FILES := $(sort $(shell find web -type f 2>/dev/null))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/web_assets.o
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/obj/%.o)

DATA ?= var
# compiles run on every core (the sub-makes below pass -j$(JOBS)); the tests themselves do not
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
LISTEN ?= 127.0.0.1:8080

.PHONY: all deps test-deps run test unit http bench clean fuzz fuzz-build fuzz-smoke soak readme-shot \
        install deb

all: $(BUILD)/apikeyd $(BUILD)/apikey

deps:
	@scripts/ensure-deps.sh build

test-deps:
	@scripts/ensure-deps.sh test

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The portal (web/) is compiled in: tools/embed.c turns the files into C arrays.
$(BUILD)/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/gen/web_assets.c: $(BUILD)/embed $(WEB_FILES)
	@mkdir -p $(dir $@)
	$(BUILD)/embed web $(WEB_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I. -Wno-missing-prototypes -c $< -o $@

$(BUILD)/apikeyd: $(BUILD)/obj/src/main.o $(LIB_OBJ)
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS)

# The command-line client (cli/): libcurl and jansson only, nothing of the daemon.
CLI_SRC := $(wildcard cli/*.c)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
$(BUILD)/apikey: $(CLI_OBJ)
	$(CC) $(SANFLAGS) -o $@ $^ $(shell pkg-config --libs libcurl jansson)

$(BUILD)/unit-tests: $(UNIT_OBJ) $(LIB_OBJ)
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS) $(shell pkg-config --libs cmocka)

run: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@mkdir -p $(DATA)
	exec $(BUILD)/apikeyd --listen $(LISTEN) --data $(DATA)

# Every test: each fuzz harness for FUZZ_SMOKE_SECONDS (plain build only: the harnesses carry
# their own sanitizers), unit tests (cmocka, the store suite on SQLite and PostgreSQL), then
# HTTP tests against real daemons (which replay the HTTP fuzz corpus too). scripts/run-tests.sh starts and stops a throwaway PostgreSQL.
test: test-deps
	@$(MAKE) --no-print-directory -j$(JOBS) $(BUILD)/apikeyd $(BUILD)/apikey $(BUILD)/unit-tests
	$(if $(SANITIZE),,@$(MAKE) --no-print-directory fuzz-smoke)
	scripts/run-tests.sh $(BUILD)

unit:
	$(BUILD)/unit-tests

http:
	APIKEYD_BIN=$(CURDIR)/$(BUILD)/apikeyd python3 tests/http/run.py

# Benchmark against nginx (bench/run.py); KEYS=1000000 by default.
KEYS ?= 1000000
$(BUILD)/bench-seed: bench/seed.c $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

bench: deps
	@scripts/ensure-deps.sh bench
	@$(MAKE) --no-print-directory $(BUILD)/apikeyd $(BUILD)/bench-seed
	python3 bench/run.py --keys $(KEYS)

# The README's screenshot, retaken from a clean data set (tests/browser/readme-shot.mjs).
readme-shot: test-deps
	@$(MAKE) --no-print-directory $(BUILD)/apikeyd
	bash tests/browser/run.sh --script readme-shot.mjs

# Soak (tests/soak/soak.py, not part of `make test`): SOAK_SECONDS of mixed verify, create,
# delete, list and login traffic against a real daemon, RSS and open descriptors sampled and
# bounded (docs/ROBUSTNESS.md).
SOAK_SECONDS ?= 600
soak: test-deps
	@$(MAKE) --no-print-directory $(BUILD)/apikeyd
	SOAK_SECONDS=$(SOAK_SECONDS) APIKEYD_BIN=$(CURDIR)/$(BUILD)/apikeyd python3 tests/soak/soak.py

# Fuzzing (tests/fuzz, libFuzzer with ASan + UBSan, Debian's clang). `make fuzz FUZZ_SECONDS=N`
# runs each harness for N seconds on its corpus (tests/fuzz/corpus/NAME, seeds committed; new
# finds go to build/fuzz/corpus/NAME). `make test` runs each for FUZZ_SMOKE_SECONDS.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_BUILD := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 $(WARNINGS) -Wno-unused-command-line-argument -Wno-string-concatenation \
              $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(shell pkg-config --cflags $(PKGS))
FUZZERS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_BUILD)/obj/gen/web_assets.o

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/obj/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I. -Wno-missing-prototypes -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $(FUZZ_LDFLAGS) -o $@ $^ $(LIBS)

# fuzz_http hashes passwords at libsodium's least cost (see the harness)
$(FUZZ_BUILD)/fuzz_http: FUZZ_LDFLAGS = -Wl,--wrap=crypto_pwhash_str

fuzz-build: test-deps
	@$(MAKE) --no-print-directory -j$(JOBS) $(FUZZERS:%=$(FUZZ_BUILD)/%)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/run-fuzz.sh $(FUZZ_BUILD) $(FUZZERS)

fuzz-smoke: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) scripts/run-fuzz.sh $(FUZZ_BUILD) $(FUZZERS)

# Install (docs/DEPLOYMENT.md): the daemon and the apikey client, their manual pages and the
# client's bash completion, the systemd unit (ExecStart pointing
# at PREFIX), the example settings (an existing /etc/apikeyd/apikeyd.conf is kept) and the nginx
# example. PREFIX=/usr/local by default; `make deb` installs with PREFIX=/usr into a package.
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
install: $(BUILD)/apikeyd $(BUILD)/apikey
	install -Dm755 $(BUILD)/apikeyd $(DESTDIR)$(PREFIX)/sbin/apikeyd
	install -Dm755 $(BUILD)/apikey $(DESTDIR)$(PREFIX)/bin/apikey
	install -Dm644 man/apikeyd.8 $(DESTDIR)$(PREFIX)/share/man/man8/apikeyd.8
	install -Dm644 man/apikey.1 $(DESTDIR)$(PREFIX)/share/man/man1/apikey.1
	$(BUILD)/apikey completion bash > $(BUILD)/apikey.bash
	install -Dm644 $(BUILD)/apikey.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/apikey
	install -d $(DESTDIR)$(UNITDIR)
	sed -e 's#/usr/sbin/apikeyd#$(PREFIX)/sbin/apikeyd#' -e 's#/etc/apikeyd/#$(SYSCONFDIR)/apikeyd/#' \
	    dist/apikeyd.service > $(DESTDIR)$(UNITDIR)/apikeyd.service
	chmod 644 $(DESTDIR)$(UNITDIR)/apikeyd.service
	test -e $(DESTDIR)$(SYSCONFDIR)/apikeyd/apikeyd.conf || \
	    install -Dm644 dist/apikeyd.conf $(DESTDIR)$(SYSCONFDIR)/apikeyd/apikeyd.conf
	install -Dm644 dist/nginx/apikeyd.conf \
	    $(DESTDIR)$(PREFIX)/share/doc/apikeyd/examples/nginx-apikeyd.conf

# A Debian package of the build (scripts/make-deb.sh): build/apikeyd_VERSION_ARCH.deb, or DEB_OUT.
DEB_OUT ?= $(BUILD)
deb: deps
	@$(MAKE) --no-print-directory $(BUILD)/apikeyd $(BUILD)/apikey
	scripts/make-deb.sh $(BUILD) $(DEB_OUT)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
