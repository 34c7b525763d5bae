// Selecting rows in lists: checkboxes [data-select-item] inside a form [data-selection];
// shift-click sets every box between the last click and this one; [data-select-page] ticks
// the page; [data-select-matching] stands for every row the current filter matches.
// Also the Original / Cutout / Both thumbnail toggle ([data-thumb-toggle]).
(function () {
  "use strict";
  let last = null;

  // Boxes inside the form, or outside it with form="<id>" (the product page's image grid).
  function items(form) {
    return Array.from(document.querySelectorAll("input[data-select-item]"))
      .filter((b) => b.form === form);
  }

  function formOf(el) {
    const form = el.form || el.closest("form");
    return form && form.matches("[data-selection]") ? form : null;
  }

  function update(form) {
    const boxes = items(form);
    const n = boxes.filter((b) => b.checked).length;
    const matching = form.querySelector("input[data-select-matching]");
    const all = Boolean(matching && matching.checked);
    const count = form.querySelector("[data-selection-count]");
    if (count) {
      count.textContent = all ? `All ${matching.dataset.total} matching selected` : `${n} selected`;
    }
    // Served enabled so they work without script (the server refuses an empty selection
    // with a message); here they wait for a tick.
    form.querySelectorAll("[data-needs-selection]").forEach((b) => { b.disabled = !(all || n); });
    const page = form.querySelector("input[data-select-page]");
    if (page) {
      page.checked = n > 0 && n === boxes.length;
      page.indeterminate = n > 0 && n < boxes.length;
    }
    form.classList.toggle("has-selection", all || n > 0);
  }

  function updateAll() {
    document.querySelectorAll("[data-selection]").forEach(update);
  }

  document.addEventListener("click", (event) => {
    const box = event.target.closest("input[data-select-item]");
    if (!box) return;
    const form = formOf(box);
    if (!form) return;
    const boxes = items(form);
    // The clicked box has already toggled; the range takes its new state.
    if (event.shiftKey && last && last !== box && boxes.includes(last)) {
      const [a, b] = [boxes.indexOf(last), boxes.indexOf(box)].sort((x, y) => x - y);
      for (let i = a; i <= b; i += 1) boxes[i].checked = box.checked;
    }
    last = box;
    const matching = form.querySelector("input[data-select-matching]");
    if (matching && !box.checked) matching.checked = false;
    update(form);
  });

  document.addEventListener("change", (event) => {
    const form = event.target.matches("input") ? formOf(event.target) : null;
    if (!form) return;
    if (event.target.matches("input[data-select-page]")) {
      items(form).forEach((b) => { b.checked = event.target.checked; });
    }
    if (event.target.matches("input[data-select-matching]") && event.target.checked) {
      items(form).forEach((b) => { b.checked = true; });
    }
    update(form);
  });

  function applyView(view) {
    document.querySelectorAll("[data-thumb-scope]").forEach((scope) => {
      scope.dataset.thumbView = view;
    });
    document.querySelectorAll("[data-thumb-toggle] button").forEach((b) => {
      b.setAttribute("aria-pressed", String(b.dataset.view === view));
    });
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-thumb-toggle] button[data-view]");
    if (!button) return;
    try { localStorage.setItem("cutroom.thumbView", button.dataset.view); } catch (e) { /* private mode */ }
    applyView(button.dataset.view);
  });

  function init() {
    updateAll();
    let view = "both";
    try { view = localStorage.getItem("cutroom.thumbView") || "both"; } catch (e) { /* private mode */ }
    applyView(view);
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSwap", init);
})();
