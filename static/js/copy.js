/* Copy buttons for secrets shown once (a new API key, a new signing secret).
 *
 *   <button type="button" data-copy="#new-token" hidden>Copy</button>
 *   <span data-copy-status aria-live="polite"></span>   (optional, next to the button)
 *
 * The button stays hidden without JS: the secret itself is selectable (class "secret" selects
 * all of it on one tap). With JS it copies through the Clipboard API; where that is missing or
 * refused (plain http, an old browser) it falls back to execCommand("copy") on a selection of
 * the secret, and if even that fails it leaves the secret selected and says to copy it.
 */
(function () {
  "use strict";

  function selectText(node) {
    const range = document.createRange();
    range.selectNodeContents(node);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  async function copy(node) {
    const text = node.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch (err) {
        // refused (no permission, document not focused): try the selection below
      }
    }
    selectText(node);
    try {
      return document.execCommand("copy");
    } catch (err) {
      return false;
    }
  }

  function init(button) {
    const target = document.querySelector(button.dataset.copy);
    if (!target) return;
    const status = button.parentElement.querySelector("[data-copy-status]");
    button.hidden = false;
    button.addEventListener("click", async () => {
      const copied = await copy(target);
      if (!copied) selectText(target);
      if (status) {
        status.textContent = copied ? "Copied." : "Selected: copy it with your device's Copy.";
      }
      button.dataset.copied = copied ? "true" : "false";
    });
  }

  function start() {
    document.querySelectorAll("button[data-copy]").forEach(init);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
