// The teacher's page of a class session: how to join, the class's answers live, and
// the market run with the class's loss aversion beside the same market at λ = 1.
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
  let consistent = 0;
  let playing = false;
  let done = false;
  $("qr").src = `/api/qr.svg${query}`;
  $("lessons-link").href = `/lessons${query}`;

  async function refresh() {
    try {
      const response = await fetch("/api/class", { headers: { "X-Teacher-Key": key } });
      if (!response.ok) throw new Error((await response.json()).error);
      const summary = await response.json();
      const url = new URL(summary.join_url);
      $("join-address").textContent = `${url.origin}/join`;
      $("join-code").textContent = summary.code;
      $("local-only").hidden = !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
      consistent = summary.answered - summary.inconsistent;
      $("counts").textContent =
        `joined ${summary.joined} · answered ${summary.answered} · inconsistent ${summary.inconsistent} (not used)`;
      $("class-mean").textContent =
        summary.mean_midpoint === null ? "" : `Class mean ≈ ${summary.mean_midpoint.toFixed(2)} (band midpoints).`;
      histogram.update(summary);
      $("run-market").disabled = consistent === 0;
      $("banner").hidden = true;
    } catch (error) {
      $("banner").hidden = false;
      $("banner").textContent = `Cannot reach the class server (${error.message}). Is it still running?`;
    }
  }

  const socket = openSocket(`/ws/model${query}`, () => {
    playing = false;
    $("banner").hidden = false;
    $("banner").textContent = "The connection to the server was lost: reload the page.";
  });

  function share(frame) {
    return frame.point[2];
  }

  async function runMarket() {
    playing = false;
    const reply = await socket.request({ op: "market" });
    if (reply.type === "error") {
      $("banner").hidden = false;
      $("banner").textContent = reply.message;
      return;
    }
    markets.class.reset(reply.class);
    markets.neutral.reset(reply.neutral);
    $("market-class-note").textContent = `(λ drawn from ${reply.students} consistent answers)`;
    done = false;
    $("play-market").disabled = false;
    show(reply.class.frame, reply.neutral.frame);
    play();
  }

  function show(withClass, neutral) {
    done = withClass.done;
    $("market-counter").textContent = `step ${withClass.step} · adopted: this class ${(100 * share(withClass)).toFixed(0)} %, λ = 1 ${(100 * share(neutral)).toFixed(0)} %`;
    $("play-market").textContent = playing ? "❚❚ Pause" : "▶ Play";
    $("play-market").disabled = done;
  }

  async function play() {
    if (playing) {
      playing = false;
      return;
    }
    playing = true;
    while (playing && !done && !document.hidden) {
      const started = performance.now();
      const frame = await socket.request({ op: "market_step" });
      if (frame.type !== "market_frame") break;
      markets.class.add(frame.class);
      markets.neutral.add(frame.neutral);
      show(frame.class, frame.neutral);
      await painted();
      const wait = 60 - (performance.now() - started);
      if (wait > 0) await sleep(wait);
    }
    playing = false;
    $("play-market").textContent = "▶ Play";
  }

  $("run-market").addEventListener("click", runMarket);
  $("play-market").addEventListener("click", play);
  await refresh();
  setInterval(refresh, 1000);
  window.teacher = { refresh, runMarket };
  document.body.dataset.ready = "true";
})();
