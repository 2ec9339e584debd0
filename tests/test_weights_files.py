"""Every loader of a weights file refuses bad files in plain words and never runs code in them;
the technical detail (the exception, the file's path) goes to the log instead.

Three loaders: the lab's `load_weights` (a path, or the bytes of an upload), the ImageNet weights
folder (`load_network(..., "pretrained")` with `<name>.pth` there; its basic cases are in
test_models.py), and torchvision's download into torch hub's cache. The code-carrying files are
live: loaded unsafely, they do create their marker file (checked first), so the refusals below
are real. Nothing here touches the network or the user's own torch hub cache.
"""

import io
import logging
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torchvision.models import get_model, get_model_weights

from models import WeightsUnavailable, load_network
from models.small_cnn import SmallCNNConfig, build_small_cnn
from models.training import ModelFileError, load_model, load_weights, save_model
from tests.fake_downloads import CACHED, CutShort, FakeResponse, offline, serve
from tests.plain_words import technical_text

TINY = SmallCNNConfig(depth=2, width=4, hidden=8, classes=3, canvas=32)
Writer = Callable[[Path, Path], None]  # (file to write, marker a code payload would create)


class RunsCode:
    """Unpickling this (with full unpickling, weights_only=False) creates `marker`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


def torch_save_payload(path: Path, marker: Path) -> None:
    torch.save({"features.0.weight": RunsCode(marker)}, path)  # torch's zip format


def pickle_payload(path: Path, marker: Path) -> None:
    """A bare pickle, torch's legacy format; protocol 2, as torch writes, so torch does not warn about it."""
    path.write_bytes(pickle.dumps({"features.0.weight": RunsCode(marker)}, protocol=2))


def empty(path: Path, marker: Path) -> None:
    path.write_bytes(b"")


def truncated(path: Path, marker: Path) -> None:
    torch.save(build_small_cnn(TINY).state_dict(), path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGED = [torch_save_payload, pickle_payload, empty, truncated]


def test_the_payloads_are_live_when_loaded_unsafely(tmp_path: Path) -> None:
    torch_save_payload(tmp_path / "zip.pt", tmp_path / "ran zip")
    torch.load(tmp_path / "zip.pt", weights_only=False)
    pickle_payload(tmp_path / "bare.pt", tmp_path / "ran bare")
    pickle.loads((tmp_path / "bare.pt").read_bytes())
    assert (tmp_path / "ran zip").exists() and (tmp_path / "ran bare").exists()


# --- the lab's model files: a path on disk, or the bytes of an upload ---


def as_path(path: Path) -> Path:
    return path


def as_upload(path: Path) -> io.BytesIO:
    return io.BytesIO(path.read_bytes())  # what Streamlit's file_uploader hands over


@pytest.mark.parametrize("source", [as_path, as_upload])
@pytest.mark.parametrize("write", DAMAGED)
def test_a_damaged_or_code_carrying_lab_file_is_refused_in_plain_words_and_never_run(
    write: Writer, source: Callable[[Path], object], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path / "model.pt", tmp_path / "ran")
    model = build_small_cnn(TINY, seed=1)
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    with pytest.raises(ModelFileError) as caught:
        load_weights(model, source(tmp_path / "model.pt"))
    message = str(caught.value)
    assert "is not a readable model file" in message and "downloaded from this lab" in message
    assert "weights_only" not in message and "\x1b" not in message and len(message) < 300, message
    assert not technical_text(message), technical_text(message)
    assert type(caught.value.__cause__).__name__ in caplog.text  # the log has what torch said
    assert not (tmp_path / "ran").exists()
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())  # model kept


def test_an_uploaded_file_of_another_architecture_is_refused() -> None:
    upload = io.BytesIO()
    torch.save(build_small_cnn(TINY).state_dict(), upload)
    upload.seek(0)
    wider = build_small_cnn(SmallCNNConfig(depth=2, width=8, hidden=8, classes=3, canvas=32))
    with pytest.raises(ModelFileError, match="the file was saved from another architecture"):
        load_weights(wider, upload)


def test_a_saved_lab_model_whose_weights_carry_code_is_refused(tmp_path: Path) -> None:
    save_model(build_small_cnn(TINY), tmp_path / "tiny.pt")  # a valid config beside it
    torch_save_payload(tmp_path / "tiny.pt", tmp_path / "ran")
    with pytest.raises(ModelFileError, match="tiny.pt is not a readable model file"):
        load_model(tmp_path / "tiny.pt")
    assert not (tmp_path / "ran").exists()


# --- the ImageNet weights folder (random bytes, truncated, torch.save payload and wrong architecture
# are in test_models.py) ---


