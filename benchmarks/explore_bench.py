"""Time from an edit to the updated trace and to the updated picture (explore page).

Goals (issue 13): for a 64-16-10 net, <= 50 ms of server time per edit and <= 150 ms
from the edit to the redrawn page. Three nets:

- the textbook 2-2-2 net (one sample, one step);
- a 64-16-10 net (tanh hidden layer, softmax output, cross-entropy; one sample, one step):
  the size the goal names, in the one-step use the page is for;
- the digits lecture (64-16-10, 1797 samples, 400 steps of Adam), for reference: every
  edit retrains 400 steps.

Printed per net: the server's own time for an edit (validate + train, in process), the
view the page reads, an HTTP round trip (POST /api/set?reply=revision + GET /api/view),
and in headless Chromium the time from the edit to the redrawn diagram (two animation
frames after the DOM update). Medians over several edits; the load average is printed,
since six engineers share two cores.

    .venv/bin/python benchmarks/explore_bench.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from batch_chromium import Chromium, chromium_binary  # noqa: E402
from explore_server import ExploreServer  # noqa: E402

from backprop_anim.explore import ExploreSession  # noqa: E402
from backprop_anim.explore.view import view  # noqa: E402

NET_64_16_10 = {
    "name": "explore-64-16-10",
    "network": {
        "inputs": 64,
        "layers": [
            {"name": "hidden", "units": 16, "activation": "tanh"},
            {"name": "output", "units": 10, "activation": "softmax"},
        ],
        "init": {"scheme": "xavier_uniform", "seed": 0},
    },
    "data": {"samples": [{"x": [round((k % 17) / 16, 3) for k in range(64)], "y": 3}]},
    "training": {"loss": "cross_entropy", "optimizer": {"name": "sgd", "learning_rate": 0.1}},
}


def ms(values: list[float]) -> str:
    return f"{1000 * statistics.median(values):7.1f} ms"


def in_process(path: Path, repeat: int) -> dict[str, list[float]]:
    session = ExploreSession.open(path)
    out: dict[str, list[float]] = {"edit": [], "view": []}
    for n in range(repeat):
        t0 = time.perf_counter()
        state = session.set("network.layers.0.weights.0.1", round(0.01 * n - 0.05, 3))
        t1 = time.perf_counter()
        json.dumps(view(state))
        t2 = time.perf_counter()
        out["edit"].append(t1 - t0)
        out["view"].append(t2 - t1)
    return out


def over_http(server: ExploreServer, repeat: int) -> list[float]:
    times = []
    for n in range(repeat):
        t0 = time.perf_counter()
        status, _, _ = server.request(
            "POST",
            "/api/set?reply=revision",
            {"path": "network.layers.0.weights.0.1", "value": round(0.01 * n, 3)},
        )
        assert status == 200
        server.request("GET", "/api/view")
        times.append(time.perf_counter() - t0)
    return times


async def in_browser(server: ExploreServer, repeat: int) -> list[float]:
    binary = chromium_binary()
    if binary is None:
        return []
    async with Chromium(binary) as c:
        await c.open(server.url + "/", width=1280, height=800)
        for _ in range(600):
            if await c.evaluate("document.body.dataset.ready === 'true'"):
                break
            await asyncio.sleep(0.05)
        times = []
        for n in range(repeat):
            value = round(0.02 * n - 0.1, 3)
            took = await c.evaluate(
                "(async () => { const t0 = performance.now();"
                f" await explore.edit({{path: 'network.layers.0.weights.0.1', value: {value}}},"
                " (m) => { throw new Error(m); });"
                " await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));"
                " return performance.now() - t0; })()"
            )
            times.append(took / 1000)
        problems = c.problems()
        if problems:
            print("  page problems:", problems)
        return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--skip-digits", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="explore-bench-"))
    net = tmp / "explore-64-16-10.yaml"
    net.write_text(yaml.safe_dump(NET_64_16_10))
    cases = [("textbook 2-2-2", REPO / "configs" / "textbook-2-2-2.yaml", args.repeat)]
    cases.append(("64-16-10, one step", net, args.repeat))
    if not args.skip_digits:
        cases.append(("digits lecture, 400 steps", REPO / "configs" / "digits.yaml", 3))
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'net':28} {'edit (server)':>14} {'view':>10} {'HTTP set+view':>14} {'to picture':>11}")
    for name, path, repeat in cases:
        local = in_process(path, repeat)
        server = ExploreServer(path)
        try:
            http = over_http(server, repeat)
            page = asyncio.run(in_browser(server, repeat))
        finally:
            server.stop()
        print(
            f"{name:28} {ms(local['edit']):>14} {ms(local['view']):>10} {ms(http):>14} "
            f"{ms(page) if page else 'n/a':>11}"
        )
    print(f"load average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
