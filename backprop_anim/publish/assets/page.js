// The lecture page: one state object, the DOM drawn from it. Plain script (no module):
// browsers refuse ES modules on file:// pages. See backprop_anim/publish/page.py.
"use strict";
(() => {
  const data = JSON.parse(document.getElementById("lecture-data").textContent);
  const params = new URLSearchParams(location.search);
  const mode = params.has("speaker") ? "speaker" : params.has("present") ? "present" : "page";
  const frame = 1 / data.fps;
  const beats = data.beats;
  const video = document.getElementById("video");
  const state = {
    beat: 0, // the beat being shown
    chapter: -1,
    sentence: -1,
    stopAt: null, // present mode: pause when this beat end is reached
    blank: false,
    speaker: null, // the speaker view window (present mode)
    startedAt: Date.now(),
  };
  window.lecture = { data, state, mode, video }; // for tests and the console

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, text = "") => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text) node.textContent = text;
    return node;
  };
  const clock = (t) => {
    const s = Math.max(0, Math.floor(t + 1e-6));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(r).padStart(2, "0");
  };
  // The item whose start is the last at or before t (half a frame of slack).
  const indexAt = (items, t) => {
    let k = 0;
    for (let i = 0; i < items.length; i++) if (items[i].start <= t + frame / 2) k = i;
    return k;
  };

  // --- drawing ------------------------------------------------------------------
  function buildLists() {
    const chapters = $("chapters");
    data.chapters.forEach((c, i) => {
      const li = el("li", { "data-start": c.start, "data-index": i });
      const button = el("button", { type: "button" });
      button.append(el("span", { class: "time" }, clock(c.start)), el("span", { class: "title" }, c.title));
      button.addEventListener("click", () => seek(c.start, true));
      li.append(button);
      chapters.append(li);
    });
    const transcript = $("transcript");
    let current = null;
    data.sentences.forEach((s, i) => {
      if (!current || current.dataset.beat !== s.beat) {
        current = el("p", { "data-beat": s.beat });
        transcript.append(current);
      }
      const span = el("span", { class: "sentence", "data-start": s.start, "data-index": i, tabindex: "0" }, s.text);
      span.addEventListener("click", () => seek(s.start, true));
      current.append(span, " ");
    });
    if (!data.sentences.length) transcript.append(el("p", {}, "This lecture has no narration."));
    const board = $("storyboard");
    beats.forEach((b, i) => {
      const li = el("li", { "data-index": i });
      const button = el("button", { type: "button", title: clock(b.start) + " " + b.title });
      const img = el("img", { src: b.still, alt: b.title, loading: "lazy" });
      button.append(img, el("span", {}, clock(b.start) + " · " + b.title));
      button.addEventListener("click", () => seek(b.start, true));
      li.append(button);
      board.append(li);
    });
  }

  function addTracks() {
    // Built here, not from <track src>: browsers do not load tracks on file:// pages.
    if (!("VTTCue" in window) || !video.addTextTrack) return;
    if (data.cues.length) {
      const subtitles = video.addTextTrack("subtitles", "English", "en");
      for (const c of data.cues) subtitles.addCue(new VTTCue(c.start, c.end, c.text));
      subtitles.mode = mode === "present" ? "hidden" : "showing";
    }
    const chapters = video.addTextTrack("chapters", "Chapters", "en");
    for (const c of data.chapters) chapters.addCue(new VTTCue(c.start, c.end, c.title));
  }

  function typesetNotes() {
    if (!window.katex) return;
    for (const node of document.querySelectorAll("#notes .math")) {
      window.katex.render(node.textContent, node, { displayMode: true, throwOnError: false });
    }
  }

  function mark(listId, index, attr = "data-index") {
    const list = $(listId);
    for (const node of list.querySelectorAll(".current")) node.classList.remove("current");
    const node = list.querySelector(`[${attr}="${index}"]`);
    if (node) {
      node.classList.add("current");
      // Keep it in view inside its own scrolling box, without moving the page.
      const box = list.closest(".scroll") || list;
      const top = node.offsetTop - box.offsetTop;
      if (top < box.scrollTop || top > box.scrollTop + box.clientHeight - node.offsetHeight) {
        box.scrollTop = Math.max(0, top - box.clientHeight / 3);
      }
    }
  }

  function update() {
    const t = video.currentTime;
    const beat = indexAt(beats, t);
    const chapter = indexAt(data.chapters, t);
    let sentence = -1;
    for (let i = 0; i < data.sentences.length; i++) {
      const s = data.sentences[i];
      if (s.start <= t + frame / 2 && t < beats[indexAt(beats, s.start)].end) sentence = i;
    }
    if (chapter !== state.chapter) { state.chapter = chapter; mark("chapters", chapter); }
    if (sentence !== state.sentence) { state.sentence = sentence; mark("transcript", sentence); }
    if (beat !== state.beat || !document.body.dataset.drawn) {
      state.beat = beat;
      document.body.dataset.drawn = "1";
      mark("storyboard", beat);
      hud();
      tellSpeaker();
    }
    document.body.dataset.beat = String(state.beat);
    document.body.dataset.chapter = String(state.chapter);
  }

  function hud() {
    if (mode !== "present") return;
    const b = beats[state.beat];
    $("hud").textContent = `${state.beat + 1} / ${beats.length} · ${b.title}`;
  }

  // --- playing ------------------------------------------------------------------
  function seek(t, play) {
    state.stopAt = mode === "present" ? beats[indexAt(beats, t)].end : null;
    video.currentTime = t;
    if (play) video.play().catch(() => {});
    update();
  }

  // Present mode: pause on the last frame of the beat. The check runs for every frame
  // the video presents (requestVideoFrameCallback), so it stops within one frame.
  function checkStop(now) {
    if (state.stopAt === null || video.paused) return;
    if (now >= state.stopAt - frame - 1e-3) {
      video.pause();
      video.currentTime = state.stopAt - frame / 2; // the beat's last frame
      state.stopAt = null;
      document.body.dataset.stopped = String(state.beat);
      update();
    }
  }
  function watchFrames() {
    if (!video.requestVideoFrameCallback) return;
    const onFrame = (_, meta) => {
      checkStop(meta.mediaTime);
      update();
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  function playBeat(k) {
    k = Math.max(0, Math.min(beats.length - 1, k));
    state.beat = k;
    state.stopAt = beats[k].end;
    delete document.body.dataset.stopped;
    video.currentTime = beats[k].start;
    video.play().catch(() => {});
    update();
  }
  function showBeatStart(k) {
    k = Math.max(0, Math.min(beats.length - 1, k));
    video.pause();
    state.stopAt = null;
    video.currentTime = beats[k].start;
    state.beat = k;
    update();
  }
  function atBeatStart() {
    return video.paused && Math.abs(video.currentTime - beats[state.beat].start) < frame / 2 + 1e-3;
  }
  function next() {
    if (mode === "present") {
      // Paused at a beat's first frame (the start, or after ←): play that beat;
      // otherwise play the one after it.
      if (atBeatStart()) playBeat(state.beat);
      else if (state.beat + 1 < beats.length) playBeat(state.beat + 1);
    } else {
      const k = indexAt(beats, video.currentTime);
      if (k + 1 < beats.length) seek(beats[k + 1].start, !video.paused);
    }
  }
  function previous() {
    const k = indexAt(beats, video.currentTime);
    if (mode === "present") showBeatStart(k - 1);
    else seek(beats[Math.max(0, k - 1)].start, !video.paused);
  }
  function toggleBlank() {
    state.blank = !state.blank;
    $("blank").hidden = !state.blank;
    document.body.classList.toggle("blanked", state.blank);
  }
  function fullscreen() {
    const screen = $("screen");
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else if (screen.requestFullscreen) screen.requestFullscreen().catch(() => {});
  }

  // --- the speaker view ---------------------------------------------------------
  function openSpeaker() {
    const url = location.href.split("?")[0].split("#")[0] + "?speaker";
    state.speaker = window.open(url, "speaker-view", "width=1000,height=700");
    setTimeout(tellSpeaker, 500);
  }
  function tellSpeaker() {
    if (state.speaker && !state.speaker.closed) {
      state.speaker.postMessage({ kind: "lecture-state", beat: state.beat, playing: !video.paused }, "*");
    }
  }
  function drawSpeaker(beat, playing) {
    const b = beats[beat], n = beats[beat + 1];
    $("speaker-count").textContent = `Beat ${beat + 1} of ${beats.length}` + (playing ? " · playing" : "");
    $("speaker-title").textContent = b.title;
    $("speaker-text").textContent = b.text || "(no narration in this beat)";
    $("speaker-next-still").src = n ? n.still : "";
    $("speaker-next-still").hidden = !n;
    $("speaker-next-title").textContent = n ? n.title : "End of the lecture";
    document.body.dataset.beat = String(beat);
  }
  function runSpeaker() {
    document.body.classList.add("speaker");
    $("speaker-view").hidden = false;
    document.title = "Speaker view · " + data.title;
    drawSpeaker(0, false);
    window.addEventListener("message", (e) => {
      if (e.data && e.data.kind === "lecture-state") drawSpeaker(e.data.beat, e.data.playing);
    });
    const tick = () => {
      const now = new Date();
      $("speaker-clock").textContent = now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      $("speaker-timer").textContent = clock((Date.now() - state.startedAt) / 1000);
    };
    tick();
    setInterval(tick, 1000);
    $("speaker-reset").addEventListener("click", () => { state.startedAt = Date.now(); tick(); });
    const send = (key) => window.opener && window.opener.postMessage({ kind: "lecture-key", key }, "*");
    $("speaker-prev").addEventListener("click", () => send("ArrowLeft"));
    $("speaker-next").addEventListener("click", () => send("ArrowRight"));
    document.addEventListener("keydown", (e) => {
      if (["ArrowRight", "ArrowLeft", "PageDown", "PageUp", "Home", "End", "b", " "].includes(e.key)) {
        e.preventDefault();
        send(e.key);
      }
    });
  }

  // --- keys ---------------------------------------------------------------------
  function onKey(key) {
    if (mode === "present") {
      switch (key) {
        case "ArrowRight": case "PageDown": case "ArrowDown": case " ": case "Enter": next(); return true;
        case "ArrowLeft": case "PageUp": case "ArrowUp": case "Backspace": previous(); return true;
        case "Home": showBeatStart(0); return true;
        case "End": showBeatStart(beats.length - 1); return true;
        case "b": case "B": case ".": toggleBlank(); return true;
        case "f": fullscreen(); return true;
        case "s": openSpeaker(); return true;
      }
      return false;
    }
    switch (key) {
      case " ": if (video.paused) video.play().catch(() => {}); else video.pause(); return true;
      case "ArrowRight": next(); return true;
      case "ArrowLeft": previous(); return true;
      case "f": fullscreen(); return true;
    }
    return false;
  }

  if (mode === "speaker") {
    video.preload = "none"; // the speaker view shows stills, not the video
    runSpeaker();
    document.body.dataset.ready = "1";
    return;
  }
  document.body.classList.add(mode);
  buildLists();
  addTracks();
  typesetNotes();
  if (mode === "present") {
    video.controls = false;
    $("present-link").classList.add("active");
  } else {
    $("page-link").hidden = true;
  }
  $("speaker-button").addEventListener("click", openSpeaker);
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest && e.target.closest("input, textarea, select")) return;
    if (onKey(e.key)) e.preventDefault();
  }, true);
  window.addEventListener("message", (e) => {
    if (e.data && e.data.kind === "lecture-key") onKey(e.data.key);
  });
  video.addEventListener("timeupdate", () => { checkStop(video.currentTime); update(); });
  video.addEventListener("seeked", update);
  video.addEventListener("play", tellSpeaker);
  video.addEventListener("pause", tellSpeaker);
  watchFrames();
  update();
  document.body.dataset.ready = "1";
})();
