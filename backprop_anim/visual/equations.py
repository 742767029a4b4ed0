"""The formula of one operation of a step, with the step's numbers, as one :class:`Expr`.

These are the equations the lecture's scenes write (a neuron's weighted sum, its
activation, the slope of the loss, f'(z), the delta, the loss, the update rule), built
from the same :mod:`~backprop_anim.visual.formula` pieces with the same numbers (trace
values through :func:`~backprop_anim.numbers.fmt`), plus the per-weight gradient and
update lines that the scenes show as tables. They need no renderer, so a page can
typeset the LaTeX spelling and a video the Typst one, and both read the same digits.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..maths.losses import get_loss
from ..trace.model import Step, Trace
from . import formula as F

MAX_TERMS = 3  # terms of a sum written out before "…" (as in the scenes)


def unit_name(trace: Trace, column: int, unit: int) -> str:
    """The name of a unit, counting the input layer as column 0."""
    info = trace.network
    return info.input_names[unit] if column == 0 else info.unit_names[column - 1][unit]


def per_sample(expr: F.Expr, step: Step) -> F.Expr:
    """A per-sample term of a batch mean: divided by the batch size when there is a batch."""
    n = len(step.samples)
    return expr if n == 1 else F.frac(expr, F.Expr(str(n), str(n)))


def _aligned(
    lhs: F.Expr, symbolic: F.Expr, numeric: F.Expr, result: F.Expr, split: bool = False
) -> F.Expr:
    """lhs = symbols, then = numbers = result on the next line (``split``: the result on a
    third line, for a long sum in a narrow panel)."""
    after = F.Expr(" \\ &= ", r" \\ &= ") if split else F.lit("=")
    return (
        lhs
        + F.Expr(" &= ", " &= ")
        + symbolic
        + F.Expr(" \\ &= ", r" \\ &= ")
        + numeric
        + after
        + result
    )


def _a_prev(step: Step, i: int):
    return step.x if i == 0 else step.layers[i - 1].a


def weighted_sum(trace: Trace, step: Step, i: int, j: int, digits: int) -> F.Expr:
    """z_j = Σ w a + b, written out with the step's numbers (first sample of a batch)."""
    layer = step.layers[i]
    values = _a_prev(step, i)[0]
    me = unit_name(trace, i + 1, j)
    fan_in = layer.W.shape[1]
    shown = range(min(fan_in, MAX_TERMS))
    sym_terms = [
        F.sub("w", f"{me},{unit_name(trace, i, k)}")
        + F.sym("dot")
        + F.sub("a", unit_name(trace, i, k))
        for k in shown
    ]
    num_terms = [
        F.num(layer.W[j, k], digits) + F.sym("dot") + F.num(values[k], digits) for k in shown
    ]
    if fan_in > MAX_TERMS:
        sym_terms.append(F.sym("dots"))
        num_terms.append(F.sym("dots"))
    sym_terms.append(F.sub("b", me))
    num_terms.append(F.num(layer.b[j], digits))
    return _aligned(
        F.sub("z", me),
        F.join(sym_terms, "+"),
        F.join(num_terms, "+"),
        F.number(layer.z[0, j], digits),
        split=fan_in > MAX_TERMS,
    )


def activation(trace: Trace, step: Step, i: int, j: int, digits: int) -> F.Expr:
    """a_j = f(z_j) = f(number) = number (softmax: e^z over the sum)."""
    layer = step.layers[i]
    act = trace.network.activations[i]
    me = unit_name(trace, i + 1, j)
    z, a = float(layer.z[0, j]), float(layer.a[0, j])
    if act == "softmax":
        return (
            F.sub("a", me)
            + F.lit("=")
            + F.frac(
                F.sup(F.var("e"), F.sub("z", me)), F.sym("sum") + F.sup(F.var("e"), F.sub("z", "k"))
            )
            + F.lit("=")
            + F.number(a, digits)
        )
    symbol = F.activation_symbol(act)
    return (
        F.sub("a", me)
        + F.lit("=")
        + F.call(symbol, F.sub("z", me))
        + F.lit("=")
        + F.call(symbol, F.num(z, digits))
        + F.lit("=")
        + F.number(a, digits)
    )


