"""The words for inputs that are a picture, in the update beat: a unit's weights before,
their change and after, drawn as pictures (scenes/update.py, ``field`` part).

Said only where the scene draws them: the first layer (its weights meet the pixels) of a
config whose inputs form a picture (``data.image``), when the unit's weights moved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..trace.model import LayerStep

if TYPE_CHECKING:
    from .explain import Explainer, Said


def weights_change(ex: Explainer, said: Said, i: int, layer: LayerStep, j: int) -> None:
    """The sentence that opens the ``field`` part: what the three pictures are."""
    from .explain import ALL

    image = (ex.trace.config.get("data") or {}).get("image")
    delta = layer.delta_W[j]
    if i != 0 or not image or not np.any(delta):
        return
    unit = ex.unit(i, j)
    # How large one step is beside the weights: on one scale the change would not show,
    # so its picture has its own (and the words say why before and after look alike).
    small = float(np.abs(delta).max()) < 0.2 * float(np.abs(layer.W[j]).max())
    ex.say(
        said,
        f"[[field]]As pictures: {unit}'s {delta.size} weights, plus their change, give the "
        "new weights; the change is blue where a weight grew and orange where it shrank"
        + (", magnified: beside the weights it is too small to see." if small else "."),
        ALL,
    )
