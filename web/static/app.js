// palate's web page: a client of the public /v1 API, nothing more.
"use strict";

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
};
const pct = (p) => (100 * p).toFixed(0) + "%";

const state = {
  user: "",
  pair: null,         // {prompt, images}
  nextPair: null,     // a promise of the pair after this one
  picks: 0,
  pool: null,         // For-you candidates: {prompt, images}
  poolReq: null,      // the pool request in flight, if any (newPool)
  lastOrder: null,    // previous personal order of the pool, ids
  ranking: null,      // {pool, personal, general, before}: the last ranking shown
  busy: false,
  lasting: "",        // an error that stays shown until fixed (people not loaded)
  counts: { comparisons: 0, votes: 0 }, // the person's recorded picks and votes
  listed: new Map(),  // the people list's counts by id
};

// ---- API --------------------------------------------------------------

function key() { return $("api-key").value.trim(); }

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key()) headers["Authorization"] = "Bearer " + key();
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw unreachable(e); // every caller names a failed fetch the same way
  }
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!resp.ok) {
    const msg = data && data.error ? data.error.message : `HTTP ${resp.status}`;
    const err = new Error(msg);
    err.status = resp.status;
    throw err;
  }
  return data;
}

function showError(e) {
  $("error").textContent = e.message || String(e);
  $("error").hidden = false;
}
// clearError hides the last error, except a lasting one (state.lasting:
// the page cannot work until it is fixed), which stays shown.
function clearError() {
  if (state.lasting) showError(new Error(state.lasting));
  else $("error").hidden = true;
}

// unreachable says what a failed fetch means: the server did not answer.
function unreachable(e) {
  return e instanceof TypeError ? new Error("The server does not answer (" + e.message + ").") : e;
}
function status(msg) { $("status").textContent = msg; }

// plural is "1 pick", "2 picks": n with the word that goes with it.
function plural(n, one, many) { return `${n} ${n === 1 ? one : many}`; }

// countsText labels a person in the list with their recorded picks and votes.
function countsText(id, c) { return `${id} (${plural(c.comparisons, "pick", "picks")}, ${plural(c.votes, "vote", "votes")})`; }

// picture returns an <img> of a stored image (fetched with the key when
// the server has keys, since an <img> cannot send headers).
function picture(id, alt) {
  const img = el("img", { alt: alt || "", loading: "lazy", width: "128", height: "128" });
  const url = "/v1/images/" + encodeURIComponent(id) + "/file";
  if (!key()) img.src = url;
  else fetch(url, { headers: { Authorization: "Bearer " + key() } })
    .then((r) => r.blob()).then((b) => { img.src = URL.createObjectURL(b); });
  return img;
}

function newID(kind) {
  const r = crypto.getRandomValues(new Uint32Array(2));
  return `${kind}-${Date.now().toString(36)}-${r[0].toString(36)}${r[1].toString(36)}`;
}

// ---- people -----------------------------------------------------------

async function loadUsers(select) {
  const sel = $("user-select");
  let users;
  try {
    ({ users } = await api("GET", "/v1/users"));
  } catch (e) {
    const why = e.status === 401 || e.status === 403
      ? "this server needs an API key: enter it under “API key” below"
      : e.message;
    sel.replaceChildren(el("option", { value: "", text: "people could not be loaded" }));
    state.lasting = "Could not load the people: " + why;
    showError(new Error(state.lasting));
    return;
  }
  state.lasting = "";
  clearError();
  state.listed = new Map(users.map((u) => [u.user, { comparisons: u.comparisons, votes: u.votes }]));
  sel.replaceChildren(el("option", { value: "", text: `choose one of ${users.length} people…` }));
  const ids = users.map((u) => u.user);
  if (select && !ids.includes(select)) ids.unshift(select);
  for (const id of ids) {
    const c = state.listed.get(id);
    sel.append(el("option", { value: id, text: c ? countsText(id, c) : `${id} (new)` }));
  }
  sel.value = select || "";
}

