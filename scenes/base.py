"""The stage every lecture scene stands on: layout, the network diagram, beat timing.

A scene is given a :class:`LecturePlan` (the trace, the timed beats, the options)
and plays each beat as a Manim section, so ``--save_sections`` yields one clip per
beat. Beat methods build mobjects with the building blocks of
``backprop_anim.visual`` and hand animations to :meth:`BeatScene.run`, which fits
them into the beat's frames: no scene holds a run time of its own.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from manim import (
    DOWN,
    DR,
    LEFT,
    RIGHT,
    UL,
    Animation,
    FadeIn,
    FadeOut,
    Group,
    Mobject,
    Rectangle,
    Scene,
    SVGMobject,
    TransformFromCopy,
    VGroup,
    VMobject,
    Wait,
    Write,
    config,
)
from PIL import Image

from backprop_anim.errors import UserError
from backprop_anim.narration.speech import Speech
from backprop_anim.numbers import fmt, plain_signs
from backprop_anim.options import RenderOptions
from backprop_anim.storyboard import BEAT_PARTS, Beat, shown_units
from backprop_anim.timeline import (
    SPEECH_LEAD_SECONDS,
    BeatParts,
    MarkError,
    PartSpec,
    TimedBeat,
    bind_sentences,
    place_parts,
    split_frames,
)
from backprop_anim.trace.model import NetworkInfo, Step, Trace
from backprop_anim.trace.scaling import input_scaling
from backprop_anim.visual.formula import Expr
from backprop_anim.visual.image import PixelPicture, image_shape, sample_picture
from backprop_anim.visual.network import LEGIBLE_HEIGHT, NetworkDiagram, Region
from backprop_anim.visual.panels import Label, formula, heat_strip, paragraph
from backprop_anim.visual.renderer import CachingCamera, lighter, split_moving_static
from backprop_anim.visual.theme import THEMES, Theme

# Layout of the 16:9 frame (Manim units; the frame is about 14.2 x 8).
NETWORK_REGION = Region(left=-7.0, right=-0.1, bottom=-3.3, top=3.0)
PANEL_LEFT, PANEL_RIGHT, PANEL_TOP, PANEL_BOTTOM = 0.55, 6.85, 3.0, -3.25
HEADER_Y = 3.55
# Where a number may sit along its edge, best first: the middle, then further out.
EDGE_LABEL_SPOTS = (0.5, 0.35, 0.65, 0.25, 0.75, 0.2, 0.8)
PHASES = ("forward", "loss", "backward", "update")


@dataclass
class Cue:
    start: float
    end: float
    text: str


@dataclass
class LecturePlan:
    """Everything a scene needs, computed before Manim starts."""

    trace: Trace
    timed: list[TimedBeat]
    options: RenderOptions
    burn_captions: list[Cue] = field(default_factory=list)
    on_beat: Callable[[int, int, TimedBeat], None] | None = None  # progress reporting
    still_frames: dict[str, int] = field(default_factory=dict)  # beat id -> frame index
    # Beat id -> that frame as PNG bytes, taken from the camera as it was written (no
    # decoding of the finished video, no compression artefacts).
    still_images: dict[str, bytes] = field(default_factory=dict)
    # What each beat writes on screen (formula sources and labels), for render.json:
    # tests check every number against the trace, and other tools can index it.
    screen_text: dict[str, list[str]] = field(default_factory=dict)
    # Pixel centre and radius of every drawn neuron, per step: "column,unit" -> [x, y, r];
    # per beat, where it put what a test must find (boxes, and the text of edge labels).
    layout: dict[str, dict[str, Any]] = field(default_factory=dict)
    mobject_counts: dict[str, int] = field(default_factory=dict)  # beat id -> peak family size
    sections_dir: Path | None = None  # where Manim wrote one clip per beat (--sections, GIF)
    # Draw with Manim's own rules only (no lighter fades, everything after the first
    # moving object redrawn): the reference that tests compare the fast path with.
    plain_manim: bool = False
    # Beat id -> how its text is spoken (sentences and marks, seconds from the speech's
    # start); the timeline starts each part on its words.
    speech: dict[str, Speech] = field(default_factory=dict)
    # One entry per sentence: when it is spoken, which part it starts, when that part
    # plays (seconds in the video); render.json's "sync".
    sync: list[dict] = field(default_factory=list)
    # Beat id -> its named parts as the timeline sees them (filled as beats are built;
    # a pass that only builds them tells the timeline where the words must wait).
    parts: dict[str, BeatParts] = field(default_factory=dict)
    # Numbers that travel (BeatScene.fly_from): from and to (pixels), part, when.
    travels: list[dict] = field(default_factory=list)
    # A part of a lecture rendered in parts (backprop_anim.parallel): only the beats
    # [first, stop) are drawn; the earlier ones are built and played without drawing,
    # so that the stage holds exactly what it holds in a whole render.
    window: tuple[int, int] | None = None
    # Build every beat and record its parts, play nothing (render.measure_parts).
    build_only: bool = False

    @property
    def theme(self) -> Theme:
        """The options' theme (one source: the options, not a second field)."""
        return THEMES[self.options.theme]

    @property
    def fps(self) -> int:
        """Frames per second of the render (the options' frame rate)."""
        return self.options.frame_rate


