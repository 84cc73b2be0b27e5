/**
 * The clients of the test fixtures (test/fixtures/default.json and incident.json share them, with the same host
 * names), named once so tests do not each spell the ids again. Host names are what os_info.hostname reports.
 */
/** WKS-FIN-01, Windows (incident: the finance workstation where the intrusion starts). */
export const WIN = "C.1a2b3c4d5e6f7a01";
/** WKS-HR-07, Windows. */
export const HR = "C.1a2b3c4d5e6f7a02";
/** web-prod-01, Linux (incident: the web server with the miner). */
export const LINUX = "C.2b3c4d5e6f7a8b01";
/** db-prod-01, Linux. */
export const DB = "C.2b3c4d5e6f7a8b02";
