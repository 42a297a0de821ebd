# mk/hardening.mk - sanitizers, fuzzing, ThreadSanitizer and valgrind (issue 6)
#
#   make test-sanitize    the library, esa-check and every Criterion suite built
#                         with clang -fsanitize=address,undefined into build/asan/,
#                         then run: the suites, tests/cli.sh against the sanitized
#                         esa-check, and every fuzz corpus replayed once.
#   make fuzz             the libFuzzer targets of tests/fuzz/ into build/fuzz/
#   make fuzz-run         each target for FUZZ_SECONDS (default 60) on a copy of
#                         its corpus, FUZZ_JOBS (default 2) at a time; fails on
#                         a crash, leaving the input in build/fuzz/crash-*
#   make fuzz-merge       fold what fuzz-run found into tests/fuzz/corpus/ (small)
#   make fuzz-seeds       rewrite the hand-made seeds (tests/fuzz/mkseeds.c)
#   make test-tsan        the concurrency test as a plain program under
#                         -fsanitize=thread (build/tsan/), full count
#   make test-valgrind    esa-check on several paths, and clients under the shim
#                         against aiosmtpd, in valgrind (mk/hardening-valgrind.sh)
#
# Everything here builds into its own directory under build/ and never touches
# the objects of `make`.  Clang is needed (scripts/deps.sh installs it with its
# sanitizer runtimes).

SAN_CC   ?= clang
SAN_B    := $(B)/asan
FUZZ_B   := $(B)/fuzz
TSAN_B   := $(B)/tsan

# -O1 -g: readable stacks; no recovery: the first report ends the program.
SAN_FLAGS  := -g -O1 -fno-omit-frame-pointer \
	      -fsanitize=address,undefined -fno-sanitize-recover=all
SAN_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Icallback $(SAN_FLAGS)
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Icallback -Itests/fuzz \
	       -g -O1 -fno-omit-frame-pointer \
	       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# The library itself is built with fuzzer-no-link so libFuzzer sees its edges.
FUZZ_LIB_CFLAGS := $(filter-out -fsanitize=fuzzer%,$(FUZZ_CFLAGS)) \
		   -fsanitize=fuzzer-no-link
TSAN_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Icallback -Itests \
	       -g -O1 -fno-omit-frame-pointer -fsanitize=thread

