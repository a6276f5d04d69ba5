/* The "new component" page: the class list narrows as one types (code, name or pinyin
 * initials), and a click on the small map sets the longitude and latitude fields (typed
 * coordinates move the marker). The fields hold CGCS2000 lon/lat; over a GCJ-02 basemap the
 * click is converted through /api/v1/coords/convert, never guessed. Existing components are
 * drawn (component_picker.js) so that a likely duplicate is seen before it is refused.
 * Text from data enters the DOM as text nodes, never as HTML. Needs Leaflet and map_kit.js. */
(function () {
  "use strict";

  const search = document.getElementById("class-search");
  const select = document.getElementById("class-code");

  function searchClasses(query) {
    const q = query.trim().toLowerCase();
    let first = null;
    select.querySelectorAll("option").forEach(function (option) {
      const hit =
        !q ||
        option.value.startsWith(q) ||
        option.dataset.name.toLowerCase().includes(q) ||
        option.dataset.initials.includes(q);
      option.hidden = !hit;
      if (hit && !first) first = option;
    });
    return first;
  }

  if (search && select) {
    search.addEventListener("input", function () {
      searchClasses(search.value);
    });
    // Enter in the search field picks the first class shown instead of posting the form.
    search.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();
      const first = searchClasses(search.value);
      if (first && select.value !== first.value) {
        select.value = first.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  const kit = window.gridcityMapKit;
  const config = kit && kit.readJson("new-component-config");
  if (!config || !document.getElementById("new-component-map") || !window.L) return;
  const lonInput = document.getElementById("lon");
  const latInput = document.getElementById("lat");
  const status = document.getElementById("map-status");
  const map = kit.createMap("new-component-map", config.basemap);
  let marker = null;
  // For tests and other scripts: ready once the map is framed (boundaries loaded or failed).
  const state = { map: map, ready: false };
  window.gridcityNewComponent = state;

  function say(template, params) {
    let text = template;
    Object.entries(params || {}).forEach(function ([key, value]) {
      text = text.split("%(" + key + ")s").join(String(value));
    });
    status.textContent = text;
  }

  async function convert(lon, lat, from, to) {
    const url = kit.absolute("/api/v1/coords/convert", { lon: lon, lat: lat, from: from, to: to });
    const point = await kit.fetchJson(url);
    return [point.lon, point.lat];
  }

  function show(latlng) {
    if (marker) marker.setLatLng(latlng);
    else marker = L.circleMarker(latlng, { radius: 8, color: "#c0392b", weight: 3, fillOpacity: 0.5 }).addTo(map);
  }

  // A click: the marker moves at once, the fields get the point in CGCS2000.
  map.on("click", async function (event) {
    show(event.latlng);
    let lon = event.latlng.lng;
    let lat = event.latlng.lat;
    try {
      if (config.shift) [lon, lat] = await convert(lon, lat, "gcj02", "cgcs2000");
    } catch (error) {
      say(config.text.failed);
      return;
    }
    lonInput.value = lon.toFixed(7);
    latInput.value = lat.toFixed(7);
    say(config.text.placed, { lon: lonInput.value, lat: latInput.value });
  });

  // Typed coordinates move the marker (over GCJ-02 tiles, shifted as the tiles are).
  async function fromFields(centre) {
    const lon = parseFloat(lonInput.value.replace(",", "."));
    const lat = parseFloat(latInput.value.replace(",", "."));
    if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) return false;
    let shown = [lon, lat];
    try {
      if (config.shift) shown = await convert(lon, lat, "cgcs2000", "gcj02");
    } catch (error) {
      return false;
    }
    show([shown[1], shown[0]]);
    if (centre) map.setView([shown[1], shown[0]], Math.max(map.getZoom(), 17), { animate: false });
    return true;
  }
  lonInput.addEventListener("change", function () {
    fromFields(true);
  });
  latInput.addEventListener("change", function () {
    fromFields(true);
  });

  // The district outline frames the map; the components already there are drawn on top.
  kit
    .fetchJson(config.boundaries)
    .then(function (data) {
      if (!data.features || !data.features.length) return;
      const outline = L.geoJSON(data, {
        style: { color: "#0b5cab", weight: 2, fill: false },
        interactive: false,
      }).addTo(map);
      if (!marker) map.fitBounds(outline.getBounds(), { padding: [10, 10], animate: false });
    })
    .catch(function () {})
    .finally(function () {
      fromFields(true).finally(function () {
        state.ready = true;
      });
    });
  if (window.gridcityComponents) {
    window.gridcityComponents.layer({ crs: config.components_crs }).addTo(map);
  }
})();
