// Bundle size probe (see README.txt): parse, plan and evaluate one expression with @bufbuild/cel.
import { celEnv, parse, plan } from '@bufbuild/cel';

const env = celEnv();
const f = plan(env, parse(process.argv[2] ?? 'event.action == "data.export"'));
console.log(f({ event: { action: 'data.export' } }));
