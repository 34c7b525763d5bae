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

  function setZoom(on, show) {
    var v = viewer(); if (!v) return;
    zoomOn = on;
    v.dataset.zoom = on ? "on" : "off";
    each(v, "[data-rv-zoom]", function (b) { b.setAttribute("aria-pressed", String(on)); });
    var loupe = v.querySelector(".rv-loupe");
    if (!on && loupe) loupe.hidden = true;
    if (on && prefs.mode !== "side") setMode("side");
    // Turned on by the button or Z: the loupe shows at once over the image's centre, so a
    // touch reviewer sees it (and where to drag it) without hovering first.
    var img = on && show && v.querySelector(".rv-stage-side .rv-cutout");
    if (img) {
      var r = img.getBoundingClientRect();
      if (r.width) moveLoupe({ target: img, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2 });
    }
  }

  // The loupe shows the card's preview magnified at once, then a tile of the full-size file
  // (at most TILE px a side, fetched from the tile view) over it: moving the loupe reads a few
  // hundred pixels at a time, never the whole full-size file.
  var TILE = 512, TILE_SNAP = 128;
  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }

  function wantedTile(fx, fy, W, H) {
    var w = Math.min(TILE, W), h = Math.min(TILE, H);
    var x = clamp(Math.round((fx - w / 2) / TILE_SNAP) * TILE_SNAP, 0, W - w);
    var y = clamp(Math.round((fy - h / 2) / TILE_SNAP) * TILE_SNAP, 0, H - h);
    return { x: x, y: y, w: w, h: h, key: [x, y, w, h].join(",") };
  }

  // One tile request per loupe at a time, "latest wins": while one is in flight, moving only
  // notes the tile the loupe now wants; when the answer comes, that tile is asked for if it
  // changed. Before, every 128 px step (9 screen px of mouse on a 45 MP photo) started a load
  // of its own and none was given up: a sweep sent ~85 tile requests, 22-33 at once, and the
  // tile where the mouse stopped came 5 s late. An answer that is no longer the wanted tile
  // is still shown (it is the full-size pixels of its own box, placed by it, nearer than the
  // preview) unless the loupe was turned off or its card replaced meanwhile.
  function fetchTile(hi, base, box, redraw) {
    var st = hi.rvTiles || (hi.rvTiles = { busy: null, want: null });
    st.want = { url: base + "?x=" + box.x + "&y=" + box.y + "&w=" + box.w + "&h=" + box.h,
                key: box.key, redraw: redraw };
    if (!st.busy) nextTile(hi, st);
  }
  function nextTile(hi, st) {
    if (st.busy) return;
    var job = st.want; st.want = null;
    // the tile shown, or one that just failed (retried once the loupe wants another first)
    if (!job || job.key === hi.dataset.box || job.key === st.failed || !hi.isConnected ||
        !zoomOn) return;
    st.busy = job;
    hi.dataset.pending = job.key;
    var loader = new Image();
    function done(ok) {
      st.busy = null; delete hi.dataset.pending;
      if (!hi.isConnected || !zoomOn) { st.want = null; return; }  // stale: nowhere to show it
      st.failed = ok ? null : job.key;
      if (ok) { hi.src = job.url; hi.dataset.box = job.key; job.redraw(); }
      nextTile(hi, st);
    }
    loader.onload = function () { done(true); };
    loader.onerror = function () { done(false); };
    loader.src = job.url;
  }

  var lastLoupe = null;
  function moveLoupe(ev) {
    var v = viewer(); if (!v || !zoomOn) return;
    var frame = ev.target.closest && ev.target.closest(".rv-zoomable"); if (!frame) return;
    lastLoupe = { target: ev.target, clientX: ev.clientX, clientY: ev.clientY };
    var img = frame.querySelector(".rv-cutout");
    var loupe = frame.querySelector(".rv-loupe");
    var low = loupe.querySelector(".rv-loupe-low"), hi = loupe.querySelector(".rv-loupe-img");
    if (!low.getAttribute("src")) low.src = img.currentSrc || img.src;
    var r = img.getBoundingClientRect();
    var x = ev.clientX - r.left, y = ev.clientY - r.top;
    if (x < 0 || y < 0 || x > r.width || y > r.height) { loupe.hidden = true; return; }
    var z = prefs.zoom, size = 180;
    loupe.hidden = false;
    loupe.style.left = (x - size / 2 + img.offsetLeft) + "px";
    loupe.style.top = (y - size / 2 + img.offsetTop) + "px";
    low.style.width = r.width * z + "px";
    low.style.height = r.height * z + "px";
    low.style.left = (size / 2 - x * z) + "px";
    low.style.top = (size / 2 - y * z) + "px";
    var W = parseInt(img.dataset.fullWidth, 10) || img.naturalWidth;
    var H = parseInt(img.dataset.fullHeight, 10) || img.naturalHeight;
    if (!W || !H || !img.dataset.tile) return;
    var s = r.width / W * z;  // loupe pixels per full-size pixel
    var fx = x / r.width * W, fy = y / r.height * H;
    // asked even for the tile shown: it replaces an older wish waiting behind a request
    fetchTile(hi, img.dataset.tile, wantedTile(fx, fy, W, H),
              function () { if (lastLoupe) moveLoupe(lastLoupe); });
    if (!hi.dataset.box) return;
    var box = hi.dataset.box.split(",").map(Number);
    hi.style.width = box[2] * s + "px";
    hi.style.height = box[3] * s + "px";
    hi.style.left = (size / 2 - (fx - box[0]) * s) + "px";
    hi.style.top = (size / 2 - (fy - box[1]) * s) + "px";
  }

  // Before / after divider: pointer drag anywhere on the compared image, or the keyboard on
  // the focused handle (a role="slider").
  var dragging = null;
  function setSplit(compare, pct) {
    pct = clamp(pct, 0, 100);
    compare.style.setProperty("--rv-split", pct + "%");
    compare.dataset.split = String(pct);
    var handle = compare.querySelector("[data-rv-split]");
    if (handle) {
      handle.setAttribute("aria-valuenow", String(Math.round(pct)));
      handle.setAttribute("aria-valuetext", Math.round(pct) + " %");
    }
  }
  function splitAt(compare, clientX) {
    var r = compare.getBoundingClientRect();
    return r.width ? (clientX - r.left) / r.width * 100 : 50;
  }
  function splitKey(ev) {
    var compare = ev.target.closest(".rv-compare"); if (!compare) return false;
    var now = parseFloat(compare.dataset.split || "50"), step = ev.shiftKey ? 10 : 1, to = null;
    if (ev.key === "ArrowLeft" || ev.key === "ArrowDown") to = now - step;
    else if (ev.key === "ArrowRight" || ev.key === "ArrowUp") to = now + step;
    else if (ev.key === "PageDown") to = now - 10;
    else if (ev.key === "PageUp") to = now + 10;
    else if (ev.key === "Home") to = 0;
    else if (ev.key === "End") to = 100;
    if (to === null) return false;
    ev.preventDefault();
    setSplit(compare, to);
    return true;
  }
  // A finger may be scrolling the page (touch-action: pan-y), not dragging: the divider
  // waits until the finger has moved more sideways than up or down (a tap still moves it).
  var TOUCH_SLOP = 6;
  var touchFrom = null;
  document.addEventListener("pointerdown", function (ev) {
    var compare = ev.target.closest && ev.target.closest(".rv-compare");
    if (!compare || ev.button !== 0) return;
    ev.preventDefault();
    dragging = compare;
    compare.dataset.dragging = "";
    var handle = compare.querySelector("[data-rv-split]");
    if (handle) handle.focus({ preventScroll: true });
    if (ev.pointerType === "touch") {
      touchFrom = { x: ev.clientX, y: ev.clientY, moved: false };
      return;
    }
    touchFrom = null;
    setSplit(compare, splitAt(compare, ev.clientX));
  });
  document.addEventListener("pointermove", function (ev) {
    if (!dragging) return;
    if (touchFrom && !touchFrom.moved) {
      var dx = Math.abs(ev.clientX - touchFrom.x), dy = Math.abs(ev.clientY - touchFrom.y);
      if (dx < TOUCH_SLOP && dy < TOUCH_SLOP) return;
      if (dy >= dx) { endDrag(); return; }  // a scroll: the page moves, the divider stays
      touchFrom.moved = true;
    }
    ev.preventDefault();
    setSplit(dragging, splitAt(dragging, ev.clientX));
  });
  function endDrag() {
    if (dragging) { delete dragging.dataset.dragging; dragging = null; }
    touchFrom = null;
  }
  document.addEventListener("pointerup", function (ev) {
    if (dragging && touchFrom && !touchFrom.moved) {
      setSplit(dragging, splitAt(dragging, ev.clientX));  // a tap
    }
    endDrag();
  });
  document.addEventListener("pointercancel", endDrag);

  // Full-screen compare: the whole viewer (modes, backgrounds, zoom) fills the screen.
  function toggleFullscreen() {
    var v = viewer(); if (!v) return;
    if (document.fullscreenElement) { document.exitFullscreen(); return; }
    if (v.requestFullscreen) v.requestFullscreen().catch(function () { /* refused: stay */ });
  }
  document.addEventListener("fullscreenchange", function () {
    var on = !!document.fullscreenElement;
    each(document, "[data-rv-fullscreen]", function (b) {
      b.setAttribute("aria-pressed", String(on));
      b.textContent = on ? "Leave full screen" : "Full screen";
    });
  });

  var opener = null;  // the control that opened the panel: focus goes back to it on Esc
  function openPanel(name, from) {
    var c = card(); if (!c) return null;
    var panel = c.querySelector('[data-rv-panel="' + name + '"]'); if (!panel) return null;
    // Opened by its key: the panel's own button stands for the opener.
    opener = from || c.querySelector('[data-rv-open="' + name + '"]');
    each(c, "[data-rv-panel]", function (p) { p.hidden = p !== panel; });
    panel.hidden = false;
    rerunChanged(panel);
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
  // A card's heading takes the focus after a swap (tabindex=-1): focus left on <body> would
  // start Tab from the top of the page again.
  function focusHeading() {
    var c = card(), h = c && c.querySelector("[data-rv-heading]");
    if (h) h.focus({ preventScroll: true });
  }

  // J/K follow the card's own Next / Previous link, so htmx makes the history entry: Back and
  // Forward then load the card of the address (the card carries hx-history="false", so htmx
  // asks the server rather than restoring a stale snapshot whose forms could act on a card
  // in another state).
  function go(which) {
    var c = card(); if (!c) return;
    var url = which === "next" ? c.dataset.nextUrl : c.dataset.previousUrl;
    if (!url) return;
    var link = c.querySelector(which === "next" ? "#rv-next" : "#rv-previous");
    if (link && window.htmx) link.click(); else window.location.href = url;
  }

  // "Other" says nothing by itself: the flag waits for a comment, with the ticks kept (the
  // server refuses it too; this only saves the round trip and keeps the reviewer typing).
  function flagNeedsComment(form) {
    var other = form.querySelector('input[name="reason"][value="other"]');
    var comment = form.querySelector('textarea[name="comment"]');
    if (!other || !other.checked || !comment || comment.value.trim()) return false;
    var hint = form.querySelector("[data-rv-other-hint]"); if (hint) hint.hidden = false;
    comment.focus();
    return true;
  }
  // One card request at a time, and a decision only for the card on screen. While a
  // decision's POST or the GET of another card is in flight (until its xhr is DONE, which
  // htmx swaps in the same task), the card is going: a key that decides would act on a card
  // the reviewer is leaving, or (sent later) on the next one unseen, so it is dropped and the
  // status below says why; a later answer would swap into a card no longer in the page, its
  // note and Undo lost (docs/review.md, Keys). J / K decide nothing and are carried out once
  // the card shows; B and Z change the view, which the next card keeps.
  var flight = null, queuedGo = "", waitBox = null, waitTimer = null;
  function replacing() { return !!flight && flight.readyState > 0 && flight.readyState < 4; }
  // The status lives outside the card, so the swap neither takes it away nor makes a screen
  // reader miss it (a live region must be in the page before its text changes).
  function waitRegion() {
    if (!waitBox) {
      waitBox = document.createElement("div");
      waitBox.setAttribute("role", "status");
      waitBox.setAttribute("data-rv-wait", "");
      waitBox.className = "rv-wait";
      (document.querySelector("main") || document.body).appendChild(waitBox);
      window.addEventListener("scroll", placeWait, { passive: true });
      window.addEventListener("resize", placeWait);
    }
    return waitBox;
  }
  // Where the pressed key was aimed: in the decision bar's free end, beside the buttons,
  // wherever the bar is (stuck at the bottom or in its place). It was fixed above the
  // window's bottom, over the cutout or the buttons when the bar was not stuck there (QA
  // 2026-12-04, 1366x900). A bar with no room for it (a phone) or out of view: the top
  // right corner, as a toast.
  function placeWait() {
    if (!waitBox || !waitBox.firstChild) return;
    var s = waitBox.style, pill = waitBox.firstChild;
    s.top = "0px"; s.left = "0px"; s.right = ""; s.maxWidth = "";
    waitBox.classList.remove("rv-wait-toast");
    var need = pill.getBoundingClientRect(), bar = document.querySelector("#review-card .rv-actions");
    if (bar) {
      var r = bar.getBoundingClientRect(), last = null;
      Array.prototype.forEach.call(bar.children, function (el) {
        var e = el.getBoundingClientRect();
        // the bar's last row of buttons ends where its free end starts
        if (e.width && (!last || e.top >= last.bottom || e.right > last.right)) last = e;
      });
      var used = last ? last.right : r.left, middle = last ? (last.top + last.bottom) / 2
        : (r.top + r.bottom) / 2;
      if (r.bottom > 0 && r.top < window.innerHeight && r.right - used - 12 >= need.width) {
        s.top = Math.round(middle - need.height / 2) + "px";
        s.left = Math.round(r.right - need.width) + "px";
        return;
      }
    }
    waitBox.classList.add("rv-wait-toast");
    s.top = ""; s.left = "";
  }
  function sayWait(what) {
    var box = waitRegion();
    clearTimeout(waitTimer); waitTimer = null;
    var pill = box.firstChild || box.appendChild(document.createElement("p"));
    pill.className = "rt-paused";  // the decision bar's small note (review.css)
    pill.textContent = "Wait for the next card: " + what + " was not applied.";
    placeWait();
  }
  function clearWaitSoon() {
    if (!waitBox || !waitBox.firstChild) return;
    placeWait();  // the next card's bar
    clearTimeout(waitTimer);
    waitTimer = setTimeout(function () { if (!replacing()) waitBox.textContent = ""; }, 4000);
  }
  var KEY_NAMES = { a: "A (approve)", f: "F (flag)", u: "U (undo)", r: "R (re-run)",
                    e: "E (retouch tools)" };
  var ACTION_NAMES = { approve: "Approve", flag: "Flag", undo: "Undo", rerun: "Re-run",
                       strokes: "Apply", choose: "Use this version",
                       preflag_confirm: "Confirm", preflag_dismiss: "Dismiss" };
  function requestName(elt) {
    var action = elt && elt.querySelector && elt.querySelector('input[name="action"]');
    if (action && ACTION_NAMES[action.value]) return ACTION_NAMES[action.value];
    if (elt && elt.id === "rv-next") return "Next";
    if (elt && elt.id === "rv-previous") return "Previous";
    return "that click";
  }
  // A key pressed while the card is replaced: true when it was handled here (queued or dropped).
  function held(ev, panel) {
    var key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
    var to = key === "ArrowRight" || key === "j" ? "next" :
      key === "ArrowLeft" || key === "k" ? "previous" : "";
    if (to) { ev.preventDefault(); queuedGo = to; return true; }
    var name = KEY_NAMES[key] || (panel && key === "Enter" ? "Enter" : "") ||
      (panel === "flag" && /^[0-9]$/.test(key) ? key + " (reason)" : "");
    if (!name) return false;
    ev.preventDefault(); sayWait(name);
    return true;
  }
  document.addEventListener("htmx:beforeSend", function (ev) {
    var d = ev.detail;
    if (!d || !d.target || d.target.id !== "review-card") return;
    flight = d.xhr;
    d.target.setAttribute("aria-busy", "true");
  });
  // A click (Approve, a version link, Next) while another card request is in flight: htmx
  // would send it beside the first, and the later answer would swap into a card gone already.
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var d = ev.detail;
    if (!d || !d.target || d.target.id !== "review-card" || !replacing()) return;
    ev.preventDefault();
    sayWait(requestName(d.elt));
  });
  // After the swap (htmx answers, swaps and settles in one task, then says afterRequest), or
  // after a failure that swapped nothing.
  document.addEventListener("htmx:afterRequest", function (ev) {
    var d = ev.detail;
    if (!d || !flight || d.xhr !== flight) return;
    flight = null;
    var c = card(); if (c) c.removeAttribute("aria-busy");
    clearWaitSoon();
    var to = queuedGo; queuedGo = "";
    if (to) setTimeout(function () { go(to); }, 0);
  });

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    // The same form sent again (a double click, Enter on Approve) never reaches htmx, which
    // would queue it on the old form and drop it with the card, saying nothing.
    if (replacing() && form.getAttribute && form.getAttribute("hx-target") === "#review-card") {
      ev.preventDefault(); ev.stopImmediatePropagation();
      sayWait(requestName(form));
      return;
    }
    if (form.matches && form.matches('[data-rv-panel="flag"]') && flagNeedsComment(form)) {
      // Capture phase on the document: htmx's own submit listener on the form never runs.
      ev.preventDefault(); ev.stopImmediatePropagation();
    }
  }, true);

  function submit(form) {
    if (!form) return;
    var send = form.querySelector("button[type=submit]");
    if (send && send.disabled) return;  // held (a re-run that changes nothing): Enter neither
    form.requestSubmit ? form.requestSubmit() : form.submit();
  }
  // QA40 L3: the re-run panel opens with the version's own settings, which would only make
  // the same version again: while every field is as it opened, Re-run is held and the note
  // (data-rv-rerun-same, only when the server found them the version's exact settings) says
  // so. A field is as it opened when it holds its default (the option the page marked
  // selected, else the first; the box as it was checked).
  function rerunChanged(form) {
    var note = form && form.querySelector("[data-rv-rerun-same]");
    var send = note && form.querySelector("button[type=submit]");
    if (!send) return;
    var same = Array.prototype.every.call(
      form.querySelectorAll("select, input[type=checkbox]"), function (f) {
        if (f.type === "checkbox") return f.checked === f.defaultChecked;
        // the version's own profile picked by name is the panel's "this version's" (QA41:
        // Re-run offered "default" on a default version, and the server refused it)
        if (f.matches("[data-rv-own]") && f.value === f.dataset.rvOwn) return true;
        var first = null;
        for (var i = 0; i < f.options.length; i++) {
          if (f.options[i].defaultSelected) { first = f.options[i]; break; }
        }
        first = first || f.options[0];
        return !first || f.value === first.value;
      });
    note.hidden = !same;
    send.disabled = same;
  }

  function applyPrefs() {
    var c = card(); if (!c) return;
    // A refused flag comes back open: focus what is left to do (the reasons, or the comment
    // when "Other" wants one), the error in view.
    var want = c.querySelector("[data-rv-focus]");
    if (want && document.activeElement !== want) {
      want.focus({ preventScroll: true });
      var error = c.querySelector(".rv-error");
      if (error) error.scrollIntoView({ block: "nearest" });
      want.scrollIntoView({ block: "nearest" });
    }
    if (!viewer()) return;
    var v = viewer();
    var custom = v.querySelector("[data-rv-custom]"); if (custom) custom.value = prefs.custom;
    var zl = v.querySelector("[data-rv-zoom-level]"); if (zl) zl.value = String(prefs.zoom);
    setMode(prefs.mode); setBg(prefs.bg); setShadow(prefs.shadow); setZoom(zoomOn);
    each(v, "[data-rv-fullscreen]", function (b) { b.disabled = !document.fullscreenEnabled; });
  }
  var shownCutout = null;
  function afterSwap(ev) {
    // A running version's note refreshed itself alone (the card's or the retouch page's):
    // nothing else changed, so focus and the reviewer's view are left as they are.
    var t = ev && ev.target;
    if (t && t.matches && t.matches("[data-pending-note]")) { sayPending(t); return; }
    applyPrefs();
    var c = card(); if (!c) return;
    // Another card (next, previous, a new version): its heading, so a screen reader reads
    // the new image and Tab starts from the top of the card. htmx would keep the focus on
    // the new card's "Next →" (same id); a refused flag keeps its own (data-rv-focus). The
    // same card polled or re-shown: only focus that fell to <body> is picked up.
    var a = document.activeElement, lost = !a || a === document.body || a === document.documentElement;
    // A panel of this card the reviewer already opened keeps its focus too.
    var inPanel = !lost && c.contains(a) && !!a.closest("[data-rv-panel]:not([hidden])");
    var other = c.dataset.cutout !== shownCutout && !c.querySelector("[data-rv-focus]") &&
      !typing(a) && !inPanel;
    if (lost || other) focusHeading();
    shownCutout = c.dataset.cutout;
    updateQueuedNote();
  }
  // The "version N is queued" message above the card is true until the card polls the
  // version finished; then it says so instead (or goes, when the run failed: the card says why).
  function updateQueuedNote() {
    var c = card(); if (!c || c.querySelector("[data-pending-note]")) return;
    each(document, ".messages .msg-rv-queued", function (li) {
      if (c.dataset.status === "done") {
        li.textContent = "Version " + c.dataset.version + " is ready and waits for review.";
      } else {
        li.remove();
      }
    });
  }

  // The pending note's live region (role=status, kept in the DOM across the polls) says the
  // stage and percent of the fresh note; written only when they change, so a screen reader
  // hears each change once, never the ticking seconds.
  function sayPending(note) {
    var live = note.parentNode && note.parentNode.querySelector("[data-pending-said]");
    var said = note.getAttribute("data-said") || "";
    if (live && live.textContent !== said) live.textContent = said;
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
      closePanels(); setZoom(false);
      if (panel) {
        if (opener && opener.isConnected) opener.focus(); else focusHeading();
      }
      return;
    }
    if (panel === "flag" && ev.key === "Enter" && !ev.shiftKey && ev.target.tagName === "TEXTAREA") {
      // Enter in the flag comment sends (Shift+Enter: a new line).
      ev.preventDefault(); submit(ev.target.form); return;
    }
    if (typing(ev.target)) return;
    if (ev.target.matches && ev.target.matches("[data-rv-split]") && splitKey(ev)) return;
    if (replacing() && !retouching() && held(ev, panel)) return;
    if (retouching()) {
      // While painting, only leave (E/Esc) or change the background; no approve by accident.
      var k = ev.key.toLowerCase();
      if (k === "e") { ev.preventDefault(); setMode(prefs.mode); }
      else if (k === "b") { ev.preventDefault(); cycleBg(); }
      return;
    }
    if (panel === "flag" && /^[0-9]$/.test(ev.key)) {
      var box = c.querySelector('[data-rv-panel="flag"] [data-rv-key="' + ev.key + '"]');
      if (box) { box.checked = !box.checked; ev.preventDefault(); }
      return;
    }
    if (panel && ev.key === "Enter") {
      // Enter sends the open panel only from inside it (or with focus on nothing); on any
      // other control (Next, Approve, a link) it does what that control does.
      var form = c.querySelector('[data-rv-panel="' + panel + '"]'), t = ev.target;
      if (t === document.body || t === document.documentElement || form.contains(t)) {
        ev.preventDefault(); submit(form);
      }
      return;
    }
    var key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
    switch (key) {
      case "a": if (!panel) { ev.preventDefault(); submit(c.querySelector('[data-rv-form="approve"]')); } break;
      case "f": ev.preventDefault(); openPanel("flag"); break;
      // Undo the decision just made (offered in the note of the card that followed it)
      case "u": if (!panel && c.querySelector('[data-rv-form="undo"]')) { ev.preventDefault(); submit(c.querySelector('[data-rv-form="undo"]')); } break;
      case "r": ev.preventDefault(); openPanel("rerun"); break;
      case "b": ev.preventDefault(); cycleBg(); break;
      case "z": ev.preventDefault(); setZoom(!zoomOn, true); break;
      case "e": if (!panel && c.querySelector(".rv-stage-retouch")) { ev.preventDefault(); setMode("retouch"); } break;
      case "ArrowRight": case "j": ev.preventDefault(); go("next"); break;
      case "ArrowLeft": case "k": ev.preventDefault(); go("previous"); break;
      default: break;
    }
  });

  document.addEventListener("click", function (ev) {
    var t = ev.target.closest("[data-rv-mode],[data-rv-bg],[data-rv-open],[data-rv-select],[data-rv-fullscreen],[data-rv-zoom]");
    if (!t) return;
    if (t.hasAttribute("data-rv-fullscreen")) toggleFullscreen();
    else if (t.hasAttribute("data-rv-zoom")) setZoom(!zoomOn, true);
    else if (t.dataset.rvMode) setMode(t.dataset.rvMode);
    else if (t.dataset.rvBg) setBg(t.dataset.rvBg);
    else if (t.dataset.rvOpen) openPanel(t.dataset.rvOpen, t);
    else if (t.dataset.rvSelect) {
      var on = t.dataset.rvSelect === "all";
      each(t.closest("form"), 'input[name="cutout"]', function (b) { b.checked = on; });
    }
  });

  document.addEventListener("input", function (ev) {
    var t = ev.target;
    if (t.matches("[data-rv-custom]")) { prefs.custom = t.value; setBg("custom"); }
  });
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t.matches("[data-rv-shadow]")) setShadow(t.checked);
    else if (t.matches("[data-rv-zoom-level]")) { prefs.zoom = parseInt(t.value, 10) || 2; save(); }
    else if (t.matches("[data-rv-profile]")) profileKnobs(t);
    if (t.form && t.form.matches('[data-rv-panel="rerun"]')) rerunChanged(t.form);
  });
  // Another profile brings its own TTA and refinement strength (the API applies the same):
  // the panel shows what the re-run will use; the reviewer may still change them after.
  function profileKnobs(select) {
    var opt = select.options[select.selectedIndex], form = select.form;
    var tta = form.querySelector('input[name="tta"]');
    var strength = form.querySelector('select[name="strength"]');
    if (tta && opt.dataset.tta) tta.checked = opt.dataset.tta === "1";
    if (strength && opt.dataset.strength) strength.value = opt.dataset.strength;
  }
  // Pointer events: a mouse hovering, a pen or a finger dragging over the image (while the
  // loupe is on, the image takes touch drags instead of scrolling: review.css).
  document.addEventListener("pointermove", moveLoupe);
  document.addEventListener("pointerdown", function (ev) { if (zoomOn) moveLoupe(ev); });

  // A new card settles in the same task as its swap (settle:0ms). htmx's default settles 20 ms
  // (more on a loaded machine) after the card is on screen: a key pressed in between acted on
  // a card whose forms htmx had not processed yet, and the settle then took the focus to the
  // heading, away from a panel the key had opened, so the Enter after F sent nothing (the
  // flaky flag test). The card has no settle transitions to wait for.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var d = ev.detail;
    if (!d || !d.shouldSwap || !d.target || d.target.id !== "review-card") return;
    var elt = d.requestConfig && d.requestConfig.elt;
    var from = elt && elt.closest && elt.closest("[hx-swap],[data-hx-swap]");
    var spec = d.swapOverride ||
      (from && (from.getAttribute("hx-swap") || from.getAttribute("data-hx-swap"))) || "";
    if (!/\bsettle:/.test(spec)) {
      d.swapOverride = (spec || window.htmx.config.defaultSwapStyle) + " settle:0ms";
    }
  });
  // The queue's rows come again with its note's poll once cutouts finished (out of band,
  // views.review._queue_coming_poll), a new one maybe above the rest (riskiest first): not
  // while the pointer is on them, where the row under it would move as it is clicked, nor
  // while text in them is selected (a SKU being copied). Held, the rows keep the counts
  // they were drawn with, so a later poll (the pointer gone) sends them again. A focused
  // row link keeps its focus across the swap (htmx finds it again by its id).
  // A tap leaves :hover on what it touched until the next tap elsewhere: only a mouse's
  // pointer holds the rows, else a phone's queue stopped coming after its first tap.
  var pointer = "mouse";
  document.addEventListener("pointerdown", function (ev) { pointer = ev.pointerType; }, true);
  document.addEventListener("pointermove", function (ev) { pointer = ev.pointerType; }, true);
  document.addEventListener("htmx:oobBeforeSwap", function (ev) {
    var d = ev.detail, rows = d && d.target;
    if (!rows || rows.id !== "rv-queue-rows") return;
    var sel = window.getSelection && window.getSelection();
    var selecting = !!sel && !sel.isCollapsed && sel.rangeCount > 0 &&
      rows.contains(sel.getRangeAt(0).commonAncestorContainer);
    if ((pointer === "mouse" && rows.matches(":hover")) || selecting) d.shouldSwap = false;
  });
  document.addEventListener("htmx:afterSettle", afterSwap);
  document.addEventListener("htmx:historyRestore", afterSwap);
  document.addEventListener("DOMContentLoaded", function () {
    applyPrefs(); updateQueuedNote();
    var c = card(); if (c) { shownCutout = c.dataset.cutout; waitRegion(); }
  });
})();
