// Usage and Costs pages: editing a date switches the period from its preset to a custom range
// (the filter form then submits the dates). No inline scripts: wired through data-clears.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var selector = event.target.getAttribute && event.target.getAttribute("data-clears");
    if (!selector) return;
    var field = document.querySelector(selector);
    if (field) field.value = "";
  }, true);
})();
