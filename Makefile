# Two commands for a newcomer: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup run test bench demo clean translations chromium theme pdf-libs

MO := web/translations/en/LC_MESSAGES/messages.mo

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

$(MO): web/translations/en/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d web/translations

setup: $(STAMP) $(MO)

# After changing texts in web/: refresh the catalog, then translate what is new in messages.po.
translations: setup
	$(BIN)/pybabel extract -F web/babel.cfg -k _l -o var/messages.pot .
	$(BIN)/pybabel update -i var/messages.pot -d web/translations

# WeasyPrint (the sealed bijlage PDFs) draws text with Debian's Pango and subsets fonts with HarfBuzz;
# installed here as root (CI is) when missing, like Chromium below.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
pdf-libs:
	@(ldconfig -p | grep -q libpangoft2-1.0.so.0 && ldconfig -p | grep -q libharfbuzz-subset.so.0 && \
		test -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf) || (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_PACKAGES) >/dev/null) || echo "warning: \
		$(PDF_PACKAGES) could not be installed: the bijlage PDFs cannot be made"

# The narrated demo, then the web app, the scheduler and a local mail sink (var/mail/) on its database.
run: setup pdf-libs
	scripts/run.sh

# The NL Design System CSS (components and default tokens) under web/static/nlds/; needs npm, once.
theme:
	scripts/theme.sh

# The browser tests drive Debian's Chromium headless shell (Chromium's engine without the desktop browser
# around it: each page step takes half the time, and it is the build Playwright itself runs headless);
# CI runs as root and installs it here.
chromium:
	@command -v chromium-headless-shell >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium-headless-shell >/dev/null) || echo "warning: Chromium's headless \
		shell could not be installed: the browser tests use a desktop Chromium if there is one, or are skipped"

test: setup chromium pdf-libs
	$(BIN)/ruff check engine citydeal notifications web tests bench
	scripts/test.sh

# The engine's speed beside the raw SpiffWorkflow library; prints a table, writes bench/results.json.
bench: setup
	$(BIN)/python -m bench.run

clean:
	scripts/postgres.sh stop
	rm -rf $(VENV) var *.egg-info .pytest_cache
