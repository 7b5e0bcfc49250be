// tuneforge studio, Chat: start and stop servers, stream replies (one column, or two side by side), classify.
// Uses postJSON and showProblem from studio.js. Plain DOM, no libraries.
"use strict";

const chat = { servers: [], history: { left: [], right: [] }, polling: null };

function element(tag, attributes, text) {
  const node = document.createElement(tag);
  Object.entries(attributes || {}).forEach(([key, value]) => node.setAttribute(key, value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---- servers --------------------------------------------------------------------------------------------

async function refreshServers() {
  const response = await fetch("/api/chat/servers", { headers: { accept: "application/json" } });
  if (!response.ok) return;
  chat.servers = (await response.json()).servers;
  renderServers();
  fillPickers();
  const waiting = chat.servers.some((s) => s.state === "starting" || s.state === "stopping");
  clearTimeout(chat.polling);
  if (waiting) chat.polling = setTimeout(refreshServers, 1000);
}

function renderServers() {
  const table = document.getElementById("servers");
  const body = table.querySelector("tbody");
  body.innerHTML = "";
  table.hidden = chat.servers.length === 0;
  const log = document.getElementById("server-log");
  log.hidden = true;
  for (const server of chat.servers) {
    const row = element("tr", { "data-server": server.id });
    for (const value of [server.id, server.run, server.artifact, server.backend, server.port]) row.appendChild(element("td", {}, String(value)));
    const state = element("td", { class: "state status-" + server.state.split(" ")[0] }, describeState(server));
    row.appendChild(state);
    const actions = element("td");
    const stop = element("button", { type: "button", class: "danger" }, server.state === "failed" ? "Dismiss" : "Stop");
    stop.addEventListener("click", () => stopServer(server.id, stop));
    actions.appendChild(stop);
    row.appendChild(actions);
    body.appendChild(row);
    if (server.log_tail && server.state !== "stopping") {
      log.hidden = false;
      log.textContent = `${server.id} (${server.state}${server.problem ? ": " + server.problem : ""})\n${server.log_tail}`;
    }
  }
}

function describeState(server) {
  if (server.state === "starting") return `starting… ${server.waited_seconds} s`;
  if (server.state === "ready") return `ready (${server.ready_seconds} s to start)`;
  if (server.state === "failed") return `failed: ${server.problem}`;
  return server.state;
}

async function startServer(event) {
  event.preventDefault();
  const picked = document.getElementById("serve-target").selectedOptions[0];
  const button = document.getElementById("start-server");
  const result = document.getElementById("serve-result");
  result.innerHTML = "";
  button.disabled = true;
  try {
    await postJSON("/api/chat/servers", { run: picked.dataset.run, backend: picked.dataset.backend, artifact: picked.dataset.artifact });
  } catch (problem) {
    showProblem(result, problem);
  } finally {
    button.disabled = false;
  }
  refreshServers();
}

async function stopServer(id, button) {
  button.disabled = true;
  button.textContent = "Stopping…";
  try {
    await postJSON(`/api/chat/servers/${encodeURIComponent(id)}/stop`);
  } catch (problem) {
    showProblem(document.getElementById("serve-result"), problem);
  }
  refreshServers();
}

function fillPickers() {
  // One entry per (server, voice): a server of an adapter answers as the tuned model and as its base.
  for (const id of ["chat-left", "chat-right"]) {
    const select = document.getElementById(id);
    const kept = select.value;
    select.querySelectorAll("option[data-voice]").forEach((option) => option.remove());
    for (const server of chat.servers.filter((s) => s.state === "ready")) {
      for (const voice of server.voices) {
        const option = element("option", { value: `${server.id}|${voice}`, "data-voice": voice }, `${server.run} · ${server.artifact} (${server.backend}) · ${voice}`);
        select.appendChild(option);
      }
    }
    if ([...select.options].some((o) => o.value === kept)) select.value = kept;
  }
  updateColumns();
}

function updateColumns() {
  for (const side of ["left", "right"]) {
    const select = document.getElementById(`chat-${side}`);
    const column = document.querySelector(`.chat-column[data-column="${side}"]`);
    column.hidden = !select.value;
    column.querySelector("h3").textContent = select.selectedOptions[0] ? select.selectedOptions[0].textContent : "";
  }
  document.getElementById("chat-columns").classList.toggle("side-by-side", !!document.getElementById("chat-right").value);
}

// ---- chat -----------------------------------------------------------------------------------------------

async function send(event) {
  event.preventDefault();
  const form = event.target;
  const prompt = form.prompt.value.trim();
  if (!prompt) return;
  const problem = document.getElementById("chat-problem");
  problem.innerHTML = "";
  const sides = ["left", "right"].filter((side) => document.getElementById(`chat-${side}`).value);
  if (!sides.length) {
    showProblem(problem, { error: "no server is ready", fix: "start a server above and wait until it is ready" });
    return;
  }
  const settings = { max_tokens: Number(form.max_tokens.value), temperature: Number(form.temperature.value) };
  const system = form.system.value.trim();
  form.prompt.value = "";
  const button = document.getElementById("chat-send");
  button.disabled = true;
  await Promise.all(sides.map((side) => converse(side, prompt, system, settings)));
  button.disabled = false;
}

async function converse(side, prompt, system, settings) {
  const [serverId, voice] = document.getElementById(`chat-${side}`).value.split("|");
  const history = chat.history[side];
  history.push({ role: "user", content: prompt });
  const log = document.querySelector(`.chat-column[data-column="${side}"] .chat-log`);
  log.appendChild(element("div", { class: "turn user" }, prompt));
  const reply = element("div", { class: "turn assistant" });
  const text = element("span", { class: "reply" });
  const ending = element("div", { class: "ending muted" }, "…");
  reply.append(text, ending);
  log.appendChild(reply);
  const messages = (system ? [{ role: "system", content: system }] : []).concat(history);
  const result = await streamReply(serverId, { messages, voice, ...settings }, text, ending);
  if (result) history.push({ role: "assistant", content: text.textContent });
  else history.pop();  // the turn failed: it is not part of the conversation the model sees next
}

async function streamReply(serverId, body, text, ending) {
  // The reply arrives as Server-Sent Events over a POST: read with fetch's stream reader.
  const response = await fetch(`/api/chat/servers/${encodeURIComponent(serverId)}/chat`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
    showProblem(ending, problem);
    return null;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "", end = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const line = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (!line.startsWith("data: ")) continue;
      const message = JSON.parse(line.slice(6));
      if (message.type === "token") text.textContent += message.text;
      else if (message.type === "error") { ending.textContent = message.error; ending.className = "ending problem"; return null; }
      else if (message.type === "end") end = message;
    }
  }
  if (!end) { ending.textContent = "the stream ended without an end"; return null; }
  const limit = end.finish_reason === "length" ? ` (${end.max_tokens})` : "";
  ending.textContent = `${end.ended}${limit} · first token ${end.first_token_seconds ?? "—"} s · ${end.seconds} s`;
  ending.classList.add(end.finish_reason === "length" ? "hit-limit" : "ended");
  return end;
}

function clearConversation() {
  chat.history = { left: [], right: [] };
  document.querySelectorAll(".chat-log").forEach((log) => (log.innerHTML = ""));
}

// ---- classification -------------------------------------------------------------------------------------

async function classify(event) {
  event.preventDefault();
  const form = event.target;
  const target = document.getElementById("classify-result");
  const button = document.getElementById("classify-button");
  target.textContent = "scoring…";
  button.disabled = true;
  try {
    const result = await postJSON("/api/chat/classify", { run: form.run.value, text: form.text.value });
    target.innerHTML = "";
    target.appendChild(element("p", {}, `${result.label} (${(result.confidence * 100).toFixed(1)}%) · ${result.seconds} s`));
    const table = element("table", { class: "probabilities" });
    for (const [label, p] of Object.entries(result.probabilities).sort((a, b) => b[1] - a[1])) {
      const row = element("tr");
      row.appendChild(element("td", {}, label));
      const bar = element("td", { class: "num" });
      bar.appendChild(element("span", { class: "bar", style: `width:${Math.round(p * 200)}px` }));
      bar.appendChild(document.createTextNode(` ${(p * 100).toFixed(1)}%`));
      row.appendChild(bar);
      table.appendChild(row);
    }
    target.appendChild(table);
    target.appendChild(element("p", { class: "muted" }, result.how));
  } catch (problem) {
    showProblem(target, problem);
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const serve = document.getElementById("serve-form");
  if (serve) serve.addEventListener("submit", startServer);
  document.getElementById("chat-form").addEventListener("submit", send);
  document.getElementById("chat-clear").addEventListener("click", clearConversation);
  document.getElementById("chat-left").addEventListener("change", updateColumns);
  document.getElementById("chat-right").addEventListener("change", updateColumns);
  const classifyForm = document.getElementById("classify-form");
  if (classifyForm) classifyForm.addEventListener("submit", classify);
  refreshServers();
});
