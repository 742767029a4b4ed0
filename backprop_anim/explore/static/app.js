// The explore page: state in one place, the DOM drawn from it.
// Numbers arrive as texts made by the server's fmt; this page never rounds one.

const katex = globalThis.katex; // the classic build, loaded by index.html before this module
import { drawDiagram } from "./diagram.js";

const $ = (id) => document.getElementById(id);

const state = {
  view: null, // GET /api/view
  stepNumber: null, // the detailed step shown
  snapshot: null, // weights at a slider position without a detailed step
  slider: 0,
  pos: 0, // index of the current event
  playing: false,
  timer: null,
  themeName: "dark",
  editing: null, // {path, what, current, ...}
  watch: null, // {what, series}
  previousTexts: new Map(), // data-key -> text, to flash what an edit changed
  flashing: new Map(), // data-key -> time until which it flashes
  formulas: new Map(), // "revision:step:i" -> LaTeX (GET /api/formula, one event at a time)
  flash: false,
  busy: false,
  job: null,
};

// --- the server -------------------------------------------------------------------

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({ error: `${path}: HTTP ${res.status}` }));
  if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
  return data;
}

async function loadView(flash = false) {
  const q = state.stepNumber === null ? "" : `?step=${state.stepNumber}`;
  const view = await api("GET", `/api/view${q}`);
  state.view = view;
  state.flash = flash;
  const step = view.step;
  state.stepNumber = step ? step.step : null;
  const n = step ? step.events.length : 0;
  state.pos = Math.min(state.pos, n);
  if (!state.slider || state.slider > view.training.steps) state.slider = state.stepNumber ?? 0;
  state.snapshot = null;
  if (state.watch) {
    const w = state.watch;
    state.watch.series = await api("GET", `/api/series?layer=${w.layer}&row=${w.row}&col=${w.col}`).catch(() => null);
  }
  render();
}

/** One edit through POST /api/set (or /api/unit); the view follows. Errors go to `where`. */
async function edit(request, where) {
  if (state.busy) return false;
  state.busy = true;
  document.body.style.cursor = "progress";
  try {
    // The page reads the view, not the trace: the reply is only the new revision.
    if (request.unit) await api("POST", "/api/unit?reply=revision", request.unit);
    else await api("POST", "/api/set?reply=revision", { path: request.path, value: request.value });
    await loadView(true);
    return true;
  } catch (err) {
    where(err.message);
    return false;
  } finally {
    state.busy = false;
    document.body.style.cursor = "";
  }
}

/** The value typed into a field: a number when it reads as one, else the text (the schema says why not). */
function typed(text) {
  const t = text.trim();
  if (t !== "" && Number.isFinite(Number(t))) return Number(t);
  return t;
}

// --- drawing ----------------------------------------------------------------------

function theme() {
  return state.view.themes[state.themeName];
}

function applyTheme() {
  const t = theme();
  const root = document.documentElement.style;
  const vars = {
    "--bg": t.background, "--text": t.text, "--muted": t.muted, "--positive": t.positive,
    "--negative": t.negative, "--gradient": t.gradient, "--highlight": t.highlight,
    "--frozen": t.frozen, "--fill": t.neuron_fill, "--stroke": t.neuron_stroke, "--panel": t.panel,
    // On a light background (a projector) dimmed parts fade more: keep them legible.
    "--dim": state.themeName === "light" ? "0.42" : "0.28",
  };
  for (const [k, v] of Object.entries(vars)) root.setProperty(k, v);
  $("theme").textContent = state.themeName === "dark" ? "Light" : "Dark";
}

function eventIndex() {
  const index = new Map();
  const step = state.view.step;
  if (step) for (const ev of step.events) index.set(`${ev.op}:${ev.layer}:${ev.unit}`, ev.i);
  return index;
}

