// Bundle size probe (see README.txt): parse and evaluate one expression with @marcbachmann/cel-js.
import { Environment } from '@marcbachmann/cel-js';

const env = new Environment({ unlistedVariablesAreDyn: true });
const f = env.parse(process.argv[2] ?? 'event.action == "data.export"');
console.log(f({ event: { action: 'data.export' } }));