def loss(trace: Trace, step: Step, digits: int, shown: Sequence[int] | None = None) -> F.Expr:
    """L = the loss's formula = its shares = the step's loss.

    ``shown``: the outputs whose shares are written out (at most four, in that order; a
    wide output layer's scene passes the largest); "…" stands for the rest.
    """
    terms = step.loss_terms.sum(axis=0)
    name = trace.network.loss
    written = {
        "half_sse": F.Expr("1/2 sum_k (y_k - a_k)^2", r"\frac{1}{2}\sum_k (y_k - a_k)^2"),
        "mse": F.Expr("1/K sum_k (y_k - a_k)^2", r"\frac{1}{K}\sum_k (y_k - a_k)^2"),
        "bce": F.Expr(
            "-1/K sum_k [y_k ln a_k + (1 - y_k) ln(1 - a_k)]",
            r"-\frac{1}{K}\sum_k [y_k \ln a_k + (1-y_k)\ln(1-a_k)]",
        ),
        "cross_entropy": F.Expr("-sum_k y_k ln a_k", r"-\sum_k y_k \ln a_k"),
    }[name]
    order = list(range(len(terms)) if shown is None else shown)[:4]
    shares = [F.num(terms[k], digits) for k in order]
    if len(order) < len(terms):
        shares.append(F.sym("dots"))
    return _aligned(F.var("L"), written, F.join(shares, "+"), F.number(step.loss, digits))


def loss_term(trace: Trace, step: Step, k: int, digits: int) -> F.Expr:
    """Output k's share of the loss, written out with its target and output."""
    i = len(trace.network.unit_names) - 1
    me = unit_name(trace, i + 1, k)
    y, a = float(step.y[0, k]), float(step.layers[i].a[0, k])
    share = F.sub("L", me)
    value = F.number(float(step.loss_terms[:, k].sum()), digits)
    if len(step.samples) > 1:
        return share + F.lit("=") + value
    yy, aa = F.num(y, digits), F.num(a, digits)
    name = trace.network.loss
    outputs = step.y.shape[1]
    gap = F.paren(F.sub("y", me) + F.lit("-") + F.sub("a", me))
    gap_n = F.paren(yy + F.lit("-") + aa)
    if name == "half_sse":
        half = F.frac(F.Expr("1", "1"), F.Expr("2", "2"))
        sym = half + F.sup(gap, "2")
        num = half + F.sup(gap_n, "2")
    elif name == "mse":
        k_ = F.Expr(str(outputs), str(outputs))
        sym = F.frac(F.sup(gap, "2"), F.var("K"))
        num = F.frac(F.sup(gap_n, "2"), k_)
    elif name == "cross_entropy":
        sym = (
            F.Expr("-", "-")
            + F.sub("y", me)
            + F.Expr(" ", " ")
            + F.sym("ln")
            + F.Expr(" ", " ")
            + F.sub("a", me)
        )
        num = F.Expr("-", "-") + yy + F.sym("dot") + F.sym("ln") + F.Expr(" ", " ") + aa
    else:
        return share + F.lit("=") + value
    return share + F.lit("=") + sym + F.lit("=") + num + F.lit("=") + value


def loss_change(step: Step, digits: int) -> F.Expr:
    """The step's loss before its update and after it (same batch): L -> L⁺."""
    return (
        F.var("L")
        + F.lit("=")
        + F.number(step.loss, digits)
        + F.sym("rarrow")
        + F.sup(F.var("L"), "+")
        + F.lit("=")
        + F.number(step.loss_after, digits)
    )


def fused_output(trace: Trace, i: int) -> bool:
    """Whether layer i's delta is the loss's closed form a - y (softmax/CE, sigmoid/BCE)."""
    info = trace.network
    if i != len(info.layer_names) - 1:
        return False
    return get_loss(info.loss).fused_activation == info.activations[i]


def slope(trace: Trace, step: Step, i: int, j: int, digits: int) -> F.Expr:
    """∂L/∂a_j: from the target at the output, from the next layer's deltas inside."""
    info = trace.network
    layer = step.layers[i]
    me = unit_name(trace, i + 1, j)
    dL_da = float(layer.dL_da[0, j])
    grad_a = F.grad(F.var("L"), F.sub("a", me))
    if i == len(info.layer_names) - 1:
        if info.loss == "half_sse":
            a, y = float(layer.a[0, j]), float(step.y[0, j])
            rhs = (
                per_sample(F.sub("a", me) + F.lit("-") + F.sub("y", me), step)
                + F.lit("=")
                + per_sample(F.num(a, digits) + F.lit("-") + F.num(y, digits), step)
            )
            return grad_a + F.lit("=") + rhs + F.lit("=") + F.number(dL_da, digits)
        return grad_a + F.lit("=") + F.number(dL_da, digits)
    nxt = step.layers[i + 1]
    k_all = range(nxt.W.shape[0])
    shown = list(k_all)[:MAX_TERMS]
    terms_sym = [
        F.sub("w", f"{unit_name(trace, i + 2, k)},{me}")
        + F.sym("dot")
        + F.sub(F.sym("delta"), unit_name(trace, i + 2, k))
        for k in shown
    ]
    terms_num = [
        F.num(nxt.W[k, j], digits) + F.sym("dot") + F.num(nxt.delta[0, k], digits) for k in shown
    ]
    if len(k_all) > MAX_TERMS:
        terms_sym.append(F.sym("dots"))
        terms_num.append(F.sym("dots"))
    return _aligned(
        grad_a,
        F.join(terms_sym, "+"),
        F.join(terms_num, "+"),
        F.number(dL_da, digits),
        split=len(k_all) > MAX_TERMS,
    )


