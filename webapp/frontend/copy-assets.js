#!/usr/bin/env node
// Copies the prebuilt bpmn-js viewer bundle, its CSS/fonts and our own
// instance-diagram script/style into webapp/static/vendor/.
//
// Run with `npm run build` after `npm ci`. Fails (exit code 1) if any source
// file is missing, so a broken install never goes unnoticed.
'use strict';

const fs = require('fs');
const path = require('path');

const here = __dirname;
const bpmnDist = path.join(here, 'node_modules', 'bpmn-js', 'dist');
const staticVendor = path.resolve(here, '..', 'static', 'vendor');

// Each target directory is owned by this script: it is emptied before copying
// so that files from an older bpmn-js version never linger.
const groups = [
  {
    target: path.join(staticVendor, 'bpmn-js'),
    files: [
      // [source, destination relative to target]
      [path.join(bpmnDist, 'bpmn-viewer.production.min.js'), 'bpmn-viewer.production.min.js'],
      [path.join(bpmnDist, 'assets', 'diagram-js.css'), 'assets/diagram-js.css'],
      [path.join(bpmnDist, 'assets', 'bpmn-js.css'), 'assets/bpmn-js.css'],
      // bpmn.css refers to its fonts as ../font/bpmn.*: keep the css/ + font/ layout.
      [path.join(bpmnDist, 'assets', 'bpmn-font', 'css', 'bpmn.css'), 'assets/bpmn-font/css/bpmn.css'],
      [path.join(bpmnDist, 'assets', 'bpmn-font', 'font', 'bpmn.eot'), 'assets/bpmn-font/font/bpmn.eot'],
      [path.join(bpmnDist, 'assets', 'bpmn-font', 'font', 'bpmn.woff2'), 'assets/bpmn-font/font/bpmn.woff2'],
      [path.join(bpmnDist, 'assets', 'bpmn-font', 'font', 'bpmn.woff'), 'assets/bpmn-font/font/bpmn.woff'],
      [path.join(bpmnDist, 'assets', 'bpmn-font', 'font', 'bpmn.ttf'), 'assets/bpmn-font/font/bpmn.ttf'],
      [path.join(bpmnDist, 'assets', 'bpmn-font', 'font', 'bpmn.svg'), 'assets/bpmn-font/font/bpmn.svg'],
      // bpmn-js licence, shipped next to the bundle it covers.
      [path.join(here, 'node_modules', 'bpmn-js', 'LICENSE'), 'LICENSE'],
    ],
  },
  {
    target: path.join(staticVendor, 'dosar'),
    files: [
      [path.join(here, 'instance-diagram.js'), 'instance-diagram.js'],
      [path.join(here, 'instance-diagram.css'), 'instance-diagram.css'],
    ],
  },
];

function fail(message) {
  console.error('copy-assets: ERROR: ' + message);
  process.exit(1);
}

// Check every source before touching the output, so a failure leaves the
// previous build in place.
const missing = [];
for (const group of groups) {
  for (const [src] of group.files) {
    let ok = false;
    try {
      ok = fs.statSync(src).isFile();
    } catch (err) {
      ok = false;
    }
    if (!ok) missing.push(path.relative(here, src));
  }
}
if (missing.length > 0) {
  fail('missing source file(s):\n  ' + missing.join('\n  ') +
       '\nDid you run `npm ci` in webapp/frontend?');
}

let count = 0;
try {
  for (const group of groups) {
    fs.rmSync(group.target, { recursive: true, force: true });
    for (const [src, rel] of group.files) {
      const dest = path.join(group.target, rel);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(src, dest);
      count += 1;
    }
  }
} catch (err) {
  fail(err && err.stack ? err.stack : String(err));
}

const version = require(path.join(here, 'node_modules', 'bpmn-js', 'package.json')).version;
console.log('copy-assets: copied ' + count + ' files (bpmn-js ' + version + ') into ' +
            path.relative(path.resolve(here, '..', '..'), staticVendor));
