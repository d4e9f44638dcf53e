// The inventory's public face: load sources, then ask for hosts, groups, vars, patterns and ansible-inventory's views.

export { loadInventory } from './load.js';
export { Inventory } from './inventory.js';
export { becomeMethodOf, resolveConnectionVars, type HostConnection } from './connection-vars.js';
export { splitHostPattern } from './patterns.js';
export { type InventoryValue, UnsafeText } from './values.js';
export { allowPipeLookup, PIPE_LOOKUP_ENV } from './jinja-lookups.js';
