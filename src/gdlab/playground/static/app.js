// gdlab playground: the page only draws. Every number here comes from the server (gdlab in
// Python) over one websocket per tab; the page sends the settings as typed, unchecked, and
// shows the server's message when one is refused.
"use strict";

const $ = (id) => document.getElementById(id);
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];
const PLOT_CONFIG = { displayModeBar: false, responsive: false };
const state = {
  view: "surface",
  catalog: null,
  socket: null,
  surface: { seq: 0, inFlight: false, dirty: false, changeAt: null, sentChangeAt: null,
             result: null, contour: null, shown: 0, playing: false, timer: null, start: null },
  network: { configured: false, playing: false, data: null, history: [], frames: [],
             lastStep: 0, sentAt: null },
  stats: { surfaceLatencies: [], surfaceComputeMs: [], networkFps: 0, networkStepsPerSecond: 0 },
};
window.gdlabPlayground = state; // read by the browser tests

// ----------------------------------------------------------------------------- messages
function showMessage(text, kind) {
  const box = $("message");
  if (!text) { box.hidden = true; box.textContent = ""; return; }
  box.hidden = false;
  box.className = kind === "info" ? "info" : "";
  box.textContent = text;
}

function send(message) {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify(message));
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  state.socket = socket;
  socket.onopen = () => { $("connection").textContent = "connected"; };
  socket.onclose = () => {
    $("connection").textContent = "disconnected";
    showMessage("Disconnected from the gdlab server: restart `gdlab playground` and reload.");
  };
  socket.onmessage = (event) => receive(JSON.parse(event.data));
}

function receive(msg) {
  switch (msg.type) {
    case "hello": return start(msg);
    case "contour": state.surface.contour = msg; return drawContourBase();
    case "paths": return surfaceResult(msg);
    case "network_data": return networkData(msg);
    case "frame": return networkFrame(msg);
    case "state": return networkState(msg);
    case "error": return serverError(msg);
  }
}

function serverError(msg) {
  showMessage(msg.message);
  if (msg.view === "surface") {
    state.surface.inFlight = false;
    if (state.surface.dirty) requestSurface();
  }
}

// ----------------------------------------------------------------------------- URL state
function params() { return new URLSearchParams(location.search); }

function writeUrl() {
  const p = new URLSearchParams();
  p.set("view", state.view);
  for (const [k, v] of Object.entries(surfaceUrlState())) p.set(k, v);
  for (const [k, v] of Object.entries(networkUrlState())) p.set(k, v);
  history.replaceState(null, "", "?" + p.toString());
}

function setView(view) {
  state.view = view === "network" ? "network" : "surface";
  $("surface-view").hidden = state.view !== "surface";
  $("network-view").hidden = state.view !== "network";
  $("tab-surface").classList.toggle("active", state.view === "surface");
  $("tab-network").classList.toggle("active", state.view === "network");
  showMessage("");
  if (state.view === "network" && !state.network.configured) configureNetwork();
  if (state.view === "surface" && !state.surface.result) requestSurface();
  writeUrl();
}

// ============================================================================= surfaces
function fmt(x, digits = 4) {
  if (x === null || x === undefined) return "–";
  return Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(digits - 1)
    : Number(x.toPrecision(digits)).toString();
}

