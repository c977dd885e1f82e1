/* Assessment results charts, drawn from the page's JSON data island (#sz-assess-results), which holds
   the same figures as the tables beside them: the grade distribution, and per unit of the page its
   rank range under weight perturbation (rank_min–rank_max as a bar, the published rank as a point). */
(function () {
  "use strict";
  var island = document.getElementById("sz-assess-results");
  if (!island || typeof echarts === "undefined") { return; }
  var data = JSON.parse(island.textContent);
  var charts = [];
  var RED = "#C00000";

  function draw(el, option) {
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    charts.push(chart);
  }

  var gradesEl = document.querySelector('[data-chart="grades"]');
  if (gradesEl && data.grades.length) {
    draw(gradesEl, {
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: data.grades },
      yAxis: { type: "value", minInterval: 1, name: "单位数" },
      series: [{ type: "bar", data: data.counts, itemStyle: { color: RED }, label: { show: true, position: "top" } }]
    });
  }

  var sensEl = document.querySelector('[data-chart="sensitivity"]');
  if (sensEl && data.units.length) {
    var units = data.units;
    // One row per unit; the box grows with the rows (CSSOM, allowed under the CSP).
    sensEl.style.height = Math.max(200, 30 * units.length + 70) + "px";
    var names = units.map(function (u) { return u.name; });
    var pad = 0.35;
    // Room for the longest unit name (ECharts estimates label widths from a sample of the rows,
    // so long names were cut off at the left edge); at most 40 % of the chart, longer names end in "…".
    var measure = document.createElement("canvas").getContext("2d");
    measure.font = "12px sans-serif";
    var longest = names.reduce(function (w, n) { return Math.max(w, measure.measureText(n).width); }, 0);
    var labelWidth = Math.ceil(Math.min(longest, sensEl.clientWidth * 0.4)) + 4;
    draw(sensEl, {
      grid: { left: labelWidth + 16, right: 24, top: 36, bottom: 32, containLabel: false },
      legend: { top: 0, data: ["名次区间", "正式名次"] },
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var u = units[p.dataIndex];
          var text = u.name + "<br>正式名次：" + u.rank + "<br>名次区间：" + u.min + "—" + u.max;
          if (u.p !== null) { text += "<br>等次变化概率：" + u.p + "%"; }
          return text;
        }
      },
      xAxis: { type: "value", name: "名次（1 为第一名）", nameLocation: "middle", nameGap: 28, min: 0, max: Math.max(data.total, 1) + 1,
               minInterval: 1, axisLabel: { showMaxLabel: false } },
      yAxis: { type: "category", data: names, inverse: true,
               axisLabel: { width: labelWidth, overflow: "truncate", ellipsis: "…" } },
      series: [
        // An invisible bar up to the best rank, then the visible range stacked on it.
        { type: "bar", stack: "range", silent: true, itemStyle: { color: "transparent" },
          data: units.map(function (u) { return u.min - pad; }), tooltip: { show: false } },
        { type: "bar", stack: "range", name: "名次区间", barWidth: 12, itemStyle: { color: "#F4B6B6" },
          data: units.map(function (u) { return u.max - u.min + 2 * pad; }) },
        { type: "scatter", name: "正式名次", symbolSize: 10, itemStyle: { color: RED },
          data: units.map(function (u, i) { return [u.rank, i]; }) }
      ]
    });
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
