"""Offline preparation: `offline_weights` says where pretrained weights are without network, and
`scripts.prepare_offline` (make offline) downloads, verifies and copies them, reporting each model.

Nothing here touches the network, the user's torch hub cache or the project's weights folder: torch
hub lives in tmp_path (TORCH_HOME), downloads are faked, and the weights folder is in tmp_path too.
The model is squeezenet1_1, the smallest in the registry, with random stand-in weights.
"""

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torchvision.models import get_model, get_model_weights

import models.weights
from models import WEIGHTS_DIR_ENV, OfflineWeights, load_network, offline_weights
from scripts.prepare_offline import main
from tests.fake_downloads import CACHED, CutShort, FakeResponse, offline, serve
from tests.plain_words import technical_text


@pytest.fixture(scope="module")
def stand_in() -> dict[str, torch.Tensor]:
    """Random weights of CACHED's architecture: what the fake download delivers."""
    return get_model(CACHED).state_dict()


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The weights folder the script searches (through the environment), not created yet."""
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(tmp_path / "weights"))
    return tmp_path / "weights"


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where torch hub keeps CACHED's checkpoint, inside tmp_path (TORCH_HOME), not yet there."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub" / "checkpoints" / Path(get_model_weights(CACHED).DEFAULT.url).name


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch, stand_in: dict[str, torch.Tensor]) -> list[str]:
    """Fake torch hub's download: it writes the stand-in to the cache file. Lists the URLs fetched."""
    fetched = []

    def download_url_to_file(url: str, dst: str, hash_prefix: str | None = None, progress: bool = True) -> None:
        fetched.append(url)
        torch.save(stand_in, dst)

    monkeypatch.setattr(torch.hub, "download_url_to_file", download_url_to_file)
    return fetched


def never_called() -> FakeResponse:
    raise AssertionError("went to the network")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The script's exit code and what it printed."""
    code = main(argv)
    return code, capsys.readouterr().out


def row(out: str, name: str) -> str:
    """The table row of model `name`."""
    (line,) = [line for line in out.splitlines() if line.startswith(f"{name} ")]
    return line


# --- offline_weights: where the weights are, found without network and without reading them ---


