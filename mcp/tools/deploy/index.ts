/** The deploy tools, grouped by concern: deployments, agents, credentials, templates. */
import { checkAgentDeployment, createOfflineCollector, deployAgentsSsh, generateAgentInstaller, generateAnsible, generateGpo } from "./agents.js";
import { deleteCredential, generateApiCredentials, generateServerConfig, listCredentials, storeCredential } from "./credentials.js";
import { deployServer, deployServerCloud, deployServerDocker, destroyDeployment, getDeploymentStatus, listDeployments, previewDeployment, refreshDeployment, rollbackDeployment, rotateCertificates, validateDeployment } from "./deployments.js";
import { exportDeploymentDocs, listDeploymentTemplates, saveDeploymentTemplate } from "./templates.js";

export * from "./agents.js";
export * from "./credentials.js";
export * from "./deployments.js";
export * from "./templates.js";

/** In the order docs/tools.md has always listed them. */
export const deploymentTools = [
  generateServerConfig,
  generateApiCredentials,
  deployAgentsSsh,
  checkAgentDeployment,
  rotateCertificates,
  exportDeploymentDocs,
  validateDeployment,
  deployServer, previewDeployment, deployServerDocker, deployServerCloud, getDeploymentStatus, listDeployments, destroyDeployment,
  refreshDeployment, rollbackDeployment, saveDeploymentTemplate, listDeploymentTemplates, storeCredential, listCredentials,
  deleteCredential, generateGpo, generateAnsible, generateAgentInstaller, createOfflineCollector,
];
