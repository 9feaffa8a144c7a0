// The student's page: join with the code, accept or reject six coin-toss lotteries,
// see one's own loss-aversion band. Nothing else of the class is shown.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  let code = (params.get("code") || "").toUpperCase();
  let lottery = null; // {win, losses}
  const answers = [];

  const tokenKey = () => `classroom-token-${code}`;

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, data };
  }

  function say(text) {
    $("message").textContent = text ? text.charAt(0).toUpperCase() + text.slice(1) : "";
  }

  async function join() {
    code = ($("code").value || code).trim().toUpperCase();
    const reply = await post("/api/join", { code });
    if (!reply.ok) {
      $("join").hidden = false;
      $("code").value = code;
      return say(reply.data.error || "Could not join: try again.");
    }
    localStorage.setItem(tokenKey(), reply.data.token);
    history.replaceState(null, "", `${location.pathname}?code=${encodeURIComponent(code)}`);
    say("");
    if (reply.data.rejoined) return restore(reply.data.token); // this phone joined before
    lottery = reply.data;
    ask();
  }

  function ask() {
    $("join").hidden = true;
    $("questions").hidden = false;
    const list = $("lotteries");
    list.innerHTML = "";
    lottery.losses.forEach((loss, i) => {
      const card = document.createElement("div");
      card.className = "lottery";
      card.innerHTML = `<p>${i + 1}. Heads: <b>win €${lottery.win}</b>. Tails: <b>lose €${loss}</b>.</p>`;
      const choices = document.createElement("div");
      choices.className = "choices";
      for (const [value, label] of [["accept", "Accept"], ["reject", "Reject"]]) {
        const button = document.createElement("button");
        button.textContent = label;
        button.dataset.value = value;
        button.setAttribute("aria-pressed", "false");
        button.addEventListener("click", () => {
          answers[i] = value;
          for (const other of choices.children) other.setAttribute("aria-pressed", String(other === button));
          $("submit").disabled = answers.filter(Boolean).length < lottery.losses.length;
        });
        choices.append(button);
      }
      card.append(choices);
      list.append(card);
    });
  }

  async function submit() {
    $("submit").disabled = true;
    const token = localStorage.getItem(tokenKey());
    const reply = await post("/api/answer", { token, answers });
    if (reply.status === 409) return restore(token);
    if (!reply.ok) {
      $("submit").disabled = reply.status === 403;
      return say(reply.data.error || "Could not send: try again.");
    }
    show(reply.data);
  }

  function show(own) {
    $("join").hidden = true;
    $("questions").hidden = true;
    const box = $("result");
    box.hidden = false;
    if (!own.consistent) {
      const [better, worse] = own.inconsistency;
      box.innerHTML =
        `<p>You rejected the toss that loses €${better} but accepted one that loses €${worse}, which is worse.</p>` +
        "<p>So your answers give no single range for your loss aversion. They are counted, but not used for the class's market.</p>";
      return;
    }
    const band = own.band;
    box.innerHTML =
      `<p>Your loss aversion:</p><p class="band">${band.label}</p>` +
      "<p>λ says how much more a loss hurts you than an equal gain pleases you: at λ = 2, losing €1 feels as bad as winning €2 feels good.</p>" +
      "<p>Most people are around 2: Tversky &amp; Kahneman found 2.25; a 2024 meta-analysis of many studies gives 1.96 on average.</p>" +
      "<p>Look at the teacher's screen to see the whole class.</p>";
  }

  async function restore(token) {
    const reply = await post("/api/me", { token });
    if (reply.status === 403 && reply.data.error && reply.data.error.includes("removed")) {
      $("join").hidden = true;
      $("questions").hidden = true;
      return say(reply.data.error);
    }
    if (!reply.ok) {
      localStorage.removeItem(tokenKey());
      return join();
    }
    if (reply.data.answered) return show(reply.data);
    lottery = reply.data;
    ask();
  }

  function start() {
    const token = code && localStorage.getItem(tokenKey());
    if (token) return restore(token);
    if (code) return join();
    $("join").hidden = false;
  }

  $("join-button").addEventListener("click", join);
  $("code").addEventListener("keydown", (event) => event.key === "Enter" && join());
  $("submit").addEventListener("click", submit);
  start();
  document.body.dataset.ready = "true";
})();
