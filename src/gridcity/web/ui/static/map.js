/* gridcity map page: the division boundaries in the user's data scope, drawn with Leaflet, and
 * the component layer (部件, from component_picker.js) with its filter panel and details.
 * No build step and no network access beyond our own server (and the basemap, when one is
 * configured). Every word shown comes translated from the page (#map-config); text from data
 * enters the DOM as text nodes, never as HTML. */
(function () {
  "use strict";

  // Soft, distinct fills so that neighbouring subdistricts can be told apart without a basemap.
  const PALETTE = [
    "#8ecae6", "#ffb703", "#90be6d", "#f4a261", "#b5a3e0", "#f28482", "#84a59d", "#e9c46a",
    "#a2d2ff", "#cdb4db", "#95d5b2", "#ffc8dd", "#bde0fe", "#f6bd60", "#a3b18a", "#e5989b",
    "#9bc1bc",
  ];
  const HIGHLIGHT = { color: "#d9480f", weight: 4, fillColor: "#ff922b", fillOpacity: 0.45 };
  const DETAIL_ZOOM = 15; // community names appear from this zoom on
  const PANES = { subdistrict: 410, community: 420, district: 430 };

  function readConfig() {
    return JSON.parse(document.getElementById("map-config").textContent);
  }

  function setStatus(text) {
    const status = document.getElementById("map-status");
    if (status) status.textContent = text || "";
  }

  function formatArea(m2) {
    const km2 = (m2 || 0) / 1e6;
    return km2 >= 1 ? km2.toFixed(2) : km2.toFixed(3);
  }

  function line(label, value) {
    const row = document.createElement("div");
    const key = document.createElement("span");
    key.className = "map-tip-key";
    key.textContent = label + " ";
    row.appendChild(key);
    row.appendChild(document.createTextNode(value));
    return row;
  }

  // Built from DOM nodes, never from HTML strings: division names are user input.
  function tooltipContent(props, text, names) {
    const box = document.createElement("div");
    const title = document.createElement("strong");
    title.textContent = props.name;
    box.appendChild(title);
    const parent = names[props.code.slice(0, props.code.length - 3)];
    if (props.level !== "district" && parent) {
      box.appendChild(document.createTextNode(" · " + parent));
    }
    box.appendChild(line(text[props.level] + " · " + text.code, props.code));
    box.appendChild(line(text.area, formatArea(props.area_m2)));
    return box;
  }

  function styleFor(level, index, hasBasemap) {
    if (level === "district") {
      return { color: "#0b3d91", weight: 3.5, fill: false };
    }
    if (level === "subdistrict") {
      return {
        color: "#0b5cab",
        weight: 2.5,
        fillColor: PALETTE[index % PALETTE.length],
        fillOpacity: hasBasemap ? 0.2 : 0.45,
      };
    }
    return { color: "#4a5866", weight: 0.8, fillColor: "#ffffff", fillOpacity: 0 };
  }

  function sourceUrl(source, level) {
    const url = new URL(source, window.location.origin);
    url.searchParams.set("level", level);
    return url.toString();
  }

  async function fetchLevel(source, level) {
    const response = await fetch(sourceUrl(source, level), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(level + ": HTTP " + response.status);
    return response.json();
  }

  function createMap(config) {
    const map = L.map("map", { zoomSnap: 0.25, zoomDelta: 0.5 }).setView([39.92, 116.41], 12);
    Object.entries(PANES).forEach(function ([name, zIndex]) {
      map.createPane(name).style.zIndex = String(zIndex);
    });
    map.getPane("district").style.pointerEvents = "none";
    if (config.basemap) {
      L.tileLayer(config.basemap.url, {
        attribution: config.basemap.attribution || "",
        maxZoom: 19,
      }).addTo(map);
    }
    return map;
  }

  function buildLayer(level, data, config, state) {
    const styles = {};
    data.features.forEach(function (feature, index) {
      styles[feature.properties.code] = styleFor(level, index, Boolean(config.basemap));
    });
    return L.geoJSON(data, {
      pane: level,
      interactive: level !== "district",
      style: function (feature) {
        return styles[feature.properties.code];
      },
      onEachFeature: function (feature, layer) {
        const props = feature.properties;
        layer.gcLevel = level;
        layer.gcStyle = styles[props.code];
        state.byCode[props.code] = layer;
        if (level === "district") return;
        layer.bindTooltip(function () {
          return tooltipContent(props, config.text, state.names);
        }, { sticky: true, className: "map-tip" });
        layer.on("mouseover", function () {
          if (layer !== state.focused) layer.setStyle({ weight: layer.gcStyle.weight + 2 });
        });
        layer.on("mouseout", function () {
          if (layer !== state.focused) layer.setStyle(layer.gcStyle);
        });
        layer.on("click", function (event) {
          // A click on a component (drawn above the boundaries) is the component's, not ours.
          if (state.components && state.components.hit(event.latlng)) return;
          focusOn(state, props.code, true);
        });
      },
    });
  }

  function addLabels(map, layers, state) {
    const group = L.layerGroup();
    ["subdistrict", "community"].forEach(function (level) {
      if (!layers[level]) return;
      layers[level].eachLayer(function (layer) {
        const tip = L.tooltip({
          permanent: true,
          direction: "center",
          interactive: false,
          className: "map-label map-label-" + level,
        });
        tip.setLatLng(layer.getCenter()).setContent(document.createTextNode(layer.feature.properties.name));
        group.addLayer(tip);
      });
    });
    group.addTo(map);
    const container = map.getContainer();
    const toggleDetail = function () {
      container.classList.toggle("map-detail", map.getZoom() >= DETAIL_ZOOM);
    };
    map.on("zoomend", toggleDetail);
    toggleDetail();
    return group;
  }

  function focusOn(state, code, fromClick) {
    const layer = state.byCode[code];
    if (!layer) return false;
    if (state.focused && state.focused !== layer) state.focused.setStyle(state.focused.gcStyle);
    state.focused = layer;
    layer.setStyle(Object.assign({}, HIGHLIGHT, layer.gcLevel === "district" ? { fill: false } : {}));
    if (layer.bringToFront) layer.bringToFront();
    // Animate only on a click: a zoom animation in progress would swallow the first fit.
    state.map.fitBounds(layer.getBounds(), {
      padding: [40, 40],
      maxZoom: 16,
      animate: Boolean(fromClick),
    });
    if (layer.getTooltip()) layer.openTooltip(layer.getBounds().getCenter());
    if (fromClick) {
      const url = new URL(window.location.href);
      url.searchParams.set("focus", code);
      window.history.replaceState(null, "", url.toString());
    }
    return true;
  }

  function fitAll(map, layers) {
    // The most detailed level in scope: a supervisor sees the district outline for context
    // but should start on their own subdistrict.
    for (const level of ["community", "subdistrict", "district"]) {
      const layer = layers[level];
      if (layer && layer.getLayers().length) {
        map.fitBounds(layer.getBounds(), { padding: [20, 20], animate: false });
        return true;
      }
    }
    return false;
  }

  async function start() {
    const config = readConfig();
    const map = createMap(config);
    const state = { map: map, byCode: {}, names: {}, focused: null, components: null };
    if (config.components && window.gridcityComponents) {
      state.components = startComponents(map, config);
    }
    window.gridcityMap = state; // for end-to-end tests and the browser console
    setStatus(config.text.loading);
    let collections;
    try {
      collections = await Promise.all(
        config.levels.map(function (level) {
          return fetchLevel(config.source, level);
        })
      );
    } catch (error) {
      setStatus(config.text.failed);
      throw error;
    }
    collections.forEach(function (data) {
      data.features.forEach(function (f) {
        state.names[f.properties.code] = f.properties.name;
      });
    });
    const layers = {};
    const overlays = {};
    config.levels.forEach(function (level, i) {
      layers[level] = buildLayer(level, collections[i], config, state).addTo(map);
      overlays[config.text[level]] = layers[level];
    });
    overlays[config.text.labels] = addLabels(map, layers, state);
    if (state.components) overlays[config.text.components] = state.components;
    L.control.layers(null, overlays, { collapsed: false }).addTo(map);
    L.control.scale({ imperial: false }).addTo(map);
    const found = fitAll(map, layers);
    setStatus(found ? "" : config.text.empty);
    if (config.focus) focusOn(state, config.focus, false);
    state.ready = true;
  }

  // --- the component layer ------------------------------------------------------------------

  function format(template, params) {
    return template.replace(/%\((\w+)\)s/g, function (_m, name) {
      return String(params[name]);
    });
  }

  function componentStatus(text) {
    const status = document.getElementById("component-status");
    if (status) status.textContent = text || "";
  }

  function chosenFilter() {
    const classes = Array.from(document.getElementById("component-class").selectedOptions).map(function (o) {
      return o.value;
    });
    const states = Array.from(document.querySelectorAll("#component-filter input[name=state]:checked")).map(function (i) {
      return i.value;
    });
    // No state ticked shows nothing (the layer asks for no tile), not the default states.
    return {
      classes: classes,
      states: states,
      department: document.getElementById("component-department").value,
    };
  }

  // The class list narrows as one types a code, a part of the name or the pinyin initials.
  function searchClasses(query) {
    const q = query.trim().toLowerCase();
    document.querySelectorAll("#component-class optgroup").forEach(function (group) {
      let visible = 0;
      group.querySelectorAll("option").forEach(function (option) {
        const hit =
          !q ||
          option.value.startsWith(q) ||
          option.dataset.name.toLowerCase().includes(q) ||
          option.dataset.initials.includes(q);
        option.hidden = !hit;
        if (hit) visible += 1;
      });
      group.hidden = visible === 0;
    });
  }

  function startComponents(map, config) {
    const setup = config.components;
    const text = config.text;
    map.createPane("components").style.zIndex = "450";
    map.getPane("components").style.pointerEvents = "none"; // clicks are hit-tested instead
    // The page uses the same picker as the case form will: a click on a component shows it.
    const picker = window.gridcityComponents.pick(
      map,
      function (component) {
        showComponent(component, text);
      },
      {
        urls: setup,
        crs: setup.crs,
        pane: "components",
        filter: chosenFilter(),
        nearby: false, // a click beside the components is the boundaries' (zoom to a division)
        onStart: function (item) {
          startDetail(item.identifier, text);
        },
      }
    );
    const layer = picker.layer;
    layer.on("loading", function () {
      componentStatus(text.loadingComponents);
    });
    layer.on("componentsidle", function () {
      componentStatus("");
    });
    layer.on("componenterror", function () {
      componentStatus(text.componentsFailed);
    });
    document.querySelectorAll(".component-panel .swatch").forEach(function (swatch) {
      swatch.style.background = window.gridcityComponents.STATE_COLOURS[swatch.dataset.state];
    });
    let timer = null;
    const refilter = function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        picker.setFilter(chosenFilter());
      }, 200);
    };
    const form = document.getElementById("component-filter");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
    });
    form.addEventListener("change", refilter);
    document.getElementById("component-class-search").addEventListener("input", function (event) {
      searchClasses(event.target.value);
    });
    document.getElementById("component-class-clear").addEventListener("click", function () {
      document.querySelectorAll("#component-class option").forEach(function (option) {
        option.selected = false;
      });
      document.getElementById("component-class-search").value = "";
      searchClasses("");
      refilter();
    });
    return layer;
  }

  function term(list, label, value) {
    if (value === null || value === undefined || value === "") return;
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = String(value);
    list.appendChild(dt);
    list.appendChild(dd);
  }

  function departmentName(value) {
    return value && typeof value === "object" ? value.name : value;
  }

  function detailList(c, text) {
    const list = document.createElement("dl");
    term(list, text.identifier, c.identifier);
    term(list, text.class, [c.class_code, c.class_name].filter(Boolean).join(" "));
    term(list, text.state, c.state_name || c.state);
    term(list, text.competent, departmentName(c.competent_department));
    term(list, text.owner, departmentName(c.owner_department));
    term(list, text.maintainer, departmentName(c.maintainer_department));
    term(list, text.grid, c.grid_code);
    term(list, text.community, c.community_code);
    term(list, text.census_date, c.census_date);
    term(list, text.changed_on, c.changed_on);
    term(list, text.data_source, c.data_source);
    term(list, text.accuracy, c.accuracy);
    term(list, text.position_text, c.position_text);
    if (typeof c.lon === "number" && typeof c.lat === "number") {
      term(list, text.lonlat, c.lon.toFixed(6) + ", " + c.lat.toFixed(6));
    }
    term(list, text.note, c.note);
    Object.entries(c.attributes || {}).forEach(function ([name, value]) {
      term(list, name, value);
    });
    term(list, text.version, c.version);
    term(list, text.updated_at, c.updated_at ? new Date(c.updated_at).toLocaleString() : "");
    return list;
  }

  function historyList(history, text) {
    const entries = Array.isArray(history) ? history : (history && history.items) || [];
    if (!entries.length) {
      const none = document.createElement("p");
      none.className = "muted small";
      none.textContent = text.noHistory;
      return none;
    }
    const list = document.createElement("ol");
    list.className = "component-history";
    list.dataset.testid = "component-history";
    entries.forEach(function (entry) {
      const item = document.createElement("li");
      const head = document.createElement("div");
      const when = entry.changed_at ? new Date(entry.changed_at).toLocaleString() : "";
      const action = text["action_" + entry.action] || entry.action;
      head.textContent = ["v" + entry.version, action, when, entry.actor_name].filter(Boolean).join(" · ");
      item.appendChild(head);
      if (entry.reason) {
        const reason = document.createElement("div");
        reason.className = "muted small";
        reason.textContent = entry.reason;
        item.appendChild(reason);
      }
      Object.entries(entry.changes || {}).forEach(function ([field, pair]) {
        const change = document.createElement("div");
        change.className = "small";
        const values = Array.isArray(pair) ? pair : [null, pair];
        const shown = values.map(function (v) {
          return v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v);
        });
        change.textContent = (text[field] || field) + ": " + shown[0] + " → " + shown[1];
        item.appendChild(change);
      });
      list.appendChild(item);
    });
    return list;
  }

  function startDetail(identifier, text) {
    const panel = document.getElementById("component-detail");
    if (!panel) return;
    panel.hidden = false;
    panel.dataset.identifier = identifier;
    panel.replaceChildren(document.createTextNode(text.loadingDetails));
  }

  function showComponent(found, text) {
    const panel = document.getElementById("component-detail");
    if (!panel || panel.dataset.identifier !== found.identifier) return; // a later click won
    const close = document.createElement("button");
    close.type = "button";
    close.className = "link";
    close.textContent = text.close;
    close.addEventListener("click", function () {
      panel.hidden = true;
    });
    if (!found.details) {
      const reason = found.error ? found.error.message : "";
      const failed = document.createElement("p");
      failed.dataset.testid = "component-detail-failed";
      failed.textContent = format(text.detailsFailed, { reason: reason });
      panel.replaceChildren(failed, close);
      return;
    }
    const title = document.createElement("h3");
    title.dataset.testid = "component-title";
    title.textContent = found.details.name || found.identifier;
    const historyTitle = document.createElement("h3");
    historyTitle.textContent = text.history;
    const history = found.history
      ? historyList(found.history, text)
      : document.createTextNode(text.historyFailed);
    panel.replaceChildren(title, detailList(found.details, text), historyTitle, history, close);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
