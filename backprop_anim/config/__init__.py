"""Lecture configs: the YAML schema and its loader."""

from .loader import LoadedConfig, config_from_dict, load_config, parse_override
from .schema import Config

__all__ = ["Config", "LoadedConfig", "config_from_dict", "load_config", "parse_override"]
