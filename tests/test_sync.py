"""Words and picture locked together: sentences, marks, the voice's timing, the timeline.

Unit tests of the mark syntax, the binding of sentences to parts and the placement of
parts on the words; Piper's own sentence and word timings; and one real render (480p15,
the textbook net, Piper) whose render.json "sync" list and frames are checked: each part
starts on the first frame at or after the words that speak it, in the script's order,
and the picture changes where the part is drawn when its sentence starts.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from backprop_anim.errors import UserError
from backprop_anim.media import extract_frames
from backprop_anim.narrate import check_part_marks
from backprop_anim.narration.audio import read_wav
from backprop_anim.narration.speech import (
    Mark,
    reading_speech,
    split_sentences,
    strip_marks,
)
from backprop_anim.options import RenderOptions
from backprop_anim.render import render
from backprop_anim.timeline import (
    MarkError,
    PartSpec,
    bind_sentences,
    place_parts,
)

REPO = Path(__file__).resolve().parent.parent
TEXTBOOK = REPO / "configs" / "textbook-2-2-2.yaml"
FPS = 15
FORWARD = (
    "[[sum]]h1 adds up: [[term1]]0.15 times 0.05, [[term2]]plus 0.2 times 0.1. "
    "[[z]]That makes 0.3775."
)


def test_marks_split_sentences_and_are_never_spoken():
    sentences = split_sentences(FORWARD)
    assert [s.text for s in sentences] == [
        "h1 adds up: 0.15 times 0.05, plus 0.2 times 0.1.",
        "That makes 0.3775.",
    ]
    assert sentences[0].marks == (Mark("sum", 0), Mark("term1", 3), Mark("term2", 6))
    assert sentences[1].marks == (Mark("z", 0),)
    assert strip_marks(FORWARD) == " ".join(s.text for s in sentences)
    # A mark written before the space that ends a sentence starts the next one.
    assert split_sentences("One. [[z]] Two.")[1].marks == (Mark("z", 0),)


def test_a_mark_that_names_no_part_is_an_error_with_beat_and_word():
    check_part_marks(FORWARD, "forward_unit", "script.json: beat s0.forward.hidden.h1")
    with pytest.raises(UserError) as err:
        check_part_marks("The loss [[totl]]is 0.2984.", "loss", "script.json: beat s0.loss")
    assert str(err.value) == (
        "script.json: beat s0.loss: mark [[totl]] before 'is' names no part of this beat; "
        "its parts are: outputs, words, table, formula, linear"
    )
    with pytest.raises(UserError, match=r"mark \[\[two words\]\] is not a part name"):
        check_part_marks("[[two words]]x.", "loss", "s")


def test_sentences_without_marks_start_the_named_parts_in_order():
    speech = reading_speech("First sentence here. Second one. Third.")
    names = [None, "table", "formula", None]
    cues, bound = bind_sentences(speech.sentences, names)
    assert bound == [1, 2, None]
    assert cues == {1: speech.sentences[0].start, 2: speech.sentences[1].start}
    marked = reading_speech("[[formula]]All at once, [[table]]then this.")
    cues, bound = bind_sentences(marked.sentences, names)
    assert bound == [2] and cues[2] == 0.0 and 0 < cues[1] < marked.seconds
    with pytest.raises(MarkError):
        bind_sentences(reading_speech("[[plot]]No plot here.").sentences, names)
    # A part this beat does not draw (a softmax unit's plot) is skipped, not an error.
    assert bind_sentences(reading_speech("[[plot]]x.").sentences, names, absent={"plot"})[1] == [
        None
    ]


def test_reading_speed_places_marks_by_spoken_length():
    from backprop_anim.narration.voice import reading_timing

    speech = reading_timing(FORWARD)
    first = speech.sentences[0]
    times = dict(first.marks)
    assert times["sum"] == first.start < times["term1"] < times["term2"] < first.end
    assert speech.sentences[1].start == pytest.approx(first.end)
    assert speech.seconds == pytest.approx(len(strip_marks(FORWARD).split()) * 60 / 150)


PARTS = [
    PartSpec(None, 0.8),  # header
    PartSpec("sum", 1.0),
    PartSpec("z", 1.4),
    PartSpec("a", 1.0),
    PartSpec(None, 0.7),  # the value into the neuron
    PartSpec(None, 2.0, hold=True),
    PartSpec(None, 0.5),  # the exit
]


@pytest.mark.parametrize(
    ("frames", "cues", "lag"),
    [
        (75, {}, 0),
        (200, {1: 0.4, 2: 4.0, 3: 8.0}, 0),
        (60, {1: 0.4, 2: 1.0, 3: 1.5}, 0),  # parts longer than their sentences: shortened
        (90, {1: 0.4, 2: 0.45, 3: 0.5}, 8),  # too close even for shortened parts: late
    ],
)
def test_parts_start_on_their_words_and_fill_the_beat(frames, cues, lag):
    placed = place_parts(PARTS, frames, FPS, 0.6, cues)
    assert sum(p.wait + p.frames for p in placed) == frames
    end = 0
    for k, (spec, p) in enumerate(zip(PARTS, placed, strict=True)):
        assert p.start == end + p.wait  # one after the other
        assert p.frames >= (0 if spec.hold else 1)
        end = p.start + p.frames
        if k in cues:
            first = math.ceil(cues[k] * FPS - 1e-6)
            assert p.start >= first  # never before its words
            assert p.start - first <= lag  # and on them, unless the parts before cannot fit
    assert placed[-1].start + placed[-1].frames == frames  # the exit ends the beat
    if cues == {1: 0.4, 2: 4.0, 3: 8.0}:
        assert [placed[k].start for k in (1, 2, 3)] == [6, 60, 120]
        assert placed[2].frames == round(1.4 * 0.6 * FPS)  # natural length where it fits


def test_piper_times_sentences_by_clip_length_and_words_by_alignment(tmp_path):
    pytest.importorskip("piper")
    pytest.importorskip("onnx")
    from backprop_anim.narration.voice import SENTENCE_GAP_SECONDS, PiperTTS

    clip = PiperTTS(tmp_path).synthesize(FORWARD)
    samples, rate = read_wav(clip.path)
    one, two = clip.speech.sentences
    assert one.start == 0.0 and clip.seconds == pytest.approx(two.end)
    assert two.start - one.end == pytest.approx(SENTENCE_GAP_SECONDS, abs=1 / rate)
    gap = samples[int(one.end * rate) + 5 : int(two.start * rate) - 5]
    assert gap.size > 0 and np.abs(gap).max() == 0.0  # the sentences meet at the gap
    times = dict(one.marks)
    assert times["sum"] == 0.0 < times["term1"] < times["term2"] < one.end
    # "0.15" is the fourth word of "h1 adds up: 0.15": a word start, just after the
    # pause at the colon (Piper's alignments), not where the letters would put it.
    before = samples[int((times["term1"] - 0.12) * rate) : int(times["term1"] * rate)]
    after = samples[int(times["term1"] * rate) : int((times["term1"] + 0.12) * rate)]
    assert np.sqrt(np.mean(after**2)) > 2 * np.sqrt(np.mean(before**2))
    again = PiperTTS(tmp_path).synthesize(FORWARD)
    assert again.cached and again.speech == clip.speech


@pytest.fixture(scope="module")
def forward_render(tmp_path_factory):
    """The textbook's forward pass, standard level, Piper: its first unit reads every term."""
    pytest.importorskip("piper")
    base = tmp_path_factory.mktemp("sync")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BACKPROP_ANIM_CACHE", str(base / "cache"))
        options = RenderOptions(scenes=("forward",), voice="piper")
        return render(TEXTBOOK, options, output_dir=base / "out")


