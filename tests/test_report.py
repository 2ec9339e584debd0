"""`python -m scripts.report`: the drag view's measurements without the browser, by the app's own functions, so
its files equal the app's download for the same view."""

from __future__ import annotations

import json

import pytest
import torch
from streamlit.testing.v1 import AppTest

from models.families import TEACHING, catalog
from models.weights import weights_dir
from scripts.report import main, report
from ui.score_map_view import default_step, steps_for
from ui.settings import Settings

from .test_app import drag_to, start_app

MOVE = (6, 2)


def app_files(at: AppTest, offered: list) -> dict[str, bytes]:
    """The files of the app's download as last offered."""
    return {name: make() for name, make in offered[-1].items()}


def test_the_report_writes_the_same_files_as_the_apps_download_for_the_same_view(monkeypatch, tmp_path):
    offered = []
    monkeypatch.setattr("ui.live_view.export_button", lambda files, name: offered.append(files))
    at = start_app(monkeypatch, tmp_path)
    at.selectbox(key="model").set_value(TEACHING).run()
    x, y = at.session_state["x"], at.session_state["y"]
    for button in ("compute_score_maps", "compute_sweep", "compute_consistency", "compute_profiles"):
        at.button(key=button).click().run()
    at.button(key="compute_position_readout").click().run()
    assert not at.exception, at.exception
    drag_to(at, x + MOVE[0], y + MOVE[1], seq=1, dragging=False)  # the per-layer table of the move, at rest
    shown = app_files(at, offered)

    family = catalog(weights_dir())[TEACHING]
    scene = family.scene
    view = Settings(TEACHING, "", at.session_state["shape"], scene.object_sizes[0], scene.backgrounds[0], 64)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the app and the script: float sums in the same order
    try:
        files, summary = report(family, view, (x, y), MOVE, default_step(steps_for(64), 64))
    finally:
        torch.set_num_threads(threads)
    for name in ("measurements.csv", "score_maps.csv", "sweep.csv", "shift_consistency.csv", "layer_profiles.csv"):
        assert files[name]().decode().splitlines() == shown[name].decode().splitlines(), name
    assert files["position_readout.csv"]() == shown["position_readout.csv"]
    assert set(summary["flip_rate"]) == {column.title for column in family.columns}


def test_the_command_line_writes_every_file_and_a_summary_and_refuses_what_the_model_does_not_show(tmp_path, capsys):
    out = tmp_path / "report"
    main(["--model", TEACHING, "--object", "diamond", "--only", "measurements", "sweep", "--out", str(out)])
    written = sorted(path.name for path in out.iterdir())
    assert written == [
        "feature_shift.csv",
        "feature_shift.png",
        "measurements.csv",
        "summary.json",
        "sweep.csv",
        "sweep.png",
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["position"] == [32, 32] and summary["moved_to"] == [48, 32] and summary["object"] == "diamond"
    assert "Sweep" not in capsys.readouterr().out  # the progress bars go to standard error
    with pytest.raises(SystemExit):
        main(["--model", TEACHING, "--object", "cat", "--out", str(out)])
    assert "shows these objects" in capsys.readouterr().err
