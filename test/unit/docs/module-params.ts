// Reads each exported module's parameter names from the TypeScript types, so the docs can be checked against them.
import ts from 'typescript';
import { join } from 'node:path';

/** Maps each module function exported by src/modules/index.ts to its own parameter names (common options left out). */
export function moduleParams(repoRoot: string): Map<string, string[]> {
  const entry = join(repoRoot, 'src/modules/index.ts');
  const program = ts.createProgram([entry, join(repoRoot, 'src/playbook/types.ts')], {
    strict: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const typesFile = program.getSourceFile(join(repoRoot, 'src/playbook/types.ts'));
  // the common options' names, from the type CommonOptions is (derived from its one shape)
  const common = new Set<string>();
  ts.forEachChild(typesFile!, (node) => {
    if ((ts.isTypeAliasDeclaration(node) || ts.isInterfaceDeclaration(node)) && node.name.text === 'CommonOptions') {
      for (const p of checker.getPropertiesOfType(checker.getTypeAtLocation(node.name))) common.add(p.getName());
    }
  });
  if (common.size < 10) throw new Error(`CommonOptions has only ${[...common].join(', ')}`);
  const source = program.getSourceFile(entry)!;
  const moduleSymbol = checker.getSymbolAtLocation(source)!;
  const out = new Map<string, string[]>();
  for (const exp of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
    const decl = symbol.valueDeclaration;
    if (!decl) continue;
    const type = checker.getTypeOfSymbolAtLocation(symbol, decl);
    const signature = type.getCallSignatures()[0];
    const param = signature?.getParameters()[0];
    if (!param) continue;
    const paramType = checker.getTypeOfSymbolAtLocation(param, decl);
    const members = paramType.isUnion() ? paramType.types : [paramType];
    const names = new Set<string>();
    for (const m of members) for (const p of checker.getPropertiesOfType(m)) names.add(p.getName());
    // service's `name` is the service (as Ansible's), not the display name.
    out.set(exp.getName(), [...names].filter((n) => !common.has(n) || (exp.getName() === 'service' && n === 'name')).sort());
  }
  return out;
}
