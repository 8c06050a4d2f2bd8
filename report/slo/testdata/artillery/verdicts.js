// Writes Artillery 2.0.34's verdict into each form of forms.json, run as
//   npm install filtrex@2.2.3 && node verdicts.js
// It follows the ensure plugin (packages/artillery-plugin-ensure): flatten
// the report's counters, rates and summaries to names in report order,
// replace each name found in the expression text by a quoted hash, compile
// with filtrex 2.2.3 (a check that does not compile returns undefined) and
// pass when the result is exactly 1. Config templates are rendered from
// --variables first, as Artillery's resolveConfigTemplates does.
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { compileExpression } = require('filtrex');

const dir = __dirname;
const fixture = JSON.parse(fs.readFileSync(path.join(dir, 'fixture.json')));
const formsPath = path.join(dir, 'forms.json');
const forms = JSON.parse(fs.readFileSync(formsPath));
const cliVars = fixture.variables;

const hash = (s) => crypto.createHash('sha256').update(s).digest('hex');
function render(v) {
  if (typeof v !== 'string' || !v.includes('{{')) return v;
  const whole = v.match(/^{{\s*([\w$.]+)\s*}}$/);
  if (whole) return cliVars[whole[1]];
  return v.replace(/{{\s*([\w$.]+)\s*}}/g, (_, n) => String(cliVars[n]));
}

const names = [];
const values = {};
const add = (name, v) => { names.push(name); values[hash(name)] = v; };
for (const obj of [fixture.counters, fixture.rates]) for (const [k, v] of Object.entries(obj)) add(k, v);
for (const [n, stats] of Object.entries(fixture.summaries)) for (const [a, v] of Object.entries(stats)) add(`${n}.${a}`, v);

function check(expr) {
  for (const n of names) while (expr.includes(n)) expr = expr.replace(n, `'${hash(n)}'`);
  let f = () => undefined;
  try { f = compileExpression(expr); } catch (e) { /* Artillery logs it */ }
  return f(values) === 1;
}

for (const x of forms) {
  let ok;
  if (x.threshold) ok = check(`${x.threshold} < ${render(x.limit)}`);
  else if (x.condition) ok = check(render(x.condition));
  else if (x.legacy === 'maxErrorRate') ok = check(`((vusers.created - vusers.completed)/vusers.created * 100) <= ${Number(x.limit)}`);
  else ok = check(`http.response_time.${x.legacy} < ${parseInt(x.limit, 10)}`);
  x.artillery = ok ? 'pass' : 'fail';
}
fs.writeFileSync(formsPath, JSON.stringify(forms, null, 1) + '\n');