function setUser(id) {
  state.user = id;
  state.picks = 0;
  // The list's counts until the profile answers (it needs the model).
  state.counts = { ...(state.listed.get(id) || { comparisons: 0, votes: 0 }) };
  state.lastOrder = null;
  showPickCount();
  localStorage.setItem("palate-user", id);
  const sel = $("user-select");
  if (![...sel.options].some((o) => o.value === id)) sel.append(el("option", { value: id, text: `${id} (new)` }));
  sel.value = id;
  showCounts();
  status(`Rating as ${id}.`);
  refreshHistoryCount();
  show(currentView());
}

async function refreshHistoryCount() {
  if (!state.user) return;
  try {
    const p = await api("GET", `/v1/users/${encodeURIComponent(state.user)}/profile?n=1`);
    state.counts = { comparisons: p.comparisons, votes: p.votes };
    showCounts();
  } catch (e) { if (e.status !== 503) showError(e); } // 503: no model yet, the count waits for it
}

// ---- views ------------------------------------------------------------

const views = ["rate", "foryou", "profile", "map", "similar", "guide", "model"];
function currentView() {
  const v = location.hash.replace("#", "");
  return views.includes(v) ? v : "rate";
}

async function show(view) {
  clearError();
  for (const s of document.querySelectorAll("main > section")) s.hidden = s.dataset.view !== view;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.view === view) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  const needsUser = view !== "map" && view !== "model";
  if (needsUser && !state.user) { status("Choose a person above, or start fresh as a new user."); return; }
  try {
    switch (view) {
      case "rate": if (!state.pair) await nextPair(); await rankPool("rate"); break;
      case "foryou": await rankPool("foryou"); break;
      case "profile": await showProfile(); break;
      case "map": await showMap(); break;
      case "similar": await showSimilar(); break;
      case "model": await showModel(); break;
    }
  } catch (e) { if (!trainingNotice(e)) showError(e); }
}

// ---- rate -------------------------------------------------------------

function fetchPair() { return api("POST", "/v1/generate", { n: 2 }); }

async function nextPair() {
  const pending = state.nextPair || fetchPair();
  state.nextPair = null;
  const pair = await pending;
  state.pair = pair;
  $("pair-prompt").textContent = pair.prompt;
  for (const [side, im] of [["left", pair.images[0]], ["right", pair.images[1]]]) {
    const img = $("img-" + side);
    img.src = "";
    img.alt = `${side} picture for “${pair.prompt}”`;
    img.replaceWith(Object.assign(picture(im.id, img.alt), { id: "img-" + side, width: 256, height: 256 }));
  }
  state.nextPair = fetchPair(); // prefetch
  state.nextPair.catch(() => { state.nextPair = null; });
}

// showCounts shows the person's recorded picks and votes (state.counts)
// on the rate view and in the person list.
function showCounts() {
  const c = state.counts;
  $("history-count").textContent = String(c.comparisons + c.votes);
  const opt = [...$("user-select").options].find((o) => o.value === state.user);
  if (opt) opt.textContent = countsText(state.user, c);
}

function showPickCount() {
  $("pick-count").textContent = String(state.picks);
  $("pick-word").textContent = state.picks === 1 ? "pick" : "picks";
}

// pick records the choice: 1 left, 0 right, 0.5 can't decide, "bad" both.
async function pick(choice) {
  if (!state.pair || !state.user) return;
  // A key pressed while the last pick is recorded and the next pair loads
  // is dropped: it would otherwise land on a pair the person has not seen.
  if (state.busy) { status("Still recording the last pick…"); return; }
  state.busy = true;
  $("view-rate").setAttribute("aria-busy", "true");
  clearError();
  const [a, b] = state.pair.images;
  try {
    try {
      if (choice === "bad") {
        await api("POST", "/v1/votes", { items: [
          { id: newID("v"), user: state.user, image: a.id, vote: "dislike" },
          { id: newID("v"), user: state.user, image: b.id, vote: "dislike" },
        ] });
      } else {
        await api("POST", "/v1/comparisons", {
          id: newID("c"), user: state.user, prompt: state.pair.prompt, image_0: a.id, image_1: b.id, label_0: choice,
        });
      }
    } catch (e) {
      showError(new Error(e.message + " This pick was not recorded."));
      return;
    }
    state.picks++;
    showPickCount();
    if (choice === "bad") state.counts.votes += 2; else state.counts.comparisons++;
    showCounts();
    const label = { 1: "left", 0: "right", 0.5: "can't decide", bad: "both bad" }[choice];
    status(`Recorded: ${label}. ${plural(state.picks, "pick", "picks")} this session.`);
    // Keys stay dropped until the next pair is on screen.
    try { await nextPair(); } catch (e) { showError(e); }
  } finally {
    state.busy = false;
    $("view-rate").setAttribute("aria-busy", "false");
  }
  if (state.picks % 3 === 0) rankPool("rate").catch(showError);
}