function render() {
  const view = state.view;
  applyTheme();
  $("title").textContent = view.title;
  document.title = `${view.title} · explore`;
  const step = state.snapshot ? null : view.step;
  const index = eventIndex();
  const whole = view.step && state.pos >= view.step.events.length;
  const done = (op, layer, unit) => {
    // The whole step: every value of the forward and backward pass, beside the weights
    // they were computed with (the new weights appear operation by operation).
    if (whole) return !op.startsWith("update");
    const i = index.get(`${op}:${layer}:${unit}`);
    return i !== undefined && i <= state.pos;
  };
  drawDiagram($("diagram"), {
    view, step: view.step, snapshot: state.snapshot, pos: state.snapshot ? -1 : state.pos,
    done: state.snapshot ? () => false : done, theme: theme(), onEdit: openEditor,
  });
  flashChanges();
  renderBanner();
  renderOperation(step);
  renderEvents(step);
  renderSettings();
  renderTraining();
}

/** Numbers an edit changed flash for a moment (also across redraws while they do). */
function flashChanges() {
  const now = new Map();
  const t = performance.now();
  for (const g of document.querySelectorAll("#diagram [data-key]")) {
    const key = g.getAttribute("data-key");
    const text = g.textContent;
    now.set(key, text);
    if (state.flash && state.previousTexts.has(key) && state.previousTexts.get(key) !== text) {
      state.flashing.set(key, t + 1600);
    }
    if ((state.flashing.get(key) ?? 0) > t) g.classList.add("flash");
  }
  for (const [k, v] of now) state.previousTexts.set(k, v);
  state.flash = false;
}

function renderBanner() {
  const view = state.view;
  const b = $("banner");
  let text = "";
  if (view.diverged) text = view.diverged;
  else if (state.snapshot) {
    text = `After ${state.snapshot.step} update${state.snapshot.step === 1 ? "" : "s"}: the weights on the edges, loss on the data ${state.snapshot.loss}. ` +
      `This step is not traced in detail (detailed steps: ${view.training.detailed.join(", ")}).`;
  } else if (view.warnings.length) text = view.warnings[0];
  b.hidden = !text;
  b.textContent = text;
}

function renderOperation(step) {
  const n = step ? step.events.length : 0;
  const whole = step && state.pos >= n;
  const ev = step ? (whole ? step.overview : step.events[state.pos]) : null;
  $("phase").textContent = ev ? ev.phase : "";
  $("phase").className = `chip ${ev ? ev.phase : ""}`;
  $("counter").textContent = !step ? "" : whole ? `${n} operations · step ${step.step}` : `operation ${state.pos + 1} of ${n} · step ${step.step}`;
  $("op-title").textContent = ev ? ev.title : state.snapshot ? "Weights during training" : "No detailed step";
  const formula = $("formula");
  if (ev && ev.latex) showFormula(ev.latex);
  else if (ev) {
    const key = `${state.view.revision}:${step.step}:${ev.i}`;
    const known = state.formulas.get(key);
    if (known) showFormula(known);
    else {
      formula.textContent = "";
      formula.dataset.key = key;
      api("GET", `/api/formula?step=${step.step}&i=${ev.i}`).then((f) => {
        state.formulas.set(key, f.latex);
        if (formula.dataset.key === key) showFormula(f.latex);
      }).catch((err) => toast(err.message));
    }
  } else {
    formula.textContent = "";
    formula.dataset.key = "";
  }
  if (ev && !whole && state.pos + 1 < n) prefetchFormula(step, state.pos + 1);
  $("op-note").textContent = ev ? ev.note : "";
  $("phase").style.visibility = ev ? "visible" : "hidden";
  const detail = $("detail-step");
  const s = state.slider;
  detail.hidden = !(state.snapshot && s < state.view.training.steps);
  detail.textContent = `Trace step ${s} in detail`;
  if (state.snapshot) {
    $("op-title").textContent = `After ${s} update${s === 1 ? "" : "s"}`;
    showFormula(`L_{\\text{data}} = ${state.snapshot.loss}`);
    $("op-note").textContent = s < state.view.training.steps
      ? `Step ${s} starts from these weights. Trace it in detail to replay its operations.`
      : "The weights at the end of training.";
  }
  for (const id of ["first", "prev", "next", "last", "play"]) $(id).disabled = !step;
  $("play").textContent = state.playing ? "⏸ Pause" : "▶ Play";
  $("speed-label").textContent = `${Number($("speed").value).toFixed(1)} s`;
}

