// Inventory text is data: no variable's template runs JavaScript on the controller, whatever its characters.
// The payloads are the known ways out of nunjucks: names the compiler writes into generated code unescaped (symbols,
// filter and test names, keyword names, a called name), and the prototype chain of the render context and of values.
import { ok, strictEqual } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../../../src/inventory/index.js';
import { TemplateVarError } from '../../../src/inventory/jinja.js';

describe('Jinja2 in inventory variables: hostile text runs nothing', function () {
  let dir: string;
  let marker: string;
  const flag = '__provisionPwned';
  // the code each payload tries to run: set a global flag and create a file (no '.' or '=' in a symbol: \x escapes)
  const body = (dotted: boolean) =>
    dotted ? `globalThis.${flag}=1,process.getBuiltinModule('fs').writeFileSync(MARK,'x')` : `globalThis\\x2e${flag}\\x3d1`;
  const payloads: Record<string, string> = {};
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'provision-jinja-hostile-'));
    marker = join(dir, 'PWNED');
    const code = body(true).replace('MARK', JSON.stringify(marker));
    Object.assign(payloads, {
      symbol_quote: `{{ x"&&Function\`${body(false)}\`\`\`&&" }}`,
      symbol_backslash: `{{ x\\"&&Function\`${body(false)}\`\`\`&&\\" }}`,
      filter_name: `{{ 1 | x"&&Function\`${body(false)}\`\`\`&&" }}`,
      test_name_literal: `{{ 1 is 'defined").call(context,Function(\`globalThis.${flag}=1\`)()),("' }}`,
      keyword_name: `{{ 1 | default(x"&&Function\`${body(false)}\`\`\`&&"=1) }}`,
      called_name: `{{ x['\\"+Function(${JSON.stringify(code).replace(/'/g, '"')})()+"']() }}`,
      set_name: `{% set x"&&Function\`${body(false)}\`\`\`&&" = 1 %}`,
      for_name: `{% for x"&&Function\`${body(false)}\`\`\`&&" in [1] %}{% endfor %}`,
      constructor: '{{ constructor }}',
      constructor_call: `{{ constructor.constructor(${JSON.stringify(code).replace(/'/g, '"')})() }}`,
      value_of: '{{ valueOf() }}',
      lookup_getter: "{{ __lookupGetter__('x') }}",
      proto: '{{ __proto__ }}',
      value_proto: "{{ groups.__proto__ }}",
      value_constructor: "{{ groups['constructor']['constructor'] }}",
      string_constructor: "{{ 'a'.constructor }}",
      set_proto: "{% set __proto__ = {'polluted': 1} %}{{ polluted }}",
      to_string: '{{ toString }}',
      has_own: "{{ hasOwnProperty('x') }}",
      via_hostvars: "{{ hostvars['h1'].symbol_quote }}",
      inherited_filter: "{{ 'x' | constructor }}",
      inherited_test: "{{ 'x' is __proto__ }}",
      inherited_lookup: "{{ lookup('constructor', 'x') }}",
      inherited_map: "{{ ['x'] | map('constructor') | list }}",
      inherited_select: "{{ ['x'] | select('toString') | list }}",
      pipe_not_allowed: `{{ lookup('pipe', 'touch ' ~ ${JSON.stringify(marker).replace(/"/g, "'")}) }}`,
    });
    mkdirSync(join(dir, 'group_vars'));
    writeFileSync(join(dir, 'hosts.ini'), 'h1\n');
    writeFileSync(
      join(dir, 'group_vars', 'all.yml'),
      Object.entries(payloads)
        .map(([k, v]) => `${k}: '${v.replace(/'/g, "''")}'`)
        .join('\n') + '\n',
    );
  });
  after(() => {
    delete (globalThis as Record<string, unknown>)[flag];
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails each payload as a template error naming the variable and its file, and runs none', async function () {
    const vars = (await loadInventory([join(dir, 'hosts.ini')])).templatedVars('h1');
    const outcomes: string[] = [];
    for (const name of Object.keys(payloads)) {
      try {
        const v = vars[name];
        outcomes.push(`${name}: rendered ${JSON.stringify(v)}`);
      } catch (err) {
        ok(err instanceof TemplateVarError, `${name}: ${String(err)}`);
        ok((err as Error).message.includes(`variable "${name}"`) && (err as Error).message.includes('all.yml'), (err as Error).message);
        outcomes.push(`${name}: error`);
      }
      strictEqual((globalThis as Record<string, unknown>)[flag], undefined, `${name} ran code on the controller`);
      strictEqual(existsSync(marker), false, `${name} ran code on the controller`);
    }
    // none renders: each is a syntax error or an undefined name, as under Ansible's Jinja
    strictEqual(outcomes.filter((o) => !o.endsWith('error')).join('\n'), '');
  });
});
