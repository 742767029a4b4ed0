"""Formula text: one source, typeset with Typst (default) or LaTeX (``--tex``).

Scenes build formulas from small helpers (``sub``, ``frac``, ``num``...) that return a
:class:`Expr` holding both spellings, so a formula is written once and renders either
way. Numbers enter only through :func:`num`, which uses the documented rounding rule
(:func:`backprop_anim.numbers.fmt`), so the screen shows exactly the digits that the
narration reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..numbers import fmt


@dataclass(frozen=True)
class Expr:
    typst: str
    latex: str

    def __add__(self, other: Expr | str) -> Expr:
        o = lit(other) if isinstance(other, str) else other
        return Expr(self.typst + o.typst, self.latex + o.latex)

    def __radd__(self, other: str) -> Expr:
        return lit(other) + self


def lit(text: str) -> Expr:
    """Operators and spacing that read the same in both languages (+, -, =, parentheses)."""
    return Expr(f" {text} ", f" {text} ")


def word(text: str) -> Expr:
    """Upright text (unit names like h1, words)."""
    safe = text.replace('"', "'")
    return Expr(f'"{safe}"', r"\text{" + safe.replace("_", r"\_") + "}")


def sym(name: str) -> Expr:
    """A named symbol: sigma, delta, eta, partial, sum, dot, arrow, prime..."""
    table = {
        "sigma": ("sigma", r"\sigma"),
        "delta": ("delta", r"\delta"),
        "eta": ("eta", r"\eta"),
        "mu": ("mu", r"\mu"),
        "lambda": ("lambda", r"\lambda"),
        "beta1": ("beta_1", r"\beta_1"),
        "beta2": ("beta_2", r"\beta_2"),
        "epsilon": ("epsilon", r"\epsilon"),
        "partial": ("partial ", r"\partial "),
        "sum": ("sum ", r"\sum "),  # a space: "sum e^z" must not read as "sume"
        "dot": (" dot ", r" \cdot "),
        "times": (" times ", r" \times "),
        "odot": (" dot.o ", r" \odot "),
        "larrow": (" <- ", r" \leftarrow "),
        "rarrow": (" -> ", r" \rightarrow "),
        "approx": (" approx ", r" \approx "),
        "ln": ("ln", r"\ln"),
        "prime": ("'", "'"),
        "tanh": ('"tanh"', r"\tanh"),
        "relu": ('"ReLU"', r"\mathrm{ReLU}"),
        "lrelu": ('"LReLU"', r"\mathrm{LReLU}"),
        "id": ('"id"', r"\mathrm{id}"),
        "softmax": ('"softmax"', r"\mathrm{softmax}"),
        "dots": (" dots.c ", r" \cdots "),
    }
    t, latex = table[name]
    return Expr(t, latex)


def var(letter: str) -> Expr:
    """A single-letter variable (z, a, w, b, y, L)."""
    return Expr(letter, letter)


def sub(base: Expr | str, index: Expr | str) -> Expr:
    b = var(base) if isinstance(base, str) else base
    i = word(index) if isinstance(index, str) else index
    return Expr(f"{b.typst}_({i.typst})", f"{b.latex}_{{{i.latex}}}")


def sup(base: Expr, power: Expr | str) -> Expr:
    p = Expr(power, power) if isinstance(power, str) else power
    return Expr(f"{base.typst}^({p.typst})", f"{base.latex}^{{{p.latex}}}")


def frac(top: Expr, bottom: Expr) -> Expr:
    return Expr(f"({top.typst})/({bottom.typst})", rf"\frac{{{top.latex}}}{{{bottom.latex}}}")


def paren(inner: Expr) -> Expr:
    return Expr(f"({inner.typst})", rf"\left({inner.latex}\right)")


def call(fn: Expr, arg: Expr) -> Expr:
    return Expr(f"{fn.typst}({arg.typst})", rf"{fn.latex}\left({arg.latex}\right)")


def number(value: float, digits: int) -> Expr:
    """A trace number, rounded by the documented rule (``fmt``), as written alone."""
    text = fmt(value, digits)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return Expr(
            f"{mantissa} dot 10^({int(exponent)})", rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
        )
    return Expr(text, text)


def num(value: float, digits: int) -> Expr:
    """A trace number as an operand: :func:`number`, negatives in parentheses."""
    n = number(value, digits)
    return paren(n) if fmt(value, digits).startswith("-") else n


def join(parts: list[Expr], sep: Expr | str) -> Expr:
    s = lit(sep) if isinstance(sep, str) else sep
    out = parts[0]
    for p in parts[1:]:
        out = out + s + p
    return out


def grad(of: Expr, wrt: Expr) -> Expr:
    """dL/dx as a fraction of partials."""
    d = sym("partial")
    return frac(d + of, d + wrt)


def activation_symbol(name: str) -> Expr:
    return {
        "sigmoid": sym("sigma"),
        "tanh": sym("tanh"),
        "relu": sym("relu"),
        "leaky_relu": sym("lrelu"),
        "linear": sym("id"),
        "softmax": sym("softmax"),
    }[name]
