// serve's country filter: shows the filter box (hidden without JavaScript, when every
// country stays listed) and hides the countries whose name does not contain what is typed.
(function () {
  "use strict";
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  document.querySelectorAll("[data-filter]").forEach(function (box) {
    var target = document.getElementById(box.getAttribute("data-filter"));
    var input = box.querySelector("input");
    if (!target || !input) { return; }
    box.hidden = false;
    input.addEventListener("input", function () {
      var wanted = fold(input.value.trim());
      target.querySelectorAll("label").forEach(function (label) {
        var choice = label.querySelector("input[type=checkbox]");
        if (!choice) { return; }
        label.hidden = wanted !== "" && !choice.checked && fold(label.textContent).indexOf(wanted) < 0;
      });
    });
  });
})();
