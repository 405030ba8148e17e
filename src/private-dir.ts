import { chmod, mkdir, stat } from 'node:fs/promises';

/**
 * Makes DATA_DIR (or any folder of ours holding data) readable by its owner only: 0700. It holds the embedded
 * database (profiles, sealed tokens), the sandbox's audiences, the Temporal dev server's history and the generated
 * secrets. A folder that already exists and is ours is tightened too (an older version made it 0755); one owned by
 * someone else is left as it is.
 */
export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0 && info.uid === process.getuid?.()) await chmod(path, 0o700);
}
