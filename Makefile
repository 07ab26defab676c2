# Two commands do everything on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PYBABEL := $(VENV)/bin/pybabel
KEYWORDS := -k N_ -k t -k __
DEMO_DB ?= sqlite+aiosqlite:///./juragan.db
DEMO_DESK ?= http://127.0.0.1:8081/

.PHONY: setup chromium axe compile demo desk demo-data demo-reset run chat migrate test fuzz lint i18n \
	bench bench-scale bench-exports bench-desk clean content-check screenshots desk-link

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP) compile chromium axe

# The desk's browser tests drive Debian's Chromium: installed with apt-get only where
# /usr/bin/chromium is missing; where it cannot be had, those tests are skipped (with the reason).
chromium:
	@test -x /usr/bin/chromium || { \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo -n"; \
	  { command -v apt-get >/dev/null && \
	    { $$sudo apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || \
	      { $$sudo apt-get update >/dev/null 2>&1 && \
	        $$sudo apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; }; }; } || \
	  echo "make setup: Chromium could not be installed here; the desk's browser tests will be skipped"; }

# axe-core (pinned) for the desk's accessibility test, from the npm registry into the
# git-ignored virtualenv; where npm is missing or offline, that test is skipped (with the reason).
AXE_VERSION := 4.10.3
AXE := $(VENV)/axe/node_modules/axe-core/axe.min.js
axe:
	@grep -qs '"version": "$(AXE_VERSION)"' $(VENV)/axe/node_modules/axe-core/package.json || { \
	  if command -v npm >/dev/null; then \
	    npm install --prefix $(VENV)/axe axe-core@$(AXE_VERSION) --no-audit --no-fund --no-save \
	      --silent >/dev/null 2>&1 || \
	      echo "make setup: npm could not install axe-core $(AXE_VERSION); the desk's accessibility test will be skipped"; \
	  else echo "make setup: npm is missing; the desk's accessibility test will be skipped"; fi; }

compile: $(STAMP)
	$(PYBABEL) compile --statistics -d locales -D messages

# The console chat on the demo database, after a printed sign-in link to the staff desk for the
# demo's admin (`make desk` in another terminal serves it; the link works once, for 10 minutes).
demo: demo-data
	@DATABASE_URL=$${DATABASE_URL:-$(DEMO_DB)} DESK_URL=$${DESK_URL:-$(DEMO_DESK)} \
	  $(VENV)/bin/juragan desk-link --demo || true
	DATABASE_URL=$${DATABASE_URL:-$(DEMO_DB)} DESK_URL=$${DESK_URL:-$(DEMO_DESK)} $(VENV)/bin/juragan chat

# Another sign-in link to the demo's desk for the demo's admin.
desk-link: setup
	@DATABASE_URL=$${DATABASE_URL:-$(DEMO_DB)} DESK_URL=$${DESK_URL:-$(DEMO_DESK)} \
	  $(VENV)/bin/juragan desk-link --demo

# The staff desk on the demo database (sign in with /meja in `make demo`).
desk: setup
	DATABASE_URL=$${DATABASE_URL:-$(DEMO_DB)} DESK_URL=$${DESK_URL:-$(DEMO_DESK)} $(VENV)/bin/juragan desk

# The demo database migrated, with the sample cooperatives and training sessions (again: updated).
demo-data: setup
	DATABASE_URL=$${DATABASE_URL:-$(DEMO_DB)} $(VENV)/bin/juragan migrate > /dev/null
	DATABASE_URL=$${DATABASE_URL:-$(DEMO_DB)} $(VENV)/bin/juragan import cooperatives flows/content/sample_cooperatives.csv
	DATABASE_URL=$${DATABASE_URL:-$(DEMO_DB)} $(VENV)/bin/juragan import trainings flows/content/sample_trainings.csv

# The demo afresh: its SQLite file deleted (never a server's database), then demo-data; the
# virtualenv and ./demo-files stay.
demo-reset: setup
	@url="$${DATABASE_URL:-$(DEMO_DB)}"; \
	case "$$url" in \
	  sqlite*:///*) file="$${url#*:///}"; rm -f "$$file" "$$file-wal" "$$file-shm" "$$file-journal"; \
	    echo "make demo-reset: removed $$file";; \
	  *) echo "make demo-reset: $$url is not a SQLite file; only a SQLite demo database is removed" >&2; \
	    exit 2;; \
	esac
	@$(MAKE) --no-print-directory demo-data

