# mk/lab.mk - the network lab of issue 4 (scripts/lab); see docs/lab.md.
#   make lab-up / lab-down / lab-status   the lab named $(LAB_NAME), as root
#   make test-lab                         only the lab's end-to-end suite
#   make ab-report LOG=FILE               the A/B report of a shim log
LAB_NAME ?= esalab

.PHONY: lab-up lab-down lab-status test-lab ab-report

lab-up: deps
	@$(MAKE) --no-print-directory all
	@scripts/lab --name $(LAB_NAME) up
	@scripts/lab --name $(LAB_NAME) status || true

lab-down:
	@scripts/lab --name $(LAB_NAME) down

lab-status:
	@scripts/lab --name $(LAB_NAME) status || true

test-lab: deps
	@$(MAKE) --no-print-directory all
	@tests/lab.sh

ab-report:
	@test -n "$(LOG)" || { echo "usage: make ab-report LOG=FILE"; exit 2; }
	@scripts/ab-report $(LOG)
