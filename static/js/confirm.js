// Forms marked data-confirm="question" ask before submitting, and so does a submit button
// marked data-confirm (a form with several actions asks only for the dangerous one). Replaces
// inline onsubmit handlers, which the Content-Security-Policy (no 'unsafe-inline' scripts)
// blocks. The button's question wins over the form's: it names the action clicked.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var submitter = event.submitter;
    var asker = submitter && submitter.hasAttribute("data-confirm") ? submitter
      : form.hasAttribute("data-confirm") ? form : null;
    if (!asker) return;
    if (!window.confirm(asker.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
