/* Page chrome: the top navigation's menu button on narrow screens (below 800 px the links
   fold into a panel that this button opens; Esc or a click elsewhere closes it). */
(function () {
  "use strict";

  function setOpen(bar, open) {
    bar.dataset.menu = open ? "open" : "closed";
    var button = bar.querySelector("[data-nav-toggle]");
    if (button) button.setAttribute("aria-expanded", String(open));
  }

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("[data-nav-toggle]");
    var bar = document.querySelector(".topbar");
    if (!bar) return;
    if (button) { setOpen(bar, bar.dataset.menu !== "open"); return; }
    if (bar.dataset.menu === "open" && !ev.target.closest(".menu")) setOpen(bar, false);
  });
  document.addEventListener("keydown", function (ev) {
    var bar = document.querySelector(".topbar");
    if (ev.key === "Escape" && bar && bar.dataset.menu === "open") {
      setOpen(bar, false);
      var button = bar.querySelector("[data-nav-toggle]");
      if (button) button.focus();
    }
  });
})();
