"""In-transaction subscribers (`events.subscribe`): they run inside the append, so what they
record commits or rolls back with the change the event reports; and every module that appends
a subscribed topic registers the subscribers just by being imported (no runner has to load
them first, as handlers must be for timers)."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

import xinren
from xinren.events import service as events
from xinren.events.tables import outbox

SRC = Path(xinren.__file__).parent
PING, PONG, BOOM = "test.ping", "test.pong", "test.boom"


@pytest.fixture
def subscribed() -> Iterator[list[tuple[str, str, dict[str, object]]]]:
    seen: list[tuple[str, str, dict[str, object]]] = []

    @events.subscribe(PING)
    def pinged(session, clock, topic, subject, payload):  # records in the same transaction
        seen.append((topic, subject, payload))
        events.append(session, clock, PONG, subject, {"for": payload["n"]})

    @events.subscribe(BOOM)
    def refuses(session, clock, topic, subject, payload):
        raise RuntimeError("a subscriber that raises fails the append")

    yield seen
    for topic in (PING, BOOM):
        events._SUBSCRIBERS.pop(topic, None)


def _count(session, topic):
    return session.execute(
        select(func.count()).select_from(outbox).where(outbox.c.topic == topic)
    ).scalar_one()


def test_a_subscriber_runs_in_the_append_and_rolls_back_with_it(session, clock, subscribed):
    events.append(session, clock, PING, "order:1", {"n": 1})
    assert subscribed == [(PING, "order:1", {"n": 1})]
    assert _count(session, PONG) == 1
    with pytest.raises(LookupError), session.begin_nested():
        events.append(session, clock, PING, "order:2", {"n": 2})
        raise LookupError("the change fails after its event: the subscriber's record goes too")
    assert _count(session, PING) == _count(session, PONG) == 1
    with pytest.raises(RuntimeError), session.begin_nested():
        events.append(session, clock, BOOM, "order:3", {})
    assert _count(session, BOOM) == 0
    events.append(session, clock, "test.unheard", "order:4", {})  # no subscriber: just written
    assert _count(session, "test.unheard") == 1


def _noted(session, clock, topic, subject, payload):
    """A subscriber that does nothing: the test is about how often it is registered."""


def test_subscribing_again_replaces_the_function(subscribed):
    """A module imported twice (or reloaded) does not run its subscriber twice."""
    events.subscribe(PING)(_noted)
    events.subscribe(PING)(_noted)
    assert events.subscribers(PING)[-1:] == [f"{__name__}._noted"]
    assert len(events.subscribers(PING)) == 2  # the fixture's, and this one once


def _python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


#: Not searched for subscribers: the adapters (nothing below may depend on them) and migrations.
NOT_SUBSCRIBERS = ("xinren.migrations", "xinren.api", "xinren.cli", "xinren.demo")


def _all_subscribers() -> dict[str, list[str]]:
    """Every subscription in xinren's contexts, once all their modules are imported."""
    for m in pkgutil.walk_packages(xinren.__path__, "xinren."):
        if not m.name.startswith(NOT_SUBSCRIBERS):
            importlib.import_module(m.name)
    return {t: events.subscribers(t) for t in list(events._SUBSCRIBERS)}


def _appended_topics(path: Path) -> set[str]:
    """The topics a module appends by name: `events.append(session, clock, "topic", ...)`."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append"
            and len(node.args) >= 3
            and isinstance(node.args[2], ast.Constant)
            and isinstance(node.args[2].value, str)
        ):
            found.add(node.args[2].value)
    return found


@pytest.mark.slow  # a fresh interpreter per appending module
def test_every_module_appending_a_subscribed_topic_registers_its_subscribers():
    """Importing the module that appends a topic is enough for its subscribers to run: the
    appending module imports the subscribing one (e.g. the cases' modules that file and decide
    complaints import `xinren.detect.buyers`, whose abuse record those events keep)."""
    wanted = _all_subscribers()
    assert {"case.opened", "case.decided", "notice.decided", "reporter.warned"} <= set(wanted)
    appenders: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        topics = _appended_topics(path) & set(wanted)
        if topics and "migrations" not in path.parts:
            module = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
            appenders[module.removesuffix(".__init__")] = topics
    appended = set().union(*appenders.values())
    assert {"case.opened", "case.decided", "notice.decided", "reporter.warned"} <= appended
    for module, topics in sorted(appenders.items()):
        got = json.loads(
            _python(
                f"import json, {module}\nfrom xinren.events import service\n"
                f"print(json.dumps({{t: service.subscribers(t) for t in {sorted(topics)!r}}}))"
            )
        )
        for topic in topics:
            missing = set(wanted[topic]) - set(got[topic])
            assert not missing, f"{module} appends {topic!r}; importing it alone misses {missing}"
