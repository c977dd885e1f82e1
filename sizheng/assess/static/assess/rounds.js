// Live filter of a checkbox list (round targets, assessor assignment): typing in #sz-org-filter hides
// the rows whose data-filter-text does not contain the text. Without JavaScript the box submits a
// GET filter instead, so the page works either way.
(function () {
  "use strict";
  function bind(input, list) {
    if (!input || !list) {
      return;
    }
    input.addEventListener("input", function () {
      var text = input.value.trim().toLowerCase();
      list.querySelectorAll("[data-filter-text]").forEach(function (row) {
        row.hidden = text !== "" && row.getAttribute("data-filter-text").toLowerCase().indexOf(text) === -1;
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    bind(document.getElementById("sz-org-filter"), document.getElementById("sz-org-list"));
    bind(document.getElementById("sz-target-filter"), document.getElementById("sz-target-list"));
  });
})();
