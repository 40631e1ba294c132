/* Service report charts (chart.js); the tables on the page carry the same figures. */
(function () {
  "use strict";
  var colours = ["#0b6bcb", "#1a7f37", "#b54708", "#b42318", "#6941c6"];
  function draw(canvas) {
    var spec = JSON.parse(canvas.getAttribute("data-report-chart"));
    spec.data.datasets.forEach(function (ds, i) {
      ds.borderColor = colours[i % colours.length];
      ds.backgroundColor = colours[i % colours.length];
      ds.spanGaps = true;
    });
    new window.Chart(canvas, {
      type: spec.type,
      data: spec.data,
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: spec.scales || {} },
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.Chart) return;
    document.querySelectorAll("canvas[data-report-chart]").forEach(draw);
  });
})();
