"""The lecture's words: what the narrator says for each kind of beat, read off the trace.

Every number spoken here is a trace value passed through :func:`backprop_anim.numbers.spoken`
(the same digits :func:`~backprop_anim.numbers.fmt` puts on screen); nothing is recomputed.
Constants that explain an idea ("between zero and one") are written as words so that a
number in the text always means a value of this step.

Each beat yields sentences tagged with the levels that say them, so ``brief``, ``standard``
and ``detailed`` differ in how much they explain, never in the numbers they use. Alongside
the words, each beat gives a heading and the formulas with numbers (LaTeX) for the notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..maths.activations import Activation, get_activation
from ..maths.losses import Loss, get_loss
from ..numbers import spoken
from ..storyboard import SHOWN_TERMS, Beat, example_weight, largest_terms, shown_samples
from ..trace.model import LayerStep, Step, Trace
from ..trace.scaling import target_scaling
from ..visual import formula as F
from . import matrices, pictures, scaling, slope, thrown
from .decay import decay_ranking, decay_update
from .speech import MARK, title_sentences

LEVELS = ("brief", "standard", "detailed")
ALL = frozenset(LEVELS)
BRIEF = frozenset({"brief"})
FULL = frozenset({"standard", "detailed"})
DETAIL = frozenset({"detailed"})
STANDARD = frozenset({"standard"})

LIST_LIMIT = 4  # at most this many terms are read out one by one (weights, outputs, units)
NOTES_LIMIT = 8  # at most this many formulas per beat in the notes

# How the loss reads in words (the engine's Loss holds the name; this is the sentence).
LOSS_FORMULA_WORDS = {
    "half_sse": "half the sum, over the outputs, of the target minus the output, squared",
    "mse": "the mean, over the outputs, of the target minus the output, squared",
    "bce": (
        "minus the mean, over the outputs, of the target times the log of the output, "
        "plus one minus the target times the log of one minus the output"
    ),
    "cross_entropy": "minus the sum, over the outputs, of each target times the log of its output",
}
# What dL/da is, in words, for the losses whose output delta goes through the chain rule.
LOSS_SLOPE_WORDS = {
    "half_sse": "The loss grows with the square of that gap, so its slope with respect to {o} is",
    "mse": (
        "The mean squared error grows with the square of that gap, so its slope with respect "
        "to {o}, twice the gap divided by the number of outputs, is"
    ),
    "bce": "The cross-entropy's slope with respect to {o} is",
    "cross_entropy": "The cross-entropy's slope with respect to {o} is",
}


@dataclass
class Said:
    """What one beat says at the chosen level, with its heading and formulas for the notes."""

    heading: str
    sentences: list[str] = field(default_factory=list)
    formulas: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(s.strip() for s in self.sentences if s.strip())


def spoken_name(name: str) -> str:
    """A unit or layer name as read aloud: no underscores or other symbols."""
    out = "".join(c if c.isalnum() or c in " '-" else " " for c in name)
    return " ".join(out.split())


def possessive(phrase: str) -> str:
    return phrase + "'" if phrase.endswith("s") else phrase + "'s"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def indefinite(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def join_words(items: Sequence[str], last: str = "and") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} {last} {items[1]}"
    return ", ".join(items[:-1]) + f", {last} {items[-1]}"


def _tex_name(name: str) -> str:
    """A unit's name in LaTeX, as the screen's formulas spell it."""
    return F.word(name).latex


class Explainer:
    """Writes the words of every beat of one trace at one level."""

    def __init__(self, trace: Trace, beats: Sequence[Beat], level: str, digits: int) -> None:
        self.trace = trace
        self.beats = list(beats)
        self.level = level
        self.digits = digits
        net = trace.network
        self.names = net.layer_names
        self.units = net.unit_names
        self.inputs = net.input_names
        params = trace.config.get("network", {}).get("layers", [])
        self.acts: list[Activation] = [
            get_activation(
                name,
                **({"slope": params[i].get("slope", 0.01)} if name == "leaky_relu" else {}),
            )
            for i, name in enumerate(net.activations)
        ]
        self.loss: Loss = get_loss(net.loss)
        self.opt = dict(net.optimizer)
        self._explained: set[str] = set()
        self._first_of_kind: dict[tuple[int | None, str], str] = {}
        for b in self.beats:
            self._first_of_kind.setdefault((b.step, b.kind.split("_")[0]), b.id)

    # -- helpers -------------------------------------------------------------------

    def n(self, value: float) -> str:
        """A trace value as spoken (the screen's digits)."""
        return spoken(float(value), self.digits)

    def v(self, value: float) -> str:
        """A trace value for a LaTeX formula: the screen's digits, from the screen's rule."""
        return F.number(float(value), self.digits).latex

    def t(self, value: float) -> str:
        """A trace value as an operand in a LaTeX formula: negatives in parentheses."""
        return F.num(float(value), self.digits).latex

    def first(self, beat: Beat, scene: str) -> bool:
        return self._first_of_kind.get((beat.step, scene)) == beat.id

    def first_unit(self, beat: Beat) -> bool:
        """True for the first beat of its exact kind in its step (the first forward unit)."""
        return next(b.id for b in self.beats if (b.step, b.kind) == (beat.step, beat.kind)) == (
            beat.id
        )

    def first_in_layer(self, beat: Beat) -> bool:
        """True for the first beat of its kind in its layer (h1 of the hidden layer)."""
        return (
            next(
                b.id
                for b in self.beats
                if (b.step, b.kind, b.layer) == (beat.step, beat.kind, beat.layer)
            )
            == beat.id
        )

    def unit(self, i: int, j: int) -> str:
        return spoken_name(self.units[i][j])

    def prev_name(self, i: int, k: int) -> str:
        return spoken_name(self.inputs[k] if i == 0 else self.units[i - 1][k])

    def prev_tex(self, i: int, k: int) -> str:
        return _tex_name(self.inputs[k] if i == 0 else self.units[i - 1][k])

    def layer(self, i: int) -> str:
        name = spoken_name(self.names[i])
        return f"the {name}" if name.endswith("layer") else f"the {name} layer"

    def a_prev(self, step: Step, i: int) -> np.ndarray:
        return step.x if i == 0 else step.layers[i - 1].a

    def edge(self, i: int, j: int, k: int) -> str:
        return f"the weight from {self.prev_name(i, k)} to {self.unit(i, j)}"

    def edge_tex(self, i: int, j: int, k: int) -> str:
        return f"w_{{{_tex_name(self.units[i][j])},{self.prev_tex(i, k)}}}"

    def fn_tex(self, i: int) -> str:
        """The activation's symbol in LaTeX, as the screen's formulas spell it."""
        return F.activation_symbol(self.acts[i].name).latex

    @staticmethod
    def signed_sum(terms: Sequence[str]) -> str:
        """Terms read as a sum: "a, plus b, minus c" (a term's own minus replaces the plus)."""
        out = terms[0] if terms else ""
        for term in terms[1:]:
            mark = MARK.match(term)  # a [[part]] mark stays in front of its sign
            head, body = (mark.group(0), term[mark.end() :]) if mark else ("", term)
            out += f", {head}{body}" if body.startswith("minus ") else f", plus {head}{body}"
        return out

    def batch_note(self, step: Step) -> str:
        size = step.x.shape[0]
        return f", for the first of the {size} samples in this batch" if size > 1 else ""

    def say(self, said: Said, text: str, levels: frozenset[str] = ALL) -> None:
        if self.level in levels:
            said.sentences.append(text)

    def say_once(self, said: Said, topic: str, text: str, levels: frozenset[str] = ALL) -> None:
        """An explanation said at its first occasion in the lecture, not at every unit."""
        if self.level in levels and topic not in self._explained:
            self._explained.add(topic)
            said.sentences.append(text)

    def step_of(self, beat: Beat) -> Step:
        assert beat.step is not None
        return self.trace.step(beat.step)

    # -- dispatch ------------------------------------------------------------------

    def explain(self, beat: Beat) -> Said:
        method = getattr(self, f"_{beat.kind}")
        return method(beat)

    # -- title and overview ----------------------------------------------------------

    def _title(self, beat: Beat) -> Said:
        cfg = self.trace.config
        title = (cfg.get("title") or "").strip()
        said = Said(title or cfg.get("name") or "Lecture")
        if title:
            # A title of two sentences is a heading and its answer: each opens its line.
            head, *rest = title_sentences(title if title[-1] in ".!?" else title + ".")
            tail = f" [[subtitle]]{' '.join(rest)}" if rest else ""
            self.say(said, "[[title]]" + head + tail)
        n_in = len(self.inputs)
        # The names are on the diagram; reading them out is for the detailed level.
        named = self.level == "detailed"
        parts = [
            plural(n_in, "input")
            + (
                f", {join_words(map(spoken_name, self.inputs))}"
                if named and n_in <= LIST_LIMIT
                else ""
            )
        ]
        for i in range(len(self.names)):
            count = len(self.units[i])
            names = (
                f", {join_words([self.unit(i, j) for j in range(count)])}"
                if named and count <= LIST_LIMIT
                else ""
            )
            frozen = ", frozen" if not self.trace.network.trainable[i] else ""
            parts.append(
                f"{indefinite(self.layer(i).removeprefix('the '))} of {count} "
                f"{'unit' if count == 1 else 'units'} with {self.acts[i].spoken}{frozen}{names}"
            )
        self.say(said, f"[[network]]The network has {join_words(parts)}.", FULL)
        step = self.trace.step(beat.step) if beat.step is not None else None
        if step is not None:
            self.say(said, "[[data]]" + self._sample_sentence(step), FULL)
            # Marks before the scaling's words: the title's "scaled" and "target" rows.
            brief, fuller = scaling.input_sentences(self.trace, step, self.digits)
            if brief:
                self.say(said, "[[scaled]]" + brief, BRIEF)
                self.say(said, "[[scaled]]" + fuller, FULL)
            if targets := scaling.target_sentence(self.trace, step, self.digits):
                self.say(said, "[[target]]" + targets, FULL)
        lr = self.opt.get("learning_rate")
        optimizer = self._optimizer_words()
        self.say(
            said,
            f"[[loss]]It learns with {self.loss.spoken} as the loss and [[optimizer]]{optimizer}, "
            f"with a learning rate of {self.n(lr)}.",
            FULL,
        )
        total = len(self.trace.summary.loss)
        if step is not None and total > 1:
            self.say(
                said, f"[[step]]We follow training step {step.step} of the {total} steps.", FULL
            )
        self.say(
            said, "[[task]]We follow one training step: forward, loss, backward, update.", BRIEF
        )
        self.say(
            said,
            "[[task]]We follow the order the computer does: the forward pass, the loss, the "
            "backward pass, and the update.",
            FULL,
        )
        self.say(
            said,
            "[[digits]]Every number you will see and hear is the real value of this step, "
            f"rounded to {self.digits} significant digits.",
            DETAIL,
        )
        return said

    def _sample_sentence(self, step: Step) -> str:
        size = step.x.shape[0]
        if size > 1:
            return (
                f"This step trains on a batch of {size} samples: we read the numbers of the "
                "first sample, and the gradients add up the whole batch."
            )
        x, y = step.x[0], step.y[0]
        text = "This step trains on one sample"
        if len(x) <= LIST_LIMIT:
            word = "input" if len(x) == 1 else "inputs"
            text += f": {word} {join_words([self.n(v) for v in x])}"
        if self.trace.data.get("kind") == "classification" and len(y) > 1:
            target = int(np.argmax(y))
            text += f", and the target is the output {self.unit(len(self.names) - 1, target)}"
        elif len(y) <= LIST_LIMIT:
            word = "target" if len(y) == 1 else "targets"
            text += f", {word} {join_words([self.n(v) for v in y])}"
        return text + "."

    def _optimizer_words(self) -> str:
        name = self.opt.get("name", "sgd")
        if name == "momentum":
            return f"gradient descent with momentum {self.n(self.opt['momentum'])}"
        if name == "adam":
            return (
                f"the Adam optimizer, with beta one {self.n(self.opt['beta1'])} and beta two "
                f"{self.n(self.opt['beta2'])}"
            )
        return "plain gradient descent"

    def _overview(self, beat: Beat) -> Said:
        s = self.trace.summary
        said = Said("Overview of the training")
        total = len(s.loss)
        first, last = s.snapshots[0], s.snapshots[-1]
        ids = [b.id for b in self.beats if b.kind != "title"]
        opening = not ids or ids[0] == beat.id
        self.say(
            said,
            (
                "[[network]]Before we zoom in, here is the whole training: "
                f"{plural(total, 'step')}."
                if opening
                else f"[[network]]Now the whole training: {plural(total, 'step')}."
            ),
            FULL,
        )
        self.say(
            said,
            # Brief says no opening: the stage comes in with this sentence's first words.
            (
                "[[network]]On the data, [[curve]]"
                if self.level == "brief"
                else "[[curve]]On the data, "
            )
            + f"the loss went from {self.n(first.loss)} before training to "
            f"{self.n(last.loss)} after {plural(last.step, 'step')}.",
        )
        if last.accuracy is not None:
            self.say(
                said,
                f"[[accuracy]]The network now gets {self.n(100 * last.accuracy)} percent of the "
                "samples right.",
            )
        if total > 1:
            self.say(
                said,
                f"[[batch]]The loss of the training batch was {self.n(s.loss[0])} at the first "
                "step and "
                f"{self.n(s.loss[-1])} at the last.",
                DETAIL,
            )
        self._overview_picture(said)
        if self.trace.config.get("training", {}).get("update") == "random_layer":
            self.say(
                said,
                "[[layer]]Each step updated only one layer, chosen at random; the others kept "
                "their weights for that step.",
                FULL,
            )
            if s.gradient_evaluations:
                self.say(
                    said,
                    f"[[all]]Yet every backward pass computed the gradients of all "
                    f"{plural(len(self.names), 'layer')}, {self.n(s.gradient_evaluations[-1])} "
                    "layer gradients in all: the chain rule gives every gradient in one pass, "
                    "so updating one layer at a time throws most of that work away.",
                    FULL,
                )
        if self.trace.diverged:
            self.say(
                said,
                f"[[stopped]]Training stopped early, at step {self.trace.diverged['step']}, "
                "because a value became infinite or undefined. A smaller learning rate usually "
                "fixes that.",
            )
        said.formulas.append(rf"L_{{\text{{data}}}}: {self.v(first.loss)} \to {self.v(last.loss)}")
        return said

    def _overview_picture(self, said: Said) -> None:
        """What the overview's picture of the data shows (backprop_anim.overview draws it)."""
        from .. import overview as ov

        trace = self.trace
        s = trace.summary
        first, last = s.snapshots[0], s.snapshots[-1]
        view = ov.view_of(trace)
        n_layers = len(self.names)
        if view == "boundary":
            # Each sentence opens the part that points at what it names: the plane, then
            # the boundary (drawn where it is first the subject), then the hidden layer.
            separates = n_layers > 1 and last.accuracy is not None and last.accuracy >= ov.SEPARATES
            self.say(
                said,
                "[[background]]The coloured background is the network's answer at every point "
                f"of the plane, {'' if separates else '[[boundary]]'}and the thin line is the "
                "boundary between the classes.",
                FULL,
            )
            if separates:
                self.say(
                    said,
                    "[[boundary]]The boundary now separates the classes. [[bend]]It can bend "
                    "because of the hidden layer: a single neuron on its own can only draw a "
                    "straight line.",
                    FULL,
                )
        elif view == "fit":
            self.say(
                said,
                "[[fit]]The curve is the network's output for every input, drawn over the data.",
                FULL,
            )
            outside = ov.targets_out_of_reach(trace)
            act = self.acts[-1]
            if outside > 0:
                self.say(
                    said,
                    f"[[reach]]But {act.spoken} output can only produce values in a fixed range, "
                    "and "
                    f"{self.n(100 * outside)} percent of the targets lie outside it: no amount "
                    "of training reaches them. [[remedy]]Scale the targets into that range, or "
                    "use a linear output.",
                )
            elif trace.data.get("scaling"):
                lo, hi = trace.data["scaling"]["range"]
                self.say(
                    said,
                    f"[[scaled]]The targets were scaled to lie between {self.n(lo)} and "
                    f"{self.n(hi)}, "
                    f"inside what {act.spoken} can produce; the picture shows them in their own "
                    "units again.",
                    FULL,
                )
        elif view == "weight":
            lr = self.opt.get("learning_rate")
            w0, w1 = float(first.W[0][0, 0]), float(last.W[0][0, 0])
            self.say(
                said,
                "[[along]]The curve is the loss as a function of the weight, everything else "
                "held fixed. [[tangent]]The tangent at the current weight has the slope that "
                "backpropagation computes, and each update moves the weight against that slope, "
                f"by the learning rate, {self.n(lr)}, times the slope.",
                FULL,
            )
            self.say(
                said,
                f"[[start]]The slope was {self.n(ov.weight_slope(trace, first))} at the start, "
                f"[[moved]]and the weight went from {self.n(w0)} to {self.n(w1)}.",
            )
        for i in ov.histogram_layers(trace):
            act = self.acts[i]
            if ov.saturating_z(act.name) is None or i >= len(first.saturation):
                continue
            before, after = first.saturation[i], last.saturation[i]
            if before >= ov.SATURATED_AT_START:
                self.say(
                    said,
                    f"[[before]]Before training, {self.n(100 * before)} percent of "
                    f"{self.layer(i)}'s outputs were saturated, close to the limits of "
                    f"{act.spoken}, where its slope is almost zero and little gradient gets "
                    "through; [[after]]after training, "
                    f"{self.n(100 * after)} percent.",
                )

    # -- forward -------------------------------------------------------------------

    def _forward_unit(self, beat: Beat) -> Said:
        assert beat.layer is not None and beat.unit is not None
        step, i, j = self.step_of(beat), beat.layer, beat.unit
        L, act, u = step.layers[i], self.acts[i], self.unit(i, j)
        said = Said(f"Forward pass: {u}")
        w, b, z, a = L.W[j], L.b[j], L.z[0, j], L.a[0, j]
        x = self.a_prev(step, i)[0]
        if self.first(beat, "forward"):
            self.say(
                said,
                "[[layers]]The forward pass goes layer by layer, from the inputs to the outputs: "
                "each unit needs every activation of the layer before it.",
                DETAIL,
            )
        note = self.batch_note(step)
        # Standard reads the weighted sum term by term once; the screen shows the others
        # (and which sample of a batch we read was said with the first unit).
        short = self.level == "standard" and not self.first_unit(beat)
        if short:
            same = (
                f"{u} adds up the activations of {self.layer(i - 1)}, each times its weight, "
                "plus its bias"
                if i > 0 and self.first_in_layer(beat)
                else f"{u} does the same with its own weights"
            )
            self.say(said, f"[[sum]]{same}: [[z]]z is {self.n(z)}.", STANDARD)
        elif len(w) <= LIST_LIMIT:
            # Each term the screen writes out is marked: its numbers fly into the
            # formula as they are said ([[term1]] ... in the order shown).
            rank = {k: n + 1 for n, k in enumerate(largest_terms(w, x, SHOWN_TERMS))}
            terms = self.signed_sum(
                [
                    (f"[[term{rank[k]}]]" if k in rank else "")
                    + f"{self.n(w[k])} times {self.n(x[k])}"
                    for k in range(len(w))
                ]
            )
            self.say(
                said,
                f"[[sum]]{u} adds up its weighted inputs{note}: {terms}, plus its bias, "
                f"[[bias]]{self.n(b)}. [[z]]That makes z, the weighted sum, {self.n(z)}.",
                FULL,
            )
        else:
            shown = largest_terms(w, x, SHOWN_TERMS)
            self.say(said, f"[[sum]]{u} adds up its {len(w)} weighted inputs{note}.", FULL)
            if i == 0 and (self.trace.config.get("data") or {}).get("image"):
                self.say_once(
                    said,
                    "receptive field",
                    f"[[field]]Its {len(w)} weights are drawn as the picture they look at: blue "
                    "where a bright pixel raises z, orange where it lowers it.",
                    FULL,
                )
            self.say(
                said,
                f"[[term1]]On screen are the {len(shown)} largest of its {len(w)} terms, "
                f"weight times input; with the bias, [[bias]]{self.n(b)}, [[z]]z is "
                f"{self.n(z)}.",
                FULL,
            )
        if self.level == "brief":
            self.say(said, self._brief_forward(i, u, act.spoken, w, x, z, a), BRIEF)
        self.say(said, "[[a]]" + self._activation_sentence(i, z, a, short=short), FULL)
        if act.name in ("sigmoid", "tanh"):
            low = "zero" if act.name == "sigmoid" else "minus one"
            self.say_once(
                said,
                f"squash {act.name}",
                f"[[plot]]{act.spoken.capitalize()} squashes any z into the range between {low} "
                "and one; this bend is what lets stacked layers do more than one straight-line "
                "map.",
                DETAIL,
            )
        elif act.name == "relu" and z > 0:
            self.say_once(
                said,
                "relu bend",
                "[[plot]]A ReLU is the simplest bend: it keeps positive values and cuts negative "
                "ones to zero.",
                DETAIL,
            )
        if i < len(self.names) - 1:
            self.say_once(
                said,
                f"passes on {i}",
                f"[[neuron]]This value is what {u} passes on to {self.layer(i + 1)}.",
                DETAIL,
            )
        terms_tex = " + ".join(
            f"{self.t(w[k])} \\cdot {self.t(x[k])}" for k in range(min(len(w), NOTES_LIMIT))
        )
        if len(w) > NOTES_LIMIT:
            terms_tex += r" + \dots"
        name = _tex_name(self.units[i][j])
        said.formulas.append(f"z_{{{name}}} = {terms_tex} + {self.t(b)} = {self.v(z)}")
        said.formulas.append(
            f"a_{{{name}}} = {self.fn_tex(i)}(z_{{{name}}}) = {self.fn_tex(i)}({self.v(z)}) "
            f"= {self.v(a)}"
        )
        return said

    def _brief_forward(
        self, i: int, u: str, act: str, w: np.ndarray, x: np.ndarray, z: float, a: float
    ) -> str:
        """The brief forward sentence. It names each term the screen writes as its numbers
        travel into the formula (by its input: "i1 times its weight"), so that the words
        give each travel its time; a sentence that only said "z is 0.3775" left the
        travels 1.5 s of silence, or shortened them. The numbers are on screen; reading
        them all (the bias too) would make the brief level half as long again."""
        shown = largest_terms(w, x, SHOWN_TERMS)
        if len(shown) == len(w):
            read = [
                f"[[term{n + 1}]]{self.prev_name(i, k)} times its weight"
                for n, k in enumerate(shown)
            ]
            terms = f"adds up {', '.join(read)},"
        else:
            read = [f"[[term{n + 1}]]{self.prev_name(i, k)}" for n, k in enumerate(shown)]
            terms = (
                f"adds up its {len(w)} inputs, each times its weight, the largest from "
                f"{join_words(read)};"
            )
        return (
            f"[[sum]]{u} {terms} [[bias]]and its bias: [[z]]z is {self.n(z)}; [[a]]{act} of "
            f"z, a, is {self.n(a)}."
        )

    def _activation_sentence(self, i: int, z: float, a: float, short: bool = False) -> str:
        act = self.acts[i]
        if act.name == "linear":
            return f"The activation is linear, so a is simply z: {self.n(a)}."
        if act.name == "relu":
            if z > 0:
                return f"z is positive, so the ReLU passes it through: a is {self.n(a)}."
            return (
                f"z is not positive, so the ReLU outputs {self.n(a)}: this unit is silent for "
                "this sample, and none of its incoming weights can learn from it in this step."
            )
        if act.name == "softmax":
            if "softmax" in self._explained:
                return f"The softmax gives it {self.n(a)}."
            self._explained.add("softmax")
            return (
                "The softmax looks at all the outputs together: it raises e to the power of "
                "each z and divides by their sum, so the outputs add up to one; for this "
                f"output that gives {self.n(a)}."
            )
        if short:
            return f"Its activation, {act.spoken} of z, is {self.n(a)}."
        return f"Then {act.spoken} turns z into the activation: a is {self.n(a)}."

    def _forward_layer(self, beat: Beat) -> Said:
        assert beat.layer is not None
        step, i = self.step_of(beat), beat.layer
        L, act = step.layers[i], self.acts[i]
        count, fan_in = L.W.shape
        said = Said(f"Forward pass: {spoken_name(self.names[i])}")
        self.say(
            said,
            f"[[header]]{self.layer(i).capitalize()} has {count} units, too many to show one "
            f"by one. [[rule]]Each adds up its {fan_in} weighted inputs and its bias, then "
            f"applies {act.spoken}.",
            FULL,
        )
        self.say(
            said,
            f"[[rule]]{self.layer(i).capitalize()}: {count} units, each a weighted sum and "
            f"[[strip]]{act.spoken}.",
            BRIEF,
        )
        # In the order the picture shows them: all values as a strip (how many are zero),
        # its caption (the extremes), then the units explained next, filled in.
        if act.name == "relu":
            silent = int(np.count_nonzero(L.a[0] == 0))
            self.say(
                said,
                f"[[strip]]{silent} of the {count} units output zero for this sample"
                f"{self.batch_note(step)}.",
                FULL,
            )
        self.say(
            said,
            f"[[caption]]Their activations range from {self.n(L.a[0].min())} to "
            f"{self.n(L.a[0].max())}.",
            DETAIL,
        )
        focus = self._focus(beat, "forward_unit")
        if focus:
            parts = [f"{self.unit(i, j)} at {self.n(L.a[0, j])}" for j in focus]
            self.say(
                said,
                f"[[neurons]]We look closely at the most active: {join_words(parts)}.",
                FULL,
            )
        said.formulas.append(
            rf"a = {self.fn_tex(i)}(W a_{{\text{{prev}}}} + b) \in "
            rf"[{self.v(L.a[0].min())}, {self.v(L.a[0].max())}]"
        )
        return said

    def _focus(self, beat: Beat, kind: str) -> list[int]:
        return [
            b.unit
            for b in self.beats
            if b.kind == kind
            and b.step == beat.step
            and b.layer == beat.layer
            and b.unit is not None
        ]

    # -- loss ----------------------------------------------------------------------

    def _loss(self, beat: Beat) -> Said:
        step = self.step_of(beat)
        last = len(self.names) - 1
        out = step.layers[last]
        a, y, terms = out.a[0], step.y[0], step.loss_terms[0]
        outs = [self.unit(last, k) for k in range(len(a))]
        said = Said("The loss")
        note = self.batch_note(step)
        self.say(
            said,
            f"[[outputs]]The loss, {self.loss.spoken}, [[formula]]is {self.n(step.loss)}.",
            BRIEF,
        )
        self.say(said, f"[[outputs]]Now the loss: {self.loss.spoken}.", FULL)
        self.say(
            said,
            f"[[words]]It is {LOSS_FORMULA_WORDS.get(self.loss.name, self.loss.spoken)}.",
            DETAIL,
        )
        if self.loss.name == "cross_entropy":
            k = int(np.argmax(y))
            self.say(
                said,
                f"[[table]]Only the target's output counts{note}: the network gives {outs[k]} "
                f"{self.n(a[k])}, and minus the log of that is {self.n(terms[k])}.",
                FULL,
            )
        elif len(a) <= LIST_LIMIT:
            shares = "; ".join(
                f"{outs[k]} is {self.n(a[k])} where the target is {self.n(y[k])}, so it adds "
                f"{self.n(terms[k])}"
                for k in range(len(a))
            )
            self.say(said, f"[[table]]The output {shares}{note}.", FULL)
        else:
            k = int(np.argmax(terms))
            self.say(
                said,
                f"[[table]]Each of the {len(a)} outputs adds its share{note}; the largest "
                f"comes from {outs[k]}, which is {self.n(a[k])} where the target is "
                f"{self.n(y[k])}.",
                FULL,
            )
        size = step.x.shape[0]
        where = f"averaged over the {size} samples" if size > 1 else "in total"
        self.say(said, f"[[formula]]The loss, {where}, is {self.n(step.loss)}.", FULL)
        targets = target_scaling(self.trace)
        if targets is not None and (
            raw := scaling.raw_output_sentence(targets, outs, a, y, self.digits)
        ):
            self.say(said, raw, FULL)
        self._regression_notes(said)
        shown = range(min(len(a), NOTES_LIMIT))
        said.formulas.append(
            "L = "
            + " + ".join(self.t(terms[k]) for k in shown)
            + (r" + \dots" if len(a) > NOTES_LIMIT else "")
            + f" = {self.v(step.loss)}"
        )
        return said

    def _regression_notes(self, said: Said) -> None:
        if self.trace.data.get("kind") != "regression":
            return
        act = self.acts[-1]
        if self.trace.warnings:
            self.say(
                said,
                f"Careful: some targets lie outside what {act.spoken} output can produce, so "
                "the network can never reach them. Scale the targets into that range, or use "
                "a linear output layer.",
            )
        scaling = self.trace.data.get("scaling")
        if scaling:
            lo, hi = scaling["range"]
            self.say(
                said,
                f"The targets were scaled into the range from {self.n(lo)} to {self.n(hi)} "
                f"before training, so that {act.spoken} output can reach them; undoing that "
                "scaling gives back the real values.",
                FULL,
            )
        elif act.name == "linear":
            self.say(
                said,
                "[[linear]]The output layer is linear, so it can produce any value, as a "
                "regression target needs.",
                DETAIL,
            )

    # -- backward ------------------------------------------------------------------

    def _backward_intro(self, said: Said, beat: Beat) -> None:
        if not (self.first(beat, "backward")):
            return
        self.say(said, "[[header]]Now backwards, starting at the output.", FULL)
        self.say(
            said,
            "[[order]]The backward pass runs in the opposite order of the forward pass: first the "
            "deltas of the output layer, then the gradients of its weights, then the deltas "
            "of the layer before, which need the output deltas, and so on back to the inputs. "
            "[[weights]]It uses the weights as they were in the forward pass: nothing is updated "
            "until every gradient is known.",
            DETAIL,
        )

    def _backward_unit(self, beat: Beat) -> Said:
        assert beat.layer is not None and beat.unit is not None
        step, i, j = self.step_of(beat), beat.layer, beat.unit
        u = self.unit(i, j)
        said = Said(f"Backward pass: the delta of {u}")
        self._backward_intro(said, beat)
        if i == len(self.names) - 1:
            self._output_delta(said, step, i, j, self.first_in_layer(beat))
        else:
            self._hidden_delta(said, step, i, j, self.first_in_layer(beat))
        return said

    def _output_delta(self, said: Said, step: Step, i: int, j: int, first: bool) -> None:
        L, act, u = step.layers[i], self.acts[i], self.unit(i, j)
        a, y = L.a[0, j], step.y[0, j]
        dL_da, dadz, delta = L.dL_da[0, j], L.act_derivative[0, j], L.delta[0, j]
        note = self.batch_note(step)
        name = _tex_name(self.units[i][j])
        fused = self.loss.fused_activation == act.name
        size = self.loss.divisor(L.a.shape)
        if size == 1:
            per = ""
        elif self.loss.averages_outputs and L.a.shape[1] > 1:
            per = (
                f", divided by {size}, the {L.a.shape[0]} samples of the batch times the "
                f"{L.a.shape[1]} outputs"
            )
        else:
            per = f", divided by the batch size, {size}"
        # The first output is explained step by step; at the standard level, the others
        # are one sentence with the same numbers (the reasoning was just heard).
        full = FULL
        if self.level == "standard" and not first:
            full = frozenset()
            pair = f"[[error]]For {u}, the output is {self.n(a)} and the target {self.n(y)}"
            if fused:
                said_short = (
                    f"{pair}, so its delta is their difference{per}: [[delta]]{self.n(delta)}."
                )
            elif act.name == "linear":
                said_short = (
                    f"{pair}: the slope, and so the delta of {u}, is [[delta]]{self.n(delta)}."
                )
            else:
                said_short = (
                    f"{pair}: the slope is {self.n(dL_da)}, and times "
                    f"{possessive(act.spoken)} derivative, [[slope]]{self.n(dadz)}, the delta "
                    f"of {u} is [[delta]]{self.n(delta)}."
                )
            self.say(said, said_short, STANDARD)
        self.say(
            said,
            f"[[error]]The output {u} is {self.n(a)}, but the target is {self.n(y)}{note}.",
            full,
        )
        if fused:
            self.say(
                said,
                f"[[slope]]For {self.loss.spoken} with {act.spoken} output, the chain rule "
                "simplifies: "
                f"the delta of {u}, the slope of the loss with respect to its z, is just the "
                f"output minus the target{per}: [[delta]]{self.n(delta)}.",
                full,
            )
            self.say(
                said,
                f"[[error]]The delta of {u} is the output minus the target{per}: "
                f"[[delta]]{self.n(delta)}.",
                BRIEF,
            )
            # Softmax: each output depends on every z, so the long way is not one product
            # (the screen's dL/da times softmax'(z) is not delta): it sums over the outputs.
            long_way = (
                "[[long]]The long way goes through every output, since each softmax output "
                "depends on every z; it gives the same number, and the short form stays exact "
                "even when an output is very close to zero or one."
                if act.name == "softmax"
                else "[[long]]The long way, the loss's slope with respect to the output times "
                "the activation's derivative, gives the same number; the short form stays "
                "exact even when the output is very close to zero or one."
            )
            self.say(said, long_way, DETAIL)
            share = "a - y" if size == 1 else rf"\frac{{a - y}}{{{size}}}"
            said.formulas.append(rf"\delta_{{{name}}} = {share} = {self.v(delta)}")
            return
        slope = LOSS_SLOPE_WORDS.get(self.loss.name, "The loss's slope with respect to {o} is")
        self.say(said, f"[[dL_da]]{slope.format(o=u)} {self.n(dL_da)}.", full)
        if act.name == "linear":
            self.say(
                said,
                f"[[slope]]The output is linear, so its derivative is {self.n(dadz)}, and the "
                f"delta of {u}, the slope with respect to z, is that same slope: "
                f"[[delta]]{self.n(delta)}.",
                full,
            )
        else:
            self.say(
                said,
                "[[slope]]To get back to the weights, the chain rule multiplies this slope by "
                f"{possessive(act.spoken)} derivative at z, which is [[tangent]]"
                f"{self.n(dadz)}: that's the delta of {u}, [[delta]]{self.n(delta)}.",
                full,
            )
        self.say(
            said,
            f"[[error]]The delta of {u}: the slope {self.n(dL_da)} times the derivative "
            f"[[slope]]{self.n(dadz)} gives [[delta]]{self.n(delta)}.",
            BRIEF,
        )
        self._why_derivative(said, i, dadz)
        said.formulas.append(rf"\frac{{\partial L}}{{\partial a_{{{name}}}}} = {self.v(dL_da)}")
        said.formulas.append(
            rf"\delta_{{{name}}} = \frac{{\partial L}}{{\partial a_{{{name}}}}} \cdot "
            rf"{self.fn_tex(i)}'(z_{{{name}}}) = {self.v(dL_da)} \cdot {self.t(dadz)} "
            f"= {self.v(delta)}"
        )

    def _why_derivative(self, said: Said, i: int, dadz: float) -> None:
        act = self.acts[i]
        if act.name == "linear":
            return
        self.say_once(
            said,
            f"why derivative {act.name}",
            "[[why]]Why the derivative? [[chain]]The loss sees z only through the activation: "
            f"when z moves a little, the activation moves by {possessive(act.spoken)} slope at "
            "z times that, and the loss follows; that product is the chain rule. [[rule]]Here "
            f"the slope is {act.derivative_spoken}.",
            DETAIL,
        )
        if act.name in ("sigmoid", "tanh") and dadz < 0.05:
            self.say(
                said,
                f"[[flat]]That derivative is small because {act.spoken} is almost flat here: a "
                "saturated unit learns slowly.",
                FULL,
            )

    def _hidden_delta(self, said: Said, step: Step, i: int, j: int, first: bool) -> None:
        L, nxt, act, u = step.layers[i], step.layers[i + 1], self.acts[i], self.unit(i, j)
        dL_da, dadz, delta = L.dL_da[0, j], L.act_derivative[0, j], L.delta[0, j]
        count = nxt.W.shape[0]
        note = self.batch_note(step)
        name = _tex_name(self.units[i][j])
        if self.level == "standard" and not first:
            # The sum of blames was read out term by term for the layer's first unit.
            weights = join_words([self.n(nxt.W[k, j]) for k in range(count)])
            through = (
                f", through the {'weight' if count == 1 else 'weights'} {weights}"
                if count <= LIST_LIMIT
                else ""
            )
            self.say(
                said,
                f"[[error]]{u} collects its blame the same way{through}: its slope is "
                f"{self.n(dL_da)}.",
                STANDARD,
            )
        elif count <= LIST_LIMIT:
            parts = ", plus ".join(
                f"the delta of {self.unit(i + 1, k)}, {self.n(nxt.delta[0, k])}, times the "
                f"weight {self.n(nxt.W[k, j])}"
                for k in range(count)
            )
            self.say(
                said,
                f"[[edges]]{u} has no target of its own: it takes its share of the blame from "
                f"every unit it feeds{note}. [[error]]{parts[0].upper()}{parts[1:]}, gives the "
                f"slope of the loss with respect to {u}, {self.n(dL_da)}.",
                FULL,
            )
        else:
            self.say(
                said,
                f"[[edges]]{u} has no target of its own{note}. [[error]]Its slope, "
                f"{self.n(dL_da)}, adds up the deltas of all {count} units of "
                f"{self.layer(i + 1)}, each times the weight that connects {u} to it.",
                FULL,
            )
        if dadz == 0 and act.name == "relu":
            self.say(
                said,
                f"[[slope]]But the ReLU of {u} was off for this sample: its derivative is "
                f"{self.n(dadz)}, so its delta is {self.n(delta)}, and none of the weights "
                f"into {u} learn from this sample.",
                FULL,
            )
        else:
            self.say(
                said,
                f"[[slope]]Times {possessive(act.spoken)} derivative at z, [[tangent]]"
                f"{self.n(dadz)}, it gives the delta of {u}: [[delta]]{self.n(delta)}.",
                FULL,
            )
        self.say(
            said,
            f"[[error]]{u}: the weighted deltas of the next layer add up to {self.n(dL_da)}; "
            f"times [[slope]]{self.n(dadz)}, the delta of {u} is [[delta]]{self.n(delta)}.",
            BRIEF,
        )
        self.say_once(
            said,
            "chain through weights",
            f"[[blames]]This is the chain rule again, now through the weights: a change in {u} "
            "reaches the loss along every edge to the next layer, so the blames add up; the "
            "weights used are the old ones, from the forward pass.",
            DETAIL,
        )
        self._why_derivative(said, i, dadz)
        shown = range(min(count, NOTES_LIMIT))
        sum_tex = " + ".join(
            f"{self.t(nxt.delta[0, k])} \\cdot {self.t(nxt.W[k, j])}" for k in shown
        )
        if count > NOTES_LIMIT:
            sum_tex += r" + \dots"
        said.formulas.append(
            rf"\frac{{\partial L}}{{\partial a_{{{name}}}}} = \sum_k \delta_k w_{{k,{name}}} "
            f"= {sum_tex} = {self.v(dL_da)}"
        )
        said.formulas.append(
            rf"\delta_{{{name}}} = {self.v(dL_da)} \cdot {self.fn_tex(i)}'(z_{{{name}}}) = "
            rf"{self.v(dL_da)} \cdot {self.t(dadz)} = {self.v(delta)}"
        )

    def _backward_layer(self, beat: Beat) -> Said:
        assert beat.layer is not None
        step, i = self.step_of(beat), beat.layer
        L, act = step.layers[i], self.acts[i]
        count = L.W.shape[0]
        said = Said(f"Backward pass: {spoken_name(self.names[i])}")
        self._backward_intro(said, beat)
        how = (
            "the loss's slope with respect to its output"
            if i == len(self.names) - 1
            else "the deltas of the next layer, weighted by the edges to them and added up"
        )
        self.say(
            said,
            f"[[rule]]{self.layer(i).capitalize()} has {count} units; each delta is {how}, "
            f"times {possessive(act.spoken)} derivative at z.",
            FULL,
        )
        self.say(
            said,
            f"[[rule]]{self.layer(i).capitalize()}: {count} deltas, computed the same way.",
            BRIEF,
        )
        order = np.argsort(-np.abs(L.delta[0]), kind="stable")[:2]
        parts = [f"{self.unit(i, int(j))}, {self.n(L.delta[0, int(j)])}" for j in order]
        self.say(
            said,
            f"[[strip]]The largest deltas{self.batch_note(step)} are at {join_words(parts)}.",
            FULL,
        )
        if act.name == "relu":
            off = int(np.count_nonzero(L.act_derivative[0] == 0))
            self.say(
                said,
                (
                    "[[caption]]One of its units was off for this sample: its delta is zero."
                    if off == 1
                    else f"[[caption]]{off} of its units were off for this sample: their delta "
                    "is zero."
                ),
                FULL,
            )
        said.formulas.append(
            rf"\delta \in [{self.v(L.delta[0].min())}, {self.v(L.delta[0].max())}]"
        )
        return said

    def _gradients(self, beat: Beat) -> Said:
        assert beat.layer is not None
        step, i = self.step_of(beat), beat.layer
        L = step.layers[i]
        units, fan_in = L.grad_W.shape
        total = units * fan_in
        a_prev = self.a_prev(step, i)
        size = step.x.shape[0]
        said = Said(f"Gradients of {self.layer(i)}")
        summed = f", added up over the {size} samples of the batch" if size > 1 else ""
        # Standard states the rule at the first layer and works one example per layer.
        first_layer = self.first(beat, "gradients")
        worked = size == 1 and total <= LIST_LIMIT
        self.say(
            said,
            f"[[gradients]]Now the gradient of every weight into {self.layer(i)}: the delta of "
            f"the unit it feeds times the activation it carries{summed}.",
            FULL if first_layer or not worked else DETAIL,
        )
        edges = [(j, k) for j in range(units) for k in range(fan_in)]
        if total > LIST_LIMIT:
            edges = sorted(edges, key=lambda e: -abs(L.grad_W[e]))[:2]
        # The example the screen works through (storyboard.example_weight, the largest):
        # its numbers travel as they are said, so its product carries the marks.
        example = example_weight(L.grad_W, largest=True)
        if worked:

            def product(j: int, k: int) -> str:
                marks = ("[[delta]]", "[[input]]", "[[product]]")
                if (j, k) != example:
                    marks = ("", "", "")
                return (
                    f"from {self.prev_name(i, k)} to {self.unit(i, j)}, {marks[0]}"
                    f"{self.n(L.delta[0, j])} times {marks[1]}{self.n(a_prev[0, k])} is "
                    f"{marks[2]}{self.n(L.grad_W[j, k])}"
                )

            parts = "; ".join(product(j, k) for j, k in edges)
            self.say(said, f"{parts[0].upper()}{parts[1:]}.", DETAIL)
            first = product(*example)
            others = "; [[table]]the others follow the same rule" if len(edges) > 1 else ""
            self.say(
                said,
                f"For the weight {first}{others}."
                if first_layer
                else f"[[gradients]]The gradients of {self.layer(i)} follow the same rule: for "
                f"the weight {first}.",
                STANDARD,
            )
        elif size > 1:
            # The batch, as the engine adds it up: each sample's delta meets its input, the
            # products (Step.gradient_terms) go into one sum, which lands on the edge.
            j, k = example
            terms = step.gradient_terms(i, j, k)
            shown = shown_samples(terms)
            which = (
                f", on screen the {len(shown)} largest of the {size}" if len(shown) < size else ""
            )
            self.say(
                said,
                f"For {self.edge(i, j, k)}, [[delta]]each sample's delta meets [[input]]the "
                f"input it carried, [[product]]one product per sample{which}. [[mean]]Added "
                f"up, they make {self.n(L.grad_W[j, k])}: each delta carries one over {size} "
                "of the batch mean, so the sum is the mean of the samples' own gradients, "
                "[[edge]]and that is the gradient the weight gets.",
                FULL,
            )
            lead = "The gradients are" if total <= LIST_LIMIT else "The largest, in size, are"
            parts = join_words([f"{self.n(L.grad_W[e])} for {self.edge(i, *e)}" for e in edges])
            self.say(said, f"[[table]]{lead} {parts}.", FULL)
        else:
            lead = "The gradients are" if total <= LIST_LIMIT else "The largest, in size, are"
            parts = join_words(
                [
                    f"{'[[product]]' if (j, k) == example else ''}{self.n(L.grad_W[j, k])} "
                    f"for {self.edge(i, j, k)}"
                    for j, k in edges
                ]
            )
            self.say(said, f"{lead} {parts}.", FULL)
        j, k = example
        self.say(
            said,
            f"[[gradients]]The gradients of {self.layer(i)}{summed}: the largest is "
            f"[[{'mean' if size > 1 else 'product'}]]{self.n(L.grad_W[j, k])}, for "
            f"{self.edge(i, j, k)}.",
            BRIEF,
        )
        self.say_once(
            said,
            "bias gradient",
            "[[bias]]Each bias has a gradient too: the delta itself, because a bias always sees an "
            "input of one.",
            DETAIL,
        )
        self._zero_gradients(said, step, i)
        if not self.trace.network.trainable[i]:
            self.say(
                said,
                f"{self.layer(i).capitalize()} is frozen. Its gradients are still computed, "
                "because the layers before it need its deltas, but its weights will not move.",
                FULL,
            )
        self.say_once(
            said,
            "gradient size",
            "[[size]]A gradient is only as large as the activation on its edge: an input close to "
            "zero barely learns.",
            DETAIL,
        )
        for j, k in [(j, k) for j in range(units) for k in range(fan_in)][:NOTES_LIMIT]:
            rhs = (
                f"{self.t(L.delta[0, j])} \\cdot {self.t(a_prev[0, k])} = "
                if size == 1
                else r"\sum_{\text{batch}} \delta a = "
            )
            said.formulas.append(
                rf"\frac{{\partial L}}{{\partial {self.edge_tex(i, j, k)}}} = "
                f"{rhs}{self.v(L.grad_W[j, k])}"
            )
        return said

    def _zero_gradients(self, said: Said, step: Step, i: int) -> None:
        reasons = zero_gradient_reasons(step, i)
        total = step.layers[i].grad_W.size
        if not reasons:
            return
        count = sum(len(v) for v in reasons.values())
        why = []
        if reasons.get("zero input"):
            names = [self.prev_name(i, k) for k in sorted({k for _, k in reasons["zero input"]})]
            why.append(
                f"their input, {join_words(names[:LIST_LIMIT], 'or')}, is zero, so nothing "
                "flowed through them"
            )
        if reasons.get("dead unit"):
            names = [self.unit(i, j) for j in sorted({j for j, _ in reasons["dead unit"]})]
            why.append(
                f"the unit they feed, {join_words(names[:LIST_LIMIT], 'or')}, was off, so its "
                "delta is zero"
            )
        if reasons.get("zero delta"):
            why.append("the unit they feed has a delta of zero")
        if reasons.get("cancelled"):
            why.append("the samples of the batch pull them in opposite ways that cancel")
        lead = "some because " if len(why) > 1 else ""
        self.say(
            said,
            f"[[note]]{count} of the {total} weights have a gradient of exactly zero: "
            + "; ".join(lead + w for w in why)
            + ".",
        )

    # -- update --------------------------------------------------------------------

    def _update(self, beat: Beat) -> Said:
        assert beat.layer is not None
        step, i = self.step_of(beat), beat.layer
        L = step.layers[i]
        units, fan_in = L.W.shape
        said = Said(f"Update of {self.layer(i)}")
        if self.first(beat, "update"):
            self.say(
                said,
                "[[known]]Every gradient is known now, so the weights can change. [[layers]]The "
                "layers are updated one after another, in network order, but since nothing "
                "depends on the new values any more, the order does not matter.",
                DETAIL,
            )
        if not L.updated:
            # After the marked detailed opening, the table of w = w⁺ shows what it says.
            marked = "[[table]]" if self.first(beat, "update") and self.level in DETAIL else ""
            self.say(said, marked + self._not_updated(i, L.update_reason))
            said.formulas.append(r"w^+ = w")
            return said
        # The weight the screen changes as its sentence says it (storyboard.example_weight).
        j, k = example_weight(L.delta_W)
        name = self.opt.get("name", "sgd")
        lr = self.opt["learning_rate"]
        w, g, w_next = L.W[j, k], L.grad_W[j, k], L.W_next[j, k]
        if decay_update(self, said, i, L, j, k):
            return said
        if name == "momentum":
            v = L.state["velocity"][j, k]
            self.say_once(
                said,
                "momentum rule",
                f"[[rule]]With momentum, each weight keeps a velocity: "
                f"{self.n(self.opt['momentum'])} "
                "times its previous velocity, plus the new gradient; the weight moves by minus "
                f"the learning rate, {self.n(lr)}, times the velocity.",
                FULL,
            )
            self.say(
                said,
                f"[[table]]For {self.edge(i, j, k)}, the gradient is {self.n(g)} and the "
                f"velocity is now {self.n(v)}: the weight goes from {self.n(w)} to "
                f"[[weight]]{self.n(w_next)}.",
                FULL,
            )
            said.formulas.append(
                rf"v^+ = {self.v(v)},\quad w^+ = {self.v(w)} - {self.t(lr)} \cdot {self.t(v)} "
                f"= {self.v(w_next)}"
            )
        elif name == "adam":
            m, v = L.state["m"][j, k], L.state["v"][j, k]
            self.say_once(
                said,
                "adam rule",
                "[[rule]]Adam keeps two running averages for each weight: m, of its gradients, and "
                "v, of their squares. [[hat]]After correcting both for their start at zero, the "
                f"weight moves by the learning rate, {self.n(lr)}, times m hat divided by the "
                "square root of v hat.",
                FULL,
            )
            self.say(
                said,
                f"[[table]]For {self.edge(i, j, k)}, with the gradient {self.n(g)}, m is now "
                f"{self.n(m)} and v is {self.n(v)}: the weight goes from {self.n(w)} to "
                f"[[weight]]{self.n(w_next)}.",
                FULL,
            )
            self.say_once(
                said,
                "adam scale",
                "[[scale]]Dividing by the square root of v makes each step about as large as the "
                "learning rate, whatever the scale of the gradient.",
                DETAIL,
            )
            said.formulas.append(
                rf"m = {self.v(m)},\quad v = {self.v(v)},\quad "
                rf"w^+ = w - \eta \frac{{\hat m}}{{\sqrt{{\hat v}} + \epsilon}} = {self.v(w_next)}"
            )
        else:
            intro = (
                "Each weight steps against its gradient, and the learning rate, "
                f"{self.n(lr)}, sets the size of the step."
                if self.first(beat, "update")
                else f"{self.layer(i).capitalize()} steps the same way."
            )
            self.say(
                said,
                f"[[rule]]{intro} [[table]]{self.edge(i, j, k).capitalize()}: {self.n(w)} minus "
                f"{self.n(lr)} times {self.n(g)} gives [[weight]]{self.n(w_next)}.",
                FULL,
            )
        self.other_weights(said, i, L)
        self.say(
            said,
            f"[[rule]]{self.layer(i).capitalize()}: each weight moves against its gradient; "
            f"{self.edge(i, j, k)} becomes [[weight]]{self.n(w_next)}{self.others_too(L)}",
            BRIEF,
        )
        pictures.weights_change(self, said, i, L, j)
        if L.biases_updated:
            self.say_once(
                said,
                "biases move",
                "[[note]]The biases move the same way, against their own gradients.",
                FULL,
            )
        else:
            self.say_once(
                said, "biases fixed", "[[note]]The biases are not updated in this lecture.", FULL
            )
        if name == "sgd":
            self.say_once(
                said,
                "learning rate",
                "[[downhill]]The minus sign sends the weight downhill: a positive gradient means "
                "the loss rises with the weight, so the weight goes down. [[rate]]The learning "
                "rate is a choice, not something learned: twice as large, and every step "
                "doubles; too large, and the loss can overshoot and grow.",
                DETAIL,
            )
        for jj, kk in [(jj, kk) for jj in range(units) for kk in range(fan_in)][:NOTES_LIMIT]:
            if name == "sgd":
                said.formulas.append(
                    f"{self.edge_tex(i, jj, kk)}^+ = {self.v(L.W[jj, kk])} - {self.t(lr)} "
                    rf"\cdot {self.t(L.grad_W[jj, kk])} = {self.v(L.W_next[jj, kk])}"
                )
            else:
                said.formulas.append(
                    f"{self.edge_tex(i, jj, kk)}: {self.v(L.W[jj, kk])} \\to "
                    f"{self.v(L.W_next[jj, kk])}"
                )
        return said

    def other_weights(self, said: Said, i: int, L: LayerStep) -> None:
        """The sentence at which every other edge of the layer turns to its w⁺ (the
        update beat's ``edges`` part): the detailed level reads them (the largest few of
        a large layer), the standard level says they move too."""
        units, fan_in = L.W.shape
        if units * fan_in == 1:
            return
        edges = [(j, k) for j in range(units) for k in range(fan_in)]
        if len(edges) > LIST_LIMIT:
            edges = sorted(edges, key=lambda e: -abs(L.delta_W[e]))[:2]
        edges = [e for e in edges if e != example_weight(L.delta_W)] or edges
        others = [
            f"{'the weight ' if n == 0 else ''}from {self.prev_name(i, kk)} to "
            f"{self.unit(i, jj)} becomes {self.n(L.W_next[jj, kk])}"
            for n, (jj, kk) in enumerate(edges)
        ]
        rest = "" if len(edges) == units * fan_in - 1 else "; every other weight by its own amount"
        self.say(said, f"[[edges]]Likewise, {join_words(others)}{rest}.", DETAIL)
        self.say(
            said,
            f"[[edges]]Every other weight of {self.layer(i)} moves the same way, by its own "
            "amount.",
            STANDARD,
        )

    @staticmethod
    def others_too(L: LayerStep) -> str:
        """The brief level's end of its update sentence: the other edges change at it."""
        return ", [[edges]]and every other weight with it." if L.W.size > 1 else "."

    # -- matrix form and the batch (words in narration/matrices.py) ------------------

    def _matrix_forward(self, beat: Beat) -> Said:
        return matrices.matrix_forward(self, beat)

    def _matrix_backward(self, beat: Beat) -> Said:
        return matrices.matrix_backward(self, beat)

    def _batch(self, beat: Beat) -> Said:
        return matrices.batch(self, beat)

    def _weight_slope(self, beat: Beat) -> Said:
        return slope.weight_slope(self, beat)

    def _update_thrown(self, beat: Beat) -> Said:
        return thrown.update_thrown(self, beat)

    def _not_updated(self, i: int, reason: str) -> str:
        layer = self.layer(i)
        if reason.startswith("frozen"):
            return (
                f"{layer.capitalize()} is frozen, so its weights keep their values, whatever "
                "their gradients say."
            )
        if "random_layer" in reason:
            return (
                "This step updates only one layer, chosen at random, and it is not "
                f"{layer}: its weights keep their values, even where their gradients are "
                "not zero."
            )
        return f"{layer.capitalize()} is not updated in this step."

    def _update_ranking(self, beat: Beat) -> Said:
        step = self.step_of(beat)
        said = Said("How much each weight moved")
        moves = [
            (abs(L.delta_W[j, k]), i, j, k)
            for i, L in enumerate(step.layers)
            for j in range(L.W.shape[0])
            for k in range(L.W.shape[1])
        ]
        total = len(moves)
        moved = [m for m in moves if m[0] != 0]
        moved.sort(key=lambda m: -m[0])
        self.say(said, "[[title]]Do all the weights change, and by the same amount?", FULL)
        if moved:
            _, i1, j1, k1 = moved[0]
            _, i2, j2, k2 = moved[-1]
            big = step.layers[i1].delta_W[j1, k1]
            small = step.layers[i2].delta_W[j2, k2]
            count = f"All {total}" if len(moved) == total else f"{len(moved)} of the {total}"
            rule = {
                "momentum": "the learning rate times its own velocity",
                "adam": "set by its own history of gradients",
            }.get(self.opt.get("name", "sgd"), "the learning rate times its own gradient")
            if self.opt.get("weight_decay") and self.opt.get("name", "sgd") == "sgd":
                rule = "the learning rate times its own gradient plus lambda times itself"
            self.say(
                said, f"[[bars]]{count} weights changed, each by its own amount: {rule}.", FULL
            )
            if len(moved) > 1:
                # Sizes, as the bars on screen show them (|w+ - w|); the sign becomes a word.
                self.say(
                    said,
                    f"[[largest]]The largest move is {self.edge(i1, j1, k1)}, {self._way(big)} by "
                    f"{self.n(abs(big))}; the smallest, {self.edge(i2, j2, k2)}, "
                    f"{self._way(small)} by {self.n(abs(small))}.",
                    FULL,
                )
                self.say(
                    said,
                    f"[[bars]]Each weight moves by its own amount, from {self.n(abs(big))} for the "
                    f"largest move down to {self.n(abs(small))}.",
                    BRIEF,
                )
        decay_ranking(self, said, step)
        still = total - len(moved)
        if still:
            self.say(
                said,
                f"[[note]]{still} of the {total} weights did not move: "
                f"{self._still_reasons(step)}.",
            )
        self.say(
            said,
            "[[blame]]A weight moves more when the unit it feeds is more to blame, a larger "
            "delta, and when the activation it carries is larger.",
            DETAIL,
        )
        if self.opt.get("name") in ("momentum", "adam"):
            self.say(
                said,
                "[[history]]With this optimizer, the step also depends on the gradients of earlier "
                "steps, so a weight can keep moving even when its gradient is zero now.",
                FULL,
            )
        said.formulas.append(r"\Delta w = w^+ - w")
        for _, i, j, k in moved[:NOTES_LIMIT]:
            said.formulas.append(
                f"\\Delta {self.edge_tex(i, j, k)} = {self.v(step.layers[i].delta_W[j, k])}"
            )
        return said

    @staticmethod
    def _way(move: float) -> str:
        return "down" if move < 0 else "up"

    def _still_reasons(self, step: Step) -> str:
        why: list[str] = []
        for i, L in enumerate(step.layers):
            if not L.updated:
                why.append(
                    f"{self.layer(i)} is frozen"
                    if L.update_reason.startswith("frozen")
                    else f"{self.layer(i)} was not the layer chosen this step"
                )
                continue
            reasons = zero_gradient_reasons(step, i)
            here = []
            if reasons.get("zero input"):
                here.append("some inputs were zero")
            if reasons.get("dead unit"):
                here.append("some units were off")
            if reasons.get("zero delta") or reasons.get("cancelled"):
                here.append("some gradients were exactly zero")
            if here:
                why.append(f"in {self.layer(i)}, {join_words(here)}")
        return "; ".join(why) if why else "their gradient was zero"

    # -- summary -------------------------------------------------------------------

    def _summary(self, beat: Beat) -> Said:
        step = self.step_of(beat)
        said = Said("Step summary")
        what = "this batch" if step.x.shape[0] > 1 else "this sample"
        before, after = step.loss, step.loss_after
        if after < before:
            change = f"down from {self.n(before)}"
        elif after > before:
            change = (
                f"up from {self.n(before)}: the step overshot, and a smaller learning rate "
                "would help"
            )
        else:
            change = f"the same as before, {self.n(before)}"
        self.say(
            said, f"[[curve]]After the update, the loss on {what} is {self.n(after)}, {change}."
        )
        self.say(
            said,
            "[[note]]One step moves the weights only a little; training repeats these same "
            "steps, many times, over all the samples.",
            FULL,
        )
        self.say(
            said,
            "[[cycle]]Forward, loss, backward, update: that is one iteration of gradient "
            "descent. [[next]]The next step starts again from the new weights.",
            DETAIL,
        )
        said.formulas.append(f"L: {self.v(before)} \\to {self.v(after)}")
        return said


def zero_gradient_reasons(step: Step, i: int) -> dict[str, list[tuple[int, int]]]:
    """Why each weight of layer ``i`` with a gradient of exactly zero got none.

    ``zero input``: its input was zero for every sample; ``dead unit``: the unit it feeds
    had a zero activation derivative (a ReLU that was off); ``zero delta``: the unit's
    delta was zero for another reason; ``cancelled``: the samples' contributions cancel.
    """
    L: LayerStep = step.layers[i]
    a_prev = step.x if i == 0 else step.layers[i - 1].a
    out: dict[str, list[tuple[int, int]]] = {}
    for j, k in zip(*np.nonzero(L.grad_W == 0), strict=True):
        j, k = int(j), int(k)
        if np.all(a_prev[:, k] == 0):
            key = "zero input"
        elif np.all(L.delta[:, j] == 0):
            key = "dead unit" if np.all(L.act_derivative[:, j] == 0) else "zero delta"
        else:
            key = "cancelled"
        out.setdefault(key, []).append((j, k))
    return out
