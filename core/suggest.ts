/** "Did you mean …": close names for a mistyped one (tools, artifacts, parameters). */

export function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

/** Up to three close names, best first. */
export function didYouMean(name: string, candidates: Iterable<string>): string[] {
  const scored = [...candidates].map((c) => ({ c, d: levenshtein(name, c) })).filter((x) => x.d <= Math.max(3, Math.floor(name.length / 4)));
  return scored.sort((x, y) => x.d - y.d).slice(0, 3).map((x) => x.c);
}
