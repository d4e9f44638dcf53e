// What an editor shows on hover: every parameter of every module function, and every task option, has a doc comment.
// Read with the TypeScript compiler itself from the library's entry, as an editor reads it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../../helpers/cli.js';

describe('doc comments a user sees on hover', function () {
  this.timeout(60_000);

  it('every module parameter and task option has one', () => {
    const entry = join(repoRoot, 'src/index.ts');
    const program = ts.createProgram([entry], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, skipLibCheck: true, noEmit: true });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(entry);
    assert.ok(source);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    assert.ok(moduleSymbol);
    const missing: string[] = [];
    let modules = 0;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const decl = symbol.valueDeclaration;
      if (!decl || !ts.isFunctionDeclaration(decl) || !decl.parameters[0]) continue;
      const signature = checker.getSignatureFromDeclaration(decl);
      const returns = signature && checker.typeToString(checker.getReturnTypeOfSignature(signature));
      if (returns !== 'Task') continue; // module functions build tasks
      modules++;
      const type = checker.getTypeAtLocation(decl.parameters[0]);
      const members = type.isUnion() ? type.types : [type];
      // A parameter of a union (file's states) is documented when one of its members documents it.
      const documented = new Map<string, boolean>();
      for (const member of members) {
        for (const prop of checker.getPropertiesOfType(member)) {
          // as an editor's quick info does: the doc comments of the property's declarations
          const doc =
            ts.displayPartsToString(prop.getDocumentationComment(checker)).trim() !== '' ||
            (prop.declarations ?? []).some((d) => ts.getJSDocCommentsAndTags(d).length > 0);
          documented.set(prop.name, (documented.get(prop.name) ?? false) || doc);
        }
      }
      for (const [name, doc] of documented) if (!doc) missing.push(`${exported.name}({ ${name} })`);
    }
    assert.ok(modules >= 13, `found ${modules} module functions`);
    assert.deepEqual(missing, [], 'parameters without a doc comment');
  });
});
