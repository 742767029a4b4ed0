"""Short human-readable summaries of a config and a trace (what `validate`/`trace` print)."""

from __future__ import annotations

from .config.schema import Config
from .engine.trainer import detail_step_indices
from .numbers import fmt
from .trace.model import Trace


def describe_config(cfg: Config) -> str:
    net = cfg.network
    lines = [f"{cfg.name}: {cfg.title}" if cfg.title else cfg.name]
    lines.append(
        f"  inputs: {net.n_inputs} ({', '.join(net.input_names()[:8])}"
        f"{', ...' if net.n_inputs > 8 else ''})"
    )
    for i, layer in enumerate(net.layers):
        frozen = "" if layer.trainable else ", frozen"
        lines.append(
            f"  layer {i} '{net.layer_name(i)}': {layer.n_units} units, {layer.activation}{frozen}"
        )
    lines.append(f"  parameters: {net.n_parameters()} ({net.n_edges()} weights)")
    opt = cfg.training.optimizer
    lines.append(
        f"  training: {cfg.training.steps} step(s), batch {cfg.training.batch_size}, "
        f"loss {cfg.training.loss}, {opt.name} (learning rate {opt.learning_rate:g})"
    )
    detail = detail_step_indices(cfg)
    lines.append(f"  detailed steps: {', '.join(map(str, detail))}")
    return "\n".join(lines)


def describe_trace(trace: Trace) -> str:
    s = trace.summary
    lines = [
        f"steps trained: {len(s.loss)}, detailed: {', '.join(str(x.step) for x in trace.steps)}"
    ]
    if s.loss:
        lines.append(f"loss: first step {fmt(s.loss[0])}, last step {fmt(s.loss[-1])}")
    if trace.steps:
        st = trace.steps[0]
        lines.append(
            f"step {st.step}: loss {fmt(st.loss)} -> {fmt(st.loss_after)} after the update"
        )
    last = s.snapshots[-1]
    if last.accuracy is not None:
        lines.append(f"accuracy after {last.step} steps: {fmt(100 * last.accuracy, 3)}%")
    lines.extend(f"warning: {w}" for w in trace.warnings)
    return "\n".join(lines)
