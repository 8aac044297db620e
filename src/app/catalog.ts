/**
 * The event catalog as ingest and the API see it (docs/events.md): the
 * catalog (compiled once, src/core/catalog.ts) and each log's mode.
 *
 * Today the catalog is the starter catalog shipped in the bundle
 * (catalog/*.json) and modes come from the configuration
 * (ANCHORLOG_CATALOG_MODE, ANCHORLOG_CATALOG_MODES). A stored catalog changed
 * through the admin API (stage → record in the `system` log → promote, as
 * rules are: src/app/rules.ts) plugs in behind the same CatalogPolicy.
 */
import type { Catalog, CatalogEntry } from '../core/catalog.ts';
import { isValidLogId } from '../core/names.ts';
import { AppError } from './errors.ts';
import { CATALOG_MODES, type CatalogMode, type CatalogPolicy } from './ingest.ts';

/**
 * Why `warn` is the default: turning the catalog on must not refuse events a
 * producer could send the day before (a dropped audit event is worse than an
 * imperfect one); receipts and the CatalogProblems metric show what to fix,
 * and a log moves to `enforce` once its producers are clean.
 */
export const DEFAULT_CATALOG_MODE: CatalogMode = 'warn';

export class StaticCatalogPolicy implements CatalogPolicy {
  readonly #catalog: Catalog;
  readonly #mode: CatalogMode;
  readonly #modes: ReadonlyMap<string, CatalogMode>;

  constructor(
    catalog: Catalog,
    mode: CatalogMode = DEFAULT_CATALOG_MODE,
    modes: ReadonlyMap<string, CatalogMode> = new Map(),
  ) {
    this.#catalog = catalog;
    this.#mode = mode;
    this.#modes = modes;
  }

  get catalog(): Catalog {
    return this.#catalog;
  }

  forLog(logId: string): { mode: CatalogMode; catalog: Catalog } {
    return { mode: this.#modes.get(logId) ?? this.#mode, catalog: this.#catalog };
  }

  /** `GET /v1/catalog`: every action's every version. */
  list(): { entries: readonly CatalogEntry[]; defaultMode: CatalogMode } {
    return { entries: this.#catalog.entries(), defaultMode: this.#mode };
  }

  /** `GET /v1/catalog/{action}`: its versions, oldest first; NOT_FOUND when unknown. */
  action(action: string): { action: string; versions: readonly CatalogEntry[] } {
    const versions = this.#catalog.versions(action);
    if (versions.length === 0)
      throw new AppError('NOT_FOUND', `action ${JSON.stringify(action.slice(0, 128))} is not in the catalog`);
    return { action, versions };
  }
}

export function isCatalogMode(s: string): s is CatalogMode {
  return (CATALOG_MODES as readonly string[]).includes(s);
}

/**
 * Parses `log=mode,log=mode` (ANCHORLOG_CATALOG_MODES). Throws RangeError
 * naming the bad entry, so configuration fails at start, not per request.
 */
export function parseCatalogModes(raw: string | undefined): Map<string, CatalogMode> {
  const out = new Map<string, CatalogMode>();
  if (raw === undefined || raw.trim() === '') return out;
  for (const part of raw.split(',')) {
    const [log, mode, extra] = part.trim().split('=');
    if (extra !== undefined || !log || !isValidLogId(log) || !mode || !isCatalogMode(mode))
      throw new RangeError(
        `catalog mode entry ${JSON.stringify(part.slice(0, 100))} must be <logId>=enforce|warn|off`,
      );
    out.set(log, mode);
  }
  return out;
}