chat: demo

run: setup
	$(VENV)/bin/juragan run

migrate: setup
	$(VENV)/bin/juragan migrate

test: setup
	$(PY) -m pytest -n 3

# The README's desk screenshots (docs/screenshots/): the browser tests that take them, then
# their PNGs from test-output/desk/ made small (tests/desk/screenshots.py).
SHOT_TESTS := tests/desk/test_browser.py::test_a_reviewers_day_sign_in_search_return_correct_bulk_approve_and_export \
	tests/desk/test_browser.py::test_it_reads_on_a_360_pixel_phone \
	tests/desk/test_office_browser.py::test_the_statistics_table_is_read_as_a_table
screenshots: setup
	$(PY) -m pytest -n 0 -q $(SHOT_TESTS)
	$(PY) -m tests.desk.screenshots

# Every fact in flows/content/*.toml valid, none stale or unofficial without the caution.
content-check: setup
	$(VENV)/bin/juragan content check

# The adversarial suite with many more examples (random, not the standing suite's fixed ones);
# JURAGAN_FUZZ_EXAMPLES=N for another count.
fuzz: setup
	JURAGAN_FUZZ_EXAMPLES=$${JURAGAN_FUZZ_EXAMPLES:-2000} $(PY) -m pytest tests/adversarial -x

lint: setup
	$(VENV)/bin/ruff check bot desk flows operations storage tests bench

# Extract every msgid, merge it into the catalogs, compile them.
i18n: $(STAMP)
	$(PYBABEL) extract -F babel.cfg $(KEYWORDS) --no-location --sort-output \
		--project=pulang-juragan --msgid-bugs-address=- -o locales/messages.pot .
	$(PYBABEL) update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete
	$(PYBABEL) compile --statistics -d locales -D messages

# Every benchmark (PostgreSQL: the local server; the in-process updates on both backends), then
# one table of all their figures. A failed correctness check (exit 2) does not stop the others;
# `make bench` fails at the end instead.
# National scale (issue 17): PostgreSQL seeded with a million people, then the queries that serve
# people and staff measured at that size. Not in `make test`; SCALE=0.01 for a quick try.
bench-scale: setup
	$(PY) bench/scale.py --scale $${SCALE:-1}

# Issue 17: 300,000 submissions exported (XLSX, zip of CSVs, one kind's CSV), memory above idle
# and time beside a plain-list CSV baseline; ROWS=30000 for a quick try.
bench-exports: setup
	$(PY) bench/exports.py --rows $${ROWS:-300000}

# Issue 16: the staff desk (`juragan desk`) on bench-scale's database: queue page, searches,
# a bulk approval of 500 (put back after), memory above idle. Run `make bench-scale` first.
bench-desk: setup
	$(PY) bench/desk.py

bench: setup
	@status=0; \
	$(PY) bench/updates.py --db both || status=$$?; \
	$(PY) bench/reminders.py || status=$$?; \
	$(PY) bench/broadcast.py || status=$$?; \
	$(PY) bench/instances.py || status=$$?; \
	$(PY) bench/startup.py || status=$$?; \
	$(PY) bench/paging.py --db both || status=$$?; \
	$(PY) bench/intents.py || status=$$?; \
	$(PY) bench/summary.py; \
	exit $$status

clean:
	rm -rf $(VENV) juragan.db juragan.db-wal juragan.db-shm
