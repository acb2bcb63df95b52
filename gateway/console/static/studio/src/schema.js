// Reading the definition format's JSON Schema (dialogs/schema.py): references, optional
// values, texts given per language, the step types by their `type`.

export function resolve(root, schema) {
  let found = schema || {};
  for (let depth = 0; found.$ref && depth < 20; depth += 1) {
    const name = found.$ref.split("/").pop();
    found = { ...root.$defs[name], ...withoutRef(found) };
  }
  return found;
}

function withoutRef(schema) {
  const { $ref, ...rest } = schema;
  return rest;
}

// `anyOf: [X, {type: null}]` is an optional X: X, with the outer title and description.
export function unwrap(root, schema) {
  const resolved = resolve(root, schema);
  if (!resolved.anyOf || resolved.text) return resolved;
  const kept = resolved.anyOf.filter((part) => part.type !== "null");
  if (kept.length !== 1) return resolved;
  const { anyOf, ...outer } = resolved;
  return { ...resolve(root, kept[0]), ...outer };
}

// A text citizens read: marked `text`, or written as the format writes one (a string, or
// a string per language: a reason an officer gives, say).
export const isText = (schema) => schema.text === true || (Array.isArray(schema.anyOf)
  && schema.anyOf.some((part) => part.type === "string")
  && schema.anyOf.some((part) => part.type === "object" && part.patternProperties
    && Object.keys(part.patternProperties).includes("^[a-z]{2,3}$")));

// The step types: {type: schema}, from the steps' discriminator (a new type needs no code).
export function stepTypes(root) {
  const items = root.properties.steps.items;
  const mapping = (items.discriminator && items.discriminator.mapping) || {};
  const types = {};
  for (const [type, ref] of Object.entries(mapping)) types[type] = resolve(root, { $ref: ref });
  return types;
}

export function typeOf(value) {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value === "number" ? (Number.isInteger(value) ? "integer" : "number") : typeof value;
}

export function title(schema, name) {
  if (schema.title) return schema.title;
  const words = String(name).replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
