# Shift Lab: `make run` sets up and starts the app; `make test` sets up and runs every test.
# Both create the virtual environment .venv on first use and refresh it when a requirements
# file changes.

VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The class store's tests run against a real PostgreSQL server too, which they start themselves (tests/postgres.py).
POSTGRES := /usr/lib/postgresql/15/bin/initdb
# The proxy in front of a school's replicas (make school, tests/test_school.py).
HAPROXY := /usr/sbin/haproxy
# axe-core, the accessibility checker the browser tests inject into each page (tests/accessibility.py), from npm.
AXE_VERSION := 4.14.1
AXE := $(VENV)/axe-core/node_modules/axe-core/axe.min.js
# A font with Chinese glyphs for the exported figures (ui/export.py finds any CJK font installed).
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

.PHONY: run class school offline test bench messages

run: $(VENV)/.runtime
	$(PY) -m streamlit run serve.py

# Where there is internet: download, verify and cache the pretrained weights so the app works offline.
# Optional: MODELS="resnet18 vgg11" (default: all), TO=/media/usb/weights (copy them there for another machine).
offline: $(VENV)/.runtime
	$(PY) -m scripts.prepare_offline $(MODELS) $(if $(TO),--to "$(TO)")

# For a class: listen on every network interface, so students open the "Network URL" it prints; the teacher
# secret (SHIFTLAB_TEACHER_SECRET, or a new one) is printed first.
class: $(VENV)/.runtime
	$(PY) -m scripts.class_server

# A school on this machine: REPLICAS app processes behind HAProxy, one PostgreSQL store (scripts/school.py).
REPLICAS ?= 2
school: $(VENV)/.runtime $(POSTGRES) $(HAPROXY)
	$(PY) -m scripts.school --replicas $(REPLICAS)

# After changing a text a user reads: the messages of the code into locales/shiftlab.pot, and every language's
# catalog brought up to date with it (a new message arrives empty, a changed one fuzzy: translate both;
# tests/test_languages.py names each one left).
SOURCES := app.py ui models probes scene store
messages: $(VENV)/.dev
	$(VENV)/bin/pybabel --quiet extract -F babel.cfg -c TRANSLATORS: --sort-by-file --width 120 \
		--project "Shift Lab" -o locales/shiftlab.pot $(SOURCES)
	$(VENV)/bin/pybabel --quiet update -i locales/shiftlab.pot -d locales -D shiftlab --width 120

test: $(VENV)/.dev /usr/bin/chromium $(POSTGRES) $(HAPROXY) $(AXE) $(CJK_FONT)
	$(PY) -m ruff check .
	$(PY) -m pytest -m "not serving" -n 2; first=$$?; $(PY) -m pytest -m serving; second=$$?; \
		test $$first = 0 -a $$second = 0

bench: $(VENV)/.dev /usr/bin/chromium $(POSTGRES) $(HAPROXY)
	$(PY) -m benchmarks.drag_latency
	$(PY) -m benchmarks.drag_latency resnet50 efficientnet_b0 convnext_tiny
	$(PY) -m benchmarks.score_map_throughput
	$(PY) -m benchmarks.architectures
	$(PY) -m benchmarks.lab_training
	$(PY) -m benchmarks.layer_profile
	$(PY) -m benchmarks.position_readout
	$(PY) -m benchmarks.load_test --clients protocol
	$(PY) -m benchmarks.load_test --clients browser
	$(PY) -m benchmarks.load_test --clients protocol --sessions 40 --dragging 8 --voters 30
	$(PY) -m benchmarks.load_test --clients protocol --replicas 1
	$(PY) -m benchmarks.load_test --clients protocol --replicas 2
	$(PY) -m benchmarks.load_test --clients protocol --seconds 30 --sessions 12 --model-memory 1000 \
		--models resnet50 vgg16 densenet121 convnext_tiny efficientnet_v2_s wide_resnet50_2 inception_v3 resnext50_32x4d

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(POSTGRES):
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y postgresql

$(HAPROXY):
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y haproxy

$(AXE): $(VENV)/.runtime
	command -v npm >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y npm; }
	npm install --silent --no-audit --no-fund --prefix $(VENV)/axe-core axe-core@$(AXE_VERSION)
	touch $@

$(CJK_FONT):
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y fonts-wqy-microhei

# Browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
/usr/bin/chromium:
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y chromium
