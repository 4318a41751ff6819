// The live architecture page: asks GET /api/v1/admin/architecture every second (with the admin's
// token, from the URL fragment or a login), draws the processes and their modules, the seams and
// the event flows from what the running processes report, and turns their counters into rates.
"use strict";

const SAGA_STATES = ["submitted", "paid", "stock_confirmed", "shipped", "completed", "cancelled"];
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
};

let token = null;
let previous = null;      // the last answer, with its time: rates are differences
let lastGood = 0;

function tokenFromFragment() {
  const match = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, "", location.pathname);  // out of the address bar and the history
  return decodeURIComponent(match[1]);
}

async function login(event) {
  event.preventDefault();
  const error = document.getElementById("login-error");
  error.textContent = "";
  const res = await fetch("/api/v1/identity/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: document.getElementById("email").value, password: document.getElementById("password").value }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) { error.textContent = body.detail || `Login failed (${res.status}).`; return; }
  token = body.token;
  sessionStorage.setItem("eshop-architecture-token", token);
  start();
}

function showLogin(message) {
  document.getElementById("view").hidden = true;
  document.getElementById("login").hidden = false;
  setStatus(message);
}

function setStatus(text) { document.getElementById("status").textContent = text; }

function start() {
  document.getElementById("login").hidden = true;
  document.getElementById("view").hidden = false;
  poll();
}

async function poll() {
  try {
    const res = await fetch("/api/v1/admin/architecture", { headers: { Authorization: `Bearer ${token}` } });
    if (res.status === 401 || res.status === 403) {
      sessionStorage.removeItem("eshop-architecture-token");
      showLogin(res.status === 401 ? "The token is invalid or expired: log in again." : "This page needs an admin.");
      return;
    }
    const now = performance.now();
    const data = await res.json();
    render(data, previous, previous ? (now - previous.at) / 1000 : 0);
    previous = { data, at: now };
    lastGood = Date.now();
    setStatus(`Live: ${data.processes.length} process${data.processes.length === 1 ? "" : "es"}, updated ${new Date().toLocaleTimeString()}.`);
  } catch (e) {
    setStatus(`Cannot reach the shop (${e.message}); retrying.`);
  }
  setTimeout(poll, 1000);
}

// Counters of one process from the previous answer, by its instance.
function before(prev, process) {
  if (!prev) return null;
  return prev.data.processes.find((p) => p.instance && p.instance === process.instance) || null;
}

function rate(now, then, seconds) {
  if (!then || seconds <= 0) return 0;
  return Math.max(0, (now - then) / seconds);
}

// p99 of the requests between two answers, from their cumulative latency buckets.
function p99(now, then) {
  if (!now || !now.buckets) return null;
  const counts = now.buckets.map((n, i) => n - (then && then.buckets ? then.buckets[i] || 0 : 0));
  const total = counts[counts.length - 1];
  if (!total) return null;
  const want = total * 0.99;
  for (let i = 0; i < counts.length; i++) if (counts[i] >= want) return now.le[i] === null ? Infinity : now.le[i];
  return null;
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const ms = (seconds) => (seconds === null ? "–" : seconds === Infinity ? "> 5 s" : `≤ ${seconds * 1000} ms`);

function render(data, prev, seconds) {
  const box = document.getElementById("processes");
  box.replaceChildren();
  for (const process of data.processes) box.append(processBox(process, before(prev, process), seconds));
  drawArrows(data);
  renderSeams(data, prev, seconds);
  renderEvents(data, prev, seconds);
  renderSaga(data);
}

function processBox(process, then, seconds) {
  const up = process.status === "up";
  const bus = process.eventBus || {};
  const node = el("div", { class: `process${up ? "" : " down"}`, "data-process": process.url || "", "data-status": process.status },
    el("h3", {}, process.url || "?"),
    el("div", { class: "meta" }, up
      ? `${process.version} · instance ${process.instance.slice(0, 8)} · events: ${bus.transport}${bus.broker ? " " + bus.broker : ""}`
      : "not answering"));
  for (const m of process.modules || []) {
    const counters = (process.counters || {}).requests || {};
    const thenCounters = then ? (then.counters || {}).requests || {} : {};
    const mine = counters[m.name], old = thenCounters[m.name];
    const card = el("div", { class: `module${m.moving ? " moving" : ""}`, "data-module": m.name, "data-location": m.location },
      el("div", { class: "name" }, m.name),
      el("div", { class: "where" }, m.location === "local" ? `local · ${m.database}` : m.location === "remote" ? `→ ${m.url}` : "absent"));
    if (m.location === "local") {
      const backlog = ((process.counters || {}).backlog || {})[m.name];
      card.append(el("div", { class: "nums" },
        el("span", { "data-counter": `requests-per-second:${m.name}` }, `${fmt(rate(mine ? mine.count : 0, old ? old.count : 0, seconds))} req/s`),
        el("span", {}, `p99 ${ms(p99(mine, old))}`),
        el("span", { "data-counter": `backlog:${m.name}` }, `outbox ${backlog ?? 0}`)));
    }
    if (m.moving) card.append(el("div", { class: "where" }, "moving: its requests wait"));
    node.append(card);
  }
  return node;
}

// Arrows from the module (or process) that calls to the box where the callee runs.
function drawArrows(data) {
  const svg = document.getElementById("arrows");
  const stage = document.getElementById("stage").getBoundingClientRect();
  svg.replaceChildren();
  const ns = "http://www.w3.org/2000/svg";
  const defs = document.createElementNS(ns, "defs");
  defs.innerHTML = '<marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#44506a"/></marker>';
  svg.append(defs);
  const boxOf = (url, module) => document.querySelector(`[data-process="${CSS.escape(url)}"] [data-module="${CSS.escape(module)}"]`);
  const hostOf = (module) => data.processes.find((p) => (p.modules || []).some((m) => m.name === module && m.location === "local"));
  const line = (from, to, dashed) => {
    if (!from || !to) return;
    const a = from.getBoundingClientRect(), b = to.getBoundingClientRect();
    const ya = a.top + a.height / 2 - stage.top, yb = b.top + b.height / 2 - stage.top;
    let d;
    if (b.left >= a.right) {  // to the right: right edge to left edge
      const x1 = a.right - stage.left, x2 = b.left - stage.left, mid = (x1 + x2) / 2;
      d = `M${x1},${ya} C${mid},${ya} ${mid},${yb} ${x2},${yb}`;
    } else if (b.right <= a.left) {  // to the left: left edge to right edge
      const x1 = a.left - stage.left, x2 = b.right - stage.left, mid = (x1 + x2) / 2;
      d = `M${x1},${ya} C${mid},${ya} ${mid},${yb} ${x2},${yb}`;
    } else {  // one column: out of the right edge and back in
      const x1 = a.right - stage.left, x2 = b.right - stage.left, out = Math.max(x1, x2) + 36;
      d = `M${x1},${ya} C${out},${ya} ${out},${yb} ${x2},${yb}`;
    }
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", dashed ? "#7a4bc2" : "#44506a");
    path.setAttribute("stroke-width", "1.5");
    if (dashed) path.setAttribute("stroke-dasharray", "5 4");
    path.setAttribute("marker-end", "url(#head)");
    svg.append(path);
  };
  for (const process of data.processes) {
    for (const m of process.modules || []) {
      if (m.location !== "local") continue;
      for (const seam of data.seams.filter((s) => s.caller === m.name)) {
        const host = hostOf(seam.callee);
        if (host) line(boxOf(process.url, m.name), boxOf(host.url, seam.callee), false);
      }
    }
    for (const m of process.modules || []) {
      if (m.location !== "remote") continue;
      const host = data.processes.find((p) => p.url === m.url);
      if (host) line(boxOf(process.url, m.name), boxOf(host.url, m.name), true);
    }
  }
}

function renderSeams(data, prev, seconds) {
  const body = document.querySelector("#seams tbody");
  body.replaceChildren();
  for (const process of data.processes) {
    const then = before(prev, process);
    for (const s of ((process.counters || {}).seams || [])) {
      const old = then ? ((then.counters || {}).seams || []).find((o) => o.caller === s.caller && o.callee === s.callee && o.mode === s.mode) : null;
      body.append(el("tr", { "data-seam": `${s.caller}>${s.callee}>${s.mode}` },
        el("td", {}, s.caller), el("td", {}, s.callee), el("td", {}, s.mode),
        el("td", { class: "n" }, fmt(rate(s.calls, old ? old.calls : 0, seconds))),
        el("td", { class: "n" }, fmt(rate(s.failed, old ? old.failed : 0, seconds))),
        el("td", { class: "n", "data-counter": `seam-total:${s.caller}>${s.callee}` }, s.calls)));
    }
  }
}

function renderEvents(data, prev, seconds) {
  const rows = new Map();  // type -> { publishers, published, subscribers: Map(module -> {count, old}) }
  const row = (type) => rows.get(type) || rows.set(type, { publishers: new Set(), published: 0, publishedOld: 0, subscribers: new Map() }).get(type);
  for (const process of data.processes) {
    const then = before(prev, process);
    const oldEvents = then ? (then.counters || {}).events || [] : [];
    for (const s of ((process.eventBus || {}).subscriptions || [])) {
      const r = row(s.eventType);
      if (!r.subscribers.has(s.subscriber)) r.subscribers.set(s.subscriber, { count: 0, old: 0 });
    }
    for (const e of ((process.counters || {}).events || [])) {
      const old = oldEvents.find((o) => o.module === e.module && o.type === e.type && o.outcome === e.outcome);
      const r = row(e.type);
      if (e.outcome === "published") { r.publishers.add(e.module); r.published += e.count; r.publishedOld += old ? old.count : 0; }
      if (e.outcome === "handled") {
        const s = r.subscribers.get(e.module) || { count: 0, old: 0 };
        s.count += e.count; s.old += old ? old.count : 0;
        r.subscribers.set(e.module, s);
      }
    }
  }
  const body = document.querySelector("#events tbody");
  body.replaceChildren();
  for (const [type, r] of [...rows.entries()].sort()) {
    const subs = [...r.subscribers.entries()].map(([m, s]) => `${m} (${fmt(rate(s.count, s.old, seconds))}/s)`).join(", ");
    body.append(el("tr", { "data-event": type },
      el("td", {}, type), el("td", {}, [...r.publishers].join(", ") || "–"),
      el("td", { class: "n" }, fmt(rate(r.published, r.publishedOld, seconds))),
      el("td", {}, subs || "–")));
  }
}

function renderSaga(data) {
  const counts = {};
  for (const process of data.processes)
    for (const [module, gauges] of Object.entries(process.gauges || {}))
      for (const [state, n] of Object.entries((gauges || {}).ordersByState || {})) counts[state] = (counts[state] || 0) + n;
  const box = document.getElementById("saga");
  box.replaceChildren();
  for (const state of [...SAGA_STATES, ...Object.keys(counts).filter((s) => !SAGA_STATES.includes(s))])
    box.append(el("div", { class: "state" }, state, el("b", { "data-gauge": `orders:${state}` }, counts[state] || 0)));
}

document.getElementById("login").addEventListener("submit", login);
window.addEventListener("resize", () => previous && drawArrows(previous.data));
token = tokenFromFragment() || sessionStorage.getItem("eshop-architecture-token");
if (token) start(); else showLogin("Log in as an admin to watch the shop.");
