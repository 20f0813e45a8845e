# spotlight -- a plain Makefile (like Redis): `make`, `make test`,
# `make demo`, `make bench`, `make fuzz`. See README.md.

CC       ?= gcc
PKGS     := sqlite3 jansson libzip expat libsodium zlib
WARN     := -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla
CPPFLAGS := -D_DEFAULT_SOURCE -Isrc -Ibuild
OPT      ?= -O2 -g
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lunistring -lm -pthread
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

SRC      := $(filter-out src/main.c,$(wildcard src/*.c))
EMBEDDED := codebook/codebook.json codebook/m49.tsv codebook/calling_codes.tsv $(sort $(wildcard mappings/*.json)) $(sort $(wildcard geo/*.json)) $(sort $(wildcard static/*.css static/*.js))
TESTS    := $(patsubst tests/%.c,%,$(wildcard tests/test_*.c))
FUZZERS  := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))

OBJ      := $(patsubst src/%.c,build/rel/%.o,$(SRC)) build/rel/embed_data.o
AOBJ     := $(patsubst src/%.c,build/asan/%.o,$(SRC)) build/asan/embed_data.o

.PHONY: all deps test unit e2e bench fuzz demo serve docs clean study
# keep objects that pattern rules build on the way to a binary
.SECONDARY:
.DEFAULT_GOAL := all

all: deps spotlight

# Installs Debian packages when something is missing (no-op otherwise).
deps: build/.deps
build/.deps: scripts/deps.sh
	@mkdir -p build
	@sh scripts/deps.sh
	@touch $@

spotlight: $(OBJ) build/rel/main.o
	$(CC) $(OPT) -o $@ $^ $(PKG_LIBS)

build/rel/%.o: src/%.c src/*.h | build/.deps
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(OPT) $(CPPFLAGS) $(PKG_CFLAGS) -c -o $@ $<

build/asan/%.o: src/%.c src/*.h | build/.deps
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O1 -g $(SAN) $(CPPFLAGS) $(PKG_CFLAGS) -c -o $@ $<

build/embed_data.c: tools/embed.c $(EMBEDDED)
	@mkdir -p build
	$(CC) -O1 -o build/embed tools/embed.c
	build/embed $@ $(EMBEDDED)

build/rel/embed_data.o: build/embed_data.c src/embed.h
	@mkdir -p $(dir $@)
	$(CC) $(OPT) $(CPPFLAGS) -c -o $@ $<
build/asan/embed_data.o: build/embed_data.c src/embed.h
	@mkdir -p $(dir $@)
	$(CC) -O1 -g $(SAN) $(CPPFLAGS) -c -o $@ $<

# ---- tests: unit tests (one binary per tests/test_*.c, built with ASan and
# UBSan) and end-to-end tests that run the sanitized binary on files.
build/asan/spotlight: $(AOBJ) build/asan/main.o
	$(CC) -g $(SAN) -o $@ $^ $(PKG_LIBS)

build/test/%: tests/%.c tests/test.h $(AOBJ)
	@mkdir -p build/test
	$(CC) $(WARN) -O1 -g $(SAN) $(CPPFLAGS) $(PKG_CFLAGS) -Itests -o $@ $< $(AOBJ) $(PKG_LIBS)

test: deps $(addprefix build/test/,$(TESTS)) build/asan/spotlight spotlight
	@sh tests/run.sh $(TESTS)

# ---- benchmarks (figures go in the README)
bench: deps spotlight
	@sh scripts/deps.sh --bench
	@sh bench/run.sh

# ---- the person-linkage accuracy study (docs/linkage.md, "Accuracy"):
# synthetic people with known duplicates, deterministic, a few seconds
build/linkage_study: bench/linkage_study.c src/person.c src/pprl.c src/util.c src/*.h | build/.deps
	@mkdir -p build
	$(CC) $(WARN) $(OPT) $(CPPFLAGS) $(PKG_CFLAGS) -o $@ bench/linkage_study.c src/person.c src/pprl.c src/util.c $(PKG_LIBS)
study: build/linkage_study
	build/linkage_study

# ---- fuzzing with libFuzzer (clang). FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
FOBJ := $(patsubst src/%.c,build/fuzz/%.o,$(SRC)) build/fuzz/embed_data.o
FSAN := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
build/fuzz/%.o: src/%.c src/*.h | build/.deps
	@mkdir -p $(dir $@)
	clang -std=c17 -Wall -Wextra -Werror -O1 -g $(FSAN) $(CPPFLAGS) $(PKG_CFLAGS) -c -o $@ $<
build/fuzz/embed_data.o: build/embed_data.c
	@mkdir -p $(dir $@)
	clang -O1 -g $(FSAN) $(CPPFLAGS) -c -o $@ $<
build/fuzz/bin/%: fuzz/%.c $(FOBJ)
	@mkdir -p build/fuzz/bin
	clang -std=c17 -O1 -g -fsanitize=fuzzer,address,undefined $(CPPFLAGS) $(PKG_CFLAGS) -o $@ $< $(FOBJ) $(PKG_LIBS)
fuzz-build: $(addprefix build/fuzz/bin/,$(FUZZERS))
fuzz: deps fuzz-build
	@sh fuzz/run.sh $(FUZZ_SECONDS) $(FUZZERS)

# ---- the demo hub: installs, builds, fills ./spotlight.db, serves it
demo: all
	@sh scripts/demo.sh

docs: spotlight
	./spotlight codebook --markdown > docs/codebook.md

clean:
	rm -rf build spotlight
