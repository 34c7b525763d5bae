/* Retouch tools, on the retouch page and on the review card: keep / remove / detail strokes,
   clicks, the subject click, undo/redo, brush size and a live preview.
   Strokes live here as the vector list of cutouts.imaging.strokes
   ([{kind, radius, points: [[x, y], ...]}], full-size photo pixels; one point = a click) and the
   whole list is sent for every preview the page does not have yet: undo / redo show the
   previews it kept (PREVIEWS_KEEP) without asking the server.
   Apply posts the same list; a worker computes the new version at full size.
   Moved out (2026-12-07, split43), loaded before this file by _head.html: the measures of what a
   stroke changed (reachMask, productShare, farFrom, wholePieces, hazeTest, softUnder,
   underVerdict, edgeUnder, strokesMeet; since advice43 removedUnder; since words45
   faintWhole, givenBack) to retouch-measure.js; the
   report's words (fitReport, changeParts, solidEdgeTip, keepThen, counted, VERDICTS, BRIEF,
   ACROSS, MESH, FAR_KEEP, STATUS_MAX) to retouch-words.js. report, flashChange and the status
   line stay here. */
(function () {
  "use strict";
  // Loaded before this file (see _head.html): what a stroke changed, measured on the preview's
  // alpha (retouch-measure.js), and the report's words (retouch-words.js).
  var M = window.cutroomRetouchMeasure, W = window.cutroomRetouchWords;
  var productShare = M.productShare, farFrom = M.farFrom, hazeTest = M.hazeTest, softUnder = M.softUnder,
      faintWhole = M.faintWhole, faintPieces = M.faintPieces, givenBack = M.givenBack,
      engineBack = M.engineBack,
      underVerdict = M.underVerdict, edgeUnder = M.edgeUnder, removedUnder = M.removedUnder;
  var EDGE_MIN_SHARE = M.EDGE_MIN_SHARE, SETTLED_SHARE = M.SETTLED_SHARE;
  var fitReport = W.fitReport, changeParts = W.changeParts, solidEdgeTip = W.solidEdgeTip, counted = W.counted,
      keepThen = W.keepThen;
  var ACROSS = W.ACROSS, MESH = W.MESH, MESH_MORE = W.MESH_MORE, FAR_KEEP = W.FAR_KEEP, VERDICTS = W.VERDICTS,
      BRIEF = W.BRIEF, STATUS_MAX = W.STATUS_MAX, SHOW = W.SHOW;

  var COLOURS = { keep: "rgba(0, 190, 70, 0.6)", remove: "rgba(235, 25, 35, 0.6)",
                  detail: "rgba(40, 120, 255, 0.6)", subject: "rgba(255, 170, 0, 0.9)" };
  var NAMES = { keep: "Keep", remove: "Remove", detail: "Detail", subject: "Subject" };
  // The subject click (S; QA qa40b U, dev 155: the model held a graffiti beside the skater and
  // remove strokes on it took parts of her): one click on the product keeps only the part of
  // the cutout joined to it, every other part is cleared (cutouts.imaging.subject). It is a
  // click whatever the pointer does, drawn as a target (a ring at its brush, a cross at its
  // point, SUBJECT_MARK screen px at the least), and a list holds one at most (the server
  // refuses a second): a second click says to undo the first.
  var SUBJECT_MARK = 9;
  var CLICK_PX = 4;        // a press that moves less than this many screen pixels is a click
  var PREVIEW_MAX = 1024;  // the canvas before it is laid out: the preview's size
  // The strokes canvas is drawn at the size it is shown times devicePixelRatio, so lines stay
  // crisp zoomed in; its long side stops here (4096 x 3072 x 4 bytes = 48 MB at most).
  var CANVAS_MAX = 4096;
  var SIZE_STEP = 1.25;
  var DEBOUNCE_MS = 90;
  var ZOOMS = [1, 2, 4];   // the zoom buttons and Z; Ctrl+wheel and a pinch go in between
  var ZOOM_MAX = 8;
  // "Faint alpha": a pixel the cutout keeps below this alpha is painted in FAINT_RGB, at
  // least FAINT_MIN opaque whatever its alpha (haze at alpha 10 shows as strongly as a soft
  // edge); at or above it the product shows as it is.
  var FAINT_SOLID = 250;
  var FAINT_RGB = [255, 0, 200];
  var FAINT_MIN = 150;
  // What the last stroke changed flashes over the preview for CHANGE_MS: what it took from
  // the cutout in the remove colour, what it added in the keep colour, a partial fade (a
  // detail stroke) as strongly as it moved; changes under CHANGE_MIN of 255 do not show.
  var CHANGE_TAKEN = [235, 25, 35];
  var CHANGE_ADDED = [0, 190, 70];
  var CHANGE_MIN = M.CHANGE_MIN;
  var CHANGE_MS = 1800;
  // A keep or remove stroke's cut follows edges and takes whole patches, so some change past
  // FAR_PX is its job: named from this many px (QA qa40b F-A, 2026-12-06: a remove stroke on
  // the graffiti took 7,024 px of the skater up to 102 px beyond its brush, and the report said
  // only "took 0.6 % of the cutout (red)").
  var FAR_CUT_MIN = 100;
  // A keep stroke that turned soft alpha (SOFT_LOW..SOFT_HIGH) solid (>= SOLID) on at least
  // SOFT_HINT_PX preview pixels, SOFT_HINT_SHARE of all it changed, is told of the detail brush
  // when soft alpha was SOFT_BRUSH_SHARE of what its brush covered: a soft area, as hair or
  // fur is, not the few soft pixels along a solid product's outline (QA 2026-12-04: a keep
  // stroke along a banana's edge was told of hair, fur and mesh).
  var SOFT_LOW = M.SOFT_LOW, SOFT_HIGH = M.SOFT_HIGH, SOLID = 250, SOFT_HINT_PX = 50, SOFT_HINT_SHARE = 0.3;
  var SOFT_BRUSH_SHARE = 0.4;
  // Since 2026-12-06 the pixels made solid are weighed by the alpha they gained (their rise
  // / 255): a stroke that topped up nearly solid alpha or filled a few gaps is not told of
  // hair (QA: a keep stroke down a bicycle wheel, dev 213).
  // A remove click that found its area already removed is told of the haze it may have
  // missed only when at least HAZE_SHARE of the preview pixels under its brush hold faint
  // alpha (1..127, what Faint shows): QA 2026-12-05 heard "Faint haze shows with Faint (H)"
  // over backdrop at alpha 0, and with Faint already on.
  var HAZE_SHARE = 0.02;
  // (...and only faint alpha away from the product's rim: HAZE_RIM, hazeTest in retouch-measure.js.)
  // Strokes whose preview differs from the version's in fewer than NOISE_PX pixels (any
  // channel, any amount) make no version the reviewer could tell from it: Apply is off, as it
  // is for a preview equal to it (QA 2026-12-06: a 1 px change made a new version). The
  // report's "Next to nothing changed" is the same count.
  var NOISE_PX = 4;
  // Shown previews kept (their alpha) to report what the strokes since the last one changed:
  // a burst drawn while a preview computes is reported as one, not lost.
  var SHOWN_KEEP = 6;
  // Previews this page already has, by stroke list (its JSON), the least recently used
  // first: undo, redo or any list seen before shows its picture at once instead of asking
  // the server again (QA 2026-12-05: 0.4-0.9 s after Ctrl+Z, 1.6-1.9 s after redo, the
  // undone stroke's result on screen meanwhile). Each is the preview's PNG blob (about
  // 0.3-2 MB at 1024 px); older ones are dropped and their blob URLs revoked.
  var PREVIEWS_KEEP = 12;
  // What Apply on the retouch page carries to the new version's editor (see htmx:beforeSwap
  // below): the view (its picture kept on screen while the worker computes), zoom, scroll,
  // tool and what shows.
  var carry = null;
  // Unapplied strokes outlive a reload in this tab (QA 2026-12-06 F6: a reload lost them,
  // behind the browser's own "Leave site?"): sessionStorage, one entry per version, under
  // SAVED + "user:asset:cutout" (a cutout row is one version). The entry carries the version
  // number and the working copy the points are measured in (its size and content), so strokes
  // are restored only onto the very version and photo they were painted on.
  // The redo list (strokes undone but redoable) and the zoom and pan ride along: a reload
  // started them afresh, so Ctrl+Y after one brought nothing back (QA 2026-12-06 L2).
  var SAVED = "cutroom.retouch.unapplied:";
  // How this page was opened: "reload" names the restore's cause; an editor swapped in later
  // (a card reached by Next / Previous) was not reloaded.
  var opened = "", firstLoad = true;
  try { opened = (performance.getEntriesByType("navigation")[0] || {}).type || ""; } catch (e) { /* old browser */ }
  // Every editor made on this page: one swapped out (another card, Apply) frees its previews.
  var editors = [];

  function strokeCount(n) { return n + " stroke" + (n === 1 ? "" : "s"); }

  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable ||
      (el.tagName === "INPUT" && !/^(checkbox|radio|range|button|submit|color|hidden)$/.test(el.type)));
  }

  // A control reached by keyboard that Enter itself activates (Undo, "Back to v1", a
  // summary): Enter there does what the control does, not Apply (QA: Enter on Undo made a
  // new version instead). A tool button clicked with the mouse keeps focus, and Enter still
  // applies from there. (:focus-visible cannot tell: the Enter keydown itself turns it on.)
  var keyboardModality = false;
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Tab" || ev.key.indexOf("Arrow") === 0) keyboardModality = true;
  }, true);
  document.addEventListener("pointerdown", function () { keyboardModality = false; }, true);
  // A mouse or pen press that began off the picture, kept until it is lifted: a drag that
  // starts just outside the picture and sweeps in paints from the edge it entered by (QA:
  // parts touching the photo's edge invite exactly that move, and it painted nothing).
  var offPress = null;
  document.addEventListener("pointerdown", function (ev) {
    offPress = ev.target && ev.target.classList && ev.target.classList.contains("rt-canvas")
      ? null : { id: ev.pointerId, x: ev.clientX, y: ev.clientY, button: ev.button,
                 control: !!(ev.target && ev.target.closest &&
                             ev.target.closest("a, button, input, select, textarea, label, summary")) };
  }, true);
  document.addEventListener("pointerup", function () { offPress = null; }, true);
  document.addEventListener("pointercancel", function () { offPress = null; }, true);
  var EDGE_PX = 48;        // how far outside the picture a press may begin and still paint
  document.addEventListener("focusin", function (ev) {
    if (ev.target && ev.target.dataset) ev.target.dataset.rtKeyFocus = keyboardModality ? "1" : "";
  }, true);
  function activatedByEnter(el) {
    var control = el && el.closest && el.closest(
      "a[href], button, summary, [role=button], input[type=button], input[type=submit], " +
      "input[type=checkbox], input[type=radio], input[type=file], input[type=color]");
    return !!(control && control === el && keyboardModality && el.dataset.rtKeyFocus === "1");
  }

  // A touch screen's words: no Enter or Ctrl+Z there (the status line says what to tap).
  function touchFirst() {
    return !!(window.matchMedia && window.matchMedia("(pointer: coarse)").matches);
  }
  function undoWord() { return touchFirst() ? "Undo takes it back." : "Ctrl+Z undoes it."; }

  function Editor(form) {
    var self = this;
    this.form = form;
    this.fullW = parseInt(form.dataset.fullWidth, 10) || 1;
    this.fullH = parseInt(form.dataset.fullHeight, 10) || 1;
    this.canvas = form.querySelector(".rt-canvas");
    this.stage = form.querySelector(".rt-stage");
    this.view = form.querySelector(".rt-view") || this.stage;
    this.tools = form.querySelector(".rt-tools");
    this.foot = form.querySelector(".rt-foot");
    this.preview = form.querySelector(".rt-preview");
    this.photo = form.querySelector(".rt-photo");
    this.baseSrc = this.preview.getAttribute("src");
    this.input = form.querySelector("[data-rt-strokes]");
    this.status = form.querySelector("[data-rt-status]");
    this.size = form.querySelector("[data-rt-size]");
    this.sizeLabel = form.querySelector("[data-rt-size-label]");
    this.strokes = [];
    this.undone = [];
    this.tool = "keep";
    this.current = null;
    this.cursor = null;
    this.inflight = false;
    this.dirty = false;
    this.timer = null;
    this.seq = 0;
    this.objectUrl = null;
    this.warmed = false;
    this.applying = false;  // set once Apply sends the strokes: leaving is fine then
    this.showStrokes = true;
    this.zoom = 1;
    this.fit = 0;           // screen pixels per photo pixel at 1x (0: not laid out yet)
    this.pointers = {};     // touch / pen / mouse pointers down on the canvas, by id
    this.gesture = null;    // two fingers: pinch and pan, never paint
    this.alphas = {};       // preview alpha by stroke list, to tell a stroke that changed nothing
    this.previews = [];     // [{key, url}]: previews by stroke list, least recently used first
    this.shownKey = null;   // the stroke list whose preview shows (or is decoding to show)
    this.addedAt = -1;
    var scale = Math.min(1, PREVIEW_MAX / Math.max(this.fullW, this.fullH));
    this.canvas.width = Math.max(1, Math.round(this.fullW * scale));
    this.canvas.height = Math.max(1, Math.round(this.fullH * scale));
    this.scale = this.canvas.width / this.fullW;
    this.ctx = this.canvas.getContext("2d");
    this.more = form.querySelector("[data-rt-more]");
    this.asset = form.dataset.asset || "";
    this.alphaCanvas = form.querySelector(".rt-alpha");
    this.changeCanvas = form.querySelector(".rt-change");
    this.changeTimer = null;
    this.lastFlash = null;  // the last report's flash (ImageData), shown again by showChange
    this.previewText = "";
    this.faint = false;
    this.commentToggle = form.querySelector("[data-rt-comment]");
    this.comment = form.querySelector("input[name=comment]");

    this.canvas.addEventListener("pointerdown", function (ev) { self.down(ev); });
    this.canvas.addEventListener("pointermove", function (ev) { self.move(ev); });
    this.canvas.addEventListener("pointerup", function (ev) { self.up(ev); });
    this.canvas.addEventListener("pointercancel", function (ev) { self.cancel(ev); });
    // A finger lifted leaves its brush outline where it was (touch has no hover to show it).
    this.canvas.addEventListener("pointerleave", function (ev) {
      if (ev.pointerType !== "touch") { self.cursor = null; self.render(); }
    });
    this.view.addEventListener("wheel", function (ev) { self.wheel(ev); }, { passive: false });
    this.preview.addEventListener("load", function () { self.previewLoaded(); self.drawFaint(false); });
    // an answer whose picture does not decode says so (its words wait for the picture)
    this.preview.addEventListener("error", function () { self.previewFailed(); });
    this.canvas.addEventListener("pointerenter", function () { self.warm(); });
    this.canvas.addEventListener("contextmenu", function (ev) { ev.preventDefault(); });
    form.addEventListener("click", function (ev) {
      var t = ev.target.closest("[data-rt-tool],[data-rt-undo],[data-rt-redo],[data-rt-clear],[data-rt-overlay],[data-rt-zoom],[data-rt-more],[data-rt-faint],[data-rt-comment],[data-rt-discard]");
      // the form carries its own state in data-rt-* attributes (data-rt-faint once Faint was
      // used): a click anywhere inside it must not count as a click on that control
      if (!t || t === form || !form.contains(t)) return;
      if (t.hasAttribute("data-rt-more")) self.toggleMore();
      else if (t.hasAttribute("data-rt-faint")) self.setFaint(!self.faint);
      else if (t.hasAttribute("data-rt-comment")) self.toggleComment();
      else if (t.dataset.rtTool) {
        self.setTool(t.dataset.rtTool);
        // a tool picked in the phone's More panel (Subject): the panel lies over the picture
        // the tool is for, so it closes, as for a zoom (QA verify41: it stayed open over the
        // product to tap); the status line says what the tool does, as no bar button lights
        if (self.form.hasAttribute("data-rt-more-open") && self.more &&
            self.more.getClientRects().length) {
          self.toggleMore(false);
          if (t.dataset.rtTool === "subject") {
            self.say("Subject: tap the product once; the cutout keeps only the part joined to it and clears every other part.", "hint");
          }
        }
      }
      else if (t.hasAttribute("data-rt-overlay")) self.toggleStrokes();
      else if (t.dataset.rtZoom) {
        self.setZoom(parseFloat(t.dataset.rtZoom));
        // on a phone the More panel lies over the picture: the zoom chosen, it closes
        if (self.form.hasAttribute("data-rt-more-open")) self.toggleMore(false);
      }
      else if (t.hasAttribute("data-rt-undo")) self.undo();
      else if (t.hasAttribute("data-rt-redo")) self.redo();
      else if (t.hasAttribute("data-rt-clear")) self.clear();
      else if (t.hasAttribute("data-rt-discard")) self.discard();
    });
    form.addEventListener("input", function (ev) {
      if (ev.target === self.size) self.sizeChanged();
      if (ev.target === self.comment && self.commentToggle) {
        self.commentToggle.toggleAttribute("data-filled", !!self.comment.value.trim());
      }
    });
    form.addEventListener("change", function (ev) {
      if (ev.target.matches("[data-rt-photo]")) self.photo.classList.toggle("rt-hidden", !ev.target.checked);
    });
    form.addEventListener("submit", function (ev) {
      if (!self.strokes.length) { ev.preventDefault(); self.say("Paint at least one stroke or click first.", "error"); return; }
      self.sync();
      if (self.isNoop()) {
        // the preview of this very list is the version pixel for pixel: a new version would be
        // the same picture back in review (QA 2026-12-03); the worker refuses it too
        ev.preventDefault();
        self.say(self.noopWords() + " Paint where the cutout is wrong, or Clear.", "error");
        return;
      }
      self.applying = true;
      // still saved: forgotten only once the answer is the new version (see appliedAs below);
      // a logged-out Apply came back as the login page, and they were lost for good (QA
      // 2026-12-06 session37 H1)
      self.unrestored();
      self.unpause();
      self.form.dataset.rtPreview = "applying";
      self.toggleComment(false);
      self.say("Sending " + self.strokes.length + " stroke" + (self.strokes.length === 1 ? "" : "s") + "…");
    });
    // Apply refused (the retouch page answers 422 and swaps nothing): said here, the
    // strokes kept to fix and apply again.
    function refused(ev) {
      var xhr = ev.detail && ev.detail.xhr;
      self.applying = false;
      self.save();
      self.form.dataset.rtPreview = "error";
      // only a refusal (422) is plain words for the reviewer; a 403, a CSRF failure or a 500
      // answers with an HTML page, never shown as source text: the words request-failed.js
      // says on every other page instead (a page older than the login read "Apply failed
      // (HTTP 403)"). The strokes stay saved in this tab, so a reload brings them back.
      var status = xhr && xhr.status;
      var text = status === 422 && xhr.responseText ? xhr.responseText
        : "Apply failed: " + window.cutroomRequest.why(xhr) + ". " +
          (!status || status === 429 ? "Try again (your strokes are kept)."
            : "Reload the page and try again (your strokes are kept).");
      self.say(text, "error");
    }
    form.addEventListener("htmx:responseError", refused);
    form.addEventListener("htmx:sendError", refused);
    form.dataset.rtReady = "1";
    form._rtEditor = this;
    editors.push(this);
    try {  // the brush size the reviewer last used, from card to card
      var saved = parseInt(localStorage.getItem("cutroom.retouch.size"), 10);
      if (saved) this.size.value = String(saved);
    } catch (e) { /* private mode: the default */ }
    this.sizeChanged(true);
    this.updateButtons();
    this.layout();
    this.status.addEventListener("click", function (ev) { self.tapSaid(ev); });
    this.fitSaid();  // the template's first words, cut on a narrow phone
    if (this.preview.complete) this.previewLoaded();
    // Shown (the card's Retouch view), the window or the column resized: fit the picture
    // again; shown on the card, the whole editor comes into view.
    this.shownWidth = this.form.clientWidth;
    this.footHeight = this.foot.offsetHeight;
    if (window.ResizeObserver) {
      var observer = new ResizeObserver(function () {
        var was = self.shownWidth, footWas = self.footHeight;
        self.shownWidth = self.form.clientWidth;
        self.footHeight = self.foot.offsetHeight;
        self.layout();  // the same sizes again change nothing: no loop
        self.fitSaid();  // the status line's words cut at the new width, or no longer
        if (was && self.footHeight > footWas) self.clearPicture(self.footHeight - footWas);
        if (!was && self.shownWidth) self.intoView();
      });
      [this.form, this.tools, this.foot].forEach(function (el) { observer.observe(el); });
    }
    window.addEventListener("resize", function () { self.layout(); });
    if (this.visible()) this.warm();
    // The retouch page opened at its top: scrolled just enough that the sticky Apply row
    // rests below the picture instead of over its bottom (a reload keeps its own position).
    // Arrived from Apply on the retouch page: the new version at the zoom and scroll the
    // reviewer left, ready for the next touch.
    // A refused PNG upload (the page comes back with 422): its words beside the upload form,
    // in view and focused, not the editor scrolled over them (QA 2026-12-06).
    var c = carry, refused = document.querySelector("[data-rt-upload-error]");
    if (refused && !this.form.closest(".rv-stage-retouch")) {
      refused.scrollIntoView({ block: "center" });
      refused.focus({ preventScroll: true });
    } else if (c && c.asset === this.asset && !this.form.closest(".rv-stage-retouch")) this.restore(c);
    else if (this.visible() && !window.scrollY && !this.form.closest(".rv-stage-retouch")) this.reveal();
    this.restoreSaved();
  }

  /* The tab's saved strokes (see SAVED). */
  Editor.prototype.savedKey = function () {
    var f = this.form.dataset;
    return SAVED + (f.rtOwner || "") + ":" + this.asset + ":" + (f.cutout || "");
  };
  // False when this tab cannot keep them (storage off or full): leaving then asks the browser.
  Editor.prototype.save = function () {
    if (this.applying || this.gone) return;
    // Discarded strokes stay redoable on the page, but a reload does not bring them back
    if (this.strokes.length) this.discarded = false;
    try {
      if (this.strokes.length || (this.undone.length && !this.discarded)) {
        // the brush in hand too: restored strokes with the Keep brush picked up again turned
        // the next click after a reload into a keep where a remove was meant (QA 2026-12-06)
        sessionStorage.setItem(this.savedKey(), JSON.stringify({
          version: this.form.dataset.version, working: this.form.dataset.rtWorking || "",
          strokes: this.strokes, tool: this.tool, undone: this.undone, view: this.place() }));
      } else {
        sessionStorage.removeItem(this.savedKey());
      }
      this.saved = true;
    } catch (e) {
      this.saved = false;
      // Full: an older, shorter list must not come back after a reload as if it were all
      // (QA 2026-12-06 qa35c B1); removing frees space, so it works where setItem failed.
      this.forget();
    }
  };
  // The zoom and the photo point at the view's centre (fractions of the picture), so the pan
  // fits the same spot after a reload with another window size.
  Editor.prototype.place = function () {
    var v = this.view;
    return { zoom: this.zoom,
             fx: v.scrollWidth ? (v.scrollLeft + v.clientWidth / 2) / v.scrollWidth : 0.5,
             fy: v.scrollHeight ? (v.scrollTop + v.clientHeight / 2) / v.scrollHeight : 0.5 };
  };
  Editor.prototype.forget = function () {
    try { sessionStorage.removeItem(this.savedKey()); } catch (e) { /* nothing kept */ }
  };
  /* Opened with strokes this tab saved for this very version: they come back, previewed, with
     a line that says so and a Discard button. Saved for an older version of this photo (a
     re-run or a retouch made a newer one since), or measured in another working copy: they
     fit no longer, are dropped, and the status says how many went. A newer version's stay
     ("Back to v1" does not drop v2's). */
  Editor.prototype.restoreSaved = function () {
    var mine = null, dropped = [], self = this;
    var prefix = SAVED + (this.form.dataset.rtOwner || "") + ":" + this.asset + ":";
    var version = parseInt(this.form.dataset.version, 10) || 0;
    try {
      var keys = [];
      for (var i = 0; i < sessionStorage.length; i++) {
        var k = sessionStorage.key(i);
        if (k && k.indexOf(prefix) === 0) keys.push(k);
      }
      keys.forEach(function (k) {
        var entry = null;
        try { entry = JSON.parse(sessionStorage.getItem(k)); } catch (e) { entry = null; }
        var own = k === self.savedKey();
        var undone = entry && Array.isArray(entry.undone) ? entry.undone : [];
        var strokes = entry && Array.isArray(entry.strokes) ? entry.strokes : [];
        var fits = entry && String(entry.version) === self.form.dataset.version &&
          entry.working === (self.form.dataset.rtWorking || "") &&
          (strokes.length || undone.length) &&
          (!strokes.length || self.validStrokes(strokes)) &&
          (!undone.length || self.validStrokes(undone));
        if (own && fits) { mine = entry; return; }
        if (!own && entry && (parseInt(entry.version, 10) || 0) >= version) return;
        sessionStorage.removeItem(k);
        if (entry && entry.strokes && entry.strokes.length) dropped.push(entry);
      });
    } catch (e) { return; }  // storage off: nothing was saved
    this.form.dataset.rtRestoredStrokes = mine ? String(mine.strokes.length) : "0";
    if (dropped.length) {
      var lost = 0, from = [], here = "v" + this.form.dataset.version;
      dropped.forEach(function (d) {
        lost += d.strokes.length;
        if (from.indexOf("v" + d.version) < 0) from.push("v" + d.version);
      });
      this.form.dataset.rtDropped = String(lost);
      this.say(strokeCount(lost) + " painted on " + from.join(", ") + " and not applied " +
               (lost === 1 ? "was" : "were") + " dropped: " +
               (String(from) === here ? "the photo's working copy changed since." :
                "this is " + here + ", and strokes fit only the version they were painted on."), "hint");
      this.show();
    }
    if (!mine) return;
    this.strokes = mine.strokes;
    if (COLOURS[mine.tool]) this.setTool(mine.tool);
    this.undone = mine.undone || [];
    this.addedAt = -1;
    this.changed();
    if (!this.strokes.length) { this.zoomBack(mine.view); return; }  // only redoable ones
    this.restoredKey = JSON.stringify(this.strokes);
    var line = this.restoredLine = document.createElement("p");
    line.className = "rt-restored";
    line.setAttribute("role", "status");
    line.setAttribute("data-rt-restored-line", "");
    var words = document.createElement("span");
    words.setAttribute("data-rt-restored-words", "");
    words.textContent = "Restored " + strokeCount(this.strokes.length).replace(" ", " unapplied ") +
      (opened === "reload" && firstLoad ? " from before the reload" :
       " painted on v" + this.form.dataset.version + " earlier in this tab") + " — Apply or Discard";
    line.appendChild(words);
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "btn";
    discard.setAttribute("data-rt-discard", "");
    discard.textContent = "Discard";
    line.appendChild(discard);
    this.foot.insertBefore(line, this.status.nextSibling);
    this.show();
    this.zoomBack(mine.view);
  };
  Editor.prototype.zoomBack = function (at) {
    if (!at || !(at.zoom > 1.001)) return;
    this.setZoom(at.zoom);
    keepPlace(this.view, null, at);
  };
  // On the card the Retouch view is a visit, closed on arrival: restored (or dropped) strokes
  // open it, so what happened to them is in sight.
  Editor.prototype.show = function () {
    if (this.visible()) return;
    var card = this.form.closest(".rv-card"), open = card && card.querySelector('[data-rv-mode="retouch"]');
    if (open) open.click();
  };
  Editor.prototype.validStrokes = function (list) {
    var w = this.fullW, h = this.fullH;
    return Array.isArray(list) && list.length > 0 && list.every(function (s) {
      return s && COLOURS[s.kind] && typeof s.radius === "number" && s.radius > 0 &&
        Array.isArray(s.points) && s.points.length > 0 && s.points.every(function (p) {
          return Array.isArray(p) && p.length === 2 && p[0] >= 0 && p[0] <= w && p[1] >= 0 && p[1] <= h;
        });
    });
  };
  // The restored line goes once the list is no longer what was restored (edited, applied).
  Editor.prototype.unrestored = function () {
    if (this.restoredLine && this.restoredLine.parentNode) this.restoredLine.parentNode.removeChild(this.restoredLine);
    this.restoredLine = null;
    this.restoredKey = null;
  };
  Editor.prototype.discard = function () {
    var n = this.strokes.length;
    this.unrestored();
    this.clear();
    this.discarded = true;
    this.save();
    this.say("Discarded " + n + " restored stroke" + (n === 1 ? "" : "s") +
             "; v" + this.form.dataset.version + " shows as it is (Redo brings them back).");
  };

  Editor.prototype.restore = function (c) {
    carry = null;
    this.setTool(c.tool);
    var photo = this.form.querySelector("[data-rt-photo]");
    if (photo && !c.photo) { photo.checked = false; this.photo.classList.add("rt-hidden"); }
    if (!c.showStrokes) this.toggleStrokes();
    if (c.faint) this.setFaint(true);
    if (c.zoom > 1.001) this.setZoom(c.zoom);
    keepPlace(this.view, this.form, c);
    this.form.dataset.rtRestored = "1";
    // "Back to v1" opens v1's editor; v2 is not discarded by it (QA 2026-12-03: "undoes it")
    var back = this.form.querySelector("[data-rt-parent-link]"), v = this.form.dataset.version;
    this.say("Version " + v + " is ready (applied at full size): paint the next fix" +
             (back ? "; " + back.textContent.trim() + " retouches v" + back.dataset.rtParentVersion +
                     " again (v" + v + " stays in review until you choose or approve one)." : "."), "hint");
  };

  /* The picture as large as the column and the screen allow (a 640 px photo on a tablet is
     scaled up too), below the sticky tools and above the sticky Apply row; zoomed, the same
     box scrolls over the larger picture. The canvas box is the photo box at every zoom, so
     point() maps the pointer right without knowing the zoom. */
  Editor.prototype.layout = function () {
    var width = this.form.clientWidth;
    if (!width) return;  // hidden: the observer lays it out when it shows
    var gap = parseFloat(getComputedStyle(this.form).rowGap) || 0;
    var height = window.innerHeight - this.tools.offsetHeight - this.foot.offsetHeight - 2 * gap - 8 -
      this.belowRoom();
    height = Math.max(160, height);
    var fit = Math.min(width / this.fullW, height / this.fullH);
    if (this.view === this.stage) return;
    this.fit = fit;
    this.form.dataset.rtFit = "1";
    this.view.style.width = Math.floor(this.fullW * fit) + "px";
    this.view.style.height = Math.floor(this.fullH * fit) + "px";
    this.sizeStage();
  };
  Editor.prototype.sizeStage = function () {
    this.stage.style.width = Math.floor(this.fullW * this.fit * this.zoom) + "px";
    this.stage.style.height = Math.floor(this.fullH * this.fit * this.zoom) + "px";
    this.sizeCanvas();
  };
  /* The canvas's backing store: one pixel per device pixel of the stage as shown (fit x zoom
     x devicePixelRatio), up to CANVAS_MAX on the long side. Strokes are vectors in photo
     pixels, so they are simply drawn again at the new scale. */
  Editor.prototype.sizeCanvas = function () {
    if (!this.fit) return;
    var k = Math.min(this.fit * this.zoom * (window.devicePixelRatio || 1),
                     CANVAS_MAX / Math.max(this.fullW, this.fullH));
    var w = Math.max(1, Math.min(CANVAS_MAX, Math.round(this.fullW * k)));
    var h = Math.max(1, Math.min(CANVAS_MAX, Math.round(this.fullH * k)));
    if (w === this.canvas.width && h === this.canvas.height) return;
    this.canvas.width = w;  // resets (clears) the canvas: render() draws it again
    this.canvas.height = h;
    this.scale = w / this.fullW;
    this.render();
  };
  /* On the card, the decision bar below the Retouch view (in place there, not stuck: review.css)
     shows whole under the fitted editor (QA 2026-12-04, 1366 x 900: only its top 18 px did).
     The room is what lies between the editor and the bar's bottom edge, the shortcuts list
     counted closed: opening it does not shrink the picture. */
  Editor.prototype.decisionBar = function () {
    var card = this.form.closest(".rv-stage-retouch") && this.form.closest(".rv-card");
    var bar = card && card.querySelector(".rv-actions");
    return bar && bar.offsetParent ? bar : null;
  };
  Editor.prototype.belowRoom = function () {
    var bar = this.decisionBar();
    if (!bar) return 0;
    var room = bar.getBoundingClientRect().bottom - this.form.getBoundingClientRect().bottom +
      (parseFloat(getComputedStyle(bar).marginBottom) || 0);
    var keys = this.form.parentNode.querySelector(".rt-keys[open]");
    var summary = keys && keys.querySelector("summary");
    if (summary) room -= keys.offsetHeight - summary.offsetHeight;
    return Math.max(0, Math.ceil(room));
  };
  Editor.prototype.intoView = function () {
    var r = this.form.getBoundingClientRect(), bar = this.decisionBar();
    var bottom = bar ? bar.getBoundingClientRect().bottom : r.bottom;
    if (r.top < 0 || bottom > window.innerHeight) window.scrollBy(0, r.top - 4);
  };
  /* The least scroll that shows the whole editor: layout() made it no taller than the
     window, so its top never goes under the sticky tools. */
  Editor.prototype.reveal = function () {
    var r = this.form.getBoundingClientRect(), below = r.bottom - window.innerHeight + 4;
    if (below > 0) window.scrollBy(0, Math.min(Math.max(0, r.top), below));
  };

  /* The Apply row grew by ``grew`` px (on a phone a report's "show change" and "more" go on a
     row below its words: 52 -> 83 px) and, stuck to the bottom of the screen, now lies over the
     bottom of a picture it rested below: the window scrolls by as much, as far as the tools stay
     in sight (ui44, 2026-12-07: at 360 and 390 px it covered the picture's lowest 17 px until
     the next message). A picture fitted to the height was made smaller by layout() instead,
     and one already under the row (scrolled up by the reviewer) stays as it was. */
  Editor.prototype.clearPicture = function (grew) {
    var over = this.view.getBoundingClientRect().bottom - this.foot.getBoundingClientRect().top;
    if (over <= 0 || over > grew + 1) return;
    this.reveal();
  };

  /* Phones: the bar shows the brushes, undo / redo and the size; "More" opens the rest as a
     panel over the picture (the bar keeps its height, so the picture does not jump). */
  Editor.prototype.toggleMore = function (open) {
    if (!this.more) return;
    if (open === undefined) open = this.more.getAttribute("aria-expanded") !== "true";
    this.more.setAttribute("aria-expanded", String(open));
    this.form.toggleAttribute("data-rt-more-open", open);
  };
  /* Esc with "More" open (phones) closes it, and only it, the focus back on its button, as
     for the status line's "more" (closeWhy); false when it was not open. */
  Editor.prototype.closeMore = function () {
    if (!this.more || !this.form.hasAttribute("data-rt-more-open") ||
      !this.more.getClientRects().length) return false;  // wider than a phone: no panel
    this.toggleMore(false);
    this.more.focus();
    return true;
  };

  /* Zoom z (1 = fit). The photo point under the screen point (ax, ay) ends under (toX, toY):
     the pointer for Ctrl+wheel and Z, the fingers' midpoint for a pinch (which pans too). */
  Editor.prototype.setZoom = function (z, ax, ay, toX, toY) {
    if (!this.fit) return;
    z = Math.min(ZOOM_MAX, Math.max(1, z));
    var v = this.view.getBoundingClientRect(), s = this.stage.getBoundingClientRect();
    if (ax === undefined) { ax = v.left + v.width / 2; ay = v.top + v.height / 2; }
    if (toX === undefined) { toX = ax; toY = ay; }
    var fx = s.width ? (ax - s.left) / s.width : 0.5, fy = s.height ? (ay - s.top) / s.height : 0.5;
    this.zoom = z;
    this.sizeStage();
    this.view.scrollLeft = fx * this.fullW * this.fit * z - (toX - v.left);
    this.view.scrollTop = fy * this.fullH * this.fit * z - (toY - v.top);
    this.form.dataset.rtZoom = String(Math.round(z * 100) / 100);
    Array.prototype.forEach.call(this.form.querySelectorAll("[data-rt-zoom]"), function (b) {
      b.setAttribute("aria-pressed", String(Math.abs(parseFloat(b.dataset.rtZoom) - z) < 0.01));
    });
    var label = this.form.querySelector("[data-rt-zoom-label]");
    if (label) {
      label.textContent = (Math.round(z * 10) / 10) + "×";
      // on a step the lit button says it; the label took a row of its own at 1366 px (QA)
      label.hidden = ZOOMS.some(function (step) { return Math.abs(step - z) < 0.01; });
    }
    this.render();
  };
  Editor.prototype.cycleZoom = function () {
    var z = this.zoom, next = 1;
    for (var i = 0; i < ZOOMS.length; i++) if (ZOOMS[i] > z + 0.01) { next = ZOOMS[i]; break; }
    var c = this.cursor;
    if (c) this.setZoom(next, c.x, c.y); else this.setZoom(next);
  };
  Editor.prototype.wheel = function (ev) {
    // Ctrl+wheel (and a touchpad pinch, which Chromium sends as one) zooms at the pointer;
    // the plain wheel scrolls the zoomed picture, then the page.
    if (!ev.ctrlKey) return;
    ev.preventDefault();
    this.setZoom(this.zoom * (ev.deltaY < 0 ? 1.25 : 0.8), ev.clientX, ev.clientY);
  };

  /* Phones: the comment opens over the picture from a button, so the Apply row keeps one row. */
  Editor.prototype.toggleComment = function (open) {
    if (!this.commentToggle) return;
    if (open === undefined) open = this.commentToggle.getAttribute("aria-expanded") !== "true";
    this.commentToggle.setAttribute("aria-expanded", String(open));
    this.form.toggleAttribute("data-rt-comment-open", open);
    if (open && this.comment) this.comment.focus();
  };

  /* "Faint alpha" (H): haze far out in the background (alpha 10-127) is invisible under the
     hatching and faint grey without it. Every pixel the preview keeps below FAINT_SOLID is
     painted strongly in magenta over a dark stage (photo and hatching hidden), so what is left
     to remove stands out; the solid product shows as it is. Client-side, from the preview
     the editor already has. */
  Editor.prototype.setFaint = function (on) {
    // H twice is a glance at the haze: the last stroke's report comes back afterwards rather
    // than being lost to "hidden" (QA 2026-12-03)
    if (on && !this.faint) this.beforeFaint = { text: this.saidText, kind: this.statusKind, more: this.saidMore };
    var back = !on && this.faint ? this.beforeFaint : null;
    this.faint = on;
    this.form.dataset.rtFaint = on ? "1" : "0";
    var b = this.form.querySelector("[data-rt-faint]");
    if (b) b.setAttribute("aria-pressed", String(on));
    if (on) this.drawFaint(true);
    else if (back && back.text) this.say(back.text, back.kind, back.more);
    else this.say("Faint alpha hidden (H shows it).");
  };
  /* ``tell``: say what the layer shows (H pressed); redrawn for a new preview, the stroke's own
     report stays and the faint share is added to it (QA 2026-12-05: with H on, a remove click
     that changed nothing said nothing, its report replaced by the layer's). */
  Editor.prototype.drawFaint = function (tell) {
    if (!this.faint || !this.alphaCanvas) return;
    var data = null;
    try { data = this.alphaOf(); } catch (e) { data = null; }  // another origin's image
    if (!data && !this.objectUrl) data = this.alphas["[]"] || null;  // the warm-up's copy
    if (!data) {
      var self = this;
      if (!this.objectUrl && !this.faintWait) {  // the warm-up preview has not come yet
        this.faintWait = setTimeout(function () { self.faintWait = null; self.drawFaint(tell); }, 300);
      }
      return;
    }
    var c = this.alphaCanvas, a = data.a, n = 0;
    c.width = data.w; c.height = data.h;
    var x = c.getContext("2d"), img = x.createImageData(data.w, data.h), d = img.data;
    for (var i = 0, j = 0; i < a.length; i++, j += 4) {
      var v = a[i];
      if (!v || v >= FAINT_SOLID) continue;
      d[j] = FAINT_RGB[0]; d[j + 1] = FAINT_RGB[1]; d[j + 2] = FAINT_RGB[2];
      d[j + 3] = FAINT_MIN + Math.round((255 - FAINT_MIN) * Math.min(1, v / 128));
      n++;
    }
    x.putImageData(img, 0, 0);
    this.form.dataset.rtFaintPixels = String(n);
    var pct = n / a.length * 100, share = (pct < 0.1 && n ? "< 0.1" : Math.round(pct * 10) / 10) + " %";
    if (tell) {
      this.say("Faint alpha: magenta = kept but not solid (" + share + " of the picture). Remove what " +
               "is not the product's edge; H hides it.");
    } else {
      var said = (this.saidText || "").replace(/ Faint alpha now: [^.]*\.$/, "");
      this.beforeFaint = { text: said, kind: this.statusKind, more: this.saidMore };  // what H off gives back
      var now = " Faint alpha now: " + share + " of the picture.";
      if ((said + now).length <= STATUS_MAX) this.say(said + now, this.statusKind, this.saidMore);
      else this.say(said, this.statusKind, (now.trim() + " " + (this.saidMore || "")).trim());
    }
  };

  Editor.prototype.toggleStrokes = function () {
    this.showStrokes = !this.showStrokes;
    var b = this.form.querySelector("[data-rt-overlay]");
    if (b) b.setAttribute("aria-pressed", String(this.showStrokes));
    this.form.dataset.rtStrokesShown = this.showStrokes ? "1" : "0";
    this.say(this.showStrokes ? "Strokes shown (O hides them)." :
             "Strokes hidden: the preview shows the result; hatched = removed. O shows them.");
    this.render();
  };

  Editor.prototype.visible = function () { return this.form.offsetParent !== null; };

  /* ``text`` in the status line; ``more`` (a stroke's report: its why and the preview's
     line) behind a "more" button beside it, so the line shows what changed and what to do
     whole (QA 2026-12-06: a 469-508 character mesh report was cut at "…a Remove click on a
     hole m…", its "Ctrl+Z undoes it" only in the tooltip). The button stays in sight however
     the line is clamped (a phone's two short lines), and opens the whole text over the
     picture; the whole text stays the line's tooltip. */
  Editor.prototype.say = function (text, kind, more) {
    var st = this.status, self = this;
    this.statusKind = kind;
    this.saidText = text;
    this.saidMore = more || "";
    this.openWhy(false);
    st.textContent = "";
    var said = document.createElement("span");
    said.className = "rt-said";
    // the far words' "(show)" (retouch-words.js SHOW): a "show change" button beside the line
    // that flashes the last report's change again, outside the clamped text (on a phone the
    // two lines cut the words off before it, with no "more" to reach it: lows44); the words
    // themselves drop it, and without a flash to show there is no button
    var at = text.indexOf(SHOW);
    var words = at < 0 ? text : text.slice(0, at).replace(/ $/, "") + text.slice(at + SHOW.length);
    said.textContent = words;
    st.appendChild(said);
    // the line's buttons, one group: beside the words, or below them together where beside
    // them the words would be too narrow (review.css)
    var acts = document.createElement("span");
    acts.className = "rt-acts";
    st.appendChild(acts);
    if (at >= 0 && this.lastFlash) {
      var show = document.createElement("button");
      show.type = "button";
      show.className = "rt-show";
      show.setAttribute("data-rt-show", "");
      show.title = "Flash what the last stroke changed again" + (touchFirst() ? "" : " (C)");
      show.textContent = "show change";
      show.addEventListener("click", function () { self.showChange(); });
      acts.appendChild(show);
    }
    if (more) {
      var why = document.createElement("span");
      why.className = "rt-why-text";
      why.hidden = true;
      why.textContent = " " + more;
      said.appendChild(why);
      acts.appendChild(this.whyButton(why));
    }
    st.title = more ? words + " " + more : words;  // the line is clamped to keep its height
    st.classList.toggle("rt-error", kind === "error");
    st.classList.toggle("rt-hint", kind === "hint");
    this.cutWidth = -1;
    this.fitSaid();
  };
  /* "more" for words the line cuts (ui44, 2026-12-07; verify44 M3: at 360 px a report short
     enough to have no rest behind "more" showed "The last remove…" and no way to read on; the
     whole text was only in the tooltip, which a touch screen never shows). Measured when the
     words are said and when the foot's width changes (the window turned, the card's view
     shown), never removed for the button's own making the line wrap, so no resize loop. */
  Editor.prototype.fitSaid = function () {
    var st = this.status, said = st && st.querySelector(".rt-said");
    if (!said || st.classList.contains("rt-open")) return;
    var width = this.foot ? this.foot.clientWidth : 0;
    if (!width) return;  // hidden: measured once it shows
    var btn = st.querySelector("[data-rt-why]");
    if (btn && !btn.hasAttribute("data-rt-cut")) return;  // a rest behind "more" anyway
    if (btn && width === this.cutWidth) return;
    this.cutWidth = width;
    if (btn) btn.hidden = true;  // the line as it is without it
    var cut = said.scrollHeight > said.clientHeight + 1 || said.scrollWidth > said.clientWidth + 1;
    if (btn) { btn.hidden = !cut; return; }
    if (!cut) return;
    btn = this.whyButton(said);
    btn.setAttribute("data-rt-cut", "");
    var acts = st.querySelector(".rt-acts");
    if (!acts) {  // the page's own first words (the template's hint)
      acts = document.createElement("span");
      acts.className = "rt-acts";
      st.appendChild(acts);
    }
    acts.appendChild(btn);
  };
  /* A tap on the status line's words opens the whole report, as its "more" does (the words
     are cut on a phone, and a touch screen shows no tooltip); a link in them (log in again)
     stays a link, and words being selected (to copy them) stay as they are. Nothing to
     open: nothing happens. */
  Editor.prototype.tapSaid = function (ev) {
    var st = this.status, picked = window.getSelection && String(window.getSelection());
    if (!ev.target.closest(".rt-said") || ev.target.closest("a, button") || picked) return;
    var btn = st.querySelector("[data-rt-why]");
    if (btn && !btn.hidden) this.openWhy(!st.classList.contains("rt-open"));
  };
  /* The status line's "more": it opens ``what`` (the rest of the report, or the cut words)
     over the picture. */
  Editor.prototype.whyButton = function (what) {
    var self = this, btn = document.createElement("button");
    if (!what.id) what.id = (this.form.id || "rt") + "-why-" + (this.whyId = (this.whyId || 0) + 1);
    btn.type = "button";
    btn.className = "rt-why";
    btn.setAttribute("aria-expanded", "false");
    btn.setAttribute("aria-controls", what.id);
    btn.setAttribute("data-rt-why", "");
    btn.textContent = "more";
    btn.addEventListener("click", function () {
      self.openWhy(!self.status.classList.contains("rt-open"));
    });
    return btn;
  };
  /* The status line's "more" opened (the whole report over the picture, the Apply row kept at
     its height) or closed. */
  Editor.prototype.openWhy = function (open) {
    var st = this.status, why = st.querySelector(".rt-why-text"), btn = st.querySelector("[data-rt-why]");
    if (!btn || btn.hidden) open = false;
    if (open && this.foot) this.foot.style.minHeight = this.foot.offsetHeight + "px";
    else if (this.foot) this.foot.style.minHeight = "";
    if (why) why.hidden = !open;
    st.classList.toggle("rt-open", !!open);
    if (!btn) return;
    btn.setAttribute("aria-expanded", String(!!open));
    btn.textContent = open ? "less" : "more";
  };
  /* Esc with the status line's "more" open closes it, and only it (the Retouch view stays),
     the focus back on its button; false when it was not open. */
  Editor.prototype.closeWhy = function () {
    var btn = this.status.querySelector("[data-rt-why]");
    if (!btn || !this.status.classList.contains("rt-open")) return false;
    this.openWhy(false);
    btn.focus();
    return true;
  };

  /* Screen pixels <-> full-size photo pixels. */
  Editor.prototype.factor = function () {
    var r = this.canvas.getBoundingClientRect();
    return r.width ? this.fullW / r.width : 1;
  };
  Editor.prototype.point = function (ev) {
    var r = this.canvas.getBoundingClientRect();
    var x = (ev.clientX - r.left) * this.fullW / r.width;
    var y = (ev.clientY - r.top) * this.fullH / r.height;
    return [Math.round(Math.min(Math.max(x, 0), this.fullW) * 10) / 10,
            Math.round(Math.min(Math.max(y, 0), this.fullH) * 10) / 10];
  };
  Editor.prototype.radius = function () {
    var diameter = parseInt(this.size.value, 10) || 24;
    return Math.max(0.5, Math.round(diameter / 2 * this.factor() * 10) / 10);
  };

  Editor.prototype.setTool = function (tool) {
    if (!COLOURS[tool]) return;
    this.tool = tool;
    // kept with the saved strokes, so a reload picks the same brush up again (none saved
    // without strokes: nothing to come back to)
    if (this.strokes && this.strokes.length) this.save();
    this.stage.dataset.rtToolActive = tool;
    Array.prototype.forEach.call(this.form.querySelectorAll("[data-rt-tool]"), function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.rtTool === tool));
    });
    this.render();
  };
  Editor.prototype.resize = function (mult) {
    var min = parseInt(this.size.min, 10), max = parseInt(this.size.max, 10);
    var value = parseInt(this.size.value, 10) || 24;
    var next = Math.round(mult > 1 ? Math.max(value + 1, value * mult) : Math.min(value - 1, value * mult));
    this.size.value = String(Math.min(max, Math.max(min, next)));
    this.sizeChanged();
  };
  Editor.prototype.sizeChanged = function (quiet) {
    var self = this;
    if (this.sizeLabel) this.sizeLabel.textContent = this.size.value;
    try { localStorage.setItem("cutroom.retouch.size", this.size.value); } catch (e) { /* ignore */ }
    // No pointer over the picture (the slider, a finger): the outline shows at its middle
    // for a moment, so the size is seen before the first stroke.
    if (!quiet && !this.cursor) {
      this.sizeHint = true;
      clearTimeout(this.hintTimer);
      this.hintTimer = setTimeout(function () { self.sizeHint = false; self.render(); }, 1500);
    }
    this.render();
  };

  Editor.prototype.pointerCount = function () { return Object.keys(this.pointers).length; };
  Editor.prototype.down = function (ev) {
    if (ev.button !== 0 && ev.button !== 2) return;
    ev.preventDefault();
    if (this.form.hasAttribute("data-rt-more-open")) this.toggleMore(false);
    this.pointers[ev.pointerId] = { x: ev.clientX, y: ev.clientY };
    // A second finger is a pinch or a pan: the stroke the first one started is dropped and
    // neither paints until both are lifted.
    if (this.gesture || !ev.isPrimary || this.pointerCount() > 1) {
      if (this.current) this.current = null;
      this.startGesture();
      this.render();
      return;
    }
    this.cursor = { x: ev.clientX, y: ev.clientY };
    // The right button paints the opposite of keep/remove: clicks alternate without keys.
    // Detail and the subject click have no opposite, and a remove stroke from them would be
    // a surprise: nothing.
    if (ev.button === 2 && (this.tool === "detail" || this.tool === "subject")) {
      this.say(this.tool === "detail" ?
               "Nothing painted: the right button has no opposite for the detail brush. " +
               "Use the left button, or K / R for keep / remove." :
               "Nothing marked: the right button has no opposite for the subject click. " +
               "Click the product with the left button, or R to remove.", "hint");
      this.render();
      return;
    }
    this.begin(ev, ev.button);
  };
  Editor.prototype.begin = function (ev, button) {
    this.canvas.setPointerCapture(ev.pointerId);
    var p = this.point(ev);
    var kind = button === 2 ? (this.tool === "remove" ? "keep" : "remove") : this.tool;
    this.current = { kind: kind, radius: this.radius(), points: [p],
                     x: ev.clientX, y: ev.clientY, moved: false };
    this.render();
  };
  // A drag entering the picture whose press began just outside it (not on a control, the
  // left or right button, no touch: a finger's moves stay with the element it pressed).
  Editor.prototype.enteredDrag = function (ev) {
    var press = offPress;
    if (!press || press.id !== ev.pointerId || press.control || ev.pointerType === "touch") return false;
    if (press.button !== 0 && press.button !== 2) return false;
    if (press.button === 2 && (this.tool === "detail" || this.tool === "subject")) return false;
    var r = this.canvas.getBoundingClientRect();
    var dx = Math.max(r.left - press.x, 0, press.x - r.right);
    var dy = Math.max(r.top - press.y, 0, press.y - r.bottom);
    if (Math.max(dx, dy) > EDGE_PX) return false;
    offPress = null;
    if (this.form.hasAttribute("data-rt-more-open")) this.toggleMore(false);
    this.pointers[ev.pointerId] = { x: ev.clientX, y: ev.clientY };
    this.cursor = { x: ev.clientX, y: ev.clientY };
    // the stroke starts at the edge the press faces, so it reaches the picture's border
    this.begin({ pointerId: ev.pointerId, clientX: press.x, clientY: press.y }, press.button);
    this.current.moved = true;
    return true;
  };
  Editor.prototype.startGesture = function () {
    var ids = Object.keys(this.pointers);
    if (ids.length < 2) { this.gesture = { lone: true }; return; }
    var a = this.pointers[ids[0]], b = this.pointers[ids[1]];
    this.gesture = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2,
                     d: Math.max(1, Math.hypot(a.x - b.x, a.y - b.y)) };
  };
  Editor.prototype.cancel = function (ev) {
    delete this.pointers[ev.pointerId];
    this.current = null;
    if (!this.pointerCount()) this.gesture = null;
    this.render();
  };
  Editor.prototype.move = function (ev) {
    if (this.pointers[ev.pointerId]) this.pointers[ev.pointerId] = { x: ev.clientX, y: ev.clientY };
    else if (!this.current && !this.gesture && (ev.buttons & 3)) this.enteredDrag(ev);
    if (this.gesture) {
      var g = this.gesture;
      if (g.lone) { if (this.pointerCount() > 1) this.startGesture(); return; }
      var ids = Object.keys(this.pointers);
      if (ids.length < 2) return;
      var a = this.pointers[ids[0]], b = this.pointers[ids[1]];
      var x = (a.x + b.x) / 2, y = (a.y + b.y) / 2, d = Math.max(1, Math.hypot(a.x - b.x, a.y - b.y));
      this.setZoom(this.zoom * d / g.d, g.x, g.y, x, y);
      this.gesture = { x: x, y: y, d: d };
      return;
    }
    this.cursor = { x: ev.clientX, y: ev.clientY };
    var s = this.current;
    if (s) {
      if (Math.abs(ev.clientX - s.x) > CLICK_PX || Math.abs(ev.clientY - s.y) > CLICK_PX) s.moved = true;
      if (s.moved) {
        var p = this.point(ev), last = s.points[s.points.length - 1];
        // A point every third of a radius keeps the stroke smooth and the JSON small.
        if (Math.hypot(p[0] - last[0], p[1] - last[1]) >= Math.max(1, s.radius / 3)) s.points.push(p);
      }
    }
    this.render();
  };
  Editor.prototype.up = function (ev) {
    delete this.pointers[ev.pointerId];
    if (this.gesture) {
      if (!this.pointerCount()) this.gesture = null;
      return;
    }
    var s = this.current;
    if (!s) return;
    this.current = null;
    if (s.moved) {
      var p = this.point(ev), last = s.points[s.points.length - 1];
      if (p[0] !== last[0] || p[1] !== last[1]) s.points.push(p);
    } else {
      s.points = s.points.slice(0, 1);  // a click
    }
    if (s.kind === "subject") {
      // a click wherever the pointer went: it marks the spot it was pressed on
      s.points = s.points.slice(0, 1);
      var had = this.strokes.some(function (t) { return t.kind === "subject"; });
      if (had) {
        this.form.dataset.rtSubjectRefused = String(this.strokes.length);
        this.say("One subject click per Apply: this list has one already. " +
                 (touchFirst() ? "Undo" : "Ctrl+Z") + " back to it to choose another part, or Apply first.", "hint");
        this.render();
        return;
      }
    }
    this.strokes.push({ kind: s.kind, radius: s.radius, points: s.points });
    this.undone = [];
    this.addedAt = this.strokes.length;
    this.changed();
  };

  Editor.prototype.undo = function () {
    if (!this.strokes.length) return;
    this.addedAt = -1;
    this.undone.push(this.strokes.pop());
    this.changed();
  };
  Editor.prototype.redo = function () {
    if (!this.undone.length) return;
    this.addedAt = -1;
    this.strokes.push(this.undone.pop());
    this.changed();
  };
  Editor.prototype.clear = function () {
    if (!this.strokes.length) return;
    // Undoable: redo brings the strokes back one by one, in their order.
    while (this.strokes.length) this.undone.push(this.strokes.pop());
    this.changed();
  };

  Editor.prototype.sync = function () { this.input.value = JSON.stringify(this.strokes); };
  Editor.prototype.updateButtons = function () {
    var f = this.form;
    f.querySelector("[data-rt-undo]").disabled = !this.strokes.length;
    f.querySelector("[data-rt-redo]").disabled = !this.undone.length;
    f.querySelector("[data-rt-clear]").disabled = !this.strokes.length;
    var apply = f.querySelector("[data-rt-apply]"), noop = this.isNoop();
    apply.disabled = !this.strokes.length || noop;
    if (noop) apply.title = this.noopWords();
    else apply.removeAttribute("title");
    f.dataset.rtNoop = noop ? "1" : "";
    f.dataset.rtStrokes = String(this.strokes.length);
    if (!this.strokes.length) this.unpause();
  };
  /* A polling card waits while strokes are not applied (see htmx:confirm below): a small
     note says so, in the editor's sticky foot while it shows, else in the card's sticky
     decision bar, so the reviewer knows why the card does not update. */
  Editor.prototype.paused = function (card) {
    var note = this.pausedNote;
    if (!note) {
      note = this.pausedNote = document.createElement("p");
      note.className = "rt-paused";
      note.setAttribute("role", "status");
      note.setAttribute("data-rt-paused", "");
      note.textContent = "Updates paused while you have unapplied strokes";
      note.title = "This card refreshes again once the strokes are applied (Enter) or cleared.";
    }
    var home = this.visible() ? this.foot :
      (card.querySelector(".rv-actions") || card.querySelector(".rv-head") || card);
    if (note.parentNode === home) return;
    if (home === this.foot) home.insertBefore(note, this.status.nextSibling);
    else home.appendChild(note);
  };
  Editor.prototype.unpause = function () {
    if (this.pausedNote && this.pausedNote.parentNode) this.pausedNote.parentNode.removeChild(this.pausedNote);
  };
  Editor.prototype.changed = function () {
    if (this.restoredKey && this.restoredKey !== JSON.stringify(this.strokes)) this.unrestored();
    this.save();
    this.sync();
    this.updateButtons();
    this.render();
    this.requestPreview();
  };

  Editor.prototype.render = function () {
    var ctx = this.ctx, k = this.scale;
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    // Hidden (O), only the stroke being painted shows: the preview under it is the result.
    var all = this.showStrokes ? this.strokes : [];
    if (this.current) all = all.concat([this.current]);
    var px = this.canvas.getBoundingClientRect().width ? this.canvas.width / this.canvas.getBoundingClientRect().width : 1;
    all.forEach(function (s) {
      ctx.strokeStyle = ctx.fillStyle = COLOURS[s.kind];
      var r = Math.max(0.5, s.radius * k);
      if (s.kind === "subject") { target(ctx, s.points[0][0] * k, s.points[0][1] * k, r, px); return; }
      if (s.points.length === 1) {
        ctx.beginPath();
        ctx.arc(s.points[0][0] * k, s.points[0][1] * k, r, 0, 2 * Math.PI);
        ctx.fill();
        return;
      }
      ctx.lineWidth = 2 * r; ctx.lineCap = "round"; ctx.lineJoin = "round";
      ctx.beginPath();
      ctx.moveTo(s.points[0][0] * k, s.points[0][1] * k);
      for (var i = 1; i < s.points.length; i++) ctx.lineTo(s.points[i][0] * k, s.points[i][1] * k);
      ctx.stroke();
    });
    if ((this.cursor || this.sizeHint) && !this.gesture) {  // the brush outline, at its real size
      var rect = this.canvas.getBoundingClientRect();
      var cx = this.canvas.width / 2, cy = this.canvas.height / 2;
      if (this.cursor) {
        cx = (this.cursor.x - rect.left) * this.canvas.width / rect.width;
        cy = (this.cursor.y - rect.top) * this.canvas.height / rect.height;
      }
      ctx.lineWidth = 1.5 * (rect.width ? this.canvas.width / rect.width : 1);  // 1.5 CSS px
      ctx.strokeStyle = COLOURS[this.tool].replace(/[\d.]+\)$/, "1)");
      ctx.beginPath(); ctx.arc(cx, cy, Math.max(1, this.radius() * k), 0, 2 * Math.PI); ctx.stroke();
      if (this.tool === "subject") target(ctx, cx, cy, this.radius() * k, px, true);
    }
  };
  /* A subject click's mark: a ring at its brush (SUBJECT_MARK screen px at the least) and a
     cross through its point, outlined dark so it shows on any photo; ``cursor``: only the
     cross (the brush outline is drawn already). ``px``: canvas px per screen px. */
  function target(ctx, x, y, r, px, cursor) {
    var ring = Math.max(r, SUBJECT_MARK * px), arm = ring + 4 * px;
    ctx.save();
    [["rgba(0, 0, 0, 0.7)", 3.5], [COLOURS.subject.replace(/[\d.]+\)$/, "1)"), 1.5]].forEach(function (pen) {
      ctx.strokeStyle = pen[0];
      ctx.lineWidth = pen[1] * px;
      ctx.beginPath();
      if (!cursor) ctx.arc(x, y, ring, 0, 2 * Math.PI);
      ctx.moveTo(x - arm, y); ctx.lineTo(x - ring / 3, y);
      ctx.moveTo(x + ring / 3, y); ctx.lineTo(x + arm, y);
      ctx.moveTo(x, y - arm); ctx.lineTo(x, y - ring / 3);
      ctx.moveTo(x, y + ring / 3); ctx.lineTo(x, y + arm);
      ctx.stroke();
    });
    if (!cursor) {
      ctx.fillStyle = COLOURS.subject;
      ctx.beginPath(); ctx.arc(x, y, 2.5 * px, 0, 2 * Math.PI); ctx.fill();
    }
    ctx.restore();
  }

  Editor.prototype.csrf = function () {
    var input = this.form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  };
  Editor.prototype.post = function (strokes) {
    return fetch(this.form.dataset.previewUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": this.csrf() },
      body: JSON.stringify({ strokes: strokes }),
    });
  };
  /* The first preview of a version builds its downscaled copy on the server; do it while
     the reviewer is still aiming, not after the first stroke. */
  Editor.prototype.warm = function () {
    if (this.warmed) return;
    this.warmed = true;
    var self = this;
    this.post([]).then(function (response) {
      if (!response.ok || (self.alphas["[]"] && self.alphas["[]"].exact) || !window.createImageBitmap) return null;
      // The version's own alpha for the "nothing changed" hint: the page's image may come
      // from another origin (S3), whose pixels a canvas may not read; this answer is ours.
      // It wins over the page's image: it is the very picture the stroke previews start from
      // (the page's is the card's copy), so "these strokes change nothing" is exact.
      return response.blob().then(createImageBitmap).then(function (bitmap) {
        var own = self.alphaOf(bitmap);
        if (!own) return;
        own.exact = true;
        own.n = 0;
        own.told = true;
        self.alphas["[]"] = own;
        self.judgeNoop();
      });
    }).catch(function () { /* the real preview will report */ });
  };

  /* One preview request at a time: strokes drawn while one is computing wait for it (an
     aborted fetch would not stop the server's work, only double it), then the newest list
     goes. A short pause first lets a burst of clicks or undos become one request. */
  Editor.prototype.requestPreview = function () {
    var self = this;
    this.seq++;
    clearTimeout(this.timer);
    // the last flash told what the previous list changed: after an undo it would show a
    // change no longer there (QA 2026-12-05: an undone keep click's green stayed)
    clearTimeout(this.changeTimer);
    this.form.dataset.rtChange = "";
    this.forgetFlash();
    if (!this.strokes.length) {
      this.loading = null;
      this.shownKey = "[]";
      this.showImage(this.baseSrc, null);
      this.form.dataset.rtPreview = "idle";
      this.say("No strokes: showing the version as it is.");
      return;
    }
    var hit = this.cachedPreview(JSON.stringify(this.strokes));
    if (hit) { this.showCached(hit); return; }
    this.form.dataset.rtPreview = "loading";
    this.say("Preview of " + this.describe() + "…");
    this.timer = setTimeout(function () { self.sendPreview(); }, DEBOUNCE_MS);
  };
  Editor.prototype.sendPreview = function () {
    var self = this, form = this.form;
    if (this.inflight) { this.dirty = true; return; }
    var seq = this.seq, strokes = this.strokes.slice(), started = performance.now();
    if (!strokes.length) return;
    var key = JSON.stringify(strokes), hit = this.cachedPreview(key);
    if (hit) {  // came meanwhile (a request for this list made before an undo and a redo)
      if (this.shownKey !== key) this.showCached(hit);
      return;
    }
    this.inflight = true;
    this.dirty = false;
    function settle() {
      self.inflight = false;
      if (self.dirty) self.sendPreview();
    }
    this.post(strokes).then(function (response) {
      if (window.cutroomSession && window.cutroomSession.loggedOut(response)) {
        var out = new Error("logged out");
        out.loggedOut = true;
        throw out;
      }
      if (!response.ok) {
        return response.json().catch(function () { return { error: "The preview failed (" + response.status + ")." }; })
          .then(function (body) { throw new Error(body.error || "The preview failed."); });
      }
      var server = response.headers.get("X-Retouch-Ms");
      var mesh = response.headers.get("X-Retouch-Mesh") === "1";  // the last stroke: detail over a mesh
      var far = response.headers.get("X-Retouch-Far-Keep") || "";  // the last: a keep click far off
      var subject = response.headers.get("X-Retouch-Subject") || "";  // the last: a subject click
      // the last: a keep (remove) click that gave back what earlier painted remove (keep)
      // strokes took (added) beyond their brushes, "remove:N" (the engine's count, N px)
      var given = response.headers.get("X-Retouch-Given-Back") || "";
      return response.blob().then(function (blob) {
        // kept whatever the list is now: a redo back to it shows it without asking again
        var entry = self.storePreview(key, blob);
        // the strokes changed meanwhile: this list's picture is not what the page is about
        if (key !== JSON.stringify(self.strokes) || self.shownKey === key) return;
        var total = Math.round(performance.now() - started);
        // said by previewLoaded with the stroke's report, once the picture is in: said here,
        // "Preview: 2 remove clicks · 781 ms. Enter applies." stood alone until the picture
        // had decoded and been compared (QA 2026-12-05 M1: read as no report at all)
        self.loading = { strokes: strokes, key: key, url: entry.url, mesh: mesh, far: far,
                         subject: subject, given: given, ms: total,
                         text: "Preview: " + self.describe() + " · " + total + " ms" +
                               (server ? " (server " + server + " ms)" : "") + ". " +
                               (touchFirst() ? "Apply saves it." : "Enter applies.") };
        self.shownKey = key;
        self.showImage(entry.url, true);
      });
    }).catch(function (err) {
      if (seq !== self.seq || key !== JSON.stringify(self.strokes)) return;
      form.dataset.rtPreview = "error";
      if (err && err.loggedOut) { self.sayLoggedOut(); return; }
      self.say((err && err.message) || "The preview failed.", "error");
    }).then(settle, settle);
  };
  /* The preview was answered by the login page (the session ended): not "did not decode"
     (QA 2026-12-06 session37 M2). The strokes stay saved: they come back after the login. */
  Editor.prototype.sayLoggedOut = function () {
    this.form.dataset.rtLoggedOut = "1";
    this.say("You are logged out: log in again (your strokes are kept in this tab).", "error");
    window.cutroomSession.linkLogin(this.status.querySelector(".rt-said") || this.status,
                                   "log in again");
  };
  /* This page's preview of stroke list ``key`` (its JSON), marked as just used; or null. */
  Editor.prototype.cachedPreview = function (key) {
    var list = this.previews;
    for (var i = 0; i < list.length; i++) {
      if (list[i].key !== key) continue;
      var entry = list.splice(i, 1)[0];
      list.push(entry);
      return entry;
    }
    return null;
  };
  Editor.prototype.storePreview = function (key, blob) {
    var entry = this.cachedPreview(key);
    if (entry) return entry;  // the same list asked twice: the first answer is the same picture
    entry = { key: key, url: URL.createObjectURL(blob) };
    var list = this.previews;
    list.push(entry);
    // the least recently used go first; never the one on screen or decoding to show
    for (var i = 0; list.length > PREVIEWS_KEEP && i < list.length - 1;) {
      var url = list[i].url;
      if (url === this.objectUrl || url === this.pendingUrl) { i++; continue; }
      URL.revokeObjectURL(url);
      list.splice(i, 1);
    }
    return entry;
  };
  /* A list this page has the preview of: shown at once, as a fresh answer would be (the
     alpha bookkeeping, "nothing to apply", Faint run from its load), without a request; an
     undo or redo reports no change, as before, and the flash was ended by requestPreview. */
  Editor.prototype.showCached = function (entry) {
    clearTimeout(this.timer);
    this.loading = { strokes: this.strokes.slice(), key: entry.key, url: entry.url };
    this.shownKey = entry.key;
    this.showImage(entry.url, true);
    this.form.dataset.rtPreview = "ready";
    this.form.dataset.rtPreviewCount = String(this.strokes.length);
    this.form.dataset.rtPreviewCached = String((parseInt(this.form.dataset.rtPreviewCached, 10) || 0) + 1);
    this.previewText = "Preview: " + this.describe() + " · shown again at once (no new request). " +
                       (touchFirst() ? "Apply saves it." : "Enter applies.");
    this.say(this.previewText);
  };
  Editor.prototype.describe = function () {
    var counts = {};
    this.strokes.forEach(function (s) {
      var what = NAMES[s.kind].toLowerCase() + (s.points.length === 1 ? " click" : " stroke");
      counts[what] = (counts[what] || 0) + 1;
    });
    return Object.keys(counts).map(function (w) { return counts[w] + " " + w + (counts[w] === 1 ? "" : "s"); }).join(", ");
  };
  /* A stroke whose preview is the one before it, pixel for pixel, says so: a remove click
     on what is already gone (or on a patch too like the product) otherwise looks ignored. */
  Editor.prototype.alphaOf = function (source) {
    var img = source || this.preview;
    var w = img.naturalWidth || img.width, h = img.naturalHeight || img.height;
    if (!w || !h) return null;
    var c = this.scratch || (this.scratch = document.createElement("canvas"));
    c.width = w; c.height = h;
    var x = c.getContext("2d", { willReadFrequently: true });
    x.clearRect(0, 0, w, h);
    x.drawImage(img, 0, 0);
    var d = x.getImageData(0, 0, w, h).data, a = new Uint8Array(w * h);
    for (var i = 0; i < a.length; i++) a[i] = d[i * 4 + 3];
    // px: every channel, to tell "these strokes change nothing" exactly (a detail stroke may
    // change colours only); dropped once the preview is no longer the one shown
    return { w: w, h: h, a: a, px: d };
  };

  Editor.prototype.previewLoaded = function () {
    // the load of the job's own picture: the page's image may finish loading while the first
    // answer decodes, and its load must not take that answer's report with it
    var job = this.loading && this.loading.url === this.preview.getAttribute("src") ? this.loading : null;
    if (job) this.loading = null;
    var base = !job && !this.objectUrl;
    if (!job && !base) return;
    var now;
    if (base) {  // the page's own image: the warm-up's copy, when it comes, replaces it
      if (this.alphas["[]"]) return;
      try { now = this.alphaOf(); } catch (e) { return; }  // a tainted image: no hint
      if (!now) return;
      now.n = 0;
      now.told = true;
      this.alphas = { "[]": now };
      return;
    }
    // A server's answer (``text``) is ready only now, its words and the stroke's report said
    // in one go; a list that changed while it decoded leaves the status to the newer one.
    var current = job.key === JSON.stringify(this.strokes);
    if (job.text && current) {
      this.previewText = job.text;
      this.previewMs = job.ms;
      this.form.dataset.rtPreview = "ready";
      this.form.dataset.rtPreviewCount = String(job.strokes.length);
    }
    var told = false;
    try { told = this.compare(job); } finally {
      if (job.text && current && !told) this.say(job.text);
    }
  };
  Editor.prototype.previewFailed = function () {
    var job = this.loading;
    if (!job || job.url !== this.preview.getAttribute("src")) return;
    this.loading = null;
    if (job.key !== JSON.stringify(this.strokes)) return;
    this.form.dataset.rtPreview = "error";
    this.say("The preview could not be shown: its picture did not decode. Undo the stroke and " +
             "paint it again, or reload the page.", "error");
  };
  /* Bookkeeping of the preview of ``job`` now shown, and the report of the strokes it adds
     to the last list whose change was reported; true when a report was said. */
  Editor.prototype.compare = function (job) {
    var now, fresh = !this.alphas[job.key];
    if (fresh) {
      try { now = this.alphaOf(); } catch (e) { return false; }  // a tainted image: no report
      if (!now) return false;
      now.n = job.strokes.length;
      now.mesh = !!job.mesh;
      now.far = job.far || "";
      now.subject = job.subject || "";
      now.given = job.given || "";
    } else {
      now = this.alphas[job.key];
    }
    // the last list reported that this one grew from: the strokes since it are this report's
    var from = this.grewFrom(job.strokes, job.key);
    this.remember(job.key, now, job.strokes);
    this.judgeNoop();
    // only a new stroke (or a burst of them) reports; undo and redo only show
    if (!fresh || job.strokes.length !== this.addedAt || !from) {
      // ...and what they show is where the next stroke's report starts (verify44 L1: a redo
      // whose list had been dropped from ``alphas`` by the undo was no start, and the stroke
      // after it was reported with the redone one, "The last 2 remove strokes together")
      if (this.addedAt < 0 && job.key === JSON.stringify(this.strokes)) now.told = true;
      return false;
    }
    var before = from.alpha;
    if (before.w !== now.w || before.h !== now.h) return false;
    this.report(before, now, job.strokes.slice(from.n), job.strokes.length);
    // this list and every shorter one it grew from are told now
    var alphas = this.alphas;
    Object.keys(alphas).forEach(function (k) { if (alphas[k].n <= job.strokes.length) alphas[k].told = true; });
    return true;
  };

  /* The longest list whose preview was shown (and kept), and whose change was reported, that
     ``strokes`` begins with. A preview shown without its report (a stroke came while it
     decoded: QA 2026-12-05 M1) is no start: its strokes go into the next report. */
  Editor.prototype.grewFrom = function (strokes, key) {
    var best = null, alphas = this.alphas;
    Object.keys(alphas).forEach(function (k) {
      var e = alphas[k];
      if (k === key || e.n === undefined || !e.told || e.n >= strokes.length || (best && e.n <= best.n)) return;
      if (e.n === 0 ? k === "[]" : k === JSON.stringify(strokes.slice(0, e.n))) best = { n: e.n, alpha: e };
    });
    return best;
  };
  /* Keep the version's own preview, this one and the SHOWN_KEEP longest shown before it that
     it grew from; only the version's and this one keep every channel (3 MB each at 1024 px). */
  Editor.prototype.remember = function (key, now, strokes) {
    var alphas = this.alphas, kept = {}, older = [];
    Object.keys(alphas).forEach(function (k) {
      var e = alphas[k];
      if (k === "[]" || k === key || e.n === undefined || e.n >= strokes.length) return;
      if (k === JSON.stringify(strokes.slice(0, e.n))) older.push(k);
    });
    older.sort(function (a, b) { return alphas[b].n - alphas[a].n; });
    older.slice(0, SHOWN_KEEP).forEach(function (k) { alphas[k].px = null; kept[k] = alphas[k]; });
    if (alphas["[]"]) kept["[]"] = alphas["[]"];
    kept[key] = now;
    this.alphas = kept;
  };

  /* The strokes' preview is the version itself, every channel of every pixel: Apply would
     make the same picture again and send it back to review (QA 2026-12-03). Known only once
     this list's preview and the version's own (the warm-up's) are both in; until then Apply
     goes, and the worker refuses a result equal to its parent. */
  Editor.prototype.judgeNoop = function () {
    var mine = this.strokes.length ? this.alphas[JSON.stringify(this.strokes)] : null, base = this.alphas["[]"];
    if (mine && mine.px && base && base.exact && base.px) {
      // judged while its channels are at hand; an undo back to it reads the verdict
      // the pixels that differ in any channel, counted up to NOISE_PX
      var moved = mine.px.length === base.px.length ? 0 : NOISE_PX;
      for (var i = 0; moved < NOISE_PX && i < mine.px.length; i += 4) {
        if (mine.px[i] !== base.px[i] || mine.px[i + 1] !== base.px[i + 1] ||
            mine.px[i + 2] !== base.px[i + 2] || mine.px[i + 3] !== base.px[i + 3]) moved++;
      }
      mine.same = moved < NOISE_PX;
      mine.moved = moved;
    }
    this.noopKey = mine && mine.same ? JSON.stringify(this.strokes) : null;
    this.noopPx = mine && mine.same ? mine.moved : 0;
    this.updateButtons();
  };
  Editor.prototype.isNoop = function () {
    return !!(this.strokes.length && this.noopKey && this.noopKey === JSON.stringify(this.strokes));
  };
  Editor.prototype.noopWords = function () {
    var n = this.strokes.length, v = " v" + this.form.dataset.version;
    if (this.noopPx) {
      return "Nothing to apply: " + (n === 1 ? "this stroke changes" : "these " + n + " strokes change") +
             " only " + this.noopPx + " px of" + v + ", a version no one could tell from it.";
    }
    return "Nothing to apply: " + (n === 1 ? "this stroke leaves" : "these " + n + " strokes leave") +
           v + " pixel for pixel as it is.";
  };

  function strokeName(s) { return NAMES[s.kind].toLowerCase() + (s.points.length === 1 ? " click" : " stroke"); }

  /* The status after new strokes' preview: what ``burst`` (the strokes since the last preview
     shown, usually one) changed from ``before`` to ``now``, flashed and in numbers, or why it
     changed nothing, told from what lies under it; ``count`` strokes in all. */
  Editor.prototype.report = function (before, now, burst, count) {
    var k = before.w / this.fullW, n = burst.length;
    var names = burst.map(strokeName), kinds = counted(names);
    // "the last remove click", "the last 3 remove clicks", "the last 3 strokes" (of kinds
    // the report then names)
    var what = "the last " + (n === 1 ? names[0] : kinds.indexOf(",") < 0 ? kinds : n + " strokes");
    var What = "T" + what.slice(1) + (n === 1 ? " " : " together ");
    var undo = n === 1 ? undoWord() :
      (touchFirst() ? "Undo takes them back one by one." : "Ctrl+Z undoes them one by one.");
    var whole = !this.isNoop() ? "" : "Nothing to apply: v" + this.form.dataset.version +
      (this.noopPx ? " all but unchanged (" + this.noopPx + " px)." : " unchanged.");
    var preview = this.previewText, self = this;
    // the preview's line follows when the line has room for it, else behind "more"
    var tell = function (pieces, more) {
      var words = fitReport(pieces.concat([[whole, "tail"], [preview, "tail"]]), more);
      self.say(words.text, "hint", words.more);
    };
    this.form.dataset.rtBurst = String(n);
    var change = this.flashChange(before, now);
    var lost = burst.filter(function (s) { return s.kind === "detail"; });
    // a keep click far off the cutout says what it added in the server's words (FAR_KEEP)
    var far = n === 1 && burst[0].kind === "keep" && burst[0].points.length === 1 ? FAR_KEEP[now.far] || "" : "";
    // a subject click clears parts far from itself: that is what it is for
    var chose = burst.some(function (s) { return s.kind === "subject"; });
    // a click undoing what an earlier stroke took (or added) beyond its brush: what it gave
    // back lies beyond its own brush too, and is what it was for. The engine's count when the
    // server sent it (engineBack); else read from the pixels (givenBack), which needs 90 % of
    // what the click crossed to be the version's own and missed a click that gave back and
    // added more (verify45 M2)
    var earlier = this.strokes.slice(0, count - n);
    var back = far || chose ? null : engineBack(now.given, burst, earlier) ||
      givenBack(this.alphas["[]"], before, now, burst, earlier, k);
    // a faint piece a remove stroke took whole is named so (farFrom leaves it out): farFrom
    // counts it in ``piece`` from the same flood, faintWhole when no farFrom runs
    var removes = burst.some(function (s) { return s.kind === "remove"; });
    var piece = removes ? faintPieces(now.a.length) : null;
    var beyond = far || chose || back ? 0 : farFrom(before, now, burst, k, piece);
    if (piece && (far || chose || back)) piece = faintWhole(before, now, burst, k);
    if (lost.length === n ? beyond : beyond >= FAR_CUT_MIN) change.far = beyond;
    change.brushes = n === 1 ? "the brush" : "the brushes";
    // set per report, so a stale give-back never outlives the report that found it
    delete this.form.dataset.rtGivenBack;
    if (back) {
      change.back = back;
      this.form.dataset.rtGivenBack = back.kind + ":" + count;
    }
    if (piece && piece.px) { change.piece = piece.px; change.pieces = piece.pieces; }
    var total = change.taken + change.added + change.faded;
    if (lost.length === n && lost.every(function (s) { return productShare(before, s, k) < EDGE_MIN_SHARE; })) {
      // nothing of the product under or around it: a matte cannot bring back what the cutout
      // removed, so say what does. What it did change is said first: a detail click over faint
      // hair the cutout had nearly removed faded it further while the status said only "found
      // no edge", and called the click a stroke (QA qa35b W2, 2026-12-06)
      this.form.dataset.rtNoEdge = String(count);
      var cover = n === 1 ? "it covers" : "they cover";
      var first = total >= 4 ?
        What + changeParts(change, now.a.length).join(", ") + ", but found no edge of the cutout to refine." :
        "T" + what.slice(1) + " found no edge of the cutout to refine.";
      // what moved there is the faint alpha left, or clear background the matte raised to faint
      // (QA qa43s M1, 2026-12-07, soft-dev GT13: a pass over cut leaf tips raised 599 clear px,
      // and "only the faint alpha left there moves" said there had been some)
      var moved = change.lifted * 2 >= change.faded ?
        ", so it only raised clear background there to faint alpha." :
        ", so only the faint alpha left there moves.";
      tell([[first, true], [keepThen(!touchFirst()), false], [undo, true]],
           ["What " + cover + " is removed" + (total >= 4 ? moved : ".")]);
      return;
    }
    // a detail brush all on one side of the cutout's edge (what it covers all removed, or all
    // kept) gives the matte no edge to solve: it moves a few pixels at most. Said with what
    // to do instead of a bare "< 0.1 %" (QA 2026-12-05 M5: a detail stroke over loose hair
    // strands the cutout had removed, the hair's edge beside the brush, not under it)
    var oneSided = lost.length === n && lost.every(function (s) { return !edgeUnder(before, s, k); });
    // the server reads the list's last stroke only: a burst of detail strokes ending on a mesh
    var mesh = !!now.mesh && burst[n - 1].kind === "detail";
    var brushes = n === 1 ? "its brush" : "their brushes";
    if (oneSided && total >= 4 && total < 0.001 * (change.had || now.a.length)) {
      this.form.dataset.rtOneSided = String(count);
      if (mesh) this.form.dataset.rtMesh = String(count);
      // "barely changed", not "changed ... held no edge" (QA 2026-12-06: both in one sentence
      // read as a contradiction); and a brush all on one side of alpha 128 that held soft
      // alpha (hair at .5-.9, soft-dev GT03) held an edge the matte found fitting, not none
      var barely = "T" + what.slice(1) + " barely changed the " + (change.had ? "cutout" : "photo") + " (< 0.1 %)";
      var settled = !mesh && softUnder(before, lost, k) >= SETTLED_SHARE;
      if (settled) this.form.dataset.rtSettled = String(count);
      if (mesh) {
        tell([[barely + ".", true], [MESH, true], [undo, true]], [MESH_MORE]);
      } else if (settled) {
        tell([[barely + ": the soft alpha under " + brushes + " already fits the photo.", true], [undo, true]],
             ["If it still looks wrong: " + ACROSS.charAt(0).toLowerCase() + ACROSS.slice(1)]);
      } else {
        tell([[barely + ": no edge under " + brushes + " to solve.", true],
              [ACROSS, false], [undo, true]]);
      }
      return;
    }
    var cleared = /^parts:(\d+)$/.exec(now.subject || "");
    if (total >= 4 && n === 1 && burst[0].kind === "subject" && cleared) {
      // "Kept only the part you clicked: cleared 3 other parts, 12.4 % of the cutout (red)"
      // the crossed count over the solid count, as the other reports' shares (QA verify41:
      // counting faint px over solid ones said 40.6 % where 31 % of the cutout went)
      var m = parseInt(cleared[1], 10);
      var pctOf = Math.round(change.taken / Math.max(change.had || now.a.length, 1) * 1000) / 10;
      this.form.dataset.rtSubject = now.subject + ":" + count;
      tell([["Kept only the part you clicked: cleared " +
             (m ? m + " other part" + (m === 1 ? "" : "s") : "loose bits around it") + ", " +
             (pctOf < 0.1 ? "< 0.1" : String(pctOf)) + " % of the " + (change.had ? "cutout" : "photo") + " (red).", true],
            ["If the product has more parts, Keep-click" + (touchFirst() ? "" : " (K)") + " each to bring it back.", false],
            [undo, true]]);
      return;
    }
    if (total >= 4 && far) {
      this.form.dataset.rtFarKeep = now.far + ":" + count;
      var spot = now.far === "spot";
      var line = What + (spot ? far : changeParts(change, now.a.length).join(", ") + ": " + far);
      tell([[line, true], [spot ? "Paint Keep" + (touchFirst() ? "" : " (K)") + " over the whole part you want." :
                               "If it is not part of the product:", true], [undo, true]]);
      return;
    }
    if (total >= 4) {
      // a click can take more than it should (the tyre around a wheel's gap): how much it
      // took or added, flashed on the picture and said in numbers, so one look tells
      var parts = changeParts(change, now.a.length);
      // a keep stroke over hair or fur makes it solid, which is what keep means: the brush
      // that keeps it soft is named when most of what it changed was soft (QA 2026-12-03)
      // and it painted over a soft area, not a solid product's soft rim; said as an "if", as
      // only the reviewer knows what the soft alpha was. Painted strokes only: a keep click
      // aims at one part, and on a banana's or a plastic nose's under-held body the hint
      // invited an undo of a right click (QA 2026-12-05)
      var keeps = burst.filter(function (s) { return s.kind === "keep" && s.points.length > 1; });
      // a keep burst that changed a patch far from its brushes raised backdrop there (the cut
      // ran on into a neighbour), not hair under the brush: Remove takes that patch back, the
      // Detail brush would only fade it (QA qa40b W-C, 2026-12-06: a keep stroke on dev 053's
      // foreleg raised a backdrop block 30-144 px away, and the report named the Detail brush)
      var farKeep = !!change.far && burst.every(function (s) { return s.kind === "keep"; });
      var soft = !farKeep && keeps.length > 0 && change.gain >= SOFT_HINT_PX &&
                 change.gain >= SOFT_HINT_SHARE * total && softUnder(before, keeps, k) >= SOFT_BRUSH_SHARE;
      var hint = farKeep ? "If it raised background there, paint Remove" + (touchFirst() ? "" : " (R)") +
                           " over that part." :
                 soft ? "It made soft alpha solid: if that is hair, fur or mesh, the Detail brush" +
                        (touchFirst() ? "" : " (D)") + " keeps it soft." : "";
      // the change first: a phone's two clamped lines show only the start (QA 2026-12-03)
      var words = fitReport([[What + parts.join(", ") + "; " + undo, true], [hint, false],
                             [whole, "tail"], [preview, "tail"]]);
      this.say(words.text, hint || whole ? "hint" : undefined, words.more);
      return;
    }
    // Nothing (or a few pixels) changed: why, from what lies under each stroke (QA
    // 2026-12-03: "already kept" was said of a keep click on removed, hatched tissue)
    var verdicts = burst.map(function (s) { return s.kind + " " + underVerdict(before, s, k); });
    if (burst[n - 1].kind === "subject" && now.subject) {
      verdicts[n - 1] = "subject " + (now.subject === "none" ? "empty" : "alone");
    }
    var lead = total ? "Next to nothing changed (" + total + " px)" : "Nothing changed";
    var said = [];
    if (n === 1) {
      said.push([lead + ": " + what + " " + VERDICTS[verdicts[0]] + ".", true]);
    } else {
      var groups = {}, order = [];
      burst.forEach(function (s, i) {
        var v = verdicts[i];
        if (!groups[v]) { groups[v] = []; order.push(v); }
        groups[v].push(names[i]);
      });
      // one group a piece: a burst of many kinds says the first ones, the rest behind "more"
      order.forEach(function (v, i) {
        var m = groups[v].length, end = i === order.length - 1 ? "." : ";";
        var words = order.length === 1 ? "what they cover " + BRIEF[v] :
          "what " + counted(groups[v]) + " cover" + (m === 1 ? "s " : " ") + BRIEF[v];
        said.push(i ? [words + end, false] : [lead + " with " + what + ": " + words + end, true]);
      });
    }
    var tips = [], keys = !touchFirst();
    var missed = function (kind) {
      return verdicts.some(function (v) { return v === kind + " missed" || v === kind + " partly"; });
    };
    if (verdicts.indexOf("subject empty") >= 0) {
      tips.push("Click on the product itself; if the cutout lost it, bring it back with Keep" +
                (keys ? " (K)" : "") + " first.");
    }
    var paint = [missed("keep") ? "Keep" + (keys ? " (K)" : "") : "",
                 missed("remove") ? "Remove" + (keys ? " (R)" : "") : ""].filter(Boolean);
    if (paint.length) {
      tips.push("Paint " + paint.join(" / ") + " across the whole part, or use a larger brush" +
                (keys ? " (])." : "."));
    }
    // faint haze (alpha under a quarter) hides under the removed area's hatching: a click on
    // it finds "already removed" (QA 2026-12-03); Faint shows it, a painted stroke takes it
    // a click only: a painted remove stroke takes the haze under its brush (retouch._take_haze)
    if (n === 1 && verdicts[0] === "remove done" && burst[0].points.length === 1 &&
        productShare(before, burst[0], k, 1, hazeTest(before)) >= HAZE_SHARE) {
      tips.push(this.faint ? "The faint haze under it (magenta) is too thin for a click: paint across it to take it." :
                "Faint haze lies under it: Faint" + (touchFirst() ? "" : " (H)") + " shows it; paint across it to take it.");
    }
    var more = [];
    if (verdicts.indexOf("detail edge") >= 0 && !tips.length) {
      var sided = burst.every(function (s) { return s.kind !== "detail" || !edgeUnder(before, s, k); });
      if (sided) this.form.dataset.rtOneSided = String(count);
      if (sided && mesh) { this.form.dataset.rtMesh = String(count); more.push(MESH_MORE); }
      // a brush across the edge that found nothing soft to fade: the edge is solid, and
      // "Paint across the area" told a reviewer to do what they had just done (QA 2026-12-06:
      // the edge earlier keep strokes had made solid)
      // ...and one lying mostly on what the cutout removed is told to keep it first (removedUnder)
      var solid = sided ? [mesh ? MESH : ACROSS, ""] :
        solidEdgeTip(this.strokes.slice(0, count - n), burst, keys, removedUnder(before, lost, k));
      tips.push(solid[0]);
      more.push(solid[1]);
    }
    this.form.dataset.rtUnchanged = String(count);
    this.form.dataset.rtUnder = verdicts.join(",");
    // the preview's timing, in short (QA 2026-12-06): its whole line only behind "more"
    var timing = this.previewMs !== undefined ? "· " + this.previewMs + " ms" : "";
    var words = fitReport(said.concat(tips.map(function (t) { return [t, false]; }),
                                      [[undo, true], [whole, "tail"], [timing, "drop"]]), more.concat([preview]));
    this.say(words.text, "hint", words.more);
  };

  /* Paint what ``now`` changed from ``before`` (alphas of the same size) on the change layer
     and show it for CHANGE_MS; returns the pixel counts: taken (crossed to the background),
     added (crossed to the product), faded (moved without crossing), had (product before);
     of the faded, cleared (faint to 0) and lifted (0 to faint). */
  Editor.prototype.flashChange = function (before, now) {
    var out = { taken: 0, added: 0, faded: 0, had: 0, hardened: 0, gain: 0, cleared: 0, faint: 0, lifted: 0 };
    var c = this.changeCanvas, d = null, img = null, x = null;
    if (c) {
      c.width = now.w; c.height = now.h;
      x = c.getContext("2d");
      img = x.createImageData(now.w, now.h);
      d = img.data;
    }
    for (var i = 0, j = 0; i < now.a.length; i++, j += 4) {
      var b = before.a[i], a = now.a[i], delta = a - b;
      if (b >= 128) out.had++;
      else if (b) out.faint++;
      if (!delta) continue;
      // every change counts, however faint (QA 2026-12-06: a stroke that cleared 227 px of
      // haze at alpha 1..31 was told "Nothing changed"); only the flash leaves out the
      // changes under CHANGE_MIN
      if (b >= SOFT_LOW && b < SOFT_HIGH && a >= SOLID) { out.hardened++; out.gain += delta / 255; }
      var crossed = (b >= 128) !== (a >= 128);
      if (crossed) { if (a < 128) out.taken++; else out.added++; }
      else { out.faded++; if (!a && b < 128) out.cleared++; else if (!b) out.lifted++; }
      if (!d || (!crossed && delta > -CHANGE_MIN && delta < CHANGE_MIN)) continue;
      var rgb = delta < 0 ? CHANGE_TAKEN : CHANGE_ADDED;
      d[j] = rgb[0]; d[j + 1] = rgb[1]; d[j + 2] = rgb[2];
      d[j + 3] = crossed ? 200 : Math.min(200, 60 + Math.abs(delta));
    }
    this.form.dataset.rtChangeTaken = String(out.taken);
    this.form.dataset.rtChangeAdded = String(out.added);
    this.form.dataset.rtChangeFaded = String(out.faded);
    this.form.dataset.rtChangeHardened = String(out.hardened);
    this.form.dataset.rtChangeGain = String(Math.round(out.gain));
    this.forgetFlash();
    if (!d || out.taken + out.added + out.faded < 4) return out;
    x.putImageData(img, 0, 0);
    this.lastFlash = img;
    this.flash();
    return out;
  };
  /* No flash to show again (the stroke list changed, or a new report has none): its "show
     change" button goes with it, at once, not at the next message (reread43 L17: it stayed
     and did nothing). */
  Editor.prototype.forgetFlash = function () {
    this.lastFlash = null;
    var show = this.status && this.status.querySelector("[data-rt-show]");
    if (show) {
      // the focus it held goes to the line's "more", else back to the page
      var more = this.status.querySelector("[data-rt-why]");
      if (document.activeElement === show && more) more.focus();
      show.remove();
    }
  };
  /* The change layer shown at once, then faded out after CHANGE_MS. */
  Editor.prototype.flash = function () {
    var form = this.form;
    form.dataset.rtChange = "shown";
    clearTimeout(this.changeTimer);
    this.changeTimer = setTimeout(function () { form.dataset.rtChange = ""; }, CHANGE_MS);
  };
  /* The last report's flash again (its "(show)", C): the far words outlive the 1.8 s flash,
     and on a phone they are read in the "more" panel over the picture, so the panels close
     first. False when there is none: the stroke list changed since (requestPreview). */
  Editor.prototype.showChange = function () {
    var img = this.lastFlash, c = this.changeCanvas;
    if (!img || !c) { this.forgetFlash(); return false; }
    this.openWhy(false);
    if (this.form.hasAttribute("data-rt-more-open")) this.toggleMore(false);
    if (c.width !== img.width || c.height !== img.height) { c.width = img.width; c.height = img.height; }
    c.getContext("2d").putImageData(img, 0, 0);
    this.flash();
    return true;
  };

  /* The new picture replaces the old one once decoded: an <img> given a new src shows
     nothing while it decodes, and the hatching under it then covered the whole stage after
     every stroke, undo and redo, as if everything were removed (QA 2026-12-05). */
  Editor.prototype.showImage = function (src, owned) {
    // ``owned``: a blob URL of this.previews, which revokes it when it drops the preview
    var self = this, turn = this.shownTurn = (this.shownTurn || 0) + 1;
    this.pendingUrl = src;
    function swap() {
      if (turn !== self.shownTurn) return;  // a newer picture came meanwhile: it shows, not this
      self.objectUrl = owned ? src : null;
      if (self.preview.getAttribute("src") === src) {
        // the same picture (back to a list before its successor had decoded): no load event
        self.previewLoaded();
        return;
      }
      self.preview.src = src;
    }
    var next = new Image();
    next.src = src;
    if (next.decode) next.decode().then(swap, swap);
    else swap();
  };

  Editor.prototype.apply = function () {
    if (!this.strokes.length) { this.say("Paint at least one stroke or click first.", "error"); return; }
    this.sync();
    // said here: htmx may send the form before the submit listener could stop it
    if (this.isNoop()) { this.say(this.noopWords() + " Paint where the cutout is wrong, or Clear.", "error"); return; }
    if (this.form.requestSubmit) this.form.requestSubmit(); else this.form.submit();
  };

  function init() {
    var main = document.getElementById("retouch-main");
    if (main && main.dataset.version) document.title = document.title.replace(/ v\d+/, " v" + main.dataset.version);
    // The new version still computing: the picture the reviewer left stays, dimmed, under
    // the progress note, at its zoom and scroll.
    var slot = document.querySelector("[data-rt-keep-view]");
    if (slot && carry && carry.view && !slot.contains(carry.view)) {
      slot.appendChild(carry.view);
      keepPlace(carry.view, slot.closest(".rt-editor") || slot, carry);
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-retouch]:not([data-rt-ready])"),
      function (form) { new Editor(form); });  // eslint-disable-line no-new
  }
  /* The photo point that was in the middle of the view is there again, and the editor sits
     where it sat on the screen (a line above it, such as "Back to v1", does not push it). */
  function keepPlace(view, box, c) {
    view.scrollLeft = c.fx * view.scrollWidth - view.clientWidth / 2;
    view.scrollTop = c.fy * view.scrollHeight - view.clientHeight / 2;
    if (box) window.scrollBy(0, box.getBoundingClientRect().top - c.boxTop);
  }
  // The retouch page's body is swapped by Apply (for the new version) and by its own poll
  // while that version computes: what the reviewer had on screen is noted first.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var d = ev.detail || {}, t = d.target;
    if (!t || t.id !== "retouch-main" || d.shouldSwap === false) return;
    var form = t.querySelector("[data-retouch][data-rt-ready]"), ed = form && form._rtEditor;
    var c = carry;
    var view = ed ? ed.view : t.querySelector("[data-rt-keep-view] .rt-view");
    if (ed) {
      // Where the editor sat on the screen: taken from the editor only (the progress view's
      // page is shorter, and the window may have scrolled back to fit it).
      c = { asset: ed.asset, zoom: ed.zoom, tool: ed.tool, faint: ed.faint,
            showStrokes: ed.showStrokes, photo: !ed.photo.classList.contains("rt-hidden"),
            boxTop: ed.form.getBoundingClientRect().top };
    }
    if (!c || !view) return;
    c.view = view;
    c.fx = view.scrollWidth ? (view.scrollLeft + view.clientWidth / 2) / view.scrollWidth : 0.5;
    c.fy = view.scrollHeight ? (view.scrollTop + view.clientHeight / 2) / view.scrollHeight : 0.5;
    carry = c;
  });
  // Apply's answer that brings a newer version of the photo (the retouch page's body or the
  // card, pending or done) holds the strokes now: the tab forgets them, before that version's
  // editor looks for saved ones. Any other answer (the card again with a refusal, a redirect
  // to the login page) leaves them saved for this version's page.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var d = ev.detail || {}, form = d.requestConfig && d.requestConfig.elt;
    var ed = form && form._rtEditor;
    if (ed && ed.applying && d.shouldSwap && appliedAs(ed, d.serverResponse)) ed.forget();
  });
  function appliedAs(ed, html) {
    var parsed = document.createElement("template");
    parsed.innerHTML = typeof html === "string" ? html : "";
    var root = parsed.content.querySelector("#retouch-main[data-cutout], #review-card[data-cutout]");
    return !!root && root.dataset.cutout !== ed.form.dataset.cutout &&
      (parseInt(root.dataset.version, 10) || 0) > (parseInt(ed.form.dataset.version, 10) || 0);
  }
  // An editor no longer in the page (the card or the retouch page's body swapped) gives its
  // previews' memory back; the picture it showed stays valid (Apply keeps it on screen while
  // the new version computes).
  document.addEventListener("htmx:afterSwap", function () {
    editors = editors.filter(function (ed) {
      if (ed.form.isConnected) return true;
      ed.previews.forEach(function (p) {
        if (p.url !== ed.objectUrl && p.url !== ed.pendingUrl) URL.revokeObjectURL(p.url);
      });
      ed.previews = [];
      return false;
    });
  });
  function active() {
    var forms = document.querySelectorAll("[data-retouch][data-rt-ready]");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i]._rtEditor && forms[i]._rtEditor.visible()) return forms[i]._rtEditor;
    }
    return null;
  }

  // Capture phase: while the tools are on screen their keys (K, R, D, Enter) win over the
  // review card's (previous card, re-run, panels).
  window.addEventListener("keydown", function (ev) {
    var ed = active();
    if (!ed) { enterWithToolsClosed(ev); return; }
    if (ev.key === "Escape" && (ed.closeWhy() || ed.closeMore())) {
      ev.preventDefault(); ev.stopImmediatePropagation(); return;
    }
    if (typing(ev.target)) return;
    // Focus in another form (an open flag or re-run panel) keeps its own keys.
    var inForm = ev.target.closest && ev.target.closest("form");
    if (inForm && inForm !== ed.form) return;
    var key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
    var mod = ev.ctrlKey || ev.metaKey;
    var handled = true;
    if (mod && key === "z") { if (ev.shiftKey) ed.redo(); else ed.undo(); }
    else if (mod && key === "y") ed.redo();
    else if (mod || ev.altKey) handled = false;
    else if (key === "k") ed.setTool("keep");
    else if (key === "r") ed.setTool("remove");
    else if (key === "d") ed.setTool("detail");
    else if (key === "s") ed.setTool("subject");
    else if (key === "o") ed.toggleStrokes();
    else if (key === "h") ed.setFaint(!ed.faint);
    else if (key === "c") handled = ed.showChange();
    else if (key === "z") ed.cycleZoom();
    else if (key === "[") ed.resize(1 / SIZE_STEP);
    else if (key === "]") ed.resize(SIZE_STEP);
    else if (key === "Enter" && !activatedByEnter(ev.target)) ed.apply();
    else handled = false;
    if (handled) { ev.preventDefault(); ev.stopImmediatePropagation(); }
  }, true);

  // Enter with strokes waiting and the Retouch view closed (Esc left it): the strokes come
  // back into view and the status says how to apply them (QA: Enter did nothing, silently).
  // Not from a control, a field or an open flag / re-run panel: those keep their own Enter.
  function enterWithToolsClosed(ev) {
    if (ev.key !== "Enter" || ev.ctrlKey || ev.metaKey || ev.altKey || ev.shiftKey) return;
    var t = ev.target;
    if (typing(t) || (t.closest && t.closest(
      "a[href], button, summary, [role=button], input, select, textarea, form"))) return;
    if (document.querySelector("[data-rv-panel]:not([hidden])")) return;
    var eds = unapplied();
    if (!eds.length) return;
    ev.preventDefault(); ev.stopImmediatePropagation();
    keep(eds, "Strokes not applied yet");
  }

  // Strokes are saved in this tab (see SAVED): a reload restores them, so the browser's own
  // "Leave site? Changes you made may not be saved" (its words, not ours, and false after a
  // reload) asks only when this tab could not save them (storage off or full). Leaving by the
  // app's own links and buttons asks in the app's words below.
  // The app's own question was answered for the page now leaving (a link, a form): the
  // browser must not ask again (QA 2026-12-06 qa35c B3: two prompts with storage off).
  var leaveAnswered = false;
  window.addEventListener("beforeunload", function (ev) {
    if (leaveAnswered) return undefined;
    var forms = document.querySelectorAll("[data-retouch][data-rt-ready]");
    for (var i = 0; i < forms.length; i++) {
      var ed = forms[i]._rtEditor;
      if (ed && ed.strokes.length && !ed.applying && !ed.saved) {
        ev.preventDefault();
        ev.returnValue = "";  // older Chromium shows the prompt only with this set
        return "";
      }
    }
    return undefined;
  });

  // The zoom and pan change without a stroke: the entry a stroke wrote takes them as the page
  // goes (a reload too); with none kept (nothing painted, discarded, cleared away) none is made.
  window.addEventListener("pagehide", function () {
    var forms = document.querySelectorAll("[data-retouch][data-rt-ready]");
    for (var i = 0; i < forms.length; i++) {
      var ed = forms[i]._rtEditor;
      try {
        if (ed && sessionStorage.getItem(ed.savedKey()) !== null) ed.save();
      } catch (e) { /* storage off: nothing was kept */ }
    }
  });

  function unapplied() {
    var out = [];
    Array.prototype.forEach.call(document.querySelectorAll("[data-retouch][data-rt-ready]"), function (f) {
      var ed = f._rtEditor;
      if (ed && ed.strokes.length && !ed.applying) out.push(ed);
    });
    return out;
  }
  function waiting(eds) {
    var n = 0, versions = [];
    eds.forEach(function (ed) {
      n += ed.strokes.length;
      if (versions.indexOf("v" + ed.form.dataset.version) < 0) versions.push("v" + ed.form.dataset.version);
    });
    return n + " retouch stroke" + (n === 1 ? " is" : "s are") + " not applied yet (painted on " +
      versions.join(", ") + "; Enter applies " + (n === 1 ? "it" : "them") + ").\n";
  }
  /* Leaving the strokes out of sight (another card, page or version; a decision on this card)
     loses nothing now, but they do nothing until applied: a reviewer who forgot Enter hears it
     once, in words that say they stay. */
  function leaveQuestion(eds) {
    var n = 0;
    eds.forEach(function (ed) { n += ed.strokes.length; });
    // This tab could not keep them (storage off or full): the promise below would be false
    // (QA 2026-12-06 qa35c B3).
    if (eds.some(function (ed) { return !ed.saved; })) {
      return waiting(eds) + "This tab cannot keep " + (n === 1 ? "it" : "them") + " (its " +
        "storage is off or full): leaving loses " + (n === 1 ? "it" : "them") + ".\n\nLeave " +
        "and lose " + (n === 1 ? "it" : "them") + "?";
    }
    // A newer version's page drops them (see restoreSaved): the banner's "Open v2's card" and
    // the version links go there, so the promise names its limit (QA 2026-12-06 qa35c B2).
    var versions = [];
    eds.forEach(function (ed) {
      if (versions.indexOf("v" + ed.form.dataset.version) < 0) versions.push("v" + ed.form.dataset.version);
    });
    return waiting(eds) + (n === 1 ? "It stays" : "They stay") + " saved in this tab: open " +
      versions.join(", ") + " again and " + (n === 1 ? "it comes" : "they come") + " back; " +
      "opening a newer version drops " + (n === 1 ? "it" : "them") + ".\n\nGo on without applying " +
      (n === 1 ? "it" : "them") + "?";
  }
  /* A re-run or an uploaded PNG makes a newer version, which strokes painted on this one do
     not fit: they go (see restoreSaved). */
  function dropQuestion(eds) {
    var n = 0;
    eds.forEach(function (ed) { n += ed.strokes.length; });
    return waiting(eds) + "This makes a new version, and strokes fit only the version they " +
      "were painted on: " + (n === 1 ? "it is" : "they are") + " dropped.\n\nDrop " +
      (n === 1 ? "it" : "them") + " and go on?";
  }
  function dropAll(eds, elt) {
    eds.forEach(function (ed) { ed.forget(); ed.gone = true; });
    // A re-run whose request fails (the network, a refusal) made no new version: the strokes,
    // still on screen, are saved again, as a reload lost them silently (QA 2026-12-06 qa35c B4).
    if (!elt || !elt.addEventListener) return;
    elt.addEventListener("htmx:afterRequest", function after(ev) {
      elt.removeEventListener("htmx:afterRequest", after);
      if (ev.detail && ev.detail.successful) return;
      eds.forEach(function (ed) {
        if (!ed.form.isConnected) return;
        ed.gone = false;
        ed.save();
      });
    });
  }
  function keep(eds, what) {
    // Kept: the strokes come back into view (the card's Retouch view, if it was left).
    var ed = eds[0];
    if (!ed.visible()) {
      var open = document.querySelector('[data-rv-mode="retouch"]');
      if (open) open.click();
    }
    ed.say((what || "Strokes kept") + ": " + (touchFirst() ? "Apply" : "Enter") + " applies them, Clear drops them.", "hint");
  }
  /* Ask before ``elt`` (a link, a button, a form) leaves the strokes of ``eds``: true to go on. */
  function mayLeave(eds, elt) {
    if (!eds.length) return true;
    var drops = !!(elt && elt.closest && elt.closest("[data-rt-new-version]"));
    if (window.confirm(drops ? dropQuestion(eds) : leaveQuestion(eds))) {
      if (drops) dropAll(eds, elt);
      return true;
    }
    keep(eds);
    return false;
  }

  // Strokes on the review card leave with the card when htmx swaps it (Next / Previous, A, F,
  // a re-run, a version link — by key or by click): every such request asks first. Apply is
  // the editor's own request; a poll never asks (nobody to answer) and waits instead.
  document.addEventListener("htmx:confirm", function (ev) {
    var d = ev.detail || {}, target = d.target, elt = d.elt;
    if (!target || !elt) return;
    var eds = unapplied().filter(function (ed) {
      return target.contains(ed.form) && !ed.form.contains(elt);
    });
    if (!eds.length) return;
    if (/\bevery\b/.test(elt.getAttribute("hx-trigger") || "")) {
      ev.preventDefault();
      eds.forEach(function (ed) { ed.paused(target); });
      return;
    }
    if (!mayLeave(eds, elt)) ev.preventDefault();
  });
  // The app's plain links and forms (Queue, Back to the card, Back to v1, the menu, an
  // uploaded PNG, Log out) load another page: the same question, in the app's words, instead
  // of the browser's. A link to this version's own card or retouch page does not ask: the
  // strokes open there with it. htmx's links ask above; another site, a new tab or a download
  // leaves this page as it is.
  function strokesGoTo(url) {
    return function (ed) {
      return (ed.form.dataset.rtHere || "").split(" ").indexOf(url.pathname) >= 0;
    };
  }
  document.addEventListener("click", function (ev) {
    if (ev.defaultPrevented || ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;
    var a = ev.target.closest && ev.target.closest("a[href]");
    if (!a || (a.target && a.target !== "_self") || a.hasAttribute("download") ||
        a.hasAttribute("hx-get") || a.hasAttribute("hx-post")) return;
    var url = new URL(a.href, location.href);
    if (url.origin !== location.origin) return;
    if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
    var going = strokesGoTo(url);
    // the login link of a logged-out editor: its strokes are saved and come back after it
    var eds = unapplied().filter(function (ed) {
      return !going(ed) && !(ed.saved && a.hasAttribute("data-login-again"));
    });
    if (!mayLeave(eds, a)) ev.preventDefault();
    else if (eds.length) answered();
  }, true);
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (ev.defaultPrevented || !(form instanceof HTMLFormElement) || form.hasAttribute("data-retouch") ||
        form.hasAttribute("hx-post") || form.hasAttribute("hx-get")) return;
    var eds = unapplied();
    if (!mayLeave(eds, form)) { ev.preventDefault(); ev.stopImmediatePropagation(); }
    else if (eds.length) answered();
  });
  // Only for the leave just answered: a page still here a moment later (a download, a
  // refused form answered in place) asks the browser's question again.
  function answered() {
    leaveAnswered = true;
    setTimeout(function () { leaveAnswered = false; }, 1000);
  }
  // Back / Forward to another card: the address has changed already; kept, it goes back.
  var here = location.href;
  function remember() { here = location.href; }
  document.addEventListener("htmx:afterSettle", remember);
  document.addEventListener("htmx:pushedIntoHistory", remember);
  function historyGuard(ev) {
    var eds = unapplied();
    if (!eds.length || window.confirm(leaveQuestion(eds))) return;
    ev.preventDefault();
    history.pushState({ htmx: true }, "", here);
    keep(eds);
  }
  document.addEventListener("htmx:historyCacheMiss", historyGuard);
  document.addEventListener("htmx:historyCacheHit", historyGuard);

  window.cutroomRetouch = { init: init, active: active, unapplied: unapplied,
                           changeParts: changeParts, farFrom: farFrom, productShare: productShare,
                           fitReport: fitReport,
                           STATUS_MAX: STATUS_MAX };
  document.addEventListener("DOMContentLoaded", function () { init(); firstLoad = false; });
  document.addEventListener("htmx:afterSettle", init);
})();