document.addEventListener("keydown", (ev) => {
  if (currentView() !== "rate" || ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const t = ev.target;
  if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) return;
  // Space on a control the keyboard (Tab) focused presses it; one a mouse
  // click left focused (a link, a button) does not take it from the rate
  // view, where Space means "can't decide".
  if (ev.key === " " && t && t.matches && t.matches(":focus-visible") && t.closest("button, summary, [role=button]")) return;
  const choice = { ArrowLeft: 1, ArrowRight: 0, " ": 0.5, ArrowDown: "bad" }[ev.key];
  if (choice === undefined) return;
  ev.preventDefault();
  pick(choice);
});

// ---- For you ----------------------------------------------------------

// newPool asks for a fresh pool of For-you candidates. Only the latest
// request's answer becomes the pool, so a late answer never replaces a
// newer pool.
function newPool() {
  const req = api("POST", "/v1/generate", { n: 12 }).then((pool) => {
    if (state.poolReq === req) { state.pool = pool; state.lastOrder = null; }
  }).finally(() => { if (state.poolReq === req) state.poolReq = null; });
  state.poolReq = req;
  return req;
}

// currentPool returns the pool, waiting for one in flight, or asking for
// one when there is none: views that rank at once (the rate view's top
// picks and For you) share one pool instead of each asking for its own.
async function currentPool() {
  while (state.poolReq) await state.poolReq;
  if (!state.pool) await newPool();
  return state.pool;
}

async function rankPool(where) {
  const user = state.user;
  if (!user) return;
  const pool = await currentPool();
  const cands = pool.images.map((im) => ({ id: im.id }));
  const path = `/v1/users/${encodeURIComponent(user)}/rank`;
  let personal, general;
  try {
    [personal, general] = await Promise.all([
      api("POST", path, { candidates: cands }),
      api("POST", path, { candidates: cands, personal: false }),
    ]);
  } catch (e) {
    if (e.status !== 503) throw e;
    // No model to rank with: while one trains, say so in words; otherwise
    // (none loaded, the store or a timeout) the server's reason.
    const trains = training && training.state === "training";
    const note = () => el("li", { class: "note", text: trains ? "The model is training: rankings appear when it is done. Picks are recorded meanwhile." : e.message });
    if (where === "rate") $("rate-top").replaceChildren(note());
    else {
      $("foryou-prompt").textContent = pool.prompt;
      $("foryou-state").textContent = trains ? "no model yet: the model is training" : "no ranking: " + e.message;
      $("foryou-personal").replaceChildren(note());
      $("foryou-general").replaceChildren(note());
    }
    pollTraining();
    return;
  }
  // A newer pool or another person came meanwhile: their own ranking
  // fills the views, and this one would show one pool's scores under
  // another's pictures.
  if (state.pool !== pool || state.user !== user) return;
  const before = state.lastOrder;
  state.lastOrder = personal.order.map((i) => pool.images[i].id);
  state.ranking = { pool, personal, general, before };
  if (where === "rate") {
    fillGrid($("rate-top"), pool, personal, before, 6);
  } else {
    $("foryou-prompt").textContent = pool.prompt;
    $("foryou-state").textContent = personal.cold_start
      ? "cold start: no history yet, so this is the non-personal ranking"
      : `read against ${personal.history_items} history items`;
    fillGrid($("foryou-personal"), pool, personal, before);
    fillGrid($("foryou-general"), pool, general, null);
  }
}

