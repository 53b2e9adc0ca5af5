# Shortcuts for those who have make; each is one call of dev.py, which needs only Python.
.PHONY: run test lint
run:
	python3 dev.py serve
test:
	python3 dev.py test
lint:
	python3 dev.py lint