def test_render_json_sync_locks_each_part_to_its_words(forward_render):
    meta = json.loads((forward_render.output_dir / "render.json").read_text())
    script = json.loads((forward_render.output_dir / "script.json").read_text())["lines"]
    said = [s.text for line in script for s in split_sentences(line["text"])]
    sync = meta["sync"]
    assert [e["sentence"] for e in sync] == said
    beats = {b["id"]: b for b in meta["beats"]}
    last = -1.0
    for entry in sync:
        beat = beats[entry["beat"]]
        assert beat["start"] < entry["spoken"][0] < entry["spoken"][1] <= beat["end"]
        assert entry["part"] is not None, entry
        shown, spoken = entry["shown"][0], entry["spoken"][0]
        assert 0.0 <= shown - spoken <= 1 / FPS + 1e-3, entry  # on its words, never before
        assert shown >= last  # parts in the order of the sentences
        last = shown
        for mark in entry["marks"]:
            assert 0.0 <= mark["shown"] - mark["spoken"] <= 1 / FPS + 1e-3, entry
    marked = {m["part"] for e in sync for m in e["marks"]}
    assert marked >= {"sum", "term1", "term2", "bias", "z", "a"}


def test_the_picture_changes_where_the_part_is_when_its_sentence_starts(forward_render):
    meta = json.loads((forward_render.output_dir / "render.json").read_text())
    width, _ = meta["resolution"]
    times = []
    for entry in meta["sync"]:
        for mark in entry["marks"]:
            if mark["part"] in ("term1", "term2", "z", "a"):  # drawn in the panel
                times.append(mark["spoken"])
    assert len(times) >= 5
    indices = []
    for t in times:
        indices += [math.floor(t * FPS) - 1, math.floor((t + 0.5) * FPS)]
    frames = extract_frames(forward_render.video, indices)
    for k, t in enumerate(times):
        before = np.asarray(frames[2 * k].convert("L"), dtype=float)[:, int(0.55 * width) :]
        after = np.asarray(frames[2 * k + 1].convert("L"), dtype=float)[:, int(0.55 * width) :]
        changed = int(np.sum(np.abs(after - before) > 40))
        assert changed > 150, f"nothing new in the panel 0.5 s after {t:.2f} s"


