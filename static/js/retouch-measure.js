/* Retouch: what a stroke changed, measured on the preview's alpha (pure functions, no DOM):
   which pixels lie near a brush (reachMask), the share of a brush's pixels that pass a test
   (productShare, hazeTest, softUnder), the change far beyond the brushes but for whole pieces
   (farFrom, wholePieces; faintWhole, the faint pieces among them), what an undoing click gave
   back (givenBack; engineBack, the engine's count of it, since signal46), what lies under a
   stroke that changed nothing (underVerdict, edgeUnder, removedUnder) and whether two
   strokes meet. Moved out of retouch.js verbatim
   (2026-12-07, split43); retouch.js's report and retouch-words.js read them from
   window.cutroomRetouchMeasure. An alpha is {w, h, a: Uint8Array} on the preview's grid;
   strokes are cutouts.imaging.strokes' list in full-size photo px, ``scale`` maps them to it. */
(function () {
  "use strict";

  // The least alpha move (of 255) that shows in the flash (retouch.js, CHANGE_MS) and that
  // farFrom counts.
  var CHANGE_MIN = 9;
  // Soft alpha, neither clear nor solid: SOFT_LOW up to SOFT_HIGH (retouch.js's keep-stroke
  // hint says why these bounds).
  var SOFT_LOW = 16, SOFT_HIGH = 240;
  // A detail stroke changes the alpha only within the engine's reach of its brush (30 working
  // px, retouch_detail.DETAIL_REACH; the preview's grid is the working grid) and 2 px more:
  // what moves by CHANGE_MIN or more farther out is named in its report, with where to look
  // (QA qa39b F2, 2026-12-06: a detail click on a teddy's ear faded its paws 500-830 px away,
  // and the report said only "cleared 11.3 % of the faint haze").
  var FAR_PX = 32;
  // farFrom leaves out the piece a keep or remove stroke lands on, gone whole (a remove) or
  // brought back whole (a keep): the piece is what the stroke was for, however far it reaches
  // (QA qa41a, 2026-12-06, dev "bool": a remove click well inside the second person, as the flag's
  // advice says, took him whole and the report said "changed 57794 px far from the brush").
  // Whole: at most PIECE_LEFT of the piece (alpha >= 128) held on the other side of the
  // stroke. A piece partly taken (dev 155: a remove on the graffiti took the skater's legs
  // joined to it, her torso stayed) is still named.
  var PIECE_LEFT = 0.02;
  // ...and a faint piece a remove stroke lands on, gone whole: what the cutout held apart at
  // any alpha a change can show (CHANGE_MIN up), none of it solid, all but PIECE_LEFT of it
  // cleared below CHANGE_MIN (verify44 L2, 2026-12-07: a remove click on a faint detached
  // ghost, which the engine takes whole as the reviewer asked, was told "also changed 2431 px
  // beyond the brush"). The report says it took that piece (faintWhole).
  var FAINT_PIECE_LOW = CHANGE_MIN;
  // A keep (remove) stroke gave back what an earlier remove (keep) stroke of the list took
  // (added) when at least GIVEN_SHARE of the pixels it crossed the version itself held as it
  // now does (retouch_cut._undone_beyond: a click of the other kind on a painted stroke's
  // overshoot restores it as it was before that stroke; verify44 L3).
  var GIVEN_SHARE = 0.9;
  // A detail stroke over (and around) which the cutout holds less than EDGE_MIN_SHARE of its
  // preview pixels as product (alpha >= 128) has no edge to refine: the matte's known side is
  // all background there, so it can only confirm the removal (QA 2026-12-03, soft-dev GT13:
  // "changed 0.2 %" over leaves the cutout had removed, and no hint why).
  var EDGE_MIN_SHARE = 0.01;
  // A keep / remove stroke that changed nothing is said to have found its area "already
  // kept / removed" only when at least DONE_SHARE of the preview pixels under its brush are
  // so (alpha >= 128 for keep, < 128 for remove); otherwise it did not take what it covers,
  // and the status says so (QA 2026-12-03: "already kept" on hatched, removed tissue).
  var DONE_SHARE = 0.9;
  // A remove click's haze hint (HAZE_SHARE, retouch.js) counts only faint alpha more than
  // HAZE_RIM preview px from what the preview holds at 128 or more: a product's anti-aliased
  // rim is no haze (QA 2026-12-06: the hint was said of remove clicks 6 px outside a ceramic's
  // clean edge). The engine's RIM_PX, which a painted remove stroke leaves of the kept
  // object's rim (retouch._take_haze).
  var HAZE_RIM = 3;
  // A detail stroke that changed nothing over soft alpha (SOFT_LOW..SOFT_HIGH) on at least
  // SETTLED_SHARE of its brush found that alpha fitting the photo, not "no soft edge".
  var SETTLED_SHARE = 0.2;
  // A detail stroke across the edge that found nothing soft lies on what the cutout removed
  // when at least REMOVED_SHARE of what its brush covers is removed (alpha < 128): the
  // advice is then Keep first, not Remove (QA qa43r M1 / qa43s M2, 2026-12-07, soft-dev GT13:
  // a brush 95 % on leaves the cutout had dropped, 5 % on solid, was told "use Remove (R) on
  // what should go"). Not a bare majority: a brush centred 2 px off a right, solid edge
  // covers 61-66 % backdrop (the solid-edge click of tests/browser/test_retouch.py), and Keep
  // there would bring the backdrop back.
  var REMOVED_SHARE = 0.75;

  /* The pixels of a w x h grid within reach of ``strokes``' paths: ``reach(r)`` px, ``r``
     each stroke's brush radius on this grid (image px times ``scale``). One measure of "near
     a brush" for the report's shares and its far-change count. Returns the mask (1 = near)
     and the box that holds every near pixel (x1 < x0 when none). */
  function reachMask(w, h, strokes, scale, reach) {
    var near = new Uint8Array(w * h), box = { x0: w, y0: h, x1: -1, y1: -1 };
    strokes.forEach(function (s) {
      var r = reach(Math.max(s.radius * scale, 0.71)), r2 = r * r, pts = s.points;
      for (var i = 0; i < pts.length; i++) {
        var j = Math.min(i + 1, pts.length - 1);
        var ax = pts[i][0] * scale, ay = pts[i][1] * scale, bx = pts[j][0] * scale, by = pts[j][1] * scale;
        var dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
        var x0 = Math.max(0, Math.floor(Math.min(ax, bx) - r)), x1 = Math.min(w - 1, Math.ceil(Math.max(ax, bx) + r));
        var y0 = Math.max(0, Math.floor(Math.min(ay, by) - r)), y1 = Math.min(h - 1, Math.ceil(Math.max(ay, by) + r));
        for (var y = y0; y <= y1; y++) {
          for (var x = x0; x <= x1; x++) {
            if (near[y * w + x]) continue;
            var t = l2 > 0 ? Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / l2)) : 0;
            var ex = x - ax - t * dx, ey = y - ay - t * dy;
            if (ex * ex + ey * ey > r2) continue;
            near[y * w + x] = 1;
            box.x0 = Math.min(box.x0, x); box.x1 = Math.max(box.x1, x);
            box.y0 = Math.min(box.y0, y); box.y1 = Math.max(box.y1, y);
          }
        }
      }
    });
    return { near: near, box: box };
  }

  /* Share of the preview pixels within a stroke's brush, widened by its radius (the ring the
     matte takes its known side from; ``widen`` 2, the default) or not (``widen`` 1: what the
     brush covers), that ``alpha`` holds as product (>= 128), or that pass ``test`` (an alpha
     value -> true / false). */
  function productShare(alpha, stroke, scale, widen, test) {
    var m = reachMask(alpha.w, alpha.h, [stroke], scale, function (r) { return Math.max((widen || 2) * r, 1); });
    var seen = 0, product = 0, b = m.box;
    for (var y = b.y0; y <= b.y1; y++) {
      for (var x = b.x0; x <= b.x1; x++) {
        var k = y * alpha.w + x;
        if (!m.near[k]) continue;
        seen++;
        if (test ? test(alpha.a[k], k) : alpha.a[k] >= 128) product++;
      }
    }
    return seen ? product / seen : 0;
  }

  /* How many pixels ``now`` moves by CHANGE_MIN or more from ``before`` (alphas of the same
     size) more than FAR_PX px beyond every brush of ``strokes`` (image px, times ``scale``
     on this grid), but for the pieces keep and remove strokes took or brought back whole
     (``wholePieces``). With ``faint`` (faintPieces' record) it also counts there the faint
     pieces its remove strokes took whole, as faintWhole does: the report's one flood of the
     pieces under the brushes serves both (lows46, 2026-12-07; the same numbers). */
  function farFrom(before, now, strokes, scale, faint) {
    var near = reachMask(now.w, now.h, strokes, scale, function (r) { return r + FAR_PX; }).near;
    var moved = new Uint8Array(now.a.length), far = 0;
    for (var k = 0; k < now.a.length; k++) {
      var d = now.a[k] - before.a[k];
      if (d >= CHANGE_MIN || d <= -CHANGE_MIN) {
        moved[k] = 1;
        if (!near[k]) far++;
      }
    }
    if (!far) {
      // nothing far: only the faint pieces are wanted, which remove strokes alone find
      if (faint) wholePieces(before, now, strokes.filter(isRemove), scale, moved, faint);
      return 0;
    }
    var whole = wholePieces(before, now, strokes, scale, moved, faint);
    if (!whole) return far;
    far = 0;
    for (k = 0; k < now.a.length; k++) if (moved[k] && !near[k] && !whole[k]) far++;
    return far;
  }

  function isRemove(s) { return s.kind === "remove"; }

  /* An empty record of the faint pieces remove strokes took whole, for an alpha of ``n``
     pixels: {px, pieces} (and ``seen``, the pixels of the pieces counted), filled by
     faintWhole or by farFrom. */
  function faintPieces(n) {
    return { px: 0, pieces: 0, seen: new Uint8Array(n) };
  }

  /* How many pixels the faint pieces hold (alpha CHANGE_MIN..127, nothing solid) that remove
     strokes of ``strokes`` landed on and took whole (wholePieces), and how many pieces:
     {px, pieces}, what the report names as taken, not as a change far beyond the brush.
     For a report that runs no farFrom (farFrom with a ``faint`` record counts the same). */
  function faintWhole(before, now, strokes, scale) {
    var moved = new Uint8Array(now.a.length), out = faintPieces(now.a.length);
    for (var k = 0; k < now.a.length; k++) {
      var d = now.a[k] - before.a[k];
      if (d >= CHANGE_MIN || d <= -CHANGE_MIN) moved[k] = 1;
    }
    wholePieces(before, now, strokes.filter(isRemove), scale, moved, out);
    return out;
  }

  /* Whether a keep (remove) burst gave back what an earlier remove (keep) stroke took (added):
     at least GIVEN_SHARE of the pixels it crossed to the product (to the background) from
     ``before`` to ``now`` the version's own alpha ``base`` held so, and an earlier stroke of
     the other kind is in ``earlier`` (and no subject click). Returns null, or {kind: that
     earlier stroke's kind, beyond: true when most of what it gave back lies beyond every such
     stroke's brush (retouch_cut._undone_beyond gives back only that part), n: how many such
     strokes, clicks: "click" when they are all clicks, "stroke" when all painted, else "",
     px: the pixels given back}. */
  function givenBack(base, before, now, burst, earlier, scale) {
    if (!base || !burst.length || base.w !== now.w || base.h !== now.h) return null;
    var kind = burst[0].kind;
    if ((kind !== "keep" && kind !== "remove") || burst.some(function (s) { return s.kind !== kind; })) return null;
    var other = kind === "keep" ? "remove" : "keep";
    var took = earlier.filter(function (s) { return s.kind === other; });
    // a subject click clears parts too: what the burst brought back may be its doing
    if (!took.length || earlier.some(function (s) { return s.kind === "subject"; })) return null;
    var keep = kind === "keep", crossed = 0, given = 0, beyond = 0;
    var near = reachMask(now.w, now.h, took, scale, function (r) { return r; }).near;
    for (var k = 0; k < now.a.length; k++) {
      if (keep ? before.a[k] >= 128 || now.a[k] < 128 : before.a[k] < 128 || now.a[k] >= 128) continue;
      crossed++;
      if (keep ? base.a[k] >= 128 : base.a[k] < 128) {
        given++;
        if (!near[k]) beyond++;
      }
    }
    if (!crossed || given < GIVEN_SHARE * crossed) return null;
    var clicks = took.filter(function (s) { return s.points.length === 1; }).length;
    return { kind: other, n: took.length, clicks: clicks === took.length ? "click" : clicks ? "" : "stroke",
             beyond: beyond * 2 > given, px: given };
  }

  /* What a keep (remove) click gave back of what earlier painted remove (keep) strokes took
     (added) beyond their brushes, in the engine's count: ``given``, the server's word on the
     newest stroke (X-Retouch-Given-Back, "remove:N", N preview px; retouch_cut._Order.gave_back),
     for a ``burst`` of that one click, ``earlier`` the strokes before it. Returns null (no word,
     or not that burst: the caller reads the pixels, givenBack), or givenBack's object with
     exact: true, its px the engine's (signal46, verify45 M2: the pixel reading needed 90 % of
     what the click crossed to be the version's own, and a keep click that gave back 1026 px
     and added more was told "added 7.7 % …, also changed 1026 px beyond the brush"). */
  function engineBack(given, burst, earlier) {
    var m = /^(keep|remove):(\d+)$/.exec(given || "");
    if (!m || burst.length !== 1 || burst[0].points.length !== 1) return null;
    var kind = m[1], px = parseInt(m[2], 10);
    if (!px || burst[0].kind !== (kind === "keep" ? "remove" : "keep")) return null;
    // only painted strokes' changes beyond their brushes are given back (_undone_beyond)
    var took = earlier.filter(function (s) { return s.kind === kind && s.points.length > 1; });
    return { kind: kind, n: Math.max(took.length, 1), clicks: "stroke", beyond: true, px: px,
             exact: true };
  }

  /* The change (``moved``: 1 where the alpha moved by CHANGE_MIN or more) that is a piece a
     keep or remove stroke of ``strokes`` lands on, taken whole (a remove: the piece of
     ``before`` held at 128 or more, all but PIECE_LEFT of it below 128 in ``now``) or brought
     back whole (a keep: the same, ``now`` and ``before`` swapped), with its rim (HAZE_RIM px),
     as far as it joins the change under the brush: a mask (1 = such change), or null. */
  function wholePieces(before, now, strokes, scale, moved, faintOut) {
    var w = now.w, h = now.h, n = w * h, whole = null;
    strokes.forEach(function (s) {
      if (s.kind !== "keep" && s.kind !== "remove") return;
      var held = s.kind === "remove" ? before.a : now.a, other = s.kind === "remove" ? now.a : before.a;
      var brush = reachMask(w, h, [s], scale, function (r) { return Math.max(r, 1); });
      var b = brush.box, seeds = [], stack = [];
      // the held pieces under the brush (8-connected) at or above ``low``, and how much of
      // each the other side still holds so; ``faint``: only pieces with nothing solid
      var pieces = function (low, faint) {
        var piece = new Uint8Array(n);
        for (var y = b.y0; y <= b.y1; y++) {
          for (var x = b.x0; x <= b.x1; x++) {
            var k = y * w + x;
            if (!brush.near[k] || piece[k] || held[k] < low) continue;
            var size = 0, left = 0, solid = false, members = [k];
            piece[k] = 1; stack.push(k);
            while (stack.length) {
              var i = stack.pop(), ix = i % w, iy = (i - ix) / w;
              size++;
              if (other[i] >= low) left++;
              if (held[i] >= 128) solid = true;
              for (var dy = -1; dy <= 1; dy++) {
                for (var dx = -1; dx <= 1; dx++) {
                  var jx = ix + dx, jy = iy + dy, j = jy * w + jx;
                  if (jx < 0 || jy < 0 || jx >= w || jy >= h || piece[j] || held[j] < low) continue;
                  piece[j] = 1; stack.push(j); members.push(j);
                }
              }
            }
            if (left <= PIECE_LEFT * size && !(faint && solid)) {
              seeds.push(members);
              // a piece two strokes of the burst landed on is one piece (reread45)
              if (faint && faintOut && !faintOut.seen[k]) {
                faintOut.px += size; faintOut.pieces++;
                members.forEach(function (j) { faintOut.seen[j] = 1; });
              }
            }
          }
        }
      };
      pieces(128, false);
      // a faint piece (a ghost the cutout held below 128) a remove stroke took whole
      if (s.kind === "remove") pieces(FAINT_PIECE_LOW, true);
      if (!seeds.length) return;
      // the whole pieces with their rim: a piece's anti-aliased edge moves with it
      var gone = new Uint8Array(n), grown = new Uint8Array(n);
      seeds.forEach(function (m) { m.forEach(function (i) { gone[i] = 1; }); });
      for (var gy = 0; gy < h; gy++) {          // rows, then columns: a square of HAZE_RIM
        for (var gx = 0; gx < w; gx++) {
          if (!gone[gy * w + gx]) continue;
          for (var ox = Math.max(0, gx - HAZE_RIM); ox <= Math.min(w - 1, gx + HAZE_RIM); ox++) grown[gy * w + ox] = 1;
        }
      }
      gone.fill(0);
      for (gy = 0; gy < h; gy++) {
        for (gx = 0; gx < w; gx++) {
          if (!grown[gy * w + gx]) continue;
          for (var oy = Math.max(0, gy - HAZE_RIM); oy <= Math.min(h - 1, gy + HAZE_RIM); oy++) gone[oy * w + gx] = 1;
        }
      }
      // ...as far as the change runs on from under the brush through them
      whole = whole || new Uint8Array(n);
      for (var y = b.y0; y <= b.y1; y++) {
        for (var x = b.x0; x <= b.x1; x++) {
          var k = y * w + x;
          if (brush.near[k] && moved[k] && gone[k] && !whole[k]) { whole[k] = 1; stack.push(k); }
        }
      }
      while (stack.length) {
        var c = stack.pop(), cx = c % w, cy = (c - cx) / w;
        for (var ey = -1; ey <= 1; ey++) {
          for (var ex = -1; ex <= 1; ex++) {
            var qx = cx + ex, qy = cy + ey, q = qy * w + qx;
            if (qx < 0 || qy < 0 || qx >= w || qy >= h || whole[q] || !moved[q] || !gone[q]) continue;
            whole[q] = 1; stack.push(q);
          }
        }
      }
    });
    return whole;
  }

  /* A productShare test: faint alpha (1..127) more than HAZE_RIM px from what ``alpha`` holds
     at 128 or more (no product's anti-aliased rim). */
  function hazeTest(alpha) {
    return function (a, i) {
      if (a <= 0 || a >= 128) return false;
      var w = alpha.w, x = i % w, y = (i - x) / w;
      for (var dy = -HAZE_RIM; dy <= HAZE_RIM; dy++) {
        var yy = y + dy;
        if (yy < 0 || yy >= alpha.h) continue;
        for (var dx = -HAZE_RIM; dx <= HAZE_RIM; dx++) {
          var xx = x + dx;
          if (xx >= 0 && xx < w && dx * dx + dy * dy <= HAZE_RIM * HAZE_RIM && alpha.a[yy * w + xx] >= 128) return false;
        }
      }
      return true;
    };
  }

  /* The share of what ``strokes``' brushes cover that ``alpha`` holds soft (neither clear nor
     solid), the strokes weighed alike. */
  function softUnder(alpha, strokes, scale) {
    var isSoft = function (a) { return a >= SOFT_LOW && a < SOFT_HIGH; };
    return strokes.reduce(function (sum, s) {
      return sum + productShare(alpha, s, scale, 1, isSoft);
    }, 0) / Math.max(strokes.length, 1);
  }

  /* What lies under a keep or remove stroke that changed nothing, from the preview's alpha in
     its brush: "done" (DONE_SHARE of it already kept / removed), "missed" (as much the other
     way: the stroke did not take it) or "partly". */
  function underVerdict(alpha, stroke, scale) {
    // a subject click that changed nothing: the cutout held only the part under it, or held
    // nothing there (the server's word, X-Retouch-Subject, says which when it is the last)
    if (stroke.kind === "subject") return productShare(alpha, stroke, scale, 1, function (a) { return a > 0; }) > 0 ? "alone" : "empty";
    if (stroke.kind === "detail") {
      // soft alpha under it that the matte left as it was fits the photo already (QA
      // 2026-12-05: "found no soft edge" was said over a wire-mesh cup's soft body)
      var soft = productShare(alpha, stroke, scale, 1, function (a) { return a >= SOFT_LOW && a < SOFT_HIGH; });
      return soft >= SETTLED_SHARE ? "settled" : "edge";
    }
    var kept = productShare(alpha, stroke, scale, 1);
    var share = stroke.kind === "keep" ? kept : 1 - kept;
    return share >= DONE_SHARE ? "done" : share <= 1 - DONE_SHARE ? "missed" : "partly";
  }
  /* Whether the cutout's edge (alpha crossing 128) runs under a stroke's brush: some of what
     it covers kept, some removed (more than EDGE_MIN_SHARE each). */
  function edgeUnder(alpha, stroke, scale) {
    var kept = productShare(alpha, stroke, scale, 1);
    return kept > EDGE_MIN_SHARE && kept < 1 - EDGE_MIN_SHARE;
  }
  /* Whether what ``strokes``' brushes cover (the strokes weighed alike) lies mostly on what
     the cutout removed: at least REMOVED_SHARE of it below alpha 128 (``productShare`` over
     the brush, as ``edgeUnder`` reads it). */
  function removedUnder(alpha, strokes, scale) {
    var kept = strokes.reduce(function (sum, s) {
      return sum + productShare(alpha, s, scale, 1);
    }, 0) / Math.max(strokes.length, 1);
    return 1 - kept >= REMOVED_SHARE;
  }
  /* Whether two strokes' brushes meet: a point of one within both radii of the other's path
     (full-size photo px). */
  function strokesMeet(a, b) {
    var reach = a.radius + b.radius;
    var near = function (p, s) {
      var pts = s.points;
      for (var i = 0; i < pts.length; i++) {
        var ax = pts[i][0], ay = pts[i][1], q = pts[Math.min(i + 1, pts.length - 1)];
        var dx = q[0] - ax, dy = q[1] - ay, l2 = dx * dx + dy * dy;
        var t = l2 > 0 ? Math.max(0, Math.min(1, ((p[0] - ax) * dx + (p[1] - ay) * dy) / l2)) : 0;
        var ex = p[0] - ax - t * dx, ey = p[1] - ay - t * dy;
        if (ex * ex + ey * ey <= reach * reach) return true;
      }
      return false;
    };
    return a.points.some(function (p) { return near(p, b); }) ||
           b.points.some(function (p) { return near(p, a); });
  }

  window.cutroomRetouchMeasure = {
    reachMask: reachMask, productShare: productShare, farFrom: farFrom, wholePieces: wholePieces,
    faintWhole: faintWhole, faintPieces: faintPieces, givenBack: givenBack, engineBack: engineBack,
    hazeTest: hazeTest, softUnder: softUnder, underVerdict: underVerdict, edgeUnder: edgeUnder,
    removedUnder: removedUnder, strokesMeet: strokesMeet,
    CHANGE_MIN: CHANGE_MIN, SOFT_LOW: SOFT_LOW, SOFT_HIGH: SOFT_HIGH, FAR_PX: FAR_PX,
    EDGE_MIN_SHARE: EDGE_MIN_SHARE, SETTLED_SHARE: SETTLED_SHARE, GIVEN_SHARE: GIVEN_SHARE
  };
})();
