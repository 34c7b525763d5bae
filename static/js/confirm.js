// Forms marked data-confirm="question" ask before submitting. Replaces inline onsubmit
// handlers, which the Content-Security-Policy (no 'unsafe-inline' scripts) blocks.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
