// The teacher's page of a class session: how to join, the class's answers live (and
// its size, and removing an answer), and the market run with the class's loss aversion
// beside the same market at λ = 1, played at a pace the teacher can talk over.
"use strict";

(async () => {
  const $ = (id) => document.getElementById(id);
  const key = teacherKey();
  const query = `?key=${encodeURIComponent(key)}`;
  const histogram = Charts.histogram($("chart-histogram"));
  const markets = {
    class: Charts.adoption($("chart-market-class"), "market-class"),
    neutral: Charts.adoption($("chart-market-neutral"), "market-neutral"),
  };
  const market = { built: false, playing: false, done: false, busy: false };
  let lost = false; // the socket closed: its banner stays until the page is reloaded
  let answerList = [];
  $("qr").src = `/api/qr.svg${query}`;
  $("lessons-link").href = `/lessons${query}`;

  function banner(text) {
    if (lost) return;
    $("banner").hidden = !text;
    $("banner").textContent = text || "";
  }

  async function api(path, body) {
    const response = await fetch(path, {
      method: body === undefined ? "GET" : "POST",
      headers: { "X-Teacher-Key": key, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  // the join address: as large as fits its line, never broken
  function fitAddress() {
    const element = $("join-address");
    const largest = 2.2 * parseFloat(getComputedStyle(document.documentElement).fontSize);
    let size = largest;
    element.style.fontSize = `${size}px`;
    while (element.scrollWidth > element.clientWidth && size > 10) {
      size -= 1;
      element.style.fontSize = `${size}px`;
    }
  }
  new ResizeObserver(fitAddress).observe($("join-address"));

  async function refresh() {
    try {
      const summary = await api("/api/class");
      const url = new URL(summary.join_url);
      const address = `${url.origin}${url.pathname}`;
      if ($("join-address").textContent !== address) {
        $("join-address").textContent = address;
        fitAddress();
      }
      $("join-code").textContent = summary.code;
      $("local-only").hidden = !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
      const full = summary.joined >= summary.size ? " (full)" : "";
      $("counts").textContent =
        `joined ${summary.joined} / ${summary.size}${full} · answered ${summary.answered} / ${summary.size}` +
        ` · inconsistent ${summary.inconsistent} (not used)`;
      if (document.activeElement !== $("size-input")) $("size-input").value = summary.size;
      $("size-input").max = summary.max_size;
      const mean = summary.mean;
      $("class-mean").textContent =
        mean === null
          ? ""
          : mean.low === null
            ? `Class mean λ ≈ ${mean.mean.toFixed(2)} (one answer).`
            : `Class mean λ ≈ ${mean.mean.toFixed(2)} (95 % CI ${mean.low.toFixed(2)}–${mean.high.toFixed(2)}; band midpoints).`;
      histogram.update(summary);
      answerList = summary.answer_list;
      if ($("answers-dialog").open) listAnswers();
      $("run-market").disabled = summary.answered - summary.inconsistent === 0;
      banner("");
    } catch (error) {
      banner(`Cannot reach the class server (${error.message}). Is it still running?`);
    }
  }

  // ------------------------------------------------------------ class size, answers
  async function setSize() {
    try {
      await api("/api/size", { size: Number($("size-input").value) });
      $("size-input").blur();
      await refresh();
    } catch (error) {
      banner(error.message);
    }
  }

  function listAnswers() {
    const body = $("answers-list");
    body.innerHTML = "";
    for (const answer of answerList) {
      const row = body.insertRow();
      for (const text of [answer.id, answer.time, answer.band]) row.insertCell().textContent = text;
      const remove = document.createElement("button");
      remove.textContent = "Remove";
      remove.dataset.answer = answer.id;
      remove.addEventListener("click", () => removeAnswer(answer.id));
      row.insertCell().append(remove);
    }
    if (!answerList.length) body.insertRow().insertCell().textContent = "No answers yet.";
  }

  async function removeAnswer(id) {
    if (!window.confirm(`Remove answer ${id}? It is deleted and its phone cannot answer again.`)) return;
    try {
      await api("/api/remove", { answer: id });
    } catch (error) {
      banner(error.message);
    }
    await refresh();
    listAnswers();
  }

  // ------------------------------------------------------------------ the market
  const socket = openSocket(`/ws/model${query}`, () => {
    market.playing = false;
    showMarket();
    banner("The connection to the server was lost: reload the page.");
    lost = true;
  });

  const interval = $("market-interval");
  const showInterval = () => {
    const ms = +interval.value;
    $("market-interval-value").textContent = `${ms} ms (${(1000 / ms).toFixed(ms > 200 ? 1 : 0)} steps/s)`;
  };
  interval.addEventListener("input", showInterval);
  showInterval();

  const share = (frame) => frame.point[2];

  async function runMarket() {
    market.playing = false;
    while (market.busy) await sleep(10); // the last step of a run being played
    const reply = await socket.request({ op: "market" });
    if (reply.type === "error") return banner(reply.message);
    markets.class.reset(reply.class);
    markets.neutral.reset(reply.neutral);
    const answers = reply.students === 1 ? "answer" : "answers";
    $("market-class-note").textContent = `(λ drawn from ${reply.students} consistent ${answers})`;
    market.built = true;
    showFrame(reply.class.frame, reply.neutral.frame);
    play();
  }

  function showFrame(withClass, neutral) {
    market.done = withClass.done;
    $("market-counter").textContent = `step ${withClass.step} · adopted: this class ${(100 * share(withClass)).toFixed(0)} %, λ = 1 ${(100 * share(neutral)).toFixed(0)} %`;
    showMarket();
  }

  function showMarket() {
    $("play-market").textContent = market.playing ? "❚❚ Pause" : "▶ Play";
    $("play-market").disabled = !market.built || market.done;
  }

  // Play: a step is asked for only once the last one is drawn, then the pause between
  // steps is kept (the server never steps faster than its floor).
  async function play() {
    if (market.playing) {
      market.playing = false;
      return showMarket();
    }
    market.playing = true;
    market.busy = true;
    showMarket();
    try {
      while (market.playing && !market.done && !document.hidden) {
        const started = performance.now();
        const frame = await socket.request({ op: "market_step" });
        if (frame.type !== "market_frame") break;
        markets.class.add(frame.class);
        markets.neutral.add(frame.neutral);
        showFrame(frame.class, frame.neutral);
        window.classroomStats.frames += 1;
        window.classroomStats.lastFrame = performance.now();
        if (!window.classroomStats.firstFrame) window.classroomStats.firstFrame = window.classroomStats.lastFrame;
        await painted();
        const wait = +interval.value - (performance.now() - started);
        if (wait > 0) await sleep(wait);
      }
    } finally {
      market.busy = false;
      market.playing = false;
      showMarket();
    }
  }

  $("run-market").addEventListener("click", runMarket);
  $("play-market").addEventListener("click", play);
  $("size-set").addEventListener("click", setSize);
  $("size-input").addEventListener("keydown", (event) => event.key === "Enter" && setSize());
  $("show-answers").addEventListener("click", () => {
    listAnswers();
    $("answers-dialog").showModal();
  });
  $("close-answers").addEventListener("click", () => $("answers-dialog").close());
  document.addEventListener("visibilitychange", () => document.hidden && (market.playing = false));
  await refresh();
  setInterval(refresh, 1000);
  window.teacher = { refresh, runMarket, play, market };
  document.body.dataset.ready = "true";
})();