// fillGrid shows the ranking res of pool's pictures in list (the first
// limit), with each picture's move since the order before.
function fillGrid(list, pool, res, before, limit) {
  list.replaceChildren();
  const ids = pool.images.map((im) => im.id);
  res.order.slice(0, limit || res.order.length).forEach((i, rank) => {
    const r = res.results[i];
    const id = ids[i];
    let move = null;
    if (before) {
      const was = before.indexOf(id);
      if (was > rank) move = el("span", { class: "up", title: `up from ${was + 1}`, text: `▲${was - rank}` });
      else if (was < rank) move = el("span", { class: "down", title: `down from ${was + 1}`, text: `▼${rank - was}` });
    }
    list.append(el("li", { "data-id": id, "data-p": r.p_like.toFixed(6) },
      picture(id, `#${rank + 1}, P(like) ${pct(r.p_like)}`),
      el("div", { class: "meta" }, el("span", { text: `#${rank + 1}` }), el("span", { text: `P(like) ${pct(r.p_like)}` }), move)));
  });
}

// ---- profile ----------------------------------------------------------

async function showProfile() {
  const p = await api("GET", `/v1/users/${encodeURIComponent(state.user)}/profile?n=8`);
  const facts = $("profile-facts");
  const conf = p.cold_start
    ? el("span", { class: "badge", text: "cold start: no usable history; the model ranks as for everyone" })
    : el("span", { class: p.history_items >= 16 ? "badge ok" : "badge", text: p.history_items >= 16 ? "confident: a full history" : "learning: a short history" });
  facts.replaceChildren(
    el("dt", { text: "Person" }), el("dd", { text: p.user }),
    el("dt", { text: "Recorded" }), el("dd", { text: `${p.comparisons} comparisons, ${p.votes} votes` }),
    el("dt", { text: "History read" }), el("dd", { text: `${p.history_items} items (the model reads the most recent ones)` }),
    el("dt", { text: "Confidence" }), el("dd", {}, conf),
    el("dt", { text: "Model" }), el("dd", { text: p.model }),
  );
  const grid = (list, items) => {
    list.replaceChildren();
    if (!items.length) list.append(el("li", { text: "none yet" }));
    for (const it of items) list.append(el("li", {}, picture(it.id, `P(like) ${pct(it.p_like)}`), el("div", { class: "meta", text: `P(like) ${pct(it.p_like)}` })));
  };
  grid($("profile-liked"), p.top_liked);
  grid($("profile-disliked"), p.top_disliked);
  const truth = $("profile-truth");
  truth.replaceChildren();
  if (p.truth) {
    const words = (xs) => el("ul", {}, ...xs.map((x) => el("li", { text: `${x.words} (${x.effect > 0 ? "+" : ""}${x.effect.toFixed(2)})` })));
    truth.append(el("div", { class: "truth" },
      el("div", {}, el("h3", { text: `True taste (the world's secret): group ${p.truth.group}` + (p.truth.drift_to >= 0 ? `, drifting toward group ${p.truth.drift_to}` : "") }),
        el("p", { text: "Style words that most raise this person's utility:" }), words(p.truth.likes)),
      el("div", {}, el("h3", { text: "…and most lower it" }), words(p.truth.dislikes),
        el("p", { text: "Compare with what the model learned: the liked and disliked pictures above, ranked by its P(like)." }))));
  }
}

// ---- taste map --------------------------------------------------------

const palette = ["#7a2e8f", "#1c7a3d", "#d9822b", "#1f5fa8", "#b3261e", "#111", "#8a6d1c", "#2a8a8a", "#a8326e", "#999"];
let mapData = null;

async function showMap() {
  mapData = await api("GET", "/v1/map");
  drawMap();
}

