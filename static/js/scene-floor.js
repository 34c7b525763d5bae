// Floor-line editor: drag (or arrow keys) the line over the background; the form's
// floor_pct input follows, and typing in the input moves the line.
(function () {
  "use strict";
  var editor = document.getElementById("floor-editor");
  if (!editor) return;
  var line = document.getElementById("floor-line");
  var input = document.getElementById(editor.dataset.input);
  var img = editor.querySelector("img");

  function show(pct) {
    pct = Math.max(0, Math.min(100, pct));
    line.style.top = pct + "%";
    line.setAttribute("aria-valuenow", pct.toFixed(1));
    return pct;
  }
  function set(pct) {
    input.value = show(pct).toFixed(1);
  }
  function fromEvent(ev) {
    var r = img.getBoundingClientRect();
    return ((ev.clientY - r.top) / r.height) * 100;
  }
  var dragging = false;
  function start(ev) {
    dragging = true;
    set(fromEvent(ev));
    ev.preventDefault();
  }
  editor.addEventListener("pointerdown", start);
  window.addEventListener("pointermove", function (ev) { if (dragging) set(fromEvent(ev)); });
  window.addEventListener("pointerup", function () { dragging = false; });
  line.addEventListener("keydown", function (ev) {
    var step = ev.shiftKey ? 5 : 0.5;
    if (ev.key === "ArrowUp") { set(parseFloat(input.value) - step); ev.preventDefault(); }
    if (ev.key === "ArrowDown") { set(parseFloat(input.value) + step); ev.preventDefault(); }
  });
  input.addEventListener("input", function () { show(parseFloat(input.value) || 0); });
  show(parseFloat(input.value) || 0);
})();
