/* Review card: view modes, backgrounds, loupe, keyboard shortcuts (retouch tools: retouch.js).
   No build step; htmx (from base.html) swaps cards, this file re-applies the reviewer's view
   preferences to each new card so moving on keeps the background and mode they chose. */
(function () {
  "use strict";

  var BGS = ["checker", "white", "black", "custom"];
  var BG_LABELS = { checker: "checkerboard", white: "white", black: "black", custom: "custom" };
  var prefs = { mode: "side", bg: "checker", custom: "#ff00ff", shadow: false, zoom: 2 };
  try { Object.assign(prefs, JSON.parse(localStorage.getItem("cutroom.review") || "{}")); }
  catch (e) { /* private mode or bad JSON: defaults */ }
  var zoomOn = false;

  function save() {
    try { localStorage.setItem("cutroom.review", JSON.stringify(prefs)); } catch (e) { /* ignore */ }
  }
  function card() { return document.getElementById("review-card"); }
  function viewer() { var c = card(); return c && c.querySelector(".rv-viewer"); }
  function each(root, sel, fn) { Array.prototype.forEach.call(root.querySelectorAll(sel), fn); }

  function loadLazy(stage) {
    each(stage, "img[data-src]", function (img) {
      if (!img.getAttribute("src")) img.setAttribute("src", img.dataset.src);
    });
  }

  function setMode(mode) {
    var v = viewer(); if (!v) return;
    if (!v.querySelector(".rv-stage-" + mode)) mode = "side";
    // Retouching is a visit, not a preference: the next card opens in the reviewer's view.
    if (mode !== "retouch") { prefs.mode = mode; save(); }
    v.dataset.mode = mode;
    each(v, ".rv-stage", function (s) {
      var on = s.classList.contains("rv-stage-" + mode);
      s.hidden = !on;
      if (on) loadLazy(s);
    });
    each(v, "[data-rv-mode]", function (b) { b.setAttribute("aria-pressed", String(b.dataset.rvMode === mode)); });
    if (mode === "retouch" && window.cutroomRetouch) {
      var editor = window.cutroomRetouch.active(); if (editor) editor.warm();
    }
  }
  function retouching() { var v = viewer(); return !!v && v.dataset.mode === "retouch"; }

  function setBg(bg) {
    var v = viewer(); if (!v) return;
    prefs.bg = bg; save();
    v.dataset.bg = bg;
    v.style.setProperty("--rv-custom", prefs.custom);
    each(v, "[data-rv-bg]", function (b) { b.setAttribute("aria-pressed", String(b.dataset.rvBg === bg)); });
    var label = v.querySelector("[data-rv-bg-label]");
    if (label) label.textContent = BG_LABELS[bg] + (bg === "custom" ? " " + prefs.custom : "");
  }

  function cycleBg() { setBg(BGS[(BGS.indexOf(prefs.bg) + 1) % BGS.length]); }

  function setShadow(on) {
    var v = viewer(); if (!v) return;
    var box = v.querySelector("[data-rv-shadow]");
    var available = v.dataset.hasShadow === "1";
    prefs.shadow = !!on; save();
    if (box) box.checked = available && prefs.shadow;
    each(v, ".rv-shadow-layer", function (img) { img.hidden = !(available && prefs.shadow); });
  }

  function setZoom(on) {
    var v = viewer(); if (!v) return;
    zoomOn = on;
    v.dataset.zoom = on ? "on" : "off";
    var loupe = v.querySelector(".rv-loupe");
    if (!on && loupe) loupe.hidden = true;
    if (on && prefs.mode !== "side") setMode("side");
  }

  function moveLoupe(ev) {
    var v = viewer(); if (!v || !zoomOn) return;
    var frame = ev.target.closest(".rv-zoomable"); if (!frame) return;
    var img = frame.querySelector(".rv-cutout");
    var loupe = frame.querySelector(".rv-loupe");
    var inner = loupe.querySelector("img");
    if (!inner.getAttribute("src")) inner.src = img.dataset.full;
    var r = img.getBoundingClientRect();
    var x = ev.clientX - r.left, y = ev.clientY - r.top;
    if (x < 0 || y < 0 || x > r.width || y > r.height) { loupe.hidden = true; return; }
    var z = prefs.zoom, size = 180;
    loupe.hidden = false;
    loupe.style.left = (x - size / 2 + img.offsetLeft) + "px";
    loupe.style.top = (y - size / 2 + img.offsetTop) + "px";
    inner.style.width = r.width * z + "px";
    inner.style.height = r.height * z + "px";
    inner.style.left = (size / 2 - x * z) + "px";
    inner.style.top = (size / 2 - y * z) + "px";
  }

  function openPanel(name) {
    var c = card(); if (!c) return null;
    var panel = c.querySelector('[data-rv-panel="' + name + '"]'); if (!panel) return null;
    each(c, "[data-rv-panel]", function (p) { p.hidden = p !== panel; });
    panel.hidden = false;
    // Focus the send button, not a field: number keys and Enter keep working as shortcuts.
    var send = panel.querySelector("button[type=submit]");
    if (send) send.focus();
    return panel;
  }
  function openPanelName() {
    var c = card(); if (!c) return "";
    var open = c.querySelector("[data-rv-panel]:not([hidden])");
    return open ? open.dataset.rvPanel : "";
  }
  function closePanels() {
    var c = card(); if (c) each(c, "[data-rv-panel]", function (p) { p.hidden = true; });
  }

  function go(url) {
    if (!url || !window.htmx) { if (url) window.location.href = url; return; }
    window.htmx.ajax("GET", url, { target: "#review-card", swap: "outerHTML" }).then(function () {
      history.pushState({}, "", url);
    });
  }

  function submit(form) { if (form) form.requestSubmit ? form.requestSubmit() : form.submit(); }

  function applyPrefs() {
    if (!viewer()) return;
    var v = viewer();
    var custom = v.querySelector("[data-rv-custom]"); if (custom) custom.value = prefs.custom;
    var zl = v.querySelector("[data-rv-zoom-level]"); if (zl) zl.value = String(prefs.zoom);
    setMode(prefs.mode); setBg(prefs.bg); setShadow(prefs.shadow); setZoom(zoomOn);
  }

  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" &&
      !/^(checkbox|radio|range|button|submit|color)$/.test(el.type)) || el.tagName === "SELECT" ||
      el.isContentEditable);
  }

  document.addEventListener("keydown", function (ev) {
    var c = card();
    if (!c || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var panel = openPanelName();
    if (ev.key === "Escape") {
      if (retouching()) setMode(prefs.mode);
      closePanels(); setZoom(false); return;
    }
    if (typing(ev.target)) return;
    if (retouching()) {
      // While painting, only leave (E/Esc) or change the background; no approve by accident.
      var k = ev.key.toLowerCase();
      if (k === "e") { ev.preventDefault(); setMode(prefs.mode); }
      else if (k === "b") { ev.preventDefault(); cycleBg(); }
      return;
    }
    if (panel === "flag" && /^[1-8]$/.test(ev.key)) {
      var box = c.querySelector('[data-rv-panel="flag"] [data-rv-key="' + ev.key + '"]');
      if (box) { box.checked = !box.checked; ev.preventDefault(); }
      return;
    }
    if (panel && ev.key === "Enter") {
      ev.preventDefault(); submit(c.querySelector('[data-rv-panel="' + panel + '"]')); return;
    }
    var key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
    switch (key) {
      case "a": if (!panel) { ev.preventDefault(); submit(c.querySelector('[data-rv-form="approve"]')); } break;
      case "f": ev.preventDefault(); openPanel("flag"); break;
      case "r": ev.preventDefault(); openPanel("rerun"); break;
      case "b": ev.preventDefault(); cycleBg(); break;
      case "z": ev.preventDefault(); setZoom(!zoomOn); break;
      case "e": if (!panel && c.querySelector(".rv-stage-retouch")) { ev.preventDefault(); setMode("retouch"); } break;
      case "ArrowRight": case "j": ev.preventDefault(); go(c.dataset.nextUrl); break;
      case "ArrowLeft": case "k": ev.preventDefault(); go(c.dataset.previousUrl); break;
      default: break;
    }
  });

  document.addEventListener("click", function (ev) {
    var t = ev.target.closest("[data-rv-mode],[data-rv-bg],[data-rv-open],[data-rv-select]");
    if (!t) return;
    if (t.dataset.rvMode) setMode(t.dataset.rvMode);
    else if (t.dataset.rvBg) setBg(t.dataset.rvBg);
    else if (t.dataset.rvOpen) openPanel(t.dataset.rvOpen);
    else if (t.dataset.rvSelect) {
      var on = t.dataset.rvSelect === "all";
      each(t.closest("form"), 'input[name="cutout"]', function (b) { b.checked = on; });
    }
  });

  document.addEventListener("input", function (ev) {
    var t = ev.target;
    if (t.matches("[data-rv-custom]")) { prefs.custom = t.value; setBg("custom"); }
    else if (t.matches("[data-rv-split]")) {
      t.closest(".rv-stage").querySelector(".rv-compare").style.setProperty("--rv-split", t.value + "%");
    }
  });
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t.matches("[data-rv-shadow]")) setShadow(t.checked);
    else if (t.matches("[data-rv-zoom-level]")) { prefs.zoom = parseInt(t.value, 10) || 2; save(); }
  });
  document.addEventListener("mousemove", moveLoupe);

  document.addEventListener("htmx:afterSettle", applyPrefs);
  document.addEventListener("DOMContentLoaded", applyPrefs);
})();
