// The lesson page: lesson buttons and controls, and the model's four panels, played
// step by step: each step is asked of the server only after the last one was drawn, so
// a closed or hidden page stops playing, and never faster than the server's floor.
"use strict";

(async () => {
  const $ = (id) => document.getElementById(id);
  const key = teacherKey();
  const query = key ? `?key=${encodeURIComponent(key)}` : "";
  const info = await (await fetch(`/api/lessons${query}`)).json();
  const lessons = Object.fromEntries(info.lessons.map((l) => [l.name, l]));
  const charts = {
    adoption: Charts.adoption($("chart-adoption")),
    network: Charts.network($("chart-network")),
    value: Charts.valueFunction($("chart-value")),
    breakeven: Charts.breakeven($("chart-breakeven")),
  };
  const state = { lesson: info.first_lesson, model: null, firm: 0, playing: false, done: false, busy: false };
  let lost = false; // the socket closed: its banner stays until the page is reloaded
  const socket = openSocket(`/ws/model${query}`, () => {
    stop();
    showError("The connection to the server was lost. Reload the page (the model starts again).");
    lost = true;
  });

  // ----------------------------------------------------------------- controls
  const interval = $("interval");
  interval.min = info.floor_ms;
  const showInterval = () => ($("interval-value").textContent = `${interval.value} ms`);
  interval.addEventListener("input", showInterval);
  showInterval();

  const inputs = {};
  for (const control of info.controls) {
    const row = document.createElement("label");
    row.className = "control";
    const name = document.createElement("span");
    name.textContent = control.label;
    row.append(name);
    let input;
    if (control.kind === "select") {
      input = document.createElement("select");
      for (const choice of control.choices) input.add(new Option(choice, choice));
      row.append(input);
    } else {
      input = document.createElement("input");
      input.type = "range";
      input.min = control.low;
      input.max = control.high;
      input.step = control.step;
      const out = document.createElement("output");
      row.append(out, input);
      const show = () => (out.textContent = (+input.value).toLocaleString("en"));
      input.addEventListener("input", show);
      input.show = show;
    }
    input.name = control.name;
    input.setAttribute("aria-label", control.label);
    input.addEventListener("input", markChanged);
    inputs[control.name] = { control, input };
    $("controls").append(row);
  }

  function values() {
    const out = {};
    for (const [name, { control, input }] of Object.entries(inputs)) {
      out[name] = control.kind === "select" ? input.value : +input.value;
    }
    return out;
  }

  function setValues(settings) {
    for (const [name, value] of Object.entries(settings)) {
      const entry = inputs[name];
      if (!entry) continue;
      entry.input.value = value;
      if (entry.input.show) entry.input.show();
    }
  }

  function markChanged() {
    const running = state.model ? state.model.controls : {};
    const now = values();
    const changed = Object.keys(now).some((k) => String(now[k]) !== String(running[k]));
    $("changed").hidden = !changed;
    $("reset").classList.toggle("primary", changed);
  }

  // ------------------------------------------------------------------ lessons
  for (const lesson of info.lessons) {
    const button = document.createElement("button");
    button.textContent = lesson.short;
    button.title = lesson.title;
    button.dataset.lesson = lesson.name;
    button.addEventListener("click", () => chooseLesson(lesson.name));
    $("lessons").append(button);
  }

  function showLesson() {
    const lesson = lessons[state.lesson];
    $("lesson-title").textContent = lesson.title;
    $("lesson-paragraph").textContent = lesson.paragraph;
    $("lesson-notice").textContent = lesson.notice;
    $("lesson-try").textContent = lesson.try;
    $("lesson-ask").textContent = lesson.ask;
    $("lesson-measured").textContent = lesson.measured;
    for (const button of $("lessons").children) {
      button.setAttribute("aria-pressed", String(button.dataset.lesson === state.lesson));
    }
  }

  async function chooseLesson(name) {
    state.lesson = name;
    setValues(lessons[name].settings);
    showLesson();
    await build();
  }

  // ------------------------------------------------------------------ running
  async function build() {
    stop();
    const lesson = lessons[state.lesson];
    const reply = await socket.request({ op: "build", lesson: lesson.name, settings: values(), steps: lesson.steps });
    if (reply.type === "error") return showError(reply.message);
    $("banner").hidden = true;
    state.model = reply;
    state.firm = Math.min(state.firm, reply.firms.length - 1);
    charts.adoption.reset(reply);
    charts.network.reset(reply);
    charts.value.reset(reply.value_function);
    charts.breakeven.reset();
    $("value-title").textContent = `a loss hurts ${reply.value_function.ratio}× an equal gain`;
    $("network-legend").innerHTML = "";
    const legend = [reply.legacy ? ["legacy", reply.legacy_colour] : null]
      .concat(reply.firms.map((f) => [f.name, f.colour]))
      .filter(Boolean);
    for (const [name, colour] of legend) {
      const item = document.createElement("span");
      item.innerHTML = `<span style="color:${colour}">●</span> ${name} `;
      $("network-legend").append(item);
    }
    const pick = $("firm-pick");
    pick.innerHTML = "";
    if (reply.firms.length > 1) {
      reply.firms.forEach((firm, k) => {
        const button = document.createElement("button");
        button.textContent = firm.name;
        button.setAttribute("aria-pressed", String(k === state.firm));
        button.addEventListener("click", () => chooseFirm(k));
        pick.append(button);
      });
    }
    drawFrame(reply.frame, false);
    markChanged();
  }

  function drawFrame(frame, addPoint = true) {
    if (addPoint) charts.adoption.add(frame);
    charts.network.update(frame);
    const firm = state.model.firms[frame.breakeven.firm];
    charts.breakeven.update(frame.breakeven, firm.colour);
    const be = frame.breakeven;
    const pct = (x) => `${(100 * x).toFixed(0)} %`;
    const stats = be.released
      ? [`${firm.name}: clears the bar at launch ${pct(be.clears_at_launch)}`, `adopted now ${pct(be.adopted_now)}`]
      : [`${firm.name}: no release yet`, `on ${firm.name}'s first product ${pct(be.adopted_now)}`];
    stats.push(`clears it now ${pct(be.clears_now)}`);
    $("breakeven-stats").replaceChildren(
      ...stats.map((text) => Object.assign(document.createElement("span"), { textContent: text })),
    );
    state.done = frame.done;
    $("counter").textContent = `step ${frame.step} / ${state.model.max_steps}`;
    const counters = window.classroomStats;
    counters.frames += 1;
    counters.lastFrame = performance.now();
    if (!counters.firstFrame) counters.firstFrame = counters.lastFrame;
    updateButtons();
  }

  async function chooseFirm(k) {
    state.firm = k;
    for (const [i, button] of [...$("firm-pick").children].entries()) {
      button.setAttribute("aria-pressed", String(i === k));
    }
    if (!state.playing) {
      const frame = await socket.request({ op: "firm", firm: k });
      if (frame.type === "frame") drawFrame(frame, false);
    }
  }

  async function step() {
    if (state.busy || state.done) return;
    state.busy = true;
    try {
      const frame = await socket.request({ op: "step", firm: state.firm });
      if (frame.type === "error") return showError(frame.message);
      drawFrame(frame);
      await painted();
    } finally {
      state.busy = false;
    }
  }

  // Play: each step is drawn before the next is shown. When the pause is shorter than a
  // frame takes, the next step is asked for as soon as this one is handed to the charts,
  // so the server computes it while the browser paints (the server keeps the floor).
  async function play() {
    if (state.playing) return stop();
    state.playing = true;
    state.busy = true;
    window.classroomStats.firstFrame = 0;
    window.classroomStats.frames = 0;
    updateButtons();
    const ask = () => socket.request({ op: "step", firm: state.firm });
    let asked = performance.now();
    let pending = ask();
    try {
      while (pending) {
        const frame = await pending;
        pending = null;
        if (frame.type === "error") return showError(frame.message);
        drawFrame(frame);
        const more = () => state.playing && !state.done && !document.hidden;
        const wait = +interval.value - (performance.now() - asked);
        if (more() && wait <= 0) {
          asked = performance.now();
          pending = ask();
        }
        await painted();
        if (!pending && more()) {
          const left = +interval.value - (performance.now() - asked);
          if (left > 0) await sleep(left);
          if (more()) {
            asked = performance.now();
            pending = ask();
          }
        }
      }
    } finally {
      state.busy = false;
      stop();
    }
  }

  function stop() {
    state.playing = false;
    updateButtons();
  }

  function updateButtons() {
    $("play").textContent = state.playing ? "❚❚ Pause" : "▶ Play";
    $("play").disabled = state.done;
    $("step").disabled = state.done || state.playing;
  }

  function showError(message) {
    stop();
    if (lost) return; // "reload the page" says what to do; "connection lost" would not
    $("banner").hidden = false;
    $("banner").textContent = message;
  }

  $("play").addEventListener("click", play);
  $("step").addEventListener("click", step);
  $("reset").addEventListener("click", build);
  document.addEventListener("visibilitychange", () => document.hidden && stop());
  window.classroom = { build, play, stop, state, chooseLesson, charts };
  await chooseLesson(state.lesson);
  document.body.dataset.ready = "true";
})();
