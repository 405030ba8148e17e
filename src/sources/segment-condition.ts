import type { Db } from '../store/index.js';
import { SourceConfigError } from './errors.js';

/**
 * Trust model. A segment condition is operator configuration, as trusted as the credentials of the source
 * database (whoever can set one could connect with those credentials anyway), and it is spliced into
 * `WHERE (...)` of the freeze. What we guard against is a condition that does more than select rows —
 * by mistake or by a pasted payload:
 *  - lexically: no `;` (a second statement), no comments (`--`, `/*`) that could hide the rest of our SQL,
 *    no `$` (parameters, dollar quoting) and no backslash (escape strings), no NUL; parentheses outside
 *    quoted text must balance without ever closing ours, and quoted text must be closed;
 *  - semantically: `EXPLAIN SELECT 1 FROM <profiles> WHERE (<condition>)` inside a READ ONLY transaction with
 *    a short statement timeout must succeed, which proves it parses as one expression, that PostgreSQL accepts
 *    it as boolean, and that it names existing columns — without executing it.
 * Conditions may still call functions and read other tables (`EXISTS (SELECT ...)` is a fair segment
 * definition), so give the source role read-only access to profile data (plus CREATE on the staging schema).
 */
export function checkConditionText(segment: string, condition: string): void {
  const fail = (problem: string): never => {
    // The condition text is not echoed: it may hold literal values (an e-mail address in a test segment).
    throw new SourceConfigError(`membership.segments.${segment}`, problem);
  };
  if (/[;]/.test(condition)) fail('must be a single boolean expression: remove the ";"');
  if (condition.includes('--') || condition.includes('/*') || condition.includes('*/'))
    fail('must not contain SQL comments (--, /* */)');
  if (condition.includes('$')) fail('must not contain "$" (parameters and dollar quoting are not allowed)');
  if (condition.includes('\\')) fail('must not contain backslashes');
  if (condition.includes('\0')) fail('must not contain NUL characters');

  let depth = 0;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < condition.length; i++) {
    const ch = condition[i];
    if (quote) {
      if (ch === quote) {
        if (condition[i + 1] === quote)
          i++; // doubled quote inside quoted text
        else quote = undefined;
      }
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) fail('has a ")" without its "(": it must be one self-contained expression');
  }
  if (quote) fail(`has an unclosed ${quote === "'" ? 'string literal' : 'quoted identifier'}`);
  if (depth !== 0) fail('has unbalanced parentheses');
}

/** Checks a condition by EXPLAIN-ing it (never executing it) in a read-only transaction; throws SourceConfigError. */
export async function validateCondition(
  db: Db,
  profilesTableSql: string,
  segment: string,
  condition: string,
): Promise<void> {
  checkConditionText(segment, condition);
  try {
    await db.transaction(async (tx) => {
      await tx.query('SET TRANSACTION READ ONLY');
      await tx.query("SET LOCAL statement_timeout = '5s'");
      await tx.query(`EXPLAIN SELECT 1 FROM ${profilesTableSql} WHERE (${condition})`);
    });
  } catch (err) {
    // PostgreSQL's message names the column or type at fault, not row data; it helps the operator most.
    const reason = err instanceof Error ? err.message : String(err);
    throw new SourceConfigError(
      `membership.segments.${segment}`,
      `is not a valid boolean expression over ${profilesTableSql}: ${reason}`,
      { cause: err },
    );
  }
}
