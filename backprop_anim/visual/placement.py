"""Labels placed together: each at one of a few spots, no two overlapping.

A weight's number sits on its edge. One label alone goes to the middle of its edge, but
the labels of a whole layer cannot all go there: in the 2-2-2 textbook net the two
crossing edges share their middle, so their labels would cover each other and the
update beat used to give up and label one edge only. Each label has a few spots along
its edge (the middle first, then further out, each already clear of the neurons and
their names); this module chooses one spot per label so that no two overlap, or says
that there is no such choice. It is pure geometry (boxes in, indices out), so that the
scenes keep the drawing and the tests can check the choice alone.
"""

from __future__ import annotations

from collections.abc import Sequence

Box = tuple[float, float, float, float]  # left, right, bottom, top

# Tries (label, spot) before giving up: a layer that can carry labels has a dozen edges
# with a handful of spots each, placed in far fewer; the limit only bounds the worst case.
BUDGET = 20_000


def overlaps(a: Box, b: Box) -> bool:
    """Whether two boxes share some area (touching edges do not count)."""
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def crosses(box: Box, a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether the segment from ``a`` to ``b`` (x, y) passes through ``box``.

    A number on its edge should not also sit on another edge: where two edges cross, a
    label at the crossing reads as belonging to either. Clipped against the box's four
    sides (Liang–Barsky).
    """
    x0, y0 = float(a[0]), float(a[1])
    dx, dy = float(b[0]) - x0, float(b[1]) - y0
    lo, hi = 0.0, 1.0
    for p, q in ((-dx, x0 - box[0]), (dx, box[1] - x0), (-dy, y0 - box[2]), (dy, box[3] - y0)):
        if p == 0.0:
            if q < 0.0:
                return False
            continue
        r = q / p
        if p < 0.0:
            lo = max(lo, r)
        else:
            hi = min(hi, r)
        if lo > hi:
            return False
    return True


def place_together(
    spots: Sequence[Sequence[Box]],
    costs: Sequence[Sequence[float]] | None = None,
    budget: int = BUDGET,
) -> list[int] | None:
    """For each label, the index of its chosen spot (spots listed best first), so that no
    two chosen boxes overlap; None if some label has no spot or no choice was found.

    Depth-first, the label with the fewest spots first (it is the hardest to place), each
    label's spots in its order of preference: a layer whose labels fit in their middles
    gets exactly that. With ``costs`` (per label, per spot: e.g. how many other edges the
    label would cover), the choice found is then improved one label at a time, each
    moved to its cheapest spot that overlaps no other, until none can improve.
    """
    chosen = _first_fit(spots, budget)
    if chosen is None or costs is None:
        return chosen
    improved = True
    while improved:
        improved = False
        for n, boxes in enumerate(spots):
            others = [spots[m][chosen[m]] for m in range(len(spots)) if m != n]
            for s in sorted(range(len(boxes)), key=lambda s: (costs[n][s], s)):
                if costs[n][s] >= costs[n][chosen[n]]:
                    break
                if not any(overlaps(boxes[s], b) for b in others):
                    chosen[n] = s
                    improved = True
                    break
    return chosen


def _first_fit(spots: Sequence[Sequence[Box]], budget: int) -> list[int] | None:
    """The depth-first search of :func:`place_together`."""
    order = sorted(range(len(spots)), key=lambda n: len(spots[n]))
    if any(not spots[n] for n in order):
        return None
    chosen: dict[int, int] = {}
    tries = 0

    def place(depth: int) -> bool:
        nonlocal tries
        if depth == len(order):
            return True
        n = order[depth]
        for s, box in enumerate(spots[n]):
            tries += 1
            if tries > budget:
                return False
            if any(overlaps(box, spots[m][chosen[m]]) for m in chosen):
                continue
            chosen[n] = s
            if place(depth + 1):
                return True
            del chosen[n]
        return False

    if not place(0):
        return None
    return [chosen[n] for n in range(len(spots))]
