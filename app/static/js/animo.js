// Animo's only script besides htmx: CSRF header for htmx, and a clear message when a request fails.
(function () {
  "use strict";
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  function announce(text, cls) {
    var box = document.getElementById("status");
    if (!box) return;
    var p = document.createElement("p");
    p.className = "flash " + (cls || "flash-error");
    p.textContent = text;
    box.replaceChildren(p);
  }
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRFToken"] = csrfToken();
  });
  // A request that never reached the server: the connection dropped. Say so, loudly.
  document.addEventListener("htmx:sendError", function (e) {
    var el = e.detail.elt;
    if (el && el.classList) el.classList.add("not-saved");
    announce(document.documentElement.lang === "en"
      ? "Not saved: no connection. Try again when you are back online."
      : "Nie zapisano: brak połączenia. Spróbuj ponownie, gdy wróci zasięg.");
  });
  document.addEventListener("htmx:responseError", function (e) {
    var el = e.detail.elt;
    if (el && el.classList) el.classList.add("not-saved");
    var status = e.detail.xhr ? e.detail.xhr.status : 0;
    announce(document.documentElement.lang === "en"
      ? "Not saved (error " + status + "). Try again."
      : "Nie zapisano (błąd " + status + "). Spróbuj ponownie.");
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    if (e.detail.successful && e.detail.elt && e.detail.elt.classList) e.detail.elt.classList.remove("not-saved");
    // A create form that stays on screen after it saved gets a new one-time key (app/submissions.py),
    // so that its next send is a new record. A failed or lost send keeps its key: a retry is not a copy.
    var form = e.detail.elt && e.detail.elt.closest ? e.detail.elt.closest("form") : null;
    if (e.detail.successful && form && form.isConnected) {
      form.querySelectorAll('input[name="submission_key"]').forEach(function (input) {
        input.value = newSubmissionKey();
      });
    }
  });
  function newSubmissionKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
})();

// Print buttons (no inline handlers: the CSP forbids them).
document.addEventListener("click", function (e) {
  if (e.target && e.target.classList && e.target.classList.contains("js-print")) window.print();
});

// Slow form posts (imports) show their progress note while the server works.
document.addEventListener("submit", function (e) {
  var form = e.target;
  if (!form.classList || !form.classList.contains("js-progress")) return;
  var note = form.querySelector(".progress-note");
  if (note) note.hidden = false;
  form.querySelectorAll("button").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
});

// A table wider than its box scrolls sideways: make that box a keyboard stop with a name, so that
// it can be scrolled without a mouse (WCAG 2.1.1) and a screen reader says what it holds. Only a
// box that really scrolls at this width becomes a stop; checked again after swaps and resizes.
(function () {
  "use strict";
  function name(box) {
    var caption = box.querySelector("caption");
    var holder = box.closest("section, .card");
    var heading = caption || (holder && holder.querySelector("h1, h2, h3"));
    var text = heading ? heading.textContent.replace(/\s+/g, " ").trim() : "";
    return text || (document.documentElement.lang === "en" ? "Table" : "Tabela");
  }
  function mark() {
    document.querySelectorAll(".table-wrap").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        if (!box.hasAttribute("aria-label")) box.setAttribute("aria-label", name(box));
        box.setAttribute("data-scroll-stop", "");
      } else if (!scrolls && box.hasAttribute("data-scroll-stop")) {
        ["tabindex", "role", "aria-label", "data-scroll-stop"].forEach(function (a) { box.removeAttribute(a); });
      }
    });
  }
  var timer = null;
  document.addEventListener("DOMContentLoaded", mark);
  document.addEventListener("htmx:afterSettle", mark);
  window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(mark, 150); });
})();
