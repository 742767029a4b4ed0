// The network as SVG, drawn from the page's state: every number is a text the server
// made with fmt (never rounded here); raw values only size and colour edges and fills.

const NS = "http://www.w3.org/2000/svg";
const MAX_DRAWN = 10; // a larger layer is drawn elided: first 4, ⋮, last 4 (as the videos do)
const MAX_EDGE_LABELS = 6;

function el(tag, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function mix(a, b, t) {
  const ca = [1, 3, 5].map((i) => parseInt(a.slice(i, i + 2), 16));
  const cb = [1, 3, 5].map((i) => parseInt(b.slice(i, i + 2), 16));
  return "#" + ca.map((v, i) => Math.round(v + (cb[i] - v) * t).toString(16).padStart(2, "0")).join("");
}

/** Units drawn for a column of `size`: all, or first and last four plus the focus. */
export function drawnUnits(size, focus) {
  if (size <= MAX_DRAWN) return [...Array(size).keys()];
  const keep = new Set([0, 1, 2, 3, size - 4, size - 3, size - 2, size - 1]);
  if (focus !== null && focus !== undefined) keep.add(focus);
  const sorted = [...keep].sort((x, y) => x - y);
  const out = [];
  sorted.forEach((u, n) => {
    if (n > 0 && u > sorted[n - 1] + 1) out.push(null); // a gap: ⋮
    out.push(u);
  });
  return out;
}

/** Which diagram parts the current event is about (the rest is dimmed). */
function involved(ev, nLayers) {
  const on = { neurons: new Set(), edges: new Set(), labels: new Set(), grad: false, loss: false };
  if (!ev) return on;
  const col = ev.layer === null ? null : ev.layer + 1;
  const me = col === null ? null : `${col}:${ev.unit}`;
  switch (ev.op) {
    case "preactivation":
      on.neurons.add(me);
      on.edges.add(`into:${col}:${ev.unit}`);
      on.labels.add(`b:${ev.layer}:${ev.unit}`);
      on.sources = col - 1;
      break;
    case "activation":
      on.neurons.add(me);
      break;
    case "loss_term":
      on.neurons.add(me);
      on.labels.add(`y:${ev.unit}`);
      on.loss = true;
      break;
    case "loss":
      for (let j = 0; j < 1e4 && ev.outputs && j < ev.outputs; j++) on.neurons.add(`${nLayers}:${j}`);
      on.loss = true;
      on.allOutputs = true;
      break;
    case "dL_da":
      on.neurons.add(me);
      on.grad = true;
      if (ev.layer === nLayers - 1) on.labels.add(`y:${ev.unit}`);
      else on.edges.add(`from:${col}:${ev.unit}`), (on.targets = col + 1);
      break;
    case "act_derivative":
    case "delta":
      on.neurons.add(me);
      on.grad = true;
      break;
    case "grad_W":
    case "update_W":
      on.neurons.add(me);
      on.edges.add(`into:${col}:${ev.unit}`);
      on.grad = ev.op === "grad_W";
      break;
    case "grad_b":
    case "update_b":
      on.neurons.add(me);
      on.labels.add(`b:${ev.layer}:${ev.unit}`);
      on.grad = ev.op === "grad_b";
      break;
  }
  return on;
}

/**
 * Draw the network into `svg`.
 * view: the server's view; step: view.step (or null); snapshot: weights when the slider is
 * on a step without detail; pos: current event index; done(op, layer, unit): computed yet?
 */
export function drawDiagram(svg, { view, step, snapshot, pos, done, theme, onEdit }) {
  svg.replaceChildren();
  const box = svg.getBoundingClientRect();
  const W = Math.max(box.width, 400), H = Math.max(box.height, 260);
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const net = view.network;
  const nLayers = net.layers.length;
  const sizes = [net.inputs.length, ...net.units.map((u) => u.length)];
  const events = step ? step.events : [];
  const ev = step && pos >= 0 ? events[pos] : null;
  const on = involved(ev && { ...ev, outputs: sizes[nLayers] }, nLayers);
  const dim = ev !== null && ev !== undefined;
  const root = el("g", { class: dim ? "dim" : "" }, svg);
  const left = 95, right = 150, top = 46, bottom = 40;
  const colX = (c) => left + (c * (W - left - right)) / nLayers;
  const focusCol = ev && ev.layer !== null ? ev.layer + 1 : null;
  const columns = sizes.map((size, c) => drawnUnits(size, c === focusCol ? ev.unit : null));
  const slots = Math.max(...columns.map((c) => c.length));
  const pitch = (H - top - bottom) / Math.max(slots, 1);
  const r = Math.max(10, Math.min(26, pitch * 0.28));
  const font = Math.max(11, Math.min(17, pitch * 0.17));
  const pos_ = columns.map((units, c) => {
    const h = units.length * pitch;
    const y0 = top + (H - top - bottom - h) / 2 + pitch / 2;
    const map = new Map();
    units.forEach((u, n) => map.set(u === null ? `gap${n}` : u, { x: colX(c), y: y0 + n * pitch }));
    return map;
  });
  const at = (c, u) => pos_[c].get(u);
  const Wof = (i) => (snapshot ? snapshot.W_raw[i] : step ? step.layers[i].W_raw : null);
  const Wtext = (i) => (snapshot ? snapshot.W[i] : step ? step.layers[i].W : null);
  const edgeLayer = el("g", {}, root);
  const labelLayer = el("g", {}, root);
  const neuronLayer = el("g", {}, root);

  const label = (parent, x, y, text, cls, key, edit) => {
    const g = el("g", { class: `vlabel${edit ? " editable" : ""}`, "data-key": key }, parent);
    const t = el("text", { x, y, "text-anchor": "middle", "dominant-baseline": "central", class: `value ${cls}`, "font-size": font }, g);
    t.textContent = text;
    const w = text.length * font * 0.6 + 8;
    const b = el("rect", { class: "box", x: x - w / 2, y: y - font * 0.72, width: w, height: font * 1.44, rx: 3 }, g);
    g.insertBefore(b, t);
    if (edit) {
      g.addEventListener("click", (e) => onEdit(edit, e));
      g.setAttribute("role", "button");
    }
    return g;
  };

  // Edges, coloured by the sign of the weight, width by its size.
  for (let i = 0; i < nLayers; i++) {
    const Wr = Wof(i);
    if (!Wr) continue;
    const biggest = Math.max(1e-12, ...Wr.flat().map(Math.abs));
    const drawnTo = columns[i + 1].filter((u) => u !== null);
    const drawnFrom = columns[i].filter((u) => u !== null);
    const pairs = drawnTo.length * drawnFrom.length;
    for (const j of drawnTo) {
      for (const k of drawnFrom) {
        const a = at(i, k), b = at(i + 1, j);
        const w = Wr[j][k];
        const hot = on.edges.has(`into:${i + 1}:${j}`) || on.edges.has(`from:${i}:${k}`) && on.targets === i + 1;
        const color = hot && on.grad ? theme.gradient : hot ? theme.highlight : w >= 0 ? theme.positive : theme.negative;
        el("line", {
          class: `edge${hot ? " on" : ""}`, x1: a.x + r, y1: a.y, x2: b.x - r, y2: b.y, stroke: color,
          "stroke-width": (hot ? 2 : 0.8) + 3.2 * Math.abs(w) / biggest,
        }, edgeLayer);
        const labelled = pairs <= MAX_EDGE_LABELS || (hot && drawnFrom.length <= MAX_DRAWN + 1);
        if (!labelled) continue;
        // From the target end, where a unit's edges meet: near it for a few edges, further
        // out for many, where the edges have spread enough for one label each.
        const t = drawnFrom.length > 4 ? 0.62 : 0.3;
        const x = b.x - r + (a.x + r - (b.x - r)) * t, y = b.y + (a.y - b.y) * t;
        let text = Wtext(i)[j][k], cls = "", key = `w:${i}:${j}:${k}`;
        if (step && !snapshot) {
          const L = step.layers[i];
          if (ev && ev.op === "grad_W" && ev.layer === i && ev.unit === j) {
            text = `∂ ${L.grad_W[j][k]}`; cls = "grad"; key = `g:${i}:${j}:${k}`;
          } else if (done("update_W", i, j)) {
            text = L.W_next[j][k]; cls = "new"; key = `wn:${i}:${j}:${k}`;
          }
        }
        const g = label(labelLayer, x, y, text, cls, key, {
          kind: "weight", layer: i, row: j, col: k,
          path: `network.layers.${i}.weights.${j}.${k}`,
          current: Wtext(i)[j][k],
          what: `weight ${net.units[i][j]} ← ${i === 0 ? net.inputs[k] : net.units[i - 1][k]}`,
        });
        if (hot) g.classList.add("on");
      }
    }
  }

  // Neurons: name inside, numbers below as they are computed.
  columns.forEach((units, c) => {
    units.forEach((u, n) => {
      if (u === null) {
        const p = pos_[c].get(`gap${n}`);
        const t = el("text", { x: p.x, y: p.y, "text-anchor": "middle", "dominant-baseline": "central", class: "value muted", "font-size": font * 1.4 }, neuronLayer);
        t.textContent = "⋮";
        return;
      }
      const p = at(c, u);
      const key = `${c}:${u}`;
      const neuronOn = on.neurons.has(key) || on.sources === c || on.targets === c || (on.allOutputs && c === nLayers);
      const g = el("g", { class: `neuron${neuronOn ? " on" : ""}${on.grad ? " grad" : ""}` }, neuronLayer);
      let fill = theme.background;
      const i = c - 1;
      if (c === 0) fill = mix(theme.background, theme.neuron_fill, 0.15);
      else if (step && !snapshot && done("activation", i, u)) {
        const a = step.layers[i].a_raw[u];
        const act = net.activations[i];
        const [lo, hi] = act === "tanh" ? [-1, 1] : act === "sigmoid" || act === "softmax" ? [0, 1] : [Math.min(...step.layers[i].a_raw), Math.max(...step.layers[i].a_raw)];
        const t = hi <= lo ? 0 : Math.min(1, Math.max(0, (a - lo) / (hi - lo)));
        fill = mix(theme.background, theme.neuron_fill, 0.15 + 0.85 * t);
      }
      el("circle", { cx: p.x, cy: p.y, r, fill }, g);
      const name = el("text", { x: p.x, y: p.y, "text-anchor": "middle", "dominant-baseline": "central", class: "name", "font-size": Math.min(font, r * 0.8) }, g);
      name.textContent = c === 0 ? net.inputs[u] : net.units[i][u];
      const lines = [];
      if (c === 0 && step && !snapshot) {
        lines.push([`x=${step.x[u]}`, "a", `x:${u}`, view.edit.inputs && {
          kind: "input", path: `${view.edit.inputs}.${u}`, current: step.x[u], what: `input ${net.inputs[u]}`,
        }]);
      }
      if (c > 0 && step && !snapshot) {
        const L = step.layers[i];
        const roomy = pitch >= 80;
        if (roomy && done("preactivation", i, u)) lines.push([`z=${L.z[u]}`, "", `z:${i}:${u}`]);
        if (done("activation", i, u)) lines.push([`a=${L.a[u]}`, "a", `a:${i}:${u}`]);
        if (done("delta", i, u) && (roomy || !done("activation", i, u) || pos < events.length)) lines.push([`δ=${L.delta[u]}`, "delta", `d:${i}:${u}`]);
      }
      const lineH = font * 1.5;
      lines.slice(0, pitch >= 80 ? 3 : 1 + (pitch >= 55 ? 1 : 0)).forEach(([text, cls, k, edit], m) => {
        const lg = label(g, p.x, p.y + r + lineH * (m + 0.55), text, cls, k, edit);
        const used = on.neurons.has(key) || on.allOutputs && c === nLayers
          || (on.sources === c && cls === "a") || (on.targets === c && cls === "delta");
        if (used) lg.classList.add("on");
      });
      if (c > 0) {
        // The bias, above the neuron.
        const bText = snapshot ? snapshot.b[i][u] : step ? (done("update_b", i, u) ? step.layers[i].b_next[u] : step.layers[i].b[u]) : null;
        // Above the neuron when there is room (or for the unit being explained).
        if (bText !== null && ((sizes[c] <= MAX_DRAWN && pitch >= 80) || on.neurons.has(key))) {
          const newer = !snapshot && step && done("update_b", i, u);
          const ev2 = ev && ev.op === "grad_b" && ev.layer === i && ev.unit === u;
          const shown = ev2 ? `∂ ${step.layers[i].grad_b[u]}` : `b=${bText}`;
          const bl = label(g, p.x, p.y - r - font * 0.95, shown, ev2 ? "grad" : newer ? "new" : "muted", ev2 ? `gb:${i}:${u}` : newer ? `bn:${i}:${u}` : `b:${i}:${u}`, {
            kind: "bias", path: `network.layers.${i}.biases.${u}`,
            current: snapshot ? snapshot.b[i][u] : step.layers[i].b[u], what: `bias of ${net.units[i][u]}`,
          });
          if (on.labels.has(`b:${i}:${u}`)) bl.classList.add("on");
        }
      }
      if (c === nLayers && step && !snapshot) {
        const edit = view.edit.targets && { kind: "target", path: `${view.edit.targets}.${u}`, current: step.y[u], what: `target of ${net.units[i][u]}` };
        const tl = label(g, p.x + r + 62, p.y, `y=${step.y[u]}`, "muted", `y:${u}`, edit);
        if (on.labels.has(`y:${u}`)) tl.classList.add("on");
      }
    });
  });

  // The loss, once computed.
  if (step && !snapshot && done("loss", null, null)) {
    const x = colX(nLayers) + r + 62, y = H - bottom + 12;
    const g = el("g", { class: `loss-box vlabel${on.loss ? " on" : ""}`, "data-key": "loss" }, root);
    const text = `L = ${step.loss}`;
    const w = text.length * font * 0.62 + 16;
    el("rect", { class: "box", x: x - w / 2, y: y - font, width: w, height: font * 2, rx: 5 }, g);
    const t = el("text", { x, y, "text-anchor": "middle", "dominant-baseline": "central", class: "value a", "font-size": font }, g);
    t.textContent = text;
  }
  // Column titles.
  ["input", ...net.layers].forEach((name, c) => {
    const t = el("text", { x: colX(c), y: 18, "text-anchor": "middle", class: "value muted", "font-size": Math.max(font, 15) }, root);
    t.textContent = c === 0 ? `inputs (${sizes[0]})` : `${name} (${sizes[c]}, ${net.activations[c - 1]})`;
  });
}
