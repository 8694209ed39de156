// Vigil operators' console: CesiumJS globe (offline imagery, no ion) + warnings list, fed by /api/v1.
// The token (when the server has --tokens) comes from the page's #token=... fragment, never sent in URLs.
"use strict";
(function () {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const PARTNER_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
  const CLASS_COLORS = { ballistic: "#ff4d4d", space_launch: "#4da3ff", unknown: "#cccccc" };
  const AZIMUTH_ARROW_M = 600e3;  // length of the azimuth arrow on the ground
  const events = new Map();   // event_id -> [versions, oldest first]
  let partners = [];
  const statusEl = document.getElementById("status");

  Cesium.Ion.defaultAccessToken = "";
  const viewer = new Cesium.Viewer("globe", {
    baseLayer: Cesium.ImageryLayer.fromProviderAsync(
      Cesium.TileMapServiceImageryProvider.fromUrl(Cesium.buildModuleUrl("Assets/Textures/NaturalEarthII"))),
    baseLayerPicker: false, geocoder: false, homeButton: true, sceneModePicker: false,
    navigationHelpButton: false, infoBox: true, selectionIndicator: true, fullscreenButton: false,
    timeline: true, animation: true,
  });
  viewer.scene.globe.enableLighting = false;
  window.vigil = { viewer, events, ready: false, streamed: 0,
    // The track entities shown at the clock's instant: [{id, samples}] (for the browser test and the curious).
    visibleTracks: () => viewer.entities.values.filter((e) => e.id.endsWith("/track") && e.isAvailable(viewer.clock.currentTime))
      .map((e) => ({ id: e.id, samples: e.polyline.positions.getValue(viewer.clock.currentTime).length })),
    showTracks: (on) => { for (const e of viewer.entities.values) if (e.id.endsWith("/track")) e.show = on; },
  };

  async function getJson(url) {
    const r = await fetch(url, { headers });
    if (!r.ok) throw new Error(url + ": HTTP " + r.status + " " + (await r.text()));
    return r.json();
  }
  async function allItems(url) {
    const out = [];
    for (;;) {
      const page = await getJson(url + (url.includes("?") ? "&" : "?") + "limit=1000&offset=" + out.length);
      out.push(...page.items);
      if (out.length >= page.total || page.items.length === 0) return out;
    }
  }
  const partnerColor = (p) => PARTNER_COLORS[Math.max(partners.indexOf(p), 0) % PARTNER_COLORS.length];
  const classColor = (c) => Cesium.Color.fromCssColorString(CLASS_COLORS[c] || CLASS_COLORS.unknown);

  function addVersion(w) {
    const list = events.get(w.event_id) || [];
    if (list.some((v) => v.version === w.version && v.issued_at === w.issued_at)) return false;
    list.push(w);
    list.sort((a, b) => a.version - b.version);
    events.set(w.event_id, list);
    return true;
  }

  function ellipseEntity(id, lat, lon, ell, color, availability, name) {
    return viewer.entities.add({
      id, name, availability,
      position: Cesium.Cartesian3.fromDegrees(lon, lat),
      ellipse: { semiMajorAxis: Math.max(ell[1], ell[2], 0.1) * 1000, semiMinorAxis: Math.max(Math.min(ell[1], ell[2]), 0.1) * 1000,
                 rotation: -Cesium.Math.toRadians(ell[0]), height: 0, fill: true,
                 material: color.withAlpha(0.18), outline: true, outlineColor: color },
    });
  }

  function drawEvent(id) {
    const versions = events.get(id);
    for (const e of viewer.entities.values.filter((e) => e.id.startsWith("ev/" + id + "/"))) viewer.entities.remove(e);
    versions.forEach((w, k) => {
      const start = Cesium.JulianDate.fromIso8601(w.issued_at);
      const next = versions[k + 1];
      const stop = next ? Cesium.JulianDate.fromIso8601(next.issued_at) : Cesium.JulianDate.fromIso8601("2100-01-01T00:00:00Z");
      const availability = new Cesium.TimeIntervalCollection([new Cesium.TimeInterval({ start, stop, isStopIncluded: !next })]);
      const color = classColor(w.class);
      const tag = "ev/" + id + "/" + w.version;
      viewer.entities.add({
        id: tag + "/launch", name: id + " v" + w.version + " launch", availability,
        position: Cesium.Cartesian3.fromDegrees(w.launch_lon_deg, w.launch_lat_deg),
        point: { pixelSize: 9, color, outlineColor: Cesium.Color.WHITE, outlineWidth: 1 },
        label: { text: id, font: "12px sans-serif", pixelOffset: new Cesium.Cartesian2(10, -10), fillColor: color },
        description: "<pre>" + JSON.stringify(w, null, 1) + "</pre>",
      });
      if (w.launch_ellipse) ellipseEntity(tag + "/launch-ellipse", w.launch_lat_deg, w.launch_lon_deg, w.launch_ellipse, color, availability, id + " launch ellipse");
      if (w.azimuth_deg !== null && w.azimuth_deg !== undefined) {
        const az = Cesium.Math.toRadians(w.azimuth_deg), d = AZIMUTH_ARROW_M / 6371e3;
        const lat1 = Cesium.Math.toRadians(w.launch_lat_deg), lon1 = Cesium.Math.toRadians(w.launch_lon_deg);
        const lat2 = Math.asin(Math.sin(lat1) * Math.cos(d) + Math.cos(lat1) * Math.sin(d) * Math.cos(az));
        const lon2 = lon1 + Math.atan2(Math.sin(az) * Math.sin(d) * Math.cos(lat1), Math.cos(d) - Math.sin(lat1) * Math.sin(lat2));
        viewer.entities.add({ id: tag + "/azimuth", availability, name: id + " azimuth " + w.azimuth_deg.toFixed(1) + "°" +
            (w.azimuth_sigma_deg != null ? " ± " + w.azimuth_sigma_deg.toFixed(1) + "° (1σ)" : ""),
          polyline: { positions: Cesium.Cartesian3.fromRadiansArray([lon1, lat1, lon2, lat2]), width: 9,
                      material: new Cesium.PolylineArrowMaterialProperty(color) } });
      }
      const track = w.track || [];
      if (track.length >= 2) {
        // The fitted trajectory of this version: ascent back-fit, triangulated boost points, coast arc to impact.
        const flat = [];
        for (const [, lat, lon, alt] of track) flat.push(lon, lat, Math.max(alt, 0));
        const last = track[track.length - 1];
        viewer.entities.add({ id: tag + "/track", availability, name: id + " v" + w.version + " track",
          description: track.length + " samples, " + (last[0] - track[0][0]).toFixed(0) + " s: launch " +
            "→ " + (w.impact_lat_deg != null ? "impact" : (last[3] / 1000).toFixed(0) + " km altitude") +
            (w.burnout_alt_m != null ? "; burnout " + (w.burnout_alt_m / 1000).toFixed(1) + " km" : ""),
          polyline: { positions: Cesium.Cartesian3.fromDegreesArrayHeights(flat), width: 3,
                      material: new Cesium.PolylineGlowMaterialProperty({ color, glowPower: 0.25 }) } });
        viewer.entities.add({ id: tag + "/head", availability, name: id + " latest track point",
          position: Cesium.Cartesian3.fromDegrees(last[2], last[1], Math.max(last[3], 0)),
          point: { pixelSize: 5, color: Cesium.Color.WHITE, outlineColor: color, outlineWidth: 2 } });
      }
      if (w.impact_lat_deg !== null && w.impact_lat_deg !== undefined) {
        const pct = Math.round(100 * (w.containment || 0.95));
        viewer.entities.add({ id: tag + "/impact", availability, name: id + " impact",
          position: Cesium.Cartesian3.fromDegrees(w.impact_lon_deg, w.impact_lat_deg),
          point: { pixelSize: 6, color },
          label: { text: "impact " + pct + " %" + (w.impact_ellipse ? " " + w.impact_ellipse[1].toFixed(0) + "×" +
                          w.impact_ellipse[2].toFixed(0) + " km" : ""), font: "11px sans-serif",
                   pixelOffset: new Cesium.Cartesian2(8, 10), fillColor: color, showBackground: true,
                   backgroundColor: new Cesium.Color(0.05, 0.06, 0.12, 0.7) } });
        if (track.length < 2) {  // a received warning carries no track: the launch → impact geodesic
          viewer.entities.add({ id: tag + "/groundtrack", availability, name: id + " v" + w.version + " ground track",
            description: "launch → impact geodesic (this record carries no fitted track)",
            polyline: { positions: Cesium.Cartesian3.fromDegreesArray([w.launch_lon_deg, w.launch_lat_deg, w.impact_lon_deg, w.impact_lat_deg]),
                        arcType: Cesium.ArcType.GEODESIC, width: 1.5, material: new Cesium.PolylineDashMaterialProperty({ color }) } });
        }
        if (w.impact_ellipse) ellipseEntity(tag + "/impact-ellipse", w.impact_lat_deg, w.impact_lon_deg, w.impact_ellipse, color, availability,
                                            id + " impact ellipse (" + pct + " % containment)");
      }
    });
  }

  // The clock shows the newest issued version (the live edge); the time slider replays earlier states.
  function followLatest() {
    let latest = null;
    for (const versions of events.values()) for (const w of versions) if (!latest || w.issued_at > latest) latest = w.issued_at;
    if (!latest) return;
    const t = Cesium.JulianDate.fromIso8601(latest);
    if (Cesium.JulianDate.greaterThan(t, viewer.clock.stopTime)) viewer.clock.stopTime = t;
    viewer.clock.currentTime = t;
  }

  function notificationHtml(n) {
    if (n === "UNANNOUNCED") return "<span class='unannounced'>UNANNOUNCED</span>";
    if (n) return "<span class='notified'>notified " + n + "</span>";
    return "<span class='meta'>notification: pending</span>";
  }

  function renderList() {
    const ol = document.getElementById("warnings");
    const rows = [...events.entries()].sort((a, b) => a[1][0].issued_at.localeCompare(b[1][0].issued_at));
    ol.innerHTML = "";
    for (const [id, versions] of rows) {
      const w = versions[versions.length - 1];
      const li = document.createElement("li");
      li.dataset.eventId = id;
      const srcs = (w.sources && w.sources.partners || []).map((p) =>
        "<span class='swatch' style='background:" + partnerColor(p) + "'></span>" + p).join(" ");
      li.innerHTML = "<span class='id'>" + id + "</span> <span class='" + w.class + "'>" + w.class + "</span> v" + w.version +
        " (" + versions.length + " versions)<br>" + notificationHtml(w.notification) +
        "<div class='meta'>launch " + w.launch_lat_deg.toFixed(2) + "°, " + w.launch_lon_deg.toFixed(2) + "° · issued " +
        w.issued_at.slice(11, 19) + "Z · " + srcs + "</div>";
      if (w.class_reason) {  // why the class is what it is (partner text: set as text, never as HTML)
        const why = document.createElement("div");
        why.className = "meta reason";
        why.textContent = w.class_reason;
        li.insertBefore(why, li.querySelector("br").nextSibling);  // under the class line
      }
      li.onclick = () => viewer.flyTo(viewer.entities.getById("ev/" + id + "/" + w.version + "/launch") || viewer.entities);
      ol.appendChild(li);
    }
    let n = 0; for (const v of events.values()) n += v.length;
    statusEl.textContent = events.size + " events, " + n + " versions" + (window.vigil.streamState ? " · stream " + window.vigil.streamState : "");
  }

  function renderLegend() {
    const el = document.getElementById("legend");
    el.innerHTML = "<div>Partners:" + partners.map((p) => "<span class='swatch' style='background:" + partnerColor(p) + "'></span>" + p).join("") +
      "</div><div>Classes:" + Object.entries(CLASS_COLORS).map(([c, col]) => "<span class='swatch' style='background:" + col + "'></span>" + c).join("") +
      "</div>" + (coverage && coverage.view ? "<div>Stereo coverage (≥ 2 satellites, viridis overlay): view " +
        (100 * coverage.view.mean_frac_2).toFixed(1) + " %" + Object.entries(coverage.per_partner).map(([p, f]) =>
        " · <span class='swatch' style='background:" + partnerColor(p) + "'></span>" + p + " " + (100 * f.mean_frac_2).toFixed(1) + " %").join("") +
        "</div>" : "") +
      "<div class='keys'>" +
      "<div><span class='key dot sat'></span>satellite with trail (partner colour)</div>" +
      "<div><span class='key line track'></span>live track: fitted ascent, boost, coast arc to impact (class colour)</div>" +
      "<div><span class='key arrow'>➜</span>launch point and azimuth</div>" +
      "<div><span class='key ring'></span>launch / impact ellipse, labelled with its containment</div>" +
      "<div><span class='key line dashed'></span>launch → impact geodesic (received records: no track)</div></div>";
  }

  async function stream() {
    // EventSource cannot send an Authorization header, so read the SSE stream with fetch.
    let last = null;
    for (;;) {
      try {
        const h = Object.assign({}, headers, last === null ? {} : { "Last-Event-ID": String(last) });
        const r = await fetch("/api/v1/stream", { headers: h });
        window.vigil.streamState = "connected"; renderList();
        const reader = r.body.getReader(), dec = new TextDecoder();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let cut;
          while ((cut = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, cut); buf = buf.slice(cut + 2);
            const f = {};
            for (const line of block.split("\n")) { const i = line.indexOf(": "); if (i > 0 && line[0] !== ":") f[line.slice(0, i)] = line.slice(i + 2); }
            if (f.event === "warning") {
              last = Number(f.id);
              const w = JSON.parse(f.data);
              if (addVersion(w)) { window.vigil.streamed += 1; drawEvent(w.event_id); followLatest(); renderList(); }
            }
          }
        }
      } catch (err) { window.vigil.streamState = "reconnecting"; }
      await new Promise((res) => setTimeout(res, 2000));
    }
  }

  // Stereo coverage of the view's satellites (fraction of time seen by >= 2), laid over the imagery.
  let coverage = null;
  async function addCoverage() {
    try { coverage = await getJson("/api/v1/coverage"); } catch (err) { return; }
    if (!coverage.view) return;
    const r = await fetch("/api/v1/coverage.png", { headers });
    if (!r.ok) return;
    const url = URL.createObjectURL(await r.blob());
    const provider = await Cesium.SingleTileImageryProvider.fromUrl(url, { rectangle: Cesium.Rectangle.fromDegrees(-180, -90, 180, 90) });
    const layer = viewer.imageryLayers.addImageryProvider(provider);
    layer.alpha = 0.8;
    window.vigil.coverageLayer = layer;
  }

  async function main() {
    const health = await getJson("/healthz");
    partners = health.partners;
    const czml = await getJson("/api/v1/satellites.czml");
    if (czml.length > 1) {
      const ds = await Cesium.CzmlDataSource.load(czml);
      await viewer.dataSources.add(ds);
      for (const e of ds.entities.values) {  // one palette for satellites, list and legend
        const p = e.properties && e.properties.partner && e.properties.partner.getValue();
        if (!p) continue;
        if (!partners.includes(p)) partners.push(p);
        const c = Cesium.Color.fromCssColorString(partnerColor(p));
        if (e.point) e.point.color = c;
        if (e.path) e.path.material = new Cesium.ColorMaterialProperty(c.withAlpha(0.6));
        if (e.label) e.label.fillColor = c;
      }
      viewer.clock.shouldAnimate = false;
    }
    await addCoverage();
    for (const w of await allItems("/api/v1/warnings")) addVersion(w);
    for (const id of events.keys()) drawEvent(id);
    followLatest();
    renderLegend();
    renderList();
    viewer.camera.setView({ destination: Cesium.Cartesian3.fromDegrees(55, 35, 1.7e7) });
    window.vigil.ready = true;
    stream();
  }
  main().catch((err) => { statusEl.textContent = "error: " + err.message; window.vigil.error = String(err); });
})();
