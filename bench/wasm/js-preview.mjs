// A straightforward JavaScript implementation of the preview (NDJSON only), as a team without
// the package would write it: JSON.parse per line, a Map keyed by the source value, the four
// aggregations, the stats. It is the baseline for the wasm figures, not a second engine: it
// reads mpids through JSON.parse (so 64-bit ids lose precision) and skips the finer rules.

function truthy(value) {
  if (value === true || value === false) return value;
  if (typeof value === "string") {
    const v = value.trim().toLowerCase();
    if (v === "true") return true;
    if (v === "false") return false;
  }
  return undefined;
}

function numeric(value) {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    if (Number.isFinite(n)) return n;
  }
  return undefined;
}

function time(value) {
  if (typeof value === "number") return value;
  if (typeof value === "string") {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return t;
  }
  return -Infinity;
}

function aggregate(type, members) {
  // members: [{ value, time }] in input order
  switch (type) {
    case "boolean_or":
      return members.some((m) => truthy(m.value) === true);
    case "sum":
    case "average": {
      let sum = 0;
      let count = 0;
      for (const m of members) {
        const n = numeric(m.value);
        if (n !== undefined) {
          sum += n;
          count++;
        }
      }
      if (count === 0) return undefined;
      return type === "sum" ? sum : sum / count;
    }
    case "latest": {
      let best;
      for (const m of members) {
        if (m.value == null) continue;
        if (best === undefined || m.time >= best.time) best = m;
      }
      return best?.value;
    }
    default:
      return undefined;
  }
}

export function jsPreview(definition, text) {
  const source = definition.source_user_attribute;
  const attributes = definition.attributes;
  const stats = {
    profiles: 0,
    skipped: 0,
    noKey: 0,
    shortKey: 0,
    singletons: 0,
    groups: 0,
    groupedProfiles: 0,
    oversizedGroups: 0,
    oversizedProfiles: 0,
  };
  const diagnostics = [];
  const seen = new Set();
  const byKey = new Map();
  let line = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const raw = text.slice(start, end);
    start = end + 1;
    line++;
    if (raw.trim() === "") continue;
    let record;
    try {
      record = JSON.parse(raw);
    } catch {
      stats.skipped++;
      diagnostics.push({ level: "error", code: "invalid_json", line });
      continue;
    }
    if (record === null || typeof record !== "object" || Array.isArray(record) || record.mpid == null) {
      stats.skipped++;
      continue;
    }
    const mpid = String(record.mpid);
    if (seen.has(mpid)) {
      stats.skipped++;
      continue;
    }
    seen.add(mpid);
    stats.profiles++;
    const attrs = record.user_attributes ?? record;
    const key = attrs[source];
    if (key == null || key === "" || typeof key === "object") {
      stats.noKey++;
      continue;
    }
    const keyText = typeof key === "string" ? key : JSON.stringify(key);
    if ([...keyText].length < 5) {
      stats.shortKey++;
      continue;
    }
    const stamps = record.user_attribute_timestamps ?? {};
    const fallback = record.updated_at ?? record.last_stored_timestamp_ms;
    const values = attributes.map((a) => ({ value: attrs[a.id], time: time(stamps[a.id] ?? fallback) }));
    let entry = byKey.get(keyText);
    if (entry === undefined) {
      entry = { members: [], values: [] };
      byKey.set(keyText, entry);
    }
    entry.members.push(mpid);
    entry.values.push(values);
  }
  const groups = [];
  const oversized = [];
  for (const [key, entry] of byKey) {
    const n = entry.members.length;
    if (n === 1) {
      stats.singletons++;
    } else if (n > 10) {
      stats.oversizedGroups++;
      stats.oversizedProfiles += n;
      oversized.push({ key, size: n });
    } else {
      stats.groups++;
      stats.groupedProfiles += n;
      const inherited = {};
      attributes.forEach((a, i) => {
        const value = aggregate(
          a.type,
          entry.values.map((v) => v[i]),
        );
        if (value !== undefined) inherited[`${definition.id}:${a.id}`] = value;
      });
      groups.push({ key, members: entry.members, attributes: inherited });
    }
  }
  return { groupId: definition.id, stats, groups, oversized, diagnostics };
}