SAN_LIB_OBJ  := $(patsubst callback/%.c,$(SAN_B)/obj/%.o,$(LIB_SRC))
FUZZ_LIB_OBJ := $(patsubst callback/%.c,$(FUZZ_B)/obj/%.o,$(LIB_SRC))
TSAN_LIB_OBJ := $(patsubst callback/%.c,$(TSAN_B)/obj/%.o,$(LIB_SRC))
SAN_TEST_BIN := $(patsubst tests/%.c,$(SAN_B)/tests/%,$(TEST_SRC))
CLI_HDRS     := $(wildcard cli/*.h)
TEST_HDRS    := $(wildcard tests/*.h)

FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES   := $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRC))
FUZZ_BIN     := $(addprefix $(FUZZ_B)/,$(FUZZ_NAMES))
FUZZ_HDRS    := $(wildcard tests/fuzz/*.h)
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2
FUZZ_RSS_MB  ?= 2048

# Sanitizer settings of every run below.  No leak is suppressed.
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_init_order=1 \
	   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: test-sanitize sanitize-build fuzz fuzz-run fuzz-merge fuzz-seeds test-tsan test-valgrind

# ---- AddressSanitizer + UndefinedBehaviorSanitizer ---------------------------

$(SAN_B)/obj/%.o: callback/%.c $(HDRS) | $(SAN_B)/obj
	$(SAN_CC) $(SAN_CFLAGS) -c -o $@ $<
$(SAN_B)/libesaverify.a: $(SAN_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
$(SAN_B)/esa-check: $(CLI_SRC) $(CLI_HDRS) $(SAN_B)/libesaverify.a $(HDRS)
	$(SAN_CC) $(SAN_CFLAGS) -o $@ $(CLI_SRC) $(SAN_B)/libesaverify.a $(LDLIBS)
$(SAN_B)/tests/%: tests/%.c $(TEST_SUPPORT) $(TEST_HDRS) $(SAN_B)/libesaverify.a | $(SAN_B)/tests
	$(SAN_CC) $(SAN_CFLAGS) -Itests -o $@ $< $(TEST_SUPPORT) $(SAN_B)/libesaverify.a -lcriterion $(LDLIBS)
$(SAN_B)/obj $(SAN_B)/tests $(FUZZ_B)/obj $(TSAN_B)/obj:
	mkdir -p $@

sanitize-build:
	@$(MAKE) --no-print-directory $(SAN_B)/esa-check $(SAN_TEST_BIN) $(FUZZ_BIN) \
	  $(SAN_B)/bin/valgrind

# valgrind cannot run an ASan binary, and tests/cli.sh runs esa-check under
# valgrind when it finds it.  Under test-sanitize this stand-in, first on
# PATH, drops valgrind's options and runs the program itself, where ASan and
# LeakSanitizer check what memcheck would; a report exits 99, as
# --error-exitcode=99 would.  (Real valgrind runs in `make test` and
# `make test-valgrind`.)
$(SAN_B)/bin/valgrind: mk/hardening.mk
	mkdir -p $(@D)
	printf '%s\n' '#!/bin/sh' \
	  '# valgrind stand-in for sanitized binaries (mk/hardening.mk)' \
	  'while [ $$# -gt 0 ]; do case $$1 in -*) shift ;; *) break ;; esac; done' \
	  'ASAN_OPTIONS="$${ASAN_OPTIONS:+$$ASAN_OPTIONS:}exitcode=99" exec "$$@"' >$@
	chmod +x $@

# Each suite without --timeout (with parallel jobs, LeakSanitizer has been
# seen to report 48 bytes inside Criterion's timeout machinery); a suite
# counts as failed when it exits non-zero, fails a test, or prints a
# sanitizer report anywhere: Criterion does not count a leak report of a
# test's process as a failure, so the output is searched.  ESA_TEST_JOBS as
# in scripts/run-tests.sh.
test-sanitize: deps
	@$(MAKE) --no-print-directory sanitize-build
	@set -u; fail=0; log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	san='ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer'; \
	for bin in $(SAN_TEST_BIN); do \
	  echo "==== asan $$(basename $$bin)"; \
	  env $(SAN_ENV) timeout --kill-after=10 1200 $$bin --jobs $${ESA_TEST_JOBS:-2} </dev/null >"$$log" 2>&1; rc=$$?; \
	  grep -a -E '^\[(----|FAIL|====)\]|Sanitizer|runtime error' "$$log" | tail -n 40; \
	  if [ $$rc -ne 0 ] || ! grep -aq 'Failing: 0 | Crashing: 0' "$$log" || grep -aqE "$$san" "$$log"; then \
	    echo "test-sanitize: FAILED: $$(basename $$bin) (exit $$rc)"; fail=1; fi; \
	done; \
	echo "==== asan tests/cli.sh"; \
	env $(SAN_ENV) PATH="$(CURDIR)/$(SAN_B)/bin:$$PATH" ESA_CHECK=$(CURDIR)/$(SAN_B)/esa-check \
	  tests/cli.sh </dev/null >"$$log" 2>&1; rc=$$?; \
	tail -n 3 "$$log"; \
	if [ $$rc -ne 0 ] && [ $$rc -ne 77 ] || grep -aqE "$$san" "$$log"; then \
	  grep -aE "$$san|FAIL" "$$log" | head -n 20; \
	  echo "test-sanitize: FAILED: tests/cli.sh (exit $$rc)"; fail=1; fi; \
	for t in $(FUZZ_NAMES); do \
	  echo "==== asan corpus $$t"; \
	  files=$$(find tests/fuzz/corpus/$$t -type f | sort); \
	  n=$$(echo "$$files" | grep -c . || true); \
	  if [ $$n -eq 0 ]; then echo "test-sanitize: FAILED: no corpus for $$t"; fail=1; continue; fi; \
	  echo "$$files" | xargs env $(SAN_ENV) $(FUZZ_B)/$$t -runs=0 -rss_limit_mb=$(FUZZ_RSS_MB) >"$$log" 2>&1; rc=$$?; \
	  if [ $$rc -ne 0 ] || grep -aqE "$$san|ERROR: libFuzzer" "$$log"; then \
	    grep -aE "$$san|ERROR|Running:|#0|#1|#2|#3" "$$log" | head -n 30; \
	    echo "test-sanitize: FAILED: corpus of $$t (exit $$rc)"; fail=1; \
	  else echo "$$n inputs, clean"; fi; \
	done; \
	if [ $$fail -ne 0 ]; then echo "test-sanitize: FAILED"; exit 1; fi; \
	echo "test-sanitize: all clean"

# ---- libFuzzer ---------------------------------------------------------------

$(FUZZ_B)/obj/%.o: callback/%.c $(HDRS) | $(FUZZ_B)/obj
	$(SAN_CC) $(FUZZ_LIB_CFLAGS) -c -o $@ $<
$(FUZZ_B)/libesaverify.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_HDRS) $(FUZZ_B)/libesaverify.a $(HDRS)
	$(SAN_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_B)/libesaverify.a $(LDLIBS)

fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_BIN)

# Each target fuzzes a scratch copy of its corpus (the committed one stays
# small; `make fuzz-merge` folds new coverage back in), with the options of
# tests/fuzz/<target>.options if present.  A crash ends that target with exit
# 1 and leaves the input in build/fuzz/crash-*.
fuzz-run: fuzz
	@set -u; mkdir -p $(FUZZ_B)/work $(FUZZ_B)/logs; \
	printf '%s\n' $(FUZZ_NAMES) | xargs -P $(FUZZ_JOBS) -I{} sh -c ' \
	  t={}; w=$(FUZZ_B)/work/$$t; rm -rf "$$w"; mkdir -p "$$w"; \
	  cp tests/fuzz/corpus/$$t/* "$$w"/ 2>/dev/null; \
	  opts=$$(cat tests/fuzz/$$t.options 2>/dev/null); \
	  env $(SAN_ENV) $(FUZZ_B)/$$t $$opts -max_total_time=$(FUZZ_SECONDS) \
	    -rss_limit_mb=$(FUZZ_RSS_MB) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_B)/crash-$$t- "$$w" \
	    >$(FUZZ_B)/logs/$$t.log 2>&1; rc=$$?; \
	  runs=$$(grep -a "stat::number_of_executed_units" $(FUZZ_B)/logs/$$t.log | tail -n 1 | sed "s/.*: *//"); \
	  cov=$$(grep -aE "^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)" $(FUZZ_B)/logs/$$t.log | tail -n 1 | grep -oE "cov: [0-9]+ ft: [0-9]+"); \
	  if [ $$rc -eq 0 ]; then echo "fuzz-run: $$t: ok, $$runs runs, $$cov"; \
	  else echo "fuzz-run: $$t: FAILED (exit $$rc), see $(FUZZ_B)/logs/$$t.log"; \
	    grep -aE "ERROR|SUMMARY|#[0-9] 0x" $(FUZZ_B)/logs/$$t.log | head -n 20; exit 1; fi'

