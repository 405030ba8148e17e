/**
 * A fresh Meta upload `session_id`: ours to choose (int64); at most 2^48, so it stays exact as a JSON number, and
 * two sessions of one ad account practically never collide. Never 0. In workflow code Math.random is seeded by
 * Temporal, so the id is the same on replay.
 */
export function newSessionId(): number {
  return Math.floor(Math.random() * 2 ** 48) + 1;
}
