// raft-playground timeline: renders the timeline JSON embedded in this page as an
// SVG space-time diagram (one lane per node, time to the right), with a slider that
// shows every node's state and log at the chosen tick. No network, no libraries.
// At the end it checks its own work and writes the verdict into #verdict, which the
// browser test reads.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const LANE_GAP = 58;
  const TOP = 34;
  const PAD = 16;
  // Terms cycle through six colors, like the terminal's log view.
  const TERM_COLORS = ["#7b8494", "#2f6fd6", "#b03aa8", "#13928f", "#c99400", "#2e9e44"];
  const TERM_TINTS = ["#eef0f3", "#e3ecfb", "#f6e4f4", "#dff3f2", "#fbf1d6", "#e2f4e6"];
  // The roles a lane may show, each with its style in timeline.css (the same list as
  // ROLE_WORDS in timeline.rs; a test compares them).
  const ROLES = ["leader", "candidate", "follower", "learner", "joining", "leaving", "outside", "down", "removed"];
  const errors = [];
  window.addEventListener("error", (event) => errors.push(String(event.message)));

  const data = JSON.parse(document.getElementById("timeline-data").textContent);
  const $ = (id) => document.getElementById(id);
  const termColor = (term) => TERM_COLORS[term % 6];
  const laneY = (node) => TOP + 18 + (node - 1) * LANE_GAP;
  let scale = Math.max(4, Math.min(28, 1100 / Math.max(1, data.end - data.start + 1)));
  const x = (tick) => PAD + (tick - data.start) * scale;

  function el(name, attributes, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, content, attributes) {
    const node = el("text", attributes, parent);
    node.textContent = content;
    return node;
  }

  // ----- what a node was at a tick -----

  /** The node's last frame at or before `tick` (or its first frame). */
  function frameAt(node, tick) {
    const frames = data.frames[node - 1] || [];
    let found = frames[0] || null;
    for (const frame of frames) {
      if (frame.tick > tick) break;
      found = frame;
    }
    return found;
  }

  /** The node's log at `tick`: its entries by index, and its snapshot index. */
  function logAt(node, tick) {
    let entries = [];
    let snapshot = 0;
    for (const frame of data.frames[node - 1] || []) {
      if (frame.tick > tick) break;
      const change = frame.log;
      if (!change) continue;
      // Entries are stored from index snapshot+1; cut before `from`, then append.
      const keep = Math.max(0, change.from - 1 - change.snapshot_index);
      const shift = change.snapshot_index - snapshot;
      entries = shift >= 0 ? entries.slice(shift) : new Array(-shift).fill(null).concat(entries);
      entries = entries.slice(0, keep).concat(change.entries);
      snapshot = change.snapshot_index;
    }
    return { entries, snapshot };
  }

  /** The pairs of nodes that could not talk at `tick`. */
  function cutAt(tick) {
    let cut = [];
    for (const frame of data.links) {
      if (frame.tick > tick) break;
      cut = frame.cut;
    }
    return cut;
  }

  // ----- details: tooltip and side panel -----

  const tooltip = $("tooltip");
  function describe(title, lines, fields) {
    const box = document.createElement("div");
    const heading = document.createElement("h2");
    heading.textContent = title;
    box.appendChild(heading);
    for (const line of lines) {
      const p = document.createElement("div");
      p.textContent = line;
      box.appendChild(p);
    }
    if (fields !== undefined && fields !== null) {
      const pre = document.createElement("pre");
      pre.textContent = JSON.stringify(fields, null, 1);
      box.appendChild(pre);
    }
    return box;
  }

  function attachDetails(shape, make) {
    shape.addEventListener("mousemove", (event) => {
      tooltip.replaceChildren(make());
      tooltip.hidden = false;
      tooltip.style.left = Math.min(event.clientX + 14, window.innerWidth - 430) + "px";
      tooltip.style.top = event.clientY + 14 + "px";
    });
    shape.addEventListener("mouseleave", () => { tooltip.hidden = true; });
    shape.addEventListener("click", (event) => {
      event.stopPropagation();
      document.querySelectorAll(".pinned").forEach((node) => node.classList.remove("pinned"));
      shape.classList.add("pinned");
      $("details").replaceChildren(make());
    });
  }

  function messageDetails(message) {
    const fate = message.fate === "delivered" ? "delivered at tick " + message.arrived
      : message.fate === "dropped" ? "dropped at tick " + message.arrived + " (" + (message.reason || "?") + ")"
        : "in flight, due at tick " + message.arrived;
    return () => describe(
      (message.id === null ? "" : "#" + message.id + " ") + message.type,
      [
        "n" + message.from + " → n" + message.to + (message.term === null ? "" : ", term " + message.term),
        "sent at tick " + message.sent + "; " + fate,
        message.summary,
      ].filter((line) => line),
      message.fields,
    );
  }

  // ----- the diagram -----

  const diagram = $("diagram");
  const labels = $("labels");
  let cursor = null;

  function draw() {
    diagram.replaceChildren();
    labels.replaceChildren();
    const width = x(data.end) + PAD + 40;
    const height = laneY(data.nodes) + 40;
    diagram.setAttribute("width", width);
    diagram.setAttribute("height", height);
    labels.setAttribute("height", height);
    defineArrows();

    // Time axis: a label every `step` ticks, at least 60 px apart.
    const axis = el("g", { class: "axis" }, diagram);
    const step = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]
      .find((candidate) => candidate * scale >= 60) || 20000;
    for (let tick = Math.ceil(data.start / step) * step; tick <= data.end; tick += step) {
      el("line", { x1: x(tick), x2: x(tick), y1: TOP - 6, y2: height - 20 }, axis);
      text(axis, String(tick), { x: x(tick) + 2, y: TOP - 10 });
    }
    text(axis, "tick", { x: 2, y: 12 });

    // Cut links: a faint band behind each node that could not reach everyone.
    const bands = el("g", {}, diagram);
    data.links.forEach((frame, position) => {
      const until = position + 1 < data.links.length ? data.links[position + 1].tick : data.end;
      for (let node = 1; node <= data.nodes; node++) {
        const cutFrom = frame.cut.filter((pair) => pair.includes(node))
          .map((pair) => pair[0] === node ? pair[1] : pair[0]);
        if (cutFrom.length === 0 || until <= frame.tick) continue;
        const band = el("rect", {
          class: "cut-band", x: x(frame.tick), y: laneY(node) - 16,
          width: Math.max(1, x(until) - x(frame.tick)), height: 32,
        }, bands);
        attachDetails(band, () => describe("n" + node + " cut off",
          ["from tick " + frame.tick + " to " + until, "cannot reach " + cutFrom.map((id) => "n" + id).join(", ")]));
      }
    });

    // Lanes: colored by role, tinted by term, terms written where they change.
    for (let node = 1; node <= data.nodes; node++) {
      const y = laneY(node);
      const lane = el("g", { class: "lane", "data-node": node }, diagram);
      el("line", { class: "lane-base", x1: x(data.start), x2: x(data.end), y1: y, y2: y }, lane);
      const frames = data.frames[node - 1] || [];
      let lastTerm = null;
      frames.forEach((frame, position) => {
        const until = position + 1 < frames.length ? frames[position + 1].tick : data.end;
        if (until > frame.tick) {
          el("rect", {
            x: x(frame.tick), y: y - 12, width: x(until) - x(frame.tick), height: 24,
            fill: TERM_TINTS[frame.term % 6],
          }, lane).setAttribute("class", "term-tint");
          el("line", {
            class: "seg " + frame.role + (frame.connected ? "" : " cut"),
            x1: x(frame.tick), x2: x(until), y1: y, y2: y,
          }, lane);
        }
        if (frame.term !== lastTerm) {
          text(lane, "t" + frame.term, { class: "term-label", x: x(frame.tick) + 2, y: y - 14, fill: termColor(frame.term) });
          lastTerm = frame.term;
        }
      });
      text(labels, "n" + node, { class: "lane-label", x: 14, y: y + 5 });
    }

    // Messages: an arrow from the sender's lane at the send tick to the recipient's
    // at the arrival tick; a dropped one stops short with ✗; one in flight is dashed.
    const messages = el("g", { class: "messages" }, diagram);
    for (const message of data.messages) {
      const y1 = laneY(message.from);
      const y2 = laneY(message.to);
      const x1 = x(message.sent);
      let x2 = x(Math.max(message.arrived, message.sent));
      let end = y2;
      if (message.fate === "dropped") {
        if (message.arrived <= message.sent) x2 = x1 + Math.max(8, scale * 0.6);
        end = y1 + (y2 - y1) * 0.6;
      } else if (message.fate === "in_flight") {
        const total = Math.max(1, message.arrived - message.sent);
        const done = Math.min(1, (data.end - message.sent) / total);
        x2 = x(message.sent + total * done);
        end = y1 + (y2 - y1) * done;
      }
      const reply = /Reply$/.test(message.type);
      const line = el("line", {
        class: ["msg", message.type, message.fate, reply ? "reply" : "", message.heartbeat ? "heartbeat" : ""].join(" "),
        x1, y1, x2, y2: end,
        "data-id": message.id === null ? "" : message.id,
      }, messages);
      if (message.fate !== "dropped") line.setAttribute("marker-end", "url(#arrow-" + arrowKind(message) + ")");
      attachDetails(line, messageDetails(message));
      if (message.fate === "dropped") {
        text(messages, "✗", { class: "drop-mark", x: x2 - 4, y: end + 4 });
      }
    }

    // Marks: crashes, restarts, links cut and restored, violations.
    const marks = el("g", { class: "marks" }, diagram);
    for (const record of data.events) {
      const symbol = {
        crashed: "✗", restarted: "↻", disconnected: "✂", connected: "⇄", partitioned: "✂", healed: "⇄",
      }[record.kind];
      if (!symbol) continue;
      const kind = record.kind === "crashed" || record.kind === "restarted" ? record.kind : "link";
      const mark = text(marks, symbol, { class: "mark " + kind, x: x(record.tick) - 5, y: laneY(record.node) + 22 });
      attachDetails(mark, () => describe("n" + record.node + " at tick " + record.tick, [record.text]));
    }
    for (const violation of data.violations) {
      const group = el("g", { class: "violation" }, marks);
      el("line", { x1: x(violation.tick), x2: x(violation.tick), y1: TOP - 4, y2: height - 20 }, group);
      text(group, "⚠ n" + violation.node, { x: x(violation.tick) + 3, y: height - 6 });
      attachDetails(group, () => describe("VIOLATION at tick " + violation.tick, ["n" + violation.node + ": " + violation.text]));
    }

    cursor = el("line", { class: "cursor", y1: TOP - 6, y2: height - 20 }, diagram);
    moveCursor(Number($("tick").value));
  }

  function arrowKind(message) {
    if (message.heartbeat) return "heartbeat";
    if (/^RequestVote/.test(message.type)) return "vote";
    if (/^InstallSnapshot/.test(message.type)) return "snapshot";
    return "append";
  }

  function defineArrows() {
    const defs = el("defs", {}, diagram);
    const colors = { vote: "#c26a00", append: "#1f6fd1", heartbeat: "#a9c1df", snapshot: "#8e44ad" };
    for (const [kind, color] of Object.entries(colors)) {
      const marker = el("marker", {
        id: "arrow-" + kind, viewBox: "0 0 10 10", refX: 9, refY: 5,
        markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse",
      }, defs);
      el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: color }, marker);
    }
  }

  function moveCursor(tick) {
    if (!cursor) return;
    cursor.setAttribute("x1", x(tick));
    cursor.setAttribute("x2", x(tick));
  }

  // ----- the moment: every node's state and log at the slider's tick -----

  function showMoment(tick) {
    $("tick-value").textContent = "tick " + tick;
    moveCursor(tick);
    const cut = cutAt(tick);
    const states = $("states");
    states.replaceChildren();
    const head = states.insertRow();
    for (const title of ["node", "role", "term", "voted", "leader", "log", "commit", "applied", "links"]) {
      const cell = document.createElement("th");
      cell.textContent = title;
      head.appendChild(cell);
    }
    const logs = [];
    for (let node = 1; node <= data.nodes; node++) {
      const frame = frameAt(node, tick);
      const log = logAt(node, tick);
      logs.push({ node, frame, log });
      const row = states.insertRow();
      const cutFrom = cut.filter((pair) => pair.includes(node)).map((pair) => pair[0] === node ? pair[1] : pair[0]);
      const values = frame ? [
        "n" + node, frame.role, "t" + frame.term,
        frame.voted_for ? "n" + frame.voted_for : "-",
        frame.leader ? "n" + frame.leader : "-",
        String(frame.last_index), String(frame.commit), String(frame.applied),
        !frame.connected ? "disconnected" : cutFrom.length ? "cut from " + cutFrom.map((id) => "n" + id).join(",") : "all",
      ] : ["n" + node, "?", "", "", "", "", "", "", ""];
      values.forEach((value, column) => {
        const cell = row.insertCell();
        cell.textContent = value;
        if (column === 1) cell.className = "role-" + value;
        if (column === 2 && frame) cell.style.color = termColor(frame.term);
      });
    }
    drawLogs(logs);
  }

  function drawLogs(logs) {
    const box = $("logs");
    box.replaceChildren();
    const last = Math.max(0, ...logs.map(({ log }) => log.snapshot + log.entries.length));
    if (last === 0) {
      box.textContent = "every log is empty at this tick";
      return;
    }
    const first = Math.max(1, last - 39);
    const header = document.createElement("div");
    header.className = "log-row";
    const corner = document.createElement("span");
    corner.className = "log-name";
    corner.textContent = "index";
    header.appendChild(corner);
    for (let index = first; index <= last; index++) {
      const cell = document.createElement("span");
      cell.className = "cell index";
      cell.textContent = String(index);
      header.appendChild(cell);
    }
    box.appendChild(header);
    for (const { node, frame, log } of logs) {
      const row = document.createElement("div");
      row.className = "log-row";
      const name = document.createElement("span");
      name.className = "log-name";
      name.textContent = "n" + node;
      row.appendChild(name);
      for (let index = first; index <= last; index++) {
        const cell = document.createElement("span");
        cell.className = "cell";
        if (index <= log.snapshot) {
          cell.classList.add("snap");
          cell.textContent = "▒";
          cell.title = "index " + index + ": inside the snapshot";
        } else {
          const entry = log.entries[index - log.snapshot - 1];
          if (entry) {
            const [term, command] = entry;
            cell.textContent = String(term);
            cell.style.color = termColor(term);
            cell.title = "index " + index + ", term " + term + ": " + command;
            if (frame && index <= frame.commit) {
              cell.classList.add("committed");
              cell.style.background = termColor(term);
              cell.style.borderColor = termColor(term);
            }
          } else {
            cell.style.visibility = "hidden";
          }
        }
        row.appendChild(cell);
      }
      box.appendChild(row);
    }
  }

  // ----- controls -----

  const slider = $("tick");
  slider.min = data.start;
  slider.max = data.end;
  slider.value = data.end;
  slider.addEventListener("input", () => showMoment(Number(slider.value)));
  diagram.addEventListener("click", (event) => {
    const box = diagram.getBoundingClientRect();
    const tick = Math.round((event.clientX - box.left - PAD) / scale + data.start);
    slider.value = Math.max(data.start, Math.min(data.end, tick));
    showMoment(Number(slider.value));
  });
  $("zoom-in").addEventListener("click", () => { scale = Math.min(80, scale * 1.5); draw(); });
  $("zoom-out").addEventListener("click", () => { scale = Math.max(0.5, scale / 1.5); draw(); });
  const heartbeats = $("show-heartbeats");
  heartbeats.checked = data.messages.length < 3000;
  const applyHeartbeats = () => diagram.classList.toggle("hide-heartbeats", !heartbeats.checked);
  heartbeats.addEventListener("change", applyHeartbeats);

  const summary = $("summary");
  const counts = data.nodes + " nodes, seed " + data.seed + ", ticks " + data.start + " to " + data.end +
    ", " + data.messages.length + " messages, " + data.events.length + " events, " +
    data.violations.length + " violation" + (data.violations.length === 1 ? "" : "s");
  summary.textContent = counts + ". ";
  if (!data.complete) {
    const partial = document.createElement("span");
    partial.className = "partial";
    partial.textContent = "Only the recent part of the session: earlier history was not recorded.";
    summary.appendChild(partial);
  }
  const legend = $("legend");
  for (const [name, color] of [["leader", "var(--leader)"], ["candidate", "var(--candidate)"],
    ["follower", "var(--follower)"], ["down", "var(--down)"], ["votes", "var(--vote)"],
    ["entries", "var(--append)"], ["heartbeats", "var(--heartbeat)"], ["snapshots", "var(--snapshot)"]]) {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = color;
    item.appendChild(swatch);
    item.appendChild(document.createTextNode(name));
    legend.appendChild(item);
  }
  legend.appendChild(document.createTextNode("✗ dropped or crashed, ↻ restarted, ✂ cut, ⚠ violation; " +
    "dotted lane: learner; thin: joining, leaving or outside; faint: removed"));

  draw();
  applyHeartbeats();
  showMoment(data.end);

  // ----- self-check: what the browser test reads -----

  function selfCheck() {
    const problems = [];
    if (data.format !== "raft-playground timeline 1") problems.push("unknown format " + data.format);
    const lanes = diagram.querySelectorAll(".lane").length;
    if (lanes !== data.nodes) problems.push(lanes + " lanes for " + data.nodes + " nodes");
    const arrows = diagram.querySelectorAll(".msg").length;
    if (arrows !== data.messages.length) problems.push(arrows + " arrows for " + data.messages.length + " messages");
    for (let node = 1; node <= data.nodes; node++) {
      const frames = data.frames[node - 1];
      if (!frames || frames.length === 0) { problems.push("n" + node + " has no frames"); continue; }
      for (const frame of frames) {
        if (!ROLES.includes(frame.role)) problems.push("n" + node + " has an unknown role " + frame.role);
      }
      const last = frames[frames.length - 1];
      const log = logAt(node, data.end);
      const length = log.snapshot + log.entries.length;
      if (length !== last.last_index) problems.push("n" + node + "'s log rebuilt to " + length + ", not " + last.last_index);
    }
    const rows = $("states").rows.length - 1;
    if (rows !== data.nodes) problems.push(rows + " state rows");
    // Moving the slider to the start and back changes the moment shown.
    showMoment(data.start);
    const atStart = $("tick-value").textContent;
    showMoment(data.end);
    if (atStart === $("tick-value").textContent && data.start !== data.end) problems.push("the slider does not move");
    problems.push(...errors);
    const verdict = $("verdict");
    verdict.dataset.verdict = problems.length ? "fail" : "pass";
    verdict.textContent = problems.length
      ? "self-check FAILED: " + problems.join("; ")
      : "self-check passed: " + lanes + " lanes, " + arrows + " messages, " + data.events.length +
        " events, logs rebuilt for every node";
  }
  selfCheck();
})();
