// The classroom's charts, drawn in the browser with ECharts from the data the server
// sends (no images). Each chart keeps its data and redraws on update; every redraw is
// counted in window.classroomStats.rendered (the benchmark and the tests read it).
"use strict";

window.classroomStats = { rendered: {}, frames: 0, firstFrame: 0, lastFrame: 0 };

const Charts = (() => {
  // sizes in the charts follow the page's type size (larger on a 1920x1080 projector)
  const px = (size) => Math.round((size * parseFloat(getComputedStyle(document.documentElement).fontSize)) / 16);
  const INK = "#111111";
  const GRID = "#e3e6ea";
  const LEGACY = "#6E6E6E";
  const base = () => ({
    animation: false,
    textStyle: { color: INK, fontSize: px(14) },
    grid: { left: px(62), right: px(14), top: px(24), bottom: px(44) },
  });

  function axis(name, extra) {
    return Object.assign(
      {
        type: "value",
        name,
        nameLocation: "middle",
        nameGap: px(28),
        nameTextStyle: { color: INK, fontSize: px(14) },
        axisLabel: { color: INK, fontSize: px(13) },
        axisLine: { show: true, lineStyle: { color: INK } },
        splitLine: { lineStyle: { color: GRID } },
      },
      extra || {},
    );
  }

  function make(element, name) {
    const chart = echarts.init(element, null, { renderer: "canvas" });
    window.classroomStats.rendered[name] = 0;
    chart.on("finished", () => {
      window.classroomStats.rendered[name] += 1;
    });
    new ResizeObserver(() => chart.resize()).observe(element);
    return chart;
  }

  // ------------------------------------------------------------ adoption curves
  function adoption(element, name) {
    const chart = make(element, name || "adoption");
    let model = null;
    let rows = [];
    let releases = [];

    function option() {
      const series = [];
      const columns = model.series;
      const firms = model.firms;
      if (model.legacy) {
        series.push(line("legacy product", LEGACY, rows, 1, 2.5, "solid"));
      }
      firms.forEach((firm, k) => {
        const label = firm.name === firm.strategy ? firm.name : `${firm.name} (${firm.strategy})`;
        series.push(line(label, firm.colour, rows, columns.indexOf(`share_${firm.name}`) + 1, 3, "solid"));
        series.push(
          line(`${firm.name} on latest release`, firm.colour, rows, columns.indexOf(`share_latest_${firm.name}`) + 1, 1.6, "dashed"),
        );
        series.push({
          type: "scatter",
          name: `${firm.name} releases`,
          symbol: "triangle",
          symbolRotate: 180,
          symbolSize: px(11),
          itemStyle: { color: firm.colour },
          data: releases.filter((r) => r[1] === k).map((r) => [r[0], 0.97]),
          silent: true,
        });
      });
      return Object.assign(base(), {
        grid: { left: px(62), right: px(14), top: px(30), bottom: px(44) },
        legend: {
          top: 0,
          textStyle: { color: INK, fontSize: px(12) },
          itemWidth: 18,
          data: series.filter((s) => s.type === "line" && !s.name.endsWith("latest release")).map((s) => s.name),
        },
        xAxis: axis("step", { min: 0, max: model.max_steps }),
        yAxis: axis("share of customers", { min: 0, max: 1, nameGap: px(40) }),
        series,
      });
    }

    function line(label, colour, data, column, width, style) {
      return {
        type: "line",
        name: label,
        showSymbol: false,
        silent: true,
        lineStyle: { color: colour, width, type: style },
        itemStyle: { color: colour },
        data: data.map((row) => [row[0], row[column]]),
      };
    }

    return {
      reset(m) {
        model = m;
        rows = m.history.slice();
        releases = [];
        chart.setOption(option(), { notMerge: true });
      },
      add(frame) {
        if (!model) return;
        if (frame.point[0] > rows[rows.length - 1][0]) rows.push(frame.point);
        releases = releases.concat(frame.releases);
        chart.setOption({ series: option().series.map((s) => ({ data: s.data })) });
      },
      last() {
        return rows[rows.length - 1];
      },
    };
  }

  // ----------------------------------------------------------------- network
  // 2,000 dots redrawn every step: on a plain canvas (a dot sprite per colour, links
  // drawn once on a layer below), several times cheaper than a chart library's scatter.
  function network(element) {
    window.classroomStats.rendered.network = 0;
    const canvas = document.createElement("canvas");
    canvas.style.width = "100%";
    canvas.style.height = "100%";
    canvas.style.display = "block";
    element.append(canvas);
    const links = document.createElement("canvas");
    let model = null;
    let firmOf = "";
    let sprites = [];
    let size = 4;

    function sprite(colour, px) {
      const dot = document.createElement("canvas");
      dot.width = dot.height = Math.ceil(px) + 2;
      const g = dot.getContext("2d");
      g.fillStyle = colour;
      g.beginPath();
      g.arc(dot.width / 2, dot.height / 2, px / 2, 0, 2 * Math.PI);
      g.fill();
      return dot;
    }

    function layout() {
      const ratio = window.devicePixelRatio || 1;
      const width = Math.max(1, Math.round(element.clientWidth * ratio));
      const height = Math.max(1, Math.round(element.clientHeight * ratio));
      canvas.width = links.width = width;
      canvas.height = links.height = height;
      const scale = (Math.min(width, height) / 2.7) * 1;
      const toX = (x) => width / 2 + x * scale;
      const toY = (y) => height / 2 - y * scale;
      const px = Math.max(2.5, Math.min(8, (9000 / model.layout.x.length / 6) * ratio));
      size = px;
      const colours = [model.legacy_colour].concat(model.firms.map((f) => f.colour));
      sprites = colours.map((c) => sprite(c, px));
      const g = links.getContext("2d");
      g.clearRect(0, 0, width, height);
      g.strokeStyle = "rgba(153, 153, 153, 0.35)";
      g.lineWidth = 0.5 * ratio;
      g.beginPath();
      const flat = model.layout.links;
      for (let i = 0; i + 3 < flat.length; i += 4) {
        g.moveTo(toX(flat[i]), toY(flat[i + 1]));
        g.lineTo(toX(flat[i + 2]), toY(flat[i + 3]));
      }
      g.stroke();
      return { toX, toY };
    }

    let map = null;
    function draw() {
      if (!model) return;
      const g = canvas.getContext("2d");
      g.clearRect(0, 0, canvas.width, canvas.height);
      g.drawImage(links, 0, 0);
      const x = model.layout.x;
      const y = model.layout.y;
      const half = sprites.length ? sprites[0].width / 2 : 0;
      for (let i = 0; i < firmOf.length; i++) {
        g.drawImage(sprites[firmOf.charCodeAt(i) - 48], map.toX(x[i]) - half, map.toY(y[i]) - half);
      }
      window.classroomStats.rendered.network += 1;
    }

    new ResizeObserver(() => {
      if (model) {
        map = layout();
        draw();
      }
    }).observe(element);

    return {
      reset(m) {
        model = m;
        firmOf = m.frame.firm_of;
        map = layout();
        draw();
      },
      update(frame) {
        firmOf = frame.firm_of;
        draw();
      },
    };
  }

  // ---------------------------------------------------------- value function
  function valueFunction(element) {
    const chart = make(element, "value");
    return {
      reset(vf) {
        const pairs = (ys) => vf.x.map((x, i) => [x, ys[i]]);
        const [gain, loss] = vf.points;
        chart.setOption(
          Object.assign(base(), {
            legend: { top: 0, textStyle: { color: INK, fontSize: px(12) }, data: ["no loss aversion (λ = 1)", vf.label] },
            grid: { left: px(62), right: px(14), top: px(30), bottom: px(44) },
            xAxis: axis("change from what the customer has now, x", { min: -1, max: 1 }),
            yAxis: axis("felt value v(x)", { nameGap: px(40) }),
            series: [
              {
                type: "line",
                name: "no loss aversion (λ = 1)",
                showSymbol: false,
                silent: true,
                lineStyle: { color: LEGACY, width: 2, type: "dashed" },
                itemStyle: { color: LEGACY },
                data: pairs(vf.neutral),
              },
              {
                type: "line",
                name: vf.label,
                showSymbol: false,
                silent: true,
                lineStyle: { color: "#0072B2", width: 3.5 },
                itemStyle: { color: "#0072B2" },
                data: pairs(vf.v),
                markPoint: {
                  silent: true,
                  symbol: "circle",
                  symbolSize: px(10),
                  itemStyle: { color: "#111111" },
                  label: { show: true, position: "left", offset: [0, -12], color: INK, fontSize: px(13), formatter: "kink at 0: what they have now" },
                  data: [{ coord: [0, 0] }],
                },
              },
              {
                type: "scatter",
                name: "gain and loss of 0.5",
                symbolSize: px(12),
                silent: true,
                itemStyle: { color: "#D55E00" },
                label: { show: true, color: INK, fontSize: px(13) },
                data: [
                  { value: gain, label: { position: "left", offset: [0, -14], formatter: `gain +0.5: v = +${gain[1].toFixed(2)}` } },
                  { value: loss, label: { position: "right", offset: [0, 12], formatter: `loss −0.5: v = ${loss[1].toFixed(2)}` } },
                ],
              },
            ],
          }),
          { notMerge: true },
        );
      },
    };
  }

  // --------------------------------------------------------------- break-even
  // The server fixes the axes' end when a release is first drawn (room for the felt
  // gains social proof can bring), so they hold still until the next release.
  // axis ends whose ticks fall on round numbers
  const NICE = [0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 15, 20];

  function breakeven(element) {
    const chart = make(element, "breakeven");
    let top = 0;
    let colour = null;

    function full(be) {
      chart.setOption(
        Object.assign(base(), {
          grid: { left: px(62), right: px(14), top: px(14), bottom: px(44) },
          xAxis: axis("felt loss λ·L^β", { min: 0, max: top }),
          yAxis: axis("felt gain T·G^α", { min: 0, max: top, nameGap: px(40) }),
          series: [
            {
              id: "below",
              type: "scatter",
              clip: true,
              name: "below the bar",
              silent: true,
              large: true,
              largeThreshold: 200,
              dimensions: ["loss", "gain"],
              symbolSize: px(5),
              itemStyle: { color: "#9a9a9a", opacity: 0.7 },
              data: new Float32Array(be.below),
            },
            {
              id: "clear",
              type: "scatter",
              clip: true,
              name: "clears the bar",
              silent: true,
              large: true,
              largeThreshold: 200,
              dimensions: ["loss", "gain"],
              symbolSize: px(6),
              itemStyle: { color: colour },
              data: new Float32Array(be.clear),
            },
            {
              id: "line",
              type: "line",
              silent: true,
              showSymbol: false,
              lineStyle: { color: INK, width: 1.6 },
              endLabel: { show: true, formatter: "gain = loss", color: INK, offset: [-96, 14] },
              data: [
                [0, 0],
                [top, top],
              ],
            },
          ],
        }),
        { notMerge: true },
      );
    }

    return {
      update(be, firmColour) {
        const newTop = NICE.find((nice) => nice >= be.limit) || Math.ceil(be.limit);
        if (newTop !== top || firmColour !== colour) {
          top = newTop;
          colour = firmColour;
          full(be);
          return;
        }
        chart.setOption({
          series: [
            { id: "below", data: new Float32Array(be.below) },
            { id: "clear", data: new Float32Array(be.clear) },
          ],
        });
      },
      reset() {
        top = 0;
        colour = null;
        chart.clear();
      },
    };
  }

  // ------------------------------------------------------- the class's λ bands
  // One bar of equal width per band, labelled by the band ("1.5–2", "> 3"); the
  // reference values and the class mean are drawn where they fall within their band
  // (a hidden value axis: band i spans i..i+1).
  function histogram(element) {
    const chart = make(element, "histogram");
    const MEAN = "#009E73";
    return {
      update(summary) {
        const bands = summary.bands;
        const top = Math.max(1, ...bands.map((b) => b.count));
        const refs = summary.references;
        const highest = Math.max(...refs.map((ref) => ref.value));
        const lines = refs.map((ref, i) => ({
          name: `${ref.value}`,
          xAxis: ref.position,
          lineStyle: { color: i ? "#D55E00" : "#111111", width: 2.5, type: i ? "dashed" : "solid" },
          // the values are close: the largest labelled to the right of its line, others left
          label: { align: ref.value === highest ? "left" : "right", padding: [0, 4] },
        }));
        const mean = summary.mean;
        const area = [];
        if (mean !== null) {
          lines.push({
            name: "class",
            xAxis: mean.position,
            lineStyle: { color: MEAN, width: 3, type: "solid" },
            label: { show: false },
          });
          if (mean.low_position !== null) {
            area.push([{ xAxis: mean.low_position }, { xAxis: mean.high_position }]);
          }
        }
        chart.setOption(
          Object.assign(base(), {
            grid: { left: px(48), right: px(16), top: px(30), bottom: px(46) },
            xAxis: [
              axis("loss aversion λ: one bar per band of answers", {
                type: "category",
                data: bands.map((b) => b.label),
                axisTick: { alignWithLabel: false },
                splitLine: { show: false },
                axisLabel: { color: INK, fontSize: px(14), fontWeight: 600, interval: 0 },
              }),
              { type: "value", min: 0, max: bands.length, show: false },
            ],
            yAxis: axis("students", { min: 0, max: Math.ceil(top * 1.2), minInterval: 1, nameGap: px(30) }),
            series: [
              {
                type: "bar",
                silent: true,
                barCategoryGap: "12%",
                itemStyle: { color: "#56B4E9", borderColor: "#0072B2", borderWidth: 1.5 },
                label: { show: true, position: "top", color: INK, fontSize: px(15), fontWeight: 700 },
                data: bands.map((b) => b.count),
              },
              {
                type: "line",
                xAxisIndex: 1,
                silent: true,
                data: [],
                markArea: { silent: true, itemStyle: { color: MEAN, opacity: 0.16 }, data: area },
                markLine: {
                  silent: true,
                  symbol: "none",
                  animation: false,
                  label: { color: INK, fontSize: px(14), fontWeight: 700, formatter: "{b}", position: "end" },
                  data: lines,
                },
              },
            ],
          }),
          { notMerge: true },
        );
      },
    };
  }

  return { adoption, network, valueFunction, breakeven, histogram };
})();

// One request at a time per message, answered in order, over the page's socket.
function openSocket(path, onClose) {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
  const socket = new WebSocket(url);
  const waiting = [];
  const ready = new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  socket.onmessage = (event) => {
    const resolve = waiting.shift();
    if (resolve) resolve(JSON.parse(event.data));
  };
  let closed = false;
  socket.onclose = () => {
    closed = true;
    while (waiting.length) waiting.shift()({ type: "error", message: "connection lost" });
    onClose();
  };
  return {
    async request(message) {
      await ready.catch(() => null);
      if (closed || socket.readyState !== WebSocket.OPEN) return { type: "error", message: "connection lost" };
      return new Promise((resolve) => {
        waiting.push(resolve);
        socket.send(JSON.stringify(message));
      });
    },
    close() {
      socket.close();
    },
  };
}

// Resolves once the charts have painted what they were given: ECharts paints in its own
// animation-frame callback, queued before this one.
function painted() {
  return new Promise((resolve) => requestAnimationFrame(resolve));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function teacherKey() {
  return new URLSearchParams(location.search).get("key") || "";
}