# fuzz-merge: fold what fuzzing found (FUZZ_WORK/<target>, default
# build/fuzz/work from fuzz-run) into the committed corpus, small: the
# hand-made seed-* and the regress-* inputs stay, and a greedy set cover
# adds the fewest inputs that reach every edge reached (edges only: hit
# counts are left for the fuzzer to find again).  Review the diff.
FUZZ_WORK ?= $(FUZZ_B)/work
fuzz-merge: fuzz
	@for t in $(FUZZ_NAMES); do \
	  m=$(FUZZ_B)/merged/$$t; rm -rf "$$m"; mkdir -p "$$m"; \
	  cp tests/fuzz/corpus/$$t/seed-* tests/fuzz/corpus/$$t/regress-* "$$m"/ 2>/dev/null; \
	  env $(SAN_ENV) $(FUZZ_B)/$$t -set_cover_merge=1 -use_counters=0 \
	    -rss_limit_mb=$(FUZZ_RSS_MB) "$$m" tests/fuzz/corpus/$$t \
	    $$( [ -d $(FUZZ_WORK)/$$t ] && echo $(FUZZ_WORK)/$$t ) >/dev/null 2>&1 || exit 1; \
	  rm -f tests/fuzz/corpus/$$t/*; cp "$$m"/* tests/fuzz/corpus/$$t/; \
	  echo "fuzz-merge: $$t: $$(ls tests/fuzz/corpus/$$t | wc -l) inputs, $$(cat tests/fuzz/corpus/$$t/* | wc -c) bytes"; \
	done

# fuzz-seeds: (re)write the hand-made seeds, tests/fuzz/corpus/*/seed-*
# (tests/fuzz/mkseeds.c; certificates from the test PKI).
$(FUZZ_B)/mkseeds: tests/fuzz/mkseeds.c tests/pki.c tests/pki.h tests/dnswire.c \
		  tests/dnswire.h | $(FUZZ_B)/obj
	$(CC) $(CFLAGS) -Itests -o $@ tests/fuzz/mkseeds.c tests/pki.c tests/dnswire.c \
	  -lssl -lcrypto
fuzz-seeds: $(FUZZ_B)/mkseeds
	mkdir -p tests/fuzz/corpus
	$(FUZZ_B)/mkseeds tests/fuzz/corpus

# ---- ThreadSanitizer -----------------------------------------------------------

# The concurrency test as a plain program (-DCONCURRENCY_MAIN, no Criterion:
# Criterion 2.4.1's runner dies with SEGV inside libcriterion under
# -fsanitize=thread, even for an empty test), full count.
$(TSAN_B)/obj/%.o: callback/%.c $(HDRS) | $(TSAN_B)/obj
	$(SAN_CC) $(TSAN_CFLAGS) -c -o $@ $<
