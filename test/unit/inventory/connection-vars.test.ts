// Connection settings from Ansible's variable names and the short ones.

import { deepStrictEqual, throws } from 'node:assert';
import { InputError } from '../../../src/errors.js';
import { resolveConnectionVars } from '../../../src/inventory/index.js';
import { redact } from '../../../src/secret.js';

describe('resolveConnectionVars', function () {
  it('defaults to ssh to the inventory name', function () {
    deepStrictEqual(resolveConnectionVars({}, 'web1'), { connection: 'ssh', address: 'web1' });
  });

  // passwords become process-wide secrets (redacted everywhere), so the tests use distinctive ones
  it('reads Ansible names', function () {
    const vars = {
      ansible_host: '10.0.0.5', ansible_port: 2222, ansible_user: 'deploy', ansible_ssh_private_key_file: '~/.ssh/id',
      ansible_password: 'conn-test-pw-1', ansible_become: 'yes', ansible_become_user: 'www-data', ansible_become_password: 'conn-test-bpw-2',
    };
    deepStrictEqual(resolveConnectionVars(vars, 'web1'), {
      connection: 'ssh', address: '10.0.0.5', port: 2222, user: 'deploy', privateKeyFile: '~/.ssh/id', password: 'conn-test-pw-1',
      become: true, becomeUser: 'www-data', becomePassword: 'conn-test-bpw-2',
    });
  });

  it('reads the short names', function () {
    const vars = {
      ssh_host: '10.0.0.6', ssh_port: '22', ssh_user: 'u', ssh_key: 'k', ssh_password: 'conn-test-pw-3',
      become: true, become_user: 'root', become_password: 'conn-test-bpw-4', connection: 'ssh',
    };
    deepStrictEqual(resolveConnectionVars(vars, 'h'), {
      connection: 'ssh', address: '10.0.0.6', port: 22, user: 'u', privateKeyFile: 'k', password: 'conn-test-pw-3',
      become: true, becomeUser: 'root', becomePassword: 'conn-test-bpw-4',
    });
  });

  it('prefers Ansible names when both are set, and accepts the older aliases', function () {
    const c = resolveConnectionVars({ ansible_host: 'a', ssh_host: 'b', ansible_ssh_pass: 'conn-test-old-5', ssh_password: 'conn-test-short-6', ansible_become_pass: 'conn-test-x-7' }, 'h');
    deepStrictEqual([c.address, c.password, c.becomePassword], ['a', 'conn-test-old-5', 'conn-test-x-7']);
  });

  it('a local host with no address is reached at its own name, and become accepts Ansible booleans', function () {
    deepStrictEqual(resolveConnectionVars({ ansible_connection: 'local', become: 'no' }, 'localhost'), { connection: 'local', address: 'localhost', become: false });
  });

  it('registers passwords as secrets so they are redacted', function () {
    resolveConnectionVars({ ansible_password: 'hunter2-secret' }, 'h');
    deepStrictEqual(redact('pw is hunter2-secret'), 'pw is ********');
  });

  it('refuses an unknown connection type, a bad port, a bad boolean', function () {
    throws(() => resolveConnectionVars({ ansible_connection: 'winrm' }, 'h'), InputError);
    throws(() => resolveConnectionVars({ ansible_port: 'ssh' }, 'h'), /ansible_port must be a port number/);
    throws(() => resolveConnectionVars({ become: 'perhaps' }, 'h'), /become must be a boolean/);
  });
});
