// Live updates for the fax inbox: every element with data-poll-url is refreshed from that URL
// (a server-rendered, escaped HTML fragment) once a second, without reloading the page.
(function () {
  "use strict";

  var POLL_MS = 1000;

  function liveEnabled() {
    var toggle = document.querySelector(".live-toggle");
    return !toggle || toggle.checked;
  }

  function setStatus(text) {
    var status = document.querySelector(".live-status");
    if (status) status.textContent = text;
  }

  // Replacing markup drops keyboard focus; put it back on the same link if it is still there.
  function replaceKeepingFocus(target, html) {
    var focused = document.activeElement;
    var key = focused && target.contains(focused) ? focused.getAttribute("data-focus-key") : null;
    target.innerHTML = html;
    if (key) {
      var again = target.querySelector('[data-focus-key="' + CSS.escape(key) + '"]');
      if (again) again.focus();
    }
  }

  function poll(target) {
    var url = target.getAttribute("data-poll-url");
    var last = null;
    var busy = false;

    async function tick() {
      if (busy || document.hidden || !liveEnabled()) return;
      busy = true;
      try {
        var response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
        if (response.status === 404) {
          setStatus("This fax is gone (the emulator was reset).");
          return;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        var html = await response.text();
        if (html !== last) {
          replaceKeepingFocus(target, html);
          last = html;
        }
        setStatus("Updated " + new Date().toLocaleTimeString());
      } catch (error) {
        setStatus("Can't reach the emulator; retrying.");
      } finally {
        busy = false;
      }
    }

    tick();
    window.setInterval(tick, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var targets = document.querySelectorAll("[data-poll-url]");
    if (!targets.length) return;
    document.querySelectorAll(".live").forEach(function (element) { element.hidden = false; });
    targets.forEach(poll);
  });
})();