def test_a_file_in_the_weights_folder_comes_first_and_is_not_read(
    folder: Path, hub_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(monkeypatch, never_called)
    folder.mkdir()
    (folder / f"{CACHED}.pth").write_bytes(b"not read, only found")
    hub_cache.parent.mkdir(parents=True)
    hub_cache.write_bytes(b"also here")
    assert offline_weights(CACHED, folder) == OfflineWeights(folder / f"{CACHED}.pth", "weights folder")


def test_torchvisions_cached_checkpoint_is_found_when_the_folder_has_none(
    folder: Path, hub_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(monkeypatch, never_called)
    hub_cache.parent.mkdir(parents=True)
    hub_cache.write_bytes(b"not read, only found")
    assert offline_weights(CACHED, folder) == OfflineWeights(hub_cache, "torchvision's cache")


def test_no_weights_anywhere_is_none(folder: Path, hub_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, never_called)
    assert offline_weights(CACHED, folder) is None


# --- the script: download, verify, report, copy ---


def test_missing_weights_are_downloaded_verified_and_ready_on_the_next_run(
    folder: Path, hub_cache: Path, downloads: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run([CACHED], capsys)
    assert code == 0 and downloads == [get_model_weights(CACHED).DEFAULT.url]
    assert row(out, CACHED).split()[1] == "downloaded" and f"{hub_cache} (torchvision's cache)" in row(out, CACHED)
    assert "1 of 1 models are ready to work offline." in out
    code, out = run([CACHED], capsys)
    assert code == 0 and len(downloads) == 1  # the cached copy is verified, not fetched again
    assert row(out, CACHED).split()[1:4] == ["ready", "5.0", "MB"]


def test_a_file_in_the_weights_folder_is_verified_and_ready(
    folder: Path,
    hub_cache: Path,
    downloads: list[str],
    stand_in: dict[str, torch.Tensor],
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder.mkdir()
    torch.save(stand_in, folder / f"{CACHED}.pth")
    code, out = run([CACHED], capsys)
    assert code == 0 and not downloads
    assert row(out, CACHED).split()[1] == "ready" and f"{folder / CACHED}.pth (weights folder)" in row(out, CACHED)


@pytest.mark.parametrize(
    "respond, reason, logged",
    [
        (offline, "the download server could not be reached", "URLError"),
        (CutShort, "the download broke off before it was complete", "IncompleteRead"),
    ],
    ids=["offline", "cut-short"],
)
def test_a_failed_download_is_reported_in_plain_words_exits_1_and_leaves_nothing(
    respond: Callable[[], FakeResponse],
    reason: str,
    logged: str,
    folder: Path,
    hub_cache: Path,
    tmp_path: Path,
    monkeypatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    serve(monkeypatch, respond)
    code, out = run([CACHED, "--to", str(tmp_path / "usb")], capsys)
    assert code == 1
    assert row(out, CACHED).split()[1:] == ["failed", "-", "-"]
    assert f"{CACHED}: No pretrained weights for SqueezeNet 1.1" in out
    assert "downloading the weights failed" in out and reason in out
    assert logged in caplog.text  # the exception itself goes to the log
    assert not any(hub_cache.parent.iterdir())  # torch hub removed its partial file
    assert not (tmp_path / "usb").exists()  # nothing copied


def test_a_damaged_cached_checkpoint_is_reported_as_failed_not_a_crash(
    folder: Path,
    hub_cache: Path,
    downloads: list[str],
    stand_in: dict[str, torch.Tensor],
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub_cache.parent.mkdir(parents=True)
    torch.save(stand_in, hub_cache)
    hub_cache.write_bytes(hub_cache.read_bytes()[:100_000])  # a cut copy
    code, out = run([CACHED], capsys)
    assert code == 1 and not downloads
    assert row(out, CACHED).split()[1] == "failed" and str(hub_cache) in row(out, CACHED)  # where it is
    problem = out.split(f"\n{CACHED}: ", 1)[1]
    assert f"torch hub's cache ({hub_cache.name}) cannot be used" in problem and "Delete that copy" in problem
    assert not technical_text(problem.split("\n")[0]), problem  # the reason is the app's own plain words


def test_to_copies_the_verified_weights_into_a_folder_the_app_loads_offline(
    folder: Path,
    hub_cache: Path,
    downloads: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    usb = tmp_path / "usb" / "weights"
    code, out = run([CACHED, "--to", str(usb)], capsys)
    assert code == 0 and f"The ready ones are copied to {usb}" in out
    assert [path.name for path in usb.iterdir()] == [f"{CACHED}.pth"]  # no temporary file left
    assert (usb / f"{CACHED}.pth").read_bytes() == hub_cache.read_bytes()
    serve(monkeypatch, never_called)
    net = load_network(CACHED, "pretrained", weights_folder=usb, allow_download=False)
    assert net.source == f"ImageNet weights from {CACHED}.pth in the weights folder"


def test_every_registry_model_is_prepared_by_default(
    folder: Path, hub_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def offline_builder(name: str) -> torch.nn.Module:
        raise OSError("no internet")  # fails each model at once, without building it

    monkeypatch.setattr(models.weights, "get_model", offline_builder)
    code, out = run([], capsys)
    assert code == 1 and f"0 of {len(models.REGISTRY)} models are ready" in out
    assert all(row(out, name).split()[1] == "failed" for name in models.REGISTRY)


def test_an_unknown_model_is_refused_naming_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["resnet19"])
    assert caught.value.code == 2 and "unknown model resnet19; choose from mobilenet_v2" in capsys.readouterr().err


def test_to_the_weights_folder_itself_leaves_its_file_alone(
    folder: Path, hub_cache: Path, stand_in: dict[str, torch.Tensor], capsys: pytest.CaptureFixture[str]
) -> None:
    folder.mkdir()
    torch.save(stand_in, folder / f"{CACHED}.pth")

    def written(path: Path) -> tuple[int, int, int]:
        """What rewriting the file would change (its access time changes when it is only read, to verify it)."""
        stat = path.stat()
        return stat.st_ino, stat.st_size, stat.st_mtime_ns

    before = written(folder / f"{CACHED}.pth")
    code, out = run([CACHED, "--to", str(folder)], capsys)
    assert code == 0 and row(out, CACHED).split()[1] == "ready"
    assert written(folder / f"{CACHED}.pth") == before  # not rewritten: a shared folder may well be read-only


def test_a_copy_that_cannot_be_written_fails_in_plain_words(
    folder: Path, hub_cache: Path, downloads: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_folder = tmp_path / "usb"
    not_a_folder.write_text("a file where the folder should be")
    code, out = run([CACHED, "--to", str(not_a_folder)], capsys)
    assert code == 1 and row(out, CACHED).split()[1] == "failed"
    assert f"{CACHED}: Verified, but could not copy it to {not_a_folder / CACHED}.pth" in out
    assert "0 of 1 models are ready to work offline." in out