function prefetchFormula(step, i) {
  const key = `${state.view.revision}:${step.step}:${i}`;
  if (state.formulas.has(key)) return;
  state.formulas.set(key, null);
  api("GET", `/api/formula?step=${step.step}&i=${i}`)
    .then((f) => state.formulas.set(key, f.latex))
    .catch(() => state.formulas.delete(key));
}

function showFormula(latex) {
  const formula = $("formula");
  formula.dataset.key = "";
  katex.render(latex, formula, { displayMode: true, throwOnError: false, output: "html" });
  fitFormula(formula);
  formula.dataset.shown = latex;
}

/** Shrink a formula that is wider than its panel (down to 45%; beyond, it scrolls). */
function fitFormula(box) {
  let size = 1.45;
  box.style.fontSize = `${size}rem`;
  while ((box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1) && size > 0.6) {
    size -= 0.05;
    box.style.fontSize = `${size}rem`;
  }
}

function renderEvents(step) {
  const list = $("events");
  const events = step ? step.events : [];
  if (!step) {
    const li = document.createElement("li");
    li.textContent = state.snapshot
      ? `Step ${state.slider} is not traced in detail: its operations are not recorded.`
      : "No step of this training is traced in detail.";
    list.replaceChildren(li);
    list.dataset.revision = "";
    return;
  }
  if (list.childElementCount !== events.length || list.dataset.revision !== String(state.view.revision)) {
    list.replaceChildren(...events.map((ev) => {
      const li = document.createElement("li");
      li.dataset.i = ev.i;
      const n = document.createElement("span");
      n.className = "n";
      n.textContent = ev.i + 1;
      li.append(n, ev.title);
      li.addEventListener("click", () => goTo(ev.i));
      return li;
    }));
    list.dataset.revision = String(state.view.revision);
  }
  for (const li of list.children) {
    const i = Number(li.dataset.i);
    li.classList.toggle("done", i < state.pos);
    li.classList.toggle("current", i === state.pos);
    if (i === state.pos) li.scrollIntoView({ block: "nearest" });
  }
}

function select(options, value, onChange) {
  const s = document.createElement("select");
  for (const o of options) {
    const opt = document.createElement("option");
    opt.value = o;
    opt.textContent = o;
    s.appendChild(opt);
  }
  s.value = value;
  s.addEventListener("change", () => onChange(s.value));
  return s;
}

function field(label, parts) {
  const l = document.createElement("span");
  l.textContent = label;
  const f = document.createElement("div");
  f.className = "field";
  f.append(...parts);
  const err = document.createElement("div");
  err.className = "field-error";
  err.setAttribute("role", "alert");
  f.appendChild(err);
  const show = (msg) => { err.textContent = msg; };
  return [l, f, show];
}

function numberInput(value, onSet) {
  const i = document.createElement("input");
  i.className = "number";
  i.value = value;
  let sent = value; // Enter and the change that follows it send one edit, not two
  const send = () => {
    if (i.value === sent) return;
    sent = i.value;
    onSet(i.value);
  };
  i.addEventListener("keydown", (e) => { if (e.key === "Enter") send(); });
  i.addEventListener("change", send);
  return i;
}