function drawMap() {
  const svg = $("map-svg");
  // A redraw (a new width, another colouring) keeps the keyboard where it was.
  const focused = svg.contains(document.activeElement) ? document.activeElement.dataset.user : null;
  const stop = svg.querySelector("circle[tabindex='0']")?.dataset.user;
  svg.replaceChildren();
  mapWidth = svg.getBoundingClientRect().width;
  const pts = mapData.points;
  const by = document.querySelector("input[name=colour]:checked").value;
  const ns = "http://www.w3.org/2000/svg";
  if (!pts.length) { $("map-caption").textContent = "No one has a usable history yet."; return; }
  const xs = pts.map((p) => p.x), ys = pts.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x) => 20 + 560 * (x - x0) / ((x1 - x0) || 1);
  const sy = (y) => 400 - 380 * (y - y0) / ((y1 - y0) || 1);
  // SVG units per CSS pixel: on a phone the 600-unit map is ~350 px wide,
  // so points keep a radius of at least 4 px and a hit area (a transparent
  // stroke) of at least 28 px across.
  const unit = 600 / (mapWidth || 600);
  const radius = (mine) => (mine ? 9 : 5) * Math.max(1, unit * 0.8);
  let me = null;
  const circles = [];
  for (const p of pts) {
    const c = document.createElementNS(ns, "circle");
    const k = by === "group" && p.group >= 0 ? p.group : p.cluster;
    const r = radius(p.user === state.user);
    c.setAttribute("cx", sx(p.x).toFixed(1));
    c.setAttribute("cy", sy(p.y).toFixed(1));
    c.setAttribute("r", r.toFixed(1));
    c.setAttribute("fill", palette[k % palette.length]);
    c.setAttribute("fill-opacity", "0.8");
    c.setAttribute("stroke", "transparent");
    c.setAttribute("stroke-width", Math.max(0, 28 * unit - 2 * r).toFixed(1));
    c.setAttribute("data-user", p.user);
    c.setAttribute("tabindex", "-1");
    c.setAttribute("role", "button");
    c.setAttribute("aria-label", `${p.user}: cluster ${p.cluster}` + (p.group >= 0 ? `, true group ${p.group}` : "") +
      `; ${plural(p.comparisons, "pick", "picks")}, ${plural(p.votes, "vote", "votes")}`);
    if (p.user === state.user) { c.classList.add("me"); me = c; }
    const title = document.createElementNS(ns, "title");
    title.textContent = `${p.user} (cluster ${p.cluster}${p.group >= 0 ? ", group " + p.group : ""}; ${plural(p.comparisons, "pick", "picks")}, ${plural(p.votes, "vote", "votes")})`;
    c.append(title);
    const open = () => { setUser(p.user); location.hash = "#profile"; };
    c.addEventListener("click", open);
    c.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); open(); return; }
      if (!["ArrowRight", "ArrowLeft", "ArrowUp", "ArrowDown", "Home", "End"].includes(ev.key)) return;
      ev.preventDefault(); // the keys move on the map, not the page, even with nowhere to go
      const next = mapNeighbour(circles, c, ev.key);
      if (next) moveMapFocus(c, next);
    });
    circles.push(c);
    svg.append(c);
  }
  // One Tab stop for the whole map (where it was before a redraw, else the
  // person shown, else the first point); the arrow keys move between people.
  const byUser = (u) => circles.find((c) => c.dataset.user === u);
  (byUser(stop) || me || circles[0]).setAttribute("tabindex", "0");
  // The person shown on top, before the focus returns: moving a focused
  // point in the document would take the focus off it.
  if (me) svg.append(me);
  if (focused && byUser(focused)) byUser(focused).focus();
  // The legend: each colour on the map, with its people.
  const count = new Map(); // label → [colour index, people]
  for (const p of pts) {
    const group = by === "group" && p.group >= 0;
    const k = group ? p.group : p.cluster;
    const label = (group ? "true group " : "cluster ") + k;
    count.set(label, [k, (count.has(label) ? count.get(label)[1] : 0) + 1]);
  }
  $("map-legend").replaceChildren(...[...count].sort((a, b) => a[0].localeCompare(b[0], undefined, { numeric: true })).map(([label, [k, n]]) =>
    el("li", {}, el("span", { class: "swatch", style: `background:${palette[k % palette.length]}`, "aria-hidden": "true" }),
      `${label}: ${plural(n, "person", "people")}`)));
  const inMap = pts.some((p) => p.user === state.user);
  $("map-caption").textContent = `${pts.length} people, ${mapData.clusters} learned clusters` +
    (mapData.groups ? `, ${mapData.groups} true groups` : "") +
    (mapData.cold_start ? `; ${mapData.cold_start} without usable history are not shown` : "") +
    (state.user ? (inMap ? `; ${state.user} is the large outlined point.` : `; ${state.user} has no usable history yet.`) : ".");
}