def derivative(trace: Trace, step: Step, i: int, j: int, digits: int) -> F.Expr:
    """f'(z_j), in terms of a where it reads that way (sigmoid, tanh), and its value."""
    act = trace.network.activations[i]
    me = unit_name(trace, i + 1, j)
    symbol = F.activation_symbol(act)
    deriv_name = F.Expr(f"{symbol.typst}'", f"{symbol.latex}'")
    a = float(step.layers[i].a[0, j])
    eq = F.call(deriv_name, F.sub("z", me)) + F.lit("=")
    if act == "sigmoid":
        eq = (
            eq
            + F.sub("a", me)
            + F.paren(F.Expr("1", "1") + F.lit("-") + F.sub("a", me))
            + F.lit("=")
        )
        eq = (
            eq
            + F.num(a, digits)
            + F.paren(F.Expr("1", "1") + F.lit("-") + F.num(a, digits))
            + F.lit("=")
        )
    elif act == "tanh":
        eq = eq + F.Expr("1", "1") + F.lit("-") + F.sup(F.sub("a", me), "2") + F.lit("=")
        eq = eq + F.Expr("1", "1") + F.lit("-") + F.sup(F.num(a, digits), "2") + F.lit("=")
    return eq + F.number(float(step.layers[i].act_derivative[0, j]), digits)


def delta(trace: Trace, step: Step, i: int, j: int, digits: int) -> F.Expr:
    """δ_j = ∂L/∂a_j · f'(z_j), or a - y where the loss and the output make it so."""
    layer = step.layers[i]
    act = trace.network.activations[i]
    me = unit_name(trace, i + 1, j)
    value = F.number(float(layer.delta[0, j]), digits)
    if fused_output(trace, i):
        a, y = float(layer.a[0, j]), float(step.y[0, j])
        return (
            F.sub(F.sym("delta"), me)
            + F.lit("=")
            + per_sample(F.sub("a", me) + F.lit("-") + F.sub("y", me), step)
            + F.lit("=")
            + per_sample(F.num(a, digits) + F.lit("-") + F.num(y, digits), step)
            + F.lit("=")
            + value
        )
    symbol = F.activation_symbol(act)
    deriv_name = F.Expr(f"{symbol.typst}'", f"{symbol.latex}'")
    return (
        F.sub(F.sym("delta"), me)
        + F.lit("=")
        + F.grad(F.var("L"), F.sub("a", me))
        + F.sym("dot")
        + F.call(deriv_name, F.sub("z", me))
        + F.lit("=")
        + F.num(float(layer.dL_da[0, j]), digits)
        + F.sym("dot")
        + F.num(float(layer.act_derivative[0, j]), digits)
        + F.lit("=")
        + value
    )


def _rows(lines: list[F.Expr]) -> F.Expr:
    """Lines stacked and aligned at their first '=' (the scenes' two-line layout)."""
    out = lines[0]
    for line in lines[1:]:
        out = out + F.Expr(" \\ ", r" \\ ") + line
    return out


def _batch_sum(step: Step) -> F.Expr:
    if len(step.samples) == 1:
        return F.Expr("", "")
    return F.Expr('sum_"batch" ', r"\sum_{\text{batch}} ")


def weight_gradients(trace: Trace, step: Step, i: int, j: int, digits: int) -> F.Expr:
    """∂L/∂w_{j,k} = δ_j · a_k for the weights into unit j (first terms, then …)."""
    layer = step.layers[i]
    me = unit_name(trace, i + 1, j)
    a_prev = _a_prev(step, i)
    fan_in = layer.W.shape[1]
    lines = []
    for k in range(min(fan_in, MAX_TERMS)):
        src = unit_name(trace, i, k)
        g = F.number(float(layer.grad_W[j, k]), digits)
        lhs = F.grad(F.var("L"), F.sub("w", f"{me},{src}"))
        rule = _batch_sum(step) + F.sub(F.sym("delta"), me) + F.sym("dot") + F.sub("a", src)
        if len(step.samples) == 1:
            nums = (
                F.num(float(layer.delta[0, j]), digits)
                + F.sym("dot")
                + F.num(float(a_prev[0, k]), digits)
            )
            lines.append(lhs + F.Expr(" &= ", " &= ") + rule + F.lit("=") + nums + F.lit("=") + g)
        else:
            lines.append(lhs + F.Expr(" &= ", " &= ") + rule + F.lit("=") + g)
    if fan_in > MAX_TERMS:
        lines.append(F.Expr(" & ", " & ") + F.sym("dots"))
    return _rows(lines)


