// STOPGAP until lean-core lands: memory-stream's content hash (not used by the results).
export function createHash(_algorithm: string) {
  const h = { update: () => h, digest: () => "0000000000000000" };
  return h;
}
