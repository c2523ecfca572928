// Adds diagram layout (BPMN DI) to diagrams written by hand as XML:
//   npm run layout -- ../../processes/circuit/assignment.bpmn [more.bpmn ...]
// The file is rewritten in place; open it in the modeler to refine the drawing.
const fs = require('fs');
const { layoutProcess } = require('bpmn-auto-layout');

async function main(paths) {
  if (!paths.length) {
    console.error('usage: npm run layout -- FILE.bpmn [...]');
    process.exit(2);
  }
  for (const path of paths) {
    const laidOut = await layoutProcess(fs.readFileSync(path, 'utf8'));
    fs.writeFileSync(path, laidOut);
    console.log(`laid out ${path}`);
  }
}

main(process.argv.slice(2)).catch((err) => { console.error(err.message); process.exit(1); });