function renderSettings() {
  const view = state.view;
  const box = $("settings");
  if (box.dataset.revision === String(view.revision)) return;
  box.dataset.revision = String(view.revision);
  const rows = [];
  const net = view.network;
  net.layers.forEach((name, i) => {
    const parts = [];
    let show;
    parts.push(select(view.choices.activations, net.activations[i], (v) =>
      edit({ path: `network.layers.${i}.activation`, value: v }, show)));
    if (i < net.layers.length - 1) {
      const minus = document.createElement("button");
      minus.textContent = "−";
      minus.title = `remove the last unit of ${name}`;
      minus.addEventListener("click", () => edit({ unit: { layer: i, change: -1 } }, show));
      const count = document.createElement("span");
      count.textContent = `${net.units[i].length} units`;
      const plus = document.createElement("button");
      plus.textContent = "+";
      plus.title = `add a unit to ${name}`;
      plus.addEventListener("click", () => edit({ unit: { layer: i, change: 1 } }, show));
      parts.push(minus, count, plus);
    }
    const [l, f, s] = field(name, parts);
    show = s;
    rows.push(l, f);
  });
  let showLoss;
  const [l1, f1, s1] = field("loss", [select(view.choices.losses, view.settings.loss, (v) =>
    edit({ path: "training.loss", value: v }, showLoss))]);
  showLoss = s1;
  let showOpt;
  const [l2, f2, s2] = field("optimizer", [
    select(view.choices.optimizers, view.settings.optimizer, (v) => edit({ path: "training.optimizer.name", value: v }, showOpt)),
    Object.assign(document.createElement("span"), { textContent: "learning rate" }),
    numberInput(view.settings.learning_rate, (v) => edit({ path: "training.optimizer.learning_rate", value: typed(v) }, showOpt)),
  ]);
  showOpt = s2;
  let showSteps;
  const [l3, f3, s3] = field("training", [
    numberInput(String(view.settings.steps), (v) => setSteps(typed(v), showSteps)),
    Object.assign(document.createElement("span"), { textContent: `steps, batch ${view.settings.batch_size}` }),
  ]);
  showSteps = s3;
  rows.push(l1, f1, l2, f2, l3, f3);
  box.replaceChildren(...rows);
}

/** Fewer training steps: steps traced in detail beyond the new end are dropped first
 * (else the schema refuses the change), and put back if the new count is refused. */
async function setSteps(steps, show) {
  const detail = state.view.settings.detail_steps;
  const inRange = (k) => Number.isInteger(steps) && k >= -steps && k < steps;
  if (detail && Number.isInteger(steps) && !detail.every(inRange)) {
    const kept = detail.filter(inRange);
    if (!(await edit({ path: "trace.detail_steps", value: kept.length ? kept : null }, show))) return;
    let refused = null;
    if (!(await edit({ path: "training.steps", value: steps }, (m) => { refused = m; }))) {
      await edit({ path: "trace.detail_steps", value: detail }, () => {});
      toast(refused); // the settings were redrawn by the restore: the message goes here
    }
    return;
  }
  await edit({ path: "training.steps", value: steps }, show);
}

// --- training slider and curves ---------------------------------------------------

function renderTraining() {
  const t = state.view.training;
  const slider = $("train-slider");
  slider.max = String(t.steps);
  slider.value = String(state.slider);
  const detailed = t.detailed.includes(state.slider);
  const lossText = state.slider < t.steps ? t.loss_text[state.slider] : null;
  let label = `step ${state.slider} of ${t.steps}`;
  if (lossText) label += ` · batch loss ${lossText}`;
  if (state.slider === t.steps && t.final_loss) label += ` · final loss ${t.final_loss}`;
  if (detailed && !state.snapshot) label += " · in detail";
  $("train-label").textContent = label;
  drawCurves();
}

