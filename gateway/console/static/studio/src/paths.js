// Values inside the draft by path: ["steps", 2, "prompt", "en"].

export function getAt(data, path) {
  let found = data;
  for (const key of path) {
    if (found === null || typeof found !== "object") return undefined;
    found = found[key];
  }
  return found;
}

// Writes `value` at `path` (undefined: removes the key), making objects on the way.
export function setAt(data, path, value) {
  let parent = data;
  for (const key of path.slice(0, -1)) {
    if (parent[key] === null || typeof parent[key] !== "object") parent[key] = {};
    parent = parent[key];
  }
  const last = path[path.length - 1];
  if (value === undefined && !Array.isArray(parent)) delete parent[last];
  else parent[last] = value;
}

export const pathId = (path) => "f-" + path.join("-").replace(/[^A-Za-z0-9_-]/g, "_");
export const pathKey = (path) => path.join(".");