def bias_gradient(trace: Trace, step: Step, i: int, j: int, digits: int) -> F.Expr:
    """∂L/∂b_j = δ_j (summed over a batch)."""
    layer = step.layers[i]
    me = unit_name(trace, i + 1, j)
    return (
        F.grad(F.var("L"), F.sub("b", me))
        + F.lit("=")
        + _batch_sum(step)
        + F.sub(F.sym("delta"), me)
        + F.lit("=")
        + F.number(float(layer.grad_b[j]), digits)
    )


def update_rule(optimizer: dict) -> F.Expr:
    """The optimizer's rule for one weight (the update scene's equation); with weight decay,
    the term λw of the weight itself (decoupled for Adam, as AdamW)."""
    w, g = F.var("w"), F.grad(F.var("L"), F.var("w"))
    eta = F.sym("eta")
    decay = F.sym("lambda") + F.Expr(" w", " w") if optimizer.get("weight_decay") else None
    if optimizer["name"] == "momentum":
        return (
            F.sup(F.var("v"), "+")
            + F.lit("=")
            + F.sym("mu")
            + F.Expr(" v", " v")
            + F.lit("+")
            + g
            + (F.lit("+") + decay if decay is not None else F.Expr("", ""))
            + F.Expr(", quad ", r",\quad ")
            + F.sup(w, "+")
            + F.lit("=")
            + w
            + F.lit("-")
            + eta
            + F.Expr(" ", " ")
            + F.sup(F.var("v"), "+")
        )
    if optimizer["name"] == "adam":
        head, step = adam_rule(optimizer)
        return head + step
    if decay is not None:
        return F.sup(w, "+") + F.lit("=") + w + F.lit("-") + eta + F.paren(g + F.lit("+") + decay)
    return F.sup(w, "+") + F.lit("=") + w + F.lit("-") + eta + F.sym("dot") + g


def adam_rule(optimizer: dict) -> tuple[F.Expr, F.Expr]:
    """Adam's rule as (w⁺ = w − η, the step m̂ / (√v̂ + ε)): two pieces, so that the
    update scene can point at the step's terms as the narration names them."""
    w, eta = F.var("w"), F.sym("eta")
    step = F.frac(
        F.Expr("hat(m)", r"\hat m"),
        F.Expr("sqrt(hat(v)) + epsilon", r"\sqrt{\hat v}+\epsilon"),
    )
    if optimizer.get("weight_decay"):
        step = F.paren(step + F.lit("+") + F.sym("lambda") + F.Expr(" w", " w"))
    return F.sup(w, "+") + F.lit("=") + w + F.lit("-") + eta + F.Expr(" ", " "), step


def weight_updates(
    trace: Trace, step: Step, i: int, j: int, digits: int, bias: bool = False
) -> F.Expr:
    """w⁺ = w − η·∂L/∂w with numbers for the weights (or the bias) of unit j."""
    layer = step.layers[i]
    opt = trace.network.optimizer
    me = unit_name(trace, i + 1, j)
    lr = F.num(float(opt["learning_rate"]), digits)
    if bias:
        items = [
            (F.sub("b", me), float(layer.b[j]), float(layer.grad_b[j]), float(layer.b_next[j]))
        ]
    else:
        fan_in = layer.W.shape[1]
        items = [
            (
                F.sub("w", f"{me},{unit_name(trace, i, k)}"),
                float(layer.W[j, k]),
                float(layer.grad_W[j, k]),
                float(layer.W_next[j, k]),
            )
            for k in range(min(fan_in, MAX_TERMS))
        ]
    lines = []
    plain = opt["name"] == "sgd" and not opt.get("weight_decay")
    if not plain:
        # Momentum and Adam carry state from earlier steps: the rule, then the results.
        eta = F.sym("eta") + F.lit("=") + lr
        lines.append(F.Expr(" & ", " & ") + update_rule(opt) + F.Expr(", quad ", r",\quad ") + eta)
    for name, old, grad, new in items:
        lhs = F.sup(name, "+") + F.Expr(" &= ", " &= ")
        if plain and new != old:
            lines.append(
                lhs
                + F.number(old, digits)
                + F.lit("-")
                + lr
                + F.sym("dot")
                + F.num(grad, digits)
                + F.lit("=")
                + F.number(new, digits)
            )
        else:
            lines.append(
                lhs
                + F.number(new, digits)
                + F.Expr(' quad ("was" ', r" \quad (\text{was } ")
                + F.number(old, digits)
                + F.Expr(")", ")")
            )
    if not bias and layer.W.shape[1] > MAX_TERMS:
        lines.append(F.Expr(" & ", " & ") + F.sym("dots"))
    return _rows(lines)
