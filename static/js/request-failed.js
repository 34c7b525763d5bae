/* An htmx action or poll that failed where no page says it itself: the pages answer their own
   refusals with 200 and the words in the swap (the retouch editor says its 422 and the rest in
   its status line), but a 403 (a page older than the login: config.views.csrf_failure), a 404
   (deleted meanwhile), a 429, a 500 or no answer at all swap nothing, and Approve seemed to do
   nothing (QA 2026-12-06, session 37: a second tab after a re-login). Said once, at the top of
   the page, with a Reload button; a later poll that succeeds takes a failed poll's words away.
   Its words for why (window.cutroomRequest.why(xhr)) are the retouch editor's too, which says
   an Apply's failure in its own status line. */
(function () {
  "use strict";

  // Why an htmx request failed, in words for the user (no capital, no full stop): xhr the
  // request's, or none when nothing answered.
  function why(xhr) {
    if (!xhr || !xhr.status) return "the server did not answer";
    var refused = xhr.getResponseHeader && xhr.getResponseHeader("X-Cutroom-Refused");
    if (xhr.status === 403 && refused === "csrf")
      return "this page is older than your latest login (perhaps in another tab)";
    if (xhr.status === 403) return "you may not do this";
    if (xhr.status === 404) return "it is gone (deleted meanwhile?)";
    if (xhr.status === 429) return "too many requests: wait a minute";
    return "the server failed (HTTP " + xhr.status + ")";
  }

  function show(text, poll) {
    var main = document.getElementById("main-content");
    if (!main) return;
    var box = document.getElementById("request-failed");
    if (!box) {
      box = document.createElement("div");
      box.id = "request-failed";
      box.className = "msg msg-error request-failed";
      box.setAttribute("role", "alert");
      main.insertBefore(box, main.firstChild);
    }
    box.dataset.poll = poll ? "1" : "";
    var reload = document.createElement("button");
    reload.type = "button";
    reload.textContent = "Reload the page";
    reload.addEventListener("click", function () { location.reload(); });
    box.replaceChildren(text + " ", reload);
  }

  function failed(ev) {
    var d = ev.detail || {}, elt = d.elt;
    // the retouch editor says its own failures, beside the strokes it keeps
    if (elt && elt.closest && elt.closest("[data-retouch]")) return;
    var verb = ((d.requestConfig && d.requestConfig.verb) || "get").toLowerCase();
    var poll = verb === "get";
    show((poll ? "Could not update this page: " : "Not done, nothing was changed: ") +
      why(d.xhr) + ".", poll);
  }

  window.cutroomRequest = { why: why };
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:afterRequest", function (ev) {
    var box = document.getElementById("request-failed");
    if (box && box.dataset.poll && ev.detail && ev.detail.successful) box.remove();
  });
})();
