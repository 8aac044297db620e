// ReDoS probe (see README.txt): RE2 (@bufbuild/cel) against JavaScript RegExp (@marcbachmann/cel-js).
import * as buf from '@bufbuild/cel';
import * as marc from '@marcbachmann/cel-js';

const env = new marc.Environment({ unlistedVariablesAreDyn: true });
const s = 'a'.repeat(28) + '!';
const e = `s.matches('^(a+)+$')`;
let t = performance.now();
console.log('buf', String(buf.run(e, { s })), (performance.now() - t).toFixed(1), 'ms');
t = performance.now();
console.log('marc', String(env.evaluate(e, { s })), (performance.now() - t).toFixed(1), 'ms');
