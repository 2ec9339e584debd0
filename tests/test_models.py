"""models/: every registry entry builds and probes; weights come from where we say, or fail in plain words."""

import random
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.error import URLError

import pytest
import torch
from PIL import Image
from torch import nn
from torch.fx import GraphModule
from torchvision.models import get_model
from torchvision.models.feature_extraction import create_feature_extractor
from torchvision.transforms import v2

import models.weights
from models import REGISTRY, WEIGHTS_DIR_ENV, Network, WeightsUnavailable, load_network, trace_all, weights_dir
from models.folding import fold_batch_norms
from models.weights import build
from tests.plain_words import technical_text

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_WEIGHTS = SHARED / "weights"
CHELSEA = SHARED / "assets-source" / "chelsea.png"
CATS = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}  # ImageNet's domestic cats


def parameters(net: Network) -> list[torch.Tensor]:
    return list(net.extractor.parameters())


def same_parameters(a: Network, b: Network) -> bool:
    return all(torch.equal(p, q) for p, q in zip(parameters(a), parameters(b), strict=True))


@pytest.fixture(scope="module", params=list(REGISTRY))
def scratch(request: pytest.FixtureRequest) -> Network:
    return load_network(request.param, "scratch")


@pytest.fixture(scope="module")
def shared_weights() -> Path:
    if not SHARED_WEIGHTS.is_dir():
        pytest.skip(f"no offline ImageNet weights at {SHARED_WEIGHTS}: the pretrained checks need them")
    return SHARED_WEIGHTS


@pytest.fixture(scope="module")
def chelsea() -> torch.Tensor:
    if not CHELSEA.is_file():
        pytest.skip(f"no test photo at {CHELSEA}")
    standard = v2.Compose([v2.ToImage(), v2.Resize(256), v2.CenterCrop(224), v2.ToDtype(torch.float32, scale=True)])
    return standard(Image.open(CHELSEA).convert("RGB")).unsqueeze(0)  # (1, 3, 224, 224)


def test_registry_lists_mobilenet_first_and_keys_by_builder_name() -> None:
    assert list(REGISTRY)[0] == "mobilenet_v2"
    assert {"resnet18", "squeezenet1_1", "alexnet", "vgg11"} <= REGISTRY.keys()
    assert all(key == spec.name and 4 <= len(spec.layers) <= 6 for key, spec in REGISTRY.items())
    # every entry's probe layers, strides and build: tests/test_architectures.py


@pytest.mark.parametrize("size", [224, 320])
def test_scratch_twin_gives_every_probe_layer_and_logits(scratch: Network, size: int) -> None:
    out = scratch(torch.rand(1, 3, size, size))  # (1, 3, size, size)
    assert list(out) == [*scratch.layers, "logits"]
    assert all(out[layer].ndim == 4 and out[layer].shape[0] == 1 for layer in scratch.layers)
    assert out["logits"].shape == (1, 1000)
    widths = [out[layer].shape[-1] for layer in scratch.layers]
    assert widths == sorted(widths, reverse=True)  # deeper layers are never finer


def test_scratch_twin_is_eval_mode_with_imagenet_names_and_preprocessing(scratch: Network) -> None:
    assert not scratch.extractor.training
    assert len(scratch.categories) == 1000 and "tabby" in scratch.categories
    assert scratch.mean == pytest.approx((0.485, 0.456, 0.406)) and scratch.std == pytest.approx((0.229, 0.224, 0.225))
    assert scratch.source == "random initialisation, seed 0"


def test_scratch_twin_is_deterministic_and_keeps_global_rng() -> None:
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    first = load_network("squeezenet1_1", "scratch", seed=7)
    assert torch.equal(torch.get_rng_state(), before)
    assert same_parameters(first, load_network("squeezenet1_1", "scratch", seed=7))
    assert not same_parameters(first, load_network("squeezenet1_1", "scratch", seed=8))


def test_scratch_twins_built_in_parallel_threads_match_serial_builds() -> None:
    jobs = [("squeezenet1_1", 1), ("mobilenet_v2", 2), ("squeezenet1_1", 3), ("mobilenet_v2", 4)]
    serial = [load_network(name, "scratch", seed=seed) for name, seed in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda job: load_network(job[0], "scratch", seed=job[1]), jobs))
    assert all(same_parameters(a, b) for a, b in zip(serial, parallel, strict=True))


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="pretrained"):
        load_network("squeezenet1_1", "imagenet")


