/** The tool registry: every tool the server offers. Add a tool module's list here. */
import { analysisTools } from "./analysis.js";
import { artifactTools } from "./artifacts.js";
import { collectionTools } from "./collection.js";
import { generateReport } from "./report.js";
import { responseTools } from "./response.js";
import { clientTools } from "./clients.js";
import type { Tool } from "./define.js";
import { flowTools } from "./flows.js";
import { huntTools } from "./hunts.js";
import { serverTools } from "./server-info.js";
import { deploymentTools } from "./deploy/index.js";
import { evidenceTools } from "./evidence.js";
import { resultTools } from "./results.js";
import { validateVqlTool } from "./validate.js";
import { toolsetTools } from "./toolset-tools.js";
import { vqlTools } from "./vql.js";

export const TOOLS: Tool[] = [...toolsetTools, ...clientTools, ...artifactTools, ...huntTools, ...flowTools, ...vqlTools, validateVqlTool, ...resultTools, ...analysisTools, ...collectionTools, ...responseTools, generateReport, ...evidenceTools, ...serverTools, ...deploymentTools];
