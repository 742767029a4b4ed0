"""Third-party files shipped with the package (each folder says what, whence, licence)."""

from pathlib import Path

KATEX = Path(__file__).parent / "katex"
