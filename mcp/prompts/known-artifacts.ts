/** The built-in artifact names prompts may recommend: the list lives with the Velociraptor client (the test server checks fixtures against it too). */
export { ALL_KNOWN_ARTIFACTS, KNOWN_ARTIFACTS } from "../../velociraptor/known-artifacts.js";
