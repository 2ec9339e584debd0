"""Weights of your own: a state_dict for a registry architecture with any number of classes, read safely,
checked strictly, refused in plain words; shown as "Your model" in the app, from an upload or the weights folder,
and measured by the report."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import torch
from torchvision.models import get_model, get_model_weights

from models import REGISTRY
from models.families import SESSION_ONLY, YOURS
from models.own_model import (
    OwnModelError,
    head_keys,
    layer_shapes,
    likeliest,
    own_network,
    read_own_weights,
    training_only,
    untrained_network,
)
from scripts.report import main

from .plain_words import technical_text
from .test_app import APP, start_app


def saved(state: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def fine_tuned(name: str, classes: int, seed: int = 1, **options: object) -> torch.nn.Module:
    """A stand-in for a model fine-tuned to `classes` classes: torchvision's architecture, seeded random weights."""
    torch.manual_seed(seed)
    return get_model(name, num_classes=classes, **(dict(REGISTRY[name].options) | options)).eval()


# Known answers: the heads, the layers the eval-mode network never uses, and each architecture found from its shapes.


@pytest.mark.parametrize("name", list(REGISTRY))
def test_each_architecture_is_found_from_its_own_layers_with_any_head(name):
    spec, fit = likeliest(layer_shapes(name, 5))
    assert (spec.name, fit) == (name, 1.0)
    assert head_keys(name) and all(layer_shapes(name, 5)[key][0] == 5 for key in head_keys(name))


def test_only_googlenet_and_inception_have_layers_the_eval_network_never_uses_their_auxiliary_heads():
    unused = {name: {key.split(".")[0] for key in training_only(name)} for name in REGISTRY}
    assert {name: prefixes for name, prefixes in unused.items() if prefixes} == {
        "googlenet": {"aux1", "aux2"},
        "inception_v3": {"AuxLogits"},
    }


def test_weights_with_three_classes_and_labels_give_the_models_own_logits_under_those_names():
    model = fine_tuned("resnet18", 3)
    own = read_own_weights(saved(model.state_dict()), b"daisy\nrose\r\ntulip\n\n")
    assert (own.architecture, own.categories, own.labelled) == ("resnet18", ("daisy", "rose", "tulip"), True)
    net = own_network(own, "Your model", "a test")
    images = torch.rand(2, 3, 96, 96)
    preprocess = get_model_weights("resnet18").DEFAULT.transforms()
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (preprocess.mean, preprocess.std))
    with torch.no_grad():
        expected = model((images - mean) / std)  # (2, 3)
    assert torch.allclose(net(images)["logits"], expected, atol=1e-4)
    assert (
        net.categories
        == untrained_network(own.architecture, own.categories, "The same, untrained").categories
        == own.categories
    )


