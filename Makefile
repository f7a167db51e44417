# apikeyd — build, run and test. `make run` and `make test` install what they need first.
# SANITIZE=address,undefined builds an instrumented copy under build/san and tests that.

CC ?= cc
PKGS := jansson libsodium libcrypto sqlite3 zlib liboath libqrencode libpq
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
LISTEN ?= 127.0.0.1:8080

.PHONY: all deps test-deps run test unit http bench clean

all: $(BUILD)/apikeyd

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

$(BUILD)/unit-tests: $(UNIT_OBJ) $(LIB_OBJ)
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS) $(shell pkg-config --libs cmocka)

run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p $(DATA)
	exec $(BUILD)/apikeyd --listen $(LISTEN) --data $(DATA)

# Every test: unit tests (cmocka, the store suite on SQLite and PostgreSQL), then HTTP tests
# against real daemons. scripts/run-tests.sh starts and stops a throwaway PostgreSQL.
test: test-deps
	@$(MAKE) --no-print-directory $(BUILD)/apikeyd $(BUILD)/unit-tests
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

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