function drawCurves() {
  const svg = $("curve");
  svg.replaceChildren();
  const NS = "http://www.w3.org/2000/svg";
  const box = svg.getBoundingClientRect();
  const W = Math.max(box.width, 300), H = Math.max(box.height, 80);
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const th = theme();
  const t = state.view.training;
  const mk = (tag, attrs) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    svg.appendChild(e);
    return e;
  };
  const pad = 44;
  const x = (s) => pad + ((W - 2 * pad) * s) / Math.max(t.steps, 1);
  const plot = (values, steps, color, side, name) => {
    if (!values.length) return;
    const lo = Math.min(...values), hi = Math.max(...values);
    const y = (v) => H - 14 - ((H - 28) * (hi === lo ? 0.5 : (v - lo) / (hi - lo)));
    const d = values.map((v, n) => `${n ? "L" : "M"}${x(steps[n]).toFixed(1)},${y(v).toFixed(1)}`).join("");
    mk("path", { d, fill: "none", stroke: color, "stroke-width": 2 });
    const label = mk("text", { x: side === "left" ? 4 : W - 4, y: 12, "text-anchor": side === "left" ? "start" : "end", fill: color, "font-size": 13 });
    label.textContent = name;
  };
  plot(t.loss, t.loss.map((_, n) => n), th.negative, "left", "loss per step");
  if (t.steps <= 1) {
    const hint = mk("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: th.muted, "font-size": 14 });
    hint.textContent = "One training step: set more steps (training, below right) to watch the weights change over many.";
  }
  if (state.watch && state.watch.series) {
    const s = state.watch.series;
    const at = s.steps.indexOf(state.slider);
    plot(s.values, s.steps, th.positive, "right", `${state.watch.what}${at >= 0 ? ` = ${s.texts[at]}` : ""}`);
  }
  mk("line", { x1: x(state.slider), x2: x(state.slider), y1: 0, y2: H, stroke: th.highlight, "stroke-width": 2 });
  for (const d of t.detailed) mk("circle", { cx: x(d), cy: H - 6, r: 3.5, fill: th.highlight });
}

async function moveSlider(value) {
  state.slider = value;
  const t = state.view.training;
  if (t.detailed.includes(value)) {
    state.snapshot = null;
    if (state.stepNumber !== value) {
      state.stepNumber = value;
      await loadView();
      return;
    }
  } else {
    state.snapshot = await api("GET", `/api/snapshot/${value}`).catch(() => null);
  }
  render();
}

// --- stepping ---------------------------------------------------------------------

function goTo(i) {
  const step = state.view.step;
  if (!step) return;
  state.pos = Math.max(0, Math.min(step.events.length, i));
  if (state.snapshot) state.snapshot = null;
  render();
}

function play(on) {
  state.playing = on;
  clearTimeout(state.timer);
  if (on) tick();
  render();
}

function tick() {
  if (!state.playing) return;
  const step = state.view.step;
  if (!step || state.pos >= step.events.length) {
    play(false);
    return;
  }
  state.timer = setTimeout(() => {
    goTo(state.pos + 1);
    tick();
  }, Number($("speed").value) * 1000);
}

// --- editing a number ---------------------------------------------------------------

function openEditor(target, event) {
  state.editing = target;
  const box = $("editor");
  $("editor-label").textContent = `${target.what} (now ${target.current})`;
  $("editor-input").value = target.current;
  $("editor-error").textContent = "";
  $("editor-watch").hidden = target.kind !== "weight";
  box.hidden = false;
  const x = Math.min(event.clientX + 8, window.innerWidth - box.offsetWidth - 8);
  const y = Math.min(event.clientY + 8, window.innerHeight - box.offsetHeight - 8);
  box.style.left = `${x}px`;
  box.style.top = `${y}px`;
  $("editor-input").focus();
  $("editor-input").select();
}

function closeEditor() {
  state.editing = null;
  $("editor").hidden = true;
}

async function submitEditor() {
  const target = state.editing;
  if (!target) return;
  const ok = await edit({ path: target.path, value: typed($("editor-input").value) }, (msg) => {
    $("editor-error").textContent = msg;
  });
  if (ok) closeEditor();
}

async function watchWeight() {
  const t = state.editing;
  if (!t || t.kind !== "weight") return;
  const series = await api("GET", `/api/series?layer=${t.layer}&row=${t.row}&col=${t.col}`);
  state.watch = { ...t, series, what: t.what.replace("weight ", "w ") };
  closeEditor();
  render();
}

// --- render as a lecture --------------------------------------------------------------

