/* The one-page brief of a sweep (report.html). Everything it draws comes from the JSON
   embedded in the page, which brief.py reads from the CSV files beside it. No request
   leaves the page. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("brief-data").textContent);
  var meta = data.meta;
  var colours = data.colours;
  var charts = [];
  var GREY = "#BBBBBB";

  function $(id) { return document.getElementById(id); }
  function pct(v) { return v === null || v === undefined ? "–" : Math.round(100 * v) + " %"; }
  function num(v, digits) {
    if (v === null || v === undefined || isNaN(v)) return "–";
    return Number(v).toFixed(digits === undefined ? 3 : digits);
  }
  function signed(v, digits) { return (v > 0 ? "+" : "") + num(v, digits); }
  function colour(name) { return colours[name] || "#555555"; }
  function chart(id) {
    var c = echarts.init($(id), null, { renderer: "canvas" });
    charts.push(c);
    return c;
  }
  function text(id, value) { $(id).textContent = value; }
  function table(container, columns, rows) {
    var html = "<table><thead><tr>";
    columns.forEach(function (c) { html += "<th>" + escape(c[0]) + "</th>"; });
    html += "</tr></thead><tbody>";
    rows.forEach(function (row) {
      html += "<tr>";
      columns.forEach(function (c) { html += "<td>" + escape(c[1](row)) + "</td>"; });
      html += "</tr>";
    });
    container.innerHTML = html + "</tbody></table>";
  }
  function escape(value) {
    return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  // ---------------------------------------------------------------- header
  text("title", meta.title + ": the brief");
  text("question", meta.question);
  var lines = meta.headline;
  text("headline", lines[0]);
  if (lines.length > 1) {
    var more = $("headline-more");
    lines.slice(1).forEach(function (line) {
      var li = document.createElement("li");
      li.textContent = line;
      more.appendChild(li);
    });
  }
  text("design", meta.design + ". Metric: " + meta.metric + ".");
  text("command", meta.command);
  text("generated", meta.generated);

  // ---------------------------------------------------------------- the answer
  function drawMap(map) {
    text("answer-title", "The answer: the verdict and each firm's chance of winning, by condition");
    text("answer-note", "Each cell: the verdict, and a bar of each firm's share of runs won " +
      "(grey: no winner). Clear: the leader's margin CI excludes 0 and it wins most runs; " +
      "coin flip: two or more firms each win a quarter of the runs or more; tie: equivalent " +
      "within ±" + meta.equivalence + "." + (map.note ? " Other factors: " + map.note + "." : ""));
    var firms = meta.firms;
    legend(firms.map(function (f) { return [f, colour(f)]; }).concat([["no winner", GREY]]));
    var cells = map.cells.map(function (c) {
      return { value: [map.x.indexOf(c.x), map.y.indexOf(c.y)], cell: c };
    });
    // a phone: a taller map with a narrow axis margin, each cell's text wrapped
    var narrow = $("chart-answer").clientWidth < 600;
    if (narrow) $("chart-answer").style.height = 160 * map.y.length + 60 + "px";
    var c = chart("chart-answer");
    c.setOption({
      animation: false,
      grid: narrow ? { left: 60, right: 8, top: 10, bottom: 60 }
        : { left: 150, right: 20, top: 10, bottom: 60 },
      xAxis: { type: "category", data: map.x, name: map.x_label, nameLocation: "middle",
        nameGap: 30, splitLine: { show: false } },
      yAxis: { type: "category", data: map.y, name: map.y_label, nameLocation: "middle",
        nameGap: narrow ? 40 : 110, splitLine: { show: false } },
      tooltip: {
        formatter: function (p) {
          var cell = p.data.cell;
          var lines = ["<b>" + cell.verdict + "</b>: leader " + cell.winner + " " +
            signed(cell.margin, 3) + " [" + signed(cell.low, 3) + ", " + signed(cell.high, 3) +
            "], " + cell.n + " of " + cell.replicates + " runs reported"];
          firms.forEach(function (f) {
            if (cell.p_win[f] !== undefined) {
              lines.push(f + " wins " + pct(cell.p_win[f]) + " [" + pct(cell.p_low[f]) + ", " +
                pct(cell.p_high[f]) + "]");
            }
          });
          lines.push("no winner " + pct(cell.p_none));
          return lines.join("<br>");
        },
      },
      series: [{
        type: "custom",
        data: cells,
        renderItem: function (params, api) {
          var cell = cells[params.dataIndex].cell;
          var centre = api.coord([api.value(0), api.value(1)]);
          var size = api.size([1, 1]);
          var w = size[0] - 6, h = size[1] - 6;
          var x0 = centre[0] - w / 2, y0 = centre[1] - h / 2;
          var children = [{
            type: "rect",
            shape: { x: x0, y: y0, width: w, height: h },
            style: {
              fill: cell.verdict === "clear" ? colour(cell.winner) : "#FFFFFF",
              opacity: cell.verdict === "clear" ? 0.35 : 1,
              stroke: "#CCCCCC",
            },
          }];
          var x = x0 + 6, barW = w - 12, barY = y0 + h * 0.62, barH = h * 0.22;
          firms.concat(["none"]).forEach(function (f) {
            var share = f === "none" ? cell.p_none : cell.p_win[f];
            if (!share) return;
            children.push({
              type: "rect",
              shape: { x: x, y: barY, width: barW * share, height: barH },
              style: { fill: f === "none" ? GREY : colour(f) },
            });
            x += barW * share;
          });
          var label = cell.verdict === "clear" ? cell.winner + " " + signed(cell.margin, 2)
            : cell.verdict === "coin flip" ? "coin flip"
              : cell.verdict === "tie" ? "tie: " + String(cell.tied || "").split(", ").join(" = ")
                : "undecided";
          children.push({
            type: "text",
            style: {
              text: label + "\n" + topTwo(cell).split(" · ").join(narrow ? "\n" : " · "),
              x: centre[0], y: y0 + h * 0.32, width: w - 8, overflow: "break",
              textAlign: "center", textVerticalAlign: "middle", fontSize: narrow ? 10 : 12,
              lineHeight: narrow ? 12 : 17, fill: "#111",
            },
          });
          return { type: "group", children: children };
        },
      }],
    });
  }
  function legend(items) {
    var box = $("legend");
    items.forEach(function (item) {
      var chip = document.createElement("span");
      chip.className = "chip";
      var swatch = document.createElement("i");
      swatch.style.background = item[1];
      chip.appendChild(swatch);
      chip.appendChild(document.createTextNode(item[0]));
      box.appendChild(chip);
    });
  }
  function topTwo(cell) {
    var names = Object.keys(cell.p_win).filter(function (f) { return cell.p_win[f] > 0; })
      .sort(function (a, b) { return cell.p_win[b] - cell.p_win[a]; });
    var parts = names.slice(0, 2).map(function (f) { return f + " " + pct(cell.p_win[f]); });
    if (cell.p_none > 0 && parts.length < 2) parts.push("no winner " + pct(cell.p_none));
    return parts.join(" · ");
  }

  function drawTree(rows) {
    var root = rows[0];
    text("answer-title", "The answer: a decision tree of the outcome over the uncertainties");
    text("answer-note", "CART (scikit-learn), depth ≤ 3, leaves of ≥ 5 % of the runs. Each node: " +
      "the condition that leads to it, the most frequent outcome there and its share. It " +
      "classifies " + pct(root.cv_accuracy) + " of runs right (5-fold cross-validation), " +
      "against " + pct(root.baseline_accuracy) + " for always guessing the most frequent outcome" +
      (root.cv_accuracy !== null && root.cv_accuracy <= root.baseline_accuracy
        ? ": it explains no more than guessing, so read its branches as noise." : "."));
    var nodes = {};
    rows.forEach(function (r) {
      nodes[r.node] = {
        name: r.condition,
        value: (r.outcome === "none" ? "no single best" : r.outcome) + " " + pct(r.share) + " (" + r.runs + " " + meta.unit + ")",
        itemStyle: { color: colour(r.outcome), borderColor: colour(r.outcome) },
        counts: r.counts,
        children: [],
      };
    });
    rows.forEach(function (r) { if (r.parent >= 0) nodes[r.parent].children.push(nodes[r.node]); });
    var c = chart("chart-answer");
    c.setOption({
      animation: false,
      tooltip: { formatter: function (p) { return escape(p.data.name) + "<br>" + escape(p.data.value) + "<br>" + escape(p.data.counts); } },
      series: [{
        type: "tree", data: [nodes[root.node]], orient: "LR", top: 30, bottom: 30, left: 175,
        right: 330, symbol: "circle", symbolSize: 16, expandAndCollapse: false,
        initialTreeDepth: -1,
        label: {
          position: "top", distance: 10, align: "center", fontSize: 12, lineHeight: 16,
          color: "#111", backgroundColor: "rgba(255,255,255,0.9)", padding: [2, 4],
          formatter: function (p) { return p.data.name + "\n" + p.data.value; },
        },
        leaves: { label: { position: "right", align: "left", verticalAlign: "middle" } },
        lineStyle: { color: "#999", width: 1.5 },
      }],
    });
  }

  if (data.map) {
    drawMap(data.map);
  } else if (data.tree && data.tree.length) {
    drawTree(data.tree);
  } else {
    $("card-answer").hidden = true;
  }

  // ---------------------------------------------------------------- the robust choice
  var choice = data.choice;
  if (choice.table.length) {
    $("card-choice").hidden = false;
    text("choice-note", "Each option of " + meta.focal + "'s levers in the same worlds " +
      "(futures × replicates, common random numbers). Gap: mean " + meta.metric +
      " minus the best option's (95 % CI; \"tie\": it includes 0, so the option cannot " +
      "be told from the best). Best in: worlds where " +
      "it leads every other option by " + meta.gap + " or more. Regret: best " + meta.metric +
      " there minus its own (95 % bootstrap CIs).");
    table($("choice-table"), [
      ["option", function (r) { return r.option; }],
      ["mean", function (r) { return num(r.mean) + " [" + num(r.mean_low) + ", " + num(r.mean_high) + "]"; }],
      ["gap", function (r) { return r.gap === 0 && !r.gap_tie ? "best" : signed(r.gap) + " [" + signed(r.gap_low) + ", " + signed(r.gap_high) + "]" + (r.gap_tie ? " tie" : ""); }],
      ["best in", function (r) { return pct(r.p_best) + " [" + pct(r.p_best_low) + ", " + pct(r.p_best_high) + "]"; }],
      ["mean regret", function (r) { return num(r.mean_regret) + " [" + num(r.mean_regret_low) + ", " + num(r.mean_regret_high) + "]"; }],
      ["90th pct regret", function (r) { return num(r.p90_regret) + " [" + num(r.p90_regret_low) + ", " + num(r.p90_regret_high) + "]"; }],
      ["worst regret", function (r) { return num(r.max_regret) + " [" + num(r.max_regret_low) + ", " + num(r.max_regret_high) + "]"; }],
    ], choice.table);
  }

  // ---------------------------------------------------------------- PRIM boxes
  if (data.boxes.length) {
    var rules = $("box-rules");
    data.boxes.forEach(function (b) {
      var li = document.createElement("li");
      li.textContent = b.rule + " (" + b.n_runs + " in the box; " + b.wins + " of " + b.runs + ").";
      rules.appendChild(li);
    });
    var names = data.boxes.map(function (b) { return b.strategy; });
    chart("chart-boxes").setOption({
      animation: false,
      legend: { top: 0 },
      grid: { left: 200, right: 20, top: 30, bottom: 30 },
      tooltip: { trigger: "axis", valueFormatter: pct },
      xAxis: { type: "value", max: 1, axisLabel: { formatter: function (v) { return Math.round(100 * v) + "%"; } } },
      yAxis: { type: "category", data: names, inverse: true },
      series: [
        { name: "density in the box", type: "bar", data: data.boxes.map(function (b) { return { value: b.density, itemStyle: { color: colour(b.strategy) } }; }) },
        { name: "overall rate", type: "bar", itemStyle: { color: "#999" }, data: data.boxes.map(function (b) { return b.wins / b.runs; }) },
        { name: "coverage", type: "bar", itemStyle: { color: "#333" }, data: data.boxes.map(function (b) { return b.coverage; }) },
      ],
    });
  } else {
    $("card-boxes").hidden = true;
    $("card-tornado").className += " wide";
  }

  // ---------------------------------------------------------------- tornado
  var tornadoRows = data.tornado;
  if (tornadoRows.length) {
    var keys = [];
    tornadoRows.forEach(function (r) {
      var key = r.option ? r.firm + ": " + r.option : r.firm;
      if (keys.indexOf(key) < 0) keys.push(key);
    });
    var select = $("tornado-select");
    keys.forEach(function (k) {
      var o = document.createElement("option");
      o.value = k; o.textContent = k; select.appendChild(o);
    });
    var start = meta.lead ? keys.filter(function (k) { return k === meta.focal + ": " + meta.lead; })[0]
      : meta.focal ? keys.filter(function (k) { return k.indexOf(meta.focal) === 0; })[0] : keys[0];
    select.value = start || keys[0];
    var narrow = $("chart-tornado").clientWidth < 600;  // a phone: labels wrapped
    var tornado = chart("chart-tornado");
    var drawTornado = function () {
      var rows = tornadoRows.filter(function (r) {
        return (r.option ? r.firm + ": " + r.option : r.firm) === select.value;
      });
      var labels = rows.map(function (r) { return r.label; });
      tornado.setOption({
        animation: false,
        grid: narrow ? { left: 110, right: 16, top: 20, bottom: 80 }
          : { left: 210, right: 30, top: 20, bottom: 60 },
        legend: { bottom: 0, data: ["low end of the factor", "high end of the factor"] },
        tooltip: {
          formatter: function (p) {
            var r = rows[p.dataIndex];
            return escape(r.label) + "<br>low end " + escape(r.low) + ": " + num(r.low_mean) + " [" + num(r.low_ci_low) + ", " + num(r.low_ci_high) + "], " + r.low_runs + " runs<br>high end " + escape(r.high) + ": " + num(r.high_mean) + " [" + num(r.high_ci_low) + ", " + num(r.high_ci_high) + "], " + r.high_runs + " runs";
          },
        },
        xAxis: { type: "value", name: meta.metric, nameLocation: "middle", nameGap: 24, scale: true,
          splitNumber: narrow ? 3 : 5 },
        yAxis: { type: "category", data: labels, inverse: true,
          axisLabel: narrow ? { width: 100, overflow: "break", lineHeight: 14 } : {} },
        series: [
          {
            type: "custom", name: "range", encode: { x: [1, 2], y: 0 },
            data: rows.map(function (r, i) { return [i, r.low_mean, r.high_mean]; }),
            renderItem: function (params, api) {
              var a = api.coord([api.value(1), api.value(0)]);
              var b = api.coord([api.value(2), api.value(0)]);
              var h = api.size([0, 1])[1] * 0.5;
              return { type: "rect", shape: { x: Math.min(a[0], b[0]), y: a[1] - h / 2, width: Math.abs(b[0] - a[0]), height: h }, style: { fill: "#DDDDDD" } };
            },
          },
          { type: "scatter", name: "low end of the factor", symbolSize: 11, itemStyle: { color: "#0072B2" }, data: rows.map(function (r, i) { return [r.low_mean, i]; }) },
          { type: "scatter", name: "high end of the factor", symbolSize: 11, itemStyle: { color: "#D55E00" }, data: rows.map(function (r, i) { return [r.high_mean, i]; }) },
        ],
      }, true);
      text("tornado-note", "Mean " + meta.metric + " of " + select.value + " at each factor's " +
        "low end and high end (sorted by the swing between them); hover for the 95 % CIs and runs.");
    };
    select.addEventListener("change", drawTornado);
    drawTornado();
  } else {
    $("card-tornado").hidden = true;
  }

  // ---------------------------------------------------------------- the runs, filtered
  var runs = data.runs;
  if (runs.n) {
    var cols = runs.columns;
    var count = cols[Object.keys(cols)[0]].length;
    var state = {};
    var filters = $("filters");
    runs.filters.forEach(function (f) {
      var box = document.createElement("div");
      box.className = "filter";
      var title = document.createElement("b");
      title.textContent = f.label;
      box.appendChild(title);
      if (f.numeric) {
        state[f.column] = [f.min, f.max];
        var out = document.createElement("span");
        var step = (f.max - f.min) / 100 || 1;
        ["min", "max"].forEach(function (end, k) {
          var input = document.createElement("input");
          input.type = "range"; input.min = f.min; input.max = f.max; input.step = step;
          input.value = k ? f.max : f.min;
          input.name = f.column + "-" + end;
          input.addEventListener("input", function () {
            state[f.column][k] = Number(input.value);
            out.textContent = num(state[f.column][0], 3) + " to " + num(state[f.column][1], 3);
            update();
          });
          box.appendChild(input);
        });
        out.textContent = num(f.min, 3) + " to " + num(f.max, 3);
        box.appendChild(out);
      } else {
        state[f.column] = f.levels.slice();
        var levels = document.createElement("div");
        levels.className = "levels";
        f.levels.forEach(function (level) {
          var label = document.createElement("label");
          var input = document.createElement("input");
          input.type = "checkbox"; input.checked = true; input.value = level;
          input.addEventListener("change", function () {
            state[f.column] = Array.prototype.slice.call(levels.querySelectorAll("input:checked")).map(function (i) { return i.value; });
            update();
          });
          label.appendChild(input);
          label.appendChild(document.createTextNode(" " + level));
          levels.appendChild(label);
        });
        box.appendChild(levels);
      }
      filters.appendChild(box);
    });
    var runsChart = chart("chart-runs");
    var prefix = runs.metric_prefix;
    var update = function () {
      var keep = [];
      for (var i = 0; i < count; i++) {
        var ok = true;
        for (var j = 0; j < runs.filters.length && ok; j++) {
          var f = runs.filters[j], v = cols[f.column][i];
          ok = f.numeric ? v >= state[f.column][0] - 1e-12 && v <= state[f.column][1] + 1e-12
            : state[f.column].indexOf(String(v)) >= 0;
        }
        if (ok) keep.push(i);
      }
      var option;
      if (cols.option && meta.focal) {
        var sums = {}, ns = {};
        keep.forEach(function (i) {
          var o = cols.option[i], v = cols[prefix + meta.focal][i];
          sums[o] = (sums[o] || 0) + v; ns[o] = (ns[o] || 0) + 1;
        });
        var opts = Object.keys(sums);
        option = {
          animation: false, grid: { left: 200, right: 20, top: 30, bottom: 30 },
          title: { text: "mean " + meta.metric + " of " + meta.focal + " by option", textStyle: { fontSize: 13 } },
          tooltip: {}, xAxis: { type: "value" }, yAxis: { type: "category", data: opts, inverse: true },
          series: [{ type: "bar", data: opts.map(function (o) { return { value: sums[o] / ns[o], itemStyle: { color: colour(o) } }; }) }],
        };
      } else {
        var wins = {};
        keep.forEach(function (i) { var w = cols.winner_strategy[i]; wins[w] = (wins[w] || 0) + 1; });
        var names = Object.keys(wins).sort();
        option = {
          animation: false, grid: { left: 110, right: 20, top: 30, bottom: 30 },
          title: { text: "share of the runs won", textStyle: { fontSize: 13 } },
          tooltip: { valueFormatter: pct },
          xAxis: { type: "value", max: 1, axisLabel: { formatter: function (v) { return Math.round(100 * v) + "%"; } } },
          yAxis: { type: "category", data: names.map(function (n) { return n === "none" ? "no winner" : n; }), inverse: true },
          series: [{ type: "bar", data: names.map(function (n) { return { value: wins[n] / Math.max(keep.length, 1), itemStyle: { color: n === "none" ? GREY : colour(n) } }; }) }],
        };
      }
      runsChart.setOption(option, true);
      text("runs-note", keep.length + " of " + count + " runs match" +
        (runs.shown < runs.n ? " (a seeded sample of " + runs.shown + " of the " + runs.n + " runs is embedded)" : "") + ".");
      var shown = Object.keys(cols);
      table($("runs-table"), shown.map(function (c) {
        return [c, function (i) { var v = cols[c][i]; return typeof v === "number" ? num(v, 3) : v; }];
      }), keep.slice(0, 40));
      document.body.dataset.matching = String(keep.length);
    };
    update();
  } else {
    $("card-runs").hidden = true;
  }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  document.body.dataset.ready = "true";
})();
