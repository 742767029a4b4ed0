"""The explore page in headless Chromium (Debian's chromium, no downloads), served by the
real server process: what a student sees, what an edit changes, how stepping walks.

Set EXPLORE_SCREENSHOTS=<folder> to keep the screenshots (docs/images/ holds them).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from batch_chromium import Chromium, chromium_binary
from explore_server import ExploreServer

from backprop_anim.config.loader import load_config
from backprop_anim.engine.trainer import train
from backprop_anim.numbers import fmt

REPO = Path(__file__).resolve().parent.parent
TEXTBOOK = REPO / "configs" / "textbook-2-2-2.yaml"


def chromium() -> str:
    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (make setup installs it)")
    return binary


@pytest.fixture
def server():
    srv = ExploreServer(TEXTBOOK)
    yield srv
    srv.stop()


def shots_dir(tmp_path: Path) -> Path:
    folder = os.environ.get("EXPLORE_SCREENSHOTS")
    return Path(folder) if folder else tmp_path


async def ready(c: Chromium) -> None:
    for _ in range(300):
        if await c.evaluate("document.body.dataset.ready === 'true'"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the page did not get ready: {c.problems()}")


async def diagram_text(c: Chromium) -> str:
    return await c.evaluate("document.getElementById('diagram').textContent")


async def click(c: Chromium, selector: str) -> None:
    """A real mouse click at the element's centre (as a student would)."""
    box = await c.evaluate(
        f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
        ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
    )
    for kind in ("mousePressed", "mouseReleased"):
        await c.call(
            "Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1
        )


async def type_into(c: Chromium, selector: str, text: str) -> None:
    await c.evaluate(f"document.querySelector({json.dumps(selector)}).select()")
    await c.call("Input.insertText", text=text)


async def until(c: Chromium, expression: str, wanted: object, timeout: float = 30) -> None:
    """Wait until a JavaScript expression has the wanted value (the machine may be busy)."""
    value = None
    for _ in range(int(timeout / 0.05)):
        value = await c.evaluate(expression)
        if value == wanted:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{expression} is {value!r}, expected {wanted!r}")


async def shown_formula(c: Chromium) -> str:
    """The typeset formula's text, once the page has it (formulas come one per request)."""
    for _ in range(600):
        text = await c.evaluate("document.getElementById('formula').textContent")
        if text:
            return text
        await asyncio.sleep(0.05)
    raise AssertionError("no formula shown")


async def wait_revision(c: Chromium, revision: int) -> None:
    for _ in range(600):
        if await c.evaluate("explore.state.view.revision") > revision:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the page did not receive the new trace")