@pytest.mark.parametrize("name", ["mobilenet_v2", "squeezenet1_1"])
def test_pretrained_network_sees_a_cat_in_chelsea(name: str, shared_weights: Path, chelsea: torch.Tensor) -> None:
    net = load_network(name, "pretrained", weights_folder=shared_weights, allow_download=False)
    top3 = [net.categories[i] for i in net(chelsea)["logits"][0].topk(3).indices]
    assert CATS & set(top3), top3
    assert net.source == f"ImageNet weights from {name}.pth in the weights folder"  # shown as a tooltip: no path


@pytest.mark.parametrize("name", ["mobilenet_v2", "squeezenet1_1"])  # MobileNetV2: with its batch norms folded
def test_pretrained_logits_equal_the_plain_torchvision_forward(
    name: str, shared_weights: Path, chelsea: torch.Tensor
) -> None:
    net = load_network(name, "pretrained", weights_folder=shared_weights, allow_download=False)
    plain = get_model(name).eval()
    plain.load_state_dict(torch.load(shared_weights / f"{name}.pth", weights_only=True))
    normalised = v2.Normalize(net.mean, net.std)(chelsea)  # (1, 3, 224, 224)
    with torch.inference_mode():
        torch.testing.assert_close(net(chelsea)["logits"], plain(normalised))


def randomised_norms(model: nn.Module) -> nn.Module:
    """Batch norms with random statistics and affine parameters, so that folding them changes weights."""
    generator = torch.Generator().manual_seed(0)
    for norm in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
        for tensor, low in (
            (norm.running_mean, -1),
            (norm.running_var, 0.2),
            (norm.weight.data, 0.5),
            (norm.bias.data, -1),
        ):
            tensor.copy_(low + 2 * torch.rand(tensor.shape, generator=generator))
    return model.eval()


def test_folded_batch_norms_give_the_same_outputs_and_leave_kept_convolutions() -> None:
    torch.manual_seed(0)
    block = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, 1), nn.BatchNorm2d(4))
    model = randomised_norms(nn.Sequential(block, nn.Sequential(nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4))))
    images = torch.rand(2, 3, 16, 16)
    with torch.inference_mode():
        expected = model(images)
        fold_batch_norms(model, keep=frozenset({"1.0"}))
        torch.testing.assert_close(model(images), expected, rtol=1e-5, atol=1e-5)
    assert [type(m).__name__ for m in block] == ["Conv2d", "Identity", "ReLU", "Conv2d", "Identity"]
    assert isinstance(model[1][1], nn.BatchNorm2d)  # its convolution's own output is kept as it was


def test_folding_in_the_real_architecture_keeps_every_probe_layer() -> None:
    plain = randomised_norms(build("mobilenet_v2", seed=0))
    folded = load_network("mobilenet_v2", "scratch")
    folded.extractor.load_state_dict(  # the same random statistics, folded the way load_network folds
        GraphModule(
            fold_batch_norms(randomised_norms(build("mobilenet_v2", seed=0)), frozenset(folded.layers)),
            folded.extractor.graph,
        ).state_dict()
    )
    images = torch.rand(1, 3, 96, 96)
    normalised = v2.Normalize(folded.mean, folded.std)(images)
    with torch.inference_mode():
        expected = create_feature_extractor(
            plain, {**{layer: layer for layer in folded.layers}, "classifier.1": "logits"}
        )(normalised)
        for name, output in folded(images).items():
            torch.testing.assert_close(output, expected[name], rtol=1e-4, atol=1e-4)


def test_weights_folder_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(tmp_path))
    assert weights_dir() == tmp_path
    monkeypatch.delenv(WEIGHTS_DIR_ENV)
    assert weights_dir() == REPO / "weights"


def test_missing_weights_without_download_say_where_to_put_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(WeightsUnavailable) as caught:
        load_network("resnet18", "pretrained", weights_folder=tmp_path, allow_download=False)
    message = str(caught.value)
    assert "ResNet-18" in message and "resnet18.pth" in message and "downloading is switched off" in message
    assert "the project's weights folder" in message and WEIGHTS_DIR_ENV in message and "scratch" in message
    assert not technical_text(message), message  # the folder's path is in the log instead
    assert str(tmp_path / "resnet18.pth") in caplog.text


def test_failed_download_becomes_a_plain_words_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def offline(name: str, **options: object) -> torch.nn.Module:
        raise URLError("no internet")

    monkeypatch.setattr(models.weights, "get_model", offline)
    with pytest.raises(WeightsUnavailable) as caught:
        load_network("alexnet", "pretrained", weights_folder=tmp_path)
    message = str(caught.value)
    assert "downloading the weights failed" in message and "no internet connection" in message
    assert WEIGHTS_DIR_ENV in message and not technical_text(message), message
    assert isinstance(caught.value.__cause__, URLError)
    assert "URLError: <urlopen error no internet>" in caplog.text and str(tmp_path / "alexnet.pth") in caplog.text


