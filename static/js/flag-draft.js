/* A flag being written on a review card is kept in the tab (sessionStorage, per version) until
   it is sent: a reload (the "Reload the page" of request-failed.js), the login page an ended
   session's poll goes to, or a card left and opened again gave back an empty form, the typed
   comment lost (session 37's closing note). The card that comes back with an empty flag form
   opens it with the reasons and comment restored and says so; a flag sent and not refused
   takes its draft away. */
(function () {
  "use strict";

  var PREFIX = "cutroom.flagDraft.";
  var sent = "";  // the version whose flag is on its way
  var shown = "";  // the card a draft was last looked for: a poll's swap does not reopen it

  function store() {
    try { return window.sessionStorage; } catch (e) { return null; }  // private mode: no drafts
  }
  function flagForm(root) { return root && root.querySelector('form[data-rv-panel="flag"]'); }
  function keyOf(form) {
    var c = form && form.closest("#review-card");
    return c && c.dataset.cutout ? PREFIX + c.dataset.cutout : "";
  }
  function read(form) {
    var ticks = Array.prototype.map.call(
      form.querySelectorAll('input[name="reason"]:checked'), function (i) { return i.value; });
    var comment = form.querySelector('[name="comment"]');
    return { reasons: ticks, comment: comment ? comment.value : "" };
  }

  function save(form) {
    var s = store(), key = keyOf(form);
    if (!s || !key) return;
    var d = read(form);
    if (d.reasons.length || d.comment.trim()) s.setItem(key, JSON.stringify(d));
    else s.removeItem(key);
  }

  function restore() {
    var s = store(), c = document.getElementById("review-card"), form = flagForm(c);
    if (!s || !form || c.dataset.cutout === shown) return;
    shown = c.dataset.cutout;
    var key = keyOf(form), raw = key && s.getItem(key);
    if (!raw) return;
    var now = read(form);
    if (now.reasons.length || now.comment.trim()) return;  // the server's own (a refused flag)
    var d;
    try { d = JSON.parse(raw); } catch (e) { s.removeItem(key); return; }
    Array.prototype.forEach.call(form.querySelectorAll('input[name="reason"]'), function (i) {
      i.checked = (d.reasons || []).indexOf(i.value) >= 0;
    });
    var comment = form.querySelector('[name="comment"]');
    if (comment) comment.value = d.comment || "";
    var open = c.querySelector('[data-rv-open="flag"]');
    if (open) open.click(); else form.hidden = false;
    var say = form.querySelector("[data-rv-draft]");
    if (!say) {
      say = document.createElement("p");
      say.className = "muted";
      say.setAttribute("data-rv-draft", "");
      say.setAttribute("role", "status");
      var legend = form.querySelector("legend");
      if (legend) legend.after(say); else form.prepend(say);
    }
    say.textContent = "Your unsent flag was restored.";
  }

  document.addEventListener("input", function (ev) {
    var form = ev.target.closest && ev.target.closest('form[data-rv-panel="flag"]');
    if (form) save(form);
  });
  document.addEventListener("change", function (ev) {
    var form = ev.target.closest && ev.target.closest('form[data-rv-panel="flag"]');
    if (form) save(form);
  });
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var elt = ev.detail && ev.detail.elt;
    if (elt && elt.matches && elt.matches('form[data-rv-panel="flag"]')) {
      save(elt);  // a tick by key sets no input event
      sent = keyOf(elt);
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var s = store();
    if (sent && s) {
      // refused (the card came back with the flag open and its error): the draft stays
      var c = document.getElementById("review-card");
      if (!(c && c.querySelector(".rv-flag .rv-error"))) s.removeItem(sent);
      sent = "";
      shown = "";
    }
    restore();
  });
  document.addEventListener("DOMContentLoaded", restore);
})();
