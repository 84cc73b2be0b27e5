/** Entry point of the Velociraptor stand-in bundle (see ./standin.ts and ./build-standin.ts). */
import { main } from "./standin.js";

// No top-level await: the bundle is CommonJS (it runs as an extensionless /usr/local/bin/velociraptor).
void main();
