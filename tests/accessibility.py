"""axe-core in a real page: the accessibility problems a screen-reader or keyboard user would meet.

The browser tests inject axe-core (installed from npm by `make test`, see the Makefile) into a page and ask it
for violations; serious and critical ones fail the test, with what axe says of each and where.
"""

from __future__ import annotations

from playwright.sync_api import Page

from scripts.servers import ROOT

AXE = ROOT / ".venv" / "axe-core" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")

_RUN = """async () => (await axe.run(document, { resultTypes: ["violations"] })).violations.map((v) => ({
  id: v.id, impact: v.impact, help: v.help,
  nodes: v.nodes.slice(0, 3).map((n) => n.html.slice(0, 120) + " — " + n.any.map((a) => a.message).join("; ")),
}))"""


def violations(page: Page) -> list[dict]:
    """axe-core's violations on the page as it is now, every impact."""
    assert AXE.is_file(), f"axe-core is missing: `make test` installs it ({AXE.name})"
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(_RUN)


def assert_accessible(page: Page, name: str) -> None:
    """No serious or critical violation on the page."""
    found = [v for v in violations(page) if v["impact"] in BLOCKING]
    report = "\n".join(f"{v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in found)
    assert not found, f"{name}: axe-core found\n{report}"
