// Shape explorers for the convolution arithmetic and pooling pages.
//
// Plain script, no dependency. The markup (controls, readouts and a static figure that
// stays when scripts are off) is written at build by refimpl.figures.explorer; this file
// un-hides the controls and recomputes on every change. The arithmetic is PyTorch's, with
// torch's own error texts: tests/test_browser.py drives these controls in Chromium over
// hundreds of settings and compares every shape, bin and error with refimpl.shapes and
// with torch.nn layers.
(function () {
  "use strict";
  const SVGNS = "http://www.w3.org/2000/svg";

  // ---------------------------------------------------------------- arithmetic
  function convolution(v) {
    const span = v.d * (v.k - 1) + 1;
    let before = v.p, after = v.p;
    if (v.mode === "same") {
      if (v.s !== 1) {
        return { error: "ValueError: padding='same' is not supported for strided convolutions" };
      }
      before = (span - 1) >> 1;
      after = span - 1 - before;
    } else if (v.mode === "valid") {
      before = after = 0;
    } else if (v.mode === "total") {
      before = v.p >> 1;  // an odd total puts the extra row after, as padding='same' does
      after = v.p - before;
    }
    const padded = v.n + before + after;
    if (span > padded) {
      return {
        before, after, span,
        error: `RuntimeError: Calculated padded input size per channel: (${padded} x ${padded}). ` +
          `Kernel size: (${span} x ${span}). Kernel size can't be greater than actual input size`,
      };
    }
    const out = Math.floor((padded - span) / v.s) + 1;
    return { before, after, span, out, stride: v.s };
  }

  function pooling(v) {
    const span = v.d * (v.k - 1) + 1;
    const base = { before: v.p, after: v.p, span, stride: v.s };
    if (v.p > Math.floor(span / 2)) {
      return Object.assign(base, {
        error: "RuntimeError: pad should be at most half of effective kernel size, but got " +
          `pad=${v.p}, kernel_size=${v.k} and dilation=${v.d}`,
      });
    }
    const top = v.n + 2 * v.p - span + (v.ceil ? v.s - 1 : 0);
    let out = Math.floor(top / v.s) + 1;
    let dropped = false;
    if (v.ceil && (out - 1) * v.s >= v.n + v.p) {
      out -= 1;  // the last window would start in the right-hand padding
      dropped = true;
    }
    if (v.p > Math.floor(v.k / 2)) {
      return Object.assign(base, {
        error: "RuntimeError: pad should be smaller than or equal to half of kernel size, but got " +
          `padW = ${v.p}, padH = ${v.p}, kW = ${v.k}, kH = ${v.k}`,
      });
    }
    if (out < 1) {
      return Object.assign(base, {
        error: `RuntimeError: Given input size: (1x${v.n}x${v.n}). ` +
          `Calculated output size: (1x${out}x${out}). Output size is too small`,
      });
    }
    return Object.assign(base, { out, dropped });
  }

  function adaptiveBins(n, out) {
    const bins = [];
    for (let i = 0; i < out; i++) {
      bins.push([Math.floor((i * n) / out), Math.ceil(((i + 1) * n) / out)]);
    }
    return bins;
  }

  // ---------------------------------------------------------------- readouts
  function formula(kind, v, r) {
    const pads = `${r.before} + ${r.after}`;
    const bracket = kind === "pool" && v.ceil ? ["⌈", "⌉"] : ["⌊", "⌋"];
    const general = `${bracket[0]}(n + p_before + p_after − d·(k − 1) − 1) / s${bracket[1]} + 1`;
    const numbers = `${bracket[0]}(${v.n} + ${pads} − ${v.d}·(${v.k} − 1) − 1) / ${v.s}${bracket[1]} + 1`;
    let text = `${general} = ${numbers}`;
    if (r.out !== undefined) {
      text += kind === "pool" && r.dropped ? ` − 1 = ${r.out}` : ` = ${r.out}`;
    }
    if (kind === "conv" && v.mode === "total" && v.d === 1 && r.out !== undefined) {
      text += `; D2L: ⌊(n − k + p + s) / s⌋ = ⌊(${v.n} − ${v.k} + ${v.p} + ${v.s}) / ${v.s}⌋ = ${r.out}`;
    }
    return text;
  }

  function sides(kind, v, r) {
    if (r.before === undefined) return "";
    let text = `Padding: ${r.before} on top and left, ${r.after} on bottom and right.`;
    if (r.after > r.before) {
      const why = v.mode === "same" ? `'same' needs d·(k − 1) = ${r.span - 1} in total`
        : `D2L's total p = ${v.p} is odd`;
      text += ` ${why}: the extra row goes to the bottom and the extra column to the right.`;
    }
    if (kind === "pool" && r.dropped) {
      text += " ceil_mode: one more window would start inside the right-hand padding, so it is dropped.";
    } else if (kind === "pool" && v.ceil && r.out !== undefined &&
      (r.out - 1) * v.s + r.span > v.n + 2 * v.p) {
      text += " ceil_mode: the last window runs past the padded input; it pools the cells it covers.";
    }
    return text;
  }

  // ---------------------------------------------------------------- figures
  function el(name, attrs, parent) {
    const node = document.createElementNS(SVGNS, name);
    for (const key in attrs) node.setAttribute(key, attrs[key]);
    if (parent) parent.appendChild(node);
    return node;
  }

  function svgRoot(width, height, label) {
    const root = el("svg", {
      viewBox: `0 0 ${width} ${height}`, width, height, role: "img", class: "explorer__svg",
    });
    el("title", {}, root).textContent = label;
    return root;
  }

  function windowFigure(kind, v, r, step) {
    const rows = v.n + r.before + r.after;
    const over = Math.max(0, (r.out - 1) * r.stride + r.span - rows);  // ceil_mode's overhang
    const grid = rows + over;
    const cell = Math.max(8, Math.min(22, Math.floor(260 / grid)));
    const gap = 30;
    const outCell = Math.max(8, Math.min(22, Math.floor(200 / r.out)));
    const width = grid * cell + gap + r.out * outCell + 20;
    const height = Math.max(grid * cell, r.out * outCell) + 20;
    const i = Math.floor(step / r.out), j = step % r.out;
    const root = svgRoot(width, height,
      `${rows}x${rows} padded input and ${r.out}x${r.out} output; window for output (${i}, ${j})`);
    const taps = new Set();
    for (let u = 0; u < v.k; u++) {
      for (let w = 0; w < v.k; w++) taps.add(`${i * r.stride + u * v.d},${j * r.stride + w * v.d}`);
    }
    for (let y = 0; y < grid; y++) {
      for (let x = 0; x < grid; x++) {
        const real = y >= r.before && y < r.before + v.n && x >= r.before && x < r.before + v.n;
        const beyond = y >= rows || x >= rows;
        let cls = real ? "explorer__in" : beyond ? "explorer__beyond" : "explorer__pad";
        if (taps.has(`${y},${x}`)) cls += " explorer__tap";
        el("rect", { x: 10 + x * cell, y: 10 + y * cell, width: cell, height: cell, class: cls,
          "data-role": real ? "input" : "padding" }, root);
      }
    }
    const left = 10 + grid * cell + gap;
    for (let y = 0; y < r.out; y++) {
      for (let x = 0; x < r.out; x++) {
        const cls = y === i && x === j ? "explorer__out explorer__tap" : "explorer__out";
        el("rect", { x: left + x * outCell, y: 10 + y * outCell, width: outCell, height: outCell,
          class: cls, "data-role": "output" }, root);
      }
    }
    return root;
  }

  function binsFigure(n, out, bins) {
    const cell = Math.max(8, Math.min(22, Math.floor(320 / n)));
    const width = n * cell + 20, height = (out + 1) * (cell + 4) + 20;
    const root = svgRoot(width, height, `adaptive bins of ${n} inputs pooled to ${out}`);
    for (let x = 0; x < n; x++) {
      el("rect", { x: 10 + x * cell, y: 10, width: cell, height: cell, class: "explorer__in",
        "data-role": "input" }, root);
    }
    bins.forEach(([start, end], i) => {
      el("rect", { x: 10 + start * cell, y: 10 + (i + 1) * (cell + 4), width: (end - start) * cell,
        height: cell, class: "explorer__out explorer__tap", "data-role": "bin" }, root);
    });
    return root;
  }

  // ---------------------------------------------------------------- wiring
  function values(form) {
    const v = {};
    for (const input of form.elements) {
      if (!input.name) continue;
      if (input.type === "checkbox") v[input.name] = input.checked;
      else if (input.tagName === "SELECT") v[input.name] = input.value;
      else v[input.name] = Math.max(Number(input.min || 0), Math.round(Number(input.value) || 0));
    }
    return v;
  }

  function show(root, name, text) {
    const node = root.querySelector(`[data-out="${name}"]`);
    if (node) node.textContent = text;
  }

  function update(root) {
    const kind = root.dataset.explorer;
    const form = root.querySelector("form");
    const v = values(form);
    const figure = root.querySelector('[data-out="figure"]');
    if (kind === "adaptive") {
      const bins = adaptiveBins(v.n, v.out);
      show(root, "shape", `(1, 1, ${v.out}, ${v.out})`);
      show(root, "bins", bins.map(([a, b]) => `[${a}, ${b})`).join(" "));
      show(root, "formula", `bin i covers [⌊i·${v.n}/${v.out}⌋, ⌈(i + 1)·${v.n}/${v.out}⌉)`);
      figure.replaceChildren(binsFigure(v.n, v.out, bins));
      return;
    }
    const r = kind === "conv" ? convolution(v) : pooling(v);
    const pad = form.elements.namedItem("p");
    if (pad && kind === "conv") pad.disabled = v.mode === "same" || v.mode === "valid";
    show(root, "formula", r.before === undefined ? "" : formula(kind, v, r));
    show(root, "sides", sides(kind, v, r));
    show(root, "error", r.error || "");
    root.dataset.state = r.error ? "error" : "ok";
    const slider = form.elements.namedItem("step");
    if (r.error) {
      show(root, "shape", "none: the layer raises");
      slider.disabled = true;
      figure.replaceChildren();
      return;
    }
    show(root, "shape", `(1, 1, ${r.out}, ${r.out})`);
    slider.disabled = false;
    slider.max = String(r.out * r.out - 1);
    const step = Math.min(Number(slider.value), r.out * r.out - 1);
    slider.value = String(step);
    const i = Math.floor(step / r.out), j = step % r.out;
    show(root, "window", `output (${i}, ${j}) reads padded rows ${i * r.stride}…` +
      `${i * r.stride + r.span - 1} and columns ${j * r.stride}…${j * r.stride + r.span - 1}`);
    figure.replaceChildren(windowFigure(kind, v, r, step));
  }

  function switchConvention(form, previous) {
    // keep the same padding when switching between per-side and total
    const mode = form.elements.namedItem("mode").value;
    const pad = form.elements.namedItem("p");
    if (previous === "side" && mode === "total") pad.value = String(Number(pad.value) * 2);
    if (previous === "total" && mode === "side") pad.value = String(Math.floor(Number(pad.value) / 2));
  }

  function setUp(root) {
    if (root.dataset.ready) return;
    root.dataset.ready = "1";
    const form = root.querySelector("form");
    form.hidden = false;
    root.querySelectorAll("[data-needs-script]").forEach((node) => { node.hidden = false; });
    root.querySelectorAll("[data-without-script]").forEach((node) => { node.hidden = true; });
    const mode = form.elements.namedItem("mode");
    let previous = mode ? mode.value : "";
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("input", (event) => {
      if (event.target === mode) {
        switchConvention(form, previous);
        previous = mode.value;
      }
      update(root);
    });
    form.addEventListener("change", () => update(root));
    update(root);
  }

  function setUpAll() {
    document.querySelectorAll(".explorer[data-explorer]").forEach(setUp);
  }

  // Only the pages with an explorer load this file, from inside their content, and
  // Material's instant navigation runs such a script again on every visit to one of them.
  // The first run subscribes to document$, on which instant navigation announces each new
  // page; later runs have nothing to add.
  if (window.refimplExplorers) return;
  window.refimplExplorers = true;
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(setUpAll);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpAll);
  } else {
    setUpAll();
  }
})();