function buildSurfaceControls(catalog) {
  const select = $("s-function");
  for (const f of catalog.functions) {
    const o = document.createElement("option");
    o.value = f.name; o.textContent = f.name; select.appendChild(o);
  }
  const tbody = $("s-optimizers").querySelector("tbody");
  catalog.optimizers.forEach((opt, i) => {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td><input type="checkbox" id="s-use-${opt.name}"></td>
      <td><span class="swatch" style="background:${COLORS[i % COLORS.length]}"></span>${opt.name}</td>
      <td><input type="range" id="s-lrlog-${opt.name}" min="-6" max="1" step="0.05"></td>
      <td><input type="text" id="s-lr-${opt.name}" size="7"></td>`;
    tbody.appendChild(tr);
    const slider = tr.querySelector(`#s-lrlog-${opt.name}`);
    const text = tr.querySelector(`#s-lr-${opt.name}`);
    slider.addEventListener("input", () => {
      text.value = Number(Math.pow(10, Number(slider.value)).toPrecision(3)).toString();
      surfaceChanged();
    });
    text.addEventListener("change", () => {
      const v = Number(text.value);
      if (v > 0 && isFinite(v)) slider.value = Math.log10(v);
      surfaceChanged();
    });
    tr.querySelector(`#s-use-${opt.name}`).addEventListener("change", surfaceChanged);
  });
  for (const id of ["s-function", "s-schedule"]) $(id).addEventListener("change", surfaceChanged);
  for (const id of ["s-steps", "s-gamma", "s-step-size", "s-seed"]) $(id).addEventListener("change", surfaceChanged);
  for (const id of ["s-momentum", "s-beta1", "s-beta2"]) {
    $(id).addEventListener("input", () => { $(id + "-out").textContent = $(id).value; surfaceChanged(); });
  }
  $("s-function").addEventListener("change", () => { state.surface.start = null; });
  $("s-start-default").addEventListener("click", () => { state.surface.start = null; surfaceChanged(); });
  $("s-play").addEventListener("click", toggleSurfacePlay);
  $("s-step").addEventListener("click", () => { stopSurfacePlay(); showStep(state.surface.shown + 1); });
  $("s-reset").addEventListener("click", () => { stopSurfacePlay(); showStep(0); });
}

function setLr(name, lr) {
  $(`s-lr-${name}`).value = String(lr);
  const v = Number(lr);
  if (v > 0 && isFinite(v)) $(`s-lrlog-${name}`).value = Math.log10(v);
}

function loadSurfaceFromUrl(catalog) {
  const p = params();
  const fn = p.get("fn") || "rosenbrock";
  $("s-function").value = catalog.functions.some((f) => f.name === fn) ? fn : "rosenbrock";
  const start = p.get("start");
  state.surface.start = start ? start.split(",") : null;
  $("s-steps").value = p.get("steps") || "300";
  const chosen = {};
  const spec = p.get("opt");
  if (spec) {
    for (const part of spec.split(",")) { const [n, lr] = part.split(":"); chosen[n] = lr; }
  } else {
    for (const c of catalog.surface_defaults) chosen[c.name] = String(c.lr);
  }
  for (const opt of catalog.optimizers) {
    $(`s-use-${opt.name}`).checked = opt.name in chosen;
    setLr(opt.name, chosen[opt.name] || String(opt.lr));
  }
  const slider = (id, key, dflt) => { $(id).value = p.get(key) || dflt; $(id + "-out").textContent = $(id).value; };
  slider("s-momentum", "mom", "0.9");
  slider("s-beta1", "b1", "0.9");
  slider("s-beta2", "b2", "0.999");
  $("s-schedule").value = p.get("sched") || "constant";
  $("s-gamma").value = p.get("gamma") || "0.99";
  $("s-step-size").value = p.get("k") || "100";
  $("s-seed").value = p.get("seed") || "0";
}

function surfaceSettings() {
  const optimizers = [];
  for (const opt of state.catalog.optimizers) {
    if ($(`s-use-${opt.name}`).checked) optimizers.push({ name: opt.name, lr: $(`s-lr-${opt.name}`).value });
  }
  const s = {
    function: $("s-function").value, steps: $("s-steps").value, optimizers,
    momentum: $("s-momentum").value, beta1: $("s-beta1").value, beta2: $("s-beta2").value,
    schedule: $("s-schedule").value, gamma: $("s-gamma").value, step_size: $("s-step-size").value,
    seed: $("s-seed").value,
  };
  if (state.surface.start) s.start = state.surface.start;
  return s;
}

function surfaceUrlState() {
  if (!state.catalog) return {};
  const s = surfaceSettings();
  const out = { fn: s.function, steps: s.steps, opt: s.optimizers.map((o) => `${o.name}:${o.lr}`).join(","),
    mom: s.momentum, b1: s.beta1, b2: s.beta2, sched: s.schedule, gamma: s.gamma, k: s.step_size, seed: s.seed };
  if (s.start) out.start = s.start.join(",");
  return out;
}

function surfaceChanged() {
  const sf = state.surface;
  if (sf.changeAt === null) sf.changeAt = performance.now();
  writeUrl();
  requestSurface();
}

