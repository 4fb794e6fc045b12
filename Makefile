# Convenience targets; the scripts are the source of truth.
.PHONY: run test demo bench-deps
run:
	bash scripts/run.sh
test:
	bash scripts/test.sh
demo:
	bash scripts/demo.sh
bench-deps:
	bash scripts/install-deps.sh --bench
