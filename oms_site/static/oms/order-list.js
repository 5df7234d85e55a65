/* The order list without a mouse, and its bulk bar. Progressive: without this script the
   list, the filters and the bulk form still work (every action is a plain form). */
(function () {
  "use strict";
  var table = document.getElementById("order-table");
  if (!table) return;
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-href]"));
  var current = -1;
  var search = document.querySelector("#filter-form input[name=q]");

  function typing(target) {
    return target && (/^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName) || target.isContentEditable);
  }
  function mark(index) {
    if (!rows.length) return;
    index = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row) { row.classList.remove("current"); row.removeAttribute("aria-current"); });
    current = index;
    var row = rows[current];
    row.classList.add("current");
    row.setAttribute("aria-current", "true");
    var link = row.querySelector("a.order-link");
    if (link) link.focus({ preventScroll: false });
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "/" && !typing(event.target)) {
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (event.key === "j" || event.key === "ArrowDown") { event.preventDefault(); mark(current + 1); }
    else if (event.key === "k" || event.key === "ArrowUp") { event.preventDefault(); mark(current - 1); }
    else if (event.key === "Enter" && current >= 0) { event.preventDefault(); window.location.href = rows[current].dataset.href; }
    else if (event.key === "x" && current >= 0) {
      var box = rows[current].querySelector("input[name=ids]");
      if (box) { box.checked = !box.checked; counted(); }
    }
  });

  // Bulk bar: only the fields the chosen action needs; a count of ticked orders.
  var action = document.getElementById("bulk-action");
  var bar = document.getElementById("bulk-bar");
  function showParams() {
    if (!action || !bar) return;
    var wanted = (action.selectedOptions[0].dataset.params || "").split(",");
    bar.querySelectorAll("[data-param]").forEach(function (label) {
      label.hidden = wanted.indexOf(label.dataset.param) < 0;
    });
  }
  var count = document.getElementById("selected-count");
  function counted() {
    if (!count) return;
    var n = table.querySelectorAll("input[name=ids]:checked").length;
    count.textContent = n ? (count.dataset.template || "%s").replace("%s", n) : "";
  }
  if (count) count.dataset.template = "✓ %s";
  if (action) { action.addEventListener("change", showParams); showParams(); }
  table.addEventListener("change", counted);
  var all = document.getElementById("select-all");
  if (all) all.addEventListener("change", function () {
    table.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = all.checked; });
    counted();
  });

  rows.forEach(function (row, index) {
    row.addEventListener("click", function (event) {
      if (event.target.closest("a, input, button, label")) return;
      mark(index);
    });
  });
})();
