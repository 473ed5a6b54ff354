/**
 * `node:crypto`'s scrypt, in a module of its own so keystore.ts loads it only to open an
 * encrypted identity: loading `node:crypto` costs every command start-up time and memory.
 */
export { scrypt } from "node:crypto";