function requestSurface() {
  const sf = state.surface;
  if (sf.inFlight) { sf.dirty = true; return; }
  sf.inFlight = true;
  sf.dirty = false;
  sf.sentChangeAt = sf.changeAt;
  sf.changeAt = null;
  sf.seq += 1;
  send({ type: "surface", seq: sf.seq, settings: surfaceSettings() });
}

const TRANSPARENT = "rgba(0,0,0,0)";
const CONTOUR_SCALE = [[0, "#fffbe0"], [0.35, "#d5ebc6"], [0.7, "#8fc3d9"], [1, "#4d79a8"]];

function contourTrace(c) {
  return {
    type: "contour", x: c.x, y: c.y, z: c.z, showscale: false, hoverinfo: "skip",
    ncontours: 28, colorscale: CONTOUR_SCALE, contours: { coloring: "fill", showlines: true },
    line: { width: 0.5, color: "rgba(0,0,0,0.3)" },
  };
}

function surfaceLayout(c, overlay) {
  const axis = (range, title) => ({ range, title: { text: overlay ? "" : title }, fixedrange: true,
    visible: !overlay, showgrid: false, zeroline: false });
  return {
    margin: { l: 45, r: 10, t: 30, b: 40 }, showlegend: false, dragmode: false,
    paper_bgcolor: overlay ? TRANSPARENT : "#fff", plot_bgcolor: overlay ? TRANSPARENT : "#fff",
    title: { text: overlay ? "" : c.function + (c.log ? ": contours of log₁₀(f − f*)" : ": contours of f"),
             font: { size: 13 } },
    xaxis: axis([c.x[0], c.x[c.x.length - 1]], "x"),
    yaxis: axis([c.y[0], c.y[c.y.length - 1]], "y"),
  };
}

function drawContourBase() {
  // the contour changes only with the function: drawn once, under the paths' transparent plot
  const c = state.surface.contour;
  $("s-description").textContent = c.description;
  const minima = { type: "scatter", mode: "markers", x: c.minima.map((m) => m[0]), y: c.minima.map((m) => m[1]),
    marker: { symbol: "star", size: 13, color: "gold", line: { color: "#333", width: 1 } }, hoverinfo: "skip" };
  return Plotly.react("s-contour-base", [contourTrace(c), minima], surfaceLayout(c, false), PLOT_CONFIG);
}

function gapLayout(result) {
  const log = result.f_star !== null;
  return {
    margin: { l: 55, r: 10, t: 30, b: 40 }, dragmode: false,
    title: { text: log ? "f − f* against steps" : "f against steps (f* unknown)", font: { size: 13 } },
    xaxis: { range: [0, result.steps], title: { text: "step" }, fixedrange: true },
    yaxis: { type: log ? "log" : "linear", exponentformat: "power", fixedrange: true },
    legend: { orientation: "h", y: -0.18 },
    shapes: [{ type: "line", xref: "x", yref: "paper", x0: result.steps, x1: result.steps, y0: 0, y1: 1,
               line: { color: "#999", width: 1, dash: "dot" } }],
  };
}

function colorOf(name) {
  const i = state.catalog.optimizers.findIndex((o) => o.name === name);
  return COLORS[i % COLORS.length];
}

function pathTraces(result, upto) {
  const traces = [];
  for (const p of result.paths) {
    const x = p.x.slice(0, upto + 1);
    const y = p.y.slice(0, upto + 1);
    traces.push({ type: "scatter", mode: "lines", name: p.optimizer, x, y,
      line: { color: colorOf(p.optimizer), width: 2.5 }, hoverinfo: "skip" });
    let k = x.length - 1;
    while (k > 0 && x[k] === null) k -= 1;
    traces.push({ type: "scatter", mode: "markers", x: [x[k]], y: [y[k]], hoverinfo: "skip",
      marker: { size: 8, color: colorOf(p.optimizer), line: { color: "#fff", width: 1 } } });
  }
  traces.push({ type: "scatter", mode: "markers", x: [result.start[0]], y: [result.start[1]], hoverinfo: "skip",
    marker: { symbol: "circle", size: 11, color: "#fff", line: { color: "#000", width: 2 } } });
  return traces;
}

