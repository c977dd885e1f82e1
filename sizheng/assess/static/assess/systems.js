/* The indicator form: show only the scoring fields that the chosen category, value source and
   scoring method use (without JavaScript every field stays visible and unused ones are ignored). */
(function () {
  "use strict";
  var form = document.getElementById("sz-indicator-form");
  if (!form) { return; }
  function value(name) {
    var el = form.querySelector('[data-sz-toggle="' + name + '"]');
    return el ? el.value : "";
  }
  function update() {
    var kind = value("kind"), source = value("source"), rule = value("rule_kind");
    var show = {
      weight: kind === "scored",
      metric: source === "metric",
      rule_kind: kind === "scored",
      linear: kind === "scored" && rule === "linear",
      deduction: kind === "scored" && rule === "deduction",
      bands: kind === "scored" && rule === "bands",
      bonus: kind === "bonus"
    };
    form.querySelectorAll("[data-sz-group]").forEach(function (el) {
      var visible = el.getAttribute("data-sz-group").split(" ").some(function (g) { return show[g]; });
      el.classList.toggle("d-none", !visible);
    });
  }
  form.addEventListener("change", function (e) {
    if (e.target.hasAttribute("data-sz-toggle")) { update(); }
  });
  update();
}());