// mapNeighbour is the point an arrow key moves to from point c: the
// nearest one in that direction (within 60° of it, on the screen; → and ↓
// go first to a later point drawn at the same spot, ← and ↑ to an earlier
// one), or with Home and End the leftmost and the rightmost; null for
// other keys or when there is none.
function mapNeighbour(circles, c, key) {
  const pos = (e) => [+e.getAttribute("cx"), +e.getAttribute("cy")];
  const byX = () => [...circles].sort((a, b) => pos(a)[0] - pos(b)[0]);
  if (key === "Home") return byX()[0];
  if (key === "End") return byX().at(-1);
  const dir = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[key];
  const [cx, cy] = pos(c);
  const forward = key === "ArrowRight" || key === "ArrowDown";
  const at = circles.indexOf(c);
  let best = null, bestD = Infinity;
  for (const [i, o] of circles.entries()) {
    if (o === c) continue;
    const [dx, dy] = [pos(o)[0] - cx, pos(o)[1] - cy];
    const d = Math.hypot(dx, dy), along = dx * dir[0] + dy * dir[1];
    if (d === 0) {
      if (forward ? i > at : i < at) {
        const gap = Math.abs(i - at) * 1e-6; // the next one in drawing order
        if (gap < bestD) { best = o; bestD = gap; }
      }
      continue;
    }
    if (along < d * 0.5) continue; // outside the 60° cone
    // Prefer points straight ahead: the distance, doubled for the part off the axis.
    const score = d + (d - along);
    if (score < bestD) { best = o; bestD = score; }
  }
  return best;
}

// moveMapFocus moves the map's one Tab stop from a to b and focuses b.
function moveMapFocus(a, b) {
  a.setAttribute("tabindex", "-1");
  b.setAttribute("tabindex", "0");
  b.focus();
}

// The map's points are sized for the width it is drawn at: a new width
// (not a new height, as a phone's address bar makes) draws it again.
let mapResize = null, mapWidth = 0;
window.addEventListener("resize", () => {
  clearTimeout(mapResize);
  mapResize = setTimeout(() => {
    if (currentView() === "map" && mapData && $("map-svg").getBoundingClientRect().width !== mapWidth) drawMap();
  }, 200);
});

// ---- similar ----------------------------------------------------------

async function showSimilar() {
  const list = $("similar-list");
  list.replaceChildren();
  let sim;
  try {
    sim = await api("GET", `/v1/users/${encodeURIComponent(state.user)}/similar?n=6`);
  } catch (e) {
    if (e.status === 404) { list.append(el("li", { text: "Not yet: make a few picks first (" + e.message + ")." })); return; }
    throw e;
  }
  for (const u of sim.users) {
    const p = await api("GET", `/v1/users/${encodeURIComponent(u.user)}/profile?n=4`);
    const grid = el("ol", { class: "grid small" }, ...p.top_liked.map((it) => el("li", {}, picture(it.id, `liked by ${u.user}`))));
    const open = el("button", { type: "button", text: "open", "aria-label": `open ${u.user}'s profile`, onclick: () => { setUser(u.user); location.hash = "#profile"; } });
    list.append(el("li", {}, el("strong", { text: u.user }), ` similarity ${u.similarity.toFixed(2)} `, open, grid));
  }
}

// ---- guide ------------------------------------------------------------