function gapTraces(result) {
  return result.paths.map((p) => ({
    type: "scatter", mode: "lines", name: p.optimizer + (p.diverged_step ? " (diverged)" : ""),
    x: [...Array(result.steps + 1).keys()], y: p.gap, line: { color: colorOf(p.optimizer), width: 2 },
  }));
}

async function drawSurface(upto, full) {
  // full: a new result (paths and f − f* curves); otherwise an animation step (the paths
  // up to ``upto`` and the step marker on the f − f* plot)
  const c = state.surface.contour;
  const result = state.surface.result;
  const draws = [Plotly.react("s-contour", pathTraces(result, upto), surfaceLayout(c, true), PLOT_CONFIG)];
  if (full) {
    const layout = gapLayout(result);
    layout.shapes[0].x0 = layout.shapes[0].x1 = upto;
    draws.push(Plotly.react("s-gap", gapTraces(result), layout, PLOT_CONFIG));
  } else if (upto % 10 === 0 || upto >= result.steps) {
    draws.push(Plotly.relayout("s-gap", { "shapes[0].x0": upto, "shapes[0].x1": upto }));
  }
  await Promise.all(draws);
  state.surface.shown = upto;
  $("s-counter").textContent = String(upto);
  $("s-total").textContent = String(result.steps);
}

function showStep(k) {
  const result = state.surface.result;
  if (!result) return;
  return drawSurface(Math.max(0, Math.min(k, result.steps)), false);
}

function resultsTable(result) {
  const tbody = $("s-results").querySelector("tbody");
  tbody.innerHTML = "";
  for (const p of result.paths) {
    const tr = document.createElement("tr");
    tr.dataset.optimizer = p.optimizer;
    tr.dataset.x = String(p.final[0]);
    tr.dataset.y = String(p.final[1]);
    const gap = result.f_star === null ? p.final_value : p.final_value - result.f_star;
    const status = p.diverged_step ? `diverged at step ${p.diverged_step}` : "";
    tr.innerHTML = `<td><span class="swatch" style="background:${colorOf(p.optimizer)}"></span>${p.optimizer}</td>
      <td>${fmt(p.lr, 3)}</td><td class="final-x">${fmt(p.final[0], 6)}</td><td class="final-y">${fmt(p.final[1], 6)}</td>
      <td>${fmt(gap, 3)}</td><td class="${p.diverged_step ? "diverged" : ""}">${status}</td>`;
    tbody.appendChild(tr);
  }
}

async function surfaceResult(msg) {
  const sf = state.surface;
  sf.result = msg;
  const playing = sf.playing;
  await drawSurface(playing ? Math.min(sf.shown, msg.steps) : msg.steps, true);
  resultsTable(msg);
  $("s-start").textContent = `(${fmt(msg.start[0], 4)}, ${fmt(msg.start[1], 4)})`;
  showMessage(msg.warning || "");
  let text = `${msg.paths.length} optimizers × ${msg.steps} steps: computed in ${msg.compute_ms.toFixed(0)} ms`;
  if (sf.sentChangeAt !== null) {
    const latency = performance.now() - sf.sentChangeAt;
    state.stats.surfaceLatencies.push(latency);
    text += `, redrawn ${latency.toFixed(0)} ms after the change`;
  }
  $("s-timing").textContent = text;
  state.stats.surfaceComputeMs.push(msg.compute_ms);
  sf.inFlight = false;
  if (sf.dirty) requestSurface();
}

function toggleSurfacePlay() {
  const sf = state.surface;
  if (sf.playing) { stopSurfacePlay(); return; }
  if (!sf.result) return;
  sf.playing = true;
  $("s-play").textContent = "❚❚ pause";
  if (sf.shown >= sf.result.steps) sf.shown = 0;
  const perFrame = Math.max(1, Math.round(sf.result.steps / 200));
  const tick = async () => {
    if (!sf.playing) return;
    await showStep(sf.shown + perFrame);
    if (sf.shown >= sf.result.steps) { stopSurfacePlay(); return; }
    sf.timer = requestAnimationFrame(tick);
  };
  tick();
}

function stopSurfacePlay() {
  const sf = state.surface;
  sf.playing = false;
  if (sf.timer) cancelAnimationFrame(sf.timer);
  sf.timer = null;
  $("s-play").textContent = "▶ play";
}

