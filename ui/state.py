"""Every key the app keeps in st.session_state, declared once here with its type and default.

Per-session state lives only in st.session_state, so sessions never share it. Other modules read and
write it through these keys (`PATH.get()`, `PATH.set([])`) and name their widgets by them
(`key=MODEL.name`): this module is the whole list. `init_state` gives every key its default once per
session. Buttons are left out: they hold nothing between runs, so their keys only tell them apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from hmac import compare_digest
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import streamlit as st
import torch
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from locales import ENGLISH
from models.lab_experiments import LAB_DEFAULTS, POOLING_SEEDS
from probes import class_probability
from scene import BACKGROUNDS, CANVAS_SIZES, OBJECTS, clamp_position
from store import new_token

if TYPE_CHECKING:  # types of stored values only: these modules import this one
    from streamlit.runtime.uploaded_file_manager import UploadedFile

    from models.families import LabModel, OwnModel
    from ui.lab_view import PoolingRun
    from ui.live_update import LiveScene
    from ui.measurements import Measurements
    from ui.position_view import ReadoutRequest
    from ui.profile_view import ProfileRequest
    from ui.score_map_view import ConsistencyRequest, ScoreMapRequest, SweepRequest
    from ui.settings import Settings

T = TypeVar("T")
_NO_DEFAULT: Callable[[], Any] = lambda: None  # noqa: E731 -- the value a widget-only key reads before its widget
KEYS: dict[str, Key] = {}


@dataclass(frozen=True)
class Key(Generic[T]):
    """One session-state entry: its name, and a function that makes its default (a new value per session).
    widget_only: set by its widget alone (an uploader, the drag canvas); Streamlit refuses other writes, so
    init_state leaves it unset."""

    name: str
    default: Callable[[], T] = _NO_DEFAULT
    widget_only: bool = False

    def __post_init__(self) -> None:
        KEYS[self.name] = self

    def get(self) -> T:
        """The value, or the default where there is none yet: Streamlit drops a widget's key in a run that does
        not draw the widget (a canvas choice, say, while a small CNN with one canvas is shown)."""
        return st.session_state[self.name] if self.name in st.session_state else self.default()

    def set(self, value: T) -> None:
        st.session_state[self.name] = value


def layer_key(family: str) -> str:
    """The session key of the layer chosen for one family: each family remembers its own."""
    return f"layer_{family}"


def get_layer(family: str) -> str | None:
    return st.session_state.get(layer_key(family))


def set_layer(family: str, layer: str) -> None:
    st.session_state[layer_key(family)] = layer


def vote_key(lesson: str) -> str:
    """The session key of this student's answer to a lesson's class question (the index of a choice, or None)."""
    return f"vote_{lesson}"


def vote_known(lesson: str) -> bool:
    """Whether this session has its answer to the lesson's question yet (None, no answer, counts as known)."""
    return vote_key(lesson) in st.session_state


def vote_of(lesson: str) -> int | None:
    return st.session_state.get(vote_key(lesson))


def set_vote(lesson: str, answer: int | None) -> None:
    st.session_state[vote_key(lesson)] = answer


