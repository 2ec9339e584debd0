"""Results the sidebar asks for (score maps, sweeps, consistency, layer profiles): each model's share is a
`Job`, computed once in the page's run (ui.runner) and kept in the session under the job's key; panels
only show the results that are ready."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from streamlit.delta_generator import DeltaGenerator

from ui.runner import Work, run_all
from ui.settings import Settings
from ui.state import RESULTS, RESULTS_COMPUTED, Key

T = TypeVar("T")
RESULTS_KEPT = 8  # per session: enough to flip between steps and models without recomputing


@dataclass(frozen=True)
class Job(Generic[T]):
    """One model's share of what the sidebar asked for: its key among the session's results, and the work."""

    key: tuple
    work: Work[T]


def request_in(key: Key[T | None], view: Settings) -> T | None:
    """What the sidebar asked for under `key`, if it was asked for this view (the settings without the layer):
    a request made for another view is not shown. Every request has a `view`."""
    request = key.get()
    return request if request is not None and request.view == view else None


def ready(job: Job[T]) -> T | None:
    """The job's result if it was computed in this session, else None."""
    return RESULTS.get().get(job.key)


def results_of(jobs: dict[str, Job[T]]) -> dict[str, T]:
    """The jobs' results that are ready, by variant: a panel shows what is computed, never computes itself."""
    return {variant: result for variant, job in jobs.items() if (result := ready(job)) is not None}


def compute_all(jobs: Sequence[Job], slot: DeltaGenerator, requests: Sequence[Key]) -> bool:
    """Compute those of `jobs` not ready yet, one after another under one progress bar and one Stop in `slot`,
    and keep their results (the last RESULTS_KEPT); Stop withdraws every request in `requests`, so that the
    stopped work does not start again. Whether anything was computed."""
    todo = [job for job in jobs if ready(job) is None]
    if not todo:
        return False

    def withdraw() -> None:
        for request in requests:
            request.set(None)

    results = RESULTS.get()
    for job, result in zip(todo, run_all([job.work for job in todo], slot, on_stop=withdraw), strict=True):
        results[job.key] = result
    for old in list(results)[:-RESULTS_KEPT]:
        del results[old]
    RESULTS_COMPUTED.set(RESULTS_COMPUTED.get() + 1)  # the results panel scrolls into view once for them
    return True
