import { writeFileSync } from 'node:fs';
import { startFleet } from '../test/fleet/fleet.js';
const fleet = await startFleet(1);
const h = fleet.hosts[0]!;
writeFileSync('/tmp/su/known_hosts', `[127.0.0.1]:${h.port} ${h.hostKeyPub.split(' ').slice(0, 2).join(' ')}\n`);
writeFileSync('/tmp/su/inv.ini', `[fleet]\n${h.name} ansible_host=127.0.0.1 ansible_port=${h.port} ansible_user=root ansible_ssh_private_key_file=${fleet.clientKeyPath} root=${h.root}\n`);
console.log('ready', h.port, h.root);
process.on('SIGTERM', async () => { await fleet.stop(); process.exit(0); });
setInterval(() => {}, 1 << 30);
