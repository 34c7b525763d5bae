// The product page's "Replace the image at this position": ticking it, or choosing a position
// while it is ticked, asks first when the image grid shows an image at that position, naming
// it and its status (an approved or exported MAIN is what a slip would cost most), because
// the upload deletes it. Cancelling unticks the box. The grid is read at that moment, so an
// image uploaded or deleted since the page loaded counts. Script file, not inline: the
// Content-Security-Policy allows no inline script (as static/js/confirm.js).
(function () {
  "use strict";

  function question(position) {
    var figure = document.querySelector(
      '#asset-grid figure[data-position="' + position.replace(/"/g, "") + '"]');
    if (!figure) return "";
    var nameEl = figure.querySelector("figcaption [title]");
    var chip = figure.querySelector("figcaption [data-status]");
    var name = nameEl ? nameEl.getAttribute("title") : "an image";
    var status = chip ? chip.getAttribute("data-status") : "";
    var label = chip ? chip.textContent.trim() : "";
    var warn = status === "exported" ? " It was exported: marketplaces may already show it."
      : status === "approved" ? " Its cutout is approved." : "";
    return "Replace " + position + " (" + name + (label ? ", " + label : "") + ")?" + warn +
      " The next file uploaded here takes " + position + " and that image is deleted (its file" +
      " is kept until purge).";
  }

  function check(form) {
    var box = form.querySelector("input[name=replace]");
    var select = form.querySelector("select[name=position]");
    if (!box || !select || !box.checked || !select.value) return;
    var ask = question(select.value);
    if (ask && !window.confirm(ask)) box.checked = false;
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLElement) || !target.closest) return;
    var form = target.closest("form[data-replace-confirm]");
    if (form && (target.getAttribute("name") === "replace" ||
                 target.getAttribute("name") === "position")) check(form);
  });
})();
