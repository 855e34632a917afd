// minitorch_cnn explorer: the page of `python -m minitorch_cnn.explore`.
// Dependency-free. Every number comes from the framework (the JSON in #explorer-data); this script
// only draws it. The one computation is the convolution / pooling drill-down, which multiplies the
// exported float32 window and kernel so that the reader sees the products and their sum.
"use strict";

(function () {
  const DATA = JSON.parse(document.getElementById("explorer-data").textContent);
  const meta = DATA.meta;
  const [C, H, W] = meta.input_size;

  // ---------------------------------------------------------------------------------------------
  // Arrays: {b64, dtype: "u1" | "f4", shape} -> typed arrays (decoded once, on first use)
  // ---------------------------------------------------------------------------------------------
  const cache = new Map();
  function decode(arr) {
    if (!arr) return null;
    if (cache.has(arr)) return cache.get(arr);
    const bin = atob(arr.b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const out = arr.dtype === "f4" ? new Float32Array(bytes.buffer) : bytes;
    cache.set(arr, out);
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Small DOM helpers
  // ---------------------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "onclick") e.addEventListener("click", v);
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }
  const SVGNS = "http://www.w3.org/2000/svg";
  function svgEl(tag, attrs) {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }
  function fmt(v, digits) {
    if (v === null || v === undefined) return "-";
    if (Array.isArray(v)) return v[0] === v[1] ? fmt(v[0], digits) : v.map((x) => fmt(x, digits)).join("x");
    if (typeof v !== "number") return String(v);
    if (Number.isInteger(v)) return v.toLocaleString("en-US");
    return v.toPrecision(digits || 4);
  }

  // Colour maps: viridis-like for activations, blue-white-red for signed values, jet-like for heat
  const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  function viridis(t) {
    t = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
    const i = Math.min(VIRIDIS.length - 2, Math.floor(t));
    const f = t - i;
    return VIRIDIS[i].map((a, c) => Math.round(a + (VIRIDIS[i + 1][c] - a) * f));
  }
  function diverging(t) { // t in [-1, 1]
    t = Math.min(1, Math.max(-1, t));
    return t >= 0 ? [255, Math.round(255 * (1 - t)), Math.round(255 * (1 - t))]
                  : [Math.round(255 * (1 + t)), Math.round(255 * (1 + t)), 255];
  }
  function jet(t) {
    t = Math.min(1, Math.max(0, t));
    const c = (x) => Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - x))));
    return [c(3), c(2), c(1)];
  }

  // Draw an h x w grid of values through a colour function onto a new canvas (CSS scales it up)
  function canvasOf(h, w, colourAt, cls, displayWidth) {
    const cv = el("canvas", { width: w, height: h, class: cls || "" });
    const ctx = cv.getContext("2d");
    const img = ctx.createImageData(w, h);
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const [R, G, B, A] = colourAt(r, c);
        const o = 4 * (r * w + c);
        img.data[o] = R; img.data[o + 1] = G; img.data[o + 2] = B; img.data[o + 3] = A === undefined ? 255 : A;
      }
    }
    ctx.putImageData(img, 0, 0);
    if (displayWidth) cv.style.width = displayWidth + "px";
    return cv;
  }

  // The selected image's pixels (0..255 for display), channel-averaged grey or RGB
  const pixels = decode(DATA.pixels);
  function pixelAt(n, r, c) {
    const base = n * C * H * W;
    if (C === 3) return [0, 1, 2].map((ch) => pixels[base + ch * H * W + r * W + c]);
    const v = pixels[base + r * W + c];
    return [v, v, v];
  }

  // ---------------------------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------------------------
  const maps = DATA.maps;
  const mapByName = new Map(maps.map((m, idx) => [m.name, idx]));
  const state = { image: 0, layer: 0, k: 0, i: 0, j: 0, cls: 0 };
  function argmaxOf(layer, k, n) { return maps[layer].argmax[n][k]; }
  function predicted(n) {
    const p = DATA.probs[n];
    return p.indexOf(Math.max(...p));
  }
  function selectUnit(layer, k, i, j) {
    Object.assign(state, { layer, k, i, j });
    renderUnit();
    renderInput();
    highlightMaps();
  }

  // ---------------------------------------------------------------------------------------------
  // Page skeleton
  // ---------------------------------------------------------------------------------------------
  const app = document.getElementById("app");
  app.append(
    el("header", {},
      el("h1", { text: meta.title }),
      el("p", { class: "note", text: meta.source }),
      el("p", { class: "note", text: `${fmt(meta.totals.total_params)} parameters, ${fmt(meta.totals.mult_adds)} ` +
        `mult-adds per image (viz.summary). Input ${C}x${H}x${W}.` }),
      el("ul", { id: "notes" }, ...meta.notes.map((n) => el("li", { text: n })))),
    el("section", { id: "picker" }, el("h2", { text: "Images" }), el("div", { id: "thumbs" })),
    el("div", { class: "main" },
      el("aside", { id: "layers" }, el("h2", { text: "Layers" })),
      el("div", { id: "center" },
        el("section", { id: "input-view" }, el("h2", { text: "Input and receptive field" })),
        el("section", { id: "prediction" }, el("h2", { text: "Prediction" })),
        el("section", { id: "explain" }, el("h2", { text: "Why this class? Grad-CAM, saliency, occlusion" })),
        el("section", { id: "unit" }, el("h2", { text: "Selected unit" })))),
    el("section", { id: "maps" }, el("h2", { text: "Feature maps" }),
      el("p", { class: "note", text: "Click a unit of a map: its receptive field is drawn on the input, its " +
        "top image patches and the drill-down of its computation are shown. Input gradients are precomputed " +
        "for the arg-max unit of each shown channel of the convolution and pooling layers (in the selected " +
        "image); other units show the field and the drill-down." })));

  // Thumbnails
  const thumbs = document.getElementById("thumbs");
  DATA.images.forEach((im, n) => {
    const cv = canvasOf(H, W, (r, c) => pixelAt(n, r, c), "thumb", 56);
    const p = predicted(n);
    const box = el("figure", { class: "thumb-box", "data-image": n,
      onclick: () => selectImage(n) }, cv,
      el("figcaption", { text: `#${im.index} ${meta.classes[im.label] ?? im.label}` +
        (p === im.label ? "" : ` (pred. ${meta.classes[p] ?? p})`) }));
    thumbs.append(box);
  });

  // Layer table
  const table = el("table", { id: "layer-table" },
    el("thead", {}, el("tr", {}, ...["Layer", "Type", "Output", "Params", "Mult-adds", "RF", "Jump"]
      .map((h) => el("th", { text: h })))));
  const tbody = el("tbody");
  for (const r of DATA.layers) {
    const tr = el("tr", { class: r.shown ? "shown" : "", "data-layer": r.name },
      el("td", { text: r.name }), el("td", { text: r.type }),
      el("td", { text: r.output_shape.map((s) => (s === -1 ? "N" : s)).join("x") }),
      el("td", { text: fmt(r.params) }), el("td", { text: fmt(r.mult_adds) }),
      el("td", { text: r.global ? "all" : fmt(r.rf) }), el("td", { text: r.global ? "-" : fmt(r.jump) }));
    if (r.shown) tr.addEventListener("click", () => {
      const idx = mapByName.get(r.name);
      const [i, j] = argmaxOf(idx, 0, state.image);
      selectUnit(idx, 0, i, j);
      document.getElementById("maps-" + idx).scrollIntoView({ behavior: "smooth", block: "center" });
    });
    tbody.append(tr);
  }
  table.append(tbody);
  document.getElementById("layers").append(table,
    el("p", { class: "note", text: "Output shape, parameters and mult-adds from viz.summary; receptive field " +
      "and jump (input pixels between neighbouring units) from viz.receptive_field. Highlighted rows have " +
      "feature maps below." }));

  // Class selector of the explanations
  const classSelect = el("select", { id: "class-select" });
  DATA.explain.classes.forEach((k, ci) => classSelect.append(el("option", { value: ci, text: `${k}: ${meta.classes[k]}` })));
  classSelect.addEventListener("change", () => { state.cls = Number(classSelect.value); renderExplain(); });
  document.getElementById("explain").append(el("label", {}, "Class ", classSelect), el("div", { id: "explain-maps" }));

  // ---------------------------------------------------------------------------------------------
  // Input with the receptive field box
  // ---------------------------------------------------------------------------------------------
  const INPUT_PX = 280;
  function renderInput() {
    const sec = document.getElementById("input-view");
    sec.querySelector(".input-wrap")?.remove();
    sec.querySelector("#rf-text")?.remove();
    const m = maps[state.layer];
    const cv = canvasOf(H, W, (r, c) => pixelAt(state.image, r, c), "input", INPUT_PX);
    const [r0, r1] = m.rf_rows[state.i];
    const [c0, c1] = m.rf_cols[state.j];
    const [R0, R1] = m.rf_rows_raw[state.i];
    const [C0, C1] = m.rf_cols_raw[state.j];
    const svg = svgEl("svg", { class: "overlay", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none" });
    svg.append(svgEl("rect", { id: "rf-raw", x: C0, y: R0, width: C1 - C0, height: R1 - R0,
      "data-rf": [R0, C0, R1, C1].join(",") }));
    svg.append(svgEl("rect", { id: "rf-box", x: c0, y: r0, width: c1 - c0, height: r1 - r0,
      "data-rf": [r0, c0, r1, c1].join(",") }));
    const wrap = el("div", { class: "input-wrap" }, cv, svg);
    wrap.style.width = INPUT_PX + "px";
    wrap.style.height = (INPUT_PX * H / W) + "px";
    const full = (R1 - R0) * (C1 - C0);
    const inside = (r1 - r0) * (c1 - c0);
    const outside = full - inside;
    const text = `Unit (${state.i}, ${state.j}) of ${m.name}, channel ${m.channels[state.k]}: receptive field ` +
      `rows [${r0}, ${r1}), columns [${c0}, ${c1}) of the input (solid box, viz.receptive_field_for_unit). ` +
      (outside > 0
        ? `The whole field is rows [${R0}, ${R1}), columns [${C0}, ${C1}) (dashed): ${outside} of its ${full} ` +
          `pixels (${(100 * outside / full).toFixed(1)}%) lie outside the image, where the network saw padding.`
        : `The field lies wholly inside the image (${full} pixels).`);
    sec.append(wrap, el("p", { id: "rf-text", "data-outside": outside, text }));
  }

  // ---------------------------------------------------------------------------------------------
  // Prediction
  // ---------------------------------------------------------------------------------------------
  function renderPrediction() {
    const sec = document.getElementById("prediction");
    sec.querySelector(".bars")?.remove();
    const p = DATA.probs[state.image];
    const im = DATA.images[state.image];
    const bars = el("div", { class: "bars" });
    const order = p.map((v, k) => k).sort((a, b) => p[b] - p[a]).slice(0, 10);
    for (const k of order) {
      const bar = el("div", { class: "bar" + (k === im.label ? " true" : "") });
      bar.style.width = (100 * p[k]).toFixed(1) + "%";
      bars.append(el("div", { class: "bar-row", "data-class": k },
        el("span", { class: "bar-label", text: `${meta.classes[k]}` }), el("div", { class: "bar-track" }, bar),
        el("span", { class: "bar-value", text: (100 * p[k]).toFixed(1) + "%" })));
    }
    sec.append(el("div", { class: "bars" }, el("p", { class: "note", text: `Test image #${im.index}, true class ` +
      `${meta.classes[im.label]} (green). Softmax of the model's logits.` }), bars));
  }

  // ---------------------------------------------------------------------------------------------
  // Grad-CAM, saliency, occlusion for the chosen class
  // ---------------------------------------------------------------------------------------------
  function renderExplain() {
    const box = document.getElementById("explain-maps");
    box.replaceChildren();
    const ex = DATA.explain;
    const ci = state.cls;
    const k = ex.classes[ci];
    const n = state.image;
    const off = n * H * W;
    const panels = [];
    if (ex.gradcam.length) {
      const q = decode(ex.gradcam[ci]).subarray(off, off + H * W);
      panels.push(["gradcam", `Grad-CAM (${ex.gradcam_layer}), / max`, q, (v) => jet(v / 255), 0.5]);
    }
    panels.push(["saliency", `Saliency |d logit / d x|, / max (${fmt(ex.saliency_max[ci][n])})`,
      decode(ex.saliency[ci]).subarray(off, off + H * W), (v) => jet(v / 255), 0.6]);
    panels.push(["occlusion", `Occlusion: drop of p(class), ${ex.occlusion_patch}px patch, stride ` +
      `${ex.occlusion_stride}; red = drop, blue = rise (max ${fmt(127 * ex.occlusion_scale[ci][n])})`,
      decode(ex.occlusion[ci]).subarray(off, off + H * W), (v) => diverging((v - 128) / 127), 0.6]);
    for (const [id, title, q, colour, alpha] of panels) {
      const cv = canvasOf(H, W, (r, c) => {
        const base = pixelAt(n, r, c);
        const heat = colour(q[r * W + c]);
        return base.map((b, ch) => Math.round((1 - alpha) * b + alpha * heat[ch]));
      }, "heat", 200);
      let sum = 0;
      for (let t = 0; t < q.length; t++) sum += q[t];
      cv.id = id;
      cv.setAttribute("data-class", k);
      cv.setAttribute("data-sum", sum);
      cv.setAttribute("data-first", Array.from(q.subarray(0, 8)).join(","));
      box.append(el("figure", {}, cv, el("figcaption", { text: title })));
    }
    box.prepend(el("p", { class: "note", text: `Explaining class ${k} (${meta.classes[k]}), ` +
      `p = ${(100 * DATA.probs[n][k]).toFixed(1)}%.` }));
  }

  // ---------------------------------------------------------------------------------------------
  // Feature maps
  // ---------------------------------------------------------------------------------------------
  const MAP_PX = 84;
  function renderMaps() {
    const sec = document.getElementById("maps");
    sec.querySelectorAll(".layer-maps").forEach((e) => e.remove());
    const n = state.image;
    maps.forEach((m, idx) => {
      const [, h, w] = m.shape;
      const K = m.channels.length;
      const q = decode(m.q);
      const legend = canvasOf(1, 128, (r, c) => viridis(c / 127), "legend");
      const head = el("div", { class: "layer-head" },
        el("h3", { text: `${m.name} (${m.type}) ${m.shape.join("x")}` }),
        el("span", { class: "scale" }, el("span", { text: fmt(m.lo) }), legend,
          el("span", { text: fmt(m.lo + 255 * m.scale) })),
        el("span", { class: "note", text: m.left_out > 0
          ? `the ${K} most active of ${m.shape[0]} channels; ${m.left_out} left out (--max-channels)`
          : `all ${K} channels` }));
      const grid = el("div", { class: "grid" });
      for (let k = 0; k < K; k++) {
        const off = ((n * K) + k) * h * w;
        const cv = canvasOf(h, w, (r, c) => viridis(q[off + r * w + c] / 255), "fmap", MAP_PX);
        cv.setAttribute("data-layer", m.name);
        cv.setAttribute("data-k", k);
        cv.addEventListener("click", (ev) => {
          const rect = cv.getBoundingClientRect();
          const i = Math.min(h - 1, Math.floor((ev.clientY - rect.top) / rect.height * h));
          const j = Math.min(w - 1, Math.floor((ev.clientX - rect.left) / rect.width * w));
          selectUnit(idx, k, i, j);
        });
        grid.append(el("figure", { class: "fmap-box" }, cv, el("figcaption", { text: `ch ${m.channels[k]}` })));
      }
      sec.append(el("div", { class: "layer-maps", id: "maps-" + idx }, head, grid));
    });
    highlightMaps();
  }
  function highlightMaps() {
    document.querySelectorAll("canvas.fmap").forEach((cv) => {
      const on = mapByName.get(cv.dataset.layer) === state.layer && Number(cv.dataset.k) === state.k;
      cv.classList.toggle("selected", on);
    });
    document.querySelectorAll("#layer-table tr").forEach((tr) =>
      tr.classList.toggle("current", tr.dataset.layer === maps[state.layer].name));
  }

  // ---------------------------------------------------------------------------------------------
  // The selected unit: value, input gradient, top-k patches, drill-down
  // ---------------------------------------------------------------------------------------------
  function mapValue(m, n, k, i, j) {
    const [, h, w] = m.shape;
    const q = decode(m.q);
    return m.lo + q[((n * m.channels.length) + k) * h * w + i * w + j] * m.scale;
  }

  function renderUnit() {
    const sec = document.getElementById("unit");
    sec.querySelector(".unit-body")?.remove();
    const m = maps[state.layer];
    const { image: n, k, i, j } = state;
    const body = el("div", { class: "unit-body", id: "unit-body", "data-layer": m.name,
      "data-channel": m.channels[k], "data-unit": `${i},${j}` });
    const [ai, aj] = argmaxOf(state.layer, k, n);
    body.append(el("p", { text: `${m.name}, channel ${m.channels[k]}, unit (${i}, ${j}): value ` +
      `${fmt(mapValue(m, n, k, i, j))} (stored as uint8: within ${fmt(m.scale / 2)}). ` +
      `The channel's maximum in this image is at (${ai}, ${aj}).` },
      (ai !== i || aj !== j) ? el("button", { id: "goto-argmax", text: "go to the arg-max",
        onclick: () => selectUnit(state.layer, k, ai, aj) }) : null));
    body.append(renderGradient(m, n, k, i, j, ai, aj));
    body.append(renderTopK(m, k));
    const drill = renderDrill(m, n, k, i, j);
    if (drill) body.append(drill);
    sec.append(body);
  }

  function renderGradient(m, n, k, i, j, ai, aj) {
    const fig = el("div", { class: "gradient" }, el("h3", { text: "Gradient of the unit with respect to the input" }));
    if (!m.grads) {
      fig.append(el("p", { class: "note", text: `Not precomputed for ${m.type} layers (pointwise: the same ` +
        "field as the layer before; see that convolution or pooling layer) or left out by the budget." }));
      return fig;
    }
    if (ai !== i || aj !== j) {
      fig.append(el("p", { class: "note", text: "Precomputed only for the channel's arg-max unit in each image " +
        `(here (${ai}, ${aj})); use "go to the arg-max".` }));
      return fig;
    }
    const K = m.channels.length;
    const idx = k * DATA.images.length + n; // (channel, image) order of the export
    const [r0, r1, c0, c1] = m.grads.boxes[n][k];
    let off = 0;
    for (let t = 0; t < idx; t++) {
      const [a0, a1, b0, b1] = m.grads.boxes[t % DATA.images.length][Math.floor(t / DATA.images.length)];
      off += (a1 - a0) * (b1 - b0);
    }
    const q = decode(m.grads.q);
    const cw = c1 - c0;
    const cv = canvasOf(H, W, (r, c) => {
      if (r < r0 || r >= r1 || c < c0 || c >= c1) {
        const g = pixelAt(n, r, c).map((v) => Math.round(v * 0.3 + 60));
        return g;
      }
      return diverging((q[off + (r - r0) * cw + (c - c0)] - 128) / 127);
    }, "grad", 200);
    cv.id = "unit-grad";
    fig.append(cv, el("p", { class: "note", text: `d unit / d input (summed over the ${C} input channel(s)) ` +
      `inside the field; red positive, blue negative, max |g| = ${fmt(127 * m.grads.scales[idx])}. ` +
      `(${K} channels x ${DATA.images.length} images precomputed for this layer.)` }));
    return fig;
  }

  function renderTopK(m, k) {
    const box = el("div", { class: "topk", id: "topk" },
      el("h3", { text: `Top ${meta.top_k} patches of channel ${m.channels[k]} among the ${DATA.images.length} images` }));
    const row = el("div", { class: "patches" });
    for (const t of m.top[k]) {
      const [r0, r1] = m.rf_rows[t.i];
      const [c0, c1] = m.rf_cols[t.j];
      const cv = canvasOf(r1 - r0, c1 - c0, (r, c) => pixelAt(t.image, r0 + r, c0 + c), "patch", 72);
      cv.setAttribute("data-image", t.image);
      cv.setAttribute("data-rf", [r0, c0, r1, c1].join(","));
      row.append(el("figure", {}, cv, el("figcaption", { text: `#${DATA.images[t.image].index} at ` +
        `(${t.i}, ${t.j}): ${fmt(t.value)}` })));
    }
    box.append(row, el("p", { class: "note", text: "Each image's strongest unit of the channel, its receptive " +
      "field cropped from that image (clipped at the border)." }));
    return box;
  }

  // Convolution / pooling drill-down: the window the unit saw, and how it was combined
  const SHOW_CHANNELS = 3;
  function renderDrill(m, n, k, i, j) {
    const d = m.drill;
    if (!d) return null;
    const box = el("div", { class: "drill", id: "drill" });
    const [kh, kw] = d.kernel;
    const [sh, sw] = d.stride;
    const [dh, dw] = d.dilation;
    const [[pt, pb], [pl, pr]] = d.pads;
    const inp = decode(d.input);
    const r0 = i * sh;
    const c0 = j * sw;
    const spanH = dh * (kh - 1) + 1;
    const spanW = dw * (kw - 1) + 1;
    if (d.kind === "conv") {
      const [, , Hp, Wp] = d.input.shape;
      const Cin = d.in_channels;
      const g = d.groups;
      const inPer = Cin / g;
      const outPer = d.out_channels / g;
      const c = m.channels[k];
      const group = Math.floor(c / outPer);
      const wts = decode(d.weight);
      box.append(el("h3", { text: `Convolution drill-down: output (${i}, ${j}) of channel ${c}` }),
        el("p", { class: "note", text: `kernel ${kh}x${kw}, stride ${sh}x${sw}, padding top/bottom ${pt}/${pb}, ` +
          `left/right ${pl}/${pr} (${d.padding_mode}), dilation ${dh}x${dw}` +
          (dh > 1 || dw > 1 ? " (grey cells: holes of the dilated kernel, skipped)" : "") +
          `, groups ${g}: this output channel sees input channels ${group * inPer} to ${(group + 1) * inPer - 1}. ` +
          "Hatched cells are padding." }));
      let total = 0;
      const sums = [];
      for (let t = 0; t < inPer; t++) {
        const ci = group * inPer + t;
        let s = 0;
        const cells = [];
        for (let a = 0; a < spanH; a++) {
          for (let b = 0; b < spanW; b++) {
            const rr = r0 + a;
            const cc = c0 + b;
            const tap = a % dh === 0 && b % dw === 0;
            const x = inp[((n * Cin) + ci) * Hp * Wp + rr * Wp + cc];
            const pad = rr < pt || rr >= Hp - pb || cc < pl || cc >= Wp - pr;
            let wv = null;
            let prod = null;
            if (tap) {
              wv = wts[((k * inPer) + t) * kh * kw + (a / dh) * kw + (b / dw)];
              prod = x * wv;
              s += prod;
            }
            cells.push({ a, b, x, pad, tap, wv, prod });
          }
        }
        sums.push(s);
        total += s;
        if (t < SHOW_CHANNELS) box.append(drillChannel(ci, cells, spanH, spanW, s));
      }
      if (inPer > SHOW_CHANNELS) {
        box.append(el("p", { class: "note", text: `The other ${inPer - SHOW_CHANNELS} input channels are not drawn; ` +
          `their sums: ${sums.slice(SHOW_CHANNELS).map((s) => fmt(s, 3)).join(", ")}.` }));
      }
      const bias = d.bias[k];
      const out = total + bias;
      box.append(el("p", { class: "sum" }, `sum over ${inPer} channel(s) ${fmt(total, 6)} + bias ${fmt(bias, 6)} = `,
        el("strong", { id: "drill-sum", "data-sum": String(out), text: fmt(out, 6) }),
        ` (the map shows ${fmt(mapValue(m, n, k, i, j), 6)}, stored within ${fmt(m.scale / 2, 3)})`));
      return box;
    }
    // pooling: the window of this channel and its arg-max or 1/Q share
    const [, K, Hp, Wp] = d.input.shape;
    const [Hin, Win] = d.in_size;
    const cells = [];
    let best = -Infinity;
    let bestAt = null;
    let sum = 0;
    let Q = 0;
    for (let a = 0; a < spanH; a++) {
      for (let b = 0; b < spanW; b++) {
        const rr = r0 + a;
        const cc = c0 + b;
        const tap = a % dh === 0 && b % dw === 0;
        const inBounds = rr < Hp && cc < Wp;
        const x = inBounds ? inp[((n * K) + k) * Hp * Wp + rr * Wp + cc] : NaN;
        const pad = !inBounds || rr < pt || rr >= pt + Hin || cc < pl || cc >= pl + Win;
        if (tap && inBounds) {
          if (d.kind === "max" && x > best) { best = x; bestAt = [a, b]; }
          if (d.kind === "avg") {
            sum += x;
            if (d.count_include_pad || !pad) Q += 1;
          }
        }
        cells.push({ a, b, x, pad, tap, wv: null, prod: null });
      }
    }
    let out;
    if (d.kind === "max") {
      out = best;
      for (const cell of cells) cell.best = bestAt && cell.a === bestAt[0] && cell.b === bestAt[1];
    } else {
      if (d.divisor_override) Q = d.divisor_override;
      out = sum / Q;
    }
    box.append(el("h3", { text: `${d.kind === "max" ? "Max" : "Average"}-pooling drill-down: output (${i}, ${j}) ` +
      `of channel ${m.channels[k]}` }),
      el("p", { class: "note", text: `window ${kh}x${kw}, stride ${sh}x${sw}, padding ${pt}/${pb}, ${pl}/${pr}, ` +
        `dilation ${dh}x${dw}. ` + (d.kind === "max"
          ? "The output is the window's maximum (outlined): in backward the whole gradient goes to it."
          : `The output is the window's sum / Q with Q = ${Q}: each input gets a 1/Q = ${fmt(1 / Q)} share.`) }),
      drillChannel(m.channels[k], cells, spanH, spanW, null),
      el("p", { class: "sum" }, `${d.kind === "max" ? "max" : `sum ${fmt(sum, 6)} / ${Q}`} = `,
        el("strong", { id: "drill-sum", "data-sum": String(out), text: fmt(out, 6) }),
        ` (the map shows ${fmt(mapValue(m, n, k, i, j), 6)})`));
    return box;
  }

  function drillChannel(ci, cells, spanH, spanW, s) {
    const grid = (title, value) => {
      const t = el("table", { class: "cells" });
      for (let a = 0; a < spanH; a++) {
        const tr = el("tr");
        for (let b = 0; b < spanW; b++) {
          const cell = cells[a * spanW + b];
          const cls = [cell.pad ? "pad" : "", cell.tap ? "" : "hole", cell.best ? "best" : ""].join(" ").trim();
          tr.append(el("td", { class: cls, text: value(cell) }));
        }
        t.append(tr);
      }
      return el("figure", {}, t, el("figcaption", { text: title }));
    };
    const num = (v) => (v === null || Number.isNaN(v) ? "" : v === -Infinity ? "-inf" : v.toFixed(2));
    const row = el("div", { class: "drill-row" }, el("span", { class: "drill-ch", text: `in ch ${ci}` }),
      grid("input window", (c) => num(c.x)));
    if (s !== null) {
      row.append(el("span", { class: "op", text: "x" }), grid("kernel", (c) => (c.tap ? num(c.wv) : "")),
        el("span", { class: "op", text: "=" }), grid("products", (c) => (c.tap ? num(c.prod) : "")),
        el("span", { class: "op", text: `sum ${fmt(s, 4)}` }));
    }
    return row;
  }

  // ---------------------------------------------------------------------------------------------
  // Image selection and start
  // ---------------------------------------------------------------------------------------------
  function selectImage(n) {
    state.image = n;
    document.querySelectorAll(".thumb-box").forEach((b) => b.classList.toggle("selected", Number(b.dataset.image) === n));
    const ci = DATA.explain.classes.indexOf(predicted(n));
    if (ci >= 0) { state.cls = ci; classSelect.value = String(ci); }
    const [i, j] = argmaxOf(state.layer, state.k, n);
    state.i = i; state.j = j;
    renderPrediction();
    renderExplain();
    renderMaps();
    renderUnit();
    renderInput();
  }

  // move the (already written) graph section to the end of the page
  const graph = document.getElementById("graph-section");
  if (graph) document.body.append(graph);
  if (maps.length) selectImage(0);
  else app.append(el("p", { text: "This model has no spatial layers to show." }));
  document.body.setAttribute("data-ready", "1");
})();