$("guide-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!state.user) { status("Choose a person first."); return; }
  clearError();
  const out = $("guide-result");
  out.replaceChildren(el("p", { text: "Generating…" }));
  try {
    const g = await api("POST", `/v1/users/${encodeURIComponent(state.user)}/guide`, {
      prompt: $("guide-prompt").value, method: $("guide-method").value, n: Number($("guide-n").value),
    });
    const fig = (pic, what) => el("figure", {}, picture(pic.id, `${what}: ${pic.prompt}`),
      el("figcaption", { text: `${what}: P(like) ${pct(pic.p_like)}` }), el("small", { text: pic.prompt }));
    out.replaceChildren(fig(g.unguided, "Unguided"), fig(g.guided, `Guided (${g.method})`),
      el("p", { text: `${g.calls} generator calls, ${g.seconds.toFixed(2)} s` + (g.cold_start ? "; cold start: guided by the non-personal score" : "") + (g.negative ? `; negative prompt: ${g.negative}` : "") }));
  } catch (e) {
    out.replaceChildren();
    if (trainingNotice(e)) out.append(el("p", { class: "note", text: "The model is training: guidance needs it, and works when it is done." }));
    else showError(e);
  }
});

// ---- training -----------------------------------------------------------

let training = null;      // the last GET /v1/training answer
let trainingTimer = null; // the next poll while a run is going on
let trainingLost = "";    // why the last poll failed during a run, if it did

// pollTraining asks for the training progress, shows it, and asks again
// every second while a run goes on; when the run ends it shows the current
// view again, so rankings appear without a reload.
async function pollTraining() {
  clearTimeout(trainingTimer);
  trainingTimer = null;
  const was = training && training.state;
  await fetchTraining();
  if (training && training.state === "training") trainingTimer = setTimeout(pollTraining, trainingLost ? 5000 : 1000);
  else if (was === "training") { refreshHistoryCount(); show(currentView()); }
}

// fetchTraining asks for the training progress once and shows it.
async function fetchTraining() {
  try {
    training = await api("GET", "/v1/training");
    trainingLost = "";
  } catch (e) {
    // While a run goes on, a failed poll means the server is gone or
    // unreachable: say so instead of showing the last progress as current.
    if (training && training.state === "training") trainingLost = e.message;
  }
  renderTraining();
}

function renderTraining() {
  const t = training || { state: "none" };
  const running = t.state === "training";
  const frac = t.total_steps ? t.step / t.total_steps : 0;
  $("training-banner").hidden = !running;
  if (running && trainingLost) {
    $("training-banner").textContent = `Lost contact with the server (${trainingLost}); retrying every 5 s. ` +
      `The last progress seen was step ${t.step} of ${t.total_steps}.`;
  } else if (running) {
    $("training-banner").textContent = `The model is training: step ${t.step} of ${t.total_steps} (${pct(frac)}). ` +
      "Picks are recorded meanwhile; rankings appear when it is done" + (currentView() === "model" ? "." : " (Model view).");
  }
  $("model-training").hidden = t.state === "none";
  if (t.state === "none") return;
  $("training-bar").value = t.state === "done" ? 1 : frac;
  const num = (x) => (x == null ? "–" : x.toFixed(3));
  $("training-facts").replaceChildren(
    el("dt", { text: "State" }), el("dd", { text: (trainingLost ? "unknown: lost contact with the server" : t.state) + (t.error ? ": " + t.error : "") }),
    el("dt", { text: "Step" }), el("dd", { text: `${t.step} of ${t.total_steps}` + (t.stage ? ` (${t.stage})` : "") }),
    el("dt", { text: "Training loss" }), el("dd", { text: num(t.loss) }),
    el("dt", { text: "Training accuracy" }), el("dd", { text: t.step ? pct(t.accuracy) : "–" }),
    el("dt", { text: "Last validation accuracy" }), el("dd", { text: t.val_accuracy == null ? "not validated yet in this stage" : pct(t.val_accuracy) }),
    el("dt", { text: "Episodes/s" }), el("dd", { text: t.episodes_per_second ? t.episodes_per_second.toFixed(0) : "–" }),
  );
}

// trainingNotice shows a "no model yet" answer while a model trains as a
// notice rather than an error, and reports whether it did.
function trainingNotice(e) {
  if (e.status !== 503 || !training || training.state !== "training") return false;
  status("The model is still training: this view fills in when it is done (progress in the banner above).");
  return true;
}

// ---- model ------------------------------------------------------------

