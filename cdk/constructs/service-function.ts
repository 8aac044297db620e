/**
 * One anchorlog Lambda: NodejsFunction bundled by the local esbuild (ESM,
 * ARM64, current Node runtime), its own role (no managed policies), its own
 * log group with a retention, and the environment every handler's
 * `loadConfig()` needs. Stores grant access *and* set their env var through
 * `addEnv` + `role` in one call (see AuditTable, ArchiveBucket, SigningKey),
 * so a permission and the configuration that uses it cannot drift apart.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Repository root (cdk/constructs/ → ../..). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every function runs on this runtime; the invariant tests refuse anything older than nodejs22.x. */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;

/** ESM bundles may still contain CommonJS `require` calls (inside dependencies). */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __anchorlogCreateRequire } from 'node:module'; const require = __anchorlogCreateRequire(import.meta.url);";

/**
 * DuckDB (the columnar query index, docs/query.md §7) is a native module: its binary cannot be
 * bundled by esbuild, so the functions that run it get the locked npm packages copied next to
 * their bundle (`node_modules/` in the function's code asset), where Node's ESM resolution of
 * `import('@duckdb/node-api')` from `/var/task/index.mjs` finds them. Why not a layer: the bundles
 * are ESM, and ESM resolution does not consult NODE_PATH (`/opt/nodejs/node_modules`); packages in
 * the asset resolve exactly as test/cdk/query-index.test.ts resolves and loads them from the
 * synthesized asset. The copy is offline (the packages already in node_modules, no npm, no Docker).
 *
 * The architecture follows the binary in the lockfile's install: `@duckdb/node-bindings-linux-x64`
 * is the one npm installed here, so these functions run on x86_64 (every other function on arm64).
 * To move them to arm64, install `@duckdb/node-bindings-linux-arm64` (npm install --os=linux
 * --cpu=arm64) and change DUCKDB_ARCHITECTURE; the synth fails if the package is missing.
 */
export const DUCKDB_ARCHITECTURE = lambda.Architecture.X86_64;
const DUCKDB_BINDINGS: Record<string, string> = {
  [lambda.Architecture.X86_64.name]: '@duckdb/node-bindings-linux-x64',
  [lambda.Architecture.ARM_64.name]: '@duckdb/node-bindings-linux-arm64',
};
/** The packages `import('@duckdb/node-api')` loads at run time, in dependency order. */
export function duckdbPackages(arch: lambda.Architecture = DUCKDB_ARCHITECTURE): string[] {
  const bindings = DUCKDB_BINDINGS[arch.name];
  if (!bindings) throw new Error(`no DuckDB bindings package for Lambda architecture ${arch.name}`);
  return ['@duckdb/node-api', '@duckdb/node-bindings', bindings, 'detect-libc'];
}

/** Shell commands (CDK local bundling) that copy the DuckDB packages into the asset's node_modules. */
function copyDuckdbCommands(inputDir: string, outputDir: string): string[] {
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  return duckdbPackages().flatMap((pkg) => {
    const from = path.join(inputDir, 'node_modules', pkg);
    const to = path.join(outputDir, 'node_modules', pkg);
    return [`mkdir -p ${q(path.dirname(to))}`, `cp -RL ${q(from)} ${q(to)}`];
  });
}

export interface ServiceFunctionProps {
  /** Handler module under lambdas/, without extension (e.g. `ingest`). */
  readonly entry: string;
  readonly description: string;
  readonly memorySize?: number;
  readonly timeout?: Duration;
  /** Async invocation retries (scheduled jobs set 0: the next schedule is the retry). */
  readonly retryAttempts?: number;
  /** CloudWatch Logs retention in days (a token from a CfnParameter is fine). */
  readonly logRetentionDays: number;
  /** Plain settings (origin prefix, limits, TSA list…); store names come from the stores' grants. */
  readonly environment?: Record<string, string>;
  /**
   * A function invoked, with a destination record, when an asynchronous invocation of this one
   * ends, whatever its outcome (the seal function → the detect function). Grants the invoke.
   */
  readonly afterwards?: ServiceFunction;
  /** Runs the columnar index (DuckDB): its packages go into the asset, on DUCKDB_ARCHITECTURE. */
  readonly duckdb?: boolean;
}

export class ServiceFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // A role of its own, with only what the stores grant plus writing its own log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `anchorlog ${props.entry} function`,
    });
    this.logGroup.grantWrite(this.role);

    if (props.duckdb)
      for (const pkg of duckdbPackages())
        if (!existsSync(path.join(REPO_ROOT, 'node_modules', pkg, 'package.json')))
          throw new Error(
            `${props.entry} runs DuckDB but ${pkg} is not installed (npm ci; see DUCKDB_ARCHITECTURE in cdk/constructs/service-function.ts)`,
          );
    this.fn = new NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, 'lambdas', `${props.entry}.ts`),
      handler: 'handler',
      description: props.description,
      runtime: RUNTIME,
      architecture: props.duckdb ? DUCKDB_ARCHITECTURE : lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(29),
      role: this.role,
      logGroup: this.logGroup,
      ...(props.retryAttempts !== undefined ? { retryAttempts: props.retryAttempts } : {}),
      ...(props.afterwards
        ? { onSuccess: this.#invokes(props.afterwards), onFailure: this.#invokes(props.afterwards) }
        : {}),
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        format: OutputFormat.ESM,
        banner: ESM_REQUIRE_BANNER,
        mainFields: ['module', 'main'],
        // Bundle the AWS SDK too: the deployed code is exactly the locked, tested versions.
        // DuckDB is the one exception: its native binary cannot be bundled. It is loaded on first
        // use (src/app/duckdb-engine.ts); functions with `duckdb` get its packages beside the bundle.
        externalModules: ['@duckdb/node-api'],
        ...(props.duckdb
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: copyDuckdbCommands,
              },
            }
          : {}),
        minify: true,
        sourceMap: true,
        // Never Docker: bundling must work offline with the esbuild in node_modules.
        forceDockerBundling: false,
      },
    });
    // The role must exist with its log permissions before the function does.
    this.fn.node.addDependency(this.role);
  }

  /**
   * `target` as an asynchronous-invocation destination, this role allowed to invoke exactly that
   * function. (LambdaDestination would also grant `<function>:*`, every version and alias.)
   */
  #invokes(target: ServiceFunction): lambda.IDestination {
    return {
      bind: () => {
        this.role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [target.fn.functionArn] }),
        );
        return { destination: target.fn.functionArn };
      },
    };
  }

  addEnv(name: string, value: string): void {
    this.fn.addEnvironment(name, value);
  }
}