class RunsCode:
    """Unpickling this would run code that creates `marker`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


def write_random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(0).randbytes(4096))


def write_truncated(path: Path) -> None:
    torch.save(get_model("mobilenet_v2").state_dict(), path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def write_pickle_payload(path: Path) -> None:
    torch.save({"features.0.weight": RunsCode(path.with_name("ran"))}, path)


def write_wrong_architecture(path: Path) -> None:  # squeezenet1_1's weights under mobilenet_v2's name
    torch.save(get_model("squeezenet1_1").state_dict(), path)


@pytest.mark.parametrize(
    "write, says",
    [
        (write_random_bytes, "it is damaged or cut short"),
        (write_truncated, "it is damaged or cut short"),
        (write_pickle_payload, "holds more than weights (anything that could run code is refused)"),
        (write_wrong_architecture, "it holds something other than the weights of torchvision's mobilenet_v2"),
    ],
)
def test_unusable_weights_file_is_refused_naming_the_file(
    write: Callable[[Path], None], says: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "mobilenet_v2.pth"
    write(path)
    with pytest.raises(WeightsUnavailable) as caught:
        load_network("mobilenet_v2", "pretrained", weights_folder=tmp_path, allow_download=False)
    message = str(caught.value)
    assert "The file mobilenet_v2.pth in the weights folder cannot be used" in message and says in message
    assert "state_dict" in message and not technical_text(message), message
    assert str(path) in caplog.text and type(caught.value.__cause__).__name__ in caplog.text
    assert not (tmp_path / "ran").exists()  # the pickle payload was refused, not run


def test_importing_models_does_not_import_streamlit() -> None:
    check = "import sys, models; assert 'streamlit' not in sys.modules, 'models imported streamlit'"
    result = subprocess.run([sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_loading_models_while_another_thread_runs_forward_passes_is_safe() -> None:
    """Regression: FX tracing patches torch.nn.Module.__call__ process-wide. Loading a model in one
    session while another dragged failed ("module is not installed as a submodule"), and two loads
    at once could leave torch patched for good. Models now reuse graphs traced once, up front."""
    original_call = torch.nn.Module.__call__
    trace_all()
    running = load_network("squeezenet1_1", "scratch")
    images = torch.rand(1, 3, 96, 96)
    stop = threading.Event()

    def drag() -> int:
        count = 0
        while not stop.is_set():
            running(images)
            count += 1
        return count

    with ThreadPoolExecutor(max_workers=3) as pool:
        dragging = pool.submit(drag)
        loads = [pool.submit(load_network, name, "scratch", seed=1) for name in ("resnet18", "mobilenet_v2")]
        loaded = [future.result() for future in loads]
        stop.set()
        assert dragging.result() > 0
    assert all(net(images)["logits"].shape == (1, 1000) for net in loaded)
    assert torch.nn.Module.__call__ is original_call


# Kinds of layer enough to show that nothing a forward pass runs keeps state between calls (every entry is
# built and run in tests/test_architectures.py): inverted residuals, skip connections, concatenation,
# plain stacks; and squeeze-and-excitation gates, layer norms, channel shuffles.
THREADED = (
    "mobilenet_v2",
    "resnet18",
    "squeezenet1_1",
    "vgg11",
    "mobilenet_v3_small",
    "convnext_tiny",
    "shufflenet_v2_x1_0",
)


@pytest.mark.parametrize("name", THREADED)
def test_one_shared_network_called_from_many_sessions_at_once_gives_each_its_own_answer(name: str) -> None:
    """Sessions share one cached model and call it from their own threads: every call must get
    what a call alone would get, with no trace of another session's input. Compared on the first
    probe layer: a scratch twin's logits are almost the same for any input (facts, section 5)."""
    scratch = load_network(name, "scratch")
    layer = scratch.layers[0]
    images = [torch.rand(1, 3, 96, 96, generator=torch.Generator().manual_seed(k)) for k in range(8)]
    alone = [scratch(image)[layer] for image in images]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda image: scratch(image)[layer], images * 3))
    # Threads may add in another order (differences of ~1e-6); another session's image differs far more.
    assert min(float((alone[i] - alone[j]).abs().max()) for i in range(8) for j in range(i)) > 0.1
    for k, maps in enumerate(together):
        torch.testing.assert_close(maps, alone[k % len(images)], atol=1e-5, rtol=0)