async function showModel() {
  await fetchTraining();
  if (training && training.state === "training") {
    if (!trainingTimer) trainingTimer = setTimeout(pollTraining, 1000);
    for (const id of ["model-facts", "model-evals"]) $(id).replaceChildren();
    $("model-facts").append(el("dt", { text: "Model" }), el("dd", { text: "none yet: the model is training (progress above)" }));
    return;
  }
  const m = await api("GET", "/v1/model");
  const s = m.summary || {};
  $("model-facts").replaceChildren(
    el("dt", { text: "Version" }), el("dd", { text: m.version }),
    el("dt", { text: "Reads" }), el("dd", { text: `${m.embedder} (${m.embedder_dim}) pictures, ${m.text_embedder} prompts` }),
    el("dt", { text: "Trained" }), el("dd", { text: s.steps ? `${s.steps} steps, ${Math.round(s.wall_seconds)} s, stopped by ${s.stopped_by}` : "no summary" }),
    el("dt", { text: "Validation accuracy" }), el("dd", { text: s.validated ? `${pct(s.best_val_accuracy)} at step ${s.best_step}${s.best_stage ? " of the " + s.best_stage + " stage" : ""}` : "not validated" }),
    el("dt", { text: "Loaded" }), el("dd", { text: new Date(m.loaded).toLocaleString() }),
  );
  const evals = $("model-evals");
  evals.replaceChildren();
  if (s.evals && s.evals.length) {
    evals.append(el("h3", { text: "Training progress" }), table(["stage", "step in the stage", "validation accuracy"],
      s.evals.map((e) => [e.stage || "", String(e.step), e.val_accuracy != null ? pct(e.val_accuracy) : "–"])));
  }
  const bench = $("model-bench");
  bench.replaceChildren();
  if (m.bench && m.bench.length) {
    const f = (c) => c.acc == null ? "–" : `${(100 * c.acc).toFixed(1)}% [${(100 * c.lo).toFixed(1)}, ${(100 * c.hi).toFixed(1)}]`;
    bench.append(el("h3", { text: "Bench: pairwise accuracy (95% interval)" }), table(["predictor", "seen people", "unseen people"],
      m.bench.map((r) => [`${r.name}${r.variant && r.variant !== "default" ? " (" + r.variant + ")" : ""}`, f(r.seen), f(r.unseen)])));
  } else {
    bench.append(el("p", { text: "No bench report given (palate serve --bench FILE, or palate demo --bench FILE)." }));
  }
}

function table(head, rows) {
  return el("table", {}, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", { text: c }))))));
}

// ---- wiring -----------------------------------------------------------

// mouseBlur takes the focus off a button clicked with the mouse (a click
// from the keyboard has detail 0), so that the rate view's keys (Space:
// can't decide) go on working rather than pressing that button again.
const mouseBlur = (ev) => { if (ev.detail > 0) ev.currentTarget.blur(); };
$("pick-left").addEventListener("click", (ev) => { mouseBlur(ev); pick(1); });
$("pick-right").addEventListener("click", (ev) => { mouseBlur(ev); pick(0); });
$("pick-tie").addEventListener("click", (ev) => { mouseBlur(ev); pick(0.5); });
$("pick-bad").addEventListener("click", (ev) => { mouseBlur(ev); pick("bad"); });
$("foryou-new").addEventListener("click", async () => {
  try { await newPool(); await rankPool("foryou"); } catch (e) { showError(e); }
});
$("new-user").addEventListener("click", (ev) => {
  mouseBlur(ev);
  const id = newID("you").slice(0, 16);
  setUser(id);
  location.hash = "#rate";
});
// Choosing a person hands the keyboard back to the page, so that the arrow
// keys pick rather than move through the list.
$("user-select").addEventListener("change", (ev) => { if (ev.target.value) { setUser(ev.target.value); ev.target.blur(); } });
for (const r of document.querySelectorAll("input[name=colour]")) r.addEventListener("change", () => mapData && drawMap());
$("api-key").value = sessionStorage.getItem("palate-key") || "";
$("api-key").addEventListener("change", () => { sessionStorage.setItem("palate-key", key()); loadUsers(state.user); });
window.addEventListener("hashchange", () => show(currentView()));

(async () => {
  const saved = localStorage.getItem("palate-user") || "";
  await loadUsers(saved);
  await pollTraining();
  if (saved) setUser(saved); else show(currentView());
})();
