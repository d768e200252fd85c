// The agents' console script (ADR 0024): sends the session's anti-forgery token with every
// htmx request, listens to the agent's event stream (the card of an incoming call into the
// reserved slot, reminders as notices), and binds the keyboard shortcuts (`?` lists them). No inline script anywhere.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : null;

  document.body.addEventListener("htmx:configRequest", function (e) {
    if (csrf) { e.detail.headers["X-CSRF-Token"] = csrf; }
  });

  // The agent's event stream, on every signed-in page: a screen pop fills the home page's
  // reserved slot; a reminder that falls due becomes a notice in the floating live region
  // (nothing on the page moves) and marks the task's row when the agenda shows it.
  var slot = document.getElementById("pop");
  var notices = document.getElementById("notices");
  if (csrf && window.EventSource) {
    var stream = new EventSource("/api/v1/events");
    stream.addEventListener("ready", function () {
      document.documentElement.setAttribute("data-stream", "ready");
    });
    stream.addEventListener("screen_pop", function (ev) {
      if (!slot) { return; }
      var pop;
      try { pop = JSON.parse(ev.data); } catch (_) { return; }
      if (!pop || !pop.interaction || !pop.interaction.id) { return; }
      var url = "/console/pop/" + encodeURIComponent(pop.interaction.id);
      htmx.ajax("GET", url, { target: "#pop", swap: "innerHTML" }).then(function () {
        document.dispatchEvent(new CustomEvent("crm:pop-painted", { detail: { interaction: pop.interaction.id } }));
      });
    });
    stream.addEventListener("task_reminder_due", function (ev) {
      if (!notices) { return; }
      var due;
      try { due = JSON.parse(ev.data); } catch (_) { return; }
      var task = due && due.kind && due.kind.task;
      if (!task || notices.querySelector('[data-task="' + task + '"]')) { return; }
      htmx.ajax("GET", "/console/tasks/" + encodeURIComponent(task) + "/reminder", { target: "#notices", swap: "beforeend" }).then(function () {
        var row = document.getElementById("task-" + task);
        if (row) { row.classList.add("reminded-now"); }
        document.dispatchEvent(new CustomEvent("crm:reminder-shown", { detail: { task: task } }));
      });
    });
  }
  if (notices) {
    notices.addEventListener("click", function (e) {
      var button = e.target && e.target.closest && e.target.closest("button.dismiss");
      var notice = button && button.closest(".reminder-notice");
      if (notice) { notice.remove(); }
    });
  }

  // Shortcuts (unless typing in a field): "/" the customer search, "g h" home, "g c" the
  // case list, "g a" the agenda, "a" and "w" the interaction panel's accept and wrap-up
  // buttons (those marked `data-shortcut`), "?" the help dialog (Esc closes it, the
  // browser's own dialog behaviour).
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
    } else if (pendingG && Date.now() - pendingG < 1500 && (e.key === "h" || e.key === "c" || e.key === "a")) {
      pendingG = 0;
      window.location.assign({ h: "/", c: "/console/cases", a: "/console/agenda" }[e.key]);
    } else if (e.key === "a" || e.key === "w") {
      pendingG = 0;
      var button = document.querySelector('button[data-shortcut="' + e.key + '"]');
      if (button && !button.disabled) { e.preventDefault(); button.click(); }
    } else {
      pendingG = 0;
    }
  });
})();
