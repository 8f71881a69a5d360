/* Somna dashboard: draws the charts from the page's JSON blocks with uPlot, and the copy
   buttons. No inline script: the Content-Security-Policy allows this file only. */
(function () {
  "use strict";
  var charts = [];
  var INK = "#2c3e9e", GOAL = "#a5202c", GRID = "#e3e6ee";
  var STAGE_LABELS = { 0: "Unscored", 1: "Deep", 2: "Light", 3: "REM", 4: "Wake" };

  function readJson(kind) {
    var node = document.querySelector('script[data-chart="' + kind + '"]');
    if (!node) return null;
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function width(el) { return Math.max(240, Math.floor(el.clientWidth || el.parentNode.clientWidth || 300)); }

  function axis(extra) {
    var base = { stroke: "#4a5368", grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID } };
    for (var k in extra) base[k] = extra[k];
    return base;
  }

  function make(el, opts, data) {
    opts.width = width(el);
    opts.legend = { show: false };
    opts.cursor = opts.cursor || { drag: { x: false, y: false } };
    var plot = new uPlot(opts, data, el);
    charts.push({ plot: plot, el: el });
    return plot;
  }

  function utcDate(ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); }
  var hourMinute = window.uPlot ? uPlot.fmtDate("{HH}:{mm}") : null;
  var dayMonth = window.uPlot ? uPlot.fmtDate("{D} {MMM}") : null;

  function drawHypnogram() {
    var d = readJson("hypnogram");
    var el = document.getElementById("hypnogram");
    if (!d || !el) return;
    var xs = [], ys = [], minutes = {}, n = d.stages.length;
    for (var i = 0; i < n; i++) {
      var ch = d.stages.charAt(i);
      xs.push(d.start + i * d.epoch_seconds);
      ys.push(d.levels[ch]);
      var name = d.names[ch];
      minutes[name] = (minutes[name] || 0) + d.epoch_seconds / 60;
    }
    xs.push(d.start + n * d.epoch_seconds);
    ys.push(ys[n - 1]);
    var tz = function (ts) { return uPlot.tzDate(new Date(ts * 1e3), d.zone); };
    make(el, {
      height: 220,
      tzDate: tz,
      scales: { x: { time: true }, y: { range: [-0.5, 4.5] } },
      axes: [axis({ space: 64, values: function (u, splits) {
        return splits.map(function (ts) { return hourMinute(tz(ts)); }); } }), axis({ size: 70, splits: function () { return [0, 1, 2, 3, 4]; },
        values: function (u, vals) { return vals.map(function (v) { return STAGE_LABELS[v] || ""; }); } })],
      series: [{}, { label: "Stage", stroke: INK, width: 2, paths: uPlot.paths.stepped({ align: 1 }) }]
    }, [xs, ys]);
    el.setAttribute("data-stage-minutes", JSON.stringify(minutes));
    el.setAttribute("data-drawn", "1");
    if (window.performance && performance.mark) performance.mark("hypnogram-drawn");
  }

  function clock(v) {
    var h = ((v % 24) + 24) % 24, hh = Math.floor(h), mm = Math.round((h - hh) * 60);
    if (mm === 60) { hh = (hh + 1) % 24; mm = 0; }
    return (hh < 10 ? "0" : "") + hh + ":" + (mm < 10 ? "0" : "") + mm;
  }

  function constant(xs, value) { return xs.map(function () { return value; }); }

  function drawTrends() {
    var d = readJson("trends");
    if (!d) return;
    var specs = {
      duration: { data: d.duration, ref: d.goal_hours, refLabel: "Goal", fmt: function (v) { return v + " h"; } },
      efficiency: { data: d.efficiency, ref: 85, refLabel: "85 %", range: [50, 100], fmt: function (v) { return v + " %"; } },
      midpoint: { data: d.midpoint, ref: d.mean_midpoint, refLabel: "Mean", fmt: clock }
    };
    document.querySelectorAll("[data-series]").forEach(function (el) {
      var spec = specs[el.getAttribute("data-series")];
      if (!spec) return;
      var series = [{}, { label: "Value", stroke: INK, width: 2, spanGaps: false, points: { show: true, size: 5, fill: INK } }];
      var data = [d.x, spec.data];
      if (spec.ref !== null && spec.ref !== undefined) {
        series.push({ label: spec.refLabel, stroke: GOAL, width: 1.5, dash: [6, 4], points: { show: false } });
        data.push(constant(d.x, spec.ref));
      }
      make(el, {
        height: 200, tzDate: utcDate,
        scales: spec.range ? { x: { time: true }, y: { range: spec.range } } : { x: { time: true } },
        axes: [axis({ space: 56, values: function (u, splits) {
          return splits.map(function (ts) { return dayMonth(utcDate(ts)); }); } }), axis({ size: 60, values: function (u, vals) { return vals.map(spec.fmt); } })],
        series: series
      }, data);
      el.setAttribute("data-drawn", "1");
    });
  }

  function drawHistograms() {
    var all = readJson("histograms");
    if (!all) return;
    document.querySelectorAll("[data-histogram]").forEach(function (el) {
      var h = all[el.getAttribute("data-histogram")];
      if (!h || !h.x.length) return;
      var half = (h.width || 1) / 2;
      make(el, {
        height: 180,
        scales: { x: { time: false, range: [h.x[0] - half, h.x[h.x.length - 1] + half] }, y: { range: [0, Math.max.apply(null, h.counts) + 1] } },
        axes: [axis({}), axis({ size: 40, values: function (u, vals) { return vals.map(function (v) { return v % 1 ? "" : v; }); } })],
        series: [{}, { label: "People", stroke: INK, fill: "rgba(44,62,158,0.55)", width: 1, paths: uPlot.paths.bars({ size: [0.9, 80] }) }]
      }, [h.x, h.counts]);
      el.setAttribute("data-drawn", "1");
    });
  }

  function resize() {
    charts.forEach(function (c) { c.plot.setSize({ width: width(c.el), height: c.plot.height }); });
  }

  function copyButtons() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-copy]");
      if (!button) return;
      var input = document.getElementById(button.getAttribute("data-copy"));
      if (!input) return;
      input.select();
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(done, function () {
          try { document.execCommand("copy"); done(); } catch (e) { /* selection left for the user */ }
        });
      } else {
        try { document.execCommand("copy"); done(); } catch (e) { /* selection left for the user */ }
      }
    });
  }

  function start() {
    if (window.uPlot) { drawHypnogram(); drawTrends(); drawHistograms(); }
    copyButtons();
    var pending;
    window.addEventListener("resize", function () { clearTimeout(pending); pending = setTimeout(resize, 100); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
