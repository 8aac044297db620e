/**
 * Built-in rule packs by name, for ANCHORLOG_DETECTION_PACKS (src/config.ts):
 * the starter pack's rule documents (rules/<pack>/*.json, docs/detection.md
 * "The starter rule pack"), imported so they ship inside the function's
 * bundle, and a deployment can run them before the rule store serves rules.
 * test/compose/rule-packs.test.ts holds this list equal to the files.
 */
import aiAccessPrivilegedGrantByNonAdmin from '../../rules/ai-platform/ai.access.privileged-grant-by-non-admin.json' with {
  type: 'json',
};
import aiAccessPrivilegedGrantOutsideWindow from '../../rules/ai-platform/ai.access.privileged-grant-outside-window.json' with {
  type: 'json',
};
import aiAgentFirstTool from '../../rules/ai-platform/ai.agent.first-tool.json' with { type: 'json' };
import aiAgentToolRate from '../../rules/ai-platform/ai.agent.tool-rate.json' with { type: 'json' };
import aiBudgetBreachUnapproved from '../../rules/ai-platform/ai.budget.breach-unapproved.json' with {
  type: 'json',
};
import aiDataExportFrequency from '../../rules/ai-platform/ai.data-export.frequency.json' with {
  type: 'json',
};
import aiDataExportVolume from '../../rules/ai-platform/ai.data-export.volume.json' with { type: 'json' };
import aiGuardrailDenialsSpike from '../../rules/ai-platform/ai.guardrail.denials-spike.json' with {
  type: 'json',
};
import anchorlogAdminActions from '../../rules/anchorlog/anchorlog.admin.actions.json' with { type: 'json' };
import anchorlogAdminAdminScopeGranted from '../../rules/anchorlog/anchorlog.admin.admin-scope-granted.json' with {
  type: 'json',
};
import anchorlogAdminBreakGlassUsed from '../../rules/anchorlog/anchorlog.admin.break-glass-used.json' with {
  type: 'json',
};
import anchorlogSelfAnchorQuorumMissed from '../../rules/anchorlog/anchorlog.self.anchor-quorum-missed.json' with {
  type: 'json',
};
import anchorlogSelfLogHalted from '../../rules/anchorlog/anchorlog.self.log-halted.json' with {
  type: 'json',
};
import anchorlogSelfProducerHeartbeatMissed from '../../rules/anchorlog/anchorlog.self.producer-heartbeat-missed.json' with {
  type: 'json',
};
import anchorlogSelfProducerSilence from '../../rules/anchorlog/anchorlog.self.producer-silence.json' with {
  type: 'json',
};
import anchorlogSelfSealLag from '../../rules/anchorlog/anchorlog.self.seal-lag.json' with { type: 'json' };
import anchorlogSelfTsaFailing from '../../rules/anchorlog/anchorlog.self.tsa-failing.json' with {
  type: 'json',
};

export const BUILTIN_RULE_PACKS: Readonly<Record<string, () => readonly unknown[]>> = {
  'ai-platform': () => [
    aiAccessPrivilegedGrantByNonAdmin,
    aiAccessPrivilegedGrantOutsideWindow,
    aiAgentFirstTool,
    aiAgentToolRate,
    aiBudgetBreachUnapproved,
    aiDataExportFrequency,
    aiDataExportVolume,
    aiGuardrailDenialsSpike,
  ],
  anchorlog: () => [
    anchorlogAdminActions,
    anchorlogAdminAdminScopeGranted,
    anchorlogAdminBreakGlassUsed,
    anchorlogSelfAnchorQuorumMissed,
    anchorlogSelfLogHalted,
    anchorlogSelfProducerHeartbeatMissed,
    anchorlogSelfProducerSilence,
    anchorlogSelfSealLag,
    anchorlogSelfTsaFailing,
  ],
};
