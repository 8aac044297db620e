/**
 * Built-in rule packs by name, for ANCHORLOG_DETECTION_PACKS (src/config.ts):
 * rule documents shipped in the code, so a deployment can run them before
 * the rule store serves rules. The starter pack of docs/detection.md
 * registers here.
 */
export const BUILTIN_RULE_PACKS: Readonly<Record<string, () => readonly unknown[]>> = {};