# The drag view: where the object is, and what the browser last sent.
CANVAS_KEY = "drag_canvas"
BROWSER: Key[dict | None] = Key(CANVAS_KEY, widget_only=True)  # the drag canvas's {"pos": {x, y, seq, dragging}}
ACK: Key[int] = Key("ack", int)  # the sequence number of the last browser position used
X: Key[int] = Key("x", lambda: CANVAS_SIZES[0] // 2)  # the object's centre (also the number inputs)
Y: Key[int] = Key("y", lambda: CANVAS_SIZES[0] // 2)
POSITION_CANVAS: Key[int | None] = Key("position_canvas")  # the canvas size x and y were set for
PAGE_RUN: Key[bool] = Key("page_run", bool)  # set by a run of the whole page, taken by the live view in it
# What a drag update outside a script run works from (ui.drag_route), and the secret the page asks it with.
LIVE_SCENE: Key[LiveScene | None] = Key("live_scene")  # as of the live view's last run
DRAG_TOKEN: Key[str] = Key("drag_token", new_token)

# The path dragged since the reference position, and what was measured along it.
PATH: Key[list[dict]] = Key("path", list)  # [{"x", "y", variant: probability of its tracked class}]
TRACKED: Key[dict[str, int]] = Key("tracked", dict)  # variant -> the class its path follows
PATH_SCENE: Key[Settings | None] = Key("path_scene")  # the settings (without the layer) the path belongs to
MEASURED: Key[list[Measurements]] = Key("measured", list)  # since the reference, oldest first
LIVE: Key[bool] = Key("live_measurements", bool)  # toggle: measure the chosen layer during a drag too

# The sidebar's choices (widgets).
LARGE_TEXT: Key[bool] = Key("large_text", bool)
LANG: Key[str] = Key("lang", lambda: ENGLISH)  # the page's language (a code of locales.LANGUAGES)
PRESENT: Key[bool] = Key("present", bool)  # presentation mode (ui.presentation)
PAGE_LINK_READ: Key[bool] = Key("page_link_read", bool)  # the link's language and text size were adopted
LESSON: Key[str] = Key("lesson", lambda: "free")
NOTICE: Key[bool] = Key("lesson_notice", bool)  # the lesson's *What to notice* is open
LINK_OPENED: Key[bool] = Key("link_opened", bool)  # the session's link was read
MODEL: Key[str | None] = Key("model")  # a family's name; None: the catalog's first
MODEL_KIND: Key[str] = Key("model_kind", str)  # the part of the Architecture list shown (a Family.group); "": all
OBJECT: Key[str] = Key("object", lambda: OBJECTS[0])  # the photo object (a library name or an upload's)
SHAPE: Key[str | None] = Key("shape")  # the drawn shape in front of the small CNNs; None: the first
BACKGROUND: Key[str] = Key("background", lambda: BACKGROUNDS[0])
CANVAS: Key[int] = Key("canvas", lambda: CANVAS_SIZES[0])
OBJECT_SIZE: Key[int] = Key("object_size", lambda: 96)
UPLOADS: Key[dict[str, tuple[str, bytes]]] = Key("uploads", dict)  # object name -> (file name, PNG), oldest first
OBJECT_UPLOAD: Key[UploadedFile | None] = Key("object_upload", widget_only=True)
OBJECT_UPLOAD_ERROR: Key[str | None] = Key("object_upload_error")  # why the last upload was refused
LINK_NOTICE: Key[str | None] = Key("link_notice")  # what the session's link named that could not be shown

# Weights of your own, uploaded in the sidebar.
OWN_MODEL: Key[OwnModel | None] = Key("own_model")
OWN_ARCHITECTURE: Key[str] = Key("own_architecture", str)  # a registry name; "": found from the file
OWN_WEIGHTS_UPLOAD: Key[UploadedFile | None] = Key("own_weights_upload", widget_only=True)
OWN_LABELS_UPLOAD: Key[UploadedFile | None] = Key("own_labels_upload", widget_only=True)
OWN_ERROR: Key[str | None] = Key("own_error")  # why the last files were not used

# Results asked for in the sidebar, computed outside the live view.
SCORE_MAP_STEP: Key[int | None] = Key("score_map_step")
SCORE_MAP_CANVAS: Key[int | None] = Key("score_map_canvas")  # the canvas the step was chosen for
SCORE_MAP_REQUEST: Key[ScoreMapRequest | None] = Key("score_map_request")
SWEEP_REQUEST: Key[SweepRequest | None] = Key("sweep_request")
CONSISTENCY_REQUEST: Key[ConsistencyRequest | None] = Key("consistency_request")
PROFILE_REQUEST: Key[ProfileRequest | None] = Key("profile_request")
READOUT_REQUEST: Key[ReadoutRequest | None] = Key("readout_request")
RESULTS: Key[dict[tuple, object]] = Key("score_maps", dict)  # computed results by their inputs, newest last
RESULTS_COMPUTED: Key[int] = Key("results_computed", int)  # how many times new ones arrived: the scroll token

# A class together (ui.classroom_view, ui.teacher_view).
CLASS_CODE: Key[str | None] = Key("class_code")  # the class this student joined
CLASS_CODE_INPUT: Key[str] = Key("class_code_input", str)
CLASS_ERROR: Key[str | None] = Key("class_error")  # why the last code or answer was not taken
CLASS_WRONG_CODES: Key[list[float]] = Key("class_wrong_codes", list)  # when wrong codes were typed (monotonic s)
STUDENT_TOKEN: Key[str] = Key("student_token", new_token)  # who answers, and whose work is saved (ui.saved_work)
TEACHER: Key[bool] = Key("teacher", bool)  # this session gave the teacher secret
TEACHER_SECRET_INPUT: Key[str] = Key("teacher_secret_input", str)
TEACHER_CLASS: Key[str | None] = Key("teacher_class")  # the class this teacher started
TEACHER_LESSON: Key[str | None] = Key("teacher_lesson")  # the lesson whose answers the teacher shows

# What the store keeps of this student's work (ui.saved_work).
STUDENT_OPENED: Key[bool] = Key("student_opened", bool)  # the browser's token was read, and its work restored
SAVED_VIEW: Key[dict[str, str]] = Key("saved_view", dict)  # the view restored, opened when the URL names none
SAVED: Key[dict[str, object]] = Key("saved", dict)  # what the store holds: piece name -> what it was made from
SAVING: Key[bool] = Key("saving", lambda: True)  # False once the store has no such student (cleared) or no store
SAVE_NOTICE: Key[str | None] = Key("save_notice")  # why something was not saved or restored

# The CNN lab.
LAB_MODEL: Key[LabModel | None] = Key("lab_model")  # the session's trained or loaded model
LAB_EXPERIMENT: Key[dict] = Key("lab_experiment", dict)  # the presets as trained in this session, by name
LAB_POOLING: Key[PoolingRun | None] = Key("lab_pooling")  # the pooling comparison trained in this session
LAB_POOLING_SEED: Key[int] = Key("lab_pooling_seed", lambda: POOLING_SEEDS[0])
LAB_UPLOAD: Key[UploadedFile | None] = Key("lab_upload", widget_only=True)
LAB_UPLOAD_ERROR: Key[str | None] = Key("lab_upload_error")
_lab = LAB_DEFAULTS
LAB_DEPTH: Key[int] = Key("lab_depth", lambda: _lab.config.depth)
LAB_WIDTH: Key[int] = Key("lab_width", lambda: _lab.config.width)
LAB_DOWNSAMPLE: Key[str] = Key("lab_downsample", lambda: _lab.config.downsample)
LAB_BLUR: Key[int] = Key("lab_blur", lambda: _lab.config.blur_size)
LAB_PADDING: Key[str] = Key("lab_padding", lambda: _lab.config.padding)
LAB_HEAD: Key[str] = Key("lab_head", lambda: _lab.config.head)
LAB_CANVAS: Key[int] = Key("lab_canvas", lambda: _lab.config.canvas)
LAB_REGION: Key[str] = Key("lab_region", lambda: _lab.region)
LAB_PER_CLASS: Key[int] = Key("lab_per_class", lambda: _lab.per_class)
LAB_EPOCHS: Key[int] = Key("lab_epochs", lambda: _lab.epochs)
LAB_SEED: Key[int] = Key("lab_seed", lambda: _lab.seed)


def init_state() -> None:
    """Give every key its default, once per session (a key that holds a value keeps it)."""
    for key in KEYS.values():
        if not key.widget_only and key.name not in st.session_state:
            st.session_state[key.name] = key.default()


def keep_choices() -> None:
    """Re-state every choice (a callback of the language chooser). Streamlit knows a selectbox's or radio's choice
    by the name it shows; in a new language the names change, and the browser's old name would match no option.
    A value set here wins over the browser's, so each choice keeps its value whatever it is called."""
    for name in list(st.session_state):
        key = KEYS.get(name)
        if (key is not None and not key.widget_only) or name.startswith((layer_key(""), vote_key(""))):
            st.session_state[name] = st.session_state[name]


def start_on_canvas(canvas: int) -> None:
    """A new canvas size starts with the object at its centre."""
    if POSITION_CANVAS.get() != canvas:
        POSITION_CANVAS.set(canvas)
        X.set(canvas // 2)
        Y.set(canvas // 2)


def take_browser_position(canvas: int) -> tuple[int, int, bool]:
    """Adopt the newest position the drag canvas sent, clamped to the canvas; return (x, y, whether
    the mouse button is still down).

    Sent positions carry a sequence number; one already used (same seq as `ack`) is ignored, so
    coordinates typed in afterwards are not overwritten by an old drag.
    """
    pos = (BROWSER.get() or {}).get("pos")
    if pos and pos["seq"] != ACK.get():
        X.set(pos["x"])
        Y.set(pos["y"])
        ACK.set(pos["seq"])
    x, y = clamp_position(X.get(), Y.get(), canvas)
    X.set(x)
    Y.set(y)
    return x, y, bool(pos and pos["dragging"])


def drag_route_key() -> dict[str, str]:
    """What the page sends with each drag update: this session's id and its drag token."""
    return {"session": get_script_run_ctx().session_id, "token": DRAG_TOKEN.get()}


def live_scene_of(session: str, token: str) -> LiveScene | None:
    """The LiveScene of session `session`, if it is still connected and `token` is its drag token; from any thread
    (ui.drag_route's, outside a script run)."""
    app_session = Runtime.instance().get_app_session(session) if Runtime.exists() else None
    if app_session is None:
        return None
    state = app_session.session_state  # Streamlit's SessionState: `in` and [] but no get()
    if DRAG_TOKEN.name not in state or LIVE_SCENE.name not in state:
        return None
    return state[LIVE_SCENE.name] if compare_digest(state[DRAG_TOKEN.name].encode(), token.encode()) else None


def reset_path() -> None:
    """Start a new path at the next position: it becomes the measurements' reference."""
    PATH.set([])
    TRACKED.set({})
    MEASURED.set([])


MAX_PATH_POINTS = 2000


def path_for(settings: Settings) -> list[dict]:
    """The session's path, new for a new scene (changing only the layer keeps it)."""
    if PATH_SCENE.get() != settings.without_layer:
        PATH_SCENE.set(settings.without_layer)
        reset_path()
    return PATH.get()


def record_path(path: list[dict], tracked: dict[str, int], x: int, y: int, logits: dict[str, torch.Tensor]) -> None:
    """Add the position to `path` (in place), with each model's probability for its tracked class.

    Each model tracks the class it ranked first where the path began (kept in `tracked`).
    """
    for variant, variant_logits in logits.items():
        tracked.setdefault(variant, int(variant_logits.argmax()))
    if path and (path[-1]["x"], path[-1]["y"]) == (x, y):
        return
    path.append({"x": x, "y": y} | {v: class_probability(lg, tracked[v]) for v, lg in logits.items()})
    del path[:-MAX_PATH_POINTS]