@pytest.mark.parametrize("write", [pickle_payload, empty])
def test_an_empty_or_bare_pickle_weights_file_is_refused_naming_the_file(
    write: Writer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / f"{CACHED}.pth"
    write(path, tmp_path / "ran")
    with pytest.raises(WeightsUnavailable) as caught:
        load_network(CACHED, "pretrained", weights_folder=tmp_path, allow_download=False)
    message = str(caught.value)
    assert f"The file {path.name} in the weights folder cannot be used" in message and "damaged" in message
    assert "state_dict" in message and not technical_text(message), message
    assert str(path) in caplog.text  # the path is in the log, not on the page
    assert not (tmp_path / "ran").exists()


# --- torchvision's download into torch hub's cache ---


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where torch hub keeps CACHED's checkpoint, inside tmp_path (TORCH_HOME), not yet there."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub" / "checkpoints" / Path(get_model_weights(CACHED).DEFAULT.url).name


def pretrained_from_the_hub(tmp_path: Path) -> WeightsUnavailable:
    """The error of loading CACHED's pretrained weights with an empty weights folder."""
    with pytest.raises(WeightsUnavailable) as caught:
        load_network(CACHED, "pretrained", weights_folder=tmp_path / "no weights here")
    return caught.value


def test_offline_without_a_cached_copy_says_so_and_the_scratch_twin_still_loads(
    hub_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    serve(monkeypatch, offline)
    error = pretrained_from_the_hub(tmp_path)
    assert "the download server could not be reached (is there no internet connection here?)" in str(error)
    assert "SHIFTLAB_WEIGHTS_DIR" in str(error) and "scratch twin still works" in str(error)
    assert not technical_text(str(error)), str(error)
    (record,) = [r for r in caplog.records if r.name == "models.weights"]
    assert record.levelno == logging.WARNING and record.exc_info is not None
    assert "URLError: <urlopen error no internet>" in record.getMessage() and str(hub_cache) in record.getMessage()
    assert not hub_cache.parent.exists() or not any(hub_cache.parent.iterdir())  # nothing half-written left
    assert load_network(CACHED, "scratch").variant == "scratch"


@pytest.mark.parametrize(
    "respond, says, logged",
    [
        # regression: an HTTPException, neither OSError nor RuntimeError, escaped
        (CutShort, "the download broke off before it was complete", "IncompleteRead"),
        (  # a portal page
            lambda: FakeResponse(b"<html>Please log in to the network</html>"),
            "what arrived was not the weights file (a network that wants you to log in first",
            "invalid hash value",
        ),
    ],
    ids=["cut-short", "wrong-content"],
)
def test_a_bad_download_is_refused_in_plain_words_and_not_cached(
    respond: Callable[[], FakeResponse],
    says: str,
    logged: str,
    hub_cache: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    serve(monkeypatch, respond)
    error = pretrained_from_the_hub(tmp_path)
    assert "downloading the weights failed" in str(error) and says in str(error) and "Nothing was kept" in str(error)
    assert not technical_text(str(error)), str(error)
    assert logged in caplog.text
    assert not any(hub_cache.parent.iterdir())  # torch hub removed its partial file


def test_a_cached_checkpoint_loads_offline(hub_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    serve(monkeypatch, offline)
    hub_cache.parent.mkdir(parents=True)
    state = get_model(CACHED).state_dict()  # random weights: stand-ins never go under torchvision's cache names
    torch.save(state, hub_cache)
    net = load_network(CACHED, "pretrained", weights_folder=tmp_path / "no weights here")
    assert net.source == "torchvision ImageNet weights (IMAGENET1K_V1)"
    loaded = dict(net.extractor.named_parameters())
    assert all(torch.equal(loaded[name], tensor) for name, tensor in state.items() if name in loaded)


@pytest.mark.parametrize("write", DAMAGED)
def test_a_code_carrying_or_damaged_cached_checkpoint_is_refused_and_never_run(
    write: Writer, hub_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Regression: torchvision's builders read the cached file with torch hub's default, full
    unpickling, so a file planted in the cache ran its code when the pretrained model loaded."""
    serve(monkeypatch, offline)
    hub_cache.parent.mkdir(parents=True)
    write(hub_cache, tmp_path / "ran")
    error = str(pretrained_from_the_hub(tmp_path))
    assert f"the copy torchvision keeps in torch hub's cache ({hub_cache.name}) cannot be used" in error, error
    assert "Delete that copy so that it is downloaded again (`make offline` shows where it is)" in error
    assert not technical_text(error), error
    assert f"cached copy {hub_cache} cannot be used" in caplog.text  # where it is: in the log
    assert not (tmp_path / "ran").exists()
