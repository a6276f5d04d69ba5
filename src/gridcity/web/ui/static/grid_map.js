/* gridcity grid map (/grids): Leaflet with a canvas renderer; one GeoJSON request per layer
 * for the user's data scope (~3,600 unit grids on one canvas, other layers when switched on).
 * No build step and no network access beyond our own server (and the basemap, when one is
 * configured). Every word shown comes translated from the page; text from data enters the DOM
 * as text nodes, never as HTML. Needs map_kit.js. */
(function () {
  "use strict";

  const { readJson, fetchJson, absolute, createMap, textLabel } = window.gridcityMapKit;

  // Choropleth colours (ColorBrewer YlGn and PRGn), light to dark; the diverging ramp has
  // "as nominal" in the middle. Neither uses the blue of boundaries nor the highlight's orange.
  const RAMPS = {
    sequential: ["#ffffcc", "#d9f0a3", "#addd8e", "#78c679", "#31a354", "#006837"],
    diverging: ["#7b3294", "#c2a5cf", "#f7f7f7", "#a6dba0", "#008837"],
  };
  const PLAIN = { color: "#5b6b7a", weight: 0.7, fillColor: "#ffffff", fillOpacity: 0.55 };
  const HIGHLIGHT = { color: "#d9480f", weight: 3 };
  const HIGHLIGHT_FILL = { fillColor: "#ff922b", fillOpacity: 0.45 }; // only when no figure shows
  const NO_DATA = "#d0d4d9";
  const UNCOVERED = { color: "#c92a2a", weight: 1.2, fillColor: "#ff6b6b", fillOpacity: 0.6 };
  // Outlines of the other layers, by kind (none of them the boundaries' blue or the highlight).
  const LAYER_COLOURS = {
    responsibility: "#7048e8",
    social: "#0c8599",
    enforcement: "#c2255c",
    sanitation: "#2b8a3e",
    fire: "#e03131",
  };
  const LAYER_LABEL_ZOOM = 15; // codes of the other layers' cells from here on
  const CODE_ZOOM = 17; // full 15-digit codes from here on
  const SEQUENCE_ZOOM = 16; // the 3-digit sequence from here on
  const COMMUNITY_NAMES = [14.5, 16]; // community names between these zooms
  const MAX_LABELS = 800;

  function setStatus(text) {
    const status = document.getElementById("map-status");
    if (status) status.textContent = text || "";
  }

  // --- the grid map -----------------------------------------------------------------------

  function styleOf(state, code) {
    const style = Object.assign({}, PLAIN);
    const figure = state.figure;
    if (figure) {
      const value = figure.values[code];
      style.fillOpacity = 0.75;
      style.fillColor = value === undefined ? NO_DATA : figure.colours[classOf(figure.classes, value)];
    }
    if (state.uncovered && state.uncovered.has(code)) Object.assign(style, UNCOVERED);
    if (state.highlighted.has(code)) Object.assign(style, HIGHLIGHT, figure ? {} : HIGHLIGHT_FILL);
    return style;
  }

  function classOf(classes, value) {
    for (let i = 0; i < classes.length; i += 1) {
      if (classes[i].upper === null || value <= classes[i].upper) return i;
    }
    return classes.length - 1;
  }

  function coloursFor(kind, count) {
    const ramp = RAMPS[kind] || RAMPS.sequential;
    if (kind === "diverging" || count >= ramp.length) return ramp.slice(0, count);
    // Spread a short sequence over the whole ramp so that classes stay easy to tell apart.
    return Array.from({ length: count }, function (_, i) {
      return ramp[Math.round((i * (ramp.length - 1)) / Math.max(count - 1, 1))];
    });
  }

  function tooltipContent(state, props) {
    const box = document.createElement("div");
    const code = document.createElement("strong");
    code.className = "mono";
    code.textContent = props.code;
    box.appendChild(code);
    if (props.name) box.appendChild(document.createTextNode(" " + props.name));
    const community = state.communities[props.code.slice(0, 12)];
    if (community) {
      const row = document.createElement("div");
      row.textContent = community;
      box.appendChild(row);
    }
    const figure = state.figure;
    if (figure && figure.values[props.code] !== undefined) {
      const row = document.createElement("div");
      const key = document.createElement("span");
      key.className = "map-tip-key";
      key.textContent = figure.label + " ";
      row.appendChild(key);
      row.appendChild(document.createTextNode(figure.values[props.code].toLocaleString()));
      box.appendChild(row);
    }
    return box;
  }

  function buildGrids(state, data) {
    return L.geoJSON(data, {
      renderer: state.renderer,
      style: function (feature) {
        return styleOf(state, feature.properties.code);
      },
      onEachFeature: function (feature, layer) {
        const props = feature.properties;
        state.byCode[props.code] = layer;
        layer.bindTooltip(function () {
          return tooltipContent(state, props);
        }, { sticky: true, className: "map-tip" });
        layer.on("mouseover", function () {
          if (!state.highlighted.has(props.code)) layer.setStyle({ weight: 2, color: "#1f2933" });
        });
        layer.on("mouseout", function () {
          layer.setStyle(styleOf(state, props.code));
        });
        layer.on("click", function () {
          highlight(state, [props.code]);
          showDetail(state, props.code);
        });
      },
    });
  }

  function restyle(state, codes) {
    (codes || Object.keys(state.byCode)).forEach(function (code) {
      const layer = state.byCode[code];
      if (layer) layer.setStyle(styleOf(state, code));
    });
  }

  function highlight(state, codes) {
    const before = Array.from(state.highlighted);
    state.highlighted = new Set(codes);
    restyle(state, before.concat(codes));
    codes.forEach(function (code) {
      if (state.byCode[code]) state.byCode[code].bringToFront();
    });
  }

  function showDetail(state, code) {
    const url = state.config.detail.replace("{code}", encodeURIComponent(code));
    if (window.htmx) window.htmx.ajax("GET", url, { target: "#grid-panel", swap: "innerHTML" });
    const here = new URL(window.location.href);
    here.searchParams.set("code", code);
    window.history.replaceState(window.history.state, "", here.toString());
  }

  // A search answered (on load or from the search box): highlight what it found and zoom there.
  function showFound(state, found) {
    if (!found || !found.query) return;
    let codes = (found.codes || []).filter(function (code) {
      return state.byCode[code];
    });
    if (/^[0-9]+$/.test(found.query) && !found.exact) {
      // A code prefix: every loaded grid under it, not only the listed first matches.
      codes = Object.keys(state.byCode).filter(function (code) {
        return code.startsWith(found.query);
      });
    }
    highlight(state, codes);
    if (!codes.length) {
      setStatus(state.config.text.notOnMap);
      return;
    }
    setStatus("");
    const bounds = L.latLngBounds([]);
    codes.forEach(function (code) {
      bounds.extend(state.byCode[code].getBounds());
    });
    state.map.fitBounds(bounds, { padding: [40, 40], maxZoom: 17, animate: false });
  }

  function legendControl(state) {
    const control = L.control({ position: "bottomright" });
    control.onAdd = function () {
      const box = L.DomUtil.create("div", "grid-legend");
      box.setAttribute("data-testid", "grid-legend");
      L.DomEvent.disableClickPropagation(box);
      state.legendBox = box;
      return box;
    };
    return control;
  }

  function drawLegend(state) {
    const box = state.legendBox;
    if (!box) return;
    box.replaceChildren();
    const figure = state.figure;
    box.hidden = !figure;
    if (!figure) return;
    const title = document.createElement("strong");
    title.textContent = figure.label;
    box.appendChild(title);
    figure.classes.forEach(function (item, i) {
      const row = document.createElement("div");
      const swatch = document.createElement("i");
      swatch.style.background = figure.colours[i];
      row.appendChild(swatch);
      row.appendChild(document.createTextNode(item.label));
      box.appendChild(row);
    });
  }

  async function chooseFigure(state, key) {
    if (!key) {
      state.figure = null;
    } else {
      const data = await fetchJson(absolute(state.config.figures, { figure: key }));
      state.figure = {
        label: data.label,
        classes: data.classes,
        values: data.values,
        colours: coloursFor(data.kind, data.classes.length),
      };
    }
    restyle(state);
    drawLegend(state);
  }

  // Labels of what is in view, kept by key so that panning adds and removes only the ones that
  // enter or leave the view (a removed tooltip fades out: re-adding all of them would flicker).
  function updateLabels(state) {
    const map = state.map;
    const zoom = map.getZoom();
    const wanted = new Map();
    if (map.hasLayer(state.labels)) {
      const view = map.getBounds();
      if (state.communityLayer && zoom >= COMMUNITY_NAMES[0] && zoom < COMMUNITY_NAMES[1]) {
        state.communityLayer.eachLayer(function (layer) {
          if (view.intersects(layer.getBounds())) {
            wanted.set("c" + layer.feature.properties.code, function () {
              return textLabel(layer.getCenter(), layer.feature.properties.name, "map-label grid-label-community");
            });
          }
        });
      }
      if (zoom >= LAYER_LABEL_ZOOM) {
        state.others.forEach(function (other) {
          if (!other.cells || !map.hasLayer(other.layer)) return;
          other.cells.eachLayer(function (cell) {
            const props = cell.feature.properties;
            if (!view.intersects(cell.getBounds())) return;
            wanted.set("l" + other.code + ":" + props.code, function () {
              return textLabel(cell.getCenter(), [props.code, props.name], "map-label grid-label-layer grid-label-" + other.kind);
            });
          });
        });
      }
      if (zoom >= SEQUENCE_ZOOM && map.hasLayer(state.gridLayer)) {
        const full = zoom >= CODE_ZOOM;
        for (const [code, layer] of Object.entries(state.byCode)) {
          if (wanted.size >= MAX_LABELS) break;
          if (!view.intersects(layer.getBounds())) continue;
          if (!layer.gcCenter) layer.gcCenter = layer.getCenter();
          if (!view.contains(layer.gcCenter)) continue;
          wanted.set((full ? "g" : "s") + code, function () {
            return textLabel(layer.gcCenter, full ? code : code.slice(12), "map-label grid-label");
          });
        }
      }
    }
    state.shownLabels.forEach(function (label, key) {
      if (!wanted.has(key)) {
        state.labels.removeLayer(label);
        state.shownLabels.delete(key);
      }
    });
    wanted.forEach(function (make, key) {
      if (!state.shownLabels.has(key)) {
        const label = make();
        state.labels.addLayer(label);
        state.shownLabels.set(key, label);
      }
    });
  }

  // Another layer: an empty group in the switcher, filled from its source when first shown.
  function otherLayer(state, spec) {
    const other = { code: spec.code, kind: spec.kind, layer: L.featureGroup(), cells: null, loaded: false };
    other.layer.on("add", async function () {
      if (other.loaded) return;
      other.loaded = true;
      try {
        const data = await fetchJson(spec.source);
        other.cells = L.geoJSON(data, {
          renderer: state.renderer,
          interactive: false,
          style: { color: LAYER_COLOURS[spec.kind] || "#495057", weight: 2.5, dashArray: "6 4", fill: false },
        }).addTo(other.layer);
        updateLabels(state);
      } catch (error) {
        other.loaded = false;
        setStatus(state.config.text.failed);
      }
    });
    return other;
  }

  async function showUncovered(state, on) {
    if (!on) {
      const before = Array.from(state.uncovered || []);
      state.uncovered = null;
      restyle(state, before);
      setStatus("");
      return;
    }
    const data = await fetchJson(absolute(state.config.uncovered, { format: "json" }));
    state.uncovered = new Set(data.grids);
    restyle(state, data.grids);
    setStatus(state.config.text.uncovered.replace("%(n)s", String(data.count)));
  }

  async function startGridMap(config) {
    const map = createMap("grid-map", config.basemap);
    const state = {
      config: config,
      map: map,
      renderer: L.canvas({ padding: 0.3 }),
      byCode: {},
      communities: {},
      highlighted: new Set(),
      figure: null,
      labels: L.layerGroup(),
      shownLabels: new Map(),
      others: [],
      uncovered: null,
    };
    window.gridcityGridMap = state; // for end-to-end tests and the browser console
    setStatus(config.text.loading);
    let grids;
    let communities = null;
    try {
      [grids, communities] = await Promise.all([
        fetchJson(config.layers[0].source),
        config.divisions ? fetchJson(config.divisions).catch(function () { return null; }) : null,
      ]);
    } catch (error) {
      setStatus(config.text.failed);
      throw error;
    }
    state.gridLayer = buildGrids(state, grids).addTo(map);
    const overlays = {};
    overlays[config.layers[0].name] = state.gridLayer;
    if (communities) {
      communities.features.forEach(function (f) {
        state.communities[f.properties.code] = f.properties.name;
      });
      state.communityLayer = L.geoJSON(communities, {
        renderer: state.renderer,
        interactive: false,
        style: { color: "#0b5cab", weight: 2, fill: false },
      }).addTo(map);
      overlays[config.text.communities] = state.communityLayer;
    }
    config.layers.slice(1).forEach(function (spec) {
      const other = otherLayer(state, spec);
      state.others.push(other);
      overlays[spec.name] = other.layer;
    });
    overlays[config.text.labels] = state.labels.addTo(map);
    L.control.layers(null, overlays, { collapsed: false }).addTo(map);
    legendControl(state).addTo(map);
    drawLegend(state);
    map.on("moveend zoomend overlayadd overlayremove", function () {
      updateLabels(state);
    });
    if (grids.features.length) {
      map.fitBounds(state.gridLayer.getBounds(), { padding: [20, 20], animate: false });
      setStatus("");
    } else {
      setStatus(config.text.empty);
    }
    showFound(state, config.found);
    updateLabels(state);
    document.body.addEventListener(config.searchEvent, function (event) {
      showFound(state, event.detail);
    });
    const select = document.getElementById("grid-figure");
    if (select) {
      select.addEventListener("change", function () {
        chooseFigure(state, select.value).catch(function () {
          setStatus(config.text.failed);
        });
      });
      if (select.value) chooseFigure(state, select.value);
    }
    const toggle = document.getElementById("grid-uncovered");
    if (toggle) {
      toggle.addEventListener("change", function () {
        showUncovered(state, toggle.checked).catch(function () {
          toggle.checked = false;
          setStatus(config.text.failed);
        });
      });
      if (toggle.checked) showUncovered(state, true);
    }
    state.ready = true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    const config = readJson("grid-map-config");
    if (config) startGridMap(config);
  });
})();