def test_a_trainers_checkpoint_dataparallel_names_and_no_auxiliary_heads_are_accepted():
    """GoogLeNet fine-tuned as torchvision builds it with its ImageNet weights (no auxiliary heads), saved inside
    a checkpoint by a DataParallel model: found, four classes, named class 0-3."""
    model = fine_tuned("googlenet", 4, aux_logits=False)
    checkpoint = {"epoch": 3, "state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}}
    own = read_own_weights(saved(checkpoint))
    assert (own.architecture, own.categories) == ("googlenet", ("class 0", "class 1", "class 2", "class 3"))
    images = torch.rand(1, 3, 96, 96)
    assert own_network(own, "Yours", "a test")(images)["logits"].shape == (1, 4)


def test_a_convolution_head_is_read_too():  # SqueezeNet's classifier is a 1 x 1 convolution
    assert read_own_weights(saved(fine_tuned("squeezenet1_1", 7).state_dict())).classes == 7


class Payload:
    """Unpickling this would create a file: a weights file must never run code."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def refusals(tmp_path: Path) -> dict[str, tuple[bytes, bytes | None, str | None, list[str]]]:
    """name -> (weights file, labels file, architecture chosen, what the message must say)."""
    resnet18 = saved(fine_tuned("resnet18", 5).state_dict())
    resnet34 = saved(get_model("resnet34").state_dict())  # not an architecture of the registry
    return {
        "labels that do not match the head": (resnet18, b"a\nb\n", None, ["names 2 classes", "has 5 outputs"]),
        "an empty label": (resnet18, b"a\n\nb\nc\nd\ne\n", None, ["Line 2", "empty"]),
        "labels that are not text": (resnet18, b"\xff\xfe\x00a", None, ["not text in UTF-8"]),
        "the wrong architecture chosen": (
            resnet18,
            None,
            "resnet50",
            ["does not fit ResNet-50", "layers missing", "layer1.0.conv1.weight: 64 × 64 × 3 × 3", "ResNet-18 (100%"],
        ),
        "an architecture that is not here": (resnet34, None, None, ["closest to ResNet-50", "does not fit it"]),
        "a head missing": (
            saved({k: v for k, v in fine_tuned("alexnet", 3).state_dict().items() if "6" not in k}),
            None,
            None,
            ["no head for AlexNet", "classifier.6.weight"],
        ),
        "not weights at all": (b"PK\x03\x04 this is no zip", None, None, ["could not be read as weights"]),
        "a whole pickled model": (saved(fine_tuned("resnet18", 2)), None, None, ["more than weights"]),
        "code in the file": (saved({"fc.weight": Payload(tmp_path / "ran")}), None, None, ["more than weights"]),
        "a mapping of other things": (saved({"lr": 0.1}), None, None, ["holds no state_dict"]),
    }


@pytest.mark.parametrize("case", list(refusals(Path("."))))
def test_every_file_that_does_not_fit_is_refused_in_plain_words_saying_what_and_nothing_runs(case, tmp_path):
    weights, labels, architecture, words = refusals(tmp_path)[case]
    with pytest.raises(OwnModelError) as refused:
        read_own_weights(weights, labels, architecture)
    message = str(refused.value)
    assert all(word in message for word in words), message
    assert not technical_text(message) and not (tmp_path / "ran").exists()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(monkeypatch):
    monkeypatch.setattr("models.own_model.MAX_WEIGHTS_BYTES", 1000)
    monkeypatch.setattr("torch.load", lambda *args, **kwargs: pytest.fail("read although too large"))
    with pytest.raises(OwnModelError, match="at most 0 MB"):
        read_own_weights(b"x" * 1001)


# The app: an upload, a refusal that keeps the model, a link, and the weights folder.


def upload(at, weights: bytes, labels: bytes | None = None, name: str = "flowers.pth"):
    if labels is not None:
        at.file_uploader(key="own_labels_upload").set_value(("flowers.txt", labels, "text/plain")).run()
    return at.file_uploader(key="own_weights_upload").set_value((name, weights, "application/octet-stream")).run()


def bars(at) -> str:
    return " ".join(str(element.proto) for element in at.get("html"))


def test_uploaded_weights_are_your_model_beside_its_untrained_twin_with_every_panel_and_a_bad_file_keeps_it(
    monkeypatch, tmp_path
):
    at = start_app(monkeypatch, tmp_path)
    upload(at, saved(fine_tuned("mobilenet_v3_small", 3).state_dict()), b"daisy\nrose\ntulip\n")
    assert not at.exception, at.exception
    assert at.selectbox(key="model").value == YOURS
    assert [s.value for s in at.subheader][1:] == ["Your model", "The same, untrained"]
    assert all(name in bars(at) for name in ("daisy", "rose", "tulip"))
    at.selectbox(key="score_map_step").set_value(32).run()
    buttons = (
        "compute_score_maps",
        "compute_sweep",
        "compute_consistency",
        "compute_profiles",
        "compute_position_readout",
    )
    for button in buttons:
        at.button(key=button).click().run()
        assert not at.exception and not at.error, (button, at.exception, [e.value for e in at.error])
    assert len({key[0] for key in at.session_state["score_maps"]}) == len(buttons)  # by (kind, models, request)
    assert "yours" in str(list(at.session_state["score_maps"]))
    assert at.query_params["model"] == YOURS
    at.selectbox(key="own_architecture").set_value("mobilenet_v3_small").run()
    upload(at, saved(fine_tuned("resnet18", 3).state_dict()), name="other.pth")  # a ResNet, with MobileNetV3 chosen
    (error,) = [e.value for e in at.error]
    assert "“other.pth” was not used" in error and "no head for MobileNetV3 Small" in error
    assert "most likely belongs to ResNet-18 (100%" in error
    assert at.selectbox(key="model").value == YOURS and at.session_state["own_model"].file_name == "flowers.pth"
    linked = type(at).from_file(APP, default_timeout=120)
    linked.query_params["model"] = YOURS
    linked.run()
    assert [i.value for i in linked.info if i.value == SESSION_ONLY[YOURS]]
    assert linked.selectbox(key="model").value == "mobilenet_v2"


def test_weights_in_the_folder_are_listed_for_everyone_and_a_damaged_one_says_why(monkeypatch, tmp_path):
    folder = tmp_path / "yours" / "squeezenet1_1"
    folder.mkdir(parents=True)
    (folder / "shapes.pth").write_bytes(saved(fine_tuned("squeezenet1_1", 2).state_dict()))
    (folder / "shapes.txt").write_text("circle\nsquare\n")
    (folder / "broken.pth").write_bytes(b"not a weights file")
    at = start_app(monkeypatch, tmp_path)
    options = at.selectbox(key="model").options
    assert "shapes · SqueezeNet 1.1" in options and "broken · SqueezeNet 1.1" in options
    at.selectbox(key="model").set_value("yours/squeezenet1_1/shapes").run()
    assert not at.exception and "circle" in bars(at) and "square" in bars(at)
    assert at.query_params["model"] == "yours/squeezenet1_1/shapes"  # a link can open it: every session has it
    at.selectbox(key="model").set_value("yours/squeezenet1_1/broken").run()
    assert any(
        "broken.pth in the weights folder could not be read" in w.value or "could not be read as weights" in w.value
        for w in at.warning
    ), [w.value for w in at.warning]


def test_the_report_measures_your_weights_with_your_class_names_on_a_picture_file(tmp_path, capsys):
    weights, labels = tmp_path / "mine.pth", tmp_path / "mine.txt"
    weights.write_bytes(saved(fine_tuned("mobilenet_v3_small", 3).state_dict()))
    labels.write_text("daisy\nrose\ntulip\n")
    picture = Path(__file__).parents[1] / "assets" / "objects" / "coffee.png"
    args = ["--weights", str(weights), "--labels", str(labels), "--object", str(picture), "--out", str(tmp_path / "r")]
    main([*args, "--only", "measurements", "sweep"])
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert set(summary["tracked_class"]) == {"Your model", "The same, untrained"}
    assert set(summary["tracked_class"].values()) <= {"daisy", "rose", "tulip"}
    assert summary["object"] == "coffee.png" and set(summary["flip_rate"]) == set(summary["tracked_class"])
    (tmp_path / "bad.pth").write_bytes(b"nothing")
    with pytest.raises(SystemExit):
        main(["--weights", str(tmp_path / "bad.pth"), "--out", str(tmp_path / "r")])
    assert "could not be read as weights" in capsys.readouterr().err