function enableStartClicks() {
  // a click anywhere on the contour plot's area sets the start (rounded to 3 decimals)
  const gd = $("s-contour");
  gd.addEventListener("click", (event) => {
    const layout = gd._fullLayout;
    if (!layout || !state.surface.contour) return;
    const rect = gd.getBoundingClientRect();
    const size = layout._size;
    const px = event.clientX - rect.left - size.l;
    const py = event.clientY - rect.top - size.t;
    if (px < 0 || py < 0 || px > size.w || py > size.h) return;
    const [x0, x1] = layout.xaxis.range;
    const [y0, y1] = layout.yaxis.range;
    const x = x0 + (px / size.w) * (x1 - x0);
    const y = y1 - (py / size.h) * (y1 - y0);
    state.surface.start = [x.toFixed(3), y.toFixed(3)];
    stopSurfacePlay();
    surfaceChanged();
  });
}

// ============================================================================= networks
const CONFIG_FIELDS = [
  // [key, label, kind, default]
  ["hidden", "Hidden layers (widths)", "text", "8,8"],
  ["activation", "Activation", "select:activations", "tanh"],
  ["optimizer", "Optimizer", "select:optimizer_names", "adam"],
  ["lr", "Learning rate", "lr", "0.03"],
  ["momentum", "Momentum μ", "text", "0.9"],
  ["beta1", "β₁", "text", "0.9"],
  ["beta2", "β₂", "text", "0.999"],
  ["batch_mode", "Batch", "select:batch_modes", "full"],
  ["batch_size", "Mini-batch size", "text", "32"],
  ["l1", "L1 λ", "text", "0"],
  ["l2", "L2 λ", "text", "0"],
  ["dropout", "Dropout p", "text", "0"],
];
const URL_KEYS = { hidden: "hidden", activation: "act", optimizer: "opt", lr: "lr", momentum: "mom",
  beta1: "b1", beta2: "b2", batch_mode: "batch", batch_size: "bs", l1: "l1", l2: "l2", dropout: "drop" };

function buildConfig(tag, catalog) {
  const box = document.createElement("fieldset");
  box.className = "config";
  box.id = `n-config-${tag}`;
  box.innerHTML = `<legend>Configuration ${tag.toUpperCase()}</legend>`;
  for (const [key, label, kind] of CONFIG_FIELDS) {
    const id = `n-${tag}-${key}`;
    const lab = document.createElement("label");
    if (kind.startsWith("select:")) {
      const options = catalog[kind.slice(7)].map((o) => `<option>${o}</option>`).join("");
      lab.innerHTML = `${label} <select id="${id}">${options}</select>`;
    } else if (kind === "lr") {
      lab.innerHTML = `${label} <input type="range" id="${id}-log" min="-5" max="1" step="0.05"> <input type="text" id="${id}" size="7">`;
    } else {
      lab.innerHTML = `${label} <input type="text" id="${id}" size="8">`;
    }
    box.appendChild(lab);
  }
  $("n-configs").appendChild(box);
  for (const [key, , kind] of CONFIG_FIELDS) {
    const el = $(`n-${tag}-${key}`);
    el.addEventListener("change", networkChanged);
    if (kind === "lr") {
      const slider = $(`n-${tag}-${key}-log`);
      slider.addEventListener("input", () => {
        el.value = Number(Math.pow(10, Number(slider.value)).toPrecision(3)).toString();
        networkChanged();
      });
      el.addEventListener("change", () => { const v = Number(el.value); if (v > 0 && isFinite(v)) slider.value = Math.log10(v); });
    }
  }
}

function setConfigField(tag, key, value) {
  $(`n-${tag}-${key}`).value = value;
  if (key === "lr") {
    const v = Number(value);
    if (v > 0 && isFinite(v)) $(`n-${tag}-lr-log`).value = Math.log10(v);
  }
}

function buildNetworkControls(catalog) {
  buildConfig("a", catalog);
  buildConfig("b", catalog);
  for (const id of ["n-dataset", "n-points", "n-test", "n-seed", "n-spf", "n-compare"]) {
    $(id).addEventListener("change", networkChanged);
  }
  $("n-noise").addEventListener("input", () => { $("n-noise-out").textContent = $("n-noise").value; });
  $("n-noise").addEventListener("change", networkChanged);
  $("n-play").addEventListener("click", () => send({ type: "network", action: state.network.playing ? "pause" : "play" }));
  $("n-step").addEventListener("click", () => send({ type: "network", action: "step" }));
  $("n-reset").addEventListener("click", () => send({ type: "network", action: "reset" }));
}

