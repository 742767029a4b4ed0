"""Pure maths that both the engine and the pictures need: activations and losses.

Each is a small object holding its forward formula, its derivative and the formula text
the video shows. This package sits below ``engine`` (which trains with it) and below
``visual``, ``narration`` and ``scenes`` (which draw and speak it), so that nothing that
draws ever imports the trainer.
"""

from .activations import ACTIVATIONS, Activation, get_activation
from .losses import LOSSES, Loss, get_loss

__all__ = ["ACTIVATIONS", "LOSSES", "Activation", "Loss", "get_activation", "get_loss"]
