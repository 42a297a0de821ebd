# esaverify - see README.md.  `make`, `make test`, `make demo`, `make install`.
CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
SOVER   := 0
VERSION := 0.1.0

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Icallback
LDLIBS  := -lssl -lcrypto -lresolv -lidn2 -lpthread
B       := build

LIB_SRC := $(wildcard callback/*.c)
LIB_PIC := $(patsubst callback/%.c,$(B)/pic/%.o,$(LIB_SRC))
LIB_OBJ := $(patsubst callback/%.c,$(B)/obj/%.o,$(LIB_SRC))
HDRS    := $(wildcard callback/*.h)
CLI_SRC := $(wildcard cli/*.c)
SHIM_SRC := $(wildcard shim/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_SUPPORT := $(filter-out $(TEST_SRC),$(wildcard tests/*.c))
TEST_BIN := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))

TARGETS := $(B)/libesaverify.so $(B)/libesaverify.a $(B)/esa-check
ifneq ($(SHIM_SRC),)
TARGETS += $(B)/esashim.so
endif

.PHONY: all deps test demo install clean

all: $(TARGETS)

# Install what building, testing and the demo need, only when something is
# missing; then the preflight: one line naming what is still missing (and
# its package), and stop, instead of suites failing one by one.
deps:
	@scripts/deps.sh --if-missing
	@scripts/deps.sh --check

$(B)/pic/%.o: callback/%.c $(HDRS) | $(B)/pic
	$(CC) $(CFLAGS) -fPIC -c -o $@ $<
$(B)/obj/%.o: callback/%.c $(HDRS) | $(B)/obj
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/libesaverify.so: $(LIB_PIC)
	$(CC) -shared -Wl,-soname,libesaverify.so.$(SOVER) -Wl,--version-script=callback/libesaverify.map -o $@ $^ $(LDLIBS)
	ln -sf libesaverify.so $(B)/libesaverify.so.$(SOVER)
$(B)/libesaverify.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/esa-check: $(CLI_SRC) $(wildcard cli/*.h) $(B)/libesaverify.a $(HDRS)
	$(CC) $(CFLAGS) -o $@ $(CLI_SRC) $(B)/libesaverify.a $(LDLIBS)

$(B)/esashim.so: $(SHIM_SRC) $(wildcard shim/*.h) $(LIB_PIC) $(HDRS)
	$(CC) $(CFLAGS) -fPIC -shared -fvisibility=hidden -Wl,--version-script=shim/esashim.map \
	  -o $@ $(SHIM_SRC) $(LIB_PIC) -Wl,--no-as-needed $(LDLIBS) -ldl

$(B)/tests/%: tests/%.c $(TEST_SUPPORT) $(wildcard tests/*.h) $(B)/libesaverify.a | $(B)/tests
	$(CC) $(CFLAGS) -Itests -o $@ $< $(TEST_SUPPORT) $(B)/libesaverify.a -lcriterion $(LDLIBS)

$(B)/pic $(B)/obj $(B)/tests:
	mkdir -p $@

# Every Criterion suite, then every shell-level test; non-zero on any failure.
test: deps
	@$(MAKE) --no-print-directory all $(TEST_BIN)
	@scripts/run-tests.sh $(TEST_BIN)

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man3 \
	  $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 644 callback/esaverify.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(B)/libesaverify.so $(DESTDIR)$(PREFIX)/lib/libesaverify.so.$(VERSION)
	ln -sf libesaverify.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libesaverify.so.$(SOVER)
	ln -sf libesaverify.so.$(SOVER) $(DESTDIR)$(PREFIX)/lib/libesaverify.so
	install -m 644 $(B)/libesaverify.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/esa-check $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' esaverify.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/esaverify.pc
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.3 $(DESTDIR)$(PREFIX)/share/man/man3/
	if [ -f $(B)/esashim.so ]; then install -m 755 $(B)/esashim.so $(DESTDIR)$(PREFIX)/lib/; fi
	if ls man/*.7 >/dev/null 2>&1; then install -m 644 man/*.7 $(DESTDIR)$(PREFIX)/share/man/man7/; fi

clean:
	rm -rf $(B)

# Further targets (sanitizers, fuzzing, benchmarks, the lab) live in mk/*.mk.
-include $(wildcard mk/*.mk)
