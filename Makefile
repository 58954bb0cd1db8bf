# The two commands a newcomer needs are `make demo` and `make test`
# (each just runs the script of the same name in tools/).
.PHONY: demo test unit lint stop sample-config clean

demo:
	tools/demo

test:
	tools/test

unit:
	tools/dev-venv --tests
	.venv/bin/python -m pytest tests/unit

lint:
	tools/dev-venv --tests
	.venv/bin/python -m flake8

stop:
	tools/local-heat stop

sample-config:
	.venv/bin/oslo-config-generator --config-file etc/oslo-config-generator/heatplug.conf

clean: stop
	rm -rf .local
