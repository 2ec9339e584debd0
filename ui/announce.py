"""What a screen reader says after an update: one sentence of what changed, in a polite live region that the
browser updates at most every THROTTLE_MS, so that a drag of ten updates a second is not read out ten times (the
last sentence of a drag is always read)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from locales import _

THROTTLE_MS = 2000

# The region stays one element for the whole page (screen readers follow a live region only once it exists), off
# screen but read; its text is replaced at most every THROTTLE_MS, the newest text last.
_JS = """
const regions = new WeakMap();
export default function ({ data, parentElement }) {
  let r = regions.get(parentElement);
  if (!r) {
    r = { node: parentElement.querySelector("[aria-live]"), shownAt: 0, timer: null, text: "" };
    regions.set(parentElement, r);
  }
  const say = (text) => {
    r.text = text;
    const show = () => { r.timer = null; r.shownAt = performance.now(); r.node.textContent = r.text; };
    const wait = data.throttle_ms - (performance.now() - r.shownAt);
    if (r.node.textContent === r.text) return;
    if (wait <= 0) show();
    else if (r.timer === null) r.timer = setTimeout(show, wait);
  };
  globalThis.shiftLabAnnounce = say;  // for the drag canvas, which shows a drag's updates itself
  say(data.text);
}
"""
_CSS = """
.announce { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
"""
_region = st.components.v2.component(
    "shiftlab.announce",
    html='<div class="announce" role="status" aria-live="polite" aria-atomic="true"></div>',
    js=_JS,
    css=_CSS,
)


@dataclass(frozen=True)
class ModelChange:
    """What one model made of the move, for the sentence."""

    title: str  # the column's title, in the page's language
    shift: tuple[float, float] | None  # the chosen layer's maps moved (cells), where measured
    tracked: str  # the class it ranked first at the reference
    before: float  # its probability there
    now: float  # and here
    top: str  # the class it ranks first here
    top_p: float


def moved_words(dx: int, dy: int) -> str:
    """How far the object is from the reference, in words: "8 px right and 3 px up"."""
    across = _("{n} px right").format(n=dx) if dx > 0 else _("{n} px left").format(n=-dx) if dx < 0 else ""
    down = _("{n} px down").format(n=dy) if dy > 0 else _("{n} px up").format(n=-dy) if dy < 0 else ""
    if across and down:
        return _("{across} and {down}").format(across=across, down=down)
    return across or down


def model_words(change: ModelChange, layer: str) -> str:
    """One model's part: where the layer's maps went and how its first class fared."""
    before, now = f"{change.before:.1%}", f"{change.now:.1%}"
    if change.top == change.tracked:
        scores = _("top class still {name}, {before} → {now}").format(name=change.tracked, before=before, now=now)
    else:
        scores = _("top class now {top} ({top_p}); {name} {before} → {now}").format(
            top=change.top, top_p=f"{change.top_p:.1%}", name=change.tracked, before=before, now=now
        )
    if change.shift is None:
        return _("{model}: {scores}").format(model=change.title, scores=scores)
    return _("{model}: {layer} moved ({dx}, {dy}) cells; {scores}").format(
        model=change.title, layer=layer, dx=f"{change.shift[0]:+.1f}", dy=f"{change.shift[1]:+.1f}", scores=scores
    )


def sentence(object_name: str, moved: tuple[int, int], layer: str, changes: list[ModelChange]) -> str:
    """The whole update in one sentence (the models' parts joined by semicolons)."""
    where = moved_words(*moved)
    start = (
        _("The {object} is {moved} from the reference.").format(object=object_name, moved=where)
        if where
        else _("The {object} is at the reference position.").format(object=object_name)
    )
    return " ".join([start, *(model_words(change, layer) + "." for change in changes)])


def announce(text: str) -> None:
    """Put `text` in the page's live region (throttled in the browser)."""
    _region(key="announce", data={"text": text, "throttle_ms": THROTTLE_MS})
