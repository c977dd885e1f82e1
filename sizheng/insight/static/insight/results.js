/* Survey results charts: drawn from the page's JSON data island (#sz-results-data), which holds the
   same published figures as the tables beside them. A suppressed group has no figures, so no chart. */
(function () {
  "use strict";
  var island = document.getElementById("sz-results-data");
  if (!island || typeof echarts === "undefined") { return; }
  var data = JSON.parse(island.textContent);
  var selected = data.selected;
  var charts = [];

  function draw(el, option) {
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    charts.push(chart);
  }

  data.questions.forEach(function (q) {
    var el = document.querySelector('[data-question="' + q.key + '"]');
    var row = (data.figures[q.key] || {})[selected];
    if (!el || !row) { return; }
    var values = q.columns.map(function (c) { return row[c]; });
    draw(el, {
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: q.labels, inverse: true },
      series: [{ type: "bar", data: values, itemStyle: { color: "#C00000" }, label: { show: true, position: "right" } }]
    });
  });

  var trendEl = document.querySelector("[data-trend]");
  if (trendEl && data.trend.waves.length) {
    draw(trendEl, {
      grid: { left: 8, right: 24, top: 40, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      xAxis: { type: "category", data: data.trend.waves },
      yAxis: { type: "value", min: 0, max: 100 },
      // A suppressed wave is null: a gap in the line, never an interpolated value.
      series: data.trend.series.map(function (s) {
        return { type: "line", name: s.name, data: s.data, connectNulls: false };
      })
    });
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
