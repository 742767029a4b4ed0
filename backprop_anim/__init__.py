"""backprop-anim: narrated, slow-motion lecture videos of a neural network learning.

The library is usable on its own (a notebook can do everything the CLI does)::

    from backprop_anim import load_config, train
    trace = train(load_config("configs/textbook-2-2-2.yaml"))
    trace.save("trace.json")
"""

from .config import Config, LoadedConfig, config_from_dict, load_config
from .engine.trainer import train
from .errors import ConfigError, DivergenceError, UserError
from .trace import Trace, load_trace

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigError",
    "DivergenceError",
    "LoadedConfig",
    "Trace",
    "UserError",
    "__version__",
    "config_from_dict",
    "load_config",
    "load_trace",
    "train",
]