def test_long_input_names_stay_inside_the_frame():
    """A CSV lecture's inputs "size" and "rooms" were cut at the left edge ("oms")."""
    from backprop_anim.visual.network import NetworkDiagram
    from backprop_anim.visual.theme import DARK
    from scenes.base import NETWORK_REGION

    names = [["size", "rooms", "age_of_house"], ["h1", "h2"], ["price_estimate"]]
    weights = [np.full((2, 3), 0.5), np.full((1, 2), 0.5)]
    diagram = NetworkDiagram(
        names, ["input", "hidden", "output"], weights, DARK, NETWORK_REGION, 854, 14.2222
    )
    labels = {label.text: label for label in diagram.name_labels}
    assert {"size", "rooms", "age_of_house", "price_estimate"} <= set(labels)
    for name in ("size", "rooms", "age_of_house"):
        assert labels[name].get_left()[0] >= -14.2222 / 2  # inside the frame
        assert labels[name].get_right()[0] <= diagram.neuron(0, 0).get_left()[0]
    # The output's name stays left of the panel beside the network.
    assert labels["price_estimate"].get_right()[0] <= NETWORK_REGION.right + 0.05


def test_a_weight_travels_from_its_edge_and_lands_on_its_term(forward_render):
    meta = json.loads((forward_render.output_dir / "render.json").read_text())
    travels = [t for t in meta["travels"] if t["beat"] == "s0.forward.hidden.h1"]
    # Two terms of two numbers each, then the bias, as the narration reads them.
    assert [t["part"] for t in travels][:5] == ["term1", "term1", "term2", "term2", "bias"]
    weight = travels[0]  # 0.15, from the edge i1 -> h1
    x0, y0, x1, y1 = (round(v) for v in weight["to"])
    first = round(weight["start"] * FPS)
    frames = extract_frames(
        forward_render.video, [first - 1, (first + weight["last_frame"]) // 2, weight["last_frame"]]
    )
    before, middle, after = (np.asarray(f.convert("L"), dtype=float) for f in frames)
    box = (slice(y0 - 2, y1 + 3), slice(x0 - 2, x1 + 3))
    ink = after[box] > 128
    assert ink.sum() > 30 and not (before[box] > 128).any()  # it was not there before...
    assert (middle[box] > 128).sum() < ink.sum() / 2  # ...nor half-way through its move
    ys, xs = np.nonzero(ink)
    centre = ((xs.min() + xs.max()) / 2 + x0 - 2, (ys.min() + ys.max()) / 2 + y0 - 2)
    assert centre == pytest.approx(((x0 + x1) / 2, (y0 + y1) / 2), abs=4.0)  # the ink's box
    # It left from its edge: the start is on the segment from i1 to h1.
    layout = meta["layout"]["0"]
    (ax, ay, _), (bx, by, _) = layout["0,0"], layout["1,0"]
    fx, fy = weight["from"]
    assert ax < fx < bx and min(ay, by) - 2 <= fy <= max(ay, by) + 2


def test_values_too_small_inside_a_neuron_go_beside_it():
    from backprop_anim.visual.network import LEGIBLE_HEIGHT, NetworkDiagram
    from backprop_anim.visual.theme import DARK
    from scenes.base import NETWORK_REGION

    def diagram(n: int) -> NetworkDiagram:
        names = [[f"x{k}" for k in range(n)], ["h1"], ["o1"]]
        weights = [np.full((1, n), 0.1), np.full((1, 1), 0.1)]
        return NetworkDiagram(names, ["", "", ""], weights, DARK, NETWORK_REGION, 1280, 14.2222)

    small = diagram(8)  # a column of 8: radius about 0.2
    label = small.value_label(0, 3, -0.7698)
    assert label.height >= LEGIBLE_HEIGHT - 1e-6  # about 12 pixels high at 720p
    circle = small.neuron(0, 3)
    assert label.get_left()[0] >= circle.get_right()[0]  # beside, right of the input
    assert abs(label.get_y() - circle.get_y()) < 1e-6
    big = diagram(2)  # the textbook's size: inside, centred
    inside = big.value_label(0, 1, -0.7698)
    assert np.allclose(inside.get_center(), big.neuron(0, 1).get_center())
    assert inside.height >= LEGIBLE_HEIGHT


def test_a_narrated_beat_never_falls_silent_for_long():
    from backprop_anim.timeline import BREATH_SECONDS, SPEECH_LEAD_SECONDS, beat_frames

    # A short sentence in a beat whose picture would run 5 s: cut to 1.5 s after it, in
    # whole frames rounded down (rounded up, tanh-saturation's h23 fell silent 1.537 s).
    assert beat_frames(5.0, 2.0, 1.0, FPS) == math.floor((SPEECH_LEAD_SECONDS + 2.0 + 1.5) * FPS)
    for speech in (2.0, 2.01, 2.03, 2.05, 7.137):
        # A long picture, or parts that need all 1.5 s after the words (part_pauses).
        for minimum in (0.0, SPEECH_LEAD_SECONDS + speech + 1.5):
            n = beat_frames(30.0, speech, 1.0, FPS, minimum)
            assert 1.5 - 1 / FPS < n / FPS - SPEECH_LEAD_SECONDS - speech <= 1.5 + 1e-9
    # A long one: the beat waits for it, plus a breath.
    n = beat_frames(5.0, 9.0, 1.0, FPS)
    assert n == math.ceil((SPEECH_LEAD_SECONDS + 9.0 + BREATH_SECONDS) * FPS - 1e-9)
    # Silent: the natural length at the pace.
    assert beat_frames(5.0, 0.0, 0.5, FPS) == 150


def test_a_beat_whose_first_part_is_spoken_waits_for_its_words():
    """The title's first part is its first sentence's: it starts with the speech, not
    with the beat (the speech comes SPEECH_LEAD_SECONDS in)."""
    parts = [PartSpec("title", 1.0), PartSpec("network", 1.0), PartSpec(None, 4.0, hold=True)]
    placed = place_parts(parts, 120, FPS, 0.6, {0: 0.4, 1: 3.0})
    assert [p.start for p in placed[:2]] == [6, 45]
    assert placed[0].wait == 6 and sum(p.wait + p.frames for p in placed) == 120


def test_a_named_part_that_is_empty_this_time_still_waits_for_its_words():
    """The digits lecture's matrix beat of the hidden layer: the gradient of x38 -> h5
    has no drawn edge to fly from (the inputs are a picture), so its part "cell" is empty
    (a hold) and was placed where the parts before it ended, 2.29 s before "minus
    0.03469" was spoken. A cued part, empty or not, starts on its words."""
    from backprop_anim.timeline import part_pauses

    parts = [
        PartSpec(None, 0.6),
        PartSpec("delta", 1.4, travel=True),
        PartSpec("unit", 0.6, travel=True),
        PartSpec("grad", 1.0),
        PartSpec("cell", 0.6, hold=True),
        PartSpec("note", 0.8),
        PartSpec(None, 2.2, hold=True),
        PartSpec(None, 0.5),
    ]
    unit = 1.0389610389610389
    cues = {1: 0.4, 3: 2.724, 4: 6.091}  # seconds into the beat (render.json sync)
    placed = place_parts(parts, 173, FPS, unit, cues)
    assert placed[4].start == math.ceil(6.091 * FPS) == 92  # was frame 57: 2.29 s early
    assert sum(p.wait + p.frames for p in placed) == 173
    assert placed[5].start >= placed[4].start  # the note follows the cell's words
    # And the words of an empty part wait for the parts before it, as any other's do.
    speech = reading_speech("[[grad]]One two [[cell]]three four five six.")
    names = [None, "grad", "cell", None]
    marked = [PartSpec(None, 0.2), PartSpec("grad", 3.0), PartSpec("cell", 1.0, hold=True)]
    marked.append(PartSpec(None, 0.2))
    cues, _ = bind_sentences(speech.sentences, names)
    pauses, _ = part_pauses(marked, 0.5, speech.sentences, cues, lead=0.4)
    at = dict(speech.sentences[0].marks)["cell"]
    assert [p.at for p in pauses] == [at]
    assert pauses[0].seconds == pytest.approx(1.5 - at)


# --- where a part is longer than its words, the words wait ----------------------------


def test_parts_longer_than_their_words_make_the_words_wait():
    from backprop_anim.timeline import MAX_SILENCE_SECONDS, TRAVEL_SECONDS, part_pauses

    speech = reading_speech("[[sum]]One two. [[z]]Three four five six. [[a]]Seven.", gap=0.3)
    one, two, three = speech.sentences
    parts = [
        PartSpec(None, 0.5),  # header: fits the lead whatever it takes
        PartSpec("sum", 1.0),
        PartSpec(None, 1.0, travel=True),  # a number flies: 0.7 s at least
        PartSpec("z", 1.0),
        PartSpec("a", 1.0),
        PartSpec(None, 2.0, hold=True),
        PartSpec(None, 0.5),  # exit
    ]
    names = [p.name for p in parts]
    cues, _ = bind_sentences(speech.sentences, names)
    unit = 0.5  # seconds per unit of weight
    pauses, needed = part_pauses(parts, unit, speech.sentences, cues, lead=0.4)
    # "sum" (0.5 s) and the travel (0.7 s, not its 0.5) end 1.2 s after the first words;
    # the second sentence starts 1.1 s after them (0.8 s of words, a 0.3 s gap): it
    # waits 0.1 s, just before its first word.
    assert two.start == pytest.approx(1.1)
    assert len(pauses) == 1 and pauses[0].at == two.start
    assert pauses[0].seconds == pytest.approx(0.5 + TRAVEL_SECONDS - two.start)
    # "z" lasts 0.5 s and its words 1.6 s: "a" needs no wait; the beat ends after "a"
    # and the exit, or when the words are said.
    assert needed == pytest.approx(0.4 + three.start + pauses[0].seconds + 0.5 + 0.25)
    # Where even 1.5 s of silence (with the sentence gap already there) is not enough,
    # the silence stops at 1.5 s: the part is what should be reconsidered.
    long = [PartSpec("sum", 1.0), PartSpec(None, 20.0), PartSpec("z", 1.0)]
    cues, _ = bind_sentences(speech.sentences[:2], ["sum", None, "z"])
    pauses, _ = part_pauses(long, unit, speech.sentences[:2], cues, lead=0.4)
    assert pauses[0].seconds == pytest.approx(MAX_SILENCE_SECONDS - (two.start - one.end))
    # Inside a sentence there is no gap: a marked word may wait the whole 1.5 s.
    marked = reading_speech("[[sum]]One two [[z]]three four.")
    cues, _ = bind_sentences(marked.sentences, ["sum", None, "z"])
    pauses, _ = part_pauses(long, unit, marked.sentences, cues, lead=0.4)
    assert pauses[0].at == dict(marked.sentences[0].marks)["z"]
    assert pauses[0].seconds == pytest.approx(MAX_SILENCE_SECONDS)
    # After the last words, the parts still to come wait at most 1.5 s (they shorten).
    tail = [PartSpec("sum", 1.0), PartSpec(None, 20.0)]
    cues, _ = bind_sentences(speech.sentences[:1], ["sum", None])
    _, needed = part_pauses(tail, unit, speech.sentences[:1], cues, lead=0.4)
    assert needed == pytest.approx(0.4 + one.end + MAX_SILENCE_SECONDS)
    # Parts that fit their words need no silence.
    short = [PartSpec("sum", 0.1), PartSpec("z", 0.1)]
    cues, _ = bind_sentences(speech.sentences[:2], ["sum", "z"])
    assert part_pauses(short, unit, speech.sentences[:2], cues, lead=0.4)[0] == []


def test_a_pause_moves_the_later_words_and_the_beat_grows():
    from backprop_anim.storyboard import Beat
    from backprop_anim.timeline import beat_frames, schedule

    speech = reading_speech(FORWARD)
    term2 = dict(speech.sentences[0].marks)["term2"]
    paused = speech.paused([(term2, 0.5), (speech.sentences[1].start, 0.25)])
    first, second = paused.sentences
    assert first.start == speech.sentences[0].start  # the sentence starts on time...
    assert dict(first.marks)["term1"] == dict(speech.sentences[0].marks)["term1"]
    assert dict(first.marks)["term2"] == pytest.approx(term2 + 0.5)  # ...its word waits
    assert first.end == pytest.approx(speech.sentences[0].end + 0.5)
    assert second.start == pytest.approx(speech.sentences[1].start + 0.75)
    assert paused.seconds == pytest.approx(speech.seconds + 0.75)
    # A beat lasts as long as its parts need, past its words and breath.
    assert beat_frames(5.0, 2.0, 1.0, FPS, minimum=9.0) == 9 * FPS
    beats = [Beat("a", "forward", "forward_unit"), Beat("b", "loss", "loss")]
    plain = schedule(beats, {"a": 2.0, "b": 2.0}, 1.0, FPS)
    grown = schedule(beats, {"a": 2.0, "b": 2.0}, 1.0, FPS, {"a": 9.0})
    assert grown[0].frames == 9 * FPS > plain[0].frames
    assert grown[1].start_frame == 9 * FPS and grown[1].frames == plain[1].frames


def test_silence_goes_into_the_audio_between_words():
    from backprop_anim.narration.audio import insert_silence

    rate = 1000
    t = np.arange(rate) / rate
    voice = (0.5 * np.sin(2 * np.pi * 50 * t)).astype(np.float32)
    samples = np.concatenate([voice[:300], np.zeros(200, np.float32), voice[:500]])
    out = insert_silence(samples, rate, [(0.5, 0.4)])  # the word at 0.5 s waits 0.4 s
    assert out.size == samples.size + 400
    np.testing.assert_array_equal(out[:300], samples[:300])  # before: untouched
    assert np.abs(out[300:900]).max() == 0.0  # the gap, 0.4 s longer
    np.testing.assert_array_equal(out[900:], samples[500:])  # the word, whole, later
    # Inside a word (no gap), the cut goes at the quietest moment before it, faded.
    out = insert_silence(voice, rate, [(0.5, 0.25)])
    assert out.size == voice.size + 250
    quiet = np.nonzero(np.abs(out) < 1e-6)[0]
    run = np.split(quiet, np.nonzero(np.diff(quiet) > 1)[0] + 1)
    assert max(len(r) for r in run) >= 250


def test_numbers_travel_slowly_enough_to_follow_and_the_words_wait(forward_render):
    """Every travel lasts TRAVEL_SECONDS (within a frame); where the words had to wait,
    the narration track is silent for the pause's length."""
    import av

    from backprop_anim.timeline import TRAVEL_SECONDS

    meta = json.loads((forward_render.output_dir / "render.json").read_text())
    durations = [t["end"] - t["start"] for t in meta["travels"]]
    assert durations and min(durations) >= TRAVEL_SECONDS - 1.5 / FPS
    pauses = meta["pauses"]
    assert pauses, "the first unit reads every term: some words wait for their numbers"
    with av.open(str(forward_render.video)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        track = np.concatenate([f.to_ndarray().mean(axis=0) for f in container.decode(stream)])
    loud = np.sqrt(np.mean(track[: int(30 * rate)] ** 2))
    for pause in pauses:
        first = int((pause["at"] + 0.06) * rate)
        last = int((pause["at"] + pause["seconds"] - 0.06) * rate)
        if last - first < int(0.05 * rate):
            continue
        quiet = np.sqrt(np.mean(track[first:last] ** 2))
        assert quiet < loud / 30, pause


# --- backward, gradients and update: the numbers travel as they are said --------------


@pytest.fixture(scope="module")
def backward_render(tmp_path_factory):
    """The textbook's title, backward pass and update, standard level, timed at reading
    speed (Piper's own timing is checked on the forward render; no synthesis here)."""
    base = tmp_path_factory.mktemp("sync-backward")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BACKPROP_ANIM_CACHE", str(base / "cache"))
        options = RenderOptions(scenes=("title", "backward", "update"), voice="none")
        return render(TEXTBOOK, options, output_dir=base / "out")


def test_every_sentence_starts_its_part(backward_render):
    meta = json.loads((backward_render.output_dir / "render.json").read_text())
    kinds = {b["id"]: b["id"].split(".")[1] if "." in b["id"] else b["id"] for b in meta["beats"]}
    sync = [
        e for e in meta["sync"] if kinds[e["beat"]] in ("title", "backward", "gradients", "update")
    ]
    assert sync and all(e["part"] is not None for e in sync), [
        e["sentence"] for e in sync if e["part"] is None
    ]
    for entry in sync:  # never before its words, and on them
        # A sentence's part is its first mark's (at its first word, or at a later one).
        said = entry["marks"][0]["spoken"] if entry["marks"] else entry["spoken"][0]
        assert 0.0 <= entry["shown"][0] - said <= 1 / FPS + 1e-3, entry
        for mark in entry["marks"]:
            assert 0.0 <= mark["shown"] - mark["spoken"] <= 1 / FPS + 1e-3, entry
    title = [e["part"] for e in sync if e["beat"] == "title"]
    assert title == ["title", "network", "data", "loss", "task"]
    marked = {(e["beat"], m["part"]) for e in sync for m in e["marks"]}
    assert {("s0.backward.output.o1", p) for p in ("dL_da", "slope", "tangent", "delta")} <= marked
    assert {("s0.gradients.output", p) for p in ("delta", "input", "product")} <= marked
    assert ("s0.update.output", "weight") in marked


def _box(travel):
    x0, y0, x1, y1 = (round(v) for v in travel["to"])
    return slice(y0 - 2, y1 + 3), slice(x0 - 2, x1 + 3)


def test_the_derivative_leaves_the_tangent_for_the_formula(backward_render):
    meta = json.loads((backward_render.output_dir / "render.json").read_text())
    o1 = [t for t in meta["travels"] if t["beat"] == "s0.backward.output.o1"]
    slope = next(t for t in o1 if t["part"] is None)  # right after the tangent is drawn
    tangent = next(
        m
        for e in meta["sync"]
        if e["beat"] == "s0.backward.output.o1"
        for m in e["marks"]
        if m["part"] == "tangent"
    )
    assert slope["start"] >= tangent["shown"]  # not before the words say it
    layout = meta["layout"]["0"]
    assert slope["from"][0] > max(x for x, _, _ in layout.values())  # from the plot, right
    assert slope["from"][1] > slope["to"][3]  # below the formula it lands in
    first = round(slope["start"] * FPS)
    before, after = (
        np.asarray(f.convert("L"), dtype=float)
        for f in extract_frames(backward_render.video, [first - 1, slope["last_frame"]])
    )
    box = _box(slope)
    assert (before[box] > 128).sum() == 0 and (after[box] > 128).sum() > 30


def test_delta_and_activation_meet_to_make_the_gradient(backward_render):
    meta = json.loads((backward_render.output_dir / "render.json").read_text())
    travels = [t for t in meta["travels"] if t["beat"] == "s0.gradients.output"]
    assert [t["part"] for t in travels] == ["delta", "input", None]
    delta, a, product = travels
    layout = meta["layout"]["0"]
    # δ leaves from under an output neuron, a from a hidden one, both into the panel.
    outputs = [layout[f"2,{u}"] for u in range(2)]
    hidden = [layout[f"1,{u}"] for u in range(2)]
    assert any(abs(delta["from"][0] - x) < r and delta["from"][1] > y for x, y, r in outputs)
    assert any(abs(a["from"][0] - x) < r and abs(a["from"][1] - y) < r for x, y, r in hidden)
    # The product lands on an edge between the layers: between the two columns.
    x_to = (product["to"][0] + product["to"][2]) / 2
    assert hidden[0][0] < x_to < outputs[0][0]
    assert delta["start"] < a["start"] < product["start"]


def test_the_new_weight_lands_on_its_edge_when_its_sentence_says_it(backward_render):
    meta = json.loads((backward_render.output_dir / "render.json").read_text())
    move = next(
        t for t in meta["travels"] if t["beat"] == "s0.update.output" and t["part"] == "weight"
    )
    said = next(
        m
        for e in meta["sync"]
        if e["beat"] == "s0.update.output"
        for m in e["marks"]
        if m["part"] == "weight"
    )
    assert 0.0 <= move["start"] - said["spoken"] <= 1 / FPS + 1e-3
    first = round(move["start"] * FPS)
    frames = extract_frames(backward_render.video, [first - 1, move["last_frame"]])
    before, after = (np.asarray(f.convert("RGB"), dtype=int)[_box(move)] for f in frames)

    def yellow(px):  # the highlight colour of w⁺ (w is written in the text colour)
        r, g, b = px[..., 0], px[..., 1], px[..., 2]
        return int(np.sum((r > 100) & (g > 0.8 * r) & (b < 0.5 * g)))

    assert yellow(before) == 0 and yellow(after) > 10
