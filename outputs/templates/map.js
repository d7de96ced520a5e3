// The interactive ISM: draws the map data (the JSON block above) as SVG at the poster's positions, with pan and
// zoom, fuzzy search, filters (lanes filtered out collapse), a month selector, a details panel, an ego view laid
// out around its service, the view kept in the page's address (a link reopens it), exports of the current view
// (SVG, PNG, CSV) and a print layout. Every data text goes in with textContent, never as markup. Unlike measures
// are never added: every share, width and total is taken within one measure.
(function () {
  "use strict";
  const SVGNS = "http://www.w3.org/2000/svg";
  const SHOWN_HITS = 12;
  const data = JSON.parse(document.getElementById("ism-data").textContent);
  const services = data.services;
  const flows = data.flows;
  const byId = new Map();
  services.forEach(function (s) { s.flowsIn = []; s.flowsOut = []; byId.set(s.id, s); });
  flows.forEach(function (f, i) {
    f.index = i;
    f.suppressed = Object.keys(f.measures).length === 0;
    if (byId.has(f.from)) byId.get(f.from).flowsOut.push(f);
    if (byId.has(f.to)) byId.get(f.to).flowsIn.push(f);
  });
  const laneIds = data.lanes.map(function (l) { return l.id; });
  const laneLabel = new Map(data.lanes.map(function (l) { return [l.id, l.label]; }));
  const state = {
    lanes: new Set(laneIds), sectors: new Set(Object.keys(data.sectors)), client: "", measure: "", month: "",
    minShare: data.minShare, selected: null, ego: null, egoCentre: null, egoHops: 1,
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
  function number(value) { return Number(value).toLocaleString("en-GB", { maximumFractionDigits: 0 }); }
  function measureName(measure) { return measure.replace(/_/g, " "); }
  function cell(value, qualifier) {
    if (value === null || value === undefined) {
      if (qualifier === "c") return "c (suppressed)";
      if (qualifier) return qualifier + " (" + (data.qualifiers[qualifier] || "no value") + ")";
      return "–";
    }
    return number(value) + (qualifier ? " " + qualifier : "");
  }
  function perMeasure(values) {
    return Object.entries(values).sort(function (a, b) { return b[1] - a[1] || a[0].localeCompare(b[0]); })
      .map(function ([m, v]) { return number(v) + " " + measureName(m); }).join(", ");
  }
  function figure(value, kind) {  // a number as transforms/totals.py writes it for the measure's kind
    const digits = kind === "percentage" ? 1 : kind === "rate" ? 2
      : value === Math.trunc(value) || Math.abs(value) >= 100 ? 0 : 1;
    return Number(value).toLocaleString("en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits }) +
      (kind === "percentage" ? "%" : "");
  }
  function monthRecord(measure, value, withheld) {
    // one month's figure as a totals record, so a month missing suppressed cells reads as the period totals do
    const kind = data.measureKinds[measure] || "count";
    const known = value !== null && value !== undefined;
    let display = known ? figure(value, kind) : "c (suppressed)";
    if (known && withheld) display = (kind === "count" ? "≥ " : "") + display + " (1 of 1 month suppressed)";
    return { measure: measure, kind: kind, value: known ? value : null, months: 1,
             suppressed_months: withheld ? 1 : 0, display: display };
  }
  function byFigure(records) {  // largest first, figures without a value last
    return records.slice().sort(function (a, b) {
      return (a.value === null) - (b.value === null) || (b.value || 0) - (a.value || 0) ||
        a.measure.localeCompare(b.measure);
    });
  }
  function flowFigure(t) {  // "≥ 117 referrals (10 of 12 months suppressed)", as the poster labels a flow
    const name = measureName(t.measure);
    if (t.value === null || t.value === undefined) return name + ": " + t.display;
    const at = t.display.indexOf(" (");
    return at < 0 ? t.display + " " + name : t.display.slice(0, at) + " " + name + t.display.slice(at);
  }
  function serviceLine(t) {  // "attendances: ≥ 50 (1 of 2 months suppressed)", as the poster's activity lines
    const name = measureName(t.measure);
    return t.value === null || t.suppressed_months ? name + ": " + t.display : t.display + " " + name;
  }

  // ---- values for the period or one month -----------------------------------------------------------------
  function flowValues(f) { return state.month ? (f.byMonth[state.month] || {}) : f.measures; }
  function flowRecords(f) {  // the period's totals records, or the chosen month's figures as records
    if (!state.month) return f.totals || [];
    const values = f.byMonth[state.month] || {}, withheld = f.withheldByMonth[state.month] || [];
    return Object.keys(values).concat(withheld.filter(function (m) { return !(m in values); }))
      .map(function (m) { return monthRecord(m, values[m], withheld.indexOf(m) >= 0); });
  }
  function flowText(f) {
    const text = byFigure(flowRecords(f)).map(flowFigure).join(", ");
    if (text) return text;
    return state.month ? "none in " + state.month : perMeasure(f.measures) || "c (suppressed)";
  }
  function withheldHere(f) {  // every figure of the flow in the view is suppressed: drawn thin and dashed
    if (!state.month) return f.suppressed;
    return !Object.keys(f.byMonth[state.month] || {}).length && (f.withheldByMonth[state.month] || []).length > 0;
  }
  function monthCell(s, measure, month) {  // a service's figure in one month as a record (null: no figure or c)
    const rows = s.months[measure].filter(function (row) { return row[0] === month; });
    const known = rows.filter(function (row) { return row[1] !== null; });
    const withheld = rows.some(function (row) { return row[1] === null && row[2] === "c"; });
    if (!known.length && !withheld) return null;
    return monthRecord(measure, known.length ? known.reduce(function (sum, row) { return sum + row[1]; }, 0) : null,
                       withheld);
  }
  const totalsBy = { "": data.measureTotals };
  const largestBy = { "": {} };
  flows.forEach(function (f) {
    Object.entries(f.measures).forEach(function ([m, v]) { largestBy[""][m] = Math.max(largestBy[""][m] || 0, v); });
    Object.entries(f.byMonth).forEach(function ([month, values]) {
      totalsBy[month] = totalsBy[month] || {};
      largestBy[month] = largestBy[month] || {};
      Object.entries(values).forEach(function ([m, v]) {
        totalsBy[month][m] = (totalsBy[month][m] || 0) + v;
        largestBy[month][m] = Math.max(largestBy[month][m] || 0, v);
      });
    });
  });
  function share(f, measure) {  // a flow's share of its measure's volume (its largest, with no measure chosen)
    const values = flowValues(f), totals = totalsBy[state.month] || {};
    const measures = measure ? [measure] : Object.keys(values);
    return measures.reduce(function (best, m) {
      return values[m] !== undefined && totals[m] ? Math.max(best, values[m] / totals[m]) : best;
    }, 0);
  }
  function width(f) {
    const values = flowValues(f), largest = largestBy[state.month] || {};
    let best = 0;
    Object.keys(values).forEach(function (m) {
      if ((!state.measure || m === state.measure) && largest[m]) best = Math.max(best, values[m] / largest[m]);
    });
    return 1 + 11 * best;
  }
  function activityLines(s) {
    if (!state.month) return s.activityLines;
    return Object.keys(s.months).sort().map(function (m) { return monthCell(s, m, state.month); })
      .filter(Boolean).map(serviceLine).slice(0, 3);
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
  const gapsNote = document.getElementById("gaps");
  [["Missing from this version: ", meta.missing], ["Shown from the last good extract: ", meta.stale]]
    .forEach(function ([heading, names]) {
      if (!names.length) return;
      const p = el("p", { class: "gap-note" });
      p.appendChild(el("b", {}, heading));
      p.appendChild(document.createTextNode(names.join("; ")));
      gapsNote.appendChild(p);
    });
  const gapLegend = document.getElementById("gap-legend");
  Object.entries(data.gapLegend).forEach(function ([kind, entry]) {
    gapLegend.appendChild(el("li", { "data-kind": kind }, entry.mark + " " + entry.text));
  });
  gapLegend.classList.toggle("hidden", !Object.keys(data.gapLegend).length);

  const boxes = { lanes: [], sectors: [] };
  function checkboxes(containerId, entries, chosen, list) {
    const box = document.getElementById(containerId);
    entries.forEach(function ([value, label, colour]) {
      const input = el("input", { type: "checkbox", value: value });
      input.checked = true;
      input.addEventListener("change", function () {
        if (input.checked) chosen.add(value); else chosen.delete(value);
        apply();
      });
      list.push(input);
      const row = el("label");
      row.appendChild(input);
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = colour;
      row.appendChild(swatch);
      row.appendChild(document.createTextNode(label));
      box.appendChild(row);
    });
  }
  checkboxes("filter-lane", data.lanes.map(function (l) { return [l.id, l.label, l.colour]; }), state.lanes,
             boxes.lanes);
  checkboxes("filter-sector", Object.entries(data.sectors).map(function ([s, c]) {
    return [s, s.replace(/_/g, " "), c];
  }), state.sectors, boxes.sectors);
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
  const monthSelect = options("filter-month", [["", "Whole period (" + meta.period + ")"]].concat(
    data.months.map(function (m) { return [m, m]; })));
  monthSelect.addEventListener("change", function () {
    state.month = monthSelect.value;
    apply();
    if (state.selected !== null) renderDetails(byId.get(state.selected));  // its flows now read the month's figures
  });
  const shareInput = document.getElementById("min-share");
  function showShare() { shareInput.value = String(Math.round(state.minShare * 1000) / 10); }
  showShare();
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
  [laneLayer, flowLayer, serviceLayer].forEach(function (layer) { map.appendChild(layer); });

  const laneNodes = new Map();
  data.lanes.forEach(function (lane) {
    const [x, y, w, h] = lane.box;
    const group = svg("g", { class: "lane", "data-id": lane.id });
    if (w > 0) {
      group.appendChild(svg("rect", { x: x, y: y, width: w, height: h, rx: 10, fill: lane.colour,
                                      "fill-opacity": "0.25", stroke: lane.colour, "stroke-width": 2 }));
      const title = svg("text", { "text-anchor": "middle", "font-size": 24, "font-weight": "bold" });
      lane.lines.forEach(function (line, i) {
        title.appendChild(svg("tspan", { x: x + w / 2, y: y + 32 + i * 28 }, line));
      });
      group.appendChild(title);
    }
    laneLayer.appendChild(group);
    laneNodes.set(lane.id, group);
  });

  const flowNodes = flows.map(function (f) {
    const path = svg("path", { class: "flow", d: f.path, stroke: f.colour, "stroke-opacity": "0.7",
                               "stroke-width": f.width, "marker-end": "url(#arrow)", "data-from": f.from,
                               "data-to": f.to });
    const title = svg("title");
    path.appendChild(title);
    flowLayer.appendChild(path);
    return path;
  });
  function flowTitle(f) {
    const from = byId.get(f.from), to = byId.get(f.to);
    return (from ? from.name : f.from) + " → " + (to ? to.name : f.to) + ": " + flowText(f);
  }

  const serviceNodes = new Map();
  const serviceTexts = new Map();
  services.forEach(function (s) {
    const [, , w, h] = s.box;
    const group = svg("g", { class: "service", "data-id": s.id, tabindex: "0", role: "button" });
    group.setAttribute("aria-label", s.name);
    const marked = s.initiatives.length > 0;
    const missing = s.gaps.some(function (gap) { return gap.kind === "missing"; });
    const rect = svg("rect", { width: w, height: h, rx: 8, fill: s.fill, stroke: marked ? "#000000" : "#444444",
                               "stroke-width": marked ? 5 : missing ? 3 : 1 });
    if (missing) rect.setAttribute("stroke-dasharray", "9,5");
    group.appendChild(rect);
    const text = svg("text", { "text-anchor": "middle", fill: s.text });
    group.appendChild(text);
    serviceTexts.set(s.id, text);
    const tip = s.gaps.map(function (gap) { return "\n" + gap.mark + " " + gap.text; }).join("");
    group.appendChild(svg("title", {}, s.name + (s.organisation ? " (" + s.organisation + ")" : "") + tip));
    group.addEventListener("click", function (event) { event.stopPropagation(); select(s.id); });
    group.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); select(s.id); }
    });
    serviceLayer.appendChild(group);
    serviceNodes.set(s.id, group);
  });
  function writeServiceText(s) {
    const [, , w, h] = s.box;
    const marked = s.initiatives.length > 0;
    const marks = s.gaps.map(function (gap) { return gap.mark; }).filter(function (m, i, all) {
      return all.indexOf(m) === i;
    }).join(" ");
    const lines = s.lines.map(function (line, i) {
      return { text: (i === 0 && marked ? "★ " : "") + line, size: 17, bold: true, cls: "" };
    }).concat(activityLines(s).map(function (line) { return { text: line, size: 13, bold: false, cls: "" }; }))
      .concat(marks ? [{ text: marks, size: 18, bold: true, cls: "gap-marks" }] : []);
    const total = lines.reduce(function (sum, line) { return sum + line.size * 1.2; }, 0);
    const text = serviceTexts.get(s.id);
    text.replaceChildren();
    let y = (h - total) / 2;
    lines.forEach(function (line) {
      y += line.size * 1.2;
      const span = svg("tspan", { x: w / 2, y: y - line.size * 0.25, "font-size": line.size,
                                  "font-weight": line.bold ? "bold" : "normal" }, line.text);
      if (line.cls) span.setAttribute("class", line.cls);
      text.appendChild(span);
    });
  }

  // ---- positions: the poster's, lanes filtered out collapsed, or the ego view's own layout ----------------
  let positions = new Map();
  function laneShifts() {
    const shifts = new Map();
    let removed = 0;
    data.lanes.slice().sort(function (a, b) { return a.box[0] - b.box[0]; }).forEach(function (lane, i, all) {
      shifts.set(lane.id, removed);
      if (!state.lanes.has(lane.id) && lane.box[2] > 0) {
        const next = all[i + 1];
        removed += next ? next.box[0] - lane.box[0] : lane.box[2];
      }
    });
    return shifts;
  }
  function egoLayout(centre, members) {
    const upstream = distances(centre, "in"), downstream = distances(centre, "out");
    const columns = new Map();
    members.forEach(function (id) {
      let column = 0;
      if (id !== centre) {
        const down = downstream.has(id) ? downstream.get(id) : Infinity;
        const up = upstream.has(id) ? upstream.get(id) : Infinity;
        column = down <= up ? down : -up;
        if (!isFinite(column)) column = 1;
      }
      if (!columns.has(column)) columns.set(column, []);
      columns.get(column).push(byId.get(id));
    });
    const placed = new Map();
    columns.forEach(function (list, column) {
      list.sort(function (a, b) {
        return laneIds.indexOf(a.lane) - laneIds.indexOf(b.lane) || a.name.localeCompare(b.name);
      });
      const heights = list.map(function (s) { return s.box[3] + 36; });
      let y = -heights.reduce(function (sum, h) { return sum + h; }, 0) / 2;
      list.forEach(function (s, i) {
        placed.set(s.id, [column * 420, y + heights[i] / 2, s.box[2], s.box[3]]);
        y += heights[i];
      });
    });
    return placed;
  }
  function distances(start, direction) {
    const found = new Map([[start, 0]]);
    let frontier = [start];
    for (let step = 1; step <= state.egoHops; step++) {
      const next = [];
      frontier.forEach(function (current) {
        const s = byId.get(current);
        (direction === "in" ? s.flowsIn.map(function (f) { return f.from; })
          : s.flowsOut.map(function (f) { return f.to; })).forEach(function (other) {
          if (byId.has(other) && !found.has(other)) { found.set(other, step); next.push(other); }
        });
      });
      frontier = next;
    }
    return found;
  }
  function place() {
    const shifts = laneShifts();
    const collapsed = !state.ego && data.lanes.some(function (l) { return !state.lanes.has(l.id); });
    positions = state.ego ? egoLayout(state.egoCentre, state.ego) : new Map();
    services.forEach(function (s) {
      if (!positions.has(s.id)) {
        const [cx, cy, w, h] = s.box;
        positions.set(s.id, [cx - (shifts.get(s.lane) || 0), cy, w, h]);
      }
      const [cx, cy, w, h] = positions.get(s.id);
      serviceNodes.get(s.id).setAttribute("transform", "translate(" + (cx - w / 2) + "," + (cy - h / 2) + ")");
    });
    laneLayer.classList.toggle("hidden", Boolean(state.ego));
    data.lanes.forEach(function (lane) {
      const node = laneNodes.get(lane.id);
      node.classList.toggle("hidden", !state.lanes.has(lane.id));
      node.setAttribute("transform", "translate(" + (-(shifts.get(lane.id) || 0)) + ",0)");
    });
    return Boolean(state.ego) || collapsed;
  }
  function curve(f) {
    const [sx, sy, sw] = positions.get(f.from), [tx, ty, tw] = positions.get(f.to);
    if (Math.abs(tx - sx) < (sw + tw) / 4) {
      const bow = 40 + Math.abs(ty - sy) * 0.25, x0 = sx + sw / 2, x1 = tx + tw / 2;
      return "M" + x0 + "," + sy + "C" + (x0 + bow) + "," + sy + " " + (x1 + bow) + "," + ty + " " + x1 + "," + ty;
    }
    const forward = tx > sx;
    const x0 = forward ? sx + sw / 2 : sx - sw / 2, x1 = forward ? tx - tw / 2 : tx + tw / 2;
    const reach = (x1 - x0) / 2;
    return "M" + x0 + "," + sy + "C" + (x0 + reach) + "," + sy + " " + (x1 - reach) + "," + ty + " " + x1 + "," + ty;
  }

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
      const [cx, cy, w, h] = positions.get(id) || byId.get(id).box;
      x0 = Math.min(x0, cx - w / 2); y0 = Math.min(y0, cy - h / 2);
      x1 = Math.max(x1, cx + w / 2); y1 = Math.max(y1, cy + h / 2);
    });
    return isFinite(x0) ? { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : { x: 0, y: 0, w: page.width, h: page.height };
  }
  function fitVisible() { fit(state.ego ? boundsOf(state.ego) : boundsOf(visibleIds())); }
  function svgPoint(clientX, clientY) {
    const point = new DOMPoint(clientX, clientY).matrixTransform(map.getScreenCTM().inverse());
    return { x: point.x, y: point.y };
  }
  function zoom(factor, centre) {
    const c = centre || { x: view.x + view.w / 2, y: view.y + view.h / 2 };
    const w = Math.min(Math.max(view.w * factor, 60), page.width * 4);
    const scale = w / view.w;
    setView({ x: c.x - (c.x - view.x) * scale, y: c.y - (c.y - view.y) * scale, w: w, h: view.h * scale });
    writeAddress();
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
  function endDrag() { if (drag) writeAddress(); drag = null; map.classList.remove("dragging"); }
  map.addEventListener("pointerup", endDrag);
  map.addEventListener("pointercancel", endDrag);
  document.getElementById("zoom-in").addEventListener("click", function () { zoom(1 / 1.4); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoom(1.4); });
  document.getElementById("zoom-fit").addEventListener("click", function () { fitVisible(); writeAddress(); });

  // ---- filters -------------------------------------------------------------------------------------------
  function serviceVisible(s) {
    if (state.ego) return state.ego.has(s.id);
    if (!state.lanes.has(s.lane) || !state.sectors.has(s.sector)) return false;
    if (state.client === "__none__" && s.clientGroups.length) return false;
    if (state.client && state.client !== "__none__" && s.clientGroups.indexOf(state.client) < 0) return false;
    if (state.measure && !(state.measure in s.activity || state.measure in s.suppressed ||
                           state.measure in s.months || s.flowsIn.concat(s.flowsOut).some(function (f) {
                             return state.measure in f.measures; }))) return false;
    return true;
  }
  function visibleIds() {
    return services.filter(serviceVisible).map(function (s) { return s.id; });
  }
  function flowVisible(f, visible) {
    if (!visible.has(f.from) || !visible.has(f.to)) return false;
    const touches = state.selected !== null && (f.from === state.selected || f.to === state.selected);
    if (withheldHere(f)) return state.minShare === 0 || touches;
    if (f.suppressed) return false;  // nothing in the chosen month
    const values = flowValues(f);
    if (state.measure && values[state.measure] === undefined) return false;
    if (!Object.keys(values).length) return false;  // nothing in the chosen month
    // The poster's own selection (each service's largest flows) stands while the threshold is not raised.
    return touches || Boolean(state.ego) || share(f, state.measure) >= state.minShare ||
      (f.onPoster && !state.measure && state.minShare <= data.minShare);
  }
  let writtenMonth = null;
  function apply() {
    if (writtenMonth !== state.month) {
      services.forEach(writeServiceText);
      writtenMonth = state.month;
    }
    const custom = place();
    const visible = new Set(visibleIds());
    services.forEach(function (s) { serviceNodes.get(s.id).classList.toggle("hidden", !visible.has(s.id)); });
    let flowCount = 0;
    flows.forEach(function (f) {
      const node = flowNodes[f.index];
      const shown = flowVisible(f, visible);
      node.classList.toggle("hidden", !shown);
      node.setAttribute("d", custom && positions.has(f.from) && positions.has(f.to) ? curve(f) : f.path);
      node.setAttribute("stroke-width", withheldHere(f) ? 1.5 : width(f).toFixed(2));
      if (withheldHere(f)) node.setAttribute("stroke-dasharray", "8,5"); else node.removeAttribute("stroke-dasharray");
      node.firstChild.textContent = flowTitle(f);
      const touches = state.selected !== null && (f.from === state.selected || f.to === state.selected);
      node.classList.toggle("touch", touches);
      node.classList.toggle("faded", state.selected !== null && !touches && !state.ego);
      if (shown) flowCount += 1;
    });
    serviceNodes.forEach(function (node, id) { node.classList.toggle("selected", id === state.selected); });
    document.getElementById("status").textContent = "Showing " + visible.size + " of " + services.length +
      " services and " + flowCount + " of " + flows.length + " flows" + (state.month ? " in " + state.month : "");
    const banner = document.getElementById("ego-banner");
    banner.classList.toggle("hidden", !state.ego);
    if (state.ego) {
      banner.textContent = "Ego view: " + byId.get(state.egoCentre).name + " and the " + (state.ego.size - 1) +
        " services within " + state.egoHops + " step" + (state.egoHops > 1 ? "s" : "") +
        " (senders to the left, receivers to the right)";
    }
    writeAddress();
  }

  // ---- ego view ------------------------------------------------------------------------------------------
  function neighbourhood(id) {
    const found = new Set([id]);
    distances(id, "in").forEach(function (_, other) { found.add(other); });
    distances(id, "out").forEach(function (_, other) { found.add(other); });
    return found;
  }
  function showEgo(id, hops) {
    state.selected = id;
    state.egoCentre = id;
    state.egoHops = hops;
    state.ego = neighbourhood(id);
    apply();
    fit(boundsOf(state.ego));
    writeAddress();
    renderDetails(byId.get(id));
  }
  function showAll() {
    state.ego = null;
    state.egoCentre = null;
    // The filter sets are emptied and refilled, never replaced: the checkboxes keep updating these same sets.
    state.lanes.clear(); laneIds.forEach(function (id) { state.lanes.add(id); });
    state.sectors.clear(); Object.keys(data.sectors).forEach(function (s) { state.sectors.add(s); });
    state.client = ""; state.measure = ""; state.month = ""; state.minShare = data.minShare;
    boxes.lanes.concat(boxes.sectors).forEach(function (box) { box.checked = true; });
    clientSelect.value = ""; measureSelect.value = ""; monthSelect.value = "";
    showShare();
    apply();
    fit({ x: 0, y: 0, w: page.width, h: page.height });
    writeAddress();
    if (state.selected !== null) renderDetails(byId.get(state.selected));
  }
  document.getElementById("reset").addEventListener("click", showAll);

  // ---- details -------------------------------------------------------------------------------------------
  const details = document.getElementById("details");
  function section(title) { details.appendChild(el("h3", {}, title)); }
  function flowList(list, direction) {
    if (!list.length) { details.appendChild(el("p", { class: "muted" }, "None recorded.")); return; }
    const ul = el("ul", { class: "flows-" + direction });
    list.slice().sort(function (a, b) { return share(b) - share(a); }).forEach(function (f) {
      const otherId = direction === "in" ? f.from : f.to;
      const other = byId.get(otherId);
      const li = el("li");
      const button = el("button", { type: "button" }, other ? other.name : otherId);
      button.addEventListener("click", function () { select(otherId, true); });
      li.appendChild(button);
      let text = ": " + flowText(f);
      if (!f.onPoster) text += " — not on the poster (bundled with its lanes' other flows)";
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
      const tr = el("tr", month === state.month ? { class: "current" } : {});
      tr.appendChild(el("td", {}, month));
      measures.forEach(function (m) {
        const rows = s.months[m].filter(function (row) { return row[0] === month; });
        const record = monthCell(s, m, month);
        tr.appendChild(el("td", {}, record ? record.display : rows.length ? cell(null, rows[0][2]) : "–"));
      });
      table.appendChild(tr);
    });
    const total = el("tr");
    total.appendChild(el("th", {}, "Period"));
    const periodText = {};
    (s.totals || []).forEach(function (t) { periodText[t.measure] = t.display; });
    measures.forEach(function (m) {
      // the period figure as the measure's kind says (summed, mean, recomputed ratio), "≥ … (n of m months
      // suppressed)" when months are missing: computed once by the pipeline, never re-added here
      total.appendChild(el("th", {}, periodText[m] || "–"));
    });
    table.appendChild(total);
    details.appendChild(table);
  }
  function factList(id, facts) {
    const list = el("dl", id ? { id: id } : {});
    facts.forEach(function ([label, value]) {
      if (!value) return;
      list.appendChild(el("dt", {}, label));
      list.appendChild(el("dd", {}, value));
    });
    details.appendChild(list);
  }
  function egoControls(s) {
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
  }
  function renderDetails(s) {
    details.replaceChildren();
    details.classList.remove("hidden");
    const close = el("button", { type: "button", id: "close-details", style: "float:right" }, "×");
    close.addEventListener("click", function () { select(null); });
    details.appendChild(close);
    details.appendChild(el("h2", { id: "d-name" }, (s.initiatives.length ? "★ " : "") + s.name));
    factList("", [["Organisation", s.organisation], ["Sector", s.sector.replace(/_/g, " ")], ["Partner", s.partner],
                  ["Lane", laneLabel.get(s.lane) || s.lane], ["Setting", s.setting], ["Locality", s.locality],
                  ["Client groups", s.clientGroups.join(", ")], ["Status", s.status],
                  ["Improvement work", s.initiatives.join("; ")]]);
    if (s.gaps.length) {
      const ul = el("ul", { id: "d-gaps" });
      s.gaps.forEach(function (gap) { ul.appendChild(el("li", { class: "flag-warn" }, gap.mark + " " + gap.text)); });
      details.appendChild(ul);
    }
    egoControls(s);
    section("Activity by month");
    activityTable(s);
    section("Flows in (who sends demand here)");
    flowList(s.flowsIn, "in");
    section("Flows out (where its demand goes)");
    flowList(s.flowsOut, "out");
    section("Provenance");
    factList("provenance", [["Service id", s.id], ["Service sources", s.sourceIds.join(", ")],
                            ["Activity sources", s.activitySources.join(", ")],
                            ["External ids", s.externalIds.join(", ")]]);
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
        const [cx, cy] = positions.get(id) || byId.get(id).box;
        setView({ x: cx - view.w / 2, y: cy - view.h / 2, w: view.w, h: view.h });
      }
    }
    apply();
  }

  // ---- search: substring first, then words starting so, then letters in order, then one typo --------------
  const search = document.getElementById("search");
  const results = document.getElementById("results");
  function fold(text) { return text.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, ""); }
  function typos(a, b) {  // edit distance, stopping early past 2
    if (Math.abs(a.length - b.length) > 2) return 3;
    let previous = Array.from({ length: b.length + 1 }, function (_, i) { return i; });
    for (let i = 1; i <= a.length; i++) {
      const row = [i];
      for (let j = 1; j <= b.length; j++) {
        row.push(Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
      }
      previous = row;
    }
    return previous[b.length];
  }
  function score(s, q, words) {
    const name = fold(s.name), organisation = fold(s.organisation);
    if (s.id === q) return 0;
    if (name.indexOf(q) === 0) return 1;
    if (name.indexOf(q) >= 0 || organisation.indexOf(q) >= 0) return 2;
    const nameWords = (name + " " + organisation).split(/[^a-z0-9]+/).filter(Boolean);
    if (words.every(function (w) { return nameWords.some(function (n) { return n.indexOf(w) === 0; }); })) return 3;
    let at = 0;
    for (const letter of q.replace(/\s+/g, "")) { at = name.indexOf(letter, at) + 1; if (!at) break; }
    if (at && q.replace(/\s+/g, "").length >= 3) return 4;
    if (words.every(function (w) {
      return w.length >= 4 && nameWords.some(function (n) { return typos(w, n.slice(0, w.length + 1)) <= 1 ||
                                                                   typos(w, n) <= 1; });
    })) return 5;
    return Infinity;
  }
  function matches(query) {
    const q = fold(query.trim());
    if (!q) return { shown: [], total: 0 };
    const words = q.split(/\s+/).filter(Boolean);
    const hits = services.map(function (s) { return { s: s, score: score(s, q, words) }; })
      .filter(function (hit) { return isFinite(hit.score); })
      .sort(function (a, b) { return a.score - b.score || a.s.name.localeCompare(b.s.name); });
    return { shown: hits.slice(0, SHOWN_HITS).map(function (hit) { return hit.s; }), total: hits.length };
  }
  function found(s) {
    results.replaceChildren();
    const [cx, cy] = positions.get(s.id) || s.box;
    setView({ x: cx - 700, y: cy - 450, w: 1400, h: 900 });
    select(s.id);
  }
  search.addEventListener("input", function () {
    results.replaceChildren();
    const hits = matches(search.value);
    hits.shown.forEach(function (s) {
      const li = el("li");
      const button = el("button", { type: "button", "data-id": s.id }, s.name);
      button.appendChild(el("br"));
      button.appendChild(el("small", {}, (laneLabel.get(s.lane) || s.lane) + " · " + s.organisation));
      button.addEventListener("click", function () { found(s); });
      li.appendChild(button);
      results.appendChild(li);
    });
    if (hits.total > hits.shown.length) {
      results.appendChild(el("li", { class: "muted", id: "more-hits" }, "and " + (hits.total - hits.shown.length) +
        " more match" + (hits.total - hits.shown.length > 1 ? "es" : "") + ": type more to narrow the search"));
    }
    if (search.value.trim() && !hits.total) results.appendChild(el("li", { class: "muted" }, "No match."));
  });
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      const first = matches(search.value).shown[0];
      if (first) found(first);
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && state.selected !== null && !state.ego) select(null);
  });

  // ---- the view in the address: a link reopens it ----------------------------------------------------------
  let reading = true;  // until the address has been read: the first drawing must not overwrite it
  function address() {
    const params = new URLSearchParams();
    if (state.lanes.size !== laneIds.length) params.set("lanes", laneIds.filter(function (id) {
      return state.lanes.has(id); }).join(","));
    const sectors = Object.keys(data.sectors);
    if (state.sectors.size !== sectors.length) params.set("sectors", sectors.filter(function (s) {
      return state.sectors.has(s); }).join(","));
    if (state.client) params.set("client", state.client);
    if (state.measure) params.set("measure", state.measure);
    if (state.month) params.set("month", state.month);
    if (state.minShare !== data.minShare) params.set("min", String(state.minShare));
    if (state.selected !== null) params.set("service", state.selected);
    if (state.ego) { params.set("ego", state.egoCentre); params.set("hops", String(state.egoHops)); }
    params.set("view", [view.x, view.y, view.w, view.h].map(function (v) { return v.toFixed(1); }).join(","));
    return "#" + params.toString();
  }
  function writeAddress() {
    if (reading) return;
    try { history.replaceState(null, "", address()); } catch (error) { /* an address that cannot change */ }
  }
  function readAddress() {
    const params = new URLSearchParams(location.hash.slice(1));
    function listed(name, all, chosen, inputs) {
      if (!params.has(name)) return;
      const wanted = new Set(params.get(name).split(",").filter(function (v) { return all.indexOf(v) >= 0; }));
      chosen.clear(); wanted.forEach(function (v) { chosen.add(v); });
      inputs.forEach(function (box) { box.checked = chosen.has(box.value); });
    }
    reading = true;
    listed("lanes", laneIds, state.lanes, boxes.lanes);
    listed("sectors", Object.keys(data.sectors), state.sectors, boxes.sectors);
    if (params.has("client")) { state.client = params.get("client"); clientSelect.value = state.client; }
    if (data.measures.indexOf(params.get("measure")) >= 0) {
      state.measure = params.get("measure"); measureSelect.value = state.measure;
    }
    if (data.months.indexOf(params.get("month")) >= 0) { state.month = params.get("month"); monthSelect.value = state.month; }
    const min = parseFloat(params.get("min"));
    if (isFinite(min) && min >= 0) { state.minShare = min; showShare(); }
    const hops = parseInt(params.get("hops"), 10);
    if (byId.has(params.get("ego"))) {
      showEgo(params.get("ego"), isFinite(hops) ? Math.max(1, Math.min(6, hops)) : 1);
    } else if (byId.has(params.get("service"))) {
      select(params.get("service"));
    }
    const box = (params.get("view") || "").split(",").map(Number);
    if (box.length === 4 && box.every(isFinite) && box[2] > 0 && box[3] > 0) {
      setView({ x: box[0], y: box[1], w: box[2], h: box[3] });
    }
    reading = false;
  }
  const shareLink = document.getElementById("share-link");
  document.getElementById("share").addEventListener("click", function () {
    writeAddress();
    shareLink.value = location.href;
    shareLink.classList.remove("hidden");
    shareLink.select();
  });

  // ---- exports of the current view -------------------------------------------------------------------------
  function download(name, href) {
    const link = el("a", { href: href, download: name });
    document.body.appendChild(link);
    link.click();
    link.remove();
  }
  function viewSvg() {
    const copy = map.cloneNode(true);
    copy.querySelectorAll(".hidden").forEach(function (node) { node.remove(); });
    copy.querySelectorAll(".faded").forEach(function (node) { node.setAttribute("opacity", "0.18"); });
    copy.setAttribute("xmlns", SVGNS);
    copy.setAttribute("width", String(Math.round(view.w)));
    copy.setAttribute("height", String(Math.round(view.h)));
    copy.insertBefore(svg("rect", { x: view.x, y: view.y, width: view.w, height: view.h, fill: "#ffffff" }),
                      copy.firstChild);
    copy.querySelectorAll(".flow").forEach(function (node) { node.setAttribute("fill", "none"); });
    copy.setAttribute("font-family", "DejaVu Sans, Arial, Helvetica, sans-serif");
    return new XMLSerializer().serializeToString(copy);
  }
  function svgHref() { return "data:image/svg+xml;charset=utf-8," + encodeURIComponent(viewSvg()); }
  document.getElementById("export-svg").addEventListener("click", function () { download("map-view.svg", svgHref()); });
  document.getElementById("export-png").addEventListener("click", function () {
    const image = new Image();
    image.onload = function () {
      const scale = Math.min(4, 2400 / Math.max(view.w, view.h)) || 1;
      const canvas = el("canvas", { width: String(Math.round(view.w * scale)),
                                    height: String(Math.round(view.h * scale)) });
      canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
      download("map-view.png", canvas.toDataURL("image/png"));
    };
    image.src = svgHref();
  });
  function csv(rows) {
    return rows.map(function (row) {
      return row.map(function (value) {
        let text = value === null || value === undefined ? "" : String(value);
        if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;  // never read as a formula by a spreadsheet
        return /[",\n\r]/.test(text) ? "\"" + text.replace(/"/g, "\"\"") + "\"" : text;
      }).join(",");
    }).join("\r\n") + "\r\n";
  }
  function csvHref(rows) { return "data:text/csv;charset=utf-8," + encodeURIComponent(csv(rows)); }
  function periodLabel() { return state.month || meta.period; }
  document.getElementById("export-services").addEventListener("click", function () {
    const rows = [["service_id", "name", "organisation", "sector", "lane", "lane_label", "period", "measure",
                   "value", "data_gaps"]];
    services.filter(function (s) { return !serviceNodes.get(s.id).classList.contains("hidden"); })
      .forEach(function (s) {
        const gaps = s.gaps.map(function (gap) { return gap.kind; }).join(";");
        const values = {};
        Object.entries(s.months).forEach(function ([m, list]) {
          list.forEach(function (row) {
            if ((!state.month || row[0] === state.month) && row[1] !== null) values[m] = (values[m] || 0) + row[1];
          });
        });
        const measures = Object.keys(values).sort();
        (measures.length ? measures : [""]).forEach(function (m) {
          rows.push([s.id, s.name, s.organisation, s.sector, s.lane, laneLabel.get(s.lane) || s.lane,
                     periodLabel(), m, m ? values[m] : "", gaps]);
        });
      });
    download("map-services.csv", csvHref(rows));
  });
  document.getElementById("export-flows").addEventListener("click", function () {
    const rows = [["from_service_id", "from_name", "from_lane", "to_service_id", "to_name", "to_lane", "period",
                   "measure", "value", "on_poster"]];
    flows.filter(function (f) { return !flowNodes[f.index].classList.contains("hidden"); }).forEach(function (f) {
      const from = byId.get(f.from), to = byId.get(f.to);
      const values = flowValues(f);
      const measures = withheldHere(f) ? [""] : Object.keys(values).sort();
      measures.forEach(function (m) {
        rows.push([f.from, from ? from.name : "", from ? from.lane : "", f.to, to ? to.name : "", to ? to.lane : "",
                   periodLabel(), m, m ? values[m] : "c", f.onPoster ? "yes" : "no"]);
      });
    });
    download("map-flows.csv", csvHref(rows));
  });

  // ---- print: the visible map, whole, on the page --------------------------------------------------------
  let screenView = null;
  window.addEventListener("beforeprint", function () { screenView = view; fitVisible(); });
  window.addEventListener("afterprint", function () { if (screenView) setView(screenView); screenView = null; });

  setView(view);
  apply();
  readAddress();
  apply();
  document.body.setAttribute("data-ready", "true");
})();
