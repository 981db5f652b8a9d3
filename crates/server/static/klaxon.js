// Klaxon's page script: follows an open incident's timeline as it is written.
// Everything works without it; it only saves a reload.
(function () {
  "use strict";
  function follow() {
    var timeline = document.getElementById("timeline");
    if (!timeline || !timeline.dataset.live || !window.EventSource) return;
    var source = new EventSource(timeline.dataset.live);
    source.addEventListener("event", function (e) {
      if (document.getElementById("event-" + e.lastEventId)) return;
      timeline.insertAdjacentHTML("afterbegin", e.data);
      var added = timeline.firstElementChild;
      if (added) added.classList.add("new");
    });
    source.addEventListener("changed", function () {
      // The header and the actions the new state allows; forms being filled are kept.
      var active = document.activeElement;
      if (active && active.form && active.value) return;
      if (window.htmx) {
        htmx.ajax("GET", location.pathname, { target: "#summary", select: "#summary", swap: "outerHTML" });
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", follow);
  } else {
    follow();
  }
})();
