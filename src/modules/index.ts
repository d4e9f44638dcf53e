// Every module a playbook can use, one file each.
export { command, shell } from './command.js';
export { file } from './file.js';
export { copy } from './copy.js';
export { template } from './template.js';
export { lineinfile } from './lineinfile.js';
export { sync } from './sync.js';
export { packages } from './packages.js';
export { service } from './service.js';
export { selinux } from './selinux.js';
export { django } from './django.js';
export { http } from './http.js';
export { debug } from './debug.js';
export { user } from './user.js';
export { group } from './group.js';
// --- issue 21, part 2 (mod-b): downloads, archives, checkouts, Python packages, waits, apt sources ---
export { getUrl } from './get-url.js';
export { unarchive } from './unarchive.js';
export { git } from './git.js';
export { pip } from './pip.js';
export { waitFor } from './wait-for.js';
export { aptRepository } from './apt-repository.js';
// --- end of issue 21, part 2 ---
// --- issue 21, part 3 (modc): blocks, replacements, cron ---
export { blockinfile } from './blockinfile.js';
export { replace } from './replace.js';
export { cron } from './cron.js';
// --- end of issue 21, part 3 ---
