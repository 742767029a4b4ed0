"""What checking a trace on load costs, against reading it.

Loading a trace (``load_trace``) parses the JSON, checks it against the contract
(``backprop_anim.trace.validate.check_trace``: config, network, every tensor's shape and
finiteness, events, summary) and builds the ``Trace``. This prints each part's time for
the digits lecture (64-16-10, batches of 32, Adam) as shipped (2 detailed steps) and with
20 detailed steps (the most a config allows), and the check's share of the whole load.

Run:  .venv/bin/python benchmarks/trace_check_bench.py [--repeat 5]

Figures vary with other work on the machine (the load average is printed); the ratios
are taken within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from backprop_anim.config.loader import load_config
from backprop_anim.engine.trainer import train
from backprop_anim.trace.model import Trace
from backprop_anim.trace.validate import check_trace

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, text: str, repeat: int) -> float:
    """Median seconds of ``fn(doc)`` over ``repeat`` freshly parsed documents.

    Each run gets its own parse (the check replaces lists by arrays in place), made
    before the clock starts.
    """
    times = []
    for _ in range(repeat):
        doc = json.loads(text)
        t0 = time.perf_counter()
        fn(doc)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(label: str, overrides: list[str], repeat: int) -> None:
    trace = train(load_config(ROOT / "configs" / "digits.yaml", overrides))
    with tempfile.TemporaryDirectory() as tmp:
        path = trace.save(Path(tmp) / "trace.json")
        size = path.stat().st_size
        text = path.read_text()
    parse = timed(lambda _: json.loads(text), text, repeat)
    check = timed(lambda doc: check_trace(doc, "trace.json"), text, repeat)
    load = timed(lambda doc: Trace.from_json(doc, "trace.json"), text, repeat)  # check + build
    total = parse + load  # what load_trace does once the file is read
    print(
        f"{label}: {size / 1e6:.1f} MB, {len(trace.steps)} detailed steps; "
        f"JSON parse {parse * 1e3:.0f} ms, check {check * 1e3:.0f} ms, "
        f"check + build {load * 1e3:.0f} ms; the check is {check / parse:.2f}x the parse, "
        f"{100 * check / total:.0f}% of the load"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} (1 min)")
    measure("digits lecture", [], args.repeat)
    detail = "trace.detail_steps=[" + ",".join(str(k) for k in range(0, 400, 20)) + "]"
    measure("digits, 20 detailed steps", [detail], args.repeat)


if __name__ == "__main__":
    main()
