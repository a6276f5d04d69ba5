/* gridcity component layer (部件图层) and the "pick a component on the map" widget.
 *
 * ComponentLayer is a Leaflet GridLayer whose tiles are canvases: each tile asks
 * /api/v1/components/tiles/{z}/{x}/{y} for its clusters (sized circles with counts, a ring
 * coloured by the share of each state) or its points (dots coloured by state). A tile also
 * draws what its eight neighbours hold near their edges, so circles are never cut at a tile
 * border. Click a cluster: the map zooms in; click a point: the layer fires "componentclick".
 *
 * gridcityComponents.pick(map, callback, options) shows the layer on any Leaflet map and calls
 * back with {identifier, class_code, state, lon, lat, details} for the component clicked (or
 * chosen from the list of nearby ones when the click hit none). See docs/component-map.md.
 *
 * No build step; text from data enters the DOM as text nodes, never as HTML. Needs Leaflet. */
(function () {
  "use strict";

  const STATE_COLOURS = {
    intact: "#2f9e44",
    damaged: "#e8590c",
    lost: "#c2255c",
    occupied: "#1971c2",
    abandoned: "#868e96",
    removed: "#212529",
  };
  const CLUSTER_FILL = "rgba(255, 255, 255, 0.92)";
  const NEAR_ZOOM = 16; // a click on nothing lists the nearby components from this zoom on
  const DEFAULT_TEXT = {
    nearby: "Components nearby",
    noneNearby: "No component within %(m)s m",
    failed: "The components could not be loaded",
  };

  function clusterRadius(count) {
    return Math.min(26, 9 + 4 * Math.log10(Math.max(count, 1)));
  }

  function pointRadius(zoom) {
    return zoom >= 18 ? 6 : zoom >= 16 ? 5 : 4;
  }

  const compact = (function () {
    try {
      const format = new Intl.NumberFormat(document.documentElement.lang || "zh-CN", {
        notation: "compact",
        maximumFractionDigits: 1,
      });
      return function (n) {
        return n < 10000 ? String(n) : format.format(n);
      };
    } catch (error) {
      return String;
    }
  })();

  function withQuery(path, params) {
    const url = new URL(path, window.location.origin);
    Object.entries(params).forEach(function ([key, value]) {
      (Array.isArray(value) ? value : [value]).forEach(function (v) {
        if (v !== undefined && v !== null && v !== "") url.searchParams.append(key, v);
      });
    });
    return url.toString();
  }

  function filterParams(filter, crs) {
    const params = { crs: crs || "WGS84" };
    if (filter.classes && filter.classes.length) params.class = filter.classes;
    if (filter.states && filter.states.length) params.state = filter.states;
    if (filter.department) params.department = filter.department;
    return params;
  }

  async function fetchJson(url, signal) {
    const response = await fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      signal: signal,
    });
    const data = await response.json().catch(function () {
      return {};
    });
    if (!response.ok) {
      const error = new Error(data.message || "HTTP " + response.status);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  const ComponentLayer = L.GridLayer.extend({
    options: {
      tiles: "/api/v1/components/tiles/{z}/{x}/{y}",
      crs: "WGS84",
      filter: {},
      maxZoom: 22,
      updateWhenZooming: false,
      className: "gc-component-layer",
    },

    initialize: function (options) {
      L.GridLayer.prototype.initialize.call(this, options);
      this._items = new Map(); // tile key → items (pixel positions at the tile's zoom)
      this._requests = new Map(); // tile key → AbortController
      this._pending = 0;
      this._filter = Object.assign({}, this.options.filter);
      this.on("tileunload", this._forget, this);
    },

    onAdd: function (map) {
      L.GridLayer.prototype.onAdd.call(this, map);
      map.on("click", this._click, this);
      map.on("mousemove", this._hover, this);
    },

    onRemove: function (map) {
      map.off("click", this._click, this);
      map.off("mousemove", this._hover, this);
      map.getContainer().style.cursor = "";
      this._requests.forEach(function (request) {
        request.abort();
      });
      this._requests.clear();
      this._items.clear();
      L.GridLayer.prototype.onRemove.call(this, map);
    },

    /** Show other classes, states or a department ({classes: [], states: [], department});
     * states omitted: every state but removed; states empty: nothing. */
    setFilter: function (filter) {
      this._filter = Object.assign({}, filter);
      this._items.clear();
      if (this._map) this.redraw();
      return this;
    },

    getFilter: function () {
      return Object.assign({}, this._filter);
    },

    /** True when no tile is loading (for tests and status lines). */
    isIdle: function () {
      return this._pending === 0;
    },

    /** Everything the tiles on screen hold: [{kind, count, identifier, class_code, state, …}]. */
    loadedItems: function () {
      const out = [];
      const self = this;
      Object.keys(this._tiles || {}).forEach(function (key) {
        if (!self._tiles[key].current) return;
        (self._items.get(key) || []).forEach(function (item) {
          out.push(item);
        });
      });
      return out;
    },

    /** The screen position (container pixels) of a loaded component, or null. */
    positionOf: function (identifier) {
      const item = this.loadedItems().find(function (i) {
        return i.identifier === identifier;
      });
      return item ? this._map.latLngToContainerPoint([item.lat, item.lon]) : null;
    },

    tileUrl: function (coords) {
      const path = this.options.tiles
        .replace("{z}", coords.z)
        .replace("{x}", coords.x)
        .replace("{y}", coords.y);
      return withQuery(path, filterParams(this._filter, this.options.crs));
    },

    createTile: function (coords, done) {
      const canvas = L.DomUtil.create("canvas", "gc-component-tile");
      const size = this.getTileSize();
      const ratio = window.devicePixelRatio || 1;
      canvas.width = size.x * ratio;
      canvas.height = size.y * ratio;
      canvas.style.width = size.x + "px";
      canvas.style.height = size.y + "px";
      const key = this._tileCoordsToKey(coords);
      if (Array.isArray(this._filter.states) && this._filter.states.length === 0) {
        this._items.set(key, []); // no state chosen: nothing to show, nothing to ask
        window.setTimeout(function () {
          done(null, canvas);
        }, 0);
        return canvas;
      }
      const request = new AbortController();
      this._requests.set(key, request);
      this._pending += 1;
      const self = this;
      fetchJson(this.tileUrl(coords), request.signal)
        .then(function (data) {
          self._items.set(key, self._prepare(data, coords));
          self._drawAround(coords);
          done(null, canvas);
          self.fire("componentsload", { coords: coords, data: data });
        })
        .catch(function (error) {
          if (error.name !== "AbortError") self.fire("componenterror", { error: error });
          done(error.name === "AbortError" ? null : error, canvas);
        })
        .finally(function () {
          self._pending -= 1;
          self._requests.delete(key);
          if (self._pending === 0) self.fire("componentsidle");
        });
      return canvas;
    },

    _forget: function (event) {
      const key = this._tileCoordsToKey(event.coords);
      const request = this._requests.get(key);
      if (request) request.abort();
      this._items.delete(key);
    },

    // Items with their position in pixels of the tile's zoom (Leaflet's projection).
    _prepare: function (data, coords) {
      const map = this._map;
      const z = coords.z;
      const items = [];
      if (data.kind === "points") {
        const p = data.points;
        const r = pointRadius(z);
        for (let i = 0; i < p.identifier.length; i += 1) {
          const at = map.project([p.lat[i], p.lon[i]], z);
          items.push({
            kind: "point",
            px: at.x,
            py: at.y,
            r: r,
            lon: p.lon[i],
            lat: p.lat[i],
            identifier: p.identifier[i],
            class_code: p.class_code[i],
            state: p.state[i],
            count: 1,
          });
        }
      } else {
        const c = data.clusters;
        for (let i = 0; i < c.count.length; i += 1) {
          const at = map.project([c.lat[i], c.lon[i]], z);
          const states = {};
          data.state_order.forEach(function (state, k) {
            if (c.states[i][k]) states[state] = c.states[i][k];
          });
          items.push({
            kind: "cluster",
            px: at.x,
            py: at.y,
            r: clusterRadius(c.count[i]),
            lon: c.lon[i],
            lat: c.lat[i],
            count: c.count[i],
            states: states,
            classes: c.classes[i],
          });
        }
        items.sort(function (a, b) {
          return b.count - a.count; // small circles on top of big ones
        });
      }
      return items;
    },

    _drawAround: function (coords) {
      for (let dx = -1; dx <= 1; dx += 1) {
        for (let dy = -1; dy <= 1; dy += 1) {
          const next = L.point(coords.x + dx, coords.y + dy);
          next.z = coords.z;
          this._drawTile(next);
        }
      }
    },

    _drawTile: function (coords) {
      const tile = this._tiles && this._tiles[this._tileCoordsToKey(coords)];
      if (!tile || !this._items.has(this._tileCoordsToKey(coords))) return;
      const canvas = tile.el;
      const size = this.getTileSize();
      const ratio = canvas.width / size.x;
      const ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, size.x, size.y);
      const x0 = coords.x * size.x;
      const y0 = coords.y * size.y;
      const drawn = [];
      for (let dx = -1; dx <= 1; dx += 1) {
        for (let dy = -1; dy <= 1; dy += 1) {
          const key = this._tileCoordsToKey({ x: coords.x + dx, y: coords.y + dy, z: coords.z });
          (this._items.get(key) || []).forEach(function (item) {
            const lx = item.px - x0;
            const ly = item.py - y0;
            if (lx + item.r + 2 < 0 || ly + item.r + 2 < 0) return;
            if (lx - item.r - 2 > size.x || ly - item.r - 2 > size.y) return;
            drawn.push([item, lx, ly]);
          });
        }
      }
      drawn.sort(function (a, b) {
        return (b[0].kind === "cluster" ? b[0].count : 0) - (a[0].kind === "cluster" ? a[0].count : 0);
      });
      drawn.forEach(function ([item, lx, ly]) {
        if (item.kind === "point") drawPoint(ctx, item, lx, ly);
        else drawCluster(ctx, item, lx, ly);
      });
    },

    /** The item under a map position (within its circle, or a few pixels of a dot), or null. */
    hit: function (latlng) {
      if (!this._map || this._tileZoom === undefined) return null;
      const z = this._tileZoom;
      const size = this.getTileSize();
      const at = this._map.project(latlng, z);
      const scale = this._map.getZoomScale(this._map.getZoom(), z);
      const tx = Math.floor(at.x / size.x);
      const ty = Math.floor(at.y / size.y);
      let best = null;
      let bestDistance = Infinity;
      for (let dx = -1; dx <= 1; dx += 1) {
        for (let dy = -1; dy <= 1; dy += 1) {
          const items = this._items.get(this._tileCoordsToKey({ x: tx + dx, y: ty + dy, z: z })) || [];
          items.forEach(function (item) {
            const d = Math.hypot(item.px - at.x, item.py - at.y);
            const reach = item.r + (item.kind === "point" ? 4 / scale : 1);
            if (d <= reach && d < bestDistance) {
              best = item;
              bestDistance = d;
            }
          });
        }
      }
      return best;
    },

    _click: function (event) {
      const item = this.hit(event.latlng);
      if (!item) {
        this.fire("componentmiss", { latlng: event.latlng });
        return;
      }
      if (item.kind === "cluster") {
        const map = this._map;
        map.setView([item.lat, item.lon], Math.min(map.getZoom() + 2, map.getMaxZoom()));
        this.fire("clusterclick", { cluster: item });
        return;
      }
      this.fire("componentclick", { component: item, latlng: event.latlng });
    },

    _hover: function (event) {
      this._map.getContainer().style.cursor = this.hit(event.latlng) ? "pointer" : "";
    },
  });

  function drawPoint(ctx, item, x, y) {
    ctx.beginPath();
    ctx.arc(x, y, item.r, 0, 2 * Math.PI);
    ctx.fillStyle = STATE_COLOURS[item.state] || "#495057";
    ctx.fill();
    ctx.lineWidth = item.state === "removed" ? 2 : 1.2;
    ctx.strokeStyle = item.state === "removed" ? "#ffffff" : "rgba(255, 255, 255, 0.9)";
    ctx.stroke();
  }

  // A white disc with the count, ringed by one arc per state in proportion to its share.
  function drawCluster(ctx, item, x, y) {
    ctx.beginPath();
    ctx.arc(x, y, item.r, 0, 2 * Math.PI);
    ctx.fillStyle = CLUSTER_FILL;
    ctx.fill();
    let start = -Math.PI / 2;
    Object.entries(item.states).forEach(function ([state, n]) {
      const sweep = (2 * Math.PI * n) / item.count;
      ctx.beginPath();
      ctx.arc(x, y, item.r - 2, start, start + sweep);
      ctx.lineWidth = 4;
      ctx.strokeStyle = STATE_COLOURS[state] || "#495057";
      ctx.stroke();
      start += sweep;
    });
    ctx.fillStyle = "#1f2933";
    ctx.font = "600 " + (item.r > 16 ? 12 : 11) + "px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(compact(item.count), x, y + 0.5);
  }

  function format(template, params) {
    return template.replace(/%\((\w+)\)s/g, function (_m, name) {
      return String(params[name]);
    });
  }

  /** Details and history of one component, each null when its endpoint refused. */
  async function fetchDetails(identifier, urls) {
    const detail = (urls && urls.detail) || "/api/v1/components/{identifier}";
    const history = (urls && urls.history) || "/api/v1/components/{identifier}/history";
    const id = encodeURIComponent(identifier);
    const results = await Promise.allSettled([
      fetchJson(detail.replace("{identifier}", id)),
      fetchJson(history.replace("{identifier}", id)),
    ]);
    return {
      details: results[0].status === "fulfilled" ? results[0].value : null,
      history: results[1].status === "fulfilled" ? results[1].value : null,
      error: results[0].status === "rejected" ? results[0].reason : null,
    };
  }

  // A popup listing nearby components as buttons; choosing one calls back with it.
  function nearbyPopup(map, latlng, items, text, names, choose) {
    const box = document.createElement("div");
    box.className = "gc-nearby";
    const title = document.createElement("strong");
    title.textContent = text.nearby;
    box.appendChild(title);
    const list = document.createElement("ul");
    items.forEach(function (item) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.dataset.identifier = item.identifier;
      const label = (names && names[item.class_code]) || item.name || item.class_code;
      button.textContent = label + " · " + item.identifier + " · " + Math.round(item.distance_m) + " m";
      button.addEventListener("click", function () {
        map.closePopup();
        choose(item);
      });
      li.appendChild(button);
      list.appendChild(li);
    });
    box.appendChild(list);
    return L.popup({ maxWidth: 360 }).setLatLng(latlng).setContent(box).openOn(map);
  }

  /**
   * Show the component layer on ``map`` and call ``callback(component)`` with the component the
   * user clicks: {identifier, class_code, state, lon, lat, details, history, error}. Options:
   * filter ({classes, states, department}), crs ("WGS84" or "GCJ02": the basemap's), pane,
   * details (false: do not fetch details and history), nearby (false: a click on no component
   * does nothing; else, from zoom 16, it lists the components within ``radius`` metres, default
   * 30), classNames (code → name, for that list), onStart(item) (called at the click, before the
   * details arrive), text (translated words: nearby, noneNearby, failed) and urls ({tiles, near,
   * detail, history}). Returns {layer, setFilter(filter), remove()}.
   */
  function pick(map, callback, options) {
    const opts = Object.assign({ radius: 30, details: true, nearby: true }, options || {});
    const text = Object.assign({}, DEFAULT_TEXT, opts.text || {});
    const urls = Object.assign({ near: "/api/v1/components/near" }, opts.urls || {});
    const layerOptions = {
      tiles: urls.tiles || ComponentLayer.prototype.options.tiles,
      crs: opts.crs,
      filter: opts.filter || {},
    };
    if (opts.pane) layerOptions.pane = opts.pane;
    const layer = new ComponentLayer(layerOptions).addTo(map);

    async function chosen(item) {
      if (opts.onStart) opts.onStart(item);
      const component = {
        identifier: item.identifier,
        class_code: item.class_code,
        state: item.state,
        lon: item.lon,
        lat: item.lat,
        details: null,
        history: null,
        error: null,
      };
      if (opts.details) Object.assign(component, await fetchDetails(item.identifier, urls));
      callback(component);
    }

    layer.on("componentclick", function (event) {
      chosen(event.component);
    });
    layer.on("componentmiss", async function (event) {
      if (!opts.nearby || map.getZoom() < NEAR_ZOOM) return;
      const params = Object.assign(
        { lon: event.latlng.lng, lat: event.latlng.lat, radius: opts.radius, limit: 5 },
        filterParams(layer.getFilter(), opts.crs)
      );
      const say = function (words) {
        L.popup().setLatLng(event.latlng).setContent(document.createTextNode(words)).openOn(map);
      };
      try {
        const found = await fetchJson(withQuery(urls.near, params));
        if (!found.items.length) {
          say(format(text.noneNearby, { m: opts.radius }));
          return;
        }
        nearbyPopup(map, event.latlng, found.items, text, opts.classNames, chosen);
      } catch (error) {
        say(text.failed);
      }
    });
    return {
      layer: layer,
      setFilter: function (filter) {
        layer.setFilter(filter);
      },
      remove: function () {
        map.removeLayer(layer);
      },
    };
  }

  window.gridcityComponents = {
    ComponentLayer: ComponentLayer,
    layer: function (options) {
      return new ComponentLayer(options);
    },
    pick: pick,
    fetchDetails: fetchDetails,
    STATE_COLOURS: STATE_COLOURS,
  };
})();
