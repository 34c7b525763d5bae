/* The review card's pictures end above the stuck decision bar when the card opens.
 *
 * QA 2026-12-04 (1366 x 900): the bar stuck to the bottom of the screen hid the lowest 22 px
 * of a compare picture that nearly fitted, and nothing showed that the picture went on (the
 * page's scroll-padding only helps once something scrolls). review.css caps every card
 * picture at --rv-fit; this sets it on the visible stage to the height left between where
 * the stage's pictures start in the page and the bar, so the whole picture shows above it.
 * A picture that would lose more than a quarter of its height to fit (or end under 40 % of
 * the screen) is left as it was: it clearly goes on under the bar, and scrolling it into
 * view stops above the bar (scroll-padding-bottom, review.css).
 */
(function () {
  "use strict";

  var STAGES = ".rv-stage-side, .rv-stage-slider, .rv-stage-mask, .rv-stage-market";
  var PICTURES = ".rv-frame img, .rv-compare > img";
  var GAP = 8; // px kept between a picture's frame and the bar

  function fit() {
    var card = document.querySelector(".rv-card");
    if (!card) return;
    var viewer = card.querySelector(".rv-viewer");
    var bar = card.querySelector(".rv-actions");
    card.querySelectorAll(STAGES).forEach(function (stage) {
      stage.style.removeProperty("--rv-fit");
    });
    // The bar sticks only beside a viewer that is not retouching (review.css).
    if (!viewer || !bar || viewer.dataset.mode === "retouch" ||
        getComputedStyle(bar).position !== "sticky") return;
    var stage = Array.prototype.find.call(card.querySelectorAll(STAGES),
      function (s) { return !s.hidden && s.offsetParent; });
    if (!stage) return;
    // where the page's pictures are with the page at its top, as the card opens
    var bottom = 0, tallest = 0;
    stage.querySelectorAll(PICTURES).forEach(function (img) {
      if (!img.offsetParent) return;
      var r = img.getBoundingClientRect();
      bottom = Math.max(bottom, r.bottom + window.scrollY);
      tallest = Math.max(tallest, r.height);
    });
    if (!tallest) return;
    var screen = window.innerHeight;
    var end = screen - bar.getBoundingClientRect().height - GAP;
    if (bottom <= end) return; // already above the bar
    var room = Math.floor(end - (bottom - tallest));
    if (room >= Math.min(0.4 * screen, 0.75 * tallest)) {
      stage.style.setProperty("--rv-fit", room + "px");
    }
  }

  var pending = false;
  function later() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; fit(); });
  }

  document.addEventListener("DOMContentLoaded", fit);
  window.addEventListener("load", later);
  window.addEventListener("resize", later);
  // a new card (htmx), a dismissed pre-flag's line, another view: measured again
  document.addEventListener("htmx:afterSettle", later);
  document.addEventListener("click", function (ev) {
    if (ev.target.closest && ev.target.closest("[data-rv-mode]")) later();
  });
  document.addEventListener("load", function (ev) {
    if (ev.target.matches && ev.target.matches(".rv-card .rv-stage img:not(.rv-loupe img)")) {
      later();
    }
  }, true);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(later);
})();