def test_page_shows_edits_and_steps_through_the_textbook_step(server, tmp_path: Path) -> None:
    shots = shots_dir(tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    expected = train(load_config(TEXTBOOK, ["network.layers.0.weights.0.1=-0.3"])).steps[0]
    events = json.loads(server.request("GET", "/api/trace")[1])["steps"][0]["events"]

    async def run() -> None:
        async with Chromium(chromium()) as c:
            await c.open(server.url + "/", width=1280, height=800)
            await ready(c)
            text = await diagram_text(c)
            for number in ("0.5933", "0.7514", "0.2984"):
                assert number in text, number
            await c.screenshot(shots / "explore-textbook.png")

            # A bad value: the schema's message at the field, nothing changes.
            revision = await c.evaluate("explore.state.view.revision")
            await click(c, '[data-key="w:0:0:1"]')
            assert await c.evaluate("document.getElementById('editor').hidden") is False
            await type_into(c, "#editor-input", "heavy")
            await click(c, "#editor-ok")
            for _ in range(600):
                error = await c.evaluate("document.getElementById('editor-error').textContent")
                if error:
                    break
                await asyncio.sleep(0.05)
            assert error == "network.layers.0.weights.0.1: expected a valid number (got 'heavy')"
            assert await c.evaluate("explore.state.view.revision") == revision
            await c.screenshot(shots / "explore-bad-value.png")

            # The same weight, a good value: the engine's new numbers, the changed ones flash.
            await type_into(c, "#editor-input", "-0.3")
            await click(c, "#editor-ok")
            await wait_revision(c, revision)
            text = await diagram_text(c)
            h1, o1 = expected.layers[0].a[0, 0], expected.layers[1].a[0, 0]
            for value in (h1, o1, expected.loss):
                assert fmt(value) in text, fmt(value)
            assert "0.5933" not in text and "0.7514" not in text
            flashing = await c.evaluate(
                "[...document.querySelectorAll('#diagram .flash')].map(g => g.dataset.key)"
            )
            assert {"a:0:0", "a:1:0", "loss"} <= set(flashing)
            assert await c.evaluate("document.getElementById('editor').hidden") is True
            await c.screenshot(shots / "explore-edited.png")

            # Stepping forward from the first operation walks the trace's events in order.
            await click(c, "#first")
            seen = []
            for n in range(len(events)):
                current = await c.evaluate(
                    "[document.querySelector('#events li.current').dataset.i,"
                    " document.getElementById('op-title').textContent]"
                )
                seen.append(int(current[0]))
                if n == 0:
                    assert current[1] == "Forward · hidden · weighted sum z of h1"
                    formula = await shown_formula(c)
                    assert fmt(expected.layers[0].z[0, 0]) in formula
                    assert "0.15⋅0.05+(−0.3)⋅0.1+0.35=0.3275" in formula
                if n == 11:
                    await c.screenshot(shots / "explore-backward.png")
                await click(c, "#next")
            assert seen == [e["i"] for e in events]
            ops = await c.evaluate("explore.state.view.step.events.map(e => e.op)")
            assert ops == [e["op"] for e in events]

            # The light theme, for a projector.
            await click(c, "#theme")
            bg = await c.evaluate("getComputedStyle(document.body).backgroundColor")
            assert bg == "rgb(251, 250, 247)"  # visual/theme.py LIGHT.background
            await click(c, "#first")
            await click(c, "#next")
            await c.screenshot(shots / "explore-light.png")
            # The one refused edit is logged by Chromium as a failed load (HTTP 400); nothing else.
            refused = [p for p in c.problems() if "400 (Bad Request)" in p and "/api/set" in p]
            problems = [p for p in c.problems() if p not in refused]
            assert problems == []
            assert len(c.problems()) == 1
            assert not [u for u in c.requested_urls() if not u.startswith((server.url, "data:"))]

    asyncio.run(run())


def test_training_slider_watches_a_weight_and_details_a_step(server, tmp_path: Path) -> None:
    shots = shots_dir(tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    async def run() -> None:
        async with Chromium(chromium()) as c:
            await c.open(server.url + "/", width=1280, height=800)
            await ready(c)
            revision = await c.evaluate("explore.state.view.revision")
            # More training steps, typed into the settings panel.
            await c.evaluate(
                "[...document.querySelectorAll('#settings input.number')].at(-1).id = 'steps'"
            )
            await type_into(c, "#steps", "20")
            await c.call(
                "Input.dispatchKeyEvent",
                type="keyDown",
                key="Enter",
                code="Enter",
                windowsVirtualKeyCode=13,
            )
            await wait_revision(c, revision)
            trace = json.loads(server.request("GET", "/api/trace")[1])
            assert trace["config"]["training"]["steps"] == 20
            snap = next(s for s in trace["summary"]["snapshots"] if s["step"] == 5)
            # Slide to step 5 (not detailed): the weights after 5 updates.
            await c.evaluate(
                "(() => { const s = document.getElementById('train-slider'); s.value = 5;"
                " s.dispatchEvent(new Event('input')); })()"
            )
            await until(c, "explore.state.snapshot !== null", True)
            banner = await c.evaluate("document.getElementById('banner').textContent")
            assert banner.startswith("After 5 updates")
            label = await c.evaluate("document.querySelector('[data-key=\"w:1:0:0\"]').textContent")
            assert label == fmt(snap["W"][1][0][0])
            # Watch that weight: its curve over the training, its value at the slider.
            await click(c, '[data-key="w:1:0:0"]')
            await click(c, "#editor-watch")
            for _ in range(600):
                curve = await c.evaluate("document.getElementById('curve').textContent")
                if "o1 ← h1" in curve:
                    break
                await asyncio.sleep(0.05)
            assert f"w o1 ← h1 = {fmt(snap['W'][1][0][0])}" in curve
            await c.screenshot(shots / "explore-training.png")
            # Trace step 5 in detail: its operations replay like the first step's.
            revision = await c.evaluate("explore.state.view.revision")
            await click(c, "#detail-step")
            await wait_revision(c, revision)
            await until(
                c, "document.getElementById('counter').textContent", "39 operations · step 5"
            )
            config = server.request("GET", "/api/config")[1].decode()
            assert "detail_steps:\n  - 0\n  - 5\n  - 19" in config
            assert c.problems() == []

    asyncio.run(run())


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_render_button_makes_the_real_lecture_and_plays_it(server, tmp_path: Path) -> None:
    """The whole render of the edited config (480p15, narrated): minutes on a busy machine."""
    shots = shots_dir(tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    status, _ = server.json("POST", "/api/set", {"path": "network.layers.1.biases.0", "value": 0.1})
    assert status == 200

    async def run() -> None:
        async with Chromium(chromium()) as c:
            await c.open(server.url + "/", width=1280, height=800)
            await ready(c)
            await click(c, "#render")
            await until(c, "document.getElementById('render').disabled", True)
            seen_progress = set()
            for _ in range(4200):  # up to 35 minutes on a busy machine
                value = await c.evaluate("document.getElementById('render-progress').value")
                seen_progress.add(round(value, 2))
                if not await c.evaluate("document.getElementById('video').hidden"):
                    break
                await asyncio.sleep(0.5)
            status_text = await c.evaluate("document.getElementById('render-status').textContent")
            assert status_text.startswith("done in"), status_text
            assert len(seen_progress) > 2  # the bar moved beat by beat
            await until(c, "document.getElementById('video').readyState >= 2", True, timeout=60)
            duration = await c.evaluate("document.getElementById('video').duration")
            assert duration > 5
            await asyncio.sleep(1.5)
            assert await c.evaluate("document.getElementById('video').currentTime") > 0
            await c.screenshot(shots / "explore-render.png")
            problems = [p for p in c.problems() if "autoplay" not in p]
            assert problems == []

    asyncio.run(run())
