// Whether the answer to a page's own fetch or XHR is the login page instead of what was asked:
// the session ended (a logout in another tab, an expiry). The server redirects such a request
// to the login page, which fetch and XHR follow without a word and answer 200 with its HTML
// (QA 2026-12-06: "its picture did not decode", "could not start (HTTP 200)"). htmx requests
// are sent to the login page whole by the server instead (config.login). One test for every
// script: window.cutroomSession.loggedOut(answer), answer a fetch Response or an XHR.
(function () {
  "use strict";

  function loginPath() {
    return (document.body && document.body.dataset.loginUrl) || "/accounts/login/";
  }

  function loggedOut(answer) {
    if (!answer) return false;
    if (answer.status === 401) return true;
    // a POST whose session went with its CSRF cookie: config.views.csrf_failure says so
    // (QA qa42c L6: it read "this page is older than your latest login")
    var refused = answer.headers && answer.headers.get ? answer.headers.get("X-Cutroom-Refused")
      : answer.getResponseHeader ? answer.getResponseHeader("X-Cutroom-Refused") : "";
    if (answer.status === 403 && refused === "login") return true;
    var url = answer.responseURL !== undefined ? answer.responseURL : answer.url;
    try {
      if (url && new URL(url, location.href).pathname === loginPath()) return true;
    } catch (e) { /* no address: not the login page */ }
    // redirected to an HTML page where a picture or JSON was asked (a login page elsewhere)
    var type = (answer.headers && answer.headers.get ? answer.headers.get("Content-Type")
      : answer.getResponseHeader ? answer.getResponseHeader("Content-Type") : "") || "";
    return !!answer.redirected && /^text\/html/i.test(type);
  }

  // The login page, back to this page once logged in.
  function loginUrl() {
    return loginPath() + "?next=" + encodeURIComponent(location.pathname + location.search);
  }

  // ``words`` inside ``el``'s text become the link to the login page.
  function linkLogin(el, words) {
    var text = el.textContent, at = text.indexOf(words);
    if (at < 0) return;
    var a = document.createElement("a");
    a.href = loginUrl();
    a.textContent = words;
    a.setAttribute("data-login-again", "");
    el.replaceChildren(text.slice(0, at), a, text.slice(at + words.length));
  }

  window.cutroomSession = { loggedOut: loggedOut, loginUrl: loginUrl, linkLogin: linkLogin };
})();
