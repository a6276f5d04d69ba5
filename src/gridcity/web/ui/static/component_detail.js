/* The small map of one component (admin page): its geometry over the optional basemap. */
(function () {
  "use strict";
  const kit = window.gridcityMapKit;
  const config = kit.readJson("component-map-config");
  if (!config || !document.getElementById("component-map")) return;
  const map = kit.createMap("component-map", config.basemap);
  const shape = L.geoJSON(config.geometry, {
    style: { color: "#c0392b", weight: 4 },
    pointToLayer: function (_feature, latlng) {
      return L.circleMarker(latlng, { radius: 8, color: "#c0392b", weight: 3, fillOpacity: 0.4 });
    },
  }).addTo(map);
  map.fitBounds(shape.getBounds(), { maxZoom: 18, padding: [20, 20] });
})();
