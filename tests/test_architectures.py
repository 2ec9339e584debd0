"""Every registry architecture: built with random weights, its probe layers are stage ends of its graph with
the strides its entry claims, it runs, and the model list shows it in its group, ready offline or not."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest
from torchvision.models.feature_extraction import get_graph_node_names

from models import REGISTRY, WEIGHTS_DIR_ENV, ModelSpec, Network, load_network
from models.families import catalog
from models.geometry import HeldPool, imagenet_fields
from models.network import weightless
from models.registry import GROUPS, LIGHT, MODERN
from models.weights import build, weights_file
from probes import measure_receptive_field, measure_stride
from ui.lessons import LESSONS
from ui.state import CANVAS_KEY

# GoogLeNet's and Inception's auxiliary heads run in training only: torchvision notes that the graphs differ
pytestmark = pytest.mark.filterwarnings("ignore:NOTE. The nodes obtained by tracing the model in eval mode")

APP = str(Path(__file__).resolve().parents[1] / "app.py")

# The list (15, item 1): every one of these is an entry.
ASKED_FOR = {
    "resnet50",
    "resnext50_32x4d",
    "wide_resnet50_2",
    "densenet121",
    "googlenet",
    "inception_v3",
    "efficientnet_b0",
    "efficientnet_v2_s",
    "mobilenet_v3_small",
    "mobilenet_v3_large",
    "shufflenet_v2_x1_0",
    "mnasnet1_0",
    "regnet_y_400mf",
    "convnext_tiny",
    "vgg16",
}


@pytest.fixture(scope="module", params=list(REGISTRY))
def scratch(request: pytest.FixtureRequest) -> tuple[ModelSpec, Network]:
    """An entry and its scratch twin: the architecture with random weights (seed 0)."""
    return REGISTRY[request.param], load_network(request.param, "scratch")


def test_the_registry_holds_every_architecture_asked_for_grouped_in_order() -> None:
    assert REGISTRY.keys() >= ASKED_FOR and next(iter(REGISTRY)) == "mobilenet_v2"
    groups = [spec.group for spec in REGISTRY.values()]
    assert sorted(groups, key=list(GROUPS).index) == groups  # each group in one run, in GROUPS order


@pytest.mark.parametrize("name", list(REGISTRY))
def test_probe_layers_are_graph_nodes_in_shallow_to_deep_order(name: str) -> None:
    nodes = get_graph_node_names(weightless(name).eval())[1]  # eval-mode node names, in execution order
    spec = REGISTRY[name]
    assert 4 <= len(spec.layers) <= 6 and set(spec.layers) <= set(nodes)
    positions = [nodes.index(layer) for layer in spec.layers]
    assert positions == sorted(positions)


def test_measured_strides_are_those_the_entry_claims_and_never_decrease(scratch: tuple[ModelSpec, Network]) -> None:
    spec, net = scratch
    heights = {n: {k: v.shape[-2] for k, v in net(torch.zeros(1, 3, n, n)).items()} for n in (224, 480)}
    strides = tuple(measure_stride(lambda n, layer=layer: heights[n][layer]) for layer in spec.layers)
    assert strides == spec.strides
    assert list(strides) == sorted(strides)


def test_one_forward_pass_at_224_px_gives_every_probe_layer_and_imagenet_logits(
    scratch: tuple[ModelSpec, Network],
) -> None:
    spec, net = scratch
    out = net(torch.rand(1, 3, 224, 224))  # (1, 3, 224, 224)
    assert list(out) == [*spec.layers, "logits"] and out["logits"].shape == (1, 1000)
    assert all(out[layer].ndim == 4 and torch.isfinite(out[layer]).all() for layer in spec.layers)
    assert len(net.categories) == 1000 and net.source == "random initialisation, seed 0"


@pytest.mark.parametrize("name", ["googlenet", "inception_v3"])
def test_google_networks_are_built_as_for_their_imagenet_weights(name: str) -> None:
    model = build(name)
    # transform_input: the first layer maps ImageNet-normalised input to Google's [-1, 1]; the auxiliary
    # heads are there, so torchvision's checkpoint (which holds them) loads strictly, but eval mode skips them
    assert model.transform_input and model.aux_logits
    nodes = get_graph_node_names(weightless(name).eval())[1]
    assert not any(node.startswith("aux") for node in nodes)


def test_densenet_loads_a_checkpoint_with_the_old_layer_names(tmp_path: Path) -> None:
    """torchvision's DenseNet checkpoint names a dense layer's parts "norm.1", "conv.2": the entry renames them."""
    state = build("densenet121", seed=3).state_dict()
    old_names = {key.replace("norm1", "norm.1").replace("conv2", "conv.2"): value for key, value in state.items()}
    assert "features.denseblock1.denselayer1.norm.1.weight" in old_names
    torch.save(old_names, weights_file(tmp_path, "densenet121"))
    net = load_network("densenet121", "pretrained", weights_folder=tmp_path, allow_download=False)
    twin = load_network("densenet121", "scratch", seed=3)  # the same weights, built directly
    images = torch.rand(1, 3, 96, 96)
    torch.testing.assert_close(net(images)["logits"], twin(images)["logits"])


def test_a_squeeze_and_excitation_network_has_local_receptive_fields() -> None:
    """MobileNetV3's gates average the whole map: held fixed, each layer's field is the patch its convolutions
    see, growing with depth, and the shared model keeps its own gates."""
    fields = imagenet_fields("mobilenet_v3_small")
    spec = REGISTRY["mobilenet_v3_small"]
    assert tuple(field.stride for field in fields.values()) == spec.strides
    sizes = [field.size for field in fields.values()]
    assert sizes == sorted(sizes) and sizes[0] == 3 and sizes[-1] < 1024
    net = load_network("mobilenet_v3_small", "scratch")
    assert not any(isinstance(module, HeldPool) for module in net.extractor.modules())


def test_the_catalog_keeps_the_groups_and_says_which_models_are_ready_offline(tmp_path: Path) -> None:
    weights_file(tmp_path, "convnext_tiny").write_bytes(b"")  # only its presence counts for the list
    families = catalog(tmp_path)
    assert families["convnext_tiny"].label == "ConvNeXt-Tiny · ready offline"
    assert families["vgg16"].label == "VGG-16 · needs internet"
    assert all(families[name].group == spec.group for name, spec in REGISTRY.items())


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AppTest:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))  # weights downloaded earlier never count
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def test_choosing_a_kind_lists_only_its_models_and_shows_the_first(app: AppTest) -> None:
    kinds = app.selectbox(key="model_kind")
    assert kinds.value == "" and kinds.options[0] == f"All kinds ({len(app.selectbox(key='model').options)})"
    sizes = {group: sum(spec.group == group for spec in REGISTRY.values()) for group in GROUPS}
    assert kinds.options[1:] == [*(f"{group} ({size})" for group, size in sizes.items()), "Small CNNs (shapes) (2)"]
    kinds.set_value(MODERN).run()
    assert not app.exception, app.exception
    modern = [spec.name for spec in REGISTRY.values() if spec.group == MODERN]
    assert app.selectbox(key="model").value == modern[0]
    assert app.selectbox(key="model").options == [f"{REGISTRY[name].label} · needs internet" for name in modern]
    app.session_state[CANVAS_KEY] = {"pos": {"x": 60, "y": 100, "seq": 1, "dragging": True}}  # a drag event
    app.run()
    assert not app.exception, app.exception


def test_a_model_chosen_elsewhere_brings_its_kind_along(app: AppTest) -> None:
    app.selectbox(key="model_kind").set_value(MODERN).run()
    app.selectbox(key="model").set_value("convnext_tiny").run()
    assert app.selectbox(key="model").value == "convnext_tiny"
    on_mobilenet = next(key for key, lesson in LESSONS.items() if lesson.view["model"] == "mobilenet_v2")
    app.selectbox(key="lesson").set_value(on_mobilenet).run()
    assert not app.exception, app.exception
    assert app.selectbox(key="model_kind").value == LIGHT and app.selectbox(key="model").value == "mobilenet_v2"


def test_fields_measured_on_a_strip_with_held_gates_equal_those_measured_on_the_whole_input() -> None:
    """Without squeeze-and-excitation, holding gates changes nothing, and rows are measured the same on a strip."""
    net = load_network("squeezenet1_1", "scratch")
    fields = imagenet_fields("squeezenet1_1")
    for layer, field in fields.items():
        assert measure_receptive_field(lambda images, layer=layer: net.extractor(images)[layer], field.stride) == field
