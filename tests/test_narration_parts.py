"""Every sentence of every lecture, at every level, is tied to the visual part it
explains (issue 11 §1), checked on the script and the parts list alone: no video.

A sentence is tied when its words name a part (``[[part]]``, at its first word or at a
later one) or, in a beat whose text has no marks, when it is the k-th sentence and the
beat has a k-th part (``timeline.bind_sentences``, as the render binds them). The
sentences listed in ``UNTIED`` are the ones that still explain, in words only, a
picture already on screen: each entry must still occur (the list only shrinks).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_lectures import lecture  # one training per lecture for the whole suite

from backprop_anim.narration import build_script
from backprop_anim.narration.speech import reading_speech
from backprop_anim.options import SCENES, RenderOptions
from backprop_anim.storyboard import BEAT_PARTS, build_storyboard
from backprop_anim.timeline import bind_sentences

CONFIGS = sorted((Path(__file__).resolve().parent.parent / "configs").glob("*.yaml"))
LEVELS = ("brief", "standard", "detailed")

# The sentences not yet given a part of their own (patterns matched at their start), by
# kind of beat: sentences that explain, in words only, a picture already on screen. The
# list is empty: every sentence of every lecture points at a part (scenes/pointers.py,
# the overview's pointing), and it may only stay so.
UNTIED: tuple[str, ...] = ()


@pytest.fixture(scope="module")
def scripts() -> dict[tuple[str, str], list[tuple[str, str, list, list[str]]]]:
    """(lecture, level) -> each beat's (id, kind, each sentence as spoken or None where it
    is tied, the parts its marks name in the order spoken)."""
    out = {}
    for path in CONFIGS:
        trace = lecture(path.stem)
        beats = build_storyboard(trace, RenderOptions(scenes=tuple(SCENES)))
        kinds = {b.id: b.kind for b in beats}
        for level in LEVELS:
            rows = []
            for line in build_script(trace, beats, level=level):
                names = BEAT_PARTS[kinds[line.beat_id]]
                speech = reading_speech(line.text)
                _, bound = bind_sentences(speech.sentences, names, absent=names)
                rows.append(
                    (
                        line.beat_id,
                        kinds[line.beat_id],
                        [
                            s.text if k is None else None
                            for s, k in zip(speech.sentences, bound, strict=True)
                        ],
                        [name for s in speech.sentences for name, _ in s.marks],
                    )
                )
            out[(path.stem, level)] = rows
    return out


def untied(rows) -> list[tuple[str, str]]:
    return [(beat, text) for beat, _, texts, _ in rows for text in texts if text is not None]


@pytest.mark.parametrize("level", LEVELS)
def test_every_sentence_of_every_lecture_is_tied_to_a_part(scripts, level):
    loose = [
        (lecture, beat, text)
        for (lecture, lvl), rows in scripts.items()
        if lvl == level
        for beat, text in untied(rows)
        if not any(re.match(pattern, text) for pattern in UNTIED)
    ]
    assert not loose, "\n".join(f"{lecture} {beat}: {text}" for lecture, beat, text in loose)


def test_the_list_of_untied_sentences_only_shrinks(scripts):
    said = [text for rows in scripts.values() for _, text in untied(rows)]
    stale = [p for p in UNTIED if not any(re.match(p, text) for text in said)]
    assert not stale, f"tied now, remove from UNTIED: {stale}"


@pytest.mark.parametrize("level", LEVELS)
def test_the_words_name_the_parts_in_the_order_they_play(scripts, level):
    """A beat's parts play one after the other: marks out of that order would ask a part
    to start before the one it follows."""
    wrong = []
    for (name, lvl), rows in scripts.items():
        for beat, kind, _, marks in rows:
            if lvl != level:
                continue
            order = list(dict.fromkeys(marks))  # a part's first mark is its cue
            if order != sorted(order, key=BEAT_PARTS[kind].index):
                wrong.append(f"{name} {beat}: {order}")
    assert not wrong, "\n".join(wrong)
