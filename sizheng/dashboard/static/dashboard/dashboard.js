/* The dashboard: draws each card's chart from its JSON data island (a hidden element's data-json
   attribute: htmx inserts no <script> elements) once the card is in the page
   (htmx swap, or the card's own page), shows a card's own error text when it fails or times out,
   and wires the print and full-screen buttons (hidden without JavaScript: the links still work). */
(function () {
  "use strict";
  var RED = "#C00000";
  var GREY = "#B0B7C3";
  var charts = [];

  function readIsland(id) {
    var island = id && document.getElementById(id);
    if (!island) { return null; }
    try { return JSON.parse(island.getAttribute("data-json") || island.textContent); } catch (e) { return null; }
  }

  function bar(names, values, opts) {
    return {
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", minInterval: 1, max: opts && opts.max },
      yAxis: { type: "category", data: names, inverse: true, axisLabel: { width: 160, overflow: "truncate" } },
      series: [{ type: "bar", data: values, itemStyle: { color: RED }, label: { show: true, position: "right" } }]
    };
  }

  var BUILDERS = {
    duties: function (d) { return bar(d.names, d.values); },
    talks: function (d) { return bar(d.names, d.values, { max: 100 }); },
    insight: function (d) {
      return {
        grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
        tooltip: { trigger: "axis" },
        legend: { top: 0, data: ["满意度指数", "负面意见占比（%）"] },
        xAxis: { type: "category", data: d.labels },
        yAxis: { type: "value", min: 0, max: 100 },
        // A withheld half is null: a gap in the line, never an interpolated value.
        series: [
          { type: "line", name: "满意度指数", data: d.satisfaction, connectNulls: false, itemStyle: { color: RED } },
          { type: "line", name: "负面意见占比（%）", data: d.negative, connectNulls: false, itemStyle: { color: "#5470C6" } }
        ]
      };
    },
    assess: function (d) {
      return {
        grid: [
          { left: 8, width: "42%", top: 36, bottom: 8, containLabel: true },
          { right: 8, width: "42%", top: 36, bottom: 8, containLabel: true }
        ],
        tooltip: { trigger: "axis" },
        title: [
          { text: "等次分布", left: "2%", top: 0, textStyle: { fontSize: 13 } },
          { text: "历次平均总分", right: "2%", top: 0, textStyle: { fontSize: 13 } }
        ],
        xAxis: [
          { type: "category", data: d.grades, gridIndex: 0 },
          { type: "category", data: d.rounds, gridIndex: 1, axisLabel: { show: false }, boundaryGap: true }
        ],
        yAxis: [
          { type: "value", minInterval: 1, gridIndex: 0 },
          { type: "value", min: 0, max: 100, gridIndex: 1 }
        ],
        series: [
          { type: "bar", data: d.counts, xAxisIndex: 0, yAxisIndex: 0, itemStyle: { color: RED }, label: { show: true, position: "top" } },
          { type: "line", data: d.means, xAxisIndex: 1, yAxisIndex: 1, connectNulls: false, showSymbol: true, symbolSize: 8,
            itemStyle: { color: RED }, label: { show: true, position: "top" } }
        ]
      };
    },
    unit_life: function (d) {
      return {
        grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: { top: 0, data: ["全部达标", "未全部达标"] },
        xAxis: { type: "category", data: d.labels },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          { type: "bar", name: "全部达标", stack: "n", data: d.met, itemStyle: { color: "#2FB344" } },
          { type: "bar", name: "未全部达标", stack: "n", data: d.other, itemStyle: { color: GREY } }
        ]
      };
    }
  };

  function drawIn(root) {
    if (typeof echarts === "undefined" || !root || !root.querySelectorAll) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.getAttribute("data-drawn") === "1") { return; }
      var build = BUILDERS[el.getAttribute("data-chart")];
      var data = readIsland(el.getAttribute("data-source"));
      if (!build || !data) { return; }
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(build(data));
      el.setAttribute("data-drawn", "1");
      charts.push(chart);
    });
  }

  function failed(slot, text) {
    if (!slot || !slot.classList || !slot.classList.contains("sz-dash-slot")) { return; }
    var body = document.createElement("div");
    body.className = "card-body";
    var p = document.createElement("p");
    p.className = "text-danger mb-1";
    p.setAttribute("role", "alert");
    p.textContent = text;
    body.appendChild(p);
    var url = slot.getAttribute("data-full-url");
    if (url) {
      var a = document.createElement("a");
      a.href = url;
      a.className = "small";
      a.textContent = "单独打开这张卡片";
      body.appendChild(a);
    }
    slot.replaceChildren(body);
  }

  function titleOf(slot) { return (slot && slot.getAttribute("data-title")) || "这张卡片"; }

  document.addEventListener("htmx:afterSettle", function (evt) { drawIn(evt.detail && evt.detail.elt); });
  document.addEventListener("htmx:timeout", function (evt) {
    var slot = evt.detail && evt.detail.elt;
    failed(slot, "“" + titleOf(slot) + "”加载超时。请稍后刷新页面，或单独打开这张卡片。");
  });
  document.addEventListener("htmx:responseError", function (evt) {
    var slot = evt.detail && evt.detail.elt;
    failed(slot, "“" + titleOf(slot) + "”暂时无法加载。请稍后刷新页面；如果一直如此，请联系系统管理员。");
  });
  document.addEventListener("htmx:sendError", function (evt) {
    var slot = evt.detail && evt.detail.elt;
    failed(slot, "“" + titleOf(slot) + "”加载失败：无法连接服务器。请检查网络后刷新页面。");
  });

  document.querySelectorAll("[data-sz-print]").forEach(function (btn) {
    btn.hidden = false;
    btn.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("[data-sz-fullscreen]").forEach(function (btn) {
    if (!document.documentElement.requestFullscreen) { return; }
    btn.hidden = false;
    btn.addEventListener("click", function () {
      if (document.fullscreenElement) {
        document.exitFullscreen();
      } else {
        document.documentElement.requestFullscreen().catch(function () { /* refused: stay as is */ });
      }
    });
    document.addEventListener("fullscreenchange", function () {
      btn.textContent = document.fullscreenElement ? "退出全屏" : "进入全屏";
    });
  });

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
  drawIn(document);
})();
