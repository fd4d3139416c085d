"""The window and the engine speak only gui.protocol's messages: every request has exactly one
engine handler, every reply one signal, and anything else is refused where it is sent."""

from __future__ import annotations

import dataclasses
import queue
import threading

import pytest
from gui import protocol


def test_every_request_has_one_handler_and_a_channel():
    from gui.engine_loop import HANDLERS

    assert set(HANDLERS) == set(protocol.REQUESTS)
    assert set(protocol.REQUESTS.values()) <= set(protocol.CHANNELS)


def test_every_message_is_a_frozen_dataclass():
    for kind in (*protocol.REQUESTS, *protocol.REPLIES):
        assert dataclasses.is_dataclass(kind) and kind.__dataclass_params__.frozen, kind.__name__


def test_an_unknown_request_is_refused_when_sent(qtbot):
    from gui.worker import EngineClient

    client = EngineClient(use_process=False)
    with pytest.raises(TypeError, match="not an engine request"):
        client.submit(("explain", "a.png"))  # the old (name, args) form
    assert client.inbox.empty()
    generation = client.submit(protocol.OpenModel("m.keras"))
    assert client.inbox.get_nowait().generation == generation == client.latest["model"]


def test_each_reply_reaches_only_its_own_subscribers(qtbot):
    from gui.worker import EngineSignals

    signals = EngineSignals()
    got: list = []
    signals.on(protocol.JobFailed, got.append)
    signals.on(protocol.JobFinished, lambda reply: got.append(("finished", reply.generation)))
    signals.relay(protocol.JobCancelled("explain", 3))
    signals.relay(protocol.JobFailed("explain", "no such layer"))
    signals.relay(protocol.JobFinished("explain", 4))
    assert got == [protocol.JobFailed("explain", "no such layer"), ("finished", 4)]


def test_the_loop_replies_with_protocol_messages():
    """A request before any model: the loop says why, in a JobFailed, between JobStarted and JobFinished."""
    from gui.engine_loop import EngineLoop, Envelope

    replies: list = []
    latest = dict.fromkeys(protocol.CHANNELS, 0)
    latest["explain"] = 1
    loop = EngineLoop(queue.Queue(), replies.append, latest, threading.Event())
    loop.handle(Envelope("explain", 1, protocol.Explain("a.png", "gradcam", None, None)))
    assert replies == [protocol.JobStarted("explain", 1), protocol.JobFailed("explain", "no model is loaded yet"),
                       protocol.JobFinished("explain", 1)]
    assert all(type(reply) in protocol.REPLIES for reply in replies)
