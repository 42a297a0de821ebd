# mk/survey.mk - esa-check --survey (issue 14)
#
#   make bench-survey    bench/bench_survey.py: domains per second at --jobs
#                        1, 8 and 64 against one esa-check process per
#                        domain, side by side, and peak RSS in the number of
#                        domains; part of `make bench` (build/bench/survey.md)
#   make test-survey     only tests/survey.sh (part of `make test`)
#   make test-sanitize   also runs tests/survey.sh (SURVEY_DOMAINS=300)
#                        against the ASan/UBSan esa-check
#   make test-tsan       also runs it against esa-check built with
#                        -fsanitize=thread (build/tsan/esa-check)

.PHONY: bench-survey test-survey survey-sanitize survey-tsan

bench: bench-survey
bench-survey: all | $(B)/bench
	@BENCH_QUICK='$(BENCH_QUICK)' bench/bench_survey.py $(B)/esa-check $(B)/bench

test-survey: deps
	@$(MAKE) --no-print-directory all
	@tests/survey.sh

test-sanitize: survey-sanitize
survey-sanitize: deps
	@$(MAKE) --no-print-directory $(SAN_B)/esa-check
	@echo "==== asan tests/survey.sh"
	@env $(SAN_ENV) ESA_CHECK=$(CURDIR)/$(SAN_B)/esa-check SURVEY_DOMAINS=300 \
	  tests/survey.sh </dev/null >$(SAN_B)/survey.log 2>&1; rc=$$?; \
	  tail -n 2 $(SAN_B)/survey.log; \
	  if [ $$rc -ne 0 ] || grep -aqE 'ERROR: (Address|Leak)Sanitizer|runtime error:' $(SAN_B)/survey.log; then \
	    grep -aE 'FAIL|Sanitizer|runtime error' $(SAN_B)/survey.log | head -n 20; \
	    echo "test-sanitize: FAILED: tests/survey.sh"; exit 1; fi

$(TSAN_B)/esa-check: $(CLI_SRC) $(CLI_HDRS) $(TSAN_LIB_OBJ) $(HDRS)
	$(SAN_CC) $(TSAN_CFLAGS) -o $@ $(CLI_SRC) $(TSAN_LIB_OBJ) $(LDLIBS)

test-tsan: survey-tsan
survey-tsan: deps
	@$(MAKE) --no-print-directory $(TSAN_B)/esa-check
	@echo "==== tsan tests/survey.sh"
	@env TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ESA_CHECK=$(CURDIR)/$(TSAN_B)/esa-check SURVEY_DOMAINS=300 \
	  tests/survey.sh </dev/null >$(TSAN_B)/survey.log 2>&1; rc=$$?; \
	  tail -n 2 $(TSAN_B)/survey.log; \
	  if [ $$rc -ne 0 ] || grep -aq 'WARNING: ThreadSanitizer' $(TSAN_B)/survey.log; then \
	    grep -aE 'FAIL|ThreadSanitizer' $(TSAN_B)/survey.log | head -n 20; \
	    echo "test-tsan: FAILED: tests/survey.sh"; exit 1; fi
