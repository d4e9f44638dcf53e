#!/usr/bin/env node
// The `provision` executable: a thin shim over the compiled CLI.
// `provision --version` alone is answered here, from package.json, before the CLI's module graph (commander, the
// inventory's YAML and Jinja2, esbuild, the runner) loads: it is what scripts and health checks call most often.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { readFileSync } = await import('node:fs');
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${version}\n`);
} else {
  // A Ctrl-C while the CLI's modules load says so; main() installs its own handlers, which say what it was doing.
  const loading = (signal) => {
    process.stderr.write(`\nprovision: ${signal}: interrupted while starting; no task ran on any host\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', loading).on('SIGTERM', loading);
  const { main } = await import('../dist/cli/main.js');
  process.off('SIGINT', loading).off('SIGTERM', loading);
  process.exitCode = await main(process.argv);
}
