// The interactive ISM: draws the map data (the JSON block above) as SVG, with pan and zoom, search, filters,
// a details panel and an ego view. Every data text goes in with textContent, never as markup.
(function () {
  "use strict";
  const SVGNS = "http://www.w3.org/2000/svg";
  const data = JSON.parse(document.getElementById("ism-data").textContent);
  const services = data.services;
  const flows = data.flows;
  const byId = new Map();
  services.forEach(function (s) { s.flowsIn = []; s.flowsOut = []; byId.set(s.id, s); });
  flows.forEach(function (f, i) {
    f.index = i;
    if (byId.has(f.from)) byId.get(f.from).flowsOut.push(f);
    if (byId.has(f.to)) byId.get(f.to).flowsIn.push(f);
  });
  const laneLabel = new Map(data.lanes.map(function (l) { return [l.id, l.label]; }));
  const state = {
    lanes: new Set(data.lanes.map(function (l) { return l.id; })),
    sectors: new Set(Object.keys(data.sectors)),
    client: "", measure: "", minShare: data.minShare, selected: null, ego: null, egoHops: 1,
  };

  // ---- small helpers -------------------------------------------------------------------------------------
  function el(tag, attributes, text) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(function ([k, v]) { node.setAttribute(k, v); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function svg(tag, attributes, text) {
    const node = document.createElementNS(SVGNS, tag);
    Object.entries(attributes || {}).forEach(function ([k, v]) { node.setAttribute(k, v); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function number(value) {
    return Number(value).toLocaleString("en-GB", { maximumFractionDigits: 0 });
  }
  function measureName(measure) { return measure.replace(/_/g, " "); }
  function cell(value, qualifier) {
    if (value === null || value === undefined) {
      if (qualifier === "c") return "c (suppressed)";
      if (qualifier) return qualifier + " (" + (data.qualifiers[qualifier] || "no value") + ")";
      return "–";
    }
    return number(value) + (qualifier ? " " + qualifier : "");
  }

  // ---- header and controls -------------------------------------------------------------------------------
  const meta = data.meta;
  document.getElementById("title").textContent = meta.title;
  document.getElementById("subtitle").textContent =
    meta.area + " · Population: " + meta.population + " · Period: " + meta.period + " · Version " + meta.version;
  const linkNames = { poster: "Poster (PDF)", poster_svg: "Poster (SVG)", analysis: "Analysis",
                      quality: "Quality report" };
  const nav = document.getElementById("links");
  Object.entries(meta.links || {}).forEach(function ([key, href]) {
    nav.appendChild(el("a", { href: href, id: "link-" + key }, linkNames[key] || key));
  });

  function checkboxes(containerId, entries, chosen) {
    const box = document.getElementById(containerId);
    entries.forEach(function ([value, label, colour]) {
      const input = el("input", { type: "checkbox", value: value });
      input.checked = true;
      input.addEventListener("change", function () {
        if (input.checked) chosen.add(value); else chosen.delete(value);
        apply();
      });
      const row = el("label");
      row.appendChild(input);
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = colour;
      row.appendChild(swatch);
      row.appendChild(document.createTextNode(label));
      box.appendChild(row);
    });
  }
  checkboxes("filter-lane", data.lanes.map(function (l) { return [l.id, l.label, l.colour]; }), state.lanes);
  checkboxes("filter-sector", Object.entries(data.sectors).map(function ([s, c]) {
    return [s, s.replace(/_/g, " "), c];
  }), state.sectors);
  function options(selectId, entries) {
    const select = document.getElementById(selectId);
    entries.forEach(function ([value, label]) { select.appendChild(el("option", { value: value }, label)); });
    return select;
  }
  const clientSelect = options("filter-client", [["", "All client groups"]].concat(
    data.clientGroups.map(function (g) { return [g, g]; }), [["__none__", "(not stated)"]]));
  clientSelect.addEventListener("change", function () { state.client = clientSelect.value; apply(); });
  const measureSelect = options("filter-measure", [["", "Any measure"]].concat(
    data.measures.map(function (m) { return [m, measureName(m)]; })));
  measureSelect.addEventListener("change", function () { state.measure = measureSelect.value; apply(); });
  const shareInput = document.getElementById("min-share");
  shareInput.value = String(Math.round(data.minShare * 1000) / 10);
  shareInput.addEventListener("input", function () {
    const value = parseFloat(shareInput.value);
    state.minShare = isFinite(value) && value > 0 ? value / 100 : 0;
    apply();
  });

  // ---- the map -------------------------------------------------------------------------------------------
  const map = document.getElementById("map");
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "12",
                                 markerHeight: "12", markerUnits: "userSpaceOnUse", orient: "auto" });
  marker.appendChild(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#333333" }));
  defs.appendChild(marker);
  map.appendChild(defs);
  const laneLayer = svg("g", { id: "g-lanes" });
  const flowLayer = svg("g", { id: "g-flows" });
  const serviceLayer = svg("g", { id: "g-services" });
  map.appendChild(laneLayer);
  map.appendChild(flowLayer);
  map.appendChild(serviceLayer);

  data.lanes.forEach(function (lane) {
    const [x, y, w, h] = lane.box;
    if (w <= 0) return;
    laneLayer.appendChild(svg("rect", { x: x, y: y, width: w, height: h, rx: 10, fill: lane.colour,
                                        "fill-opacity": "0.25", stroke: lane.colour, "stroke-width": 2 }));
    const title = svg("text", { "text-anchor": "middle", "font-size": 24, "font-weight": "bold" });
    lane.lines.forEach(function (line, i) {
      title.appendChild(svg("tspan", { x: x + w / 2, y: y + 32 + i * 28 }, line));
    });
    laneLayer.appendChild(title);
  });

  const flowNodes = flows.map(function (f) {
    const path = svg("path", { class: "flow", d: f.path, stroke: "#333333", "stroke-opacity": "0.55",
                               "stroke-width": f.width, "marker-end": "url(#arrow)" });
    if (f.volume === null) path.setAttribute("stroke-dasharray", "8,5");
    const from = byId.get(f.from), to = byId.get(f.to);
    const volume = f.volume === null ? "c (suppressed)" : number(f.volume);
    path.appendChild(svg("title", {}, (from ? from.name : f.from) + " → " + (to ? to.name : f.to) + ": " + volume));
    flowLayer.appendChild(path);
    return path;
  });

  const serviceNodes = new Map();
  services.forEach(function (s) {
    const [cx, cy, w, h] = s.box;
    const group = svg("g", { class: "service", "data-id": s.id, tabindex: "0", role: "button",
                             transform: "translate(" + (cx - w / 2) + "," + (cy - h / 2) + ")" });
    group.setAttribute("aria-label", s.name);
    const marked = s.initiatives.length > 0;
    group.appendChild(svg("rect", { width: w, height: h, rx: 8, fill: s.fill,
                                    stroke: marked ? "#000000" : "#444444", "stroke-width": marked ? 5 : 1 }));
    const lines = s.lines.map(function (line, i) {
      return { text: (i === 0 && marked ? "★ " : "") + line, size: 17, bold: true };
    }).concat(s.activityLines.map(function (line) { return { text: line, size: 13, bold: false }; }));
    const total = lines.reduce(function (sum, line) { return sum + line.size * 1.2; }, 0);
    const text = svg("text", { "text-anchor": "middle", fill: s.text });
    let y = (h - total) / 2;
    lines.forEach(function (line) {
      y += line.size * 1.2;
      text.appendChild(svg("tspan", { x: w / 2, y: y - line.size * 0.25, "font-size": line.size,
                                      "font-weight": line.bold ? "bold" : "normal" }, line.text));
    });
    group.appendChild(text);
    group.appendChild(svg("title", {}, s.name + (s.organisation ? " (" + s.organisation + ")" : "")));
    group.addEventListener("click", function (event) { event.stopPropagation(); select(s.id); });
    group.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); select(s.id); }
    });
    serviceLayer.appendChild(group);
    serviceNodes.set(s.id, group);
  });

  // ---- pan and zoom --------------------------------------------------------------------------------------
  const page = data.page;
  let view = { x: 0, y: 0, w: page.width, h: page.height };
  function setView(next) {
    view = next;
    map.setAttribute("viewBox", [view.x, view.y, view.w, view.h].map(function (v) { return v.toFixed(1); }).join(" "));
  }
  function fit(box) {
    const margin = 40;
    setView({ x: box.x - margin, y: box.y - margin, w: Math.max(box.w + 2 * margin, 200),
              h: Math.max(box.h + 2 * margin, 150) });
  }
  function boundsOf(ids) {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    ids.forEach(function (id) {
      const [cx, cy, w, h] = byId.get(id).box;
      x0 = Math.min(x0, cx - w / 2); y0 = Math.min(y0, cy - h / 2);
      x1 = Math.max(x1, cx + w / 2); y1 = Math.max(y1, cy + h / 2);
    });
    return isFinite(x0) ? { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : { x: 0, y: 0, w: page.width, h: page.height };
  }
  function svgPoint(clientX, clientY) {
    const matrix = map.getScreenCTM();
    const point = new DOMPoint(clientX, clientY).matrixTransform(matrix.inverse());
    return { x: point.x, y: point.y };
  }
  function zoom(factor, centre) {
    const c = centre || { x: view.x + view.w / 2, y: view.y + view.h / 2 };
    const w = Math.min(Math.max(view.w * factor, 60), page.width * 4);
    const scale = w / view.w;
    setView({ x: c.x - (c.x - view.x) * scale, y: c.y - (c.y - view.y) * scale, w: w, h: view.h * scale });
  }
  map.addEventListener("wheel", function (event) {
    event.preventDefault();
    zoom(event.deltaY > 0 ? 1.15 : 1 / 1.15, svgPoint(event.clientX, event.clientY));
  }, { passive: false });
  let drag = null;
  map.addEventListener("pointerdown", function (event) {
    if (event.target.closest && event.target.closest(".service")) return;
    drag = { x: event.clientX, y: event.clientY, view: view, scale: 1 / map.getScreenCTM().a };
    map.setPointerCapture(event.pointerId);
    map.classList.add("dragging");
  });
  map.addEventListener("pointermove", function (event) {
    if (!drag) return;
    setView({ x: drag.view.x - (event.clientX - drag.x) * drag.scale,
              y: drag.view.y - (event.clientY - drag.y) * drag.scale, w: drag.view.w, h: drag.view.h });
  });
  function endDrag() { drag = null; map.classList.remove("dragging"); }
  map.addEventListener("pointerup", endDrag);
  map.addEventListener("pointercancel", endDrag);
  document.getElementById("zoom-in").addEventListener("click", function () { zoom(1 / 1.4); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoom(1.4); });
  document.getElementById("zoom-fit").addEventListener("click", function () {
    fit(state.ego ? boundsOf(state.ego) : { x: 0, y: 0, w: page.width, h: page.height });
  });

  // ---- filters -------------------------------------------------------------------------------------------
  function serviceVisible(s) {
    if (!state.lanes.has(s.lane) || !state.sectors.has(s.sector)) return false;
    if (state.client === "__none__" && s.clientGroups.length) return false;
    if (state.client && state.client !== "__none__" && s.clientGroups.indexOf(state.client) < 0) return false;
    if (state.measure && !(state.measure in s.activity || state.measure in s.suppressed ||
                           state.measure in s.months || s.flowsIn.concat(s.flowsOut).some(function (f) {
                             return state.measure in f.measures; }))) return false;
    if (state.ego && !state.ego.has(s.id)) return false;
    return true;
  }
  const measureMax = {};
  flows.forEach(function (f) {
    Object.entries(f.measures).forEach(function ([m, v]) { measureMax[m] = Math.max(measureMax[m] || 0, v); });
  });
  function apply() {
    const visible = new Set();
    services.forEach(function (s) {
      const shown = serviceVisible(s);
      if (shown) visible.add(s.id);
      serviceNodes.get(s.id).classList.toggle("hidden", !shown);
      serviceNodes.get(s.id).classList.toggle("faded", false);
    });
    let flowCount = 0;
    flows.forEach(function (f) {
      const node = flowNodes[f.index];
      let shown = visible.has(f.from) && visible.has(f.to);
      // A flow whose every value is suppressed is small by definition: shown like flows under the minimum share.
      const small = f.volume === null ? state.minShare > 0
        : data.totalVolume > 0 && f.volume < state.minShare * data.totalVolume;
      if (shown && small) {
        shown = state.selected !== null && (f.from === state.selected || f.to === state.selected);
      }
      if (shown && state.measure) shown = state.measure in f.measures || f.volume === null;
      node.classList.toggle("hidden", !shown);
      if (state.measure && f.measures[state.measure]) {
        node.setAttribute("stroke-width", (1 + 11 * f.measures[state.measure] / measureMax[state.measure]).toFixed(2));
      } else {
        node.setAttribute("stroke-width", f.width);
      }
      const touches = state.selected !== null && (f.from === state.selected || f.to === state.selected);
      node.classList.toggle("touch", touches);
      node.classList.toggle("faded", state.selected !== null && !touches && !state.ego);
      if (shown) flowCount += 1;
    });
    serviceNodes.forEach(function (node, id) { node.classList.toggle("selected", id === state.selected); });
    const status = document.getElementById("status");
    status.textContent = "Showing " + visible.size + " of " + services.length + " services and " + flowCount +
      " of " + flows.length + " flows";
    const banner = document.getElementById("ego-banner");
    banner.classList.toggle("hidden", !state.ego);
    if (state.ego && state.selected) {
      banner.textContent = "Ego view: " + byId.get(state.selected).name + " and the " + (state.ego.size - 1) +
        " services within " + state.egoHops + " step" + (state.egoHops > 1 ? "s" : "");
    }
  }

  // ---- ego view ------------------------------------------------------------------------------------------
  function neighbourhood(id, hops) {
    const found = new Map([[id, 0]]);
    let frontier = [id];
    for (let step = 1; step <= hops; step++) {
      const next = [];
      frontier.forEach(function (current) {
        const s = byId.get(current);
        s.flowsIn.map(function (f) { return f.from; }).concat(s.flowsOut.map(function (f) { return f.to; }))
          .forEach(function (other) {
            if (byId.has(other) && !found.has(other)) { found.set(other, step); next.push(other); }
          });
      });
      frontier = next;
    }
    return new Set(found.keys());
  }
  function showEgo(id, hops) {
    state.selected = id;
    state.egoHops = hops;
    state.ego = neighbourhood(id, hops);
    apply();
    fit(boundsOf(state.ego));
    renderDetails(byId.get(id));
  }
  function showAll() {
    state.ego = null;
    state.lanes = new Set(data.lanes.map(function (l) { return l.id; }));
    state.sectors = new Set(Object.keys(data.sectors));
    state.client = ""; state.measure = ""; state.minShare = data.minShare;
    document.querySelectorAll("#controls input[type=checkbox]").forEach(function (box) { box.checked = true; });
    clientSelect.value = ""; measureSelect.value = "";
    shareInput.value = String(Math.round(data.minShare * 1000) / 10);
    apply();
    fit({ x: 0, y: 0, w: page.width, h: page.height });
  }
  document.getElementById("reset").addEventListener("click", showAll);

  // ---- details -------------------------------------------------------------------------------------------
  const details = document.getElementById("details");
  function section(title) { details.appendChild(el("h3", {}, title)); }
  function flowList(list, direction) {
    if (!list.length) { details.appendChild(el("p", { class: "muted" }, "None recorded.")); return; }
    const ul = el("ul", { class: "flows-" + direction });
    list.slice().sort(function (a, b) { return (b.volume || 0) - (a.volume || 0); }).forEach(function (f) {
      const otherId = direction === "in" ? f.from : f.to;
      const other = byId.get(otherId);
      const li = el("li");
      const button = el("button", { type: "button" }, other ? other.name : otherId);
      button.addEventListener("click", function () { select(otherId, true); });
      li.appendChild(button);
      const parts = Object.entries(f.measures).map(function ([m, v]) { return number(v) + " " + measureName(m); });
      let text = ": " + (f.volume === null ? "c (suppressed)" : number(f.volume)) +
        (parts.length > 1 ? " (" + parts.join(", ") + ")" : parts.length ? " " + measureName(Object.keys(f.measures)[0]) : "");
      if (f.qualifiers.indexOf("c") >= 0 && f.volume !== null) text += " + c (suppressed months)";
      if (!f.onPoster) text += " — not on the poster (under the minimum share)";
      li.appendChild(document.createTextNode(text));
      if (f.sources.length) li.appendChild(el("div", { class: "muted" }, "sources: " + f.sources.join(", ")));
      ul.appendChild(li);
    });
    details.appendChild(ul);
  }
  function activityTable(s) {
    const measures = Object.keys(s.months).sort();
    if (!measures.length) { details.appendChild(el("p", { class: "muted" }, "No activity recorded.")); return; }
    const months = Array.from(new Set([].concat.apply([], measures.map(function (m) {
      return s.months[m].map(function (row) { return row[0]; });
    })))).sort();
    const table = el("table", { id: "activity-table" });
    const head = el("tr");
    head.appendChild(el("th", {}, "Month"));
    measures.forEach(function (m) { head.appendChild(el("th", {}, measureName(m))); });
    table.appendChild(head);
    months.forEach(function (month) {
      const tr = el("tr");
      tr.appendChild(el("td", {}, month));
      measures.forEach(function (m) {
        const rows = s.months[m].filter(function (row) { return row[0] === month; });
        const known = rows.filter(function (row) { return row[1] !== null; });
        let text = "–";
        if (known.length) {
          text = number(known.reduce(function (sum, row) { return sum + row[1]; }, 0));
          if (rows.some(function (row) { return row[1] === null && row[2] === "c"; })) text += " + c";
        } else if (rows.length) {
          text = cell(null, rows[0][2]);
        }
        tr.appendChild(el("td", {}, text));
      });
      table.appendChild(tr);
    });
    const total = el("tr");
    total.appendChild(el("th", {}, "Period"));
    measures.forEach(function (m) {
      const value = s.activity[m];
      let text = value === undefined ? "c (suppressed)" : number(value);
      if (value !== undefined && s.suppressed[m]) text += " + c";
      total.appendChild(el("th", {}, text));
    });
    table.appendChild(total);
    details.appendChild(table);
  }
  function renderDetails(s) {
    details.replaceChildren();
    details.classList.remove("hidden");
    const close = el("button", { type: "button", id: "close-details", style: "float:right" }, "×");
    close.addEventListener("click", function () { select(null); });
    details.appendChild(close);
    details.appendChild(el("h2", { id: "d-name" }, (s.initiatives.length ? "★ " : "") + s.name));
    const facts = el("dl");
    [["Organisation", s.organisation], ["Sector", s.sector.replace(/_/g, " ")], ["Partner", s.partner],
     ["Lane", laneLabel.get(s.lane) || s.lane], ["Setting", s.setting], ["Locality", s.locality],
     ["Client groups", s.clientGroups.join(", ")], ["Status", s.status],
     ["Improvement work", s.initiatives.join("; ")]].forEach(function ([label, value]) {
      if (!value) return;
      facts.appendChild(el("dt", {}, label));
      facts.appendChild(el("dd", {}, value));
    });
    details.appendChild(facts);
    const ego = el("p");
    ego.appendChild(document.createTextNode("Neighbours within "));
    const hops = el("input", { id: "ego-hops", type: "number", min: "1", max: "6", value: String(state.egoHops),
                               style: "width:3.5em" });
    ego.appendChild(hops);
    ego.appendChild(document.createTextNode(" steps "));
    const egoButton = el("button", { id: "ego", type: "button" }, "Ego view");
    egoButton.addEventListener("click", function () {
      showEgo(s.id, Math.max(1, Math.min(6, parseInt(hops.value, 10) || 1)));
    });
    ego.appendChild(egoButton);
    if (state.ego) {
      const back = el("button", { id: "ego-exit", type: "button" }, "Whole map");
      back.addEventListener("click", showAll);
      ego.appendChild(document.createTextNode(" "));
      ego.appendChild(back);
    }
    details.appendChild(ego);
    section("Activity by month");
    activityTable(s);
    section("Flows in (who sends demand here)");
    flowList(s.flowsIn, "in");
    section("Flows out (where its demand goes)");
    flowList(s.flowsOut, "out");
    section("Provenance");
    const provenance = el("dl", { id: "provenance" });
    [["Service id", s.id], ["Service sources", s.sourceIds.join(", ")],
     ["Activity sources", s.activitySources.join(", ")], ["External ids", s.externalIds.join(", ")]]
      .forEach(function ([label, value]) {
        if (!value) return;
        provenance.appendChild(el("dt", {}, label));
        provenance.appendChild(el("dd", {}, value));
      });
    details.appendChild(provenance);
    section("Data quality");
    if (!s.flags.length) {
      details.appendChild(el("p", { class: "muted", id: "quality-flags" }, "No data-quality flags for this service."));
    } else {
      const ul = el("ul", { id: "quality-flags" });
      s.flags.forEach(function (flag) {
        ul.appendChild(el("li", { class: "flag-" + flag.severity },
                          flag.severity + ": " + (flag.message || flag.code) + (flag.code ? " [" + flag.code + "]" : "")));
      });
      details.appendChild(ul);
    }
  }
  function select(id, centre) {
    state.selected = id;
    if (id === null) {
      details.classList.add("hidden");
      details.replaceChildren();
    } else {
      renderDetails(byId.get(id));
      if (centre) {
        const [cx, cy] = byId.get(id).box;
        setView({ x: cx - view.w / 2, y: cy - view.h / 2, w: view.w, h: view.h });
      }
    }
    apply();
  }

  // ---- search --------------------------------------------------------------------------------------------
  const search = document.getElementById("search");
  const results = document.getElementById("results");
  function matches(query) {
    const q = query.trim().toLowerCase();
    if (!q) return [];
    return services.filter(function (s) {
      return s.name.toLowerCase().indexOf(q) >= 0 || s.organisation.toLowerCase().indexOf(q) >= 0 || s.id === q;
    }).sort(function (a, b) {
      return (a.name.toLowerCase().indexOf(q) !== 0) - (b.name.toLowerCase().indexOf(q) !== 0) ||
        a.name.localeCompare(b.name);
    }).slice(0, 12);
  }
  function found(s) {
    results.replaceChildren();
    const [cx, cy] = s.box;
    setView({ x: cx - 700, y: cy - 450, w: 1400, h: 900 });
    select(s.id);
  }
  search.addEventListener("input", function () {
    results.replaceChildren();
    matches(search.value).forEach(function (s) {
      const li = el("li");
      const button = el("button", { type: "button", "data-id": s.id }, s.name);
      button.appendChild(el("br"));
      button.appendChild(el("small", {}, (laneLabel.get(s.lane) || s.lane) + " · " + s.organisation));
      button.addEventListener("click", function () { found(s); });
      li.appendChild(button);
      results.appendChild(li);
    });
    if (search.value.trim() && !results.children.length) results.appendChild(el("li", { class: "muted" }, "No match."));
  });
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      const first = matches(search.value)[0];
      if (first) found(first);
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && state.selected !== null && !state.ego) select(null);
  });

  setView(view);
  apply();
  document.body.setAttribute("data-ready", "true");
})();
