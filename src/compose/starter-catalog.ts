/**
 * The starter event catalog (catalog/*.json, docs/events.md), imported so it
 * ships inside every function bundle: ingest validates against it before any
 * catalog is stored. test/core/catalog.test.ts holds this list equal
 * to the files.
 */
import accessGrantV1 from '../../catalog/access.grant.v1.json' with { type: 'json' };
import accessRevokeV1 from '../../catalog/access.revoke.v1.json' with { type: 'json' };
import agentTaskCompleteV1 from '../../catalog/agent.task.complete.v1.json' with { type: 'json' };
import agentTaskFailV1 from '../../catalog/agent.task.fail.v1.json' with { type: 'json' };
import agentTaskSubmitV1 from '../../catalog/agent.task.submit.v1.json' with { type: 'json' };
import authMfaEnrollV1 from '../../catalog/auth.mfa.enroll.v1.json' with { type: 'json' };
import authMfaVerifyV1 from '../../catalog/auth.mfa.verify.v1.json' with { type: 'json' };
import authSigninV1 from '../../catalog/auth.signin.v1.json' with { type: 'json' };
import budgetThresholdBreachV1 from '../../catalog/budget.threshold.breach.v1.json' with { type: 'json' };
import configUpdateV1 from '../../catalog/config.update.v1.json' with { type: 'json' };
import connectionRegisterV1 from '../../catalog/connection.register.v1.json' with { type: 'json' };
import connectionRemoveV1 from '../../catalog/connection.remove.v1.json' with { type: 'json' };
import connectionUpdateV1 from '../../catalog/connection.update.v1.json' with { type: 'json' };
import dataExportV1 from '../../catalog/data.export.v1.json' with { type: 'json' };
import guardrailEvaluateV1 from '../../catalog/guardrail.evaluate.v1.json' with { type: 'json' };
import modelInvokeV1 from '../../catalog/model.invoke.v1.json' with { type: 'json' };
import producerHeartbeatV1 from '../../catalog/producer.heartbeat.v1.json' with { type: 'json' };
import roleChangeV1 from '../../catalog/role.change.v1.json' with { type: 'json' };
import toolCallV1 from '../../catalog/tool.call.v1.json' with { type: 'json' };
import webhookReceiveV1 from '../../catalog/webhook.receive.v1.json' with { type: 'json' };
import workflowApproveV1 from '../../catalog/workflow.approve.v1.json' with { type: 'json' };
import workflowTriggerV1 from '../../catalog/workflow.trigger.v1.json' with { type: 'json' };

export const STARTER_CATALOG_DOCUMENTS: readonly unknown[] = [
  accessGrantV1,
  accessRevokeV1,
  agentTaskCompleteV1,
  agentTaskFailV1,
  agentTaskSubmitV1,
  authMfaEnrollV1,
  authMfaVerifyV1,
  authSigninV1,
  budgetThresholdBreachV1,
  configUpdateV1,
  connectionRegisterV1,
  connectionRemoveV1,
  connectionUpdateV1,
  dataExportV1,
  guardrailEvaluateV1,
  modelInvokeV1,
  producerHeartbeatV1,
  roleChangeV1,
  toolCallV1,
  webhookReceiveV1,
  workflowApproveV1,
  workflowTriggerV1,
];
