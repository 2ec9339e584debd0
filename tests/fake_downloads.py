"""A fake internet for torch hub's downloads: tests of weights loading never touch the network."""

import io
import socket
from collections.abc import Callable
from email.message import Message
from http.client import IncompleteRead
from urllib.error import URLError

import pytest
import torch

CACHED = "squeezenet1_1"  # the smallest registry model (5 MB): the one the torch hub cache tests use


class FakeResponse(io.BytesIO):
    """What torch hub's urlopen gives back: a body, and headers without a length."""

    def info(self) -> Message:
        return Message()


def serve(monkeypatch: pytest.MonkeyPatch, respond: Callable[[], FakeResponse]) -> None:
    def urlopen(request: object) -> FakeResponse:
        return respond()

    monkeypatch.setattr(torch.hub, "urlopen", urlopen)


def offline() -> FakeResponse:
    raise URLError("no internet")


def no_name_service() -> FakeResponse:
    """What urlopen raises on a machine with no network at all (issue 12): the download server's
    name cannot be looked up. str() of it is "<urlopen error [Errno -2] Name or service not known>"."""
    raise URLError(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))


class CutShort(FakeResponse):
    def read(self, size: int = -1) -> bytes:
        raise IncompleteRead(b"half a checkpoint")
