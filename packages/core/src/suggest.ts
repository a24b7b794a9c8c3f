/**
 * "Did you mean" for keys, method and dataset names, commands and file names: the closest
 * candidates by edit distance (adjacent swaps count as one edit, so `minst` is one edit from
 * `mnist`), case-insensitive.
 */

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  const d: number[][] = Array.from({ length: n + 1 }, (_, i) => Array.from({ length: m + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[n]![m]!;
}

/**
 * The candidates closest to `word` (ties only), if close enough to be what was meant: at most a
 * third of the word's length in edits (at least 1), or one being a prefix of the other
 * (`epoch`/`epochs`).
 */
export function closestMatches(word: string, candidates: Iterable<string>, max = 3): string[] {
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.floor(w.length / 3));
  const scored: { c: string; d: number }[] = [];
  for (const c of new Set(candidates)) {
    if (c === word) continue;
    const lc = c.toLowerCase();
    let d = editDistance(w, lc);
    if (d > limit && w.length >= 3 && lc.length >= 3 && (lc.startsWith(w) || w.startsWith(lc))) d = limit;
    if (d <= limit) scored.push({ c, d });
  }
  scored.sort((x, y) => x.d - y.d || x.c.localeCompare(y.c));
  // Only the closest ones: a second name two edits further away is noise, not a hint.
  const best = scored[0]?.d ?? 0;
  return scored.filter((s) => s.d === best).slice(0, max).map((s) => s.c);
}

/** ` (did you mean "x"?)`, ` (did you mean "x" or "y"?)`, or "" when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>, quote: (s: string) => string = (s) => `"${s}"`): string {
  const m = closestMatches(word, candidates, 2);
  if (m.length === 0) return "";
  return ` (did you mean ${m.map(quote).join(" or ")}?)`;
}
