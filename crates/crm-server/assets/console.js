// The agents' console script (ADR 0024): sends the session's anti-forgery token with every
// htmx request, listens to the agent's event stream and loads the card of an incoming call
// into the reserved slot, and binds the keyboard shortcuts (`?` lists them). No inline script anywhere.
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

  // Shortcuts (unless typing in a field): "/" the customer search, "g h" home, "g c" the
  // case list, "?" the help dialog (Esc closes it, the browser's own dialog behaviour).
  var help = document.getElementById("shortcuts");
  var pendingG = 0;
  document.addEventListener("keydown", function (e) {
    var t = e.target && e.target.tagName;
    if (t === "INPUT" || t === "TEXTAREA" || t === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) { return; }
    if (help && help.open) { return; }
    if (e.key === "/") {
      var search = document.getElementById("search");
      if (search) { e.preventDefault(); search.focus(); } else { window.location.assign("/"); }
    } else if (e.key === "?" && help && help.showModal) {
      e.preventDefault();
      help.showModal();
    } else if (e.key === "g") {
      pendingG = Date.now();
    } else if (pendingG && Date.now() - pendingG < 1500 && (e.key === "h" || e.key === "c")) {
      pendingG = 0;
      window.location.assign(e.key === "h" ? "/" : "/console/cases");
    } else {
      pendingG = 0;
    }
  });
})();