class BeatScene(Scene):
    """A scene that plays the beats of a plan, each as a section, each in its frames."""

    scene_filter: tuple[str, ...] | None = None  # None: every beat

    def __init__(self, plan: LecturePlan, **kwargs) -> None:
        self.plan = plan
        self.theme = plan.theme
        self.digits = plan.options.digits
        self.tex = plan.options.tex
        self.diagram: NetworkDiagram | None = None
        self.picture: PixelPicture | None = None  # the sample, when the inputs are a picture
        self.diagram_step: int | None = None
        self.header: Mobject | None = None
        self.phase_bar: VGroup | None = None
        self.caption: VGroup | None = None  # burned subtitles (--captions burn)
        self._part_start = 0.0  # seconds: when the part being played began
        self.current: TimedBeat | None = None
        # Per layer of the current step: weights whose gradient is exactly zero.
        self.not_moving: dict[int, np.ndarray] = {}
        # The step's deltas under their neurons (the backward beats'), by (column, unit),
        # and the raw inputs under scaled input neurons: texts others keep clear of.
        self.delta_labels: dict[tuple[int, int], Mobject] = {}
        self.raw_labels: list[Mobject] = []
        # Column -> (text size, direction) of its deltas (BackwardBeats.delta_label).
        self._delta_places: dict[int, tuple[float, np.ndarray]] = {}
        self._frames_left = 0
        self._still: np.ndarray | None = None  # the last held frame of the current beat
        super().__init__(**kwargs)

    # --- storyboard ---------------------------------------------------------------
    def construct(self) -> None:
        self.camera.background_color = self.theme.background
        first, stop = self.plan.window or (0, len(self.plan.timed))
        for index, timed in enumerate(self.plan.timed[:stop]):
            if self.scene_filter and timed.beat.scene not in self.scene_filter:
                continue
            drawn = index >= first
            if drawn and self.plan.on_beat is not None:
                self.plan.on_beat(index, len(self.plan.timed), timed)
            # A beat before the window is played with Manim's section skipping: every
            # animation runs to its end state, no frame is drawn or encoded.
            self.next_section(timed.beat.id, skip_animations=not drawn)
            self.current = timed
            self._frames_left = timed.frames
            handler = getattr(self, f"beat_{timed.beat.kind}")
            handler(timed.beat)
            self.finish_beat()

    # --- timing -------------------------------------------------------------------
    def run(
        self,
        parts: Sequence[
            tuple[Sequence[Animation] | Animation | None, float]
            | tuple[Sequence[Animation] | Animation | None, float, str]
        ],
        *,
        share: float = 1.0,
    ) -> None:
        """Play ``parts``: (animations or None for a hold, weight[, part name]).

        A named part (a name of ``storyboard.BEAT_PARTS`` for this kind of beat) starts
        when the sentence or marked word that speaks it starts (``timeline.place_parts``);
        the others follow at their natural length (weight x the pace's unit), holds take
        the slack. No scene code holds a run time or computes when it plays.
        """
        beat = self.current.beat if self.current is not None else None
        speech = self.plan.speech.get(beat.id) if beat is not None else None
        if (
            beat is None
            or beat.kind not in BEAT_PARTS  # a comparison's beats: shared by weight
            or self._frames_left != self.current.frames
            or share != 1.0
        ):
            # A second run in one beat: share what is left by weight, as before.
            if self.plan.build_only:
                return
            budget = max(len(parts), round(self._frames_left * share))
            budget = min(budget, max(self._frames_left, len(parts)))
            weights = [p[1] for p in parts]
            for part, n in zip(parts, split_frames(budget, weights), strict=True):
                self._play_frames(part[0], n)
            return
        names = [p[2] if len(p) > 2 else None for p in parts]
        allowed = BEAT_PARTS.get(beat.kind, ())
        unknown = [n for n in names if n is not None and n not in allowed]
        assert not unknown, f"{beat.kind}: parts {unknown} are not in BEAT_PARTS"
        sentences = list(speech.sentences) if speech is not None else []
        # A number that travels gets its readable length where words wait for it (a
        # narrated beat; a silent one keeps its natural length, parts shared by weight).
        specs = [
            PartSpec(
                name,
                float(p[1]),
                hold=p[0] is None or (isinstance(p[0], Sequence) and not p[0]),
                travel=bool(sentences)
                and any(
                    hasattr(a, "travel") for a in (p[0] if isinstance(p[0], Sequence) else [p[0]])
                ),
                # A part that points (scenes/pointers.py) lasts long enough to be seen.
                least=max(
                    (
                        getattr(a, "least_seconds", 0.0)
                        for a in (p[0] if isinstance(p[0], Sequence) else [p[0]])
                    ),
                    default=0.0,
                )
                if sentences
                else 0.0,
            )
            for p, name in zip(parts, names, strict=True)
        ]
        lead = SPEECH_LEAD_SECONDS if sentences else 0.0
        try:
            cues, bound = bind_sentences(sentences, names, absent=allowed)
        except MarkError as exc:
            raise UserError(
                f"script: beat {beat.id}: mark [[{exc}]] names no part of this beat "
                f"(its parts: {', '.join(n for n in names if n) or 'none'})"
            ) from None
        cues = {k: lead + t for k, t in cues.items()}
        fps = self.plan.fps
        pace = self.plan.options.pace
        unit = beat.seconds / pace / max(1e-9, sum(s.weight for s in specs))
        self.plan.parts[beat.id] = BeatParts(specs, unit, allowed)
        if self.plan.build_only:
            self._frames_left = 0
            return
        placed = place_parts(specs, self._frames_left, fps, unit, cues, pace=pace)
        begin = self.current.start_frame
        boxes: list[list[float] | None] = []  # each named part's pixel box, as it ends
        for part, name, where in zip(parts, names, placed, strict=True):
            anims = part[0] if isinstance(part[0], Sequence) else [part[0]]
            for anim in anims:
                if hasattr(anim, "travel"):
                    first = begin + where.start
                    self.plan.travels.append(
                        {
                            "beat": beat.id,
                            "part": name,
                            "start": round(first / fps, 4),
                            "end": round((first + where.frames) / fps, 4),
                            "last_frame": first + where.frames - 1,
                            **anim.travel,
                        }
                    )
            self._play_frames(None, where.wait)
            self._play_frames(part[0], where.frames)
            boxes.append(self._part_box(part[0]) if name is not None else None)
        for sentence, k in zip(sentences, bound, strict=True):
            shown = None
            if k is not None:
                first = begin + placed[k].start
                shown = [round(first / fps, 3), round((first + placed[k].frames) / fps, 3)]
            start = begin / fps + lead
            self.plan.sync.append(
                {
                    "beat": beat.id,
                    "sentence": sentence.text,
                    "spoken": [round(start + sentence.start, 3), round(start + sentence.end, 3)],
                    "shown": shown,
                    "part": names[k] if k is not None else None,
                    "box": boxes[k] if k is not None else None,
                    "marks": [
                        {
                            "part": name,
                            "spoken": round(start + at, 3),
                            "shown": round((begin + placed[names.index(name)].start) / fps, 3),
                            "box": boxes[names.index(name)],
                        }
                        for name, at in sentence.marks
                        if name in names
                    ],
                }
            )

    def _play_frames(self, anims, n: int) -> None:
        if n <= 0:
            return
        if self.current is not None:
            key = self.current.beat.id
            count = self.count_drawn_objects()
            self.plan.mobject_counts[key] = max(self.plan.mobject_counts.get(key, 0), count)
        fps = self.plan.fps
        if anims is None or (isinstance(anims, Sequence) and not anims):
            # A held frame cannot change, so a hold is cut where a burned caption changes.
            for frames in self._caption_spans(n):
                self._update_caption()
                hold = Wait((frames + 0.5) / fps, frozen_frame=True)
                self.play(hold)
                # Manim leaves a wait's empty mobject on stage; over a long lecture they
                # would pile up in every list the renderer walks.
                self.remove(hold.mobject)
                self._frames_left -= frames
            # The held frame is the beat's still: everything is on screen, nothing moves.
            assert self.current is not None
            done = self.current.frames - self._frames_left
            self.plan.still_frames[self.current.beat.id] = self.current.start_frame + done - 1
            self._still = self.renderer.get_frame()
        else:
            self._update_caption()
            group = self._fade_in_place(list(anims) if isinstance(anims, Sequence) else [anims])
            if not self.plan.plain_manim:
                images = isinstance(self.renderer.camera, CachingCamera)
                group = [lighter(a, images=images) for a in group]
            self.play(*group, run_time=(n - 0.5) / fps)
            self._frames_left -= n

    def _part_box(self, anims) -> list[float] | None:
        """Where a part drew, in video pixels: [left, top, right, bottom] of the union of
        its mobjects' boxes as the part ends and, for a number that travels, of where it
        set out (the copy crosses the box between), clipped to the frame; None for a
        hold or a part with nothing drawn. render.json's "sync" carries it, so that a
        test can check that the picture changes there when the words start the part."""
        if anims is None:
            return None
        anims = list(anims) if isinstance(anims, Sequence) else [anims]
        points = [m.get_all_points() for a in anims if (m := getattr(a, "mobject", None))]
        points = [p for p in points if len(p)]
        if not points:
            return None
        every = np.concatenate(points)
        x0, y0 = self._pixel(np.array([every[:, 0].min(), every[:, 1].max(), 0.0]))
        x1, y1 = self._pixel(np.array([every[:, 0].max(), every[:, 1].min(), 0.0]))
        for anim in anims:
            travel = getattr(anim, "travel", None)
            if travel is not None:  # where it left, at its landing size
                (fx, fy), to = travel["from"], travel["to"]
                half_w, half_h = (to[2] - to[0]) / 2, (to[3] - to[1]) / 2
                x0, y0 = min(x0, fx - half_w), min(y0, fy - half_h)
                x1, y1 = max(x1, fx + half_w), max(y1, fy + half_h)
        w, h = float(config.pixel_width), float(config.pixel_height)
        return [
            round(max(0.0, x0), 2),
            round(max(0.0, y0), 2),
            round(min(w, x1), 2),
            round(min(h, y1), 2),
        ]

    def _fade_in_place(self, animations: list[Animation]) -> list[Animation]:
        """Fade a panel out where its parts stand, not lifted above everything.

        ``FadeOut(group)`` of a group that is not itself on stage makes Manim re-add the
        group, moving all its parts to the top of the stage for the fade: a plot would
        be drawn over the dot placed on it, for as long as the fade lasts. When the
        parts are on stage, each is faded where it stands instead (the same colours,
        frame by frame, in the order they were drawn all along).
        """
        out: list[Animation] = []
        for anim in animations:
            mob = anim.mobject
            if type(anim) is FadeOut and mob is not None and mob not in self.mobjects:
                family = set(mob.get_family())
                on_stage = [m for m in self.mobjects if m in family]
                covered = {p for m in on_stage for p in m.get_family()}
                if on_stage and all(p in covered for p in mob.family_members_with_points()):
                    out += [FadeOut(m) for m in on_stage]
                    continue
            out.append(anim)
        return out

    def get_moving_and_static_mobjects(
        self, animations: Iterable[Animation]
    ) -> tuple[list[Mobject], list[Mobject]]:
        """Redraw per frame only what moves and what overlaps it (see split_moving_static)."""
        animations = list(animations)
        if not self.plan.plain_manim:
            split = split_moving_static(self, animations)
            if split is not None:
                return split
        return super().get_moving_and_static_mobjects(animations)

    def count_drawn_objects(self) -> int:
        """Objects on stage, a text or formula counting once (not glyph by glyph)."""
        count = 0
        stack = list(self.mobjects)
        while stack:
            mob = stack.pop()
            count += 1
            if not isinstance(mob, SVGMobject):
                stack.extend(mob.submobjects)
        return count

    def finish_beat(self) -> None:
        """Spend the beat's remaining frames (a held frame), so every beat is exact."""
        if self.plan.build_only:
            return
        if self._frames_left > 0:
            self._play_frames(None, self._frames_left)
        self._keep_still()

    def _keep_still(self) -> None:
        """The beat's still (its last held frame, else its last frame) as PNG bytes."""
        assert self.current is not None
        if self.renderer.skip_animations:  # a beat built, not drawn: its part has its still
            self._still = None
            return
        pixels = self._still if self._still is not None else self.renderer.get_frame()
        self._still = None
        buffer = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(pixels[:, :, :3])).save(
            buffer, format="png", compress_level=1
        )
        self.plan.still_images[self.current.beat.id] = buffer.getvalue()

    def beat_time(self) -> float:
        """Seconds from the start of the video to now, as frames counted."""
        assert self.current is not None
        return (self.current.start_frame + self.current.frames - self._frames_left) / self.plan.fps

    def _caption_spans(self, n: int) -> list[int]:
        """The next ``n`` frames cut at the frames where a burned caption starts or ends."""
        if not self.plan.burn_captions or self.current is None:
            return [n]
        fps = self.plan.fps
        first = self.current.start_frame + self.current.frames - self._frames_left
        cuts = sorted(
            {
                math.ceil(t * fps - 1e-6) - first
                for cue in self.plan.burn_captions
                for t in (cue.start, cue.end)
            }
            | {0, n}
        )
        cuts = [c for c in cuts if 0 <= c <= n]
        return [b - a for a, b in itertools.pairwise(cuts) if b > a]

    def _update_caption(self) -> None:
        """Show the cue of this moment, burned into the picture (``--captions burn``).

        The caption is set at the start of each part and, during an animation, by an
        updater on every frame, so a cue appears on the frame its speech starts, not at the
        next part. Manim's Cairo renderer lists the objects it redraws when an animation
        begins, so the caption is two fixed shapes (box and glyphs) whose outlines are
        replaced, never objects added or removed mid-animation.
        """
        if not self.plan.burn_captions:
            return
        if self.caption is None:
            box = VMobject(fill_color="#000000", fill_opacity=0.72, stroke_width=0)
            glyphs = VMobject(fill_color="#FFFFFF", fill_opacity=1.0, stroke_width=0)
            self.caption = VGroup(box, glyphs)
            self.caption.add_updater(lambda _mob: self._show_cue(self.last_t))
            self.add_foreground_mobject(self.caption)
        self._part_start = self.beat_time()
        self._show_cue(0.0)

    def _show_cue(self, elapsed: float) -> None:
        """Draw the cue spoken ``elapsed`` seconds into the current part (none: nothing)."""
        assert self.caption is not None
        now = self._part_start + elapsed + 1e-6
        text = next((c.text for c in self.plan.burn_captions if c.start <= now < c.end), "")
        if getattr(self.caption, "cue_text", None) == text:
            return
        self.caption.cue_text = text  # type: ignore[attr-defined]
        box, glyphs = self.caption.submobjects
        if not text:
            box.clear_points()
            glyphs.clear_points()
            return
        lines = VGroup(
            *[Label(line, font_size=26, color="#FFFFFF") for line in text.split("\n")]
        ).arrange(DOWN, buff=0.08)
        frame = Rectangle(width=lines.width + 0.4, height=lines.height + 0.2).move_to(lines)
        VGroup(frame, lines).to_edge(DOWN, buff=0.1)  # two lines must stay inside the frame
        box.set_points(frame.points)
        glyphs.set_points(np.concatenate([m.points for m in lines.family_members_with_points()]))

    # --- what is written on screen --------------------------------------------------
    def math(self, expr: Expr, font_size: float = 32) -> VMobject:
        """A formula (Typst, or LaTeX with --tex), recorded as this beat's screen text."""
        self._record(expr.typst)
        return formula(expr, self.theme, tex=self.tex, font_size=font_size)

    def value_row(self, lhs: Expr, value: Expr) -> VGroup:
        """A formula and the number it comes to as two pieces, so that the number can
        arrive on its own (written, or flown in from where it lives).

        The whole line is typeset once and the number put exactly where Typst set its
        glyphs (which are then left transparent), so it sits on the line's baseline
        even after a fraction; if the glyphs cannot be matched, it is centred after."""
        whole = self.math(lhs + value)
        number = formula(value, self.theme, tex=self.tex)
        glyphs = whole.family_members_with_points()
        n = len(number.family_members_with_points())
        tail = VGroup(*glyphs[-n:]) if 0 < n < len(glyphs) else None
        if tail is not None and abs(tail.width - number.width) <= 0.05 * number.width:
            number.move_to(tail)
            for glyph in tail:
                glyph.set_opacity(0.0)
            return VGroup(whole, number)
        row = VGroup(self.math(lhs), number).arrange(RIGHT, buff=0.12)
        for mob in row:
            mob.set_y(row.get_y())
        return row

    def text(self, content: str, **kwargs) -> Label:
        """A label in the lecture font, recorded as this beat's screen text."""
        self._record(content)
        kwargs.setdefault("color", self.theme.text)
        return Label(content, **kwargs)

    def paragraph(self, content: str, *, width: float = 6.2, **kwargs) -> VGroup:
        """Wrapped text, recorded as this beat's screen text."""
        self._record(content)
        return paragraph(content, self.theme, width=width, **kwargs)

    def _record(self, content: str) -> None:
        # Numbers as fmt writes them (a label's text draws their sign as the minus sign).
        key = self.current.beat.id if self.current is not None else "_"
        self.plan.screen_text.setdefault(key, []).append(plain_signs(content))

    def said_parts(self, beat: Beat) -> set[str]:
        """The parts this beat's words name (its ``[[marks]]``). A part that only points
        at what is already on screen (an emphasis for a sentence of the detailed level)
        is drawn where a sentence speaks it, and left out where none does."""
        speech = self.plan.speech.get(beat.id)
        if speech is None:
            return set()
        return {name for s in speech.sentences for name, _ in s.marks}

    # --- shared stage ---------------------------------------------------------------
    def step_of(self, beat: Beat) -> Step:
        assert beat.step is not None
        return self.plan.trace.step(beat.step)

    def set_header(self, text: str, phase: str | None) -> list[Animation]:
        """The beat's title (top left) and where we are in forward → loss → backward → update."""
        anims: list[Animation] = []
        new = self.text(text, font_size=30)
        if new.width > 7.9:
            new.scale_to_fit_width(7.9)
        new.move_to([-7.0 + 0.2 + new.width / 2, HEADER_Y, 0])
        if self.header is not None:
            anims.append(FadeOut(self.header))
        anims.append(FadeIn(new))
        self.header = new
        bar = VGroup()
        for p in PHASES:
            active = p == phase
            bar.add(
                Label(
                    p,
                    font_size=22,
                    color=self.theme.highlight if active else self.theme.muted,
                    weight="BOLD" if active else "NORMAL",
                )
            )
        bar.arrange(RIGHT, buff=0.3).move_to([6.9 - bar.width / 2, HEADER_Y, 0])
        if self.phase_bar is not None:
            anims.append(FadeOut(self.phase_bar))
        anims.append(FadeIn(bar))
        self.phase_bar = bar
        return anims

    def network_diagram(
        self,
        info: NetworkInfo,
        weights: list[np.ndarray],
        region: Region,
        *,
        captions: bool = True,
        focus: dict[int, list[int]] | None = None,
        image_shape: tuple[int, int] | None = None,
    ) -> NetworkDiagram:
        """A diagram of ``info`` with ``weights`` in ``region``, at this render's pixel
        size, unit limit and digits; layers captioned with name and activation."""
        if captions:
            texts = ["input"] + [
                f"{name}\n{act}"
                for name, act in zip(info.layer_names, info.activations, strict=True)
            ]
        else:
            texts = [""] * (len(info.unit_names) + 1)
        return NetworkDiagram(
            [info.input_names, *info.unit_names],
            texts,
            weights,
            self.theme,
            region,
            config.pixel_width,
            config.frame_width,
            max_units=self.plan.options.max_units_drawn,
            focus=focus,
            digits=self.digits,
            image_shape=image_shape,
        )

    def ensure_diagram(self, step: Step, *, with_inputs: bool = True) -> list[Animation]:
        """The network of ``step`` (weights before the update), created once per step."""
        if self.diagram is not None and self.diagram_step == step.step:
            return []
        anims: list[Animation] = []
        if self.diagram is not None:
            # A new step: everything of the previous one leaves (values, deltas, edges).
            keep = {id(self.header), id(self.phase_bar), id(self.caption)}
            anims.extend(FadeOut(m) for m in self.mobjects if id(m) not in keep)
        diagram = self.network_diagram(
            self.plan.trace.network,
            [layer.W for layer in step.layers],
            NETWORK_REGION,
            focus=self._focus(step),
            image_shape=image_shape(self.plan.trace),
        )
        self.diagram = diagram
        self.picture = None
        self.diagram_step = step.step
        self.not_moving = {}
        self.delta_labels = {}
        self._delta_places = {}
        self.raw_labels = []
        self.plan.layout[str(step.step)] = {
            f"{c},{u}": [
                *self._pixel(pos),
                diagram.radius * config.pixel_width / config.frame_width,
            ]
            for (c, u), pos in diagram.positions.items()
        }
        # The diagram's parts join the scene one by one, not as a group: Manim redraws
        # every frame all mobjects from the first moving one on, so a group containing
        # the edge image would repaint that image whenever one neuron changes colour.
        anims.extend(FadeIn(part) for part in diagram.submobjects)
        if diagram.picture_box is not None:
            # The sample as the picture it is (in its own units, if the inputs were scaled).
            self.picture = self.sample_picture(step.x[0])
            self.plan.layout[str(step.step)]["picture"] = self._box_px(self.picture.image)
            rows, cols = self.picture.shape
            which = "the sample" if len(step.samples) == 1 else "first sample"
            caption = VGroup(
                self.text(which, font_size=18, color=self.theme.muted),
                self.text(f"{rows}×{cols} pixels", font_size=18, color=self.theme.muted),
            ).arrange(DOWN, buff=0.06)
            caption.next_to(self.picture, DOWN, buff=0.12)
            self.picture.add(caption)
            anims.append(FadeIn(self.picture))
        if with_inputs:
            anims.extend(self.fill_layer(0, step.x[0]))
            self.raw_labels = self.raw_input_labels(step)
            anims.extend(FadeIn(m) for m in self.raw_labels)
        return anims

    def raw_input_labels(self, step: Step) -> list[Mobject]:
        """Scaled inputs, few enough to read: each neuron's raw value under it ("raw
        120.5" under the 1.617 the network sees), the same fmt as the title's line."""
        d = self.diagram
        scaling = input_scaling(self.plan.trace)
        if d is None or scaling is None or d.picture_box is not None or len(d.drawn[0]) > 4:
            return []
        raw = scaling.raw(step.x[0])
        labels: list[Mobject] = []
        for unit in d.drawn[0]:
            label = self.text(
                f"raw {fmt(raw[unit], self.digits)}",
                font_size=max(14.0, d.font_size(0.75)),
                color=self.theme.muted,
            )
            # Under the neuron's left half: its edges leave to the right, its name is on
            # its left; kept inside the frame.
            circle = d.neuron(0, unit)
            label.next_to(circle, DOWN, buff=0.04)
            label.shift(RIGHT * (circle.get_x() - label.get_right()[0]))
            left = -config.frame_width / 2 + 0.08
            if label.get_left()[0] < left:
                label.shift(RIGHT * (left - label.get_left()[0]))
            labels.append(label)
        return labels

    def sample_picture(self, x: np.ndarray) -> PixelPicture:
        """A sample's inputs as its picture, in the diagram's picture box."""
        assert self.diagram is not None and self.diagram.picture_box is not None
        scaling = input_scaling(self.plan.trace)
        raw = x if scaling is None else scaling.raw(x)
        shape = image_shape(self.plan.trace)
        assert shape is not None
        return sample_picture(
            raw, shape, self.diagram.picture_box, self.theme, self.diagram.px_per_unit
        )

    def _box_px(self, mob: Mobject) -> list[float]:
        """A mobject's box in pixels: [left, top, right, bottom]."""
        return [*self._pixel(mob.get_corner(UL)), *self._pixel(mob.get_corner(DR))]

    @staticmethod
    def _pixel(point: np.ndarray) -> list[float]:
        x = (point[0] + config.frame_width / 2) * config.pixel_width / config.frame_width
        y = (config.frame_height / 2 - point[1]) * config.pixel_height / config.frame_height
        return [round(float(x), 2), round(float(y), 2)]

    def _focus(self, step: Step) -> dict[int, list[int]]:
        """Units the lecture explains one by one in this step (storyboard.shown_units),
        so that an elided layer draws them: whichever scenes are rendered, the same
        layer is drawn with the same units (not only those of the beats chosen)."""
        trace = self.plan.trace
        focus: dict[int, list[int]] = {}
        for layer, names in enumerate(trace.network.unit_names):
            shown = shown_units(trace, step.step, layer, self.plan.options)
            if len(shown) < len(names):
                focus[layer + 1] = shown
        return focus

    def fill_layer(
        self, column: int, values: np.ndarray, lo: float | None = None, hi: float | None = None
    ) -> list[Animation]:
        """Write values into a column's drawn neurons and colour their fill."""
        assert self.diagram is not None
        values = np.asarray(values, dtype=float)
        lo = float(min(0.0, values.min())) if lo is None else lo
        hi = float(max(1.0, values.max())) if hi is None else hi
        anims: list[Animation] = []
        for unit in self.diagram.drawn[column]:
            anims.extend(self.fill_neuron(column, unit, float(values[unit]), lo, hi))
        return anims

    def fill_neuron(
        self, column: int, unit: int, value: float, lo: float = 0.0, hi: float = 1.0
    ) -> list[Animation]:
        assert self.diagram is not None
        d = self.diagram
        circle = d.neuron(column, unit)
        old = d.value_labels.get((column, unit))
        new = d.value_label(column, unit, value)
        self._record(new.text)
        d.value_labels[(column, unit)] = new
        target = circle.copy().set_fill(self.theme.neuron_color(value, lo, hi), opacity=1.0)
        # Built now: a second `.animate` of the circle before this plays would replace
        # its target (the loss beat's highlight played as its own undoing).
        anims: list[Animation] = [circle.animate.become(target).build()]
        if old is not None:
            anims.append(FadeOut(old))
        anims.append(FadeIn(new))
        return anims

    def fly_from(self, piece: Mobject, at: np.ndarray, like: Mobject | None = None) -> Animation:
        """``piece`` arrives as a copy of itself that leaves ``at`` (an edge, a neuron)
        and lands where ``piece`` stands: the number travels from where it lives, and
        whatever shows it there stays. ``like``: start at that mobject's size.

        The journey is recorded (render.json "travels": from, to, when) so that a test
        can find the number in the frames."""
        start = piece.copy()
        if like is not None and like.height > 0:
            start.scale_to_fit_height(min(like.height, piece.height))
        start.move_to(at)
        anim = TransformFromCopy(start, piece)
        corners = [self._pixel(piece.get_corner(UL)), self._pixel(piece.get_corner(DR))]
        anim.travel = {  # type: ignore[attr-defined]
            "from": self._pixel(np.asarray(at)),
            "to": [*corners[0], *corners[1]],
        }
        return anim

    def edge_label(
        self,
        layer: int,
        unit: int,
        source: int,
        text: str,
        color: str,
        avoid: Sequence[Mobject] = (),
    ) -> Label | None:
        """A number on an edge, at its middle: shrunk to the visible edge if it is wider,
        None where it would then be too small to read or would cover a neuron (or one of
        ``avoid``: the labels already on the other edges)."""
        label = self.edge_label_unplaced(layer, unit, source, text, color)
        if label is None:
            return None
        spots = self.edge_label_spots(layer, unit, source, [label], avoid)
        if not spots:
            return None
        label.move_to(self.diagram.edge_point(layer, unit, source, spots[0]))
        return label

    def edge_label_unplaced(
        self, layer: int, unit: int, source: int, text: str, color: str
    ) -> Label | None:
        """An edge's number, shrunk to fit the visible edge, not yet placed on it; None
        where it would then be too small to read."""
        d = self.diagram
        assert d is not None
        label = self.text(text, font_size=20, color=color)
        length = float(
            np.linalg.norm(
                d.edge_point(layer, unit, source, 1.0) - d.edge_point(layer, unit, source, 0.0)
            )
        )
        if label.width > 0.9 * length:
            label.scale_to_fit_width(0.9 * length)
        label.add_background_rectangle(color=self.theme.background, opacity=0.85, buff=0.03)
        return None if label.height < LEGIBLE_HEIGHT else label

    def edge_label_spots(
        self,
        layer: int,
        unit: int,
        source: int,
        labels: Sequence[Mobject],
        avoid: Sequence[Mobject] = (),
    ) -> list[float]:
        """Where along its edge (fractions, best first) ``labels``, all at one spot (a
        number and what replaces it), stand clear of the neurons, of their names and
        values, of the diagram's marks, of raw inputs and of the deltas beside them (and
        of ``avoid``)."""
        d = self.diagram
        assert d is not None
        others = [
            *d.name_labels,
            *d.value_labels.values(),
            *d.extras,
            *self.raw_labels,
            *self.delta_labels.values(),
            *avoid,
        ]
        spots = []
        for t in EDGE_LABEL_SPOTS:
            at = d.edge_point(layer, unit, source, t)
            for label in labels:
                label.move_to(at)
            if all(d.labels_fit([label]) for label in labels) and not any(
                _overlap(label, m) for label in labels for m in others
            ):
                spots.append(t)
        return spots

    def clear_panel(self, *mobs: Mobject | None) -> list[Animation]:
        return [FadeOut(m) for m in mobs if m is not None]

    def panel_box(self) -> Region:
        return Region(PANEL_LEFT, PANEL_RIGHT, PANEL_BOTTOM, PANEL_TOP)

    def place_in_panel(self, mob: Mobject, *, top: float | None = None) -> Mobject:
        """Left-align ``mob`` in the panel, shrinking it to fit the panel's width."""
        width = PANEL_RIGHT - PANEL_LEFT
        if mob.width > width:
            mob.scale_to_fit_width(width)
        y = (top if top is not None else PANEL_TOP) - mob.height / 2
        mob.move_to([PANEL_LEFT + mob.width / 2, y, 0])
        return mob

    def column_stack(self, mobs: Sequence[Mobject], *, top: float = PANEL_TOP, buff: float = 0.3):
        """Stack panel items top-down, left-aligned; shrink the stack if it overflows."""
        group = Group(*mobs).arrange(DOWN, buff=buff, aligned_edge=LEFT)
        width = PANEL_RIGHT - PANEL_LEFT
        height = top - PANEL_BOTTOM
        if group.width > width:
            group.scale_to_fit_width(width)
        if group.height > height:
            group.scale_to_fit_height(height)
        group.move_to([PANEL_LEFT + group.width / 2, top - group.height / 2, 0])
        return group

    def layer_strip(
        self,
        equation: Mobject,
        values: np.ndarray,
        caption: str,
        lead_in: list,
        *,
        symmetric: bool,
        lead_in_weight: float = 0.8,
        then: list | None = None,
        pointers: Sequence = (),
        leave: Sequence = (),
    ) -> None:
        """A layer too large to explain unit by unit: its rule, all values as one strip.

        The forward and backward passes show a wide layer the same way (the equation,
        a heat strip of the layer's values, a caption with the extremes), so they share
        this; ``then`` is an extra animation after the strip (the forward pass fills
        the layer's neurons); ``pointers``, parts after the lead-in that point at the
        diagram (the first backward beat's order and weights), whose marks ``leave``
        with the rule.
        """
        strip = heat_strip(values, self.theme, width=6.0, height=0.45, symmetric=symmetric)
        words = self.text(caption, font_size=22, color=self.theme.muted)
        panel = self.column_stack([equation, strip, words])
        self.run(
            [
                (lead_in, lead_in_weight, "header"),
                *pointers,
                ([Write(equation), *leave], 1.0, "rule"),
                (FadeIn(strip), 0.8, "strip"),
                (FadeIn(words), 0.4, "caption"),
                *([(then, 1.0, "neurons")] if then else []),
                (None, 2.0),
                (FadeOut(panel), 0.5),
            ]
        )


def _overlap(a: Mobject, b: Mobject) -> bool:
    """Whether the bounding boxes of two mobjects overlap."""
    return bool(
        a.get_left()[0] < b.get_right()[0]
        and b.get_left()[0] < a.get_right()[0]
        and a.get_bottom()[1] < b.get_top()[1]
        and b.get_bottom()[1] < a.get_top()[1]
    )


def unit_label(trace: Trace, column: int, unit: int) -> str:
    """The name of a unit, counting the input layer as column 0."""
    info = trace.network
    return info.input_names[unit] if column == 0 else info.unit_names[column - 1][unit]
