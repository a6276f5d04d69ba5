/* gridcity layer drawing (/admin/layers/{code}): put unit grids into the cells of a layer made
 * of whole unit grids (a responsibility grid) by clicking them on the map, then save the whole
 * drawing through the layer service. The server checks every rule and answers the refusal to
 * show. Codes and names enter the DOM as text, never as HTML. Needs map_kit.js. */
(function () {
  "use strict";

  const { readJson, fetchJson, createMap } = window.gridcityMapKit;
  const PALETTE = ["#4dabf7", "#ff922b", "#69db7c", "#da77f2", "#ffd43b", "#38d9a9",
    "#f783ac", "#a9e34b", "#748ffc", "#ffa8a8", "#3bc9db", "#e599f7"];
  const FREE = { color: "#5b6b7a", weight: 0.7, fillColor: "#ffffff", fillOpacity: 0.5 };

  function byId(id) {
    return document.getElementById(id);
  }

  function fill(text, values) {
    return Object.entries(values).reduce(function (out, [key, value]) {
      return out.replace("%(" + key + ")s", String(value));
    }, text);
  }

  function cellLabel(state, cell) {
    return cell.code || fill(state.text.newCell, { division: cell.division });
  }

  function styleOf(state, code) {
    const index = state.owner.get(code);
    if (index === undefined) return FREE;
    const current = index === state.current;
    return {
      color: current ? "#1f2933" : "#495057",
      weight: current ? 2.4 : 0.9,
      fillColor: PALETTE[index % PALETTE.length],
      fillOpacity: current ? 0.8 : 0.6,
    };
  }

  function restyle(state) {
    state.grids.forEach(function (layer, code) {
      layer.setStyle(styleOf(state, code));
    });
  }

  function rebuildOwners(state) {
    state.owner = new Map();
    state.cells.forEach(function (cell, index) {
      cell.grids.forEach(function (code) {
        state.owner.set(code, index);
      });
    });
  }

  function setStatus(state, text) {
    byId("draw-status").textContent = text || "";
  }

  function showError(text) {
    const box = byId("draw-error");
    box.textContent = text || "";
    box.hidden = !text;
  }

  // The picker, the name box and the list of cells, all from the state.
  function render(state) {
    const picker = byId("draw-cell");
    picker.replaceChildren();
    state.cells.forEach(function (cell, index) {
      const option = document.createElement("option");
      option.value = String(index);
      option.textContent = cellLabel(state, cell) + (cell.name ? " · " + cell.name : "");
      picker.appendChild(option);
    });
    picker.value = state.current >= 0 ? String(state.current) : "";
    const current = state.cells[state.current];
    byId("draw-name").value = current ? current.name : "";
    byId("draw-name").disabled = !current;
    byId("draw-remove").disabled = !current;
    const list = byId("draw-cells");
    list.replaceChildren();
    if (!state.cells.length) {
      const empty = document.createElement("li");
      empty.className = "muted";
      empty.textContent = state.text.noCells;
      list.appendChild(empty);
    }
    state.cells.forEach(function (cell, index) {
      const item = document.createElement("li");
      item.setAttribute("data-testid", "draw-cell-" + index);
      if (index === state.current) item.className = "current";
      const swatch = document.createElement("i");
      swatch.style.background = PALETTE[index % PALETTE.length];
      const code = document.createElement("span");
      code.className = "mono";
      code.textContent = cellLabel(state, cell);
      item.append(swatch, code, document.createTextNode(" " + (cell.name || "") + " · " +
        fill(state.text.grids, { n: cell.grids.size })));
      if (cell.code && state.stale.has(cell.code)) {
        const badge = document.createElement("span");
        badge.className = "badge bad";
        badge.textContent = state.text.stale;
        item.appendChild(badge);
      }
      if (cell.gone.length) {
        const note = document.createElement("div");
        note.className = "small muted";
        note.textContent = fill(state.text.gone, { n: cell.gone.length }) + ": " + cell.gone.join(", ");
        item.appendChild(note);
      }
      item.addEventListener("click", function () {
        choose(state, index);
      });
      list.appendChild(item);
    });
    restyle(state);
  }

  function choose(state, index) {
    state.current = index;
    render(state);
  }

  function toggle(state, code) {
    const cell = state.cells[state.current];
    if (!cell) {
      setStatus(state, state.text.chooseCell);
      return;
    }
    setStatus(state, "");
    const owner = state.owner.get(code);
    if (owner === state.current) {
      cell.grids.delete(code);
      state.owner.delete(code);
    } else {
      if (owner !== undefined) state.cells[owner].grids.delete(code);
      cell.grids.add(code);
      state.owner.set(code, state.current);
    }
    render(state);
  }

  async function save(state) {
    showError("");
    setStatus(state, state.text.saving);
    const drawing = {
      valid_from: byId("draw-valid-from").value || "",
      cells: state.cells.map(function (cell) {
        return {
          code: cell.code,
          division: cell.code ? null : cell.division,
          name: cell.name,
          grids: Array.from(cell.grids).sort(),
        };
      }),
    };
    const token = document.querySelector("#draw-form input[name=csrf_token]").value;
    const response = await fetch(state.config.save, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": token },
      body: new URLSearchParams({ drawing: JSON.stringify(drawing) }),
    });
    const data = await response.json().catch(function () {
      return {};
    });
    setStatus(state, "");
    if (!response.ok) {
      showError(state.text.saveFailed + ": " + (data.message || "HTTP " + response.status));
      return;
    }
    window.location.assign(data.redirect);
  }

  async function start(config) {
    const map = createMap("layer-map", config.basemap);
    const state = {
      config: config,
      text: config.text,
      map: map,
      grids: new Map(),
      cells: [],
      owner: new Map(),
      current: -1,
      stale: new Set(config.stale),
      ready: false,
    };
    window.gridcityLayerDraw = state; // for end-to-end tests and the browser console
    setStatus(state, config.text.loading);
    let data;
    try {
      data = await fetchJson(config.grids);
    } catch (error) {
      setStatus(state, config.text.failed);
      throw error;
    }
    const shown = L.geoJSON(data, {
      renderer: L.canvas({ padding: 0.3 }),
      style: function (feature) {
        return styleOf(state, feature.properties.code);
      },
      onEachFeature: function (feature, layer) {
        const code = feature.properties.code;
        state.grids.set(code, layer);
        layer.bindTooltip(function () {
          const owner = state.cells[state.owner.get(code)];
          return document.createTextNode(code + (owner ? " · " + cellLabel(state, owner) : ""));
        }, { sticky: true });
        layer.on("click", function () {
          toggle(state, code);
        });
      },
    }).addTo(map);
    state.cells = config.cells.map(function (cell) {
      return {
        code: cell.code,
        division: cell.division,
        name: cell.name,
        grids: new Set(cell.grids.filter(function (code) {
          return state.grids.has(code);
        })),
        gone: cell.grids.filter(function (code) {
          return !state.grids.has(code);
        }),
      };
    });
    state.current = state.cells.length ? 0 : -1;
    rebuildOwners(state);
    byId("draw-cell").addEventListener("change", function (event) {
      choose(state, Number(event.target.value));
    });
    byId("draw-name").addEventListener("input", function (event) {
      const cell = state.cells[state.current];
      if (cell) cell.name = event.target.value;
    });
    byId("draw-name").addEventListener("change", function () {
      render(state);
    });
    byId("draw-new").addEventListener("click", function () {
      const division = byId("draw-division").value;
      if (!division) return;
      state.cells.push({ code: null, division: division, name: "", grids: new Set(), gone: [] });
      choose(state, state.cells.length - 1);
    });
    byId("draw-remove").addEventListener("click", function () {
      if (state.current < 0) return;
      state.cells.splice(state.current, 1);
      state.current = Math.min(state.current, state.cells.length - 1);
      rebuildOwners(state);
      render(state);
    });
    byId("draw-save").addEventListener("click", function () {
      save(state).catch(function (error) {
        setStatus(state, "");
        showError(state.text.saveFailed + ": " + error.message);
      });
    });
    render(state);
    if (data.features.length) {
      map.fitBounds(shown.getBounds(), { padding: [16, 16], animate: false });
      setStatus(state, "");
    } else {
      setStatus(state, config.text.empty);
    }
    state.ready = true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    const config = readJson("layer-draw-config");
    if (config) start(config);
  });
})();