$(TSAN_B)/libesaverify.a: $(TSAN_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
$(TSAN_B)/test_concurrency: tests/test_concurrency.c $(TEST_SUPPORT) $(TEST_HDRS) $(TSAN_B)/libesaverify.a
	$(SAN_CC) $(TSAN_CFLAGS) -DCONCURRENCY_MAIN -o $@ tests/test_concurrency.c \
	  $(TEST_SUPPORT) $(TSAN_B)/libesaverify.a $(LDLIBS)

# A known race inside OpenSSL 3.0 (ossl_x509v3_cache_extensions filling the
# extension cache of a shared CA certificate from two threads at once,
# openssl/openssl#32609) is avoided, not suppressed: esa_config_store warms
# that cache while one thread holds the store (callback/chain.c).
# One false report inside glibc is suppressed (the shim run applies the
# same rule itself, mk/tsan-shim.sh): res_ninit registers each resolver state
# in glibc's global array of resolv.conf users (__resolv_conf_attach), under
# an internal libc lock ThreadSanitizer cannot see; the array grows through
# __libc_dynarray_emplace_enlarge.  Everything in libesaverify and the tests
# stays checked.
$(TSAN_B)/tsan.supp: mk/hardening.mk | $(TSAN_B)/obj
	printf '%s\n' '# generated by mk/hardening.mk: a false report inside glibc' \
	  'race:__libc_dynarray_emplace_enlarge' >$@

# The shim built with ThreadSanitizer, and the tests' multi-threaded client
# built with it too (so the TSan runtime comes first in the process).
TSAN_PIC := $(patsubst callback/%.c,$(TSAN_B)/pic/%.o,$(LIB_SRC))
$(TSAN_B)/pic/%.o: callback/%.c $(HDRS) | $(TSAN_B)/pic
	$(SAN_CC) $(TSAN_CFLAGS) -fPIC -c -o $@ $<
$(TSAN_B)/pic:
	mkdir -p $@
$(TSAN_B)/esashim.so: $(SHIM_SRC) $(wildcard shim/*.h) $(TSAN_PIC)
	$(SAN_CC) $(TSAN_CFLAGS) -fPIC -shared -fvisibility=hidden \
	  -Wl,--version-script=shim/esashim.map -o $@ $(SHIM_SRC) $(TSAN_PIC) \
	  -Wl,--no-as-needed $(LDLIBS) -ldl
$(TSAN_B)/esa_client: tests/progs/esa_client.c | $(TSAN_B)/obj
	$(SAN_CC) $(TSAN_CFLAGS) -o $@ $< -lssl -lcrypto -lpthread

# TSAN_HANDSHAKES: per thread (8 threads); the issue's count is 1000.
TSAN_HANDSHAKES ?= 1000
test-tsan: deps
	@$(MAKE) --no-print-directory $(TSAN_B)/test_concurrency $(TSAN_B)/tsan.supp
	@log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	ESA_CONCURRENCY_HANDSHAKES=$(TSAN_HANDSHAKES) \
	TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 history_size=4 suppressions=$(CURDIR)/$(TSAN_B)/tsan.supp print_suppressions=1" \
	  timeout --kill-after=10 1800 $(TSAN_B)/test_concurrency >"$$log" 2>&1; rc=$$?; \
	grep -a "^concurrency:" "$$log"; \
	grep -a -A4 "Matched [0-9]* suppressions" "$$log" | grep -a "race:" | sed 's/^/test-tsan: suppressed (glibc): /'; \
	races=$$(grep -ac "WARNING: ThreadSanitizer" "$$log"); \
	if [ $$rc -ne 0 ] || [ $$races -ne 0 ]; then \
	  grep -a -A30 "WARNING: ThreadSanitizer" "$$log" | head -n 120; \
	  echo "test-tsan: FAILED (exit $$rc, $$races reports)"; exit 1; fi; \
	echo "test-tsan: clean"
	@$(MAKE) --no-print-directory $(TSAN_B)/esashim.so $(TSAN_B)/esa_client
	@SHIM=$(CURDIR)/$(TSAN_B)/esashim.so CLIENT=$(CURDIR)/$(TSAN_B)/esa_client \
	  SUPP=$(CURDIR)/$(TSAN_B)/tsan.supp mk/tsan-shim.sh

# ---- valgrind ---------------------------------------------------------------------

# esa-check on several paths, and clients under the shim, in memcheck
# (mk/hardening-valgrind.sh); the shim tests' threaded client is used when
# mk/shim.mk can build it.
test-valgrind: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory shim-progs >/dev/null 2>&1 || true
	@mk/hardening-valgrind.sh