function loadNetworkFromUrl() {
  const p = params();
  $("n-dataset").value = p.get("data") || "spirals";
  $("n-points").value = p.get("n") || "500";
  $("n-noise").value = p.get("noise") || "0.2";
  $("n-noise-out").textContent = $("n-noise").value;
  $("n-test").value = p.get("test") || "0.25";
  $("n-seed").value = p.get("dseed") || "0";
  $("n-spf").value = p.get("spf") || "3";
  $("n-compare").checked = p.get("cmp") === "1";
  for (const tag of ["a", "b"]) {
    for (const [key, , , dflt] of CONFIG_FIELDS) setConfigField(tag, key, p.get(`${tag}.${URL_KEYS[key]}`) || dflt);
  }
  if (!p.get("b.opt")) setConfigField("b", "optimizer", "sgd");
  if (!p.get("b.lr")) setConfigField("b", "lr", "0.3");
  showCompare();
}

function showCompare() {
  const on = $("n-compare").checked;
  $("n-config-b").hidden = !on;
  $("n-box-b").hidden = !on;
}

function configSettings(tag) {
  const out = {};
  for (const [key] of CONFIG_FIELDS) out[key] = $(`n-${tag}-${key}`).value;
  return out;
}

function networkSettings() {
  const models = [configSettings("a")];
  if ($("n-compare").checked) models.push(configSettings("b"));
  return {
    data: { dataset: $("n-dataset").value, n_samples: $("n-points").value, noise: $("n-noise").value,
            test_fraction: $("n-test").value, seed: $("n-seed").value },
    models, steps_per_frame: $("n-spf").value,
  };
}

function networkUrlState() {
  if (!state.catalog) return {};
  const out = { data: $("n-dataset").value, n: $("n-points").value, noise: $("n-noise").value,
    test: $("n-test").value, dseed: $("n-seed").value, spf: $("n-spf").value, cmp: $("n-compare").checked ? "1" : "0" };
  for (const tag of $("n-compare").checked ? ["a", "b"] : ["a"]) {
    const c = configSettings(tag);
    for (const [key, short] of Object.entries(URL_KEYS)) out[`${tag}.${short}`] = c[key];
  }
  return out;
}

function networkChanged() {
  showCompare();
  writeUrl();
  configureNetwork();
}

function configureNetwork() {
  state.network.configured = true;
  showMessage("");
  send({ type: "network", action: "configure", settings: networkSettings() });
}

const CLASS_COLORS = ["#f59322", "#0877bd"];
const BOUNDARY_SCALE = [[0, "#f59322"], [0.5, "#e8eaeb"], [1, "#0877bd"]];

function pointsTrace(points, test) {
  return {
    type: "scatter", mode: "markers", x: points.x.map((p) => p[0]), y: points.x.map((p) => p[1]),
    marker: { size: 6, color: test ? "#fff" : points.y.map((c) => CLASS_COLORS[c > 0.5 ? 1 : 0]),
              line: { width: test ? 1.5 : 0.7, color: test ? points.y.map((c) => CLASS_COLORS[c > 0.5 ? 1 : 0]) : "#fff" } },
    hoverinfo: "skip", name: test ? "test" : "train",
  };
}

function boundaryLayout(d) {
  return {
    margin: { l: 35, r: 10, t: 10, b: 30 }, showlegend: false, dragmode: false,
    paper_bgcolor: TRANSPARENT, plot_bgcolor: TRANSPARENT,
    xaxis: { range: [d.grid_x[0], d.grid_x[d.grid_x.length - 1]], fixedrange: true, showgrid: false, zeroline: false },
    yaxis: { range: [d.grid_y[0], d.grid_y[d.grid_y.length - 1]], fixedrange: true, showgrid: false, zeroline: false },
  };
}

