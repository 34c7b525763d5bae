/* Retouch: the words of a stroke's report (pure, no DOM): fitting a report to STATUS_MAX
   with the rest behind "more" (fitReport), what changed in shares and pixels (changeParts),
   the tips for detail strokes over removed area (keepThen) or on a solid edge (solidEdgeTip),
   the verdicts' and hints' fixed texts and counted(). Moved out of retouch.js verbatim
   (2026-12-07, split43); retouch.js's report reads them from window.cutroomRetouchWords.
   SHOW, the far words' "(show)", since 2026-12-07 (reflash43).
   Needs retouch-measure.js loaded first. */
(function () {
  "use strict";

  var strokesMeet = window.cutroomRetouchMeasure.strokesMeet;
  var GIVEN_SHARE = window.cutroomRetouchMeasure.GIVEN_SHARE;
  // A stroke's report shows at most STATUS_MAX characters: what changed, what to do and how to
  // undo it; its why and the preview's line go behind "more" (QA 2026-12-06: 20 of 108
  // reports were longer than the ~290 characters two lines hold at 1280 px, the mesh report
  // 469-508, cut before its "Ctrl+Z undoes it"). The Faint share said after a report (H on)
  // goes behind "more" too when the line would pass STATUS_MAX.
  var STATUS_MAX = 200;

  /* A report's words: ``pieces`` ([text, how]) in order, each with how = true always on the
     line, the others while it stays within STATUS_MAX. What does not fit goes behind "more":
     advice (how = false) before ``more`` (the why), "tail" pieces (the preview's line) after
     it; a "drop" piece (the timing) shows only after the piece before it, or nowhere. */
  function fitReport(pieces, more) {
    var size = pieces.reduce(function (sum, p) { return sum + (p[1] === true && p[0] ? p[0].length + 1 : 0); }, 0);
    var shown = [], advice = [], tail = [], last = true;
    pieces.forEach(function (p) {
      if (!p[0]) return;
      if (p[1] === true) { shown.push(p[0]); last = true; return; }
      last = (p[1] !== "drop" || last) && size + p[0].length + 1 <= STATUS_MAX + 1;
      if (last) { shown.push(p[0]); size += p[0].length + 1; }
      else if (p[1] === "tail") tail.push(p[0]);
      else if (p[1] !== "drop") advice.push(p[0]);
    });
    return { text: shown.join(" "), more: advice.concat(more || [], tail).filter(Boolean).join(" ") };
  }

  // The far words' "(show)": the flash was gone before a reviewer read them (1.8 s; on a phone
  // the line is cut to "… more" and its panel covers the picture), and only Undo / Redo showed
  // where it changed again (verify43 L2). retouch.js ``say`` drops the words and puts a "show
  // change" button beside the line (outside its clamp since lows44) that flashes the last
  // report's change again (C), none when it has no flash to show.
  var SHOW = "(show)";
  // A burst that took more than MOST_TAKEN of what the cutout held (alpha >= 128) says "most
  // of the cutout", and one that left none of it "the whole cutout": a piece taken whole is
  // left out of the far words (wholePieces), so when that piece was the whole cutout (QA
  // qa44r L4, 2026-12-07, dev 015: a remove click in the rider's wheel took him, all the
  // cutout held, 83 px beyond its brush) "took 100 % of the cutout (red)" was the only cue.
  var MOST_TAKEN = 0.5;

  /* What a stroke changed, in words: "took 3 % of the cutout (red)", "added an area 2.9× the
     cutout's size (green)" ... Shares are of the cutout as it was, until what changed is more
     than the cutout was (a keep click on a wrong-subject cutout "added 287.8 %", QA
     2026-12-03): then an area as a multiple of its size, or a share of the photo when there
     was no cutout. */
  function changeParts(change, pixels) {
    var pct = function (p) { return (p < 0.1 ? "< 0.1" : String(Math.round(p * 10) / 10)) + " %"; };
    // the whole a share is of is named once, by its first share: a detail stroke's three
    // shares each "of the cutout" pushed the preview's timing and "Enter applies" off the
    // line at 1366 x 768 (QA 2026-12-06)
    var named = "";
    var share = function (n) {
      // "took / changed the alpha of 2.5× the cutout" read as impossible (QA 2026-12-04)
      // and "an area 1× the cutout's size" for one just larger read as the same size (QA 2026-12-06)
      if (change.had && n > change.had) {
        var times = Math.round(n / change.had * 10) / 10;
        return times < 1.1 ? "an area about the cutout's size" : "an area " + times + "× the cutout's size";
      }
      var of = change.had ? " of the cutout" : " of the photo";
      var said = named === of;
      named = of;
      return pct(n / (change.had || Math.max(pixels, 1)) * 100) + (said ? "" : of);
    };
    var parts = [];
    // a click of the other kind on what an earlier stroke took (added) beyond its brush gives
    // it back as it was (retouch_cut._undone_beyond; givenBack in retouch-measure.js): said
    // so, not as a bare "added 0.3 %" of something new (verify44 L3, 2026-12-07)
    var back = "";
    if (change.back) {
      var many = change.back.n > 1;
      // "the earlier remove click", "the earlier keep strokes" (painted, or of both sorts)
      back = "the earlier " + change.back.kind + " " + (change.back.clicks || "stroke") + (many ? "s " : " ");
    }
    // "gave back what the earlier remove stroke took beyond its brush (0.3 % of the cutout, green)"
    var gave = function (verb, done, n, colour) {
      var where = change.back.beyond ? " beyond " + (change.back.n > 1 ? "their brushes" : "its brush") : "";
      if (!change.back.exact) return verb + " what " + back + done + where + " (" + share(n) + ", " + colour + ")";
      // the engine's count (engineBack): "(618 px, 0.3 % of the cutout, green)" when it is
      // (nearly) all the burst crossed that way; when the click also brought (took) more
      // than it gave back, both are said (verify45 M2, 2026-12-07 signal46: a keep click that
      // gave back 1026 px and added 7.7 % was "added 7.7 % …, also changed 1026 px beyond")
      var px = change.back.px;
      if (px >= GIVEN_SHARE * n) return verb + " what " + back + done + where + " (" + px + " px, " + share(n) + ", " + colour + ")";
      return verb + " " + px + " px " + back + done + where + "; " + (colour === "green" ? "added " : "took ") +
             share(n - px) + " more (" + colour + ")";
    };
    // what the cutout holds after it (taken: crossed below 128, added: crossed above)
    var left = change.had - change.taken + (change.added || 0);
    if (change.taken && change.had && change.taken <= change.had && left <= 0) {
      parts.push("took the whole cutout (red): nothing is left");
      named = " of the cutout";
    } else if (change.taken && change.had && change.taken > MOST_TAKEN * change.had &&
               change.taken <= change.had) {
      // never "100 %" while some of it is left
      parts.push("took most of the cutout (" + pct(Math.min(change.taken / change.had * 100, 99.9)) + ", red)");
      named = " of the cutout";
    } else if (change.taken) {
      // only the burst's own way is given back: a keep click's few pixels taken are not
      // "took back what the earlier remove click added" (reread45)
      parts.push(back && change.back.kind === "keep" ? gave("took back", "added", change.taken, "red") :
                 "took " + share(change.taken) + " (red)");
    }
    if (change.added) {
      parts.push(back && change.back.kind === "remove" ? gave("gave back", "took", change.added, "green") :
                 "added " + share(change.added) + " (green)");
    }
    // faint alpha cleared (haze a remove stroke took) is said so, not as a changed alpha, and
    // as a share of the faint alpha there was, in pixels too: "cleared the faint alpha of
    // 81.2 % of the cutout" read as most of the cutout gone for a stroke that took 2.7 % of
    // it (QA 2026-12-06, dev 093)
    var faint = change.cleared * 2 >= change.faded;
    // a faint piece a remove stroke landed on, taken whole (faintWhole in retouch-measure.js:
    // a ghost or speck the cutout held below 128, apart from the rest), is named as the piece
    // it was, not as haze cleared plus a change "beyond the brush" (verify44 L2, 2026-12-07)
    if (change.piece && change.piece * 2 >= change.faded) {
      parts.push((parts.length ? "and " : "") + "took the faint " + (change.pieces > 1 ? "pieces " : "piece ") +
                 (change.brushes === "the brushes" ? "they landed on" : "it landed on") + " whole (" + change.piece + " px)");
    } else if (change.faded && faint && change.faint) {
      parts.push((parts.length ? "and " : "") + "cleared " + pct(change.cleared / change.faint * 100) +
                 " of the faint haze (" + change.cleared + " px)");
    } else if (change.faded) {
      parts.push((parts.length ? "and " : "") + (faint ? "cleared the faint alpha of " : "changed the alpha of ") + share(change.faded));
    }
    // a change far beyond the brushes (farFrom: a detail burst's, or a keep/remove burst's
    // from FAR_CUT_MIN px) is said apart, in pixels, and is in the flash with the rest
    // (flashChange paints every pixel farFrom counts), so the reviewer can look there; SHOW
    // (retouch.js ``say`` makes it a button beside the line) shows that flash again. Said
    // as a fact, not a warning: "but changed 7233 px far from the brush: check there" was
    // right on 5 of the 27 keep/remove steps of the replay cases it fired on, and accused
    // good strokes (dev 093: a remove that made 20,661 px better, 6 worse); no rule on the
    // alpha or colours told the good far changes from the bad (far42, docs/review.md)
    if (change.far) {
      // "beyond", not "more than 32 px from": a keep or remove report has the room for no more
      parts.push((parts.length ? "also " : "") + "changed " + change.far + " px beyond " +
                 (change.brushes || "the brush") + " " + SHOW);
    }
    return parts;
  }

  /* "Paint Keep (K) over what should stay, then Detail along its edge.": what to do for
     detail strokes over what the cutout removed (a matte cannot bring it back); ``keys``
     names the key. */
  function keepThen(keys) {
    return "Paint Keep" + (keys ? " (K)" : "") + " over what should stay, then Detail along its edge.";
  }

  /* The tip for detail strokes across the cutout's edge that found no soft alpha there: the
     edge is solid, and whether an earlier keep stroke under them made it so (``earlier``: the
     strokes before the burst), or what they cover lies mostly on what the cutout removed
     (``removed``, retouch-measure.js's removedUnder): then Keep first, not Remove (QA qa43r
     M1, 2026-12-07: "use Remove" over leaves the cutout had dropped); [advice, why]. */
  function solidEdgeTip(earlier, burst, keys, removed) {
    var details = burst.filter(function (s) { return s.kind === "detail"; });
    var keptBy = earlier.some(function (e) {
      return e.kind === "keep" && details.some(function (d) { return strokesMeet(e, d); });
    });
    var remove = "Remove" + (keys ? " (R)" : ""), under = details.length === 1 ? "it" : "them";
    if (keptBy) {
      return ["A keep stroke made the edge under " + under + " solid: undo that stroke, or use " + remove +
              " on what should go.", "The Detail brush only fades soft edges."];
    }
    if (removed) {
      return [keepThen(keys), "Most of what " + (details.length === 1 ? "it covers" : "they cover") +
              " is removed (hatched) and the edge there is solid: the Detail brush only fades " +
              "soft edges, it cannot bring back what the cutout removed."];
    }
    return ["The edge under " + under + " is solid: the Detail brush only fades soft edges; use " + remove +
            " on what should go.", ""];
  }
  var ACROSS = "Paint Detail across the edge, over both the hair (or fur) and the background.";
  // the server's word (X-Retouch-Mesh) that the last stroke lies over a fine pattern repeating
  // in two directions: the matte opens no holes the cutout holds solid, and across the edge
  // is the wrong advice there (QA M6, a wire-mesh cup); hair or fur is still named, as only
  // the reviewer knows what it is. MESH is said on the line, MESH_MORE behind "more".
  var MESH = "This looks like a mesh: the Detail brush cannot open its holes where the cutout holds it solid.";
  var MESH_MORE = "If they must show the background, upload a corrected PNG (a Remove click on a " +
                  "hole may take wires with it); if it is hair or fur, paint Detail across its edge.";
  // the server's word (X-Retouch-Far-Keep) on the list's last stroke, a keep click far from the
  // cutout, which the engine cut again without the model's prior (_far_keep_recut): it added
  // a whole piece the model missed, or only the spot under it (no object there, or one whose
  // bounds the photo did not show within the click's window), and "added 0.1 % of the
  // cutout" said neither (QA31 M3, hint38). A piece's words follow its share.
  var FAR_KEEP = {
    piece: "a separate piece the model had missed.",
    joined: "a part the model had missed, from the click up to the cutout.",
    spot: "kept only the spot under it (green): far from the cutout, a click cannot tell where the part under it ends."
  };
  var VERDICTS = {
    "keep done": "found what it covers already kept",
    "keep missed": "did not take what it covers: it is removed (hatched), too like the " +
                   "background (or too joined to it) to take",
    "keep partly": "did not take the removed (hatched) part of what it covers: too like the " +
                   "background (or too joined to it) to take",
    "remove done": "found what it covers already removed",
    "remove missed": "did not take what it covers: it is kept, too like the product (or too " +
                     "joined to it) for a click to take",
    "remove partly": "did not take the kept part of what it covers: too like the product (or " +
                     "too joined to it) for a click to take",
    "detail edge": "found no soft edge to fade under it",
    "detail settled": "found the soft alpha under it already fitting the photo",
    "subject alone": "found the part you clicked is all the cutout holds: nothing else to clear",
    "subject empty": "found nothing the cutout holds under it (hatched = removed)"
  };
  // a burst's words, per kind of stroke and verdict: "what they cover ..."
  var BRIEF = {
    "keep done": "is already kept", "keep missed": "is removed (hatched), not taken",
    "keep partly": "is partly removed, not taken", "remove done": "is already removed",
    "remove missed": "is kept, not taken", "remove partly": "is partly kept, not taken",
    "detail edge": "has no soft edge to fade",
    "detail settled": "has soft alpha that already fits the photo",
    "subject alone": "is all the cutout holds", "subject empty": "holds nothing of the cutout"
  };
  function counted(list) {  // "2 remove clicks, 1 keep click"
    var counts = {}, order = [];
    list.forEach(function (w) { if (!counts[w]) { counts[w] = 0; order.push(w); } counts[w]++; });
    return order.map(function (w) { return counts[w] + " " + w + (counts[w] === 1 ? "" : "s"); }).join(", ");
  }

  window.cutroomRetouchWords = {
    fitReport: fitReport, changeParts: changeParts, solidEdgeTip: solidEdgeTip, keepThen: keepThen,
    counted: counted,
    ACROSS: ACROSS, MESH: MESH, MESH_MORE: MESH_MORE, FAR_KEEP: FAR_KEEP, VERDICTS: VERDICTS,
    BRIEF: BRIEF, STATUS_MAX: STATUS_MAX, SHOW: SHOW, MOST_TAKEN: MOST_TAKEN
  };
})();
