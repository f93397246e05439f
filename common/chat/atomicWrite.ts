import { promises as fs } from "node:fs";
import path from "node:path";

/**
 * Replace `file` with `text` so that a reader (or a crash) sees the old content or the new one, never a part:
 * the text goes to a temporary file beside it, which is then renamed over it (atomic on one file system).
 * @throws the file system's error (ENOENT for a missing folder, EACCES, ENOSPC); the temporary file is removed.
 */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await fs.writeFile(temp, text);
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}
