// The after-meeting screen: someone picked from the search who is already on the checklist
// (ticked off a moment ago, say) is swapped in place instead of being listed twice.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (e) {
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    var id = elt && elt.getAttribute && elt.getAttribute("data-attendee");
    if (!id) return;
    var row = document.getElementById("att-" + id);
    if (row) {
      e.detail.target = row;
      e.detail.swapOverride = "outerHTML";
    }
  });
  // The volunteer time sheet: a print button (inline handlers are not allowed by the CSP).
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-print]")) window.print();
  });
})();