// The boundary is an image of the server's probabilities on the grid, painted on a canvas
// under the (transparent, never redrawn) scatter plot of the points: Plotly redrawing a
// heatmap costs ~100 ms a frame in a browser without a GPU, the canvas well under 1 ms.
const STOPS = [[0, [245, 147, 34]], [0.5, [232, 234, 235]], [1, [8, 119, 189]]];

function probColor(p) {
  const [lo, hi] = p < 0.5 ? [STOPS[0], STOPS[1]] : [STOPS[1], STOPS[2]];
  const t = (p - lo[0]) / (hi[0] - lo[0]);
  return lo[1].map((c, i) => Math.round(c + t * (hi[1][i] - c)));
}

function placeCanvas(r) {
  const gd = $(r === 0 ? "n-boundary-a" : "n-boundary-b");
  const canvas = $(r === 0 ? "n-canvas-a" : "n-canvas-b");
  const size = gd._fullLayout._size;
  Object.assign(canvas.style, { left: `${size.l}px`, top: `${size.t}px`, width: `${size.w}px`, height: `${size.h}px` });
  canvas.width = size.w;
  canvas.height = size.h;
}

function paintBoundary(r, z) {
  const canvas = $(r === 0 ? "n-canvas-a" : "n-canvas-b");
  const g = z.length;
  const small = paintBoundary.small || (paintBoundary.small = document.createElement("canvas"));
  small.width = g;
  small.height = g;
  const sctx = small.getContext("2d");
  const img = sctx.createImageData(g, g);
  for (let row = 0; row < g; row++) {
    const line = z[g - 1 - row]; // row 0 of z is the lowest y: the bottom of the picture
    for (let col = 0; col < g; col++) {
      const [R, G, B] = probColor(line[col]);
      const k = 4 * (row * g + col);
      img.data[k] = R; img.data[k + 1] = G; img.data[k + 2] = B; img.data[k + 3] = 215;
    }
  }
  sctx.putImageData(img, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}

const CURVE_SECONDS = 0.25; // loss and gradient curves redraw at most 4 times a second

async function networkData(msg) {
  const nw = state.network;
  nw.data = msg;
  nw.history = [];
  nw.frames = [];
  nw.pending = null;
  nw.curvesAt = 0;
  const runs = msg.layers.length;
  const draws = [];
  for (let r = 0; r < runs; r++) {
    const div = r === 0 ? "n-boundary-a" : "n-boundary-b";
    draws.push(Plotly.react(div, [pointsTrace(msg.train, false), pointsTrace(msg.test, true)], boundaryLayout(msg), PLOT_CONFIG)
      .then(() => placeCanvas(r)));
  }
  const lossTraces = [];
  const gradTraces = [];
  const dash = ["solid", "dash"];
  for (let r = 0; r < runs; r++) {
    const tag = r === 0 ? "A" : "B";
    lossTraces.push({ type: "scatter", mode: "lines", name: `${tag} train`, x: [], y: [], line: { color: "#0877bd", dash: dash[r] } });
    lossTraces.push({ type: "scatter", mode: "lines", name: `${tag} test`, x: [], y: [], line: { color: "#f59322", dash: dash[r] } });
    for (let l = 0; l < msg.layers[r]; l++) {
      gradTraces.push({ type: "scatter", mode: "lines", name: `${tag} layer ${l + 1}`, x: [], y: [],
                        line: { color: COLORS[l % COLORS.length], dash: dash[r] } });
    }
  }
  const chart = (title) => ({ margin: { l: 50, r: 10, t: 30, b: 40 }, title: { text: title, font: { size: 13 } },
    xaxis: { title: { text: "step" } }, yaxis: { type: "log", exponentformat: "power" }, legend: { orientation: "h", y: -0.25 } });
  draws.push(Plotly.react("n-loss", lossTraces, chart("loss (BCE) against steps: train and test"), PLOT_CONFIG));
  draws.push(Plotly.react("n-grads", gradTraces, chart("‖∇W‖ per layer (weights' gradient norm)"), PLOT_CONFIG));
  nw.ready = Promise.all(draws);
  await nw.ready;
}

function runStats(run) {
  const pct = (a) => `${(100 * a).toFixed(1)}%`;
  return `train loss ${fmt(run.train_loss)} · test loss ${fmt(run.test_loss)} · ` +
    `train acc ${pct(run.train_acc)} · test acc ${pct(run.test_acc)} · epoch ${run.epoch}`;
}

function queueCurves(msg) {
  const nw = state.network;
  if (!nw.pending) nw.pending = { lossX: [], lossY: [], gradX: [], gradY: [] };
  const q = nw.pending;
  let li = 0;
  let gi = 0;
  msg.runs.forEach((run) => {
    for (const v of [run.train_loss, run.test_loss]) {
      (q.lossX[li] = q.lossX[li] || []).push(run.step);
      (q.lossY[li] = q.lossY[li] || []).push(v);
      li += 1;
    }
    for (const g of run.grad_norms) {
      if (run.step > 0) {
        (q.gradX[gi] = q.gradX[gi] || []).push(run.step);
        (q.gradY[gi] = q.gradY[gi] || []).push(g);
      } else {
        q.gradX[gi] = q.gradX[gi] || [];
        q.gradY[gi] = q.gradY[gi] || [];
      }
      gi += 1;
    }
  });
}

function flushCurves(force) {
  const nw = state.network;
  const now = performance.now();
  if (!nw.pending || (!force && now - nw.curvesAt < CURVE_SECONDS * 1000)) return [];
  const q = nw.pending;
  nw.pending = null;
  nw.curvesAt = now;
  const draws = [Plotly.extendTraces("n-loss", { x: q.lossX, y: q.lossY }, q.lossX.map((_, i) => i))];
  if (q.gradX.some((xs) => xs.length)) {
    draws.push(Plotly.extendTraces("n-grads", { x: q.gradX, y: q.gradY }, q.gradX.map((_, i) => i)));
  }
  return draws;
}

async function networkFrame(msg) {
  const nw = state.network;
  if (!nw.data) return;
  await nw.ready;
  const now = performance.now();
  nw.frames.push({ t: now, step: msg.runs[0].step });
  while (nw.frames.length > 30) nw.frames.shift(); // the speed over the last 30 frames
  const messages = [];
  msg.runs.forEach((run, r) => {
    paintBoundary(r, run.boundary);
    const stats = $(r === 0 ? "n-stats-a" : "n-stats-b");
    stats.textContent = run.diverged ? run.diverged : runStats(run);
    stats.classList.toggle("diverged", Boolean(run.diverged));
    if (run.diverged) messages.push(`${r === 0 ? "A" : "B"} ${run.diverged}`);
  });
  nw.history.push(msg.runs.map((run) => ({ step: run.step, train: run.train_loss, test: run.test_loss })));
  queueCurves(msg);
  $("n-counter").textContent = String(msg.runs[0].step);
  if (messages.length) showMessage(messages.join("; "));
  await Promise.all(flushCurves(!nw.playing || messages.length > 0));
  send({ type: "drawn" });
  if (nw.frames.length >= 3) {
    const first = nw.frames[0];
    const last = nw.frames[nw.frames.length - 1];
    const seconds = (last.t - first.t) / 1000;
    state.stats.networkFps = (nw.frames.length - 1) / seconds;
    state.stats.networkStepsPerSecond = (last.step - first.step) / seconds;
    if (nw.playing) {
      $("n-speed").textContent = `${state.stats.networkStepsPerSecond.toFixed(0)} steps/s · ` +
        `${state.stats.networkFps.toFixed(1)} frames/s`;
    }
  }
}

function networkState(msg) {
  const nw = state.network;
  nw.playing = msg.playing;
  if (!msg.playing) flushCurves(true);
  $("n-play").textContent = msg.playing ? "❚❚ pause" : "▶ play";
  if (msg.playing) nw.frames = [];
}

// ============================================================================= start
function start(catalog) {
  if (state.catalog) { // a reconnect: the server lost this tab's session, start it again
    state.network.configured = false;
    setView(state.view);
    return;
  }
  state.catalog = catalog;
  buildSurfaceControls(catalog);
  buildNetworkControls(catalog);
  loadSurfaceFromUrl(catalog);
  loadNetworkFromUrl();
  enableStartClicks();
  $("tab-surface").addEventListener("click", () => setView("surface"));
  $("tab-network").addEventListener("click", () => setView("network"));
  setView(params().get("view") || "surface");
}

connect();
