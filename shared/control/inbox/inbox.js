// The dev inbox: lists the control plane's messages, newest first, live.
// Message text only ever goes in through textContent.
"use strict";
(() => {
  const base = "/_verifyfn/";
  const $ = (id) => document.getElementById(id);
  const list = $("list"), tpl = $("item"), status = $("status"), note = $("note");
  const toInput = $("to"), tokenInput = $("token");
  let last = 0, source = null, timer = null, generation = 0;

  tokenInput.value = sessionStorage.getItem("verifyfn-token") || "";
  const token = () => tokenInput.value.trim();

  function call(method, path, body) {
    const headers = {};
    if (token()) headers.Authorization = "Bearer " + token();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" })
      .then(async (r) => {
        if (!r.ok) {
          let msg = r.status + "";
          try { msg += ": " + (await r.json()).error; } catch (e) { /* not JSON */ }
          throw new Error(msg);
        }
        return r.status === 204 ? null : r.json();
      });
  }

  function say(text) { note.textContent = text; }

  function query(after) {
    const q = new URLSearchParams();
    if (toInput.value.trim()) q.set("to", toInput.value.trim());
    if (after !== undefined) q.set("after", String(after));
    return q.toString();
  }

  function show(m) {
    const id = Number(m.id);
    if (id <= last) return;
    last = id;
    const li = tpl.content.firstElementChild.cloneNode(true);
    li.dataset.id = m.id;
    const t = li.querySelector("time");
    t.dateTime = m.at;
    t.textContent = new Date(m.at).toLocaleTimeString();
    t.title = m.at;
    li.querySelector(".channel").textContent = m.channel;
    li.querySelector(".to").textContent = m.to;
    li.querySelector(".action").textContent = [m.service, m.action].filter(Boolean).join(" ");
    li.querySelector(".locale").textContent = m.locale;
    li.querySelector(".code").textContent = m.code;
    li.querySelector(".text").textContent = (m.subject ? m.subject + "\n" : "") + m.text;
    li.querySelector(".copy").addEventListener("click", () => copy(m.code));
    list.prepend(li);
  }

  function copy(code) {
    const done = () => say("Copied " + code);
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(code).then(done, () => fallback(code) && done());
    } else if (fallback(code)) {
      done();
    } else {
      say("Copy failed: select the code by hand");
    }
  }

  function fallback(code) {
    const ta = document.createElement("textarea");
    ta.value = code;
    ta.setAttribute("readonly", "");
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    ta.remove();
    return ok;
  }

  function stop() {
    generation++;
    if (source) { source.close(); source = null; }
    if (timer) { clearTimeout(timer); timer = null; }
  }

  // start reloads the list and follows it: with the stream when no token is
  // needed (EventSource cannot send one), else by polling every 800 ms.
  function start() {
    stop();
    const gen = generation;
    list.replaceChildren();
    last = 0;
    call("GET", "messages?" + query()).then((out) => {
      if (gen !== generation) return;
      out.messages.forEach(show);
      if (token()) return poll(gen);
      source = new EventSource(base + "messages/stream?" + query(last));
      source.addEventListener("open", () => { status.textContent = "live"; });
      source.addEventListener("message", (e) => show(JSON.parse(e.data)));
      source.addEventListener("clear", () => { list.replaceChildren(); say("The list was cleared"); });
      // On an error start over (the server may have restarted, with new ids).
      source.addEventListener("error", () => {
        status.textContent = "reconnecting…";
        stop();
        timer = setTimeout(start, 1000);
      });
    }, (err) => { status.textContent = "offline"; say(err.message); timer = setTimeout(start, 2000); });
  }

  function poll(gen) {
    status.textContent = "live (polling)";
    call("GET", "messages?" + query()).then((out) => {
      if (gen !== generation) return;
      const newest = out.messages.length ? Number(out.messages[out.messages.length - 1].id) : 0;
      if (newest < last || out.messages.length < list.children.length) { list.replaceChildren(); last = 0; }
      out.messages.forEach(show);
    }, (err) => { status.textContent = "offline"; say(err.message); })
      .finally(() => { if (gen === generation) timer = setTimeout(() => poll(gen), 800); });
  }

  function act(label, method, path, body) {
    call(method, path, body).then((out) => {
      say(label + (out && out.offset !== undefined ? ": offset " + out.offset + ", now " + out.now : ""));
      if (method !== "POST" || path === "reset") start();
    }, (err) => say(label + " failed: " + err.message));
  }

  $("clear").addEventListener("click", () => act("List cleared", "DELETE", "messages"));
  $("reset").addEventListener("click", () => act("State reset", "POST", "reset"));
  $("clock").addEventListener("click", () => act("Clock advanced", "POST", "clock", { advance: $("advance").value.trim() }));
  $("tools").addEventListener("submit", (e) => e.preventDefault());
  let debounce = null;
  toInput.addEventListener("input", () => { clearTimeout(debounce); debounce = setTimeout(start, 250); });
  tokenInput.addEventListener("change", () => {
    if (token()) sessionStorage.setItem("verifyfn-token", token()); else sessionStorage.removeItem("verifyfn-token");
    start();
  });
  start();
})();
