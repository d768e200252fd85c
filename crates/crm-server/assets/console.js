// The agents' console script (ADR 0024): sends the session's anti-forgery token with every
// htmx request, listens to the agent's event stream and loads the card of an incoming call
// into the reserved slot, and binds the keyboard shortcuts. No inline script anywhere.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : null;

  document.body.addEventListener("htmx:configRequest", function (e) {
    if (csrf) { e.detail.headers["X-CSRF-Token"] = csrf; }
  });

  var slot = document.getElementById("pop");
  if (slot && csrf && window.EventSource) {
    var stream = new EventSource("/api/v1/events");
    stream.addEventListener("ready", function () {
      document.documentElement.setAttribute("data-stream", "ready");
    });
    stream.addEventListener("screen_pop", function (ev) {
      var pop;
      try { pop = JSON.parse(ev.data); } catch (_) { return; }
      if (!pop || !pop.interaction || !pop.interaction.id) { return; }
      var url = "/console/pop/" + encodeURIComponent(pop.interaction.id);
      htmx.ajax("GET", url, { target: "#pop", swap: "innerHTML" }).then(function () {
        document.dispatchEvent(new CustomEvent("crm:pop-painted", { detail: { interaction: pop.interaction.id } }));
      });
    });
  }

  // "/" focuses the customer search (unless typing in a field).
  document.addEventListener("keydown", function (e) {
    var t = e.target && e.target.tagName;
    if (e.key === "/" && t !== "INPUT" && t !== "TEXTAREA" && t !== "SELECT") {
      var search = document.getElementById("search");
      if (search) { e.preventDefault(); search.focus(); }
    }
  });
})();
