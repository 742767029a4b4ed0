"""Parts of the batch: curve words, variant phrases, the gallery HTML, the logs, and how a
failing or dying render process is reported."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from rich.console import Console

from backprop_anim.batch import load_batch
from backprop_anim.batch.gallery import render_gallery
from backprop_anim.batch.manifest import Manifest, VariantRecord
from backprop_anim.batch.progress import LineReporter, RichReporter
from backprop_anim.batch.runner import make_task
from backprop_anim.batch.task import run_isolated
from backprop_anim.comparison import behaviour, describe
from backprop_anim.numbers import fmt, spoken
from backprop_anim.trace.model import NetworkInfo

FIXTURES = Path(__file__).parent / "batch_fixtures"
NET = NetworkInfo(
    input_names=["x1"],
    layer_names=["hidden", "output"],
    unit_names=[["h1", "h2"], ["o1"]],
    activations=["sigmoid", "linear"],
    trainable=[True, True],
    loss="half_sse",
    optimizer={"name": "sgd", "learning_rate": 0.1},
)


def test_curve_words_follow_the_loss_values() -> None:
    assert behaviour([0.3, 0.2, 0.1, 0.05]) == "the loss falls steadily"
    # one big step into a flat region, then nothing (a far too large learning rate)
    flat = [0.30, 0.125, 0.1249, 0.1249, 0.1248, 0.1248, 0.1248, 0.1248]
    assert behaviour(flat) == "the loss drops at first, then stays flat"
    assert behaviour([0.3, 0.2, 0.15, 0.12, 0.1, 0.09, 0.08, 0.07]) == "the loss falls steadily"
    assert behaviour([0.3, 0.1, 0.25, 0.05, 0.2, 0.04]) == "the loss jumps around"
    assert behaviour([0.3, 0.4, 0.9]) == "the loss grows"
    assert behaviour([0.3, 0.299, 0.298]) == "the loss barely moves"
    assert behaviour([0.3]) == "the loss is measured once"


def test_variant_phrases_use_the_number_rule() -> None:
    overrides = {"training.optimizer.learning_rate": 5.0, "network.layers.0.activation": "tanh"}
    assert describe(overrides, NET) == "a learning rate of 5 and a tanh activation in layer hidden"
    tiny = {"training.optimizer.learning_rate": 1.23456e-5}
    assert describe(tiny, NET) == f"a learning rate of {spoken(1.23456e-5)}"
    assert spoken(1.23456e-5).startswith("1.235 times ten to the")
    assert describe(tiny, NET, say=False) == f"a learning rate of {fmt(1.23456e-5)}"
    assert describe({"network.layers.-1.activation": "linear"}, NET) == (
        "a linear activation in layer output"
    )
    assert describe({"training.steps": 30, "training.optimizer.name": "adam"}, NET) == (
        "30 training steps and the adam optimizer"
    )
    assert describe({"data.generator.noise": 0.2}, NET) == "noise 0.2"
    assert describe({}, NET) == "the base settings"


def manifest_with(*records: VariantRecord) -> Manifest:
    return Manifest(
        batch="b",
        source="s.yaml",
        base="base.yaml",
        mode="product",
        package_version="0",
        render={"quality": "l", "pace": 1, "scenes": ["title"], "voice": "none"},
        variants=list(records),
    )


def test_gallery_escapes_text_and_shows_a_gif_as_a_picture() -> None:
    page = render_gallery(
        manifest_with(
            VariantRecord(
                name="a",
                overrides={"title": "<script>alert(1)</script>"},
                hash="h",
                status="failed",
                error="bad <b>value</b> & more",
            ),
            VariantRecord(
                name="b",
                overrides={"training.steps": 2},
                hash="h2",
                status="ok",
                final_loss=0.0123456,
                video="b/lecture.gif",
                files=["b/lecture.gif"],
            ),
        )
    )
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "bad &lt;b&gt;value&lt;/b&gt; &amp; more" in page
    assert '<img src="b/lecture.gif" alt="b" width="320">' in page
    assert '<td class="num">0.01235</td>' in page  # fmt's 4 significant digits
    assert 'data-loss="0.0123456"' in page  # the sort key keeps the full value
    assert "http://" not in page and "https://" not in page


def test_line_log_has_one_line_per_event() -> None:
    stream = io.StringIO()
    log = LineReporter(stream)
    log.begin("batch b", ["a", "b"], ["c"])
    log.phase("a", "rendering", 0, 0)
    log.phase("a", "beat 2/5: forward", 1, 5)
    log.finished(
        VariantRecord(
            name="a",
            overrides={},
            hash="h",
            status="ok",
            final_loss=0.25,
            duration=3.0,
            timings={"wall": 4.25},
        )
    )
    log.finished(VariantRecord(name="b", overrides={}, hash="h", status="failed", error="boom"))
    assert stream.getvalue().splitlines() == [
        "batch b: 2 to render, 1 up to date",
        "up to date  c",
        "running     a: rendering",
        "running     a: beat 2/5: forward",
        "done        a [1/2]: final loss 0.25, 3.0 s of video, rendered in 4.2 s",
        "failed      b [2/2]: boom",
    ]


def test_rich_display_has_a_row_per_running_variant_and_an_overall_bar() -> None:
    console = Console(record=True, force_terminal=True, width=100, file=io.StringIO())
    display = RichReporter(console)
    display.begin("batch b", ["one", "two"], [])
    display.phase("one", "beat 2/4: forward", 1, 4)
    display.phase("two", "training", 0, 0)
    rows = {t.description.strip(): t for t in display.progress.tasks}
    assert set(rows) == {"[bold]all variants[/]", "one", "two"}
    assert (rows["one"].completed, rows["one"].total) == (1, 4)
    assert rows["two"].total is None  # no beats yet: an indeterminate row
    display.finished(VariantRecord(name="one", overrides={}, hash="h", status="ok", final_loss=0.5))
    assert {t.description.strip() for t in display.progress.tasks} == {
        "[bold]all variants[/]",
        "two",
    }
    assert display.progress.tasks[0].fields["phase"] == "1/2 done"
    display.end()
    assert "✓ one: final loss 0.5" in console.export_text()


def test_a_render_error_fails_only_its_variant_with_the_renders_message(tmp_path: Path) -> None:
    """In a fresh process: the render refuses a step the trace has no details for."""
    batch = load_batch(FIXTURES / "sweep.yaml", render={"steps": [7]})
    task = make_task(batch, batch.variants[0])
    result = run_isolated(task, tmp_path / "staging")
    assert result["status"] == "failed"
    assert result["error"].startswith("step 7 is not traced in detail (detailed steps: 0)")
    assert result["output_dir"] is None and result["timings"]["wall"] > 0


def test_a_render_process_that_dies_is_reported_with_its_last_output(tmp_path: Path) -> None:
    batch = load_batch(FIXTURES / "sweep.yaml")
    task = make_task(batch, batch.variants[0])

    def kill(proc: subprocess.Popen) -> None:
        proc.kill()  # as if the machine ran out of memory

    result = run_isolated(task, tmp_path / "staging", on_start=kill)
    assert result["status"] == "failed"
    assert result["error"].startswith("the render process exited with status -9 without a result")
