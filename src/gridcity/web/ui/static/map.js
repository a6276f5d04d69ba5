/* gridcity map page: the division boundaries in the user's data scope, drawn with Leaflet.
 * No build step and no network access beyond our own server (and the basemap, when one is
 * configured). Every word shown comes translated from the page (#map-config). */
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
        layer.on("click", function () {
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
    const state = { map: map, byCode: {}, names: {}, focused: null };
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
    L.control.layers(null, overlays, { collapsed: false }).addTo(map);
    L.control.scale({ imperial: false }).addTo(map);
    const found = fitAll(map, layers);
    setStatus(found ? "" : config.text.empty);
    if (config.focus) focusOn(state, config.focus, false);
    window.gridcityMap = state; // for end-to-end tests and the browser console
  }

  document.addEventListener("DOMContentLoaded", start);
})();
