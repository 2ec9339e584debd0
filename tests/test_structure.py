"""The shape of the code, held as tests: who may touch session state, and where a kind of model is named."""

from __future__ import annotations

import re
from pathlib import Path

from models.families import CIRCULAR, TEACHING, catalog
from ui.state import KEYS

ROOT = Path(__file__).resolve().parents[1]
UI_CODE = [ROOT / "app.py", *sorted((ROOT / "ui").rglob("*.py"))]


def code_of(path: Path) -> str:
    return path.read_text()


def test_only_ui_state_touches_session_state():
    # one owner: every key is declared (with its type and default) in ui/state.py and used through it
    touching = [p.relative_to(ROOT) for p in UI_CODE if "session_state" in code_of(p) and p.name != "state.py"]
    assert touching == []


def test_no_drag_view_module_asks_what_kind_of_model_it_shows():
    # a family is data (models/families.py): the drag view reads its fields and never names a kind, but for the
    # lessons, which name the families whose views they open; the lab page is about small CNNs by its subject
    kinds = re.compile(r"\b(?:TEACHING|CIRCULAR|LAB|LAB_PREFIX)\b|\.small_cnn\b|model\s*==|family\.name\s*==")
    asking = {
        str(p.relative_to(ROOT)): [m[0] for m in kinds.finditer(code_of(p))]
        for p in UI_CODE
        if p.name not in ("lessons.py", "lab_view.py")
    }
    assert {path: found for path, found in asking.items() if found} == {}


def test_every_family_is_complete_and_its_columns_have_their_own_cache_keys(tmp_path):
    families = catalog(tmp_path)
    assert list(families)[:1] == ["mobilenet_v2"] and {TEACHING, CIRCULAR} <= families.keys()
    keys = [column.cache_key for family in families.values() for column in family.columns]
    assert len(keys) == len(set(keys))
    for family in families.values():
        assert family.layers and family.default_layer in family.layers
        assert family.scene.objects and family.scene.canvases and family.scene.object_key in KEYS
        assert len(family.columns) == 2 and family.intro.endswith(("?", "."))


def test_the_four_kinds_of_model_are_one_entry_each_in_the_catalog():
    source = code_of(ROOT / "models" / "families.py")
    body = source[source.index("def catalog(") :]
    assert all(f"{name}(" in body for name in ("imagenet_family", "teaching_family", "circular_family", "lab_family"))


def test_the_lab_page_names_every_choice_the_small_cnns_offer():
    """A choice the page cannot name would break its selectboxes; every new option needs its words."""
    from models.small_cnn import DOWNSAMPLES, HEADS
    from ui.lab_view import DOWNSAMPLE_NAMES, HEAD_NAMES

    assert set(DOWNSAMPLE_NAMES) == set(DOWNSAMPLES) and set(HEAD_NAMES) == set(HEADS)
