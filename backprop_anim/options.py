"""Render options: one object, built by the CLI or a notebook, read by every stage.

Kept free of Manim so that the storyboard, the narration and the batch runner can use
it without importing a renderer. Quality letters mean what they mean in Manim.
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import UserError
from .numbers import DEFAULT_DIGITS

QUALITIES = {
    "l": ("low_quality", 854, 480, 15),
    "m": ("medium_quality", 1280, 720, 30),
    "h": ("high_quality", 1920, 1080, 60),
    "k": ("fourk_quality", 3840, 2160, 60),
}
SCENES = (
    "title",
    "overview",
    "forward",
    "loss",
    "backward",
    "matrix",
    "batch",
    "update",
    "summary",
)
DEFAULT_SCENES = ("title", "forward", "loss", "backward", "matrix", "batch", "update", "summary")
FORMATS = ("mp4", "webm", "gif", "mov")
VOICES = ("auto", "piper", "espeak", "none")


@dataclass
class RenderOptions:
    """Everything that shapes a render besides the trace itself."""

    quality: str = "l"
    fps: int | None = None  # None: the quality's frame rate
    format: str = "mp4"
    steps: list[int] | None = None  # training steps to animate (None: the first detailed one)
    scenes: tuple[str, ...] = DEFAULT_SCENES
    pace: float = 1.0  # 0.5 = twice as slow
    theme: str = "dark"
    tex: bool = False  # real LaTeX instead of Typst for formulas
    stills: bool = False
    sections: bool = False  # also one silent clip per beat, cut from the lecture
    clips: bool = False  # also clips/NN-<beat>.<format>, cut from the lecture, with sound
    slides: bool = False  # also <name>.pptx, one slide per beat with its clip (python-pptx)
    transparent: bool = False
    preview: bool = False
    voice: str = "auto"
    captions: str = "file"  # file: .srt/.vtt beside the video; burn: drawn into the picture
    script: Path | None = None  # an edited script.json to use instead of the generated text
    digits: int = DEFAULT_DIGITS
    # A layer of more units than this is explained as a whole (one beat, its values as a
    # strip) and then only on its focus units: ten softmax outputs one by one would say
    # the same thing ten times.
    max_units_explained: int = 4
    focus_units: int = 2  # neurons explained one by one in a layer too large to show whole
    max_units_drawn: int = 10  # layers with more units are drawn elided (first, ⋮, last)
    verbose: bool = False
    # Processes rendering the lecture's beats at once ("auto": every core when the
    # lecture is long enough to repay the start-up; see backprop_anim.parallel).
    jobs: int | str = 1
    scheduler: str | None = None  # a Dask cluster for the parts: "local" or tcp://HOST:PORT
    use_cache: bool = True  # reuse a finished identical render (see render.render_key)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.quality not in QUALITIES:
            raise UserError(
                f"--quality: expected one of {', '.join(QUALITIES)}, got {self.quality!r}"
            )
        if self.format not in FORMATS:
            raise UserError(f"--format: expected one of {', '.join(FORMATS)}, got {self.format!r}")
        unknown = [s for s in self.scenes if s not in SCENES]
        if unknown:
            import difflib

            hint = difflib.get_close_matches(unknown[0], SCENES, n=1)
            raise UserError(
                f"--scenes: unknown scene {unknown[0]!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + f"; expected some of: {', '.join(SCENES)}"
            )
        if not self.pace > 0:
            raise UserError(f"--pace: expected a positive number, got {self.pace}")
        if self.theme not in ("dark", "light"):
            raise UserError(f"--theme: expected dark or light, got {self.theme!r}")
        if self.voice not in VOICES:
            import difflib

            hint = difflib.get_close_matches(self.voice, VOICES, n=1)
            raise UserError(
                f"--voice: unknown voice {self.voice!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + f"; expected one of: {', '.join(VOICES)}"
            )
        if self.captions not in ("file", "burn"):
            raise UserError(f"--captions: expected file or burn, got {self.captions!r}")
        if self.jobs != "auto" and not (isinstance(self.jobs, int) and self.jobs >= 1):
            raise UserError(
                f"-j/--jobs: expected a whole number from 1, or auto; got {self.jobs!r}"
            )
        if self.scheduler is not None and self.scheduler != "local" and "://" not in self.scheduler:
            raise UserError(
                f"--scheduler {self.scheduler!r}: expected 'local' or an address such as "
                "tcp://127.0.0.1:8786"
            )
        if self.clips and self.format == "gif":
            raise UserError(
                "--clips: a GIF has no sound and no keyframes to cut at; use --format mp4 or webm"
            )
        if self.slides and self.format != "mp4":
            raise UserError(
                f"--slides: slides embed each beat's clip as mp4 (what PowerPoint and "
                f"Impress play), and --format is {self.format}; use --format mp4"
            )
        if self.slides and importlib.util.find_spec("pptx") is None:
            raise UserError(
                "--slides needs python-pptx, which the 'slides' extra installs: "
                "pip install 'backprop-anim[slides]' (make setup installs it)"
            )
        if self.fps is not None and not 1 <= self.fps <= 120:
            raise UserError(f"--fps: expected 1 to 120, got {self.fps}")
        if not 2 <= self.digits <= 8:
            raise UserError(f"--digits: expected 2 to 8, got {self.digits}")
        for name in ("max_units_explained", "focus_units", "max_units_drawn"):
            if getattr(self, name) < 0:
                raise UserError(f"--{name}: expected 0 or more, got {getattr(self, name)}")

    @property
    def resolution(self) -> tuple[int, int]:
        _, w, h, _ = QUALITIES[self.quality]
        return w, h

    @property
    def frame_rate(self) -> int:
        return self.fps or QUALITIES[self.quality][3]

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["scenes"] = list(self.scenes)
        d["script"] = None if self.script is None else str(self.script)
        return d