async function startRender() {
  const box = $("video-box");
  box.hidden = false;
  $("video").hidden = true;
  $("render-progress").value = 0;
  $("render-status").textContent = "starting the render…";
  $("render").disabled = true;
  try {
    const body = state.stepNumber === null ? {} : { step: state.stepNumber };
    const { job } = await api("POST", "/api/render", body);
    state.job = job;
    pollRender(job);
  } catch (err) {
    $("render-status").textContent = err.message;
    $("render").disabled = false;
  }
}

async function pollRender(job) {
  let s;
  try {
    s = await api("GET", `/api/render/${job}`);
  } catch (err) {
    $("render-status").textContent = err.message;
    $("render").disabled = false;
    return;
  }
  $("render-progress").value = s.progress;
  if (s.status === "running") {
    $("render-status").textContent = s.beats_total
      ? `rendering: beat ${s.beats_done} of ${s.beats_total} (${s.seconds} s)`
      : `preparing the lecture (${s.seconds} s)…`;
    setTimeout(() => pollRender(job), 1000);
    return;
  }
  $("render").disabled = false;
  if (s.status === "done") {
    $("render-status").textContent = `done in ${s.seconds} s: ${s.duration.toFixed(1)} s of video`;
    const v = $("video");
    v.src = s.video;
    v.hidden = false;
    v.play().catch(() => {});
  } else {
    $("render-status").textContent = s.error;
  }
}

// --- wiring -------------------------------------------------------------------------

function toast(msg) {
  const t = $("toast");
  t.textContent = msg;
  t.hidden = false;
  setTimeout(() => { t.hidden = true; }, 6000);
}

function wire() {
  $("first").addEventListener("click", () => goTo(0));
  $("prev").addEventListener("click", () => goTo(state.pos - 1));
  $("next").addEventListener("click", () => goTo(state.pos + 1));
  $("last").addEventListener("click", () => goTo(Infinity));
  $("play").addEventListener("click", () => {
    const step = state.view.step;
    if (!state.playing && step && state.pos >= step.events.length) state.pos = 0;
    play(!state.playing);
  });
  $("speed").addEventListener("input", () => render());
  $("theme").addEventListener("click", () => {
    state.themeName = state.themeName === "dark" ? "light" : "dark";
    render();
  });
  $("train-slider").addEventListener("input", (e) => moveSlider(Number(e.target.value)).catch((err) => toast(err.message)));
  $("editor-ok").addEventListener("click", submitEditor);
  $("editor-cancel").addEventListener("click", closeEditor);
  $("editor-watch").addEventListener("click", () => watchWeight().catch((err) => toast(err.message)));
  $("editor-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter") submitEditor();
    if (e.key === "Escape") closeEditor();
  });
  $("render").addEventListener("click", startRender);
  $("detail-step").addEventListener("click", async () => {
    const s = state.slider;
    const wanted = [...new Set([...state.view.training.detailed, s])].sort((x, y) => x - y);
    state.stepNumber = s;
    state.pos = Infinity;
    const ok = await edit({ path: "trace.detail_steps", value: wanted }, toast);
    if (!ok) state.stepNumber = null;
  });
  $("video-close").addEventListener("click", () => {
    $("video").pause();
    $("video-box").hidden = true;
  });
  document.addEventListener("keydown", (e) => {
    if (!state.view || e.target.tagName === "INPUT" || e.target.tagName === "SELECT") return;
    if (e.key === "ArrowRight") goTo(state.pos + 1);
    else if (e.key === "ArrowLeft") goTo(state.pos - 1);
    else if (e.key === "Home") goTo(0);
    else if (e.key === "End") goTo(Infinity);
    else if (e.key === " ") { e.preventDefault(); $("play").click(); }
    else return;
  });
  window.addEventListener("resize", () => state.view && render());
}

async function start() {
  wire();
  await loadView();
  // Open on the whole step (every number computed); Play or ⏮ replays it operation by operation.
  if (state.view.step) goTo(state.view.step.events.length);
  document.body.dataset.ready = "true";
}

// Exposed for tests and the console: the state, and the edit function the page uses.
window.explore = { state, edit, goTo, loadView };
start().catch((err) => toast(err.message));
