// placeholder replaced below
export async function runScaling(_o: unknown): Promise<void> {
  throw new Error('--scale is not built yet');
}
